//! Polite, hostile-proof fetching, proven against local servers that record
//! what they were sent. Extra "hosts" are loopback addresses 127.0.0.2–9;
//! nothing leaves the machine.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tributary::model::PollOutcome;

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use chrono::{TimeDelta, Utc};
use common::*;
use tributary::pipeline;

const FEED: &str = "<rss version=\"2.0\"><channel><title>F</title><item><guid>1</guid><title>Uno</title><link>https://f.example.org/1</link><description>testo</description></item></channel></rss>";

fn feed() -> Response {
    respond(200, &[("content-type", "application/rss+xml")], FEED)
}

#[tokio::test]
async fn both_validators_are_sent_back_and_304_is_counted() {
    let server = Scripted::start("127.0.0.1", |_, _, req| {
        let h = req.headers();
        if h.get("if-none-match").is_some_and(|v| v == "\"abc\"")
            && h.get("if-modified-since")
                .is_some_and(|v| v == "Mon, 30 Nov 2026 10:00:00 GMT")
        {
            return respond(304, &[], Body::empty());
        }
        respond(
            200,
            &[
                ("etag", "\"abc\""),
                ("last-modified", "Mon, 30 Nov 2026 10:00:00 GMT"),
                ("content-type", "application/rss+xml"),
            ],
            FEED,
        )
    })
    .await;
    let sb = Sandbox::new();
    let config = sb.config(&source_block("s", &server.url("/f")));
    let cx = context(&config).await;
    assert_eq!(poll_all(&cx, &config).await[0].counts.new, 1);
    for _ in 0..2 {
        assert_eq!(poll_all(&cx, &config).await[0].outcome, PollOutcome::NotModified);
    }
    let st = cx.store.source("s").unwrap().unwrap();
    assert_eq!(st.not_modified, 2);
    assert_eq!(cx.store.entry_count().unwrap(), 1);
}

#[tokio::test]
async fn retry_after_on_429_and_503_holds_the_source_without_requests() {
    let server = Scripted::start("127.0.0.1", |path, _, _| match path {
        "/busy" => respond(429, &[("retry-after", "3600")], "slow down"),
        _ => respond(503, &[("retry-after", "Wed, 01 Dec 2100 10:00:00 GMT")], "maintenance"),
    })
    .await;
    let sb = Sandbox::new();
    let config = sb.config(&(source_block("busy", &server.url("/busy")) + &source_block("down", &server.url("/down"))));
    let cx = context(&config).await;
    let before = Utc::now();
    let r = poll_all(&cx, &config).await;
    assert_eq!(r[0].status, Some(429));
    assert!(
        r[0].error
            .as_deref()
            .unwrap()
            .starts_with(&format!("HTTP 429 from {} (retry after", server.url("/busy")))
    );
    assert_eq!(r[1].status, Some(503));
    let busy = cx.store.source("busy").unwrap().unwrap();
    let retry = busy.retry_after.unwrap();
    assert!(retry >= before + TimeDelta::seconds(3599), "{retry}");
    assert!(busy.next_due.unwrap() >= retry);
    let down = cx.store.source("down").unwrap().unwrap();
    assert!(
        down.retry_after.unwrap() <= Utc::now() + TimeDelta::hours(24) + TimeDelta::seconds(5),
        "Retry-After is capped at a day"
    );

    // Polling again before the time sends nothing.
    let again = poll_all(&cx, &config).await;
    assert!(
        again.iter().all(|r| r.outcome == PollOutcome::Deferred && !r.failed()),
        "{again:?}"
    );
    assert_eq!((server.hits("/busy"), server.hits("/down")), (1, 1));
}

