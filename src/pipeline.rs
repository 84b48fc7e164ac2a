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

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tracing::{Instrument, info, info_span, warn};
use url::Url;

use crate::config::SourceConfig;
use crate::dedup::{self, Edge, Print};
use crate::fetch::{Body, FetchError, Fetched, Fetcher, Request};
use crate::model::{Entry, IngestCounts, ItemRecord, PollOutcome, PollReport, PollState, Validators};
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
    let store = cx.store.clone();
    let (name, url) = (source.name.clone(), source.location.full());
    let (source_id, state) = blocking(&source.name, move || {
        // The common case reads; only a new source or a changed URL writes.
        if let Some((id, known_url, state)) = store.fetch_state_of(&name)?
            && known_url == url
        {
            return Ok((id, state));
        }
        Ok(store.write(|w| {
            let id = w.source_id(&name, &url)?;
            Ok((id, w.fetch_state(id)?))
        })?)
    })
    .await?;

    if !cx.force
        && let Some(until) = state.poll.retry_after.filter(|t| *t > now)
    {
        report.outcome = PollOutcome::Deferred;
        info!(until = %until, "the server asked to wait (Retry-After); not polling yet");
        return Ok(());
    }

    let current_url = state.current_url.as_deref().and_then(|u| Url::parse(u).ok());
    let validators = if cx.force {
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
                let prepared = prepare(&source2, source_id, *body, at, |feed_hint| {
                    let min_interval = cache_hints
                        .then(|| max_age.max(feed_hint))
                        .flatten()
                        .map(|d| d.min(schedule::MAX_BACKOFF));
                    let due = due_after(&source2, jitter, &before, now, true, None, min_interval);
                    (min_interval, due, redirect)
                })?;
                committer.submit(prepared)
            })
            .await?;
            // The slot is for preparing; the writer takes it from here.
            drop(slot);
            let counts = answer.await.map_err(|_| PollError::Task(source.name.clone()))??;
            report.counts = counts;
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
                prepare(source, source_id, body, at, |hint| {
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
            stored.next().map_or(Err(PollError::Task(name)), |r| Ok(r?))
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
    prints: Vec<Option<Print>>,
    /// Items and filtered items; the rest is counted when stored.
    counts: IngestCounts,
    /// The source's row after the poll, counts filled in when stored.
    record: PollRecord,
}

/// Parse, normalize and fingerprint one fetched document; nothing is written.
fn prepare(
    source: &SourceConfig,
    source_id: i64,
    body: Body,
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
        entries.push(entry);
    }
    let (min_interval, next_due, redirect) = schedule_after(parsed.info.min_interval);
    // Every item gets a print, whether or not rule 3 is on: rule 2 needs
    // it to tell link posts apart.
    let prints = entries.iter().map(print_of).collect();
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
    })
}

bench_pub! {
    /// The print of an entry's title and body (content, else summary).
    fn print_of(e: &Entry) -> Option<Print> {
        dedup::print(&e.title, e.content_html.as_deref().or(e.summary_html.as_deref()))
    }
}

impl Prepared {
    /// Stores the poll's entries and the source's new row in `w`'s
    /// transaction; may run again in a fresh transaction if it is rolled back.
    fn apply(&self, w: &Writer<'_>) -> Result<IngestCounts, StoreError> {
        let mut counts = self.counts;
        for (e, print) in self.entries.iter().zip(&self.prints) {
            store_entry(
                w,
                &self.source,
                self.source_id,
                e,
                print.as_ref(),
                self.rules,
                self.now,
                &mut counts,
            )?;
        }
        let record = PollRecord {
            new: counts.new,
            updated: counts.updated,
            merged: counts.merged_link + counts.merged_text,
            ..self.record.clone()
        };
        w.record_poll(self.source_id, &record)?;
        Ok(counts)
    }
}

/// What the writer answers for one prepared poll.
type Stored = Result<IngestCounts, StoreError>;
type Reply = tokio::sync::oneshot::Sender<Stored>;

/// Polls prepared and waiting for the writer, at most: a full queue holds
/// back preparing (and so memory) until the writer catches up.
const QUEUE: usize = 32;

/// The most polls committed in one transaction.
const MAX_BATCH: usize = 64;

