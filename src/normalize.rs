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
//!   sanitizer from pathological input ([`sanitize_html`]);
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

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::hash::Hasher;

use chrono::{DateTime, Duration, Utc};
use siphasher::sip128::{Hasher128, SipHasher13};
use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
use url::Url;

use crate::model::{Entry, FeedInfo, RawItem};

mod meta;

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

/// The deepest element nesting [`sanitize_html`] hands to the HTML parser.
///
/// Deeper input is flattened to paragraphs of text: the parser and the
/// sanitizer cost grows with depth times size (40,000 nested `<div>`s took
/// seconds), and no real article nests this deep.
pub const MAX_HTML_DEPTH: usize = 512;

/// Most sanitizing passes before markup that does not settle is reduced to
/// its text (see [`sanitize_html`]).
const MAX_SANITIZE_PASSES: usize = 4;
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

/// Elements kept by [`sanitize_html`], sorted for binary search.
///
/// Ammonia's default allowlist plus `tfoot`: no scripting, styling, embedding,
/// forms or foreign (SVG/MathML) content.
const ALLOWED_TAGS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "area",
    "article",
    "aside",
    "b",
    "bdi",
    "bdo",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "data",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "map",
    "mark",
    "nav",
    "ol",
    "p",
    "pre",
    "q",
    "rp",
    "rt",
    "rtc",
    "ruby",
    "s",
    "samp",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "wbr",
];

/// Allowed elements that never have content or an end tag.
const VOID_TAGS: &[&str] = &["area", "br", "col", "hr", "img", "wbr"];

/// URL schemes allowed in `href` and `src`.
const URL_SCHEMES: &[&str] = &["http", "https", "mailto"];

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
/// * `content_html` / `summary_html` — sanitized with [`sanitize_html`]
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

    // Relative URLs in a text resolve against the innermost xml:base in
    // scope of it (RFC 3986), else the item's link, else the feed's address.
    let base_of = |declared: Option<&str>| {
        declared
            .and_then(|cb| resolve_http(cb, link_url.or(base)))
            .or_else(|| link_url.cloned())
            .or_else(|| http_base.cloned())
    };
    let content_base = base_of(item.content_base.as_deref());
    let summary_base = base_of(item.summary_base.as_deref());

    let render = |raw: &str, base: Option<&Url>| -> Option<String> {
        let raw = truncate_bytes(raw, MAX_HTML_BYTES);
        let html = if item.text_only {
            text_to_html(raw)
        } else {
            sanitize_html(raw, base)
        };
        (!is_blank_html(&html)).then_some(html)
    };
    let content = item.content.as_deref().and_then(|c| render(c, content_base.as_ref()));
    let summary = item.summary.as_deref().and_then(|s| render(s, summary_base.as_ref()));
    let content_from_summary = content.is_none();
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
            .map(|html| ellipsize(&html_to_text(html), FALLBACK_TITLE_CHARS))
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

    let meta = meta::clean(
        &item.meta,
        link_url.or(http_base),
        meta::Fields {
            content: content_html.is_some(),
            content_from_summary,
            summary: summary_html.is_some(),
        },
    );

    let content_hash = meta::extend_hash(
        content_hash(
            &title,
            link_text.as_deref(),
            summary_html.as_deref(),
            content_html.as_deref(),
        ),
        &meta,
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
        meta,
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

/// Cleans text for storage and for XML: removes the characters XML 1.0
/// cannot carry or discourages — C0 controls other than tab, newline and
/// carriage return, DEL, C1 controls, and the Unicode noncharacters
/// (`U+FDD0`–`U+FDEF`, `U+xFFFE`, `U+xFFFF`) — then applies Unicode NFC.
pub fn clean_text(s: &str) -> String {
    let stripped = strip_unwanted_chars(s);
    match is_nfc_quick(stripped.chars()) {
        IsNormalized::Yes => stripped.into_owned(),
        _ => stripped.nfc().collect(),
    }
}

/// `s` without the characters [`clean_text`] removes; no normalization.
fn strip_unwanted_chars(s: &str) -> Cow<'_, str> {
    match first_unwanted(s) {
        Some(at) => {
            let mut out = String::with_capacity(s.len());
            out.push_str(&s[..at]);
            out.extend(s[at..].chars().filter(|c| !is_unwanted_char(*c)));
            Cow::Owned(out)
        }
        None => Cow::Borrowed(s),
    }
}

/// Byte offset of the first character [`is_unwanted_char`] refuses, read off
/// the UTF-8 bytes: this runs over every HTML body several times, and almost
/// always finds nothing.
fn first_unwanted(s: &str) -> Option<usize> {
    /// Bytes checked at once for plain ASCII text, the common case: a
    /// branch-free test the compiler turns into vector instructions.
    const CHUNK: usize = 16;
    let plain = |x: u8| (x.wrapping_sub(0x20) < 0x5F) | (x == b'\t') | (x == b'\n') | (x == b'\r');
    let b = s.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut i = 0;
    while i < b.len() {
        while let Some(chunk) = b.get(i..i + CHUNK)
            && chunk.iter().fold(true, |ok, &x| ok & plain(x))
        {
            i += CHUNK;
        }
        let Some(&x) = b.get(i) else { break };
        let (len, unwanted) = match x {
            b'\t' | b'\n' | b'\r' => (1, false),
            0x00..=0x1F | 0x7F => (1, true),
            0x20..=0x7E => (1, false),
            // U+0080–U+009F.
            0xC2 => (2, (0x80..=0x9F).contains(&at(i + 1))),
            0xC0..=0xDF => (2, false),
            // U+FDD0–U+FDEF and U+FFFE, U+FFFF.
            0xEF => (
                3,
                (at(i + 1) == 0xB7 && (0x90..=0xAF).contains(&at(i + 2))) || (at(i + 1) == 0xBF && at(i + 2) >= 0xBE),
            ),
            0xE0..=0xEE => (3, false),
            // U+nFFFE, U+nFFFF of the other planes.
            _ => (4, at(i + 1) & 0x0F == 0x0F && at(i + 2) == 0xBF && at(i + 3) >= 0xBE),
        };
        if unwanted {
            return Some(i);
        }
        i += len;
    }
    None
}

fn is_unwanted_char(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{7F}'..='\u{9F}'
            | '\u{FDD0}'..='\u{FDEF}'
    ) || (u32::from(c) & 0xFFFE) == 0xFFFE
}

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
    let stripped = strip_tags(&decoded, TagNames::Known);
    collapse_whitespace(&clean_text(&stripped))
}

/// Visible text of sanitized HTML: tags removed first, then entities decoded.
fn html_to_text(html: &str) -> String {
    let stripped = strip_tags(html, TagNames::Any);
    collapse_whitespace(&clean_text(&htmlize::unescape(stripped.as_ref())))
}

fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s
        .split(|c: char| c.is_ascii_whitespace() || matches!(c, '\u{2028}' | '\u{2029}'))
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Which `<name ...>` sequences [`strip_tags`] treats as tags.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TagNames {
    /// Only known HTML element names (text that may legitimately hold `<`).
    Known,
    /// Any name (sanitized HTML, where every `<` starts markup).
    Any,
}

/// HTML element names recognised as tags inside plain-text fields.
const TEXT_TAG_NAMES: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "address",
    "article",
    "aside",
    "audio",
    "b",
    "bdi",
    "bdo",
    "big",
    "blink",
    "blockquote",
    "body",
    "br",
    "button",
    "caption",
    "center",
    "cite",
    "code",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "embed",
    "figcaption",
    "figure",
    "font",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hr",
    "html",
    "i",
    "iframe",
    "img",
    "input",
    "ins",
    "kbd",
    "label",
    "li",
    "link",
    "main",
    "mark",
    "math",
    "meta",
    "nav",
    "nobr",
    "object",
    "ol",
    "p",
    "picture",
    "pre",
    "q",
    "s",
    "samp",
    "script",
    "section",
    "small",
    "source",
    "span",
    "strike",
    "strong",
    "style",
    "sub",
    "summary",
    "sup",
    "svg",
    "table",
    "tbody",
    "td",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "time",
    "title",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "video",
    "wbr",
];

/// Tags that separate words; they become a space when stripped.
const WORD_BREAK_TAGS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "caption",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "td",
    "th",
    "tr",
    "ul",
];

