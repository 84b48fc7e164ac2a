//! Deciding identity: which stored story an incoming item is, and what the
//! story keeps when several copies meet.
//!
//! Rules, in order (DESIGN §4):
//! 1. the same source and the same item id are the same entry; a changed
//!    item updates it in place, without moving it in the merged feed;
//! 2. the same canonical link from any source is the same entry, and every
//!    source is credited;
//! 3. near-identical text within a time window is the same entry: a 64-bit
//!    SimHash over word 3-shingles finds candidates through 4×16-bit bands
//!    (and one of the body's opening words, through 2×32-bit bands, so
//!    that a summary finds its full text), and a candidate is confirmed
//!    only by the shingles themselves — Jaccard similarity of the bodies
//!    (an edited title, an added footer), or containment of the shorter
//!    body's opening in the longer one's (a summary-only copy) together
//!    with related titles.
//!    Recurring template titles with different bodies share no body
//!    shingles, so they never merge.
//!
//! Pure functions over model types: the pipeline looks the candidates up in
//! the store and passes them in, so this module never touches the database.

use std::borrow::Cow;
use std::hash::Hasher;

use chrono::{DateTime, Utc};
use siphasher::sip128::{Hasher128, SipHasher13};

use crate::html;
use crate::html::text::{Breaks, visible_text};
use crate::model::{Entry, Fingerprint, ItemMeta, NearCandidate};

/// What the store already holds that could be the incoming item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Candidates {
    /// The entry this source's item id already maps to (rule 1), with the
    /// content hash it had on the last poll.
    pub by_item: Option<(i64, bool)>,
    /// The entry holding the same canonical link (rule 2).
    pub by_link: Option<i64>,
}

/// Which of the configurable rules are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Rule 2: same canonical link.
    pub by_link: bool,
    /// Rule 3: near-identical text.
    pub by_text: bool,
    /// Rule 3 looks at entries published within this many seconds.
    pub text_window_secs: i64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            by_link: true,
            by_text: true,
            text_window_secs: 14 * 86_400,
        }
    }
}

/// How an incoming item relates to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// Rule 1, unchanged since the last poll: nothing to write.
    Unchanged(i64),
    /// Rule 1, and the source edited the item: update in place.
    Edited(i64),
    /// Rule 2: another copy of a story already stored; credit this source.
    SameLink(i64),
    /// Rule 3: the same text as a story already stored.
    SameText(i64),
    /// A story not seen before.
    New,
}

/// Decides the identity of an incoming item from its candidates.
pub fn decide(c: Candidates) -> Identity {
    match (c.by_item, c.by_link) {
        (Some((id, true)), _) => Identity::Unchanged(id),
        (Some((id, false)), _) => Identity::Edited(id),
        (None, Some(id)) => Identity::SameLink(id),
        (None, None) => Identity::New,
    }
}

/// The stable public id of a new entry, from its first (source, item id).
pub fn entry_uid(source: &str, item_id: &str) -> String {
    let mut h = SipHasher13::new_with_keys(0x656e_7472_7975_6964, 0x7472_6962_7574_6172);
    h.write_u64(source.len() as u64);
    h.write(source.as_bytes());
    h.write(item_id.as_bytes());
    format!("{:032x}", h.finish128().as_u128())
}

/// What a stored story becomes when a copy arrives.
///
/// `own_edit` is true when the copy comes from the source whose text the
/// entry shows (rule 1, edited): its new title and text replace the old. A
/// copy from another source only replaces the text when it is longer (a
/// full-text feed beats a summary feed). The sort date is the earliest
/// credible one, so an edit never moves an entry up the merged feed; the
/// `updated` date moves to `now` whenever the shown text changes.
pub fn merge(current: &Entry, incoming: &Entry, own_edit: bool, now: DateTime<Utc>) -> (Entry, bool) {
    let mut merged = current.clone();
    let text_len = |html: Option<&str>| html.map_or(0, html::text::text_len);
    let takes_text = own_edit || text_len(incoming.content_html.as_deref()) > text_len(current.content_html.as_deref());
    if takes_text {
        if own_edit {
            merged.title = incoming.title.clone();
            merged.link = incoming.link.clone().or(merged.link);
            merged.canonical_link = incoming.canonical_link.clone().or(merged.canonical_link);
        }
        merged.summary_html = incoming.summary_html.clone().or(merged.summary_html);
        merged.content_html = incoming.content_html.clone().or(merged.content_html);
        merged.author = incoming.author.clone().or(merged.author);
        merged.language = incoming.language.clone().or(merged.language);
    }
    merged.meta = merge_meta(&current.meta, &incoming.meta, own_edit, takes_text);
    merged.published = current.published.min(incoming.published);
    let changed = merged.title != current.title
        || merged.link != current.link
        || merged.summary_html != current.summary_html
        || merged.content_html != current.content_html
        || merged.author != current.author
        || merged.language != current.language
        || merged.published != current.published;
    merged.updated = if changed {
        now.max(current.updated)
    } else {
        current.updated
    };
    // A change of metadata alone rewrites the entry but does not move its
    // `updated` date: the first poll after the upgrade that added
    // metadata fills it in for every stored item, which is no edit.
    let changed = changed || merged.meta != current.meta;
    (merged, takes_text && changed)
}

