//! The reliability cases of `docs/reliability.md` ("The 45 cases") that no
//! other test file pins, each test named after its case. Servers are local:
//! feed servers on 127.0.0.1–127.0.0.5, a test resolver for host names (no
//! DNS query leaves the machine), a loopback HTTPS server with generated
//! certificates, and the daemon as a child process talking to a fake
//! `NOTIFY_SOCKET`.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write as _};
use std::net::{IpAddr, SocketAddr};
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;
use tributary::model::PollOutcome;

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use chrono::{TimeDelta, Utc};
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tributary::config::Config;
use tributary::fetch::guard::{self, Lookup};
use tributary::fetch::{FetchSettings, Fetcher};
use tributary::model::AddressPolicy;
use tributary::pipeline::{self, Context};
use tributary::publish::Format;

// ---------------------------------------------------------------------------
// Helpers

fn rss(items: &[(&str, &str)]) -> String {
    let mut s = String::from("<rss version=\"2.0\"><channel><title>F</title><link>https://f.example.org/</link>");
    for (guid, title) in items {
        s.push_str(&format!(
            "<item><guid>{guid}</guid><title>{title}</title><link>https://f.example.org/{guid}</link><description>testo di {guid}</description></item>"
        ));
    }
    s.push_str("</channel></rss>");
    s
}

const FEED: &str = "<rss version=\"2.0\"><channel><title>F</title><item><guid>1</guid><title>Uno</title><link>https://f.example.org/1</link><description>testo</description></item></channel></rss>";

fn rss_response(body: impl Into<Body>) -> Response {
    respond(200, &[("content-type", "application/rss+xml")], body)
}

/// Two listeners on the same port of two loopback addresses, so that one
/// host name can resolve to either.
async fn same_port(a: &str, b: &str) -> (tokio::net::TcpListener, tokio::net::TcpListener) {
    for _ in 0..50 {
        let first = tokio::net::TcpListener::bind(format!("{a}:0")).await.unwrap();
        let port = first.local_addr().unwrap().port();
        if let Ok(second) = tokio::net::TcpListener::bind(format!("{b}:{port}")).await {
            return (first, second);
        }
    }
    panic!("no port free on both {a} and {b}");
}

/// A poll context whose fetcher asks `lookup` for host names.
async fn context_with_lookup(config: &Config, lookup: Lookup) -> Context {
    let mut cx = context(config).await;
    cx.fetcher = Fetcher::with_lookup(FetchSettings::from_config(&config.daemon), lookup).unwrap();
    cx
}

/// A test resolver: fixed answers per name, counting lookups.
fn resolver(answers: &[(&str, &[&str])]) -> (Lookup, Arc<Mutex<Vec<String>>>) {
    let table: HashMap<String, Vec<IpAddr>> = answers
        .iter()
        .map(|(name, ips)| (name.to_string(), ips.iter().map(|ip| ip.parse().unwrap()).collect()))
        .collect();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    let lookup = Lookup::with(move |host| {
        log.lock().unwrap().push(host.to_string());
        table
            .get(host)
            .cloned()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, format!("no such host {host}")))
    });
    (lookup, asked)
}

/// A sandbox whose one source may reach only `allowed` among private addresses.
fn private_only(allowed: &str, block: &str) -> (Sandbox, Config) {
    let sb = Sandbox::new();
    let config = sb.config_with(
        "allow_private_addresses = false",
        &format!("{block}allow_private_addresses = [\"{allowed}\"]\n"),
    );
    (sb, config)
}

// ---------------------------------------------------------------------------
// A. Fetching untrusted URLs

#[tokio::test]
async fn a1_a_loopback_literal_is_refused_before_connecting_unless_allowlisted() {
    let (addr, connections) = connection_counter("127.0.0.1").await;
    let url = format!("http://{addr}/f.xml");
    let sb = Sandbox::new();
    let config = sb.config_with("allow_private_addresses = false", &source_block("s", &url));
    let cx = context(&config).await;
    let r = poll_all(&cx, &config).await;
    assert_eq!(r[0].outcome, PollOutcome::Failed("refused"), "{r:?}");
    let err = r[0].error.as_deref().unwrap();
    assert!(
        err.starts_with(&format!("refused to fetch {url}: 127.0.0.1 is a loopback address")),
        "{err}"
    );
    assert!(
        err.contains("allow_private_addresses"),
        "the error names the setting: {err}"
    );
    assert_eq!(connections.load(Ordering::SeqCst), 0, "refused before connecting");

    // The same kind of URL with 127.0.0.1/32 allowlisted is fetched.
    let server = FeedServer::start().await;
    server.set("/f.xml", Route::feed("application/rss+xml", FEED));
    let sb = Sandbox::new();
    let config = sb.config_with(
        "allow_private_addresses = [\"127.0.0.1/32\"]",
        &source_block("s", &server.url("/f.xml")),
    );
    let cx = context(&config).await;
    let r = poll_all(&cx, &config).await;
    assert_eq!((r[0].outcome, r[0].counts.new), (PollOutcome::Ok, 1), "{r:?}");
}

#[test]
fn a2_the_classifier_refuses_every_special_range_and_passes_public_addresses() {
    let blocked = [
        "0.0.0.0",
        "0.255.255.255",
        "10.0.0.1",
        "10.255.255.255",
        "100.64.0.1",
        "100.127.255.255",
        "127.0.0.1",
        "127.255.255.254",
        "169.254.0.1",
        "169.254.169.254",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.0.1",
        "224.0.0.1",
        "239.255.255.255",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "fc00::1",
        "fdff:ffff::1",
        "fe80::1",
        "febf::1",
        "ff02::1",
        // NAT64 of 169.254.169.254 and of 127.0.0.1
        "64:ff9b::a9fe:a9fe",
        "64:ff9b::7f00:1",
        // 6to4 of 169.254.169.254 and of 10.0.0.1
        "2002:a9fe:a9fe::",
        "2002:a00:1::1",
        // Teredo (client 10.0.0.1, obfuscated)
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",
        "2001::1",
        // IPv4-mapped
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:10.0.0.1",
    ];
    for addr in blocked {
        let ip: IpAddr = addr.parse().unwrap();
        assert!(guard::refused_reason(ip).is_some(), "{addr} must be refused");
        assert!(guard::check(&AddressPolicy::PublicOnly, ip).is_some(), "{addr}");
        assert_eq!(guard::check(&AddressPolicy::Any, ip), None, "{addr}");
    }
    for addr in [
        "93.184.216.34",
        "1.1.1.1",
        "8.8.8.8",
        "100.128.0.1",
        "2001:4860:4860::8888",
        "2606:4700:4700::1111",
    ] {
        let ip: IpAddr = addr.parse().unwrap();
        assert_eq!(guard::refused_reason(ip), None, "{addr} is public");
    }
}

#[tokio::test]
async fn a3_encoded_loopback_hosts_are_refused_before_any_request() {
    let (addr, connections) = connection_counter("127.0.0.1").await;
    let port = addr.port();
    let hosts = [
        "2130706433",
        "0x7f.1",
        "017700000001",
        "127.1",
        "0",
        "[::ffff:7f00:1]",
        "\u{ff11}\u{ff12}\u{ff17}.\u{ff10}.\u{ff10}.\u{ff11}",
    ];
    let urls: Vec<String> = hosts.iter().map(|h| format!("http://{h}:{port}/feed")).collect();
    for u in &urls {
        let url = url::Url::parse(u).unwrap();
        let ip = guard::literal(&url).unwrap_or_else(|| panic!("{u} is an IP literal"));
        assert!(ip.to_canonical().is_loopback() || ip.is_unspecified(), "{u}: {ip}");
        assert!(guard::check(&AddressPolicy::PublicOnly, ip).is_some(), "{u}");
    }
    let blocks: String = urls
        .iter()
        .enumerate()
        .map(|(i, u)| source_block(&format!("s{i}"), u))
        .collect();
    let sb = Sandbox::new();
    let config = sb.config_with("allow_private_addresses = false", &blocks);
    let cx = context(&config).await;
    for r in poll_all(&cx, &config).await {
        assert_eq!(r.outcome, PollOutcome::Failed("refused"), "{r:?}");
    }
    assert_eq!(connections.load(Ordering::SeqCst), 0, "no request was made");

    // The encodings really point at the counter: allowed, the IPv4 forms reach it.
    let sb = Sandbox::new();
    let ipv4: String = urls
        .iter()
        .enumerate()
        .filter(|(_, u)| !u.contains('['))
        .map(|(i, u)| source_block(&format!("s{i}"), u))
        .collect();
    let config = sb.config_with("timeout = \"5s\"", &ipv4);
    let cx = context(&config).await;
    poll_all(&cx, &config).await;
    assert_eq!(connections.load(Ordering::SeqCst), urls.len() - 1);
}

