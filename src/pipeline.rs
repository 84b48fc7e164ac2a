//! One source's refresh, end to end: fetch → parse → normalize → dedup → store.
//!
//! The only module that wires the stages together, in miniflux's order
//! (sanitizing happens inside normalize, before anything is stored). Each
//! refresh runs in its own tracing span named after the source, never fails
//! the caller — a failure is recorded on the source row and returned as a
//! report — and commits the poll's entries together with the source's new
//! validators in one transaction. Preparing a document (parse, normalize,
//! fingerprint) runs on one slot per core; storing it runs on the single
//! writer thread (`Committer`), which commits the polls waiting for it
//! together.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tracing::{Instrument, info, info_span, warn};
use url::Url;

use crate::config::SourceConfig;
use crate::dedup::{self, Edge, Encoded, Print};
use crate::fetch::{Body, FetchError, Fetched, Fetcher, Request};
use crate::fulltext;
use crate::model::{Entry, IngestCounts, ItemRecord, PageState, PollOutcome, PollReport, PollState, Validators};
use crate::normalize;
use crate::parse::{self, Document, ParseError};
use crate::schedule;
use crate::secrets;
use crate::store::{EntryMerge, FetchState, PollRecord, Store, StoreError, Writer};

/// What a refresh needs: shared, cheap to clone.
#[derive(Debug, Clone)]
pub struct Context {
    /// The HTTP client.
    pub fetcher: Fetcher,
    /// The database.
    pub store: Arc<Store>,
    /// Ignore stored validators and Retry-After: fetch everything anew (`poll --force`).
    pub force: bool,
    /// Largest stable per-source delay added to cron ticks.
    pub(crate) jitter: Duration,
    /// Which dedup rules apply.
    pub(crate) rules: dedup::Rules,
    /// Slots for preparing a fetched document (parse, normalize,
    /// fingerprint), one per core: fetched bodies wait here instead of all
    /// being parsed at once, which bounds memory and leaves CPU to the
    /// server. Storing happens on the [`Committer`], outside the slots.
    pub(crate) ingest_slots: Arc<tokio::sync::Semaphore>,
    /// The writer the prepared polls queue for.
    pub(crate) committer: Committer,
    /// The article pages of `full_text = true` sources being fetched.
    pub(crate) pages: Pages,
}

impl Context {
    /// Waits until the article pages queued so far are read (or failed) and
    /// stored: for `tributary poll`, which exits once they are done.
    /// Bounded: each page is one fetch with the configured timeout, a few
    /// pages per host at a time. Counts the pages since the context was made.
    pub async fn finish_pages(&self) -> PageCounts {
        self.pages.finish().await
    }
}

/// Ingest slots for this machine: one per available core.
pub(crate) fn ingest_slots() -> Arc<tokio::sync::Semaphore> {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    Arc::new(tokio::sync::Semaphore::new(cores))
}

bench_pub! {
    /// Why a refresh failed.
    #[derive(Debug, thiserror::Error)]
    enum PollError {
        /// Fetching failed.
        #[error(transparent)]
        Fetch(#[from] FetchError),
        /// The document is not a usable feed.
        #[error(transparent)]
        Parse(#[from] ParseError),
        /// The database refused the poll; nothing of it was stored.
        #[error(transparent)]
        Store(#[from] StoreError),
        /// The blocking task running the poll died.
        #[error("the poll task of {0} failed unexpectedly")]
        Task(String),
    }
}

impl PollError {
    /// A short machine-readable kind.
    fn kind(&self) -> &'static str {
        match self {
            PollError::Fetch(e) => e.kind(),
            PollError::Parse(e) => e.kind(),
            PollError::Store(_) => "database",
            PollError::Task(_) => "task",
        }
    }
}

/// Refreshes one source. Never panics on input and never returns an error:
/// failures are stored on the source row and reported.
pub async fn refresh(cx: &Context, source: &SourceConfig, now: DateTime<Utc>) -> PollReport {
    let span = info_span!("poll", source = %source.name, url = %source.location);
    async {
        let started = Instant::now();
        let mut report = PollReport::new(&source.name);
        let result = poll(cx, source, now, &mut report, started).await;
        report.duration_ms = started.elapsed().as_millis() as u64;
        match result {
            Ok(()) => info!(
                outcome = %report.outcome,
                items = report.counts.items,
                new = report.counts.new,
                updated = report.counts.updated,
                merged_link = report.counts.merged_link,
                merged_text = report.counts.merged_text,
                too_old = report.counts.too_old,
                held_back = report.counts.held_back,
                ms = report.duration_ms,
                "polled"
            ),
            Err(e) => {
                report.outcome = PollOutcome::Failed(e.kind());
                report.status = report.status.or_else(|| match &e {
                    PollError::Fetch(f) => f.status(),
                    _ => None,
                });
                // Messages name URLs, and URLs may carry credentials.
                let message = secrets::redact_text(&e.to_string()).into_owned();
                warn!(kind = %report.outcome, "poll failed: {message}");
                report.error = Some(message);
                let retry_after = match &e {
                    PollError::Fetch(f) => f.retry_after(),
                    _ => None,
                };
                let record = PollRecord {
                    at: now,
                    outcome: report.outcome,
                    status: report.status,
                    error: report.error.clone(),
                    duration_ms: report.duration_ms,
                    retry_after,
                    ..PollRecord::default()
                };
                if let Err(e) = record_failure(cx, source, record).await {
                    warn!("cannot record the failure: {e}");
                }
            }
        }
        report
    }
    .instrument(span)
    .await
}

async fn blocking<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> Result<T, PollError> + Send + 'static,
) -> Result<T, PollError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| PollError::Task(name.to_string()))?
}