/// Removes tag-like sequences, comments and `<!...>` declarations, keeping
/// the content of `<![CDATA[...]]>` sections. A `<` that does not start such
/// a sequence is kept.
fn strip_tags(s: &str, names: TagNames) -> Cow<'_, str> {
    if !s.contains('<') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let at = &rest[i..];
        if let Some(inner) = at.strip_prefix("<![CDATA[") {
            let end = inner.find("]]>").unwrap_or(inner.len());
            out.push_str(&inner[..end]);
            rest = inner.get(end + 3..).unwrap_or("");
            continue;
        }
        match tag_like_len(at, names) {
            Some((len, breaks)) => {
                if breaks {
                    out.push(' ');
                }
                rest = &at[len..];
            }
            None => {
                out.push('<');
                rest = &at[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Length of the tag-like sequence at the start of `s` (which starts with
/// `<`) and whether it separates words; `None` when `s` does not start one.
fn tag_like_len(s: &str, names: TagNames) -> Option<(usize, bool)> {
    let bytes = s.as_bytes();
    if let Some(comment) = s.strip_prefix("<!--") {
        return comment.find("-->").map(|e| (4 + e + 3, false));
    }
    if matches!(bytes.get(1), Some(b'!' | b'?')) {
        return s.find('>').map(|e| (e + 1, false));
    }
    let name_start = if bytes.get(1) == Some(&b'/') { 2 } else { 1 };
    if !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let mut i = name_start;
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'-') {
        i += 1;
    }
    let name = &s[name_start..i];
    if !matches!(bytes.get(i), Some(b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r' | b'\x0C')) {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    if names == TagNames::Known {
        let lower_case = name == lower;
        let upper_case = name.len() >= 2 && name == name.to_ascii_uppercase();
        if !(lower_case || upper_case) || !TEXT_TAG_NAMES.contains(&lower.as_str()) {
            return None;
        }
    }
    // Find the closing `>`, skipping quoted attribute values.
    let mut quote: Option<u8> = None;
    let mut after_equals = false;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == q {
                quote = None;
            }
        } else {
            match b {
                b'>' => return Some((i + 1, WORD_BREAK_TAGS.contains(&lower.as_str()))),
                b'"' | b'\'' if after_equals => {
                    quote = Some(b);
                    after_equals = false;
                }
                b'=' => after_equals = true,
                b if is_html_space(b) => {}
                _ => after_equals = false,
            }
        }
        i += 1;
    }
    None
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
    sanitize_html(&html, None)
}

/// Whether sanitized HTML shows nothing: no text and no image.
fn is_blank_html(html: &str) -> bool {
    !starts_with_plain_text(html) && html_to_text(html).is_empty() && !html.contains("<img")
}

/// Whether sanitized `html` has, outside its tags and before any `&`, an
/// ASCII letter or digit, which [`html_to_text`] certainly keeps: the quick
/// answer for almost every body, without building its text. Tags are read
/// as [`strip_tags`] reads them.
fn starts_with_plain_text(html: &str) -> bool {
    let mut rest = html;
    loop {
        let (text, tag) = match rest.find('<') {
            Some(i) => (&rest[..i], Some(&rest[i..])),
            None => (rest, None),
        };
        for b in text.bytes() {
            if b == b'&' {
                // An entity could join text across tags: leave it to the full reading.
                return false;
            }
            if b.is_ascii_alphanumeric() {
                return true;
            }
        }
        let Some(tag) = tag else {
            return false;
        };
        if tag.starts_with("<![CDATA[") {
            return false;
        }
        match tag_like_len(tag, TagNames::Any) {
            Some((len, _)) => rest = &tag[len..],
            // A `<` that starts no tag is kept as visible text.
            None => return true,
        }
    }
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

/// Sanitizes an HTML fragment for display in any feed reader or browser.
///
/// 1. Characters XML cannot carry are removed (as in [`clean_text`]) and the
///    input is re-tokenized into a simple canonical form: only allowed
///    elements, quoted attributes, no comments, doctypes or processing
///    instructions; `<script>` and `<style>` lose
///    their content, and the text of `<textarea>`, `<title>`, `<xmp>`,
///    `<iframe>`, `<noembed>`, `<noframes>` and `<plaintext>` is kept as
///    text. While doing so a conservative model of the HTML tree builder
///    tracks the nesting depth; when it would exceed [`MAX_HTML_DEPTH`] the
///    markup is dropped altogether and the text is wrapped in paragraphs.
/// 2. ammonia applies the allowlist: ammonia's default elements (plus
///    `tfoot`) and their default attributes except `cite`; no `style`, no
///    event handlers, no `srcset`; URLs only `http`, `https` and `mailto`;
///    links get `rel="noopener noreferrer"`; empty `href`/`src` are removed.
/// 3. Relative URLs are made absolute against `base` when it is an
///    `http`/`https` URL. Without such a base they are removed: left
///    relative, they would resolve against whatever site serves our feed.
/// 4. The serialized result goes through [`clean_text`] — with a guard that
///    keeps NFC from merging a tag's closing `>` with a combining mark that
///    follows it, since `>` + U+0338 composes to `≯` — and `]]>` is written
///    `]]&gt;` so the output can sit in a CDATA section.
///
/// Sanitizing the output again returns it unchanged. The HTML parser can
/// restructure its own serialization of mis-nested markup (a heading moved
/// into another by a misplaced table, say), so the passes above are repeated
/// on their own output until it no longer changes — usually one extra pass
/// confirms it — and markup still unsettled after four passes is reduced to
/// its text. The confirming pass is skipped when [`reparses_unchanged`]
/// shows the output is one the HTML parser reads back as written.
pub fn sanitize_html(html: &str, base: Option<&Url>) -> String {
    let relative = match base.filter(|u| is_http(u)) {
        Some(base) => ammonia::UrlRelative::RewriteWithBase(base.clone()),
        None => ammonia::UrlRelative::Deny,
    };
    BUILDER.with_borrow_mut(|builder| {
        builder.url_relative(relative);
        sanitize_with(html, builder)
    })
}

/// [`sanitize_html`] with the builder chosen.
fn sanitize_with(html: &str, builder: &ammonia::Builder<'_>) -> String {
    let mut out = sanitize_pass(html, builder);
    if reparses_unchanged(&out) {
        debug_assert_eq!(
            sanitize_pass(&out, builder),
            out,
            "a settled sanitization changed on another pass"
        );
        return out;
    }
    for _ in 1..MAX_SANITIZE_PASSES {
        let again = sanitize_pass(&out, builder);
        if again == out {
            return out;
        }
        out = again;
    }
    // The parser keeps restructuring its own serialization: keep the text.
    finish_markup(&builder.clean(&flatten_html(&out)).to_string())
}

/// One sanitizing pass; see [`sanitize_html`].
fn sanitize_pass(html: &str, builder: &ammonia::Builder<'_>) -> String {
    let input = strip_unwanted_chars(html);
    let prepared = prepare_html(&input).unwrap_or_else(|| flatten_html(&input));
    finish_markup(&builder.clean(&prepared).to_string())
}

/// Allowed elements in the HTML parser's "special" category: a start `<li>`
/// (`<dd>`, `<dt>`) looks for an open one to close only up to the nearest of
/// these, other than `div` and `p`.
const SPECIAL_TAGS: &[&str] = &[
    "area",
    "article",
    "aside",
    "blockquote",
    "br",
    "caption",
    "center",
    "col",
    "colgroup",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "img",
    "li",
    "nav",
    "ol",
    "p",
    "pre",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
    "wbr",
];

/// Whether sanitized, serialized `html` is certain to come back unchanged
/// from another [`sanitize_pass`], so that pass can be skipped.
///
/// Conservative: `true` only when the markup is already in canonical form
/// ([`prepare_html`] and the character filter leave it alone), contains no
/// carriage return (the parser turns it into a newline), and is a token
/// stream on which the HTML tree builder does nothing but open and close:
/// every end tag closes the element on top, every element is closed, no
/// start tag closes an open `<p>`, `<li>`, `<dd>`/`<dt>`, heading or `<a>`
/// or triggers ruby's implied end tags, and table parts appear only where
/// they belong with nothing but whitespace text between them. The parser
/// then builds the tree that was serialized, the allowlist keeps it as it
/// is, and the serializer writes the same text. Anything else returns
/// `false` and gets the confirming pass.
fn reparses_unchanged(html: &str) -> bool {
    if html.contains('\r') || matches!(strip_unwanted_chars(html), Cow::Owned(_)) {
        return false;
    }
    if prepare_html(html).as_deref() != Some(html) {
        return false;
    }
    let mut stack: Vec<&'static str> = Vec::new();
    let open = |stack: &[&str], name: &str| stack.contains(&name);
    for token in Tokenizer::new(html) {
        let top = stack.last().copied();
        let in_table_structure = matches!(top, Some("table" | "tbody" | "thead" | "tfoot" | "tr" | "colgroup"));
        match token {
            Token::Raw { .. } => return false,
            Token::Text(text) => {
                let whitespace = text.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\x0c'));
                if in_table_structure && !whitespace {
                    return false;
                }
            }
            Token::Start(tag) => {
                let Some(name) = allowed_tag(&tag.name) else {
                    return false;
                };
                if tag.self_closing && !is_void(name) {
                    return false;
                }
                let fits = match top {
                    Some("table") => matches!(name, "caption" | "colgroup" | "tbody" | "thead" | "tfoot"),
                    Some("tbody" | "thead" | "tfoot") => name == "tr",
                    Some("tr") => matches!(name, "td" | "th"),
                    Some("colgroup") => name == "col",
                    _ => !matches!(
                        name,
                        "caption" | "col" | "colgroup" | "tbody" | "td" | "tfoot" | "th" | "thead" | "tr"
                    ),
                };
                if !fits {
                    return false;
                }
                let closes_something = match name {
                    _ if (CLOSES_P.contains(&name) || name == "table") && open(&stack, "p") => true,
                    _ if is_heading(name) && top.is_some_and(is_heading) => true,
                    "a" => open(&stack, "a"),
                    "li" | "dd" | "dt" => {
                        let same: &[&str] = if name == "li" { &["li"] } else { &["dd", "dt"] };
                        stack
                            .iter()
                            .rev()
                            .take_while(|n| !SPECIAL_TAGS.contains(n) || matches!(**n, "div" | "p") || same.contains(n))
                            .any(|n| same.contains(n))
                    }
                    "rp" | "rt" | "rtc" => {
                        open(&stack, "ruby") && matches!(top, Some("dd" | "dt" | "li" | "p" | "rp" | "rt" | "rtc"))
                    }
                    _ => false,
                };
                if closes_something {
                    return false;
                }
                if !is_void(name) {
                    stack.push(name);
                }
            }
            Token::End(name) => {
                if top != Some(name.as_str()) {
                    return false;
                }
                stack.pop();
            }
        }
    }
    stack.is_empty()
}

thread_local! {
    /// The sanitizer, one per thread, told each body's base URL (or that
    /// relative URLs go) before use: building one (a dozen hash sets) cost
    /// about as much as a tenth of sanitizing a 5 KB body.
    static BUILDER: RefCell<ammonia::Builder<'static>> = RefCell::new(html_builder());
}

/// The sanitizer's rules; relative URLs are dropped until
/// [`sanitize_html`] gives it a base.
fn html_builder() -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::default();
    builder
        .tags(ALLOWED_TAGS.iter().copied().collect())
        .rm_tag_attributes("blockquote", &["cite"])
        .rm_tag_attributes("q", &["cite"])
        .rm_tag_attributes("del", &["cite"])
        .rm_tag_attributes("ins", &["cite"])
        .url_schemes(URL_SCHEMES.iter().copied().collect())
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true)
        // An empty URL would otherwise become the base URL itself.
        .attribute_filter(|_element, attribute, value| {
            if matches!(attribute, "href" | "src") && value.trim().is_empty() {
                None
            } else {
                Some(Cow::Borrowed(value))
            }
        })
        .url_relative(ammonia::UrlRelative::Deny);
    builder
}

/// Final pass over serialized HTML: XML-unsafe characters removed, NFC made
/// safe for markup and applied, `]]>` escaped.
fn finish_markup(html: &str) -> String {
    let stripped = strip_unwanted_chars(html);
    // `>` followed by U+0338 composes to `≯` under NFC, which would turn the
    // end of a tag into text and the text after it into attributes. A
    // combining grapheme joiner after every `>` that precedes a combining
    // mark blocks any composition with the `>`.
    let combining_after_gt = |at: usize| {
        stripped[at + 1..]
            .chars()
            .next()
            .is_some_and(|c| canonical_combining_class(c) != 0)
    };
    let guarded = if memchr::memchr_iter(b'>', stripped.as_bytes()).any(combining_after_gt) {
        let mut guarded = String::with_capacity(stripped.len() + 8);
        let mut prev_gt = false;
        for c in stripped.chars() {
            if prev_gt && canonical_combining_class(c) != 0 {
                guarded.push('\u{34F}');
            }
            guarded.push(c);
            prev_gt = c == '>';
        }
        guarded
    } else {
        stripped.into_owned()
    };
    let normalized = match is_nfc_quick(guarded.chars()) {
        IsNormalized::Yes => guarded,
        _ => guarded.nfc().collect(),
    };
    let normalized = keep_pre_newlines(normalized);
    if normalized.contains("]]>") {
        normalized.replace("]]>", "]]&gt;")
    } else {
        normalized
    }
}

/// Doubles a newline that starts the content of a `<pre>`.
///
/// The HTML parser drops one newline right after `<pre>`, and the serializer
/// does not write it back, so without this every round trip would eat one.
/// `html` is serialized markup: every `<` outside a tag starts a tag, and
/// attribute values are double-quoted.
fn keep_pre_newlines(html: String) -> String {
    if !html.contains("<pre") {
        return html;
    }
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len() + 8);
    let mut copied = 0;
    let mut i = 0;
    while let Some(offset) = html[i..].find('<') {
        let start = i + offset;
        let mut end = start + 1;
        let mut quoted = false;
        while end < bytes.len() {
            match bytes[end] {
                b'"' => quoted = !quoted,
                b'>' if !quoted => break,
                _ => {}
            }
            end += 1;
        }
        i = (end + 1).min(bytes.len());
        let is_pre = html[start..].starts_with("<pre") && matches!(bytes.get(start + 4), Some(b'>' | b' '));
        if is_pre && bytes.get(i) == Some(&b'\n') {
            out.push_str(&html[copied..i]);
            out.push('\n');
            copied = i;
        }
    }
    out.push_str(&html[copied..]);
    out
}

