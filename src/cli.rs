//! The command line: arguments, the commands' output, exit codes.
//!
//! The edge of the program: it finds the config file, calls into the daemon,
//! pipeline, store and publish layers, prints tables for people, and maps
//! failures to exit codes (0 ok, 1 runtime failure, 2 usage or config error).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{self, Config};
use crate::daemon;
use crate::explain;
use crate::model::PollReport;
use crate::pipeline;
use crate::publish::Format;

mod add;
mod check;
use add::add;
use check::check;

/// Tributary: polls feeds, stores each story once, serves merged feeds.
#[derive(Debug, Parser)]
#[command(name = "tributary", version, about, propagate_version = true)]
pub struct Cli {
    /// The config file [default: $TRIBUTARY_CONFIG, ./config/tributary.toml, /etc/tributary/tributary.toml].
    #[arg(long, short, global = true, env = "TRIBUTARY_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human lines on a terminal; plain lines without timestamps under journald.
    Auto,
    /// Human lines with timestamps.
    Text,
    /// One JSON object per line.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Run the daemon: schedule, poll, store, serve.
    Run,
    /// Poll now, once, and print a per-source summary.
    Poll {
        /// Poll only these sources (repeatable).
        #[arg(long = "source", short = 's', value_name = "NAME")]
        sources: Vec<String>,
        /// Ignore stored validators: fetch and parse everything again.
        #[arg(long)]
        force: bool,
    },
    /// Validate the config and show the sources and their next run times.
    Check,
    /// Show each source's status from the database.
    Sources,
    /// Explain why items became one entry, and why the stored items nearest
    /// to it were not merged into it.
    Explain {
        /// An entry's uid as published (`urn:tributary:entry:…`, or its hex
        /// part), or a source name followed by ITEM_ID.
        entry: String,
        /// With a source name: the item id as the source gave it.
        item_id: Option<String>,
    },
    /// Write a merged feed to stdout or atomically to a file.
    Export {
        /// The output to write (`all`, or an `[[output]]` name).
        #[arg(long, default_value = "all")]
        output: String,
        /// Feed format [default: from the extension of FILE (.atom or .xml: atom, .rss: rss, .json: json), else atom].
        #[arg(long, short, value_enum)]
        format: Option<ExportFormat>,
        /// The output file (written via a temporary file and a rename).
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print the shipped default configuration.
    DefaultConfig,
    /// Print `[[source]]` blocks for the feeds of an OPML file, to append to the config.
    ImportOpml {
        /// The OPML file.
        file: PathBuf,
    },
    /// Print the configured sources as OPML 2.0.
    ExportOpml,
    /// Find the feed at URL (a feed, or a page advertising one) and append it to the config as a [[source]].
    Add {
        /// The feed's URL, or a page of the site (`https://` is assumed when no scheme is given).
        url: String,
        /// The source's name [default: derived from the feed's title, made unique].
        #[arg(long)]
        name: Option<String>,
        /// A tag given to the source's entries (repeatable).
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
        /// Print what would be added and leave the config file unchanged.
        #[arg(long)]
        dry_run: bool,
    },
    /// Database maintenance.
    Db {
        /// What to do.
        #[command(subcommand)]
        action: DbAction,
    },
}

/// `tributary db …`
#[derive(Debug, Subcommand)]
enum DbAction {
    /// Write a consistent copy of the database while the daemon runs (VACUUM INTO).
    Backup {
        /// The new file.
        file: PathBuf,
    },
    /// Compact the database file.
    Vacuum,
    /// Apply `[daemon] retention` now.
    Prune,
    /// Verify the whole database file (PRAGMA integrity_check); exit 1 on damage.
    Check,
    /// Delete a source from the database: its credits, the entries only it
    /// carried, its state. A running daemon's pages follow.
    Forget {
        /// The source's name.
        name: String,
        /// Forget it even though the config still lists it (its next poll
        /// then registers it again as a new source).
        #[arg(long)]
        yes: bool,
    },
}

/// Formats for `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExportFormat {
    /// Atom 1.0.
    Atom,
    /// RSS 2.0.
    Rss,
    /// JSON Feed 1.1.
    Json,
}

impl ExportFormat {
    fn name(self) -> &'static str {
        match self {
            ExportFormat::Atom => "atom",
            ExportFormat::Rss => "rss",
            ExportFormat::Json => "json",
        }
    }
}

