//! Source rows: validators, poll outcomes and status.
//!
//! A source's validators are written by [`Writer::record_poll`] inside the
//! same transaction as that poll's entries, so a crash can never leave new
//! validators (which would make the next poll a 304) without the entries
//! they stand for.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, Writer, to_time};
use crate::model::{FeedInfo, PollOutcome, PollState, Validators};

/// The outcome of one poll, as stored on the source row and in `fetch_log`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PollRecord {
    /// When the poll started.
    pub at: DateTime<Utc>,
    /// `ok`, `not-modified`, or an error kind.
    pub outcome: PollOutcome,
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
    /// The server's `Retry-After`, if it gave one.
    pub retry_after: Option<DateTime<Utc>>,
    /// The shortest interval the server asked for, in seconds.
    pub min_interval_secs: Option<u64>,
    /// When the source is due next.
    pub next_due: Option<DateTime<Utc>>,
    /// New `(current_url, pending_redirect)` after this poll's redirects, when they change.
    pub redirect: Option<(Option<String>, Option<String>)>,
}

/// What the pipeline needs to know about a source before fetching it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FetchState {
    /// Validators of the last successful poll.
    pub validators: Validators,
    /// A confirmed permanent redirect target, fetched instead of the configured URL.
    pub current_url: Option<String>,
    /// A 301/308 target seen on the previous poll only.
    pub pending_redirect: Option<String>,
    /// Scheduling facts.
    pub poll: PollState,
    /// The fingerprint of the request settings last polled with
    /// (`SourceConfig::settings_print`), if known.
    pub settings: Option<String>,
}

/// A source's status, for scheduling and for `tributary sources`.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceState {
    /// The configured name.
    pub name: String,
    /// The configured URL or path.
    pub url: String,
    /// The feed's own title.
    pub(crate) title: Option<String>,
    /// When it was last polled.
    pub(crate) last_poll: Option<DateTime<Utc>>,
    /// When a poll last succeeded.
    pub(crate) last_success: Option<DateTime<Utc>>,
    /// HTTP status of the last poll.
    pub last_status: Option<u16>,
    /// The last error, cleared by a success.
    pub last_error: Option<String>,
    /// Failed polls in a row.
    pub consecutive_failures: u32,
    /// Items (source, item id) stored for this source.
    pub items: u64,
    /// The URL actually fetched, when a permanent redirect replaced the configured one.
    pub current_url: Option<String>,
    /// When the server asked not to be polled before.
    pub retry_after: Option<DateTime<Utc>>,
    /// When the source is due next, as computed after its last poll.
    pub next_due: Option<DateTime<Utc>>,
    /// Polls answered "not modified".
    pub not_modified: u64,
    /// The feed's home page, as it last said.
    pub(crate) site_link: Option<String>,
}