#[tokio::test]
async fn a4_names_resolving_to_a_blocked_address_are_refused_even_beside_an_allowed_one() {
    let (allowed, blocked) = same_port("127.0.0.2", "127.0.0.3").await;
    let port = allowed.local_addr().unwrap().port();
    let server = Scripted::on(allowed, |_, _, _| rss_response(FEED));
    let (_, connections) = connection_counter_on(blocked).await;
    let (lookup, asked) = resolver(&[
        ("blocked.test", &["127.0.0.3"]),
        ("mixed.test", &["127.0.0.2", "127.0.0.3"]),
        ("fine.test", &["127.0.0.2"]),
    ]);
    let blocks: String = ["blocked", "mixed", "fine"]
        .iter()
        .map(|n| source_block(n, &format!("http://{n}.test:{port}/{n}")))
        .collect();
    let sb = Sandbox::new();
    let config = sb.config_with("allow_private_addresses = [\"127.0.0.2\"]", &blocks);
    let cx = context_with_lookup(&config, lookup).await;
    let r = poll_all(&cx, &config).await;
    assert_eq!(r[0].outcome, PollOutcome::Failed("refused"), "{r:?}");
    assert!(
        r[0].error
            .as_deref()
            .unwrap()
            .contains("blocked.test resolves to 127.0.0.3, a loopback address"),
        "{r:?}"
    );
    // Policy: one refused answer refuses the whole name (a mix of allowed and
    // refused answers is a rebinding pattern), even though 127.0.0.2 is allowed.
    assert_eq!(r[1].outcome, PollOutcome::Failed("refused"), "{r:?}");
    assert!(
        r[1].error
            .as_deref()
            .unwrap()
            .contains("mixed.test resolves to 127.0.0.3")
    );
    assert_eq!(server.hits("/mixed"), 0);
    assert_eq!((r[2].outcome, r[2].counts.new), (PollOutcome::Ok, 1), "{r:?}");
    assert_eq!(connections.load(Ordering::SeqCst), 0, "127.0.0.3 was never dialled");
    assert_eq!(asked.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a5_a_redirect_to_a_name_of_a_blocked_address_is_refused_and_never_dialled() {
    let (target, connections) = connection_counter("127.0.0.3").await;
    let to = format!("http://inner.test:{}/feed", target.port());
    let location = to.clone();
    let server = Scripted::start("127.0.0.2", move |_, _, _| respond(302, &[("location", &location)], "")).await;
    let (lookup, _) = resolver(&[("inner.test", &["127.0.0.3"])]);
    let (_sb, config) = private_only("127.0.0.2", &source_block("s", &server.url("/f")));
    let cx = context_with_lookup(&config, lookup).await;
    let r = poll_all(&cx, &config).await;
    assert_eq!(r[0].outcome, PollOutcome::Failed("refused"), "{r:?}");
    let err = r[0].error.as_deref().unwrap();
    assert!(
        err.starts_with(&format!(
            "refused to fetch {to}: inner.test resolves to 127.0.0.3, a loopback address"
        )),
        "{err}"
    );
    assert_eq!(server.hits("/f"), 1);
    assert_eq!(connections.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a6_dns_rebinding_the_second_connection_is_refused() {
    let (allowed, blocked) = same_port("127.0.0.2", "127.0.0.3").await;
    let port = allowed.local_addr().unwrap().port();
    // Connection: close, so the second fetch needs a new connection (and a new lookup).
    let server = Scripted::on(allowed, |_, _, _| {
        respond(
            200,
            &[("content-type", "application/rss+xml"), ("connection", "close")],
            FEED,
        )
    });
    let (_, connections) = connection_counter_on(blocked).await;
    let answers = Arc::new(AtomicUsize::new(0));
    let n = answers.clone();
    let lookup = Lookup::with(move |host| {
        assert_eq!(host, "rebind.test");
        // First the allowed address, then the one the attacker wants.
        let ip = if n.fetch_add(1, Ordering::SeqCst) == 0 {
            "127.0.0.2"
        } else {
            "127.0.0.3"
        };
        Ok(vec![ip.parse().unwrap()])
    });
    let (_sb, config) = private_only("127.0.0.2", &source_block("s", &format!("http://rebind.test:{port}/f")));
    let cx = context_with_lookup(&config, lookup).await;
    let first = poll_all(&cx, &config).await;
    assert_eq!(
        (first[0].outcome, first[0].counts.new),
        (PollOutcome::Ok, 1),
        "{first:?}"
    );
    let second = poll_all(&cx, &config).await;
    assert_eq!(second[0].outcome, PollOutcome::Failed("refused"), "{second:?}");
    assert!(
        second[0]
            .error
            .as_deref()
            .unwrap()
            .contains("rebind.test resolves to 127.0.0.3, a loopback address"),
        "{second:?}"
    );
    assert_eq!(
        answers.load(Ordering::SeqCst),
        2,
        "one lookup per connection, checked at use"
    );
    assert_eq!(server.hits("/f"), 1);
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "the rebound address was never dialled"
    );
    assert_eq!(cx.store.entry_count().unwrap(), 1);
}

#[tokio::test]
async fn a9_a_body_over_the_cap_keeps_the_stored_items_and_validators() {
    let big = Arc::new(vec![b'x'; 20 << 20]);
    let server = Scripted::start("127.0.0.1", move |path, n, req| {
        let etag_sent = req
            .headers()
            .get("if-none-match")
            .map(|v| v.to_str().unwrap().to_string());
        match (path, n) {
            (_, 1) => respond(
                200,
                &[("content-type", "application/rss+xml"), ("etag", "\"v1\"")],
                FEED,
            ),
            (_, 2) => {
                assert_eq!(etag_sent.as_deref(), Some("\"v1\""));
                // 20 MiB with a Content-Length.
                respond(200, &[("content-type", "application/rss+xml")], big.to_vec())
            }
            (_, 3) => {
                assert_eq!(etag_sent.as_deref(), Some("\"v1\""), "validators unchanged");
                // 20 MiB in chunks, no Content-Length.
                let chunks = (0..320).map(|_| Ok::<_, std::io::Error>(vec![b'y'; 64 * 1024]));
                rss_response(Body::from_stream(futures_util::stream::iter(chunks)))
            }
            _ => {
                assert_eq!(etag_sent.as_deref(), Some("\"v1\""), "validators unchanged");
                respond(304, &[], Body::empty())
            }
        }
    })
    .await;
    let sb = Sandbox::new();
    let config = sb.config_with("max_feed_bytes = \"1MiB\"", &source_block("s", &server.url("/f")));
    let cx = context(&config).await;
    assert_eq!(poll_all(&cx, &config).await[0].counts.new, 1);
    for _ in 0..2 {
        let r = poll_all(&cx, &config).await;
        assert_eq!(r[0].outcome, PollOutcome::Failed("too-large"), "{r:?}");
        assert!(
            r[0].error
                .as_deref()
                .unwrap()
                .contains("larger than the limit of 1048576 bytes")
        );
        assert_eq!(cx.store.entry_count().unwrap(), 1, "old items kept");
    }
    assert_eq!(poll_all(&cx, &config).await[0].outcome, PollOutcome::NotModified);
    assert_eq!(server.hits("/f"), 4);
}

#[tokio::test]
async fn a10_brotli_and_deflate_bombs_are_cut_at_the_decompressed_cap() {
    let zeros = vec![0u8; 16 << 20];
    let mut br = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut br, 64 * 1024, 1, 22);
        w.write_all(&zeros).unwrap();
    }
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    zlib.write_all(&zeros).unwrap();
    let zlib = zlib.finish().unwrap();
    assert!(br.len() < 64 * 1024 && zlib.len() < 64 * 1024, "small on the wire");
    let server = Scripted::start("127.0.0.1", move |path, _, _| {
        let (coding, body) = match path {
            "/br" => ("br", br.clone()),
            _ => ("deflate", zlib.clone()),
        };
        respond(
            200,
            &[("content-encoding", coding), ("content-type", "application/rss+xml")],
            body,
        )
    })
    .await;
    let sb = Sandbox::new();
    let config = sb.config_with(
        "max_feed_bytes = \"1MiB\"",
        &(source_block("br", &server.url("/br")) + &source_block("deflate", &server.url("/deflate"))),
    );
    let cx = context(&config).await;
    for r in poll_all(&cx, &config).await {
        assert_eq!(r.outcome, PollOutcome::Failed("too-large"), "{r:?}");
        assert!(
            r.error
                .as_deref()
                .unwrap()
                .contains("larger than the limit of 1048576 bytes")
        );
    }
}

/// A loopback HTTPS server presenting `cert`; counts the HTTP requests it served.
async fn tls_server(cert: &rcgen::Certificate, key: &rcgen::KeyPair) -> (SocketAddr, Arc<AtomicUsize>) {
    use tokio_rustls::rustls;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key.into())
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    let app = Router::new().fallback(move || {
        count.fetch_add(1, Ordering::SeqCst);
        async { rss_response(FEED) }
    });
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                if let Ok(stream) = acceptor.accept(tcp).await {
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                }
            });
        }
    });
    (addr, served)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a15_self_signed_expired_and_wrong_host_certificates_are_tls_errors() {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Tributary test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let ca = Issuer::new(ca_params, ca_key);
    let leaf = |names: &[&str], expired: bool| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        if expired {
            params.not_before = rcgen::date_time_ymd(2019, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        }
        (params.signed_by(&key, &ca).unwrap(), key)
    };
    let (good, good_key) = leaf(&["127.0.0.1"], false);
    let (expired, expired_key) = leaf(&["127.0.0.1"], true);
    let (wrong, wrong_key) = leaf(&["feeds.other.example"], false);
    let self_key = KeyPair::generate().unwrap();
    let mut self_params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    self_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "a self-signed feed server");
    let self_signed = self_params.self_signed(&self_key).unwrap();
    let mut servers = vec![];
    for (name, cert, key) in [
        ("good", &good, &good_key),
        ("expired", &expired, &expired_key),
        ("wrong-host", &wrong, &wrong_key),
        ("self-signed", &self_signed, &self_key),
    ] {
        let (addr, served) = tls_server(cert, key).await;
        servers.push((name, format!("https://{addr}/feed"), served));
    }
    let sb = Sandbox::new();
    let ca_file = sb.path("test-ca.pem");
    std::fs::write(&ca_file, ca_cert.pem()).unwrap();
    let blocks: String = servers.iter().map(|(n, u, _)| source_block(n, u)).collect();
    let config = sb.config(&blocks);
    // The child trusts only the test CA (rustls-native-certs reads SSL_CERT_FILE).
    let out = tokio::task::spawn_blocking({
        let path = config.path.clone();
        move || {
            Command::new(env!("CARGO_BIN_EXE_tributary"))
                .args(["poll", "--config"])
                .arg(&path)
                .env("SSL_CERT_FILE", &ca_file)
                .env_remove("SSL_CERT_DIR")
                .env_remove("TRIBUTARY_CONFIG")
                .env("RUST_LOG", "warn")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "some sources failed: {stdout}");
    let store = tributary::store::Store::open(&config.daemon.database).unwrap();
    let state = |name: &str| store.source(name).unwrap().unwrap();
    assert_eq!(
        state("good").items,
        1,
        "the CA-signed certificate is accepted: {stdout}"
    );
    assert_eq!(servers[0].2.load(Ordering::SeqCst), 1);
    for (name, why) in [
        ("expired", "expired"),
        ("wrong-host", "not valid for name"),
        ("self-signed", "UnknownIssuer"),
    ] {
        let s = state(name);
        let err = s.last_error.unwrap_or_default();
        assert!(err.starts_with("TLS: "), "{name}: {err}");
        assert!(err.contains(why), "{name}: {err}");
        assert!(
            err.contains("https://127.0.0.1:"),
            "{name}: the error names the https URL: {err}"
        );
        assert_eq!(s.items, 0, "{name}");
    }
    for (name, _, served) in &servers[1..] {
        assert_eq!(
            served.load(Ordering::SeqCst),
            0,
            "{name}: no request went over a bad TLS session"
        );
    }
}

/// A raw HTTP/1.1 server: `answer(n, request head)` gives the bytes of the
/// n-th response, after which the connection is closed.
async fn raw_server(
    answer: impl Fn(usize, &str) -> Vec<u8> + Send + Sync + 'static,
) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
            let n = {
                let mut h = seen.lock().unwrap();
                h.push(head.clone());
                h.len()
            };
            let _ = s.write_all(&answer(n, &head)).await;
            let _ = s.shutdown().await;
        }
    });
    (addr, heads)
}

