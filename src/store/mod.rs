//! Persistence: the SQLite database and its schema.
//!
//! Owns the connection setup (WAL, `synchronous=FULL`, foreign keys,
//! `busy_timeout`), the migrations in `migrations/` applied in a transaction
//! at open (refusing a schema newer than this binary knows, and files that
//! are not Tributary databases), one writer connection whose transactions
//! each hold a batch of source polls (`Store::write_each`: the polls
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

mod copier;
mod entries;
mod explain;
mod files;
mod inspect;
pub(crate) mod keys;
mod maintenance;
mod pages;
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
pub use maintenance::{Forgotten, Pruned};
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

/// Changed pages a batch of polls ([`Store::write_each`]) holds in memory
/// before it spills them into the log (4 KB pages: 128 MB).
///
/// With SQLite's default a transaction spills once its 2 MB page cache is
/// full, and a spilled page changed again is read back and written again:
/// a cold 10,000-feed poll wrote 39 GB into the log for a 4.6 GB store
/// (13.6 GB without spills) and read 17 GB back: the poll took 88 s with
/// spills and 74-79 s without (docs/performance.md, "After the identity
/// engine v2", which has its later figures). Other
/// transactions keep the default: a large maintenance delete (expired
/// prints at start) held in memory left the daemon's resident memory at
/// 286 MB instead of 148.
const SPILL_PAGES: i64 = 32_768;

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
    /// The thread copying the write-ahead log into the file, once
    /// [`Store::copy_log_in_background`] started it.
    copier: Mutex<Option<copier::Copier>>,
    /// SQLite's spill threshold, which transactions other than a batch of
    /// polls keep (see [`SPILL_PAGES`]).
    default_spill: i64,
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
        // Copy the log into the database every 64 MB of it rather than
        // SQLite's 4 MB (see `copier::LIMIT`).
        conn.pragma_update(None, "wal_autocheckpoint", copier::LIMIT)
            .map_err(sql)?;
        let default_spill: i64 = conn.query_row("PRAGMA cache_spill", [], |r| r.get(0)).map_err(sql)?;
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
            copier: Mutex::new(None),
            default_spill,
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
        self.after_commit(&conn);
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

    /// From now on copies the write-ahead log into the database file on a
    /// thread of its own instead of in the commits of the writer (see the
    /// `copier` module); [`Store::checkpoint`] stops it. Idempotent.
    pub(crate) fn copy_log_in_background(&self) -> Result<(), StoreError> {
        // The writer's lock first, as in `write`.
        let conn = self.lock_writer();
        let mut slot = self.copier.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_some() {
            return Ok(());
        }
        let started = copier::Copier::start(&self.path).map_err(|detail| StoreError::Open {
            path: self.path.clone(),
            detail,
        })?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(self.err("handing the log's copies to the log copier"))?;
        *slot = Some(started);
        Ok(())
    }

    /// After a commit on the writer: nudges the log copier, if one runs,
    /// or copies here what waits (see `copier::after`).
    fn after_commit(&self, conn: &Connection) {
        let slot = self.copier.lock().unwrap_or_else(|p| p.into_inner());
        let Some(running) = slot.as_ref() else {
            return;
        };
        // Neither outcome can lose a commit: a failure only leaves the log
        // longer until the next copy.
        match copier::log_size(conn).map(|(log, copied)| copier::after(log, copied)) {
            Ok(copier::After::Nothing) => {}
            Ok(copier::After::Nudge) => running.nudge(),
            Ok(copier::After::CopyHere) => {
                if let Err(e) = copier::copy(conn) {
                    tracing::warn!(
                        "cannot copy the write-ahead log of {} into it: {e}",
                        self.path.display()
                    );
                }
            }
            Err(e) => tracing::warn!(
                "cannot read the size of the write-ahead log of {}: {e}",
                self.path.display()
            ),
        }
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
    ///
    /// The batch keeps its changed pages in memory up to [`SPILL_PAGES`].
    pub(crate) fn write_each<J, T>(
        &self,
        jobs: &[J],
        f: impl Fn(&Writer<'_>, &J) -> Result<T, StoreError>,
    ) -> Vec<Result<T, StoreError>> {
        self.set_spill(SPILL_PAGES);
        let results = self.write_each_spilling(jobs, f);
        self.set_spill(self.default_spill);
        results
    }

    /// The spill threshold of the writer's transactions (see
    /// [`SPILL_PAGES`]). It is set before spilling is switched on again:
    /// SQLite also reads the number as the on/off switch, modulo 256
    /// (32,768 alone would switch spilling off altogether). Failing only
    /// changes when pages spill.
    fn set_spill(&self, pages: i64) {
        let conn = self.lock_writer();
        if let Err(e) = conn
            .pragma_update(None, "cache_spill", pages)
            .and_then(|()| conn.pragma_update(None, "cache_spill", "ON"))
        {
            tracing::warn!("cannot set when {} spills pages: {e}", self.path.display());
        }
    }

    fn write_each_spilling<J, T>(
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
        let stopped = self.copier.lock().unwrap_or_else(|p| p.into_inner()).take();
        let conn = self.lock_writer();
        if let Some(mut running) = stopped {
            running.stop();
            // Commits after this one copy the log themselves again.
            conn.pragma_update(None, "wal_autocheckpoint", copier::LIMIT)
                .map_err(self.err("taking back the log's copies from the log copier"))?;
        }
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
mod tests;
