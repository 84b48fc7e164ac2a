//! The daemon's lifecycle: tasks, timers, signals.
//!
//! Owns everything that runs over time: one scheduling task per source
//! (sleep until due, take a slot of the global fetch limit, refresh), the
//! HTTP server beside them, SIGHUP reloads and SIGTERM/SIGINT shutdown.
//! Every task is tracked and cancellable; cancellation interrupts only the
//! waiting, never a poll halfway through its transaction, and shutdown
//! abandons polls still running after `SHUTDOWN_GRACE`.
//!
//! Which source is due when comes from `schedule`; what a poll does comes
//! from `pipeline`. This module only decides when to call them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use chrono::Utc;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use crate::config::{self, Config, SourceConfig};
use crate::fetch::{FetchSettings, Fetcher};
use crate::http::{self, AppState};
use crate::metrics::Metrics;
use crate::model::PollState;
use crate::pipeline::{self, Context};
use crate::schedule;
use crate::store::Store;

/// How long in-flight polls may run after a stop signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How often the daemon reads the database's entries version to notice
/// changes committed by another process (`tributary poll`, `db prune`):
/// the longest such a change waits before the served pages and the output
/// files show it. One read of one row; the serving path itself only
/// compares an in-memory counter.
pub const EXTERNAL_CHANGES_PERIOD: Duration = Duration::from_secs(1);

/// Opens the store off the async threads.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<Store>> {
    let path = config.daemon.database.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(&path))
        .await
        .context("the task opening the database failed")??;
    Ok(Arc::new(store))
}

/// Builds the shared poll context for a configuration.
pub fn context(config: &Config, store: Arc<Store>) -> anyhow::Result<Context> {
    let fetcher = Fetcher::new(FetchSettings::from_config(&config.daemon))?;
    let rules = rules(config);
    Ok(Context {
        fetcher,
        store: store.clone(),
        force: false,
        jitter: config.daemon.jitter,
        rules,
        ingest_slots: pipeline::ingest_slots(),
        committer: pipeline::Committer::start(store, rules).context("cannot start the database writer thread")?,
        pages: pipeline::Pages::default(),
    })
}

/// The dedup rules of a configuration.
pub fn rules(config: &Config) -> crate::dedup::Rules {
    crate::dedup::Rules {
        by_link: config.dedup.by_link,
        by_text: config.dedup.by_text,
        text_window_secs: config.dedup.text_window.as_secs() as i64,
    }
}

/// A running source task and the settings it was started with.
struct Running {
    source: SourceConfig,
    cancel: CancellationToken,
}

/// The scheduler: one task per source over a shared fetch limit.
struct Scheduler {
    cx: Context,
    limit: Arc<Semaphore>,
    metrics: Arc<Metrics>,
    changed: tokio::sync::mpsc::UnboundedSender<()>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
    running: HashMap<String, Running>,
}

fn same_settings(a: &SourceConfig, b: &SourceConfig) -> bool {
    a.location == b.location
        && a.schedule == b.schedule
        && a.tags == b.tags
        && a.allow_private_addresses == b.allow_private_addresses
        && a.cache_hints == b.cache_hints
        && a.request == b.request
        && a.proxy == b.proxy
        && a.initial_entries == b.initial_entries
        && a.max_age == b.max_age
        && a.include
            .iter()
            .map(|r| r.as_str())
            .eq(b.include.iter().map(|r| r.as_str()))
        && a.exclude
            .iter()
            .map(|r| r.as_str())
            .eq(b.exclude.iter().map(|r| r.as_str()))
}

impl Scheduler {
    /// Starts, stops and restarts source tasks so they match `sources`.
    fn apply(&mut self, sources: &[SourceConfig]) {
        let wanted: HashMap<&str, &SourceConfig> = sources.iter().map(|s| (s.name.as_str(), s)).collect();
        self.running.retain(|name, r| {
            let keep = wanted.get(name.as_str()).is_some_and(|s| same_settings(s, &r.source));
            if !keep {
                info!(source = %name, "stopping source task");
                r.cancel.cancel();
            }
            keep
        });
        for s in sources {
            if !self.running.contains_key(&s.name) {
                let cancel = self.shutdown.child_token();
                self.tracker.spawn(source_task(
                    self.cx.clone(),
                    s.clone(),
                    self.limit.clone(),
                    self.metrics.clone(),
                    self.changed.clone(),
                    cancel.clone(),
                ));
                self.running.insert(
                    s.name.clone(),
                    Running {
                        source: s.clone(),
                        cancel,
                    },
                );
            }
        }
    }
}