#[tokio::test]
async fn a18_a_truncated_body_or_aborted_chunked_stream_keeps_validators_and_items() {
    // A complete, valid feed: a client that ignored the truncation would store it.
    let second = rss(&[("1", "Uno"), ("2", "Due")]);
    let (addr, heads) = raw_server(move |n, _| {
        let head = |extra: &str| {
            format!("HTTP/1.1 200 OK\r\ncontent-type: application/rss+xml\r\nconnection: close\r\n{extra}\r\n")
        };
        match n {
            1 => format!(
                "{}{FEED}",
                head(&format!("etag: \"v1\"\r\ncontent-length: {}\r\n", FEED.len()))
            )
            .into_bytes(),
            // Content-Length says 10 000; the socket closes after 5 000.
            2 => {
                let body = format!("{second:<5000}");
                format!("{}{body}", head("etag: \"v2\"\r\ncontent-length: 10000\r\n")).into_bytes()
            }
            // A chunked stream cut before its last chunk.
            3 => format!(
                "{}{:x}\r\n{second}\r\n",
                head("etag: \"v3\"\r\ntransfer-encoding: chunked\r\n"),
                second.len()
            )
            .into_bytes(),
            _ => b"HTTP/1.1 304 Not Modified\r\nconnection: close\r\n\r\n".to_vec(),
        }
    })
    .await;
    let url = format!("http://{addr}/f");
    let sb = Sandbox::new();
    let config = sb.config(&source_block("s", &url));
    let cx = context(&config).await;
    assert_eq!(poll_all(&cx, &config).await[0].counts.new, 1);
    for _ in 0..2 {
        let r = poll_all(&cx, &config).await;
        assert!(r[0].failed(), "a cut transfer is an error: {r:?}");
        assert_eq!(r[0].outcome, PollOutcome::Failed("transport"), "{r:?}");
        assert!(r[0].error.as_deref().unwrap().contains(&url), "{r:?}");
        assert_eq!((r[0].counts.items, r[0].counts.new), (0, 0), "nothing parsed");
        assert_eq!(cx.store.entry_count().unwrap(), 1);
    }
    assert_eq!(poll_all(&cx, &config).await[0].outcome, PollOutcome::NotModified);
    let heads = heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 4);
    assert!(!heads[0].contains("if-none-match"));
    for h in &heads[1..] {
        assert!(h.contains("if-none-match: \"v1\""), "validators unchanged: {h}");
    }
}

#[tokio::test]
async fn a19_pages_that_are_not_feeds_are_errors_that_keep_the_stored_items() {
    let server = Scripted::start("127.0.0.1", |_, n, req| {
        if n > 1 {
            assert_eq!(req.headers()["if-none-match"], "\"v1\"", "validators unchanged");
        }
        match n {
            1 => respond(
                200,
                &[("content-type", "application/rss+xml"), ("etag", "\"v1\"")],
                FEED,
            ),
            2 => respond(
                403,
                &[("content-type", "text/html"), ("cf-mitigated", "challenge")],
                "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>challenge</body></html>",
            ),
            3 => respond(
                200,
                &[("content-type", "application/json")],
                "{\"error\": \"not found\"}",
            ),
            4 => respond(
                200,
                &[("content-type", "text/html; charset=utf-8")],
                "<html><body><form action=\"/login\"><input name=\"user\"></form></body></html>",
            ),
            5 => respond(200, &[("content-type", "application/rss+xml")], "\n"),
            _ => respond(304, &[], Body::empty()),
        }
    })
    .await;
    let url = server.url("/f");
    let sb = Sandbox::new();
    let config = sb.config(&source_block("s", &url));
    let cx = context(&config).await;
    assert_eq!(poll_all(&cx, &config).await[0].counts.new, 1);
    let mut errors = vec![];
    for _ in 0..4 {
        let r = poll_all(&cx, &config).await;
        assert!(r[0].failed(), "{r:?}");
        assert_eq!(cx.store.entry_count().unwrap(), 1, "stored items untouched");
        errors.push(r[0].error.clone().unwrap());
    }
    assert_eq!(errors[0], format!("HTTP 403 from {url}"));
    assert_eq!(errors[1], format!("not a feed: got application/json from {url}"));
    assert_eq!(
        errors[2],
        format!("not a feed: got text/html (an HTML page) from {url}")
    );
    assert_eq!(errors[3], format!("not a feed: empty body from {url}"));
    assert_eq!(poll_all(&cx, &config).await[0].outcome, PollOutcome::NotModified);
}

// ---------------------------------------------------------------------------
// B. Parsing untrusted XML

#[tokio::test]
async fn b2_external_entities_are_never_fetched_or_read() {
    let (target, connections) = connection_counter("127.0.0.5").await;
    let body = format!(
        r#"<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY web SYSTEM "http://{target}/x"><!ENTITY file SYSTEM "file:///etc/passwd"><!ENTITY % p SYSTEM "http://{target}/p"> %p;]>
<rss version="2.0"><channel><title>X</title>
<item><guid>1</guid><title>a &web; b</title><description>c &file; d</description></item>
<item><guid>2</guid><title>Altra</title></item>
</channel></rss>"#
    );
    let server = FeedServer::start().await;
    server.set("/x.xml", Route::feed("application/rss+xml", body));
    let sb = Sandbox::new();
    let config = sb.config(&source_block("s", &server.url("/x.xml")));
    let cx = context(&config).await;
    let r = poll_all(&cx, &config).await;
    assert_eq!((r[0].outcome, r[0].counts.new), (PollOutcome::Ok, 2), "{r:?}");
    for format in Format::ALL {
        let out = render(&cx.store, &config, format);
        assert!(!out.contains("root:"), "{format:?}: no file content");
    }
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "the entity server was never contacted"
    );
}

