//! One source's refresh, end to end: fetch → parse → normalize → dedup → store.
//!
//! The only module that wires the stages together, in miniflux's order
//! (sanitizing happens inside normalize, before anything is stored). Each
//! refresh runs in its own tracing span named after the source, never fails
//! the caller — a failure is recorded on the source row and returned as a
//! report — and commits the poll's entries together with the source's new
//! validators in one transaction.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use tracing::{Instrument, info, info_span, warn};

use crate::config::SourceConfig;
use crate::dedup::{self, Candidates, Identity};
use crate::fetch::{Body, FetchError, Fetched, Fetcher};
use crate::normalize;
use crate::parse::{self, Document, ParseError};
use crate::store::{PollRecord, Store, StoreError};

/// What a refresh needs: shared, cheap to clone.
#[derive(Debug, Clone)]
pub struct Context {
    /// The HTTP client.
    pub fetcher: Fetcher,
    /// The database.
    pub store: Arc<Store>,
    /// Ignore stored validators and fetch everything anew (`poll --force`).
    pub force: bool,
}

/// Why a refresh failed.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
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

impl PollError {
    /// A short machine-readable kind.
    pub fn kind(&self) -> &'static str {
        match self {
            PollError::Fetch(e) => e.kind(),
            PollError::Parse(e) => e.kind(),
            PollError::Store(_) => "database",
            PollError::Task(_) => "task",
        }
    }
}

/// What one refresh did.
#[derive(Debug, Clone, PartialEq)]
pub struct PollReport {
    /// The source's name.
    pub source: String,
    /// `ok`, `not-modified`, or an error kind.
    pub outcome: String,
    /// The HTTP status, when there was one.
    pub status: Option<u16>,
    /// Items in the document.
    pub items: usize,
    /// New entries.
    pub new: usize,
    /// Entries this source edited (rule 1).
    pub updated: usize,
    /// Items merged into a story another source brought (rule 2).
    pub merged: usize,
    /// Items skipped by include/exclude filters.
    pub filtered: usize,
    /// Body size in bytes.
    pub bytes: usize,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// The error in human words.
    pub error: Option<String>,
}

impl PollReport {
    /// Whether the poll failed.
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }
}

#[derive(Default)]
struct Counts {
    items: usize,
    new: usize,
    updated: usize,
    merged: usize,
    filtered: usize,
}

/// Refreshes one source. Never panics on input and never returns an error:
/// failures are stored on the source row and reported.
pub async fn refresh(cx: &Context, source: &SourceConfig, now: DateTime<Utc>) -> PollReport {
    let span = info_span!("poll", source = %source.name, url = %source.location);
    async {
        let started = Instant::now();
        let result = run(cx, source, now).await;
        let duration_ms = started.elapsed().as_millis() as u64;
        let (mut report, record) = match result {
            Ok(report) => (report, None),
            Err((e, status)) => {
                let error = e.to_string();
                let record = PollRecord {
                    at: now,
                    outcome: e.kind().to_string(),
                    status,
                    error: Some(error.clone()),
                    ..PollRecord::default()
                };
                let report = PollReport {
                    source: source.name.clone(),
                    outcome: e.kind().to_string(),
                    status,
                    items: 0,
                    new: 0,
                    updated: 0,
                    merged: 0,
                    filtered: 0,
                    bytes: 0,
                    duration_ms: 0,
                    error: Some(error),
                };
                (report, Some(record))
            }
        };
        report.duration_ms = duration_ms;
        if let Some(mut record) = record {
            record.duration_ms = duration_ms;
            warn!(kind = %report.outcome, "poll failed: {}", report.error.as_deref().unwrap_or(""));
            let store = cx.store.clone();
            let (name, url) = (source.name.clone(), source.location.to_string());
            let saved = tokio::task::spawn_blocking(move || {
                store.write(|w| {
                    let id = w.source_id(&name, &url)?;
                    w.record_poll(id, &record)
                })
            })
            .await;
            if let Ok(Err(e)) = saved {
                warn!("cannot record the failure: {e}");
            }
        } else {
            info!(
                outcome = %report.outcome,
                items = report.items,
                new = report.new,
                updated = report.updated,
                merged = report.merged,
                ms = duration_ms,
                "polled"
            );
        }
        report
    }
    .instrument(span)
    .await
}

type Failure = (PollError, Option<u16>);

async fn blocking<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> Result<T, PollError> + Send + 'static,
) -> Result<T, PollError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| PollError::Task(name.to_string()))?
}

