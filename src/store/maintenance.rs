//! Maintenance: retention, online backup, compaction, size.
//!
//! Retention deletes entries older than the configured days, but never the
//! newest `keep_per_source_min` entries of any source, and records what it
//! pruned so an item still in its feed is not stored again as new. A backup
//! is `VACUUM INTO`: a consistent copy taken while the daemon runs.

use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::params;

use super::{Store, StoreError};

/// What a prune removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Entries deleted.
    pub entries: u64,
    /// Tombstones of long-gone items forgotten.
    pub tombstones: u64,
}

impl Store {
    /// Deletes entries published before `now - days`, keeping each source's
    /// newest `keep_per_source` entries, in one transaction.
    pub fn prune(&self, days: u32, keep_per_source: u32, now: DateTime<Utc>) -> Result<Pruned, StoreError> {
        let cutoff = (now - TimeDelta::days(i64::from(days))).timestamp();
        let forget = (now - TimeDelta::days(2 * i64::from(days) + 30)).timestamp();
        self.write(|w| {
            let err = w.err("pruning old entries");
            w.tx.execute_batch(
                "CREATE TEMP TABLE IF NOT EXISTS prune_ids (id INTEGER PRIMARY KEY); DELETE FROM prune_ids;",
            )
            .map_err(&err)?;
            w.tx.execute(
                "INSERT INTO prune_ids (id)
                 SELECT e.id FROM entries e
                 WHERE e.published_at < ?1
                   AND e.id NOT IN (
                     SELECT entry_id FROM (
                       SELECT es.entry_id,
                              row_number() OVER (PARTITION BY es.source_id ORDER BY e2.published_at DESC, e2.id DESC) AS rn
                       FROM entry_sources es JOIN entries e2 ON e2.id = es.entry_id)
                     WHERE rn <= ?2)",
                params![cutoff, keep_per_source],
            )
            .map_err(&err)?;
            w.tx.execute(
                "INSERT OR REPLACE INTO pruned_items (source_id, item_id, pruned_at)
                 SELECT source_id, item_id, ?1 FROM entry_sources WHERE entry_id IN (SELECT id FROM prune_ids)",
                [now.timestamp()],
            )
            .map_err(&err)?;
            let entries = w
                .tx
                .execute("DELETE FROM entries WHERE id IN (SELECT id FROM prune_ids)", [])
                .map_err(&err)? as u64;
            let tombstones = w
                .tx
                .execute("DELETE FROM pruned_items WHERE pruned_at < ?1", [forget])
                .map_err(&err)? as u64;
            if entries > 0 {
                w.mark_changed();
            }
            Ok(Pruned { entries, tombstones })
        })
    }

    /// Writes a consistent copy of the database to `target` (which must not exist).
    pub fn backup(&self, target: &Path) -> Result<(), StoreError> {
        if target.exists() {
            return Err(StoreError::Open {
                path: target.to_path_buf(),
                detail: "the backup file already exists; choose a new name".into(),
            });
        }
        let target_text = target.to_string_lossy().into_owned();
        self.read("backing up", |c| c.execute("VACUUM INTO ?1", [target_text]).map(|_| ()))
    }

    /// Rebuilds the database file to reclaim free pages.
    pub fn vacuum(&self) -> Result<(), StoreError> {
        let conn = self.lock_writer();
        conn.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(self.err("vacuuming"))
    }

    /// Caps the database file at `pages` pages (`PRAGMA max_page_count`) on
    /// the writer, or lifts the cap with `None`; returns the pages in use.
    /// Writes beyond the cap fail as on a full disk, which is how the
    /// disk-full behaviour is rehearsed.
    pub fn limit_pages(&self, pages: Option<u64>) -> Result<u64, StoreError> {
        let conn = self.lock_writer();
        let err = self.err("setting the page limit");
        let used: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0)).map_err(&err)?;
        let limit = pages.map(|p| p as i64).unwrap_or(i64::from(u32::MAX));
        conn.query_row(&format!("PRAGMA max_page_count = {limit}"), [], |_| Ok(()))
            .map_err(&err)?;
        Ok(used as u64)
    }

    /// Bytes used by the database file and its write-ahead log.
    pub fn size_bytes(&self) -> u64 {
        let wal = self.path.with_extension(
            self.path
                .extension()
                .map(|e| format!("{}-wal", e.to_string_lossy()))
                .unwrap_or_else(|| "wal".into()),
        );
        [self.path.as_path(), wal.as_path()]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }
}
