//! The article pages of `full_text = true` sources: after a poll commits,
//! each of its items that wants its page (new, edited to another link, or
//! a transient failure due again) is fetched and read by a background task
//! (`fulltext`), and the result goes through the single writer: remembered,
//! and, when the article was read, applied as an edit of the item — the
//! same path as an item its feed edited, so its print and keys are
//! recomputed and the deduplication compares the article. A page that
//! cannot be read leaves the item with the feed's text and one log line.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use super::*;
use crate::fulltext::extract::{self, Page};
use crate::fulltext::polite::{self, Politeness};
use crate::fulltext::{FullTextError, memory};
use crate::model::PageMemory;

/// An item whose article page is to be fetched.
#[derive(Debug, Clone)]
pub(crate) struct PageJob {
    pub(super) source: SourceConfig,
    pub(super) source_id: i64,
    /// The item as its feed gave it (normalized).
    pub(super) entry: Entry,
    /// Its link: the page.
    pub(super) link: String,
    /// What was remembered of its page before.
    pub(super) memory: Option<PageMemory>,
    pub(super) rules: dedup::Rules,
}

/// A page attempt, for the writer.
#[derive(Debug)]
pub(crate) struct PageDone {
    pub(super) source: SourceConfig,
    pub(super) source_id: i64,
    entry: Entry,
    memory: PageMemory,
    rules: dedup::Rules,
    now: DateTime<Utc>,
}

impl PageDone {
    /// Remembers the attempt and, when the article was read and the item
    /// is still the version it was read for, stores it as the item's edit.
    pub(super) fn apply(&self, w: &Writer<'_>) -> Result<IngestCounts, StoreError> {
        let mut counts = IngestCounts::default();
        w.record_page(self.source_id, &self.entry.item_id, &self.memory)?;
        let Some(article) = self
            .memory
            .content
            .as_deref()
            .filter(|_| self.memory.state == PageState::Done)
        else {
            return Ok(counts);
        };
        // An item its feed edited meanwhile gets the article at its next poll.
        let current = w.find_item(self.source_id, &self.entry.item_id)?;
        if current.is_none_or(|(_, _, hash)| hash != self.entry.content_hash) {
            return Ok(counts);
        }
        let full = normalize::with_full_text(&self.entry, article);
        let print = encoded_print_of(&full);
        store_entry(
            w,
            &self.source,
            self.source_id,
            &full,
            PrintOf::Ready(print.as_ref()),
            self.rules,
            self.now,
            &mut counts,
        )?;
        Ok(counts)
    }
}

/// How the article pages fetched so far ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageCounts {
    /// Articles read and stored.
    pub read: usize,
    /// Pages that gave no article (each logged).
    pub failed: usize,
}

/// The background page fetches: one task per page, at most
/// [`polite::PER_HOST`] per host, paced by the sources' `full_text_rate`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pages {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    tasks: TaskTracker,
    politeness: Politeness,
    /// (source, item) pages queued or being fetched: a poll while one is
    /// in flight does not queue it twice.
    in_flight: Mutex<HashSet<(i64, String)>>,
    read: AtomicUsize,
    failed: AtomicUsize,
    /// Told when an article changed an entry (the daemon's output files
    /// and WebSub announcements follow changes of entries).
    changes: Mutex<Option<tokio::sync::mpsc::UnboundedSender<()>>>,
}

