//! Deciding identity: which stored story an incoming item is, and what the
//! story keeps when several copies meet.
//!
//! An entry is a set of items (one per source and item id) connected by
//! "same story" edges; every decision is a fixed, symmetric function of two
//! items, so the same items make the same entries whatever order they
//! arrive in. Edges:
//!
//! 1. the same source and item id is the same item: a changed item updates
//!    its entry in place, without moving it in the merged feed;
//! 2. the same canonical link, unless the two texts clearly differ (the
//!    link-post rule, [`compare::clearly_differ`]);
//! 3. the same story told in text, within a time window: the prints of the
//!    two items ([`print`](mod@print)) decide ([`compare::judge`]): near-identical
//!    phrasing, the same words and facts rephrased, or one text the opening
//!    of the other, unless their facts fill the same slots differently (a
//!    template). Candidates come from the store's index of the prints'
//!    keys ([`candidates`]); an item is compared with every stored item,
//!    not only with the text an entry shows.
//!
//! An item with edges into several entries bridges them: they become one,
//! under the oldest entry's id (`plan`).
//!
//! Pure functions over model types: the pipeline looks the candidates up in
//! the store and passes them in, so this module never touches the database.

pub mod compare;
pub mod print;
#[cfg(test)]
mod samples;
pub mod text;
pub mod words;

use std::collections::BTreeMap;
use std::hash::Hasher;

use chrono::{DateTime, TimeDelta, Utc};
use siphasher::sip128::{Hasher128, SipHasher13};

use crate::html;
use crate::model::{Entry, ItemMeta, Join, StoredItem};
use compare::Match;
pub use print::{Encoded, Print, print};

/// Which of the configurable rules are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Rule 2: same canonical link.
    pub by_link: bool,
    /// Rule 3: the same story in text.
    pub by_text: bool,
    /// Rule 3 compares items published at most this many seconds apart.
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

impl Rules {
    /// The text window.
    pub fn window(&self) -> TimeDelta {
        TimeDelta::seconds(self.text_window_secs)
    }

    /// Items published before this have no print kept: a new item is
    /// compared completely when it is published within one window of
    /// `now`, whose window reaches back two.
    pub fn print_horizon(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.window() * 2
    }
}

/// The rule name of an item that started a new entry.
pub const NEW: &str = "new";
/// The rule name of an item joined by its canonical link.
pub const SAME_LINK: &str = "same-link";

/// A "same story" edge from an incoming item to a stored one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Edge {
    /// The stored item.
    pub item: i64,
    /// Its entry.
    pub entry: i64,
    /// The rule that decided it (`same-link` or a text rule).
    pub rule: &'static str,
    /// The text rule's score.
    pub score: Option<f64>,
}

/// The stored items worth comparing with an incoming item: those the index
/// finds from its keys ([`compare::found`]: four key facts, or three with
/// two strong ones, an opening key and a key fact, the title key and two key
/// facts — or an opening or title key alone when the incoming item has
/// almost no key facts; the stored one is then read, and the judge asks the
/// same of both prints). Sorted by item.
///
/// The index is asked through three functions: how many items hold a key
/// (`count`), the `(item, key)` pairs of some keys (`scan`), and whether an
/// item holds a key (`holds`). Of the three longest fact lists, the weak
/// ones and the longest strong one are not scanned, only probed for the
/// items the others bring: an item sharing four key facts is in one of the
/// lists left, one found with two strong facts in a strong list left, one
/// found with an opening or title key in that key's list — so a place or an
/// organisation named in thousands of stored items costs a binary search per
/// item found, not a walk over thousands of postings.
pub fn candidates<E>(
    print: &Print,
    mut count: impl FnMut(u32) -> Result<usize, E>,
    mut scan: impl FnMut(&[u32]) -> Result<Vec<(u32, u32)>, E>,
    mut holds: impl FnMut(u32, u32) -> Result<bool, E>,
) -> Result<Vec<i64>, E> {
    use print::{KeyKind, is_strong};
    let keys = print.keys();
    let mut facts: Vec<(usize, u32)> = Vec::new();
    for &k in keys.iter().filter(|k| KeyKind::of(**k) == KeyKind::Fact) {
        facts.push((count(k)?, k));
    }
    // Longest first.
    facts.sort_unstable_by(|a, b| b.cmp(a));
    // Of the FACT_KEYS - 1 longest lists, skip the weak ones and the
    // longest strong one: an item sharing FACT_KEYS fact keys is in one of
    // the others, and one found with two strong keys in a strong list left.
    let longest_strong = facts.iter().find(|(_, k)| is_strong(*k)).map(|(_, k)| *k);
    let skipped: Vec<u32> = facts
        .iter()
        .take(compare::FACT_KEYS as usize - 1)
        .map(|(_, k)| *k)
        .filter(|k| !is_strong(*k) || Some(*k) == longest_strong)
        .collect();
    let scanned: Vec<u32> = keys.iter().copied().filter(|k| !skipped.contains(k)).collect();
    let poor = print.fact_poor();
    // item → (fact keys, strong fact keys, an opening key, a title key)
    let mut by_item: BTreeMap<u32, (u32, u32, bool, bool)> = BTreeMap::new();
    for (item, key) in scan(&scanned)? {
        let e = by_item.entry(item).or_default();
        match KeyKind::of(key) {
            KeyKind::Fact => {
                e.0 += 1;
                e.1 += u32::from(is_strong(key));
            }
            KeyKind::Lead => e.2 = true,
            KeyKind::Title => e.3 = true,
        }
    }
    let mut out = Vec::new();
    for (item, (mut facts, mut strong, lead, title)) in by_item {
        for &k in &skipped {
            if holds(k, item)? {
                facts += 1;
                strong += u32::from(is_strong(k));
            }
        }
        if compare::found(facts, strong, lead, title, poor) {
            out.push(i64::from(item));
        }
    }
    Ok(out)
}

