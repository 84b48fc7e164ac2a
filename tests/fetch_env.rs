//! What the daemon's environment must not change about fetching: proxy
//! variables never route a fetch around the address guard. Each test runs the real
//! binary with the variables set on its command line; every server is on
//! 127.0.0.1.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const FEED: &str = "<rss version=\"2.0\"><channel><title>F</title><item><guid>1</guid><title>Uno</title><link>https://f.example.org/1</link><description>testo</description></item></channel></rss>";

/// Every variable a proxy can be set with, in both cases.
const PROXY_VARS: [&str; 6] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
];

/// A forward proxy that records the head of every request it is sent and
/// answers each with a valid feed, so a client that went through it would
/// succeed.
async fn recording_proxy() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                seen.lock().unwrap().push(String::from_utf8_lossy(&buf).into_owned());
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/rss+xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{FEED}",
                    FEED.len()
                );
                let _ = s.write_all(answer.as_bytes()).await;
                let _ = s.shutdown().await;
            });
        }
    });
    (addr, heads)
}

/// `tributary poll --config PATH`, with `env` set and nothing inherited
/// that could change the outcome (proxy exclusions, another config).
async fn poll(config: &Path, env: Vec<(String, String)>) -> Output {
    let config = config.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tributary"));
        c.args(["poll", "--config"])
            .arg(&config)
            .env_remove("TRIBUTARY_CONFIG")
            .env_remove("no_proxy")
            .env_remove("NO_PROXY")
            .env("RUST_LOG", "warn");
        for var in PROXY_VARS {
            c.env_remove(var);
        }
        c.envs(env);
        c.output().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_variables_never_carry_a_fetch_past_the_address_guard() {
    let (proxy, heads) = recording_proxy().await;
    let feed = FeedServer::start().await;
    feed.set("/feed.xml", Route::feed("application/rss+xml", FEED));
    let port = feed.addr.port();
    let sb = Sandbox::new();
    // The default policy: loopback is refused. The names resolve to
    // loopback, which only the guard's resolver can see.
    let config = sb.config_with(
        "allow_private_addresses = false",
        &format!(
            "{}{}",
            source_block("plain", &format!("http://localhost:{port}/feed.xml")),
            source_block("tls", &format!("https://localhost:{port}/feed.xml")),
        ),
    );
    let proxy_url = format!("http://{proxy}");
    let env = PROXY_VARS.iter().map(|v| (v.to_string(), proxy_url.clone())).collect();
    let out = poll(&config.path, env).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        heads.lock().unwrap().as_slice(),
        &[] as &[String],
        "nothing may go through the proxy: {stdout}\n{stderr}"
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "both sources are refused: {stdout}\n{stderr}"
    );
    let store = tributary::store::Store::open(&config.daemon.database).unwrap();
    for name in ["plain", "tls"] {
        let state = store.source(name).unwrap().unwrap();
        let err = state.last_error.unwrap_or_default();
        assert!(err.starts_with("refused to fetch "), "{name}: {err}");
        assert!(
            err.contains("localhost resolves to") && err.contains("loopback"),
            "{name}: the guard saw the feed's own address: {err}"
        );
        assert_eq!(state.items, 0, "{name}");
    }
    assert!(stdout.contains("refused"), "{stdout}");
    assert!(feed.seen("/feed.xml").is_empty(), "nor was the feed server reached");
}