impl Pages {
    /// Starts a task for each job not already in flight.
    pub(super) fn queue(&self, cx: &Context, jobs: Vec<PageJob>) {
        for job in jobs {
            let key = (job.source_id, job.entry.item_id.clone());
            if !self
                .inner
                .in_flight
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key.clone())
            {
                continue;
            }
            let (cx, pages) = (cx.clone(), self.clone());
            let span = tracing::info_span!(parent: None, "full_text", source = %job.source.name);
            self.inner.tasks.spawn(
                async move {
                    pages.run(&cx, job).await;
                    pages
                        .inner
                        .in_flight
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&key);
                }
                .instrument(span),
            );
        }
    }

    /// Has `tx` told whenever an article changes an entry.
    pub(crate) fn notify_changes(&self, tx: tokio::sync::mpsc::UnboundedSender<()>) {
        *self.inner.changes.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
    }

    /// Waits for the pages in flight (and those they queue meanwhile);
    /// counts every page since the start.
    pub(super) async fn finish(&self) -> PageCounts {
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
        self.inner.tasks.reopen();
        PageCounts {
            read: self.inner.read.load(Ordering::Relaxed),
            failed: self.inner.failed.load(Ordering::Relaxed),
        }
    }

    async fn run(&self, cx: &Context, job: PageJob) {
        let Some(settings) = job.source.full_text.clone() else {
            return;
        };
        let result = self.read(cx, &job, settings).await;
        let now = Utc::now();
        let shown = secrets::redact_url(&job.link).into_owned();
        let memory = match result {
            Ok(article) => {
                self.inner.read.fetch_add(1, Ordering::Relaxed);
                memory::read(job.memory.as_ref(), &job.link, article, now)
            }
            Err(e) => {
                self.inner.failed.fetch_add(1, Ordering::Relaxed);
                let message = secrets::redact_text(&e.to_string()).into_owned();
                let memory = memory::failed(job.memory.as_ref(), &job.link, &e, message.clone(), now);
                let then = match memory.next_retry {
                    Some(t) => format!("trying again after {}", t.format("%Y-%m-%d %H:%M UTC")),
                    None => "not trying again".to_string(),
                };
                warn!(
                    item = %secrets::redact_text(&job.entry.item_id),
                    url = %shown,
                    "full text: {message}; the item keeps its feed's text ({then})"
                );
                memory
            }
        };
        let work = Work::Page(Box::new(PageDone {
            source: job.source,
            source_id: job.source_id,
            entry: job.entry,
            memory,
            rules: job.rules,
            now,
        }));
        // Queuing for the writer blocks while its queue is full: off the
        // async threads, as a poll does.
        let committer = cx.committer.clone();
        let stored = match tokio::task::spawn_blocking(move || committer.submit(work)).await {
            Ok(Ok(answer)) => answer.await.ok(),
            _ => None,
        };
        match stored {
            Some(Ok(applied)) => {
                if applied.counts.bridged > 0 {
                    info!(url = %shown, "full text: the article is the same story as another entry: merged");
                }
                if applied.counts.changed_entries()
                    && let Some(tx) = &*self.inner.changes.lock().unwrap_or_else(|p| p.into_inner())
                {
                    let _ = tx.send(());
                }
            }
            Some(Err(e)) => warn!(url = %shown, "full text: cannot store the article page's outcome: {e}"),
            None => warn!(url = %shown, "full text: the database writer stopped before storing the article page"),
        }
    }

    /// Fetches the job's page and reads its article.
    async fn read(
        &self,
        cx: &Context,
        job: &PageJob,
        settings: crate::config::FullText,
    ) -> Result<String, FullTextError> {
        let url = polite::page_url(&job.link)?;
        let body = polite::fetch_page(&cx.fetcher, &self.inner.politeness, &job.source, &url, settings.rate).await?;
        // Reading a page is work for a core: it waits for a slot as a feed does.
        let _slot = cx.ingest_slots.acquire().await.ok();
        tokio::task::spawn_blocking(move || {
            let public = secrets::public_url(body.final_url.as_str())
                .and_then(|u| Url::parse(&u).ok())
                .unwrap_or_else(|| body.final_url.clone());
            extract::extract(
                Page {
                    bytes: &body.bytes,
                    charset: body.charset.as_deref(),
                    media_type: body.media_type.as_deref(),
                    url: &public,
                },
                settings.selector.as_deref(),
            )
        })
        .await
        .unwrap_or_else(|_| Err(FullTextError::NoArticle { url: url.to_string() }))
    }
}