#[tokio::test]
async fn a_host_is_throttled_as_a_whole_only_after_several_of_its_sources_were_told() {
    let server = Scripted::start("127.0.0.1", |path, _, _| {
        if path.starts_with("/busy") {
            respond(429, &[("retry-after", "600")], "")
        } else {
            feed()
        }
    })
    .await;
    let sb = Sandbox::new();
    let blocks: String = (0..3)
        .map(|i| source_block(&format!("busy{i}"), &server.url(&format!("/busy{i}"))))
        .collect();
    let config = sb.config(&(blocks + &source_block("calm", &server.url("/calm"))));
    let cx = context(&config).await;
    // One source told to wait does not hold back another of the same host.
    let first = pipeline::refresh(&cx, &config.sources[0], Utc::now()).await;
    assert_eq!(first.status, Some(429));
    assert_eq!(
        pipeline::refresh(&cx, &config.sources[3], Utc::now()).await.outcome,
        PollOutcome::Ok
    );
    for s in &config.sources[1..3] {
        pipeline::refresh(&cx, s, Utc::now()).await;
    }
    // Three sources of the host were told: the host waits as a whole.
    let mut forced = cx.clone();
    forced.force = true;
    let calm = pipeline::refresh(&forced, &config.sources[3], Utc::now()).await;
    assert_eq!(calm.outcome, PollOutcome::Failed("host-throttled"), "{calm:?}");
    assert_eq!(server.hits("/calm"), 1, "no request was sent");
}

#[tokio::test]
async fn failure_streak_backs_off_and_success_resets() {
    let server = Scripted::start(
        "127.0.0.1",
        |_, n, _| if n <= 3 { respond(500, &[], "oops") } else { feed() },
    )
    .await;
    let sb = Sandbox::new();
    let config = sb.config(&format!(
        "{}schedule = \"every 10m\"\n",
        source_block("s", &server.url("/f"))
    ));
    let cx = context(&config).await;
    let mut waits = vec![];
    for _ in 0..3 {
        let at = Utc::now();
        let r = pipeline::refresh(&cx, &config.sources[0], at).await;
        assert_eq!(
            r.error.as_deref().unwrap(),
            format!("HTTP 500 from {}", server.url("/f"))
        );
        let st = cx.store.source("s").unwrap().unwrap();
        waits.push((st.next_due.unwrap() - at).num_seconds());
    }
    assert!(waits[0] >= 600 && waits[1] >= 1200 && waits[2] >= 2400, "{waits:?}");
    assert!(waits[0] < waits[1] && waits[1] < waits[2], "{waits:?}");
    assert_eq!(cx.store.source("s").unwrap().unwrap().consecutive_failures, 3);
    let at = Utc::now();
    assert_eq!(
        pipeline::refresh(&cx, &config.sources[0], at).await.outcome,
        PollOutcome::Ok
    );
    let st = cx.store.source("s").unwrap().unwrap();
    assert_eq!(st.consecutive_failures, 0);
    assert!(st.last_error.is_none());
    assert!((st.next_due.unwrap() - at).num_seconds() <= 600);
}

#[tokio::test]
async fn a_permanent_redirect_seen_twice_moves_the_source_but_temporary_ones_never_do() {
    let server = Scripted::start("127.0.0.1", |path, _, _| match path {
        "/old" => respond(301, &[("location", "/new")], ""),
        "/moved" => respond(308, &[("location", "/new")], ""),
        "/temp" => respond(302, &[("location", "/new")], ""),
        "/see" => respond(307, &[("location", "/new")], ""),
        _ => feed(),
    })
    .await;
    let sb = Sandbox::new();
    let config = sb.config(
        &["old", "moved", "temp", "see"]
            .iter()
            .map(|p| source_block(p, &server.url(&format!("/{p}"))))
            .collect::<String>(),
    );
    let cx = context(&config).await;
    for _ in 0..3 {
        let r = poll_all(&cx, &config).await;
        assert!(r.iter().all(|r| !r.failed()), "{r:?}");
    }
    assert_eq!(server.hits("/old"), 2, "fetched directly from /new once adopted");
    assert_eq!(server.hits("/moved"), 2);
    assert_eq!(server.hits("/temp"), 3);
    assert_eq!(server.hits("/see"), 3);
    let old = cx.store.source("old").unwrap().unwrap();
    assert_eq!(old.current_url.as_deref(), Some(server.url("/new").as_str()));
    assert_eq!(old.url, server.url("/old"), "the configured URL stays the identity");
    assert!(cx.store.source("temp").unwrap().unwrap().current_url.is_none());
}

