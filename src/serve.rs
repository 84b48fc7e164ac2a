//! The HTTP server loop: accepting connections within limits.
//!
//! `axum::serve` sets no header-read timeout and accepts without bound, so
//! a few slow clients could hold sockets forever. This loop serves the axum
//! router over hyper's HTTP/1 connection builder with a header-read timeout,
//! a cap on open connections and a lower one per client address (beyond
//! either, new connections are closed at once, so one client cannot take
//! every slot), a maximum connection lifetime, and graceful shutdown. It
//! knows nothing of feeds: it takes a router and a cancellation token.
//!
//! Readers are served on their own runtime whose threads run at a lower
//! CPU priority (`ReaderRuntime`): when the machine is busy, a crowd of
//! readers slows down instead of starving the poll that brings them news,
//! and when it is idle they get every core.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, warn};

/// Nice value of the reader threads (0 is normal, 19 the lowest priority).
/// The lowest, so that a crowd of readers takes as little as the scheduler
/// allows from a running poll (at nice 10 a 1,000-source poll under 1,000
/// readers took 1.7x as long, see docs/reliability.md); on an otherwise idle
/// machine readers are served at full speed all the same.
const READER_NICE: i32 = 19;

/// The runtime readers are served on: one worker per core, each at
/// [`READER_NICE`]. Lowering one's own priority needs no privilege; where it
/// is refused anyway (a seccomp filter), readers run at normal priority.
/// Dropping it, even inside another runtime, abandons its tasks.
#[derive(Debug)]
pub(crate) struct ReaderRuntime(Option<tokio::runtime::Runtime>);

impl ReaderRuntime {
    /// Starts the runtime's threads.
    pub(crate) fn new() -> std::io::Result<ReaderRuntime> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(std::thread::available_parallelism().map_or(2, usize::from))
            .thread_name("tributary-http")
            .on_thread_start(lower_priority)
            .enable_all()
            .build()?;
        Ok(ReaderRuntime(Some(rt)))
    }

    /// Runs `task` on the reader threads.
    pub(crate) fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.0 {
            Some(rt) => rt.spawn(task),
            None => tokio::spawn(task),
        }
    }
}

impl Drop for ReaderRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// Lowers the calling thread's CPU priority (Linux: nice applies per thread).
fn lower_priority() {
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), READER_NICE) {
        debug!("reader threads keep normal priority: setpriority refused ({e})");
    }
}

/// Limits of the server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time a client has to send its request headers. hyper starts it as
    /// soon as a connection waits for its next request, so on a keep-alive
    /// connection it is also the idle time allowed between requests.
    pub header_read_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
    /// Most connections open at once from one client address (IPv6: one
    /// /64, the block a single host is usually given).
    pub max_connections_per_address: usize,
    /// Longest life of one (keep-alive) connection.
    pub max_connection_age: Duration,
    /// Time given to open connections to finish after shutdown begins.
    pub drain: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // nginx allows 60 s for headers and 75 s idle; 10 s cut off
            // readers that were merely slow under load (a reader that took
            // over 10 s to take in a 360 KB page had its connection closed
            // before its next request, scripts/load-test), and the
            // connection cap, not this timeout, is what bounds a slowloris.
            header_read_timeout: Duration::from_secs(30),
            max_connections: crate::config::MAX_CONNECTIONS,
            max_connections_per_address: crate::config::DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
            max_connection_age: Duration::from_secs(600),
            drain: Duration::from_secs(2),
        }
    }
}

/// The client a connection is counted against: its IP address, an
/// IPv4-mapped IPv6 address as the IPv4 address it is (a dual-stack
/// listener sees IPv4 clients so), and an IPv6 address as its /64.
fn client_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
        v4 => v4,
    }
}

