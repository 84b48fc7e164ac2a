//! The `full_text` table: what is remembered of items' article pages
//! ([`PageMemory`]). The store keeps and returns the rows; what the states
//! mean and when a page is fetched again is decided by its callers.

use rusqlite::{OptionalExtension, params};

use super::entries::Writer;
use super::{Store, StoreError};
use crate::model::{PageMemory, PageState};

impl Writer<'_> {
    /// What is remembered of the article page of a source's item.
    pub(crate) fn page(&self, source_id: i64, item_id: &str) -> Result<Option<PageMemory>, StoreError> {
        self.row(
            "SELECT url, state, attempts, next_retry_at, last_error, content, at FROM full_text
                 WHERE source_id = ?1 AND item_id = ?2",
            params![source_id, item_id],
            |r| {
                let state: String = r.get(1)?;
                Ok(PageMemory {
                    url: r.get(0)?,
                    state: PageState::parse(&state).unwrap_or(PageState::FailedTransient),
                    attempts: r.get(2)?,
                    next_retry: r.get::<_, Option<i64>>(3)?.map(super::to_time),
                    last_error: r.get(4)?,
                    content: r.get(5)?,
                    at: super::to_time(r.get(6)?),
                })
            },
        )
        .optional()
        .map_err(self.err("reading an article page's state"))
    }

    /// Remembers how the article page of a source's item ended.
    pub(crate) fn record_page(&self, source_id: i64, item_id: &str, page: &PageMemory) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT OR REPLACE INTO full_text
                     (source_id, item_id, url, state, attempts, next_retry_at, last_error, content, at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    source_id,
                    item_id,
                    page.url,
                    page.state.as_str(),
                    page.attempts,
                    page.next_retry.map(|t| t.timestamp()),
                    page.last_error,
                    page.content,
                    page.at.timestamp(),
                ])
            })
            .map(|_| ())
            .map_err(self.err("recording an article page's state"))
    }
}

impl Store {
    /// Whether an article page of the source failed transiently and may be
    /// tried again at `now`.
    pub(crate) fn pages_due(&self, source_id: i64, now: chrono::DateTime<chrono::Utc>) -> Result<bool, StoreError> {
        self.read("reading a source's article pages", |c| {
            c.query_row(
                "SELECT EXISTS (SELECT 1 FROM full_text WHERE source_id = ?1 AND state = 'failed-transient'
                     AND (next_retry_at IS NULL OR next_retry_at <= ?2))",
                params![source_id, now.timestamp()],
                |r| r.get(0),
            )
        })
    }
}
