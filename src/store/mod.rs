//! Persistence: the SQLite database and its schema.
//!
//! Owns the connection setup (WAL, `synchronous=FULL`, foreign keys,
//! `busy_timeout`), the migrations in `migrations/` applied in a transaction
//! at open (refusing a schema newer than this binary knows, and files that
//! are not Tributary databases), one writer connection whose transactions
//! each hold a batch of source polls ([`Store::write_each`]: the polls
//! waiting for the writer are committed together, and a failing one is rerun
//! alone), and a small pool of read-only connections for the merged feeds
//! and status queries. Every transaction that changes entries also bumps
//! the `entries_version` row, so that a process can tell (by
//! [`Store::sync_data_version`]) that another one changed them.
//!
//! The store is synchronous and knows nothing of HTTP, feeds or tasks: callers
//! run it off the async threads (`spawn_blocking`) and hand it model types.
//!
//! # Which files are opened
//!
//! Tributary's stores carry the SQLite `application_id` `APPLICATION_ID`,
//! `0x54524942` (ASCII "TRIB"), and their schema version in `user_version`
//! (the migrations' bookkeeping). [`Store::open`] writes nothing to a file
//! before a read-only look at it (its header, then its schema through a
//! read-only connection, without changing the journal mode) has decided:
//!
//! - no file at the path: Tributary creates it (0600, folders 0700) and
//!   stamps the application id before anything else;
//! - an empty file (0 bytes) it did not create: refused, since nothing says
//!   it was meant as the store (delete it, or point `database` elsewhere);
//! - application id "TRIB": opened and migrated, unless its `user_version`
//!   is newer than this binary's schema ([`StoreError::NewerSchema`]);
//! - application id 0 (every store made before the id existed), a
//!   `user_version` from 1 up to this binary's, and exactly the tables,
//!   views and triggers the migrations up to that version create: adopted,
//!   stamped with the application id, then migrated;
//! - anything else (not SQLite, another application id, application id 0
//!   with other tables, no tables at all, or a newer version): refused with
//!   its application id and version named ([`StoreError::NotOurs`]), its
//!   bytes unchanged and no `-wal` or `-shm` created beside it.
//!
//! # Stopping
//!
//! `Store::checkpoint` (when the daemon stops or a one-shot command is done)
//! and dropping the store copy the write-ahead log into the database file and
//! empty it, so the file alone holds every commit.

mod entries;
mod explain;
mod files;
mod inspect;
pub(crate) mod keys;
mod maintenance;
mod sources;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use include_dir::{Dir, include_dir};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use rusqlite_migration::{Migrations, SchemaVersion};

pub(crate) use entries::EntryMerge;
pub use entries::Writer;
pub use maintenance::Pruned;
pub(crate) use sources::FetchState;
#[cfg(feature = "bench-internals")]
pub use sources::PollRecord;
#[cfg(not(feature = "bench-internals"))]
pub(crate) use sources::PollRecord;
pub use sources::SourceState;

static MIGRATIONS_DIR: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/migrations");

/// The SQLite `application_id` of Tributary's stores: ASCII "TRIB".
pub(crate) const APPLICATION_ID: u32 = u32::from_be_bytes(*b"TRIB");

/// How many idle read-only connections are kept.
const READ_POOL: usize = 4;

/// Errors of the storage layer; each names the database file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file or its folder cannot be created or opened.
    #[error("cannot open database {}: {detail}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why, and what to do.
        detail: String,
    },
    /// The file exists but is not a Tributary database (or is corrupt).
    #[error(
        "{} is not a usable Tributary database ({detail}); it was left untouched. Move it aside, or restore a copy made with `tributary db backup`",
        path.display()
    )]
    NotOurs {
        /// The database file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// An empty file is where the database should be.
    #[error(
        "{} is an empty file, not a Tributary database; it was left untouched. Delete it so that Tributary creates the database there, or point `database` elsewhere",
        path.display()
    )]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The schema was written by a newer Tributary.
    #[error(
        "database {} has schema version {found}, but this Tributary knows only up to {known}: run a newer Tributary, or restore a backup",
        path.display()
    )]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// The version found.
        found: usize,
        /// The newest version this binary knows.
        known: usize,
    },
    /// Applying a migration failed; the previous schema is intact.
    #[error("cannot migrate database {}: {detail}", path.display())]
    Migration {
        /// The database file.
        path: PathBuf,
        /// The migration error.
        detail: String,
    },
    /// A backup could not be written; nothing is left at the target.
    #[error("cannot back up the database to {}: {detail}", path.display())]
    Backup {
        /// The backup file asked for.
        path: PathBuf,
        /// Why, and what to do.
        detail: String,
    },
    /// An SQLite error during normal operation.
    #[error("database {} failed while {doing}: {source}{}", path.display(), hint(source))]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// What the store was doing.
        doing: &'static str,
        /// The SQLite error.
        source: rusqlite::Error,
    },
}