async fn source_task(
    cx: Context,
    source: SourceConfig,
    limit: Arc<Semaphore>,
    metrics: Arc<Metrics>,
    changed: tokio::sync::mpsc::UnboundedSender<()>,
    cancel: CancellationToken,
) {
    // A failed poll the database may not have been able to record (disk
    // full, I/O error, locked): when it was and how many failures in a row.
    let mut last_failure: Option<(chrono::DateTime<Utc>, u32)> = None;
    // A source whose URL or request options changed since its last poll
    // (a fix after failures, at start or reload) is reset and polled now
    // rather than after the backoff its old settings earned.
    let mut afresh = match pipeline::source_for_poll(&cx.store, &source).await {
        Ok((_, _, afresh)) => afresh,
        Err(e) => {
            warn!(source = %source.name, "cannot compare the source's settings with the database: {e}");
            false
        }
    };
    if afresh {
        info!(source = %source.name, "config of source {} changed: polling afresh", source.name);
    }
    loop {
        // The database alone remembers what was polled when, so a restart
        // or a reload never causes a burst of polls of fresh sources.
        let store = cx.store.clone();
        let name = source.name.clone();
        let mut state = match tokio::task::spawn_blocking(move || store.poll_state(&name)).await {
            Ok(Ok(state)) => state.unwrap_or_default(),
            Ok(Err(e)) => {
                warn!(source = %source.name, "cannot read the source's poll state, polling now: {e}");
                PollState::default()
            }
            Err(_) => PollState::default(),
        };
        // If the database missed that failure, back off from memory: a
        // database that cannot record a poll must not cause a poll loop.
        if let Some((at, failures)) = last_failure
            && state.last_poll.is_none_or(|t| t.timestamp() < at.timestamp())
        {
            state.last_poll = Some(at);
            state.failures = state.failures.max(failures);
        }
        let now = Utc::now();
        let due = schedule::next_due(&source.schedule, &state, &source.name, cx.jitter, now);
        let wait = if std::mem::take(&mut afresh) {
            Duration::ZERO
        } else {
            (due - now).to_std().unwrap_or_default()
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        let permit = tokio::select! {
            _ = cancel.cancelled() => return,
            p = limit.clone().acquire_owned() => p,
        };
        let Ok(_permit) = permit else { return };
        let at = Utc::now();
        let report = pipeline::refresh(&cx, &source, at).await;
        last_failure = report.failed().then_some((at, state.failures + 1));
        metrics.record_poll(&report);
        if report.counts.changed_entries() {
            let _ = changed.send(());
        }
    }
}

/// Binds the listener, naming the address on failure.
pub async fn bind(config: &Config) -> anyhow::Result<TcpListener> {
    TcpListener::bind(config.daemon.listen)
        .await
        .with_context(|| format!("cannot listen on {} ([daemon] listen)", config.daemon.listen))
}

/// Runs the daemon until SIGTERM or SIGINT.
pub(crate) async fn run(config: Config) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let listener = bind(&config).await?;
    run_with(config, store, listener, shutdown_signal()).await
}

/// How often the main loop checks health, feeds the watchdog and updates STATUS=.
fn tick_period() -> Duration {
    sd_notify::watchdog_enabled()
        .map(|d| d / 2)
        .unwrap_or(Duration::from_secs(30))
        .clamp(Duration::from_millis(100), Duration::from_secs(30))
}

/// Tells systemd (when `NOTIFY_SOCKET` is set; a no-op otherwise).
fn notify(states: &[sd_notify::NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        warn!("cannot notify systemd: {e}");
    }
}