/// The single writer of prepared polls: a thread that takes every poll
/// waiting when it is free and commits them in one transaction (group
/// commit). Each poll's entries still move together with its validators,
/// and a poll is reported stored only once its transaction is durable; what
/// a batch saves is the commit and the index pages shared by its polls,
/// written to the WAL once instead of once per poll. Stops when the last
/// handle is dropped.
#[derive(Debug, Clone)]
pub(crate) struct Committer {
    queue: std::sync::mpsc::SyncSender<(Prepared, Reply)>,
}

impl Committer {
    /// Starts the writer thread for `store`. Before its first commit it
    /// brings the stored prints to what `rules` compare
    /// ([`maintain_prints`]).
    pub(crate) fn start(store: Arc<Store>, rules: dedup::Rules) -> std::io::Result<Committer> {
        let (queue, waiting) = std::sync::mpsc::sync_channel::<(Prepared, Reply)>(QUEUE);
        std::thread::Builder::new()
            .name("tributary-writer".into())
            .spawn(move || {
                if let Err(e) = maintain_prints(&store, rules, Utc::now()) {
                    warn!("cannot bring the text prints up to date: {e}");
                }
                while let Ok(first) = waiting.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH
                        && let Ok(next) = waiting.try_recv()
                    {
                        batch.push(next);
                    }
                    let (polls, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                    // A panic fails this batch's polls (their replies are
                    // dropped, the transaction rolled back), not the writer.
                    let results = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        store.write_each(&polls, |w, p| p.apply(w))
                    }));
                    if let Ok(results) = results {
                        for (reply, result) in replies.into_iter().zip(results) {
                            // The poll may have been cancelled (shutdown): nothing to tell.
                            let _ = reply.send(result);
                        }
                    }
                }
            })?;
        Ok(Committer { queue })
    }

    /// Queues a prepared poll, blocking while the queue is full; the
    /// receiver answers once the poll is committed or has failed.
    fn submit(&self, poll: Prepared) -> Result<tokio::sync::oneshot::Receiver<Stored>, PollError> {
        let name = poll.source.name.clone();
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.queue.send((poll, reply)).map_err(|_| PollError::Task(name))?;
        Ok(answer)
    }
}

bench_pub! {
    /// Stores one normalized entry of a poll in the poll's transaction: the
    /// rule 1 lookup, the edges of rules 2 and 3 to stored items, then the
    /// insert or merge, the item's row and print, the merges of the entries it
    /// bridges, the source's credit and tags. Counts what it did.
    #[allow(clippy::too_many_arguments)]
    fn store_entry(
        w: &Writer<'_>,
        source: &SourceConfig,
        source_id: i64,
        e: &Entry,
        print: Option<&Print>,
        rules: dedup::Rules,
        now: DateTime<Utc>,
        counts: &mut IngestCounts,
    ) -> Result<(), StoreError> {
        let existing = w.find_item(source_id, &e.item_id)?;
        match &existing {
            Some((_, _, hash)) if *hash == e.content_hash => return Ok(()),
            None if w.was_pruned(source_id, &e.item_id)? => return Ok(()),
            _ => {}
        }
        let own_item = existing.as_ref().map(|(item, _, _)| *item);
        let edges = edges(w, e, print, own_item, &rules)?;
        let plan = dedup::plan(existing.as_ref().map(|(_, entry, _)| *entry), &edges);
        let record = |entry_id: i64| ItemRecord {
            source_id,
            item_id: e.item_id.clone(),
            entry_id,
            canonical_link: e.canonical_link.clone(),
            published: e.published,
            join: plan.join.clone(),
            keys: print.map(|p| p.keys().to_vec()).unwrap_or_default(),
            print: print.map(Print::encode),
        };
        let (item, entry_id) = match (existing, plan.entry) {
            (Some((item, own_entry, _)), _) => {
                let (current, shown_from) = w.load(own_entry)?;
                let (merged, took_text) = dedup::merge(&current, e, shown_from == source_id, now);
                if merged != current {
                    w.update(own_entry, &merged, if took_text { source_id } else { shown_from })?;
                }
                w.update_item(item, &record(own_entry))?;
                counts.updated += 1;
                (item, own_entry)
            }
            (None, None) => {
                let uid = dedup::entry_uid(&source.name, &e.item_id);
                let id = w.insert(&uid, e, source_id, now)?;
                counts.new += 1;
                (w.insert_item(&record(id))?, id)
            }
            (None, Some(target)) => {
                let (current, shown_from) = w.load(target)?;
                let (merged, took_text) = dedup::merge(&current, e, false, now);
                if merged != current {
                    w.update(target, &merged, if took_text { source_id } else { shown_from })?;
                }
                if plan.join.rule == dedup::SAME_LINK {
                    counts.merged_link += 1;
                } else {
                    counts.merged_text += 1;
                }
                (w.insert_item(&record(target))?, target)
            }
        };
        // The oldest entry reached keeps its id; every other one joins it.
        let keep = plan.entry.unwrap_or(entry_id);
        let mut younger = plan.merge.clone();
        if entry_id != keep {
            younger.retain(|g| *g != entry_id);
            younger.insert(0, entry_id);
        }
        for gone in younger {
            bridge(w, keep, gone, item, &edges, now)?;
            counts.bridged += 1;
        }
        w.credit(source_id, &e.item_id, keep, e.link.as_deref(), &e.content_hash, now)?;
        w.tag(keep, source.tags.iter().chain(e.categories.iter()).map(String::as_str))?;
        Ok(())
    }
}

