//! What is remembered of an attempt at an item's article page, and whether
//! the page is fetched again: a page read or failed for good is never
//! fetched again for the same link; a transient failure (timeout, 5xx,
//! connection error) is tried again after [`backoff`], at most
//! [`MAX_ATTEMPTS`] times in all; an item edited to another link starts
//! afresh.

use chrono::{DateTime, TimeDelta, Utc};

use super::FullTextError;
use crate::model::{PageMemory, PageState};

/// Attempts at one page before a transient failure counts as permanent.
pub(crate) const MAX_ATTEMPTS: u32 = 4;

/// The wait after the `attempts`-th transient failure: 15 minutes, then
/// four times longer each time (1 h, 4 h).
pub(crate) fn backoff(attempts: u32) -> TimeDelta {
    TimeDelta::minutes(15 * 4_i64.pow(attempts.saturating_sub(1).min(6)))
}

/// Whether the page at `link` is to be fetched, given what is remembered
/// of the item's page. `force` (`tributary poll --force`) does not wait
/// for a transient failure's backoff.
pub(crate) fn wanted(memory: Option<&PageMemory>, link: &str, now: DateTime<Utc>, force: bool) -> bool {
    let Some(m) = memory else { return true };
    if m.url != link {
        return true;
    }
    match m.state {
        PageState::Done | PageState::FailedPermanent => false,
        PageState::FailedTransient => force || m.next_retry.is_none_or(|t| t <= now),
    }
}

/// Attempts made before this one at the same link.
fn attempts_before(previous: Option<&PageMemory>, url: &str) -> u32 {
    previous.filter(|m| m.url == url).map_or(0, |m| m.attempts)
}

/// The memory of a page read: the article it gave.
pub(crate) fn read(previous: Option<&PageMemory>, url: &str, content: String, now: DateTime<Utc>) -> PageMemory {
    PageMemory {
        url: url.to_string(),
        state: PageState::Done,
        attempts: attempts_before(previous, url) + 1,
        next_retry: None,
        last_error: None,
        content: Some(content),
        at: now,
    }
}

/// The memory of a failed attempt; `message` is the error in words, its
/// URLs already redacted.
pub(crate) fn failed(
    previous: Option<&PageMemory>,
    url: &str,
    error: &FullTextError,
    message: String,
    now: DateTime<Utc>,
) -> PageMemory {
    let attempts = attempts_before(previous, url) + 1;
    let transient = error.is_transient() && attempts < MAX_ATTEMPTS;
    PageMemory {
        url: url.to_string(),
        state: if transient {
            PageState::FailedTransient
        } else {
            PageState::FailedPermanent
        },
        attempts,
        next_retry: transient.then(|| now + backoff(attempts)),
        last_error: Some(if error.is_transient() && !transient {
            format!("gave up after {attempts} attempts: {message}")
        } else {
            message
        }),
        content: None,
        at: now,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::fetch::FetchError;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    fn status(status: u16) -> FullTextError {
        FullTextError::Fetch(FetchError::Status {
            url: "https://e.org/a".into(),
            status,
            retry_after: None,
        })
    }

    #[test]
    fn a_page_never_tried_is_wanted_and_a_read_one_is_not() {
        assert!(wanted(None, "https://e.org/a", now(), false));
        let done = read(None, "https://e.org/a", "<p>x</p>".into(), now());
        assert_eq!(done.state, PageState::Done);
        assert!(!wanted(Some(&done), "https://e.org/a", now(), false));
        assert!(!wanted(Some(&done), "https://e.org/a", now(), true));
    }

    #[test]
    fn an_item_edited_to_another_link_is_fetched_again() {
        let done = read(None, "https://e.org/a", "<p>x</p>".into(), now());
        assert!(wanted(Some(&done), "https://e.org/b", now(), false));
        let gone = failed(None, "https://e.org/a", &status(404), "HTTP 404".into(), now());
        assert!(wanted(Some(&gone), "https://e.org/b", now(), false));
    }

    #[test]
    fn a_404_is_never_fetched_again() {
        let gone = failed(None, "https://e.org/a", &status(404), "HTTP 404".into(), now());
        assert_eq!(gone.state, PageState::FailedPermanent);
        assert_eq!(gone.next_retry, None);
        let later = now() + TimeDelta::days(30);
        assert!(!wanted(Some(&gone), "https://e.org/a", later, false));
        assert!(!wanted(Some(&gone), "https://e.org/a", later, true));
    }

    #[test]
    fn a_503_is_retried_after_a_growing_backoff_then_given_up() {
        let url = "https://e.org/a";
        let mut memory = failed(None, url, &status(503), "HTTP 503".into(), now());
        assert_eq!(memory.state, PageState::FailedTransient);
        assert_eq!(memory.next_retry, Some(now() + TimeDelta::minutes(15)));
        assert!(!wanted(Some(&memory), url, now(), false));
        assert!(wanted(Some(&memory), url, now(), true), "--force does not wait");
        assert!(wanted(Some(&memory), url, now() + TimeDelta::minutes(15), false));
        memory = failed(Some(&memory), url, &status(503), "HTTP 503".into(), now());
        assert_eq!(memory.attempts, 2);
        assert_eq!(memory.next_retry, Some(now() + TimeDelta::hours(1)));
        memory = failed(Some(&memory), url, &status(503), "HTTP 503".into(), now());
        assert_eq!(memory.next_retry, Some(now() + TimeDelta::hours(4)));
        memory = failed(Some(&memory), url, &status(503), "HTTP 503".into(), now());
        assert_eq!(memory.attempts, MAX_ATTEMPTS);
        assert_eq!(memory.state, PageState::FailedPermanent);
        assert_eq!(memory.last_error.as_deref(), Some("gave up after 4 attempts: HTTP 503"));
        assert!(!wanted(Some(&memory), url, now() + TimeDelta::days(9), true));
    }

    #[test]
    fn a_read_after_a_transient_failure_counts_the_attempts() {
        let url = "https://e.org/a";
        let first = failed(None, url, &status(503), "HTTP 503".into(), now());
        let done = read(Some(&first), url, "<p>x</p>".into(), now());
        assert_eq!(done.attempts, 2);
        assert_eq!(done.last_error, None);
    }
}