impl Writer<'_> {
    /// What a poll of the source needs to know before fetching.
    pub(crate) fn fetch_state(&self, source_id: i64) -> Result<FetchState, StoreError> {
        self.row(&format!("{FETCH_STATE_SQL} WHERE id = ?1"), [source_id], |r| {
            fetch_state_row(r).map(|(_, _, st)| st)
        })
        .map_err(self.err("reading a source's fetch state"))
    }

    bench_pub! {
        /// Stores a poll's outcome on the source row and in the fetch log.
        fn record_poll(&self, source_id: i64, p: &PollRecord) -> Result<(), StoreError> {
            let at = p.at.timestamp();
            let err = self.err("recording a poll");
            let retry = p.retry_after.map(|t| t.timestamp());
            let due = p.next_due.map(|t| t.timestamp());
            let min = p.min_interval_secs.map(|s| s as i64);
            match &p.error {
                None => self.exec(
                    "UPDATE sources SET last_poll_at = ?2, last_success_at = ?2, last_status = ?3, last_error = NULL,
                            consecutive_failures = 0, items_last_poll = CASE WHEN ?5 = 'ok' THEN ?4 ELSE items_last_poll END,
                            not_modified_count = not_modified_count + (?5 = 'not-modified'),
                            retry_after_at = NULL, min_interval_secs = ?6, next_due_at = ?7
                     WHERE id = ?1",
                    params![source_id, at, p.status, p.items as i64, p.outcome.as_str(), min, due],
                ),
                Some(error) => self.exec(
                    "UPDATE sources SET last_poll_at = ?2, last_status = ?3, last_error = ?4,
                            consecutive_failures = consecutive_failures + 1, retry_after_at = ?5, next_due_at = ?6
                     WHERE id = ?1",
                    params![source_id, at, p.status, error, retry, due],
                ),
            }
            .map_err(&err)?;
            if let Some((current, pending)) = &p.redirect {
                self.exec(
                    "UPDATE sources SET current_url = ?2, pending_redirect = ?3 WHERE id = ?1",
                    params![source_id, current, pending],
                )
                .map_err(&err)?;
            }
            if let Some(v) = &p.validators {
                self.exec(
                    "UPDATE sources SET etag = ?2, last_modified = ?3 WHERE id = ?1",
                    params![source_id, v.etag, v.last_modified],
                )
                .map_err(&err)?;
            }
            if let Some(f) = &p.feed {
                self.exec(
                    "UPDATE sources SET title = coalesce(?2, title), site_link = coalesce(?3, site_link),
                            feed_id = coalesce(?4, feed_id) WHERE id = ?1",
                    params![source_id, f.title, f.site_link, f.id],
                )
                .map_err(&err)?;
            }
            self.exec(
                "INSERT INTO fetch_log (source_id, at, outcome, status, items_new, items_updated, items_merged,
                                            bytes, duration_ms, error)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    source_id,
                    at,
                    p.outcome.as_str(),
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
}

const FETCH_STATE_SQL: &str = "SELECT etag, last_modified, current_url, pending_redirect, last_poll_at,
        consecutive_failures, retry_after_at, min_interval_secs, id, url, settings FROM sources";

fn fetch_state_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, FetchState)> {
    Ok((
        r.get(8)?,
        r.get(9)?,
        FetchState {
            validators: Validators {
                etag: r.get(0)?,
                last_modified: r.get(1)?,
            },
            current_url: r.get(2)?,
            pending_redirect: r.get(3)?,
            poll: PollState {
                last_poll: r.get::<_, Option<i64>>(4)?.map(to_time),
                failures: r.get::<_, i64>(5)? as u32,
                retry_after: r.get::<_, Option<i64>>(6)?.map(to_time),
                min_interval: r
                    .get::<_, Option<i64>>(7)?
                    .map(|s| std::time::Duration::from_secs(s.max(0) as u64)),
            },
            settings: r.get(10)?,
        },
    ))
}

