//! Links: which item links an entry keeps, and the canonical form that
//! recognises the same story across sources.

use url::Url;

use crate::html::text::is_unwanted_char;

/// Query parameters removed from links by [`canonical_link`], matched
/// case-insensitively on the decoded parameter name.
///
/// Besides these exact names, every parameter whose name starts with `utm_`
/// is removed, and `ref` / `source` are removed when their value is a
/// tracking tag such as `rss` or `newsletter` (see [`canonical_link`]).
pub const TRACKING_PARAMS: &[&str] = &[
    // Ad-network click identifiers.
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "twclid",
    "ttclid",
    "li_fat_id",
    "igshid",
    // Google Analytics cross-domain linking.
    "_ga",
    "_gl",
    // Mailchimp.
    "mc_cid",
    "mc_eid",
    // HubSpot.
    "_hsenc",
    "_hsmi",
    // Marketo.
    "mkt_tok",
    // Olytics.
    "oly_anon_id",
    "oly_enc_id",
    // Vero, Wicked Reports, Klaviyo.
    "vero_id",
    "wickedid",
    "__s",
    // Referrer tags and campaign ids.
    "ref_src",
    "ref_url",
    "cmpid",
];

/// Values of `ref` / `source` that mark a link as coming from a feed, a
/// social network or a newsletter rather than naming content.
///
/// `ref` and `source` are ordinary parameter names on many sites (a git ref,
/// a data source, a citation), so they are only removed when the value is one
/// of these tags, compared case-insensitively.
const TRACKING_TAG_VALUES: &[&str] = &[
    "rss",
    "rss2",
    "atom",
    "feed",
    "feeds",
    "feedly",
    "feedburner",
    "twitter",
    "facebook",
    "linkedin",
    "newsletter",
    "email",
    "homepage",
    "social",
];

/// The canonical form of a story link, used to recognise the same story
/// across sources; `None` for anything but an absolute `http`/`https` URL.
///
/// Canonicalization:
///
/// * scheme and host lower-cased (IDNA for international hosts), default port
///   dropped, dot segments resolved and characters that need it
///   percent-encoded — all by the URL parser;
/// * `http` written as `https`, so both schemes name the same story;
/// * user name and password dropped;
/// * the fragment dropped, except a `#!` "hashbang" fragment, which on the
///   sites that use it is the actual route to the story;
/// * tracking query parameters removed: every `utm_*`, the names in
///   `TRACKING_PARAMS`, and `ref` / `source` when their value is a tracking
///   tag (`rss`, `feed`, `twitter`, `newsletter`, ...); other values of those
///   two are kept because they often name real content;
/// * the remaining parameters sorted by name then value (stable), written as
///   they were; an empty query dropped;
/// * trailing slashes removed from the path, unless the path is just `/`.
///
/// The host is kept otherwise as is (`www.` is not removed): a different host
/// may be a different site.
pub fn canonical_link(link: &str) -> Option<String> {
    let mut url = Url::parse(link.trim()).ok()?;
    if !is_http(&url) || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    if url.scheme() == "http" {
        // http → https is always a valid scheme change; the default port is
        // re-evaluated by the parser, so `:443` disappears and `:80` stays gone.
        url.set_scheme("https").ok()?;
    }
    // Both calls only fail for URLs without a host, excluded above.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    if !url.fragment().is_some_and(|f| f.starts_with('!')) {
        url.set_fragment(None);
    }
    if let Some(query) = url.query() {
        let query = canonical_query(query);
        url.set_query(query.as_deref());
    }
    let path = url.path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let trimmed = if trimmed.is_empty() {
            "/".to_owned()
        } else {
            trimmed.to_owned()
        };
        url.set_path(&trimmed);
    }
    Some(url.into())
}

/// The query without tracking parameters, sorted; `None` when nothing is left.
fn canonical_query(query: &str) -> Option<String> {
    let mut kept: Vec<(String, String, &str)> = query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .filter_map(|piece| {
            let (name, value) = url::form_urlencoded::parse(piece.as_bytes())
                .next()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .unwrap_or_default();
            (!is_tracking_param(&name, &value)).then_some((name, value, piece))
        })
        .collect();
    if kept.is_empty() {
        return None;
    }
    kept.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let pieces: Vec<&str> = kept.iter().map(|(_, _, piece)| *piece).collect();
    Some(pieces.join("&"))
}

fn is_tracking_param(name: &str, value: &str) -> bool {
    let name = name.to_ascii_lowercase();
    if name.starts_with("utm_") || TRACKING_PARAMS.contains(&name.as_str()) {
        return true;
    }
    matches!(name.as_str(), "ref" | "source")
        && TRACKING_TAG_VALUES.contains(&value.trim().to_ascii_lowercase().as_str())
}

