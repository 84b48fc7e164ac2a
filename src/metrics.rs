//! Process metrics in the Prometheus text format, for `/metrics`.
//!
//! Owns the registry (prometheus-client, explicit, no global recorder): poll
//! counters and fetch-duration histograms with per-source labels, HTTP
//! requests by route and status, and gauges filled from the store at scrape
//! time (last success, consecutive failures, entries, database size), so
//! they are right even after a restart. The daemon records polls, the HTTP
//! layer records requests; nothing here does I/O.

use std::sync::Mutex;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::model::PollReport;
use crate::store::SourceState;

type Labels = Vec<(String, String)>;

fn duration_histogram() -> Histogram {
    // Seconds: 10 ms … 60 s, covering loopback to slow far-away servers.
    Histogram::new([0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0])
}

/// All metrics of the process.
pub struct Metrics {
    registry: Mutex<Registry>,
    polls: Family<Labels, Counter>,
    items: Family<Labels, Counter>,
    bytes: Family<Labels, Counter>,
    duration: Family<Labels, Histogram, fn() -> Histogram>,
    http: Family<Labels, Counter>,
    last_success: Family<Labels, Gauge>,
    failures: Family<Labels, Gauge>,
    entries: Gauge,
    database_bytes: Gauge,
    sources: Gauge,
    pages_rendered: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every Tributary metric registered.
    pub fn new() -> Metrics {
        let m = Metrics {
            registry: Mutex::new(Registry::default()),
            polls: Family::default(),
            items: Family::default(),
            bytes: Family::default(),
            duration: Family::new_with_constructor(duration_histogram as fn() -> Histogram),
            http: Family::default(),
            last_success: Family::default(),
            failures: Family::default(),
            entries: Gauge::default(),
            database_bytes: Gauge::default(),
            sources: Gauge::default(),
            pages_rendered: Counter::default(),
        };
        {
            let mut r = m.registry.lock().unwrap_or_else(|p| p.into_inner());
            r.register(
                "tributary_polls",
                "Polls by source and outcome (ok, not-modified, error kind)",
                m.polls.clone(),
            );
            r.register(
                "tributary_items",
                "Items by source and what became of them (new, updated, merged_link, merged_text; too_old: older than max_age, held_back: beyond initial_entries on a new source; bridged counts entries merged into an older one)",
                m.items.clone(),
            );
            r.register(
                "tributary_fetched_bytes",
                "Feed bytes fetched, by source",
                m.bytes.clone(),
            );
            r.register(
                "tributary_poll_duration_seconds",
                "Wall time of a poll, by source",
                m.duration.clone(),
            );
            r.register(
                "tributary_http_requests",
                "HTTP requests served, by route and status",
                m.http.clone(),
            );
            r.register(
                "tributary_source_last_success_timestamp_seconds",
                "Unix time of the last successful poll",
                m.last_success.clone(),
            );
            r.register(
                "tributary_source_consecutive_failures",
                "Failed polls in a row",
                m.failures.clone(),
            );
            r.register("tributary_entries", "Entries stored", m.entries.clone());
            r.register(
                "tributary_database_bytes",
                "Size of the database file and its WAL",
                m.database_bytes.clone(),
            );
            r.register("tributary_sources", "Sources known to the database", m.sources.clone());
            r.register(
                "tributary_pages_rendered",
                "Feed pages rendered for HTTP readers (one per page and data version at most)",
                m.pages_rendered.clone(),
            );
        }
        m
    }

    /// Counts one poll.
    pub(crate) fn record_poll(&self, r: &PollReport) {
        let source = || ("source".to_string(), r.source.clone());
        self.polls
            .get_or_create(&vec![source(), ("outcome".into(), r.outcome.to_string())])
            .inc();
        for (kind, n) in [
            ("new", r.counts.new),
            ("updated", r.counts.updated),
            ("merged_link", r.counts.merged_link),
            ("merged_text", r.counts.merged_text),
            ("bridged", r.counts.bridged),
            ("too_old", r.counts.too_old),
            ("held_back", r.counts.held_back),
        ] {
            if n > 0 {
                self.items
                    .get_or_create(&vec![source(), ("kind".into(), kind.into())])
                    .inc_by(n as u64);
            }
        }
        self.bytes.get_or_create(&vec![source()]).inc_by(r.bytes as u64);
        self.duration
            .get_or_create(&vec![source()])
            .observe(r.duration_ms as f64 / 1000.0);
    }

    /// Counts one page rendered for HTTP readers.
    pub(crate) fn page_rendered(&self) {
        self.pages_rendered.inc();
    }

    /// Counts one HTTP request.
    pub(crate) fn record_http(&self, route: &str, status: u16) {
        self.http
            .get_or_create(&vec![
                ("route".into(), route.into()),
                ("status".into(), status.to_string()),
            ])
            .inc();
    }

    /// The text exposition, with store-derived gauges refreshed first.
    pub fn render(&self, sources: &[SourceState], entries: u64, database_bytes: u64) -> String {
        for s in sources {
            let labels = vec![("source".to_string(), s.name.clone())];
            if let Some(t) = s.last_success {
                self.last_success.get_or_create(&labels).set(t.timestamp());
            }
            self.failures
                .get_or_create(&labels)
                .set(i64::from(s.consecutive_failures));
        }
        self.entries.set(entries as i64);
        self.database_bytes.set(database_bytes as i64);
        self.sources.set(sources.len() as i64);
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &registry);
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn exposition_carries_per_source_labels() {
        let m = Metrics::new();
        m.record_poll(&PollReport {
            source: "ansa-mondo".into(),
            outcome: crate::model::PollOutcome::Ok,
            status: Some(200),
            counts: crate::model::IngestCounts {
                items: 3,
                new: 2,
                updated: 1,
                ..Default::default()
            },
            bytes: 1234,
            duration_ms: 42,
            error: None,
        });
        m.record_http("/feed.atom", 200);
        let text = m.render(&[], 2, 4096);
        assert!(
            text.contains("tributary_polls_total{source=\"ansa-mondo\",outcome=\"ok\"} 1"),
            "{text}"
        );
        assert!(text.contains("tributary_items_total{source=\"ansa-mondo\",kind=\"new\"} 2"));
        assert!(
            text.contains("tributary_poll_duration_seconds_bucket{le=\"0.05\",source=\"ansa-mondo\"} 1"),
            "{text}"
        );
        assert!(text.contains("tributary_http_requests_total{route=\"/feed.atom\",status=\"200\"} 1"));
        assert!(text.contains("tributary_entries 2"));
        assert!(text.trim_end().ends_with("# EOF"));
    }
}
