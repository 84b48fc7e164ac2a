//! Whether two items tell the same story: the evidence two prints share,
//! and the fixed, symmetric decision made from it.
//!
//! The decision ([`judge`]) is a function of the two prints alone — no
//! store-wide statistics — so it is the same whichever item arrived first,
//! and entries (connected components of "same story" edges) do not depend
//! on arrival order.

use super::print::{KeyKind, Print, SKETCH, TERM_SKETCH, is_date_slot, is_strong};

/// Key facts two items must share to be compared on those alone, or one
/// fewer if two of them are strong (names of two words or more, numbers of
/// four digits or more: [`super::print::is_strong`]). Two stories of one
/// city and one organisation share two key facts, which in a store of half a
/// million items is hundreds of unrelated pairs; a venue or an organisation
/// of two words is strong and still common, hence two of them.
pub const FACT_KEYS: u32 = 4;

/// Whether the index finds one item from another, from what they share:
/// `facts` key facts of which `strong` strong, an opening key (`lead`), the
/// title key (`title`); `poor` when one of them has almost no key facts
/// ([`Print::fact_poor`]; the judge asks it of both). Found: [`FACT_KEYS`]
/// key facts, or one fewer with two strong ones among them; an opening key
/// and a key fact; the title key and two key facts; an opening or title key
/// alone between items with almost no key facts.
pub fn found(facts: u32, strong: u32, lead: bool, title: bool, poor: bool) -> bool {
    facts >= FACT_KEYS
        || (facts + 1 >= FACT_KEYS && strong >= 2)
        || (lead && facts >= 1)
        || (title && facts >= 2)
        || ((lead || title) && poor)
}

/// Thresholds of the decision; see `docs/dedup.md` for how they were set.
pub mod limits {
    /// Content words the shorter text needs for its words and phrasing
    /// to be compared.
    pub const MIN_TERMS: u32 = 12;
    /// Phrasing (3-shingle Jaccard) from which two texts are copies…
    pub const COPY_PHRASING: f64 = 0.5;
    /// …when the one with fewer facts has this share of them in the other,
    /// or their titles share [`SAME_TITLE`].
    pub const COPY_FACTS: f64 = 0.75;
    /// Title content-word Jaccard of one story under a lightly edited title
    /// (a prefix, another case).
    pub const SAME_TITLE: f64 = 0.75;
    /// Content-word Jaccard an edited copy needs…
    pub const EDIT_WORDS: f64 = 0.46;
    /// …with at least this much phrasing in common…
    pub const EDIT_PHRASING: f64 = 0.12;
    /// …and, both having facts to compare, this share of the facts of the
    /// one with fewer.
    pub const EDIT_FACTS: f64 = 0.45;
    /// Facts both texts need before their agreement is asked for.
    pub const FACTS_TO_COMPARE: usize = 4;
    /// Share of the shorter opening found in the longer's opening from
    /// which one is a truncation or summary of the other…
    pub const OPENING: f64 = 0.8;
    /// …when the shorter opening has at least this many shingles…
    pub const OPENING_MIN: usize = 8;
    /// …and the titles share this much (or both have facts to compare)…
    pub const OPENING_TITLE: f64 = 0.3;
    /// …and the longer holds this share of the shorter's facts (a
    /// "continue reading on …" line adds a few of its own).
    pub const OPENING_FACTS: f64 = 0.6;
    /// Share of the slots both fill that, filled differently, keeps two
    /// texts apart (one date told differently always does).
    pub const CONFLICT_SHARE: f64 = 0.15;
    /// Content words each text needs for two texts under one link to
    /// "clearly differ" (the link-post rule)…
    pub const LINK_POST_TERMS: u32 = 12;
    /// …when their content-word Jaccard is below this.
    pub const LINK_POST_WORDS: f64 = 0.3;
}

/// What two prints share.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Evidence {
    /// Content-word Jaccard (estimated from the sketches).
    pub words: f64,
    /// Phrasing: word 3-shingle Jaccard (estimated from the sketches).
    pub phrasing: f64,
    /// Share of the shorter opening's shingles in the longer opening.
    pub opening: f64,
    /// Shingles of the shorter opening.
    pub opening_len: usize,
    /// Facts both hold.
    pub facts_shared: usize,
    /// Facts of the one with fewer.
    pub facts_fewer: usize,
    /// Slot contexts both fill with a common value.
    pub agree: u32,
    /// Slot contexts both fill, with different values.
    pub conflicts: u32,
    /// Of those, contexts holding a date.
    pub date_conflicts: u32,
    /// Title content-word Jaccard.
    pub title: f64,
    /// Content words of the one with fewer.
    pub terms_fewer: u32,
    /// Fact keys both hold.
    pub fact_keys: u32,
    /// Of those, strong ones.
    pub strong_fact_keys: u32,
    /// Whether they share a lead key.
    pub lead_key: bool,
    /// Whether they share the title key.
    pub title_key: bool,
    /// Whether both have almost no key facts.
    pub both_fact_poor: bool,
}