/// When the source is due after this poll, from what the store knew before it.
fn due_after(
    source: &SourceConfig,
    jitter: Duration,
    before: &PollState,
    at: DateTime<Utc>,
    ok: bool,
    retry_after: Option<DateTime<Utc>>,
    min_interval: Option<Duration>,
) -> DateTime<Utc> {
    let state = PollState {
        last_poll: Some(at),
        failures: if ok { 0 } else { before.failures + 1 },
        retry_after,
        min_interval,
    };
    schedule::next_due(&source.schedule, &state, &source.name, jitter, at)
}

async fn record_failure(cx: &Context, source: &SourceConfig, mut record: PollRecord) -> Result<(), PollError> {
    let store = cx.store.clone();
    let source = source.clone();
    let jitter = cx.jitter;
    blocking(&source.name.clone(), move || {
        Ok(store.write(|w| {
            let id = w.source_id(&source.name, &source.location.full())?;
            let before = w.fetch_state(id)?;
            record.next_due = Some(due_after(
                &source,
                jitter,
                &before.poll,
                record.at,
                false,
                record.retry_after,
                before.poll.min_interval,
            ));
            w.record_poll(id, &record)
        })?)
    })
    .await
}

/// The source's row id and fetch state for a poll with its current
/// config, and whether the source starts afresh because its request
/// settings changed since it was last polled (`Store::source_for_poll`).
pub(crate) async fn source_for_poll(
    store: &Arc<Store>,
    source: &SourceConfig,
) -> Result<(i64, FetchState, bool), PollError> {
    let store = store.clone();
    let (name, url, settings) = (source.name.clone(), source.location.full(), source.settings_print());
    blocking(&source.name, move || Ok(store.source_for_poll(&name, &url, &settings)?)).await
}

/// Registers the sources the store has never seen in one transaction
/// (`Store::register_new_sources`), before their polls start; a failure
/// is only logged, each poll then registers its source itself.
pub(crate) async fn register_new_sources(store: &Arc<Store>, sources: &[SourceConfig]) {
    let store = store.clone();
    let list: Vec<(String, String, String)> = sources
        .iter()
        .map(|s| (s.name.clone(), s.location.full(), s.settings_print()))
        .collect();
    let registered = tokio::task::spawn_blocking(move || store.register_new_sources(&list))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()));
    match registered {
        Ok(0) => {}
        Ok(n) => info!("registered {n} new sources"),
        Err(e) => warn!("cannot register the new sources together: {e}"),
    }
}

/// Whether one of the source's article pages failed transiently and is due
/// for another attempt (a store that cannot say is taken as no).
async fn pages_due(cx: &Context, source: &SourceConfig, source_id: i64, now: DateTime<Utc>) -> bool {
    let store = cx.store.clone();
    blocking(&source.name, move || Ok(store.pages_due(source_id, now)?))
        .await
        .unwrap_or(false)
}

