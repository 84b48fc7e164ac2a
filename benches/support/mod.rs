//! Deterministic, realistic feeds for the ingest benchmarks, made in memory.
//!
//! The shapes follow `scripts/bench-farm`: feeds of 50 items, about 60 %
//! RSS 2.0 (summary in `<description>`, full text in `content:encoded`) and
//! 40 % Atom, about 15 % ISO-8859-1; 2–8 KB HTML bodies made of a unique
//! lead paragraph plus paragraphs drawn from a shared pool (links, bold,
//! emphasis, images, lists, a few links with tracking parameters) in mixed
//! English and Italian with accented letters; titles, guids (half of them
//! permalinks), authors, categories and dates in the 30 days before a fixed
//! day. About 10 % of the items are copies of an item of another feed: a
//! third under the same link, a third under the same link plus
//! `?utm_source=rss&utm_medium=feed`, a third with the same text under
//! another URL.
//!
//! Every value is a pure function of (feed, item, generation): generation
//! `g` of feed `k` has the same feed metadata as every other generation but
//! entirely new items (new guids, links, titles and lead paragraphs), so a
//! benchmark that moves to the next generation ingests new entries rather
//! than re-reading unchanged ones. Nothing here touches the network or
//! the file system.

use std::path::Path;

use chrono::{DateTime, Duration, FixedOffset, SecondsFormat, TimeZone, Utc};
use tributary::config::SourceConfig;
use tributary::fetch::Body;
use tributary::model::{Entry, Validators};
use tributary::normalize;
use url::Url;

/// Items in every feed.
pub const ITEMS_PER_FEED: usize = 50;
const BODY_MIN: usize = 2048;
const BODY_MAX: usize = 8192;
const SHARE_RATE: f64 = 0.10;
const RSS_RATE: f64 = 0.60;
const LATIN1_RATE: f64 = 0.15;
const POOL_SIZE: usize = 3000;
const UTM: &str = "utm_source=rss&utm_medium=feed";
const SEED: u64 = 1;

const ENGLISH: &str = "
the a of and to in is that for on with as by at from it this be are was
were has have had not but or an which their its they will would can could
more most new after before over under between during against about into
council city government minister report market prices energy water
climate summit talks agreement vote election party leader opposition
budget tax schools hospital doctors patients research university study
scientists data software network security company workers strike union
train station airport flights weather storm flood river bridge road
harbour museum exhibition festival music theatre film director actor
season match team coach players goal final league championship record
village region province coast mountain valley forest farmers harvest
wine olive cheese bread coffee restaurant chef menu tourists hotel
morning evening yesterday today tomorrow week month year century
people family children residents neighbours volunteers police court
judge law reform plan project proposal decision statement interview
said says told announced confirmed denied expected reported according
increase decrease growth crisis recovery investment loan bank euro
dollar export import trade industry factory plant jobs unemployment
public private local national international european global digital
quickly slowly finally again still already almost nearly only also
large small long short high low early late first last next other
";

const ITALIAN: &str = "
il la lo gli le un una di del della dei delle che per con su tra fra
non più già però perché così anche ancora sempre mai molto poco tutto
città università società libertà qualità novità attività comunità
sanità identità realtà verità età metà pietà felicità volontà
caffè tè è né sé perciò poiché affinché benché giacché
lunedì martedì mercoledì giovedì venerdì sabato domenica
virtù gioventù schiavitù tribù servitù
governo ministro sindaco comune regione provincia consiglio giunta
mercato prezzi energia acqua clima vertice accordo voto elezioni
bilancio tasse scuola ospedale medici pazienti ricerca studio
lavoratori sciopero sindacato treno stazione aeroporto voli
tempo tempesta alluvione fiume ponte strada porto museo mostra
festa musica teatro cinema regista attore stagione partita squadra
allenatore giocatori gol finale campionato paese valle montagna
bosco contadini vendemmia vino olio formaggio pane ristorante cuoco
turisti albergo mattina sera ieri oggi domani settimana mese anno
gente famiglia bambini abitanti vicini volontari polizia tribunale
giudice legge riforma progetto proposta decisione dichiarazione
intervista detto dichiarato annunciato confermato smentito previsto
aumento calo crescita crisi ripresa investimento prestito banca
esportazioni importazioni commercio industria fabbrica lavoro
pubblico privato locale nazionale internazionale europeo digitale
perché però dopodiché cioè è caffè città più può giù
";

