//! Merged feeds by name: what an output contains and how its pages render.
//!
//! An output (`all`, or an `[[output]]` of the config) selects entries by
//! tags and sources in SQL, then by include/exclude expressions on title and
//! text; pages of `[feed] entries` follow RFC 5005 (`next`/`previous`
//! links). This module joins the store's queries to the `publish` writers
//! for the HTTP server, `tributary export` and the files the daemon writes;
//! it knows nothing of HTTP.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

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
        let title = title_of(feed, output);
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
            site_url: if output.name == ALL_OUTPUT {
                feed.base_url.to_string()
            } else {
                format!("{}outputs/{}.html", feed.base_url, output.name)
            },
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

/// Gives every credit of `entries` the `title` its source is configured
/// with; the others keep the feed's own title.
fn name_sources(entries: &mut [StoredEntry], titles: &std::collections::BTreeMap<String, String>) {
    if titles.is_empty() {
        return;
    }
    for credit in entries.iter_mut().flat_map(|e| e.credits.iter_mut()) {
        if let Some(title) = titles.get(&credit.source) {
            credit.source_title = Some(title.clone());
        }
    }
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
    let (mut entries, has_next) = select(store, output, feed.entries, page)?;
    name_sources(&mut entries, &feed.source_titles);
    let body = publish::render(format, &meta(feed, output, format, page, has_next), &entries, now);
    Ok(Page {
        body,
        updated: publish::feed_updated(&entries, now),
        has_next,
    })
}

/// The entries of page `page` of an output for its HTML river, whether
/// more follow, and the page's `updated` time (blocking: runs queries).
pub(crate) fn river_entries(
    store: &Store,
    feed: &FeedConfig,
    output: &OutputConfig,
    page: usize,
    now: DateTime<Utc>,
) -> Result<(Vec<StoredEntry>, bool, DateTime<Utc>), StoreError> {
    let (mut entries, has_next) = select(store, output, feed.entries, page)?;
    name_sources(&mut entries, &feed.source_titles);
    let updated = publish::feed_updated(&entries, now);
    Ok((entries, has_next, updated))
}

/// The title of an output, as its feeds and page show it.
pub(crate) fn title_of(feed: &FeedConfig, output: &OutputConfig) -> String {
    match (&output.title, output.name.as_str()) {
        (Some(t), _) => t.clone(),
        (None, ALL_OUTPUT) => feed.title.clone(),
        (None, name) => format!("{} — {name}", feed.title),
    }
}

/// The file of an output `path` in `format`: `PATH.atom`, `PATH.rss`, `PATH.json`.
pub(crate) fn file_of(base: &Path, format: Format) -> PathBuf {
    let mut file = base.as_os_str().to_owned();
    file.push(format!(".{}", format.extension()));
    PathBuf::from(file)
}

/// Temporary files made by this process so far, for their unique names.
static TEMPORARY: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` through a new temporary file in the same folder
/// and a rename, so a reader never sees half a file. The temporary file's
/// name is unique (`.NAME.tmp-PID-N`, created exclusively), so writers of
/// the same file, in this process or another, never write into each
/// other's temporary file or rename it away; the last rename wins.
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
    let (mut f, tmp) = loop {
        let n = TEMPORARY.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => break (f, tmp),
            // Left by an earlier process with this id: take the next name.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    };
    let result = (|| {
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_atomic_writes_of_one_file_never_share_a_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("all.atom");
        // Each writer's bytes are its own, long enough to overlap.
        let bodies: Vec<Vec<u8>> = (0..16u8).map(|i| vec![b'a' + i; 256 * 1024]).collect();
        std::thread::scope(|scope| {
            let handles: Vec<_> = bodies
                .iter()
                .map(|b| scope.spawn(|| write_atomically(&path, b)))
                .collect();
            for h in handles {
                h.join().unwrap().unwrap();
            }
        });
        let written = std::fs::read(&path).unwrap();
        assert!(bodies.contains(&written), "the file is one writer's bytes, whole");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["all.atom"], "no temporary file is left behind");
    }

    #[test]
    fn a_leftover_temporary_file_is_neither_reused_nor_touched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("all.rss");
        // The next names this process would take (other tests may take
        // some meanwhile), as an earlier process with this id left them.
        let next = TEMPORARY.load(Ordering::Relaxed);
        let leftovers: Vec<_> = (next..next + 100)
            .map(|n| dir.path().join(format!(".all.rss.tmp-{}-{n}", std::process::id())))
            .collect();
        for l in &leftovers {
            std::fs::write(l, "left by a crash").unwrap();
        }
        write_atomically(&path, b"<rss/>").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"<rss/>");
        for l in &leftovers {
            assert_eq!(std::fs::read(l).unwrap(), b"left by a crash");
        }
    }
}
