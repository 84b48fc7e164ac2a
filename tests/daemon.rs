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
        let etag = r
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
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

/// An RSS feed of `(guid, title, pubDate)` items.
fn rss_items(items: &[(&str, &str, &str)]) -> String {
    let items: String = items
        .iter()
        .map(|(guid, title, date)| {
            format!(
                "<item><guid>{guid}</guid><title>{title}</title><link>https://f.example.it/{guid}</link><description>testo di {title}</description><pubDate>{date}</pubDate></item>"
            )
        })
        .collect();
    format!("<rss version=\"2.0\"><channel><title>F</title>{items}</channel></rss>")
}

/// Runs the real `tributary` binary with `args` and `--config config`, off
/// the async threads; fails the test unless it succeeds.
async fn tributary_cli(args: &[&str], config: &std::path::Path) -> String {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tributary"));
    command
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("TRIBUTARY_CONFIG")
        .env_remove("STATE_DIRECTORY")
        .env("RUST_LOG", "warn");
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "tributary {args:?}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Requests `url` until its body satisfies `done`, retrying with a short
/// growing pause a bounded number of times (about 20 s in all: a guard
/// against hanging, not a timing assertion); returns the ETag (empty if
/// none) and body.
async fn served_until(
    client: &reqwest::Client,
    url: &str,
    what: &str,
    done: impl Fn(&str) -> bool,
) -> (String, String) {
    let mut pause = std::time::Duration::from_millis(10);
    let mut last = String::new();
    for _ in 0..120 {
        let r = client.get(url).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        let etag = r
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        last = r.text().await.unwrap();
        if done(&last) {
            return (etag, last);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(std::time::Duration::from_millis(200));
    }
    panic!("{url} never showed {what}; last served:\n{last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tributary_poll_beside_the_daemon_reaches_the_served_feed() {
    let server = FeedServer::start().await;
    let first = ("1", "Prima notizia", "Mon, 01 Dec 2025 10:00:00 +0000");
    let second = ("2", "Seconda notizia", "Tue, 02 Dec 2025 10:00:00 +0000");
    server.set("/a.xml", Route::feed("application/rss+xml", rss_items(&[first])));
    let sb = Sandbox::new();
    // Polled once at start, then not before tomorrow: only `tributary
    // poll` can bring the second story in.
    let config = sb.config(&format!(
        "{}schedule = \"@daily\"\n",
        source_block("fonte", &server.url("/a.xml"))
    ));
    let daemon = RunningDaemon::start(&config).await;
    let client = reqwest::Client::new();
    let url = format!("http://{}/feed.atom", daemon.addr);
    let (etag, _) = served_until(&client, &url, "the first story", |b| b.contains("Prima notizia")).await;

    server.set(
        "/a.xml",
        Route::feed("application/rss+xml", rss_items(&[second, first])),
    );
    let table = tributary_cli(&["poll"], &config.path).await;
    assert!(table.contains("1 new"), "{table}");
    let (etag_after, body) = served_until(&client, &url, "the story `tributary poll` stored", |b| {
        b.contains("Seconda notizia")
    })
    .await;
    assert_ne!(etag, etag_after, "a new page has a new ETag");
    assert!(body.contains("Prima notizia"));
    assert_eq!(server.seen("/a.xml").len(), 2, "the daemon itself polled once");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_db_prune_beside_the_daemon_reaches_the_served_feed() {
    let server = FeedServer::start().await;
    let recent = chrono::Utc::now().to_rfc2822();
    server.set(
        "/a.xml",
        Route::feed(
            "application/rss+xml",
            rss_items(&[
                ("1", "Notizia recente", &recent),
                ("2", "Notizia vecchia", "Mon, 01 Jan 2001 10:00:00 +0000"),
            ]),
        ),
    );
    let sb = Sandbox::new();
    let source = format!(
        "{}schedule = \"@daily\"\n",
        source_block("fonte", &server.url("/a.xml"))
    );
    // The daemon keeps a century; `db prune`, run with another config over
    // the same database, keeps 30 days: only it can remove the old story.
    let config = sb.config_with("retention = { days = 36500, keep_per_source_min = 1 }", &source);
    let daemon = RunningDaemon::start(&config).await;
    let client = reqwest::Client::new();
    let url = format!("http://{}/feed.rss", daemon.addr);
    let (etag, _) = served_until(&client, &url, "both stories", |b| {
        b.contains("Notizia recente") && b.contains("Notizia vecchia")
    })
    .await;

    let pruning = sb.config_with("retention = { days = 30, keep_per_source_min = 1 }", &source);
    let said = tributary_cli(&["db", "prune"], &pruning.path).await;
    assert!(said.starts_with("pruned 1 entries"), "{said}");
    let (etag_after, body) =
        served_until(&client, &url, "the old story gone", |b| !b.contains("Notizia vecchia")).await;
    assert_ne!(etag, etag_after);
    assert!(body.contains("Notizia recente"));
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_forget_beside_the_daemon_removes_a_source_and_the_stories_only_it_carried() {
    let server = FeedServer::start().await;
    let date = "Mon, 01 Dec 2025 10:00:00 +0000";
    let shared = ("comune", "Storia comune", date);
    server.set(
        "/a.xml",
        Route::feed(
            "application/rss+xml",
            rss_items(&[shared, ("solo-a", "Storia solo di A", date)]),
        ),
    );
    server.set("/b.xml", Route::feed("application/rss+xml", rss_items(&[shared])));
    let sb = Sandbox::new();
    let block = |name: &str, path: &str| format!("{}schedule = \"@daily\"\n", source_block(name, &server.url(path)));
    let config = sb.config(&format!("{}{}", block("fonte-a", "/a.xml"), block("fonte-b", "/b.xml")));
    let daemon = RunningDaemon::start(&config).await;
    let client = reqwest::Client::new();
    let url = format!("http://{}/feed.json", daemon.addr);
    served_until(&client, &url, "both sources credited", |b| {
        b.contains("Storia solo di A") && b.contains("\"fonte-a\"") && b.contains("\"fonte-b\"")
    })
    .await;

    // Still configured: refused without --yes, and nothing changes.
    let refused = tributary_output(&["db", "forget", "fonte-a"], &config.path).await;
    assert_eq!(refused.status.code(), Some(2));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("still configured") && said.contains("--yes") && said.contains("remove its [[source]] block"),
        "{said}"
    );
    assert_eq!(daemon.store.entry_count().unwrap(), 2);

    // Removed from the config, it is forgotten; the running daemon follows.
    let without_a = sb.config(&block("fonte-b", "/b.xml"));
    let said = tributary_cli(&["db", "forget", "fonte-a"], &without_a.path).await;
    assert!(
        said.starts_with("forgot source fonte-a: 1 entries only it carried deleted, 1 entries kept"),
        "{said}"
    );
    let (_, body) = served_until(&client, &url, "the lone story gone", |b| {
        !b.contains("Storia solo di A")
    })
    .await;
    let feed: serde_json::Value = serde_json::from_str(&body).unwrap();
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{body}");
    assert_eq!(items[0]["title"], "Storia comune");
    let credited: Vec<&str> = items[0]["_tributary"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source"].as_str().unwrap())
        .collect();
    assert_eq!(credited, ["fonte-b"]);
    assert!(daemon.store.source("fonte-a").unwrap().is_none());
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_files_equal_the_served_feeds_after_a_cold_start_with_30_sources() {
    let server = FeedServer::start().await;
    let sb = Sandbox::new();
    let mut sources = String::new();
    for i in 0..30 {
        let path = format!("/f{i}.xml");
        let day = i % 28 + 1;
        let items = [
            (
                format!("{i}-a"),
                format!("Notizia {i} a"),
                format!("{day:02} Nov 2025 10:00:00 +0000"),
            ),
            (
                format!("{i}-b"),
                format!("Notizia {i} b"),
                format!("{day:02} Nov 2025 11:00:00 +0000"),
            ),
        ];
        let items: Vec<(&str, &str, &str)> = items
            .iter()
            .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
            .collect();
        server.set(&path, Route::feed("application/rss+xml", rss_items(&items)));
        sources.push_str(&source_block(&format!("fonte-{i}"), &server.url(&path)));
        sources.push_str("schedule = \"@daily\"\n");
        if i % 3 == 0 {
            sources.push_str("tags = [\"esteri\"]\n");
        }
        sources.push('\n');
    }
    sources.push_str("[[output]]\nname = \"all\"\npath = \"site/all\"\n\n");
    sources.push_str("[[output]]\nname = \"esteri\"\ntags = [\"esteri\"]\npath = \"site/deep/esteri\"\n\n");
    // No entry carries this tag: an empty feed, whose `updated` (RSS
    // `lastBuildDate`) is the time it was rendered.
    sources.push_str("[[output]]\nname = \"vuoto\"\ntags = [\"nessuno\"]\npath = \"site/vuoto\"\n");
    let config = sb.config(&sources);
    let daemon = RunningDaemon::start(&config).await;
    let client = reqwest::Client::new();
    let base = format!("http://{}", daemon.addr);
    served_until(&client, &format!("{base}/healthz"), "every story stored", |b| {
        b == "ok: 60 entries\n"
    })
    .await;

    // The files are written after the last commit: wait for them (bounded).
    let mut pause = std::time::Duration::from_millis(10);
    let (mut atom, mut empty) = (String::new(), String::new());
    for _ in 0..120 {
        atom = std::fs::read_to_string(sb.path("site/all.atom")).unwrap_or_default();
        empty = std::fs::read_to_string(sb.path("site/vuoto.atom")).unwrap_or_default();
        if atom.matches("<entry").count() == 60 && !empty.is_empty() {
            break;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(std::time::Duration::from_millis(200));
    }
    assert_eq!(
        atom.matches("<entry").count(),
        60,
        "every story reaches the file:\n{atom}"
    );
    // The empty feed's `updated` is the time it was rendered. Let the clock
    // leave that second before the first request, so that a page rendered
    // for the request apart from the file's cannot carry the same time.
    let updated = empty.split("<updated>").nth(1).unwrap().split('<').next().unwrap();
    let rendered_at = chrono::DateTime::parse_from_rfc3339(updated).unwrap();
    while chrono::Utc::now().timestamp() <= rendered_at.timestamp() {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let pairs = [
        ("/feed.atom", "site/all.atom"),
        ("/feed.rss", "site/all.rss"),
        ("/feed.json", "site/all.json"),
        ("/outputs/esteri.atom", "site/deep/esteri.atom"),
        ("/outputs/esteri.rss", "site/deep/esteri.rss"),
        ("/outputs/esteri.json", "site/deep/esteri.json"),
        ("/outputs/vuoto.atom", "site/vuoto.atom"),
        ("/outputs/vuoto.rss", "site/vuoto.rss"),
        ("/outputs/vuoto.json", "site/vuoto.json"),
    ];
    // The writer may still be writing the other files.
    let mut pause = std::time::Duration::from_millis(10);
    let mut differing = vec![];
    for _ in 0..120 {
        differing.clear();
        for (route, file) in pairs {
            let served = client
                .get(format!("{base}{route}"))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            let written = std::fs::read(sb.path(file)).unwrap_or_default();
            if served[..] != written[..] {
                differing.push((route, file, served, written));
            }
        }
        if differing.is_empty() {
            break;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(std::time::Duration::from_millis(200));
    }
    if let Some((route, file, served, written)) = differing.first() {
        panic!(
            "{file} differs from {route}:\nserved:\n{}\nwritten:\n{}",
            String::from_utf8_lossy(served),
            String::from_utf8_lossy(written)
        );
    }
    let esteri = std::fs::read_to_string(sb.path("site/deep/esteri.json")).unwrap();
    assert!(esteri.contains("Notizia 27 b") && !esteri.contains("Notizia 28 b"));
    for dir in ["site", "site/deep"] {
        for e in std::fs::read_dir(sb.path(dir)).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(!name.starts_with('.'), "temporary file {name} left in {dir}");
        }
    }
    daemon.stop().await;
}
