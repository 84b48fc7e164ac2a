//! Fixed word lists: what is never evidence that two texts tell the same
//! story.
//!
//! The lists are part of the fingerprint: a word moved in or out of them
//! changes which words count as content, as a fact, or as the opening, so
//! changing them means recomputing stored fingerprints (bump
//! [`PRINT_VERSION`](super::print::PRINT_VERSION)). They are fixed on purpose:
//! a word's weight must not depend on what the store holds, or the same
//! items would merge differently depending on the order they arrive in.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// English function words, and the most common verbs and adverbs.
const ENGLISH: &str = "
a about above across after afterwards again against all almost alone along already also although always am among
amongst an and another any anyhow anyone anything anyway anywhere are around as at back be became because become
becomes becoming been before beforehand behind being below beside besides between beyond both but by can cannot
could did do does doing done down due during each either else elsewhere enough etc even ever every everyone
everything everywhere except few first for former formerly from further get gets getting give given go goes going
gone got had has have having he hence her here hereafter hereby herein hers herself him himself his how however i
if in indeed into is it its itself just last latter least less like made make makes many may me meanwhile might
mine more moreover most mostly much must my myself namely neither never nevertheless new next no nobody none
noone nor not nothing now nowhere of off often on once one only onto or other others otherwise our ours ourselves
out over own per perhaps please put rather re really said same say says see seem seemed seeming seems several she
should show since so some somehow someone something sometime sometimes somewhere still such take than that the
their theirs them themselves then thence there thereafter thereby therefore therein thereupon these they this
those though through throughout thru thus to together too toward towards two under until up upon us very via was
we well were what whatever when whence whenever where whereafter whereas whereby wherein whereupon wherever whether
which while whither who whoever whole whom whose why will with within without would yet you your yours yourself
yourselves also told according added asked including although mr mrs ms dr st
";

/// Italian function words, articles with their elisions, the common forms
/// of essere and avere, and the most common adverbs.
const ITALIAN: &str = "
a ad al allo ai agli all alla alle c che chi ci coi col come con contro cui d da dal dallo dai dagli dall dalla
dalle dei del dello degli dell della delle dentro di dopo dove e ed era erano essere essendo fa fra gli ha hanno
ho i il in io la le lei li lo loro lui ma mi mia mie miei mio ne negli nei nel nella nelle nello nell noi non nostra
nostre nostri nostro o ogni oppure per perché però più poi poiché qua quale quali qualche quando quanto quella
quelle quelli quello questa queste questi questo qui se sei senza si sia siamo siano sono stata state stati stato
su sua sue sui sul sulla sulle sullo sull suo suoi tra tu tua tue tuo tuoi tutta tutte tutti tutto un una uno
uni vi voi anche ancora già mai molto molti molta molte poco sempre tanto tanti tanta tante altro altri altra altre
così invece inoltre infatti quindi dunque mentre sarà saranno sarebbe stato essere avere aveva avevano avrà
abbiamo hai avete fatto fare detto dice dicono secondo circa oltre verso presso sotto sopra fino dopo prima dove
quasi solo soltanto proprio ovvero cioè nonché nemmeno neppure neanche pure stesso stessa stessi stesse
";

/// Words of time that say nothing by themselves: relative days,
/// abbreviated months, time zones.
const CALENDAR: &str = "
today yesterday tomorrow tonight oggi ieri domani stamattina stasera
jan feb mar apr jun jul aug sep sept oct nov dec gen mag giu lug ago set ott dic
am pm gmt utc bst cet cest ore alle
";

/// Month and weekday names (English and Italian; not `may`, which is
/// mostly a verb): figures of a date, like its numbers.
const DATES: &str = "
january february march april june july august september october november december
monday tuesday wednesday thursday friday saturday sunday
gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre
lunedì martedì mercoledì giovedì venerdì sabato domenica
";

/// The words of page furniture: share buttons, bylines, credits,
/// newsletter boxes, related-article lists, and headline prefixes
/// (`UPDATE:`, `BREAKING:`, `AGGIORNAMENTO:`). Two copies of a story in
/// different page templates differ in exactly these.
const FURNITURE: &str = "
share shares shared tweet tweets facebook twitter whatsapp telegram linkedin instagram youtube tiktok pinterest
reddit email mail print copy link links comment comments reply
condividi condivisioni commenta commenti stampa copia invia
read more continue reading related stories story articles article also see watch listen video videos photo
photos gallery image images picture pictures credit credits getty reuters ap afp pa ansa adnkronos agi lapresse
leggi anche continua leggere articoli correlati articolo correlato potrebbe interessarti interessare foto galleria
immagine immagini fotogallery
subscribe subscription newsletter newsletters sign signup inbox free daily weekly morning evening briefing
iscriviti iscrizione ricevi ricevere gratis gratuita gratuito ogni mattina sera
by byline staff reporter correspondent editor editors writer desk newsroom published updated update updates
breaking live latest exclusive analysis opinion
di redazione redattore inviato inviata corrispondente pubblicato pubblicata aggiornato aggiornata
aggiornamento aggiornamenti ultim ora ultimora esclusiva esclusivo analisi opinione diretta
advertisement advertising sponsored pubblicità sponsorizzato cookie cookies privacy policy terms
rights reserved copyright riservati riproduzione diritti
";

