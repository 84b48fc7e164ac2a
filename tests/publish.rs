//! Publishing: named outputs, paging, content codings, caching headers,
//! WebSub, output files and the server's limits, over loopback HTTP.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;
use tributary::model::PollOutcome;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;
use tributary::http::{AppState, router};
use tributary::metrics::Metrics;
use tributary::serve::{Limits, serve};

fn rss(prefix: &str, n: usize, extra: &str) -> String {
    let mut s = format!("<rss version=\"2.0\"><channel><title>{prefix}</title>");
    for i in 1..=n {
        s.push_str(&format!(
            "<item><guid>{prefix}-{i}</guid><title>{prefix} {i}{extra}</title><link>https://{prefix}.example.it/{i}</link><description>Testo della notizia {prefix} numero {i}.</description><pubDate>Mon, {:02} Nov 2026 10:00:00 +0000</pubDate></item>",
            i + 1
        ));
    }
    s.push_str("</channel></rss>");
    s
}

struct Served {
    base: String,
    stop: CancellationToken,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn serve_config(
    config: &tributary::config::Config,
    store: Arc<tributary::store::Store>,
    limits: Limits,
) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let app = router(AppState::new(store, config, Arc::new(Metrics::new())));
    tokio::spawn(serve(listener, app, limits, stop.clone()));
    Served {
        base: format!("http://{addr}"),
        stop,
    }
}

async fn setup(extra_config: &str) -> (Sandbox, tributary::config::Config, Context) {
    let server = FeedServer::start().await;
    server.set("/esteri.xml", Route::feed("application/rss+xml", rss("esteri", 3, "")));
    server.set("/sport.xml", Route::feed("application/rss+xml", rss("sport", 2, "")));
    server.set(
        "/oroscopo.xml",
        Route::feed("application/rss+xml", rss("oroscopo", 1, " — Oroscopo")),
    );
    let sb = Sandbox::new();
    let config = sb.config(&format!(
        "{}tags = [\"esteri\"]\n{}tags = [\"sport\"]\n{}tags = [\"esteri\"]\n{extra_config}",
        source_block("esteri", &server.url("/esteri.xml")),
        source_block("sport", &server.url("/sport.xml")),
        source_block("stelle", &server.url("/oroscopo.xml")),
    ));
    let cx = context(&config).await;
    let r = poll_all(&cx, &config).await;
    assert!(r.iter().all(|r| r.outcome == PollOutcome::Ok), "{r:?}");
    drop(server);
    (sb, config, cx)
}

use tributary::pipeline::Context;

const ESTERI: &str = "[[output]]\nname = \"esteri\"\ntags = [\"esteri\"]\nexclude = [\"(?i)oroscopo\"]\n";

