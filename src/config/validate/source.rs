//! Validation of `[[source]]` blocks: the name, the location (with "did
//! you mean" for a missing or mistyped scheme), the request options
//! (credentials, headers, user agent, `${NAME}` expansion, password files),
//! the proxy, and the full-text keys (`full_text_selector` checked as a CSS
//! selector).

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use toml::Spanned;
use url::Url;

use super::super::raw::RawSource;
use super::super::{DaemonConfig, FullText, Location, ProxySetting, RequestOptions, SourceConfig};
use super::{Validator, is_valid_name};
use crate::secrets::Secret;

/// The proxy URL schemes: HTTP proxies (`CONNECT` for https sources), and
/// SOCKS5 with the feed's host name resolved here (`socks5`) or by the
/// proxy (`socks5h`, after the address guard has resolved and checked it here).
const PROXY_SCHEMES: &[&str] = &["http", "https", "socks5", "socks5h"];

impl Validator<'_> {
    pub(super) fn source(
        &mut self,
        raw: Spanned<RawSource>,
        daemon: &DaemonConfig,
        dir: &Path,
        names: &mut HashSet<String>,
    ) -> Option<SourceConfig> {
        let raw = raw.into_inner();
        let before = self.problems.len();
        let name = raw.name.get_ref().clone();
        if !is_valid_name(&name) {
            self.report(
                raw.name.span(),
                format!("source name {name:?} must use only a-z, 0-9 and '-' (e.g. \"ansa-mondo\")"),
            );
        } else if !names.insert(name.clone()) {
            self.report(
                raw.name.span(),
                format!("source name {name:?} is used twice: names must be unique"),
            );
        }
        let location = self.location(&raw.url, dir);
        let title = match &raw.title {
            Some(t) if t.get_ref().trim().is_empty() => {
                self.report(
                    t.span(),
                    "a source title cannot be empty (leave `title` out to use the feed's own)",
                );
                None
            }
            Some(t) => Some(t.get_ref().split_whitespace().collect::<Vec<_>>().join(" ")),
            None => None,
        };
        let schedule = match &raw.schedule {
            Some(s) => self.schedule(s),
            None => Some(daemon.schedule.clone()),
        };
        let mut tags = Vec::new();
        for t in &raw.tags {
            let tag = t.get_ref().trim();
            if tag.is_empty() {
                self.report(t.span(), "a tag cannot be empty");
            } else if !tags.iter().any(|x| x == tag) {
                tags.push(tag.to_string());
            }
        }
        let policy = raw
            .allow_private_addresses
            .as_ref()
            .and_then(|v| self.address_policy(v));
        let include = self.regexes(&raw.include);
        let exclude = self.regexes(&raw.exclude);
        let request = self.request_options(&raw, dir);
        let full_text = self.full_text(&raw);
        let proxy = match &raw.proxy {
            Some(p) => self.proxy(p),
            None => daemon.proxy.clone(),
        };
        // An override that does not check out is reported; `None` is the daemon's value.
        let initial_entries = raw.initial_entries.as_ref().map(|n| self.initial_entries(n));
        let max_age = raw.max_age.as_ref().map(|a| self.max_age(a));
        if self.problems.len() > before {
            return None;
        }
        Some(SourceConfig {
            name,
            title,
            location: location?,
            schedule: schedule?,
            tags,
            include,
            exclude,
            allow_private_addresses: policy.unwrap_or_else(|| daemon.allow_private_addresses.clone()),
            cache_hints: raw.cache_hints.unwrap_or(daemon.cache_hints),
            request,
            proxy,
            initial_entries: initial_entries.unwrap_or(daemon.initial_entries),
            max_age: max_age.unwrap_or(daemon.max_age),
            full_text,
        })
    }

    /// `full_text`, `full_text_selector` (a CSS selector, checked here so a
    /// typo is a config error rather than a page nobody can read) and
    /// `full_text_rate`.
    fn full_text(&mut self, raw: &RawSource) -> Option<FullText> {
        let on = raw.full_text.as_ref().is_some_and(|b| *b.get_ref());
        let selector = raw.full_text_selector.as_ref().and_then(|s| {
            let text = s.get_ref().trim();
            match dom_query::Matcher::new(text) {
                Ok(_) if !text.is_empty() => Some(text.to_string()),
                Ok(_) => {
                    self.report(s.span(), "full_text_selector cannot be empty (leave it out to let the article be found)");
                    None
                }
                Err(_) => {
                    self.report(
                        s.span(),
                        format!(
                            "full_text_selector {text:?} is not a CSS selector: write e.g. \"article .post-body\" or \"#content\""
                        ),
                    );
                    None
                }
            }
        });
        let rate = raw
            .full_text_rate
            .as_ref()
            .and_then(|r| self.duration(r, "full_text_rate"));
        if !on {
            for span in [
                raw.full_text_selector.as_ref().map(|s| s.span()),
                raw.full_text_rate.as_ref().map(|s| s.span()),
            ]
            .into_iter()
            .flatten()
            {
                self.report(span, "this key needs full_text = true in the same [[source]]");
            }
            return None;
        }
        Some(FullText {
            selector,
            rate: rate.unwrap_or(crate::config::DEFAULT_FULL_TEXT_RATE),
        })
    }

    /// `initial_entries`: a count of at least 1.
    pub(super) fn initial_entries(&mut self, n: &Spanned<i64>) -> Option<usize> {
        match usize::try_from(*n.get_ref()) {
            Ok(v) if v >= 1 => Some(v),
            _ => {
                self.report(
                    n.span(),
                    format!(
                        "initial_entries must be 1 or more (how many of a new source's newest items are published; leave it out for no limit), not {}",
                        n.get_ref()
                    ),
                );
                None
            }
        }
    }

    /// `max_age`: a duration longer than zero.
    pub(super) fn max_age(&mut self, a: &Spanned<String>) -> Option<Duration> {
        let age = self.duration(a, "max_age")?;
        if age.is_zero() {
            self.report(
                a.span(),
                "max_age must be longer than 0s, e.g. \"30d\" (leave it out to keep items of any age)",
            );
            return None;
        }
        Some(age)
    }

    /// `proxy = "env"` or a proxy URL of one of the [`PROXY_SCHEMES`].
    pub(super) fn proxy(&mut self, raw: &Spanned<String>) -> Option<ProxySetting> {
        let text = raw.get_ref().trim();
        if text == "env" {
            return Some(ProxySetting::Env);
        }
        match Url::parse(text) {
            Ok(u) if PROXY_SCHEMES.contains(&u.scheme()) && u.host().is_some() => {
                Some(ProxySetting::Url(Secret::new(text)))
            }
            Ok(u) if PROXY_SCHEMES.contains(&u.scheme()) => {
                self.report(
                    raw.span(),
                    "this proxy URL names no host: write e.g. \"http://proxy.example:3128\" or \"socks5h://127.0.0.1:1080\"",
                );
                None
            }
            Ok(u) => {
                self.report(
                    raw.span(),
                    format!(
                        "proxy scheme {:?} is not supported: give \"env\" or an http://, https://, socks5:// or socks5h:// proxy URL such as \"http://proxy.example:3128\" or \"socks5h://127.0.0.1:1080\"",
                        u.scheme()
                    ),
                );
                None
            }
            Err(_) => {
                self.report(
                    raw.span(),
                    "proxy must be \"env\" or a URL such as \"http://proxy.example:3128\"",
                );
                None
            }
        }
    }

    /// A value of `password`, `username` or a header with each `${NAME}`
    /// replaced by that environment variable; an unset one is reported.
    fn expanded(&mut self, raw: &Spanned<String>, key: &str) -> Option<String> {
        match expand(raw.get_ref(), |name| std::env::var(name).ok()) {
            Ok(v) => Some(v),
            Err(e) => {
                self.report(raw.span(), format!("{key}: {e}"));
                None
            }
        }
    }

    /// `username`, `password`/`password_file`, `headers` and `user_agent`.
    fn request_options(&mut self, raw: &RawSource, dir: &Path) -> RequestOptions {
        let username = raw.username.as_ref().and_then(|u| self.expanded(u, "username"));
        let password = match (&raw.password, &raw.password_file) {
            (Some(_), Some(f)) => {
                self.report(f.span(), "give either password or password_file, not both");
                None
            }
            (Some(p), None) => self.expanded(p, "password"),
            (None, Some(f)) => self.password_file(f, dir),
            (None, None) => None,
        };
        if raw.username.is_none()
            && let Some(p) = raw.password.as_ref().or(raw.password_file.as_ref())
        {
            self.report(
                p.span(),
                "a password needs a username: add username = \"…\" to this source",
            );
        }
        let mut headers = Vec::new();
        if let Some(table) = &raw.headers {
            for (name, value) in table.get_ref() {
                if !is_header_name(name) {
                    self.report(
                        table.span(),
                        format!(
                            "headers: {name:?} is not an HTTP header name (letters, digits and '-', e.g. \"X-Api-Key\")"
                        ),
                    );
                    continue;
                }
                let Some(text) = value.as_str() else {
                    self.report(table.span(), format!("headers: the value of {name:?} must be a string"));
                    continue;
                };
                let spanned = Spanned::new(table.span(), text.to_string());
                let Some(text) = self.expanded(&spanned, &format!("headers.{name}")) else {
                    continue;
                };
                if !is_header_value(&text) {
                    // The value is not repeated: it may be a secret.
                    self.report(
                        table.span(),
                        format!("headers: the value of {name:?} is not a valid header value (no line breaks or control characters)"),
                    );
                    continue;
                }
                headers.push((name.to_ascii_lowercase(), Secret::new(text)));
            }
        }
        let user_agent = raw.user_agent.as_ref().and_then(|ua| {
            if !is_header_value(ua.get_ref()) || ua.get_ref().trim().is_empty() {
                self.report(ua.span(), "user_agent must be a non-empty line of text");
                None
            } else {
                Some(ua.get_ref().clone())
            }
        });
        RequestOptions {
            basic_auth: username.map(|u| (Secret::new(u), Secret::new(password.unwrap_or_default()))),
            headers,
            user_agent,
        }
    }

    /// The password in `password_file`: a relative path resolves against
    /// `$CREDENTIALS_DIRECTORY` (systemd's `LoadCredential=`) when set,
    /// else against the config file's folder; one trailing line break is dropped.
    fn password_file(&mut self, raw: &Spanned<String>, dir: &Path) -> Option<String> {
        let given = Path::new(raw.get_ref());
        let path = match std::env::var_os("CREDENTIALS_DIRECTORY") {
            Some(creds) if given.is_relative() && !creds.is_empty() => Path::new(&creds).join(given),
            _ => dir.join(given),
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let text = text.strip_suffix('\n').unwrap_or(&text);
                Some(text.strip_suffix('\r').unwrap_or(text).to_string())
            }
            Err(e) => {
                self.report(
                    raw.span(),
                    format!(
                        "cannot read password_file {}: {e} (a relative path starts at $CREDENTIALS_DIRECTORY when set, else at the config file's folder)",
                        path.display()
                    ),
                );
                None
            }
        }
    }

    fn location(&mut self, raw: &Spanned<String>, dir: &Path) -> Option<Location> {
        let text = raw.get_ref().trim();
        if text.is_empty() {
            self.report(raw.span(), "url is empty: give an http(s) URL or a file path");
            return None;
        }
        let path = if text.contains("://") {
            match Url::parse(text) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                    return Some(Location::Http(u));
                }
                Ok(u) if u.scheme() == "file" => match u.to_file_path() {
                    Ok(p) => p,
                    Err(()) => {
                        self.report(raw.span(), format!("{text:?} is not a usable file URL"));
                        return None;
                    }
                },
                Ok(u) => {
                    let hint = scheme_typo(&u)
                        .map(|fixed| format!("; did you mean {:?}?", crate::secrets::redact_url(&fixed)))
                        .unwrap_or_default();
                    self.report(
                        raw.span(),
                        format!(
                            "unsupported URL scheme {:?}: use http, https or a file path{hint}",
                            u.scheme()
                        ),
                    );
                    return None;
                }
                Err(e) => {
                    self.report(raw.span(), format!("{text:?} is not a valid URL: {e}"));
                    return None;
                }
            }
        } else {
            dir.join(text)
        };
        if !path.is_file() {
            let message = match missing_scheme(text) {
                // Only the URL is quoted, as URLs are shown: a credential in it as ***.
                Some(url) => format!(
                    "this url has no scheme and names no existing file: did you mean {:?}?",
                    crate::secrets::redact_url(&url)
                ),
                None => format!(
                    "file {} does not exist (relative paths start at the config file's folder)",
                    path.display()
                ),
            };
            self.report(raw.span(), message);
            return None;
        }
        Some(Location::File(path))
    }
}

