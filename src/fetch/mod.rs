//! Turning a source location into bytes and validators, politely.
//!
//! Owns the HTTP clients (reqwest with rustls) and everything about talking
//! to servers well:
//! - conditional GET with the validators of the previous poll;
//! - redirects followed by our own code, at most `MAX_REDIRECTS` hops,
//!   loops detected, every hop re-checked by the SSRF [`guard`], and a chain
//!   made only of 301/308 reported so the pipeline can adopt the new URL;
//! - a body cap applied to the decompressed stream (gzip, br, deflate, zstd),
//!   connect, read and total timeouts;
//! - global and per-host concurrency limits;
//! - server hints: `Retry-After` on 429/503 (per source, and host-wide only
//!   when `HOST_THROTTLE_SOURCES` sources of one host were told so), and
//!   `Cache-Control: max-age`/`Expires` as a floor on the next poll;
//! - errors in words an operator understands ("HTTP 404 from https://…",
//!   "timed out after 30 s fetching …", "TLS: …");
//! - no proxy unless configured: `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`
//!   and the like are used only with `proxy = "env"`, and a proxied
//!   request's own host is resolved here and checked by the guard before
//!   the request goes to the proxy (which the resolver then checks too);
//! - certificates checked against the system's CA roots (the distribution's
//!   bundle, or `SSL_CERT_FILE`/`SSL_CERT_DIR`), or, on a system with none,
//!   against the Mozilla roots built into the binary, said once in a warning.
//!
//! `file` sources are read with the same cap; their modification time and
//! size act as validators. The fetcher knows nothing of parsing or storage.

pub mod guard;
mod hints;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use tokio::io::AsyncReadExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use crate::config::{DaemonConfig, Location, ProxySetting, RequestOptions};
use crate::model::{AddressPolicy, Validators};
use hints::{content_type, max_age, retry_after};

/// Redirect hops followed before giving up.
const MAX_REDIRECTS: usize = 5;
/// How many sources of one host must be told to back off before the whole host is.
const HOST_THROTTLE_SOURCES: usize = 3;

/// The settings the fetcher needs, taken from `[daemon]`.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// Total time for one fetch, body included.
    pub(crate) timeout: Duration,
    /// Time to establish a connection.
    pub(crate) connect_timeout: Duration,
    /// Largest body accepted, after decompression.
    pub(crate) max_bytes: u64,
    /// The `User-Agent` header.
    pub(crate) user_agent: String,
    /// Fetches in flight, all hosts together.
    pub(crate) max_concurrent: usize,
    /// Fetches in flight to one host.
    pub(crate) max_per_host: usize,
}

impl FetchSettings {
    /// The fetch settings of a daemon configuration.
    pub fn from_config(d: &DaemonConfig) -> FetchSettings {
        FetchSettings {
            timeout: d.timeout,
            connect_timeout: d.timeout.min(Duration::from_secs(10)),
            max_bytes: d.max_feed_bytes,
            user_agent: d.user_agent.clone(),
            max_concurrent: d.max_concurrent_fetches,
            max_per_host: d.max_concurrent_per_host,
        }
    }
}

/// One fetch to make.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    /// The source's name (host-wide throttling counts distinct sources).
    pub source: &'a str,
    /// Where the source lives, as configured.
    pub location: &'a Location,
    /// A permanently redirected URL to use instead of the configured one.
    pub current_url: Option<&'a Url>,
    /// Validators of the last successful poll.
    pub validators: &'a Validators,
    /// Which addresses may be contacted.
    pub policy: &'a AddressPolicy,
    /// Credentials, headers and user agent of the source; credentials and
    /// headers go only to the host of the configured URL.
    pub options: &'a RequestOptions,
    /// The proxy to send the request through, if any.
    pub proxy: Option<&'a ProxySetting>,
}

