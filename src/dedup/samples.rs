//! Realistic texts for the dedup tests: two news stories, and the copies
//! and look-alikes each hard case is made of.

/// A story as an outlet publishes it: a title and paragraphs.
#[derive(Debug, Clone)]
pub struct Text {
    pub title: String,
    pub paras: Vec<String>,
}

impl Text {
    pub fn new(title: &str, paras: &[&str]) -> Text {
        Text {
            title: title.to_string(),
            paras: paras.iter().map(|p| p.to_string()).collect(),
        }
    }

    /// The body as sanitized HTML.
    pub fn html(&self) -> String {
        self.paras.iter().map(|p| format!("<p>{p}</p>")).collect()
    }

    /// Replaces every `from` of the body with `to`.
    pub fn replace(mut self, from: &str, to: &str) -> Text {
        for p in &mut self.paras {
            *p = p.replace(from, to);
        }
        self
    }

    /// The first `share` of the body's words, then "…" and a link line.
    pub fn truncated(&self, share: f64, more: &str) -> Text {
        let words: Vec<&str> = self.paras.iter().flat_map(|p| p.split(' ')).collect();
        let n = (words.len() as f64 * share) as usize;
        Text {
            title: self.title.clone(),
            paras: vec![format!("{} …", words[..n].join(" ")), more.to_string()],
        }
    }
}

pub fn leeds() -> Text {
    Text::new(
        "Leeds council approves £12.4 million plan to rebuild Kirkstall Bridge",
        &[
            "Leeds City Council on Tuesday approved a £12.4 million plan to rebuild Kirkstall Bridge, the Victorian crossing over the River Aire that has been closed to lorries since a survey found cracks in two of its arches last spring.",
            "Councillor Helen Whitfield, who leads on transport, said work would begin in March and take about eighteen months, with a temporary footbridge opening beside the old structure before the demolition starts.",
            "The plan was backed by 52 votes to 11 after a debate of almost three hours. Opposition members argued that the money should first go to the ring road, where congestion has grown since the bridge was partly closed.",
            "Traders on Kirkstall Road told the meeting that their takings had fallen by a third. Martin Osei, who runs a bakery near the bridge, said customers from the other side of the river had simply stopped coming.",
            "The council expects the Department for Transport to pay £7.9 million of the cost, with the rest borrowed over 25 years. A public exhibition of the design will open at Kirkstall Abbey on 14 December.",
        ],
    )
}

pub fn verona() -> Text {
    Text::new(
        "Verona, via libera al piano da 18 milioni per le piste ciclabili",
        &[
            "Il consiglio comunale di Verona ha approvato ieri sera il piano per la mobilità sostenibile, che prevede 42 chilometri di nuove piste ciclabili e una spesa di 18,6 milioni di euro entro il 2029.",
            "La sindaca Giulia Ferraro ha spiegato che i fondi arrivano per metà dalla Regione Veneto e per metà da un prestito della Banca europea per gli investimenti, e che i primi cantieri partiranno a marzo nei quartieri di Borgo Roma e San Massimo.",
            "Il voto è arrivato dopo una seduta di quasi quattro ore, con 24 voti favorevoli e 9 contrari. L’opposizione, guidata dal consigliere Marco Bellini, sostiene che il piano toglie oltre 600 parcheggi al centro storico senza offrire alternative credibili ai commercianti.",
            "Le associazioni dei ciclisti hanno accolto la decisione con soddisfazione, ma chiedono che la pista lungo l’Adige sia completata prima dell’estate, quando il traffico dei turisti raddoppia.",
            "Il progetto definitivo sarà presentato ai cittadini il 12 gennaio nella sala civica di via Mameli, dove i tecnici del Comune risponderanno alle domande dei residenti.",
        ],
    )
}

/// Another outlet's copy: a headline prefix, other case, and a few words
/// substituted, deleted or inserted (about 4 % of the body).
pub fn leeds_light_edit() -> Text {
    let mut t = leeds()
        .replace("approved a", "backed a")
        .replace("almost three hours", "nearly three hours")
        .replace("simply stopped", "just stopped")
        .replace("about eighteen months", "eighteen months")
        .replace("told the meeting", "told Tuesday’s meeting");
    t.title = "UPDATE: LEEDS COUNCIL APPROVES £12.4 MILLION PLAN TO REBUILD KIRKSTALL BRIDGE".into();
    t
}

