//! The HTTP face: merged feeds, status and health over axum.
//!
//! Owns routes, caching headers and the mapping of errors to status codes.
//! Rendered pages are cached per (output, format, page) with their gzip and
//! brotli forms, and re-rendered only when the store's data version moves,
//! so readers polling every minute cost a hash lookup, not a query. Strong
//! ETags per encoding, `Last-Modified`, 304s, `Cache-Control` from the
//! shortest schedule. Database work runs off the async threads. One layer
//! on the router gives every response, errors and 404s included,
//! `X-Content-Type-Options: nosniff` and a Content-Security-Policy.
//!
//! It reads the store (through `outputs`) and calls `publish`; it never
//! fetches or parses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};

use crate::config::{ALL_OUTPUT, Config, FeedConfig, OutputConfig, SourceConfig};
use crate::metrics::Metrics;
use crate::opml::Outline;
use crate::outputs;
use crate::publish::Format;
use crate::secrets;
use crate::store::{Store, StoreError};
use crate::web::{self, Templates};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Errors of the HTTP layer, mapped to status codes without leaking internals.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    /// The path names nothing we serve.
    #[error("{0}")]
    NotFound(String),
    /// The database failed; logged, and shown to the client as a 503.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A blocking task died.
    #[error("internal task failed")]
    Task,
    /// A page's template failed; logged, and shown as a 500.
    #[error(transparent)]
    Web(#[from] web::WebError),
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
            HttpError::Web(e) => {
                tracing::error!("rendering a page: {e}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "this page's template failed; the server's log says why\n",
                )
                    .into_response()
            }
        }
    }
}

/// A rendered page, its compressed forms and validators.
#[derive(Debug)]
struct Rendered {
    version: u64,
    body: Bytes,
    gzip: OnceLock<Bytes>,
    brotli: OnceLock<Bytes>,
    etag: String,
    last_modified: DateTime<Utc>,
}

/// Content codings we serve, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Brotli,
    Gzip,
    Identity,
}

impl Rendered {
    fn encoded(&self, coding: Coding) -> Bytes {
        match coding {
            Coding::Identity => self.body.clone(),
            Coding::Gzip => self
                .gzip
                .get_or_init(|| {
                    use std::io::Write;
                    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                    // Compressing into a Vec cannot fail.
                    let _ = e.write_all(&self.body);
                    Bytes::from(e.finish().unwrap_or_default())
                })
                .clone(),
            Coding::Brotli => self
                .brotli
                .get_or_init(|| {
                    let mut out = Vec::new();
                    let params = brotli::enc::BrotliEncoderParams {
                        quality: 6,
                        ..Default::default()
                    };
                    let _ = brotli::BrotliCompress(&mut &self.body[..], &mut out, &params);
                    Bytes::from(out)
                })
                .clone(),
        }
    }

    fn encoded_if_ready(&self, coding: Coding) -> Option<Bytes> {
        match coding {
            Coding::Identity => Some(self.body.clone()),
            Coding::Gzip => self.gzip.get().cloned(),
            Coding::Brotli => self.brotli.get().cloned(),
        }
    }

    /// A strong ETag per representation: each coding is its own.
    fn etag(&self, coding: Coding) -> String {
        let bare = self.etag.trim_matches('"');
        match coding {
            Coding::Identity => self.etag.clone(),
            Coding::Gzip => format!("\"{bare}-gz\""),
            Coding::Brotli => format!("\"{bare}-br\""),
        }
    }
}

/// The body in `coding`, compressing it (once per page) off the async
/// threads so that a brotli pass never stalls other connections.
async fn encoded(rendered: &Arc<Rendered>, coding: Coding) -> Result<Bytes, HttpError> {
    if let Some(b) = rendered.encoded_if_ready(coding) {
        return Ok(b);
    }
    let r = rendered.clone();
    tokio::task::spawn_blocking(move || r.encoded(coding))
        .await
        .map_err(|_| HttpError::Task)
}

/// The coding to use for an `Accept-Encoding` header.
fn negotiate(headers: &HeaderMap) -> Coding {
    let Some(accept) = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()) else {
        return Coding::Identity;
    };
    let accepts = |name: &str| {
        accept.split(',').any(|part| {
            let mut it = part.split(';');
            let coding = it.next().unwrap_or("").trim();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            coding.eq_ignore_ascii_case(name) && q > 0.0
        })
    };
    if accepts("br") {
        Coding::Brotli
    } else if accepts("gzip") {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

/// A document served from the page cache: a feed, or the HTML river.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Doc {
    /// A merged feed in a format.
    Feed(Format),
    /// The river page (`/`, `/outputs/NAME.html`).
    River,
}