impl Evidence {
    /// Whether the index finds one from the other ([`found`]); between two
    /// items with almost no key facts, an opening or title key alone does.
    pub fn found(&self) -> bool {
        found(
            self.fact_keys,
            self.strong_fact_keys,
            self.lead_key,
            self.title_key,
            self.both_fact_poor,
        )
    }

    /// Share of the facts of the one with fewer that the other holds.
    pub fn fact_share(&self) -> f64 {
        if self.facts_fewer == 0 {
            return 0.0;
        }
        self.facts_shared as f64 / self.facts_fewer as f64
    }

    /// Whether the facts are numerous enough on both sides to compare.
    pub fn facts_comparable(&self) -> bool {
        self.facts_fewer >= limits::FACTS_TO_COMPARE
    }

    /// Whether facts fill the same slots differently: a template frame with
    /// other names and numbers in it. One date told differently is enough
    /// (a daily series: the same forecast or horoscope frame, another day);
    /// other facts must differ in a share [`limits::CONFLICT_SHARE`] of the
    /// slots both fill.
    pub fn facts_disagree(&self) -> bool {
        self.date_conflicts > 0 || self.conflict_share() >= limits::CONFLICT_SHARE
    }

    /// Share of the slots both fill that they fill differently.
    pub fn conflict_share(&self) -> f64 {
        if self.conflicts == 0 {
            return 0.0;
        }
        f64::from(self.conflicts) / f64::from(self.agree + self.conflicts)
    }
}

/// Which path made two items one story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// Near-identical phrasing: a republished copy, a light edit, other
    /// page furniture.
    Copy,
    /// The same words and facts, rephrased: a heavy edit.
    Edit,
    /// One text is the opening of the other: a truncation or summary.
    Opening,
}

impl Match {
    /// The rule's name, as stored and shown by `tributary explain`.
    pub fn name(self) -> &'static str {
        match self {
            Match::Copy => "text-copy",
            Match::Edit => "text-edit",
            Match::Opening => "text-opening",
        }
    }
}

/// Why two items were not made one story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// The index does not find one from the other (see [`Evidence::found`]).
    NoKey,
    /// Their facts fill the same slots with different values.
    FactsDisagree,
    /// They share too little wording or too few facts.
    Different,
}

impl Miss {
    /// In words, for `tributary explain`.
    pub fn describe(self) -> &'static str {
        match self {
            Miss::NoKey => {
                "too few shared candidate keys (four facts, or three with two strong ones; an opening key and a fact; the title and two facts)"
            }
            Miss::FactsDisagree => "the same frame with other names or numbers in it",
            Miss::Different => "too little wording or too few facts in common",
        }
    }
}

/// The decision about two prints, with its evidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// The path that made them one story, or why not.
    pub outcome: Result<Match, Miss>,
    /// How strongly: the measure the path compared with its threshold.
    pub score: f64,
    /// Everything measured.
    pub evidence: Evidence,
}

/// Jaccard similarity estimated from two bottom-k sketches: the share of
/// the union's `k` lowest hashes that both hold (exact when both sets have
/// at most `k` elements).
pub fn sketch_jaccard(a: &[u32], b: &[u32], k: usize) -> f64 {
    let (mut i, mut j, mut union, mut both) = (0, 0, 0usize, 0usize);
    while union < k && (i < a.len() || j < b.len()) {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                both += 1;
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => i += 1,
            (Some(_), None) => i += 1,
            _ => j += 1,
        }
        union += 1;
    }
    if union == 0 {
        return 0.0;
    }
    both as f64 / union as f64
}

