//! Normalization: one parsed [`RawItem`] in, one clean and safe [`Entry`] out.
//!
//! This module owns everything that makes an item presentable and
//! comparable:
//!
//! * text hygiene — Unicode NFC and removal of characters XML cannot carry
//!   ([`clean_text`]), entity decoding and tag stripping for fields that are
//!   plain text by nature ([`plain_text`]);
//! * HTML safety — a tag/attribute/URL-scheme allowlist applied with ammonia,
//!   relative links made absolute, and a nesting-depth cap that protects the
//!   sanitizer from pathological input ([`html::sanitize`]);
//! * link identity — the canonical form of a story's URL used to recognise the
//!   same story across sources ([`canonical_link`]);
//! * the entry's dates, language, author and category policy, and a stable
//!   hash of its visible content ([`content_hash`]).
//!
//! It must not know where an item came from or where it goes: no I/O, no
//! database, no HTTP, no configuration, no knowledge of the output formats
//! (the writers escape plain text themselves) and no dedup policy beyond
//! providing the canonical link and the content hash. Every function here is
//! a pure function of its arguments.

use std::collections::HashSet;
use std::hash::Hasher;

use chrono::{DateTime, Duration, Utc};
use siphasher::sip128::{Hasher128, SipHasher13};
use url::Url;

use crate::html;
pub use crate::html::text::clean_text;
use crate::html::text::{collapse_whitespace, is_blank, is_unwanted_char, strip_tags, visible_text};
use crate::model::{Entry, FeedInfo, RawItem};

/// Everything normalization needs to know besides the item.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The final URL the feed was fetched from (after redirects), or its
    /// `file://` URL; the base for relative links. Only an `http`/`https`
    /// base is ever used to absolutize links inside HTML.
    pub base_url: Option<&'a Url>,
    /// Feed-level facts of the document the item came from.
    pub feed: &'a FeedInfo,
    /// The time of this poll: the first-seen time of new items, the fallback
    /// date of undated ones and the limit for dates in the future.
    pub now: DateTime<Utc>,
}

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

/// Raw `content`/`summary` beyond this many bytes is cut before sanitizing.
const MAX_HTML_BYTES: usize = 4 * 1024 * 1024;

/// Raw title bytes looked at; the cleaned title is then capped in chars.
const MAX_RAW_TITLE_BYTES: usize = 64 * 1024;

/// Longest title kept, in chars.
const MAX_TITLE_CHARS: usize = 2_000;

/// Length of a title made from the entry's text, in chars, ellipsis included.
const FALLBACK_TITLE_CHARS: usize = 80;

/// Longest joined author string kept, in chars.
const MAX_AUTHOR_CHARS: usize = 2_000;

/// Most categories kept per entry.
const MAX_CATEGORIES: usize = 64;

/// Longest category kept, in chars.
const MAX_CATEGORY_CHARS: usize = 200;

/// Longest language tag kept (BCP 47 tags are at most 35 chars in practice).
const MAX_LANGUAGE_CHARS: usize = 35;

/// How far in the future a date may be before it is treated as "now".
const FUTURE_SLACK_MINUTES: i64 = 10;

/// Title of an entry that has no title, text or link at all.
const UNTITLED: &str = "(untitled)";

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

/// Fixed SipHash keys of [`content_hash`]; changing them changes every hash.
const HASH_KEYS: (u64, u64) = (0x7472_6962_7574_6172, 0x792d_636f_6e74_656e);

// ---------------------------------------------------------------------------

// Entry point
// ---------------------------------------------------------------------------