impl Doc {
    fn content_type(self) -> &'static str {
        match self {
            Doc::Feed(f) => f.content_type(),
            Doc::River => "text/html; charset=utf-8",
        }
    }
}

type CacheKey = (String, Doc, usize);

/// Most cached pages kept; beyond it the cache starts over.
const CACHE_PAGES: usize = 512;

/// Shared state of the server.
#[derive(Debug)]
pub struct AppState {
    store: Arc<Store>,
    feed: Mutex<FeedConfig>,
    outputs: Mutex<Vec<OutputConfig>>,
    max_age: AtomicU64,
    sources: Mutex<Vec<SourceConfig>>,
    cache: Mutex<HashMap<CacheKey, Arc<Slot>>>,
    metrics: Arc<Metrics>,
    heartbeat: AtomicI64,
    heartbeat_every: Duration,
    /// The pages' templates, or `None` when `[web] enabled = false`.
    web: Mutex<Option<Arc<Templates>>>,
    started: std::time::Instant,
}

/// The templates a config asks for: a folder's templates that fail to load
/// are logged and the built-in ones serve instead, so that a broken theme
/// never takes the pages down.
fn templates(config: &Config) -> Option<Arc<Templates>> {
    if !config.web.enabled {
        return None;
    }
    let t = Templates::load(config.web.templates.as_deref()).unwrap_or_else(|e| {
        tracing::error!("{e}; serving the built-in templates");
        Templates::built_in()
    });
    Some(Arc::new(t))
}

/// `Cache-Control: max-age`: the shortest poll interval, within 1 min … 1 h.
fn max_age(config: &Config) -> u64 {
    let now = Utc::now();
    config
        .sources
        .iter()
        .map(|s| s.schedule.interval_at(now).as_secs())
        .min()
        .unwrap_or(900)
        .clamp(60, 3600)
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
            outputs: Mutex::new(config.outputs.clone()),
            max_age: AtomicU64::new(max_age(config)),
            sources: Mutex::new(config.sources.clone()),
            cache: Mutex::new(HashMap::new()),
            metrics,
            heartbeat: AtomicI64::new(Utc::now().timestamp()),
            heartbeat_every: Duration::from_secs(30),
            web: Mutex::new(templates(config)),
            started: std::time::Instant::now(),
        })
    }

    /// Takes the feed metadata and sources of a reloaded config and drops the cache.
    pub(crate) fn set_config(&self, config: &Config) {
        *lock(&self.feed) = config.feed.clone();
        *lock(&self.outputs) = config.outputs.clone();
        self.max_age.store(max_age(config), Ordering::Relaxed);
        *lock(&self.sources) = config.sources.clone();
        *lock(&self.web) = templates(config);
        lock(&self.cache).clear();
    }

    /// Forgets every rendered page, so the next request of each renders it
    /// anew as after a change of the data (for the serving benchmarks).
    #[cfg(feature = "bench-internals")]
    pub fn drop_pages(&self) {
        lock(&self.cache).clear();
    }

    /// Records that the scheduler loop is alive (for `/healthz`).
    pub(crate) fn heartbeat(&self) {
        self.heartbeat.store(Utc::now().timestamp(), Ordering::Relaxed);
    }

    fn feed(&self) -> FeedConfig {
        lock(&self.feed).clone()
    }

    /// The outputs that have a `path`, for the files the daemon writes:
    /// (name, path without its extension).
    pub fn output_paths(&self) -> Vec<(String, std::path::PathBuf)> {
        lock(&self.outputs)
            .iter()
            .filter_map(|o| Some((o.name.clone(), o.path.clone()?)))
            .collect()
    }
}

/// The body of page `page` of `output` in `format` exactly as it is served
/// now: the cached page of the store's current data version, rendered (and
/// cached for the readers) if there is none. Unlike a request, which takes
/// the previous page while another renders the new one, this waits for the
/// render, so a file written from it holds the current entries.
pub(crate) async fn current_page(
    state: &Arc<AppState>,
    output: &str,
    format: Format,
    page: usize,
) -> Result<Bytes, HttpError> {
    Ok(rendered(state, output, Doc::Feed(format), page, Stale::Wait)
        .await?
        .body
        .clone())
}