const STATE_SQL: &str = "SELECT s.name, s.url, s.title, s.last_poll_at, s.last_success_at, s.last_status,
        s.last_error, s.consecutive_failures,
        (SELECT count(*) FROM entry_sources es WHERE es.source_id = s.id),
        s.current_url, s.retry_after_at, s.next_due_at, s.not_modified_count, s.site_link
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
        current_url: r.get(9)?,
        retry_after: r.get::<_, Option<i64>>(10)?.map(to_time),
        next_due: r.get::<_, Option<i64>>(11)?.map(to_time),
        not_modified: r.get::<_, i64>(12)? as u64,
        site_link: r.get(13)?,
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

    /// A registered source's row id, configured URL and fetch state, read
    /// without taking the writer (so polls do not queue behind each other's
    /// transactions just to start).
    pub(crate) fn fetch_state_of(&self, name: &str) -> Result<Option<(i64, String, FetchState)>, StoreError> {
        self.read("reading a source's fetch state", |c| {
            c.query_row(&format!("{FETCH_STATE_SQL} WHERE name = ?1"), [name], fetch_state_row)
                .optional()
        })
    }

    /// The row id and fetch state of the source `name` about to be polled
    /// from `url` with request settings of fingerprint `settings`,
    /// registering it (or its new URL) when needed. When the stored
    /// fingerprint is another, the config of the source changed and it
    /// starts afresh: its validators, redirects, Retry-After, server hints
    /// and failure count are reset in the same transaction that records the
    /// new fingerprint, so it is due at once and fetched unconditionally;
    /// its article pages that failed are forgotten, to be tried again.
    /// Returns whether that happened. A source with no fingerprint yet
    /// (new, or stored before fingerprints existed) just records it.
    pub(crate) fn source_for_poll(
        &self,
        name: &str,
        url: &str,
        settings: &str,
    ) -> Result<(i64, FetchState, bool), StoreError> {
        // The common case reads; only a new source or a change writes.
        if let Some((id, known_url, state)) = self.fetch_state_of(name)?
            && known_url == url
            && state.settings.as_deref() == Some(settings)
        {
            return Ok((id, state, false));
        }
        self.write(|w| {
            let (id, afresh) = register(w, name, url, settings)?;
            Ok((id, w.fetch_state(id)?, afresh))
        })
    }

    /// Registers, in one transaction, the sources (name, URL, request
    /// settings fingerprint) the store has never seen, as
    /// [`Store::source_for_poll`] would one by one; returns how many. A
    /// cold start of 10,000 sources otherwise made 10,000 transactions, each
    /// waiting its turn behind the writer's batches with its poll held up.
    /// Sources already known are left to `source_for_poll`, which alone
    /// tells a changed one to start afresh.
    pub(crate) fn register_new_sources(&self, sources: &[(String, String, String)]) -> Result<usize, StoreError> {
        let known: std::collections::HashSet<String> = self.read("reading the sources' names", |c| {
            let mut st = c.prepare("SELECT name FROM sources")?;
            st.query_map([], |r| r.get(0))?.collect()
        })?;
        let new: Vec<_> = sources.iter().filter(|(name, _, _)| !known.contains(name)).collect();
        if new.is_empty() {
            return Ok(0);
        }
        self.write(|w| {
            for (name, url, settings) in &new {
                register(w, name, url, settings)?;
            }
            Ok(new.len())
        })
    }

    /// The scheduling facts of a source, if it was ever registered.
    pub(crate) fn poll_state(&self, name: &str) -> Result<Option<PollState>, StoreError> {
        self.read("reading a source's poll state", |c| {
            c.query_row(
                "SELECT last_poll_at, consecutive_failures, retry_after_at, min_interval_secs FROM sources WHERE name = ?1",
                [name],
                |r| {
                    Ok(PollState {
                        last_poll: r.get::<_, Option<i64>>(0)?.map(to_time),
                        failures: r.get::<_, i64>(1)? as u32,
                        retry_after: r.get::<_, Option<i64>>(2)?.map(to_time),
                        min_interval: r
                            .get::<_, Option<i64>>(3)?
                            .map(|s| std::time::Duration::from_secs(s.max(0) as u64)),
                    })
                },
            )
            .optional()
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

/// Registers a source (or its new URL) and records the fingerprint of its
/// request settings; a source whose fingerprint changed starts afresh (see
/// [`Store::source_for_poll`]). Returns its id and whether it did.
fn register(w: &Writer<'_>, name: &str, url: &str, settings: &str) -> Result<(i64, bool), StoreError> {
    let id = w.source_id(name, url)?;
    let before = w.fetch_state(id)?;
    let afresh = before.settings.as_deref().is_some_and(|s| s != settings);
    let sql = if afresh {
        "UPDATE sources SET settings = ?2, etag = NULL, last_modified = NULL, current_url = NULL,
                pending_redirect = NULL, retry_after_at = NULL, min_interval_secs = NULL,
                consecutive_failures = 0, next_due_at = NULL
         WHERE id = ?1"
    } else {
        "UPDATE sources SET settings = ?2 WHERE id = ?1"
    };
    w.exec(sql, params![id, settings])
        .map_err(w.err("recording a source's settings"))?;
    if afresh {
        // Article pages that failed under the old settings (a 401 before
        // credentials were added, say) get another chance.
        w.exec("DELETE FROM full_text WHERE source_id = ?1 AND state <> 'done'", [id])
            .map_err(w.err("forgetting a source's failed article pages"))?;
    }
    Ok((id, afresh))
}
