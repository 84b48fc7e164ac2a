//! Criterion benchmark of reading an article out of a page for
//! `full_text` sources (`fulltext::extract`: decoding, readability or a
//! selector, sanitizing), on pages of about 100 KB made from the extraction
//! corpus (`tests/fixtures/fulltext/`): a news page's article and furniture
//! grown with more comments and sidebar links until it weighs 100 KB, as a
//! real news page does. `Throughput::Bytes` makes criterion's `thrpt` line
//! read as page bytes per second; the time per iteration is the time per
//! 100 KB page.
//!
//! Run: `cargo bench --features bench-internals --bench fulltext`
//! (`-- --measurement-time 3` for a short run). The feature makes the
//! `fulltext` module public; without it Cargo skips this bench.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tributary::fulltext::extract::{Page, extract};
use url::Url;

/// The size of the measured pages.
const PAGE_BYTES: usize = 100 * 1024;

/// A corpus page grown to [`PAGE_BYTES`]: its furniture (everything after
/// the article's `</article>`) repeated before `</body>`.
fn page(name: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fulltext");
    let html = std::fs::read_to_string(dir.join(format!("{name}.html")))
        .expect("the corpus page (scripts/make-fulltext-corpus)");
    let (head, tail) = html.split_at(html.find("</article>").expect("an <article>") + "</article>".len());
    let furniture = tail.split("</body>").next().unwrap_or("");
    let mut out = head.to_string();
    while out.len() + tail.len() < PAGE_BYTES {
        out.push_str(furniture);
    }
    out.push_str(tail);
    out
}

fn bench(c: &mut Criterion) {
    let url = Url::parse("https://news.example/2026/12/07/story.html").expect("a URL");
    let mut group = c.benchmark_group("fulltext");
    for name in ["news-en-1", "news-it-1"] {
        let html = page(name);
        group.throughput(Throughput::Bytes(html.len() as u64));
        let input = Page {
            bytes: html.as_bytes(),
            charset: Some("utf-8"),
            media_type: Some("text/html"),
            url: &url,
        };
        assert!(extract(input, None).is_ok(), "{name}: no article");
        group.bench_function(format!("extract_readability_100k/{name}"), |b| {
            b.iter(|| extract(black_box(input), None))
        });
        group.bench_function(format!("extract_selector_100k/{name}"), |b| {
            b.iter(|| extract(black_box(input), Some(".story-body")))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
