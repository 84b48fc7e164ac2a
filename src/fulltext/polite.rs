//! Fetching article pages politely: an aggregator fetching every article of
//! a busy site looks like a crawler, so page fetches to one host are at
//! most [`PER_HOST`] in flight and start at least the source's
//! `full_text_rate` apart. Pages go through the feeds' fetcher, with the
//! source's address policy, proxy and user agent; its credentials and
//! extra headers only to the feed's own host, as on a redirect.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use url::Url;

use super::FullTextError;
use crate::config::{Location, RequestOptions, SourceConfig};
use crate::fetch::{Body, Fetched, Fetcher, Request, host_key};
use crate::model::Validators;

/// Page fetches in flight to one host, at most.
pub(crate) const PER_HOST: usize = 2;

/// The per-host slots and pace of page fetches, shared by every source.
#[derive(Debug, Default)]
pub(crate) struct Politeness {
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

#[derive(Debug)]
struct Host {
    slots: Arc<Semaphore>,
    /// When the next page fetch to the host may start.
    next: Mutex<Option<Instant>>,
}

/// When a fetch asked for at `now` starts, given when the host's next one
/// may: at once if that time has passed; and when the one after it may
/// (`rate` later).
fn next_start(next: Option<Instant>, now: Instant, rate: Duration) -> (Instant, Instant) {
    let start = next.map_or(now, |n| n.max(now));
    (start, start + rate)
}

impl Politeness {
    /// Waits for this host's turn: a free slot, then the pace. The permit
    /// is the slot, held while the page is fetched.
    pub(crate) async fn turn(&self, url: &Url, rate: Duration) -> Option<OwnedSemaphorePermit> {
        let host = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            hosts
                .entry(host_key(url))
                .or_insert_with(|| {
                    Arc::new(Host {
                        slots: Arc::new(Semaphore::new(PER_HOST)),
                        next: Mutex::new(None),
                    })
                })
                .clone()
        };
        let permit = host.slots.clone().acquire_owned().await.ok()?;
        let start = {
            let mut next = host.next.lock().unwrap_or_else(|p| p.into_inner());
            let (start, after) = next_start(*next, Instant::now(), rate);
            *next = Some(after);
            start
        };
        if start > Instant::now() {
            tokio::time::sleep_until(start).await;
        }
        Some(permit)
    }
}

/// The request options a page on `page`'s host is fetched with: the
/// source's user agent always, its credentials and headers only when the
/// page is on the feed's own host.
fn options_for(source: &SourceConfig, page: &Url) -> RequestOptions {
    if source.location.shares_credentials_with(page) {
        source.request.clone()
    } else {
        RequestOptions {
            user_agent: source.request.user_agent.clone(),
            ..RequestOptions::default()
        }
    }
}

/// The item's link as a page URL, if it is one.
pub(crate) fn page_url(link: &str) -> Result<Url, FullTextError> {
    Url::parse(link)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| FullTextError::NotHttp { link: link.to_string() })
}

/// Fetches an article page for `source`, waiting for the host's turn.
pub(crate) async fn fetch_page(
    fetcher: &Fetcher,
    politeness: &Politeness,
    source: &SourceConfig,
    url: &Url,
    rate: Duration,
) -> Result<Body, FullTextError> {
    let _slot = politeness.turn(url, rate).await;
    let location = Location::Http(url.clone());
    let options = options_for(source, url);
    let response = fetcher
        .fetch(Request {
            source: &source.name,
            location: &location,
            current_url: None,
            validators: &Validators::default(),
            policy: &source.allow_private_addresses,
            options: &options,
            proxy: source.proxy.as_ref(),
        })
        .await?;
    match response.fetched {
        Fetched::Body(body) => Ok(*body),
        // Nothing was asked conditionally: a 304 is a server's mistake.
        Fetched::NotModified => Err(FullTextError::NoArticle { url: url.to_string() }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    #[test]
    fn fetches_to_one_host_start_a_rate_apart() {
        let now = Instant::now();
        let rate = Duration::from_secs(1);
        let (first, next) = next_start(None, now, rate);
        assert_eq!(first, now);
        let (second, next) = next_start(Some(next), now, rate);
        assert_eq!(second, now + rate);
        let (third, _) = next_start(Some(next), now, rate);
        assert_eq!(third, now + 2 * rate);
        // After a quiet spell the next one starts at once.
        let later = now + Duration::from_secs(60);
        assert_eq!(next_start(Some(now + rate), later, rate).0, later);
    }

    #[tokio::test]
    async fn at_most_two_page_fetches_in_flight_per_host() {
        let p = Politeness::default();
        let a = Url::parse("https://news.example/a").unwrap();
        let other = Url::parse("https://other.example/a").unwrap();
        let one = p.turn(&a, Duration::ZERO).await.unwrap();
        let _two = p.turn(&a, Duration::ZERO).await.unwrap();
        assert!(p.turn(&a, Duration::ZERO).now_or_never().is_none(), "a third waits");
        assert!(
            p.turn(&other, Duration::ZERO).now_or_never().is_some(),
            "another host does not"
        );
        drop(one);
        assert!(p.turn(&a, Duration::ZERO).now_or_never().is_some());
    }

    #[test]
    fn credentials_go_to_the_feeds_own_host_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        std::fs::write(
            &path,
            "[[source]]\nname = \"a\"\nurl = \"https://feeds.example/rss\"\nfull_text = true\nusername = \"u\"\npassword = \"p\"\nheaders = { X-Key = \"k\" }\nuser_agent = \"UA\"\n",
        )
        .unwrap();
        let config = crate::config::load(&path).unwrap();
        let s = &config.sources[0];
        let same = options_for(s, &Url::parse("https://feeds.example/story").unwrap());
        assert!(same.basic_auth.is_some());
        assert_eq!(same.headers.len(), 1);
        let other = options_for(s, &Url::parse("https://cdn.example/story").unwrap());
        assert!(other.basic_auth.is_none());
        assert!(other.headers.is_empty());
        assert_eq!(other.user_agent.as_deref(), Some("UA"));
    }

    #[test]
    fn only_http_links_are_pages() {
        assert!(page_url("https://e.org/a").is_ok());
        assert!(matches!(page_url("mailto:x@e.org"), Err(FullTextError::NotHttp { .. })));
        assert!(page_url("not a url").is_err());
    }
}
