//! Operating the daemon as a service: the sd_notify protocol, SIGHUP
//! reloads, SIGTERM during a poll, /metrics, OPML. The daemon runs as a
//! child process with a fake NOTIFY_SOCKET (a Unix datagram socket here).
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::*;

/// How long to wait for the child to say something before failing the test
/// (a guard against hanging, not a performance assertion).
const PATIENCE: Duration = Duration::from_secs(30);

struct Daemon {
    child: Child,
    socket: UnixDatagram,
    stderr: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Daemon {
    fn start(config: &Path, dir: &Path) -> Daemon {
        Daemon::start_with_stderr(config, dir, None)
    }

    /// Starts the daemon with its stderr written to `log` when given (its
    /// log lines are then not read by [`Daemon::log_line`]).
    fn start_with_stderr(config: &Path, dir: &Path, log: Option<std::fs::File>) -> Daemon {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        socket.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tributary"))
            .args(["run", "--config"])
            .arg(config)
            .env("NOTIFY_SOCKET", &path)
            .env("WATCHDOG_USEC", "300000")
            .env("RUST_LOG", "info")
            .env_remove("TRIBUTARY_CONFIG")
            .env_remove("STATE_DIRECTORY")
            .env_remove("NO_COLOR")
            .stdout(Stdio::null())
            .stderr(log.map(Stdio::from).unwrap_or_else(Stdio::piped))
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        if let Some(stderr) = child.stderr.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        return;
                    }
                }
            });
        }
        Daemon {
            child,
            socket,
            stderr: rx,
            seen: vec![],
        }
    }

    /// Reads notifications until one contains `what`; returns that message.
    fn expect(&mut self, what: &str) -> String {
        let mut buf = vec![0u8; 4096];
        loop {
            let n = self
                .socket
                .recv(&mut buf)
                .unwrap_or_else(|e| panic!("no {what:?} from the daemon ({e}); saw {:?}", self.seen));
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            self.seen.push(msg.clone());
            if msg.lines().any(|l| l == what || l.starts_with(what)) {
                return msg;
            }
        }
    }

    /// Reads log lines until one contains `what`.
    fn log_line(&mut self, what: &str) -> String {
        loop {
            let line = self
                .stderr
                .recv_timeout(PATIENCE)
                .unwrap_or_else(|_| panic!("no log line containing {what:?}"));
            if line.contains(what) {
                return line;
            }
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig}");
    }

    fn wait(mut self) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(std::time::Instant::now() < deadline, "the daemon did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn rss(title: &str) -> String {
    format!(
        "<rss version=\"2.0\"><channel><title>F</title><item><guid>{title}</guid><title>{title}</title><link>https://f.example.org/{title}</link><description>testo di {title}</description></item></channel></rss>"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_protocol_and_sighup_reloads_good_and_bad_configs() {
    let server = FeedServer::start().await;
    server.set("/a.xml", Route::feed("application/rss+xml", rss("uno")));
    server.set("/b.xml", Route::feed("application/rss+xml", rss("due")));
    let sb = Sandbox::new();
    let config = sb.config(&format!(
        "{}schedule = \"@daily\"\n",
        source_block("fonte-a", &server.url("/a.xml"))
    ));
    let mut d = Daemon::start(&config.path, sb.dir.path());

    let running = d.log_line("tributary is running");
    // Without colour codes, whatever the log format decided for a pipe.
    let mut plain = String::new();
    let mut chars = running.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| c.is_ascii_alphabetic());
        } else {
            plain.push(c);
        }
    }
    let listen = plain
        .split("listen=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .to_string();
    let ready = d.expect("READY=1");
    assert!(ready.contains("STATUS=polling 1 sources"), "{ready}");
    d.expect("WATCHDOG=1");
    server.wait_for("/a.xml", 1).await;
    let output_status = || async {
        reqwest::get(format!("http://{listen}/outputs/nuove.atom"))
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(output_status().await, 404);

    // A good edit: a new source is polled, the removed one stops, a new
    // output is served.
    std::fs::write(
        &config.path,
        std::fs::read_to_string(&config.path)
            .unwrap()
            .replace("fonte-a", "fonte-b")
            .replace("/a.xml", "/b.xml")
            + "\n[[output]]\nname = \"nuove\"\n",
    )
    .unwrap();
    d.signal("HUP");
    let reloading = d.expect("RELOADING=1");
    assert!(reloading.contains("MONOTONIC_USEC="), "{reloading}");
    d.expect("READY=1");
    d.log_line("configuration reloaded");
    server.wait_for("/b.xml", 1).await;
    assert_eq!(output_status().await, 200, "a reload serves the outputs it adds");

    // A broken edit: logged with its position, the old config keeps running.
    std::fs::write(&config.path, "[daemon]\nlisten = \"127.0.0.1:0\"\nshedule = \"oops\"\n").unwrap();
    d.signal("HUP");
    let line = d.log_line("keeping the old one");
    assert!(line.contains("invalid"), "{line}");
    let pos = d.log_line("tributary.toml:3:1");
    assert!(pos.contains("unknown field `shedule`"), "{pos}");
    d.expect("READY=1");

    d.signal("TERM");
    d.expect("STOPPING=1");
    assert_eq!(d.wait().code(), Some(0));
    assert_eq!(
        server.seen("/a.xml").len(),
        1,
        "the removed source was not polled again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_added_with_add_is_polled_after_sighup() {
    let server = FeedServer::start().await;
    server.set("/a.xml", Route::feed("application/rss+xml", rss("uno")));
    server.set(
        "/",
        Route::feed(
            "text/html",
            format!(
                "<html><head><link rel=\"alternate\" type=\"application/rss+xml\" href=\"{}\"></head></html>",
                server.url("/nuovo.xml")
            ),
        ),
    );
    server.set("/nuovo.xml", Route::feed("application/rss+xml", rss("nuovo")));
    let sb = Sandbox::new();
    let config = sb.config(&format!(
        "{}schedule = \"@daily\"\n",
        source_block("fonte-a", &server.url("/a.xml"))
    ));
    let mut d = Daemon::start(&config.path, sb.dir.path());
    d.expect("READY=1");
    server.wait_for("/a.xml", 1).await;

    let path = config.path.clone();
    let page = server.url("/");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_tributary"))
            .args(["add", &page, "--name", "nuovo", "--config"])
            .arg(&path)
            .env_remove("TRIBUTARY_CONFIG")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        server.seen("/nuovo.xml").len() == 1,
        "add fetched the feed once to check it"
    );

    d.signal("HUP");
    d.expect("RELOADING=1");
    d.expect("READY=1");
    d.log_line("configuration reloaded");
    server.wait_for("/nuovo.xml", 2).await;

    d.signal("TERM");
    d.expect("STOPPING=1");
    assert_eq!(d.wait().code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_written_to_a_file_or_a_pipe_carry_no_colour_codes() {
    let server = FeedServer::start().await;
    server.set("/a.xml", Route::feed("application/rss+xml", rss("uno")));
    server.set("/bad.xml", Route::status(500));
    let sb = Sandbox::new();
    let config = sb.config(
        &(format!(
            "{}schedule = \"@daily\"\n",
            source_block("buona", &server.url("/a.xml"))
        ) + &format!(
            "{}schedule = \"@daily\"\n",
            source_block("rotta", &server.url("/bad.xml"))
        )),
    );

    // `run > file 2>&1`: stderr is a file.
    let log = sb.path("run.log");
    let file = std::fs::File::create(&log).unwrap();
    let mut d = Daemon::start_with_stderr(&config.path, sb.dir.path(), Some(file));
    d.expect("READY=1");
    server.wait_for("/bad.xml", 1).await;
    d.signal("TERM");
    d.expect("STOPPING=1");
    assert_eq!(d.wait().code(), Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("INFO"), "the daemon logged: {text:?}");
    assert!(!text.contains("\x1b["), "colour codes in a log file: {text:?}");

    // `poll 2>&1 | less`: stderr is a pipe.
    let out = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(["poll", "--force", "--config"])
        .arg(&config.path)
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .env_remove("TRIBUTARY_CONFIG")
        .env_remove("STATE_DIRECTORY")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("WARN"), "the failing source was logged: {err:?}");
    assert!(!err.contains("\x1b["), "colour codes in a piped log: {err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_slow_poll_exits_cleanly_with_an_intact_database() {
    use axum::body::Body;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (started_tx, mut started_rx) = tokio::sync::mpsc::channel::<()>(4);
    let app = axum::Router::new().fallback(move || {
        let started = started_tx.clone();
        async move {
            let _ = started.send(()).await;
            let stream = futures_util::stream::unfold(0u32, |n| async move {
                if n > 600 {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                Some((Ok::<_, std::io::Error>(vec![b' ']), n + 1))
            });
            axum::response::Response::builder()
                .header("content-type", "application/rss+xml")
                .body(Body::from_stream(stream))
                .unwrap()
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let sb = Sandbox::new();
    let config = sb.config_with(
        "timeout = \"120s\"",
        &source_block("lenta", &format!("http://{addr}/slow.xml")),
    );
    let mut d = Daemon::start(&config.path, sb.dir.path());
    d.expect("READY=1");
    started_rx.recv().await.unwrap();
    d.signal("TERM");
    d.expect("STOPPING=1");
    let status = d.wait();
    assert_eq!(status.code(), Some(0));
    let store = tributary::store::Store::open(&config.daemon.database).unwrap();
    assert_eq!(store.integrity_check().unwrap(), vec!["ok".to_string()]);
    assert_eq!(store.entry_count().unwrap(), 0, "nothing half-committed");
}

#[tokio::test]
async fn metrics_parse_and_carry_per_source_labels() {
    let server = FeedServer::start().await;
    server.set("/a.xml", Route::feed("application/rss+xml", rss("uno")));
    server.set("/bad.xml", Route::status(500));
    let sb = Sandbox::new();
    let config = sb.config(
        &(format!(
            "{}schedule = \"@daily\"\n",
            source_block("buona", &server.url("/a.xml"))
        ) + &format!(
            "{}schedule = \"@daily\"\n",
            source_block("rotta", &server.url("/bad.xml"))
        )),
    );
    let daemon = RunningDaemon::start(&config).await;
    let addr = daemon.addr;
    server.wait_for("/a.xml", 1).await;
    server.wait_for("/bad.xml", 1).await;
    let client = reqwest::Client::new();
    // The poll metrics are recorded when the poll ends; scrape until both are in.
    let mut text = String::new();
    for _ in 0..500 {
        client.get(format!("http://{addr}/feed.atom")).send().await.unwrap();
        text = get_text(&client, &format!("http://{addr}/metrics")).await;
        if text.contains("source=\"buona\",outcome=\"ok\"") && text.contains("source=\"rotta\",outcome=\"http-status\"")
        {
            break;
        }
        tokio::task::yield_now().await;
    }
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("bad line {line:?}"));
        assert!(value.parse::<f64>().is_ok(), "bad value in {line:?}");
        let name = series.split('{').next().unwrap();
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "bad name in {line:?}"
        );
        if let Some(labels) = series.strip_prefix(name) {
            assert!(
                labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')),
                "{line:?}"
            );
        }
    }
    assert!(
        text.contains("tributary_polls_total{source=\"buona\",outcome=\"ok\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("tributary_polls_total{source=\"rotta\",outcome=\"http-status\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("tributary_source_consecutive_failures{source=\"rotta\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("tributary_poll_duration_seconds_bucket{le=\"+Inf\",source=\"buona\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("tributary_http_requests_total{route=\"/feed.atom\",status=\"200\"}"),
        "{text}"
    );
    assert!(text.contains("tributary_entries 1"), "{text}");
    daemon.stop().await;
}

#[test]
fn opml_round_trip_through_the_command_line() {
    let sb = Sandbox::new();
    let opml = sb.path("subs.opml");
    std::fs::write(
        &opml,
        r#"<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
        <outline text="Esteri"><outline type="rss" text="ANSA Mondo" xmlUrl="https://www.ansa.example.it/mondo.xml"/></outline>
        <outline type="rss" text="Il Post" xmlUrl="https://www.ilpost.example.it/feed/"/></body></opml>"#,
    )
    .unwrap();
    let config = sb.path("t.toml");
    std::fs::write(&config, "[feed]\ntitle = \"Mine\"\n").unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_tributary"))
            .args(args)
            .arg("--config")
            .arg(&config)
            .env_remove("TRIBUTARY_CONFIG")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let blocks = run(&["import-opml", opml.to_str().unwrap()]);
    assert!(
        blocks.contains("name = \"ansa-mondo\"") && blocks.contains("tags = [\"esteri\"]"),
        "{blocks}"
    );
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&blocks);
    std::fs::write(&config, text).unwrap();
    run(&["check"]);
    let exported = run(&["export-opml"]);
    let back = tributary::opml::parse(&exported, "exported").unwrap();
    let urls: Vec<_> = back.iter().map(|o| o.xml_url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://www.ansa.example.it/mondo.xml",
            "https://www.ilpost.example.it/feed/"
        ]
    );
    assert_eq!(back[0].folders, ["esteri"]);
}

#[test]
fn db_backup_vacuum_and_prune() {
    let sb = Sandbox::new();
    let config = sb.config("");
    let run = |args: &[&str]| tributary_command(args, &config.path).output().unwrap();
    let backup = sb.path("backup.db");
    let out = run(&["db", "backup", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        tributary::store::Store::open(&backup)
            .unwrap()
            .integrity_check()
            .unwrap()
            == ["ok"]
    );
    let again = run(&["db", "backup", backup.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert!(run(&["db", "vacuum"]).status.success());
    let check = run(&["db", "check"]);
    assert!(check.status.success());
    assert!(String::from_utf8_lossy(&check.stdout).ends_with(": ok\n"));
    let out = run(&["db", "prune"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("pruned 0 entries older than 90 days"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_fixed_in_the_config_is_polled_afresh_after_sighup_despite_its_backoff() {
    // `/private.xml` needs the right key; `/broken.xml` always fails.
    let server = Scripted::start("127.0.0.1", |path, _, req| {
        let key = req.headers().get("x-key").and_then(|v| v.to_str().ok());
        match (path, key) {
            ("/fixed.xml", _) => respond(200, &[("content-type", "application/rss+xml")], rss("riparata")),
            ("/private.xml", Some("right")) => respond(200, &[("content-type", "application/rss+xml")], rss("privata")),
            _ => respond(500, &[], "guasto"),
        }
    })
    .await;
    let sb = Sandbox::new();
    let config = sb.config(&format!(
        "{}{}headers = {{ \"X-Key\" = \"wrong\" }}\n",
        source_block("url-fix", &server.url("/broken.xml")),
        source_block("header-fix", &server.url("/private.xml"))
    ));
    // Three failed polls: each source waits hours before the next.
    for _ in 0..3 {
        let out = tributary_output(&["poll"], &config.path).await;
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    }
    let failures = |name: &str| -> (i64, Option<String>) {
        let db = rusqlite::Connection::open(&config.daemon.database).unwrap();
        db.query_row(
            "SELECT consecutive_failures, last_error FROM sources WHERE name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    assert_eq!(failures("url-fix").0, 3);
    assert_eq!(failures("header-fix").0, 3);

    let mut d = Daemon::start(&config.path, sb.dir.path());
    d.expect("READY=1");
    std::fs::write(
        &config.path,
        std::fs::read_to_string(&config.path)
            .unwrap()
            .replace("/broken.xml", "/fixed.xml")
            .replace("\"wrong\"", "\"right\""),
    )
    .unwrap();
    d.signal("HUP");
    d.expect("RELOADING=1");
    d.expect("READY=1");
    let afresh = [d.log_line("polling afresh"), d.log_line("polling afresh")].join("\n");
    assert!(afresh.contains("config of source header-fix changed"), "{afresh}");
    assert!(afresh.contains("config of source url-fix changed"), "{afresh}");
    // Each source's poll is logged once stored: both succeed at once.
    let mut polled = vec![];
    while polled.len() < 2 {
        let line = d.log_line("polled");
        assert!(line.contains("outcome=ok"), "{line}");
        polled.push(line);
    }
    assert_eq!(failures("url-fix"), (0, None));
    assert_eq!(failures("header-fix"), (0, None));
    assert_eq!(server.hits("/fixed.xml"), 1);
    let entries: i64 = rusqlite::Connection::open(&config.daemon.database)
        .unwrap()
        .query_row("SELECT count(*) FROM entries", [], |r| r.get(0))
        .unwrap();
    assert_eq!(entries, 2);

    d.signal("TERM");
    d.expect("STOPPING=1");
    assert_eq!(d.wait().code(), Some(0));
}
