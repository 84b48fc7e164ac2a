//! Tributary: a feed aggregator daemon.
//!
//! It polls the RSS, Atom and JSON feeds listed in a TOML file on cron
//! schedules, stores each story once in SQLite however many feeds carried
//! it, and serves merged feeds (Atom 1.0, RSS 2.0, JSON Feed 1.1) over HTTP.
//!
//! Data flows one way; each arrow is a function call on [`model`] types:
//!
//! ```text
//! config → schedule → fetch → parse → normalize → dedup → store → publish → http
//!                                     └─ html: every reading of HTML, for normalize, dedup and publish
//! ```
//!
//! | module | owns |
//! |---|---|
//! | [`model`] | plain data shared by every stage |
//! | [`config`] | reading and validating the TOML file, with file:line:column errors |
//! | `schedule` | cron and interval schedules, jitter, due times (pure) |
//! | [`fetch`] | HTTP and file fetching with validators, caps and timeouts |
//! | `fulltext` | the article page behind an item's link, for `full_text = true` sources: fetched politely, extracted, sanitized |
//! | [`parse`] | bytes → feed drafts: charset, repairs, feed-rs, deterministic ids |
//! | `normalize` | the entry policy: body, title, links, dates, content hash |
//! | `html` | every reading of HTML: tokenizer, sanitizer, depth cap, visible text |
//! | `dedup` | which stored story an item is, and what a merged story keeps |
//! | [`store`] | SQLite schema, migrations, the poll transaction, queries |
//! | [`pipeline`] | one source's refresh end to end, in its own span |
//! | [`publish`] | rendering Atom, RSS and JSON Feed |
//! | [`http`] | the axum routes and caching headers |
//! | [`metrics`] | the Prometheus exposition |
//! | [`opml`] | OPML import and export |
//! | `discover` | the feed behind a URL: the URL itself, a page's advertised feeds, the usual paths (`tributary add`) |
//! | [`outputs`] | named merged feeds: selection, pages, files |
//! | [`serve`] | the HTTP server loop: timeouts, connection limit |
//! | [`daemon`] | tasks, timers, signals, shutdown |
//! | `secrets` | credentials in source URLs: what is published, what is shown as `***` |
//! | `xmltext` | the XML 1.0 character rules, shared by reader and writers |
//! | [`cli`] | the command line and exit codes |
//!
//! Public are the modules that the binary and the integration tests use.
//! `normalize`, `dedup`, `fulltext` and `xmltext` are public only with the
//! `bench-internals` feature, for the benches and the fuzz targets,
//! as are the few items of public modules that only those name
//! (`bench_pub!`); `schedule` and `secrets` are internal.

/// Declares an item `pub` with the `bench-internals` feature and
/// `pub(crate)` without it: for the few items of public modules that only
/// the ingest bench and the fuzz targets name (the crate uses them too).
/// Write the item without a visibility; attributes and docs go inside.
/// rustfmt leaves macro bodies alone, so format the item by hand.
macro_rules! bench_pub {
    ($(#[$attr:meta])* $first:ident $($rest:tt)*) => {
        #[cfg(feature = "bench-internals")]
        $(#[$attr])*
        pub $first $($rest)*
        #[cfg(not(feature = "bench-internals"))]
        $(#[$attr])*
        pub(crate) $first $($rest)*
    };
}

pub mod cli;
pub mod config;
pub mod daemon;
#[cfg(feature = "bench-internals")]
pub mod dedup;
#[cfg(not(feature = "bench-internals"))]
pub(crate) mod dedup;
pub(crate) mod discover;
pub(crate) mod explain;
pub mod fetch;
#[cfg(feature = "bench-internals")]
pub mod fulltext;
#[cfg(not(feature = "bench-internals"))]
pub(crate) mod fulltext;
#[cfg(feature = "bench-internals")]
pub mod html;
#[cfg(not(feature = "bench-internals"))]
pub(crate) mod html;
pub mod http;
pub mod metrics;
pub mod model;
#[cfg(feature = "bench-internals")]
pub mod normalize;
#[cfg(not(feature = "bench-internals"))]
pub(crate) mod normalize;
pub mod opml;
pub mod outputs;
pub mod parse;
pub mod pipeline;
pub mod publish;
pub(crate) mod schedule;
pub(crate) mod secrets;
pub mod serve;
pub mod store;
pub mod web;
#[cfg(feature = "bench-internals")]
pub mod xmltext;
#[cfg(not(feature = "bench-internals"))]
pub(crate) mod xmltext;