/// The format `export` writes: `--format` when given, else the one the
/// extension of `-o FILE` names, else Atom. An extension that names no
/// format is refused unless `--format` says which, and so is a `--format`
/// that contradicts the extension (`.xml` fits Atom and RSS alike).
fn export_format(given: Option<ExportFormat>, out: Option<&Path>) -> Result<ExportFormat, UsageError> {
    let Some(out) = out else {
        return Ok(given.unwrap_or(ExportFormat::Atom));
    };
    let ext = out
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let fits: &[ExportFormat] = match ext.as_str() {
        "atom" => &[ExportFormat::Atom],
        "xml" => &[ExportFormat::Atom, ExportFormat::Rss],
        "rss" => &[ExportFormat::Rss],
        "json" => &[ExportFormat::Json],
        _ => &[],
    };
    match (given, fits) {
        (Some(f), []) => Ok(f),
        (None, []) => Err(UsageError(format!(
            "cannot tell the format of {} from its extension: name it .atom or .xml (Atom), .rss (RSS) or .json (JSON Feed), or give --format atom|rss|json",
            out.display()
        ))),
        (None, [first, ..]) => Ok(*first),
        (Some(f), fits) if fits.contains(&f) => Ok(f),
        (Some(f), fits) => Err(UsageError(format!(
            "--format {} contradicts the extension of {}, which names {}: change one of them",
            f.name(),
            out.display(),
            fits.iter().map(|f| f.name()).collect::<Vec<_>>().join(" or ")
        ))),
    }
}

impl From<ExportFormat> for Format {
    fn from(f: ExportFormat) -> Format {
        match f {
            ExportFormat::Atom => Format::Atom,
            ExportFormat::Rss => Format::Rss,
            ExportFormat::Json => Format::Json,
        }
    }
}

/// An error that should exit with status 2 (usage or configuration).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct UsageError(String);

/// The config file to use: `--config`/`$TRIBUTARY_CONFIG`, then
/// `./config/tributary.toml`, then `/etc/tributary/tributary.toml`.
fn config_path(given: Option<&Path>) -> PathBuf {
    if let Some(p) = given {
        return p.to_path_buf();
    }
    let local = PathBuf::from("config/tributary.toml");
    if local.is_file() {
        return local;
    }
    if let Ok(dir) = std::env::var("CONFIGURATION_DIRECTORY") {
        let p = PathBuf::from(dir).join("tributary.toml");
        if p.is_file() {
            return p;
        }
    }
    PathBuf::from("/etc/tributary/tributary.toml")
}

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let path = config_path(cli.config.as_deref());
    // systemd's StateDirectory= (several may be listed, separated by ':').
    let state_dir = std::env::var_os("STATE_DIRECTORY")
        .and_then(|v| std::env::split_paths(&v).next())
        .filter(|p| !p.as_os_str().is_empty());
    Ok(config::load_with(&path, state_dir.as_deref())?)
}