/// Turns one parsed item into a normalized entry.
///
/// * `title` — [`plain_text`] of the item title, at most 2,000 chars; an
///   empty title falls back to the first 80 chars of the entry's text, then
///   to its link, then to `(untitled)`.
/// * `link` — kept only when it is (or resolves against
///   [`Context::base_url`] to) an absolute `http`/`https` URL; `javascript:`,
///   `data:`, `file:` and unparseable links are dropped. `canonical_link` is
///   derived from it.
/// * `content_html` / `summary_html` — sanitized with [`html::sanitize`]
///   (plain-text items are escaped into paragraphs first), relative URLs
///   resolved against the item's content base, else its link, else the feed
///   URL. A summary-only item gets its summary as content; a summary equal to
///   the content is dropped; empty results are `None`.
/// * `author`, `categories`, `language` — cleaned, deduplicated and capped.
/// * `published` — published, else updated, else [`Context::now`]; dates more
///   than ten minutes in the future become `now`. `updated` is the item's
///   updated date under the same rule, else `published`, and never earlier
///   than `published`.
pub fn normalize(item: &RawItem, cx: &Context<'_>) -> Entry {
    let base = cx.base_url;
    let http_base = base.filter(|u| is_http(u));

    let link = item.link.as_deref().and_then(|l| entry_link(l, base));
    let link_url = link.as_ref().map(|(url, _)| url);
    let link_text = link.as_ref().map(|(_, text)| text.clone());
    let canonical = link_text.as_deref().and_then(canonical_link);

    let content_base = item
        .content_base
        .as_deref()
        .and_then(|cb| resolve_http(cb, link_url.or(base)))
        .or_else(|| link_url.cloned())
        .or_else(|| http_base.cloned());

    let render = |raw: &str| -> Option<String> {
        let raw = truncate_bytes(raw, MAX_HTML_BYTES);
        let html = if item.text_only {
            text_to_html(raw)
        } else {
            html::sanitize(raw, content_base.as_ref())
        };
        (!is_blank(&html)).then_some(html)
    };
    let content = item.content.as_deref().and_then(render);
    let summary = item.summary.as_deref().and_then(render);
    let (content_html, summary_html) = match (content, summary) {
        (None, summary) => (summary, None),
        (Some(content), Some(summary)) if summary == content => (Some(content), None),
        pair => pair,
    };

    let mut title = plain_text(truncate_bytes(item.title.as_deref().unwrap_or(""), MAX_RAW_TITLE_BYTES));
    truncate_chars_in_place(&mut title, MAX_TITLE_CHARS);
    if title.is_empty() {
        title = summary_html
            .as_deref()
            .or(content_html.as_deref())
            .map(|html| ellipsize(&visible_text(html), FALLBACK_TITLE_CHARS))
            .filter(|t| !t.is_empty())
            .or_else(|| link_text.clone())
            .unwrap_or_else(|| UNTITLED.to_owned());
    }

    let mut author = dedupe_exact(item.authors.iter().map(|a| plain_text(a))).join(", ");
    truncate_chars_in_place(&mut author, MAX_AUTHOR_CHARS);
    let author = (!author.is_empty()).then_some(author);

    let categories = clean_categories(&item.categories);

    let language = item
        .language
        .as_deref()
        .and_then(language_tag)
        .or_else(|| cx.feed.language.as_deref().and_then(language_tag));

    let (published, updated) = entry_dates(item.published, item.updated, cx.now);

    let content_hash = content_hash(
        &title,
        link_text.as_deref(),
        summary_html.as_deref(),
        content_html.as_deref(),
    );

    Entry {
        item_id: item.id.clone(),
        title,
        link: link_text,
        canonical_link: canonical,
        summary_html,
        content_html,
        author,
        categories,
        language,
        published,
        updated,
        content_hash,
    }
}