/// The words fingerprints are computed from stay those of earlier
/// releases: stored fingerprints must keep matching new copies.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod fingerprint_words {
    /// The words as fingerprints read them before the reading moved to
    /// `html::text`: every `<` up to the next `>` a separator, entities decoded
    /// afterwards, lower-cased, split at anything not alphanumeric.
    fn words_as_before(html: &str) -> Vec<String> {
        let mut text = String::with_capacity(html.len());
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => {
                    text.push(' ');
                    in_tag = true;
                }
                '>' if in_tag => in_tag = false,
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        htmlize::unescape(text)
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    }

    /// Stored fingerprints were computed from the old reading of the text:
    /// over every entry of the labelled corpus and the shipped samples, the
    /// titles and bodies read the same words now, so the fingerprints of new
    /// copies still match the stored ones.
    #[test]
    fn fingerprint_words_are_unchanged_on_the_corpus_and_the_samples() {
        let mut files = vec![];
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("config/samples")];
        for seed in std::fs::read_dir(root.join("tests/fixtures/dedup")).unwrap() {
            let seed = seed.unwrap().path();
            if seed.is_dir() {
                dirs.push(seed.join("round1"));
                dirs.push(seed.join("round2"));
            }
        }
        for dir in dirs {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if matches!(path.extension().and_then(|e| e.to_str()), Some("xml" | "json")) {
                    files.push(path);
                }
            }
        }
        files.sort();
        let now = chrono::Utc::now();
        let (mut bodies, mut titles) = (0, 0);
        for path in files {
            let url = url::Url::from_file_path(&path).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            let parsed = crate::parse::parse(crate::parse::Document {
                bytes: &bytes,
                charset: None,
                media_type: None,
                url: &url,
            })
            .unwrap();
            for item in &parsed.items {
                let cx = crate::normalize::Context {
                    base_url: Some(&url),
                    feed: &parsed.info,
                    now,
                };
                let entry = crate::normalize::normalize(item, &cx);
                for body in [&entry.content_html, &entry.summary_html].into_iter().flatten() {
                    assert_eq!(crate::dedup::words(body), words_as_before(body), "{body:?}");
                    bodies += 1;
                }
                assert_eq!(
                    crate::dedup::words(&entry.title),
                    words_as_before(&entry.title),
                    "{:?}",
                    entry.title
                );
                titles += 1;
            }
        }
        assert!(bodies > 1_000 && titles > 800, "{bodies} bodies, {titles} titles");
    }
}

