//! The daemon end to end: scheduler, HTTP server and shutdown, on loopback.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;

fn rss(title: &str) -> String {
    format!(
        "<rss version=\"2.0\"><channel><title>F</title><item><guid>1</guid><title>{title}</title><link>https://f.example.it/1</link><description>testo</description></item></channel></rss>"
    )
}

#[tokio::test]
async fn daemon_polls_new_sources_at_once_serves_feeds_and_stops_cleanly() {
    let server = FeedServer::start().await;
    server.set(
        "/a.xml",
        Route::feed("application/rss+xml", rss("Prima notizia")).with_etag("\"e1\""),
    );
    let sb = Sandbox::new();
    // A daily schedule: only the "never polled → due now" rule can poll it.
    let config = sb.config(&format!(
        "{}schedule = \"@daily\"\n",
        source_block("fonte", &server.url("/a.xml"))
    ));
    let daemon = RunningDaemon::start(&config).await;
    let (addr, store) = (daemon.addr, daemon.store.clone());

    server.wait_for("/a.xml", 1).await;
    let client = reqwest::Client::new();
    let health = client.get(format!("http://{addr}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(health.text().await.unwrap().starts_with("ok"));
    let missing = client.get(format!("http://{addr}/feed.txt")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let sources = client.get(format!("http://{addr}/sources")).send().await.unwrap();
    assert_eq!(sources.headers()["content-type"], "application/json");
    let sources: serde_json::Value = serde_json::from_str(&sources.text().await.unwrap()).unwrap();
    assert_eq!(sources["sources"][0]["name"], "fonte");
    assert_eq!(sources["sources"][0]["url"], server.url("/a.xml"));
    assert_eq!(missing.status(), 404);

    daemon.stop().await;
    // Shutdown let the in-flight poll finish: its entry is stored.
    assert_eq!(store.entry_count().unwrap(), 1);
    assert_eq!(server.seen("/a.xml").len(), 1, "a daily source is polled once");
}

#[tokio::test]
async fn merged_feeds_are_served_with_validators_and_304() {
    let server = FeedServer::start().await;
    server.set("/a.xml", Route::feed("application/rss+xml", rss("Caffè “corretto”")));
    let sb = Sandbox::new();
    let config = sb.config(&format!(
        "{}schedule = \"@daily\"\n",
        source_block("fonte", &server.url("/a.xml"))
    ));
    let cx = context(&config).await;
    poll_all(&cx, &config).await;
    let daemon = RunningDaemon::start_with(&config, cx.store.clone()).await;
    let addr = daemon.addr;
    let client = reqwest::Client::new();
    for (path, ctype) in [
        ("/feed.atom", "application/atom+xml; charset=utf-8"),
        ("/feed.rss", "application/rss+xml; charset=utf-8"),
        ("/feed.json", "application/feed+json; charset=utf-8"),
    ] {
        let r = client.get(format!("http://{addr}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], ctype);
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        let body = r.bytes().await.unwrap();
        assert!(
            std::str::from_utf8(&body).unwrap().contains("Caffè “corretto”"),
            "{path}"
        );
        let again = client
            .get(format!("http://{addr}{path}"))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}");
    }
    daemon.stop().await;
}

#[tokio::test]
async fn a_stopped_daemon_leaves_every_entry_in_the_database_file() {
    let server = FeedServer::start().await;
    server.set("/a.xml", Route::feed("application/rss+xml", rss("Prima notizia")));
    let sb = Sandbox::new();
    let config = sb.config(&format!(
        "{}schedule = \"@daily\"\n",
        source_block("fonte", &server.url("/a.xml"))
    ));
    let daemon = RunningDaemon::start(&config).await;
    let store = daemon.store.clone();
    server.wait_for("/a.xml", 1).await;
    daemon.stop().await;
    assert_eq!(store.entry_count().unwrap(), 1);

    // The store is still held (here, and by the writer thread), so only the
    // daemon's own checkpoint at shutdown can have emptied the log.
    let db = &config.daemon.database;
    let wal = std::fs::metadata(format!("{}-wal", db.display())).map_or(0, |m| m.len());
    assert_eq!(wal, 0, "the write-ahead log was copied into the database file");
    let copy = sb.path("copy.db");
    std::fs::copy(db, &copy).unwrap();
    let entries: i64 = rusqlite::Connection::open(&copy)
        .unwrap()
        .query_row("SELECT count(*) FROM entries", [], |r| r.get(0))
        .unwrap();
    assert_eq!(entries, 1, "a copy of the file alone holds the entry");
}