/// Rule 3 between an incoming item (its print and date) and a stored one:
/// the path and score when they are the same story.
pub(crate) fn text_edge(
    print: &Print,
    published: DateTime<Utc>,
    stored: &StoredItem,
    rules: &Rules,
) -> Option<(Match, f64)> {
    if (published - stored.published).abs() > rules.window() {
        return None;
    }
    let other = Print::decode(stored.print.as_deref()?)?;
    let v = compare::judge(print, &other);
    v.outcome.ok().map(|m| (m, v.score))
}

/// Rule 2 between an incoming item and a stored one under the same
/// canonical link: an edge unless both texts are substantial and clearly
/// differ (the link-post rule).
pub(crate) fn link_edge(print: Option<&Print>, stored: &StoredItem) -> bool {
    let other = stored.print.as_deref().and_then(Print::decode);
    !compare::clearly_differ(print, other.as_ref())
}

/// What storing an item does to the entries.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    /// The entry the item belongs to: the oldest (lowest id) of its own and
    /// those its edges reach; `None` for a new entry.
    pub entry: Option<i64>,
    /// Younger entries its edges reach, to merge into `entry`, oldest first.
    pub merge: Vec<i64>,
    /// How the item joined `entry` (for an item new to the store).
    pub join: Join,
}

/// Where an item goes, from the entry it already belongs to (rule 1) and
/// its edges: the oldest entry reached keeps its id, and every other entry
/// reached is merged into it. The recorded join is the edge into the kept
/// entry with the highest score (a link edge first), or `new`.
pub(crate) fn plan(own: Option<i64>, edges: &[Edge]) -> Plan {
    let mut entries: Vec<i64> = edges.iter().map(|e| e.entry).chain(own).collect();
    entries.sort_unstable();
    entries.dedup();
    let Some((&entry, younger)) = entries.split_first() else {
        return Plan {
            entry: None,
            merge: vec![],
            join: Join {
                rule: NEW.into(),
                matched: None,
                score: None,
            },
        };
    };
    let rank = |e: &Edge| (e.rule == SAME_LINK, e.score.unwrap_or(0.0));
    let best = edges
        .iter()
        .filter(|e| e.entry == entry)
        .max_by(|a, b| {
            let (ra, rb) = (rank(a), rank(b));
            ra.0.cmp(&rb.0).then(ra.1.total_cmp(&rb.1)).then(b.item.cmp(&a.item))
        })
        .or_else(|| edges.iter().max_by(|a, b| rank(a).1.total_cmp(&rank(b).1)));
    Plan {
        entry: Some(entry),
        merge: younger.to_vec(),
        join: best.map_or(
            Join {
                rule: NEW.into(),
                matched: None,
                score: None,
            },
            |e| Join {
                rule: e.rule.into(),
                matched: Some(e.item),
                score: e.score,
            },
        ),
    }
}