/// A rewrite: a new headline, one word in six changed, a sentence dropped
/// and one added, the paragraphs after the first re-ordered; the facts kept.
pub fn leeds_heavy_edit() -> Text {
    Text::new(
        "Kirkstall Bridge to be rebuilt after councillors back £12.4m scheme",
        &[
            "Leeds City Council on Tuesday backed a £12.4 million scheme to rebuild Kirkstall Bridge, the Victorian crossing over the River Aire that has been shut to lorries since an inspection found cracks in two of its arches last spring.",
            "The council hopes the Department for Transport will pay £7.9 million of the bill, with the remainder borrowed over 25 years. An exhibition of the new design will open at Kirkstall Abbey on 14 December.",
            "Shopkeepers on Kirkstall Road told councillors their takings had dropped by a third. Martin Osei, who runs a bakery beside the bridge, said customers from the far side of the river had simply stopped coming.",
            "Councillor Helen Whitfield, who is responsible for transport, said work would start in March and last roughly eighteen months, with a temporary footbridge opening next to the old structure before demolition begins.",
            "The scheme was approved by 52 votes to 11. Opposition members said the money should go first to the ring road, where queues have grown since the bridge was partly closed. Residents will be able to comment on the plans until the end of January.",
        ],
    )
}

/// The same text as a republisher's page shows it: breadcrumb, byline,
/// photo credit, share buttons, related articles, a newsletter box.
pub fn leeds_in_furniture() -> Text {
    let mut paras = vec![
        "Home › News › Local".to_string(),
        "By Rachel Hughes, Chief Reporter · 4 min read".to_string(),
        "The bridge seen from the towpath. Photo: Simon Walker / PA Images".to_string(),
    ];
    paras.extend(leeds().paras);
    paras.extend(
        [
            "Share on Facebook · Share on X · Share on WhatsApp · Email this article",
            "Related articles: Bradford to close three libraries · Harrogate Christmas market opens on Friday · York Minster appeals for roof repairs",
            "Sign up to our morning briefing: the day’s top stories in your inbox before 7am. It’s free.",
            "212 comments · Show comments",
        ]
        .map(String::from),
    );
    Text {
        title: leeds().title,
        paras,
    }
}

/// A forecast of a daily series: the same frame, another day.
pub fn forecast(day: &str, morning: u32, high: u32, sunrise: &str) -> Text {
    Text::new(
        &format!("Weather for Gloucester: {day} November"),
        &[
            &format!("Here is the forecast for Gloucester and the surrounding area for {day} November."),
            &format!(
                "Morning: overcast with drizzle and temperatures around {morning}°C, with south-westerly winds at 15 mph. Afternoon: frost clearing to sunshine, with highs of {high}°C."
            ),
            "Evening and overnight: rain spreading from the west. The chance of rain is 40 per cent.",
            &format!("Sunrise {sunrise}, sunset 16:36. Pollen count low. UV index 1."),
            "Forecasts are updated every morning at 6am. Check for travel updates before you set off and take extra care on untreated roads.",
        ],
    )
}

/// Release notes of one package of a project: siblings share most words.
pub fn release_notes(package: &str, version: &str, previous: &str, people: u32, changes: &[&str]) -> Text {
    Text::new(
        &format!("{package} {version} released"),
        &[
            &format!("The Ferrule project has released {package} {version}, a security release of its tools."),
            &format!("This release contains the following changes: {}.", changes.join(". ")),
            &format!(
                "{package} {version} is available from the project’s download page and from the usual package repositories. Users of {package} {previous} are encouraged to upgrade."
            ),
            &format!(
                "Thanks to the {people} people who contributed code, translations and bug reports to this release."
            ),
        ],
    )
}

/// The same event as a second outlet tells it: the wire's opening
/// sentence, then its own article with the same names and figures.
pub fn leeds_same_event() -> Text {
    Text::new(
        "Councillors clash over Kirkstall Bridge as £12.4m rebuild is approved",
        &[
            "Leeds City Council on Tuesday approved a £12.4 million plan to rebuild Kirkstall Bridge over the River Aire.",
            "For Helen Whitfield it was the end of a two-year fight. The councillor first raised the state of the arches in 2024, when a routine inspection found water coming through the brickwork, and has since chaired a working group on the crossing.",
            "Not everyone was convinced. Eleven councillors voted against, several of them warning that the city could not afford another large borrowing commitment while bus services in the east of Leeds were being cut.",
            "Outside the civic hall, a small group of cyclists held up signs asking for a separate lane on the new bridge. Their spokesman, Martin Osei, said the design published so far left riders sharing the road with buses.",
            "A decision on the cycle lane is expected before the exhibition at Kirkstall Abbey in December.",
        ],
    )
}

/// Two posts of a link blog about one article: different texts.
pub fn link_posts() -> (Text, Text) {
    (
        Text::new(
            "Why the Kirkstall Bridge vote matters",
            &[
                "Worth reading for anyone who follows how cities pay for infrastructure: a Victorian bridge, a cracked arch and a council that chose to borrow rather than wait for national money. I think they were right, and the traders on the other side of the river will agree by next winter.",
            ],
        ),
        Text::new(
            "Another bridge, another overrun",
            &[
                "I have lost count of the rebuilds announced with a neat figure and an eighteen-month timetable. Read the small print: the transport department has promised nothing yet, and the borrowing runs for a quarter of a century. Expect this one to be late.",
            ],
        ),
    )
}
