//! End to end: the real fetch → parse → normalize → dedup → store → publish
//! pieces against a local feed server and a temporary database.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use tributary::model::PollOutcome;
use tributary::publish::Format;

fn rss(items: &[(&str, &str, &str)]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>Fonte</title><link>https://fonte.example.it/</link><language>it</language>",
    );
    for (guid, title, link) in items {
        s.push_str(&format!(
            "<item><guid isPermaLink=\"false\">{guid}</guid><title>{title}</title><link>{link}</link><description>&lt;p&gt;Testo di {guid}, abbastanza lungo da essere un articolo.&lt;/p&gt;</description><pubDate>Mon, 30 Nov 2026 10:00:00 +0000</pubDate></item>"
        ));
    }
    s.push_str("</channel></rss>");
    s
}

fn json_items(body: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    v["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn poll_twice_stores_once_and_second_poll_is_304() {
    let server = FeedServer::start().await;
    server.set(
        "/a.xml",
        Route::feed(
            "application/rss+xml",
            rss(&[
                ("1", "Uno", "https://fonte.example.it/1"),
                ("2", "Due", "https://fonte.example.it/2"),
            ]),
        )
        .with_etag("\"v1\""),
    );
    let sb = Sandbox::new();
    let config = sb.config(&source_block("fonte", &server.url("/a.xml")));
    let cx = context(&config).await;

    let first = poll_all(&cx, &config).await;
    assert_eq!(first[0].outcome, PollOutcome::Ok, "{first:?}");
    assert_eq!(first[0].counts.new, 2);
    let second = poll_all(&cx, &config).await;
    assert_eq!(second[0].outcome, PollOutcome::NotModified, "{second:?}");
    assert_eq!(second[0].status, Some(304));
    assert_eq!(cx.store.entry_count().unwrap(), 2);

    let seen = server.seen("/a.xml");
    assert_eq!(seen.len(), 2);
    assert!(seen[0].headers.get("if-none-match").is_none());
    assert_eq!(seen[1].headers.get("if-none-match").unwrap(), "\"v1\"");
    assert_eq!(seen[1].answered, 304);
    assert!(
        seen[0]
            .headers
            .get("user-agent")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Tributary/")
    );
}

#[tokio::test]
async fn server_ignoring_validators_still_stores_nothing_twice() {
    let server = FeedServer::start().await;
    server.set(
        "/a.xml",
        Route::feed(
            "application/rss+xml",
            rss(&[("1", "Uno", "https://fonte.example.it/1")]),
        ),
    );
    let sb = Sandbox::new();
    let config = sb.config(&source_block("fonte", &server.url("/a.xml")));
    let cx = context(&config).await;
    poll_all(&cx, &config).await;
    let before = cx.store.data_version();
    let again = poll_all(&cx, &config).await;
    assert_eq!(
        (again[0].outcome, again[0].counts.new, again[0].counts.updated),
        (PollOutcome::Ok, 0, 0)
    );
    assert_eq!(cx.store.entry_count().unwrap(), 1);
    assert_eq!(cx.store.data_version(), before, "an unchanged feed rewrites no entry");
}

#[tokio::test]
async fn italian_title_is_byte_exact_in_all_three_formats() {
    let server = FeedServer::start().await;
    let sample = std::fs::read(repo_file("config/samples/cronache-esteri.rss")).unwrap();
    assert!(
        std::str::from_utf8(&sample).is_err(),
        "the sample really is windows-1252"
    );
    server.set("/esteri.rss", Route::feed("application/rss+xml", sample));
    let sb = Sandbox::new();
    let config = sb.config(&source_block("cronache", &server.url("/esteri.rss")));
    let cx = context(&config).await;
    let r = poll_all(&cx, &config).await;
    assert_eq!(r[0].outcome, PollOutcome::Ok, "{r:?}");
    let fixture = std::fs::read_to_string(repo_file("tests/fixtures/article-it.txt")).unwrap();
    let first_paragraph = fixture.split("\n\n").next().unwrap().trim();
    for format in Format::ALL {
        let body = render(&cx.store, &config, format);
        assert!(body.contains(ITALIAN_TITLE), "{format:?} lacks the exact title");
        let parsed = feed_rs::parser::parse(body.as_bytes()).unwrap();
        let entry = parsed
            .entries
            .iter()
            .find(|e| e.title.as_ref().map(|t| t.content.as_str()) == Some(ITALIAN_TITLE))
            .unwrap_or_else(|| panic!("{format:?}: title not found after parsing back"));
        let html = entry
            .content
            .as_ref()
            .and_then(|c| c.body.clone())
            .or_else(|| entry.summary.as_ref().map(|s| s.content.clone()))
            .unwrap();
        assert!(
            html.contains(first_paragraph),
            "{format:?}: the full text is not byte-exact"
        );
        assert!(html.contains("<p>"), "{format:?}: the HTML paragraphs survive");
    }
}

#[tokio::test]
async fn same_story_through_a_tracking_link_is_one_entry_crediting_both() {
    let server = FeedServer::start().await;
    server.set(
        "/a.xml",
        Route::feed(
            "application/rss+xml",
            rss(&[("a-1", "Vertice sul clima", "https://news.example.it/clima")]),
        ),
    );
    server.set(
        "/b.xml",
        Route::feed(
            "application/rss+xml",
            rss(&[
                (
                    "b-9",
                    "Clima, il vertice",
                    "http://news.example.it/clima/?utm_source=rss&utm_medium=feed#top",
                ),
                ("b-10", "Altra notizia", "https://other.example.it/x"),
            ]),
        ),
    );
    let sb = Sandbox::new();
    let config =
        sb.config(&(source_block("fonte-a", &server.url("/a.xml")) + &source_block("fonte-b", &server.url("/b.xml"))));
    let cx = context(&config).await;
    let reports = poll_all(&cx, &config).await;
    assert_eq!(reports[1].counts.merged_link, 1, "{reports:?}");
    assert_eq!(cx.store.entry_count().unwrap(), 2);

    let items = json_items(&render(&cx.store, &config, Format::Json));
    let merged = items
        .iter()
        .find(|i| i["_tributary"]["sources"].as_array().unwrap().len() == 2)
        .unwrap();
    let sources = &merged["_tributary"]["sources"];
    assert_eq!(sources[0]["source"], "fonte-a");
    assert_eq!(sources[0]["id"], "a-1");
    assert_eq!(sources[0]["url"], "https://news.example.it/clima");
    assert_eq!(sources[1]["source"], "fonte-b");
    assert_eq!(sources[1]["id"], "b-9");
    assert_eq!(
        sources[1]["url"], "http://news.example.it/clima/?utm_source=rss&utm_medium=feed#top",
        "the original link is credited exactly as the source wrote it"
    );
    let atom = render(&cx.store, &config, Format::Atom);
    // Every source is a via link by its title: two for the merged story,
    // one for the other.
    assert_eq!(atom.matches("rel=\"via\"").count(), 3);
    assert!(atom.contains(
        "<link rel=\"via\" href=\"http://news.example.it/clima/?utm_source=rss&amp;utm_medium=feed#top\" title=\"Fonte\"/>"
    ));
}

#[tokio::test]
async fn edited_item_updates_in_place() {
    let server = FeedServer::start().await;
    let v1 = rss(&[
        ("1", "Titolo", "https://f.example.it/1"),
        ("2", "Altro", "https://f.example.it/2"),
    ]);
    server.set("/a.xml", Route::feed("application/rss+xml", v1.clone()));
    let sb = Sandbox::new();
    let config = sb.config(&source_block("fonte", &server.url("/a.xml")));
    let cx = context(&config).await;
    poll_all(&cx, &config).await;
    let before = cx.store.newest(10, 0).unwrap();

    server.set(
        "/a.xml",
        Route::feed(
            "application/rss+xml",
            v1.replace("<title>Titolo</title>", "<title>Titolo corretto</title>"),
        ),
    );
    let r = poll_all(&cx, &config).await;
    assert_eq!((r[0].counts.new, r[0].counts.updated), (0, 1), "{r:?}");
    let after = cx.store.newest(10, 0).unwrap();
    assert_eq!(after.len(), 2);
    let (b, a) = (
        before.iter().find(|e| e.title == "Titolo").unwrap(),
        after.iter().find(|e| e.title == "Titolo corretto").unwrap(),
    );
    assert_eq!(a.uid, b.uid, "same entry, same public id");
    assert_eq!(a.published, b.published, "its position does not move");
    assert!(a.updated >= b.updated);
    assert_eq!(
        before.iter().map(|e| &e.uid).collect::<Vec<_>>(),
        after.iter().map(|e| &e.uid).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn broken_sources_do_not_stop_a_good_one() {
    let server = FeedServer::start().await;
    server.set(
        "/good.xml",
        Route::feed("application/rss+xml", rss(&[("1", "Buona", "https://g.example.it/1")])),
    );
    server.set("/500.xml", Route::status(500));
    server.set(
        "/bad.xml",
        Route::feed(
            "application/rss+xml",
            "<rss version=\"2.0\"><channel><item><title>x</item>",
        ),
    );
    server.set(
        "/page.html",
        Route::feed("text/html", "<!DOCTYPE html><html><body>Just a moment…</body></html>"),
    );
    let sb = Sandbox::new();
    let blocks = ["/500.xml", "/bad.xml", "/page.html", "/missing.xml", "/good.xml"]
        .iter()
        .enumerate()
        .map(|(i, p)| source_block(&format!("s{i}"), &server.url(p)))
        .collect::<String>();
    let config = sb.config(&blocks);
    let cx = context(&config).await;
    let r = poll_all(&cx, &config).await;
    assert_eq!(
        r[0].error.as_deref(),
        Some(format!("HTTP 500 from {}", server.url("/500.xml")).as_str())
    );
    assert!(
        r[1].error.as_deref().unwrap().starts_with("invalid feed at "),
        "{:?}",
        r[1]
    );
    assert_eq!(
        r[2].error.as_deref().unwrap(),
        format!(
            "not a feed: got text/html (an HTML page) from {}",
            server.url("/page.html")
        )
    );
    assert_eq!(r[3].status, Some(404));
    assert_eq!((r[4].outcome, r[4].counts.new), (PollOutcome::Ok, 1));
    assert_eq!(cx.store.entry_count().unwrap(), 1);

    let states = cx.store.sources().unwrap();
    let s0 = states.iter().find(|s| s.name == "s0").unwrap();
    assert_eq!(s0.consecutive_failures, 1);
    assert_eq!(s0.last_status, Some(500));
    assert!(s0.last_error.as_deref().unwrap().contains("HTTP 500"));

    // A failure later never deletes what a source stored before.
    server.set("/good.xml", Route::status(503));
    poll_all(&cx, &config).await;
    assert_eq!(cx.store.entry_count().unwrap(), 1);
}

#[tokio::test]
async fn every_output_parses_back_with_feed_rs() {
    let sb = Sandbox::new();
    let samples = repo_file("config/samples");
    let blocks = ["cronache-esteri.rss", "mondo-notizie.atom", "world-briefing.json"]
        .iter()
        .enumerate()
        .map(|(i, f)| source_block(&format!("s{i}"), samples.join(f).to_str().unwrap()))
        .collect::<String>();
    let config = sb.config(&blocks);
    let cx = context(&config).await;
    let reports = poll_all(&cx, &config).await;
    assert!(reports.iter().all(|r| r.outcome == PollOutcome::Ok), "{reports:?}");
    let stored = cx.store.newest(1000, 0).unwrap();
    assert!(stored.len() >= 10);
    for format in Format::ALL {
        let body = render(&cx.store, &config, format);
        let parsed = feed_rs::parser::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{format:?}: {e}"));
        assert_eq!(parsed.entries.len(), stored.len(), "{format:?}");
        let titles: Vec<_> = parsed
            .entries
            .iter()
            .map(|e| e.title.as_ref().unwrap().content.clone())
            .collect();
        assert_eq!(
            titles,
            stored.iter().map(|e| e.title.clone()).collect::<Vec<_>>(),
            "{format:?}: newest first"
        );
        let mut sorted = stored.iter().map(|e| e.published).collect::<Vec<_>>();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(sorted, stored.iter().map(|e| e.published).collect::<Vec<_>>());
    }
    // The sample Atom feed republishes one story of the RSS feed under a
    // tracking-parameter link: one entry, two credits.
    let shared: Vec<_> = stored.iter().filter(|e| e.credits.len() == 2).collect();
    assert_eq!(
        shared.len(),
        1,
        "{:#?}",
        stored.iter().map(|e| (&e.title, e.credits.len())).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn retention_prunes_old_entries_keeps_the_newest_per_source_and_never_resurrects() {
    let server = FeedServer::start().await;
    let mut feed = String::from("<rss version=\"2.0\"><channel><title>Vecchia</title>");
    for (i, year) in [(1, 2019), (2, 2020), (3, 2021)] {
        feed.push_str(&format!(
            "<item><guid>{i}</guid><title>Notizia {i}</title><link>https://v.example.it/{i}</link><description>testo {i}</description><pubDate>Mon, 06 Jan {year} 10:00:00 +0000</pubDate></item>"
        ));
    }
    feed.push_str("</channel></rss>");
    server.set("/old.xml", Route::feed("application/rss+xml", feed));
    let sb = Sandbox::new();
    let config = sb.config(&source_block("vecchia", &server.url("/old.xml")));
    let mut cx = context(&config).await;
    poll_all(&cx, &config).await;
    assert_eq!(cx.store.entry_count().unwrap(), 3);
    let pruned = cx.store.prune(30, 1, chrono::Utc::now()).unwrap();
    assert_eq!(pruned.entries, 2);
    let left = cx.store.newest(10, 0).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].title, "Notizia 3", "the newest entry of the source is kept");
    cx.force = true;
    let r = poll_all(&cx, &config).await;
    assert_eq!(
        (r[0].outcome, r[0].counts.new),
        (PollOutcome::Ok, 0),
        "pruned items do not come back as new"
    );
    assert_eq!(cx.store.entry_count().unwrap(), 1);
}

#[tokio::test]
async fn a_full_disk_fails_the_poll_clearly_keeps_the_feed_and_recovers() {
    let server = FeedServer::start().await;
    server.set(
        "/a.xml",
        Route::feed("application/rss+xml", rss(&[("1", "Prima", "https://f.example.it/1")])),
    );
    let sb = Sandbox::new();
    let config = sb.config(&source_block("fonte", &server.url("/a.xml")));
    let cx = context(&config).await;
    poll_all(&cx, &config).await;
    let before = render(&cx.store, &config, Format::Atom);

    // The disk "fills up": no page can be added.
    let used = cx.store.limit_pages(Some(0)).unwrap();
    cx.store.limit_pages(Some(used)).unwrap();
    let big: Vec<(String, String, String)> = (2..200)
        .map(|i| {
            (
                i.to_string(),
                format!("Notizia {i} {}", "lunga ".repeat(200)),
                format!("https://f.example.it/{i}"),
            )
        })
        .collect();
    let items: Vec<(&str, &str, &str)> = big
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    server.set("/a.xml", Route::feed("application/rss+xml", rss(&items)));
    let r = poll_all(&cx, &config).await;
    let err = r[0].error.as_deref().unwrap();
    assert_eq!(r[0].outcome, PollOutcome::Failed("database"), "{r:?}");
    assert!(err.contains(&config.daemon.database.display().to_string()), "{err}");
    assert!(err.contains("full"), "{err}");
    assert_eq!(cx.store.entry_count().unwrap(), 1, "nothing half-written");
    assert_eq!(
        render(&cx.store, &config, Format::Atom),
        before,
        "the last merged feed is still served"
    );
    assert_eq!(cx.store.integrity_check().unwrap(), ["ok"]);

    // Space returns: the next poll stores everything.
    cx.store.limit_pages(None).unwrap();
    let r = poll_all(&cx, &config).await;
    assert_eq!((r[0].outcome, r[0].counts.new), (PollOutcome::Ok, 198), "{r:?}");
}

#[tokio::test]
async fn a_store_from_before_item_metadata_is_filled_by_the_next_poll() {
    let podcast = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>Pod</title>
<link>https://pod.example.org/</link><itunes:author>Pat Host</itunes:author>
<item><guid>ep-1</guid><title>Episode one</title><link>https://pod.example.org/1</link>
<description>&lt;p&gt;The first episode, long enough to be a story of its own.&lt;/p&gt;</description>
<pubDate>Mon, 30 Nov 2026 10:00:00 +0000</pubDate>
<enclosure url="https://pod.example.org/ep1.mp3" length="12345" type="audio/mpeg"/>
<itunes:duration>30:01</itunes:duration></item></channel></rss>"#;
    let server = FeedServer::start().await;
    server.set("/pod.xml", Route::feed("application/rss+xml", podcast));
    let sb = Sandbox::new();
    let config = sb.config(&source_block("pod", &server.url("/pod.xml")));
    let cx = context(&config).await;
    poll_all(&cx, &config).await;
    let before = cx.store.newest(10, 0).unwrap();
    assert_eq!(before[0].meta.enclosures[0].url, "https://pod.example.org/ep1.mp3");
    drop(cx);

    // Make it the store the release before item metadata wrote: the
    // schema of version 7 (no meta column, no sources' settings, and the tables of text
    // fingerprints that migration 09 replaces with items), and a content
    // hash of that release (which did not cover metadata, so it differs).
    let db = rusqlite::Connection::open(sb.path("t.db")).unwrap();
    db.execute_batch(
        "UPDATE entry_sources SET content_hash = 'hash-of-the-release-before';
         ALTER TABLE entries DROP COLUMN meta;
         ALTER TABLE sources DROP COLUMN settings;
         DROP TABLE entry_merges; DROP TABLE item_prints; DROP TABLE items; DROP TABLE full_text;
         CREATE TABLE entry_fingerprints (
             entry_id INTEGER PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
             simhash INTEGER NOT NULL, lead_simhash INTEGER NOT NULL, shingles INTEGER NOT NULL,
             sketch BLOB NOT NULL, lead BLOB NOT NULL, published_at INTEGER NOT NULL);
         CREATE INDEX entry_fingerprints_published ON entry_fingerprints(published_at);
         CREATE TABLE entry_bands (
             band INTEGER NOT NULL, entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
             PRIMARY KEY (band, entry_id)) WITHOUT ROWID;
         CREATE INDEX entry_bands_entry ON entry_bands(entry_id);
         CREATE UNIQUE INDEX entries_canonical_link ON entries(canonical_link) WHERE canonical_link IS NOT NULL;
         PRAGMA user_version = 7;",
    )
    .unwrap();
    drop(db);

    let cx = context(&config).await;
    assert!(cx.store.newest(10, 0).unwrap()[0].meta.is_empty());
    let report = poll_all(&cx, &config).await;
    assert_eq!(report[0].counts.updated, 1, "{report:?}");
    let after = cx.store.newest(10, 0).unwrap();
    assert_eq!(after[0].meta, before[0].meta, "the next poll fills the metadata in");
    assert_eq!(after[0].meta.authors[0].name.as_deref(), Some("Pat Host"));
    assert_eq!(
        after[0].updated, before[0].updated,
        "filling metadata in is not an edit"
    );
    let again = poll_all(&cx, &config).await;
    assert_eq!(again[0].counts.updated, 0, "and only once: {again:?}");
}
