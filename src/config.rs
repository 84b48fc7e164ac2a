//! Reading, validating and explaining the TOML configuration.
//!
//! Two stages, as ripgrep does with its flags: serde reads the text into
//! `Raw*` structs (syntax and types only, unknown keys rejected), then
//! [`validate`] turns them into a [`Config`] whose values are all usable:
//! schedules parsed, URLs checked, names unique, paths resolved against the
//! config file's folder. Every problem is reported with `file:line:column`
//! and what to write instead, and all problems are reported at once.
//!
//! This module knows nothing of the database, the network or tasks: it is
//! handed text and a path, and returns plain values.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;
use url::Url;

use crate::schedule::Schedule;

/// The shipped default configuration, printed by `tributary default-config`.
pub const DEFAULT_CONFIG: &str = include_str!("../config/tributary.toml");

/// Most HTTP connections the server holds open at once, all clients together.
pub const MAX_CONNECTIONS: usize = 4096;

/// Default of `[daemon] max_connections_per_address`: enough for a proxy or
/// a household behind one address, far below [`MAX_CONNECTIONS`].
pub const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS: usize = 256;
const _: () = assert!(DEFAULT_MAX_CONNECTIONS_PER_ADDRESS < MAX_CONNECTIONS);

/// A problem found in a configuration file, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong and what to do.
    pub message: String,
}

/// Errors of the configuration layer.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file could be read but has problems.
    #[error("{}", render_problems(path, problems))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found, in file order.
        problems: Vec<Problem>,
    },
}

fn render_problems(path: &Path, problems: &[Problem]) -> String {
    let mut out = String::new();
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!("{}:{}:{}: {}", path.display(), p.line, p.column, p.message));
    }
    out
}

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// The state directory that relative database paths resolve against, if any.
    pub state_dir: Option<PathBuf>,
    /// `[daemon]`: process-wide settings.
    pub daemon: DaemonConfig,
    /// `[feed]`: metadata of the merged feeds.
    pub feed: FeedConfig,
    /// `[dedup]`: which identity rules apply.
    pub dedup: DedupConfig,
    /// `[[source]]`: the feeds to poll, in file order.
    pub sources: Vec<SourceConfig>,
    /// `[[output]]`: named merged feeds besides `all`, in file order.
    pub outputs: Vec<OutputConfig>,
}

/// The name of the merged feed of every entry, which always exists.
pub const ALL_OUTPUT: &str = "all";

/// One `[[output]]`: a named merged feed.
#[derive(Debug, Clone)]
pub struct OutputConfig {
    /// Unique `[a-z0-9-]+` name; served at `/outputs/{name}.{atom,rss,json}`.
    pub name: String,
    /// Optional title (defaults to the `[feed]` title and the name).
    pub title: Option<String>,
    /// Entries carrying any of these tags are selected…
    pub tags: Vec<String>,
    /// …and entries from any of these sources (both empty: every entry).
    pub sources: Vec<String>,
    /// Keep only entries whose title+text matches one of these (when non-empty).
    pub include: Vec<Regex>,
    /// Drop entries whose title+text matches one of these.
    pub exclude: Vec<Regex>,
    /// Write `{path}.atom`, `.rss`, `.json` after each poll that changes the store.
    pub path: Option<PathBuf>,
}

impl OutputConfig {
    /// The implicit output of every entry.
    pub fn all() -> OutputConfig {
        OutputConfig {
            name: ALL_OUTPUT.into(),
            title: None,
            tags: vec![],
            sources: vec![],
            include: vec![],
            exclude: vec![],
            path: None,
        }
    }

    /// Whether an entry with this title and text passes the regex filters.
    pub fn accepts(&self, text: &str) -> bool {
        passes_filters(&self.include, &self.exclude, || text)
    }
}

impl Config {
    /// The output named `name` (`all` included).
    pub fn output(&self, name: &str) -> Option<OutputConfig> {
        if name == ALL_OUTPUT {
            return Some(
                self.outputs
                    .iter()
                    .find(|o| o.name == ALL_OUTPUT)
                    .cloned()
                    .unwrap_or_else(OutputConfig::all),
            );
        }
        self.outputs.iter().find(|o| o.name == name).cloned()
    }
}