/// A successful fetch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Response {
    /// What came back.
    pub fetched: Fetched,
    /// When every hop was a 301/308: the final URL, to adopt if it holds.
    pub permanent_redirect: Option<Url>,
    /// `Cache-Control: max-age` / `Expires`: don't poll again before this long (capped).
    pub max_age: Option<Duration>,
}

/// The body of a successful fetch, or the news that nothing changed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Fetched {
    /// The server (or the file's metadata) says nothing changed since the last poll.
    NotModified,
    /// A new body to parse.
    Body(Box<Body>),
}

bench_pub! {
    /// A fetched document.
    #[derive(Debug, Clone, PartialEq)]
    struct Body {
        /// The body, decompressed, at most `max_bytes` long.
        pub bytes: Vec<u8>,
        /// The `charset` parameter of the `Content-Type` header, if any.
        pub charset: Option<String>,
        /// The media type of the `Content-Type` header, if any (lower-case, no parameters).
        pub media_type: Option<String>,
        /// The URL the body came from, after redirects (a `file://` URL for files):
        /// the base for relative links.
        pub final_url: Url,
        /// The HTTP status (200 for files).
        pub status: u16,
        /// Validators to send back on the next poll.
        pub validators: Validators,
        /// The values of the `Link` headers (RFC 8288), where a page may
        /// advertise its feeds.
        pub links: Vec<String>,
    }
}

/// Why a fetch failed; every variant names the URL or path.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The server answered with an error status.
    #[error("HTTP {status} from {url}{}", retry_after.map(|t| format!(" (retry after {})", t.format("%Y-%m-%d %H:%M:%S UTC"))).unwrap_or_default())]
    Status {
        /// The requested URL.
        url: String,
        /// The status code.
        status: u16,
        /// When a 429/503 said to come back.
        retry_after: Option<DateTime<Utc>>,
    },
    /// The fetch took longer than the configured timeout.
    #[error("timed out after {secs} s fetching {url}")]
    Timeout {
        /// The requested URL.
        url: String,
        /// The timeout in seconds.
        secs: u64,
    },
    /// The body exceeded `max_feed_bytes`.
    #[error("{url} is larger than the limit of {limit} bytes (raise [daemon] max_feed_bytes to accept it)")]
    TooLarge {
        /// The requested URL or path.
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The body was empty.
    #[error("not a feed: empty body from {url}")]
    Empty {
        /// The requested URL or path.
        url: String,
    },
    /// The SSRF guard refused an address.
    #[error(
        "refused to fetch {url}: {detail}; set allow_private_addresses = true (or list the address) on this source or in [daemon] to allow it"
    )]
    Refused {
        /// The URL of the refused hop.
        url: String,
        /// Which address and why.
        detail: String,
    },
    /// More than `MAX_REDIRECTS` redirects.
    #[error("too many redirects (more than {MAX_REDIRECTS}) starting at {url}")]
    TooManyRedirects {
        /// The first URL.
        url: String,
    },
    /// A redirect chain came back to a URL it had visited.
    #[error("redirect loop at {url}")]
    RedirectLoop {
        /// The URL seen twice.
        url: String,
    },
    /// A redirect without a usable `Location`.
    #[error("bad redirect from {url}: {detail}")]
    BadRedirect {
        /// The redirecting URL.
        url: String,
        /// What was wrong.
        detail: String,
    },
    /// Several sources of this host were told to back off; this one waits too.
    #[error("{host} asked several sources to slow down; not fetching {url} before {}", until.format("%Y-%m-%d %H:%M:%S UTC"))]
    HostThrottled {
        /// The requested URL.
        url: String,
        /// The host.
        host: String,
        /// Until when.
        until: DateTime<Utc>,
    },
    /// A TLS failure (expired or untrusted certificate, handshake…).
    #[error("TLS: {detail} ({url})")]
    Tls {
        /// The requested URL.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// Connecting failed (DNS, refused…).
    #[error("cannot connect to {url}: {detail}")]
    Connect {
        /// The requested URL.
        url: String,
        /// What went wrong, in words.
        detail: String,
    },
    /// Any other transport error.
    #[error("request to {url} failed: {detail}")]
    Transport {
        /// The requested URL.
        url: String,
        /// What went wrong, in words.
        detail: String,
    },
    /// A file source could not be read.
    #[error("cannot read {}: {source}", path.display())]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

impl FetchError {
    /// A short machine-readable kind, for logs, the fetch log and metrics.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            FetchError::Status { .. } => "http-status",
            FetchError::Timeout { .. } => "timeout",
            FetchError::TooLarge { .. } => "too-large",
            FetchError::Empty { .. } => "empty",
            FetchError::Refused { .. } => "refused",
            FetchError::TooManyRedirects { .. } | FetchError::RedirectLoop { .. } | FetchError::BadRedirect { .. } => {
                "redirect"
            }
            FetchError::HostThrottled { .. } => "host-throttled",
            FetchError::Tls { .. } => "tls",
            FetchError::Connect { .. } => "connect",
            FetchError::Transport { .. } => "transport",
            FetchError::File { .. } => "file",
            FetchError::Client(_) => "client",
        }
    }

    /// The HTTP status, when the server answered with one.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// When the server asked us to come back (429/503 `Retry-After`), or a host-wide throttle ends.
    pub(crate) fn retry_after(&self) -> Option<DateTime<Utc>> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            FetchError::HostThrottled { until, .. } => Some(*until),
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
struct HostThrottle {
    sources: HashSet<String>,
    until: Option<DateTime<Utc>>,
}

