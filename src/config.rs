//! The configuration: the checked values the rest of the daemon reads, and
//! the entry points that produce them from a TOML file.
//!
//! Two stages, as ripgrep does with its flags: serde reads the text into
//! `Raw*` structs (syntax and types only, unknown keys rejected), then
//! validation turns them into a [`Config`] whose values are all usable:
//! schedules parsed, URLs checked, names unique, paths resolved against the
//! config file's folder. Every problem is reported with `file:line:column`
//! and what to write instead, and all problems are reported at once.
//!
//! | file | owns |
//! |---|---|
//! | `config.rs` | the checked types ([`Config`], [`SourceConfig`], …), [`ConfigError`], [`load`] and `parse` |
//! | `config/raw.rs` | stage 1: the serde structs with their spans, syntax errors and "did you mean" |
//! | `config/validate.rs` | stage 2: raw values → checked values, every problem with its position |
//! | `config/validate/source.rs` | stage 2 of a `[[source]]`: location, request options, proxy |
//! | `config/filter.rs` | the include/exclude regular expressions of sources and outputs |
//! | `config/edit.rs` | adding a `[[source]]` block to the file, its comments and layout kept (`tributary add`) |
//!
//! This module knows nothing of the database, the network or tasks: it is
//! handed text and a path, and returns plain values.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::Regex;
use url::Url;

use crate::model::AddressPolicy;
use crate::schedule::Schedule;
use crate::secrets::Secret;

pub mod edit;
mod filter;
mod raw;
mod validate;

/// The shipped default configuration, printed by `tributary default-config`.
pub(crate) const DEFAULT_CONFIG: &str = include_str!("../config/tributary.toml");

/// Most HTTP connections the server holds open at once, all clients together.
pub const MAX_CONNECTIONS: usize = 4096;

/// Default of `[daemon] max_connections_per_address`: enough for a proxy or
/// a household behind one address, far below [`MAX_CONNECTIONS`].
pub(crate) const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS: usize = 256;
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
    pub(crate) state_dir: Option<PathBuf>,
    /// `[daemon]`: process-wide settings.
    pub daemon: DaemonConfig,
    /// `[feed]`: metadata of the merged feeds.
    pub feed: FeedConfig,
    /// `[dedup]`: which identity rules apply.
    pub(crate) dedup: DedupConfig,
    /// `[web]`: the HTML pages.
    pub web: WebConfig,
    /// `[[source]]`: the feeds to poll, in file order.
    pub sources: Vec<SourceConfig>,
    /// `[[output]]`: named merged feeds besides `all`, in file order.
    pub(crate) outputs: Vec<OutputConfig>,
}

/// The name of the merged feed of every entry, which always exists.
pub(crate) const ALL_OUTPUT: &str = "all";

/// One `[[output]]`: a named merged feed.
#[derive(Debug, Clone)]
pub struct OutputConfig {
    /// Unique `[a-z0-9-]+` name; served at `/outputs/{name}.{atom,rss,json}`.
    pub(crate) name: String,
    /// Optional title (defaults to the `[feed]` title and the name).
    pub(crate) title: Option<String>,
    /// Entries carrying any of these tags are selected…
    pub(crate) tags: Vec<String>,
    /// …and entries from any of these sources (both empty: every entry).
    pub(crate) sources: Vec<String>,
    /// Keep only entries whose title+text matches one of these (when non-empty).
    pub(crate) include: Vec<Regex>,
    /// Drop entries whose title+text matches one of these.
    pub(crate) exclude: Vec<Regex>,
    /// Write `{path}.atom`, `.rss`, `.json` after each poll that changes the store.
    pub(crate) path: Option<PathBuf>,
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
}

