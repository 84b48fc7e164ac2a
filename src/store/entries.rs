//! Entries: the write side of a poll, and the merged-feed queries.
//!
//! [`Writer`] is a thin, typed face over the write transaction (which may
//! hold several polls, see [`super::Store::write_each`]): lookups
//! for the dedup candidates, inserts and updates of entries, credits
//! (`entry_sources`) and tags. The decisions themselves are made by the
//! caller (`dedup`), so this file holds SQL only.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};

use super::keys::{self, KeyIndex};
use super::{Store, StoreError, to_time};
use crate::model::{Credit, Entry, ItemMeta, ItemRecord, Join, StoredEntry, StoredItem};

/// The write side of one transaction (see [`Store::write`]).
pub struct Writer<'t> {
    pub(super) tx: &'t Transaction<'t>,
    store: &'t Store,
    changed: Cell<bool>,
    /// The store's key index (`None` until built).
    index: RefCell<&'t mut Option<KeyIndex>>,
    /// Postings added by this transaction, joining the index on commit.
    pending: RefCell<keys::Postings>,
    /// Whether keys were removed, so that the index must be rebuilt.
    stale: Cell<bool>,
}

impl<'t> Writer<'t> {
    pub(super) fn new(tx: &'t Transaction<'t>, store: &'t Store, index: &'t mut Option<KeyIndex>) -> Self {
        Writer {
            tx,
            store,
            changed: Cell::new(false),
            index: RefCell::new(index),
            pending: RefCell::new(keys::Postings::default()),
            stale: Cell::new(false),
        }
    }

    /// Whether this transaction changed any entry.
    pub(super) fn changed(&self) -> bool {
        self.changed.get()
    }

    /// What the index needs after a commit: the postings added, and
    /// whether keys were removed (the index is then rebuilt).
    pub(super) fn finish(self) -> (keys::Postings, bool) {
        (self.pending.into_inner(), self.stale.get())
    }

    pub(super) fn mark_stale(&self) {
        self.stale.set(true);
    }

    pub(super) fn mark_changed(&self) {
        self.changed.set(true);
    }

    /// Whether retention pruned this source's item (it must not come back as new).
    pub(crate) fn was_pruned(&self, source_id: i64, item_id: &str) -> Result<bool, StoreError> {
        self.row(
            "SELECT 1 FROM pruned_items WHERE source_id = ?1 AND item_id = ?2",
            params![source_id, item_id],
            |_| Ok(()),
        )
        .optional()
        .map(|r| r.is_some())
        .map_err(self.err("looking up pruned items"))
    }

    /// Whether the store has never held an item of this source: no item
    /// stored and none remembered as pruned (flood control's "new source").
    /// A source whose items were all pruned, or whose config changed, is
    /// not new; one removed with `db forget` is new again.
    pub(crate) fn holds_nothing_of(&self, source_id: i64) -> Result<bool, StoreError> {
        self.row(
            "SELECT NOT EXISTS (SELECT 1 FROM items WHERE source_id = ?1)
                AND NOT EXISTS (SELECT 1 FROM pruned_items WHERE source_id = ?1)",
            [source_id],
            |r| r.get(0),
        )
        .map_err(self.err("looking for a source's items"))
    }

    /// Remembers this source's item as pruned without ever storing it, as
    /// retention remembers what it removes: it never comes back as new.
    pub(crate) fn hold_back(&self, source_id: i64, item_id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.exec(
            "INSERT OR IGNORE INTO pruned_items (source_id, item_id, pruned_at) VALUES (?1, ?2, ?3)",
            params![source_id, item_id, now.timestamp()],
        )
        .map(|_| ())
        .map_err(self.err("remembering items held back"))
    }