/// What the redirect columns become after a poll that saw `permanent`
/// (the end of an all-301/308 chain) or no permanent redirect: a target
/// seen on two consecutive polls is adopted; anything else clears the
/// pending one. Returns the new columns when they change.
fn redirect_update(state: &FetchState, permanent: Option<&Url>) -> Option<(Option<String>, Option<String>)> {
    let current = state.current_url.clone();
    match permanent.map(Url::as_str) {
        Some(target) if state.pending_redirect.as_deref() == Some(target) => Some((Some(target.to_string()), None)),
        Some(target) if current.as_deref() == Some(target) => None,
        Some(target) => Some((current, Some(target.to_string()))),
        None if state.pending_redirect.is_some() => Some((current, None)),
        None => None,
    }
}

async fn poll(
    cx: &Context,
    source: &SourceConfig,
    now: DateTime<Utc>,
    report: &mut PollReport,
    started: Instant,
) -> Result<(), PollError> {
    let (source_id, state, afresh) = source_for_poll(&cx.store, source).await?;
    if afresh {
        info!("config of source {} changed: polling afresh", source.name);
    }

    if !cx.force
        && let Some(until) = state.poll.retry_after.filter(|t| *t > now)
    {
        report.outcome = PollOutcome::Deferred;
        info!(until = %until, "the server asked to wait (Retry-After); not polling yet");
        return Ok(());
    }

    let current_url = state.current_url.as_deref().and_then(|u| Url::parse(u).ok());
    // Article pages are retried from the feed's items: when one is due, the
    // feed is fetched whole, since a 304 would bring no items to retry from.
    let retry_pages = source.full_text.is_some() && !cx.force && pages_due(cx, source, source_id, now).await;
    let validators = if cx.force || retry_pages {
        Validators::default()
    } else {
        state.validators.clone()
    };
    let response = cx
        .fetcher
        .fetch(Request {
            source: &source.name,
            location: &source.location,
            current_url: current_url.as_ref(),
            validators: &validators,
            policy: &source.allow_private_addresses,
            options: &source.request,
            proxy: source.proxy.as_ref(),
        })
        .await?;
    let redirect = redirect_update(&state, response.permanent_redirect.as_ref());
    if let Some((Some(new), None)) = &redirect {
        let old = match state.current_url.as_deref() {
            Some(u) => secrets::redact_url(u).into_owned(),
            None => source.location.to_string(),
        };
        info!(old = %old, new = %secrets::redact_url(new.as_str()), "permanent redirect seen on two polls in a row: now fetching the new URL");
    }
    let hint = |feed: Option<Duration>| {
        source
            .cache_hints
            .then(|| response.max_age.max(feed))
            .flatten()
            .map(|d| d.min(schedule::MAX_BACKOFF))
    };
    match response.fetched {
        Fetched::NotModified => {
            report.outcome = PollOutcome::NotModified;
            report.status = matches!(source.location, crate::config::Location::Http(_)).then_some(304);
            let min_interval = hint(state.poll.min_interval);
            let record = PollRecord {
                at: now,
                outcome: report.outcome,
                status: report.status,
                min_interval_secs: min_interval.map(|d| d.as_secs()),
                next_due: Some(due_after(source, cx.jitter, &state.poll, now, true, None, min_interval)),
                redirect,
                ..PollRecord::default()
            };
            let store = cx.store.clone();
            blocking(&source.name, move || {
                Ok(store.write(|w| w.record_poll(source_id, &record))?)
            })
            .await?;
        }
        Fetched::Body(body) => {
            report.status = Some(body.status);
            report.bytes = body.bytes.len();
            let source2 = source.clone();
            let elapsed = started.elapsed().as_millis() as u64;
            let jitter = cx.jitter;
            let rules = cx.rules;
            let before = state.poll;
            let cache_hints = source.cache_hints;
            let max_age = response.max_age;
            let committer = cx.committer.clone();
            let store = cx.store.clone();
            let force = cx.force;
            let slot = cx
                .ingest_slots
                .acquire()
                .await
                .map_err(|_| PollError::Task(source.name.clone()))?;
            let answer = blocking(&source.name, move || {
                let at = IngestAt {
                    now,
                    elapsed_ms: elapsed,
                    rules,
                };
                let known = |ids: &[&str]| known_hashes(&store, &source2.name, source_id, ids);
                let prepared = prepare(&source2, source_id, *body, known, at, |feed_hint| {
                    let min_interval = cache_hints
                        .then(|| max_age.max(feed_hint))
                        .flatten()
                        .map(|d| d.min(schedule::MAX_BACKOFF));
                    let due = due_after(&source2, jitter, &before, now, true, None, min_interval);
                    (min_interval, due, redirect)
                })?;
                committer.submit(Work::Poll(Box::new(Prepared { force, ..prepared })))
            })
            .await?;
            // The slot is for preparing; the writer takes it from here.
            drop(slot);
            let applied = answer.await.map_err(|_| PollError::Task(source.name.clone()))??;
            report.counts = applied.counts;
            // The poll is committed: its items' article pages are fetched
            // in the background, never holding it up or failing it.
            cx.pages.queue(cx, applied.pages);
        }
    }
    Ok(())
}