impl Config {
    /// The output named `name` (`all` included).
    pub(crate) fn output(&self, name: &str) -> Option<OutputConfig> {
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
pub(crate) struct DedupConfig {
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
    pub(crate) listen: SocketAddr,
    /// Default schedule for sources without their own.
    pub(crate) schedule: Schedule,
    /// Largest stable random delay added to each source's due time.
    pub(crate) jitter: Duration,
    /// Global limit on fetches in flight.
    pub(crate) max_concurrent_fetches: usize,
    /// Limit on fetches in flight to one host.
    pub(crate) max_concurrent_per_host: usize,
    /// Total time allowed for one fetch.
    pub(crate) timeout: Duration,
    /// Largest feed body accepted, after decompression.
    pub(crate) max_feed_bytes: u64,
    /// The `User-Agent` header sent with every request.
    pub(crate) user_agent: String,
    /// How long entries are kept.
    pub(crate) retention: Retention,
    /// Default SSRF policy of sources.
    pub(crate) allow_private_addresses: AddressPolicy,
    /// Whether server hints (Cache-Control, Expires, RSS ttl) may lengthen poll intervals.
    pub(crate) cache_hints: bool,
    /// Most HTTP connections one client address (an IPv6 /64) may hold open.
    pub(crate) max_connections_per_address: usize,
    /// Default proxy of sources.
    pub(crate) proxy: Option<ProxySetting>,
    /// Default of sources' `initial_entries`.
    pub(crate) initial_entries: Option<usize>,
    /// Default of sources' `max_age`.
    pub(crate) max_age: Option<Duration>,
}

/// `proxy`: where a source's requests go first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProxySetting {
    /// `"env"`: the proxies of `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`.
    Env,
    /// An `http://`, `https://`, `socks5://` or `socks5h://` proxy URL (which
    /// may carry credentials: shown as `***`).
    Url(Secret),
}

/// `[daemon] retention`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Retention {
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
    /// The `title` given to sources, by source name: how the merged feeds
    /// name them (in `<source>`, `via` links and the JSON extension)
    /// instead of the feed's own title.
    pub source_titles: std::collections::BTreeMap<String, String>,
    /// The time zone the web pages group days and show times in.
    pub timezone: TimeZone,
}

/// A `[feed] timezone`: a fixed offset (`UTC`, `+01:00`) or a named zone of
/// the IANA time zone database (`Europe/Rome`), whose offset follows its
/// daylight saving rules at each moment shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeZone {
    /// The same offset from UTC all year.
    Offset(chrono::FixedOffset),
    /// A zone of the IANA database, as compiled into the binary.
    Named(chrono_tz::Tz),
}

impl TimeZone {
    /// UTC.
    pub const UTC: TimeZone = match chrono::FixedOffset::east_opt(0) {
        Some(zero) => TimeZone::Offset(zero),
        None => unreachable!(),
    };

    /// `t` as a local time of this zone (with the offset in force then).
    pub fn local(&self, t: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::FixedOffset> {
        match self {
            TimeZone::Offset(offset) => t.with_timezone(offset),
            TimeZone::Named(zone) => t.with_timezone(zone).fixed_offset(),
        }
    }
}

/// `[web]`: the HTML pages (the river, `/status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebConfig {
    /// Whether `/`, `/outputs/NAME.html`, `/status` and `/style.css` are served.
    pub enabled: bool,
    /// A folder whose `river.html`, `status.html` or `style.css` replace the built-in ones.
    pub templates: Option<PathBuf>,
}

