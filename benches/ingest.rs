//! Criterion benchmarks of the ingest stages, on feeds made in memory.
//!
//! Each stage of parse → normalize → dedup → store is measured alone, then
//! the whole chain through `pipeline::ingest_body`, with
//! `Throughput::Elements` set to the items handled per iteration so that
//! criterion's `thrpt` line reads as entries per second.
//!
//! The two stages that write use SQLite files under Cargo's target tmp
//! folder (the same disk as a real database, with the store's own
//! `synchronous = FULL`), prefilled with about 10,000 entries; every
//! measured iteration ingests a feed generation the store has never seen,
//! so it measures inserts (and the merges of the ~10 % shared stories), not
//! the unchanged path. The store stage's input, and the prefill, are entries
//! built straight from the generated items (see `support::Farm::entries`) so
//! that making fresh input costs little next to what is measured. Nothing
//! talks to the network. `INGEST_BENCH_DIR` puts the databases elsewhere
//! (on a tmpfs, say, to see what the disk costs).
//!
//! Run all: `cargo bench --features bench-internals --bench ingest`; one
//! stage: `cargo bench --features bench-internals --bench ingest -- pipeline`.
//! The feature makes public the stage modules called here (`normalize`,
//! `dedup`); without it Cargo skips this bench.

mod support;

use std::cell::{Cell, OnceCell, RefCell};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, Token as Token5, TokenSink, TokenSinkResult, Tokenizer as Tokenizer5, TokenizerOpts,
};
use tributary::config::SourceConfig;
use tributary::dedup::{self, Rules};
use tributary::dedup::{Encoded, Print};
use tributary::html::{
    self,
    tokens::{Token, Tokenizer},
};
use tributary::model::{Entry, ParsedFeed};
use tributary::model::{IngestCounts, PollOutcome};
use tributary::normalize;
use tributary::parse::{self, Document};
use tributary::pipeline;
use tributary::store::{PollRecord, Store, StoreError};
use url::Url;

use support::{Farm, Format, ITEMS_PER_FEED, step};

/// Feeds in the farm (and sources in the stores).
const FEEDS: usize = 200;
/// Entries a store holds before the first measured insert.
const PREFILL_ENTRIES: usize = 10_000;
const ITEMS: u64 = ITEMS_PER_FEED as u64;
/// Polls committed together by `pipeline/ingest_bodies_8x50_one_commit`.
const GROUP: usize = 8;

fn parse_feed(farm: &Farm, k: usize, generation: u64) -> ParsedFeed {
    let body = farm.fetched(k, generation);
    parse::parse(Document {
        bytes: &body.bytes,
        charset: body.charset.as_deref(),
        media_type: body.media_type.as_deref(),
        url: &body.final_url,
    })
    .expect("the generated feed parses")
}

fn normalize_feed(farm: &Farm, k: usize, parsed: &ParsedFeed) -> Vec<Entry> {
    let url = farm.url(k);
    let cx = normalize::Context {
        base_url: Some(&url),
        feed: &parsed.info,
        now: farm.anchor,
    };
    parsed
        .items
        .iter()
        .map(|item| normalize::normalize(item, &cx))
        .collect()
}

fn print_of(e: &Entry) -> Option<Print> {
    pipeline::print_of(e)
}

// ---------------------------------------------------------------------------
// Pure stages
// ---------------------------------------------------------------------------

fn bench_parse(c: &mut Criterion) {
    let farm = Farm::new(FEEDS);
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(ITEMS));
    for (name, format) in [("rss", Format::Rss), ("atom", Format::Atom)] {
        let k = farm.first(format, false);
        let body = farm.fetched(k, 0);
        let sizes: Vec<usize> = farm.items(k, 0).iter().map(|(it, _)| it.body.len()).collect();
        eprintln!(
            "parse/{name}: feed {k}, {} KB of XML; item bodies {}–{} bytes, mean {}",
            body.bytes.len() / 1024,
            sizes.iter().min().unwrap_or(&0),
            sizes.iter().max().unwrap_or(&0),
            sizes.iter().sum::<usize>() / sizes.len().max(1)
        );
        g.bench_function(name, |b| {
            b.iter(|| {
                parse::parse(Document {
                    bytes: black_box(&body.bytes),
                    charset: None,
                    media_type: body.media_type.as_deref(),
                    url: &body.final_url,
                })
                .expect("the generated feed parses")
            })
        });
    }
    g.finish();
}

