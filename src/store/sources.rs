//! Source rows: validators, poll outcomes and status.
//!
//! A source's validators are written by [`Writer::record_poll`] inside the
//! same transaction as that poll's entries, so a crash can never leave new
//! validators (which would make the next poll a 304) without the entries
//! they stand for.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, Writer, to_time};
use crate::model::{FeedInfo, Validators};

/// The outcome of one poll, as stored on the source row and in `fetch_log`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PollRecord {
    /// When the poll started.
    pub at: DateTime<Utc>,
    /// `ok`, `not-modified`, or an error kind.
    pub outcome: String,
    /// The HTTP status, when there was one.
    pub status: Option<u16>,
    /// The error in human words, for failed polls.
    pub error: Option<String>,
    /// New validators (successful polls with a body only).
    pub validators: Option<Validators>,
    /// Feed-level facts from the document, if parsed.
    pub feed: Option<FeedInfo>,
    /// Items in the document.
    pub items: usize,
    /// Entries created.
    pub new: usize,
    /// Entries updated in place (rule 1).
    pub updated: usize,
    /// Items merged into an existing story from another source (rule 2).
    pub merged: usize,
    /// Body size in bytes.
    pub bytes: usize,
    /// Wall time of the poll.
    pub duration_ms: u64,
}

/// A source's status, for scheduling and for `tributary sources`.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceState {
    /// The configured name.
    pub name: String,
    /// The configured URL or path.
    pub url: String,
    /// The feed's own title.
    pub title: Option<String>,
    /// When it was last polled.
    pub last_poll: Option<DateTime<Utc>>,
    /// When a poll last succeeded.
    pub last_success: Option<DateTime<Utc>>,
    /// HTTP status of the last poll.
    pub last_status: Option<u16>,
    /// The last error, cleared by a success.
    pub last_error: Option<String>,
    /// Failed polls in a row.
    pub consecutive_failures: u32,
    /// Items (source, item id) stored for this source.
    pub items: u64,
}

impl Writer<'_> {
    /// Stores a poll's outcome on the source row and in the fetch log.
    pub fn record_poll(&self, source_id: i64, p: &PollRecord) -> Result<(), StoreError> {
        let at = p.at.timestamp();
        let err = self.err("recording a poll");
        match &p.error {
            None => self.tx.execute(
                "UPDATE sources SET last_poll_at = ?2, last_success_at = ?2, last_status = ?3, last_error = NULL,
                        consecutive_failures = 0, items_last_poll = ?4 WHERE id = ?1",
                params![source_id, at, p.status, p.items as i64],
            ),
            Some(error) => self.tx.execute(
                "UPDATE sources SET last_poll_at = ?2, last_status = ?3, last_error = ?4,
                        consecutive_failures = consecutive_failures + 1 WHERE id = ?1",
                params![source_id, at, p.status, error],
            ),
        }
        .map_err(&err)?;
        if let Some(v) = &p.validators {
            self.tx
                .execute(
                    "UPDATE sources SET etag = ?2, last_modified = ?3 WHERE id = ?1",
                    params![source_id, v.etag, v.last_modified],
                )
                .map_err(&err)?;
        }
        if let Some(f) = &p.feed {
            self.tx
                .execute(
                    "UPDATE sources SET title = coalesce(?2, title), site_link = coalesce(?3, site_link) WHERE id = ?1",
                    params![source_id, f.title, f.site_link],
                )
                .map_err(&err)?;
        }
        self.tx
            .execute(
                "INSERT INTO fetch_log (source_id, at, outcome, status, items_new, items_updated, items_merged,
                                        bytes, duration_ms, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    source_id,
                    at,
                    p.outcome,
                    p.status,
                    p.new as i64,
                    p.updated as i64,
                    p.merged as i64,
                    p.bytes as i64,
                    p.duration_ms as i64,
                    p.error
                ],
            )
            .map_err(&err)?;
        Ok(())
    }
}

const STATE_SQL: &str = "SELECT s.name, s.url, s.title, s.last_poll_at, s.last_success_at, s.last_status,
        s.last_error, s.consecutive_failures,
        (SELECT count(*) FROM entry_sources es WHERE es.source_id = s.id)
    FROM sources s";

fn state(r: &rusqlite::Row<'_>) -> rusqlite::Result<SourceState> {
    Ok(SourceState {
        name: r.get(0)?,
        url: r.get(1)?,
        title: r.get(2)?,
        last_poll: r.get::<_, Option<i64>>(3)?.map(to_time),
        last_success: r.get::<_, Option<i64>>(4)?.map(to_time),
        last_status: r.get::<_, Option<i64>>(5)?.map(|s| s as u16),
        last_error: r.get(6)?,
        consecutive_failures: r.get::<_, i64>(7)? as u32,
        items: r.get::<_, i64>(8)? as u64,
    })
}

impl Store {
    /// Every source the database knows, by name.
    pub fn sources(&self) -> Result<Vec<SourceState>, StoreError> {
        self.read("reading sources", |c| {
            let mut st = c.prepare_cached(&format!("{STATE_SQL} ORDER BY s.name"))?;
            st.query_map([], state)?.collect()
        })
    }

    /// One source's status, if it was ever polled.
    pub fn source(&self, name: &str) -> Result<Option<SourceState>, StoreError> {
        self.read("reading a source", |c| {
            c.query_row(&format!("{STATE_SQL} WHERE s.name = ?1"), [name], state)
                .optional()
        })
    }
}