/// The router.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/sources", get(sources))
        .route("/metrics", get(metrics))
        .route("/opml", get(opml))
        .route("/", get(river))
        .route("/status", get(status))
        .route("/style.css", get(style))
        .route("/{file}", get(feed))
        .route("/outputs/{file}", get(output_feed))
        .layer(axum::middleware::from_fn_with_state(state.clone(), count_requests))
        // Outermost, so that no response escapes it: fallback 404s, 405s
        // and the timeout answer of `count_requests` included.
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// The Content-Security-Policy of responses that set none of their own:
/// nothing served here is a page to run, so nothing may load or execute.
const DEFAULT_CSP: &str = "default-src 'none'; sandbox";

/// Adds `X-Content-Type-Options: nosniff` to every response, and
/// [`DEFAULT_CSP`] to those without a Content-Security-Policy of their own.
async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(DEFAULT_CSP));
    response
}

/// Longest time a request may take inside the server.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Counts every request by route template and status, within [`REQUEST_TIMEOUT`].
async fn count_requests(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let route = match request.uri().path() {
        p @ ("/" | "/status" | "/style.css" | "/feed.atom" | "/feed.rss" | "/feed.json" | "/healthz" | "/sources"
        | "/metrics" | "/opml") => p.to_string(),
        _ => "other".to_string(),
    };
    // Handlers only read caches and the database; one that takes this long
    // is stuck, and the client gets an answer instead of a hanging socket.
    let response = match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(r) => r,
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "request timed out; try again later\n").into_response(),
    };
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

/// What the store knows of each source that OPML shows: the feed's own
/// title, and its site link as it may be published (`http`/`https`,
/// without credentials).
pub(crate) fn known_sources(states: &[crate::store::SourceState]) -> HashMap<String, crate::opml::Known> {
    states
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                crate::opml::Known {
                    title: s.title.clone(),
                    site: s.site_link.as_deref().and_then(crate::secrets::public_url),
                },
            )
        })
        .collect()
}

/// `/opml`: the blogroll, each configured source under its title (the
/// configured one, else its feed's own once a poll has read it) and with
/// its site link.
async fn opml(State(state): State<Arc<AppState>>) -> Result<Response, HttpError> {
    let sources = lock(&state.sources).clone();
    // The feeds' own titles and site links; without them (a database
    // error) the list is still served, named by the configuration.
    let store = state.store.clone();
    let known = tokio::task::spawn_blocking(move || store.sources())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let outlines = Outline::from_sources(&sources, &known_sources(&known));
    let body = crate::opml::render(&state.feed().title, &outlines, Utc::now());
    Ok(([(header::CONTENT_TYPE, "text/x-opml; charset=utf-8")], body).into_response())
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
                "url": secrets::redact_url(&s.url),
                "current_url": s.current_url.as_deref().map(secrets::redact_url),
                "title": s.title,
                "last_poll": time(s.last_poll),
                "last_success": time(s.last_success),
                "last_status": s.last_status,
                "last_error": s.last_error.as_deref().map(secrets::redact_text),
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

/// `?page=N` of a feed request.
#[derive(Debug, serde::Deserialize)]
struct PageQuery {
    page: Option<String>,
}

async fn feed(
    State(state): State<Arc<AppState>>,
    Path(file): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let format = file.strip_prefix("feed.").and_then(Format::from_extension).ok_or_else(|| {
        HttpError::NotFound(format!(
            "no such page: /{file}\nfeeds: /feed.atom /feed.rss /feed.json, /outputs/NAME.atom|rss|json, /opml, /sources, /metrics, /healthz\n"
        ))
    })?;
    serve_page(&state, ALL_OUTPUT, Doc::Feed(format), q, &headers).await
}

/// The pages' templates, or a 404 when `[web] enabled = false`.
fn web_templates(state: &AppState) -> Result<Arc<Templates>, HttpError> {
    lock(&state.web)
        .clone()
        .ok_or_else(|| HttpError::NotFound("the web pages are turned off ([web] enabled = false)\n".into()))
}

/// `/`: the river of the `all` output.
async fn river(
    State(state): State<Arc<AppState>>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    web_templates(&state)?;
    serve_page(&state, ALL_OUTPUT, Doc::River, q, &headers).await
}

/// `/style.css`: the pages' stylesheet, with a strong ETag.
async fn style(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response, HttpError> {
    let t = web_templates(&state)?;
    let etag = etag_of(&t.style);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|x| x.trim() == etag || x.trim() == "*"));
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(t.style.clone()))
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    Ok(response)
}