/// Ingests a document that is already in memory exactly as a poll that
/// fetched it with a 200 would: parse, normalize, dedup and store in one
/// transaction, with the source's validators and schedule updated. Blocking;
/// for the ingest bench, which brings its own bytes.
#[cfg(feature = "bench-internals")]
pub fn ingest_body(
    store: &Store,
    source: &SourceConfig,
    body: Body,
    now: DateTime<Utc>,
    rules: dedup::Rules,
) -> Result<IngestCounts, PollError> {
    let mut done = ingest_bodies(store, vec![(source, body)], now, rules);
    done.pop().unwrap_or_else(|| Err(PollError::Task(source.name.clone())))
}

/// Ingests several documents as [`ingest_body`] does each, committed the way
/// the writer commits the polls waiting for it: every document prepared,
/// then all stored in one transaction (each in its own if that one fails).
/// One result per document, in order.
#[cfg(feature = "bench-internals")]
pub fn ingest_bodies(
    store: &Store,
    docs: Vec<(&SourceConfig, Body)>,
    now: DateTime<Utc>,
    rules: dedup::Rules,
) -> Vec<Result<IngestCounts, PollError>> {
    let at = IngestAt {
        now,
        elapsed_ms: 0,
        rules,
    };
    let before = PollState::default();
    let prepared: Vec<(String, Result<Prepared, PollError>)> = docs
        .into_iter()
        .map(|(source, body)| {
            let source_id = store.write(|w| w.source_id(&source.name, &source.location.full()));
            let prepared = source_id.map_err(PollError::from).and_then(|source_id| {
                let known = |ids: &[&str]| known_hashes(store, &source.name, source_id, ids);
                prepare(source, source_id, body, known, at, |hint| {
                    let due = due_after(source, Duration::ZERO, &before, now, true, None, hint);
                    (hint, due, None)
                })
            });
            (source.name.clone(), prepared)
        })
        .collect();
    let ready: Vec<&Prepared> = prepared.iter().filter_map(|(_, p)| p.as_ref().ok()).collect();
    let mut stored = store.write_each(&ready, |w, p| p.apply(w)).into_iter();
    prepared
        .into_iter()
        .map(|(name, p)| {
            p?;
            stored.next().map_or(Err(PollError::Task(name)), |r| Ok(r?.counts))
        })
        .collect()
}

/// When an ingest happens and under which rules.
#[derive(Clone, Copy)]
struct IngestAt {
    now: DateTime<Utc>,
    elapsed_ms: u64,
    rules: dedup::Rules,
}

type Schedule = (
    Option<Duration>,
    DateTime<Utc>,
    Option<(Option<String>, Option<String>)>,
);

/// A fetched document parsed, normalized and fingerprinted: everything a
/// poll writes, owned, so that it can wait for the writer while the next
/// document is being prepared.
#[derive(Debug)]
struct Prepared {
    source: SourceConfig,
    source_id: i64,
    rules: dedup::Rules,
    now: DateTime<Utc>,
    entries: Vec<Entry>,
    prints: Vec<PrintOf<Encoded>>,
    /// Items and filtered items; the rest is counted when stored.
    counts: IngestCounts,
    /// The source's row after the poll, counts filled in when stored.
    record: PollRecord,
    /// `poll --force`: article pages that failed for a while are tried
    /// again without waiting.
    force: bool,
}

/// What storing a prepared poll did, and the article pages it wants fetched.
#[derive(Debug)]
pub(crate) struct Applied {
    counts: IngestCounts,
    pages: Vec<PageJob>,
}