    /// `query_row` over a cached statement: a poll runs the same few
    /// statements for every item, so they are prepared once per connection.
    pub(super) fn row<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.tx.prepare_cached(sql)?.query_row(params, f)
    }

    /// `execute` over a cached statement (see [`Writer::row`]).
    pub(super) fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.tx.prepare_cached(sql)?.execute(params)
    }

    pub(super) fn err(&self, doing: &'static str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        self.store.err(doing)
    }

    /// The id of the source named `name`, creating its row on first use.
    pub fn source_id(&self, name: &str, url: &str) -> Result<i64, StoreError> {
        self.row(
            "INSERT INTO sources (name, url) VALUES (?1, ?2)
                 ON CONFLICT(name) DO UPDATE SET url = excluded.url,
                    current_url = CASE WHEN sources.url = excluded.url THEN sources.current_url END,
                    pending_redirect = CASE WHEN sources.url = excluded.url THEN sources.pending_redirect END
                 RETURNING id",
            params![name, url],
            |r| r.get(0),
        )
        .map_err(self.err("registering a source"))
    }

    /// The stored content of an entry, and the source whose text it shows.
    pub(crate) fn load(&self, entry_id: i64) -> Result<(Entry, i64), StoreError> {
        self.row(
            "SELECT title, link, canonical_link, summary_html, content_html, author, language,
                        published_at, updated_at, content_source_id, meta
                 FROM entries WHERE id = ?1",
            [entry_id],
            |r| {
                Ok((
                    Entry {
                        item_id: String::new(),
                        title: r.get(0)?,
                        link: r.get(1)?,
                        canonical_link: r.get(2)?,
                        summary_html: r.get(3)?,
                        content_html: r.get(4)?,
                        author: r.get(5)?,
                        categories: Vec::new(),
                        language: r.get(6)?,
                        published: to_time(r.get(7)?),
                        updated: to_time(r.get(8)?),
                        content_hash: String::new(),
                        meta: read_meta(r.get(10)?),
                    },
                    r.get(9)?,
                ))
            },
        )
        .map_err(self.err("loading an entry"))
    }

    /// Stores a new story; returns its row id.
    pub(crate) fn insert(&self, uid: &str, e: &Entry, source_id: i64, now: DateTime<Utc>) -> Result<i64, StoreError> {
        self.changed.set(true);
        self.row(
            "INSERT INTO entries (uid, canonical_link, link, title, summary_html, content_html, author,
                                      language, published_at, updated_at, first_seen_at, content_source_id, meta)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) RETURNING id",
            params![
                uid,
                e.canonical_link,
                e.link,
                e.title,
                e.summary_html,
                e.content_html,
                e.author,
                e.language,
                e.published.timestamp(),
                e.updated.timestamp(),
                now.timestamp(),
                source_id,
                write_meta(&e.meta),
            ],
            |r| r.get(0),
        )
        .map_err(self.err("inserting an entry"))
    }

    /// Rewrites a stored story with merged content.
    pub(crate) fn update(&self, entry_id: i64, e: &Entry, content_source_id: i64) -> Result<(), StoreError> {
        self.changed.set(true);
        self.exec(
            "UPDATE entries SET title = ?2, link = ?3, summary_html = ?4, content_html = ?5, author = ?6,
                        language = ?7, published_at = ?8, updated_at = ?9, content_source_id = ?10,
                        canonical_link = coalesce(canonical_link, ?11), meta = ?12
                 WHERE id = ?1",
            params![
                entry_id,
                e.title,
                e.link,
                e.summary_html,
                e.content_html,
                e.author,
                e.language,
                e.published.timestamp(),
                e.updated.timestamp(),
                content_source_id,
                e.canonical_link,
                write_meta(&e.meta),
            ],
        )
        .map_err(self.err("updating an entry"))?;
        Ok(())
    }

    /// Records that `source_id` carried `entry_id` as `item_id` (a credit),
    /// or refreshes that record.
    pub(crate) fn credit(
        &self,
        source_id: i64,
        item_id: &str,
        entry_id: i64,
        link: Option<&str>,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let n = self
            .exec(
                "INSERT INTO entry_sources (source_id, item_id, entry_id, link, content_hash, first_seen_at, last_seen_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
                 ON CONFLICT(source_id, item_id) DO UPDATE SET
                    link = excluded.link, content_hash = excluded.content_hash, last_seen_at = excluded.last_seen_at
                 WHERE entry_sources.content_hash IS NOT excluded.content_hash
                    OR entry_sources.link IS NOT excluded.link",
                params![source_id, item_id, entry_id, link, hash, now.timestamp()],
            )
            .map_err(self.err("crediting a source"))?;
        if n > 0 {
            self.changed.set(true);
        }
        Ok(())
    }

    /// Adds categories to an entry (existing ones are kept).
    pub(crate) fn tag<'a>(&self, entry_id: i64, tags: impl IntoIterator<Item = &'a str>) -> Result<(), StoreError> {
        let mut st = self
            .tx
            .prepare_cached("INSERT OR IGNORE INTO entry_tags (entry_id, tag) VALUES (?1, ?2)")
            .map_err(self.err("tagging an entry"))?;
        for t in tags {
            if st.execute(params![entry_id, t]).map_err(self.err("tagging an entry"))? > 0 {
                self.changed.set(true);
            }
        }
        Ok(())
    }
}

