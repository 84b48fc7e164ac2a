//! Test harness: a local feed server on 127.0.0.1:0 that records what it was
//! sent, a scripted server whose answers a closure decides, a listener that
//! only counts connections, temporary config files, and a way to run the
//! real pipeline.
#![allow(dead_code, clippy::unwrap_used, missing_docs)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::Response;
use tributary::config::{self, Config};
use tributary::model::PollReport;
use tributary::pipeline::{self, Context};
use tributary::store::Store;

/// What the server answers on one path.
#[derive(Clone, Debug)]
pub struct Route {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    /// When set, the server sends this ETag and answers 304 to a matching If-None-Match.
    pub etag: Option<String>,
}

impl Route {
    pub fn feed(content_type: &str, body: impl Into<Vec<u8>>) -> Route {
        Route {
            status: 200,
            content_type: content_type.into(),
            body: body.into(),
            etag: None,
        }
    }
    pub fn with_etag(mut self, etag: &str) -> Route {
        self.etag = Some(etag.into());
        self
    }
    pub fn status(status: u16) -> Route {
        Route {
            status,
            content_type: "text/plain".into(),
            body: b"error".to_vec(),
            etag: None,
        }
    }
}

/// One request the server saw.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub headers: HeaderMap,
    pub answered: u16,
}

#[derive(Default)]
struct Inner {
    routes: HashMap<String, Route>,
    seen: Vec<Seen>,
    notify: Arc<tokio::sync::Notify>,
}

/// A feed server on loopback.
#[derive(Clone)]
pub struct FeedServer {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

async fn answer(State(inner): State<Arc<Mutex<Inner>>>, req: Request<Body>) -> Response {
    let path = req.uri().path().to_string();
    let mut g = inner.lock().unwrap();
    let route = g.routes.get(&path).cloned();
    let (status, resp) = match route {
        None => (
            404,
            Response::builder().status(404).body(Body::from("not found")).unwrap(),
        ),
        Some(r) => {
            let matches = r.etag.as_ref().is_some_and(|e| {
                req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(e.as_str())
            });
            if matches {
                (304, Response::builder().status(304).body(Body::empty()).unwrap())
            } else {
                let mut b = Response::builder()
                    .status(StatusCode::from_u16(r.status).unwrap())
                    .header(header::CONTENT_TYPE, r.content_type.clone());
                if let Some(e) = &r.etag {
                    b = b.header(header::ETAG, e.clone());
                }
                (r.status, b.body(Body::from(r.body.clone())).unwrap())
            }
        }
    };
    g.seen.push(Seen {
        path,
        headers: req.headers().clone(),
        answered: status,
    });
    g.notify.notify_waiters();
    resp
}

impl FeedServer {
    pub async fn start() -> FeedServer {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().fallback(answer).with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FeedServer { addr, inner }
    }

    pub fn set(&self, path: &str, route: Route) {
        self.inner.lock().unwrap().routes.insert(path.into(), route);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Waits until the server has answered `n` requests for `path`.
    pub async fn wait_for(&self, path: &str, n: usize) {
        loop {
            let notify = self.inner.lock().unwrap().notify.clone();
            let notified = notify.notified();
            if self.seen(path).len() >= n {
                return;
            }
            notified.await;
        }
    }

    pub fn seen(&self, path: &str) -> Vec<Seen> {
        self.inner
            .lock()
            .unwrap()
            .seen
            .iter()
            .filter(|s| s.path == path)
            .cloned()
            .collect()
    }
}

type Hits = Arc<Mutex<HashMap<String, usize>>>;
type Script = Arc<dyn Fn(&str, usize, &Request<Body>) -> Response + Send + Sync>;

/// A server whose every answer is decided by a closure, called with the
/// path, which request for that path this is (from 1) and the request;
/// it counts requests per path.
#[derive(Clone)]
pub struct Scripted {
    pub addr: SocketAddr,
    hits: Hits,
}

async fn script_handler(State((script, hits)): State<(Script, Hits)>, req: Request<Body>) -> Response {
    let path = req.uri().path().to_string();
    let n = {
        let mut h = hits.lock().unwrap();
        let n = h.entry(path.clone()).or_default();
        *n += 1;
        *n
    };
    script(&path, n, &req)
}

impl Scripted {
    /// Serves the script on `ip`, port chosen by the system.
    pub async fn start(
        ip: &str,
        script: impl Fn(&str, usize, &Request<Body>) -> Response + Send + Sync + 'static,
    ) -> Scripted {
        let listener = tokio::net::TcpListener::bind(format!("{ip}:0")).await.unwrap();
        Scripted::on(listener, script)
    }