fn bench_normalize(c: &mut Criterion) {
    let farm = Farm::new(FEEDS);
    let mut g = c.benchmark_group("normalize");
    g.throughput(Throughput::Elements(ITEMS));
    for (name, format) in [("rss", Format::Rss), ("atom", Format::Atom)] {
        let k = farm.first(format, false);
        let parsed = parse_feed(&farm, k, 0);
        let url = farm.url(k);
        let cx = normalize::Context {
            base_url: Some(&url),
            feed: &parsed.info,
            now: farm.anchor,
        };
        g.bench_function(name, |b| {
            b.iter(|| {
                for item in &parsed.items {
                    black_box(normalize::normalize(black_box(item), &cx));
                }
            })
        });
    }
    g.finish();
}

fn bench_sanitize(c: &mut Criterion) {
    let farm = Farm::new(FEEDS);
    let body = farm.body_of_size(5 * 1024);
    let base = Url::parse("https://www.gazzettavalle3.example/cronaca/2026/11/una-storia-3-7").expect("a valid URL");
    let mut g = c.benchmark_group("sanitize_html");
    g.throughput(Throughput::Elements(1));
    g.bench_function("5KB", |b| b.iter(|| html::sanitize(black_box(&body), Some(&base))));
    // Without a base the sanitizer is a shared static; with one (every
    // item: its link is the base) an ammonia builder is made per call.
    g.bench_function("5KB_no_base", |b| b.iter(|| html::sanitize(black_box(&body), None)));
    g.finish();
}

/// A sink for html5ever's tokenizer that counts tags and attributes.
struct CountTags(Cell<usize>);

impl TokenSink for CountTags {
    type Handle = ();

    fn process_token(&self, token: Token5, _line: u64) -> TokenSinkResult<()> {
        if let Token5::TagToken(tag) = token {
            self.0.set(self.0.get() + 1 + tag.attrs.len());
        }
        TokenSinkResult::Continue
    }
}

/// The sanitizer's tokenizer against html5ever's on the same body: both
/// read every tag and attribute (see `src/html/tokens.rs`).
fn bench_tokenize(c: &mut Criterion) {
    let farm = Farm::new(FEEDS);
    let body = farm.body_of_size(5 * 1024);
    let mut g = c.benchmark_group("tokenize");
    g.throughput(Throughput::Elements(1));
    g.bench_function("5KB", |b| {
        b.iter(|| {
            let mut n = 0;
            for token in Tokenizer::html(black_box(&body)) {
                if let Token::Start(tag) | Token::End(tag) = token {
                    n += 1 + tag.attrs().count();
                }
            }
            n
        })
    });
    g.bench_function("5KB_html5ever", |b| {
        b.iter(|| {
            let tokenizer = Tokenizer5::new(CountTags(Cell::new(0)), TokenizerOpts::default());
            let input = BufferQueue::default();
            input.push_back(StrTendril::from_slice(black_box(&body)));
            let _ = tokenizer.feed(&input);
            tokenizer.end();
            tokenizer.sink.0.get()
        })
    });
    g.finish();
}

fn bench_dedup(c: &mut Criterion) {
    let farm = Farm::new(FEEDS);
    let k = farm.first(Format::Rss, false);
    let parsed = parse_feed(&farm, k, 0);
    let entries = normalize_feed(&farm, k, &parsed);
    let prints: Vec<Print> = entries.iter().filter_map(print_of).collect();
    let mut g = c.benchmark_group("dedup");
    g.throughput(Throughput::Elements(ITEMS));
    g.bench_function("print", |b| {
        b.iter(|| {
            for e in &entries {
                black_box(print_of(black_box(e)));
            }
        })
    });
    // What rule 3 does with the candidates the key index finds: decode
    // each one's stored print and judge it, here against six unrelated
    // stories.
    let stored: Vec<Vec<u8>> = prints.iter().map(Print::encode).collect();
    g.throughput(Throughput::Elements(prints.len() as u64));
    g.bench_function("judge_6_candidates", |b| {
        b.iter(|| {
            for (i, p) in prints.iter().enumerate() {
                for d in 1..=6 {
                    let other = Print::decode(&stored[(i + d) % stored.len()]);
                    black_box(other.map(|o| dedup::compare::judge(p, &o)));
                }
            }
        })
    });
    g.finish();
}

// ---------------------------------------------------------------------------
// Stages that write
// ---------------------------------------------------------------------------

/// A database prefilled with about [`PREFILL_ENTRIES`] entries, copied for each bench.
struct Template {
    dir: tempfile::TempDir,
    path: PathBuf,
    /// The farm step the prefill stopped at: benches go on from there.
    next: usize,
    entries: usize,
}

