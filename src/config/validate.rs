//! Stage 2, validation: the raw structs become the checked [`Config`].
//!
//! Each value is checked and converted — schedules and durations parsed,
//! numbers bounded, URLs and addresses read, names checked for syntax and
//! uniqueness, files looked for, paths resolved against the config file's
//! folder — and a default given where the key is absent. A bad value is
//! reported at its span with what to write instead and validation goes on,
//! so one run lists every problem of the file, in file order.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use regex::Regex;
use toml::Spanned;
use url::Url;

use super::raw::{RawConfig, RawDaemon, RawFeed, RawSource, line_col};
use super::{
    Config, DEFAULT_MAX_CONNECTIONS_PER_ADDRESS, DaemonConfig, DedupConfig, FeedConfig, FullText, Location,
    MAX_CONNECTIONS, OutputConfig, Problem, ProxySetting, RequestOptions, Retention, SourceConfig, TimeZone, WebConfig,
    filter,
};
use crate::model::AddressPolicy;
use crate::schedule::Schedule;
use crate::secrets::Secret;

/// Checks `raw`, read from `text` at `path`, into a [`Config`]; relative
/// paths resolve against `dir`. On failure, every problem in file order.
pub(super) fn validate(raw: RawConfig, text: &str, path: &Path, dir: &Path) -> Result<Config, Vec<Problem>> {
    let mut v = Validator {
        text,
        problems: Vec::new(),
    };
    let config = v.config(raw, path, dir);
    if v.problems.is_empty() {
        Ok(config)
    } else {
        v.problems.sort_by_key(|p| (p.line, p.column));
        Err(v.problems)
    }
}

/// Reads a size such as `16MiB`, `500 KB` or a plain byte count.
fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let num: f64 = num
        .parse()
        .map_err(|_| format!("cannot read the size {text:?}: write e.g. \"16MiB\""))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "kib" | "k" => 1024.0,
        "mb" => 1e6,
        "mib" | "m" => 1024.0 * 1024.0,
        "gb" => 1e9,
        "gib" | "g" => 1024.0 * 1024.0 * 1024.0,
        u => return Err(format!("unknown size unit {u:?}: use B, KiB, MiB, GiB, KB, MB or GB")),
    };
    Ok((num * mult) as u64)
}

struct Validator<'t> {
    text: &'t str,
    problems: Vec<Problem>,
}