/// feed-rs 3.0.0 panics on a `media:thumbnail` whose `time` has more digits
/// than a u64 holds (`parse_npt` unwraps the number): a real parser panic.
const PANICKING_FEED: &str = r#"<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>P</title>
<item><guid>1</guid><title>boom</title><media:thumbnail url="https://p.example/t.jpg" time="99999999999999999999999"/></item>
</channel></rss>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b17_a_parser_panic_stays_in_its_source_and_the_daemon_keeps_serving() {
    let server = FeedServer::start().await;
    server.set("/boom.xml", Route::feed("application/rss+xml", PANICKING_FEED));
    server.set("/good.xml", Route::feed("application/rss+xml", rss(&[("g", "Buona")])));
    let sb = Sandbox::new();
    let config = sb.config(
        &(format!(
            "{}schedule = \"@daily\"\n",
            source_block("boom", &server.url("/boom.xml"))
        ) + &format!(
            "{}schedule = \"@daily\"\n",
            source_block("good", &server.url("/good.xml"))
        )),
    );
    let daemon = RunningDaemon::start(&config).await;
    server.wait_for("/boom.xml", 1).await;
    server.wait_for("/good.xml", 1).await;
    let client = reqwest::Client::new();
    let base = format!("http://{}", daemon.addr);
    // Both polls are recorded once they end; read the status until they are.
    let mut sources = serde_json::Value::Null;
    for _ in 0..1000 {
        let text = get_text(&client, &format!("{base}/sources")).await;
        sources = serde_json::from_str(&text).unwrap();
        let polled = sources["sources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| !s["last_poll"].is_null())
            .count();
        if polled == 2 {
            break;
        }
        tokio::task::yield_now().await;
    }
    let by_name = |n: &str| {
        sources["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == n)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        by_name("boom")["last_error"],
        format!(
            "the feed parser crashed on {}; the document is kept out and other sources are unaffected",
            server.url("/boom.xml")
        )
    );
    assert_eq!(by_name("good")["items"], 1);
    assert!(by_name("good")["last_error"].is_null());
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let atom = client
        .get(format!("{base}/feed.atom"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(atom.contains("Buona") && !atom.contains("boom"), "{atom}");
    daemon.stop().await;
}

// ---------------------------------------------------------------------------
// C. Re-publishing

#[tokio::test]
async fn c2_dangerous_item_urls_are_omitted_and_the_items_kept() {
    let bad = ["javascript:", "vbscript:", "data:", "file:"];
    let rss_feed = r#"<rss version="2.0"><channel><title>R</title><link>javascript:alert(1)</link>
<item><guid>r1</guid><title>RSS one</title><link>javascript:alert(1)</link><comments>javascript:alert(2)</comments>
<enclosure url="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==" type="text/html" length="1"/>
<source url="file:///etc/passwd">x</source><description>uno</description></item>
<item><guid>r2</guid><title>RSS two</title><link>file:///etc/passwd</link><description>due</description></item>
</channel></rss>"#;
    let atom_feed = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:a</id><updated>2026-11-30T10:00:00Z</updated>
<link rel="alternate" href="vbscript:msgbox(1)"/>
<entry><id>urn:a:1</id><title>Atom one</title><updated>2026-11-30T10:00:00Z</updated>
<link rel="alternate" href="javascript:alert(1)"/><link rel="enclosure" href="file:///etc/passwd"/><link rel="related" href="data:text/html,x"/>
<author><name>Ann</name><uri>javascript:alert(3)</uri><email>ann@a.example</email></author>
<content type="html">tre</content></entry>
</feed>"#;
    let json_feed = serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "home_page_url": "javascript:alert(1)",
        "items": [{
            "id": "j1", "title": "JSON one", "url": "javascript:alert(1)",
            "external_url": "data:text/html,<script>alert(1)</script>",
            "authors": [{"name": "Bo", "url": "javascript:alert(4)"}],
            "attachments": [{"url": "file:///etc/passwd", "mime_type": "text/plain"}],
            "content_html": "quattro"
        }]
    })
    .to_string();
    let server = FeedServer::start().await;
    server.set("/r.xml", Route::feed("application/rss+xml", rss_feed));
    server.set("/a.xml", Route::feed("application/atom+xml", atom_feed));
    server.set("/j.json", Route::feed("application/feed+json", json_feed));
    let sb = Sandbox::new();
    let config = sb.config(
        &(source_block("r", &server.url("/r.xml"))
            + &source_block("a", &server.url("/a.xml"))
            + &source_block("j", &server.url("/j.json"))),
    );
    let cx = context(&config).await;
    let r = poll_all(&cx, &config).await;
    assert!(r.iter().all(|r| r.outcome == PollOutcome::Ok), "{r:?}");
    assert_eq!(cx.store.entry_count().unwrap(), 4, "every item is kept");
    for e in cx.store.newest(10, 0).unwrap() {
        assert_eq!(e.link, None, "{}: no link", e.title);
    }
    for format in Format::ALL {
        let out = render(&cx.store, &config, format);
        for title in ["RSS one", "RSS two", "Atom one", "JSON one"] {
            assert!(out.contains(title), "{format:?} lacks {title}");
        }
        for scheme in bad {
            assert!(!out.contains(scheme), "{format:?} carries a {scheme} URL:\n{out}");
        }
    }
}

#[tokio::test]
async fn c4_cdata_terminators_round_trip_byte_exact_and_well_formed() {
    let feed = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>C</title><id>urn:c</id><updated>2026-11-30T10:00:00Z</updated>
<entry><id>urn:c:1</id><title>x ]]&gt; y</title><updated>2026-11-30T10:00:00Z</updated><link href="https://c.example/1"/>
<author><name>Ann ]]&gt; Bee</name></author><category term="k]]&gt;l"/>
<content type="html">&lt;p title="t]]&gt;u"&gt;c ]]&gt; d&lt;/p&gt;</content></entry></feed>"#;
    let rss_feed = "<rss version=\"2.0\"><channel><title>R</title><item><guid>2</guid>\
        <title><![CDATA[p ]]]]><![CDATA[> q]]></title><link>https://c.example/2</link>\
        <description><![CDATA[<p>r ]]]]><![CDATA[> s</p>]]></description></item></channel></rss>";
    let server = FeedServer::start().await;
    server.set("/c.atom", Route::feed("application/atom+xml", feed));
    server.set("/c.rss", Route::feed("application/rss+xml", rss_feed));
    let sb = Sandbox::new();
    let config = sb.config(&(source_block("c", &server.url("/c.atom")) + &source_block("d", &server.url("/c.rss"))));
    let cx = context(&config).await;
    let r = poll_all(&cx, &config).await;
    assert!(r.iter().all(|r| r.outcome == PollOutcome::Ok), "{r:?}");
    for format in Format::ALL {
        let out = render(&cx.store, &config, format);
        if format != Format::Json {
            let mut reader = quick_xml::Reader::from_str(&out);
            loop {
                match reader.read_event() {
                    Ok(quick_xml::events::Event::Eof) => break,
                    Ok(quick_xml::events::Event::CData(c)) => {
                        assert!(!c.contains("]]>"), "{format:?}")
                    }
                    Ok(_) => {}
                    Err(e) => panic!("{format:?} is not well-formed: {e}\n{out}"),
                }
            }
        }
        let parsed = feed_rs::parser::parse(out.as_bytes()).unwrap_or_else(|e| panic!("{format:?}: {e}"));
        let entry = |t: &str| {
            parsed
                .entries
                .iter()
                .find(|e| e.title.as_ref().is_some_and(|x| x.content == t))
                .unwrap_or_else(|| panic!("{format:?}: no entry titled {t:?}"))
        };
        let atom = entry("x ]]> y");
        entry("p ]]> q");
        let html = |e: &feed_rs::model::Entry| {
            e.content
                .as_ref()
                .and_then(|c| c.body.clone())
                .or_else(|| e.summary.as_ref().map(|s| s.content.clone()))
                .unwrap()
        };
        let text = htmlize::unescape(html(atom)).into_owned();
        assert!(text.contains("c ]]> d"), "{format:?}: {text}");
        assert!(
            text.contains("t]]>u"),
            "{format:?}: the attribute value survives: {text}"
        );
        assert!(
            htmlize::unescape(html(entry("p ]]> q"))).contains("r ]]> s"),
            "{format:?}"
        );
        if format != Format::Rss {
            assert_eq!(atom.authors[0].name.as_deref(), Some("Ann ]]> Bee"), "{format:?}");
        }
        if format != Format::Json {
            assert!(
                atom.categories.iter().any(|c| c.term == "k]]>l"),
                "{format:?}: {:?}",
                atom.categories
            );
        }
    }
}