/// `[dedup]`: rule 1 (same source and item id) always applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DedupConfig {
    /// Rule 2: the same canonical link from any source is one story.
    pub by_link: bool,
    /// Rule 3: near-identical text is one story.
    pub by_text: bool,
    /// How far apart in time rule 3 looks.
    pub text_window: Duration,
}

/// `[daemon]` settings.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    /// SQLite database file (absolute).
    pub database: PathBuf,
    /// Address the HTTP server binds.
    pub listen: SocketAddr,
    /// Default schedule for sources without their own.
    pub schedule: Schedule,
    /// Largest stable random delay added to each source's due time.
    pub jitter: Duration,
    /// Global limit on fetches in flight.
    pub max_concurrent_fetches: usize,
    /// Limit on fetches in flight to one host.
    pub max_concurrent_per_host: usize,
    /// Total time allowed for one fetch.
    pub timeout: Duration,
    /// Largest feed body accepted, after decompression.
    pub max_feed_bytes: u64,
    /// The `User-Agent` header sent with every request.
    pub user_agent: String,
    /// How long entries are kept.
    pub retention: Retention,
    /// Default SSRF policy of sources.
    pub allow_private_addresses: AddressPolicy,
    /// Whether server hints (Cache-Control, Expires, RSS ttl) may lengthen poll intervals.
    pub cache_hints: bool,
    /// Most HTTP connections one client address (an IPv6 /64) may hold open.
    pub max_connections_per_address: usize,
}

/// `[daemon] retention`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Entries older than this many days may be pruned.
    pub days: u32,
    /// Never prune a source below this many entries.
    pub keep_per_source_min: u32,
}

/// `[feed]` settings: how the merged feeds describe themselves.
#[derive(Debug, Clone)]
pub struct FeedConfig {
    /// Title of the merged feed.
    pub title: String,
    /// Optional description / subtitle.
    pub description: Option<String>,
    /// Author name written on the merged feed.
    pub author: String,
    /// Public base URL of this server, ending in `/`; used for self links.
    pub base_url: Url,
    /// Entries per page of a merged feed.
    pub entries: usize,
    /// A WebSub hub to advertise and ping when outputs change.
    pub websub_hub: Option<Url>,
}

/// Which network addresses a source may be fetched from (the SSRF guard).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum AddressPolicy {
    /// Public addresses only: loopback, private, link-local, CGNAT, multicast,
    /// unspecified and metadata addresses are refused (the default).
    #[default]
    PublicOnly,
    /// Any address (`allow_private_addresses = true`).
    Any,
    /// Public addresses plus these networks (`allow_private_addresses = ["10.0.0.0/8", "127.0.0.2"]`).
    Allow(Vec<ipnet::IpNet>),
}

/// Where a source's feed comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An `http`/`https` URL.
    Http(Url),
    /// A local file (absolute path).
    File(PathBuf),
}

impl Location {
    /// The location exactly as configured, credentials included: the
    /// source's identity in the database, never for display.
    pub fn full(&self) -> String {
        match self {
            Location::Http(u) => u.as_str().to_string(),
            Location::File(p) => p.display().to_string(),
        }
    }

    /// The address as it may be published (feeds, OPML): an `http(s)` URL
    /// without userinfo or credential-like parameters, a path as it is.
    pub fn public(&self) -> String {
        match self {
            Location::Http(u) => crate::secrets::public_url(u.as_str()).unwrap_or_default(),
            Location::File(p) => p.display().to_string(),
        }
    }
}

/// Shown with its secrets as `***` (`crate::secrets`): this is what logs,
/// errors and status pages print.
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Http(u) => f.write_str(&crate::secrets::redact_url(u.as_str())),
            Location::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// One `[[source]]`.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// Unique `[a-z0-9-]+` name: the stable key in the database.
    pub name: String,
    /// Where to fetch it.
    pub location: Location,
    /// When to poll it.
    pub schedule: Schedule,
    /// Tags given to every entry of this source.
    pub tags: Vec<String>,
    /// Keep only items whose title+text matches one of these (when non-empty).
    pub include: Vec<Regex>,
    /// Drop items whose title+text matches one of these.
    pub exclude: Vec<Regex>,
    /// SSRF policy of this source.
    pub allow_private_addresses: AddressPolicy,
    /// Whether server hints may lengthen this source's poll interval.
    pub cache_hints: bool,
}