/// The word lists as sets: looked up for every word of every text printed,
/// so hashed with foldhash (fixed seed: nothing outside the process sees
/// these hashes) rather than the standard library's SipHash.
type WordSet = HashSet<&'static str, foldhash::fast::FixedState>;

static STOP: LazyLock<WordSet> = LazyLock::new(|| {
    [ENGLISH, ITALIAN, CALENDAR, FURNITURE]
        .iter()
        .flat_map(|list| list.split_whitespace())
        .collect()
});

/// Words next to the names and figures of page furniture: a byline's
/// role, a photo credit, a comment count, a reading time.
const FURNITURE_FACTS: &str = "
reporter correspondent editor writer staff photo photos foto credit credits getty reuters afp ansa lapresse
shutterstock alamy handout comment comments commenti commento min mins read lettura
published updated posted pubblicato pubblicata aggiornato aggiornata
";

static FURNITURE_FACT_WORDS: LazyLock<WordSet> = LazyLock::new(|| FURNITURE_FACTS.split_whitespace().collect());

/// Whether a lower-cased word stands next to the facts of page furniture
/// (`By … Reporter`, `… comments`, `… min read`, `Photo: …`).
pub fn is_furniture(lower: &str) -> bool {
    FURNITURE_FACT_WORDS.contains(lower)
}

static DATE_WORDS: LazyLock<WordSet> = LazyLock::new(|| DATES.split_whitespace().collect());

/// Whether a lower-cased word names a month or a weekday.
pub fn is_date(lower: &str) -> bool {
    DATE_WORDS.contains(lower)
}

/// Whether a lower-cased word is never evidence: a function word, a word
/// of dates, or a word of page furniture.
pub fn is_stop(lower: &str) -> bool {
    STOP.contains(lower)
}

/// Which list a lower-cased word is on, as the tokens read it: a month or
/// weekday name first (a figure), else a stop word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    /// [`is_date`].
    Date,
    /// [`is_stop`] and not a date.
    Stop,
}

static LISTED: LazyLock<HashMap<&'static str, Listed, foldhash::fast::FixedState>> = LazyLock::new(|| {
    let stops = STOP.iter().map(|w| (*w, Listed::Stop));
    // Dates last, so that a word on both lists reads as a date.
    stops.chain(DATE_WORDS.iter().map(|w| (*w, Listed::Date))).collect()
});

/// [`is_date`] and [`is_stop`] in one look-up: every word of every text
/// printed is looked up.
pub fn listed(lower: &str) -> Option<Listed> {
    LISTED.get(lower).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_lower_case_words() {
        for w in [ENGLISH, ITALIAN, CALENDAR, DATES, FURNITURE, FURNITURE_FACTS]
            .iter()
            .flat_map(|l| l.split_whitespace())
        {
            assert_eq!(w, w.to_lowercase(), "{w}");
            assert!(w.chars().all(char::is_alphanumeric), "{w}");
        }
    }

    #[test]
    fn one_look_up_answers_as_the_two_lists() {
        for w in STOP.iter().chain(DATE_WORDS.iter()).chain(&["verona", "piano", ""]) {
            let want = if is_date(w) {
                Some(Listed::Date)
            } else if is_stop(w) {
                Some(Listed::Stop)
            } else {
                None
            };
            assert_eq!(listed(w), want, "{w}");
        }
        assert_eq!(listed("novembre"), Some(Listed::Date));
        assert_eq!(listed("della"), Some(Listed::Stop));
    }

    #[test]
    fn function_words_and_furniture_are_stop_words_and_dates_are_figures() {
        for w in ["the", "della", "oggi", "condividi", "newsletter", "ultim", "breaking"] {
            assert!(is_stop(w), "{w}");
        }
        for w in ["novembre", "friday"] {
            assert!(is_date(w) && !is_stop(w), "{w}");
        }
        for w in ["verona", "bridge", "sindaco", "council", "2026"] {
            assert!(!is_stop(w), "{w}");
        }
    }
}