#[tokio::test]
async fn c5_relative_links_resolve_against_the_right_base_and_a_javascript_base_is_ignored() {
    let feed = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>R</title><id>urn:r</id><updated>2026-11-30T10:00:00Z</updated>\
<entry><id>urn:r:1</id><title>one</title><updated>2026-11-30T10:00:00Z</updated>\
<content type=\"html\">&lt;a href=\"/x\"&gt;x&lt;/a&gt; &lt;img src=\"img.png\" srcset=\"a.png 1x, b.png 2x\"&gt; &lt;a href=\"//cdn.example/y\"&gt;y&lt;/a&gt;</content></entry>\
<entry xml:base=\"https://a.example/dir/\"><id>urn:r:2</id><title>two</title><updated>2026-11-30T10:00:00Z</updated>\
<link href=\"post.html\"/><content type=\"html\">&lt;a href=\"page.html\"&gt;p&lt;/a&gt;</content></entry>\
<entry><id>urn:r:3</id><title>three</title><updated>2026-11-30T10:00:00Z</updated>\
<content type=\"html\" xml:base=\"https://b.example/media/\">&lt;img src=\"pic.png\"&gt;</content></entry>\
<entry xml:base=\"javascript:alert(1)//\"><id>urn:r:4</id><title>four</title><updated>2026-11-30T10:00:00Z</updated>\
<content type=\"html\" xml:base=\"javascript:alert(2)//\">&lt;a href=\"z.html\"&gt;z&lt;/a&gt;</content></entry></feed>";
    let server = Scripted::start("127.0.0.1", move |path, _, _| match path {
        "/old" => respond(302, &[("location", "/dir/feed.atom")], ""),
        _ => respond(200, &[("content-type", "application/atom+xml")], feed),
    })
    .await;
    let sb = Sandbox::new();
    let config = sb.config(&source_block("r", &server.url("/old")));
    let cx = context(&config).await;
    let r = poll_all(&cx, &config).await;
    assert_eq!((r[0].outcome, r[0].counts.new), (PollOutcome::Ok, 4), "{r:?}");
    let origin = server.url("");
    let entries = cx.store.newest(10, 0).unwrap();
    let entry = |title: &str| entries.iter().find(|e| e.title == title).unwrap().clone();
    let html = |title: &str| {
        let e = entry(title);
        e.content_html.or(e.summary_html).unwrap()
    };
    let one = html("one");
    assert!(one.contains(&format!("href=\"{origin}/x\"")), "{one}");
    assert!(
        one.contains(&format!("src=\"{origin}/dir/img.png\"")),
        "against the final URL after the redirect: {one}"
    );
    assert!(one.contains("href=\"http://cdn.example/y\""), "{one}");
    assert!(!one.contains("srcset=\"a.png"), "no relative srcset left: {one}");
    // The entry's xml:base reaches its link, and the link is the content's base.
    assert_eq!(entry("two").link.as_deref(), Some("https://a.example/dir/post.html"));
    let two = html("two");
    assert!(two.contains("href=\"https://a.example/dir/page.html\""), "{two}");
    let three = html("three");
    assert!(three.contains("src=\"https://b.example/media/pic.png\""), "{three}");
    // A javascript: base is no base: the feed's own URL is.
    let four = html("four");
    assert!(four.contains(&format!("href=\"{origin}/dir/z.html\"")), "{four}");
    for format in Format::ALL {
        assert!(!render(&cx.store, &config, format).contains("javascript"), "{format:?}");
    }
}

#[tokio::test]
async fn c6_xhtml_content_is_republished_as_escaped_html_with_nosniff_and_csp() {
    let feed = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>X</title><id>urn:x</id><updated>2026-11-30T10:00:00Z</updated>\
<entry><id>urn:x:1</id><title>xhtml</title><updated>2026-11-30T10:00:00Z</updated><link href=\"https://x.example/1\"/>\
<content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\"><p>safe text</p><script>alert(1)</script>\
<h:script xmlns:h=\"http://www.w3.org/1999/xhtml\">alert(2)</h:script><svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(3)\"/></div></content>\
</entry></feed>";
    let server = FeedServer::start().await;
    server.set("/x.atom", Route::feed("application/atom+xml", feed));
    let sb = Sandbox::new();
    let config = sb.config(&format!(
        "{}schedule = \"@daily\"\n",
        source_block("x", &server.url("/x.atom"))
    ));
    let cx = context(&config).await;
    assert_eq!(poll_all(&cx, &config).await[0].counts.new, 1);
    let daemon = RunningDaemon::start_with(&config, cx.store.clone()).await;
    let client = reqwest::Client::new();
    for path in ["/feed.atom", "/feed.rss", "/feed.json", "/outputs/all.atom"] {
        let r = client
            .get(format!("http://{}{path}", daemon.addr))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(
            r.headers()["content-security-policy"],
            "default-src 'none'; sandbox",
            "{path}"
        );
        let body = r.text().await.unwrap();
        assert!(body.contains("safe text"), "{path}: {body}");
        assert!(
            !body.contains("http://www.w3.org/1999/xhtml"),
            "{path}: no XHTML namespace"
        );
        assert!(!body.contains("type=\"xhtml\""), "{path}");
        let unescaped = htmlize::unescape(&body).to_ascii_lowercase();
        for bad in ["<script", "script>", "<svg", "onload", "alert("] {
            assert!(!unescaped.contains(bad), "{path}: {bad} in {body}");
        }
        if path.ends_with(".atom") {
            assert!(body.contains("<content type=\"html\">"), "{path}: {body}");
        }
    }
    daemon.stop().await;
}

// ---------------------------------------------------------------------------
// D. Storage durability

