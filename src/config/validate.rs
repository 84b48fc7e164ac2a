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

use super::raw::{RawConfig, RawDaemon, RawFeed, line_col};
use super::{
    Config, DEFAULT_MAX_CONNECTIONS_PER_ADDRESS, DaemonConfig, DedupConfig, FeedConfig, MAX_CONNECTIONS, OutputConfig,
    Problem, Retention, SourceConfig, TimeZone, WebConfig, filter,
};
use crate::model::AddressPolicy;
use crate::schedule::Schedule;

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
            initial_entries: raw.initial_entries.as_ref().and_then(|n| self.initial_entries(n)),
            max_age: raw.max_age.as_ref().and_then(|a| self.max_age(a)),
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

mod source;
#[cfg(test)]
use source::expand;

#[cfg(test)]
mod tests;