/// The `entries.meta` column of an entry's metadata: JSON, or NULL when
/// there is none.
fn write_meta(meta: &ItemMeta) -> Option<String> {
    if meta.is_empty() {
        return None;
    }
    serde_json::to_string(meta).ok()
}

/// An entry's metadata from its `entries.meta` column. A value this
/// release cannot read (written by a newer one, say) counts as none rather
/// than failing the whole page: the entry is still served, with its basics.
fn read_meta(column: Option<String>) -> ItemMeta {
    column
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

fn key_blob(keys: &[u32]) -> Vec<u8> {
    keys.iter().flat_map(|k| k.to_le_bytes()).collect()
}

/// The keys of a stored blob (u32 little-endian).
pub(super) fn keys_of(blob: &[u8]) -> impl Iterator<Item = u32> + '_ {
    blob.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

/// The columns [`stored_item`] reads, from `items i LEFT JOIN item_prints p`.
pub(super) const ITEM_COLUMNS: &str =
    "i.id, i.source_id, i.item_id, i.entry_id, i.canonical_link, i.published_at, i.rule, i.matched, i.score, p.print";

pub(super) fn stored_item(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredItem> {
    Ok(StoredItem {
        id: r.get(0)?,
        source_id: r.get(1)?,
        item_id: r.get(2)?,
        entry_id: r.get(3)?,
        canonical_link: r.get(4)?,
        published: to_time(r.get(5)?),
        join: Join {
            rule: r.get(6)?,
            matched: r.get(7)?,
            score: r.get(8)?,
        },
        print: r.get(9)?,
    })
}

/// An item whose print was never computed, with its entry's text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Unprinted {
    /// The item's row id.
    pub id: i64,
    /// Its publication date.
    pub published: DateTime<Utc>,
    /// Its entry's title.
    pub title: String,
    /// Its entry's shown text (content, else summary).
    pub body: Option<String>,
}

/// What merging an entry into an older one records.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EntryMerge<'a> {
    /// The entry kept (the older).
    pub keep: i64,
    /// The entry merged into it and deleted.
    pub gone: i64,
    /// The kept entry's content after the merge.
    pub merged: &'a Entry,
    /// Whose text the kept entry shows after the merge.
    pub content_source_id: i64,
    /// The item that was the same story as both, and how it was decided.
    pub by_item: Option<i64>,
    /// The rule that made the bridging item join the younger entry.
    pub join: &'a Join,
    /// When.
    pub at: DateTime<Utc>,
}