#[tokio::test]
async fn d2_a_failure_between_the_items_and_the_validators_leaves_the_next_fetch_unconditional() {
    let server = FeedServer::start().await;
    server.set(
        "/a.xml",
        Route::feed("application/rss+xml", rss(&[("1", "Uno"), ("2", "Due")])).with_etag("\"v1\""),
    );
    let sb = Sandbox::new();
    let config = sb.config(&source_block("s", &server.url("/a.xml")));
    let cx = context(&config).await;
    // Fault injection inside the poll transaction: once the items are in,
    // writing the validators fails.
    let db = rusqlite::Connection::open(&config.daemon.database).unwrap();
    db.execute_batch(
        "CREATE TRIGGER fail_validators BEFORE UPDATE OF etag ON sources
         WHEN NEW.etag IS NOT NULL AND (SELECT count(*) FROM entries) > 0
         BEGIN SELECT RAISE(ABORT, 'injected failure between the items and the validators'); END;",
    )
    .unwrap();
    let r = poll_all(&cx, &config).await;
    assert_eq!(r[0].outcome, PollOutcome::Failed("database"), "{r:?}");
    assert!(
        r[0].error
            .as_deref()
            .unwrap()
            .contains("injected failure between the items and the validators"),
        "{r:?}"
    );
    assert_eq!(cx.store.entry_count().unwrap(), 0, "the items went with the validators");
    db.execute_batch("DROP TRIGGER fail_validators").unwrap();
    let r = poll_all(&cx, &config).await;
    assert_eq!((r[0].outcome, r[0].counts.new), (PollOutcome::Ok, 2), "{r:?}");
    assert_eq!(poll_all(&cx, &config).await[0].outcome, PollOutcome::NotModified);
    let seen = server.seen("/a.xml");
    assert_eq!(seen.len(), 3);
    assert!(seen[0].headers.get("if-none-match").is_none());
    assert!(
        seen[1].headers.get("if-none-match").is_none(),
        "no validators survived the failed poll: the next fetch is unconditional"
    );
    assert_eq!(seen[1].answered, 200);
    assert_eq!(seen[2].headers["if-none-match"], "\"v1\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d7_a_hundred_readers_during_a_ten_thousand_item_commit_all_get_200_or_304() {
    let items: String = (0..10_000)
        .map(|i| format!("<item><guid>{i}</guid><title>Notizia {i}</title><link>https://big.example/{i}</link><description>testo {i}</description></item>"))
        .collect();
    let body = format!("<rss version=\"2.0\"><channel><title>Big</title>{items}</channel></rss>");
    // The feed is held back until every reader is running.
    let (release_tx, release_rx) = tokio::sync::watch::channel(false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let feed_addr = listener.local_addr().unwrap();
    let app = Router::new().fallback(move || {
        let (body, mut released) = (body.clone(), release_rx.clone());
        async move {
            let _ = released.wait_for(|r| *r).await;
            rss_response(body)
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let sb = Sandbox::new();
    let config = sb.config(&format!(
        "{}schedule = \"@daily\"\n",
        source_block("big", &format!("http://{feed_addr}/big.xml"))
    ));
    let daemon = RunningDaemon::start(&config).await;
    let base = format!("http://{}", daemon.addr);
    let client = reqwest::Client::new();
    let started = Arc::new(AtomicUsize::new(0));
    let release_tx = Arc::new(release_tx);
    let mut readers = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let (client, base, started, release) = (client.clone(), base.clone(), started.clone(), release_tx.clone());
        readers.spawn(async move {
            let mut etag: Option<String> = None;
            let mut statuses: HashMap<u16, usize> = HashMap::new();
            for i in 0..200_000 {
                // The database is read on every /healthz, the cached feed on /feed.atom.
                let health = client.get(format!("{base}/healthz")).send().await.unwrap();
                *statuses.entry(health.status().as_u16()).or_default() += 1;
                assert_eq!(health.status(), 200, "{}", health.text().await.unwrap());
                let mut req = client.get(format!("{base}/feed.atom"));
                if let Some(e) = &etag {
                    req = req.header("if-none-match", e);
                }
                let r = req.send().await.unwrap();
                let status = r.status().as_u16();
                *statuses.entry(status).or_default() += 1;
                assert!(status == 200 || status == 304, "HTTP {status}");
                if i == 0 && started.fetch_add(1, Ordering::SeqCst) + 1 == 100 {
                    let _ = release.send(true);
                }
                if status == 200 {
                    etag = Some(r.headers()["etag"].to_str().unwrap().to_string());
                    if r.text().await.unwrap().contains("<entry>") {
                        return statuses;
                    }
                }
            }
            panic!("the poll never committed: {statuses:?}");
        });
    }
    let mut total: HashMap<u16, usize> = HashMap::new();
    while let Some(statuses) = readers.join_next().await {
        for (status, n) in statuses.unwrap() {
            *total.entry(status).or_default() += n;
        }
    }
    assert_eq!(daemon.store.entry_count().unwrap(), 10_000);
    assert!(total.keys().all(|s| *s == 200 || *s == 304), "{total:?}");
    assert!(
        total.get(&304).copied().unwrap_or(0) > 0,
        "revalidations were answered: {total:?}"
    );
    eprintln!("d7: statuses during the commit {total:?}");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d8_an_external_lock_fails_the_poll_as_locked_keeps_http_serving_and_the_retry_succeeds() {
    let server = FeedServer::start().await;
    server.set("/a.xml", Route::feed("application/rss+xml", rss(&[("1", "Prima")])));
    let sb = Sandbox::new();
    let config = sb.config(&format!(
        "{}schedule = \"@daily\"\n",
        source_block("s", &server.url("/a.xml"))
    ));
    let cx = context(&config).await;
    assert_eq!(poll_all(&cx, &config).await[0].counts.new, 1);
    let daemon = RunningDaemon::start_with(&config, cx.store.clone()).await;
    let base = format!("http://{}", daemon.addr);

    // Another process takes the write lock and keeps it past the busy timeout.
    let other = rusqlite::Connection::open(&config.daemon.database).unwrap();
    other
        .execute_batch("BEGIN IMMEDIATE; UPDATE sources SET title = title;")
        .unwrap();
    server.set(
        "/a.xml",
        Route::feed("application/rss+xml", rss(&[("1", "Prima"), ("2", "Seconda")])),
    );
    let feed = reqwest::get(format!("{base}/feed.atom")).await.unwrap();
    assert_eq!(feed.status(), 200);
    assert!(feed.text().await.unwrap().contains("Prima"));
    assert_eq!(reqwest::get(format!("{base}/healthz")).await.unwrap().status(), 200);
    let r = pipeline::refresh(&cx, &config.sources[0], Utc::now()).await;
    assert_eq!(r.outcome, PollOutcome::Failed("database"), "{r:?}");
    let err = r.error.as_deref().unwrap();
    assert!(err.contains(&config.daemon.database.display().to_string()), "{err}");
    assert!(err.contains("database is locked"), "{err}");
    assert!(err.contains("another process holds the database"), "{err}");
    assert_eq!(cx.store.entry_count().unwrap(), 1);
    let during = reqwest::get(format!("{base}/sources")).await.unwrap();
    assert_eq!(during.status(), 200, "status pages still answer");

    other.execute_batch("ROLLBACK").unwrap();
    let r = pipeline::refresh(&cx, &config.sources[0], Utc::now()).await;
    assert_eq!(
        (r.outcome, r.counts.new),
        (PollOutcome::Ok, 1),
        "the retry stores the poll: {r:?}"
    );
    let feed = reqwest::get(format!("{base}/feed.atom"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(feed.contains("Seconda"), "{feed}");
    daemon.stop().await;
}

#[test]
fn d5_a_corrupt_database_is_refused_or_reported_with_its_path_and_left_byte_identical() {
    let run = |config: &Path, args: &[&str]| {
        tributary_command(args, config)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    // Random bytes: refused at start.
    let sb = Sandbox::new();
    let config = sb.config("");
    let db = config.daemon.database.clone();
    let garbage: Vec<u8> = (0u32..8192)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&db, &garbage).unwrap();
    let out = run(&config.path, &["run"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&db.display().to_string()), "{err}");
    assert!(err.contains("not a usable Tributary database"), "{err}");
    assert!(err.contains("db backup"), "says how to restore: {err}");
    assert_eq!(std::fs::read(&db).unwrap(), garbage, "the file is untouched");

    // A real database with a damaged B-tree page: `db check` finds it.
    let sb = Sandbox::new();
    let config = sb.config("");
    let db = config.daemon.database.clone();
    {
        let store = tributary::store::Store::open(&db).unwrap();
        store
            .write(|w| {
                for i in 0..300 {
                    w.source_id(&format!("source-{i}"), &format!("https://s{i}.example/feed"))?;
                }
                Ok(())
            })
            .unwrap();
    }
    let c = rusqlite::Connection::open(&db).unwrap();
    let page_size: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
    let root: i64 = c
        .query_row("SELECT rootpage FROM sqlite_master WHERE name = 'sources'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let (page_size, root) = (page_size as usize, root as usize);
    drop(c);
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() > root * page_size, "the table spans pages");
    // Scribble over the cell pointers of the table's root page.
    let at = (root - 1) * page_size + 8;
    for b in &mut bytes[at..at + 64] {
        *b ^= 0x5a;
    }
    std::fs::write(&db, &bytes).unwrap();
    let out = run(&config.path, &["db", "check"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(&db.display().to_string()), "{text}");
    assert_eq!(std::fs::read(&db).unwrap(), bytes, "the damaged file is left as it was");
}

// ---------------------------------------------------------------------------
// The daemon as a child process, as systemd runs it

/// How long to wait for the child to say something before failing (a guard
/// against hanging, not a performance assertion).
const PATIENCE: Duration = Duration::from_secs(60);

struct ChildDaemon {
    child: Option<Child>,
    pid: u32,
    socket: UnixDatagram,
    logs: mpsc::Receiver<String>,
    /// Every notification received so far.
    seen: Vec<String>,
}

impl ChildDaemon {
    /// Runs `tributary run` (behind `wrapper`, e.g. strace, when given) with
    /// a fake NOTIFY_SOCKET in `dir` and JSON logs on stderr.
    fn start(config: &Path, dir: &Path, wrapper: &[&str], env: &[(&str, &str)]) -> ChildDaemon {
        let path = dir.join("notify.sock");
        let _ = std::fs::remove_file(&path);
        let socket = UnixDatagram::bind(&path).unwrap();
        socket.set_read_timeout(Some(PATIENCE)).unwrap();
        let bin = env!("CARGO_BIN_EXE_tributary");
        let mut cmd = match wrapper.split_first() {
            None => Command::new(bin),
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(bin);
                c
            }
        };
        cmd.args(["run", "--log-format", "json", "--config"])
            .arg(config)
            .env("NOTIFY_SOCKET", &path)
            .env("RUST_LOG", "info")
            .env_remove("TRIBUTARY_CONFIG")
            .env_remove("STATE_DIRECTORY")
            .env_remove("WATCHDOG_USEC")
            .env_remove("WATCHDOG_PID")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        ChildDaemon {
            pid: child.id(),
            child: Some(child),
            socket,
            logs: rx,
            seen: vec![],
        }
    }

    /// The next notification.
    fn next(&mut self) -> String {
        let mut buf = vec![0u8; 4096];
        let n = self
            .socket
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("no notification from the daemon ({e}); saw {:?}", self.seen));
        let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
        self.seen.push(msg.clone());
        msg
    }

    /// Reads notifications until one has a line starting with `what`.
    fn expect(&mut self, what: &str) -> String {
        loop {
            let msg = self.next();
            if msg.lines().any(|l| l.starts_with(what)) {
                return msg;
            }
        }
    }

    /// Drops the notifications already queued on the socket.
    fn drain(&mut self) {
        self.socket.set_nonblocking(true).unwrap();
        let mut buf = vec![0u8; 4096];
        while let Ok(n) = self.socket.recv(&mut buf) {
            self.seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        self.socket.set_nonblocking(false).unwrap();
    }

    /// Reads log lines (JSON) until one contains `what`.
    fn log(&mut self, what: &str) -> serde_json::Value {
        loop {
            let line = self
                .logs
                .recv_timeout(PATIENCE)
                .unwrap_or_else(|_| panic!("no log line containing {what:?}"));
            if line.contains(what) {
                return serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            }
        }
    }

    /// The address the daemon listens on, from its start-up log line.
    fn listen(&mut self) -> String {
        let running = self.log("tributary is running");
        let fields = running.get("fields").unwrap_or(&running);
        fields["listen"].as_str().unwrap().to_string()
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid.to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig}");
    }

    /// Waits for the process to exit.
    fn wait(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        rx.recv_timeout(PATIENCE).expect("the daemon did not exit").unwrap()
    }
}

impl Drop for ChildDaemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The test that needs strace, as `cargo test` names it.
const D4: &str = "d4_injected_enospc_and_eio_fail_polls_cleanly_and_the_database_stays_intact";

/// Whether strace can inject faults into a child here, and if not, what is
/// missing: the `strace` program, the right to ptrace (often withheld in
/// containers), or fault injection (`-e inject`, strace 4.16 or later). The
/// probe runs `true` under the same options d4 uses.
fn strace_usable() -> Result<(), String> {
    let probe = Command::new("strace")
        .args([
            "-D",
            "-f",
            "-o",
            "/dev/null",
            "-e",
            "inject=pwrite64:error=ENOSPC",
            "true",
        ])
        .output();
    let o = match probe {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let how = "apt-get install strace; scripts/test does it";
            return Err(format!("strace is not installed: install the `strace` package ({how})"));
        }
        Err(e) => return Err(format!("strace could not be started ({e})")),
        Ok(o) => o,
    };
    if o.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&o.stderr).trim().to_string();
    if said.contains("ptrace") || said.contains("Operation not permitted") {
        let scope = std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
            .map(|v| format!(", kernel.yama.ptrace_scope = {}", v.trim()))
            .unwrap_or_default();
        Err(format!(
            "strace may not ptrace here ({said}{scope}): in a container, grant CAP_SYS_PTRACE \
             (docker run --cap-add=SYS_PTRACE) and a seccomp profile that allows ptrace; \
             on a host, kernel.yama.ptrace_scope must be 0 or 1 (2 needs CAP_SYS_PTRACE, 3 forbids ptrace)"
        ))
    } else {
        Err(format!(
            "strace cannot inject faults here ({said}): fault injection (`-e inject`) needs strace 4.16 or later"
        ))
    }
}

/// Injects ENOSPC, then EIO, into the daemon's writes to the WAL with
/// `strace -e inject`, and checks that each poll fails cleanly, the daemon
/// keeps serving and stops cleanly, and the database stays intact.
///
/// Needs strace and the right to ptrace. Where either is missing the test
/// cannot run: it writes `SKIPPED: d4 (…): <what is missing>` to the test
/// output (shown without `--nocapture`) and returns, so it is counted as
/// passed; `d4_without_strace_says_skipped_in_the_test_output` pins that
/// the line is seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d4_injected_enospc_and_eio_fail_polls_cleanly_and_the_database_stays_intact() {
    if let Err(why) = strace_usable() {
        report_skip("d4 (strace fault injection)", &why);
        return;
    }
    let server = Scripted::start("127.0.0.1", |_, n, _| {
        if n == 1 {
            rss_response(rss(&[("1", "Uno")]))
        } else {
            rss_response(rss(&[("1", "Uno"), ("2", "Due"), ("3", "Tre")]))
        }
    })
    .await;
    let sb = Sandbox::new();
    let config = sb.config(&format!(
        "{}schedule = \"every 10m\"\n",
        source_block("s", &server.url("/f"))
    ));
    let db = config.daemon.database.clone();
    {
        // Polled an hour ago: due as soon as the daemon starts.
        let cx = context(&config).await;
        let r = pipeline::refresh(&cx, &config.sources[0], Utc::now() - TimeDelta::hours(1)).await;
        assert_eq!(r.counts.new, 1, "{r:?}");
    }
    let wal = format!("{}-wal", db.display());
    for (n, (inject, words)) in [
        ("pwrite64:error=ENOSPC", "full"),
        ("fsync,fdatasync:error=EIO", "disk I/O error"),
    ]
    .into_iter()
    .enumerate()
    {
        let hits_before = server.hits("/f");
        let injection = format!("inject={inject}");
        let wrapper = ["strace", "-D", "-f", "-o", "/dev/null", "-P", &wal, "-e", &injection];
        let mut d = ChildDaemon::start(&config.path, sb.dir.path(), &wrapper, &[("WATCHDOG_USEC", "200000")]);
        let listen = d.listen();
        d.expect("READY=1");
        let failed = d.log("poll failed");
        let message = failed["fields"]["message"].as_str().unwrap_or_default().to_string();
        assert!(message.contains(&db.display().to_string()), "{inject}: {message}");
        assert!(message.contains(words), "{inject}: {message}");
        // Reads still work, so the watchdog keeps time: let ten health ticks pass.
        d.drain();
        for _ in 0..10 {
            d.expect("WATCHDOG=1");
        }
        // No crash: the daemon still answers, then stops cleanly.
        let health = reqwest::get(format!("http://{listen}/healthz")).await.unwrap();
        assert_eq!(health.status(), 200, "{inject}");
        d.signal("TERM");
        d.expect("STOPPING=1");
        assert_eq!(d.wait().code(), Some(0), "{inject}");
        let polls = server.hits("/f") - hits_before;
        assert!(
            polls <= 2,
            "{inject}: a poll that cannot be recorded is not retried at once ({polls} fetches)"
        );
        let store = tributary::store::Store::open(&db).unwrap();
        assert_eq!(store.integrity_check().unwrap(), ["ok"], "{inject}");
        let stored = store.entry_count().unwrap();
        assert!(
            stored == 1 || stored == 3,
            "{inject}: a poll is whole or absent ({stored}), run {n}"
        );
    }
    // After the faults: the next poll stores everything.
    let cx = context(&config).await;
    let r = poll_all(&cx, &config).await;
    assert_eq!(r[0].outcome, PollOutcome::Ok, "{r:?}");
    assert_eq!(cx.store.entry_count().unwrap(), 3);
    assert_eq!(cx.store.integrity_check().unwrap(), ["ok"]);
}

/// Without strace, d4 says so in the output of a plain `cargo test`: the
/// test binary is run again, for d4 alone, with a `PATH` that holds no
/// strace, and without `--nocapture`.
#[test]
fn d4_without_strace_says_skipped_in_the_test_output() {
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([D4, "--exact", "--test-threads=1"])
        .env("PATH", empty.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("test {D4} ... ok")),
        "d4 did not run: {stdout}"
    );
    assert!(
        stderr.contains("SKIPPED: d4 (strace fault injection): strace is not installed: install the `strace` package"),
        "the skip is not in the test output: {stderr}"
    );
}

// ---------------------------------------------------------------------------
// E. Service operation

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e1_ready_comes_once_after_the_schema_and_the_listener() {
    let server = FeedServer::start().await;
    server.set("/a.xml", Route::feed("application/rss+xml", FEED));
    let sb = Sandbox::new();
    let config = sb.config(&format!(
        "{}schedule = \"@daily\"\n",
        source_block("s", &server.url("/a.xml"))
    ));
    let mut d = ChildDaemon::start(&config.path, sb.dir.path(), &[], &[]);
    let listen = d.listen();
    let ready = d.expect("READY=1");
    assert!(ready.contains("STATUS=polling 1 sources"), "{ready}");
    // Right after READY=1 the port answers and the schema is current.
    let health = reqwest::get(format!("http://{listen}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let db = rusqlite::Connection::open_with_flags(&config.daemon.database, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let version: i64 = db.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version as usize, tributary::store::schema_version());
    drop(db);
    d.signal("TERM");
    d.expect("STOPPING=1");
    assert_eq!(d.wait().code(), Some(0));
    let readies = d.seen.iter().filter(|m| m.lines().any(|l| l == "READY=1")).count();
    assert_eq!(readies, 1, "{:?}", d.seen);
}

/// Holds exclusive POSIX locks on the WAL read-mark bytes of `shm` (what
/// SQLite's unix VFS locks at offsets 123–127), so that no connection of
/// another process can start a read: the store is wedged until stdin closes.
const WEDGE: &str = r#"
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
for _ in range(200000):
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 5, 123, 0)
        break
    except OSError:
        time.sleep(0.0005)
else:
    sys.exit("the read locks never came free")
print("locked", flush=True)
sys.stdin.read()
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2_watchdog_pings_stop_while_the_store_is_wedged_and_resume_after() {
    let server = FeedServer::start().await;
    server.set("/a.xml", Route::feed("application/rss+xml", FEED));
    let sb = Sandbox::new();
    let config = sb.config(&format!(
        "{}schedule = \"@daily\"\n",
        source_block("s", &server.url("/a.xml"))
    ));
    let mut d = ChildDaemon::start(&config.path, sb.dir.path(), &[], &[("WATCHDOG_USEC", "200000")]);
    d.expect("READY=1");
    d.log("polled");
    for _ in 0..3 {
        d.expect("WATCHDOG=1");
    }
    let shm = format!("{}-shm", config.daemon.database.display());
    let mut wedge = Command::new("python3")
        .args(["-c", WEDGE, &shm])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs the lock holder (scripts/test installs it)");
    let mut line = String::new();
    BufReader::new(wedge.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "locked");
    d.drain();
    // A health check that started before the wedge may still ping once.
    let mut pings = 0;
    let unavailable = loop {
        let msg = d.next();
        if msg.lines().any(|l| l == "WATCHDOG=1") {
            pings += 1;
        }
        if msg.contains("STATUS=database unavailable") {
            break msg;
        }
    };
    assert!(pings <= 1, "{pings} watchdog pings while the database could not answer");
    assert!(
        unavailable.contains(&config.daemon.database.display().to_string()),
        "{unavailable}"
    );
    drop(wedge.stdin.take());
    assert!(wedge.wait().unwrap().success());
    d.expect("WATCHDOG=1");
    d.signal("TERM");
    d.expect("STOPPING=1");
    assert_eq!(d.wait().code(), Some(0));
}

// ---------------------------------------------------------------------------
// F. Load

fn http_date(h: &reqwest::header::HeaderMap, name: &str) -> chrono::DateTime<Utc> {
    let v = h[name].to_str().unwrap();
    chrono::DateTime::parse_from_rfc2822(v)
        .unwrap_or_else(|e| panic!("{name}: {v:?}: {e}"))
        .to_utc()
}

#[tokio::test]
async fn f1_revalidation_gets_an_empty_304_and_a_change_gets_a_new_etag() {
    let server = FeedServer::start().await;
    server.set("/a.xml", Route::feed("application/rss+xml", rss(&[("1", "Prima")])));
    let sb = Sandbox::new();
    let config = sb.config(&format!(
        "{}schedule = \"@daily\"\n",
        source_block("s", &server.url("/a.xml"))
    ));
    let cx = context(&config).await;
    poll_all(&cx, &config).await;
    let daemon = RunningDaemon::start_with(&config, cx.store.clone()).await;
    let url = format!("http://{}/feed.atom", daemon.addr);
    let client = reqwest::Client::new();
    let first = client.get(&url).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let last_modified = first.headers()["last-modified"].to_str().unwrap().to_string();
    let content_type = first.headers()["content-type"].clone();
    assert!(!first.bytes().await.unwrap().is_empty());
    for inm in [
        etag.clone(),
        format!("W/{etag}"),
        "*".to_string(),
        format!("\"other\", {etag}"),
    ] {
        let r = client.get(&url).header("if-none-match", &inm).send().await.unwrap();
        assert_eq!(r.status(), 304, "If-None-Match: {inm}");
        assert_eq!(r.headers()["etag"], etag.as_str(), "a 304 repeats the ETag");
        assert!(r.bytes().await.unwrap().is_empty(), "a 304 has no body");
    }
    let other = client
        .get(&url)
        .header("if-none-match", "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    let head = client.head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["etag"], etag.as_str());
    assert_eq!(head.headers()["last-modified"], last_modified.as_str());
    assert_eq!(head.headers()["content-type"], content_type);

    server.set(
        "/a.xml",
        Route::feed("application/rss+xml", rss(&[("1", "Prima"), ("2", "Seconda")])),
    );
    assert_eq!(poll_all(&cx, &config).await[0].counts.new, 1);
    let changed = client.get(&url).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(changed.status(), 200, "the old ETag no longer matches");
    assert_ne!(changed.headers()["etag"], etag.as_str());
    assert!(changed.text().await.unwrap().contains("Seconda"));
    daemon.stop().await;
}

#[tokio::test]
async fn f2_a_2099_item_does_not_freeze_if_modified_since_clients() {
    let t0 = Utc::now() - TimeDelta::hours(2);
    let item = |guid: &str, title: &str, date: &str| {
        format!(
            "<item><guid>{guid}</guid><title>{title}</title><link>https://f.example.org/{guid}</link><description>testo</description><pubDate>{date}</pubDate></item>"
        )
    };
    let future = item("f", "Dal futuro", "Thu, 01 Jan 2099 00:00:00 +0000");
    let channel = |items: &str| format!("<rss version=\"2.0\"><channel><title>F</title>{items}</channel></rss>");
    let server = FeedServer::start().await;
    server.set("/a.xml", Route::feed("application/rss+xml", channel(&future)));
    let sb = Sandbox::new();
    let config = sb.config(&format!(
        "{}schedule = \"@daily\"\n",
        source_block("s", &server.url("/a.xml"))
    ));
    let cx = context(&config).await;
    // First seen two hours ago.
    let r = pipeline::refresh(&cx, &config.sources[0], t0).await;
    assert_eq!(r.counts.new, 1, "{r:?}");
    let daemon = RunningDaemon::start_with(&config, cx.store.clone()).await;
    let url = format!("http://{}/feed.atom", daemon.addr);
    let client = reqwest::Client::new();
    let first = client.get(&url).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let lm = first.headers()["last-modified"].to_str().unwrap().to_string();
    assert!(!lm.contains("2099"), "{lm}");
    assert!(http_date(first.headers(), "last-modified") <= http_date(first.headers(), "date"));
    let same = client.get(&url).header("if-modified-since", &lm).send().await.unwrap();
    assert_eq!(same.status(), 304, "nothing changed yet");

    // A new item, dated an hour after the first was seen.
    let newer = item("n", "Nuova", &(t0 + TimeDelta::hours(1)).to_rfc2822());
    server.set(
        "/a.xml",
        Route::feed("application/rss+xml", channel(&(future + &newer))),
    );
    let r = pipeline::refresh(&cx, &config.sources[0], Utc::now()).await;
    assert_eq!(r.counts.new, 1, "{r:?}");
    let again = client.get(&url).header("if-modified-since", &lm).send().await.unwrap();
    assert_eq!(again.status(), 200, "the client sees the change");
    assert!(http_date(again.headers(), "last-modified") <= http_date(again.headers(), "date"));
    assert!(http_date(again.headers(), "last-modified") > http_date(first.headers(), "last-modified"));
    assert!(again.text().await.unwrap().contains("Nuova"));
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f4_five_hundred_stalled_half_requests_neither_block_a_fresh_client_nor_stay_open() {
    let server = FeedServer::start().await;
    server.set("/a.xml", Route::feed("application/rss+xml", FEED));
    let sb = Sandbox::new();
    let config = sb.config(&source_block("s", &server.url("/a.xml")));
    let cx = context(&config).await;
    poll_all(&cx, &config).await;
    // The server loop the daemon runs, with a header timeout short enough for a test.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let app = tributary::http::router(tributary::http::AppState::new(
        cx.store.clone(),
        &config,
        Arc::new(tributary::metrics::Metrics::new()),
    ));
    // The 500 stand for clients at as many addresses; here all are 127.0.0.1.
    let limits = tributary::serve::Limits {
        header_read_timeout: Duration::from_secs(3),
        max_connections_per_address: tributary::config::MAX_CONNECTIONS,
        ..tributary::serve::Limits::default()
    };
    tokio::spawn(tributary::serve::serve(listener, app, limits, stop.clone()));
    let mut stalled = Vec::with_capacity(500);
    for _ in 0..500 {
        let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
        c.write_all(b"GET /feed.atom HTTP/1.1\r\nHost: x\r\nAccept: */")
            .await
            .unwrap();
        stalled.push(c);
    }
    let closed = Arc::new(AtomicUsize::new(0));
    let mut watchers = tokio::task::JoinSet::new();
    for mut c in stalled {
        let closed = closed.clone();
        watchers.spawn(async move {
            let mut rest = Vec::new();
            let _ = c.read_to_end(&mut rest).await;
            closed.fetch_add(1, Ordering::SeqCst);
            rest
        });
    }
    let fresh = reqwest::get(format!("http://{addr}/feed.atom")).await.unwrap();
    assert_eq!(fresh.status(), 200);
    assert!(fresh.text().await.unwrap().contains("Uno"));
    assert_eq!(
        closed.load(Ordering::SeqCst),
        0,
        "served while all 500 were still stalled"
    );
    // Every stalled connection is closed by the server, none with a feed.
    while let Some(rest) = watchers.join_next().await {
        let rest = rest.unwrap();
        assert!(
            !String::from_utf8_lossy(&rest).contains("200 OK"),
            "a stalled request was answered"
        );
    }
    assert_eq!(closed.load(Ordering::SeqCst), 500);
    let after = reqwest::get(format!("http://{addr}/healthz")).await.unwrap();
    assert_eq!(after.status(), 200);
    stop.cancel();
}