/// The stable public id of a new entry, from its first (source, item id):
/// 32 hex digits, the first 8 a hash of the source's name and the other 24
/// a hash of both.
///
/// Leading with the source keeps the uids one poll creates side by side in
/// the store's unique index of uids, so a poll's new entries change a page
/// or two of it instead of one page per entry (uids hashed whole land at
/// random places, and each changed page is written out again by every
/// commit). Entries stored before this form keep their uids.
pub fn entry_uid(source: &str, item_id: &str) -> String {
    let mut h = SipHasher13::new_with_keys(0x656e_7472_7975_6964, 0x7472_6962_7574_6172);
    h.write_u64(source.len() as u64);
    h.write(source.as_bytes());
    let of_source = h.finish128().h1 as u32;
    h.write(item_id.as_bytes());
    let of_item = h.finish128().as_u128() & ((1u128 << 96) - 1);
    format!("{of_source:08x}{of_item:024x}")
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

/// Lower-cased words of some HTML as prints read it ([`text::text_of_html`]),
/// punctuation as separators: kept so that a test can pin that reading.
#[cfg(test)]
pub(crate) fn words(html: &str) -> Vec<String> {
    text::text_of_html(html)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

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

    /// The candidates found without walking the longest lists are those
    /// the rule names when every list is walked.
    #[test]
    fn skipping_the_longest_lists_finds_the_same_candidates() {
        use print::{KeyKind, STRONG};
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        // 600 stored items holding keys drawn from a few popular facts
        // (long lists), some rarer ones, strong ones and opening keys.
        let key = |family: u32, n: u64| -> u32 { (family << 30) | (n as u32 & 0x0fff_ffff) };
        let mut stored: Vec<Vec<u32>> = Vec::new();
        for _ in 0..600 {
            let mut keys: Vec<u32> = (0..6)
                .map(|_| match next(4) {
                    0 => key(0, next(5)),
                    1 => key(0, 100 + next(60)),
                    2 => key(0, 1000 + next(40)) | STRONG,
                    _ => key(1, next(300)),
                })
                .collect();
            keys.sort_unstable();
            keys.dedup();
            stored.push(keys);
        }
        let postings: Vec<(u32, u32)> = stored
            .iter()
            .enumerate()
            .flat_map(|(i, ks)| ks.iter().map(move |k| (i as u32, *k)))
            .collect();
        for probe in stored.iter().take(200) {
            let p = Print {
                keys: probe.clone(),
                ..Print::default()
            };
            let scan = |keys: &[u32]| -> Result<Vec<(u32, u32)>, ()> {
                Ok(postings.iter().copied().filter(|(_, k)| keys.contains(k)).collect())
            };
            let got = candidates(
                &p,
                |k| Ok(postings.iter().filter(|(_, x)| *x == k).count()),
                scan,
                |k, item| Ok(stored[item as usize].contains(&k)),
            )
            .unwrap();
            let want: Vec<i64> = stored
                .iter()
                .enumerate()
                .filter(|(_, ks)| {
                    let shared: Vec<&u32> = ks.iter().filter(|k| probe.contains(k)).collect();
                    let facts = shared.iter().filter(|k| KeyKind::of(***k) == KeyKind::Fact).count() as u32;
                    let strong = shared.iter().filter(|k| print::is_strong(***k)).count() as u32;
                    let lead = shared.iter().any(|k| KeyKind::of(**k) == KeyKind::Lead);
                    let title = shared.iter().any(|k| KeyKind::of(**k) == KeyKind::Title);
                    compare::found(facts, strong, lead, title, p.fact_poor())
                })
                .map(|(i, _)| i as i64)
                .collect();
            assert_eq!(got, want, "{probe:x?}");
        }
    }

    #[test]
    fn uid_is_stable_and_distinct() {
        assert_eq!(entry_uid("a", "1"), entry_uid("a", "1"));
        assert_ne!(entry_uid("a", "1"), entry_uid("a1", ""));
        assert_eq!(entry_uid("a", "1").len(), 32);
        assert_ne!(entry_uid("a", "1"), entry_uid("a", "2"));
    }

    #[test]
    fn uids_of_one_source_share_their_first_eight_digits() {
        let a = entry_uid("Il Post", "https://www.ilpost.it/?p=1");
        let b = entry_uid("Il Post", "https://www.ilpost.it/?p=2");
        let c = entry_uid("Il Posto", "https://www.ilpost.it/?p=1");
        assert_eq!(a[..8], b[..8]);
        assert_ne!(a[8..], b[8..]);
        assert_ne!(a[..8], c[..8]);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
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
}
