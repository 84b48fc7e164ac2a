//! Identity end to end: items polled from feed files become entries as
//! connected items — whatever order the sources arrive in, with a late item
//! merging the entries it bridges, and link posts kept apart.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

#[allow(dead_code)]
#[path = "../src/dedup/samples.rs"]
mod samples;

use std::collections::BTreeSet;

use common::*;
use samples::*;
use tributary::model::PollOutcome;
use tributary::publish::Format;

/// One item of a feed.
struct Item<'a> {
    id: &'a str,
    link: &'a str,
    author: &'a str,
    day: u32,
    text: Text,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// An RSS 2.0 feed of these items.
fn rss(name: &str, items: &[Item<'_>]) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel><title>{name}</title><link>https://{name}.example.org/</link>"
    );
    for it in items {
        s.push_str(&format!(
            "<item><guid isPermaLink=\"false\">{}</guid><title>{}</title><link>{}</link><dc:creator>{}</dc:creator><pubDate>{:02} Nov 2026 08:00:00 +0000</pubDate><content:encoded>{}</content:encoded></item>",
            it.id,
            esc(&it.text.title),
            esc(it.link),
            it.author,
            it.day,
            esc(&it.text.html())
        ));
    }
    s.push_str("</channel></rss>");
    s
}

/// Writes each feed to a file and a config listing them in `order`.
fn sandbox(feeds: &[(&str, Vec<Item<'_>>)], order: &[usize]) -> (Sandbox, tributary::config::Config) {
    let sb = Sandbox::new();
    let mut blocks = String::new();
    for &i in order {
        let (name, items) = &feeds[i];
        let path = sb.path(&format!("{name}.xml"));
        std::fs::write(&path, rss(name, items)).unwrap();
        blocks.push_str(&source_block(name, path.to_str().unwrap()));
    }
    let config = sb.config(&blocks);
    (sb, config)
}

/// The entries of the merged feed: uid, title, author and (source, item id) credits.
fn entries(store: &tributary::store::Store, config: &tributary::config::Config) -> Vec<serde_json::Value> {
    let body = render(store, config, Format::Json);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["items"].as_array().unwrap().clone()
}

fn credits(entry: &serde_json::Value) -> BTreeSet<(String, String)> {
    entry["_tributary"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["source"].as_str().unwrap().into(), s["id"].as_str().unwrap().into()))
        .collect()
}

fn partition(all: &[serde_json::Value]) -> BTreeSet<BTreeSet<(String, String)>> {
    all.iter().map(credits).collect()
}

fn key(source: &str, id: &str) -> (String, String) {
    (source.to_string(), id.to_string())
}

/// The feeds of the order test: one story in five shapes, an Italian
/// story and its truncation, and look-alikes that must stay apart.
fn corpus() -> Vec<(&'static str, Vec<Item<'static>>)> {
    let changes = [
        "Fixed a crash in the sync engine",
        "Made error messages clearer in the print preview",
        "Added a dark theme to the update checker",
        "Documented the behaviour of the import dialog",
    ];
    let (post_a, post_b) = link_posts();
    let item = |id, link, day, text| Item {
        id,
        link,
        author: "Desk",
        day,
        text,
    };
    vec![
        (
            "yorkshire-daily",
            vec![
                item("yd-1", "https://yd.example.org/kirkstall", 10, leeds()),
                item(
                    "yd-2",
                    "https://yd.example.org/w19",
                    19,
                    forecast("Thursday 19", 6, 9, "7:45"),
                ),
                item(
                    "yd-3",
                    "https://yd.example.org/cli",
                    14,
                    release_notes("ferrule-cli", "3.13.8", "3.13.7", 17, &changes),
                ),
            ],
        ),
        (
            "aire-post",
            vec![item("ap-1", "https://ap.example.org/1", 10, leeds_light_edit())],
        ),
        (
            "northern-wire",
            vec![item("nw-1", "https://nw.example.org/1", 11, leeds_heavy_edit())],
        ),
        (
            "dales-courier",
            vec![
                item("dc-1", "https://dc.example.org/1", 11, leeds_in_furniture()),
                item(
                    "dc-2",
                    "https://dc.example.org/w20",
                    20,
                    forecast("Friday 20", 6, 9, "7:47"),
                ),
            ],
        ),
        (
            "briefs",
            vec![
                item(
                    "br-1",
                    "https://br.example.org/1",
                    10,
                    leeds().truncated(0.3, "Continue reading on the Yorkshire Daily"),
                ),
                item(
                    "br-2",
                    "https://br.example.org/2",
                    12,
                    verona().truncated(0.3, "Continua a leggere sul Corriere del Veneto"),
                ),
            ],
        ),
        (
            "city-hall-watch",
            vec![item("ch-1", "https://ch.example.org/1", 10, leeds_same_event())],
        ),
        (
            "gazzetta-veneta",
            vec![
                item("gv-1", "https://gv.example.it/ciclabili", 12, verona()),
                item(
                    "gv-2",
                    "https://gv.example.it/gtk",
                    14,
                    release_notes("ferrule-gtk", "3.13.9", "3.13.8", 40, &changes),
                ),
            ],
        ),
        (
            "linkroll",
            vec![item("lr-1", "https://yd.example.org/kirkstall", 11, post_a)],
        ),
        (
            "planet-roads",
            vec![item("pr-1", "https://yd.example.org/kirkstall", 12, post_b)],
        ),
    ]
}

#[tokio::test]
async fn the_same_items_in_five_orders_give_the_same_entries() {
    let feeds = corpus();
    let n = feeds.len();
    let orders: Vec<Vec<usize>> = vec![
        (0..n).collect(),
        (0..n).rev().collect(),
        vec![4, 2, 7, 0, 8, 5, 1, 6, 3],
        vec![8, 3, 5, 1, 6, 0, 2, 7, 4],
        vec![2, 4, 1, 3, 0, 8, 6, 5, 7],
    ];
    let mut partitions = Vec::new();
    for order in &orders {
        let (_sb, config) = sandbox(&feeds, order);
        let cx = context(&config).await;
        let reports = poll_all(&cx, &config).await;
        assert!(reports.iter().all(|r| r.outcome == PollOutcome::Ok), "{reports:#?}");
        partitions.push(partition(&entries(&cx.store, &config)));
    }
    let want: BTreeSet<BTreeSet<(String, String)>> = [
        vec![
            key("yorkshire-daily", "yd-1"),
            key("aire-post", "ap-1"),
            key("northern-wire", "nw-1"),
            key("dales-courier", "dc-1"),
            key("briefs", "br-1"),
        ],
        vec![key("gazzetta-veneta", "gv-1"), key("briefs", "br-2")],
        vec![key("yorkshire-daily", "yd-2")],
        vec![key("dales-courier", "dc-2")],
        vec![key("yorkshire-daily", "yd-3")],
        vec![key("gazzetta-veneta", "gv-2")],
        vec![key("city-hall-watch", "ch-1")],
        vec![key("linkroll", "lr-1")],
        vec![key("planet-roads", "pr-1")],
    ]
    .into_iter()
    .map(|e| e.into_iter().collect())
    .collect();
    for (order, got) in orders.iter().zip(&partitions) {
        assert_eq!(got, &want, "arrival order {order:?}");
    }
}

#[tokio::test]
async fn an_item_bridging_two_entries_merges_them_under_the_older_id_with_every_credit() {
    // A summary (the opening) and a rewrite (other words, paragraphs moved)
    // are not the same story as each other; the full text is the same
    // story as both, so when it arrives last the two entries become one.
    let summary = Item {
        id: "br-1",
        link: "https://br.example.org/1",
        author: "Briefs desk",
        day: 10,
        text: leeds().truncated(0.25, "Continue reading on the Yorkshire Daily"),
    };
    let rewrite = Item {
        id: "nw-1",
        link: "https://nw.example.org/1",
        author: "Wire",
        day: 11,
        text: leeds_heavy_edit(),
    };
    let full = Item {
        id: "yd-1",
        link: "https://yd.example.org/kirkstall",
        author: "Rachel Hughes",
        day: 10,
        text: leeds(),
    };
    let feeds = vec![
        ("briefs", vec![summary]),
        ("northern-wire", vec![rewrite]),
        ("yorkshire-daily", vec![full]),
    ];
    let (sb, config) = sandbox(&feeds, &[0, 1, 2]);
    let cx = context(&config).await;
    for source in &config.sources[..2] {
        tributary::pipeline::refresh(&cx, source, chrono::Utc::now()).await;
    }
    let before = entries(&cx.store, &config);
    assert_eq!(before.len(), 2, "the summary and the rewrite are apart: {before:#?}");
    let uid_of = |all: &[serde_json::Value], source: &str| -> String {
        let e = all.iter().find(|e| credits(e).iter().any(|c| c.0 == source)).unwrap();
        e["id"].as_str().unwrap().to_string()
    };
    let (older, younger) = (uid_of(&before, "briefs"), uid_of(&before, "northern-wire"));

    let report = tributary::pipeline::refresh(&cx, &config.sources[2], chrono::Utc::now()).await;
    assert_eq!(report.counts.bridged, 1, "{report:?}");
    let after = entries(&cx.store, &config);
    assert_eq!(after.len(), 1, "{after:#?}");
    assert_eq!(after[0]["id"].as_str().unwrap(), older, "the older entry keeps its id");
    assert_eq!(
        credits(&after[0]),
        [
            key("briefs", "br-1"),
            key("northern-wire", "nw-1"),
            key("yorkshire-daily", "yd-1")
        ]
        .into(),
        "every credit is kept"
    );
    assert!(
        after[0]["content_html"]
            .as_str()
            .unwrap()
            .contains("simply stopped coming"),
        "the entry shows the longest text"
    );

    // The younger uid is remembered, and `explain` tells where it went.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(["explain", &younger, "--config"])
        .arg(sb.path("tributary.toml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("merged into"), "{text}");
    assert!(
        text.contains(older.trim_start_matches("urn:tributary:entry:")),
        "{text}"
    );
}

#[tokio::test]
async fn two_posts_sharing_one_link_stay_apart_each_with_its_own_title_and_author() {
    let (a, b) = link_posts();
    let link = "https://yd.example.org/kirkstall";
    let feeds = vec![
        (
            "linkroll",
            vec![Item {
                id: "lr-1",
                link,
                author: "Ann Blogger",
                day: 11,
                text: a.clone(),
            }],
        ),
        (
            "planet-roads",
            vec![Item {
                id: "pr-1",
                link,
                author: "Ben Critic",
                day: 12,
                text: b.clone(),
            }],
        ),
        (
            "aire-post",
            vec![Item {
                id: "ap-1",
                link: "https://yd.example.org/kirkstall?utm_source=rss",
                author: "Desk",
                day: 10,
                text: leeds(),
            }],
        ),
    ];
    let (_sb, config) = sandbox(&feeds, &[0, 1, 2]);
    let cx = context(&config).await;
    poll_all(&cx, &config).await;
    let all = entries(&cx.store, &config);
    assert_eq!(all.len(), 3, "{all:#?}");
    for (source, text, author) in [("linkroll", &a, "Ann Blogger"), ("planet-roads", &b, "Ben Critic")] {
        let e = all.iter().find(|e| credits(e).iter().any(|c| c.0 == source)).unwrap();
        assert_eq!(credits(e).len(), 1, "{e:#?}");
        assert_eq!(e["title"].as_str().unwrap(), text.title);
        assert_eq!(e["authors"][0]["name"].as_str().unwrap(), author);
    }
}