const NAMES_FIRST: &[&str] = &[
    "Anna",
    "Marco",
    "Giulia",
    "Luca",
    "Francesca",
    "Matteo",
    "Chiara",
    "Davide",
    "Sara",
    "Andrea",
    "Elena",
    "Stefano",
    "Martina",
    "Paolo",
    "Alessia",
    "Nicolò",
    "Emma",
    "James",
    "Olivia",
    "Thomas",
    "Sophie",
    "Daniel",
    "Charlotte",
    "Oliver",
    "Grace",
    "Henry",
    "Amelia",
    "Jack",
    "Lucía",
    "José",
    "Zoë",
    "Chloé",
    "Renée",
    "André",
    "Jérôme",
    "Noémie",
    "Françoise",
    "Björn",
    "Søren",
    "Ingrid",
];

const NAMES_LAST: &[&str] = &[
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Romano",
    "Colombo",
    "Ricci",
    "Marino",
    "Greco",
    "Bruno",
    "Gallo",
    "Conti",
    "De Luca",
    "Mancini",
    "Costa",
    "Giordano",
    "Rizzo",
    "Lombardi",
    "Moretti",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Evans",
    "Thomas",
    "Niccolò",
    "Fabbrì",
    "Dupré",
    "Müller",
    "Søndergaard",
    "Åberg",
    "Núñez",
    "García",
    "Peña",
    "Ibáñez",
];

const SECTIONS: &[&str] = &[
    "cronaca",
    "politica",
    "economia",
    "esteri",
    "cultura",
    "sport",
    "scienza",
    "tecnologia",
    "world",
    "business",
    "science",
    "culture",
    "opinion",
    "local",
    "travel",
    "food",
];

const FEED_WORDS: &[&str] = &[
    "Cronache",
    "Notizie",
    "Gazzetta",
    "Corriere",
    "Eco",
    "Voce",
    "Giornale",
    "Diario",
    "Osservatore",
    "Tribune",
    "Herald",
    "Courier",
    "Gazette",
    "Chronicle",
    "Post",
    "Observer",
    "Dispatch",
    "Review",
    "Messaggero",
    "Tempo",
    "Città",
    "Valle",
    "Riviera",
    "Pianura",
    "Laguna",
    "Marca",
    "Contado",
    "North",
    "South",
    "Harbour",
    "Valley",
    "Bridge",
    "River",
    "Coast",
    "Hill",
    "Lake",
    "Market",
];

/// Tracking parameters some links inside bodies carry (never the item link).
const TRACKING: &[&str] = &[
    "utm_source=newsletter&utm_medium=email&utm_campaign=weekly",
    "fbclid=IwAR0bench",
    "ref=rss",
    "gclid=Cj0KCQiA",
];

// ---------------------------------------------------------------------------
// A small deterministic random source (SplitMix64)
// ---------------------------------------------------------------------------

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A SplitMix64 stream seeded by a tag and some numbers.
struct Rng(u64);