impl SourceConfig {
    /// Whether an item with this title and text passes the include/exclude filters.
    pub fn accepts(&self, text: &str) -> bool {
        self.accepts_with(|| text)
    }

    /// [`accepts`](Self::accepts) with the text built only when a filter
    /// needs it: most sources have none, and the text is a copy of the
    /// whole item.
    pub fn accepts_with<T: AsRef<str>>(&self, text: impl FnOnce() -> T) -> bool {
        passes_filters(&self.include, &self.exclude, text)
    }
}

/// The include/exclude rule shared by sources and outputs: some include
/// pattern matches (or there is none) and no exclude pattern does. `text`
/// is called only when there is a pattern to match.
fn passes_filters<T: AsRef<str>>(include: &[Regex], exclude: &[Regex], text: impl FnOnce() -> T) -> bool {
    if include.is_empty() && exclude.is_empty() {
        return true;
    }
    let text = text();
    let text = text.as_ref();
    (include.is_empty() || include.iter().any(|r| r.is_match(text))) && !exclude.iter().any(|r| r.is_match(text))
}

// ---------------------------------------------------------------- stage 1: syntax

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    daemon: RawDaemon,
    #[serde(default)]
    feed: RawFeed,
    #[serde(default)]
    dedup: RawDedup,
    #[serde(default, rename = "source")]
    sources: Vec<Spanned<RawSource>>,
    #[serde(default, rename = "output")]
    outputs: Vec<Spanned<RawOutput>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    name: Spanned<String>,
    title: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    sources: Vec<Spanned<String>>,
    #[serde(default)]
    include: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    path: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDaemon {
    database: Option<Spanned<String>>,
    listen: Option<Spanned<String>>,
    schedule: Option<Spanned<String>>,
    jitter: Option<Spanned<String>>,
    max_concurrent_fetches: Option<Spanned<i64>>,
    max_concurrent_per_host: Option<Spanned<i64>>,
    timeout: Option<Spanned<String>>,
    max_feed_bytes: Option<Spanned<toml::Value>>,
    user_agent: Option<Spanned<String>>,
    retention: Option<RawRetention>,
    allow_private_addresses: Option<Spanned<toml::Value>>,
    cache_hints: Option<bool>,
    max_connections_per_address: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    days: Option<Spanned<i64>>,
    keep_per_source_min: Option<Spanned<i64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    title: Option<String>,
    description: Option<String>,
    author: Option<String>,
    base_url: Option<Spanned<String>>,
    entries: Option<Spanned<i64>>,
    websub_hub: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDedup {
    by_link: Option<bool>,
    by_text: Option<bool>,
    text_window: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: Spanned<String>,
    url: Spanned<String>,
    schedule: Option<Spanned<String>>,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
    #[serde(default)]
    include: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    allow_private_addresses: Option<Spanned<toml::Value>>,
    cache_hints: Option<bool>,
}

// ---------------------------------------------------------------- stage 2: validation

/// Reads and validates the config file at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    load_with(path, None)
}

/// Reads and validates the config file at `path`; a relative `database`
/// resolves against `state_dir` when given (systemd's `$STATE_DIRECTORY`),
/// else against the config file's folder.
pub fn load_with(path: &Path, state_dir: Option<&Path>) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut config = parse(&text, path)?;
    if let Some(dir) = state_dir {
        let dir = dir.to_path_buf();
        let raw: Option<String> = toml::from_str::<toml::Table>(&text)
            .ok()
            .and_then(|t| t.get("daemon")?.get("database")?.as_str().map(str::to_string));
        let relative = raw.as_deref().map(|d| Path::new(d).is_relative()).unwrap_or(true);
        if relative {
            config.daemon.database = dir.join(raw.as_deref().unwrap_or("tributary.db"));
        }
        config.state_dir = Some(dir);
    }
    Ok(config)
}