#[tokio::test]
async fn named_outputs_select_by_tag_and_filter_and_unknown_ones_are_404() {
    let (_sb, config, cx) = setup(ESTERI).await;
    let s = serve_config(&config, cx.store.clone(), Limits::default()).await;
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{}/outputs/esteri.json", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    let titles: Vec<_> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        titles,
        ["esteri 3", "esteri 2", "esteri 1"],
        "sport is not tagged esteri, the horoscope is excluded"
    );
    assert_eq!(v["feed_url"], "http://127.0.0.1:8080/outputs/esteri.json");
    let all = client.get(format!("{}/outputs/all.atom", s.base)).send().await.unwrap();
    assert_eq!(all.status(), 200);
    assert_eq!(all.text().await.unwrap().matches("<entry").count(), 6);

    let missing = client
        .get(format!("{}/outputs/cronaca.atom", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.text().await.unwrap(),
        "no output named \"cronaca\"; outputs: all, esteri\n"
    );
    let wrong = client
        .get(format!("{}/outputs/esteri.xml", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 404);
    assert!(wrong.text().await.unwrap().contains("use .atom, .rss or .json"));
    assert_eq!(
        client
            .get(format!("{}/feed.xml", s.base))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn pages_link_to_each_other_per_rfc_5005() {
    let (_sb, mut config, cx) = setup("").await;
    config.feed.entries = 2;
    let s = serve_config(&config, cx.store.clone(), Limits::default()).await;
    let client = reqwest::Client::new();
    let get = |path: String| {
        let client = client.clone();
        async move { client.get(path).send().await.unwrap().text().await.unwrap() }
    };
    let p1 = get(format!("{}/feed.atom", s.base)).await;
    assert_eq!(p1.matches("<entry").count(), 2);
    assert!(
        p1.contains("rel=\"next\"") && p1.contains("href=\"http://127.0.0.1:8080/feed.atom?page=2\""),
        "{p1}"
    );
    assert!(!p1.contains("rel=\"previous\""));
    let p3 = get(format!("{}/feed.atom?page=3", s.base)).await;
    assert_eq!(p3.matches("<entry").count(), 2);
    assert!(p3.contains("rel=\"previous\"") && !p3.contains("rel=\"next\""), "{p3}");
    let j2: serde_json::Value = serde_json::from_str(&get(format!("{}/feed.json?page=2", s.base)).await).unwrap();
    assert_eq!(j2["next_url"], "http://127.0.0.1:8080/feed.json?page=3");
    let mut seen: Vec<String> = vec![];
    for page in 1..=3 {
        let j: serde_json::Value =
            serde_json::from_str(&get(format!("{}/feed.json?page={page}", s.base)).await).unwrap();
        seen.extend(
            j["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_string()),
        );
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (6, 6), "pages neither overlap nor skip");
    let bad = client
        .get(format!("{}/feed.atom?page=zero", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 404);
}

#[tokio::test]
async fn gzip_and_brotli_with_their_own_strong_etags_and_304s() {
    let (_sb, config, cx) = setup("").await;
    let s = serve_config(&config, cx.store.clone(), Limits::default()).await;
    // A client that does not decompress by itself.
    let client = reqwest::Client::builder().no_gzip().no_brotli().build().unwrap();
    let plain = client.get(format!("{}/feed.rss", s.base)).send().await.unwrap();
    assert_eq!(
        plain.headers()["cache-control"],
        "public, max-age=900",
        "from the shortest schedule"
    );
    let plain_etag = plain.headers()["etag"].to_str().unwrap().to_string();
    let plain_body = plain.bytes().await.unwrap();

    let gz = client
        .get(format!("{}/feed.rss", s.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    assert_eq!(gz.headers()["vary"], "accept-encoding");
    let gz_etag = gz.headers()["etag"].to_str().unwrap().to_string();
    assert_ne!(gz_etag, plain_etag);
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&gz.bytes().await.unwrap()[..])
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(out, plain_body);

    let br = client
        .get(format!("{}/feed.rss", s.base))
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(br.headers()["content-encoding"], "br");
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &br.bytes().await.unwrap()[..], &mut out).unwrap();
    assert_eq!(out, plain_body);

    let again = client
        .get(format!("{}/feed.rss", s.base))
        .header("accept-encoding", "gzip")
        .header("if-none-match", &gz_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let since = client
        .get(format!("{}/feed.rss", s.base))
        .header("if-modified-since", "Wed, 01 Dec 2100 00:00:00 GMT")
        .send()
        .await
        .unwrap();
    assert_eq!(since.status(), 304);
}

#[tokio::test]
async fn websub_hub_is_advertised_and_pinged_and_output_files_are_written() {
    let hub = FeedServer::start().await;
    hub.set("/hub", Route::status(204));
    let feeds = FeedServer::start().await;
    feeds.set("/a.xml", Route::feed("application/rss+xml", rss("esteri", 2, "")));
    let sb = Sandbox::new();
    let mut text = std::fs::read_to_string(sb.config("").path).unwrap();
    text = text.replace("[feed]\n", &format!("[feed]\nwebsub_hub = \"{}\"\n", hub.url("/hub")));
    text.push_str(&format!(
        "{}tags = [\"esteri\"]\nschedule = \"@daily\"\n",
        source_block("esteri", &feeds.url("/a.xml"))
    ));
    text.push_str("[[output]]\nname = \"esteri\"\ntags = [\"esteri\"]\npath = \"public/esteri\"\n");
    std::fs::write(sb.path("tributary.toml"), text).unwrap();
    let config = tributary::config::load(&sb.path("tributary.toml")).unwrap();
    let daemon = RunningDaemon::start(&config).await;
    hub.wait_for("/hub", 1).await;
    daemon.stop().await;
    let ping = &hub.seen("/hub")[0];
    assert_eq!(ping.headers["content-type"], "application/x-www-form-urlencoded");
    for f in ["public/esteri.atom", "public/esteri.rss", "public/esteri.json"] {
        let body = std::fs::read_to_string(sb.path(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(body.contains("esteri 2"), "{f}");
    }
    let atom = std::fs::read_to_string(sb.path("public/esteri.atom")).unwrap();
    assert!(
        atom.contains(&format!("rel=\"hub\" href=\"{}\"", hub.url("/hub"))),
        "{atom}"
    );
}

#[tokio::test]
async fn slow_clients_are_cut_off_and_the_connection_limit_holds() {
    let (_sb, config, cx) = setup("").await;
    let limits = Limits {
        header_read_timeout: Duration::from_millis(300),
        max_connections: 2,
        ..Limits::default()
    };
    let s = serve_config(&config, cx.store.clone(), limits).await;
    let addr = s.base.trim_start_matches("http://").to_string();
    // Two clients that start a request and never finish their headers.
    let mut slow = vec![];
    for _ in 0..2 {
        let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
        c.write_all(b"GET /feed.atom HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        slow.push(c);
    }
    // A third connection beyond the limit is closed at once.
    let mut third = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut buf = [0u8; 64];
    let n = third.read(&mut buf).await.unwrap_or(0);
    assert_eq!(n, 0, "closed without an answer");
    // The slow ones are dropped after the header-read timeout…
    for c in &mut slow {
        let mut rest = Vec::new();
        let _ = c.read_to_end(&mut rest).await;
    }
    // …and the server serves again.
    let r = reqwest::get(format!("{}/healthz", s.base)).await.unwrap();
    assert_eq!(r.status(), 200);
}

/// A request on a fresh connection from `from`: the whole answer, or
/// `None` when the server closed the connection without one.
async fn request_from(from: std::net::IpAddr, addr: std::net::SocketAddr, path: &str) -> Option<String> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(std::net::SocketAddr::new(from, 0)).unwrap();
    let mut c = socket.connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    // A refused connection may be reset under the write or the read.
    c.write_all(request.as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    c.read_to_end(&mut answer).await.ok()?;
    (!answer.is_empty()).then(|| String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test]
async fn one_address_cannot_take_every_connection_slot() {
    let (_sb, config, cx) = setup("").await;
    let limits = Limits {
        max_connections_per_address: 8,
        ..Limits::default()
    };
    let s = serve_config(&config, cx.store.clone(), limits).await;
    let addr: std::net::SocketAddr = s.base.trim_start_matches("http://").parse().unwrap();
    let (greedy, other) = (
        std::net::IpAddr::from([127, 0, 0, 1]),
        std::net::IpAddr::from([127, 0, 0, 2]),
    );
    // Eight idle connections from one address: its whole share. The server
    // accepts in order, so they are counted before the next one.
    let mut idle = vec![];
    for _ in 0..8 {
        idle.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    // A ninth from the same address is closed at once: its request gets no
    // answer (served, it would get a 200; held, the read would not end).
    let ninth = request_from(greedy, addr, "/healthz").await;
    assert_eq!(
        ninth, None,
        "the ninth connection from 127.0.0.1 is closed without an answer"
    );
    // Another address is still served.
    let answer = request_from(other, addr, "/healthz")
        .await
        .expect("another address is served");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Once the idle connections are closed (the server saw each end), the
    // address gets its slots back. The server's end of a connection reaches
    // the client a moment before its slot is given back, so a connection
    // may land in between: try again.
    for mut c in idle {
        c.shutdown().await.unwrap();
        let mut rest = Vec::new();
        let _ = c.read_to_end(&mut rest).await;
    }
    let mut served = None;
    for _ in 0..1000 {
        served = request_from(greedy, addr, "/healthz").await;
        if served.is_some() {
            break;
        }
    }
    let answer = served.expect("127.0.0.1 is served again after closing its connections");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// Every answer of the router, whatever the route or status, carries
/// `nosniff` and a Content-Security-Policy.
#[tokio::test]
async fn every_response_carries_nosniff_and_a_content_security_policy() {
    let (_sb, config, cx) = setup(ESTERI).await;
    let s = serve_config(&config, cx.store.clone(), Limits::default()).await;
    let client = reqwest::Client::new();
    let etag = client
        .get(format!("{}/feed.atom", s.base))
        .send()
        .await
        .unwrap()
        .headers()["etag"]
        .clone();
    let requests = [
        ("GET /feed.atom", client.get(format!("{}/feed.atom", s.base)), 200),
        ("GET /feed.rss", client.get(format!("{}/feed.rss", s.base)), 200),
        ("GET /feed.json", client.get(format!("{}/feed.json", s.base)), 200),
        (
            "GET /outputs/esteri.atom",
            client.get(format!("{}/outputs/esteri.atom", s.base)),
            200,
        ),
        (
            "GET /outputs/x.atom",
            client.get(format!("{}/outputs/x.atom", s.base)),
            404,
        ),
        ("GET /sources", client.get(format!("{}/sources", s.base)), 200),
        ("GET /opml", client.get(format!("{}/opml", s.base)), 200),
        ("GET /metrics", client.get(format!("{}/metrics", s.base)), 200),
        ("GET /healthz", client.get(format!("{}/healthz", s.base)), 200),
        ("GET /no-such-path", client.get(format!("{}/no-such-path", s.base)), 404),
        ("GET /no/such/path", client.get(format!("{}/no/such/path", s.base)), 404),
        ("POST /feed.atom", client.post(format!("{}/feed.atom", s.base)), 405),
        (
            "GET /feed.atom If-None-Match",
            client
                .get(format!("{}/feed.atom", s.base))
                .header("if-none-match", etag),
            304,
        ),
    ];
    for (what, request, status) in requests {
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), status, "{what}");
        let h = r.headers();
        assert_eq!(
            h.get_all("x-content-type-options").iter().collect::<Vec<_>>(),
            ["nosniff"],
            "{what}"
        );
        assert_eq!(
            h.get_all("content-security-policy").iter().collect::<Vec<_>>(),
            ["default-src 'none'; sandbox"],
            "{what}"
        );
    }
}

#[tokio::test]
async fn export_writes_a_named_output_atomically() {
    let (sb, config, _cx) = setup(ESTERI).await;
    let out = sb.path("site/esteri.json");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(["export", "--output", "esteri", "--format", "json", "-o"])
        .arg(&out)
        .arg("--config")
        .arg(&config.path)
        .env_remove("TRIBUTARY_CONFIG")
        .status()
        .unwrap();
    assert!(status.success());
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 3);
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(["export", "--output", "nope"])
        .arg("--config")
        .arg(&config.path)
        .env_remove("TRIBUTARY_CONFIG")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("outputs: all, esteri"));
}

/// F3: a crowd of readers across the three formats, with a poll landing in
/// the middle, gets complete pages only and costs one render per page and
/// data version, not one per request.
#[tokio::test]
async fn concurrent_readers_share_one_render_per_page_and_version() {
    let server = FeedServer::start().await;
    server.set("/esteri.xml", Route::feed("application/rss+xml", rss("esteri", 3, "")));
    let sb = Sandbox::new();
    let config = sb.config(&source_block("esteri", &server.url("/esteri.xml")));
    let cx = context(&config).await;
    assert!(
        poll_all(&cx, &config)
            .await
            .iter()
            .all(|r| r.outcome == PollOutcome::Ok)
    );

    let metrics = Arc::new(Metrics::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    let _stop = stop.clone().drop_guard();
    let app = router(AppState::new(cx.store.clone(), &config, metrics.clone()));
    // The crowd stands for readers at many addresses; here all are 127.0.0.1.
    let limits = Limits {
        max_connections_per_address: tributary::config::MAX_CONNECTIONS,
        ..Limits::default()
    };
    tokio::spawn(serve(listener, app, limits, stop));

    let client = reqwest::Client::new();
    let crowd = |n: usize| {
        (0..n)
            .map(|i| {
                let (client, base) = (client.clone(), base.clone());
                tokio::spawn(async move {
                    let ext = ["atom", "rss", "json"][i % 3];
                    let r = client.get(format!("{base}/feed.{ext}")).send().await.unwrap();
                    (ext, r.status().as_u16(), r.text().await.unwrap())
                })
            })
            .collect::<Vec<_>>()
    };
    let entries = |ext: &str, body: &str| match ext {
        "atom" => body.matches("<entry>").count(),
        "rss" => body.matches("<item>").count(),
        _ => serde_json::from_str::<serde_json::Value>(body).unwrap()["items"]
            .as_array()
            .unwrap()
            .len(),
    };
    let rendered = |metrics: &Metrics| {
        let text = metrics.render(&[], 0, 0);
        text.lines()
            .find_map(|l| l.strip_prefix("tributary_pages_rendered_total "))
            .unwrap()
            .trim()
            .parse::<u64>()
            .unwrap()
    };

    let first = crowd(300);
    for t in first {
        let (ext, status, body) = t.await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(entries(ext, &body), 3, "{ext}: {body}");
    }
    assert_eq!(rendered(&metrics), 3, "one render per format for 300 readers");

    // A poll brings two more stories while a second crowd reads.
    server.set("/esteri.xml", Route::feed("application/rss+xml", rss("esteri", 5, "")));
    let second = crowd(300);
    assert!(poll_all(&cx, &config).await.iter().all(|r| r.counts.new == 2));
    let mut seen = std::collections::BTreeSet::new();
    for t in second {
        let (ext, status, body) = t.await.unwrap();
        assert_eq!(status, 200);
        let n = entries(ext, &body);
        assert!(
            n == 3 || n == 5,
            "{ext} page is neither the old nor the new one: {n} entries"
        );
        seen.insert(n);
    }
    // Once the poll is in, the next reader sees it.
    for ext in ["atom", "rss", "json"] {
        let body = get_text(&client, &format!("{base}/feed.{ext}")).await;
        assert_eq!(entries(ext, &body), 5, "{ext} after the poll");
    }
    let renders = rendered(&metrics);
    assert!(
        (6..=9).contains(&renders),
        "at most one render per format and data version, got {renders} for 603 readers (pages seen: {seen:?})"
    );
}

/// F2: a story dated before the newest one stored still moves
/// Last-Modified, so readers that revalidate with If-Modified-Since alone
/// get it.
#[tokio::test]
async fn an_older_dated_story_still_moves_last_modified() {
    let two_hours_ago = chrono::Utc::now() - chrono::TimeDelta::hours(2);
    let item = |guid: &str, date: chrono::DateTime<chrono::Utc>| {
        format!(
            "<item><guid>{guid}</guid><title>Notizia {guid}</title><link>https://lm.example.it/{guid}</link><description>Testo {guid}.</description><pubDate>{}</pubDate></item>",
            date.to_rfc2822()
        )
    };
    let channel = |items: &str| format!("<rss version=\"2.0\"><channel><title>LM</title>{items}</channel></rss>");
    let server = FeedServer::start().await;
    server.set(
        "/lm.xml",
        Route::feed("application/rss+xml", channel(&item("a", two_hours_ago))),
    );
    let sb = Sandbox::new();
    let config = sb.config(&source_block("lm", &server.url("/lm.xml")));
    {
        // Stored by an earlier run of the daemon.
        let cx = context(&config).await;
        assert_eq!(
            tributary::pipeline::refresh(&cx, &config.sources[0], two_hours_ago)
                .await
                .counts
                .new,
            1
        );
    }
    let cx = context(&config).await;
    let s = serve_config(&config, cx.store.clone(), Limits::default()).await;
    let client = reqwest::Client::new();
    let url = format!("{}/feed.atom", s.base);
    let first = client.get(&url).send().await.unwrap();
    let lm = first.headers()["last-modified"].to_str().unwrap().to_string();
    let unchanged = client.get(&url).header("if-modified-since", &lm).send().await.unwrap();
    assert_eq!(unchanged.status(), 304);

    let older = item("b", two_hours_ago - chrono::TimeDelta::hours(1));
    server.set(
        "/lm.xml",
        Route::feed("application/rss+xml", channel(&(item("a", two_hours_ago) + &older))),
    );
    assert_eq!(poll_all(&cx, &config).await[0].counts.new, 1);
    let after = client.get(&url).header("if-modified-since", &lm).send().await.unwrap();
    assert_eq!(after.status(), 200, "Last-Modified moved past {lm}");
    assert!(after.text().await.unwrap().contains("Notizia b"));
}