/// Resolves an item link; returns the URL and the string to display.
///
/// An absolute link is displayed exactly as written (trimmed) unless it
/// contains whitespace or control characters, in which case the URL's own
/// serialization is used; a relative link is displayed resolved.
pub(super) fn entry_link(raw: &str, base: Option<&Url>) -> Option<(Url, String)> {
    let trimmed = raw.trim();
    let url = resolve_http(trimmed, base)?;
    let as_written = Url::parse(trimmed).is_ok()
        && !trimmed
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || is_unwanted_char(c));
    let text = if as_written {
        trimmed.to_owned()
    } else {
        url.as_str().to_owned()
    };
    Some((url, text))
}

/// Parses `raw` as a URL, resolving it against `base` when it is relative;
/// keeps it only when the result is `http` or `https`.
pub(super) fn resolve_http(raw: &str, base: Option<&Url>) -> Option<Url> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let url = match Url::parse(raw) {
        Ok(url) => url,
        Err(url::ParseError::RelativeUrlWithoutBase) => base?.join(raw).ok()?,
        Err(_) => return None,
    };
    is_http(&url).then_some(url)
}

pub(super) fn is_http(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{FeedInfo, RawItem};
    use crate::normalize::tests::{item, now, run, url};
    use crate::normalize::{Context, normalize};

    #[test]
    fn canonical_link_examples() {
        let cases = [
            (
                "HTTPS://Example.COM:443/a/../b/?utm_source=rss&id=3&utm_medium=feed#frag",
                Some("https://example.com/b?id=3"),
            ),
            (
                "http://example.com/story?b=2&a=1",
                Some("https://example.com/story?a=1&b=2"),
            ),
            ("https://ex.com/x?fbclid=abc", Some("https://ex.com/x")),
            ("https://ex.com/x/", Some("https://ex.com/x")),
            ("javascript:alert(1)", None),
            ("https://ex.com/", Some("https://ex.com/")),
            ("https://ex.com", Some("https://ex.com/")),
            ("https://ex.com//", Some("https://ex.com/")),
            ("https://ex.com/a//", Some("https://ex.com/a")),
            ("http://ex.com:80/x", Some("https://ex.com/x")),
            ("http://ex.com:443/x", Some("https://ex.com/x")),
            ("http://ex.com:8080/x", Some("https://ex.com:8080/x")),
            ("https://www.Ex.com/x", Some("https://www.ex.com/x")),
            ("https://ex.com/x?", Some("https://ex.com/x")),
            ("https://ex.com/x?utm_campaign=a", Some("https://ex.com/x")),
            ("https://ex.com/x?UTM_Source=a&q=1", Some("https://ex.com/x?q=1")),
            (
                "https://ex.com/x?gclid=1&msclkid=2&mc_cid=3&mc_eid=4&_hsenc=5&_hsmi=6&mkt_tok=7&igshid=8&__s=9&ref_src=twsrc&cmpid=1&yclid=2&dclid=3&gbraid=4&wbraid=5&oly_anon_id=6&oly_enc_id=7&vero_id=8&wickedid=9&ref_url=x",
                Some("https://ex.com/x"),
            ),
            ("https://ex.com/x?ref=rss", Some("https://ex.com/x")),
            ("https://ex.com/x?ref=RSS&source=Twitter", Some("https://ex.com/x")),
            ("https://ex.com/x?source=newsletter", Some("https://ex.com/x")),
            ("https://ex.com/x?ref=main", Some("https://ex.com/x?ref=main")),
            ("https://ex.com/x?source=census", Some("https://ex.com/x?source=census")),
            ("https://ex.com/x?a=2&a=1", Some("https://ex.com/x?a=1&a=2")),
            ("https://ex.com/x?flag&a=1", Some("https://ex.com/x?a=1&flag")),
            ("https://ex.com/x?a=1&&b=2", Some("https://ex.com/x?a=1&b=2")),
            (
                "https://ex.com/search?q=a+b&page=2",
                Some("https://ex.com/search?page=2&q=a+b"),
            ),
            ("https://user:pw@ex.com/x", Some("https://ex.com/x")),
            ("https://ex.com/#!/story/1", Some("https://ex.com/#!/story/1")),
            ("https://ex.com/p#comments", Some("https://ex.com/p")),
            ("  https://ex.com/p  ", Some("https://ex.com/p")),
            ("https://ex.com/caf%C3%A9", Some("https://ex.com/caf%C3%A9")),
            ("https://ex.com/café", Some("https://ex.com/caf%C3%A9")),
            ("https://BÜCHER.example/x", Some("https://xn--bcher-kva.example/x")),
            ("ftp://ex.com/x", None),
            ("mailto:a@ex.com", None),
            ("data:text/html,hi", None),
            ("file:///etc/passwd", None),
            ("/relative/path", None),
            ("not a url", None),
            ("", None),
            ("https://", None),
        ];
        for (input, expected) in cases {
            assert_eq!(canonical_link(input).as_deref(), expected, "{input}");
        }
    }

    #[test]
    fn canonical_link_unifies_http_and_https_and_slash() {
        let variants = [
            "http://example.com/story/",
            "https://example.com/story",
            "HTTPS://EXAMPLE.com/story/?utm_source=feed",
            "http://example.com:80/story#top",
        ];
        for v in variants {
            assert_eq!(canonical_link(v).as_deref(), Some("https://example.com/story"), "{v}");
        }
    }

    #[test]
    fn canonical_link_is_idempotent() {
        for input in [
            "http://example.com/story?b=2&a=1&utm_x=1",
            "https://ex.com/a/b/?q=%20x&z",
            "https://ex.com/#!/x",
        ] {
            let once = canonical_link(input).unwrap();
            assert_eq!(canonical_link(&once).unwrap(), once);
        }
    }

    #[test]
    fn tracking_params_are_lowercase_and_not_utm() {
        for p in TRACKING_PARAMS {
            assert_eq!(*p, p.to_ascii_lowercase());
            assert!(!p.starts_with("utm_"));
        }
    }

    #[test]
    fn normalize_links() {
        let entry = run(&RawItem {
            link: Some("/2024/story/?utm_source=rss".into()),
            ..item()
        });
        assert_eq!(
            entry.link.as_deref(),
            Some("https://example.com/2024/story/?utm_source=rss")
        );
        assert_eq!(entry.canonical_link.as_deref(), Some("https://example.com/2024/story"));

        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "file:///etc/passwd",
            "ftp://ex.com/x",
            "",
            "http://",
        ] {
            let entry = run(&RawItem {
                link: Some(bad.into()),
                ..item()
            });
            assert_eq!(entry.link, None, "{bad}");
            assert_eq!(entry.canonical_link, None, "{bad}");
        }

        let entry = run(&RawItem {
            link: Some(" HTTP://Example.com/A b ".into()),
            ..item()
        });
        assert_eq!(entry.link.as_deref(), Some("http://example.com/A%20b"));

        let entry = run(&RawItem {
            link: Some("HTTP://Example.com/A".into()),
            ..item()
        });
        assert_eq!(entry.link.as_deref(), Some("HTTP://Example.com/A"));
        assert_eq!(entry.canonical_link.as_deref(), Some("https://example.com/A"));
    }

    #[test]
    fn normalize_relative_links_without_base() {
        let feed = FeedInfo::default();
        let file = url("file:///tmp/feed.xml");
        for base in [None, Some(&file)] {
            let entry = normalize(
                &RawItem {
                    link: Some("story.html".into()),
                    content: Some("<a href=\"x.html\">x</a>".into()),
                    ..item()
                },
                &Context {
                    base_url: base,
                    feed: &feed,
                    now: now(),
                },
            );
            assert_eq!(entry.link, None);
            assert_eq!(
                entry.content_html.as_deref(),
                Some("<a rel=\"noopener noreferrer\">x</a>")
            );
            assert_eq!(entry.language, None);
        }
    }

    #[test]
    fn normalize_content_base() {
        let entry = run(&RawItem {
            link: Some("https://example.com/posts/one/".into()),
            content: Some("<img src=\"a.png\">".into()),
            ..item()
        });
        assert_eq!(
            entry.content_html.as_deref(),
            Some("<img src=\"https://example.com/posts/one/a.png\">")
        );

        let entry = run(&RawItem {
            link: Some("https://example.com/posts/one/".into()),
            content_base: Some("../media/".into()),
            content: Some("<img src=\"a.png\">".into()),
            ..item()
        });
        assert_eq!(
            entry.content_html.as_deref(),
            Some("<img src=\"https://example.com/posts/media/a.png\">")
        );

        let entry = run(&RawItem {
            link: None,
            content_base: Some("javascript:alert(1)".into()),
            content: Some("<img src=\"a.png\">".into()),
            ..item()
        });
        assert_eq!(
            entry.content_html.as_deref(),
            Some("<img src=\"https://example.com/a.png\">")
        );
    }
}
