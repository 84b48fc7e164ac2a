//! The log copier: a thread with a connection of its own that copies the
//! write-ahead log into the database file (a checkpoint) while the writer
//! goes on committing.
//!
//! Left to SQLite, the commit that takes the log past its limit copies the
//! whole log on the writer's thread: the writer stops committing for the
//! copy and its fsync, and spends its own CPU re-reading the log and writing
//! the pages again. During a cold poll of 10,000 feeds that was about half
//! of the writer's kernel time. With the copier started
//! ([`super::Store::copy_log_in_background`], done by the pipeline's
//! writer), the writer's automatic checkpoint is off; after each commit the
//! writer reads the log's size from shared memory (`wal_checkpoint(NOOP)`,
//! no I/O) and decides ([`after`]):
//!
//! - once [`NUDGE`] pages wait to be copied (or the log is long), it nudges
//!   the copier, which copies them PASSIVE: SQLite lets it copy while the
//!   writer appends;
//! - once the log is [`LIMIT`] pages long and at most [`TAIL`] of them wait,
//!   the writer copies that tail itself, between two of its transactions:
//!   the log is then copied whole, and the next commit writes it from its
//!   beginning again. A copier alone never catches up with a writer that
//!   keeps committing, and the log then grows without end (10 GB in a cold
//!   10,000-feed poll, each page lookup the slower for it); a copier that
//!   also asked for the whole log (RESTART) had to wait for a gap between
//!   the writer's transactions and often gave up, the log reaching 1.4 GB;
//! - should the log reach [`FALLBACK`] pages all the same (the copier
//!   failed, or readers held it back), the writer copies all of it itself,
//!   as SQLite would.
//!
//! Stopping ([`Copier::stop`], done by [`super::Store::checkpoint`]) joins
//! the thread and closes its connection, so that the writer is again the
//! last connection and the final TRUNCATE checkpoint leaves the database
//! file alone holding every commit.

use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags};

/// Pages of write-ahead log at which it is copied into the file and
/// started again (64 MB of 4 KB pages): also SQLite's automatic limit on
/// connections without a copier. A cold poll rewrites the same index pages
/// into the file less often than with SQLite's default 4 MB (a cold
/// 10,000-feed poll took 117 s at 16 MB and 94 s at 64 MB with the copies on
/// the writer; docs/performance.md, "After the identity engine v2").
pub(super) const LIMIT: i64 = 16_000;

/// Pages waiting to be copied at which the copier is nudged.
pub(super) const NUDGE: i64 = LIMIT / 4;

/// Pages still waiting that the writer copies itself once the log is
/// [`LIMIT`] long.
pub(super) const TAIL: i64 = LIMIT / 8;

/// Pages of log at which the writer copies all of it itself.
pub(super) const FALLBACK: i64 = 4 * LIMIT;

/// What the writer should do after a commit, given the log's size and how
/// much of it was already copied (from `wal_checkpoint(NOOP)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum After {
    /// Little waits: nothing.
    Nothing,
    /// Enough waits: nudge the copier.
    Nudge,
    /// Copy what waits here, on the writer: the tail of a long log, or a
    /// log far too long.
    CopyHere,
}

/// Decides [`After`] from the log's pages and the pages already copied.
pub(super) fn after(log: i64, copied: i64) -> After {
    let waiting = log - copied.max(0);
    if log >= FALLBACK || (log >= LIMIT && waiting <= TAIL) {
        After::CopyHere
    } else if waiting >= NUDGE || log >= LIMIT {
        After::Nudge
    } else {
        After::Nothing
    }
}

/// The log's pages and the pages already copied into the database file,
/// read from shared memory without copying anything.
pub(super) fn log_size(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(NOOP)", [], |r| Ok((r.get(1)?, r.get(2)?)))
}

/// Copies what it can of the log without waiting for anyone (a PASSIVE
/// checkpoint: it stops short of pages a reader may still need). Returns
/// whether SQLite answered "busy" (another connection was copying):
/// nothing is lost then, the log is only longer until the next copy.
pub(super) fn copy(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0))
        .map(|busy| busy != 0)
}