/// The stored content hashes of a poll's items ([`Store::content_hashes`]);
/// none when they cannot be read, so that every item is printed as new.
fn known_hashes(store: &Store, source: &str, source_id: i64, ids: &[&str]) -> HashMap<String, String> {
    store.content_hashes(source_id, ids).unwrap_or_else(|e| {
        warn!(source, "{e}; every item of this poll gets its print");
        HashMap::new()
    })
}

/// Parse, normalize and fingerprint one fetched document; nothing is written.
fn prepare(
    source: &SourceConfig,
    source_id: i64,
    body: Body,
    stored: impl FnOnce(&[&str]) -> HashMap<String, String>,
    at: IngestAt,
    schedule_after: impl FnOnce(Option<Duration>) -> Schedule,
) -> Result<Prepared, PollError> {
    let IngestAt { now, elapsed_ms, rules } = at;
    // Relative URLs of the document (links, enclosures, images, `#comments`)
    // resolve against its address as it may be published: joined to the
    // address it was fetched with, they would carry its user name, password
    // or credential parameters into the merged feeds.
    let public = crate::secrets::public_url(body.final_url.as_str())
        .and_then(|u| url::Url::parse(&u).ok())
        .unwrap_or_else(|| body.final_url.clone());
    let parsed = parse::parse(Document {
        bytes: &body.bytes,
        charset: body.charset.as_deref(),
        media_type: body.media_type.as_deref(),
        url: &public,
    })?;
    let base = matches!(public.scheme(), "http" | "https").then_some(&public);
    let ncx = normalize::Context {
        base_url: base,
        feed: &parsed.info,
        now,
    };
    let mut seen = HashSet::new();
    let mut entries = Vec::with_capacity(parsed.items.len());
    let mut counts = IngestCounts {
        items: parsed.items.len(),
        ..IngestCounts::default()
    };
    for item in &parsed.items {
        // A feed that repeats an id: the first occurrence wins, every poll.
        if !seen.insert(item.id.as_str()) {
            continue;
        }
        let entry = normalize::normalize(item, &ncx);
        let text = || {
            format!(
                "{}\n{}\n{}",
                entry.title,
                entry.summary_html.as_deref().unwrap_or(""),
                entry.content_html.as_deref().unwrap_or("")
            )
        };
        if !source.accepts_with(text) {
            counts.filtered += 1;
            continue;
        }
        // An undated item is dated `now` by normalize, so it is never too old.
        if let Some(age) = source.max_age
            && (now - entry.published).to_std().is_ok_and(|ago| ago > age)
        {
            counts.too_old += 1;
            continue;
        }
        entries.push(entry);
    }
    let (min_interval, next_due, redirect) = schedule_after(parsed.info.min_interval);
    // Every item gets a print, whether or not rule 3 is on: rule 2 needs
    // it to tell link posts apart. Not an item stored with this very
    // content (`stored` answers item ids with their stored content hash),
    // which the writer will leave as it is: most items of a feed fetched
    // again are.
    let ids: Vec<&str> = entries.iter().map(|e| e.item_id.as_str()).collect();
    let stored = stored(&ids);
    let prints = entries
        .iter()
        .map(|e| match stored.get(&e.item_id) {
            Some(hash) if *hash == e.content_hash => PrintOf::Unchanged,
            _ => PrintOf::Ready(encoded_print_of(e)),
        })
        .collect();
    let record = PollRecord {
        at: now,
        outcome: PollOutcome::Ok,
        status: Some(body.status),
        error: None,
        items: counts.items,
        bytes: body.bytes.len(),
        duration_ms: elapsed_ms,
        retry_after: None,
        min_interval_secs: min_interval.map(|d| d.as_secs()),
        next_due: Some(next_due),
        redirect,
        validators: Some(body.validators),
        feed: Some(normalize::feed_info(parsed.info)),
        ..PollRecord::default()
    };
    Ok(Prepared {
        source: source.clone(),
        source_id,
        rules,
        now,
        entries,
        prints,
        counts,
        record,
        force: false,
    })
}

bench_pub! {
    /// The print of an entry's title and body (content, else summary).
    fn print_of(e: &Entry) -> Option<Print> {
        dedup::print(&e.title, e.content_html.as_deref().or(e.summary_html.as_deref()))
    }
}

