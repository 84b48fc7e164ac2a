//! What the daemon's environment must not change about fetching: proxy
//! variables never route a fetch around the address guard, and a machine
//! without a CA bundle still starts and polls. Each test runs the real
//! binary with the variables set on its command line; every server is on
//! 127.0.0.1.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use common::*;

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
    let (proxy, heads) = recording_proxy(FEED).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_machine_without_ca_certificates_still_polls_http_sources() {
    let feed = FeedServer::start().await;
    feed.set("/feed.xml", Route::feed("application/rss+xml", FEED));
    feed.set(
        "/other.xml",
        Route::feed("application/rss+xml", FEED.replace(">1<", ">2<")),
    );
    let sb = Sandbox::new();
    // An empty bundle and an empty certificate folder: the system verifier
    // reads only these when they are set, and finds no CA in them.
    let empty_file = sb.path("empty-bundle.pem");
    std::fs::write(&empty_file, "").unwrap();
    let empty_dir = sb.path("empty-certs");
    std::fs::create_dir(&empty_dir).unwrap();
    // Two address policies, so two HTTP clients are built.
    let config = sb.config(&format!(
        "{}{}allow_private_addresses = [\"127.0.0.1/32\"]\n",
        source_block("plain", &feed.url("/feed.xml")),
        source_block("listed", &feed.url("/other.xml")),
    ));
    let env = vec![
        ("SSL_CERT_FILE".to_string(), empty_file.display().to_string()),
        ("SSL_CERT_DIR".to_string(), empty_dir.display().to_string()),
    ];
    let out = poll(&config.path, env).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let store = tributary::store::Store::open(&config.daemon.database).unwrap();
    for name in ["plain", "listed"] {
        assert_eq!(store.source(name).unwrap().unwrap().items, 1, "{name}: {stdout}");
    }
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("bundled")).collect();
    assert_eq!(
        warnings.len(),
        1,
        "one warning says the bundled roots are used: {stderr}"
    );
    assert!(warnings[0].contains("WARN"), "{stderr}");
}

/// A loopback TLS server presenting a self-signed certificate for
/// 127.0.0.1; counts the handshakes that succeeded.
async fn self_signed_tls_server() -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio_rustls::rustls;
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(signing_key.serialize_der());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key.into())
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handshakes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = handshakes.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, count) = (acceptor.clone(), count.clone());
            tokio::spawn(async move {
                if acceptor.accept(tcp).await.is_ok() {
                    count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            });
        }
    });
    (addr, handshakes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_ca_certificates_https_sources_are_still_verified() {
    let (tls, handshakes) = self_signed_tls_server().await;
    let feed = FeedServer::start().await;
    feed.set("/feed.xml", Route::feed("application/rss+xml", FEED));
    let sb = Sandbox::new();
    let empty_file = sb.path("empty-bundle.pem");
    std::fs::write(&empty_file, "").unwrap();
    let config = sb.config(&format!(
        "{}{}",
        source_block("plain", &feed.url("/feed.xml")),
        source_block("tls", &format!("https://{tls}/feed.xml")),
    ));
    let env = vec![
        ("SSL_CERT_FILE".to_string(), empty_file.display().to_string()),
        (
            "SSL_CERT_DIR".to_string(),
            sb.path("no-such-folder").display().to_string(),
        ),
    ];
    let out = poll(&config.path, env).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "the https source fails: {stdout}\n{stderr}");
    let store = tributary::store::Store::open(&config.daemon.database).unwrap();
    assert_eq!(store.source("plain").unwrap().unwrap().items, 1, "{stdout}");
    let err = store.source("tls").unwrap().unwrap().last_error.unwrap_or_default();
    assert!(err.starts_with("TLS: "), "{err}");
    assert!(
        err.contains("UnknownIssuer"),
        "a certificate no bundled root signed: {err}"
    );
    assert_eq!(handshakes.load(std::sync::atomic::Ordering::SeqCst), 0);
}
