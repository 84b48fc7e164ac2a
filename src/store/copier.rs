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
//! writer only reads the log's size from shared memory
//! (`wal_checkpoint(NOOP)`, no I/O) and, once [`LIMIT`] pages wait to be
//! copied, nudges the copier. The copier first copies what is there without
//! holding anyone up (PASSIVE: SQLite lets it copy while the writer
//! appends), then the little the writer appended meanwhile in a RESTART
//! checkpoint, which holds the next commit back until it is done and makes
//! that commit write the log from its beginning again. PASSIVE copies alone
//! never catch up with a writer that keeps committing, and the log then
//! grows without end (10 GB in a cold 10,000-feed poll, with every page
//! lookup the slower for it).
//!
//! Bounded whatever happens: should the log still reach [`FALLBACK`] pages
//! (the copier failed, or cannot get its turn), the writer copies it itself
//! in a RESTART checkpoint. Stopping ([`Copier::stop`], done by
//! [`super::Store::checkpoint`]) joins the thread and closes its
//! connection, so that the writer is again the last connection and the final
//! TRUNCATE checkpoint leaves the database file alone holding every commit.

use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags};

/// Pages of write-ahead log waiting to be copied at which the copier is
/// nudged (64 MB of 4 KB pages): also SQLite's automatic limit on
/// connections without a copier. A cold poll rewrites the same index pages
/// into the file less often than with SQLite's default 4 MB (a cold
/// 10,000-feed poll took 117 s at 16 MB and 94 s at 64 MB with the copy on
/// the writer; docs/performance.md, "After the identity engine v2").
pub(super) const LIMIT: i64 = 16_000;

/// Pages of log at which the writer copies it itself.
pub(super) const FALLBACK: i64 = 4 * LIMIT;

/// What the writer should do after a commit, given the log's size and how
/// much of it was already copied (from `wal_checkpoint(NOOP)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum After {
    /// Little waits: nothing.
    Nothing,
    /// Enough waits: nudge the copier.
    Nudge,
    /// The log is long however much of it was copied: copy and restart it
    /// on the writer.
    CopyHere,
}

/// Decides [`After`] from the log's pages and the pages already copied.
pub(super) fn after(log: i64, copied: i64) -> After {
    if log >= FALLBACK {
        After::CopyHere
    } else if log - copied.max(0) >= LIMIT {
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

/// Copies what it can of the log without waiting for anyone (PASSIVE),
/// or (RESTART) all of it, waiting on the connection's busy timeout for
/// the writer's transaction to end and holding the next one back until the
/// log can start again from its beginning. Returns whether SQLite answered
/// "busy" (another copy was running, or the wait timed out): nothing is
/// lost then, the log is only longer until the next copy.
pub(super) fn copy(conn: &Connection, mode: &str) -> rusqlite::Result<bool> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| r.get::<_, i64>(0))
        .map(|busy| busy != 0)
}

/// How long a RESTART copy waits for the writer's transaction to end.
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

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
        .and_then(|c| c.busy_timeout(BUSY_WAIT).map(|()| c))
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
            match n.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) | Err(TrySendError::Disconnected(())) => {}
            }
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
        if let Err(e) = copy(conn, "PASSIVE").and_then(|_| copy(conn, "RESTART")) {
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
    fn a_copy_the_writer_holds_up_answers_busy_and_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let c = logged(&path, 5);
        let other = Connection::open(&path).unwrap();
        // No waiting: RESTART gives up at once.
        other.busy_timeout(std::time::Duration::ZERO).unwrap();
        c.execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES (2)").unwrap();
        assert!(
            copy(&other, "RESTART").unwrap(),
            "busy while a write transaction is open"
        );
        c.execute_batch("COMMIT").unwrap();
        assert!(!copy(&other, "RESTART").unwrap());
        let n: i64 = other.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 6);
    }

    #[test]
    fn the_writer_nudges_at_the_limit_and_copies_itself_only_far_past_it() {
        assert_eq!(after(0, 0), After::Nothing);
        assert_eq!(after(LIMIT - 1, 0), After::Nothing);
        assert_eq!(after(LIMIT, 0), After::Nudge);
        // What was copied no longer waits.
        assert_eq!(after(LIMIT + 10, 11), After::Nothing);
        assert_eq!(after(FALLBACK - 1, 0), After::Nudge);
        assert_eq!(after(FALLBACK, 0), After::CopyHere);
        // A log copied but never started again is still too long.
        assert_eq!(after(FALLBACK, FALLBACK), After::CopyHere);
        // Not in WAL mode, SQLite answers -1 for both.
        assert_eq!(after(-1, -1), After::Nothing);
    }
}