fn hint(e: &rusqlite::Error) -> &'static str {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => " (the disk is full: free space; nothing was half-written)",
        Some(rusqlite::ErrorCode::ReadOnly) => " (the database or its folder is read-only)",
        Some(rusqlite::ErrorCode::DatabaseBusy) => " (another process holds the database)",
        _ => "",
    }
}

/// Pages of write-ahead log after which a commit copies it into the database.
const WAL_CHECKPOINT_PAGES: i64 = 4000;

/// The database handle, shared by the pipeline and the HTTP server.
pub struct Store {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    version: AtomicU64,
    /// The in-memory index of the items' candidate keys, built by the
    /// first write that asks for it (see the `keys` module).
    index: Mutex<Option<keys::KeyIndex>>,
    /// The `entries_version` the key index was last in step with: a
    /// different version at the start of a write means another process
    /// (`tributary poll` beside the daemon) committed items the index does
    /// not hold, so it is rebuilt.
    index_version: AtomicU64,
}

impl Drop for Store {
    fn drop(&mut self) {
        // Best effort: a log left behind is replayed at the next open.
        let _ = self.checkpoint();
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn migrations() -> Migrations<'static> {
    // The directory is compiled in; a malformed one fails every test.
    Migrations::from_directory(&MIGRATIONS_DIR).unwrap_or_else(|e| panic!("migrations/ is malformed: {e}"))
}

/// Applies the migrations up to `version` to a bare connection (for
/// measuring upgrades of large stores).
#[cfg(test)]
pub(crate) fn migrations_to(conn: &mut Connection, version: usize) {
    migrations()
        .to_version(conn, version)
        .unwrap_or_else(|e| panic!("migrating to {version}: {e}"));
}

/// The schema version this binary writes.
pub fn schema_version() -> usize {
    MIGRATIONS_DIR.dirs().count()
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its
    /// schema up to date. An existing file is written to only once a
    /// read-only look has found it to be a Tributary store (see the module
    /// documentation for the rule).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_err = |detail: String| StoreError::Open {
            path: path.to_path_buf(),
            detail,
        };
        files::create_folders(path).map_err(|e| {
            open_err(format!(
                "cannot create its folder {}: {e}",
                files::folder_of(path).display()
            ))
        })?;
        // A new file is created here, 0600, rather than by SQLite, which
        // would follow the umask; should setting it up fail, it is removed.
        let (verdict, cleanup) = match files::create_private(path) {
            Ok(_) => {
                let made = ["", "-wal", "-shm", "-journal"].map(|s| files::sidecar(path, s));
                (None, Some(files::Cleanup::new(made.to_vec())))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => (Some(inspect::judge(path)?), None),
            Err(e) => return Err(open_err(format!("cannot create it: {e}"))),
        };
        // Declared after `cleanup`, so closed before the files are removed.
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| open_err(format!("{e}{}", hint(&e))))?;
        let sql = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            doing: "setting up the connection",
            source,
        };
        if verdict != Some(inspect::Verdict::Ours) {
            // A new store, or one made before the application id existed:
            // stamped before anything else is written.
            conn.pragma_update(None, "application_id", i64::from(APPLICATION_ID))
                .map_err(|e| open_err(format!("cannot set its application id: {e}{}", hint(&e))))?;
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| open_err(format!("cannot switch to WAL mode: {e}{}", hint(&e))))?;
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
            .map_err(sql)?;
        // Copy the log into the database every 16 MB of it rather than
        // SQLite's 4 MB: a cold poll rewrites the same index pages into the
        // file four times less often, and fewer commits wait for a copy
        // (docs/performance.md, "Where a cold poll's time went before group commit").
        conn.pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)
            .map_err(sql)?;
        // Every statement of a poll stays prepared.
        conn.set_prepared_statement_cache_capacity(64);
        let ms = migrations();
        match ms.current_version(&conn) {
            Ok(SchemaVersion::Outside(v)) => {
                return Err(StoreError::NewerSchema {
                    path: path.to_path_buf(),
                    found: v.get(),
                    known: schema_version(),
                });
            }
            Ok(_) => {}
            Err(e) => {
                return Err(StoreError::Migration {
                    path: path.to_path_buf(),
                    detail: e.to_string(),
                });
            }
        }
        ms.to_latest(&mut conn).map_err(|e| StoreError::Migration {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        let version: i64 = conn
            .query_row("SELECT version FROM entries_version", [], |r| r.get(0))
            .map_err(|source| StoreError::Sqlite {
                path: path.to_path_buf(),
                doing: "reading the entries' version",
                source,
            })?;
        if let Some(cleanup) = cleanup {
            cleanup.keep();
        }
        // No integrity scan here: on a multi-gigabyte store it would delay
        // every start and every command; `tributary db check` runs it.
        Ok(Store {
            path: path.to_path_buf(),
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            version: AtomicU64::new(u64::try_from(version).unwrap_or(0)),
            index: Mutex::new(None),
            index_version: AtomicU64::new(0),
        })
    }

    /// The database file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A counter that grows whenever a committed write changed entries:
    /// caches of rendered feeds compare it to know they are stale. It is
    /// the `entries_version` row of the database as last seen by this
    /// process: its own commits move it at once, another process's only
    /// once [`Store::sync_data_version`] has read the row.
    pub fn data_version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Reads the database's `entries_version` row, which every writer of
    /// entries bumps in its transaction whatever process it runs in, into
    /// [`Store::data_version`]. Returns whether it moved, that is whether
    /// another process (`tributary poll`, `tributary db prune`) committed a
    /// change of entries since this process last looked. One indexed read
    /// of one row: cheap enough for a timer, not meant for every request.
    pub fn sync_data_version(&self) -> Result<bool, StoreError> {
        let seen: i64 = self.read("reading the entries' version", |c| {
            c.prepare_cached("SELECT version FROM entries_version")?
                .query_row([], |r| r.get(0))
        })?;
        let seen = u64::try_from(seen).unwrap_or(0);
        Ok(self.version.fetch_max(seen, Ordering::AcqRel) < seen)
    }

    fn err(&self, doing: &'static str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sqlite {
            path: self.path.clone(),
            doing,
            source,
        }
    }

    fn lock_writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half transaction behind
        // (rusqlite rolls back on drop), so a poisoned lock is still usable.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` in one immediate write transaction, committed only if `f`
    /// succeeds: a crash or an error leaves the previous state whole.
    pub fn write<T>(&self, f: impl FnOnce(&Writer<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn = self.lock_writer();
        // Always taken after the connection, so never a deadlock.
        let mut index = self.index.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(self.err("starting a transaction"))?;
        let before: i64 = tx
            .prepare_cached("SELECT version FROM entries_version")
            .and_then(|mut st| st.query_row([], |r| r.get(0)))
            .map_err(self.err("reading the entries' version"))?;
        let before = u64::try_from(before).unwrap_or(0);
        if self.index_version.load(Ordering::Acquire) != before {
            *index = None;
        }
        let writer = Writer::new(&tx, self, &mut index);
        let value = f(&writer)?;
        // Bumped in the transaction, so that other processes (and this one)
        // see the change of entries exactly when it is committed.
        let version = if writer.changed() {
            let v: i64 = tx
                .prepare_cached("UPDATE entries_version SET version = version + 1 RETURNING version")
                .and_then(|mut st| st.query_row([], |r| r.get(0)))
                .map_err(self.err("bumping the entries' version"))?;
            Some(u64::try_from(v).unwrap_or(0))
        } else {
            None
        };
        let (added, stale) = writer.finish();
        tx.commit().map_err(self.err("committing a poll"))?;
        if stale {
            *index = None;
        } else if let Some(ix) = index.as_mut() {
            ix.add(&added);
        }
        if let Some(v) = version {
            self.version.fetch_max(v, Ordering::AcqRel);
        }
        self.index_version.store(version.unwrap_or(before), Ordering::Release);
        Ok(value)
    }

    /// Postings in the in-memory key index and the bytes they take, or
    /// `None` before it is built.
    #[cfg(test)]
    pub(crate) fn key_index_size(&self) -> Option<(usize, usize)> {
        let index = self.index.lock().unwrap_or_else(|p| p.into_inner());
        index.as_ref().map(|ix| (ix.len(), ix.bytes()))
    }

    /// Runs `f` on each job, all in one write transaction, and returns each
    /// job's result. Should any job fail, that transaction is rolled back and
    /// every job runs again in a transaction of its own, so one bad job fails
    /// alone and the others are stored; `f` must therefore be repeatable.
    pub(crate) fn write_each<J, T>(
        &self,
        jobs: &[J],
        f: impl Fn(&Writer<'_>, &J) -> Result<T, StoreError>,
    ) -> Vec<Result<T, StoreError>> {
        if jobs.len() > 1
            && let Ok(values) = self.write(|w| jobs.iter().map(|j| f(w, j)).collect::<Result<Vec<T>, _>>())
        {
            return values.into_iter().map(Ok).collect();
        }
        jobs.iter().map(|j| self.write(|w| f(w, j))).collect()
    }

    /// Runs a read-only query on a pooled connection.
    pub(crate) fn read<T>(
        &self,
        doing: &'static str,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(self.err("opening a read connection"))?;
                c.busy_timeout(std::time::Duration::from_secs(5))
                    .map_err(self.err("opening a read connection"))?;
                c
            }
        };
        let result = f(&conn).map_err(self.err(doing));
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < READ_POOL {
            pool.push(conn);
        }
        result
    }

    /// Copies the write-ahead log into the database file and empties it
    /// (`PRAGMA wal_checkpoint(TRUNCATE)` on the writer), so that the file
    /// alone holds every commit: called when the daemon stops and when a
    /// one-shot command is done; dropping the store does it too. Returns
    /// `false` when another connection (another process's reader) kept
    /// part of the log from being copied; the file is consistent either way.
    pub(crate) fn checkpoint(&self) -> Result<bool, StoreError> {
        // Idle readers are closed first, so that the writer is the last
        // connection when it closes, and SQLite then removes the log.
        self.readers.lock().unwrap_or_else(|p| p.into_inner()).clear();
        let conn = self.lock_writer();
        let busy: i64 = conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
            .map_err(self.err("copying the write-ahead log into the database"))?;
        Ok(busy == 0)
    }

    /// Checks that the database answers.
    pub(crate) fn ping(&self) -> Result<(), StoreError> {
        self.read("answering a health check", |c| c.query_row("SELECT 1", [], |_| Ok(())))
    }

    /// `PRAGMA integrity_check`: `Ok(vec!["ok"])` on a healthy database.
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        self.read("checking integrity", |c| {
            let mut st = c.prepare("PRAGMA integrity_check")?;
            st.query_map([], |r| r.get(0))?.collect()
        })
    }
}