/// Runs the daemon on an open store and a bound listener until `stop` resolves.
pub async fn run_with(
    mut config: Config,
    store: Arc<Store>,
    listener: TcpListener,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let tracker = TaskTracker::new();
    let metrics = Arc::new(Metrics::new());
    let state = AppState::new(store.clone(), &config, metrics.clone());
    let addr = listener.local_addr().ok();
    let http_stop = shutdown.clone();
    let app = http::router(state.clone());
    let readers = crate::serve::ReaderRuntime::new().context("cannot start the HTTP server's threads")?;
    let server = readers.spawn(crate::serve::serve(
        listener,
        app,
        crate::serve::Limits {
            max_connections_per_address: config.daemon.max_connections_per_address,
            ..crate::serve::Limits::default()
        },
        http_stop,
    ));
    info!(
        listen = %addr.map(|a| a.to_string()).unwrap_or_default(),
        sources = config.sources.len(),
        database = %store.path().display(),
        "tributary is running"
    );
    let (changed_tx, mut changed_rx) = tokio::sync::mpsc::unbounded_channel();
    let cx = context(&config, store.clone())?;
    // Articles read for full_text sources change entries after their polls.
    cx.pages.notify_changes(changed_tx.clone());
    let announcer = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .user_agent(config.daemon.user_agent.clone())
        .build()?;
    let mut scheduler = Scheduler {
        cx,
        limit: Arc::new(Semaphore::new(config.daemon.max_concurrent_fetches)),
        metrics: metrics.clone(),
        changed: changed_tx,
        tracker: tracker.clone(),
        shutdown: shutdown.clone(),
        running: HashMap::new(),
    };
    let files = OutputFiles::start(&tracker, shutdown.clone(), {
        let state = state.clone();
        move || {
            let state = state.clone();
            async move {
                let written = write_output_files(&state).await;
                if written > 0 {
                    info!(files = written, "output files written");
                }
            }
        }
    });
    pipeline::register_new_sources(&scheduler.cx.store, &config.sources).await;
    scheduler.apply(&config.sources);
    // SIGHUP is handled from here on: once READY=1 is sent, a reload may
    // follow at once, and an unhandled SIGHUP would end the process.
    let mut hangups = hangup_stream();
    // The database is open and the listener bound.
    notify(&[
        sd_notify::NotifyState::Ready,
        sd_notify::NotifyState::Status(&format!("polling {} sources", config.sources.len())),
    ]);

    let mut ticks = tokio::time::interval(tick_period());
    let mut external = tokio::time::interval(EXTERNAL_CHANGES_PERIOD);
    external.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut external_failing = false;
    let mut last_prune: Option<chrono::DateTime<Utc>> = None;
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(()) = changed_rx.recv() => {
                // Coalesce a burst of polls into one announcement.
                while changed_rx.try_recv().is_ok() {}
                files.request();
                tracker.spawn(announce(config.clone(), announcer.clone()));
            }
            _ = external.tick() => {
                // Another process's commit: the pages re-render on their
                // next request, and the output files and hub follow.
                let db = store.clone();
                let synced = tokio::task::spawn_blocking(move || db.sync_data_version()).await;
                match synced {
                    Ok(Ok(moved)) => {
                        external_failing = false;
                        if moved {
                            info!("entries changed by another process");
                            files.request();
                            tracker.spawn(announce(config.clone(), announcer.clone()));
                        }
                    }
                    // Once per failing stretch: the health check reports a
                    // database that stays unavailable.
                    Ok(Err(e)) if !external_failing => {
                        external_failing = true;
                        warn!("cannot check for changes by other processes: {e}");
                    }
                    Ok(Err(_)) => {}
                    Err(_) => warn!("the task checking for changes by other processes failed"),
                }
            }
            _ = ticks.tick() => {
                state.heartbeat();
                let db = store.clone();
                let status = tokio::task::spawn_blocking(move || db.sources()).await;
                match status {
                    Ok(Ok(sources)) => {
                        let failing = sources.iter().filter(|s| s.consecutive_failures > 0 && config.sources.iter().any(|c| c.name == s.name)).count();
                        let status = format!("polling {} sources, {failing} failing", config.sources.len());
                        // WATCHDOG=1 only while the database answers.
                        notify(&[sd_notify::NotifyState::Watchdog, sd_notify::NotifyState::Status(&status)]);
                    }
                    Ok(Err(e)) => {
                        error!("health check: {e}");
                        notify(&[sd_notify::NotifyState::Status(&format!("database unavailable: {e}"))]);
                    }
                    Err(_) => error!("health check task failed"),
                }
                let now = Utc::now();
                if last_prune.is_none_or(|t| now - t >= chrono::TimeDelta::hours(6)) {
                    last_prune = Some(now);
                    let retention = config.daemon.retention;
                    let db = store.clone();
                    match tokio::task::spawn_blocking(move || db.prune(retention.days, retention.keep_per_source_min, now)).await {
                        Ok(Ok(p)) if p.entries > 0 => info!(entries = p.entries, "retention pruned old entries"),
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => warn!("retention: {e}"),
                        Err(_) => warn!("retention task failed"),
                    }
                    // Prints older than the text window are never compared again.
                    let db = store.clone();
                    let rules = rules(&config);
                    match tokio::task::spawn_blocking(move || pipeline::maintain_prints(&db, rules, now)).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => warn!("text prints: {e}"),
                        Err(_) => warn!("text print task failed"),
                    }
                }
            }
            _ = next_hangup(&mut hangups) => {
                info!(config = %config.path.display(), "SIGHUP: reloading the configuration");
                let reloading = sd_notify::NotifyState::monotonic_usec_now();
                match &reloading {
                    Ok(usec) => notify(&[sd_notify::NotifyState::Reloading, usec.clone()]),
                    Err(_) => notify(&[sd_notify::NotifyState::Reloading]),
                }
                let path = config.path.clone();
                let state_dir = config.state_dir.clone();
                match tokio::task::spawn_blocking(move || config::load_with(&path, state_dir.as_deref())).await {
                    Ok(Ok(new)) => {
                        if new.daemon.database != config.daemon.database
                            || new.daemon.listen != config.daemon.listen
                            || new.daemon.max_connections_per_address != config.daemon.max_connections_per_address
                        {
                            warn!("database, listen and max_connections_per_address changes take effect at the next restart");
                        }
                        pipeline::register_new_sources(&scheduler.cx.store, &new.sources).await;
                        scheduler.apply(&new.sources);
                        config.sources = new.sources;
                        config.feed = new.feed;
                        config.dedup = new.dedup;
                        config.outputs = new.outputs;
                        config.daemon.retention = new.daemon.retention;
                        state.set_config(&config);
                        // The feed's title, description… may have changed.
                        files.request();
                        info!(sources = config.sources.len(), "configuration reloaded");
                    }
                    Ok(Err(e)) => error!(
                        "the new configuration is invalid, keeping the old one:\n{}",
                        crate::secrets::redact_text(&e.to_string())
                    ),
                    Err(_) => error!("the reload task failed, keeping the old configuration"),
                }
                notify(&[
                    sd_notify::NotifyState::Ready,
                    sd_notify::NotifyState::Status(&format!("polling {} sources", config.sources.len())),
                ]);
            }
        }
    }

    notify(&[
        sd_notify::NotifyState::Stopping,
        sd_notify::NotifyState::Status("stopping"),
    ]);
    info!(
        "stopping: no new polls; waiting up to {} s for polls in flight",
        SHUTDOWN_GRACE.as_secs()
    );
    shutdown.cancel();
    tracker.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait()).await.is_err() {
        warn!("abandoning polls still running; their transactions are not committed");
    }
    if let Ok(Err(e)) = tokio::time::timeout(Duration::from_secs(5), server).await {
        error!("HTTP server task failed: {e}");
    }
    // The database file alone should hold every commit once stopped: the
    // writer thread outlives this function, so the store is not dropped here.
    let db = store.clone();
    match tokio::task::spawn_blocking(move || db.checkpoint()).await {
        Ok(Ok(true)) => {}
        Ok(Ok(false)) => warn!("another process is reading the database: part of the write-ahead log stays beside it"),
        Ok(Err(e)) => warn!("{e}"),
        Err(_) => warn!("the task copying the write-ahead log into the database failed"),
    }
    info!("stopped");
    Ok(())
}

