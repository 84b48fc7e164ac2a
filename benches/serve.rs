//! Criterion benchmarks of serving: what a reader waits for when the page
//! it asks for has to be rendered, because the data changed since the last
//! render (or nothing has been rendered yet).
//!
//! A store holds the 1,000 entries of 20 generated feeds (`support::Farm`,
//! ingested through the real pipeline); the router answers in-process, as
//! it does behind the listener. Each iteration forgets the rendered pages
//! (`AppState::drop_pages`, as a poll that changed the data does through
//! the data version) and asks for the page as a reader would, with
//! `Accept-Encoding: gzip`: the query of the page's 100 entries, the
//! template (or the feed writer), the ETag and the compression are all in
//! the time. The `cached` lines are the same requests answered from the
//! page cache.
//!
//! Run: `cargo bench --features bench-internals --bench serve`.

#[allow(dead_code)]
mod support;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use tower::ServiceExt;
use tributary::dedup::Rules;
use tributary::http::{AppState, router};
use tributary::metrics::Metrics;
use tributary::pipeline;
use tributary::store::Store;

use support::Farm;

/// Feeds ingested: 20 of 50 items, 1,000 entries less the shared stories.
const FEEDS: usize = 20;

fn bench_first_render(c: &mut Criterion) {
    let farm = Farm::new(FEEDS);
    let config = farm.config();
    let dir = std::env::var_os("SERVE_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).to_path_buf());
    let path = dir.join("serve-bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = Arc::new(Store::open(&path).expect("the bench store opens"));
    for (k, source) in config.sources.iter().enumerate() {
        pipeline::ingest_body(&store, source, farm.fetched(k, 0), farm.anchor, Rules::default())
            .expect("the pipeline ingests");
    }
    let state = AppState::new(store, &config, Arc::new(Metrics::new()));
    let app = router(state.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let get = |path: &str| {
        let request = Request::get(path)
            .header("accept-encoding", "gzip")
            .body(Body::empty())
            .expect("a request");
        runtime.block_on(async {
            let response = app.clone().oneshot(request).await.expect("the router answers");
            assert!(response.status().is_success(), "{path}: {}", response.status());
            axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("a body")
        })
    };
    let size = get("/").len();
    println!("river page: {size} bytes gzipped");

    let mut g = c.benchmark_group("serve");
    for (name, path) in [("river_100", "/"), ("atom_100", "/feed.atom")] {
        g.bench_function(format!("{name}_first_render"), |b| {
            b.iter(|| {
                state.drop_pages();
                black_box(get(path))
            })
        });
        g.bench_function(format!("{name}_cached"), |b| b.iter(|| black_box(get(path))));
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
}

criterion_group! {
    name = serve;
    config = config();
    targets = bench_first_render
}
criterion_main!(serve);
