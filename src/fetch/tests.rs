//! Unit tests of `fetch`.

#![allow(clippy::unwrap_used)]

use super::*;
use chrono::TimeDelta;
use hints::{MAX_HINT, parse_content_type};

#[test]
fn content_type_parameters() {
    assert_eq!(
        parse_content_type("application/rss+xml; charset=\"ISO-8859-1\""),
        (Some("application/rss+xml".into()), Some("ISO-8859-1".into()))
    );
    assert_eq!(parse_content_type("Text/XML"), (Some("text/xml".into()), None));
    assert_eq!(parse_content_type(""), (None, None));
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

#[test]
fn retry_after_seconds_date_and_cap() {
    let now = DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z").unwrap().to_utc();
    assert_eq!(
        retry_after(&headers(&[("retry-after", "120")]), now),
        Some(now + TimeDelta::seconds(120))
    );
    assert_eq!(
        retry_after(&headers(&[("retry-after", "Wed, 02 Dec 2026 10:05:00 GMT")]), now),
        Some(now + TimeDelta::minutes(5))
    );
    assert_eq!(
        retry_after(&headers(&[("retry-after", "99999999")]), now),
        Some(now + TimeDelta::hours(24))
    );
    assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
    assert_eq!(retry_after(&headers(&[]), now), None);
}

#[test]
fn cache_hints() {
    let now = DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z").unwrap().to_utc();
    assert_eq!(
        max_age(&headers(&[("cache-control", "public, max-age=1800")]), now),
        Some(Duration::from_secs(1800))
    );
    assert_eq!(
        max_age(&headers(&[("cache-control", "max-age=9999999")]), now),
        Some(MAX_HINT)
    );
    assert_eq!(
        max_age(&headers(&[("cache-control", "no-cache, max-age=60")]), now),
        None
    );
    assert_eq!(
        max_age(&headers(&[("expires", "Wed, 02 Dec 2026 11:00:00 GMT")]), now),
        Some(Duration::from_secs(3600))
    );
    assert_eq!(max_age(&headers(&[("expires", "0")]), now), None);
}

fn settings(max: u64) -> FetchSettings {
    FetchSettings {
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
        max_bytes: max,
        user_agent: "test".into(),
        max_concurrent: 4,
        max_per_host: 2,
    }
}

fn request<'a>(loc: &'a Location, v: &'a Validators) -> Request<'a> {
    Request {
        source: "t",
        location: loc,
        current_url: None,
        validators: v,
        policy: &AddressPolicy::PublicOnly,
        options: &NO_OPTIONS,
        proxy: None,
    }
}

static NO_OPTIONS: RequestOptions = RequestOptions {
    basic_auth: None,
    headers: Vec::new(),
    user_agent: None,
};

#[tokio::test]
async fn unchanged_file_is_not_modified() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.xml");
    std::fs::write(&path, "<rss version=\"2.0\"><channel/></rss>").unwrap();
    let f = Fetcher::new(settings(1 << 20)).unwrap();
    let loc = Location::File(path.clone());
    let none = Validators::default();
    let Fetched::Body(body) = f.fetch(request(&loc, &none)).await.unwrap().fetched else {
        panic!("expected a body")
    };
    assert_eq!(body.final_url.scheme(), "file");
    assert_eq!(
        f.fetch(request(&loc, &body.validators)).await.unwrap().fetched,
        Fetched::NotModified
    );
}

#[tokio::test]
async fn file_cap_and_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.xml");
    std::fs::write(&big, vec![b'a'; 5000]).unwrap();
    let f = Fetcher::new(settings(4096)).unwrap();
    let none = Validators::default();
    let loc = Location::File(big);
    let err = f.fetch(request(&loc, &none)).await.unwrap_err();
    assert!(matches!(err, FetchError::TooLarge { limit: 4096, .. }), "{err}");
    let empty = dir.path().join("empty.xml");
    std::fs::write(&empty, "  \n").unwrap();
    let loc = Location::File(empty);
    let err = f.fetch(request(&loc, &none)).await.unwrap_err();
    assert!(err.to_string().starts_with("not a feed: empty body"), "{err}");
}

#[tokio::test]
async fn ip_literal_private_hosts_are_refused_without_a_packet() {
    let f = Fetcher::new(settings(1 << 20)).unwrap();
    let none = Validators::default();
    // 192.0.2.0/24 is TEST-NET-1 (documentation); nothing is sent: the
    // guard refuses before connecting.
    for url in ["http://192.0.2.1/feed", "http://10.0.0.1/feed", "http://[fd00::1]/feed"] {
        let loc = Location::Http(url.parse().unwrap());
        let err = f.fetch(request(&loc, &none)).await.unwrap_err();
        assert!(matches!(err, FetchError::Refused { .. }), "{url}: {err}");
        assert!(err.to_string().contains("allow_private_addresses"), "{err}");
    }
}

#[tokio::test]
async fn ipv4_embedding_ipv6_literals_are_refused_without_a_packet() {
    use futures_util::FutureExt;
    // Were these forms of 127.0.0.1 dialled and delivered to loopback,
    // this listener would hold the connection.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let f = Fetcher::new(settings(1 << 20)).unwrap();
    let none = Validators::default();
    for (url, what) in [
        (
            format!("http://[::7f00:1]:{port}/"),
            "::7f00:1 is a deprecated IPv4-compatible address",
        ),
        (
            format!("http://[::ffff:0:7f00:1]:{port}/"),
            "::ffff:0:7f00:1 is a deprecated SIIT",
        ),
        (
            "http://[::ffff:0:7f00:1]/".to_string(),
            "::ffff:0:7f00:1 is a deprecated SIIT",
        ),
    ] {
        let loc = Location::Http(url.parse().unwrap());
        let err = f.fetch(request(&loc, &none)).await.unwrap_err();
        assert!(matches!(err, FetchError::Refused { .. }), "{url}: {err}");
        assert!(err.to_string().contains(what), "{url}: {err}");
    }
    assert!(listener.accept().now_or_never().is_none(), "nothing was dialled");
}
