//! The data flow stays one way: each module may only use the layers
//! DESIGN.md allows. Blunt text checks over the sources, run with the suite.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;

fn sources_of(rel: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(rel);
    let mut out = vec![];
    let mut stack = vec![root];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push((p.display().to_string(), std::fs::read_to_string(&p).unwrap()));
        }
    }
    out
}

fn forbid(module: &str, needles: &[&str]) {
    let files = sources_of(module);
    assert!(!files.is_empty(), "{module} not found");
    for (path, text) in files {
        for n in needles {
            assert!(!text.contains(n), "{path} must not use {n}");
        }
    }
}

#[test]
fn store_knows_nothing_of_http_or_feeds() {
    forbid(
        "store",
        &[
            "axum",
            "reqwest",
            "crate::publish",
            "crate::http",
            "crate::fetch",
            "crate::parse",
        ],
    );
}

#[test]
fn pure_stages_never_touch_the_store_or_network() {
    for m in [
        "parse",
        "html",
        "normalize.rs",
        "normalize",
        "dedup.rs",
        "publish",
        "schedule.rs",
        "model.rs",
    ] {
        forbid(
            m,
            &[
                "crate::store",
                "reqwest",
                "axum",
                "crate::fetch",
                "crate::http",
                "crate::daemon",
            ],
        );
    }
}

#[test]
fn config_and_fetch_stay_in_their_lane() {
    forbid("config.rs", &["crate::store", "crate::fetch", "crate::http", "tokio"]);
    forbid("fetch", &["crate::parse", "crate::store", "axum"]);
    forbid("pipeline.rs", &["crate::http", "crate::publish", "crate::daemon"]);
    forbid("http.rs", &["crate::fetch", "crate::parse", "crate::pipeline"]);
}

#[test]
fn html_reads_html_and_nothing_else() {
    forbid(
        "html",
        &[
            "crate::normalize",
            "crate::dedup",
            "crate::publish",
            "crate::parse",
            "crate::model",
        ],
    );
    // Inside, one way: tokens know neither text nor the sanitizer, and
    // text knows nothing of the sanitizer or the tree model.
    forbid(
        "html/tokens.rs",
        &[
            "super::text",
            "super::sanitize",
            "super::tree",
            "html::text",
            "html::sanitize",
        ],
    );
    forbid(
        "html/tree.rs",
        &["super::text", "super::sanitize", "html::text", "html::sanitize"],
    );
    forbid("html/text.rs", &["super::sanitize", "super::tree", "html::sanitize"]);
}