impl Validator<'_> {
    fn report(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = line_col(self.text, span.start);
        self.problems.push(Problem {
            line,
            column,
            message: message.into(),
        });
    }

    fn schedule(&mut self, s: &Spanned<String>) -> Option<Schedule> {
        match Schedule::parse(s.get_ref()) {
            Ok(s) => Some(s),
            Err(e) => {
                self.report(s.span(), format!("schedule {:?}: {e}", s.get_ref()));
                None
            }
        }
    }

    fn duration(&mut self, s: &Spanned<String>, what: &str) -> Option<Duration> {
        match humantime::parse_duration(s.get_ref().trim()) {
            Ok(d) => Some(d),
            Err(e) => {
                self.report(
                    s.span(),
                    format!(
                        "{what} {:?} is not a duration ({e}): write e.g. \"30s\", \"2m\" or \"1h\"",
                        s.get_ref()
                    ),
                );
                None
            }
        }
    }

    fn positive(&mut self, n: &Spanned<i64>, what: &str, max: i64) -> Option<i64> {
        let v = *n.get_ref();
        if v < 1 || v > max {
            self.report(n.span(), format!("{what} must be between 1 and {max}, not {v}"));
            None
        } else {
            Some(v)
        }
    }

    fn config(&mut self, raw: RawConfig, path: &Path, dir: &Path) -> Config {
        let daemon = self.daemon(raw.daemon, dir);
        let feed = self.feed(raw.feed, &daemon);
        let dedup = DedupConfig {
            by_link: raw.dedup.by_link.unwrap_or(true),
            by_text: raw.dedup.by_text.unwrap_or(true),
            text_window: raw
                .dedup
                .text_window
                .as_ref()
                .and_then(|w| self.duration(w, "text_window"))
                .unwrap_or(Duration::from_secs(14 * 86_400)),
        };
        let mut names = HashSet::new();
        let mut sources = Vec::new();
        for s in raw.sources {
            if let Some(src) = self.source(s, &daemon, dir, &mut names) {
                sources.push(src);
            }
        }
        let mut feed = feed;
        feed.source_titles = sources
            .iter()
            .filter_map(|s: &SourceConfig| Some((s.name.clone(), s.title.clone()?)))
            .collect();
        let mut outputs: Vec<OutputConfig> = Vec::new();
        for o in raw.outputs {
            let o = o.into_inner();
            let name = o.name.get_ref().clone();
            if !is_valid_name(&name) {
                self.report(
                    o.name.span(),
                    format!("output name {name:?} must use only a-z, 0-9 and '-'"),
                );
                continue;
            }
            if outputs.iter().any(|x| x.name == name) {
                self.report(
                    o.name.span(),
                    format!("output name {name:?} is used twice: names must be unique"),
                );
                continue;
            }
            for s in &o.sources {
                // A source set aside while reading has its problem reported already.
                if !sources.iter().any(|x: &SourceConfig| &x.name == s.get_ref())
                    && !raw.set_aside_sources.contains(s.get_ref())
                {
                    self.report(
                        s.span(),
                        format!(
                            "output {name:?} names source {:?}, which is not configured",
                            s.get_ref()
                        ),
                    );
                }
            }
            outputs.push(OutputConfig {
                name,
                title: o.title,
                tags: o.tags,
                sources: o.sources.into_iter().map(Spanned::into_inner).collect(),
                include: self.regexes(&o.include),
                exclude: self.regexes(&o.exclude),
                path: o.path.map(|p| dir.join(p)),
            });
        }
        let web = WebConfig {
            enabled: raw.web.enabled.unwrap_or(true),
            templates: raw.web.templates.map(|t| dir.join(t)),
        };
        Config {
            path: path.to_path_buf(),
            state_dir: None,
            daemon,
            feed,
            dedup,
            web,
            sources,
            outputs,
        }
    }

    fn daemon(&mut self, raw: RawDaemon, dir: &Path) -> DaemonConfig {
        let database = raw
            .database
            .map(|d| dir.join(d.into_inner()))
            .unwrap_or_else(|| dir.join("data/tributary.db"));
        let listen = match &raw.listen {
            Some(l) => l.get_ref().parse().unwrap_or_else(|_| {
                self.report(
                    l.span(),
                    format!(
                        "listen {:?} is not an address: write e.g. \"127.0.0.1:8080\"",
                        l.get_ref()
                    ),
                );
                default_listen()
            }),
            None => default_listen(),
        };
        let default_schedule = || Schedule::parse("*/15 * * * *").ok();
        let schedule = raw
            .schedule
            .as_ref()
            .and_then(|s| self.schedule(s))
            .or_else(default_schedule)
            .unwrap_or(Schedule::Every(Duration::from_secs(900)));
        let jitter = raw
            .jitter
            .as_ref()
            .and_then(|j| self.duration(j, "jitter"))
            .unwrap_or(Duration::from_secs(120));
        let timeout = raw
            .timeout
            .as_ref()
            .and_then(|j| self.duration(j, "timeout"))
            .unwrap_or(Duration::from_secs(30));
        let max_concurrent_fetches = raw
            .max_concurrent_fetches
            .as_ref()
            .and_then(|n| self.positive(n, "max_concurrent_fetches", 4096))
            .unwrap_or(64) as usize;
        let max_concurrent_per_host = raw
            .max_concurrent_per_host
            .as_ref()
            .and_then(|n| self.positive(n, "max_concurrent_per_host", 1024))
            .unwrap_or(2) as usize;
        let max_connections_per_address = match &raw.max_connections_per_address {
            None => DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
            Some(n) => match usize::try_from(*n.get_ref()) {
                Ok(v) if (1..=MAX_CONNECTIONS).contains(&v) => v,
                _ => {
                    self.report(
                        n.span(),
                        format!(
                            "max_connections_per_address must be between 1 and {MAX_CONNECTIONS} (the server's limit on all connections together), not {}",
                            n.get_ref()
                        ),
                    );
                    DEFAULT_MAX_CONNECTIONS_PER_ADDRESS
                }
            },
        };
        let max_feed_bytes = match &raw.max_feed_bytes {
            None => 16 * 1024 * 1024,
            Some(v) => {
                let parsed = match v.get_ref() {
                    toml::Value::Integer(n) if *n > 0 => Ok(*n as u64),
                    toml::Value::String(s) => parse_size(s),
                    _ => Err("max_feed_bytes must be a size such as \"16MiB\"".to_string()),
                };
                match parsed {
                    Ok(n) if n >= 1024 => n,
                    Ok(n) => {
                        self.report(
                            v.span(),
                            format!("max_feed_bytes of {n} bytes is too small: use at least 1KiB"),
                        );
                        16 * 1024 * 1024
                    }
                    Err(e) => {
                        self.report(v.span(), e);
                        16 * 1024 * 1024
                    }
                }
            }
        };
        let user_agent = raw
            .user_agent
            .map(Spanned::into_inner)
            .unwrap_or_else(|| format!("Tributary/{} (feed aggregator)", env!("CARGO_PKG_VERSION")));
        let retention = match raw.retention {
            None => Retention {
                days: 90,
                keep_per_source_min: 50,
            },
            Some(r) => Retention {
                days: r
                    .days
                    .as_ref()
                    .and_then(|d| self.positive(d, "retention.days", 36_500))
                    .unwrap_or(90) as u32,
                keep_per_source_min: r
                    .keep_per_source_min
                    .as_ref()
                    .and_then(|d| self.positive(d, "retention.keep_per_source_min", 1_000_000))
                    .unwrap_or(50) as u32,
            },
        };
        DaemonConfig {
            database,
            listen,
            schedule,
            jitter,
            max_concurrent_fetches,
            max_concurrent_per_host,
            timeout,
            max_feed_bytes,
            user_agent,
            retention,
            allow_private_addresses: raw
                .allow_private_addresses
                .as_ref()
                .and_then(|v| self.address_policy(v))
                .unwrap_or_default(),
            cache_hints: raw.cache_hints.unwrap_or(true),
            max_connections_per_address,
            proxy: raw.proxy.as_ref().and_then(|p| self.proxy(p)),
        }
    }

    fn feed(&mut self, raw: RawFeed, daemon: &DaemonConfig) -> FeedConfig {
        let fallback = || {
            Url::parse(&format!("http://{}/", daemon.listen)).unwrap_or_else(|_| {
                // A SocketAddr always formats as a valid authority.
                Url::parse("http://127.0.0.1:8080/").unwrap_or_else(|_| unreachable!())
            })
        };
        let base_url = match &raw.base_url {
            None => fallback(),
            Some(b) => {
                let mut text = b.get_ref().trim().to_string();
                if !text.ends_with('/') {
                    text.push('/');
                }
                match Url::parse(&text) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") => u,
                    _ => {
                        self.report(
                            b.span(),
                            format!(
                                "base_url {:?} must be an absolute http(s) URL such as \"https://news.example.org/\"",
                                b.get_ref()
                            ),
                        );
                        fallback()
                    }
                }
            }
        };
        let entries = raw
            .entries
            .as_ref()
            .and_then(|n| self.positive(n, "entries", 10_000))
            .unwrap_or(100) as usize;
        let websub_hub = raw.websub_hub.as_ref().and_then(|h| match Url::parse(h.get_ref()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => Some(u),
            _ => {
                self.report(h.span(), format!("websub_hub {:?} must be an http(s) URL", h.get_ref()));
                None
            }
        });
        let timezone = match &raw.timezone {
            None => TimeZone::UTC,
            Some(t) => parse_timezone(t.get_ref()).unwrap_or_else(|| {
                let near = chrono_tz::TZ_VARIANTS
                    .iter()
                    .map(|z| z.name())
                    .filter(|name| strsim::levenshtein(&name.to_ascii_lowercase(), &t.get_ref().trim().to_ascii_lowercase()) <= 2)
                    .min_by_key(|name| strsim::levenshtein(name, t.get_ref().trim()));
                let hint = near.map(|n| format!(" (did you mean {n:?}?)")).unwrap_or_default();
                self.report(
                    t.span(),
                    format!(
                        "timezone {:?} is neither a time zone name nor an offset{hint}: write a name of the time zone database such as \"Europe/Rome\" or \"America/New_York\", \"UTC\", or an offset such as \"+01:00\" or \"-05:30\"",
                        t.get_ref()
                    ),
                );
                TimeZone::UTC
            }),
        };
        FeedConfig {
            timezone,
            websub_hub,
            title: raw.title.unwrap_or_else(|| "Tributary".into()),
            description: raw.description,
            author: raw.author.unwrap_or_else(|| "Tributary".into()),
            base_url,
            entries,
            source_titles: Default::default(),
        }
    }

    fn source(
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

    /// `proxy = "env"` or an `http(s)://host:port` URL.
    fn proxy(&mut self, raw: &Spanned<String>) -> Option<ProxySetting> {
        let text = raw.get_ref().trim();
        if text == "env" {
            return Some(ProxySetting::Env);
        }
        match Url::parse(text) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                Some(ProxySetting::Url(Secret::new(text)))
            }
            Ok(u) => {
                self.report(
                    raw.span(),
                    format!(
                        "proxy scheme {:?} is not supported: give \"env\" or an http:// or https:// proxy URL such as \"http://proxy.example:3128\"",
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

    fn address_policy(&mut self, v: &Spanned<toml::Value>) -> Option<AddressPolicy> {
        const HINT: &str = "allow_private_addresses takes true, false, or a list of addresses and networks such as [\"10.0.0.0/8\", \"127.0.0.2\"]";
        match v.get_ref() {
            toml::Value::Boolean(true) => Some(AddressPolicy::Any),
            toml::Value::Boolean(false) => Some(AddressPolicy::PublicOnly),
            toml::Value::Array(items) => {
                let mut nets = Vec::new();
                for item in items {
                    let parsed = item.as_str().and_then(|s| {
                        s.parse::<ipnet::IpNet>()
                            .ok()
                            .or_else(|| s.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from))
                    });
                    match parsed {
                        Some(n) => nets.push(n),
                        None => {
                            self.report(v.span(), format!("{item} is not an address or network: {HINT}"));
                            return None;
                        }
                    }
                }
                Some(AddressPolicy::Allow(nets))
            }
            _ => {
                self.report(v.span(), HINT);
                None
            }
        }
    }

    fn regexes(&mut self, raw: &[Spanned<String>]) -> Vec<Regex> {
        filter::compile(raw, |span, message| self.report(span, message))
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
fn expand(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
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

/// A `[feed] timezone`: a name of the IANA time zone database
/// (`Europe/Rome`, case as written there), or an offset ([`parse_offset`]).
fn parse_timezone(text: &str) -> Option<TimeZone> {
    if let Some(offset) = parse_offset(text) {
        return Some(TimeZone::Offset(offset));
    }
    text.trim().parse::<chrono_tz::Tz>().ok().map(TimeZone::Named)
}

/// A fixed offset: `UTC`/`Z`/`GMT`, or `+HH:MM` / `-HH:MM` (at most 14 hours).
fn parse_offset(text: &str) -> Option<chrono::FixedOffset> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("gmt") {
        return chrono::FixedOffset::east_opt(0);
    }
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if h > 14 || m > 59 {
        return None;
    }
    chrono::FixedOffset::east_opt(sign * (h * 3600 + m * 60))
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

/// Source and output names: non-empty, `[a-z0-9-]+`.
fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

#[cfg(test)]
mod tests;