#[tokio::test]
async fn redirect_loops_and_long_chains_are_errors() {
    let server = Scripted::start("127.0.0.1", |path, _, _| match path {
        "/a" => respond(302, &[("location", "/b")], ""),
        "/b" => respond(302, &[("location", "/a")], ""),
        "/nowhere" => respond(301, &[], ""),
        p => {
            let n: usize = p.trim_start_matches("/c").parse().unwrap_or(0);
            respond(302, &[("location", &format!("/c{}", n + 1))], "")
        }
    })
    .await;
    let sb = Sandbox::new();
    let config = sb.config(
        &(source_block("loop", &server.url("/a"))
            + &source_block("chain", &server.url("/c0"))
            + &source_block("bare", &server.url("/nowhere"))),
    );
    let cx = context(&config).await;
    let r = poll_all(&cx, &config).await;
    assert_eq!(
        r[0].error.as_deref().unwrap(),
        format!("redirect loop at {}", server.url("/a"))
    );
    assert!(
        r[1].error
            .as_deref()
            .unwrap()
            .starts_with("too many redirects (more than 5)"),
        "{:?}",
        r[1]
    );
    assert_eq!(server.hits("/c5"), 1);
    assert_eq!(server.hits("/c6"), 0, "a sixth hop is never followed");
    assert!(r[2].error.as_deref().unwrap().contains("without a Location header"));
}