/// Open connections per client, within a limit.
#[derive(Debug)]
struct PerClient {
    limit: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl PerClient {
    fn new(limit: usize) -> Arc<PerClient> {
        Arc::new(PerClient {
            limit,
            open: Mutex::new(HashMap::new()),
        })
    }

    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for one more connection of `client`, or `None` when it holds
    /// its limit already.
    fn acquire(self: &Arc<Self>, client: IpAddr) -> Option<ClientSlot> {
        let mut open = self.open();
        let n = open.get(&client).copied().unwrap_or(0);
        if n >= self.limit {
            return None;
        }
        open.insert(client, n + 1);
        Some(ClientSlot {
            table: self.clone(),
            client,
        })
    }
}

/// One open connection of a client; dropping it gives the slot back, and a
/// client with no connection left leaves the table.
#[derive(Debug)]
struct ClientSlot {
    table: Arc<PerClient>,
    client: IpAddr,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.table.open();
        if let Some(n) = open.get_mut(&self.client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.client);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` is cancelled.
pub async fn serve(listener: TcpListener, app: Router, limits: Limits, shutdown: CancellationToken) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let per_client = PerClient::new(limits.max_connections_per_address);
    let tracker = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: back off a little
                // instead of spinning.
                warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let client = client_of(peer.ip());
        let Some(client_slot) = per_client.acquire(client) else {
            debug!(%peer, %client, "per-address connection limit reached; closing the new connection");
            drop(stream);
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            debug!(%peer, "connection limit reached; closing the new connection");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let stop = shutdown.clone();
        tracker.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .keep_alive(true);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let age = tokio::time::sleep(limits.max_connection_age);
            tokio::pin!(age);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        debug!(%peer, "connection ended: {e}");
                    }
                }
                _ = stop.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(limits.drain, conn.as_mut()).await;
                }
                _ = &mut age => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(limits.drain, conn.as_mut()).await;
                }
            }
            drop(slot);
            drop(client_slot);
        });
    }
    tracker.close();
    let _ = tokio::time::timeout(limits.drain, tracker.wait()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_its_ipv4_address_or_its_ipv6_slash_64() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("an address");
        assert_eq!(client_of(ip("192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(client_of(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(client_of(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")), ip("2001:db8:1:2::"));
        assert_eq!(client_of(ip("2001:db8:1:2::1")), client_of(ip("2001:db8:1:2:ffff::9")));
        assert_ne!(client_of(ip("2001:db8:1:2::1")), client_of(ip("2001:db8:1:3::1")));
        assert_eq!(client_of(ip("::1")), ip("::"));
    }

    #[test]
    fn per_address_slots_are_given_back_when_connections_end() {
        let table = PerClient::new(2);
        let (a, b) = (IpAddr::from([127, 0, 0, 1]), IpAddr::from([127, 0, 0, 2]));
        let first = table.acquire(a).expect("first");
        let second = table.acquire(a).expect("second");
        assert!(table.acquire(a).is_none(), "a third from the same address is refused");
        let other = table.acquire(b).expect("another address has its own slots");
        drop(first);
        let again = table.acquire(a).expect("a slot given back is free again");
        let none = PerClient::new(0);
        assert!(none.acquire(a).is_none());
        assert!(none.open().is_empty(), "a refusal leaves nothing behind");
        drop((second, again, other));
        assert!(table.open().is_empty(), "addresses with no connection leave the table");
    }

    #[test]
    fn reader_threads_run_at_reader_nice() {
        let before = rustix::process::getpriority_process(Some(rustix::thread::gettid())).expect("own priority");
        let rt = ReaderRuntime::new().expect("reader runtime");
        let (tx, rx) = std::sync::mpsc::channel();
        rt.spawn(async move {
            let _ = tx.send(rustix::process::getpriority_process(Some(rustix::thread::gettid())));
        });
        let on_reader = rx.recv().expect("the task ran").expect("reader priority");
        // Raising nice never fails, so a reader thread is at READER_NICE
        // unless the caller was already lower than that.
        assert_eq!(on_reader, READER_NICE.max(before));
        let after = rustix::process::getpriority_process(Some(rustix::thread::gettid())).expect("own priority");
        assert_eq!(after, before, "only the reader threads are lowered");
    }
}
