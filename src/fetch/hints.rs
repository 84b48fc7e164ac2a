//! What a server's response headers ask of the next poll, and what they
//! say of the body: `Retry-After` (delay-seconds or an HTTP date),
//! `Cache-Control: max-age` (else `Expires`) as a floor on the next poll,
//! both capped at [`MAX_HINT`], and the media type and charset of
//! `Content-Type`.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::header::{self, HeaderMap};

/// The longest wait a server hint can impose.
pub(super) const MAX_HINT: Duration = Duration::from_secs(24 * 3600);

/// `Retry-After` as an instant: delay-seconds or an HTTP date, capped at [`MAX_HINT`].
pub(super) fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let v = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    let at = match v.parse::<u64>() {
        Ok(secs) => now + TimeDelta::seconds(secs.min(MAX_HINT.as_secs()) as i64),
        Err(_) => DateTime::<Utc>::from(httpdate::parse_http_date(v).ok()?),
    };
    let cap = now + TimeDelta::from_std(MAX_HINT).unwrap_or_default();
    Some(at.min(cap).max(now))
}

/// `Cache-Control: max-age` (else `Expires`) as a duration, capped at [`MAX_HINT`].
pub(super) fn max_age(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let cc = headers.get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok());
    if let Some(cc) = cc {
        let directives: Vec<String> = cc.split(',').map(|d| d.trim().to_ascii_lowercase()).collect();
        if directives.iter().any(|d| d == "no-cache" || d == "no-store") {
            return None;
        }
        if let Some(secs) = directives.iter().find_map(|d| {
            d.strip_prefix("max-age=")
                .and_then(|n| n.trim_matches('"').parse::<u64>().ok())
        }) {
            return (secs > 0).then(|| Duration::from_secs(secs).min(MAX_HINT));
        }
    }
    let expires = headers.get(header::EXPIRES)?.to_str().ok()?;
    let at = DateTime::<Utc>::from(httpdate::parse_http_date(expires).ok()?);
    (at - now)
        .to_std()
        .ok()
        .filter(|d| !d.is_zero())
        .map(|d| d.min(MAX_HINT))
}

/// Media type and charset parameter of a `Content-Type` header.
pub(super) fn content_type(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return (None, None);
    };
    parse_content_type(value)
}

/// Splits a `Content-Type` value into its media type and `charset` parameter.
pub(super) fn parse_content_type(value: &str) -> (Option<String>, Option<String>) {
    let mut parts = value.split(';');
    let media = parts
        .next()
        .map(|m| m.trim().to_ascii_lowercase())
        .filter(|m| !m.is_empty());
    let charset = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|v| !v.is_empty())
    });
    (media, charset)
}