pub(crate) fn to_time(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
        assert!(schema_version() >= 1);
    }

    #[test]
    fn write_each_fails_only_the_failing_job_and_keeps_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("t.db")).unwrap();
        let jobs = ["a", "bad", "c"];
        let results = s.write_each(&jobs, |w, name| {
            w.source_id(name, "https://example.org/feed")?;
            if *name == "bad" {
                // A failure after a write: that write must not survive.
                w.exec("INSERT INTO no_such_table VALUES (1)", [])
                    .map_err(w.err("testing"))?;
            }
            Ok(name.len())
        });
        assert_eq!(results.len(), 3);
        assert_eq!(results[0].as_ref().ok(), Some(&1));
        assert!(results[1].is_err(), "{:?}", results[1]);
        assert_eq!(results[2].as_ref().ok(), Some(&1));
        let names: Vec<String> = s.sources().unwrap().into_iter().map(|st| st.name).collect();
        assert_eq!(names, ["a", "c"]);
    }

    #[test]
    fn write_each_commits_a_batch_of_good_jobs_together() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("t.db")).unwrap();
        let results = s.write_each(&["a", "b"], |w, name| w.source_id(name, "https://example.org/feed"));
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(s.sources().unwrap().len(), 2);
    }

    #[test]
    fn open_creates_folder_and_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/dir/t.db");
        Store::open(&path).unwrap();
        let s = Store::open(&path).unwrap();
        s.ping().unwrap();
        assert_eq!(s.integrity_check().unwrap(), vec!["ok".to_string()]);
        let mode: String = s
            .lock_writer()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn foreign_file_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, b"these are my notes, not a database at all, please keep them").unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::NotOurs { .. }), "{err}");
        assert!(err.to_string().contains("db backup"));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"these are my notes, not a database at all, please keep them"
        );
        let other = dir.path().join("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t(x)")
            .unwrap();
        assert!(matches!(Store::open(&other).unwrap_err(), StoreError::NotOurs { .. }));
    }

    #[test]
    fn newer_schema_is_refused_with_versions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        drop(Store::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::NewerSchema { found: 99, .. }), "{err}");
    }

    #[test]
    fn a_failing_migration_leaves_the_previous_schema_intact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        drop(Store::open(&path).unwrap());
        // Pretend migration 04 (pruned items) never ran, and put an object in
        // the way of its second statement so that applying it fails halfway.
        let before = 3;
        let c = Connection::open(&path).unwrap();
        c.execute_batch("DROP TABLE pruned_items; CREATE TABLE pruned_items_at (x);")
            .unwrap();
        c.pragma_update(None, "user_version", before).unwrap();
        drop(c);
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::Migration { .. }), "{err}");
        assert!(err.to_string().contains(&path.display().to_string()));
        let c = Connection::open(&path).unwrap();
        let version: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, before, "the version did not move");
        let index: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'pruned_items'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(index, 0, "the table its first statement created was rolled back");
        let ok: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(ok, "ok");
    }

    #[test]
    fn migration_05_rewrites_lead_bands_as_dedup_computed_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut c = Connection::open(&path).unwrap();
        migrations().to_version(&mut c, 4).unwrap();
        // A store of version 4: one fingerprint (a lead SimHash with the top
        // bit set, negative as stored) and its 8 keys of 16 bits.
        let (simhash, lead): (u64, u64) = (0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210);
        c.execute_batch(
            "INSERT INTO sources (id, name, url) VALUES (1, 's', 'https://example.org/feed');
             INSERT INTO entries (id, uid, title, published_at, updated_at, first_seen_at, content_source_id)
                 VALUES (1, 'u', 't', 0, 0, 0, 1);",
        )
        .unwrap();
        c.execute(
            "INSERT INTO entry_fingerprints VALUES (1, ?1, ?2, 20, x'', x'', 0)",
            [simhash as i64, lead as i64],
        )
        .unwrap();
        for (k, hash) in [simhash, lead].into_iter().enumerate() {
            for i in 0..4 {
                let old = ((k as i64) << 20) | ((i as i64) << 16) | ((hash >> (16 * i)) & 0xffff) as i64;
                c.execute("INSERT INTO entry_bands VALUES (?1, 1)", [old]).unwrap();
            }
        }
        migrations().to_version(&mut c, 5).unwrap();
        let mut st = c
            .prepare("SELECT band FROM entry_bands WHERE entry_id = 1 ORDER BY band")
            .unwrap();
        let got: Vec<i64> = st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        // The keys version 5 of rule 3 computed: 4×16 bits of the text
        // SimHash, 2×32 bits of the lead SimHash tagged 1 << 36.
        let text = |i: i64| (i << 16) | ((simhash >> (16 * i)) & 0xffff) as i64;
        let lead_key = |i: i64| (1 << 36) | (i << 32) | ((lead >> (32 * i)) & 0xffff_ffff) as i64;
        let mut want = vec![text(0), text(1), text(2), text(3), lead_key(0), lead_key(1)];
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn migration_09_records_every_credit_as_an_item_and_leaves_one_print_per_entry_to_compute() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut c = Connection::open(&path).unwrap();
        migrations().to_version(&mut c, 8).unwrap();
        // Entry 1 shows source 2's text and is credited to sources 1 and 2;
        // entry 2 has one credit. Both hold the same canonical link column
        // as before, and entry 1 had a fingerprint and band keys.
        c.execute_batch(
            "INSERT INTO sources (id, name, url) VALUES (1, 'a', 'https://a.example/feed'), (2, 'b', 'https://b.example/feed');
             INSERT INTO entries (id, uid, canonical_link, title, content_html, published_at, updated_at, first_seen_at, content_source_id)
                 VALUES (1, 'u1', 'https://x.example/1', 't1', '<p>text</p>', 100, 100, 100, 2),
                        (2, 'u2', NULL, 't2', NULL, 200, 200, 200, 1);
             INSERT INTO entry_sources (source_id, item_id, entry_id, link, content_hash, first_seen_at, last_seen_at)
                 VALUES (1, 'a-1', 1, 'https://x.example/1', 'h', 100, 100),
                        (2, 'b-1', 1, 'https://x.example/1?utm_source=rss', 'h', 110, 110),
                        (1, 'a-2', 2, NULL, 'h', 200, 200);
             INSERT INTO entry_fingerprints VALUES (1, 1, 2, 20, x'', x'', 100);
             INSERT INTO entry_bands VALUES (7, 1);",
        )
        .unwrap();
        migrations().to_latest(&mut c).unwrap();
        let mut st = c
            .prepare(
                "SELECT source_id, item_id, entry_id, canonical_link, published_at, rule, keys FROM items ORDER BY id",
            )
            .unwrap();
        type Row = (i64, String, i64, Option<String>, i64, String, Option<Vec<u8>>);
        let rows: Vec<Row> = st
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let link = Some("https://x.example/1".to_string());
        assert_eq!(
            rows,
            [
                (1, "a-1".into(), 1, link.clone(), 100, "migrated".into(), Some(vec![])),
                (2, "b-1".into(), 1, link, 100, "migrated".into(), None),
                (1, "a-2".into(), 2, None, 200, "migrated".into(), None),
            ]
        );
        let gone: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name IN ('entry_bands', 'entry_fingerprints', 'entries_canonical_link')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(gone, 0);
    }

    /// The file's bytes; and no `-wal`, `-shm` or `-journal` beside it.
    fn bytes_alone(path: &Path) -> Vec<u8> {
        for suffix in ["-wal", "-shm", "-journal"] {
            let side = files::sidecar(path, suffix);
            assert!(!side.exists(), "{} exists", side.display());
        }
        std::fs::read(path).unwrap()
    }

    /// Opens `path`, expecting a refusal that leaves the file byte-identical
    /// and creates nothing beside it.
    fn refused_untouched(path: &Path) -> StoreError {
        let before = bytes_alone(path);
        let err = Store::open(path).unwrap_err();
        assert!(err.to_string().contains(&path.display().to_string()), "{err}");
        assert!(bytes_alone(path) == before, "{} changed: {err}", path.display());
        err
    }

    fn application_id(path: &Path) -> u32 {
        let c = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        c.query_row("PRAGMA application_id", [], |r| r.get::<_, i64>(0))
            .unwrap() as u32
    }

    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    /// A source and an entry, written through the store.
    fn write_entry(s: &Store, name: &str) {
        s.write(|w| {
            let id = w.source_id(name, "https://user:secret@example.org/feed")?;
            w.exec(
                "INSERT INTO entries (uid, title, published_at, updated_at, first_seen_at, content_source_id)
                 VALUES (?1, 't', 0, 0, 0, ?2)",
                rusqlite::params![name, id],
            )
            .map_err(w.err("testing"))?;
            w.mark_changed();
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn keys_another_process_committed_are_found_by_this_ones_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let (daemon, poll) = (Store::open(&path).unwrap(), Store::open(&path).unwrap());
        write_entry(&daemon, "one");
        // The daemon's index is built, and holds nothing yet.
        daemon
            .write(|w| w.key_hits(&[7]).map(|h| assert!(h.is_empty())))
            .unwrap();
        // Another process (`tributary poll` beside the daemon) stores an item.
        poll.write(|w| {
            let item = crate::model::ItemRecord {
                source_id: 1,
                item_id: "x".into(),
                entry_id: 1,
                canonical_link: None,
                published: to_time(0),
                join: crate::model::Join {
                    rule: "new".into(),
                    matched: None,
                    score: None,
                },
                keys: vec![7],
                print: None,
            };
            let id = w.insert_item(&item)?;
            w.credit(1, "x", 1, None, "h", to_time(0))?;
            Ok(id)
        })
        .unwrap();
        let hits = daemon.write(|w| w.key_hits(&[7])).unwrap();
        assert_eq!(hits.len(), 1, "the daemon's index was rebuilt: {hits:?}");
    }

    /// Entries in a copy of the database file made without its `-wal`.
    fn entries_in_a_copy_of_the_file_alone(path: &Path) -> i64 {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("copy.db");
        std::fs::copy(path, &copy).unwrap();
        let c = Connection::open(&copy).unwrap();
        c.query_row("SELECT count(*) FROM entries", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_change_of_entries_committed_by_another_process_moves_the_data_version_once_synced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        // Two stores on one file, as the daemon and `tributary poll` are.
        let daemon = Store::open(&path).unwrap();
        let other = Store::open(&path).unwrap();
        let before = daemon.data_version();
        assert!(!daemon.sync_data_version().unwrap(), "nothing changed yet");

        write_entry(&other, "one");
        assert!(other.data_version() > before, "the writer sees its own commit at once");
        assert_eq!(daemon.data_version(), before, "the other process has not looked yet");
        assert!(
            daemon.sync_data_version().unwrap(),
            "the other process's commit is seen"
        );
        assert_eq!(daemon.data_version(), other.data_version());
        assert!(!daemon.sync_data_version().unwrap(), "seen once");

        // A commit that changes no entry (a poll's state alone) moves nothing.
        other
            .write(|w| w.source_id("two", "https://example.org/two").map(drop))
            .unwrap();
        assert!(!daemon.sync_data_version().unwrap());

        // Nor does it go backwards when this process's own commit is newer.
        write_entry(&daemon, "three");
        let own = daemon.data_version();
        assert!(!daemon.sync_data_version().unwrap());
        assert_eq!(daemon.data_version(), own);

        // A prune in another process is a change too (the test entries
        // are dated 1970); one that removes nothing is not.
        let before_prune = daemon.data_version();
        assert_eq!(other.prune(1, 1, Utc::now()).unwrap().entries, 2);
        assert!(daemon.sync_data_version().unwrap(), "the prune is seen");
        assert!(daemon.data_version() > before_prune);
        assert_eq!(other.prune(1, 1, Utc::now()).unwrap().entries, 0);
        assert!(!daemon.sync_data_version().unwrap());
    }

    #[test]
    fn the_data_version_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let s = Store::open(&path).unwrap();
        write_entry(&s, "one");
        let v = s.data_version();
        drop(s);
        assert_eq!(Store::open(&path).unwrap().data_version(), v);
    }

    #[test]
    fn a_new_store_carries_tributarys_application_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        drop(Store::open(&path).unwrap());
        assert_eq!(application_id(&path), APPLICATION_ID);
        assert_eq!(APPLICATION_ID, 0x5452_4942);
    }

    #[test]
    fn a_newer_user_version_is_refused_with_both_versions_and_left_byte_identical() {
        let dir = tempfile::tempdir().unwrap();
        // Someone else's file (rollback journal), at a version above ours.
        let path = dir.path().join("other.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE sources (x); CREATE TABLE entries (y); PRAGMA user_version = 99;")
            .unwrap();
        let err = refused_untouched(&path);
        assert!(matches!(err, StoreError::NotOurs { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("user_version 99") && text.contains(&format!("0 to {}", schema_version())),
            "{text}"
        );
        assert!(text.contains("0x00000000") && text.contains("0x54524942"), "{text}");
        // A Tributary store from a newer release.
        let path = dir.path().join("t.db");
        drop(Store::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let err = refused_untouched(&path);
        assert!(matches!(err, StoreError::NewerSchema { found: 99, .. }), "{err}");
    }

    #[test]
    fn a_foreign_application_id_is_refused_with_both_ids_and_left_byte_identical() {
        let dir = tempfile::tempdir().unwrap();
        // Tributary's very tables, in WAL mode, under another application's id.
        let path = dir.path().join("t.db");
        drop(Store::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "application_id", i64::from(u32::from_be_bytes(*b"GPKG")))
            .unwrap();
        let err = refused_untouched(&path);
        assert!(matches!(err, StoreError::NotOurs { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("0x47504b47 (\"GPKG\")") && text.contains("0x54524942"),
            "{text}"
        );
    }

    #[test]
    fn other_tables_at_user_version_4_are_refused_and_not_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "CREATE TABLE sources (id INTEGER PRIMARY KEY, name TEXT);
                 CREATE TABLE entries (id INTEGER PRIMARY KEY);
                 CREATE TABLE entry_bands (band INTEGER, entry_id INTEGER);
                 INSERT INTO entry_bands VALUES (1048577, 1);
                 PRAGMA user_version = 4;",
            )
            .unwrap();
        let err = refused_untouched(&path);
        assert!(matches!(err, StoreError::NotOurs { .. }), "{err}");
        assert!(err.to_string().contains("schema version 4"), "{err}");
    }

    #[test]
    fn an_empty_file_is_refused_with_what_to_do_and_left_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        std::fs::write(&path, b"").unwrap();
        let err = refused_untouched(&path);
        assert!(matches!(err, StoreError::Empty { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("Delete it") && text.contains("point `database` elsewhere"),
            "{text}"
        );
    }

    #[test]
    fn garbage_bytes_are_refused_and_left_byte_identical() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let garbage: Vec<u8> = (0u32..8192)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        std::fs::write(&path, &garbage).unwrap();
        assert!(matches!(refused_untouched(&path), StoreError::NotOurs { .. }));
        // An SQLite header over garbage.
        let mut fake = b"SQLite format 3\0".to_vec();
        fake.extend_from_slice(&garbage);
        std::fs::write(&path, &fake).unwrap();
        assert!(matches!(refused_untouched(&path), StoreError::NotOurs { .. }));
    }

    #[test]
    fn an_sqlite_file_without_tables_is_refused_unless_tributary_created_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "page_size", 8192)
            .unwrap();
        Connection::open(&path).unwrap().execute_batch("VACUUM").unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() > 0);
        let err = refused_untouched(&path);
        assert!(matches!(err, StoreError::NotOurs { .. }), "{err}");
        assert!(err.to_string().contains("delete it"), "{err}");
    }

    #[test]
    fn a_store_of_an_earlier_release_is_adopted_stamped_and_keeps_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        // As an earlier release left it: no application id, version 4, and
        // the last commits still in the write-ahead log.
        let mut c = Connection::open(&path).unwrap();
        c.pragma_update(None, "journal_mode", "WAL").unwrap();
        migrations().to_version(&mut c, 4).unwrap();
        c.execute_batch(
            "INSERT INTO sources (id, name, url) VALUES (1, 's', 'https://example.org/feed');
             INSERT INTO entries (id, uid, title, published_at, updated_at, first_seen_at, content_source_id)
                 VALUES (1, 'u', 't', 0, 0, 0, 1);",
        )
        .unwrap();
        c.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
            .unwrap();
        drop(c);
        assert!(std::fs::metadata(files::sidecar(&path, "-wal")).unwrap().len() > 0);
        let s = Store::open(&path).unwrap();
        assert_eq!(s.entry_count().unwrap(), 1);
        drop(s);
        assert_eq!(application_id(&path), APPLICATION_ID);
        let c = Connection::open(&path).unwrap();
        let version: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version as usize, schema_version());
    }

    #[test]
    fn a_new_store_its_folders_log_and_shared_memory_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/t.db");
        let s = Store::open(&path).unwrap();
        write_entry(&s, "one");
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        assert_eq!(mode(&dir.path().join("a/b")), 0o700);
        assert_eq!(mode(&path), 0o600);
        // SQLite gives its log and shared memory the database file's mode.
        assert_eq!(mode(&files::sidecar(&path, "-wal")), 0o600);
        assert_eq!(mode(&files::sidecar(&path, "-shm")), 0o600);
    }

    #[test]
    fn an_existing_database_file_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        drop(Store::open(&path).unwrap());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        drop(Store::open(&path).unwrap());
        assert_eq!(mode(&path), 0o640);
    }

    #[test]
    fn a_checkpoint_while_the_store_is_shared_leaves_every_commit_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let s = std::sync::Arc::new(Store::open(&path).unwrap());
        let held_elsewhere = s.clone();
        for i in 0..20 {
            write_entry(&s, &format!("source-{i}"));
        }
        assert_eq!(s.entry_count().unwrap(), 20);
        assert!(s.checkpoint().unwrap());
        let wal = files::sidecar(&path, "-wal");
        assert!(
            std::fs::metadata(&wal).map_or(0, |m| m.len()) == 0,
            "the log is emptied"
        );
        assert_eq!(entries_in_a_copy_of_the_file_alone(&path), 20);
        drop(held_elsewhere);
    }

    #[test]
    fn dropping_the_store_leaves_every_commit_in_the_file_and_no_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let s = Store::open(&path).unwrap();
        write_entry(&s, "one");
        s.ping().unwrap();
        drop(s);
        assert!(!files::sidecar(&path, "-wal").exists());
        assert_eq!(entries_in_a_copy_of_the_file_alone(&path), 1);
    }

    #[test]
    fn unwritable_folder_names_the_path() {
        let err = Store::open(Path::new("/proc/tributary-test/t.db")).unwrap_err();
        assert!(err.to_string().contains("/proc/tributary-test"), "{err}");
    }
}
