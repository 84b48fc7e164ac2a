//! Entries: the write side of a poll, and the merged-feed queries.
//!
//! [`Writer`] is a thin, typed face over the write transaction (which may
//! hold several polls, see [`super::Store::write_each`]): lookups
//! for the dedup candidates, inserts and updates of entries, credits
//! (`entry_sources`) and tags. The decisions themselves are made by the
//! caller (`dedup`), so this file holds SQL only.

use std::cell::Cell;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};

use super::{Store, StoreError, to_time};
use crate::model::{Credit, Entry, Fingerprint, ItemMeta, NearCandidate, StoredEntry};

/// The write side of one transaction (see [`Store::write`]).
pub struct Writer<'t> {
    pub(super) tx: &'t Transaction<'t>,
    store: &'t Store,
    changed: Cell<bool>,
}

impl<'t> Writer<'t> {
    pub(super) fn new(tx: &'t Transaction<'t>, store: &'t Store) -> Self {
        Writer {
            tx,
            store,
            changed: Cell::new(false),
        }
    }

    /// Whether this transaction changed any entry.
    pub(super) fn changed(&self) -> bool {
        self.changed.get()
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

    /// Rule 1 candidate: the entry this source's item id maps to, and the
    /// content hash it had.
    pub(crate) fn find_item(&self, source_id: i64, item_id: &str) -> Result<Option<(i64, String)>, StoreError> {
        self.row(
            "SELECT entry_id, content_hash FROM entry_sources WHERE source_id = ?1 AND item_id = ?2",
            params![source_id, item_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(self.err("looking up an item"))
    }

    /// Rule 2 candidate: the entry holding this canonical link.
    pub(crate) fn find_link(&self, canonical: &str) -> Result<Option<i64>, StoreError> {
        self.row("SELECT id FROM entries WHERE canonical_link = ?1", [canonical], |r| {
            r.get(0)
        })
        .optional()
        .map_err(self.err("looking up a link"))
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

fn blob(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|h| h.to_le_bytes()).collect()
}

fn unblob(b: &[u8]) -> Vec<u32> {
    b.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

impl Writer<'_> {
    /// Rule 3 candidates: entries sharing a band key, published between
    /// `from` and `to`. Only their fingerprints are read: most share a key
    /// by chance, and reading each one's entry row cost three quarters of
    /// this lookup in a 4 GB store (see [`Writer::title`]).
    pub(crate) fn near(
        &self,
        bands: &[i64],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<NearCandidate>, StoreError> {
        let err = self.err("looking up similar entries");
        let marks = vec!["?"; bands.len()].join(",");
        let mut st = self
            .tx
            .prepare_cached(&format!(
                "SELECT f.entry_id, f.simhash, f.lead_simhash, f.shingles, f.sketch, f.lead
                 FROM entry_fingerprints f
                 WHERE f.entry_id IN (SELECT entry_id FROM entry_bands WHERE band IN ({marks}))
                   AND f.published_at BETWEEN ? AND ?"
            ))
            .map_err(&err)?;
        let mut args: Vec<i64> = bands.to_vec();
        args.push(from.timestamp());
        args.push(to.timestamp());
        st.query_map(rusqlite::params_from_iter(args), |r| {
            Ok(NearCandidate {
                entry_id: r.get(0)?,
                fingerprint: Fingerprint {
                    simhash: r.get::<_, i64>(1)? as u64,
                    lead_simhash: r.get::<_, i64>(2)? as u64,
                    shingles: r.get::<_, i64>(3)? as u32,
                    sketch: unblob(&r.get::<_, Vec<u8>>(4)?),
                    lead: unblob(&r.get::<_, Vec<u8>>(5)?),
                },
            })
        })
        .map_err(&err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(&err)
    }

    /// The title of an entry: what rule 3 compares once a candidate's
    /// opening holds the incoming summary.
    pub(crate) fn title(&self, entry_id: i64) -> Result<String, StoreError> {
        self.tx
            .prepare_cached("SELECT title FROM entries WHERE id = ?1")
            .and_then(|mut st| st.query_row([entry_id], |r| r.get(0)))
            .map_err(self.err("reading an entry's title"))
    }

    /// Stores (or replaces) the fingerprint of an entry and its band keys.
    pub(crate) fn put_fingerprint(
        &self,
        entry_id: i64,
        fp: &Fingerprint,
        bands: &[i64],
        published: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let err = self.err("storing a fingerprint");
        self
            .exec(
                "INSERT OR REPLACE INTO entry_fingerprints (entry_id, simhash, lead_simhash, shingles, sketch, lead, published_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    entry_id,
                    fp.simhash as i64,
                    fp.lead_simhash as i64,
                    fp.shingles as i64,
                    blob(&fp.sketch),
                    blob(&fp.lead),
                    published.timestamp()
                ],
            )
            .map_err(&err)?;
        self.exec("DELETE FROM entry_bands WHERE entry_id = ?1", [entry_id])
            .map_err(&err)?;
        let mut st = self
            .tx
            .prepare_cached("INSERT OR IGNORE INTO entry_bands (band, entry_id) VALUES (?1, ?2)")
            .map_err(&err)?;
        for b in bands {
            st.execute(params![b, entry_id]).map_err(&err)?;
        }
        Ok(())
    }
}

impl Store {
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