#[tokio::test]
async fn a_redirect_to_a_blocked_address_never_reaches_it() {
    let (target, connections) = connection_counter("127.0.0.3").await;
    let to = format!("http://{target}/feed");
    let server = Scripted::start("127.0.0.2", move |_, _, _| respond(302, &[("location", &to)], "")).await;
    let sb = Sandbox::new();
    let config = sb.config_with(
        "allow_private_addresses = false",
        &format!(
            "{}allow_private_addresses = [\"127.0.0.2\"]\n",
            source_block("s", &server.url("/f"))
        ),
    );
    let cx = context(&config).await;
    let r = poll_all(&cx, &config).await;
    let err = r[0].error.as_deref().unwrap();
    assert_eq!(r[0].outcome, PollOutcome::Failed("refused"));
    assert!(
        err.contains(&format!(
            "refused to fetch http://{target}/feed: 127.0.0.3 is a loopback address"
        )),
        "{err}"
    );
    assert!(err.contains("allow_private_addresses"), "{err}");
    assert_eq!(server.hits("/f"), 1);
    assert_eq!(connections.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn names_resolving_to_private_addresses_are_refused_before_connecting() {
    let (addr, connections) = connection_counter("127.0.0.1").await;
    let sb = Sandbox::new();
    let config = sb.config_with(
        "allow_private_addresses = false",
        &source_block("s", &format!("http://localhost:{}/feed", addr.port())),
    );
    let cx = context(&config).await;
    let r = poll_all(&cx, &config).await;
    let err = r[0].error.as_deref().unwrap();
    assert_eq!(r[0].outcome, PollOutcome::Failed("refused"), "{err}");
    assert!(
        err.contains("localhost resolves to") && err.contains("loopback"),
        "{err}"
    );
    assert_eq!(connections.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn gzip_bomb_is_cut_at_the_decompressed_cap() {
    let bomb = std::fs::read(repo_file("tests/fixtures/bomb-64mib.gz")).unwrap();
    assert!(bomb.len() < 100 * 1024);
    let server = Scripted::start("127.0.0.1", move |_, _, _| {
        respond(
            200,
            &[("content-encoding", "gzip"), ("content-type", "application/rss+xml")],
            bomb.clone(),
        )
    })
    .await;
    let sb = Sandbox::new();
    let config = sb.config_with("max_feed_bytes = \"1MiB\"", &source_block("s", &server.url("/bomb")));
    let cx = context(&config).await;
    let r = poll_all(&cx, &config).await;
    assert_eq!(r[0].outcome, PollOutcome::Failed("too-large"), "{r:?}");
    assert!(
        r[0].error
            .as_deref()
            .unwrap()
            .contains("larger than the limit of 1048576 bytes")
    );
}

#[tokio::test]
async fn oversized_empty_and_html_bodies_are_clear_errors() {
    let big = "x".repeat(2 * 1024 * 1024);
    let server = Scripted::start("127.0.0.1", move |path, _, _| match path {
        "/big" => respond(200, &[], big.clone()),
        "/stream" => {
            let chunks = (0..64).map(|_| Ok::<_, std::io::Error>(vec![b'y'; 64 * 1024]));
            respond(200, &[], Body::from_stream(futures_util::stream::iter(chunks)))
        }
        "/empty" => respond(200, &[("content-type", "application/rss+xml")], ""),
        _ => respond(
            200,
            &[("content-type", "text/html; charset=utf-8")],
            "<html><body><h1>Please verify you are human</h1></body></html>",
        ),
    })
    .await;
    let sb = Sandbox::new();
    let config = sb.config_with(
        "max_feed_bytes = \"1MiB\"",
        &["big", "stream", "empty", "captcha"]
            .iter()
            .map(|p| source_block(p, &server.url(&format!("/{p}"))))
            .collect::<String>(),
    );
    let cx = context(&config).await;
    let r = poll_all(&cx, &config).await;
    assert_eq!(r[0].outcome, PollOutcome::Failed("too-large"));
    assert_eq!(
        r[1].outcome,
        PollOutcome::Failed("too-large"),
        "no Content-Length: counted while streaming"
    );
    assert_eq!(
        r[2].error.as_deref().unwrap(),
        format!("not a feed: empty body from {}", server.url("/empty"))
    );
    assert_eq!(
        r[3].error.as_deref().unwrap(),
        format!(
            "not a feed: got text/html (an HTML page) from {}",
            server.url("/captcha")
        )
    );
}

#[tokio::test]
async fn a_slow_trickle_times_out_and_frees_its_slot() {
    let server = Scripted::start("127.0.0.1", |path, _, _| match path {
        "/slow" => {
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
            tokio::spawn(async move {
                let _ = tx.send(Ok(b"<rss version=\"2.0\"><channel>".to_vec())).await;
                // Never finishes on its own within the test's timeout; the
                // channel closes when the client gives up.
                for _ in 0..600 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if tx.send(Ok(b" ".to_vec())).await.is_err() {
                        return;
                    }
                }
            });
            respond(
                200,
                &[("content-type", "application/rss+xml")],
                Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
                    rx.recv().await.map(|chunk| (chunk, rx))
                })),
            )
        }
        _ => feed(),
    })
    .await;
    let sb = Sandbox::new();
    let config = sb.config_with(
        "timeout = \"1s\"\nmax_concurrent_fetches = 1",
        &(source_block("slow", &server.url("/slow")) + &source_block("fast", &server.url("/fast"))),
    );
    let cx = context(&config).await;
    let (slow, fast) = tokio::join!(
        pipeline::refresh(&cx, &config.sources[0], Utc::now()),
        pipeline::refresh(&cx, &config.sources[1], Utc::now())
    );
    assert_eq!(slow.outcome, PollOutcome::Failed("timeout"), "{slow:?}");
    assert_eq!(
        slow.error.as_deref().unwrap(),
        format!("timed out after 1 s fetching {}", server.url("/slow"))
    );
    assert_eq!(
        fast.outcome,
        PollOutcome::Ok,
        "the only fetch slot was released: {fast:?}"
    );
}

#[tokio::test]
async fn a_valid_feed_with_zero_items_deletes_nothing() {
    let server = Scripted::start("127.0.0.1", |_, n, _| {
        if n == 1 {
            feed()
        } else {
            respond(
                200,
                &[],
                "<rss version=\"2.0\"><channel><title>F</title></channel></rss>",
            )
        }
    })
    .await;
    let sb = Sandbox::new();
    let config = sb.config(&source_block("s", &server.url("/f")));
    let cx = context(&config).await;
    poll_all(&cx, &config).await;
    let r = poll_all(&cx, &config).await;
    assert_eq!((r[0].outcome, r[0].counts.items), (PollOutcome::Ok, 0));
    assert_eq!(cx.store.entry_count().unwrap(), 1);
}

