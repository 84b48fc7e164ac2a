//! Private feeds: a source's `username`/`password`, `password_file`,
//! `headers` and `user_agent` reach the server that demands them, and only
//! that server; `${NAME}` and `$CREDENTIALS_DIRECTORY` fill them in from the
//! environment. Every server is on 127.0.0.0/8.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use common::*;

const FEED: &str = "<rss version=\"2.0\"><channel><title>P</title><item><guid>1</guid><title>Privato</title><link>https://p.example.org/1</link><description>testo</description></item></channel></rss>";

/// `Authorization` of `reader:hunter2` (base64 as RFC 7617 says).
const BASIC_READER: &str = "Basic cmVhZGVyOmh1bnRlcjI=";

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// A server whose `/basic`, `/key` and `/cookie` answer the feed only to a
/// request carrying the right credential, 401 otherwise; it keeps the
/// headers of every request.
async fn guarded_server() -> (Scripted, Arc<Mutex<Vec<(String, HeaderMap)>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let server = Scripted::start("127.0.0.1", move |path, _, req| {
        let h = req.headers();
        log.lock().unwrap().push((path.to_string(), h.clone()));
        let allowed = match path {
            "/basic" => header(h, "authorization") == BASIC_READER,
            "/key" => header(h, "x-api-key") == "k3y-s3cr3t",
            "/cookie" => header(h, "cookie") == "session=c00kie",
            _ => false,
        };
        if allowed {
            respond(200, &[("content-type", "application/rss+xml")], FEED)
        } else {
            respond(401, &[("www-authenticate", "Basic realm=\"feeds\"")], "no")
        }
    })
    .await;
    (server, seen)
}

#[tokio::test]
async fn basic_auth_a_header_and_a_cookie_open_private_feeds() {
    let (server, seen) = guarded_server().await;
    let sb = Sandbox::new();
    let config = sb.config(&format!(
        "{}username = \"reader\"\npassword = \"hunter2\"\nuser_agent = \"PrivateReader/1\"\n\n{}headers = {{ \"X-Api-Key\" = \"k3y-s3cr3t\" }}\n\n{}headers = {{ Cookie = \"session=c00kie\" }}\n\n{}",
        source_block("basic", &server.url("/basic")),
        source_block("key", &server.url("/key")),
        source_block("cookie", &server.url("/cookie")),
        source_block("none", &server.url("/basic")),
    ));
    let cx = context(&config).await;
    let reports = poll_all(&cx, &config).await;
    for name in ["basic", "key", "cookie"] {
        let r = reports.iter().find(|r| r.source == name).unwrap();
        assert_eq!(r.status, Some(200), "{name}: {r:?}");
        assert_eq!(r.counts.items, 1, "{name}: {r:?}");
    }
    let none = reports.iter().find(|r| r.source == "none").unwrap();
    assert_eq!(
        none.status,
        Some(401),
        "a source without credentials is refused: {none:?}"
    );
    let seen = seen.lock().unwrap();
    let ua: Vec<&str> = seen
        .iter()
        .filter(|(p, _)| p == "/basic")
        .map(|(_, h)| header(h, "user-agent"))
        .collect();
    assert!(ua.contains(&"PrivateReader/1"), "{ua:?}");
    assert!(
        ua.iter().any(|u| u.starts_with("Tributary/")),
        "the other source keeps the daemon's user agent: {ua:?}"
    );
}

#[tokio::test]
async fn credentials_are_not_sent_to_another_host_a_redirect_names() {
    let (_, seen) = guarded_server().await;
    // 127.0.0.2 is another host on the loopback network.
    let listener = tokio::net::TcpListener::bind("127.0.0.2:0").await;
    let Ok(listener) = listener else {
        report_skip(
            "credentials_are_not_sent_to_another_host_a_redirect_names",
            "cannot bind 127.0.0.2",
        );
        return;
    };
    let other_seen = Arc::new(Mutex::new(Vec::<HeaderMap>::new()));
    let log = other_seen.clone();
    let other = Scripted::on(listener, move |_, _, req| {
        log.lock().unwrap().push(req.headers().clone());
        respond(200, &[("content-type", "application/rss+xml")], FEED)
    });
    let redirect_to = format!("http://127.0.0.2:{}/feed", other.addr.port());
    let redirector = Scripted::start("127.0.0.1", move |_, _, _| {
        respond(302, &[("location", &redirect_to)], "")
    })
    .await;
    let sb = Sandbox::new();
    let config = sb.config(&format!(
        "{}username = \"reader\"\npassword = \"hunter2\"\nheaders = {{ \"X-Api-Key\" = \"k3y-s3cr3t\" }}\n",
        source_block("moved", &redirector.url("/feed")),
    ));
    let cx = context(&config).await;
    let reports = poll_all(&cx, &config).await;
    assert_eq!(reports[0].status, Some(200), "{:?}", reports[0]);
    let headers = other_seen.lock().unwrap();
    assert_eq!(headers.len(), 1);
    assert_eq!(header(&headers[0], "authorization"), "");
    assert_eq!(header(&headers[0], "x-api-key"), "");
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_variables_and_the_credentials_directory_fill_in_secrets() {
    let (server, _) = guarded_server().await;
    let sb = Sandbox::new();
    let creds = tempfile::tempdir().unwrap();
    std::fs::write(creds.path().join("feed-password"), "hunter2\n").unwrap();
    let text = format!(
        "[daemon]\ndatabase = \"t.db\"\nallow_private_addresses = true\njitter = \"0s\"\n\n{}username = \"${{FEED_USER}}\"\npassword_file = \"feed-password\"\n\n{}headers = {{ \"X-Api-Key\" = \"${{FEED_KEY}}\" }}\n",
        source_block("basic", &server.url("/basic")),
        source_block("key", &server.url("/key")),
    );
    let path = sb.path("tributary.toml");
    std::fs::write(&path, text).unwrap();
    let run = |env: Vec<(&'static str, String)>| {
        let path = path.clone();
        let creds = creds.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_tributary"))
                .args(["poll", "--config"])
                .arg(&path)
                .env_remove("TRIBUTARY_CONFIG")
                .env("CREDENTIALS_DIRECTORY", creds)
                .env("RUST_LOG", "debug")
                .envs(env)
                .output()
                .unwrap()
        })
    };
    let out = run(vec![("FEED_USER", "reader".into()), ("FEED_KEY", "k3y-s3cr3t".into())])
        .await
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{all}");
    for secret in ["hunter2", "k3y-s3cr3t"] {
        assert!(!all.contains(secret), "{secret} shown: {all}");
    }
    let store = tributary::store::Store::open(&sb.path("t.db")).unwrap();
    for name in ["basic", "key"] {
        assert_eq!(store.source(name).unwrap().unwrap().items, 1, "{name}: {all}");
    }
    // Without FEED_KEY the config is refused, naming the variable.
    let out = run(vec![("FEED_USER", "reader".into())]).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("environment variable FEED_KEY is not set"), "{stderr}");
}