impl Default for WebConfig {
    fn default() -> WebConfig {
        WebConfig {
            enabled: true,
            templates: None,
        }
    }
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
    /// Whether a request to `url` may carry the source's credentials and
    /// headers: only on the configured URL's own host. Like browsers and
    /// curl, they are not handed on to another host (a redirect's target,
    /// an article page elsewhere); a file source has none to hand on.
    pub(crate) fn shares_credentials_with(&self, url: &Url) -> bool {
        match self {
            Location::Http(u) => u.host_str().is_some() && u.host_str() == url.host_str(),
            Location::File(_) => false,
        }
    }

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
    pub(crate) fn public(&self) -> String {
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
    /// How the merged feeds, OPML and pages name the source; `None`: the
    /// feed's own title.
    pub title: Option<String>,
    /// Where to fetch it.
    pub location: Location,
    /// When to poll it.
    pub(crate) schedule: Schedule,
    /// Tags given to every entry of this source.
    pub tags: Vec<String>,
    /// Keep only items whose title+text matches one of these (when non-empty).
    pub(crate) include: Vec<Regex>,
    /// Drop items whose title+text matches one of these.
    pub(crate) exclude: Vec<Regex>,
    /// SSRF policy of this source.
    pub(crate) allow_private_addresses: AddressPolicy,
    /// Whether server hints may lengthen this source's poll interval.
    pub(crate) cache_hints: bool,
    /// Credentials, headers and user agent sent with this source's requests.
    pub(crate) request: RequestOptions,
    /// The proxy of this source's requests, if any.
    pub(crate) proxy: Option<ProxySetting>,
    /// Fetch each item's article page and show its text (`full_text = true`).
    pub(crate) full_text: Option<FullText>,
    /// Flood control: the first poll that stores items of this source
    /// publishes at most this many of its newest ones and remembers the
    /// others as pruned. `None`: no limit.
    pub(crate) initial_entries: Option<usize>,
    /// Items published longer ago than this, when read, are skipped.
    pub(crate) max_age: Option<Duration>,
}

impl SourceConfig {
    /// A fingerprint of everything that decides what this source's requests
    /// ask and whom: the URL, the credentials, the headers, the user agent,
    /// the proxy and the address policy. The database keeps it to notice a
    /// changed source, which then starts afresh (validators and backoff
    /// reset). It is a SHA-256 over those settings, length-prefixed so that
    /// no two settings read alike: the credentials are in it but cannot be
    /// read back out of it, short of guessing them one by one (which a
    /// realistic password or token makes hopeless), and the database holds
    /// no more than a URL with its credentials already would.
    pub(crate) fn settings_print(&self) -> String {
        let mut text = String::new();
        let mut field = |value: &str| {
            text.push_str(&value.len().to_string());
            text.push(':');
            text.push_str(value);
        };
        field(&self.location.full());
        match &self.request.basic_auth {
            Some((user, password)) => {
                field("basic");
                field(user.expose());
                field(password.expose());
            }
            None => field("no-auth"),
        }
        let mut headers: Vec<(&str, &str)> = self
            .request
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.expose()))
            .collect();
        headers.sort_unstable();
        field(&headers.len().to_string());
        for (name, value) in headers {
            field(name);
            field(value);
        }
        field(self.request.user_agent.as_deref().unwrap_or(""));
        match &self.proxy {
            None => field("no-proxy"),
            Some(ProxySetting::Env) => field("env"),
            Some(ProxySetting::Url(u)) => field(u.expose()),
        }
        field(&format!("{:?}", self.allow_private_addresses));
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }
}

/// How a `full_text = true` source's article pages are fetched and read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullText {
    /// A CSS selector whose first match is the article (`full_text_selector`);
    /// `None`: the readability heuristic finds it.
    pub(crate) selector: Option<String>,
    /// The shortest time between two page fetches to one host (`full_text_rate`).
    pub(crate) rate: Duration,
}

/// The default `full_text_rate`: one page a second per host.
pub const DEFAULT_FULL_TEXT_RATE: Duration = Duration::from_secs(1);

/// What a `[[source]]` adds to each of its requests: `username` and
/// `password` (HTTP Basic), `headers`, `user_agent`. Secrets print as `***`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RequestOptions {
    /// HTTP Basic credentials: user name and password (possibly empty).
    pub(crate) basic_auth: Option<(Secret, Secret)>,
    /// Extra headers, in file order; names are checked header names.
    pub(crate) headers: Vec<(String, Secret)>,
    /// A `User-Agent` replacing `[daemon] user_agent` for this source.
    pub(crate) user_agent: Option<String>,
}

/// Reads and validates the config file at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    load_with(path, None)
}

