//! Full text for summary-only feeds: the article page behind an item's link,
//! read into the item's content.
//!
//! Many sites publish only a teaser in their feed. For a source with
//! `full_text = true` the pipeline hands each new item (and each item edited
//! to another link) to this room after the feed's poll has committed:
//!
//! - `polite` fetches the page through the same [`Fetcher`](crate::fetch::Fetcher)
//!   as feeds (address guard on every redirect hop, size cap, timeouts, the
//!   source's proxy, user agent, and its credentials and headers when the
//!   page is on the feed's own host), at most `polite::PER_HOST` pages in
//!   flight per host, spaced by the source's `full_text_rate`;
//! - `extract` decodes the page as feeds are decoded (byte order mark, valid
//!   UTF-8, `<meta charset>`, the HTTP charset, a guess), finds the article
//!   (dom_smoothie, the Rust port of readability.js, or the source's
//!   `full_text_selector`) and sanitizes it through `html` with relative
//!   URLs resolved against the page's address;
//! - `memory` decides what is remembered of an attempt and whether a page
//!   is fetched again: never once read or failed for good, a few more times
//!   with growing waits after a timeout, a 5xx or a connection error.
//!
//! It knows nothing of the store or of entries: the pipeline asks it,
//! remembers its answers and applies the article as an edit of the item.

#[cfg(feature = "bench-internals")]
pub mod extract;
#[cfg(not(feature = "bench-internals"))]
pub(crate) mod extract;
pub(crate) mod memory;
pub(crate) mod polite;

use crate::fetch::FetchError;

bench_pub! {
    /// Why an article page gave no article; every variant names the URL
    /// (shown through `secrets` by whoever logs it).
    #[derive(Debug, thiserror::Error)]
    enum FullTextError {
        /// Fetching the page failed.
        #[error(transparent)]
        Fetch(#[from] FetchError),
        /// The item's link is not an `http(s)` URL.
        #[error("the item's link {link:?} is not an http(s) URL: no page to read")]
        NotHttp {
            /// The link as the feed gave it.
            link: String,
        },
        /// The page is not HTML.
        #[error("{url} is not an HTML page (got {media_type}): no article to read")]
        NotHtml {
            /// The page's URL.
            url: String,
            /// Its media type.
            media_type: String,
        },
        /// The readability heuristic found no article.
        #[error("no article found in {url}; set full_text_selector on the source to name its element")]
        NoArticle {
            /// The page's URL.
            url: String,
        },
        /// The source's `full_text_selector` matched nothing with text.
        #[error("full_text_selector {selector:?} matches nothing with text in {url}; check the selector against the page")]
        NoMatch {
            /// The page's URL.
            url: String,
            /// The selector.
            selector: String,
        },
    }
}

impl FullTextError {
    /// Whether trying again later may work: a timeout, a 5xx (or 429), a
    /// connection or transport error, a host asking to slow down. A 404,
    /// a refused address, a page that is not an article are for good.
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            FullTextError::Fetch(e) => match e {
                FetchError::Timeout { .. }
                | FetchError::Connect { .. }
                | FetchError::Transport { .. }
                | FetchError::HostThrottled { .. } => true,
                FetchError::Status { status, .. } => *status >= 500 || *status == 429 || *status == 408,
                _ => false,
            },
            _ => false,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_and_5xx_are_transient_404_and_refusals_are_not() {
        let status = |status| {
            FullTextError::Fetch(FetchError::Status {
                url: "https://e.org/a".into(),
                status,
                retry_after: None,
            })
        };
        assert!(status(503).is_transient());
        assert!(status(500).is_transient());
        assert!(status(429).is_transient());
        assert!(!status(404).is_transient());
        assert!(!status(410).is_transient());
        let timeout = FullTextError::Fetch(FetchError::Timeout {
            url: "https://e.org/a".into(),
            secs: 1,
        });
        assert!(timeout.is_transient());
        let refused = FullTextError::Fetch(FetchError::Refused {
            url: "http://10.0.0.1/".into(),
            detail: "private".into(),
        });
        assert!(!refused.is_transient());
        assert!(!FullTextError::NoArticle { url: "x".into() }.is_transient());
    }
}
