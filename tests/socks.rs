//! SOCKS5 proxies: `proxy = "socks5://…"` and `"socks5h://…"` carry a
//! source's requests, and the address guard still runs first. The proxy is
//! a minimal SOCKS5 server written here (no authentication, CONNECT only)
//! on 127.0.0.1 that records each target it is asked for and relays.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const FEED: &str = "<rss version=\"2.0\"><channel><title>S</title><item><guid>1</guid><title>Via SOCKS</title><link>https://s.example.org/1</link><description>testo</description></item></channel></rss>";

/// A SOCKS5 server on `ip` (in 127.0.0.0/8): its address and the targets
/// (`host:port`, as asked for) of the CONNECT requests it received.
async fn socks5_server(ip: &str) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind(format!("{ip}:0")).await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let targets = Arc::new(Mutex::new(Vec::new()));
    let seen = targets.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let _ = relay(client, seen).await;
            });
        }
    });
    (addr, targets)
}

/// One SOCKS5 conversation (RFC 1928): greeting, CONNECT, relay.
async fn relay(mut client: TcpStream, seen: Arc<Mutex<Vec<String>>>) -> std::io::Result<()> {
    let mut head = [0u8; 2];
    client.read_exact(&mut head).await?;
    let mut methods = vec![0u8; usize::from(head[1])];
    client.read_exact(&mut methods).await?;
    assert_eq!(head[0], 5, "SOCKS version");
    assert!(methods.contains(&0), "the client offers no authentication");
    client.write_all(&[5, 0]).await?;
    let mut request = [0u8; 4];
    client.read_exact(&mut request).await?;
    assert_eq!(request[..3], [5, 1, 0], "a CONNECT request");
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip).await?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            client.read_exact(&mut len).await?;
            let mut name = vec![0u8; usize::from(len[0])];
            client.read_exact(&mut name).await?;
            String::from_utf8(name).unwrap()
        }
        4 => {
            let mut ip = [0u8; 16];
            client.read_exact(&mut ip).await?;
            format!("[{}]", std::net::Ipv6Addr::from(ip))
        }
        other => panic!("address type {other}"),
    };
    let mut port = [0u8; 2];
    client.read_exact(&mut port).await?;
    let target = format!("{host}:{}", u16::from_be_bytes(port));
    seen.lock().unwrap().push(target.clone());
    let mut upstream = TcpStream::connect(target.as_str()).await?;
    client.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

#[tokio::test]
async fn a_daemon_socks5_proxy_carries_the_request_to_the_address_resolved_here() {
    let server = FeedServer::start().await;
    server.set("/s.xml", Route::feed("application/rss+xml", FEED));
    let (proxy, targets) = socks5_server("127.0.0.1").await;
    let sb = Sandbox::new();
    let config = sb.config_with(
        &format!("proxy = \"socks5://{proxy}\""),
        &source_block("via-socks", &server.url("/s.xml").replace("127.0.0.1", "localhost")),
    );
    let cx = context(&config).await;
    let reports = poll_all(&cx, &config).await;
    assert!(!reports[0].failed(), "{reports:?}");
    assert_eq!(reports[0].counts.new, 1);
    assert_eq!(cx.store.entry_count().unwrap(), 1);
    // socks5: the name was resolved here, the proxy was given an address.
    let port = server
        .url("/")
        .split(':')
        .nth(2)
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    let asked = targets.lock().unwrap().clone();
    assert!(
        asked
            .iter()
            .all(|t| t == &format!("127.0.0.1:{port}") || t == &format!("[::1]:{port}"))
            && !asked.is_empty(),
        "{asked:?}"
    );
    assert_eq!(server.seen("/s.xml").len(), 1);
}

#[tokio::test]
async fn a_source_socks5h_proxy_is_given_the_name_and_the_guard_still_checks_it_first() {
    let (server, other) = (FeedServer::start().await, FeedServer::start().await);
    server.set("/s.xml", Route::feed("application/rss+xml", FEED));
    other.set("/s.xml", Route::feed("application/rss+xml", FEED));
    let (proxy, targets) = socks5_server("127.0.0.2").await;
    let sb = Sandbox::new();
    let by_name = |s: &FeedServer| s.url("/s.xml").replace("127.0.0.1", "localhost");
    // A feed by name through the proxy, allowed; another refused: its
    // source allows the proxy's own address (127.0.0.2) only, not the
    // feed's (localhost, 127.0.0.1).
    let config = sb.config(&format!(
        "{}proxy = \"socks5h://{proxy}\"\n\n{}proxy = \"socks5h://{proxy}\"\nallow_private_addresses = [\"127.0.0.2/32\"]\n",
        source_block("allowed", &by_name(&server)),
        source_block("refused", &by_name(&other)),
    ));
    let cx = context(&config).await;
    let reports = poll_all(&cx, &config).await;
    assert!(!reports[0].failed(), "{reports:?}");
    assert_eq!(cx.store.entry_count().unwrap(), 1);
    let port = |s: &FeedServer| s.url("/").split(':').nth(2).unwrap().trim_end_matches('/').to_string();
    let asked = targets.lock().unwrap().clone();
    assert!(!asked.is_empty(), "the proxy was not used");
    assert!(
        asked.iter().all(|t| t == &format!("localhost:{}", port(&server))),
        "socks5h hands the name on, and only the allowed one: {asked:?}"
    );

    let refused = &reports[1];
    assert!(refused.failed(), "{refused:?}");
    let error = refused.error.clone().unwrap_or_default();
    assert!(
        error.contains("localhost resolves to") && error.contains("loopback"),
        "{error}"
    );
    assert!(other.seen("/s.xml").is_empty());
}