impl Rng {
    fn new(tag: &str, parts: &[u64]) -> Rng {
        let mut s = mix(SEED);
        for b in tag.bytes() {
            s = mix(s ^ u64::from(b));
        }
        for p in parts {
            s = mix(s ^ *p);
        }
        Rng(s)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    fn word(&mut self, xs: &[&'static str]) -> &'static str {
        xs[self.below(xs.len())]
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

// ---------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

fn esc_attr(text: &str) -> String {
    esc(text).replace('"', "&quot;")
}

/// The largest char boundary at or before `i`.
fn floor_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn capitalize(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The feed's syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RSS 2.0 with `content:encoded`.
    Rss,
    /// Atom 1.0 with `type="html"` content.
    Atom,
}

/// What a feed is, the same in every generation.
#[derive(Debug, Clone)]
pub struct FeedMeta {
    /// `f00042`.
    pub name: String,
    /// RSS or Atom.
    pub format: Format,
    /// Encoded as ISO-8859-1 rather than UTF-8.
    pub latin1: bool,
    title: String,
    host: String,
    tz: FixedOffset,
    authors: Vec<String>,
    lang: &'static str,
}

/// How a copied item relates to its original.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Share {
    /// The same link.
    SameLink,
    /// The same link plus `?utm_source=rss&utm_medium=feed`.
    UtmLink,
    /// The same text under another URL.
    SameText,
}

/// One item as its feed publishes it.
#[derive(Debug, Clone)]
pub struct Item {
    /// Plain-text title.
    pub title: String,
    /// The item link.
    pub link: String,
    /// The guid / Atom id.
    pub guid: String,
    permalink: bool,
    date: DateTime<Utc>,
    author: String,
    /// The HTML body.
    pub body: String,
    summary: String,
    section: &'static str,
}

/// The generator: word lists and the shared paragraph pool.
pub struct Farm {
    /// Number of feeds.
    pub feeds: usize,
    /// Items are dated in the 30 days before this instant (also the benches' "now").
    pub anchor: DateTime<Utc>,
    words: Vec<&'static str>,
    pool: Vec<String>,
}

impl Farm {
    /// A farm of `feeds` feeds dated up to 2026-12-01.
    pub fn new(feeds: usize) -> Farm {
        let words: Vec<&'static str> = ENGLISH.split_whitespace().chain(ITALIAN.split_whitespace()).collect();
        let anchor = Utc
            .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
            .single()
            .expect("a valid anchor date");
        let mut farm = Farm {
            feeds,
            anchor,
            words,
            pool: Vec::new(),
        };
        farm.pool = (0..POOL_SIZE).map(|n| farm.pool_paragraph(n)).collect();
        farm
    }

    fn sentence(&self, rng: &mut Rng, lo: usize, hi: usize, fancy: bool) -> String {
        let n = rng.range(lo, hi);
        let mut words: Vec<String> = (0..n).map(|_| rng.pick(&self.words).to_string()).collect();
        words[0] = capitalize(&words[0]);
        let mut text = words.join(" ");
        if fancy && rng.chance(0.15) {
            text = format!("\u{201c}{text}\u{201d}");
        } else if fancy
            && rng.chance(0.1)
            && let Some(cut) = text[floor_boundary(&text, text.len() / 2)..]
                .find(' ')
                .map(|i| i + floor_boundary(&text, text.len() / 2))
        {
            text.insert_str(cut, " \u{2014}");
        }
        let ends: &[&str] = if fancy {
            &[".", ".", ".", ".", "?", "!", "\u{2026}"]
        } else {
            &[".", ".", "?", "!"]
        };
        text.push_str(rng.word(ends));
        text
    }

    fn link_href(&self, rng: &mut Rng) -> String {
        let host = format!(
            "{}.{}.example",
            rng.pick(SECTIONS),
            rng.pick(FEED_WORDS).to_lowercase().replace('à', "a")
        );
        let mut href = format!("https://{host}/{}/{}", rng.pick(SECTIONS), rng.below(1_000_000));
        if rng.chance(0.15) {
            href.push('?');
            href.push_str(rng.word(TRACKING));
        }
        href
    }

    /// Wraps a few short spans of a word list in `<a>`, `<b>` or `<em>`.
    fn inline_markup(&self, rng: &mut Rng, words: &[&str]) -> String {
        let mut out: Vec<String> = Vec::with_capacity(words.len());
        let mut i = 0;
        while i < words.len() {
            let r = rng.next() % 1000;
            if r < 40 && i + 3 < words.len() {
                let n = rng.range(1, 3);
                let span = words[i..i + n].join(" ");
                let href = self.link_href(rng);
                out.push(format!("<a href=\"{}\">{}</a>", esc_attr(&href), esc(&span)));
                i += n;
            } else if r < 70 {
                out.push(format!("<b>{}</b>", esc(words[i])));
                i += 1;
            } else if r < 100 {
                out.push(format!("<em>{}</em>", esc(words[i])));
                i += 1;
            } else {
                out.push(esc(words[i]));
                i += 1;
            }
        }
        out.join(" ")
    }

    fn pool_paragraph(&self, n: usize) -> String {
        let mut rng = Rng::new("pool", &[n as u64]);
        let count = rng.range(2, 7);
        let mut text = (0..count)
            .map(|_| self.sentence(&mut rng, 6, 22, true))
            .collect::<Vec<_>>()
            .join(" ");
        if rng.chance(0.05) {
            text.push_str(&format!(" Costo: {} \u{20ac}.", rng.range(2, 900)));
        }
        let words: Vec<&str> = text.split(' ').collect();
        let mut para = format!("<p>{}</p>", self.inline_markup(&mut rng, &words));
        if rng.chance(0.12) {
            let img = format!(
                "https://img.{}.example/photos/{n:05}.jpg",
                rng.pick(FEED_WORDS).to_lowercase()
            );
            let alt = (0..4).map(|_| *rng.pick(&self.words)).collect::<Vec<_>>().join(" ");
            para = format!(
                "<p><img src=\"{}\" alt=\"{}\" width=\"{}\" height=\"{}\"></p>{para}",
                esc_attr(&img),
                esc_attr(&alt),
                rng.pick(&[480, 640, 800]),
                rng.pick(&[270, 360, 450]),
            );
        }
        if rng.chance(0.08) {
            let items = rng.range(3, 5);
            let lis: String = (0..items)
                .map(|_| {
                    let s = self.sentence(&mut rng, 3, 9, false);
                    let w: Vec<&str> = s.split(' ').collect();
                    format!("<li>{}</li>", self.inline_markup(&mut rng, &w))
                })
                .collect();
            let tag = if rng.chance(0.5) { "ul" } else { "ol" };
            para.push_str(&format!("<{tag}>{lis}</{tag}>"));
        }
        para
    }

    /// The metadata of feed `k`.
    pub fn meta(&self, k: usize) -> FeedMeta {
        let mut rng = Rng::new("feed", &[k as u64]);
        let format = if rng.chance(RSS_RATE) {
            Format::Rss
        } else {
            Format::Atom
        };
        let latin1 = rng.chance(LATIN1_RATE);
        let (w1, w2) = (*rng.pick(FEED_WORDS), *rng.pick(FEED_WORDS));
        let title = format!("{w1} {} {w2} {k}", rng.pick(&["di", "del", "of the", "della", "&"]));
        let slug: String = format!("{w1}{w2}")
            .to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let host = format!("www.{slug}{k}.example");
        let hours = *rng.pick(&[0, 0, 1, 2, -5]);
        let tz = FixedOffset::east_opt(hours * 3600).expect("a valid offset");
        let n = rng.range(1, 6);
        let authors = (0..n)
            .map(|_| format!("{} {}", rng.pick(NAMES_FIRST), rng.pick(NAMES_LAST)))
            .collect();
        let lang = *rng.pick(&["it", "it", "en", "en-GB"]);
        FeedMeta {
            name: format!("f{k:05}"),
            format,
            latin1,
            title,
            host,
            tz,
            authors,
            lang,
        }
    }

    fn is_copy(&self, k: usize, i: usize, generation: u64) -> bool {
        Rng::new("share", &[k as u64, i as u64, generation]).chance(SHARE_RATE)
    }

    fn body(&self, rng: &mut Rng, lead: String, target: usize) -> String {
        let mut parts = vec![lead];
        let mut size = parts[0].len();
        let mut tries = 0;
        while tries < 40 {
            let p = &self.pool[rng.below(POOL_SIZE)];
            let n = p.len();
            if size + n > target && (size >= BODY_MIN || size + n > BODY_MAX) {
                // does not fit: stop once long enough, else look for a shorter one
                tries += 1;
                if size >= BODY_MIN && tries > 3 {
                    break;
                }
                continue;
            }
            parts.push(p.clone());
            size += n;
        }
        parts.join("\n")
    }

    /// The original content of item `i` of feed `k` in `generation`.
    fn original(&self, k: usize, i: usize, generation: u64, meta: &FeedMeta) -> Item {
        let mut rng = Rng::new("item", &[k as u64, i as u64, generation]);
        let mut title = self
            .sentence(&mut rng, 4, 11, true)
            .trim_end_matches(['.', '!', '?', '\u{2026}'])
            .to_string();
        if rng.chance(0.05) {
            title.push_str(" & ");
            title.push_str(rng.word(&self.words));
        }
        let section = *rng.pick(SECTIONS);
        let date = self.anchor - Duration::seconds(rng.below(30 * 86_400) as i64);
        let slug: Vec<String> = title
            .split_whitespace()
            .take(6)
            .map(str::to_lowercase)
            .filter(|w| w.chars().all(|c| c.is_ascii_alphanumeric()))
            .collect();
        let slug = if slug.is_empty() {
            "story".to_string()
        } else {
            slug.join("-")
        };
        let generation_part = if generation == 0 {
            String::new()
        } else {
            format!("-{generation}")
        };
        let link = format!(
            "https://{}/{section}/{}/{slug}-{k}-{i}{generation_part}",
            meta.host,
            date.format("%Y/%m")
        );
        let lead_sentence = self.sentence(&mut rng, 25, 60, true);
        let lead_words: Vec<&str> = lead_sentence.split(' ').collect();
        let lead = format!("<p>{}</p>", self.inline_markup(&mut rng, &lead_words));
        let target = rng.range(BODY_MIN, BODY_MAX);
        let body = self.body(&mut rng, lead, target);
        let summary = if lead_sentence.len() <= 240 {
            lead_sentence.clone()
        } else {
            let end = floor_boundary(&lead_sentence, 240);
            let cut = lead_sentence[..end].rfind(' ').unwrap_or(end);
            format!("{} \u{2026}", &lead_sentence[..cut])
        };
        Item {
            title,
            link,
            guid: String::new(),
            permalink: false,
            date,
            author: rng.pick(&meta.authors).clone(),
            body,
            summary,
            section,
        }
    }

    /// Item `i` of feed `k` in `generation`, and the kind of copy it is, if any.
    pub fn item(&self, k: usize, i: usize, generation: u64, meta: &FeedMeta) -> (Item, Option<Share>) {
        if self.feeds > 1 && self.is_copy(k, i, generation) {
            let mut rng = Rng::new("copy", &[k as u64, i as u64, generation]);
            let mut found = None;
            for _ in 0..20 {
                let g = rng.below(self.feeds);
                let j = rng.below(ITEMS_PER_FEED);
                if g != k && !self.is_copy(g, j, generation) {
                    found = Some((g, j));
                    break;
                }
            }
            if let Some((g, j)) = found {
                let mut it = self.original(g, j, generation, &self.meta(g));
                let kind = *rng.pick(&[Share::SameLink, Share::UtmLink, Share::SameText]);
                it.date = (it.date + Duration::minutes(rng.range(1, 360) as i64)).min(self.anchor);
                if rng.chance(0.3) {
                    it.author = rng.pick(&meta.authors).clone();
                }
                match kind {
                    Share::SameLink => {}
                    Share::UtmLink => it.link = format!("{}?{UTM}", it.link),
                    Share::SameText => {
                        it.link = format!(
                            "https://{}/{}/{}/ripreso-{k}-{i}-{generation}",
                            meta.host,
                            it.section,
                            it.date.format("%Y/%m")
                        );
                    }
                }
                it.guid = format!("{}-{generation}-{i:04}-copy-{g}-{j}", meta.name);
                it.permalink = false;
                return (it, Some(kind));
            }
        }
        let mut it = self.original(k, i, generation, meta);
        let mut rng = Rng::new("guid", &[k as u64, i as u64, generation]);
        if rng.chance(0.5) {
            it.guid = it.link.clone();
            it.permalink = true;
        } else {
            it.guid = format!("{}-{generation}-{i:04}-{:012x}", meta.name, rng.next() >> 16);
        }
        (it, None)
    }

    /// The items of feed `k` in `generation`.
    pub fn items(&self, k: usize, generation: u64) -> Vec<(Item, Option<Share>)> {
        let meta = self.meta(k);
        (0..ITEMS_PER_FEED)
            .map(|i| self.item(k, i, generation, &meta))
            .collect()
    }

    /// The entries of feed `k` in `generation` built straight from the
    /// generated items, skipping parse and normalize: the body is stored as
    /// generated (the sanitizer changes it little: `rel` on links, NFC), the
    /// canonical link and content hash are the normalizer's own. A cheap way
    /// to make fresh input for the store stage.
    pub fn entries(&self, k: usize, generation: u64) -> Vec<Entry> {
        let meta = self.meta(k);
        let mut seen = std::collections::HashSet::new();
        self.items(k, generation)
            .into_iter()
            .map(|(it, _)| it)
            .filter(|it| seen.insert(it.guid.clone()))
            .map(|it| {
                let summary = Some(esc(&it.summary));
                let content = Some(it.body);
                Entry {
                    content_hash: normalize::content_hash(
                        &it.title,
                        Some(&it.link),
                        summary.as_deref(),
                        content.as_deref(),
                    ),
                    item_id: it.guid,
                    canonical_link: normalize::canonical_link(&it.link),
                    link: Some(it.link),
                    title: it.title,
                    summary_html: summary,
                    content_html: content,
                    author: Some(it.author),
                    categories: vec![it.section.to_string()],
                    language: Some(meta.lang.to_string()),
                    published: it.date,
                    updated: it.date,
                    meta: Default::default(),
                }
            })
            .collect()
    }

    /// The URL feed `k` is fetched from.
    pub fn url(&self, k: usize) -> Url {
        let meta = self.meta(k);
        Url::parse(&format!("https://{}/feeds/{}.xml", meta.host, meta.name)).expect("a valid feed URL")
    }

    /// The document of feed `k` in `generation`, as bytes in its encoding.
    pub fn xml(&self, k: usize, generation: u64) -> Vec<u8> {
        let meta = self.meta(k);
        let items: Vec<Item> = self.items(k, generation).into_iter().map(|(it, _)| it).collect();
        let text = match meta.format {
            Format::Rss => render_rss(&meta, &items, self.anchor),
            Format::Atom => render_atom(&meta, &items, self.anchor, &self.url(k)),
        };
        encode(&text, meta.latin1)
    }

    /// Feed `k` in `generation` as a 200 fetch would hand it over.
    pub fn fetched(&self, k: usize, generation: u64) -> Body {
        Body {
            bytes: self.xml(k, generation),
            charset: None,
            media_type: Some("text/xml".into()),
            final_url: self.url(k),
            status: 200,
            validators: Validators {
                etag: Some(format!("\"{k}-{generation}\"")),
                last_modified: None,
            },
            links: Vec::new(),
        }
    }

    /// The first feed of this format and encoding.
    pub fn first(&self, format: Format, latin1: bool) -> usize {
        (0..self.feeds)
            .find(|&k| {
                let m = self.meta(k);
                m.format == format && m.latin1 == latin1
            })
            .expect("the farm has a feed of every kind")
    }

    /// A body of about `bytes` bytes, made like the item bodies.
    pub fn body_of_size(&self, bytes: usize) -> String {
        let mut rng = Rng::new("sized-body", &[bytes as u64]);
        let lead_sentence = self.sentence(&mut rng, 25, 60, true);
        let lead_words: Vec<&str> = lead_sentence.split(' ').collect();
        let mut body = format!("<p>{}</p>", self.inline_markup(&mut rng, &lead_words));
        let mut n = 0;
        while body.len() < bytes {
            let p = &self.pool[(n * 7919) % POOL_SIZE];
            n += 1;
            if body.len() + p.len() > bytes + 512 {
                continue;
            }
            body.push('\n');
            body.push_str(p);
        }
        body
    }

    /// The sources of the farm, parsed from a config file text.
    pub fn sources(&self) -> Vec<SourceConfig> {
        self.config().sources
    }

    /// A config listing the farm's feeds, with a `[feed]` section.
    pub fn config(&self) -> tributary::config::Config {
        let mut text = String::from(
            "[daemon]\ndatabase = \"bench.db\"\nlisten = \"127.0.0.1:0\"\njitter = \"0s\"\n\n[feed]\ntitle = \"Bench\"\n\n",
        );
        for k in 0..self.feeds {
            text.push_str(&format!(
                "[[source]]\nname = \"{}\"\nurl = \"{}\"\n\n",
                self.meta(k).name,
                self.url(k)
            ));
        }
        tributary::config::parse(&text, Path::new("bench.toml")).expect("the bench config is valid")
    }
}

/// Feed `t % feeds` in generation `t / feeds`: the `t`-th feed of a farm
/// that publishes new items on every round.
pub fn step(farm: &Farm, t: usize) -> (usize, u64) {
    (t % farm.feeds, (t / farm.feeds) as u64)
}

fn render_rss(meta: &FeedMeta, items: &[Item], anchor: DateTime<Utc>) -> String {
    let enc = if meta.latin1 { "ISO-8859-1" } else { "UTF-8" };
    let tz = meta.tz;
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"{enc}\"?>\n\
         <rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n\
         <channel>\n<title>{}</title>\n<link>https://{}/</link>\n<description>{}</description>\n\
         <language>{}</language>\n<lastBuildDate>{}</lastBuildDate>\n<generator>bench</generator>\n<ttl>15</ttl>\n",
        esc(&meta.title),
        meta.host,
        esc(&format!("Le ultime notizie da {}", meta.title)),
        meta.lang,
        anchor.with_timezone(&tz).to_rfc2822(),
    );
    for (n, it) in items.iter().enumerate() {
        let guid = format!(
            "<guid isPermaLink=\"{}\">{}</guid>",
            if it.permalink { "true" } else { "false" },
            esc(&it.guid)
        );
        let author = if n % 3 != 0 {
            format!("<dc:creator>{}</dc:creator>", esc(&it.author))
        } else {
            format!("<author>redazione@{} ({})</author>", &meta.host[4..], esc(&it.author))
        };
        out.push_str(&format!(
            "<item>\n<title>{}</title>\n<link>{}</link>\n{guid}\n<pubDate>{}</pubDate>\n{author}\n\
             <category>{}</category>\n<description>{}</description>\n\
             <content:encoded><![CDATA[{}]]></content:encoded>\n</item>\n",
            esc(&it.title),
            esc(&it.link),
            it.date.with_timezone(&tz).to_rfc2822(),
            esc(it.section),
            esc(&it.summary),
            it.body,
        ));
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

fn render_atom(meta: &FeedMeta, items: &[Item], anchor: DateTime<Utc>, self_url: &Url) -> String {
    let enc = if meta.latin1 { "ISO-8859-1" } else { "UTF-8" };
    let tz = meta.tz;
    let date = |d: DateTime<Utc>| d.with_timezone(&tz).to_rfc3339_opts(SecondsFormat::Secs, true);
    let tag = &meta.host[4..];
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"{enc}\"?>\n\
         <feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">\n<title>{}</title>\n\
         <subtitle>Notizie e approfondimenti</subtitle>\n\
         <link rel=\"alternate\" type=\"text/html\" href=\"https://{}/\"/>\n\
         <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n\
         <id>tag:{tag},2026:feed</id>\n<updated>{}</updated>\n\
         <generator uri=\"https://bench.example/\">bench</generator>\n",
        meta.lang,
        esc(&meta.title),
        meta.host,
        esc_attr(self_url.as_str()),
        date(anchor),
    );
    for (n, it) in items.iter().enumerate() {
        let id = if it.permalink {
            it.guid.clone()
        } else {
            format!("tag:{tag},2026:{}", it.guid)
        };
        let published = it.date - Duration::minutes(((n * 7) % 50) as i64);
        out.push_str(&format!(
            "<entry>\n<title>{}</title>\n<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n\
             <id>{}</id>\n<published>{}</published>\n<updated>{}</updated>\n\
             <author><name>{}</name></author>\n<category term=\"{}\"/>\n\
             <summary type=\"text\">{}</summary>\n<content type=\"html\">{}</content>\n</entry>\n",
            esc(&it.title),
            esc_attr(&it.link),
            esc(&id),
            date(published),
            date(it.date),
            esc(&it.author),
            esc_attr(it.section),
            esc(&it.summary),
            esc(&it.body),
        ));
    }
    out.push_str("</feed>\n");
    out
}

/// UTF-8, or ISO-8859-1 with ASCII stand-ins for what Latin-1 cannot carry.
fn encode(text: &str, latin1: bool) -> Vec<u8> {
    if !latin1 {
        return text.as_bytes().to_vec();
    }
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{2014}' | '\u{2013}' => out.push(b'-'),
            '\u{201c}' | '\u{201d}' => out.push(b'"'),
            '\u{2019}' => out.push(b'\''),
            '\u{2026}' => out.extend_from_slice(b"..."),
            '\u{20ac}' => out.extend_from_slice(b"EUR"),
            '\u{0153}' => out.extend_from_slice(b"oe"),
            c if (c as u32) < 0x100 => out.push(c as u32 as u8),
            _ => out.push(b'?'),
        }
    }
    out
}