/// `/status`: every source's state for operators, failing ones first.
async fn status(State(state): State<Arc<AppState>>) -> Result<Response, HttpError> {
    let t = web_templates(&state)?;
    let feed = state.feed();
    let sources = lock(&state.sources).clone();
    let store = state.store.clone();
    let uptime = state.started.elapsed();
    let body = tokio::task::spawn_blocking(move || -> Result<String, HttpError> {
        let known = store.sources()?;
        let (entries, size) = (store.entry_count()?, store.size_bytes());
        let tz = feed.timezone;
        let time = |t: Option<DateTime<Utc>>| t.map(|t| web::show_time(t, tz));
        // Every configured source, polled or not, in config order.
        let rows = sources
            .iter()
            .map(|src| {
                let s = known.iter().find(|s| s.name == src.name);
                web::SourceRow {
                    name: src.name.clone(),
                    title: src
                        .title
                        .clone()
                        .or_else(|| s.and_then(|s| s.title.clone()))
                        .unwrap_or_else(|| src.name.clone()),
                    site: s.and_then(|s| s.site_link.as_deref()).and_then(secrets::public_url),
                    last_poll: time(s.and_then(|s| s.last_poll)),
                    last_success: time(s.and_then(|s| s.last_success)),
                    status: s.and_then(|s| s.last_status),
                    items: s.map_or(0, |s| s.items),
                    failures: s.map_or(0, |s| s.consecutive_failures),
                    next_due: time(s.and_then(|s| s.next_due)),
                    error: s
                        .and_then(|s| s.last_error.as_deref())
                        .map(|e| secrets::redact_text(e).into_owned()),
                }
            })
            .collect();
        let page = web::StatusPage {
            title: &feed.title,
            uptime,
            database_bytes: size,
            entries,
        };
        Ok(web::render_status(&t, &page, rows)?)
    })
    .await
    .map_err(|_| HttpError::Task)??;
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(web::PAGE_CSP));
    Ok(response)
}

async fn output_feed(
    State(state): State<Arc<AppState>>,
    Path(file): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let names = || {
        std::iter::once(ALL_OUTPUT.to_string())
            .chain(lock(&state.outputs).iter().map(|o| o.name.clone()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (name, ext) = file.rsplit_once('.').unwrap_or((file.as_str(), ""));
    let doc = match ext {
        "html" => {
            web_templates(&state)?;
            Doc::River
        }
        _ => Doc::Feed(Format::from_extension(ext).ok_or_else(|| {
            HttpError::NotFound(format!(
                "no such format {ext:?} for /outputs/{file}: use .atom, .rss or .json for a feed, .html for its page\n"
            ))
        })?),
    };
    if name != ALL_OUTPUT && !lock(&state.outputs).iter().any(|o| o.name == name) {
        return Err(HttpError::NotFound(format!(
            "no output named {name:?}; outputs: {}\n",
            names()
        )));
    }
    serve_page(&state, name, doc, q, &headers).await
}

async fn serve_page(
    state: &Arc<AppState>,
    output: &str,
    doc: Doc,
    q: PageQuery,
    headers: &HeaderMap,
) -> Result<Response, HttpError> {
    let page = match q.page.as_deref() {
        None => 1,
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| (1..=100_000).contains(p))
            .ok_or_else(|| HttpError::NotFound(format!("page {p:?} is not a page number (1, 2, …)\n")))?,
    };
    let rendered = rendered(state, output, doc, page, Stale::Serve).await?;
    let coding = negotiate(headers);
    let etag = rendered.etag(coding);
    let not_modified = match headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        Some(tags) => tags
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == etag || t == rendered.etag || t == "*"),
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
            .is_some_and(|since| rendered.last_modified.timestamp() <= since.timestamp()),
    };
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(encoded(&rendered, coding).await?))
    };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(doc.content_type()));
    if doc == Doc::River {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(web::PAGE_CSP));
    }
    match coding {
        Coding::Brotli => {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        }
        Coding::Gzip => {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        Coding::Identity => {}
    }
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    let lm = rendered.last_modified.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    if let Ok(v) = HeaderValue::from_str(&lm) {
        h.insert(header::LAST_MODIFIED, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={}", state.max_age.load(Ordering::Relaxed))) {
        h.insert(header::CACHE_CONTROL, v);
    }
    Ok(response)
}

/// One cached page: the last complete render, and the gate that lets a
/// single request at a time render it anew.
#[derive(Debug, Default)]
struct Slot {
    page: Mutex<Option<Arc<Rendered>>>,
    render: tokio::sync::Mutex<()>,
}

/// What [`rendered`] does while another caller renders the page anew.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stale {
    /// Returns the previous complete page, if there is one (readers).
    Serve,
    /// Waits for that render (output files).
    Wait,
}

