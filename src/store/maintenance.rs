//! Maintenance: retention, online backup, compaction, size.
//!
//! Retention deletes entries older than the configured days, but never the
//! newest `keep_per_source_min` entries of any source, and records what it
//! pruned so an item still in its feed is not stored again as new. A backup
//! is `VACUUM INTO`: a consistent copy taken while the daemon runs.

use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, files};

/// What forgetting a source removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Forgotten {
    /// Entries deleted: only this source carried them.
    pub entries: u64,
    /// Entries kept, credited to their other sources only.
    pub shared: u64,
}

/// What a prune removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Entries deleted.
    pub entries: u64,
    /// Tombstones of long-gone items forgotten.
    pub(crate) tombstones: u64,
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
            // What was remembered of the pruned items' article pages goes with them.
            w.tx.execute(
                "DELETE FROM full_text WHERE NOT EXISTS (SELECT 1 FROM entry_sources es
                     WHERE es.source_id = full_text.source_id AND es.item_id = full_text.item_id)",
                [],
            )
            .map_err(&err)?;
            let tombstones = w
                .tx
                .execute("DELETE FROM pruned_items WHERE pruned_at < ?1", [forget])
                .map_err(&err)? as u64;
            if entries > 0 {
                w.mark_changed();
                // The pruned items' keys leave the index with them.
                w.mark_stale();
            }
            Ok(Pruned { entries, tombstones })
        })
    }

    /// Removes the source `name` from the store, in one transaction: the
    /// entries only it carried (with their tags, items and prints), its
    /// credits and items in entries other sources carry too (which keep
    /// their text and are shown as from one of those), its pruned items,
    /// poll log and row. `None` when no source of that name is stored. A
    /// source still configured is registered again, as new, by its next poll.
    pub fn forget_source(&self, name: &str) -> Result<Option<Forgotten>, StoreError> {
        self.write(|w| {
            let err = w.err("forgetting a source");
            let Some(id) =
                w.tx.query_row("SELECT id FROM sources WHERE name = ?1", [name], |r| r.get::<_, i64>(0))
                    .optional()
                    .map_err(&err)?
            else {
                return Ok(None);
            };
            // Entries only this source credits go, with what cascades from them.
            let entries =
                w.tx.execute(
                    "DELETE FROM entries WHERE id IN (
                       SELECT es.entry_id FROM entry_sources es WHERE es.source_id = ?1
                         AND NOT EXISTS (SELECT 1 FROM entry_sources o
                                         WHERE o.entry_id = es.entry_id AND o.source_id <> ?1))",
                    [id],
                )
                .map_err(&err)? as u64;
            // The others are shown as from their earliest other source.
            w.tx.execute(
                "UPDATE entries SET content_source_id = (
                   SELECT o.source_id FROM entry_sources o
                   WHERE o.entry_id = entries.id AND o.source_id <> ?1
                   ORDER BY o.first_seen_at, o.source_id LIMIT 1)
                 WHERE content_source_id = ?1",
                [id],
            )
            .map_err(&err)?;
            let shared: i64 =
                w.tx.query_row(
                    "SELECT count(DISTINCT entry_id) FROM entry_sources WHERE source_id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .map_err(&err)?;
            let shared = shared as u64;
            for sql in [
                "DELETE FROM entry_sources WHERE source_id = ?1",
                "DELETE FROM items WHERE source_id = ?1",
                "DELETE FROM pruned_items WHERE source_id = ?1",
                "DELETE FROM full_text WHERE source_id = ?1",
                "DELETE FROM fetch_log WHERE source_id = ?1",
                "DELETE FROM sources WHERE id = ?1",
            ] {
                w.tx.execute(sql, [id]).map_err(&err)?;
            }
            if entries + shared > 0 {
                w.mark_changed();
                // The source's items' keys leave the index with them.
                w.mark_stale();
            }
            Ok(Some(Forgotten { entries, shared }))
        })
    }

    /// Writes a consistent copy of the database to `target`, a new file
    /// made 0600. Anything already at `target` is refused, a symlink
    /// included (dangling or not). The copy is written into a new temporary
    /// file beside `target` (`VACUUM INTO` accepts an empty file), flushed
    /// to disk and only then linked to `target`, so `target` never exists
    /// half-written, and a file appearing there meanwhile is not replaced;
    /// on failure the temporary file is removed.
    pub(crate) fn backup(&self, target: &Path) -> Result<(), StoreError> {
        let fail = |detail: String| StoreError::Backup {
            path: target.to_path_buf(),
            detail,
        };
        let exists = || fail("the file already exists; choose a new name".into());
        match std::fs::symlink_metadata(target) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(target)
                    .map(|t| format!(" to {}", t.display()))
                    .unwrap_or_default();
                return Err(fail(format!(
                    "it is a symbolic link{to}; give the path of a new file instead"
                )));
            }
            Ok(_) => return Err(exists()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(fail(e.to_string())),
        }
        let folder = files::folder_of(target);
        let (temp, file) = files::create_temp_beside(target)
            .map_err(|e| fail(format!("cannot create a file in {}: {e}", folder.display())))?;
        let cleanup = files::Cleanup::new(vec![temp.clone(), files::sidecar(&temp, "-journal")]);
        let Some(temp_text) = temp.to_str() else {
            return Err(fail("the path is not valid UTF-8; choose another".into()));
        };
        self.read("backing up", |c| c.execute("VACUUM INTO ?1", [temp_text]).map(|_| ()))?;
        file.sync_all()
            .map_err(|e| fail(format!("cannot flush {} to disk: {e}", temp.display())))?;
        drop(file);
        // A hard link never replaces an existing file; where the file
        // system has none (FAT, some network shares), a rename after one
        // more look.
        match std::fs::hard_link(&temp, target) {
            Ok(()) => drop(cleanup),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(exists()),
            Err(_) => {
                if std::fs::symlink_metadata(target).is_ok() {
                    return Err(exists());
                }
                std::fs::rename(&temp, target).map_err(|e| fail(e.to_string()))?;
                cleanup.keep();
            }
        }
        files::sync_folder(folder).map_err(|e| fail(format!("cannot flush {} to disk: {e}", folder.display())))
    }

    /// Rebuilds the database file to reclaim free pages.
    pub(crate) fn vacuum(&self) -> Result<(), StoreError> {
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
    pub(crate) fn size_bytes(&self) -> u64 {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    use super::*;

    fn store(dir: &Path) -> Store {
        let s = Store::open(&dir.join("t.db")).unwrap();
        s.write(|w| w.source_id("s", "https://user:secret@example.org/feed").map(|_| ()))
            .unwrap();
        s
    }

    /// The names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn backup_refuses_a_dangling_symlink_and_does_not_create_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("elsewhere.db");
        let link = out.path().join("backup.db");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = s.backup(&link).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&link.display().to_string()) && text.contains("symbolic link"),
            "{text}"
        );
        assert!(!target.exists(), "the link's target was created");
        assert_eq!(names(out.path()), ["backup.db"], "nothing else was left behind");
    }

    #[test]
    fn backup_refuses_a_symlink_to_an_existing_file_and_leaves_it_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("precious.txt");
        std::fs::write(&target, b"keep me").unwrap();
        let link = out.path().join("backup.db");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = s.backup(&link).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read(&target).unwrap(), b"keep me");
        assert_eq!(names(out.path()), ["backup.db", "precious.txt"]);
    }

    #[test]
    fn backup_refuses_an_existing_file_and_leaves_it_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let target = dir.path().join("backup.db");
        std::fs::write(&target, b"an older backup").unwrap();
        let err = s.backup(&target).unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");
        assert_eq!(std::fs::read(&target).unwrap(), b"an older backup");
    }

    #[test]
    fn backup_is_private_whatever_the_database_mode_and_holds_the_data() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        std::fs::set_permissions(dir.path().join("t.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("backup.db");
        s.backup(&target).unwrap();
        let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(names(out.path()), ["backup.db"], "no temporary file is left");
        let copy = Store::open(&target).unwrap();
        assert_eq!(copy.sources().unwrap().len(), 1);
    }

    #[test]
    fn a_failed_backup_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path: PathBuf = dir.path().join("t.db");
        {
            let s = store(dir.path());
            s.write(|w| {
                for i in 0..300 {
                    w.source_id(&format!("source-{i}"), &format!("https://s{i}.example/feed"))?;
                }
                Ok(())
            })
            .unwrap();
        }
        // Scribble over the cell pointers of the sources table's root page.
        let c = rusqlite::Connection::open(&path).unwrap();
        let page: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
        let root: i64 = c
            .query_row("SELECT rootpage FROM sqlite_master WHERE name = 'sources'", [], |r| {
                r.get(0)
            })
            .unwrap();
        drop(c);
        let (page, root) = (page as usize, root as usize);
        let mut bytes = std::fs::read(&path).unwrap();
        let at = (root - 1) * page + 8;
        for b in &mut bytes[at..at + 64] {
            *b ^= 0x5a;
        }
        std::fs::write(&path, &bytes).unwrap();
        let s = Store::open(&path).unwrap();
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("backup.db");
        let err = s.backup(&target).unwrap_err();
        assert!(err.to_string().contains(&path.display().to_string()), "{err}");
        assert!(names(out.path()).is_empty(), "left behind: {:?}", names(out.path()));
    }
}
