//! Turning a source location into bytes and validators, politely.
//!
//! Owns the HTTP client (reqwest with rustls): conditional GET with the
//! validators of the previous poll, a body cap applied to the decompressed
//! stream, connect and total timeouts, a user agent, and errors in words an
//! operator understands ("HTTP 404 from https://…", "timed out after 30 s").
//! `file` sources are read with the same cap; their modification time and
//! size act as validators so an unchanged file is not parsed again.
//!
//! It knows nothing of parsing or storage: it returns bytes and headers.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use tokio::io::AsyncReadExt;
use url::Url;

use crate::config::{DaemonConfig, Location};
use crate::model::Validators;

/// The settings the fetcher needs, taken from `[daemon]`.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// Total time for one fetch, body included.
    pub timeout: Duration,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Largest body accepted, after decompression.
    pub max_bytes: u64,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl FetchSettings {
    /// The fetch settings of a daemon configuration.
    pub fn from_config(d: &DaemonConfig) -> FetchSettings {
        FetchSettings {
            timeout: d.timeout,
            connect_timeout: d.timeout.min(Duration::from_secs(10)),
            max_bytes: d.max_feed_bytes,
            user_agent: d.user_agent.clone(),
        }
    }
}

/// A successful fetch.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetched {
    /// The server (or the file's metadata) says nothing changed since the last poll.
    NotModified,
    /// A new body to parse.
    Body(Box<Body>),
}

/// A fetched document.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
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
}

/// Why a fetch failed; every variant names the URL or path.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The server answered with an error status.
    #[error("HTTP {status} from {url}")]
    Status {
        /// The requested URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The fetch took longer than the configured timeout.
    #[error("timed out after {} s fetching {url}", secs)]
    Timeout {
        /// The requested URL.
        url: String,
        /// The timeout in seconds.
        secs: u64,
    },
    /// The body exceeded `max_feed_bytes`.
    #[error("{url} is larger than the limit of {limit} bytes (max_feed_bytes)")]
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
    /// Connecting failed (DNS, refused, TLS…).
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
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Status { .. } => "http-status",
            FetchError::Timeout { .. } => "timeout",
            FetchError::TooLarge { .. } => "too-large",
            FetchError::Empty { .. } => "empty",
            FetchError::Connect { .. } => "connect",
            FetchError::Transport { .. } => "transport",
            FetchError::File { .. } => "file",
            FetchError::Client(_) => "client",
        }
    }

    /// The HTTP status, when the server answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The fetcher: one HTTP client shared by every poll.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    settings: FetchSettings,
}

impl Fetcher {
    /// Builds the client.
    pub fn new(settings: FetchSettings) -> Result<Fetcher, FetchError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static(
                "application/atom+xml, application/rss+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5",
            ),
        );
        let client = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .default_headers(headers)
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .read_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| FetchError::Client(e.to_string()))?;
        Ok(Fetcher { client, settings })
    }

    /// Fetches a source, sending back the validators of its last poll.
    pub async fn fetch(&self, location: &Location, validators: &Validators) -> Result<Fetched, FetchError> {
        match location {
            Location::Http(url) => self.fetch_http(url, validators).await,
            Location::File(path) => self.fetch_file(path, validators).await,
        }
    }

    async fn fetch_http(&self, url: &Url, validators: &Validators) -> Result<Fetched, FetchError> {
        let shown = url.as_str().to_string();
        let mut request = self.client.get(url.clone());
        if let Some(etag) = &validators.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &validators.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, lm);
        }
        let mut response = request.send().await.map_err(|e| self.transport_error(&shown, e))?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                url: shown,
                status: status.as_u16(),
            });
        }
        let limit = self.settings.max_bytes;
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(FetchError::TooLarge { url: shown, limit });
        }
        let headers = response.headers().clone();
        let final_url = response.url().clone();
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
        Ok(Fetched::Body(Box::new(Body {
            bytes,
            charset,
            media_type,
            final_url,
            status: status.as_u16(),
            validators: Validators {
                etag: header_text(header::ETAG),
                last_modified: header_text(header::LAST_MODIFIED),
            },
        })))
    }

    async fn fetch_file(&self, path: &std::path::Path, validators: &Validators) -> Result<Fetched, FetchError> {
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
            return Ok(Fetched::NotModified);
        }
        let limit = self.settings.max_bytes;
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
        Ok(Fetched::Body(Box::new(Body {
            bytes,
            charset: None,
            media_type: None,
            final_url,
            status: 200,
            validators: Validators {
                etag: None,
                last_modified: stamp,
            },
        })))
    }

    fn transport_error(&self, url: &str, e: reqwest::Error) -> FetchError {
        if e.is_timeout() {
            return FetchError::Timeout {
                url: url.to_string(),
                secs: self.settings.timeout.as_secs().max(1),
            };
        }
        let detail = error_chain(&e);
        if e.is_connect() {
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

/// Media type and charset parameter of a `Content-Type` header.
pub fn content_type(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return (None, None);
    };
    parse_content_type(value)
}

/// Splits a `Content-Type` value into its media type and `charset` parameter.
pub fn parse_content_type(value: &str) -> (Option<String>, Option<String>) {
    let mut parts = value.split(';');
    let media = parts
        .next()
        .map(|m| m.trim().to_ascii_lowercase())
        .filter(|m| !m.is_empty());
    let charset = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|v| !v.is_empty())
    });
    (media, charset)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn content_type_parameters() {
        assert_eq!(
            parse_content_type("application/rss+xml; charset=\"ISO-8859-1\""),
            (Some("application/rss+xml".into()), Some("ISO-8859-1".into()))
        );
        assert_eq!(parse_content_type("Text/XML"), (Some("text/xml".into()), None));
        assert_eq!(parse_content_type(""), (None, None));
    }

    fn settings(max: u64) -> FetchSettings {
        FetchSettings {
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            max_bytes: max,
            user_agent: "test".into(),
        }
    }

    #[tokio::test]
    async fn unchanged_file_is_not_modified() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.xml");
        std::fs::write(&path, "<rss version=\"2.0\"><channel/></rss>").unwrap();
        let f = Fetcher::new(settings(1 << 20)).unwrap();
        let loc = Location::File(path.clone());
        let Fetched::Body(body) = f.fetch(&loc, &Validators::default()).await.unwrap() else {
            panic!("expected a body")
        };
        assert_eq!(body.final_url.scheme(), "file");
        assert_eq!(f.fetch(&loc, &body.validators).await.unwrap(), Fetched::NotModified);
    }

    #[tokio::test]
    async fn file_cap_and_empty_file() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.xml");
        std::fs::write(&big, vec![b'a'; 5000]).unwrap();
        let f = Fetcher::new(settings(4096)).unwrap();
        let err = f.fetch(&Location::File(big), &Validators::default()).await.unwrap_err();
        assert!(matches!(err, FetchError::TooLarge { limit: 4096, .. }), "{err}");
        let empty = dir.path().join("empty.xml");
        std::fs::write(&empty, "  \n").unwrap();
        let err = f
            .fetch(&Location::File(empty), &Validators::default())
            .await
            .unwrap_err();
        assert!(err.to_string().starts_with("not a feed: empty body"), "{err}");
    }
}