/// Runs a parsed command line; returns the exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match &cli.command {
        Command::DefaultConfig => {
            print!("{}", config::DEFAULT_CONFIG);
            Ok(0)
        }
        Command::Check => {
            let config = load_config(&cli)?;
            Ok(check(&config).await)
        }
        Command::Run => {
            let config = load_config(&cli)?;
            daemon::run(config).await?;
            Ok(0)
        }
        Command::Poll { sources, force } => {
            let config = load_config(&cli)?;
            poll(&config, sources, *force).await
        }
        Command::Explain { entry, item_id } => {
            let config = load_config(&cli)?;
            let store = daemon::open_store(&config).await?;
            let rules = daemon::rules(&config);
            let query = match item_id {
                Some(item) => explain::Query::Item(entry.clone(), item.clone()),
                None => explain::Query::Uid(entry.clone()),
            };
            match tokio::task::spawn_blocking(move || explain::explain(&store, &rules, &query)).await? {
                Ok(text) => {
                    print!("{text}");
                    Ok(0)
                }
                Err(explain::ExplainError::NotFound(what)) => {
                    Err(UsageError(explain::ExplainError::NotFound(what).to_string()).into())
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Sources => {
            let config = load_config(&cli)?;
            let store = daemon::open_store(&config).await?;
            let states = tokio::task::spawn_blocking(move || store.sources()).await??;
            print_sources(&config, &states);
            Ok(0)
        }
        Command::ImportOpml { file } => {
            let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
            let outlines =
                crate::opml::parse(&text, &file.display().to_string()).map_err(|e| UsageError(e.to_string()))?;
            let taken = load_config(&cli)
                .map(|c| c.sources.iter().map(|s| s.name.clone()).collect())
                .unwrap_or_default();
            print!("{}", crate::opml::to_toml(&outlines, &taken));
            eprintln!(
                "{} feeds; append the blocks above to your config, then reload",
                outlines.len()
            );
            Ok(0)
        }
        Command::Add {
            url,
            name,
            tags,
            dry_run,
        } => add(&cli, url, name.as_deref(), tags, *dry_run).await,
        Command::ExportOpml => {
            let config = load_config(&cli)?;
            // The feeds' own titles and site links, when a database exists.
            let known = if config.daemon.database.exists() {
                let store = daemon::open_store(&config).await?;
                tokio::task::spawn_blocking(move || store.sources()).await??
            } else {
                Vec::new()
            };
            let outlines = crate::opml::Outline::from_sources(&config.sources, &crate::http::known_sources(&known));
            print!("{}", crate::opml::render(&config.feed.title, &outlines, Utc::now()));
            Ok(0)
        }
        Command::Db { action } => {
            let config = load_config(&cli)?;
            if let DbAction::Forget { name, yes } = action
                && !yes
                && config.sources.iter().any(|s| &s.name == name)
            {
                return Err(UsageError(format!(
                    "source {name:?} is still configured in {}: remove its [[source]] block first (and reload a running daemon), or pass --yes to forget what it stored anyway (its next poll registers it again as a new source)",
                    config.path.display()
                ))
                .into());
            }
            let store = daemon::open_store(&config).await?;
            let retention = config.daemon.retention;
            let message = match action {
                DbAction::Backup { file } => {
                    let file = file.clone();
                    let shown = file.display().to_string();
                    tokio::task::spawn_blocking(move || store.backup(&file)).await??;
                    format!(
                        "backup written to {shown}; restore by stopping the daemon and copying it over {}",
                        config.daemon.database.display()
                    )
                }
                DbAction::Vacuum => {
                    let before = store.size_bytes();
                    let s = store.clone();
                    tokio::task::spawn_blocking(move || s.vacuum()).await??;
                    format!("vacuumed: {before} → {} bytes", store.size_bytes())
                }
                DbAction::Check => {
                    let path = store.path().display().to_string();
                    let report = tokio::task::spawn_blocking(move || store.integrity_check()).await??;
                    if report == ["ok"] {
                        format!("{path}: ok")
                    } else {
                        format!(
                            "DAMAGED {path}:\n{}\nrestore a copy made with `tributary db backup`",
                            report.join("\n")
                        )
                    }
                }
                DbAction::Forget { name, .. } => {
                    let who = name.clone();
                    let forgotten = tokio::task::spawn_blocking(move || store.forget_source(&who)).await??;
                    let Some(f) = forgotten else {
                        return Err(UsageError(format!(
                            "no source named {name:?} in {}: `tributary sources` lists the stored ones",
                            config.daemon.database.display()
                        ))
                        .into());
                    };
                    format!(
                        "forgot source {name}: {} entries only it carried deleted, {} entries kept for their other sources",
                        f.entries, f.shared
                    )
                }
                DbAction::Prune => {
                    let p = tokio::task::spawn_blocking(move || {
                        store.prune(retention.days, retention.keep_per_source_min, Utc::now())
                    })
                    .await??;
                    format!(
                        "pruned {} entries older than {} days (keeping at least {} per source)",
                        p.entries, retention.days, retention.keep_per_source_min
                    )
                }
            };
            println!("{message}");
            Ok(if message.starts_with("DAMAGED") { 1 } else { 0 })
        }
        Command::Export { output, format, out } => {
            let format = export_format(*format, out.as_deref())?;
            let config = load_config(&cli)?;
            export(&config, output, format.into(), out.as_deref()).await?;
            Ok(0)
        }
    }
}

async fn poll(config: &Config, only: &[String], force: bool) -> anyhow::Result<i32> {
    for name in only {
        if !config.sources.iter().any(|s| &s.name == name) {
            return Err(UsageError(format!(
                "no source named {name:?} in {}; known: {}",
                config.path.display(),
                config
                    .sources
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .into());
        }
    }
    let store = daemon::open_store(config).await?;
    let mut cx = daemon::context(config, store)?;
    cx.force = force;
    let chosen: Vec<crate::config::SourceConfig> = config
        .sources
        .iter()
        .filter(|s| only.is_empty() || only.contains(&s.name))
        .cloned()
        .collect();
    pipeline::register_new_sources(&cx.store, &chosen).await;
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(config.daemon.max_concurrent_fetches));
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, s) in chosen.into_iter().enumerate() {
        let (cx, limit) = (cx.clone(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            (i, pipeline::refresh(&cx, &s, Utc::now()).await)
        });
    }
    let mut reports: Vec<(usize, PollReport)> = Vec::new();
    while let Some(r) = tasks.join_next().await {
        reports.push(r.context("a poll task failed")?);
    }
    reports.sort_by_key(|(i, _)| *i);
    let reports: Vec<PollReport> = reports.into_iter().map(|(_, r)| r).collect();
    // The article pages of full_text sources, queued as their polls
    // committed, are read before the command exits.
    let pages = cx.finish_pages().await;
    print_reports(&reports, started.elapsed());
    if pages.read + pages.failed > 0 {
        println!(
            "article pages: {} read, {} without an article (logged; those items keep their feed's text)",
            pages.read, pages.failed
        );
    }
    let entries = {
        let store = cx.store.clone();
        tokio::task::spawn_blocking(move || store.entry_count()).await??
    };
    println!("{entries} entries stored in {}", config.daemon.database.display());
    // The writer thread may still hold the store when the process exits:
    // copy the write-ahead log into the database file now.
    let store = cx.store.clone();
    if !tokio::task::spawn_blocking(move || store.checkpoint()).await?? {
        eprintln!(
            "warning: another process is reading {}: part of its write-ahead log stays beside it",
            config.daemon.database.display()
        );
    }
    Ok(if reports.iter().any(PollReport::failed) { 1 } else { 0 })
}

fn print_reports(reports: &[PollReport], elapsed: std::time::Duration) {
    let mut rows = vec![
        [
            "SOURCE", "OUTCOME", "HTTP", "ITEMS", "NEW", "UPDATED", "BY LINK", "BY TEXT", "MS", "ERROR",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for r in reports {
        rows.push(vec![
            r.source.clone(),
            r.outcome.to_string(),
            r.status.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
            r.counts.items.to_string(),
            r.counts.new.to_string(),
            r.counts.updated.to_string(),
            r.counts.merged_link.to_string(),
            r.counts.merged_text.to_string(),
            r.duration_ms.to_string(),
            r.error.clone().unwrap_or_default(),
        ]);
    }
    print_table(&rows);
    let sum = |f: fn(&PollReport) -> usize| reports.iter().map(f).sum::<usize>();
    let failed = reports.iter().filter(|r| r.failed()).count();
    println!(
        "{} sources polled in {:.2} s: {} failed; {} items, {} new, {} updated, merged by link: {}, by text: {}",
        reports.len(),
        elapsed.as_secs_f64(),
        failed,
        sum(|r| r.counts.items),
        sum(|r| r.counts.new),
        sum(|r| r.counts.updated),
        sum(|r| r.counts.merged_link),
        sum(|r| r.counts.merged_text),
    );
    let bridged = sum(|r| r.counts.bridged);
    if bridged > 0 {
        println!("{bridged} entries merged into older ones: an item was the same story as both");
    }
    let too_old = sum(|r| r.counts.too_old);
    if too_old > 0 {
        println!("{too_old} items skipped as older than max_age");
    }
    let held_back = sum(|r| r.counts.held_back);
    if held_back > 0 {
        println!("{held_back} items of new sources held back by initial_entries (remembered as pruned)");
    }
}

fn ago(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match t {
        None => "never".into(),
        Some(t) => {
            let s = (now - t).num_seconds().max(0);
            match s {
                0..60 => format!("{s}s ago"),
                60..3600 => format!("{}m ago", s / 60),
                3600..86400 => format!("{}h ago", s / 3600),
                _ => format!("{}d ago", s / 86400),
            }
        }
    }
}

fn print_sources(config: &Config, states: &[crate::store::SourceState]) {
    let now = Utc::now();
    let mut rows = vec![
        [
            "SOURCE",
            "LAST POLL",
            "LAST SUCCESS",
            "HTTP",
            "ITEMS",
            "FAILURES",
            "NEXT DUE",
            "LAST ERROR",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for s in &config.sources {
        let st = states.iter().find(|x| x.name == s.name);
        let last_poll = st.and_then(|x| x.last_poll);
        let due = st.and_then(|x| x.next_due).unwrap_or(now);
        let due = if due <= now {
            "now".to_string()
        } else {
            due.format("%Y-%m-%d %H:%M:%S").to_string()
        };
        rows.push(vec![
            s.name.clone(),
            ago(last_poll, now),
            ago(st.and_then(|x| x.last_success), now),
            st.and_then(|x| x.last_status)
                .map(|c| c.to_string())
                .unwrap_or_else(|| "-".into()),
            st.map(|x| x.items.to_string()).unwrap_or_else(|| "0".into()),
            st.map(|x| x.consecutive_failures.to_string())
                .unwrap_or_else(|| "0".into()),
            due,
            st.and_then(|x| x.last_error.as_deref())
                .map(|e| crate::secrets::redact_text(e).into_owned())
                .unwrap_or_default(),
        ]);
    }
    for st in states
        .iter()
        .filter(|x| !config.sources.iter().any(|s| s.name == x.name))
    {
        rows.push(vec![
            st.name.clone(),
            ago(st.last_poll, now),
            ago(st.last_success, now),
            "-".into(),
            st.items.to_string(),
            "-".into(),
            "removed from config".into(),
            String::new(),
        ]);
    }
    print_table(&rows);
}

fn print_table(rows: &[Vec<String>]) {
    let cols = rows.first().map(Vec::len).unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map(|s| s.chars().count()).unwrap_or(0))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = std::io::stdout().lock();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            if c + 1 == r.len() {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

async fn export(config: &Config, output: &str, format: Format, out: Option<&Path>) -> anyhow::Result<()> {
    let Some(selected) = config.output(output) else {
        let names: Vec<_> = std::iter::once(crate::config::ALL_OUTPUT)
            .chain(config.outputs.iter().map(|o| o.name.as_str()))
            .collect();
        return Err(UsageError(format!("no output named {output:?}; outputs: {}", names.join(", "))).into());
    };
    let store = daemon::open_store(config).await?;
    let feed = config.feed.clone();
    let page =
        tokio::task::spawn_blocking(move || crate::outputs::render(&store, &feed, &selected, format, 1, Utc::now()))
            .await??;
    match out {
        None => std::io::stdout().write_all(page.body.as_bytes())?,
        Some(path) => crate::outputs::write_atomically(path, page.body.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?,
    }
    Ok(())
}

/// Whether an error should exit with status 2.
pub fn is_usage_error(e: &anyhow::Error) -> bool {
    e.downcast_ref::<config::ConfigError>().is_some() || e.downcast_ref::<UsageError>().is_some()
}

/// Sets up logging as asked; `RUST_LOG` filters (default `info`).
///
/// Logs go to stderr, coloured only when it is a terminal (and `NO_COLOR`
/// is unset): a file, a pipe or the journal gets plain text.
pub fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour);
    let journald = std::env::var_os("JOURNAL_STREAM").is_some();
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Auto if journald => builder.without_time().init(),
        LogFormat::Auto | LogFormat::Text => builder.init(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn export_takes_the_format_from_the_extension_of_its_file() {
        let f = |given, out: &str| export_format(given, Some(Path::new(out)));
        assert_eq!(f(None, "guess.json").unwrap(), ExportFormat::Json);
        assert_eq!(f(None, "site/feed.RSS").unwrap(), ExportFormat::Rss);
        assert_eq!(f(None, "feed.atom").unwrap(), ExportFormat::Atom);
        assert_eq!(f(None, "feed.xml").unwrap(), ExportFormat::Atom);
        assert_eq!(f(Some(ExportFormat::Rss), "feed.xml").unwrap(), ExportFormat::Rss);
        assert_eq!(f(Some(ExportFormat::Json), "feed.json").unwrap(), ExportFormat::Json);
        // An extension that names no format, when --format does.
        assert_eq!(f(Some(ExportFormat::Rss), "feed").unwrap(), ExportFormat::Rss);
        assert_eq!(f(Some(ExportFormat::Json), "feed.txt").unwrap(), ExportFormat::Json);
        // Standard output: --format, else Atom.
        assert_eq!(export_format(None, None).unwrap(), ExportFormat::Atom);
        assert_eq!(
            export_format(Some(ExportFormat::Json), None).unwrap(),
            ExportFormat::Json
        );
    }

    #[test]
    fn export_refuses_an_unknown_extension_and_a_contradicting_format() {
        let f = |given, out: &str| export_format(given, Some(Path::new(out))).unwrap_err().0;
        let unknown = f(None, "feed.txt");
        assert!(
            unknown.contains("feed.txt") && unknown.contains("--format"),
            "{unknown}"
        );
        assert!(f(None, "feed").contains("cannot tell the format"));
        let contradiction = f(Some(ExportFormat::Atom), "guess.json");
        assert!(
            contradiction.contains("--format atom")
                && contradiction.contains("guess.json")
                && contradiction.contains("json"),
            "{contradiction}"
        );
        assert!(f(Some(ExportFormat::Json), "feed.xml").contains("atom or rss"));
        assert!(f(Some(ExportFormat::Rss), "feed.atom").contains("--format rss"));
    }
}