impl Writer<'_> {
    /// Rule 1: the stored item of this source's item id, its entry and the
    /// content hash it had on the last poll.
    pub(crate) fn find_item(&self, source_id: i64, item_id: &str) -> Result<Option<(i64, i64, String)>, StoreError> {
        self.row(
            "SELECT i.id, i.entry_id, es.content_hash FROM items i
                 JOIN entry_sources es ON es.source_id = i.source_id AND es.item_id = i.item_id
                 WHERE i.source_id = ?1 AND i.item_id = ?2",
            params![source_id, item_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(self.err("looking up an item"))
    }

    /// Rule 2: the stored items under this canonical link, with their prints.
    pub(crate) fn items_with_link(&self, canonical: &str) -> Result<Vec<StoredItem>, StoreError> {
        let err = self.err("looking up a link");
        let mut st = self
            .tx
            .prepare_cached(&format!(
                "SELECT {ITEM_COLUMNS} FROM items i LEFT JOIN item_prints p ON p.item = i.id
                 WHERE i.canonical_link = ?1 ORDER BY i.id"
            ))
            .map_err(&err)?;
        st.query_map([canonical], stored_item)
            .map_err(&err)?
            .collect::<rusqlite::Result<_>>()
            .map_err(&err)
    }

    /// A stored item and its print, if it still exists.
    pub(crate) fn item(&self, id: i64) -> Result<Option<StoredItem>, StoreError> {
        self.row(
            &format!("SELECT {ITEM_COLUMNS} FROM items i LEFT JOIN item_prints p ON p.item = i.id WHERE i.id = ?1"),
            [id],
            stored_item,
        )
        .optional()
        .map_err(self.err("reading an item"))
    }

    /// `(item, key)` for every stored item holding one of `keys`,
    /// including the items this transaction added. Served from memory
    /// (see the `keys` module); built from the store on first use.
    pub(crate) fn key_hits(&self, keys: &[u32]) -> Result<Vec<(u32, u32)>, StoreError> {
        let mut out = Vec::new();
        self.with_index(|ix| {
            if let Some(ix) = ix {
                ix.hits(keys, &mut out);
            }
        })?;
        self.pending.borrow().hits(keys, &mut out);
        Ok(out)
    }

    /// How many stored items hold `key` (see [`Writer::key_hits`]).
    pub(crate) fn key_count(&self, key: u32) -> Result<usize, StoreError> {
        self.with_index(|ix| ix.map_or(0, |ix| ix.count(key)))
            .map(|n| n + self.pending.borrow().count(key))
    }

    /// Whether stored item `item` holds `key` (see [`Writer::key_hits`]).
    pub(crate) fn key_contains(&self, key: u32, item: u32) -> Result<bool, StoreError> {
        Ok(self.with_index(|ix| ix.is_some_and(|ix| ix.contains(key, item)))?
            || self.pending.borrow().contains(key, item))
    }

    fn with_index<T>(&self, f: impl FnOnce(Option<&KeyIndex>) -> T) -> Result<T, StoreError> {
        let mut index = self.index.borrow_mut();
        if index.is_none() {
            **index = Some(build_index(self.tx, self.store)?);
        }
        Ok(f(index.as_ref()))
    }

    /// Stores an item's row and print; returns its row id.
    pub(crate) fn insert_item(&self, item: &ItemRecord) -> Result<i64, StoreError> {
        let err = self.err("storing an item");
        let id: i64 = self
            .row(
                "INSERT INTO items (source_id, item_id, entry_id, canonical_link, published_at, rule, matched, score, keys)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
                params![
                    item.source_id,
                    item.item_id,
                    item.entry_id,
                    item.canonical_link,
                    item.published.timestamp(),
                    item.join.rule,
                    item.join.matched,
                    item.join.score,
                    key_blob(&item.keys),
                ],
                |r| r.get(0),
            )
            .map_err(&err)?;
        self.put_print(id, &item.keys, item.print.as_deref())?;
        Ok(id)
    }

    /// Replaces an edited item's link, date, keys and print (rule 1: it
    /// stays in its entry).
    pub(crate) fn update_item(&self, id: i64, item: &ItemRecord) -> Result<(), StoreError> {
        self.exec(
            "UPDATE items SET canonical_link = ?2, published_at = ?3, keys = ?4 WHERE id = ?1",
            params![
                id,
                item.canonical_link,
                item.published.timestamp(),
                key_blob(&item.keys)
            ],
        )
        .map_err(self.err("updating an item"))?;
        self.put_print(id, &item.keys, item.print.as_deref())
    }

    /// Stores the keys and print of an item that had none yet (a store
    /// from before items were recorded).
    pub(crate) fn set_print(&self, id: i64, keys: &[u32], print: Option<&[u8]>) -> Result<(), StoreError> {
        self.exec("UPDATE items SET keys = ?2 WHERE id = ?1", params![id, key_blob(keys)])
            .map_err(self.err("storing an item's print"))?;
        // Another process's key index must hear of the new keys.
        self.changed.set(true);
        self.put_print(id, keys, print)
    }

    fn put_print(&self, id: i64, keys: &[u32], print: Option<&[u8]>) -> Result<(), StoreError> {
        let err = self.err("storing an item's print");
        match print {
            Some(p) => self.exec(
                "INSERT OR REPLACE INTO item_prints (item, print) VALUES (?1, ?2)",
                params![id, p],
            ),
            None => self.exec("DELETE FROM item_prints WHERE item = ?1", [id]),
        }
        .map_err(&err)?;
        let item = u32::try_from(id).map_err(|_| StoreError::Sqlite {
            path: self.store.path().to_path_buf(),
            doing: "storing an item's keys",
            source: rusqlite::Error::IntegralValueOutOfRange(0, id),
        })?;
        let mut pending = self.pending.borrow_mut();
        for k in keys {
            pending.push(*k, item);
        }
        Ok(())
    }

    /// Items that have no print computed yet (`keys IS NULL`, left so by
    /// the migration to items), at most `limit`, with their entry's title
    /// and shown text.
    pub(crate) fn items_without_print(&self, limit: usize) -> Result<Vec<Unprinted>, StoreError> {
        let err = self.err("finding items without a print");
        let mut st = self
            .tx
            .prepare_cached(
                "SELECT i.id, i.published_at, e.title, coalesce(e.content_html, e.summary_html)
                 FROM items i JOIN entries e ON e.id = i.entry_id
                 WHERE i.keys IS NULL ORDER BY i.id LIMIT ?1",
            )
            .map_err(&err)?;
        st.query_map([limit as i64], |r| {
            Ok(Unprinted {
                id: r.get(0)?,
                published: to_time(r.get(1)?),
                title: r.get(2)?,
                body: r.get(3)?,
            })
        })
        .map_err(&err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(&err)
    }

    /// Forgets the keys and prints of items published before `before`
    /// (outside any text window the caller still compares with); returns
    /// how many items lost them.
    pub(crate) fn expire_prints(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let err = self.err("expiring old prints");
        self.exec(
            "DELETE FROM item_prints WHERE item IN (SELECT id FROM items WHERE published_at < ?1)",
            [before.timestamp()],
        )
        .map_err(&err)?;
        let n = self
            .exec(
                "UPDATE items SET keys = x'' WHERE published_at < ?1 AND (keys IS NULL OR length(keys) > 0)",
                [before.timestamp()],
            )
            .map_err(&err)? as u64;
        if n > 0 {
            self.stale.set(true);
        }
        Ok(n)
    }

    /// The uid and title of an entry.
    pub(crate) fn entry_name(&self, entry_id: i64) -> Result<(String, String), StoreError> {
        self.row("SELECT uid, title FROM entries WHERE id = ?1", [entry_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(self.err("reading an entry"))
    }

    /// Merges entry `gone` into the older entry `keep`: every item, credit
    /// and tag moves to `keep`, which takes the merged content; `gone` is
    /// deleted and its uid recorded in `entry_merges`.
    pub(crate) fn merge_entries(&self, m: &EntryMerge<'_>) -> Result<(), StoreError> {
        let err = self.err("merging two entries");
        let (uid, title) = self.entry_name(m.gone)?;
        self.update(m.keep, m.merged, m.content_source_id)?;
        for sql in [
            "UPDATE items SET entry_id = ?1 WHERE entry_id = ?2",
            "UPDATE entry_sources SET entry_id = ?1 WHERE entry_id = ?2",
            "INSERT OR IGNORE INTO entry_tags (entry_id, tag) SELECT ?1, tag FROM entry_tags WHERE entry_id = ?2",
            "UPDATE entry_merges SET entry_id = ?1 WHERE entry_id = ?2",
        ] {
            self.exec(sql, params![m.keep, m.gone]).map_err(&err)?;
        }
        self.exec("DELETE FROM entries WHERE id = ?1", [m.gone]).map_err(&err)?;
        self.exec(
            "INSERT INTO entry_merges (entry_id, merged_uid, merged_title, by_item, rule, score, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                m.keep,
                uid,
                title,
                m.by_item,
                m.join.rule,
                m.join.score,
                m.at.timestamp()
            ],
        )
        .map_err(&err)?;
        self.changed.set(true);
        Ok(())
    }
}

/// Builds the key index from every item that has keys.
fn build_index(conn: &rusqlite::Connection, store: &Store) -> Result<KeyIndex, StoreError> {
    let started = std::time::Instant::now();
    let index = read_index(conn).map_err(store.err("reading the items' keys"))?;
    tracing::info!(
        postings = index.len(),
        mb = index.bytes() as f64 / 1e6,
        ms = started.elapsed().as_millis() as u64,
        "built the in-memory index of candidate keys"
    );
    Ok(index)
}

/// Reads every item's keys into a new index.
pub(super) fn read_index(conn: &rusqlite::Connection) -> rusqlite::Result<KeyIndex> {
    // Sized exactly, so that building never holds twice the index.
    let total: i64 = conn.query_row("SELECT coalesce(sum(length(keys)), 0) / 4 FROM items", [], |r| r.get(0))?;
    let mut postings = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut st = conn.prepare("SELECT id, keys FROM items WHERE length(keys) > 0")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let Ok(item) = u32::try_from(id) else { continue };
        let blob = r.get_ref(1)?.as_blob()?;
        postings.extend(keys_of(blob).map(|k| keys::posting(k, item)));
    }
    Ok(KeyIndex::from_postings(postings))
}

impl Store {
    /// The stored content hash of each of `item_ids` of a source that the
    /// store holds, by item id: which items of a feed fetched again come
    /// back unchanged (one primary-key look-up each).
    pub(crate) fn content_hashes(
        &self,
        source_id: i64,
        item_ids: &[&str],
    ) -> Result<HashMap<String, String>, StoreError> {
        self.read("reading the content hashes of a source's items", |c| {
            let mut out = HashMap::new();
            // A source's first poll (all of a cold start): one look-up.
            let mut any = c.prepare_cached("SELECT 1 FROM entry_sources WHERE source_id = ?1 LIMIT 1")?;
            if !any.exists([source_id])? {
                return Ok(out);
            }
            let mut st =
                c.prepare_cached("SELECT content_hash FROM entry_sources WHERE source_id = ?1 AND item_id = ?2")?;
            for id in item_ids {
                if let Some(hash) = st.query_row(params![source_id, id], |r| r.get(0)).optional()? {
                    out.insert((*id).to_string(), hash);
                }
            }
            Ok(out)
        })
    }

    /// The newest `limit` entries after skipping `offset`, newest first,
    /// each with its credits (first-seen first) and tags.
    pub fn newest(&self, limit: usize, offset: usize) -> Result<Vec<StoredEntry>, StoreError> {
        self.newest_matching(&[], &[], limit, offset)
    }

    /// Like [`Store::newest`], restricted to entries carrying one of `tags`
    /// or credited to one of `sources` (both empty: every entry).
    pub(crate) fn newest_matching(
        &self,
        tags: &[String],
        sources: &[String],
        limit: usize,
        offset: usize,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        self.read("reading the merged feed", |c| {
            let marks = |n: usize| vec!["?"; n].join(",");
            let mut filters = Vec::new();
            if !tags.is_empty() {
                filters.push(format!(
                    "id IN (SELECT entry_id FROM entry_tags WHERE tag IN ({}))",
                    marks(tags.len())
                ));
            }
            if !sources.is_empty() {
                filters.push(format!(
                    "id IN (SELECT es.entry_id FROM entry_sources es JOIN sources s ON s.id = es.source_id WHERE s.name IN ({}))",
                    marks(sources.len())
                ));
            }
            let filter = if filters.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", filters.join(" OR "))
            };
            let mut st = c.prepare_cached(&format!(
                "SELECT id, uid, title, link, summary_html, content_html, author, language, published_at, updated_at, meta
                 FROM entries {filter} ORDER BY published_at DESC, id DESC LIMIT ? OFFSET ?"
            ))?;
            let mut args: Vec<rusqlite::types::Value> = tags
                .iter()
                .chain(sources)
                .map(|t| rusqlite::types::Value::Text(t.clone()))
                .collect();
            args.push((limit as i64).into());
            args.push((offset as i64).into());
            let mut ids = Vec::new();
            let mut out: Vec<StoredEntry> = st
                .query_map(rusqlite::params_from_iter(args), |r| {
                    ids.push(r.get::<_, i64>(0)?);
                    Ok(StoredEntry {
                        uid: r.get(1)?,
                        title: r.get(2)?,
                        link: r.get(3)?,
                        summary_html: r.get(4)?,
                        content_html: r.get(5)?,
                        author: r.get(6)?,
                        language: r.get(7)?,
                        categories: Vec::new(),
                        published: to_time(r.get(8)?),
                        updated: to_time(r.get(9)?),
                        credits: Vec::new(),
                        meta: read_meta(r.get(10)?),
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            if ids.is_empty() {
                return Ok(out);
            }
            let index: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
            let id_marks = marks(ids.len());
            let mut st = c.prepare(&format!(
                "SELECT es.entry_id, s.name, s.title, s.url, s.site_link, es.item_id, es.link, s.feed_id
                 FROM entry_sources es JOIN sources s ON s.id = es.source_id
                 WHERE es.entry_id IN ({id_marks})
                 ORDER BY es.first_seen_at, s.name, es.item_id"
            ))?;
            let mut rows = st.query(rusqlite::params_from_iter(ids.iter()))?;
            while let Some(r) = rows.next()? {
                if let Some(&i) = index.get(&r.get::<_, i64>(0)?) {
                    out[i].credits.push(Credit {
                        source: r.get(1)?,
                        source_title: r.get(2)?,
                        source_url: r.get(3)?,
                        source_site: r.get(4)?,
                        item_id: r.get(5)?,
                        item_link: r.get(6)?,
                        source_feed_id: r.get(7)?,
                    });
                }
            }
            let mut st = c.prepare(&format!(
                "SELECT entry_id, tag FROM entry_tags WHERE entry_id IN ({id_marks}) ORDER BY entry_id, tag"
            ))?;
            let mut rows = st.query(rusqlite::params_from_iter(ids.iter()))?;
            while let Some(r) = rows.next()? {
                if let Some(&i) = index.get(&r.get::<_, i64>(0)?) {
                    out[i].categories.push(r.get(1)?);
                }
            }
            Ok(out)
        })
    }

    /// How many entries are stored.
    pub fn entry_count(&self) -> Result<u64, StoreError> {
        self.read("counting entries", |c| {
            c.query_row("SELECT count(*) FROM entries", [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
        })
    }
}