/// Reads and validates the config file at `path`; a relative `database`
/// resolves against `state_dir` when given (systemd's `$STATE_DIRECTORY`),
/// else against the config file's folder.
pub(crate) fn load_with(path: &Path, state_dir: Option<&Path>) -> Result<Config, ConfigError> {
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

bench_pub! {
    /// Parses and validates config `text` as if read from `path`; relative paths
    /// inside it resolve against `path`'s folder. Every problem is reported,
    /// in file order.
    fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let invalid = |problems| ConfigError::Invalid {
            path: path.to_path_buf(),
            problems,
        };
        let (raw, mut problems) = raw::read(text).map_err(invalid)?;
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        let dir = std::path::absolute(&dir).unwrap_or(dir);
        let validated = validate::validate(raw, text, path, &dir);
        if let Err(more) = &validated {
            problems.extend(more.iter().cloned());
        }
        match validated {
            Ok(config) if problems.is_empty() => Ok(config),
            _ => {
                problems.sort_by_key(|p| (p.line, p.column));
                Err(invalid(problems))
            }
        }
    }
}

/// The problems `parse` finds in `text`, for the tests of every stage.
#[cfg(test)]
fn problems(text: &str) -> Vec<Problem> {
    match parse(text, Path::new("/tmp/tributary-test/tributary.toml")) {
        Err(ConfigError::Invalid { problems, .. }) => problems,
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("config was accepted"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn credentials_go_only_to_the_configured_host() {
        let feed = Location::Http(Url::parse("https://user:pw@news.example.org/feed.xml").unwrap());
        let at = |u: &str| feed.shares_credentials_with(&Url::parse(u).unwrap());
        assert!(at("https://news.example.org/2026/story"));
        assert!(at("http://news.example.org:8080/feed.xml"));
        assert!(!at("https://cdn.news.example.org/feed.xml"));
        assert!(!at("https://example.org/feed.xml"));
        assert!(!at("https://evil.example/news.example.org"));
        assert!(
            !Location::File("/srv/feed.xml".into())
                .shares_credentials_with(&Url::parse("file:///srv/feed.xml").unwrap())
        );
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
    fn shipped_default_config_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/tributary.toml");
        let c = parse(DEFAULT_CONFIG, &path).unwrap();
        assert!(c.sources.len() >= 3);
        assert!(c.sources.iter().all(|s| matches!(s.location, Location::File(_))));
    }

    #[test]
    fn settings_print_changes_with_every_request_setting_and_holds_no_secret_in_clear() {
        let dir = Path::new("/srv/t/tributary.toml");
        let print = |extra: &str| {
            let text = format!("[[source]]\nname = \"s\"\nurl = \"https://example.org/feed\"\n{extra}");
            parse(&text, dir).unwrap().sources[0].settings_print()
        };
        let base = print("");
        assert!(base.starts_with("sha256:") && base.len() == 7 + 64, "{base}");
        assert_eq!(base, print(""), "stable");
        let variants = [
            print("headers = { \"X-Api-Key\" = \"hunter2\" }\n"),
            print("headers = { \"X-Api-Key\" = \"hunter3\" }\n"),
            print("username = \"u\"\npassword = \"hunter2\"\n"),
            print("user_agent = \"Other/1\"\n"),
            print("proxy = \"http://proxy.example:3128\"\n"),
            print("allow_private_addresses = true\n"),
            print("tags = [\"x\"]\n"),
        ];
        for (i, v) in variants[..6].iter().enumerate() {
            assert_ne!(*v, base, "variant {i}");
            assert!(!v.contains("hunter"), "{v}");
        }
        assert_ne!(variants[0], variants[1]);
        assert_eq!(variants[6], base, "tags do not change what is requested");
    }

    #[test]
    fn packaged_service_config_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/tributary.toml");
        let c = load_with(&path, Some(Path::new("/var/lib/tributary"))).unwrap();
        assert_eq!(c.daemon.database, Path::new("/var/lib/tributary/tributary.db"));
    }
}