/// The "same story" edges from an incoming item to stored items: rule 2
/// (same canonical link, unless the texts clearly differ), then rule 3
/// (the candidates its keys find, confirmed on their prints).
fn edges(
    w: &Writer<'_>,
    e: &Entry,
    print: Option<&Print>,
    own_item: Option<i64>,
    rules: &dedup::Rules,
) -> Result<Vec<Edge>, StoreError> {
    let mut edges: Vec<Edge> = Vec::new();
    if rules.by_link
        && let Some(link) = &e.canonical_link
    {
        for y in w.items_with_link(link)? {
            if Some(y.id) != own_item && dedup::link_edge(print, &y) {
                edges.push(Edge {
                    item: y.id,
                    entry: y.entry_id,
                    rule: dedup::SAME_LINK,
                    score: None,
                });
            }
        }
    }
    if rules.by_text
        && let Some(p) = print
    {
        let found = dedup::candidates(
            p,
            |k| w.key_count(k),
            |keys| w.key_hits(keys),
            |k, item| w.key_contains(k, item),
        )?;
        for id in found {
            if Some(id) == own_item || edges.iter().any(|x| x.item == id) {
                continue;
            }
            let Some(y) = w.item(id)? else { continue };
            if let Some((m, score)) = dedup::text_edge(p, e.published, &y, rules) {
                edges.push(Edge {
                    item: id,
                    entry: y.entry_id,
                    rule: m.name(),
                    score: Some(score),
                });
            }
        }
    }
    Ok(edges)
}

/// Merges entry `gone` into the older entry `keep`, because `item` is the
/// same story as both: `keep` takes the longer text and the earlier date
/// (as when a copy arrives), and is marked updated, since its credits
/// changed.
fn bridge(
    w: &Writer<'_>,
    keep: i64,
    gone: i64,
    item: i64,
    edges: &[Edge],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (current, shown_from) = w.load(keep)?;
    let (other, other_from) = w.load(gone)?;
    let (mut merged, took_text) = dedup::merge(&current, &other, false, now);
    merged.updated = now.max(current.updated);
    let join = edges
        .iter()
        .filter(|x| x.entry == gone)
        .max_by(|a, b| a.score.unwrap_or(0.0).total_cmp(&b.score.unwrap_or(0.0)))
        .map_or_else(
            || crate::model::Join {
                rule: "same-item".into(),
                matched: None,
                score: None,
            },
            |x| crate::model::Join {
                rule: x.rule.into(),
                matched: Some(x.item),
                score: x.score,
            },
        );
    tracing::info!(
        kept = keep,
        merged = gone,
        rule = %join.rule,
        "an item is the same story as two entries: merged the younger into the older"
    );
    w.merge_entries(&EntryMerge {
        keep,
        gone,
        merged: &merged,
        content_source_id: if took_text { other_from } else { shown_from },
        by_item: Some(item),
        join: &join,
        at: now,
    })
}

/// Items whose prints are computed in one transaction, when a store from
/// before items were recorded gets its prints.
const PRINT_BATCH: usize = 2000;

/// Keeps the stored prints to what rule 3 compares: forgets those of items
/// published before the horizon ([`dedup::Rules::print_horizon`]), and
/// computes the missing ones (a store upgraded from before items were
/// recorded: the print of the text each entry shows) within it. Returns
/// (prints forgotten, prints computed).
pub fn maintain_prints(store: &Store, rules: dedup::Rules, now: DateTime<Utc>) -> Result<(u64, u64), StoreError> {
    let started = Instant::now();
    let horizon = rules.print_horizon(now);
    let expired = store.write(|w| w.expire_prints(horizon))?;
    let mut computed = 0u64;
    loop {
        let done = store.write(|w| {
            let batch = w.items_without_print(PRINT_BATCH)?;
            for item in &batch {
                let print = (item.published >= horizon)
                    .then(|| dedup::print(&item.title, item.body.as_deref()))
                    .flatten();
                let keys = print.as_ref().map(|p| p.keys().to_vec()).unwrap_or_default();
                w.set_print(item.id, &keys, print.as_ref().map(Print::encode).as_deref())?;
            }
            Ok(batch.len())
        })?;
        computed += done as u64;
        if done < PRINT_BATCH {
            break;
        }
    }
    if computed > 0 || expired > 0 {
        info!(
            expired,
            computed,
            ms = started.elapsed().as_millis() as u64,
            "text prints: forgot those outside the window, computed the missing ones"
        );
    }
    Ok((expired, computed))
}

