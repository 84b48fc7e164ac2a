//! Dedup quality on the labelled corpus in tests/fixtures/dedup/: pairwise
//! precision and recall of "same story", read from the merged JSON Feed's
//! `_tributary.sources`, after polling every feed in two rounds.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};

use common::*;
use tributary::config::OutputConfig;
use tributary::publish::Format;

type Key = (String, String);

fn pairs<'a>(groups: impl Iterator<Item = &'a Vec<Key>>) -> HashSet<(Key, Key)> {
    let mut out = HashSet::new();
    for g in groups {
        for (i, a) in g.iter().enumerate() {
            for b in &g[i + 1..] {
                let (x, y) = if a < b {
                    (a.clone(), b.clone())
                } else {
                    (b.clone(), a.clone())
                };
                out.insert((x, y));
            }
        }
    }
    out
}

#[tokio::test]
async fn labelled_corpus_precision_and_recall() {
    let root = repo_file("tests/fixtures/dedup");
    let labels: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("labels.json")).unwrap()).unwrap();
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.path("feeds")).unwrap();
    let mut blocks = String::new();
    for f in labels["feeds"].as_array().unwrap() {
        let (name, file) = (f["name"].as_str().unwrap(), f["file"].as_str().unwrap());
        std::fs::copy(root.join("round1").join(file), sb.path(&format!("feeds/{file}"))).unwrap();
        blocks.push_str(&source_block(name, sb.path(&format!("feeds/{file}")).to_str().unwrap()));
    }
    let config = sb.config(&blocks);
    let cx = context(&config).await;
    let first = poll_all(&cx, &config).await;
    assert!(first.iter().all(|r| r.outcome == "ok"), "{first:#?}");
    for f in labels["feeds"].as_array().unwrap() {
        let file = f["file"].as_str().unwrap();
        let next = root.join("round2").join(file);
        if next.exists() {
            std::fs::copy(&next, sb.path(&format!("feeds/{file}"))).unwrap();
        }
    }
    let second = poll_all(&cx, &config).await;
    assert!(second.iter().all(|r| !r.failed()), "{second:#?}");

    let mut feed = config.feed.clone();
    feed.entries = 10_000;
    let page = tributary::outputs::render(
        &cx.store,
        &feed,
        &OutputConfig::all(),
        Format::Json,
        1,
        chrono::Utc::now(),
    )
    .unwrap();
    let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
    let predicted: Vec<Vec<Key>> = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i["_tributary"]["sources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    (
                        s["source"].as_str().unwrap().to_string(),
                        s["id"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .collect();

    let mut stories: BTreeMap<String, Vec<Key>> = BTreeMap::new();
    let mut variant: HashMap<Key, String> = HashMap::new();
    for item in labels["items"].as_array().unwrap() {
        let key = (
            item["feed"].as_str().unwrap().to_string(),
            item["id"].as_str().unwrap().to_string(),
        );
        variant.insert(key.clone(), item["variant"].as_str().unwrap_or("").to_string());
        stories
            .entry(item["story"].as_str().unwrap().to_string())
            .or_default()
            .push(key);
    }
    let seen: HashSet<&Key> = predicted.iter().flatten().collect();
    let missing: Vec<_> = variant.keys().filter(|k| !seen.contains(k)).collect();
    assert!(missing.is_empty(), "labelled items not in the merged feed: {missing:?}");

    let truth = pairs(stories.values());
    let got = pairs(predicted.iter());
    let tp = got.intersection(&truth).count();
    let precision = if got.is_empty() {
        1.0
    } else {
        tp as f64 / got.len() as f64
    };
    let recall = if truth.is_empty() {
        1.0
    } else {
        tp as f64 / truth.len() as f64
    };
    let mut per_variant: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (a, b) in &truth {
        let v = [&variant[a], &variant[b]]
            .into_iter()
            .find(|v| v.as_str() != "original")
            .unwrap_or(&variant[a])
            .clone();
        let e = per_variant.entry(v).or_default();
        e.1 += 1;
        if got.contains(&(a.clone(), b.clone())) {
            e.0 += 1;
        }
    }
    let false_merges: Vec<_> = got.difference(&truth).take(20).collect();
    let missed: Vec<_> = truth.difference(&got).take(20).collect();
    let report = format!(
        "items {}, stories {}, entries {}, true pairs {}, predicted pairs {}, correct {}\nprecision {precision:.4}, recall {recall:.4}\nrecall by variant: {per_variant:?}\nfalse merges (first 20): {false_merges:?}\nmissed (first 20): {missed:?}",
        variant.len(),
        stories.len(),
        predicted.len(),
        truth.len(),
        got.len(),
        tp
    );
    eprintln!("{report}");
    assert!(stories.len() >= 200, "{report}");
    assert!(precision >= 0.99, "{report}");
    assert!(recall >= 0.95, "{report}");
}

/// The words as fingerprints read them before the reading moved to
/// `html::text`: every `<` up to the next `>` a separator, entities decoded
/// afterwards, lower-cased, split at anything not alphanumeric.
fn words_as_before(html: &str) -> Vec<String> {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                text.push(' ');
                in_tag = true;
            }
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    htmlize::unescape(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Stored fingerprints were computed from the old reading of the text:
/// over every entry of the labelled corpus and the shipped samples, the
/// titles and bodies read the same words now, so the fingerprints of new
/// copies still match the stored ones.
#[test]
fn fingerprint_words_are_unchanged_on_the_corpus_and_the_samples() {
    let mut files = vec![];
    for dir in [
        "tests/fixtures/dedup/round1",
        "tests/fixtures/dedup/round2",
        "config/samples",
    ] {
        for entry in std::fs::read_dir(repo_file(dir)).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    files.sort();
    let now = chrono::Utc::now();
    let (mut bodies, mut titles) = (0, 0);
    for path in files {
        let url = url::Url::from_file_path(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let parsed = tributary::parse::parse(tributary::parse::Document {
            bytes: &bytes,
            charset: None,
            media_type: None,
            url: &url,
        })
        .unwrap();
        for item in &parsed.items {
            let cx = tributary::normalize::Context {
                base_url: Some(&url),
                feed: &parsed.info,
                now,
            };
            let entry = tributary::normalize::normalize(item, &cx);
            for body in [&entry.content_html, &entry.summary_html].into_iter().flatten() {
                assert_eq!(tributary::dedup::words(body), words_as_before(body), "{body:?}");
                bodies += 1;
            }
            assert_eq!(
                tributary::dedup::words(&entry.title),
                words_as_before(&entry.title),
                "{:?}",
                entry.title
            );
            titles += 1;
        }
    }
    assert!(bodies > 1_000 && titles > 800, "{bodies} bodies, {titles} titles");
}