fn build_template(farm: &Farm, sources: &[SourceConfig]) -> Template {
    let dir = tempfile::Builder::new()
        .prefix("ingest-bench-")
        .tempdir_in(
            std::env::var_os("INGEST_BENCH_DIR").map_or_else(|| env!("CARGO_TARGET_TMPDIR").into(), PathBuf::from),
        )
        .expect("a temporary folder");
    let path = dir.path().join("template.db");
    let started = std::time::Instant::now();
    let (mut t, mut entries) = (0, 0);
    {
        let store = Store::open(&path).expect("the store opens");
        let ids = register(&store, sources);
        while entries < PREFILL_ENTRIES {
            let (k, generation) = step(farm, t);
            let p = prepare(farm, k, generation);
            let c = store_entries(&store, &sources[k], ids[k], &p, farm.anchor, Rules::default())
                .expect("the prefill is stored");
            entries += c.new;
            t += 1;
        }
    }
    let size = std::fs::metadata(&path).map_or(0, |m| m.len());
    let metas: Vec<_> = (0..farm.feeds).map(|k| farm.meta(k)).collect();
    eprintln!(
        "farm: {} feeds ({} RSS 2.0, {} Atom; {} ISO-8859-1), {ITEMS_PER_FEED} items each",
        farm.feeds,
        metas.iter().filter(|m| m.format == Format::Rss).count(),
        metas.iter().filter(|m| m.format == Format::Atom).count(),
        metas.iter().filter(|m| m.latin1).count(),
    );
    eprintln!(
        "prefill: {entries} entries from {t} feeds of {ITEMS_PER_FEED} items in {:.1} s; {} in {:.0} MB",
        started.elapsed().as_secs_f64(),
        path.display(),
        size as f64 / 1e6
    );
    Template {
        dir,
        path,
        next: t,
        entries,
    }
}

fn copy_store(template: &Template, name: &str) -> Store {
    let to = template.dir.path().join(name);
    std::fs::copy(&template.path, &to).expect("the template database copies");
    let wal = |p: &Path| PathBuf::from(format!("{}-wal", p.display()));
    if wal(&template.path).exists() {
        std::fs::copy(wal(&template.path), wal(&to)).expect("the template WAL copies");
    }
    Store::open(&to).expect("the copied store opens")
}

/// One feed's entries, normalized and fingerprinted: the input of the store stage.
struct Prepared {
    k: usize,
    entries: Vec<(Entry, Option<Encoded>)>,
    bytes: usize,
}

fn prepare(farm: &Farm, k: usize, generation: u64) -> Prepared {
    let entries: Vec<(Entry, Option<Encoded>)> = farm
        .entries(k, generation)
        .into_iter()
        .map(|e| {
            let print = pipeline::encoded_print_of(&e);
            (e, print)
        })
        .collect();
    let bytes = entries
        .iter()
        .map(|(e, _)| e.content_html.as_ref().map_or(0, String::len))
        .sum();
    Prepared { k, entries, bytes }
}

/// The row ids of the sources, registering them on first use.
fn register(store: &Store, sources: &[SourceConfig]) -> Vec<i64> {
    store
        .write(|w| {
            sources
                .iter()
                .map(|s| w.source_id(&s.name, &s.location.to_string()))
                .collect()
        })
        .expect("the sources register")
}

/// The store half of a poll: `pipeline::store_entry` for every prepared
/// entry, then the poll record, in one transaction.
fn store_entries(
    store: &Store,
    source: &SourceConfig,
    source_id: i64,
    p: &Prepared,
    now: DateTime<Utc>,
    rules: Rules,
) -> Result<IngestCounts, StoreError> {
    let mut counts = IngestCounts {
        items: p.entries.len(),
        ..IngestCounts::default()
    };
    store.write(|w| {
        for (e, print) in &p.entries {
            pipeline::store_entry(
                w,
                source,
                source_id,
                e,
                pipeline::PrintOf::Ready(print.as_ref()),
                rules,
                now,
                &mut counts,
            )?;
        }
        w.record_poll(
            source_id,
            &PollRecord {
                at: now,
                outcome: PollOutcome::Ok,
                status: Some(200),
                items: counts.items,
                new: counts.new,
                updated: counts.updated,
                merged: counts.merged_link + counts.merged_text,
                bytes: p.bytes,
                next_due: Some(now + TimeDelta::minutes(30)),
                ..PollRecord::default()
            },
        )?;
        Ok(())
    })?;
    Ok(counts)
}

