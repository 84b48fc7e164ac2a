//! Normalization: one parsed [`RawItem`] in, one clean and safe [`Entry`] out.
//!
//! This module owns the entry policy — what an entry keeps of an item, and
//! how:
//!
//! * its body, sanitized by [`html::sanitize`] against the right base URL
//!   (the item's content base, else its link, else the feed's), or plain
//!   text made into paragraphs; a body that shows nothing is dropped;
//! * its title, author names, categories and language as plain text
//!   (`normalize/text.rs`: [`plain_text`], with the character rules of
//!   [`clean_text`]);
//! * its link, kept only when it is `http`/`https`, and the canonical form
//!   of it that recognises the same story across sources
//!   (`normalize/link.rs`: [`canonical_link`]);
//! * its dates, and a stable hash of its visible content ([`content_hash`]).
//!
//! It must not know where an item came from or where it goes: no I/O, no
//! database, no HTTP, no configuration, no knowledge of the output formats
//! (the writers escape plain text themselves) and no dedup policy beyond
//! providing the canonical link and the content hash. Every function here is
//! a pure function of its arguments. Reading HTML is left to [`html`].

mod link;
mod text;

use std::hash::Hasher;

use chrono::{DateTime, Duration, Utc};
use siphasher::sip128::{Hasher128, SipHasher13};
use url::Url;

use crate::html;
use crate::html::text::{Breaks, is_blank, visible_text};
use crate::model::{Entry, FeedInfo, RawItem};
use link::{entry_link, is_http, resolve_http};
use text::{
    clean_categories, dedupe_exact, ellipsize, language_tag, text_to_html, truncate_bytes, truncate_chars_in_place,
};

pub use crate::html::text::clean_text;
pub use link::canonical_link;
pub use text::plain_text;

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

/// How far in the future a date may be before it is treated as "now".
const FUTURE_SLACK_MINUTES: i64 = 10;

/// Title of an entry that has no title, text or link at all.
const UNTITLED: &str = "(untitled)";

/// Fixed SipHash keys of [`content_hash`]; changing them changes every hash.
const HASH_KEYS: (u64, u64) = (0x7472_6962_7574_6172, 0x792d_636f_6e74_656e);

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
            html::sanitize(raw, base)
        };
        (!is_blank(&html)).then_some(html)
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
            .map(|html| ellipsize(&clean_text(&visible_text(html, Breaks::Blocks)), FALLBACK_TITLE_CHARS))
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

/// The entry of a `full_text = true` source once its article page was
/// read: `article` (sanitized HTML) becomes the content, and the feed's own
/// text (its content, else its summary) the summary; the content hash
/// follows, so the article reads as an edit of the item.
pub fn with_full_text(e: &Entry, article: &str) -> Entry {
    let feed_text = e.content_html.clone().or_else(|| e.summary_html.clone());
    let mut meta = e.meta.clone();
    // A text-only item's plain text is now its summary.
    if let Some(text) = meta.content_text.take() {
        meta.summary_text = Some(text);
    }
    let summary_html = feed_text.filter(|t| t != article);
    let content_html = Some(article.to_string());
    let content_hash = meta::extend_hash(
        content_hash(
            &e.title,
            e.link.as_deref(),
            summary_html.as_deref(),
            content_html.as_deref(),
        ),
        &meta,
    );
    Entry {
        summary_html,
        content_html,
        content_hash,
        meta,
        ..e.clone()
    }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::time::{Duration as StdDuration, Instant};

    pub(super) fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    pub(super) fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap()
    }

    pub(super) fn item() -> RawItem {
        RawItem {
            id: "guid-1".into(),
            title: Some("A title".into()),
            link: Some("https://example.com/story".into()),
            content: Some("<p>Body</p>".into()),
            ..RawItem::default()
        }
    }

    pub(super) fn run(item: &RawItem) -> Entry {
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

    /// The visible text keeps what `&gt;` stands for apart from a
    /// combining mark after it; a title made of it is NFC like every title.
    #[test]
    fn fallback_title_is_nfc_where_an_entity_meets_a_combining_mark() {
        let entry = run(&RawItem {
            title: None,
            content: Some("<p>a &gt;\u{338} b</p>".into()),
            ..item()
        });
        assert_eq!(entry.content_html.as_deref(), Some("<p>a &gt;\u{338} b</p>"));
        assert_eq!(entry.title, "a \u{226F} b");
        assert_eq!(clean_text(&entry.title), entry.title);
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
}
