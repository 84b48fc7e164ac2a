//! Finding the feed behind a URL, for `tributary add`.
//!
//! The URL is fetched through the daemon's own [`Fetcher`] and address
//! guard. When it is a feed it is used as it is. Otherwise it is read as a
//! page that may advertise its feeds, in this order:
//!
//! 1. `<link rel="alternate">` elements whose `type` is a feed type
//!    (RSS, Atom, JSON Feed, RDF), in page order, relative to the page's
//!    `<base href>` or its URL;
//! 2. `Link:` headers (RFC 8288) with `rel="alternate"` and a feed type;
//! 3. only when nothing advertised is a feed: the usual paths of the site
//!    ([`USUAL_PATHS`]), stopping at the first that is a feed.
//!
//! Every advertised candidate is fetched and parsed: the first that parses
//! is the feed, the others that parse are listed, and when none does the
//! error says what was tried and why each failed.

use std::cell::RefCell;

use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts};
use url::Url;

use crate::config::Location;
use crate::fetch::{Body, FetchError, Fetched, Fetcher, Request};
use crate::model::{AddressPolicy, Validators};
use crate::parse::{self, Document};

/// The usual places of a site's feed, tried (from the site's root) when a
/// page advertises none.
pub const USUAL_PATHS: [&str; 6] = ["/feed", "/rss.xml", "/atom.xml", "/index.xml", "/feed.xml", "/rss"];

/// Media types of feeds, as pages advertise them.
const FEED_TYPES: &[&str] = &[
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/rdf+xml",
    "application/x.atom+xml",
    "application/x-atom+xml",
    "application/x-rss+xml",
    "application/json",
];

/// Advertised candidates fetched at most, so a page listing hundreds of
/// feeds (one per category) does not turn into hundreds of requests.
const MAX_CANDIDATES: usize = 12;

/// The name the fetcher's host-wide throttling counts these requests under.
const REQUESTER: &str = "tributary-add";

/// How a feed was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The URL given is the feed.
    Given,
    /// A `<link rel="alternate">` of the page.
    PageLink,
    /// A `Link:` header of the page.
    LinkHeader,
    /// One of [`USUAL_PATHS`].
    UsualPath,
}

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Via::Given => "the URL given",
            Via::PageLink => "a <link rel=\"alternate\"> of the page",
            Via::LinkHeader => "a Link: header of the page",
            Via::UsualPath => "a usual feed path of the site",
        })
    }
}

/// A feed that was fetched and parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Its URL (after permanent redirects).
    pub url: Url,
    /// The feed's own title, if it has one.
    pub title: Option<String>,
    /// How many items it holds now.
    pub items: usize,
    /// How it was found.
    pub via: Via,
}

/// What discovery found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    /// The feed to use: the first that parses.
    pub feed: Found,
    /// The other advertised feeds that parse, in the order found.
    pub others: Vec<Found>,
}

/// Why no feed was found.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// The URL itself could not be fetched.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The URL was fetched, but neither it nor anything it leads to is a feed.
    #[error("no feed found at {url}: {why}")]
    NotFound {
        /// The URL given.
        url: String,
        /// What was tried and why each failed.
        why: String,
    },
}

/// A URL the page advertises as a feed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Candidate {
    url: Url,
    via: Via,
    /// Whether its type is only `application/json`, which pages also use
    /// for APIs: tried after the others.
    weak: bool,
}

/// Finds the feed at or behind `url`, fetching with `fetcher` under `policy`.
pub async fn discover(fetcher: &Fetcher, url: &Url, policy: &AddressPolicy) -> Result<Discovery, DiscoverError> {
    let (page, adopted) = fetch(fetcher, url, policy).await?;
    let page_url = page.final_url.clone();
    let not_a_feed = match read_feed(&page).await {
        Ok((title, items)) => {
            return Ok(Discovery {
                feed: Found {
                    url: adopted,
                    title,
                    items,
                    via: Via::Given,
                },
                others: vec![],
            });
        }
        Err(e) => e,
    };
    let mut candidates = page_links(&decode(&page), &page_url);
    candidates.extend(header_links(&page.links, &page_url));
    candidates.sort_by_key(|c| c.weak);
    let mut seen = vec![page_url.clone(), url.clone()];
    candidates.retain(|c| {
        let fresh = !seen.contains(&c.url);
        seen.push(c.url.clone());
        fresh
    });
    candidates.truncate(MAX_CANDIDATES);

    let mut found = Vec::new();
    let mut failures = Vec::new();
    for c in &candidates {
        match try_candidate(fetcher, &c.url, policy, c.via).await {
            Ok(f) => found.push(f),
            Err(e) => failures.push(format!("{} ({e})", c.url)),
        }
    }
    if found.is_empty() {
        for path in USUAL_PATHS {
            let Ok(u) = page_url.join(path) else { continue };
            if seen.contains(&u) {
                continue;
            }
            seen.push(u.clone());
            match try_candidate(fetcher, &u, policy, Via::UsualPath).await {
                Ok(f) => {
                    found.push(f);
                    break;
                }
                Err(e) => failures.push(format!("{u} ({e})")),
            }
        }
    }
    if found.is_empty() {
        let advertised = if candidates.is_empty() {
            "it is not a feed and advertises none (no <link rel=\"alternate\"> with a feed type, no Link: header)"
                .to_string()
        } else {
            format!(
                "it is not a feed, and none of the {} feed(s) it advertises could be read",
                candidates.len()
            )
        };
        return Err(DiscoverError::NotFound {
            url: url.to_string(),
            why: format!(
                "{advertised}; the page itself: {not_a_feed}; tried: {}. Give the feed's own URL instead",
                failures.join(", ")
            ),
        });
    }
    let feed = found.remove(0);
    Ok(Discovery { feed, others: found })
}

