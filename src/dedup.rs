//! Deciding identity: which stored story an incoming item is, and what the
//! story keeps when several copies meet.
//!
//! Rules, in order (DESIGN §4):
//! 1. the same source and the same item id are the same entry; a changed
//!    item updates it in place, without moving it in the merged feed;
//! 2. the same canonical link from any source is the same entry, and every
//!    source is credited.
//!
//! Pure functions over model types: the pipeline looks the candidates up in
//! the store and passes them in, so this module never touches the database.

use std::hash::Hasher;

use chrono::{DateTime, Utc};
use siphasher::sip128::{Hasher128, SipHasher13};

use crate::model::Entry;

/// What the store already holds that could be the incoming item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Candidates {
    /// The entry this source's item id already maps to (rule 1), with the
    /// content hash it had on the last poll.
    pub by_item: Option<(i64, bool)>,
    /// The entry holding the same canonical link (rule 2).
    pub by_link: Option<i64>,
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

/// Length of the readable text of some HTML: what "longest content" compares.
pub fn text_len(html: Option<&str>) -> usize {
    let Some(html) = html else { return 0 };
    let mut in_tag = false;
    let mut n = 0;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag && !c.is_whitespace() => n += 1,
            _ => {}
        }
    }
    n
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
    (merged, takes_text && changed)
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

    #[test]
    fn text_length_ignores_markup() {
        assert_eq!(text_len(Some("<p>ab <b>c</b></p>")), 3);
        assert_eq!(text_len(None), 0);
    }
}