fn add(total: &mut IngestCounts, c: IngestCounts) {
    total.items += c.items;
    total.new += c.new;
    total.updated += c.updated;
    total.merged_link += c.merged_link;
    total.merged_text += c.merged_text;
    total.filtered += c.filtered;
}

/// A store copied from the template, kept for every call criterion makes
/// of one bench's closure, with the farm step it goes on from.
struct Live {
    store: Store,
    ids: Vec<i64>,
    start_entries: usize,
    next: Cell<usize>,
    total: RefCell<IngestCounts>,
}

impl Live {
    fn new(template: &Template, name: &str, sources: &[SourceConfig]) -> Live {
        let store = copy_store(template, name);
        let ids = register(&store, sources);
        Live {
            store,
            ids,
            start_entries: template.entries,
            next: Cell::new(template.next),
            total: RefCell::new(IngestCounts::default()),
        }
    }

    /// The next fresh (feed, generation).
    fn step(&self, farm: &Farm) -> (usize, u64) {
        let t = self.next.get();
        self.next.set(t + 1);
        step(farm, t)
    }

    fn report(&self, what: &str) {
        let total = self.total.borrow();
        let now = self.store.entry_count().expect("the store counts");
        eprintln!(
            "{what}: the store grew from {} to {now} entries; of {} items ingested (warm-up included): \
             {} new, {} merged by link, {} merged by text, {} updated",
            self.start_entries, total.items, total.new, total.merged_link, total.merged_text, total.updated
        );
    }
}

fn bench_store(c: &mut Criterion) {
    let farm = Farm::new(FEEDS);
    let sources = farm.sources();
    let template: OnceCell<Template> = OnceCell::new();
    let template = || template.get_or_init(|| build_template(&farm, &sources));
    let rules = Rules::default();
    let now = farm.anchor;

    let live: OnceCell<Live> = OnceCell::new();
    let mut g = c.benchmark_group("store_insert");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Elements(ITEMS));
    g.bench_function("fresh_50_into_10k", |b| {
        let l = live.get_or_init(|| Live::new(template(), "store_insert.db", &sources));
        b.iter_batched(
            || {
                let (k, generation) = l.step(&farm);
                prepare(&farm, k, generation)
            },
            |p| {
                let counts = store_entries(&l.store, &sources[p.k], l.ids[p.k], &p, now, rules)
                    .expect("the store takes the poll");
                add(&mut l.total.borrow_mut(), counts);
                p
            },
            BatchSize::SmallInput,
        );
    });
    g.finish();
    if let Some(l) = live.get() {
        l.report("store_insert");
    }
    drop(live);

    let live: OnceCell<Live> = OnceCell::new();
    let mut g = c.benchmark_group("pipeline");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(ITEMS));
    g.bench_function("ingest_body_50_into_10k", |b| {
        let l = live.get_or_init(|| Live::new(template(), "pipeline.db", &sources));
        b.iter_batched(
            || {
                let (k, generation) = l.step(&farm);
                (k, farm.fetched(k, generation))
            },
            |(k, body)| {
                let counts =
                    pipeline::ingest_body(&l.store, &sources[k], body, now, rules).expect("the pipeline ingests");
                add(&mut l.total.borrow_mut(), counts);
            },
            BatchSize::SmallInput,
        );
    });
    // The same chain as the daemon commits it: the polls waiting for the
    // writer (3.7-5.8 on average in a cold 1,000-feed poll, 8 here) in one
    // transaction.
    g.throughput(Throughput::Elements(GROUP as u64 * ITEMS));
    g.bench_function("ingest_bodies_8x50_one_commit", |b| {
        let l = live.get_or_init(|| Live::new(template(), "pipeline.db", &sources));
        b.iter_batched(
            || {
                (0..GROUP)
                    .map(|_| {
                        let (k, generation) = l.step(&farm);
                        (k, farm.fetched(k, generation))
                    })
                    .collect::<Vec<_>>()
            },
            |docs| {
                let docs = docs.into_iter().map(|(k, body)| (&sources[k], body)).collect();
                for counts in pipeline::ingest_bodies(&l.store, docs, now, rules) {
                    add(&mut l.total.borrow_mut(), counts.expect("the pipeline ingests"));
                }
            },
            BatchSize::SmallInput,
        );
    });
    g.finish();
    if let Some(l) = live.get() {
        l.report("pipeline");
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
}

criterion_group! {
    name = stages;
    config = config();
    targets = bench_parse, bench_normalize, bench_sanitize, bench_tokenize, bench_dedup, bench_store
}
criterion_main!(stages);