/// Parses and validates config `text` as if read from `path`; relative paths
/// inside it resolve against `path`'s folder.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let invalid = |problems| ConfigError::Invalid {
        path: path.to_path_buf(),
        problems,
    };
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        invalid(vec![Problem {
            line,
            column,
            message: explain_syntax(e.message()),
        }])
    })?;
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    let mut v = Validator {
        text,
        problems: Vec::new(),
    };
    let config = v.config(raw, path, &dir);
    if v.problems.is_empty() {
        Ok(config)
    } else {
        v.problems.sort_by_key(|p| (p.line, p.column));
        Err(invalid(v.problems))
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before.get(line_start..).map(|s| s.chars().count()).unwrap_or(0) + 1;
    (line, column)
}

/// Adds a "did you mean" to serde's unknown-field message.
fn explain_syntax(message: &str) -> String {
    let message = message.trim();
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_string();
    };
    let Some((field, expected)) = rest.split_once('`') else {
        return message.to_string();
    };
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let best = candidates
        .iter()
        .map(|c| (edit_distance(field, c), *c))
        .min()
        .filter(|(d, _)| *d <= 3);
    match best {
        Some((_, c)) => format!("{message}; did you mean `{c}`?"),
        None => message.to_string(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Reads a size such as `16MiB`, `500 KB` or a plain byte count.
pub fn parse_size(text: &str) -> Result<u64, String> {
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
                if !sources.iter().any(|x: &SourceConfig| &x.name == s.get_ref()) {
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
        Config {
            path: path.to_path_buf(),
            state_dir: None,
            daemon,
            feed,
            dedup,
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
        FeedConfig {
            websub_hub,
            title: raw.title.unwrap_or_else(|| "Tributary".into()),
            description: raw.description,
            author: raw.author.unwrap_or_else(|| "Tributary".into()),
            base_url,
            entries,
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
        if self.problems.len() > before {
            return None;
        }
        Some(SourceConfig {
            name,
            location: location?,
            schedule: schedule?,
            tags,
            include,
            exclude,
            allow_private_addresses: policy.unwrap_or_else(|| daemon.allow_private_addresses.clone()),
            cache_hints: raw.cache_hints.unwrap_or(daemon.cache_hints),
        })
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
        let mut out = Vec::new();
        for r in raw {
            match Regex::new(r.get_ref()) {
                Ok(re) => out.push(re),
                Err(e) => self.report(r.span(), format!("invalid regular expression: {e}")),
            }
        }
        out
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
                    self.report(
                        raw.span(),
                        format!(
                            "unsupported URL scheme {:?}: use http, https or a file path",
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
            self.report(
                raw.span(),
                format!(
                    "file {} does not exist (relative paths start at the config file's folder)",
                    path.display()
                ),
            );
            return None;
        }
        Some(Location::File(path))
    }
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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<Problem> {
        match parse(text, Path::new("/tmp/tributary-test/tributary.toml")) {
            Err(ConfigError::Invalid { problems, .. }) => problems,
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("config was accepted"),
        }
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let c = parse(
            "[[source]]\nname = \"a\"\nurl = \"https://example.org/feed.xml\"\n",
            Path::new("/srv/t/tributary.toml"),
        )
        .unwrap();
        assert_eq!(c.daemon.database, Path::new("/srv/t/data/tributary.db"));
        assert_eq!(c.daemon.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.feed.base_url.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(c.daemon.max_feed_bytes, 16 * 1024 * 1024);
        assert_eq!(c.sources[0].schedule.to_string(), "*/15 * * * *");
        assert_eq!(
            c.sources[0].location,
            Location::Http(Url::parse("https://example.org/feed.xml").unwrap())
        );
    }

    #[test]
    fn unknown_key_names_line_column_and_suggests() {
        let p = problems("[daemon]\nlisten = \"127.0.0.1:8080\"\nshedule = \"@hourly\"\n");
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].line, p[0].column), (3, 1));
        assert!(p[0].message.contains("did you mean `schedule`"), "{}", p[0].message);
    }

    #[test]
    fn unknown_key_far_from_every_field_gets_no_suggestion() {
        let p = problems("[daemon]\nmax_concurrent = 4\n");
        assert!(
            p[0].message.starts_with("unknown field `max_concurrent`"),
            "{}",
            p[0].message
        );
        assert!(!p[0].message.contains("did you mean"), "{}", p[0].message);
    }

    #[test]
    fn suggestion_allows_three_edits_counted_in_characters() {
        let p = problems("[feed]\nentry = 5\n");
        assert!(p[0].message.ends_with("did you mean `entries`?"), "{}", p[0].message);
        // Three substituted characters, six bytes: still within reach.
        let p = problems("[feed]\n\"\u{eb}ntr\u{ef}\u{eb}s\" = 5\n");
        assert!(p[0].message.ends_with("did you mean `entries`?"), "{}", p[0].message);
    }

    #[test]
    fn equally_close_fields_suggest_the_alphabetically_first() {
        let p = problems("[[source]]\nname = \"a\"\nurl = \"https://e.org/\"\nclude = [\"x\"]\n");
        assert!(p[0].message.ends_with("did you mean `exclude`?"), "{}", p[0].message);
    }

    #[test]
    fn syntax_error_has_position() {
        let p = problems("[daemon]\nlisten = \n");
        assert_eq!(p[0].line, 2);
    }

    #[test]
    fn all_validation_problems_are_reported_with_positions() {
        let text = r#"
[daemon]
schedule = "every day"
max_concurrent_fetches = 0

[[source]]
name = "Bad Name"
url = "https://example.org/a"

[[source]]
name = "dup"
url = "ftp://example.org/b"

[[source]]
name = "dup"
url = "https://example.org/c"
schedule = "* * *"
include = ["(unclosed"]
"#;
        let p = problems(text);
        let lines: Vec<usize> = p.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 4, 7, 12, 15, 17, 18], "{p:#?}");
        assert!(p[2].message.contains("a-z"));
        assert!(p[3].message.contains("scheme"));
        assert!(p[4].message.contains("twice"));
        assert_eq!(p[0].column, 12);
        let err = parse(text, Path::new("/x/t.toml")).unwrap_err().to_string();
        assert!(err.starts_with("/x/t.toml:3:12: "), "{err}");
    }

    #[test]
    fn max_connections_per_address_defaults_below_the_global_cap_and_is_bounded_by_it() {
        let c = parse("[daemon]\n", Path::new("/srv/t/tributary.toml")).unwrap();
        assert_eq!(
            c.daemon.max_connections_per_address,
            DEFAULT_MAX_CONNECTIONS_PER_ADDRESS
        );
        let c = parse(
            "[daemon]\nmax_connections_per_address = 8\n",
            Path::new("/srv/t/tributary.toml"),
        )
        .unwrap();
        assert_eq!(c.daemon.max_connections_per_address, 8);
        for bad in ["0", "-1", "4097"] {
            let p = problems(&format!(
                "[daemon]\nlisten = \"127.0.0.1:8080\"\nmax_connections_per_address = {bad}\n"
            ));
            assert_eq!(p.len(), 1, "{bad}: {p:?}");
            assert_eq!((p[0].line, p[0].column), (3, 31), "{bad}");
            assert!(p[0].message.contains("between 1 and 4096"), "{}", p[0].message);
        }
        let err = parse("[daemon]\nmax_connections_per_address = 5000\n", Path::new("/x/t.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/x/t.toml:2:31: max_connections_per_address"), "{err}");
    }

    #[test]
    fn file_sources_resolve_against_the_config_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("samples")).unwrap();
        std::fs::write(dir.path().join("samples/a.xml"), "<rss/>").unwrap();
        let cfg = dir.path().join("t.toml");
        let c = parse("[[source]]\nname = \"a\"\nurl = \"samples/a.xml\"\n", &cfg).unwrap();
        assert_eq!(c.sources[0].location, Location::File(dir.path().join("samples/a.xml")));
        let p = match parse("[[source]]\nname = \"a\"\nurl = \"samples/missing.xml\"\n", &cfg) {
            Err(ConfigError::Invalid { problems, .. }) => problems,
            _ => panic!(),
        };
        assert!(p[0].message.contains("does not exist"));
        assert_eq!((p[0].line, p[0].column), (3, 7));
    }

    #[test]
    fn sizes_and_filters() {
        assert_eq!(parse_size("16MiB").unwrap(), 16 * 1024 * 1024);
        assert_eq!(parse_size("500 KB").unwrap(), 500_000);
        assert_eq!(parse_size("2048").unwrap(), 2048);
        assert!(parse_size("lots").is_err());
        let c = parse(
            "[[source]]\nname = \"a\"\nurl = \"https://e.org/\"\ninclude = [\"(?i)cina\"]\nexclude = [\"(?i)oroscopo\"]\n",
            Path::new("/t/t.toml"),
        )
        .unwrap();
        assert!(c.sources[0].accepts("La Cina e la Russia"));
        assert!(!c.sources[0].accepts("Oroscopo: la Cina"));
        assert!(!c.sources[0].accepts("Meteo"));
    }

    #[test]
    fn address_policies_global_and_per_source() {
        let c = parse(
            "[daemon]\nallow_private_addresses = [\"10.0.0.0/8\", \"127.0.0.2\"]\n[[source]]\nname = \"a\"\nurl = \"https://e.org/\"\n[[source]]\nname = \"b\"\nurl = \"https://e.org/b\"\nallow_private_addresses = true\ncache_hints = false\n",
            Path::new("/t/t.toml"),
        )
        .unwrap();
        assert_eq!(
            c.sources[0].allow_private_addresses,
            AddressPolicy::Allow(vec!["10.0.0.0/8".parse().unwrap(), "127.0.0.2/32".parse().unwrap()])
        );
        assert!(c.sources[0].cache_hints);
        assert_eq!(c.sources[1].allow_private_addresses, AddressPolicy::Any);
        assert!(!c.sources[1].cache_hints);
        let p = problems("[daemon]\nallow_private_addresses = \"yes\"\n");
        assert_eq!((p[0].line, p[0].column), (2, 27));
        assert!(p[0].message.contains("true, false, or a list"));
        let p = problems("[daemon]\nallow_private_addresses = [\"not-an-ip\"]\n");
        assert!(p[0].message.contains("not an address or network"), "{}", p[0].message);
    }

    #[test]
    fn state_directory_holds_relative_databases() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("t.toml");
        std::fs::write(&cfg, "[daemon]\ndatabase = \"tributary.db\"\n").unwrap();
        let c = load_with(&cfg, Some(Path::new("/var/lib/tributary"))).unwrap();
        assert_eq!(c.daemon.database, Path::new("/var/lib/tributary/tributary.db"));
        std::fs::write(&cfg, "[daemon]\ndatabase = \"/srv/db/t.db\"\n").unwrap();
        let c = load_with(&cfg, Some(Path::new("/var/lib/tributary"))).unwrap();
        assert_eq!(c.daemon.database, Path::new("/srv/db/t.db"));
    }

    #[test]
    fn outputs_are_validated() {
        let text = "[[source]]\nname = \"a\"\nurl = \"https://e.org/\"\n\n[[output]]\nname = \"esteri\"\ntags = [\"esteri\"]\nsources = [\"a\", \"zz\"]\n";
        let p = problems(text);
        assert_eq!((p[0].line, p[0].column), (8, 17));
        assert!(
            p[0].message.contains("\"zz\", which is not configured"),
            "{}",
            p[0].message
        );
        let ok = parse(
            "[[source]]\nname = \"a\"\nurl = \"https://e.org/\"\n[[output]]\nname = \"esteri\"\ntags = [\"esteri\"]\nexclude = [\"(?i)oroscopo\"]\npath = \"public/esteri\"\n",
            Path::new("/t/t.toml"),
        )
        .unwrap();
        let o = ok.output("esteri").unwrap();
        assert_eq!(o.path.as_deref(), Some(Path::new("/t/public/esteri")));
        assert!(!o.accepts("Oroscopo di oggi"));
        assert_eq!(ok.output("all").unwrap().name, "all");
        assert!(ok.output("nope").is_none());
    }

    #[test]
    fn shipped_default_config_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/tributary.toml");
        let c = parse(DEFAULT_CONFIG, &path).unwrap();
        assert!(c.sources.len() >= 3);
        assert!(c.sources.iter().all(|s| matches!(s.location, Location::File(_))));
    }

    #[test]
    fn packaged_service_config_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/tributary.toml");
        let c = load_with(&path, Some(Path::new("/var/lib/tributary"))).unwrap();
        assert_eq!(c.daemon.database, Path::new("/var/lib/tributary/tributary.db"));
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("a\nbè c", 5), (2, 3));
        assert_eq!(line_col("abc", 0), (1, 1));
    }
}