/// How the content of an element whose text is not markup is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RawKind {
    /// `<script>`, `<style>`: content dropped.
    Dropped,
    /// `<textarea>`, `<title>`: text in which entities are decoded.
    Rcdata,
    /// `<xmp>`, `<iframe>`, `<noembed>`, `<noframes>`: literal text.
    Rawtext,
    /// `<plaintext>`: literal text up to the end of the input.
    Plaintext,
}

fn raw_kind(name: &str) -> Option<RawKind> {
    match name {
        "script" | "style" => Some(RawKind::Dropped),
        "textarea" | "title" => Some(RawKind::Rcdata),
        "xmp" | "iframe" | "noembed" | "noframes" => Some(RawKind::Rawtext),
        "plaintext" => Some(RawKind::Plaintext),
        _ => None,
    }
}

/// A start tag as written; names lower-cased, values not decoded.
#[derive(Debug, PartialEq)]
struct StartTag<'a> {
    name: String,
    attrs: Vec<(&'a str, &'a str)>,
    self_closing: bool,
}

/// One token of an HTML fragment.
#[derive(Debug, PartialEq)]
enum Token<'a> {
    /// Markup text, entities as written.
    Text(&'a str),
    /// The content of a raw-text element.
    Raw {
        text: &'a str,
        kind: RawKind,
    },
    Start(StartTag<'a>),
    /// An end tag's lower-cased name.
    End(String),
}

/// A small HTML tokenizer following the HTML tokenization rules for tags,
/// attributes, comments, bogus comments and raw-text elements. Comments,
/// doctypes and processing instructions are skipped.
struct Tokenizer<'a> {
    src: &'a str,
    pos: usize,
    raw: Option<(String, RawKind)>,
}

fn is_html_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

impl<'a> Tokenizer<'a> {
    fn new(src: &'a str) -> Self {
        Tokenizer { src, pos: 0, raw: None }
    }

