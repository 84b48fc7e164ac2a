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

/// A context whose names resolve through `names` only.
async fn context_with_names(
    config: &tributary::config::Config,
    names: &'static [(&'static str, &'static str)],
) -> tributary::pipeline::Context {
    use tributary::fetch::{FetchSettings, Fetcher, guard::Lookup};
    let mut cx = context(config).await;
    let lookup = Lookup::with(move |host| {
        names
            .iter()
            .filter(|(n, _)| *n == host)
            .map(|(_, ip)| Ok(ip.parse().unwrap()))
            .collect::<std::io::Result<Vec<_>>>()
            .and_then(|v: Vec<std::net::IpAddr>| {
                if v.is_empty() {
                    Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no such name"))
                } else {
                    Ok(v)
                }
            })
    });
    cx.fetcher = Fetcher::with_lookup(FetchSettings::from_config(&config.daemon), lookup).unwrap();
    cx
}

#[tokio::test]
async fn a_source_proxy_carries_its_requests() {
    let (proxy, heads) = recording_proxy(FEED).await;
    let direct = FeedServer::start().await;
    direct.set("/feed.xml", Route::feed("application/rss+xml", FEED));
    let sb = Sandbox::new();
    // The proxy is on loopback, which allow_private_addresses = true allows.
    let config = sb.config(&format!(
        "{}proxy = \"http://{proxy}\"\nheaders = {{ \"X-Api-Key\" = \"k3y-s3cr3t\" }}\n\n{}",
        source_block("proxied", "http://feeds.example.org/feed.xml"),
        source_block("direct", &direct.url("/feed.xml")),
    ));
    let cx = context_with_names(
        &config,
        &[("public.example.org", "93.184.215.14"), ("127.0.0.1", "127.0.0.1")],
    )
    .await;
    let reports = poll_all(&cx, &config).await;
    assert_eq!(reports[0].status, Some(200), "{:?}", reports[0]);
    let heads = heads.lock().unwrap();
    assert_eq!(
        heads.len(),
        1,
        "only the proxied source goes through the proxy: {heads:?}"
    );
    assert!(
        heads[0].starts_with("GET http://feeds.example.org/feed.xml HTTP/1.1"),
        "{}",
        heads[0]
    );
    assert!(
        heads[0].to_ascii_lowercase().contains("x-api-key: k3y-s3cr3t"),
        "{}",
        heads[0]
    );
}

#[tokio::test]
async fn a_proxied_request_to_a_refused_address_never_reaches_the_proxy() {
    let (proxy, heads) = recording_proxy(FEED).await;
    let sb = Sandbox::new();
    // Only the proxy's own address is allowed; the feeds' hosts are private.
    let config = sb.config_with(
        &format!(
            "allow_private_addresses = [\"{}\"]\nproxy = \"http://{proxy}\"",
            proxy.ip()
        ),
        &format!(
            "{}{}",
            source_block("literal", "http://10.1.2.3/feed.xml"),
            source_block("name", "http://intranet.example.org/feed.xml"),
        ),
    );
    let cx = context_with_names(&config, &[("intranet.example.org", "192.168.1.20")]).await;
    let reports = poll_all(&cx, &config).await;
    for r in &reports {
        let err = r.error.as_deref().unwrap_or_default();
        assert!(err.starts_with("refused to fetch "), "{}: {err}", r.source);
    }
    assert!(
        reports[1]
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("intranet.example.org resolves to 192.168.1.20"),
        "{:?}",
        reports[1]
    );
    assert!(heads.lock().unwrap().is_empty(), "{:?}", heads.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_variables_are_used_only_with_proxy_env() {
    let (proxy, heads) = recording_proxy(FEED).await;
    let sb = Sandbox::new();
    let path = sb.path("tributary.toml");
    let run = |daemon_proxy: &'static str| {
        let text = format!(
            "[daemon]\ndatabase = \"t.db\"\nallow_private_addresses = true\njitter = \"0s\"\n{daemon_proxy}\n\n{}",
            source_block("viaenv", "http://127.0.0.2:9/feed.xml"),
        );
        std::fs::write(&path, text).unwrap();
        let path = path.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_tributary"))
                .args(["poll", "--config"])
                .arg(&path)
                .env_remove("TRIBUTARY_CONFIG")
                .env_remove("NO_PROXY")
                .env_remove("no_proxy")
                .env("HTTP_PROXY", format!("http://{proxy}"))
                .env("http_proxy", format!("http://{proxy}"))
                .output()
                .unwrap()
        })
    };
    let out = run("proxy = \"env\"").await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    {
        let heads = heads.lock().unwrap();
        assert_eq!(heads.len(), 1, "{heads:?}");
        assert!(
            heads[0].starts_with("GET http://127.0.0.2:9/feed.xml HTTP/1.1"),
            "{}",
            heads[0]
        );
    }
    // Without it the variables are ignored (and port 9 answers nothing).
    let _ = run("").await.unwrap();
    assert_eq!(heads.lock().unwrap().len(), 1);
}
