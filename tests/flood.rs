//! Flood control: `initial_entries` limits what the first poll of a new
//! source publishes (the rest is remembered as pruned and never comes back
//! as new), and `max_age` skips items published too long ago. Every server
//! is on 127.0.0.1.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use tributary::publish::Format;

/// An RSS document of `(guid, date)` items, each titled `Storia {guid}`.
fn rss(items: &[(String, Option<DateTime<Utc>>)]) -> String {
    let items: String = items
        .iter()
        .map(|(guid, date)| {
            let date = date
                .map(|d| format!("<pubDate>{}</pubDate>", d.to_rfc2822()))
                .unwrap_or_default();
            format!(
                "<item><guid>{guid}</guid><title>Storia {guid}</title><link>https://a.example.org/{guid}</link><description>Il testo numero {guid} racconta altro.</description>{date}</item>"
            )
        })
        .collect();
    format!("<rss version=\"2.0\"><channel><title>Archivio</title>{items}</channel></rss>")
}

/// 150 items, item `n` published `n` hours after the first, listed in a
/// scrambled order so that document order is not date order.
fn archive(start: DateTime<Utc>) -> Vec<(String, Option<DateTime<Utc>>)> {
    (0..150)
        .map(|i| (i * 37) % 150 + 1)
        .map(|n| (n.to_string(), Some(start + TimeDelta::hours(n))))
        .collect()
}

/// The titles of the merged Atom feed, newest first.
fn titles(store: &tributary::store::Store, config: &tributary::config::Config) -> Vec<String> {
    let atom = render(store, config, Format::Atom);
    atom.split("<entry")
        .skip(1)
        .filter_map(|e| {
            Some(
                e.split("<title")
                    .nth(1)?
                    .split_once('>')?
                    .1
                    .split('<')
                    .next()?
                    .to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn initial_entries_publishes_the_newest_of_a_new_archive_and_remembers_the_rest() {
    let server = FeedServer::start().await;
    let start = Utc::now() - TimeDelta::days(30);
    let mut items = archive(start);
    server.set("/archive.xml", Route::feed("application/rss+xml", rss(&items)));
    let sb = Sandbox::new();
    let config = sb.config_with(
        "initial_entries = 20",
        &source_block("archivio", &server.url("/archive.xml")),
    );
    let cx = context(&config).await;

    let first = poll_all(&cx, &config).await;
    assert_eq!((first[0].counts.new, first[0].counts.held_back), (20, 130), "{first:?}");
    let newest: Vec<String> = (131..=150).rev().map(|n| format!("Storia {n}")).collect();
    assert_eq!(titles(&cx.store, &config), newest, "the 20 newest, newest first");

    // The same archive again: the 130 held back are not new.
    let second = poll_all(&cx, &config).await;
    assert_eq!(second[0].counts.new, 0, "{second:?}");
    assert_eq!(second[0].counts.held_back, 0, "the source is no longer new");
    assert_eq!(cx.store.entry_count().unwrap(), 20);

    // Two genuinely new items arrive: exactly they are added.
    items.push(("151".into(), Some(start + TimeDelta::hours(151))));
    items.insert(0, ("152".into(), Some(start + TimeDelta::hours(152))));
    server.set("/archive.xml", Route::feed("application/rss+xml", rss(&items)));
    let third = poll_all(&cx, &config).await;
    assert_eq!(third[0].counts.new, 2, "{third:?}");
    assert_eq!(cx.store.entry_count().unwrap(), 22);
    let shown = titles(&cx.store, &config);
    assert_eq!(shown[..2], ["Storia 152", "Storia 151"]);
    assert!(!shown.iter().any(|t| t == "Storia 130"), "a held-back item came back");
}

#[tokio::test]
async fn without_initial_entries_a_new_archive_is_published_whole() {
    let server = FeedServer::start().await;
    server.set(
        "/archive.xml",
        Route::feed("application/rss+xml", rss(&archive(Utc::now() - TimeDelta::days(30)))),
    );
    let sb = Sandbox::new();
    let config = sb.config(&source_block("archivio", &server.url("/archive.xml")));
    let cx = context(&config).await;
    let first = poll_all(&cx, &config).await;
    assert_eq!((first[0].counts.new, first[0].counts.held_back), (150, 0), "{first:?}");
    assert_eq!(cx.store.entry_count().unwrap(), 150);
}

#[tokio::test]
async fn a_source_override_of_initial_entries_beats_the_daemon_value() {
    let server = FeedServer::start().await;
    server.set(
        "/archive.xml",
        Route::feed("application/rss+xml", rss(&archive(Utc::now() - TimeDelta::days(30)))),
    );
    let sb = Sandbox::new();
    let config = sb.config_with(
        "initial_entries = 20",
        &format!(
            "{}initial_entries = 3\n",
            source_block("archivio", &server.url("/archive.xml"))
        ),
    );
    let cx = context(&config).await;
    poll_all(&cx, &config).await;
    assert_eq!(titles(&cx.store, &config), ["Storia 150", "Storia 149", "Storia 148"]);
}

#[tokio::test]
async fn max_age_skips_old_items_keeps_undated_ones_and_a_source_value_beats_the_daemon() {
    let server = FeedServer::start().await;
    let now = Utc::now();
    let items = vec![
        ("recente".to_string(), Some(now - TimeDelta::days(1))),
        ("vecchia".to_string(), Some(now - TimeDelta::days(60))),
        ("antica".to_string(), Some(now - TimeDelta::days(400))),
        ("senza-data".to_string(), None),
    ];
    server.set("/a.xml", Route::feed("application/rss+xml", rss(&items)));
    let sb = Sandbox::new();
    let config = sb.config_with(
        "max_age = \"30d\"",
        &format!(
            "{}{}max_age = \"90d\"\n",
            source_block("daemon-age", &server.url("/a.xml")),
            source_block("own-age", &server.url("/a.xml"))
        ),
    );
    let cx = context(&config).await;
    let reports = poll_all(&cx, &config).await;
    assert_eq!(
        (reports[0].counts.new, reports[0].counts.too_old),
        (2, 2),
        "{reports:?}"
    );
    assert_eq!(reports[1].counts.too_old, 1, "{reports:?}");
    let mut shown = titles(&cx.store, &config);
    shown.sort();
    // The two sources carry the same stories: each is shown once.
    assert_eq!(shown, ["Storia recente", "Storia senza-data", "Storia vecchia"]);
}
