//! What is remembered of one item's article page (`full_text = true`
//! sources): whether it was read, failed for good, or is to be tried again,
//! and the article text read from it. `fulltext` decides the states, the
//! store keeps them, the pipeline asks before fetching a page again.

use chrono::{DateTime, Utc};

/// How the last attempt at an item's article page ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageState {
    /// The article was read: the item shows it while its link stays.
    Done,
    /// The page cannot be read (404, not HTML, no article found, refused
    /// address…) or failed too often: never fetched again for this link.
    FailedPermanent,
    /// A timeout, a 5xx or a connection error: tried again after `next_retry`.
    FailedTransient,
}

impl PageState {
    /// The state as stored (`done`, `failed-permanent`, `failed-transient`).
    pub fn as_str(self) -> &'static str {
        match self {
            PageState::Done => "done",
            PageState::FailedPermanent => "failed-permanent",
            PageState::FailedTransient => "failed-transient",
        }
    }

    /// The state of its stored name.
    pub fn parse(s: &str) -> Option<PageState> {
        match s {
            "done" => Some(PageState::Done),
            "failed-permanent" => Some(PageState::FailedPermanent),
            "failed-transient" => Some(PageState::FailedTransient),
            _ => None,
        }
    }
}

/// The memory of one item's article page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageMemory {
    /// The link the page was fetched from (the item's link as given): a
    /// later edit of the item to another link fetches again.
    pub url: String,
    /// How the last attempt ended.
    pub state: PageState,
    /// Attempts so far.
    pub attempts: u32,
    /// When a transient failure may be tried again.
    pub next_retry: Option<DateTime<Utc>>,
    /// The last failure, in words (URLs redacted).
    pub last_error: Option<String>,
    /// The article read from the page, sanitized HTML (state `Done` only).
    pub content: Option<String>,
    /// When the last attempt ended.
    pub at: DateTime<Utc>,
}