/// The metadata a merged story shows. A source's own edit replaces it
/// (an enclosure it removed goes); otherwise the metadata of the text
/// shown wins, and what it lacks (an enclosure, an image, comments) is
/// taken from the other copy. The plain text of a text-only content always
/// follows the text shown.
fn merge_meta(current: &ItemMeta, incoming: &ItemMeta, own_edit: bool, takes_text: bool) -> ItemMeta {
    if own_edit {
        return incoming.clone();
    }
    let (shown, other) = if takes_text {
        (incoming, current)
    } else {
        (current, incoming)
    };
    let mut merged = shown.clone();
    fn fill<T: Clone>(mine: &mut Vec<T>, theirs: &[T]) {
        if mine.is_empty() {
            mine.extend_from_slice(theirs);
        }
    }
    fill(&mut merged.authors, &other.authors);
    fill(&mut merged.contributors, &other.contributors);
    fill(&mut merged.enclosures, &other.enclosures);
    fill(&mut merged.thumbnails, &other.thumbnails);
    fill(&mut merged.categories, &other.categories);
    fill(&mut merged.media_credits, &other.media_credits);
    merged.image = merged.image.or_else(|| other.image.clone());
    merged.comments = merged.comments.or_else(|| other.comments.clone());
    merged.comments_feed = merged.comments_feed.or_else(|| other.comments_feed.clone());
    merged.comment_count = merged.comment_count.or(other.comment_count);
    merged.rights = merged.rights.or_else(|| other.rights.clone());
    merged.explicit = merged.explicit.or(other.explicit);
    merged.block |= other.block;
    merged.duration = merged.duration.or(other.duration);
    merged
}

// ------------------------------------------------------------ rule 3: text

/// Words of the body's opening whose shingles form the lead set, used to
/// confirm a summary copy by containment.
pub const LEAD_WORDS: usize = 128;
/// Words of the body's opening hashed into the lead SimHash, used to find
/// candidates: short enough that a 25-word summary hashes the same words as
/// its full text.
pub const LEAD_HASH_WORDS: usize = 20;
/// Size of the bottom-k sketch.
pub const SKETCH: usize = 128;
/// Bodies with fewer distinct shingles carry too little evidence for rule 3.
pub const MIN_SHINGLES: u32 = 12;
/// Body Jaccard similarity that confirms a near-identical copy.
pub const JACCARD_MIN: f64 = 0.6;
/// Share of the shorter body's opening found in the longer one's that
/// confirms a summary copy (with related titles).
pub const CONTAINMENT_MIN: f64 = 0.8;
/// Title word overlap a summary copy needs.
pub const TITLE_MIN: f64 = 0.3;

/// Lower-cased words of some HTML: its text read with every tag as a
/// separator ([`Breaks::EveryTag`]), punctuation as separators.
pub fn words(html: &str) -> Vec<String> {
    lowercase_words(&visible_text(html, Breaks::EveryTag))
        .into_iter()
        .map(Cow::into_owned)
        .collect()
}

/// The words of some text, lower-cased; a word already in lower case is
/// borrowed rather than copied (the same result as `str::to_lowercase` on
/// each word, which is what stored fingerprints were computed with).
fn lowercase_words(text: &str) -> Vec<Cow<'_, str>> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            if w.is_ascii() {
                if w.bytes().any(|b| b.is_ascii_uppercase()) {
                    Cow::Owned(w.to_ascii_lowercase())
                } else {
                    Cow::Borrowed(w)
                }
            } else if w.chars().all(is_own_lowercase) {
                Cow::Borrowed(w)
            } else {
                Cow::Owned(w.to_lowercase())
            }
        })
        .collect()
}