/// The fetcher: HTTP clients and limits shared by every poll.
#[derive(Debug, Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: FetchSettings,
    lookup: guard::Lookup,
    clients: Mutex<HashMap<(AddressPolicy, Option<ProxySetting>), reqwest::Client>>,
    /// Set once the system's CA roots failed to load: every client built
    /// from then on trusts the bundled Mozilla roots.
    bundled_roots: AtomicBool,
    global: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    throttles: Mutex<HashMap<String, HostThrottle>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The maps hold no invariants a panic could break halfway.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The key of a URL's host for per-host limits: host and port.
pub(crate) fn host_key(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

impl Fetcher {
    /// Builds a fetcher; clients are built per address policy on first use.
    pub(crate) fn new(settings: FetchSettings) -> Result<Fetcher, FetchError> {
        Fetcher::with_lookup(settings, guard::Lookup::system())
    }

    /// Builds a fetcher whose host names are looked up by `lookup` (every
    /// answer still goes through the SSRF guard).
    pub fn with_lookup(settings: FetchSettings, lookup: guard::Lookup) -> Result<Fetcher, FetchError> {
        let fetcher = Fetcher {
            inner: Arc::new(Inner {
                global: Arc::new(Semaphore::new(settings.max_concurrent.max(1))),
                settings,
                lookup,
                clients: Mutex::new(HashMap::new()),
                bundled_roots: AtomicBool::new(false),
                hosts: Mutex::new(HashMap::new()),
                throttles: Mutex::new(HashMap::new()),
            }),
        };
        fetcher.client(&AddressPolicy::PublicOnly, None)?;
        Ok(fetcher)
    }

    fn client(&self, policy: &AddressPolicy, proxy: Option<&ProxySetting>) -> Result<reqwest::Client, FetchError> {
        let key = (policy.clone(), proxy.cloned());
        if let Some(c) = lock(&self.inner.clients).get(&key) {
            return Ok(c.clone());
        }
        let proxied = match proxy {
            None | Some(ProxySetting::Env) => None,
            Some(ProxySetting::Url(url)) => Some(reqwest::Proxy::all(url.expose()).map_err(|e| {
                FetchError::Client(format!(
                    "proxy {}: {}",
                    crate::secrets::redact_url(url.expose()),
                    crate::secrets::redact_text(&error_chain(&e))
                ))
            })?),
        };
        let builder = |policy: &AddressPolicy| {
            let b = self.builder(policy);
            match (&proxied, proxy) {
                (Some(p), _) => b.proxy(p.clone()),
                // reqwest reads the proxy variables unless told not to.
                (None, Some(ProxySetting::Env)) => b,
                (None, _) => b.no_proxy(),
            }
        };
        let client = if self.inner.bundled_roots.load(Ordering::Relaxed) {
            builder(policy)
                .tls_certs_only(bundled_roots())
                .build()
                .map_err(|e| FetchError::Client(error_chain(&e)))?
        } else {
            match builder(policy).build() {
                Ok(client) => client,
                // The two builders differ only in their CA roots, so when
                // the second one works the system's roots were the problem
                // (no CA bundle, or nothing usable in it).
                Err(system) => {
                    let client = builder(policy)
                        .tls_certs_only(bundled_roots())
                        .build()
                        .map_err(|_| FetchError::Client(error_chain(&system)))?;
                    if !self.inner.bundled_roots.swap(true, Ordering::Relaxed) {
                        tracing::warn!(
                            "cannot use the system's CA certificates ({}); https sources are verified against the Mozilla roots bundled with Tributary instead (install the ca-certificates package, or point SSL_CERT_FILE at a bundle, to use the system's)",
                            error_chain(&system)
                        );
                    }
                    client
                }
            }
        };
        lock(&self.inner.clients).insert(key, client.clone());
        Ok(client)
    }

    /// A client builder for `policy`, trusting the system's CA roots.
    fn builder(&self, policy: &AddressPolicy) -> reqwest::ClientBuilder {
        let s = &self.inner.settings;
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static(
                "application/atom+xml, application/rss+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5",
            ),
        );
        reqwest::Client::builder()
            .user_agent(s.user_agent.clone())
            .default_headers(headers)
            .connect_timeout(s.connect_timeout)
            .timeout(s.timeout)
            .read_timeout(s.timeout)
            .redirect(reqwest::redirect::Policy::none())
            // No proxy here: `client` adds the configured one, whose
            // requests `fetch_http` checks before sending.
            .dns_resolver(Arc::new(guard::GuardedResolver {
                policy: policy.clone(),
                lookup: self.inner.lookup.clone(),
            }))
            .pool_max_idle_per_host(s.max_per_host.max(1))
    }

    async fn host_permit(&self, url: &Url) -> Option<OwnedSemaphorePermit> {
        let sem = lock(&self.inner.hosts)
            .entry(host_key(url))
            .or_insert_with(|| Arc::new(Semaphore::new(self.inner.settings.max_per_host.max(1))))
            .clone();
        sem.acquire_owned().await.ok()
    }

    /// Fetches a source, sending back the validators of its last poll.
    pub(crate) async fn fetch(&self, req: Request<'_>) -> Result<Response, FetchError> {
        match req.location {
            Location::Http(url) => {
                let _global = self.inner.global.clone().acquire_owned().await.ok();
                self.fetch_http(req.current_url.unwrap_or(url), req).await
            }
            Location::File(path) => self.fetch_file(path, req.validators).await,
        }
    }

    fn check_throttle(&self, url: &Url, now: DateTime<Utc>) -> Result<(), FetchError> {
        let key = host_key(url);
        let throttles = lock(&self.inner.throttles);
        if let Some(t) = throttles.get(&key)
            && t.sources.len() >= HOST_THROTTLE_SOURCES
            && let Some(until) = t.until.filter(|u| *u > now)
        {
            return Err(FetchError::HostThrottled {
                url: url.to_string(),
                host: url.host_str().unwrap_or("").to_string(),
                until,
            });
        }
        Ok(())
    }

    fn note_throttle(&self, url: &Url, source: &str, until: Option<DateTime<Utc>>) {
        let key = host_key(url);
        let mut throttles = lock(&self.inner.throttles);
        match until {
            Some(until) => {
                let t = throttles.entry(key).or_default();
                t.sources.insert(source.to_string());
                t.until = Some(t.until.map_or(until, |u| u.max(until)));
            }
            // A success is evidence about this source only: the host's
            // record of other sources told to wait stands until it expires.
            None => {
                if let Some(t) = throttles.get_mut(&key) {
                    t.sources.remove(source);
                    if t.sources.is_empty() || t.until.is_some_and(|u| u <= Utc::now()) {
                        throttles.remove(&key);
                    }
                }
            }
        }
    }

    async fn fetch_http(&self, start: &Url, req: Request<'_>) -> Result<Response, FetchError> {
        let client = self.client(req.policy, req.proxy)?;
        let mut url = start.clone();
        let mut visited = HashSet::from([url.to_string()]);
        let mut all_permanent = true;
        let mut hops = 0;
        loop {
            if let Some(ip) = guard::literal(&url)
                && let Some(reason) = guard::check(req.policy, ip)
            {
                return Err(FetchError::Refused {
                    url: url.to_string(),
                    detail: guard::describe(ip, reason),
                });
            }
            // Through a proxy, the resolver sees only the proxy's name: the
            // feed's own host is resolved and checked here first.
            if req.proxy.is_some()
                && guard::literal(&url).is_none()
                && let Some(host) = url.host_str()
            {
                guard::check_name(&self.inner.lookup, req.policy, host)
                    .await
                    .map_err(|r| FetchError::Refused {
                        url: url.to_string(),
                        detail: r.to_string(),
                    })?;
            }
            self.check_throttle(&url, Utc::now())?;
            let _host = self.host_permit(&url).await;
            let mut request = client.get(url.clone());
            if let Some(ua) = &req.options.user_agent {
                request = request.header(header::USER_AGENT, ua);
            }
            // Not handed on to another host a redirect points at.
            if req.location.shares_credentials_with(&url) {
                for (name, value) in &req.options.headers {
                    request = request.header(name.as_str(), value.expose());
                }
                if let Some((user, password)) = &req.options.basic_auth {
                    request = request.basic_auth(user.expose(), Some(password.expose()));
                }
            }
            if let Some(etag) = &req.validators.etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &req.validators.last_modified {
                request = request.header(header::IF_MODIFIED_SINCE, lm);
            }
            let response = request
                .send()
                .await
                .map_err(|e| self.transport_error(url.as_str(), e))?;
            let status = response.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                hops += 1;
                if hops > MAX_REDIRECTS {
                    return Err(FetchError::TooManyRedirects { url: start.to_string() });
                }
                let location = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| FetchError::BadRedirect {
                        url: url.to_string(),
                        detail: format!("HTTP {} without a Location header", status.as_u16()),
                    })?;
                let next = url.join(location).map_err(|e| FetchError::BadRedirect {
                    url: url.to_string(),
                    detail: format!("Location {location:?} is not a URL: {e}"),
                })?;
                if !matches!(next.scheme(), "http" | "https") {
                    return Err(FetchError::BadRedirect {
                        url: url.to_string(),
                        detail: format!("redirect to a {} URL", next.scheme()),
                    });
                }
                all_permanent &= matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT);
                if !visited.insert(next.to_string()) {
                    return Err(FetchError::RedirectLoop { url: next.to_string() });
                }
                url = next;
                continue;
            }
            let permanent_redirect = (hops > 0 && all_permanent).then(|| url.clone());
            return self.finish(response, url, req, permanent_redirect).await;
        }
    }

    async fn finish(
        &self,
        mut response: reqwest::Response,
        url: Url,
        req: Request<'_>,
        permanent_redirect: Option<Url>,
    ) -> Result<Response, FetchError> {
        let now = Utc::now();
        let status = response.status();
        let headers = response.headers().clone();
        let shown = url.to_string();
        if matches!(status, StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE) {
            let retry_after = retry_after(&headers, now);
            self.note_throttle(&url, req.source, retry_after);
            return Err(FetchError::Status {
                url: shown,
                status: status.as_u16(),
                retry_after,
            });
        }
        self.note_throttle(&url, req.source, None);
        let max_age = max_age(&headers, now);
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Response {
                fetched: Fetched::NotModified,
                permanent_redirect,
                max_age,
            });
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                url: shown,
                status: status.as_u16(),
                retry_after: None,
            });
        }
        let limit = self.inner.settings.max_bytes;
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(FetchError::TooLarge { url: shown, limit });
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport_error(&shown, e))? {
            if bytes.len() as u64 + chunk.len() as u64 > limit {
                return Err(FetchError::TooLarge { url: shown, limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(FetchError::Empty { url: shown });
        }
        let (media_type, charset) = content_type(&headers);
        let header_text = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        Ok(Response {
            fetched: Fetched::Body(Box::new(Body {
                bytes,
                charset,
                media_type,
                final_url: url,
                status: status.as_u16(),
                validators: Validators {
                    etag: header_text(header::ETAG),
                    last_modified: header_text(header::LAST_MODIFIED),
                },
                links: headers
                    .get_all(header::LINK)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .map(str::to_string)
                    .collect(),
            })),
            permanent_redirect,
            max_age,
        })
    }

    async fn fetch_file(&self, path: &std::path::Path, validators: &Validators) -> Result<Response, FetchError> {
        let done = |fetched| {
            Ok(Response {
                fetched,
                permanent_redirect: None,
                max_age: None,
            })
        };
        let file_err = |source| FetchError::File {
            path: path.to_path_buf(),
            source,
        };
        let file = tokio::fs::File::open(path).await.map_err(file_err)?;
        let meta = file.metadata().await.map_err(file_err)?;
        let stamp = meta
            .modified()
            .ok()
            .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| format!("mtime:{}.{:09}:{}", d.as_secs(), d.subsec_nanos(), meta.len()));
        if stamp.is_some() && validators.last_modified == stamp {
            return done(Fetched::NotModified);
        }
        let limit = self.inner.settings.max_bytes;
        let shown = path.display().to_string();
        if meta.len() > limit {
            return Err(FetchError::TooLarge { url: shown, limit });
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.take(limit + 1).read_to_end(&mut bytes).await.map_err(file_err)?;
        if bytes.len() as u64 > limit {
            return Err(FetchError::TooLarge { url: shown, limit });
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(FetchError::Empty { url: shown });
        }
        let final_url = Url::from_file_path(path).map_err(|()| {
            file_err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not an absolute path",
            ))
        })?;
        done(Fetched::Body(Box::new(Body {
            bytes,
            charset: None,
            media_type: None,
            final_url,
            status: 200,
            validators: Validators {
                etag: None,
                last_modified: stamp,
            },
            links: Vec::new(),
        })))
    }

    fn transport_error(&self, url: &str, e: reqwest::Error) -> FetchError {
        if e.is_timeout() {
            return FetchError::Timeout {
                url: url.to_string(),
                secs: self.inner.settings.timeout.as_secs().max(1),
            };
        }
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(c) = cause {
            if let Some(r) = c.downcast_ref::<guard::Refused>() {
                return FetchError::Refused {
                    url: url.to_string(),
                    detail: r.to_string(),
                };
            }
            cause = c.source();
        }
        let detail = error_chain(&e);
        let lower = detail.to_ascii_lowercase();
        if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
            FetchError::Tls {
                url: url.to_string(),
                detail,
            }
        } else if e.is_connect() {
            FetchError::Connect {
                url: url.to_string(),
                detail,
            }
        } else {
            FetchError::Transport {
                url: url.to_string(),
                detail,
            }
        }
    }
}

/// Mozilla's CA roots, as shipped in this build.
fn bundled_roots() -> Vec<reqwest::Certificate> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .filter_map(|c| reqwest::Certificate::from_der(c.as_ref()).ok())
        .collect()
}

/// The innermost causes of an error, joined, which is where reqwest keeps the
/// useful words ("connection refused", "certificate expired").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests;