bench_pub! {
    /// [`print_of`] with its stored form, as the writer takes it.
    fn encoded_print_of(e: &Entry) -> Option<Encoded> {
        print_of(e).map(Encoded::new)
    }
}

impl Prepared {
    /// Stores the poll's entries and the source's new row in `w`'s
    /// transaction; may run again in a fresh transaction if it is rolled back.
    fn apply(&self, w: &Writer<'_>) -> Result<Applied, StoreError> {
        let mut counts = self.counts;
        let mut pages = Vec::new();
        let held = self.held_back(w)?;
        for (e, print) in self.entries.iter().zip(&self.prints) {
            if held.contains(e.item_id.as_str()) {
                w.hold_back(self.source_id, &e.item_id, self.now)?;
                counts.held_back += 1;
                continue;
            }
            // A full-text source's item shows the article read from its
            // page while its link stays: the feed's unchanged text is then
            // no edit, and an edited one keeps the article.
            let memory = match self.source.full_text {
                Some(_) => w.page(self.source_id, &e.item_id)?,
                None => None,
            };
            let article = memory
                .as_ref()
                .filter(|m| m.state == PageState::Done && Some(&m.url) == e.link.as_ref())
                .and_then(|m| m.content.as_deref());
            let full = article.map(|a| normalize::with_full_text(e, a));
            match &full {
                // Unchanged (the usual case on every poll): nothing to
                // write, and no print of the article to compute.
                Some(full)
                    if w.find_item(self.source_id, &full.item_id)?
                        .is_some_and(|(_, _, hash)| hash == full.content_hash) => {}
                Some(full) => {
                    let print = encoded_print_of(full);
                    store_entry(
                        w,
                        &self.source,
                        self.source_id,
                        full,
                        PrintOf::Ready(print.as_ref()),
                        self.rules,
                        self.now,
                        &mut counts,
                    )?;
                }
                None => store_entry(
                    w,
                    &self.source,
                    self.source_id,
                    e,
                    print.as_ref(),
                    self.rules,
                    self.now,
                    &mut counts,
                )?,
            }
            if self.source.full_text.is_some()
                && let Some(link) = &e.link
                && fulltext::memory::wanted(memory.as_ref(), link, self.now, self.force)
                && w.find_item(self.source_id, &e.item_id)?.is_some()
            {
                pages.push(PageJob {
                    source: self.source.clone(),
                    source_id: self.source_id,
                    entry: e.clone(),
                    link: link.clone(),
                    memory,
                    rules: self.rules,
                });
            }
        }
        let record = PollRecord {
            new: counts.new,
            updated: counts.updated,
            merged: counts.merged_link + counts.merged_text,
            ..self.record.clone()
        };
        w.record_poll(self.source_id, &record)?;
        Ok(Applied { counts, pages })
    }

    /// Flood control: the item ids of this poll not to publish. When the
    /// source has `initial_entries` and the store holds nothing of it yet
    /// (no item stored, none pruned), every item but its newest
    /// `initial_entries` (by publication date, then document order).
    fn held_back(&self, w: &Writer<'_>) -> Result<HashSet<&str>, StoreError> {
        let Some(keep) = self.source.initial_entries else {
            return Ok(HashSet::new());
        };
        if self.entries.len() <= keep || !w.holds_nothing_of(self.source_id)? {
            return Ok(HashSet::new());
        }
        let mut newest: Vec<&Entry> = self.entries.iter().collect();
        // A stable sort: items of the same date keep their document order.
        newest.sort_by_key(|e| std::cmp::Reverse(e.published));
        Ok(newest[keep..].iter().map(|e| e.item_id.as_str()).collect())
    }
}

mod pages;
mod writer;
pub use pages::PageCounts;
pub(crate) use pages::Pages;
use pages::{PageDone, PageJob};
pub(crate) use writer::Committer;
use writer::Work;
pub use writer::maintain_prints;
#[cfg(feature = "bench-internals")]
pub use writer::{PrintOf, store_entry};
#[cfg(not(feature = "bench-internals"))]
use writer::{PrintOf, store_entry};

/// The words fingerprints are computed from stay those of earlier
/// releases: stored fingerprints must keep matching new copies.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod fingerprint_words;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

/// How many candidates the key index brings back at store scale
/// (`scripts/dedup-candidates` writes the input and runs this).
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod measure;