/// Fetches `url`; returns the body and the URL to keep (the last hop of a
/// chain of permanent redirects, else `url`).
async fn fetch(fetcher: &Fetcher, url: &Url, policy: &AddressPolicy) -> Result<(Body, Url), FetchError> {
    let location = Location::Http(url.clone());
    let validators = Validators::default();
    let response = fetcher
        .fetch(Request {
            source: REQUESTER,
            location: &location,
            current_url: None,
            validators: &validators,
            policy,
            options: &crate::config::RequestOptions::default(),
            proxy: None,
        })
        .await?;
    let adopted = response.permanent_redirect.unwrap_or_else(|| url.clone());
    match response.fetched {
        Fetched::Body(body) => Ok((*body, adopted)),
        // Without validators a server has nothing to say "not modified" to.
        Fetched::NotModified => Err(FetchError::Empty { url: url.to_string() }),
    }
}

/// Parses a fetched body as a feed: its title and item count.
async fn read_feed(body: &Body) -> Result<(Option<String>, usize), String> {
    let body = body.clone();
    let parsed = tokio::task::spawn_blocking(move || {
        parse::parse(Document {
            bytes: &body.bytes,
            charset: body.charset.as_deref(),
            media_type: body.media_type.as_deref(),
            url: &body.final_url,
        })
        .map(|feed| (feed.info.title, feed.items.len()))
        .map_err(|e| e.to_string())
    })
    .await;
    parsed.unwrap_or_else(|e| Err(format!("the parser stopped: {e}")))
}

async fn try_candidate(fetcher: &Fetcher, url: &Url, policy: &AddressPolicy, via: Via) -> Result<Found, String> {
    let (body, adopted) = fetch(fetcher, url, policy).await.map_err(|e| e.to_string())?;
    let (title, items) = read_feed(&body).await?;
    Ok(Found {
        url: adopted,
        title,
        items,
        via,
    })
}