/// Whether a character lower-cases to itself alone.
fn is_own_lowercase(c: char) -> bool {
    let mut lower = c.to_lowercase();
    lower.next() == Some(c) && lower.next().is_none()
}

fn shingle_hash<S: AsRef<str>>(words: &[S]) -> u64 {
    let mut h = SipHasher13::new_with_keys(0x7368_696e_676c_6573, 0x7472_6962_7574_6172);
    for w in words {
        h.write(w.as_ref().as_bytes());
        h.write_u8(0xff);
    }
    h.finish()
}

fn shingles<S: AsRef<str>>(words: &[S]) -> Vec<u64> {
    if words.len() < 3 {
        return if words.is_empty() {
            vec![]
        } else {
            vec![shingle_hash(words)]
        };
    }
    words.windows(3).map(shingle_hash).collect()
}

fn simhash(hashes: impl Iterator<Item = u64>) -> u64 {
    let mut counts = [0i32; 64];
    for h in hashes {
        for (bit, count) in counts.iter_mut().enumerate() {
            *count += if h >> bit & 1 == 1 { 1 } else { -1 };
        }
    }
    counts
        .iter()
        .enumerate()
        .fold(0u64, |acc, (bit, c)| if *c > 0 { acc | 1 << bit } else { acc })
}

