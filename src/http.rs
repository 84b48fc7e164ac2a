//! The HTTP face: merged feeds and health over axum.
//!
//! Owns routes, caching headers and the mapping of errors to status codes.
//! Rendered feeds are cached per format and re-rendered only when the
//! store's data version moves, so readers polling every minute cost a hash
//! lookup, not a query. Database work runs off the async threads.
//!
//! It reads the store and calls `publish`; it never fetches or parses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};

use crate::config::{Config, FeedConfig};
use crate::metrics::Metrics;
use crate::opml::Outline;
use crate::publish::{self, FeedMeta, Format};
use crate::store::{Store, StoreError};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Errors of the HTTP layer, mapped to status codes without leaking internals.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The path names nothing we serve.
    #[error("{0}")]
    NotFound(String),
    /// The database failed; logged, and shown to the client as a 503.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A blocking task died.
    #[error("internal task failed")]
    Task,
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        match self {
            HttpError::NotFound(msg) => (StatusCode::NOT_FOUND, msg).into_response(),
            HttpError::Store(e) => {
                tracing::error!("serving a request: {e}");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the database is unavailable; try again later\n",
                )
                    .into_response()
            }
            HttpError::Task => (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response(),
        }
    }
}

/// A rendered feed and its validators.
#[derive(Debug)]
struct Rendered {
    version: u64,
    body: Bytes,
    etag: String,
    last_modified: DateTime<Utc>,
}

/// Shared state of the server.
#[derive(Debug)]
pub struct AppState {
    store: Arc<Store>,
    feed: Mutex<FeedConfig>,
    outlines: Mutex<Vec<Outline>>,
    cache: Mutex<HashMap<Format, Arc<Rendered>>>,
    metrics: Arc<Metrics>,
    heartbeat: AtomicI64,
    heartbeat_every: Duration,
}

fn outlines(config: &Config) -> Vec<Outline> {
    config
        .sources
        .iter()
        .map(|s| Outline {
            title: s.name.clone(),
            xml_url: s.location.to_string(),
            html_url: None,
            folders: s.tags.clone(),
        })
        .collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AppState {
    /// State for a server over `store` describing its feeds as `config` says.
    pub fn new(store: Arc<Store>, config: &Config, metrics: Arc<Metrics>) -> Arc<AppState> {
        Arc::new(AppState {
            store,
            feed: Mutex::new(config.feed.clone()),
            outlines: Mutex::new(outlines(config)),
            cache: Mutex::new(HashMap::new()),
            metrics,
            heartbeat: AtomicI64::new(Utc::now().timestamp()),
            heartbeat_every: Duration::from_secs(30),
        })
    }

    /// Takes the feed metadata and sources of a reloaded config and drops the cache.
    pub fn set_config(&self, config: &Config) {
        *lock(&self.feed) = config.feed.clone();
        *lock(&self.outlines) = outlines(config);
        lock(&self.cache).clear();
    }

    /// Records that the scheduler loop is alive (for `/healthz`).
    pub fn heartbeat(&self) {
        self.heartbeat.store(Utc::now().timestamp(), Ordering::Relaxed);
    }

    fn feed(&self) -> FeedConfig {
        lock(&self.feed).clone()
    }
}

/// The feed metadata of the merged feed `all` in `format`.
pub fn feed_meta(feed: &FeedConfig, format: Format) -> FeedMeta {
    let self_url = feed
        .base_url
        .join(&format!("feed.{}", format.extension()))
        .map(|u| u.to_string())
        .unwrap_or_else(|_| feed.base_url.to_string());
    FeedMeta {
        title: feed.title.clone(),
        description: feed.description.clone(),
        id: format!("{}feed", feed.base_url),
        self_url,
        site_url: feed.base_url.to_string(),
        author: feed.author.clone(),
        language: None,
        next_url: None,
        previous_url: None,
        hub_url: None,
        generator_version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// Renders the merged feed `all` from the store (blocking).
pub fn render_all(store: &Store, feed: &FeedConfig, format: Format, now: DateTime<Utc>) -> Result<String, StoreError> {
    let entries = store.newest(feed.entries, 0)?;
    Ok(publish::render(format, &feed_meta(feed, format), &entries, now))
}

/// The router.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/sources", get(sources))
        .route("/metrics", get(metrics))
        .route("/opml", get(opml))
        .route("/{file}", get(feed))
        .layer(axum::middleware::from_fn_with_state(state.clone(), count_requests))
        .with_state(state)
}

/// Counts every request by route template and status.
async fn count_requests(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let route = match request.uri().path() {
        p @ ("/feed.atom" | "/feed.rss" | "/feed.json" | "/healthz" | "/sources" | "/metrics" | "/opml") => {
            p.to_string()
        }
        _ => "other".to_string(),
    };
    let response = next.run(request).await;
    state.metrics.record_http(&route, response.status().as_u16());
    response
}

async fn metrics(State(state): State<Arc<AppState>>) -> Result<Response, HttpError> {
    let store = state.store.clone();
    let (sources, entries, size) = tokio::task::spawn_blocking(move || -> Result<_, StoreError> {
        Ok((store.sources()?, store.entry_count()?, store.size_bytes()))
    })
    .await
    .map_err(|_| HttpError::Task)??;
    let body = state.metrics.render(&sources, entries, size);
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response())
}

async fn opml(State(state): State<Arc<AppState>>) -> Response {
    let outlines = lock(&state.outlines).clone();
    let body = crate::opml::render(&state.feed().title, &outlines, Utc::now());
    ([(header::CONTENT_TYPE, "text/x-opml; charset=utf-8")], body).into_response()
}

async fn healthz(State(state): State<Arc<AppState>>) -> Result<Response, HttpError> {
    let store = state.store.clone();
    let entries = tokio::task::spawn_blocking(move || {
        store.ping()?;
        store.entry_count()
    })
    .await
    .map_err(|_| HttpError::Task)??;
    let age = Utc::now().timestamp() - state.heartbeat.load(Ordering::Relaxed);
    if age > 3 * state.heartbeat_every.as_secs() as i64 {
        return Ok((
            StatusCode::SERVICE_UNAVAILABLE,
            format!("scheduler stalled: no heartbeat for {age} s\n"),
        )
            .into_response());
    }
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("ok: {entries} entries\n"),
    )
        .into_response())
}