/// Elements two sorted lists share.
pub fn overlap(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// (agreeing, conflicting) slot contexts of two prints: a context both fill
/// agrees when most of the facts the one with fewer puts there are the
/// other's too, and conflicts otherwise.
fn slot_agreement(a: &Print, b: &Print) -> (u32, u32, u32) {
    let (sa, sb) = (&a.slots, &b.slots);
    let (mut agree, mut conflicts, mut dates) = (0, 0, 0);
    let (mut i, mut j) = (0, 0);
    while i < sa.len() && j < sb.len() {
        let (ca, cb) = (sa[i].0, sb[j].0);
        if ca < cb {
            i += 1;
        } else if cb < ca {
            j += 1;
        } else {
            let ei = i + sa[i..].iter().take_while(|s| s.0 == ca).count();
            let ej = j + sb[j..].iter().take_while(|s| s.0 == ca).count();
            let va: Vec<u32> = sa[i..ei].iter().map(|s| s.1).collect();
            let vb: Vec<u32> = sb[j..ej].iter().map(|s| s.1).collect();
            // Mostly the same facts: an edit may drop or add one.
            if overlap(&va, &vb) * 5 >= va.len().min(vb.len()) * 4 {
                agree += 1;
            } else {
                conflicts += 1;
                dates += u32::from(is_date_slot(ca));
            }
            i = ei;
            j = ej;
        }
    }
    (agree, conflicts, dates)
}

/// What two prints share.
pub fn evidence(a: &Print, b: &Print) -> Evidence {
    let (short, long) = if (a.lead.len(), a.shingles) <= (b.lead.len(), b.shingles) {
        (a, b)
    } else {
        (b, a)
    };
    let opening = if short.lead.is_empty() {
        0.0
    } else {
        overlap(&short.lead, &long.lead) as f64 / short.lead.len() as f64
    };
    let (agree, conflicts, date_conflicts) = slot_agreement(a, b);
    let title_union = a.title.len() + b.title.len() - overlap(&a.title, &b.title);
    let keys = |kind: KeyKind| -> Vec<u32> {
        let of = |p: &Print| -> Vec<u32> { p.keys.iter().copied().filter(|k| KeyKind::of(*k) == kind).collect() };
        let (x, y) = (of(a), of(b));
        vec![overlap(&x, &y) as u32]
    };
    Evidence {
        words: sketch_jaccard(&a.term_sketch, &b.term_sketch, TERM_SKETCH),
        phrasing: sketch_jaccard(&a.sketch, &b.sketch, SKETCH),
        opening,
        opening_len: short.lead.len(),
        facts_shared: overlap(&a.facts, &b.facts),
        facts_fewer: a.facts.len().min(b.facts.len()),
        agree,
        conflicts,
        date_conflicts,
        title: if title_union == 0 {
            0.0
        } else {
            overlap(&a.title, &b.title) as f64 / title_union as f64
        },
        terms_fewer: a.terms.min(b.terms),
        fact_keys: keys(KeyKind::Fact)[0],
        strong_fact_keys: {
            let strong = |p: &Print| -> Vec<u32> { p.keys.iter().copied().filter(|k| is_strong(*k)).collect() };
            overlap(&strong(a), &strong(b)) as u32
        },
        lead_key: keys(KeyKind::Lead)[0] > 0,
        title_key: keys(KeyKind::Title)[0] > 0,
        both_fact_poor: a.fact_poor() && b.fact_poor(),
    }
}

/// Whether two prints tell the same story, and why.
pub fn judge(a: &Print, b: &Print) -> Verdict {
    use limits::*;
    let e = evidence(a, b);
    let verdict = |outcome, score| Verdict {
        outcome,
        score,
        evidence: e,
    };
    if !e.found() {
        return verdict(Err(Miss::NoKey), 0.0);
    }
    if e.facts_disagree() {
        return verdict(Err(Miss::FactsDisagree), e.phrasing);
    }
    let same_title = e.title >= SAME_TITLE;
    if e.terms_fewer >= MIN_TERMS {
        if e.phrasing >= COPY_PHRASING && (!e.facts_comparable() || e.fact_share() >= COPY_FACTS || same_title) {
            return verdict(Ok(Match::Copy), e.phrasing);
        }
        // A rewrite keeps its facts: without facts to compare, reworded
        // texts of a series (horoscopes under one title) would pass.
        if e.words >= EDIT_WORDS && e.phrasing >= EDIT_PHRASING && e.facts_comparable() && e.fact_share() >= EDIT_FACTS
        {
            return verdict(Ok(Match::Edit), e.words);
        }
    }
    let opening_facts = !e.facts_comparable() || e.fact_share() >= OPENING_FACTS;
    if e.opening_len >= OPENING_MIN
        && e.opening >= OPENING
        && opening_facts
        && (e.title >= OPENING_TITLE || e.facts_comparable())
    {
        return verdict(Ok(Match::Opening), e.opening);
    }
    verdict(Err(Miss::Different), e.words.max(e.opening))
}

/// The link-post rule: two items under one canonical link are separate
/// stories when their texts clearly differ — both substantial (at least
/// [`limits::LINK_POST_TERMS`] content words) and sharing little (content
/// words Jaccard under [`limits::LINK_POST_WORDS`], and neither the opening
/// of the other). A missing print (no body) never clearly differs.
pub fn clearly_differ(a: Option<&Print>, b: Option<&Print>) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return false;
    };
    if a.terms.min(b.terms) < limits::LINK_POST_TERMS {
        return false;
    }
    let e = evidence(a, b);
    e.words < limits::LINK_POST_WORDS && e.opening < limits::OPENING
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::dedup::print::print;
    use crate::dedup::samples::*;

    fn p(t: &Text) -> Print {
        print(&t.title, Some(&t.html())).unwrap()
    }

    /// The verdict on two texts, checked to be the same both ways.
    fn judged(a: &Text, b: &Text) -> Verdict {
        let v = judge(&p(a), &p(b));
        assert_eq!(v, judge(&p(b), &p(a)), "the judge is symmetric");
        v
    }

    #[test]
    fn a_light_edit_under_a_prefixed_headline_is_the_same_story() {
        let v = judged(&leeds(), &leeds_light_edit());
        assert_eq!(v.outcome, Ok(Match::Copy), "{v:?}");
        let mut it = verona()
            .replace("ieri sera", "martedì sera")
            .replace("quasi quattro ore", "circa quattro ore")
            .replace("con soddisfazione", "con grande soddisfazione");
        it.title = format!("AGGIORNAMENTO: {}", it.title.to_lowercase());
        assert_eq!(judged(&verona(), &it).outcome, Ok(Match::Copy));
    }

    #[test]
    fn a_heavy_edit_with_a_new_headline_and_reordered_paragraphs_is_the_same_story() {
        let v = judged(&leeds(), &leeds_heavy_edit());
        assert!(v.evidence.phrasing < limits::COPY_PHRASING, "a heavy edit: {v:?}");
        assert_eq!(v.outcome, Ok(Match::Edit), "{v:?}");
    }

    #[test]
    fn the_same_text_in_other_page_furniture_is_the_same_story() {
        let v = judged(&leeds(), &leeds_in_furniture());
        assert_eq!(v.outcome, Ok(Match::Copy), "{v:?}");
        assert_eq!(
            v.evidence.conflicts, 0,
            "a byline, a credit or a comment count is not a fact of the story"
        );
    }

    #[test]
    fn a_truncated_copy_is_the_same_story_as_its_full_text() {
        for share in [0.3, 0.6] {
            let cut = leeds().truncated(share, "Continue reading on the Northern Post");
            let v = judged(&leeds(), &cut);
            assert!(v.outcome.is_ok(), "{share}: {v:?}");
        }
        let cut = verona().truncated(0.3, "Continua a leggere sul Corriere del Veneto");
        assert_eq!(judged(&verona(), &cut).outcome, Ok(Match::Opening));
    }

    #[test]
    fn forecasts_of_a_daily_series_are_different_stories() {
        let thursday = forecast("Thursday 19", 6, 9, "7:45");
        let friday = forecast("Friday 20", 6, 9, "7:47");
        let v = judged(&thursday, &friday);
        assert!(v.evidence.phrasing > 0.7, "nearly the same words: {v:?}");
        assert_eq!(v.outcome, Err(Miss::FactsDisagree), "{v:?}");
        assert!(v.evidence.date_conflicts > 0);
    }

    #[test]
    fn sibling_release_notes_are_different_stories() {
        let changes = [
            "Fixed a crash in the sync engine",
            "Made error messages clearer in the print preview",
            "Added a dark theme to the update checker",
            "Documented the behaviour of the import dialog",
        ];
        let cli = release_notes("ferrule-cli", "3.13.8", "3.13.7", 17, &changes);
        let gtk = release_notes("ferrule-gtk", "3.13.9", "3.13.8", 40, &changes);
        let v = judged(&cli, &gtk);
        assert!(v.evidence.words > 0.6, "mostly the same words: {v:?}");
        assert_eq!(v.outcome, Err(Miss::FactsDisagree), "{v:?}");
    }

    #[test]
    fn the_same_event_told_by_another_outlet_is_a_different_story() {
        let v = judged(&leeds(), &leeds_same_event());
        assert!(v.evidence.facts_shared >= 4, "the same names and figures: {v:?}");
        assert!(v.outcome.is_err(), "{v:?}");
    }

    #[test]
    fn two_posts_under_one_link_clearly_differ_but_a_summary_does_not() {
        let (a, b) = link_posts();
        assert!(clearly_differ(Some(&p(&a)), Some(&p(&b))));
        assert!(clearly_differ(Some(&p(&a)), Some(&p(&leeds()))));
        let summary = leeds().truncated(0.2, "");
        assert!(!clearly_differ(Some(&p(&summary)), Some(&p(&leeds()))));
        assert!(!clearly_differ(None, Some(&p(&leeds()))), "no text is no evidence");
    }
}