fn sorted_set(hashes: impl Iterator<Item = u64>) -> Vec<u32> {
    let mut v: Vec<u32> = hashes.map(|h| (h >> 32) as u32).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The fingerprint of an entry's title and body (content, else summary);
/// `None` when the body is too short to judge.
pub fn fingerprint(title: &str, body_html: Option<&str>) -> Option<Fingerprint> {
    let text = visible_text(body_html?, Breaks::EveryTag);
    let body = lowercase_words(&text);
    let body_shingles = shingles(&body);
    let distinct = sorted_set(body_shingles.iter().copied());
    if (distinct.len() as u32) < MIN_SHINGLES {
        return None;
    }
    let title_shingles = shingles(&lowercase_words(&visible_text(title, Breaks::EveryTag)));
    // The shingles of the first k words are the first k - 2 body shingles
    // (the body has at least MIN_SHINGLES + 2 words here).
    let lead_of = |k: usize| &body_shingles[..body.len().min(k).saturating_sub(2)];
    let lead_shingles = lead_of(LEAD_WORDS).to_vec();
    let lead_hash_shingles = lead_of(LEAD_HASH_WORDS).to_vec();
    let mut sketch = distinct.clone();
    sketch.truncate(SKETCH);
    Some(Fingerprint {
        simhash: simhash(title_shingles.iter().chain(body_shingles.iter()).copied()),
        lead_simhash: simhash(lead_hash_shingles.into_iter()),
        shingles: distinct.len() as u32,
        sketch,
        lead: sorted_set(lead_shingles.into_iter()),
    })
}

/// The 6 band keys of a fingerprint, each tagged with its position: 4×16
/// bits of the text SimHash, so that two texts within Hamming distance 3
/// share a key, and 2×32 bits of the lead SimHash (distance 1). A summary
/// and its full text open with the same words, so their lead SimHashes are
/// equal and any banding finds them; 32-bit keys keep that while a key
/// shared by chance stays rare (at 450,000 entries a 16-bit key is shared
/// by about 7 unrelated stories, a 32-bit one by none).
pub fn bands(fp: &Fingerprint) -> [i64; 6] {
    let text = |i: i64| (i << 16) | ((fp.simhash >> (16 * i)) & 0xffff) as i64;
    let lead = |i: i64| LEAD_BAND | (i << 32) | ((fp.lead_simhash >> (32 * i)) & 0xffff_ffff) as i64;
    [text(0), text(1), text(2), text(3), lead(0), lead(1)]
}

/// Tag of the lead SimHash's band keys (migration 05 writes the same).
const LEAD_BAND: i64 = 1 << 36;

fn overlap(a: &[u32], b: &[u32]) -> usize {
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

/// Jaccard similarity of two bodies estimated from their bottom-k sketches
/// (exact when both bodies have at most [`SKETCH`] shingles).
pub fn jaccard(a: &Fingerprint, b: &Fingerprint) -> f64 {
    // One merge walk over the two sorted sketches: the first SKETCH hashes
    // of their union, and how many of those both hold.
    let (a, b) = (&a.sketch, &b.sketch);
    let (mut i, mut j, mut union, mut both) = (0, 0, 0usize, 0usize);
    while union < SKETCH && (i < a.len() || j < b.len()) {
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

/// Share of the shorter body's opening shingles found in the longer one's opening.
pub fn lead_containment(a: &Fingerprint, b: &Fingerprint) -> f64 {
    let (short, long) = if a.shingles <= b.shingles { (a, b) } else { (b, a) };
    if short.lead.is_empty() {
        return 0.0;
    }
    overlap(&short.lead, &long.lead) as f64 / short.lead.len() as f64
}

fn title_overlap(a: &str, b: &str) -> f64 {
    let (a, b) = (words(a), words(b));
    let a: std::collections::HashSet<&String> = a.iter().collect();
    let b: std::collections::HashSet<&String> = b.iter().collect();
    let union = a.union(&b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(&b).count() as f64 / union as f64
}

/// How strongly a candidate matches: `Some(score)` when confirmed.
///
/// The bodies decide alone unless the shorter one is the other's opening (a
/// summary against its full text); only then is the candidate's title
/// needed, so `title_of` is asked for it then and only then: most
/// candidates share a band key by chance and are rejected on their
/// fingerprint, without reading their entry.
pub fn confirm<E>(
    title: &str,
    fp: &Fingerprint,
    candidate: &NearCandidate,
    title_of: impl FnOnce(i64) -> Result<String, E>,
) -> Result<Option<f64>, E> {
    let j = jaccard(fp, &candidate.fingerprint);
    if j >= JACCARD_MIN {
        return Ok(Some(1.0 + j));
    }
    let c = lead_containment(fp, &candidate.fingerprint);
    if c < CONTAINMENT_MIN {
        return Ok(None);
    }
    Ok((title_overlap(title, &title_of(candidate.entry_id)?) >= TITLE_MIN).then_some(c))
}

/// The best confirmed candidate, if any: the highest score, and of equal
/// scores the oldest entry. `title_of` gives a candidate's title (see
/// [`confirm`]).
pub fn best_match<E>(
    title: &str,
    fp: &Fingerprint,
    candidates: &[NearCandidate],
    mut title_of: impl FnMut(i64) -> Result<String, E>,
) -> Result<Option<i64>, E> {
    let mut best: Option<(f64, i64)> = None;
    for c in candidates {
        if let Some(score) = confirm(title, fp, c, &mut title_of)?
            && best.is_none_or(|(s, id)| score.total_cmp(&s).then(id.cmp(&c.entry_id)).is_gt())
        {
            best = Some((score, c.entry_id));
        }
    }
    Ok(best.map(|(_, id)| id))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// Fingerprints are stored: a new version must compute the same ones
    /// from the same text, or stories stored before it stop matching.
    #[test]
    fn fingerprints_are_the_same_as_the_stored_ones() {
        let body = "<p>Il Consiglio comunale di Bologna ha approvato ieri sera, dopo una lunga discussione, il nuovo piano per la mobilità sostenibile che prevede piste ciclabili, zone a traffico limitato e un potenziamento del trasporto pubblico nelle ore di punta.</p><p>Secondo l’assessore, i lavori inizieranno in primavera.</p>";
        let fp = fingerprint("Bologna approva il piano per la mobilità", Some(body)).unwrap();
        assert_eq!(fp.simhash, 0x599c_37db_bbec_3452);
        assert_eq!(fp.lead_simhash, 0xd8b4_2052_b309_0403);
        assert_eq!(fp.shingles, 44);
        assert_eq!(fp.sketch[..4], [49_655_106, 147_144_205, 464_208_879, 471_659_448]);
        assert_eq!(fp.lead[..4], fp.sketch[..4]);
    }

    /// The bottom-k estimate as defined: the union's first SKETCH hashes,
    /// and the share of them both sketches hold.
    fn jaccard_by_definition(a: &[u32], b: &[u32]) -> f64 {
        let mut union: Vec<u32> = a.iter().chain(b).copied().collect();
        union.sort_unstable();
        union.dedup();
        union.truncate(SKETCH);
        if union.is_empty() {
            return 0.0;
        }
        let both = union.iter().filter(|h| a.contains(h) && b.contains(h)).count();
        both as f64 / union.len() as f64
    }

    #[test]
    fn jaccard_walk_matches_the_definition() {
        let sketch = |seed: u32, n: usize, step: u32| -> Vec<u32> {
            let mut v: Vec<u32> = (0..n as u32)
                .map(|k| seed.wrapping_add(k.wrapping_mul(step)) % 5_000)
                .collect();
            v.sort_unstable();
            v.dedup();
            v.truncate(SKETCH);
            v
        };
        let fp = |sketch: Vec<u32>| Fingerprint {
            simhash: 0,
            lead_simhash: 0,
            shingles: sketch.len() as u32,
            sketch,
            lead: vec![],
        };
        let cases = [
            (sketch(0, 0, 1), sketch(0, 0, 1)),
            (sketch(0, 10, 1), sketch(0, 0, 1)),
            (sketch(0, 10, 1), sketch(5, 10, 1)),
            (sketch(0, 200, 7), sketch(0, 200, 7)),
            (sketch(0, 200, 7), sketch(3, 200, 11)),
            (sketch(100, 300, 13), sketch(0, 50, 3)),
            (sketch(1, 128, 1), sketch(129, 128, 1)),
        ];
        for (a, b) in cases {
            let want = jaccard_by_definition(&a, &b);
            assert_eq!(jaccard(&fp(a.clone()), &fp(b.clone())), want, "{a:?} / {b:?}");
            assert_eq!(jaccard(&fp(b), &fp(a)), want);
        }
    }

    fn entry(title: &str, content: &str, day: u32) -> Entry {
        let t = Utc.with_ymd_and_hms(2026, 11, day, 8, 0, 0).unwrap();
        Entry {
            item_id: "x".into(),
            title: title.into(),
            link: Some("https://e.org/a".into()),
            canonical_link: Some("https://e.org/a".into()),
            summary_html: None,
            content_html: Some(content.into()),
            author: None,
            categories: vec![],
            language: Some("it".into()),
            published: t,
            updated: t,
            content_hash: "h".into(),
            meta: ItemMeta::default(),
        }
    }

    #[test]
    fn rules_in_order() {
        assert_eq!(
            decide(Candidates {
                by_item: Some((1, true)),
                by_link: Some(2)
            }),
            Identity::Unchanged(1)
        );
        assert_eq!(
            decide(Candidates {
                by_item: Some((1, false)),
                by_link: None
            }),
            Identity::Edited(1)
        );
        assert_eq!(
            decide(Candidates {
                by_item: None,
                by_link: Some(2)
            }),
            Identity::SameLink(2)
        );
        assert_eq!(decide(Candidates::default()), Identity::New);
    }

    #[test]
    fn uid_is_stable_and_distinct() {
        assert_eq!(entry_uid("a", "1"), entry_uid("a", "1"));
        assert_ne!(entry_uid("a", "1"), entry_uid("a1", ""));
        assert_eq!(entry_uid("a", "1").len(), 32);
    }

    #[test]
    fn own_edit_replaces_text_but_keeps_position() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let cur = entry("Old", "<p>old text</p>", 20);
        let new = entry("New title", "<p>new</p>", 25);
        let (m, text) = merge(&cur, &new, true, now);
        assert!(text);
        assert_eq!(m.title, "New title");
        assert_eq!(m.content_html.as_deref(), Some("<p>new</p>"));
        assert_eq!(m.published, cur.published, "the sort date does not move");
        assert!(m.updated > cur.updated);
    }

    #[test]
    fn other_source_wins_only_with_longer_text() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let full = entry("Title", "<p>a long full text of the story</p>", 21);
        let summary = entry("Title (syndicated)", "<p>short</p>", 20);
        let (m, text) = merge(&full, &summary, false, now);
        assert!(!text);
        assert_eq!(m.title, "Title");
        assert_eq!(m.content_html, full.content_html);
        assert_eq!(m.published, summary.published, "earliest date wins");
        let (m, text) = merge(&summary, &full, false, now);
        assert!(text);
        assert_eq!(m.title, "Title (syndicated)", "the first source's title stays");
        assert_eq!(m.content_html, full.content_html);
    }

    #[test]
    fn unchanged_copy_changes_nothing() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let e = entry("T", "<p>x</p>", 20);
        let (m, text) = merge(&e, &e, true, now);
        assert!(!text);
        assert_eq!(m, e);
    }

    const STORY: &str = "<p>Il consiglio comunale di Verona ha approvato ieri sera il nuovo piano per la mobilità sostenibile, che prevede quaranta chilometri di piste ciclabili entro il 2028.</p><p>La sindaca ha spiegato che i fondi arrivano per metà dal bilancio regionale e per metà da un prestito europeo, e che i cantieri partiranno in primavera nei quartieri a sud della città.</p><p>L’opposizione ha votato contro, sostenendo che il piano sottrae parcheggi ai commercianti del centro storico senza offrire alternative credibili.</p>";

    /// A stored candidate and its title.
    fn cand(id: i64, title: &str, body: &str) -> (NearCandidate, String) {
        let c = NearCandidate {
            entry_id: id,
            fingerprint: fingerprint(title, Some(body)).unwrap(),
        };
        (c, title.to_string())
    }

    /// [`best_match`] over candidates whose titles are known.
    fn best(title: &str, fp: &Fingerprint, cands: &[(NearCandidate, String)]) -> Option<i64> {
        let list: Vec<NearCandidate> = cands.iter().map(|(c, _)| c.clone()).collect();
        let title_of = |id| {
            let (_, t) = cands.iter().find(|(c, _)| c.entry_id == id).unwrap();
            Ok::<_, std::convert::Infallible>(t.clone())
        };
        best_match(title, fp, &list, title_of).unwrap()
    }

    #[test]
    fn lowercase_words_match_lowercasing_each_word() {
        let text = "Bologna ODOΣ Σ ΣΑΣ İstanbul ǅemal straße STRASSE ﬁne mobilità Città 42x Ωmega ǈ";
        let slow: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        assert_eq!(lowercase_words(text), slow);
    }

    #[test]
    fn words_strip_markup_and_entities() {
        assert_eq!(words("<p>L&rsquo;Italia, <b>oggi</b>!</p>"), ["l", "italia", "oggi"]);
    }

    #[test]
    fn edited_title_and_footer_still_match() {
        let title = "Verona approva il piano per le piste ciclabili";
        let fp = fingerprint(
            "ULTIM’ORA: Verona approva il piano ciclabile",
            Some(&format!(
                "{STORY}<p>Iscriviti alla nostra newsletter per ricevere ogni mattina le notizie della tua città.</p>"
            )),
        )
        .unwrap();
        let c = cand(7, title, STORY);
        assert!(
            jaccard(&fp, &c.0.fingerprint) >= JACCARD_MIN,
            "{}",
            jaccard(&fp, &c.0.fingerprint)
        );
        assert_eq!(best("ULTIM’ORA: Verona approva il piano ciclabile", &fp, &[c]), Some(7));
        assert!(
            bands(&fp)
                .iter()
                .any(|b| bands(&cand(7, title, STORY).0.fingerprint).contains(b))
        );
    }

    #[test]
    fn a_summary_joins_its_full_text() {
        let title = "Verona approva il piano per le piste ciclabili";
        let summary = "Il consiglio comunale di Verona ha approvato ieri sera il nuovo piano per la mobilità sostenibile, che prevede quaranta chilometri di piste ciclabili entro il 2028.";
        let fp = fingerprint(title, Some(summary)).unwrap();
        let full = cand(3, title, STORY);
        assert!(lead_containment(&fp, &full.0.fingerprint) >= CONTAINMENT_MIN);
        assert_eq!(best(title, &fp, std::slice::from_ref(&full)), Some(3));
        assert_eq!(
            fp.lead_simhash & 0xffff,
            fingerprint(title, Some(summary)).unwrap().lead_simhash & 0xffff
        );
        // The same summary under an unrelated title is not trusted.
        assert_eq!(best("Oroscopo di oggi", &fp, &[full]), None);
    }

    #[test]
    fn band_keys_find_close_text_and_equal_leads_and_never_mix_kinds() {
        let fp = |simhash: u64, lead_simhash: u64| Fingerprint {
            simhash,
            lead_simhash,
            shingles: 20,
            sketch: vec![],
            lead: vec![],
        };
        let a = fp(0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210);
        // Any 3 flipped bits of the text SimHash leave a text key shared.
        for (x, y, z) in [(0, 1, 2), (0, 16, 32), (15, 31, 47), (16, 40, 63), (5, 21, 37)] {
            let b = fp(a.simhash ^ (1 << x) ^ (1 << y) ^ (1 << z), 0);
            assert!(bands(&a)[..4].iter().any(|k| bands(&b)[..4].contains(k)), "{x} {y} {z}");
        }
        // An equal lead SimHash shares both lead keys, whatever the text.
        let summary = fp(!a.simhash, a.lead_simhash);
        assert_eq!(bands(&a)[4..], bands(&summary)[4..]);
        assert!(!bands(&a)[..4].iter().any(|k| bands(&summary)[..4].contains(k)));
        // A text key never equals a lead key, and positions are tagged apart.
        let same_halves = fp(0x0001_0001_0001_0001, 0x0000_0001_0000_0001);
        let keys = bands(&same_halves);
        let distinct: std::collections::HashSet<i64> = keys.iter().copied().collect();
        assert_eq!(distinct.len(), keys.len(), "{keys:x?}");
    }

    #[test]
    fn titles_are_read_only_for_a_summary_against_its_opening() {
        let title = "Verona approva il piano per le piste ciclabili";
        let unrelated = cand(
            1,
            "Oroscopo di oggi",
            "<p>Ariete: giornata favorevole per i viaggi e per le nuove conoscenze, mentre in amore serve pazienza con il partner che vi chiede più attenzione.</p>",
        );
        let full = cand(2, title, STORY);
        let asked = std::cell::RefCell::new(Vec::new());
        let title_of = |id: i64| {
            asked.borrow_mut().push(id);
            Err::<String, _>("no title here")
        };
        // Bodies decide alone: the same text confirms, an unrelated one is
        // rejected, and neither entry is read.
        let same = fingerprint(title, Some(STORY)).unwrap();
        let cands = [unrelated.0.clone(), full.0.clone()];
        assert_eq!(best_match(title, &same, &cands, title_of), Ok(Some(2)));
        assert!(asked.borrow().is_empty(), "{asked:?}");
        // A summary needs the title of the full text it opens, and only that one.
        let summary = "Il consiglio comunale di Verona ha approvato ieri sera il nuovo piano per la mobilità sostenibile, che prevede quaranta chilometri di piste ciclabili entro il 2028.";
        let fp = fingerprint(title, Some(summary)).unwrap();
        assert_eq!(best_match(title, &fp, &cands, title_of), Err("no title here"));
        assert_eq!(*asked.borrow(), [2]);
    }

    #[test]
    fn template_titles_with_different_bodies_never_match() {
        let a = cand(
            1,
            "Oroscopo di oggi",
            "<p>Ariete: giornata favorevole per i viaggi e per le nuove conoscenze, mentre in amore serve pazienza con il partner che vi chiede più attenzione.</p>",
        );
        let fp = fingerprint("Oroscopo di oggi", Some("<p>Toro: le stelle consigliano prudenza negli investimenti; una telefonata inattesa porterà buone notizie dal lavoro e una cena con gli amici di sempre.</p>")).unwrap();
        assert_eq!(best("Oroscopo di oggi", &fp, &[a]), None);
    }

    #[test]
    fn a_shared_opening_sentence_is_not_the_same_story() {
        let opening = "<p>Secondo quanto riportato dall’agenzia, la situazione resta in evoluzione e le autorità invitano alla prudenza.</p>";
        let a = cand(
            1,
            "Incendio nel porto di Genova",
            &format!(
                "{opening}<p>Un incendio è divampato in un magazzino del porto di Genova, dove i vigili del fuoco lavorano da ore per contenere le fiamme che hanno raggiunto i container.</p>"
            ),
        );
        let fp = fingerprint("Frana sulla statale a Belluno", Some(&format!("{opening}<p>Una frana ha interrotto la statale tra Belluno e Cortina; decine di automobilisti sono rimasti bloccati e la protezione civile ha aperto un percorso alternativo.</p>"))).unwrap();
        assert_eq!(best("Frana sulla statale a Belluno", &fp, &[a]), None);
    }

    #[test]
    fn short_bodies_carry_no_fingerprint() {
        assert!(fingerprint("Breve", Some("<p>Solo due parole.</p>")).is_none());
        assert!(fingerprint("Breve", None).is_none());
    }
}