/// Resolves an item link; returns the URL and the string to display.
///
/// An absolute link is displayed exactly as written (trimmed) unless it
/// contains whitespace or control characters, in which case the URL's own
/// serialization is used; a relative link is displayed resolved.
fn entry_link(raw: &str, base: Option<&Url>) -> Option<(Url, String)> {
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
fn resolve_http(raw: &str, base: Option<&Url>) -> Option<Url> {
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

fn is_http(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https")
}

/// Publication and update dates: published, else updated, else `now`; no
/// date later than `now` plus the slack; `updated` never before `published`.
fn entry_dates(
    published: Option<DateTime<Utc>>,
    updated: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let limit = now + Duration::minutes(FUTURE_SLACK_MINUTES);
    let credible = |d: DateTime<Utc>| if d > limit { now } else { d };
    let published = published.or(updated).map_or(now, credible);
    let updated = updated.map_or(published, credible).max(published);
    (published, updated)
}

/// Plain-text categories: empty ones dropped, duplicates (ignoring case)
/// dropped keeping the first spelling, each capped, at most 64.
fn clean_categories(raw: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for category in raw {
        if out.len() == MAX_CATEGORIES {
            break;
        }
        let mut text = plain_text(truncate_bytes(category, MAX_RAW_TITLE_BYTES));
        truncate_chars_in_place(&mut text, MAX_CATEGORY_CHARS);
        if !text.is_empty() && seen.insert(text.to_lowercase()) {
            out.push(text);
        }
    }
    out
}

/// Non-empty strings in order, exact duplicates removed.
fn dedupe_exact(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    items.filter(|s| !s.is_empty() && seen.insert(s.clone())).collect()
}

/// A BCP 47-ish language tag: the leading run of letters, digits, `-` and
/// `_` (so `en-US;q=0.8` or `fr, en` keep their first tag), `_` written as
/// `-`, stray dashes trimmed, at most 35 chars.
fn language_tag(raw: &str) -> Option<String> {
    let tag: String = raw
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .map(|c| if c == '_' { '-' } else { c })
        .take(MAX_LANGUAGE_CHARS)
        .collect();
    let tag = tag.trim_matches('-');
    (!tag.is_empty()).then(|| tag.to_owned())
}

// ---------------------------------------------------------------------------

// Links
// ---------------------------------------------------------------------------

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
///   [`TRACKING_PARAMS`], and `ref` / `source` when their value is a tracking
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

// ---------------------------------------------------------------------------

// Text
// ---------------------------------------------------------------------------

/// The feed-level facts cleaned as an entry's are: the title becomes plain
/// text like an entry title ([`plain_text`]: a channel `<title>` holding
/// `<script>` markup is published as its text, never as markup), and an id
/// or site link that is blank after cleaning is dropped.
pub fn feed_info(info: FeedInfo) -> FeedInfo {
    let nonblank = |s: String| Some(s).filter(|s| !s.is_empty());
    FeedInfo {
        id: info.id.map(|id| clean_text(id.trim())).and_then(nonblank),
        title: info.title.map(|t| plain_text(&t)).and_then(nonblank),
        site_link: info.site_link.map(|l| clean_text(l.trim())).and_then(nonblank),
        ..info
    }
}

/// Plain text for titles, author names and categories.
///
/// Entities are decoded once (`AT&amp;T` → `AT&T`, `&rsquo;` → `’`); then
/// anything that looks like an HTML tag is removed — so a title sent as
/// `&lt;b&gt;Hi&lt;/b&gt;` or `<b>Hi</b>` becomes `Hi` — then the text is
/// cleaned ([`clean_text`]), runs of ASCII whitespace and line separators
/// collapse to one space and the ends are trimmed. No-break spaces are kept
/// (they are meaningful, e.g. in French typography).
///
/// Only known HTML element names count as tags, written in lower case or, for
/// names of two letters or more, in upper case: `Vec<T>`, `Option<String>`,
/// `a < b` and `<3` stay as they are. The result is never HTML-escaped.
pub fn plain_text(s: &str) -> String {
    let decoded = htmlize::unescape(s);
    let stripped = strip_tags(&decoded);
    collapse_whitespace(&clean_text(&stripped))
}

/// Plain text as HTML: escaped, blank-line-separated paragraphs in `<p>`,
/// single line breaks as `<br>`.
fn text_to_html(text: &str) -> String {
    let text = clean_text(text).replace("\r\n", "\n").replace('\r', "\n");
    let mut html = String::with_capacity(text.len() + 16);
    let mut paragraph: Vec<&str> = Vec::new();
    let flush = |html: &mut String, paragraph: &mut Vec<&str>| {
        if paragraph.is_empty() {
            return;
        }
        html.push_str("<p>");
        for (i, line) in paragraph.iter().enumerate() {
            if i > 0 {
                html.push_str("<br>");
            }
            html.push_str(&htmlize::escape_text(*line));
        }
        html.push_str("</p>");
        paragraph.clear();
    };
    for line in text.split('\n') {
        if line.trim().is_empty() {
            flush(&mut html, &mut paragraph);
        } else {
            paragraph.push(line.trim_end());
        }
    }
    flush(&mut html, &mut paragraph);
    // The same canonical serialization as sanitized HTML.
    html::sanitize(&html, None)
}

/// The first `max` chars of `text`, ending with `…` when it was cut.
fn ellipsize(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// `s` cut to at most `max` bytes, on a char boundary.
fn truncate_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn truncate_chars_in_place(s: &mut String, max: usize) {
    if let Some((end, _)) = s.char_indices().nth(max) {
        s.truncate(end);
        s.truncate(s.trim_end().len());
    }
}

// ---------------------------------------------------------------------------

// Hash
// ---------------------------------------------------------------------------

/// A stable hex digest of an entry's visible content: SipHash-1-3 (128-bit,
/// fixed keys) over the length-prefixed fields, so it changes exactly when
/// the title, link, summary or content changes and is the same on every
/// platform and every run. `None` and `Some("")` hash differently.
pub fn content_hash(entry_title: &str, link: Option<&str>, summary: Option<&str>, content: Option<&str>) -> String {
    let mut hasher = SipHasher13::new_with_keys(HASH_KEYS.0, HASH_KEYS.1);
    hasher.write(b"tributary-content-v1");
    for field in [Some(entry_title), link, summary, content] {
        match field {
            None => hasher.write(&[0]),
            Some(text) => {
                hasher.write(&[1]);
                hasher.write(&(text.len() as u64).to_le_bytes());
                hasher.write(text.as_bytes());
            }
        }
    }
    let hash = hasher.finish128();
    format!("{:016x}{:016x}", hash.h1, hash.h2)
}

// ---------------------------------------------------------------------------

// HTML
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------

// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::time::{Duration as StdDuration, Instant};

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap()
    }

    // ---- canonical_link ---------------------------------------------------

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

    // ---- text -------------------------------------------------------------

    #[test]
    fn plain_text_titles() {
        let cases = [
            ("L&rsquo;Alleanza", "L’Alleanza"),
            ("AT&amp;T", "AT&T"),
            ("&lt;b&gt;Hi&lt;/b&gt;", "Hi"),
            ("<b>Hi</b> there", "Hi there"),
            ("<B>Bold</B>", "<B>Bold</B>"),
            ("<STRONG>Loud</STRONG>", "Loud"),
            ("a < b and c > d", "a < b and c > d"),
            ("I <3 Rust", "I <3 Rust"),
            ("Vec<T> and Option<String>", "Vec<T> and Option<String>"),
            ("Box&lt;dyn Error&gt;", "Box<dyn Error>"),
            ("HashMap<K, V>", "HashMap<K, V>"),
            ("Hello<br>World", "Hello World"),
            ("Hello<br/>World<p>again</p>", "Hello World again"),
            ("<a href=\"x>y\">link</a>", "link"),
            ("x <!-- note --> y", "x y"),
            ("<![CDATA[Inside]]>", "Inside"),
            ("&amp;lt;b&amp;gt;", "&lt;b&gt;"),
            ("  many \t spaces\n\nand\r\nlines  ", "many spaces and lines"),
            ("Line\u{2028}sep", "Line sep"),
            ("Prix\u{A0}: 5\u{A0}€", "Prix\u{A0}: 5\u{A0}€"),
            ("Caf&eacute; e\u{301}", "Café é"),
            ("bell\u{7}char", "bellchar"),
            ("&#1;&#x0;&#xD800;&#x110000;&#xFFFF;ok", "\u{FFFD}\u{FFFD}\u{FFFD}ok"),
            ("<script>alert(1)</script>", "alert(1)"),
            ("<unknown>tag</unknown>", "<unknown>tag</unknown>"),
            ("", ""),
            ("   ", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(plain_text(input), expected, "{input:?}");
        }
    }

    #[test]
    fn feed_title_markup_is_cleaned_like_an_entry_title() {
        let info = feed_info(FeedInfo {
            id: Some("  urn:x:1 ".into()),
            title: Some("<script>alert(1)</script> Le &lt;b&gt;notizie&lt;/b&gt;".into()),
            site_link: Some("   ".into()),
            ..FeedInfo::default()
        });
        let title = info.title.unwrap();
        assert!(!title.contains('<') && !title.contains("&lt;"), "{title}");
        assert!(title.ends_with("Le notizie"), "{title}");
        assert_eq!(info.id.as_deref(), Some("urn:x:1"));
        assert_eq!(info.site_link, None);
        assert_eq!(
            feed_info(FeedInfo {
                title: Some("<b></b>".into()),
                ..FeedInfo::default()
            })
            .title,
            None
        );
    }

    #[test]
    fn plain_text_is_not_escaped() {
        assert_eq!(plain_text("Tom & Jerry's \"show\""), "Tom & Jerry's \"show\"");
    }

    #[test]
    fn language_tags() {
        assert_eq!(language_tag("en-US").as_deref(), Some("en-US"));
        assert_eq!(language_tag(" pt_BR ").as_deref(), Some("pt-BR"));
        assert_eq!(language_tag("en-US;q=0.8").as_deref(), Some("en-US"));
        assert_eq!(language_tag("fr, en").as_deref(), Some("fr"));
        assert_eq!(language_tag("-de-").as_deref(), Some("de"));
        assert_eq!(language_tag("<script>"), None);
        assert_eq!(language_tag(""), None);
        assert_eq!(language_tag(&"a".repeat(100)).unwrap().len(), MAX_LANGUAGE_CHARS);
    }

    #[test]
    fn ellipsize_and_truncate() {
        assert_eq!(ellipsize("short", 80), "short");
        let long = "è".repeat(100);
        let cut = ellipsize(&long, 80);
        assert_eq!(cut.chars().count(), 80);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate_bytes("aè", 2), "a");
        assert_eq!(truncate_bytes("aè", 3), "aè");
        let mut s = "ab cd".to_owned();
        truncate_chars_in_place(&mut s, 3);
        assert_eq!(s, "ab");
    }

    // ---- content hash -----------------------------------------------------

    #[test]
    fn content_hash_is_stable_and_length_prefixed() {
        let h = content_hash("Title", Some("https://ex.com/"), None, Some("<p>x</p>"));
        assert_eq!(h.len(), 32);
        assert!(h.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(
            h,
            content_hash("Title", Some("https://ex.com/"), None, Some("<p>x</p>"))
        );
        assert_ne!(
            content_hash("ab", None, None, None),
            content_hash("a", Some("b"), None, None)
        );
        assert_ne!(
            content_hash("a", None, None, None),
            content_hash("a", Some(""), None, None)
        );
        assert_ne!(
            content_hash("t", None, Some("x"), None),
            content_hash("t", None, None, Some("x"))
        );
        // Pinned: the hash is persisted, so it must not change between releases.
        assert_eq!(content_hash("", None, None, None), PINNED_EMPTY_HASH);
    }

    const PINNED_EMPTY_HASH: &str = "4154a185a0d4bd75778436ec42b834e3";

    // ---- sanitize_html ----------------------------------------------------

    // ---- depth cap --------------------------------------------------------

    // ---- normalize --------------------------------------------------------

    fn item() -> RawItem {
        RawItem {
            id: "guid-1".into(),
            title: Some("A title".into()),
            link: Some("https://example.com/story".into()),
            content: Some("<p>Body</p>".into()),
            ..RawItem::default()
        }
    }

    fn run(item: &RawItem) -> Entry {
        let base = url("https://example.com/feed.xml");
        let feed = FeedInfo {
            language: Some("it".into()),
            ..FeedInfo::default()
        };
        normalize(
            item,
            &Context {
                base_url: Some(&base),
                feed: &feed,
                now: now(),
            },
        )
    }

    #[test]
    fn normalize_basic_entry() {
        let entry = run(&item());
        assert_eq!(entry.item_id, "guid-1");
        assert_eq!(entry.title, "A title");
        assert_eq!(entry.link.as_deref(), Some("https://example.com/story"));
        assert_eq!(entry.canonical_link.as_deref(), Some("https://example.com/story"));
        assert_eq!(entry.content_html.as_deref(), Some("<p>Body</p>"));
        assert_eq!(entry.summary_html, None);
        assert_eq!(entry.language.as_deref(), Some("it"));
        assert_eq!(entry.published, now());
        assert_eq!(entry.updated, now());
        assert_eq!(
            entry.content_hash,
            content_hash("A title", Some("https://example.com/story"), None, Some("<p>Body</p>"))
        );
    }

    #[test]
    fn normalize_italian_byte_exact() {
        let title = "L’Alleanza Sino-Russa non è un fenomeno passeggero…";
        let content = "<p>“un modello di relazioni”</p>";
        let entry = run(&RawItem {
            title: Some(title.into()),
            content: Some(content.into()),
            ..item()
        });
        assert_eq!(entry.title.as_bytes(), title.as_bytes());
        assert_eq!(entry.content_html.as_deref().unwrap().as_bytes(), content.as_bytes());
    }

    #[test]
    fn normalize_title_rules() {
        let entry = run(&RawItem {
            title: Some("  AT&amp;T &lt;b&gt;wins&lt;/b&gt;\n e\u{301}\u{1} ".into()),
            ..item()
        });
        assert_eq!(entry.title, "AT&T wins é");

        let long_text = format!("<p>{}</p>", "parola ".repeat(50));
        let entry = run(&RawItem {
            title: None,
            content: Some(long_text),
            ..item()
        });
        assert_eq!(entry.title.chars().count(), 80);
        assert!(entry.title.starts_with("parola parola"));
        assert!(entry.title.ends_with('…'));

        let entry = run(&RawItem {
            title: Some("<b></b>".into()),
            content: Some("<p>Tom &amp; <i>Jerry</i></p>".into()),
            ..item()
        });
        assert_eq!(entry.title, "Tom & Jerry");

        let entry = run(&RawItem {
            title: None,
            content: None,
            ..item()
        });
        assert_eq!(entry.title, "https://example.com/story");

        let entry = run(&RawItem {
            title: None,
            content: None,
            link: None,
            ..item()
        });
        assert_eq!(entry.title, "(untitled)");

        let entry = run(&RawItem {
            title: Some("é".repeat(3_000)),
            ..item()
        });
        assert_eq!(entry.title.chars().count(), MAX_TITLE_CHARS);
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

    #[test]
    fn normalize_summary_and_content() {
        let entry = run(&RawItem {
            content: None,
            summary: Some("<p>Only summary</p>".into()),
            ..item()
        });
        assert_eq!(entry.content_html.as_deref(), Some("<p>Only summary</p>"));
        assert_eq!(entry.summary_html, None);

        let entry = run(&RawItem {
            content: Some("<p>Same</p><script>x</script>".into()),
            summary: Some("<p>Same</p>".into()),
            ..item()
        });
        assert_eq!(entry.content_html.as_deref(), Some("<p>Same</p>"));
        assert_eq!(entry.summary_html, None);

        let entry = run(&RawItem {
            content: Some("<p>Full text</p>".into()),
            summary: Some("Short".into()),
            ..item()
        });
        assert_eq!(entry.content_html.as_deref(), Some("<p>Full text</p>"));
        assert_eq!(entry.summary_html.as_deref(), Some("Short"));

        let entry = run(&RawItem {
            content: Some("<script>only()</script><p> </p>".into()),
            summary: Some("<p>Fallback</p>".into()),
            ..item()
        });
        assert_eq!(entry.content_html.as_deref(), Some("<p>Fallback</p>"));
        assert_eq!(entry.summary_html, None);

        let entry = run(&RawItem {
            content: Some("<img src=\"https://example.com/i.png\">".into()),
            ..item()
        });
        assert!(entry.content_html.is_some());

        let entry = run(&RawItem {
            content: Some("   ".into()),
            summary: None,
            ..item()
        });
        assert_eq!(entry.content_html, None);
    }

    #[test]
    fn normalize_text_only() {
        let entry = run(&RawItem {
            text_only: true,
            content: Some("First <line> & more\nsame para\r\n\r\n  \nSecond\u{A0}para".into()),
            ..item()
        });
        assert_eq!(
            entry.content_html.as_deref(),
            Some("<p>First &lt;line&gt; &amp; more<br>same para</p><p>Second&nbsp;para</p>")
        );
        let again = html::sanitize(entry.content_html.as_deref().unwrap(), None);
        assert_eq!(Some(again.as_str()), entry.content_html.as_deref());
    }

    #[test]
    fn normalize_authors_categories_language() {
        let entry = run(&RawItem {
            authors: vec!["Ada &amp; Co".into(), " ".into(), "<b>Bob</b>".into(), "Bob".into()],
            categories: vec![
                "Rust".into(),
                "rust".into(),
                "".into(),
                " <i>Web</i> ".into(),
                "x".repeat(300),
            ],
            language: Some("en_GB".into()),
            ..item()
        });
        assert_eq!(entry.author.as_deref(), Some("Ada & Co, Bob"));
        assert_eq!(entry.categories.len(), 3);
        assert_eq!(entry.categories[0], "Rust");
        assert_eq!(entry.categories[1], "Web");
        assert_eq!(entry.categories[2].chars().count(), MAX_CATEGORY_CHARS);
        assert_eq!(entry.language.as_deref(), Some("en-GB"));

        let many: Vec<String> = (0..100).map(|i| format!("tag{i}")).collect();
        let entry = run(&RawItem {
            categories: many,
            authors: vec![],
            ..item()
        });
        assert_eq!(entry.categories.len(), MAX_CATEGORIES);
        assert_eq!(entry.author, None);
    }

    #[test]
    fn normalize_dates() {
        let hour = Duration::hours(1);
        let past = now() - hour * 24;

        let entry = run(&RawItem {
            published: None,
            updated: None,
            ..item()
        });
        assert_eq!((entry.published, entry.updated), (now(), now()));

        let entry = run(&RawItem {
            published: Some(now() + hour * 48),
            ..item()
        });
        assert_eq!((entry.published, entry.updated), (now(), now()));

        let near = now() + Duration::minutes(5);
        let entry = run(&RawItem {
            published: Some(near),
            ..item()
        });
        assert_eq!(entry.published, near);

        let entry = run(&RawItem {
            published: None,
            updated: Some(past),
            ..item()
        });
        assert_eq!((entry.published, entry.updated), (past, past));

        let entry = run(&RawItem {
            published: Some(past),
            updated: Some(past - hour),
            ..item()
        });
        assert_eq!((entry.published, entry.updated), (past, past));

        let entry = run(&RawItem {
            published: Some(past),
            updated: Some(now() + hour * 5),
            ..item()
        });
        assert_eq!((entry.published, entry.updated), (past, now()));

        let entry = run(&RawItem {
            published: Some(past),
            updated: Some(past + hour),
            ..item()
        });
        assert_eq!((entry.published, entry.updated), (past, past + hour));
    }

    #[test]
    fn normalize_caps_content_size() {
        let big = format!("<p>{}</p>", "abcdè".repeat(1_000_000));
        let started = Instant::now();
        let entry = run(&RawItem {
            content: Some(big),
            ..item()
        });
        let content = entry.content_html.unwrap();
        assert!(content.len() <= MAX_HTML_BYTES + 16);
        assert!(content.ends_with("</p>"));
        assert!(started.elapsed() < StdDuration::from_secs(30));
    }
}