/// The `[[output]] path` files, written by one task: writes never
/// overlap, and requests made while a write runs cause exactly one more
/// write after it, however many they were.
struct OutputFiles {
    wake: Arc<tokio::sync::Notify>,
}

impl OutputFiles {
    /// Starts the writer task, which runs `write` for each (coalesced) request.
    fn start<F, W>(tracker: &TaskTracker, cancel: CancellationToken, mut write: F) -> OutputFiles
    where
        F: FnMut() -> W + Send + 'static,
        W: std::future::Future<Output = ()> + Send,
    {
        let wake = Arc::new(tokio::sync::Notify::new());
        let woken = wake.clone();
        tracker.spawn(async move {
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = woken.notified() => {}
                }
                write().await;
            }
        });
        OutputFiles { wake }
    }

    /// Asks for the files to be written again (they will show every change
    /// committed before this call).
    fn request(&self) {
        // A permit is kept when the task is busy writing: one, not one per call.
        self.wake.notify_one();
    }
}

/// Writes the first page of every output that has a `path`, in the three
/// formats, with the very bytes the server serves for it at the store's
/// current data version (one render for both); returns the files written.
/// A file that cannot be written is logged and the others are still written.
async fn write_output_files(state: &Arc<AppState>) -> usize {
    let mut written = 0;
    for (name, base) in state.output_paths() {
        for format in crate::publish::Format::ALL {
            let file = crate::outputs::file_of(&base, format);
            let body = match http::current_page(state, &name, format, 1).await {
                Ok(body) => body,
                Err(e) => {
                    warn!(output = %name, "cannot render {} for writing: {e}", file.display());
                    continue;
                }
            };
            let target = file.clone();
            let result = tokio::task::spawn_blocking(move || {
                if let Some(dir) = target.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                crate::outputs::write_atomically(&target, &body)
            })
            .await;
            match result {
                Ok(Ok(())) => written += 1,
                Ok(Err(e)) => warn!(output = %name, "cannot write {}: {e}", file.display()),
                Err(_) => warn!(output = %name, "the task writing {} failed", file.display()),
            }
        }
    }
    written
}