    /// Serves the script on a listener already bound.
    pub fn on(
        listener: tokio::net::TcpListener,
        script: impl Fn(&str, usize, &Request<Body>) -> Response + Send + Sync + 'static,
    ) -> Scripted {
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let addr = listener.local_addr().unwrap();
        let script: Script = Arc::new(script);
        let app = Router::new()
            .fallback(script_handler)
            .with_state((script, hits.clone()));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Scripted { addr, hits }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// How many requests for `path` the server has answered so far.
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

/// A response with the given status, headers and body, for scripts.
pub fn respond(status: u16, headers: &[(&str, &str)], body: impl Into<Body>) -> Response {
    let mut b = Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(body.into()).unwrap()
}

/// A raw TCP listener that only counts connections: proof that nothing reached it.
pub async fn connection_counter_on(listener: tokio::net::TcpListener) -> (SocketAddr, Arc<AtomicUsize>) {
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        while let Ok((_s, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
        }
    });
    (addr, count)
}

/// [`connection_counter_on`] a new listener on `ip`, port chosen by the system.
pub async fn connection_counter(ip: &str) -> (SocketAddr, Arc<AtomicUsize>) {
    connection_counter_on(tokio::net::TcpListener::bind(format!("{ip}:0")).await.unwrap()).await
}

/// Says, in the test output, that a test could not run here and why:
/// `SKIPPED: <test>: <why>` on a line of its own on stderr. It is written to
/// the stderr handle rather than with `eprintln!`, which the test harness
/// captures and shows only for failing tests, so a skip would pass unseen.
pub fn report_skip(test: &str, why: &str) {
    use std::io::Write as _;
    // The harness may be in the middle of its `test NAME ... ` line.
    let _ = writeln!(std::io::stderr(), "\nSKIPPED: {test}: {why}");
}

/// A temporary folder holding a config file and its database.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `tributary.toml` with the given `[[source]]` blocks after a
    /// loopback-only `[daemon]` section.
    pub fn config(&self, sources: &str) -> Config {
        self.config_with("", sources)
    }

    /// Like [`Sandbox::config`], with extra `[daemon]` lines (which override the defaults).
    pub fn config_with(&self, daemon: &str, sources: &str) -> Config {
        let mut lines: Vec<String> = vec![
            "database = \"t.db\"".into(),
            "listen = \"127.0.0.1:0\"".into(),
            "jitter = \"0s\"".into(),
            "timeout = \"10s\"".into(),
            "allow_private_addresses = true".into(),
        ];
        for extra in daemon.lines().filter(|l| !l.trim().is_empty()) {
            let key = extra.split('=').next().unwrap().trim();
            lines.retain(|l| l.split('=').next().unwrap().trim() != key);
            lines.push(extra.to_string());
        }
        let text = format!(
            "[daemon]\n{}\n\n[feed]\ntitle = \"Test\"\nbase_url = \"http://127.0.0.1:8080/\"\n\n{sources}",
            lines.join("\n")
        );
        let path = self.path("tributary.toml");
        std::fs::write(&path, text).unwrap();
        config::load(&path).unwrap()
    }
}

pub fn source_block(name: &str, url: &str) -> String {
    format!("[[source]]\nname = \"{name}\"\nurl = \"{url}\"\n\n")
}

pub async fn context(config: &Config) -> Context {
    let store = tributary::daemon::open_store(config).await.unwrap();
    tributary::daemon::context(config, store).unwrap()
}

/// Polls every source of the config once, in order.
pub async fn poll_all(cx: &Context, config: &Config) -> Vec<PollReport> {
    let mut out = vec![];
    for s in &config.sources {
        out.push(pipeline::refresh(cx, s, chrono::Utc::now()).await);
    }
    out
}

pub fn render(store: &Store, config: &Config, format: tributary::publish::Format) -> String {
    let all = tributary::config::OutputConfig::all();
    tributary::outputs::render(store, &config.feed, &all, format, 1, chrono::Utc::now())
        .unwrap()
        .body
}

pub fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

pub const ITALIAN_TITLE: &str = "L’Alleanza Sino-Russa non è un fenomeno passeggero…";

/// A daemon running in this process on a loopback port.
pub struct RunningDaemon {
    pub addr: SocketAddr,
    pub store: Arc<Store>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningDaemon {
    /// Opens the config's store, binds its listener and runs the daemon.
    pub async fn start(config: &Config) -> RunningDaemon {
        let store = tributary::daemon::open_store(config).await.unwrap();
        Self::start_with(config, store).await
    }

    /// Runs the daemon over an already open store.
    pub async fn start_with(config: &Config, store: Arc<Store>) -> RunningDaemon {
        let listener = tributary::daemon::bind(config).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(tributary::daemon::run_with(
            config.clone(),
            store.clone(),
            listener,
            async move {
                let _ = rx.await;
            },
        ));
        RunningDaemon {
            addr,
            store,
            stop: Some(tx),
            task,
        }
    }

    /// Stops it the way SIGTERM does and waits until it has finished.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        (&mut self.task).await.unwrap().unwrap();
    }
}

/// A forward proxy on 127.0.0.1 that records the head of every request it
/// is sent and answers each with `feed` (RSS), so that a client that went
/// through it would succeed.
pub async fn recording_proxy(feed: &'static str) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
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
                    "HTTP/1.1 200 OK\r\ncontent-type: application/rss+xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{feed}",
                    feed.len()
                );
                let _ = s.write_all(answer.as_bytes()).await;
                let _ = s.shutdown().await;
            });
        }
    });
    (addr, heads)
}

/// The `tributary` binary with `args`, then `--config CONFIG`, and neither a
/// config path nor a state directory taken from the environment.
pub fn tributary_command(args: &[&str], config: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_tributary"));
    c.args(args)
        .arg("--config")
        .arg(config)
        .env_remove("TRIBUTARY_CONFIG")
        .env_remove("STATE_DIRECTORY");
    c
}

/// Runs [`tributary_command`] off the async threads and returns its output.
pub async fn tributary_output(args: &[&str], config: &Path) -> std::process::Output {
    let mut c = tributary_command(args, config);
    tokio::task::spawn_blocking(move || c.output().unwrap()).await.unwrap()
}

/// The body of a GET of `url`, as text.
pub async fn get_text(client: &reqwest::Client, url: &str) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}