/// The page of `key` as of the store's current data version.
///
/// Single flight: when the store moved on, the first request renders the
/// page while the others keep getting the previous complete page (never a
/// half-updated one; with [`Stale::Wait`], they wait for the new one); a
/// request with no previous page waits for the render instead of starting
/// its own. So a thousand readers during a poll cost one render per key at
/// a time, not a thousand.
async fn rendered(
    state: &Arc<AppState>,
    output: &str,
    doc: Doc,
    page: usize,
    stale: Stale,
) -> Result<Arc<Rendered>, HttpError> {
    let version = state.store.data_version();
    let key: CacheKey = (output.to_string(), doc, page);
    let slot = {
        let mut cache = lock(&state.cache);
        if let Some(slot) = cache.get(&key) {
            slot.clone()
        } else {
            if cache.len() >= CACHE_PAGES {
                cache.clear();
            }
            cache.entry(key).or_default().clone()
        }
    };
    let current = lock(&slot.page).clone();
    if let Some(r) = current.as_ref().filter(|r| r.version >= version) {
        return Ok(r.clone());
    }
    let _gate = match slot.render.try_lock() {
        Ok(gate) => gate,
        Err(_) => match current {
            Some(previous) if stale == Stale::Serve => return Ok(previous),
            _ => slot.render.lock().await,
        },
    };
    // Whoever held the gate may have rendered a page new enough.
    if let Some(r) = lock(&slot.page).as_ref().filter(|r| r.version >= version) {
        return Ok(r.clone());
    }
    let mut r = render_page(state, output, doc, page).await?;
    // Last-Modified is the newest entry date, but a page whose content
    // changed since the last render was modified now at the latest: a story
    // dated before the newest one must still move it, or readers that
    // revalidate with If-Modified-Since alone would never get that story.
    if let Some(previous) = lock(&slot.page).as_ref() {
        r.last_modified = if previous.etag == r.etag {
            previous.last_modified
        } else {
            r.last_modified.max(previous.last_modified).max(Utc::now())
        };
    }
    let r = Arc::new(r);
    state.metrics.page_rendered();
    *lock(&slot.page) = Some(r.clone());
    Ok(r)
}

/// Renders one page off the async threads, stamped with the data version
/// read before its query.
async fn render_page(state: &Arc<AppState>, output: &str, doc: Doc, page: usize) -> Result<Rendered, HttpError> {
    let version = state.store.data_version();
    let store = state.store.clone();
    let feed = state.feed();
    let config = if output == ALL_OUTPUT {
        lock(&state.outputs)
            .iter()
            .find(|o| o.name == ALL_OUTPUT)
            .cloned()
            .unwrap_or_else(OutputConfig::all)
    } else {
        lock(&state.outputs)
            .iter()
            .find(|o| o.name == output)
            .cloned()
            .ok_or_else(|| HttpError::NotFound(format!("no output named {output:?}\n")))?
    };
    let templates = match doc {
        Doc::River => Some(web_templates(state)?),
        Doc::Feed(_) => None,
    };
    let r = tokio::task::spawn_blocking(move || -> Result<Rendered, HttpError> {
        let now = Utc::now();
        let (body, updated) = match (doc, templates) {
            (Doc::Feed(format), _) => {
                let page = outputs::render(&store, &feed, &config, format, page, now)?;
                (page.body, page.updated)
            }
            (Doc::River, Some(t)) => {
                let (entries, has_next, updated) = outputs::river_entries(&store, &feed, &config, page, now)?;
                let title = outputs::title_of(&feed, &config);
                let river = web::RiverPage {
                    title: &title,
                    description: feed.description.as_deref(),
                    output: &config.name,
                    page,
                    has_next,
                    timezone: feed.timezone,
                };
                (web::render_river(&t, &river, &entries)?, updated)
            }
            (Doc::River, None) => return Err(HttpError::NotFound("the web pages are turned off\n".into())),
        };
        Ok(Rendered {
            version,
            etag: etag_of(&body),
            body: Bytes::from(body),
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
            last_modified: updated,
        })
    })
    .await
    .map_err(|_| HttpError::Task)??;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_response_keeps_its_own_content_security_policy() {
        let own = "default-src 'self'";
        let mut response = "page".into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(own));
        let response = security_headers(response).await;
        let csp: Vec<_> = response
            .headers()
            .get_all(header::CONTENT_SECURITY_POLICY)
            .iter()
            .collect();
        assert_eq!(csp, [own], "the response's policy is kept, not replaced or doubled");
        assert_eq!(response.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");

        let plain = security_headers(StatusCode::NOT_FOUND.into_response()).await;
        assert_eq!(plain.headers()[header::CONTENT_SECURITY_POLICY], DEFAULT_CSP);
        assert_eq!(plain.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
}