/// After a change of entries: tell the WebSub hub, if any, which feeds changed.
async fn announce(config: Config, client: reqwest::Client) {
    let outputs: Vec<_> = std::iter::once(config.output(crate::config::ALL_OUTPUT))
        .flatten()
        .chain(
            config
                .outputs
                .iter()
                .filter(|o| o.name != crate::config::ALL_OUTPUT)
                .cloned(),
        )
        .collect();
    let Some(hub) = &config.feed.websub_hub else { return };
    let body = {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("hub.mode", "publish");
        for o in &outputs {
            for format in crate::publish::Format::ALL {
                let url = format!("{}{}", config.feed.base_url, crate::outputs::path_of(&o.name, format));
                form.append_pair("hub.url", &url);
            }
        }
        form.finish()
    };
    let request = client
        .post(hub.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body);
    match request.send().await {
        Ok(r) if r.status().is_success() => info!(hub = %hub, "WebSub hub notified"),
        Ok(r) => warn!(hub = %hub, "the WebSub hub answered HTTP {}", r.status().as_u16()),
        Err(e) => warn!(hub = %hub, "cannot reach the WebSub hub: {e}"),
    }
}

#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = ();

fn hangup_stream() -> Hangups {
    #[cfg(unix)]
    {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
    }
}

async fn next_hangup(h: &mut Hangups) {
    #[cfg(unix)]
    match h {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
    #[cfg(not(unix))]
    std::future::pending::<()>().await
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => info!("SIGTERM received"),
                    _ = tokio::signal::ctrl_c() => info!("SIGINT received"),
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn output_file_requests_during_a_write_cause_exactly_one_more_write() {
        let tracker = TaskTracker::new();
        let writes = Arc::new(AtomicUsize::new(0));
        let (started, mut starts) = tokio::sync::mpsc::unbounded_channel();
        let gate = Arc::new(Semaphore::new(0));
        let files = OutputFiles::start(&tracker, CancellationToken::new(), {
            let (writes, gate) = (writes.clone(), gate.clone());
            move || {
                let (writes, gate, started) = (writes.clone(), gate.clone(), started.clone());
                async move {
                    writes.fetch_add(1, Ordering::SeqCst);
                    started.send(()).unwrap();
                    gate.acquire().await.unwrap().forget();
                }
            }
        });
        // Nothing is written until asked.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert_eq!(writes.load(Ordering::SeqCst), 0);

        files.request();
        starts.recv().await.unwrap();
        // Five polls change entries while the first write runs.
        for _ in 0..5 {
            files.request();
        }
        gate.add_permits(1);
        starts.recv().await.unwrap();
        assert_eq!(writes.load(Ordering::SeqCst), 2, "one more write, never two at once");
        gate.add_permits(1);
        // The writer may run as often as it likes now: no third write starts.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(starts.try_recv().is_err(), "the five requests made one write");
        assert_eq!(writes.load(Ordering::SeqCst), 2);

        // A later request is a write of its own.
        files.request();
        starts.recv().await.unwrap();
        assert_eq!(writes.load(Ordering::SeqCst), 3);
        gate.add_permits(1);
    }
}