#[tokio::test]
async fn the_http_charset_decodes_a_feed_without_declaration() {
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(
        "<rss version=\"2.0\"><channel><title>F</title><item><guid>1</guid><title>Perché è “bello”</title></item></channel></rss>",
    );
    let bytes = bytes.into_owned();
    let server = Scripted::start("127.0.0.1", move |_, _, _| {
        respond(
            200,
            &[("content-type", "application/rss+xml; charset=windows-1252")],
            bytes.clone(),
        )
    })
    .await;
    let sb = Sandbox::new();
    let config = sb.config(&source_block("s", &server.url("/f")));
    let cx = context(&config).await;
    poll_all(&cx, &config).await;
    assert_eq!(cx.store.newest(1, 0).unwrap()[0].title, "Perché è “bello”");
}

#[tokio::test]
async fn cache_hints_are_a_floor_on_the_next_poll_unless_switched_off() {
    let server = Scripted::start("127.0.0.1", |_, _, _| {
        respond(
            200,
            &[
                ("cache-control", "max-age=7200"),
                ("content-type", "application/rss+xml"),
            ],
            FEED,
        )
    })
    .await;
    let sb = Sandbox::new();
    let config = sb.config(
        &(format!(
            "{}schedule = \"every 10m\"\n",
            source_block("hinted", &server.url("/a"))
        ) + &format!(
            "{}schedule = \"every 10m\"\ncache_hints = false\n",
            source_block("plain", &server.url("/b"))
        )),
    );
    let cx = context(&config).await;
    let at = Utc::now();
    poll_all(&cx, &config).await;
    let hinted = cx.store.source("hinted").unwrap().unwrap().next_due.unwrap();
    let plain = cx.store.source("plain").unwrap().unwrap().next_due.unwrap();
    assert!(hinted >= at + TimeDelta::seconds(7199), "{hinted}");
    assert!(plain < at + TimeDelta::seconds(700), "{plain}");
}

/// Eight loopback hosts, each counting requests in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_sources_never_exceed_the_global_and_per_host_limits() {
    let global = Arc::new(AtomicUsize::new(0));
    let global_max = Arc::new(AtomicUsize::new(0));
    let mut hosts = vec![];
    for i in 2..=9 {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let host_max = Arc::new(AtomicUsize::new(0));
        let (g, gm, f, fm) = (global.clone(), global_max.clone(), in_flight.clone(), host_max.clone());
        let listener = tokio::net::TcpListener::bind(format!("127.0.0.{i}:0")).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().fallback(move || {
            let (g, gm, f, fm) = (g.clone(), gm.clone(), f.clone(), fm.clone());
            async move {
                gm.fetch_max(g.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                fm.fetch_max(f.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                // Hold the request briefly so concurrency can build up.
                tokio::time::sleep(Duration::from_millis(2)).await;
                f.fetch_sub(1, Ordering::SeqCst);
                g.fetch_sub(1, Ordering::SeqCst);
                feed()
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        hosts.push((addr, host_max));
    }
    let sb = Sandbox::new();
    let blocks: String = (0..2000)
        .map(|i| source_block(&format!("s{i}"), &format!("http://{}/feed/{i}", hosts[i % 8].0)))
        .collect();
    let config = sb.config_with("max_concurrent_fetches = 12\nmax_concurrent_per_host = 2", &blocks);
    let cx = context(&config).await;
    let mut tasks = tokio::task::JoinSet::new();
    for s in config.sources.clone() {
        let cx = cx.clone();
        tasks.spawn(async move { pipeline::refresh(&cx, &s, Utc::now()).await });
    }
    let mut ok = 0;
    while let Some(r) = tasks.join_next().await {
        let r = r.unwrap();
        assert_eq!(r.outcome, PollOutcome::Ok, "{r:?}");
        ok += 1;
    }
    assert_eq!(ok, 2000);
    assert!(
        global_max.load(Ordering::SeqCst) <= 12,
        "global {}",
        global_max.load(Ordering::SeqCst)
    );
    assert!(global_max.load(Ordering::SeqCst) >= 2, "the limits were exercised");
    for (addr, m) in &hosts {
        assert!(m.load(Ordering::SeqCst) <= 2, "{addr}: {}", m.load(Ordering::SeqCst));
    }
    assert_eq!(cx.store.source("s1999").unwrap().unwrap().items, 1);
}