/// The page's text, in the charset its `Content-Type` names (else UTF-8).
fn decode(body: &Body) -> String {
    let encoding = body
        .charset
        .as_deref()
        .and_then(|c| encoding_rs::Encoding::for_label(c.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    encoding.decode_without_bom_handling(&body.bytes).0.into_owned()
}

/// Whether a `type` names a feed; `Some(true)` for the weak `application/json`.
fn feed_type(media_type: &str) -> Option<bool> {
    let t = media_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    FEED_TYPES.iter().find(|f| **f == t).map(|f| *f == "application/json")
}

/// Whether a `rel` value lists `alternate`.
fn is_alternate(rel: &str) -> bool {
    rel.split_ascii_whitespace()
        .any(|r| r.eq_ignore_ascii_case("alternate"))
}

/// The feeds a page advertises with `<link rel="alternate" type="…">`, in
/// page order, resolved against its first `<base href>` or `page`.
fn page_links(html: &str, page: &Url) -> Vec<Candidate> {
    let tags = link_and_base_tags(html);
    let base = tags
        .iter()
        .find(|(name, _)| name == "base")
        .and_then(|(_, attrs)| attr(attrs, "href"))
        .and_then(|href| page.join(href.trim()).ok())
        .unwrap_or_else(|| page.clone());
    tags.iter()
        .filter(|(name, _)| name == "link")
        .filter_map(|(_, attrs)| {
            if !is_alternate(attr(attrs, "rel")?) {
                return None;
            }
            let weak = feed_type(attr(attrs, "type")?)?;
            let url = base.join(attr(attrs, "href")?.trim()).ok()?;
            matches!(url.scheme(), "http" | "https").then_some(Candidate {
                url,
                via: Via::PageLink,
                weak,
            })
        })
        .collect()
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// A tag's name and its attributes (name, value), as written.
type TagAttrs = (String, Vec<(String, String)>);

/// The attributes of every `<link>` and `<base>` start tag of `html`, as
/// the HTML tokenizer reads them (the content of `<script>`, `<style>`,
/// `<title>`, `<textarea>` and comments is not markup).
fn link_and_base_tags(html: &str) -> Vec<TagAttrs> {
    struct Sink(RefCell<Vec<TagAttrs>>);
    impl TokenSink for Sink {
        type Handle = ();
        fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
            let Token::TagToken(Tag {
                kind: TagKind::StartTag,
                name,
                attrs,
                ..
            }) = token
            else {
                return TokenSinkResult::Continue;
            };
            match &*name {
                "link" | "base" => {
                    let attrs = attrs
                        .iter()
                        .map(|a| (a.name.local.to_string(), a.value.to_string()))
                        .collect();
                    self.0.borrow_mut().push((name.to_string(), attrs));
                    TokenSinkResult::Continue
                }
                // What the HTML tree builder would switch the tokenizer to.
                "script" => TokenSinkResult::RawData(RawKind::ScriptData),
                "style" | "xmp" | "iframe" | "noembed" | "noframes" => TokenSinkResult::RawData(RawKind::Rawtext),
                "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
                "plaintext" => TokenSinkResult::Plaintext,
                _ => TokenSinkResult::Continue,
            }
        }
    }
    let input = BufferQueue::default();
    input.push_back(html.into());
    let tokenizer = Tokenizer::new(Sink(RefCell::new(Vec::new())), TokenizerOpts::default());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.0.into_inner()
}

/// The feeds advertised by `Link:` header values (RFC 8288): links with
/// `rel` listing `alternate` and a feed `type`, resolved against `page`.
fn header_links(values: &[String], page: &Url) -> Vec<Candidate> {
    let mut out = Vec::new();
    for value in values {
        for link in split_outside(value, ',') {
            let link = link.trim();
            let Some((target, params)) = link.strip_prefix('<').and_then(|l| l.split_once('>')) else {
                continue;
            };
            let mut rel = None;
            let mut media_type = None;
            for param in split_outside(params, ';') {
                let Some((key, val)) = param.split_once('=') else {
                    continue;
                };
                let val = val.trim().trim_matches('"');
                match key.trim().to_ascii_lowercase().as_str() {
                    "rel" => rel = rel.or(Some(val)),
                    "type" => media_type = media_type.or(Some(val)),
                    _ => {}
                }
            }
            let (Some(rel), Some(media_type)) = (rel, media_type) else {
                continue;
            };
            if !is_alternate(rel) {
                continue;
            }
            let Some(weak) = feed_type(media_type) else { continue };
            if let Ok(url) = page.join(target.trim())
                && matches!(url.scheme(), "http" | "https")
            {
                out.push(Candidate {
                    url,
                    via: Via::LinkHeader,
                    weak,
                });
            }
        }
    }
    out
}

/// `text` split at `sep` where it is outside `<…>` and double quotes.
fn split_outside(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut angle, mut quoted, mut escaped) = (0, false, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' if !angle => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            c if c == sep && !angle && !quoted => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("https://blog.example.org/posts/today.html").unwrap()
    }

    fn urls(c: &[Candidate]) -> Vec<&str> {
        c.iter().map(|c| c.url.as_str()).collect()
    }

    #[test]
    fn page_links_with_feed_types_in_page_order() {
        let html = r#"<!doctype html><html><head>
<title>A <link rel="alternate" type="application/rss+xml" href="/in-title"></title>
<link rel="stylesheet" href="/s.css">
<link rel="alternate" hreflang="de" href="/de/">
<LINK REL="Alternate" TYPE="application/atom+xml" HREF="atom.xml" title="Atom">
<link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/12">
<link rel="alternate" type="application/json+oembed" href="/oembed">
<link rel="alternate feed" type="application/rss+xml; charset=utf-8" href="https://blog.example.org/feed/">
<script>document.write('<link rel="alternate" type="application/rss+xml" href="/in-script">')</script>
<!-- <link rel="alternate" type="application/rss+xml" href="/in-comment"> -->
</head><body></body></html>"#;
        let c = page_links(html, &page());
        assert_eq!(
            urls(&c),
            [
                "https://blog.example.org/posts/atom.xml",
                "https://blog.example.org/wp-json/wp/v2/pages/12",
                "https://blog.example.org/feed/",
            ]
        );
        assert_eq!(c.iter().map(|c| c.weak).collect::<Vec<_>>(), [false, true, false]);
    }

    #[test]
    fn base_href_resolves_relative_links() {
        let html = r#"<head><base href="https://cdn.example.net/site/"><link rel=alternate type=application/rss+xml href=rss></head>"#;
        assert_eq!(urls(&page_links(html, &page())), ["https://cdn.example.net/site/rss"]);
    }

    #[test]
    fn link_headers_with_alternate_feed_types() {
        let values = vec![
            r#"</feed.xml>; rel="alternate"; type="application/rss+xml"; title="a, b; c", <https://blog.example.org/de/>; rel=alternate; hreflang=de"#.to_string(),
            "<https://cdn.example.net/atom>; type=\"application/atom+xml\"; rel=\"alternate\"".to_string(),
            "</style.css>; rel=preload; as=style".to_string(),
        ];
        let c = header_links(&values, &page());
        assert_eq!(
            urls(&c),
            ["https://blog.example.org/feed.xml", "https://cdn.example.net/atom"]
        );
        assert!(c.iter().all(|c| c.via == Via::LinkHeader));
    }

    #[test]
    fn split_outside_respects_angles_and_quotes() {
        assert_eq!(
            split_outside(r#"<a,b>; t="x,\"y"; z, <c>"#, ','),
            [r#"<a,b>; t="x,\"y"; z"#, " <c>"]
        );
    }
}