async fn run(cx: &Context, source: &SourceConfig, now: DateTime<Utc>) -> Result<PollReport, Failure> {
    let started = Instant::now();
    let store = cx.store.clone();
    let (name, url) = (source.name.clone(), source.location.to_string());
    let (source_id, validators) = blocking(&source.name, move || {
        Ok(store.write(|w| {
            let id = w.source_id(&name, &url)?;
            Ok((id, w.validators(id)?))
        })?)
    })
    .await
    .map_err(|e| (e, None))?;

    let validators = if cx.force { Default::default() } else { validators };
    let fetched = cx.fetcher.fetch(&source.location, &validators).await.map_err(|e| {
        let status = e.status();
        (PollError::Fetch(e), status)
    })?;
    let mut report = PollReport {
        source: source.name.clone(),
        outcome: "ok".into(),
        status: None,
        items: 0,
        new: 0,
        updated: 0,
        merged: 0,
        filtered: 0,
        bytes: 0,
        duration_ms: 0,
        error: None,
    };
    match fetched {
        Fetched::NotModified => {
            report.outcome = "not-modified".into();
            report.status = matches!(source.location, crate::config::Location::Http(_)).then_some(304);
            let record = PollRecord {
                at: now,
                outcome: report.outcome.clone(),
                status: report.status,
                items: 0,
                ..PollRecord::default()
            };
            let store = cx.store.clone();
            blocking(&source.name, move || {
                Ok(store.write(|w| w.record_poll(source_id, &record))?)
            })
            .await
            .map_err(|e| (e, Some(304)))?;
        }
        Fetched::Body(body) => {
            let status = body.status;
            report.status = Some(status);
            report.bytes = body.bytes.len();
            let store = cx.store.clone();
            let source = source.clone();
            let elapsed = started.elapsed().as_millis() as u64;
            let counts = blocking(&source.name.clone(), move || {
                ingest(&store, &source, source_id, *body, now, elapsed)
            })
            .await
            .map_err(|e| (e, Some(status)))?;
            report.items = counts.items;
            report.new = counts.new;
            report.updated = counts.updated;
            report.merged = counts.merged;
            report.filtered = counts.filtered;
        }
    }
    Ok(report)
}

/// Parse, normalize, dedup and store one fetched document, in one transaction.
fn ingest(
    store: &Store,
    source: &SourceConfig,
    source_id: i64,
    body: Body,
    now: DateTime<Utc>,
    elapsed_ms: u64,
) -> Result<Counts, PollError> {
    let parsed = parse::parse(Document {
        bytes: &body.bytes,
        charset: body.charset.as_deref(),
        media_type: body.media_type.as_deref(),
        url: &body.final_url,
    })?;
    let base = matches!(body.final_url.scheme(), "http" | "https").then_some(&body.final_url);
    let ncx = normalize::Context {
        base_url: base,
        feed: &parsed.info,
        now,
    };
    let mut seen = HashSet::new();
    let mut entries = Vec::with_capacity(parsed.items.len());
    let mut counts = Counts {
        items: parsed.items.len(),
        ..Counts::default()
    };
    for item in &parsed.items {
        // A feed that repeats an id: the first occurrence wins, every poll.
        if !seen.insert(item.id.as_str()) {
            continue;
        }
        let entry = normalize::normalize(item, &ncx);
        let text = format!(
            "{}\n{}\n{}",
            entry.title,
            entry.summary_html.as_deref().unwrap_or(""),
            entry.content_html.as_deref().unwrap_or("")
        );
        if !source.accepts(&text) {
            counts.filtered += 1;
            continue;
        }
        entries.push(entry);
    }
    store.write(|w| {
        for e in &entries {
            let by_item = w
                .find_item(source_id, &e.item_id)?
                .map(|(id, hash)| (id, hash == e.content_hash));
            let by_link = match &e.canonical_link {
                Some(l) if by_item.is_none() => w.find_link(l)?,
                _ => None,
            };
            let tags = source.tags.iter().chain(e.categories.iter()).map(String::as_str);
            let entry_id = match dedup::decide(Candidates { by_item, by_link }) {
                Identity::Unchanged(_) => continue,
                Identity::New => {
                    let uid = dedup::entry_uid(&source.name, &e.item_id);
                    counts.new += 1;
                    w.insert(&uid, e, source_id, now)?
                }
                Identity::Edited(id) | Identity::SameLink(id) => {
                    let own = matches!(dedup::decide(Candidates { by_item, by_link }), Identity::Edited(_));
                    let (current, shown_from) = w.load(id)?;
                    let (merged, took_text) = dedup::merge(&current, e, own && shown_from == source_id, now);
                    if merged != current {
                        w.update(id, &merged, if took_text { source_id } else { shown_from })?;
                    }
                    if own {
                        counts.updated += 1;
                    } else {
                        counts.merged += 1;
                    }
                    id
                }
            };
            w.credit(source_id, &e.item_id, entry_id, e.link.as_deref(), &e.content_hash, now)?;
            w.tag(entry_id, tags)?;
        }
        w.record_poll(
            source_id,
            &PollRecord {
                at: now,
                outcome: "ok".into(),
                status: Some(body.status),
                error: None,
                validators: Some(body.validators.clone()),
                feed: Some(parsed.info.clone()),
                items: counts.items,
                new: counts.new,
                updated: counts.updated,
                merged: counts.merged,
                bytes: body.bytes.len(),
                duration_ms: elapsed_ms,
            },
        )?;
        Ok(())
    })?;
    Ok(counts)
}