    /// Position just after the next `>` at or after `from`, or the end.
    fn skip_to_gt(&self, from: usize) -> usize {
        self.src[from..].find('>').map_or(self.src.len(), |i| from + i + 1)
    }

    /// Position just after the comment whose data starts at `from`.
    fn comment_end(&self, from: usize) -> usize {
        let rest = &self.src[from..];
        if rest.starts_with('>') {
            return from + 1;
        }
        if rest.starts_with("->") {
            return from + 2;
        }
        let mut i = from;
        while let Some(offset) = self.src[i..].find("--") {
            let dashes = i + offset;
            let after = &self.src[dashes + 2..];
            if after.starts_with('>') {
                return dashes + 3;
            }
            if after.starts_with("!>") {
                return dashes + 4;
            }
            i = dashes + 1;
        }
        self.src.len()
    }

    /// Start of the end tag `</name` closing a raw-text element, or the end.
    fn raw_end(&self, from: usize, name: &str) -> usize {
        let bytes = self.src.as_bytes();
        let mut i = from;
        while let Some(offset) = self.src[i..].find("</") {
            let at = i + offset;
            let name_end = at + 2 + name.len();
            if name_end <= bytes.len()
                && bytes[at + 2..name_end].eq_ignore_ascii_case(name.as_bytes())
                && bytes
                    .get(name_end)
                    .is_some_and(|&b| is_html_space(b) || b == b'/' || b == b'>')
            {
                return at;
            }
            i = at + 2;
        }
        bytes.len()
    }

    /// Parses a tag whose name starts at `name_start`. Returns `None` (and
    /// consumes the rest) when the input ends inside the tag, which drops it.
    fn tag(&mut self, name_start: usize, end_tag: bool) -> Option<Token<'a>> {
        let src = self.src;
        let bytes = src.as_bytes();
        let len = bytes.len();
        let mut i = name_start;
        while i < len && !is_html_space(bytes[i]) && bytes[i] != b'/' && bytes[i] != b'>' {
            i += 1;
        }
        let name = src[name_start..i].to_ascii_lowercase();
        let mut attrs = Vec::new();
        let mut self_closing = false;
        loop {
            while i < len && is_html_space(bytes[i]) {
                i += 1;
            }
            if i >= len {
                self.pos = len;
                return None;
            }
            match bytes[i] {
                b'>' => {
                    i += 1;
                    break;
                }
                b'/' => {
                    i += 1;
                    if bytes.get(i) == Some(&b'>') {
                        self_closing = true;
                        i += 1;
                        break;
                    }
                    continue;
                }
                _ => {}
            }
            let attr_start = i;
            if bytes[i] == b'=' {
                i += 1;
            }
            while i < len && !is_html_space(bytes[i]) && !matches!(bytes[i], b'/' | b'>' | b'=') {
                i += 1;
            }
            let attr_name = &src[attr_start..i];
            while i < len && is_html_space(bytes[i]) {
                i += 1;
            }
            let mut value = "";
            if i < len && bytes[i] == b'=' {
                i += 1;
                while i < len && is_html_space(bytes[i]) {
                    i += 1;
                }
                if i >= len {
                    self.pos = len;
                    return None;
                }
                match bytes[i] {
                    quote @ (b'"' | b'\'') => {
                        let value_start = i + 1;
                        let Some(offset) = bytes[value_start..].iter().position(|&b| b == quote) else {
                            self.pos = len;
                            return None;
                        };
                        value = &src[value_start..value_start + offset];
                        i = value_start + offset + 1;
                    }
                    b'>' => {}
                    _ => {
                        let value_start = i;
                        while i < len && !is_html_space(bytes[i]) && bytes[i] != b'>' {
                            i += 1;
                        }
                        value = &src[value_start..i];
                    }
                }
            }
            attrs.push((attr_name, value));
        }
        self.pos = i;
        if end_tag {
            return Some(Token::End(name));
        }
        if let Some(kind) = raw_kind(&name) {
            self.raw = Some((name.clone(), kind));
        }
        Some(Token::Start(StartTag {
            name,
            attrs,
            self_closing,
        }))
    }
}

impl<'a> Iterator for Tokenizer<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let src = self.src;
        let bytes = src.as_bytes();
        let len = bytes.len();
        if let Some((name, kind)) = self.raw.take() {
            let start = self.pos;
            let end = if kind == RawKind::Plaintext {
                len
            } else {
                self.raw_end(start, &name)
            };
            self.pos = end;
            if end > start {
                return Some(Token::Raw {
                    text: &src[start..end],
                    kind,
                });
            }
        }
        while self.pos < len {
            let pos = self.pos;
            if bytes[pos] != b'<' {
                let end = src[pos..].find('<').map_or(len, |i| pos + i);
                self.pos = end;
                return Some(Token::Text(&src[pos..end]));
            }
            match bytes.get(pos + 1).copied() {
                Some(c) if c.is_ascii_alphabetic() => return self.tag(pos + 1, false),
                Some(b'/') => match bytes.get(pos + 2).copied() {
                    Some(c) if c.is_ascii_alphabetic() => return self.tag(pos + 2, true),
                    Some(b'>') => self.pos = pos + 3,
                    Some(_) => self.pos = self.skip_to_gt(pos + 2),
                    None => {
                        self.pos = len;
                        return Some(Token::Text(&src[pos..]));
                    }
                },
                Some(b'!') => {
                    self.pos = if src[pos..].starts_with("<!--") {
                        self.comment_end(pos + 4)
                    } else {
                        self.skip_to_gt(pos + 2)
                    };
                }
                Some(b'?') => self.pos = self.skip_to_gt(pos + 1),
                _ => {
                    let end = src[pos + 1..].find('<').map_or(len, |i| pos + 1 + i);
                    self.pos = end;
                    return Some(Token::Text(&src[pos..end]));
                }
            }
        }
        None
    }
}

/// Allowed element name as a static string, if `name` is allowed.
fn allowed_tag(name: &str) -> Option<&'static str> {
    ALLOWED_TAGS.binary_search(&name).ok().map(|i| ALLOWED_TAGS[i])
}

fn is_void(name: &str) -> bool {
    VOID_TAGS.contains(&name)
}

fn is_heading(name: &str) -> bool {
    matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

/// Start tags that close an open `<p>` (`table` is left out: whether it does
/// depends on the document's quirks mode).
const CLOSES_P: &[&str] = &[
    "article",
    "aside",
    "blockquote",
    "center",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "li",
    "nav",
    "ol",
    "p",
    "pre",
    "summary",
    "ul",
];

/// Elements closed implicitly by the end tag of an enclosing block.
const IMPLIED_END: &[&str] = &["dd", "dt", "li", "p", "rp", "rt", "rtc"];

/// Block elements whose end tag also closes the implied-end elements above.
const BLOCK_END: &[&str] = &[
    "article",
    "aside",
    "blockquote",
    "center",
    "details",
    "div",
    "dl",
    "figcaption",
    "figure",
    "footer",
    "header",
    "hgroup",
    "nav",
    "ol",
    "pre",
    "summary",
    "ul",
];

const TABLE_SECTION_END: &[&str] = &["dd", "dt", "li", "p", "rp", "rt", "rtc", "td", "th", "tr"];
const TABLE_ROW_END: &[&str] = &["dd", "dt", "li", "p", "rp", "rt", "rtc", "td", "th"];
const TABLE_END: &[&str] = &[
    "caption", "colgroup", "dd", "dt", "li", "p", "rp", "rt", "rtc", "tbody", "td", "tfoot", "th", "thead", "tr",
];

/// A conservative model of the depth of the HTML parser's stack of open
/// elements, fed with allowed tags only.
///
/// It may overestimate the depth but must never underestimate it by more
/// than a small constant factor, so it only closes an element when the HTML
/// tree builder certainly closes it too: an end tag closes the innermost open
/// element of that name only if it is on top, or if every element above it
/// is one the tree builder closes implicitly for that end tag (`</ul>` closes
/// an unclosed `<li>`, `</table>` unclosed cells and rows). Formatting
/// elements are never closed implicitly, because the tree builder reopens
/// them later; self-closing syntax on a non-void element opens it, as in
/// HTML; the `tbody` and `tr` the parser inserts around bare table cells are
/// counted.
#[derive(Debug, Default)]
struct DepthModel {
    stack: Vec<&'static str>,
}

impl DepthModel {
    fn top(&self) -> Option<&'static str> {
        self.stack.last().copied()
    }

    fn pop_if(&mut self, names: &[&str]) {
        if self.top().is_some_and(|top| names.contains(&top)) {
            self.stack.pop();
        }
    }

    /// Pushes an element; `false` when the depth cap is exceeded.
    fn push(&mut self, name: &'static str) -> bool {
        self.stack.push(name);
        self.stack.len() <= MAX_HTML_DEPTH
    }

    /// A start tag; `false` when the depth cap is exceeded.
    fn start(&mut self, name: &'static str) -> bool {
        if CLOSES_P.contains(&name) {
            self.pop_if(&["p"]);
        }
        match name {
            "li" => self.pop_if(&["li"]),
            "dd" | "dt" => self.pop_if(&["dd", "dt"]),
            "td" | "th" => self.pop_if(&["td", "th"]),
            "tr" => {
                self.pop_if(&["td", "th"]);
                self.pop_if(&["tr"]);
            }
            _ => {}
        }
        if is_void(name) {
            return true;
        }
        let in_section = matches!(self.top(), Some("tbody" | "thead" | "tfoot"));
        let needs_row = matches!(name, "td" | "th") && self.top() != Some("tr");
        let needs_section = (needs_row || name == "tr") && !in_section;
        if needs_section && !self.push("tbody") {
            return false;
        }
        if needs_row && !self.push("tr") {
            return false;
        }
        self.push(name)
    }

    /// An end tag.
    fn end(&mut self, name: &'static str) {
        let through: &[&str] = match name {
            "table" => TABLE_END,
            "tbody" | "thead" | "tfoot" => TABLE_SECTION_END,
            "tr" => TABLE_ROW_END,
            "td" | "th" | "caption" | "p" | "li" | "dd" | "dt" => IMPLIED_END,
            n if is_heading(n) || BLOCK_END.contains(&n) => IMPLIED_END,
            _ => &[],
        };
        let closes = |open: &str| open == name || (is_heading(name) && is_heading(open));
        for index in (0..self.stack.len()).rev() {
            let open = self.stack[index];
            if closes(open) {
                self.stack.truncate(index);
                return;
            }
            if !through.contains(&open) {
                return;
            }
        }
    }
}