/// How many candidates the key index brings back at store scale
/// (`scripts/dedup-candidates` writes the input and runs this).
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod measure {
    use std::collections::{BTreeMap, HashMap};
    use std::time::Instant;

    use crate::dedup::{self, Print, compare, print};
    use crate::store::keys::{KeyIndex, posting};

    /// Sizes of the fact sample measured; [`print::SAMPLE`] is the one used.
    const SAMPLES: [usize; 5] = [4, 6, 8, 10, 12];

    struct Probe {
        role: String,
        kind: String,
        story: String,
        print: Print,
        keys: Vec<Vec<u32>>,
    }

    fn percentile(xs: &mut [usize], q: f64) -> usize {
        xs.sort_unstable();
        xs.get(((xs.len().saturating_sub(1)) as f64 * q) as usize)
            .copied()
            .unwrap_or(0)
    }

    #[test]
    #[ignore = "needs $DEDUP_CANDIDATES from scripts/dedup-candidates"]
    fn measure_candidates() {
        let Ok(path) = std::env::var("DEDUP_CANDIDATES") else {
            return;
        };
        let started = Instant::now();
        let file = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
        let mut stored: Vec<(Print, Vec<Vec<u32>>)> = Vec::new();
        let mut story_at: HashMap<String, u32> = HashMap::new();
        let mut probes: Vec<Probe> = Vec::new();
        for line in std::io::BufRead::lines(file) {
            let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
            let s = |k: &str| v[k].as_str().unwrap().to_string();
            let Some((print, keys)) = print::print_sampling(&s("title"), Some(&s("html")), &SAMPLES) else {
                continue;
            };
            if s("role") == "stored" {
                story_at.insert(s("story"), stored.len() as u32);
                stored.push((print, keys));
            } else {
                probes.push(Probe {
                    role: s("role"),
                    kind: s("kind"),
                    story: s("story"),
                    print,
                    keys,
                });
            }
        }
        println!(
            "{} stored items and {} probes printed in {:.0} s",
            stored.len(),
            probes.len(),
            started.elapsed().as_secs_f64()
        );
        println!(
            "\n| fact sample | keys per stored item | index MB | candidates per unrelated item: mean / median / p90 / p99 / max | lookup µs | copies found: light / heavy / furniture / trunc-30 / trunc-60 |"
        );
        println!("|---|---|---|---|---|---|");
        for (si, k) in SAMPLES.iter().enumerate() {
            let built = Instant::now();
            let mut postings: Vec<u64> = Vec::with_capacity(stored.iter().map(|(_, keys)| keys[si].len()).sum());
            postings.extend(
                stored
                    .iter()
                    .enumerate()
                    .flat_map(|(i, (_, keys))| keys[si].iter().map(move |key| posting(*key, i as u32))),
            );
            let n = postings.len();
            let index = KeyIndex::from_postings(postings);
            let build_ms = built.elapsed().as_millis();
            let mut unrelated = Vec::new();
            let mut found: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
            let looked = Instant::now();
            let mut lookups = 0u32;
            for p in &probes {
                let mut probe = p.print.clone();
                probe.keys = p.keys[si].clone();
                let cands = dedup::candidates::<std::convert::Infallible>(
                    &probe,
                    |k| Ok(index.count(k)),
                    |keys| {
                        let mut hits = Vec::new();
                        index.hits(keys, &mut hits);
                        Ok(hits)
                    },
                    |k, item| Ok(index.contains(k, item)),
                )
                .unwrap_or_default();
                lookups += 1;
                if p.role == "new" {
                    unrelated.push(cands.len());
                    continue;
                }
                let Some(&at) = story_at.get(&p.story) else { continue };
                let e = found.entry(p.kind.as_str()).or_default();
                e.1 += 1;
                if cands.contains(&i64::from(at)) {
                    e.0 += 1;
                    if *k == print::SAMPLE && compare::judge(&p.print, &stored[at as usize].0).outcome.is_ok() {
                        e.2 += 1;
                    }
                }
            }
            let per_lookup = looked.elapsed().as_micros() as f64 / f64::from(lookups.max(1));
            let mean = unrelated.iter().sum::<usize>() as f64 / unrelated.len().max(1) as f64;
            let share = |kind: &str| {
                found.get(kind).map_or("-".to_string(), |(f, t, _)| {
                    format!("{:.3}", *f as f64 / (*t).max(1) as f64)
                })
            };
            println!(
                "| {k}{} | {:.2} | {:.1} | {mean:.2} / {} / {} / {} / {} | {per_lookup:.1} | {} / {} / {} / {} / {} |",
                if *k == print::SAMPLE { " (used)" } else { "" },
                n as f64 / stored.len() as f64,
                index.bytes() as f64 / 1e6,
                percentile(&mut unrelated, 0.5),
                percentile(&mut unrelated, 0.9),
                percentile(&mut unrelated, 0.99),
                percentile(&mut unrelated, 1.0),
                share("light-edit"),
                share("heavy-edit"),
                share("furniture"),
                share("truncated-30"),
                share("truncated-60"),
            );
            if *k == print::SAMPLE {
                for (kind, (f, t, same)) in &found {
                    println!(
                        "    {kind}: found {f}/{t}, judged the same story {same}/{t}; index built in {build_ms} ms"
                    );
                }
            }
        }
    }

    /// How long upgrading a large store takes: a store of version 8 with
    /// one entry per stored story of `$DEDUP_CANDIDATES` (each credited to
    /// one source, with an old fingerprint row) is migrated to items, its
    /// prints computed, and the key index built, each step timed.
    #[test]
    #[ignore = "needs $DEDUP_CANDIDATES from scripts/dedup-candidates"]
    fn measure_migration() {
        let Ok(path) = std::env::var("DEDUP_CANDIDATES") else {
            return;
        };
        // On the disk of the target folder, as a real store would be.
        let base = std::env::var_os("CARGO_TARGET_DIR").map_or_else(std::env::temp_dir, std::path::PathBuf::from);
        let dir = tempfile::tempdir_in(base).unwrap();
        let db = dir.path().join("old.db");
        let file = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
        let now = chrono::Utc::now();
        let entries = {
            let mut c = rusqlite::Connection::open(&db).unwrap();
            c.pragma_update(None, "journal_mode", "WAL").unwrap();
            crate::store::migrations_to(&mut c, 8);
            c.pragma_update(None, "application_id", i64::from(crate::store::APPLICATION_ID))
                .unwrap();
            let tx = c.transaction().unwrap();
            tx.execute(
                "INSERT INTO sources (id, name, url) VALUES (1, 's', 'https://s.example/feed')",
                [],
            )
            .unwrap();
            let mut n = 0i64;
            for line in std::io::BufRead::lines(file) {
                let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
                if v["role"] != "stored" {
                    continue;
                }
                n += 1;
                let published = (now - chrono::TimeDelta::minutes(n % (20 * 24 * 60))).timestamp();
                tx.execute(
                    "INSERT INTO entries (id, uid, canonical_link, link, title, content_html, published_at, updated_at, first_seen_at, content_source_id)
                     VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?6, ?6, 1)",
                    rusqlite::params![n, format!("u{n}"), format!("https://s.example/{n}"), v["title"].as_str(), v["html"].as_str(), published],
                )
                .unwrap();
                tx.execute(
                    "INSERT INTO entry_sources (source_id, item_id, entry_id, link, content_hash, first_seen_at, last_seen_at)
                     VALUES (1, ?1, ?1, ?2, 'h', ?3, ?3)",
                    rusqlite::params![n, format!("https://s.example/{n}"), published],
                )
                .unwrap();
                tx.execute(
                    "INSERT INTO entry_fingerprints VALUES (?1, 1, 2, 100, zeroblob(512), zeroblob(500), ?2)",
                    rusqlite::params![n, published],
                )
                .unwrap();
                for b in 0..6 {
                    tx.execute(
                        "INSERT OR IGNORE INTO entry_bands VALUES (?1, ?2)",
                        rusqlite::params![(n * 7 + b) % 65536 + (b << 16), n],
                    )
                    .unwrap();
                }
            }
            tx.commit().unwrap();
            c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
            n
        };
        let size = std::fs::metadata(&db).unwrap().len();
        let t = Instant::now();
        let store = crate::store::Store::open(&db).unwrap();
        let migrated = t.elapsed();
        let t = Instant::now();
        let (expired, computed) = super::maintain_prints(&store, dedup::Rules::default(), now).unwrap();
        let printed = t.elapsed();
        let t = Instant::now();
        store.write(|w| w.key_hits(&[1]).map(|_| ())).unwrap();
        let indexed = t.elapsed();
        let (postings, bytes) = store.key_index_size().unwrap();
        println!(
            "{entries} entries, {:.0} MB at version 8: migration {:.1} s; prints computed for {computed} items ({expired} expired) in {:.1} s; key index of {postings} postings ({:.1} MB) built in {:.2} s",
            size as f64 / 1e6,
            migrated.as_secs_f64(),
            printed.as_secs_f64(),
            bytes as f64 / 1e6,
            indexed.as_secs_f64()
        );
    }
}