/// Whether `name` is an HTTP header name (an RFC 9110 token).
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether `value` can be sent as a header value: visible ASCII, spaces and tabs.
fn is_header_value(value: &str) -> bool {
    value.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

/// `text` with each `${NAME}` replaced by `lookup(NAME)`; `$$` stands for
/// one `$`, any other `$` is kept. Names are letters, digits and `_`.
pub(super) fn expand(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('{') {
            let Some(end) = inner.find('}') else {
                return Err("\"${\" without its closing \"}\": write ${NAME}, or $$ for a literal $".into());
            };
            let name = &inner[..end];
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(format!(
                    "${{{name}}} is not a variable name: use letters, digits and _, or $$ for a literal $"
                ));
            }
            match lookup(name) {
                Some(v) => out.push_str(&v),
                None => {
                    return Err(format!(
                        "environment variable {name} is not set (set it, e.g. with systemd's EnvironmentFile=, or write $$ for a literal $)"
                    ));
                }
            }
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The URL meant by a `url` written without its scheme (`example.org/feed`,
/// `//example.org/feed`, `https:/example.org/feed`, `localhost:8080/feed`):
/// `None` unless what comes first reads as a host name with a top-level
/// domain (not a file extension such as `.xml`), `localhost` or an IP address.
fn missing_scheme(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let (scheme, rest) = ["https", "http"]
        .into_iter()
        .find_map(|scheme| {
            let rest = lower.strip_prefix(scheme)?.strip_prefix(':')?;
            Some((scheme, text.get(text.len() - rest.len()..)?))
        })
        .unwrap_or(("https", text));
    let rest = rest.trim_start_matches(['/', '\\']);
    let url = Url::parse(&format!("{scheme}://{rest}")).ok()?;
    let plausible = match url.host()? {
        url::Host::Domain(d) => {
            d == "localhost"
                || d.rsplit_once('.').is_some_and(|(name, tld)| {
                    !name.is_empty()
                        && tld.len() >= 2
                        && tld.bytes().all(|b| b.is_ascii_alphabetic())
                        && !FILE_EXTENSIONS.contains(&tld)
                })
        }
        url::Host::Ipv4(_) | url::Host::Ipv6(_) => true,
    };
    plausible.then(|| url.to_string())
}

/// Endings of feed and page files, which a missing file name ends with
/// more often than a host name does.
const FILE_EXTENSIONS: &[&str] = &[
    "xml", "rss", "atom", "rdf", "json", "feed", "html", "htm", "txt", "toml", "opml",
];

/// The `http`/`https` URL meant by one whose scheme is a typo of either
/// (one edit or swap away: `htps://`, `htpt://`) or `feed://`, which some
/// sites still link.
fn scheme_typo(url: &Url) -> Option<String> {
    let scheme = url.scheme();
    let fixed = if scheme == "feed" {
        "https"
    } else {
        ["https", "http"]
            .into_iter()
            .map(|s| (strsim::osa_distance(scheme, s), s))
            .min()
            .filter(|(d, _)| *d <= 1)?
            .1
    };
    url.host()?;
    let text = url.as_str();
    Some(format!("{fixed}{}", text.get(scheme.len()..)?))
}