/// Re-serializes `html` in the canonical form described in [`sanitize_html`];
/// `None` when its nesting exceeds [`MAX_HTML_DEPTH`].
fn prepare_html(html: &str) -> Option<String> {
    let mut out = String::with_capacity(html.len() + html.len() / 8);
    let mut model = DepthModel::default();
    for token in Tokenizer::new(html) {
        match token {
            Token::Text(text) => push_markup_text(&mut out, text),
            Token::Raw { text, kind } => push_raw_text(&mut out, text, kind),
            Token::Start(tag) => {
                let Some(name) = allowed_tag(&tag.name) else {
                    continue;
                };
                if !model.start(name) {
                    return None;
                }
                out.push('<');
                out.push_str(name);
                for (attr, value) in tag.attrs {
                    if !is_simple_attr_name(attr) {
                        continue;
                    }
                    out.push(' ');
                    out.extend(attr.chars().map(|c| c.to_ascii_lowercase()));
                    out.push_str("=\"");
                    out.push_str(&value.replace('"', "&quot;"));
                    out.push('"');
                }
                out.push('>');
            }
            Token::End(name) => {
                let Some(name) = allowed_tag(&name) else {
                    continue;
                };
                if name == "br" {
                    // The HTML parser reads `</br>` as `<br>`.
                    out.push_str("<br>");
                } else if !is_void(name) {
                    model.end(name);
                    out.push_str("</");
                    out.push_str(name);
                    out.push('>');
                }
            }
        }
    }
    Some(out)
}

