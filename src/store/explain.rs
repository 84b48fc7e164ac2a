//! Read-only queries behind `tributary explain`: an entry, its items and
//! how each joined, the entries merged into it, and the stored items that
//! share candidate keys with it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::entries::{ITEM_COLUMNS, read_index, stored_item};
use super::keys::KeyIndex;
use super::{Store, StoreError, to_time};
use crate::model::{Join, StoredItem};

/// An entry and everything that was decided about it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EntryItems {
    /// Its row id.
    pub id: i64,
    /// Its public uid.
    pub uid: String,
    /// Its title.
    pub title: String,
    /// Its sort date.
    pub published: DateTime<Utc>,
    /// Its canonical link, if any.
    pub canonical_link: Option<String>,
    /// Its items, oldest first, each with its source's name.
    pub items: Vec<(String, StoredItem)>,
    /// Entries merged into it.
    pub merged: Vec<MergedInto>,
}

/// An entry merged into an older one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MergedInto {
    /// The merged (younger) entry's uid.
    pub uid: String,
    /// Its title then.
    pub title: String,
    /// The entry it was merged into.
    pub into: i64,
    /// The item that was the same story as both, and how.
    pub by_item: Option<i64>,
    /// The decision.
    pub join: Join,
    /// When.
    pub at: DateTime<Utc>,
}

/// The key index, built read-only for one command.
#[derive(Debug)]
pub(crate) struct KeySearch(KeyIndex);

impl KeySearch {
    /// `(item, key)` for every item holding one of `keys`.
    pub(crate) fn hits(&self, keys: &[u32]) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        self.0.hits(keys, &mut out);
        out
    }

    /// How many items hold `key`.
    pub(crate) fn count(&self, key: u32) -> usize {
        self.0.count(key)
    }

    /// Whether `item` holds `key`.
    pub(crate) fn contains(&self, key: u32, item: u32) -> bool {
        self.0.contains(key, item)
    }
}

impl Store {
    /// The entry with this public uid (with or without the
    /// `urn:tributary:entry:` prefix), if it exists.
    pub(crate) fn entry_by_uid(&self, uid: &str) -> Result<Option<i64>, StoreError> {
        let uid = uid.strip_prefix("urn:tributary:entry:").unwrap_or(uid);
        self.read("finding an entry", |c| {
            c.query_row("SELECT id FROM entries WHERE uid = ?1", [uid], |r| r.get(0))
                .optional()
        })
    }

    /// The entry holding a source's item, if stored.
    pub(crate) fn entry_by_item(&self, source: &str, item_id: &str) -> Result<Option<i64>, StoreError> {
        self.read("finding an item", |c| {
            c.query_row(
                "SELECT i.entry_id FROM items i JOIN sources s ON s.id = i.source_id
                 WHERE s.name = ?1 AND i.item_id = ?2",
                params![source, item_id],
                |r| r.get(0),
            )
            .optional()
        })
    }

    /// Where an entry merged into another went, by its uid.
    pub(crate) fn merged_entry(&self, uid: &str) -> Result<Option<MergedInto>, StoreError> {
        let uid = uid.strip_prefix("urn:tributary:entry:").unwrap_or(uid);
        self.read("finding a merged entry", |c| {
            c.query_row(
                "SELECT merged_uid, merged_title, entry_id, by_item, rule, score, at FROM entry_merges
                 WHERE merged_uid = ?1 ORDER BY id DESC LIMIT 1",
                [uid],
                merged_into,
            )
            .optional()
        })
    }

    /// An entry, its items and the entries merged into it.
    pub(crate) fn entry_items(&self, entry_id: i64) -> Result<Option<EntryItems>, StoreError> {
        self.read("reading an entry's items", |c| {
            let Some((uid, title, published, canonical_link)) = c
                .query_row(
                    "SELECT uid, title, published_at, canonical_link FROM entries WHERE id = ?1",
                    [entry_id],
                    |r| Ok((r.get(0)?, r.get(1)?, to_time(r.get(2)?), r.get(3)?)),
                )
                .optional()?
            else {
                return Ok(None);
            };
            let mut st = c.prepare(&format!(
                "SELECT {ITEM_COLUMNS}, s.name FROM items i LEFT JOIN item_prints p ON p.item = i.id
                 JOIN sources s ON s.id = i.source_id WHERE i.entry_id = ?1 ORDER BY i.id"
            ))?;
            let items = st
                .query_map([entry_id], |r| Ok((r.get(10)?, stored_item(r)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut st = c.prepare(
                "SELECT merged_uid, merged_title, entry_id, by_item, rule, score, at FROM entry_merges
                 WHERE entry_id = ?1 ORDER BY id",
            )?;
            let merged = st
                .query_map([entry_id], merged_into)?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Some(EntryItems {
                id: entry_id,
                uid,
                title,
                published,
                canonical_link,
                items,
                merged,
            }))
        })
    }

    /// Stored items by row id, each with its source's name (missing ones
    /// are left out).
    pub(crate) fn items_by_id(&self, ids: &[i64]) -> Result<Vec<(String, StoredItem)>, StoreError> {
        self.read("reading items", |c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {ITEM_COLUMNS}, s.name FROM items i LEFT JOIN item_prints p ON p.item = i.id
                 JOIN sources s ON s.id = i.source_id WHERE i.id = ?1"
            ))?;
            let mut out = Vec::new();
            for id in ids {
                if let Some(row) = st.query_row([id], |r| Ok((r.get(10)?, stored_item(r)?))).optional()? {
                    out.push(row);
                }
            }
            Ok(out)
        })
    }

    /// Stored items under a canonical link, each with its source's name.
    pub(crate) fn items_by_link(&self, canonical: &str) -> Result<Vec<(String, StoredItem)>, StoreError> {
        self.read("reading items by link", |c| {
            let mut st = c.prepare(&format!(
                "SELECT {ITEM_COLUMNS}, s.name FROM items i LEFT JOIN item_prints p ON p.item = i.id
                 JOIN sources s ON s.id = i.source_id WHERE i.canonical_link = ?1 ORDER BY i.id"
            ))?;
            st.query_map([canonical], |r| Ok((r.get(10)?, stored_item(r)?)))?
                .collect()
        })
    }

    /// The title and uid of entries, by row id.
    pub(crate) fn entry_titles(&self, ids: &[i64]) -> Result<HashMap<i64, (String, String)>, StoreError> {
        self.read("reading entry titles", |c| {
            let mut st = c.prepare_cached("SELECT uid, title FROM entries WHERE id = ?1")?;
            let mut out = HashMap::new();
            for id in ids {
                if let Some(row) = st.query_row([id], |r| Ok((r.get(0)?, r.get(1)?))).optional()? {
                    out.insert(*id, row);
                }
            }
            Ok(out)
        })
    }

    /// The key index, built from the store on a read connection (the
    /// daemon's own index lives in its process).
    pub(crate) fn key_search(&self) -> Result<KeySearch, StoreError> {
        self.read("reading the items' keys", |c| read_index(c).map(KeySearch))
    }
}

fn merged_into(r: &rusqlite::Row<'_>) -> rusqlite::Result<MergedInto> {
    Ok(MergedInto {
        uid: r.get(0)?,
        title: r.get(1)?,
        into: r.get(2)?,
        by_item: r.get(3)?,
        join: Join {
            rule: r.get(4)?,
            matched: None,
            score: r.get(5)?,
        },
        at: to_time(r.get(6)?),
    })
}