/// A running copier thread.
#[derive(Debug)]
pub(super) struct Copier {
    nudge: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Copier {
    /// Opens a connection of its own to `path` (already in WAL mode) and
    /// starts the thread.
    pub(super) fn start(path: &Path) -> Result<Copier, String> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| format!("cannot open a connection for the log copier: {e}"))?;
        // A nudge arriving while a copy runs is kept (one is enough).
        let (nudge, nudged) = sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("tributary-log".into())
            .spawn(move || run(&conn, &nudged))
            .map_err(|e| format!("cannot start the log copier: {e}"))?;
        Ok(Copier {
            nudge: Some(nudge),
            thread: Some(thread),
        })
    }

    /// Asks for a copy; never blocks.
    pub(super) fn nudge(&self) {
        if let Some(n) = &self.nudge {
            // Full: a copy is already asked for; gone: the thread stopped.
            let _ = n.try_send(());
        }
    }

    /// Stops the thread once its current copy is done, closing its
    /// connection.
    pub(super) fn stop(&mut self) {
        self.nudge = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Copier {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(conn: &Connection, nudged: &Receiver<()>) {
    while nudged.recv().is_ok() {
        // The writer copies the log itself once it has grown past
        // FALLBACK: failing here loses nothing.
        if let Err(e) = copy(conn) {
            tracing::warn!("cannot copy the write-ahead log into the database: {e}");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A database in WAL mode whose connection never copies its log itself,
    /// with `rows` commits in the log.
    fn logged(path: &Path, rows: usize) -> Connection {
        let c = Connection::open(path).unwrap();
        c.pragma_update(None, "journal_mode", "WAL").unwrap();
        c.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        c.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
        for _ in 0..rows {
            c.execute("INSERT INTO t VALUES (zeroblob(5000))", []).unwrap();
        }
        c
    }

    #[test]
    fn a_nudged_copier_copies_the_whole_log_before_it_stops() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let c = logged(&path, 50);
        let (log, copied) = log_size(&c).unwrap();
        assert!(log > 50 && copied == 0, "{log} {copied}");
        let mut copier = Copier::start(&path).unwrap();
        copier.nudge();
        copier.nudge();
        copier.stop();
        assert_eq!(log_size(&c).unwrap(), (log, log), "every page copied");
        // The next commit writes the log from its beginning again.
        c.execute("INSERT INTO t VALUES (1)", []).unwrap();
        let (after_restart, _) = log_size(&c).unwrap();
        assert!(after_restart < 10, "{after_restart}");
    }

    #[test]
    fn a_reader_in_the_middle_of_a_read_keeps_newer_pages_in_the_log_and_nothing_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let c = logged(&path, 5);
        let other = Connection::open(&path).unwrap();
        // A reader in the middle of a read keeps the pages it may need in
        // the log: what is newer than its snapshot is not copied.
        let reader = Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN; SELECT count(*) FROM t;").unwrap();
        c.execute("INSERT INTO t VALUES (2)", []).unwrap();
        assert!(!copy(&other).unwrap());
        let (log, copied) = log_size(&c).unwrap();
        assert!(copied < log, "{copied} of {log}");
        reader.execute_batch("COMMIT").unwrap();
        assert!(!copy(&other).unwrap());
        assert_eq!(log_size(&c).unwrap(), (log, log));
        let n: i64 = other.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 6);
    }

    #[test]
    fn the_writer_nudges_early_copies_the_tail_itself_and_the_whole_log_only_far_past_the_limit() {
        assert_eq!(after(0, 0), After::Nothing);
        assert_eq!(after(NUDGE - 1, 0), After::Nothing);
        assert_eq!(after(NUDGE, 0), After::Nudge);
        // What was copied no longer waits.
        assert_eq!(after(NUDGE + 10, 11), After::Nothing);
        // A long log with much waiting: the copier's job.
        assert_eq!(after(LIMIT, 0), After::Nudge);
        assert_eq!(after(LIMIT, LIMIT - TAIL - 1), After::Nudge);
        // A long log mostly copied: the writer copies the tail.
        assert_eq!(after(LIMIT, LIMIT - TAIL), After::CopyHere);
        assert_eq!(after(LIMIT + 5, LIMIT + 5), After::CopyHere);
        assert_eq!(after(LIMIT - 1, LIMIT - 1), After::Nothing);
        // Far too long, however much was copied.
        assert_eq!(after(FALLBACK - 1, 0), After::Nudge);
        assert_eq!(after(FALLBACK, 0), After::CopyHere);
        assert_eq!(after(FALLBACK, FALLBACK), After::CopyHere);
        // Not in WAL mode, SQLite answers -1 for both.
        assert_eq!(after(-1, -1), After::Nothing);
    }
}