/// The text of `html` without any markup, as escaped paragraphs: used when
/// the markup is too deeply nested to be worth parsing.
fn flatten_html(html: &str) -> String {
    let mut text = String::with_capacity(html.len() / 2);
    for token in Tokenizer::new(html) {
        match token {
            Token::Text(t) => text.push_str(t),
            Token::Raw { text: t, kind } => push_raw_text(&mut text, t, kind),
            Token::Start(StartTag { name, .. }) | Token::End(name) => {
                if name == "br" {
                    text.push('\n');
                } else if WORD_BREAK_TAGS.contains(&name.as_str()) {
                    text.push_str("\n\n");
                }
            }
        }
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut paragraph = String::new();
    for line in text.split('\n') {
        if line.trim().is_empty() {
            if !paragraph.is_empty() {
                out.push_str("<p>");
                push_markup_text(&mut out, &paragraph);
                out.push_str("</p>");
                paragraph.clear();
            }
        } else {
            if !paragraph.is_empty() {
                paragraph.push('\n');
            }
            paragraph.push_str(line.trim());
        }
    }
    if !paragraph.is_empty() {
        out.push_str("<p>");
        push_markup_text(&mut out, &paragraph);
        out.push_str("</p>");
    }
    out
}

/// Markup text with entities kept; `<` escaped so no tag can form.
fn push_markup_text(out: &mut String, text: &str) {
    for (i, part) in text.split('<').enumerate() {
        if i > 0 {
            out.push_str("&lt;");
        }
        out.push_str(part);
    }
}

/// The content of a raw-text element as markup text.
fn push_raw_text(out: &mut String, text: &str, kind: RawKind) {
    match kind {
        RawKind::Dropped => {}
        RawKind::Rcdata => push_markup_text(out, text),
        RawKind::Rawtext | RawKind::Plaintext => out.push_str(&htmlize::escape_text(text)),
    }
}

/// Attribute names kept in the canonical form (every allowed one is simple).
fn is_simple_attr_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
}

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

    #[test]
    fn byte_scan_for_unwanted_characters_agrees_with_the_character_rule() {
        let ranges = [
            0..0x800u32,
            0xD000..0xD800,
            0xE000..0x1_0100,
            0x1_FF00..0x2_0100,
            0xE_FFF0..0xF_0010,
            0x10_FF00..0x11_0000,
        ];
        for c in ranges.into_iter().flatten().filter_map(char::from_u32) {
            let s = format!("ab{c}cd");
            let expected = s.char_indices().find(|(_, c)| is_unwanted_char(*c)).map(|(i, _)| i);
            assert_eq!(first_unwanted(&s), expected, "U+{:04X}", u32::from(c));
            assert_eq!(
                strip_unwanted_chars(&s),
                s.chars().filter(|c| !is_unwanted_char(*c)).collect::<String>()
            );
        }
        assert_eq!(first_unwanted("città “x” \u{7}"), Some("città “x” ".len()));
    }

    #[test]
    fn byte_scan_agrees_with_the_character_rule_across_ascii_chunks() {
        // The scan skips plain ASCII 16 bytes at a time: an unwanted or
        // multi-byte character at every offset around chunk boundaries.
        for c in ['\u{7}', '\u{85}', '\u{FFFE}', '\u{10FFFF}', 'à', '“', '\t', '\u{1F600}'] {
            for pad in 0..40 {
                for tail in ["", "abc", "ò and more plain text after it, long enough"] {
                    let s = format!("{}{c}{tail}", "x".repeat(pad));
                    let expected = s.char_indices().find(|(_, c)| is_unwanted_char(*c)).map(|(i, _)| i);
                    assert_eq!(first_unwanted(&s), expected, "U+{:04X} after {pad}", u32::from(c));
                }
            }
        }
    }

    /// Start tags of serialized output, with attribute names and decoded values.
    fn start_tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
        Tokenizer::new(html)
            .filter_map(|t| match t {
                Token::Start(tag) => Some((
                    tag.name,
                    tag.attrs
                        .iter()
                        .map(|(k, v)| (k.to_ascii_lowercase(), htmlize::unescape_attribute(*v).into_owned()))
                        .collect(),
                )),
                _ => None,
            })
            .collect()
    }

    /// Maximum nesting of well-formed serialized output.
    fn output_depth(html: &str) -> usize {
        let (mut depth, mut max) = (0usize, 0usize);
        for token in Tokenizer::new(html) {
            match token {
                Token::Start(tag) if !is_void(&tag.name) => {
                    depth += 1;
                    max = max.max(depth);
                }
                Token::End(name) if !is_void(&name) => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        max
    }

    fn assert_safe(input: &str, out: &str) {
        let lower = out.to_ascii_lowercase();
        assert!(!lower.contains("<script"), "{input:?} → {out:?}");
        assert!(!out.contains("]]>"), "{input:?} → {out:?}");
        for (name, attrs) in start_tags(out) {
            assert!(
                ALLOWED_TAGS.contains(&name.as_str()),
                "tag {name} from {input:?} → {out:?}"
            );
            for (attr, value) in attrs {
                assert!(!attr.starts_with("on"), "{attr} from {input:?} → {out:?}");
                assert!(
                    !matches!(
                        attr.as_str(),
                        "style"
                            | "srcdoc"
                            | "formaction"
                            | "srcset"
                            | "action"
                            | "background"
                            | "xmlns"
                            | "xlink:href"
                            | "http-equiv"
                            | "cite"
                    ),
                    "{attr} from {input:?} → {out:?}"
                );
                let squeezed: String = value
                    .chars()
                    .filter(|c| !c.is_whitespace() && !c.is_control())
                    .collect::<String>()
                    .to_ascii_lowercase();
                for bad in ["javascript:", "vbscript:", "data:", "file:", "livescript:"] {
                    assert!(!squeezed.starts_with(bad), "{attr}={value:?} from {input:?} → {out:?}");
                }
                if matches!(attr.as_str(), "href" | "src") {
                    assert!(
                        squeezed.starts_with("http://")
                            || squeezed.starts_with("https://")
                            || squeezed.starts_with("mailto:"),
                        "{attr}={value:?} from {input:?} → {out:?}"
                    );
                }
            }
        }
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
    fn clean_text_removes_controls_and_normalizes() {
        assert_eq!(clean_text("e\u{301}te\u{301}"), "été");
        assert_eq!(clean_text("a\u{0}b\u{1}c\u{8}d\u{B}e\u{C}f\u{1F}g"), "abcdefg");
        assert_eq!(clean_text("tab\tnl\ncr\r"), "tab\tnl\ncr\r");
        assert_eq!(clean_text("x\u{7F}\u{85}\u{9F}y"), "xy");
        assert_eq!(clean_text("x\u{FFFE}\u{FFFF}\u{FDD0}\u{1FFFF}y"), "xy");
        assert_eq!(clean_text("\u{FFFD}ok\u{FEFF}"), "\u{FFFD}ok\u{FEFF}");
        assert_eq!(clean_text("Ａ\u{212B}"), "Ａ\u{C5}");
        // A control between a letter and its accent does not block composition.
        assert_eq!(clean_text("e\u{1}\u{301}"), "é");
    }

    #[test]
    fn blank_html_quick_answer_agrees_with_the_text() {
        for html in [
            "",
            "<p></p>",
            "<p> \n </p>",
            "<p>a</p>",
            "<p>&nbsp;</p>",
            "<p>&#32;</p>",
            "<p>&#3<b></b>2;</p>",
            "<p>&am<b></b>p;</p>",
            "<a title=\"x>y\"></a>",
            "<a title=\"x>y\">z</a>",
            "<p>< 3</p>",
            "<![CDATA[ ]]>",
            "<![CDATA[x]]>",
            "<!-- a --><p> </p>",
            "<!-- a -->b",
            "<p>\u{2028}</p>",
            "<img src=\"https://e.org/a.png\">",
            "<p>—</p>",
            "<unterminated a=\"",
        ] {
            let text = html_to_text(html);
            if starts_with_plain_text(html) {
                assert!(!text.is_empty(), "{html:?} has text");
            }
            assert_eq!(
                is_blank_html(html),
                text.is_empty() && !html.contains("<img"),
                "{html:?}"
            );
        }
    }

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

    const XSS_VECTORS: &[&str] = &[
        "<script>alert(1)</script>",
        "<SCRIPT SRC=http://xss.example/xss.js></SCRIPT>",
        "<scr<script>ipt>alert(1)</script>",
        "<<script>script>alert(1)<</script>/script>",
        "<img src=x onerror=alert(1)>",
        "<IMG SRC=\"javascript:alert('XSS');\">",
        "<img src=x:alert(alt) onerror=eval(src) alt=0>",
        "<img \"\"\"><script>alert(1)</script>\">",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
        "<a href=\"&#106;avascript:alert(1)\">x</a>",
        "<a href=\"&#x6A;&#x61;&#x76;&#x61;script&#x3A;alert(1)\">x</a>",
        "<a href=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1)\">x</a>",
        "<a href=\"java\tscript:alert(1)\">x</a>",
        "<a href=\"java&#09;script:alert(1)\">x</a>",
        "<a href=\"java&#x0A;script:alert(1)\">x</a>",
        "<a href=\" \u{1}javascript:alert(1)\">x</a>",
        "<a href=\"  &#14;javascript:alert(1)\">x</a>",
        "<a href=\"javascript&colon;alert(1)\">x</a>",
        "<a href=javascript:alert(1)>x</a>",
        "<a href='vbscript:msgbox(1)'>x</a>",
        "<a href=\"livescript:alert(1)\">x</a>",
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
        "<img src=\"data:image/svg+xml,<svg onload=alert(1)>\">",
        "<a href=\"file:///etc/passwd\">x</a>",
        "<a href=\"http://ok.example/\" onclick=\"alert(1)\">x</a>",
        "<div onmouseover=\"alert(1)\" onclick='x' ONLOAD=y>x</div>",
        "<svg onload=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
        "<svg><animate attributeName=href values=javascript:alert(1) /><a><text>x</text></a></svg>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<math href=\"javascript:alert(1)\">x</math>",
        "<iframe src=\"https://evil.example/\"></iframe>",
        "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
        "<style>body{background:url(javascript:alert(1))}</style>",
        "<div style=\"background:url(javascript:alert(1))\">x</div>",
        "<base href=\"javascript:alert(1)//\">",
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
        "<form action=\"javascript:alert(1)\"><button formaction=\"javascript:alert(1)\">x</button></form>",
        "<input onfocus=alert(1) autofocus>",
        "<body onload=alert(1)>",
        "<object data=\"javascript:alert(1)\"></object>",
        "<embed src=\"javascript:alert(1)\">",
        "<link rel=stylesheet href=\"javascript:alert(1)\">",
        "<table background=\"javascript:alert(1)\"><tr><td>x</td></tr></table>",
        "<details open ontoggle=alert(1)>x</details>",
        "<video><source onerror=\"alert(1)\"></video>",
        "<img src=\"x\" srcset=\"javascript:alert(1) 1x\">",
        "<blockquote cite=\"javascript:alert(1)\">q</blockquote>",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
        "<svg><iframe><a title=\"</iframe><img src onerror=alert(1)>\">test",
        "<!--<img src=\"--><img src=x onerror=alert(1)//\">",
        "<xmp><img src=x onerror=alert(1)></xmp>",
        "<textarea><script>alert(1)</script></textarea>",
        "<title><img src=x onerror=alert(1)></title>",
        "<plaintext><script>alert(1)</script>",
        "<b>&#x338; onmouseover=alert(1) x</b>",
        "<b>\u{338} onmouseover=alert(1) x</b>",
        "<a href=\"https://ok.example/\"\u{338} onclick=alert(1)>x</a>",
        "<img/src=x/onerror=alert(1)>",
        "<a/href=\"javascript:alert(1)\">x</a>",
        "<div \"onclick=alert(1)\">x</div>",
        "<p title=\"]]><script>alert(1)</script>\">cdata</p>",
        "<![CDATA[<script>alert(1)</script>]]>",
        "<template><script>alert(1)</script></template>",
        "<select><option><img src=x onerror=alert(1)></option></select>",
        "<a href=\"https://ok.example/\" ping=\"https://track.example/\">x</a>",
    ];

    #[test]
    fn xss_vectors_are_neutralized() {
        assert!(XSS_VECTORS.len() >= 30);
        let base = url("https://example.com/feed/");
        for input in XSS_VECTORS {
            for b in [None, Some(&base)] {
                let out = sanitize_html(input, b);
                assert_safe(input, &out);
                assert_eq!(sanitize_html(&out, b), out, "idempotence of {input:?}");
            }
        }
    }

    #[test]
    fn nfc_cannot_break_markup() {
        let out = sanitize_html("<b>&#x338; onmouseover=alert(1) x</b>", None);
        let renormalized: String = out.nfc().collect();
        assert_eq!(renormalized, out);
        let tags = start_tags(&renormalized);
        assert_eq!(tags.len(), 1);
        assert_eq!(tags[0].0, "b");
        assert!(tags[0].1.is_empty());
    }

    #[test]
    fn safe_markup_survives() {
        let input = "<h2>Title</h2><p>Some <b>bold</b>, <i>italic</i> and <a href=\"https://ex.com/a?b=1&amp;c=2\" title=\"t\">a link</a>.</p>\
                     <ul><li>one</li><li>two</li></ul><blockquote>quote</blockquote>\
                     <img src=\"https://ex.com/i.png\" alt=\"pic\" title=\"tt\" width=\"10\" height=\"20\">\
                     <pre><code>let x = a &lt; b;</code></pre><table><tbody><tr><td>1</td></tr></tbody></table>";
        let out = sanitize_html(input, None);
        assert_eq!(
            out,
            "<h2>Title</h2><p>Some <b>bold</b>, <i>italic</i> and <a href=\"https://ex.com/a?b=1&amp;c=2\" title=\"t\" rel=\"noopener noreferrer\">a link</a>.</p>\
             <ul><li>one</li><li>two</li></ul><blockquote>quote</blockquote>\
             <img src=\"https://ex.com/i.png\" alt=\"pic\" title=\"tt\" width=\"10\" height=\"20\">\
             <pre><code>let x = a &lt; b;</code></pre><table><tbody><tr><td>1</td></tr></tbody></table>"
        );
        assert_eq!(sanitize_html(&out, None), out);
    }

    #[test]
    fn mailto_links_survive() {
        let out = sanitize_html("<a href=\"mailto:a@ex.com\">mail</a>", None);
        assert_eq!(out, "<a href=\"mailto:a@ex.com\" rel=\"noopener noreferrer\">mail</a>");
    }

    #[test]
    fn relative_urls_are_rewritten_against_an_http_base() {
        let base = url("https://example.com/blog/post/");
        let out = sanitize_html(
            "<a href=\"/x\">a</a><img src=\"img.png\"><img src=\"//cdn.example/x.png\"><a href=\"#sec\">s</a>",
            Some(&base),
        );
        assert_eq!(
            out,
            "<a href=\"https://example.com/x\" rel=\"noopener noreferrer\">a</a>\
             <img src=\"https://example.com/blog/post/img.png\">\
             <img src=\"https://cdn.example/x.png\">\
             <a href=\"https://example.com/blog/post/#sec\" rel=\"noopener noreferrer\">s</a>"
        );
        assert_eq!(sanitize_html(&out, Some(&base)), out);
        assert_eq!(sanitize_html(&out, None), out);
    }

    #[test]
    fn confirming_pass_is_skipped_only_for_markup_the_parser_reads_back_as_written() {
        for settled in [
            "<p>Un caff\u{e8} \u{201c}corto\u{201d} <a href=\"https://example.org/\" rel=\"noopener noreferrer\">qui</a></p>",
            "<ul><li>a<ul><li>b</li></ul></li></ul>",
            "<dl><dt>t</dt><dd>d</dd></dl>",
            "<table><tbody><tr><td>x</td></tr></tbody></table>",
            "<b><i>x</i></b><br><pre>\n\ncode</pre>",
            "<ruby>\u{6f22}<rt>kan</rt></ruby>",
        ] {
            assert!(reparses_unchanged(settled), "{settled}");
            assert_eq!(sanitize_pass(settled, &html_builder()), settled);
        }
        for unsettled in [
            "<p><div>x</div></p>",
            "<p><table><tbody><tr><td>x</td></tr></tbody></table></p>",
            "<table><tr><td>x</td></tr></table>",
            "<table>text<tbody></tbody></table>",
            "<h1><h2>x</h2></h1>",
            "<a href=\"https://a.example/\"><a href=\"https://b.example/\">x</a></a>",
            "<li><li>x</li></li>",
            "<dd><dt>x</dt></dd>",
            "<ruby><rp><rt>x</rt></rp></ruby>",
            "<b><i>x</b></i>",
            "<b>unclosed",
            "a\r\nb",
            "<p/>",
            "<td>x</td>",
            "<p>x<!-- c --></p>",
        ] {
            assert!(!reparses_unchanged(unsettled), "{unsettled}");
        }
    }

    #[test]
    fn relative_urls_are_dropped_without_an_http_base() {
        let input = "<a href=\"/x\">a</a><img src=\"img.png\" alt=\"i\">";
        let expected = "<a rel=\"noopener noreferrer\">a</a><img alt=\"i\">";
        assert_eq!(sanitize_html(input, None), expected);
        let file_base = url("file:///home/me/feed.xml");
        assert_eq!(sanitize_html(input, Some(&file_base)), expected);
    }

    #[test]
    fn text_with_cdata_end_stays_text() {
        let out = sanitize_html("<p>a ]]> b</p>", None);
        assert_eq!(out, "<p>a ]]&gt; b</p>");
        assert_eq!(html_to_text(&out), "a ]]> b");
        let out = sanitize_html("<p title=\"x]]>y\">t</p>", None);
        assert!(!out.contains("]]>"));
        assert_eq!(sanitize_html(&out, None), out);
    }

    #[test]
    fn raw_text_elements() {
        assert_eq!(sanitize_html("a<script>x<b>y</b></script>b", None), "ab");
        assert_eq!(sanitize_html("a<style>p{}</style>b", None), "ab");
        assert_eq!(
            sanitize_html("<textarea><b>x</b> &amp;</textarea>", None),
            "&lt;b&gt;x&lt;/b&gt; &amp;"
        );
        assert_eq!(
            sanitize_html("<xmp><b>x</b> &amp;</xmp>", None),
            "&lt;b&gt;x&lt;/b&gt; &amp;amp;"
        );
        assert_eq!(sanitize_html("<script>never closed <b>x", None), "");
        assert_eq!(
            sanitize_html("<noscript><img src=\"https://ex.com/i.png\"></noscript>", None),
            "<img src=\"https://ex.com/i.png\">"
        );
    }

    #[test]
    fn italian_text_is_byte_exact() {
        let html = "<p>L’Alleanza Sino-Russa non è un fenomeno passeggero… “un modello di relazioni”</p>";
        assert_eq!(sanitize_html(html, None), html);
    }

    // ---- depth cap --------------------------------------------------------

    fn too_deep(html: &str) -> bool {
        prepare_html(html).is_none()
    }

    #[test]
    fn depth_scanner_counts_nesting() {
        assert!(!too_deep(&"<div>".repeat(MAX_HTML_DEPTH)));
        assert!(too_deep(&"<div>".repeat(MAX_HTML_DEPTH + 1)));
        assert!(!too_deep(&"<div>x</div>".repeat(10_000)));
        assert!(!too_deep(&"<br><img src=x><hr><wbr>".repeat(1_000)));
        assert!(!too_deep(&"<!-- <div> -->".repeat(1_000)));
        assert!(!too_deep(&"<!DOCTYPE html><?xml x?>".repeat(1_000)));
        assert!(!too_deep(&"<input><meta><link><source>".repeat(1_000)));
        // Unclosed paragraphs, list items, definitions and cells are siblings.
        assert!(!too_deep(&"<p>para".repeat(2_000)));
        assert!(!too_deep(&format!("<ul>{}</ul>", "<li>item".repeat(2_000))));
        assert!(!too_deep(&format!("<dl>{}</dl>", "<dt>t<dd>d".repeat(2_000))));
        assert!(!too_deep(&format!("<table>{}</table>", "<tr><td>a<td>b".repeat(2_000))));
        assert!(!too_deep(&"<table><tr><td>a</td></tr></table>".repeat(2_000)));
        assert!(!too_deep(&"<table><td>x</table>".repeat(2_000)));
        assert!(!too_deep(&"<ul><li><p>x</ul>".repeat(2_000)));
        // Constructs the HTML parser nests although they look closed.
        assert!(too_deep(&"<div/>".repeat(600)));
        assert!(too_deep(&"<div></x>".repeat(600)));
        assert!(too_deep(&"<div></span>".repeat(600)));
        assert!(too_deep(&"<b><div></b>".repeat(600)));
        assert!(too_deep(&"<p><b></p>".repeat(600)));
        assert!(too_deep(&"<div><table><td></div>".repeat(600)));
        assert!(too_deep(&"<span>".repeat(600)));
        assert!(too_deep(&format!("<div x\">{}\"", "<div>".repeat(600))));
        assert!(too_deep(&format!("<!--><div>{}", "<div>".repeat(600))));
        assert!(too_deep(&format!("<script><!-- </script>{}-->", "<div>".repeat(600))));
        // Disallowed elements are dropped before counting (and before the
        // HTML parser sees the fragment), so foreign content cannot nest.
        assert!(!too_deep(&"<foo>".repeat(2_000)));
        assert!(!too_deep(&"<svg><div></div><circle/>".repeat(2_000)));
    }

    #[test]
    fn tokenizer_follows_html_rules() {
        let tokens: Vec<Token<'_>> = Tokenizer::new("a<B Class=x data-y='1>2' z=\"q\" w>t</B><br/>x<3<!-->y").collect();
        assert_eq!(
            tokens,
            vec![
                Token::Text("a"),
                Token::Start(StartTag {
                    name: "b".into(),
                    attrs: vec![("Class", "x"), ("data-y", "1>2"), ("z", "q"), ("w", "")],
                    self_closing: false,
                }),
                Token::Text("t"),
                Token::End("b".into()),
                Token::Start(StartTag {
                    name: "br".into(),
                    attrs: vec![],
                    self_closing: true,
                }),
                Token::Text("x"),
                Token::Text("<3"),
                Token::Text("y"),
            ]
        );
        let unterminated: Vec<Token<'_>> = Tokenizer::new("ok<div class=\"x").collect();
        assert_eq!(unterminated, vec![Token::Text("ok")]);
        let attr_quote: Vec<Token<'_>> = Tokenizer::new("<div a\"b>c").collect();
        assert_eq!(
            attr_quote,
            vec![
                Token::Start(StartTag {
                    name: "div".into(),
                    attrs: vec![("a\"b", "")],
                    self_closing: false
                }),
                Token::Text("c"),
            ]
        );
    }

    #[test]
    fn nesting_within_the_cap_is_kept() {
        let input = format!("{}x{}", "<div>".repeat(100), "</div>".repeat(100));
        let out = sanitize_html(&input, None);
        assert_eq!(out, input);
    }

    #[test]
    fn deep_nesting_is_flattened_quickly() {
        let input = format!("{}deep text{}", "<div>".repeat(600), "</div>".repeat(600));
        let started = Instant::now();
        let out = sanitize_html(&input, None);
        assert_eq!(out, "<p>deep text</p>");
        let huge = format!(
            "<p>intro &amp; more</p>{}<b>x</b> y<script>bad()</script>",
            "<div>".repeat(40_000)
        );
        let out = sanitize_html(&huge, None);
        assert_eq!(out, "<p>intro &amp; more</p><p>x y</p>");
        assert!(started.elapsed() < StdDuration::from_secs(3));
        assert_eq!(sanitize_html(&out, None), out);
    }

    #[test]
    fn adversarial_patterns_stay_shallow_and_fast() {
        let patterns = [
            "<div>",
            "<div/>",
            "<div></x>",
            "<b><div></b>",
            "<p><b></p>",
            "<a><p></a>",
            "<b a=1><b a=2><b a=3><p></p>",
            "<div><table><td></div>",
            "<table><div><td></td></div>",
            "<table><caption><div>",
            "<svg><div></div><circle/>",
            "<svg><foreignObject><div></svg>",
            "<math><mi><div></math>",
            "<select><div>",
            "<ul><li><div></li>",
            "<h1><h2>",
            "<dl><dd><div></dd>",
            "<ruby><rt><div></rt>",
            "<em><i><s><div></em>",
            "<td><tr><th>",
            "<p><table><p>",
            "<span><li></span>",
            "<object><div>",
            "<template><div>",
            "<button><div>",
            "<font color=red><div></font>",
        ];
        for pattern in patterns {
            let input = pattern.repeat(3_000);
            let started = Instant::now();
            let out = sanitize_html(&input, None);
            let elapsed = started.elapsed();
            let depth = output_depth(&out);
            assert!(depth <= 2 * MAX_HTML_DEPTH, "{pattern}: depth {depth}");
            assert!(elapsed < StdDuration::from_secs(5), "{pattern}: {elapsed:?}");
            assert_safe(pattern, &out);
        }
    }

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
        let again = sanitize_html(entry.content_html.as_deref().unwrap(), None);
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

    #[test]
    fn pre_newlines_survive_round_trips() {
        for input in ["<pre>\n\n\nx</pre>", "<pre lang=\"en\">\n\nx</pre>", "<pre>\nx</pre>"] {
            let out = sanitize_html(input, None);
            assert_eq!(sanitize_html(&out, None), out, "{input:?}");
        }
        assert_eq!(sanitize_html("<pre>\n\nx</pre>", None), "<pre>\n\nx</pre>");
        assert_eq!(sanitize_html("<pre>\nx</pre>", None), "<pre>x</pre>");
        assert_eq!(
            sanitize_html("<p title=\"<pre>\n\">t</p>", None),
            "<p title=\"&lt;pre&gt;\n\">t</p>"
        );
    }

    #[test]
    fn misnested_markup_settles() {
        let input = "<h2>a<table><table><h1>b";
        let out = sanitize_html(input, None);
        assert_eq!(sanitize_html(&out, None), out);
    }

    #[test]
    fn empty_urls_are_dropped() {
        let base = url("https://example.com/feed/");
        assert_eq!(
            sanitize_html("<a href=\"\">e</a><img src=\" \">", Some(&base)),
            "<a rel=\"noopener noreferrer\">e</a><img>"
        );
    }

    /// Deterministic generator of hostile and sloppy markup.
    fn fuzz_inputs(count: usize) -> Vec<String> {
        const PIECES: &[&str] = &[
            "<div>",
            "</div>",
            "<p>",
            "</p>",
            "<b>",
            "</b>",
            "<i>",
            "</i>",
            "<a href=\"/x\">",
            "<a href=\"javascript:alert(1)\">",
            "</a>",
            "<table>",
            "<tr>",
            "<td>",
            "</td>",
            "</table>",
            "<ul>",
            "<li>",
            "</ul>",
            "<svg>",
            "</svg>",
            "<math>",
            "<mtext>",
            "<script>",
            "</script>",
            "<style>",
            "</style>",
            "<textarea>",
            "</textarea>",
            "<iframe>",
            "</iframe>",
            "<noscript>",
            "</noscript>",
            "<!--",
            "-->",
            "<!",
            "<?",
            ">",
            "<",
            "\"",
            "'",
            "=",
            " ",
            "\n",
            "&",
            "&amp;",
            "&lt;",
            "&#x338;",
            "\u{338}",
            "&#106;",
            "\u{1}",
            "\u{0}",
            "\u{FFFE}",
            "]]>",
            "<![CDATA[",
            "<img src=x onerror=alert(1)>",
            "<img src=\"",
            "<div title=\"",
            "<div a\"b>",
            "/>",
            "<br/>",
            "</br>",
            "<select>",
            "<option>",
            "<template>",
            "<xmp>",
            "<plaintext>",
            "<h1>",
            "<h2>",
            "text",
            "é",
            "e\u{301}",
            "<base href=//evil>",
            "<meta http-equiv=refresh>",
            "onload=alert(1)",
            "<form>",
            "<button formaction=javascript:x>",
            "<object data=javascript:x>",
        ];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..count)
            .map(|_| {
                let n = 1 + (next() % 24) as usize;
                (0..n)
                    .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                    .collect()
            })
            .collect()
    }

    #[test]
    fn fuzzed_markup_is_safe_and_idempotent() {
        let base = url("https://example.com/feed/");
        for input in fuzz_inputs(3_000) {
            for b in [None, Some(&base)] {
                let out = sanitize_html(&input, b);
                assert_safe(&input, &out);
                assert_eq!(sanitize_html(&out, b), out, "idempotence of {input:?}");
                let text = html_to_text(&out);
                assert_eq!(clean_text(&text), text);
            }
        }
    }

    #[test]
    fn allowed_tags_are_sorted_and_known() {
        assert!(ALLOWED_TAGS.windows(2).all(|w| w[0] < w[1]));
        for tag in VOID_TAGS {
            assert!(ALLOWED_TAGS.contains(tag));
        }
    }
}
