//! Merged feeds by name: what an output contains and how its pages render.
//!
//! An output (`all`, or an `[[output]]` of the config) selects entries by
//! tags and sources in SQL, then by include/exclude expressions on title and
//! text; pages of `[feed] entries` follow RFC 5005 (`next`/`previous`
//! links). This module joins the store's queries to the `publish` writers
//! for the HTTP server, `tributary export` and the files the daemon writes;
//! it knows nothing of HTTP.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::config::{ALL_OUTPUT, FeedConfig, OutputConfig};
use crate::model::StoredEntry;
use crate::publish::{self, FeedMeta, Format};
use crate::store::{Store, StoreError};

/// Rows read per batch when regular expressions filter an output.
const BATCH: usize = 500;

/// One rendered page of an output.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The document.
    pub body: String,
    /// Its `updated` time (newest entry, never in the future).
    pub(crate) updated: DateTime<Utc>,
    /// Whether a next page exists.
    pub(crate) has_next: bool,
}

/// The path of an output's document relative to the base URL.
pub(crate) fn path_of(output: &str, format: Format) -> String {
    if output == ALL_OUTPUT {
        format!("feed.{}", format.extension())
    } else {
        format!("outputs/{output}.{}", format.extension())
    }
}

fn page_url(feed: &FeedConfig, output: &str, format: Format, page: usize) -> String {
    let mut url = feed.base_url.to_string();
    url.push_str(&path_of(output, format));
    if page > 1 {
        url.push_str(&format!("?page={page}"));
    }
    url
}

bench_pub! {
    /// The feed metadata of one page of an output.
    fn meta(feed: &FeedConfig, output: &OutputConfig, format: Format, page: usize, has_next: bool) -> FeedMeta {
        let title = match (&output.title, output.name.as_str()) {
            (Some(t), _) => t.clone(),
            (None, ALL_OUTPUT) => feed.title.clone(),
            (None, name) => format!("{} — {name}", feed.title),
        };
        let id = if output.name == ALL_OUTPUT {
            format!("{}feed", feed.base_url)
        } else {
            format!("{}outputs/{}", feed.base_url, output.name)
        };
        FeedMeta {
            title,
            description: feed.description.clone(),
            id,
            self_url: page_url(feed, &output.name, format, page),
            site_url: feed.base_url.to_string(),
            author: feed.author.clone(),
            language: None,
            next_url: has_next.then(|| page_url(feed, &output.name, format, page + 1)),
            previous_url: (page > 1).then(|| page_url(feed, &output.name, format, page - 1)),
            hub_url: feed.websub_hub.as_ref().map(|u| u.to_string()),
            generator_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

fn text_of(e: &StoredEntry) -> String {
    format!(
        "{}\n{}\n{}",
        e.title,
        e.summary_html.as_deref().unwrap_or(""),
        e.content_html.as_deref().unwrap_or("")
    )
}

/// The entries of page `page` (1-based) of an output, and whether more follow.
fn select(
    store: &Store,
    output: &OutputConfig,
    per_page: usize,
    page: usize,
) -> Result<(Vec<StoredEntry>, bool), StoreError> {
    let skip = page.saturating_sub(1) * per_page;
    if output.include.is_empty() && output.exclude.is_empty() {
        let mut entries = store.newest_matching(&output.tags, &output.sources, per_page + 1, skip)?;
        let more = entries.len() > per_page;
        entries.truncate(per_page);
        return Ok((entries, more));
    }
    let need = skip + per_page + 1;
    let mut matched = Vec::new();
    let mut offset = 0;
    loop {
        let batch = store.newest_matching(&output.tags, &output.sources, BATCH, offset)?;
        let n = batch.len();
        matched.extend(batch.into_iter().filter(|e| output.accepts(&text_of(e))));
        if matched.len() >= need || n < BATCH {
            break;
        }
        offset += BATCH;
    }
    let more = matched.len() > skip + per_page;
    Ok((matched.into_iter().skip(skip).take(per_page).collect(), more))
}

/// Renders page `page` of an output in `format` (blocking: runs queries).
pub fn render(
    store: &Store,
    feed: &FeedConfig,
    output: &OutputConfig,
    format: Format,
    page: usize,
    now: DateTime<Utc>,
) -> Result<Page, StoreError> {
    let (entries, has_next) = select(store, output, feed.entries, page)?;
    let body = publish::render(format, &meta(feed, output, format, page, has_next), &entries, now);
    Ok(Page {
        body,
        updated: publish::feed_updated(&entries, now),
        has_next,
    })
}

/// Writes `bytes` to `path` through a temporary file in the same folder and
/// a rename, so a reader never sees half a file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes the first page of every output that has a `path`, in all three
/// formats; returns the files written.
pub(crate) fn write_files(
    store: &Store,
    feed: &FeedConfig,
    outputs: &[OutputConfig],
    now: DateTime<Utc>,
) -> Result<Vec<PathBuf>, String> {
    let mut written = Vec::new();
    for o in outputs {
        let Some(base) = &o.path else { continue };
        if let Some(dir) = base.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        for format in Format::ALL {
            let page = render(store, feed, o, format, 1, now).map_err(|e| e.to_string())?;
            let mut file = base.clone().into_os_string();
            file.push(format!(".{}", format.extension()));
            let file = PathBuf::from(file);
            write_atomically(&file, page.body.as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
            written.push(file);
        }
    }
    Ok(written)
}