/// Per-source status as JSON, for monitoring: which feeds fail and why.
async fn sources(State(state): State<Arc<AppState>>) -> Result<Response, HttpError> {
    let store = state.store.clone();
    let states = tokio::task::spawn_blocking(move || store.sources())
        .await
        .map_err(|_| HttpError::Task)??;
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let list: Vec<serde_json::Value> = states
        .iter()
        .map(|s| {
            serde_json::json!({
                "name": s.name,
                "url": s.url,
                "current_url": s.current_url,
                "title": s.title,
                "last_poll": time(s.last_poll),
                "last_success": time(s.last_success),
                "last_status": s.last_status,
                "last_error": s.last_error,
                "consecutive_failures": s.consecutive_failures,
                "retry_after": time(s.retry_after),
                "next_due": time(s.next_due),
                "items": s.items,
                "not_modified": s.not_modified,
            })
        })
        .collect();
    let body = serde_json::to_string_pretty(&serde_json::json!({ "sources": list })).unwrap_or_default();
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn feed(
    State(state): State<Arc<AppState>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let format = file
        .strip_prefix("feed.")
        .and_then(Format::from_extension)
        .ok_or_else(|| {
            HttpError::NotFound(format!(
                "no such page: /{file}\nfeeds: /feed.atom /feed.rss /feed.json\n"
            ))
        })?;
    let rendered = rendered(&state, format).await?;
    let not_modified = match headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        Some(tags) => tags.split(',').any(|t| t.trim() == rendered.etag || t.trim() == "*"),
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
            .is_some_and(|since| rendered.last_modified.timestamp() <= since.timestamp()),
    };
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(rendered.body.clone()))
    };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    if let Ok(v) = HeaderValue::from_str(&rendered.etag) {
        h.insert(header::ETAG, v);
    }
    let lm = rendered.last_modified.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    if let Ok(v) = HeaderValue::from_str(&lm) {
        h.insert(header::LAST_MODIFIED, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(response)
}

async fn rendered(state: &Arc<AppState>, format: Format) -> Result<Arc<Rendered>, HttpError> {
    let version = state.store.data_version();
    if let Some(r) = state.cache.lock().unwrap_or_else(|p| p.into_inner()).get(&format)
        && r.version == version
    {
        return Ok(r.clone());
    }
    let store = state.store.clone();
    let feed = state.feed();
    let r = tokio::task::spawn_blocking(move || -> Result<Rendered, StoreError> {
        let now = Utc::now();
        let entries = store.newest(feed.entries, 0)?;
        let body = publish::render(format, &feed_meta(&feed, format), &entries, now);
        let last_modified = publish::feed_updated(&entries, now);
        let etag = etag_of(&body);
        Ok(Rendered {
            version,
            body: Bytes::from(body),
            etag,
            last_modified,
        })
    })
    .await
    .map_err(|_| HttpError::Task)??;
    let r = Arc::new(r);
    state
        .cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(format, r.clone());
    Ok(r)
}

/// A strong ETag: a fixed-key hash of the exact body, stable across restarts.
fn etag_of(body: &str) -> String {
    use siphasher::sip128::{Hasher128, SipHasher13};
    use std::hash::Hasher;
    let mut h = SipHasher13::new_with_keys(0x6574_6167, 0x7472_6962);
    h.write(body.as_bytes());
    format!("\"{:032x}\"", h.finish128().as_u128())
}
