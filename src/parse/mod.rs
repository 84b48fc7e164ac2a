//! Turning fetched bytes into [`ParsedFeed`] drafts.
//!
//! Owns the feed-rs boundary and its traps: bytes are first decoded and
//! repaired by `prepare` (charset, declarations, bare `&`, HTML entities,
//! illegal characters, RSS version), dates go through our lenient
//! `dates::parse_date`, every parse gets a fresh feed-rs `Parser` (a reused
//! one panics after an error), a panic inside feed-rs is contained (the
//! known one, in splitting an author string next to a multi-byte character,
//! gets one retry on a spaced-out copy) and otherwise reported as this
//! source's error, and item ids are deterministic: the
//! feed's own id, else `gen:` + a fixed-key hash of the link, else of the
//! title, else of the content — never a random UUID.
//!
//! It knows nothing of fetching or storage, and does no cleaning beyond what
//! the parser needs: normalization is the next stage.

mod dates;
mod extras;
mod prepare;

pub(crate) use prepare::decode_page;

use std::hash::Hasher;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::LazyLock;
use std::time::Duration;

use feed_rs::model::{Entry as FeedEntry, Feed, Link, Text};
use regex::Regex;
use siphasher::sip128::{Hasher128, SipHasher13};
use url::Url;

use crate::model::{Category, ContentSource, Enclosure, FeedInfo, ItemMeta, ParsedFeed, Person, RawItem};
use prepare::Syntax;

/// Why a document could not be read as a feed; every variant names the source URL.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The document is not RSS, Atom or JSON Feed (an HTML page, a captcha…).
    #[error("not a feed: got {what} from {url}")]
    NotAFeed {
        /// The source URL or path.
        url: String,
        /// What it looks like instead.
        what: String,
    },
    /// The document is a feed but is malformed beyond repair.
    #[error("invalid feed at {url}: {detail}")]
    Invalid {
        /// The source URL or path.
        url: String,
        /// The parser's complaint.
        detail: String,
    },
    /// The document holds items in a dialect the parser read as none.
    #[error(
        "cannot read the items of {url}: it is {format} with {items} item elements, none of which could be read; ask the publisher for RSS 2.0, Atom 1.0 or JSON Feed"
    )]
    Unsupported {
        /// The source URL or path.
        url: String,
        /// The dialect, as its root element and namespace say.
        format: String,
        /// Elements that look like items.
        items: usize,
    },
    /// The parser panicked on this document; the panic was contained.
    #[error("the feed parser crashed on {url}; the document is kept out and other sources are unaffected")]
    Panicked {
        /// The source URL or path.
        url: String,
    },
}

impl ParseError {
    /// A short machine-readable kind, for logs and metrics.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            ParseError::NotAFeed { .. } => "not-a-feed",
            ParseError::Invalid { .. } => "invalid-feed",
            ParseError::Unsupported { .. } => "unsupported-format",
            ParseError::Panicked { .. } => "parser-panic",
        }
    }
}

/// The document to parse and what the fetch learned about it.
#[derive(Debug, Clone, Copy)]
pub struct Document<'a> {
    /// The raw body.
    pub bytes: &'a [u8],
    /// The HTTP `Content-Type` charset, if any.
    pub charset: Option<&'a str>,
    /// The HTTP media type, if any (for "not a feed" messages).
    pub media_type: Option<&'a str>,
    /// The URL the body came from: base for relative links, and shown in errors.
    pub url: &'a Url,
}

/// Parses a feed document. Blocking and CPU-bound: call it off the async threads.
pub fn parse(doc: Document<'_>) -> Result<ParsedFeed, ParseError> {
    let shown = || display_url(doc.url);
    let prepared = prepare::prepare(doc.bytes, doc.charset);
    let base = matches!(doc.url.scheme(), "http" | "https").then(|| doc.url.as_str().to_string());
    let mut text = prepared.text;
    let run = |text: &str| {
        catch_unwind(AssertUnwindSafe(|| {
            // A fresh parser per document: feed-rs 3 panics when a parser is
            // reused after a failed parse.
            feed_rs::parser::Builder::new()
                .base_uri(base.as_deref())
                .timestamp_parser(dates::parse_date)
                .id_generator(generate_id)
                .sanitize_content(false)
                .build()
                .parse(text.as_bytes())
        }))
    };
    let mut outcome = run(&text);
    if outcome.is_err()
        && let Some(spaced) = space_out_emails(&text)
    {
        outcome = run(&spaced);
        text = spaced;
    }
    let feed = match outcome {
        Err(_) => return Err(ParseError::Panicked { url: shown() }),
        Ok(Err(e)) => return Err(explain(e, &text, prepared.syntax, doc.media_type, shown())),
        Ok(Ok(feed)) => feed,
    };
    let document_url = base.is_some().then_some(doc.url);
    let extras = match prepared.syntax {
        Syntax::Xml => extras::scan_xml(&text, document_url),
        Syntax::Json => extras::scan_json(&text, document_url),
    };
    // A document with item elements that yields no entry is a dialect we
    // failed to read: never an `ok` poll with nothing.
    if feed.entries.is_empty() && extras.item_like > 0 {
        return Err(ParseError::Unsupported {
            url: shown(),
            format: format_name(extras.root.as_ref()),
            items: extras.item_like,
        });
    }
    Ok(convert(feed, &text, extras))
}

/// The dialect of a document in words, from its root element and
/// namespace. Only names we know are repeated: the message reaches
/// `/sources`, and a document's own strings are never quoted there.
fn format_name(root: Option<&(String, Option<String>)>) -> String {
    let Some((name, ns)) = root else {
        return "a document with no root element".to_string();
    };
    let ns = ns.as_deref();
    let family = match name.as_str() {
        "RDF" => "an RSS 1.0 (RDF) document",
        "rss" => "an RSS document",
        "feed" | "entry" => match ns {
            Some("http://www.w3.org/2005/Atom") | None => "an Atom 1.0 document",
            Some("http://purl.org/atom/ns#") => "an Atom 0.3 document",
            Some(_) => "an Atom-like document",
        },
        _ => return "a document with an unknown root element".to_string(),
    };
    let namespace = match ns {
        None => "no namespace",
        Some("http://purl.org/rss/1.0/") => "the RSS 1.0 namespace",
        Some("http://my.netscape.com/rdf/simple/0.9/") => "the RSS 0.90 namespace",
        Some("http://www.w3.org/1999/02/22-rdf-syntax-ns#") => "the RDF namespace",
        Some("http://www.w3.org/2005/Atom") => "the Atom 1.0 namespace",
        Some("http://purl.org/atom/ns#") => "the Atom 0.3 namespace",
        Some(_) => "an unknown namespace",
    };
    format!("{family} (root <{name}> in {namespace})")
}

/// feed-rs 3's pattern for the e-mail address in an author string
/// (`Person::parse`), copied so the same matches are found.
static PERSON_EMAIL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\b(<\[\()?(mailto:)?([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})(>]\))?\b").ok());

/// The document with a space between every e-mail address and a non-ASCII
/// character (or a character reference) touching it; `None` when there is
/// none.
///
/// feed-rs 3 splits an author string such as `«mario@example.it»` into name
/// and address by slicing one byte before or after the address, which
/// panics inside a multi-byte character: the whole feed would be lost. After
/// such a panic the document is parsed once more in this form, where that
/// byte is the space.
fn space_out_emails(text: &str) -> Option<String> {
    let regex = PERSON_EMAIL.as_ref()?;
    let mut out = String::with_capacity(text.len() + 16);
    let mut copied = 0;
    for m in regex.find_iter(text) {
        let before = text[..m.start()].chars().next_back();
        let after = text[m.end()..].chars().next();
        let space_before = before.is_some_and(|c| !c.is_ascii() || c == ';');
        let space_after = after.is_some_and(|c| !c.is_ascii() || c == '&' || c == '\\');
        if !space_before && !space_after {
            continue;
        }
        out.push_str(&text[copied..m.start()]);
        if space_before {
            out.push(' ');
        }
        out.push_str(m.as_str());
        if space_after {
            out.push(' ');
        }
        copied = m.end();
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

bench_pub! {
    /// How a URL is shown in messages: file URLs as paths.
    fn display_url(url: &Url) -> String {
        if url.scheme() == "file"
            && let Ok(p) = url.to_file_path()
        {
            return p.display().to_string();
        }
        url.as_str().to_string()
    }
}

fn explain(
    e: feed_rs::parser::ParseFeedError,
    text: &str,
    syntax: Syntax,
    media_type: Option<&str>,
    url: String,
) -> ParseError {
    use feed_rs::parser::{ParseErrorKind, ParseFeedError};
    let head = text
        .trim_start()
        .get(..2048)
        .unwrap_or(text.trim_start())
        .to_ascii_lowercase();
    let looks_html = head.starts_with("<!doctype html") || head.contains("<html") || head.contains("<body");
    // JSON that is not even trying to be a JSON Feed (an API error object, a
    // list…): no `version` and no `items` at the top.
    let foreign_json = syntax == Syntax::Json
        && serde_json::from_str::<serde_json::Value>(text)
            .is_ok_and(|v| v.get("version").is_none() && v.get("items").is_none());
    let not_a_feed = matches!(e, ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot))
        || (syntax == Syntax::Xml && looks_html)
        || foreign_json;
    if not_a_feed {
        let what = match media_type {
            Some(m) if m.contains("html") || looks_html => format!("{m} (an HTML page)"),
            Some(m) => m.to_string(),
            None if looks_html => "an HTML page".to_string(),
            None if foreign_json => "a JSON document that is not a JSON Feed".to_string(),
            None => "a document with no RSS, Atom or JSON Feed root".to_string(),
        };
        return ParseError::NotAFeed { url, what };
    }
    ParseError::Invalid {
        url,
        detail: describe(&e),
    }
}

/// What is wrong with a document, and where, in words that never quote the
/// document: parser messages echo values (`invalid type: string "…"`), and
/// a value may be a secret that `last_error` would then serve on
/// `/sources`. Quoted and back-ticked values are replaced by `…`.
fn describe(e: &feed_rs::parser::ParseFeedError) -> String {
    use feed_rs::parser::{ParseErrorKind, ParseFeedError};
    match e {
        ParseFeedError::JsonSerde(j) => {
            use serde_json::error::Category;
            let what = match j.classify() {
                Category::Syntax => "malformed JSON".to_string(),
                Category::Eof => "the JSON document ends early".to_string(),
                Category::Io => "the JSON document could not be read".to_string(),
                Category::Data => {
                    let message = j.to_string();
                    let message = message.split(" at line ").next().unwrap_or_default();
                    format!("a JSON Feed field has the wrong shape ({})", without_values(message))
                }
            };
            format!("{what} at line {} column {}", j.line(), j.column())
        }
        ParseFeedError::JsonUnsupportedVersion(_) => {
            "unsupported JSON Feed version (expected https://jsonfeed.org/version/1 or /1.1)".to_string()
        }
        ParseFeedError::ParseError(kind) => match kind {
            ParseErrorKind::NoFeedRoot => "no RSS, Atom or JSON Feed root element".to_string(),
            ParseErrorKind::UnknownMimeType { position, .. } => {
                format!("content of an unsupported type at byte {position}")
            }
            ParseErrorKind::MissingContent { position, reference } => {
                format!("missing {reference} at byte {position}")
            }
            ParseErrorKind::UnknownEnumVariant { position, .. } => {
                format!("an unknown value at byte {position}")
            }
            ParseErrorKind::IllegalState { position, .. } => {
                format!("an unexpected structure at byte {position}")
            }
        },
        ParseFeedError::IoError(io) => format!("cannot read the document ({})", io.kind()),
        ParseFeedError::XmlReader(x) => format!("malformed XML: {}", without_values(&x.to_string())),
    }
}

/// `message` with every `"quoted"` or `` `back-ticked` `` span
/// replaced by `…`, and cut to 200 characters.
fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(256));
    let mut open: Option<char> = None;
    for c in message.chars() {
        match open {
            Some(q) if c == q => open = None,
            Some(_) => {}
            None if matches!(c, '"' | '`') => {
                open = Some(c);
                out.push('…');
            }
            None => out.push(c),
        }
    }
    match out.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &out[..cut]),
        None => out,
    }
}

/// Fixed keys: ids must be identical across runs, machines and releases.
fn hasher() -> SipHasher13 {
    SipHasher13::new_with_keys(0x5472_6962_7574_6172, 0x7969_6467_656e_6964)
}

fn hash_hex(parts: &[&str]) -> String {
    let mut h = hasher();
    for p in parts {
        h.write_u64(p.len() as u64);
        h.write(p.as_bytes());
    }
    format!("{:032x}", h.finish128().as_u128())
}

/// Our id generator for items without one: the link alone (so an edited
/// title keeps its id), else the title. With neither, it leaves the id empty
/// and [`convert`] hashes the content, which feed-rs does not pass here.
fn generate_id(links: &[Link], title: &Option<Text>, _base: Option<&str>) -> String {
    if let Some(link) = links.iter().find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate")) {
        return format!("gen:{}", hash_hex(&["link", link.href.as_str()]));
    }
    match title {
        Some(t) if !t.content.trim().is_empty() => format!("gen:{}", hash_hex(&["title", t.content.trim()])),
        _ => String::new(),
    }
}

fn convert(feed: Feed, text: &str, extras: extras::DocExtras) -> ParsedFeed {
    let ttl = feed
        .ttl
        .filter(|m| *m > 0)
        .map(|m| Duration::from_secs(u64::from(m) * 60));
    let info = FeedInfo {
        // feed-rs fills a missing feed id from our generator: not the feed's own.
        id: Some(feed.id).filter(|id| !id.trim().is_empty() && !id.starts_with("gen:")),
        title: feed.title.map(|t| t.content).filter(|t| !t.trim().is_empty()),
        site_link: alternate_link(&feed.links),
        language: feed.language.filter(|l| !l.trim().is_empty()),
        min_interval: ttl.max(syndication_period(text)),
    };
    let feed_authors = if extras.feed_authors.is_empty() {
        people(&feed.authors)
    } else {
        extras.feed_authors
    };
    // The pass finds the items feed-rs reads, in the same order; should the
    // two ever disagree, feed-rs's view alone is used rather than a
    // misaligned one.
    let aligned = extras.items.len() == feed.entries.len();
    let mut found = extras.items.into_iter();
    let items = feed
        .entries
        .into_iter()
        .map(|e| {
            let x = if aligned { found.next() } else { None };
            convert_entry(e, x, &feed_authors)
        })
        .collect();
    ParsedFeed { info, items }
}

/// feed-rs's people as ours, without the empty ones.
fn people(list: &[feed_rs::model::Person]) -> Vec<Person> {
    let mut out = Vec::new();
    for p in list {
        let nonblank = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        let person = Person {
            name: nonblank(&p.name),
            email: nonblank(&p.email),
            uri: nonblank(&p.uri),
            avatar: None,
        };
        if person.name.is_some() || person.email.is_some() {
            extras::add_person(&mut out, person);
        }
    }
    out
}

/// The RSS 1.0 syndication module's hint: `sy:updatePeriod` (hourly, daily,
/// weekly, monthly, yearly) divided by `sy:updateFrequency`. feed-rs does not
/// read this namespace, so it is taken from the text.
fn syndication_period(text: &str) -> Option<Duration> {
    let head = text.get(..text.len().min(16 * 1024)).unwrap_or(text);
    let element = |name: &str| {
        let open = format!("<sy:{name}>");
        let start = head.find(&open)? + open.len();
        let end = head.get(start..)?.find('<')? + start;
        head.get(start..end).map(str::trim)
    };
    let period = match element("updatePeriod")? {
        "hourly" => 3600,
        "daily" => 86_400,
        "weekly" => 7 * 86_400,
        "monthly" => 30 * 86_400,
        "yearly" => 365 * 86_400,
        _ => return None,
    };
    let frequency = element("updateFrequency")
        .and_then(|f| f.parse::<u64>().ok())
        .filter(|f| *f > 0)
        .unwrap_or(1);
    Some(Duration::from_secs(period / frequency))
}

fn alternate_link(links: &[Link]) -> Option<String> {
    links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or_else(|| links.iter().find(|l| l.rel.as_deref() != Some("self")))
        .map(|l| l.href.clone())
}

fn is_text(media: &str) -> bool {
    media.starts_with("text/plain")
}

fn text_to_html(text: &str) -> String {
    let escaped = htmlize::escape_text(text.trim());
    escaped
        .split("\n\n")
        .map(|p| format!("<p>{}</p>", p.trim().replace('\n', "<br>")))
        .collect()
}

fn convert_entry(e: FeedEntry, x: Option<extras::ItemExtras>, feed_authors: &[Person]) -> RawItem {
    let link = match &x {
        Some(x) if x.link_known => x.link.clone(),
        _ => alternate_link(&e.links),
    };
    let content_src = e.content.as_ref().and_then(|c| match (&c.body, &c.src) {
        (None, Some(src)) => Some(ContentSource {
            url: src.href.clone(),
            media_type: src.media_type.clone(),
        }),
        _ => None,
    });
    let summary = e.summary.map(|t| (t.content_type.to_string(), t.content));
    let content = e
        .content
        .and_then(|c| c.body.map(|b| (c.content_type.to_string(), b)))
        .filter(|(_, b)| !b.trim().is_empty());
    let summary = summary.filter(|(_, s)| !s.trim().is_empty());
    let plain = |f: &Option<(String, String)>| f.as_ref().filter(|(m, _)| is_text(m)).map(|(_, b)| b.clone());
    let (content_text, summary_text) = (plain(&content), plain(&summary));
    // The model carries one "plain text" flag; when the two fields differ,
    // the plain one is turned into minimal HTML here.
    let text_only = summary.iter().chain(content.iter()).all(|(m, _)| is_text(m));
    let field = |f: Option<(String, String)>| {
        f.map(|(m, body)| {
            if is_text(&m) && !text_only {
                text_to_html(&body)
            } else {
                body
            }
        })
    };
    let summary = field(summary);
    let content = field(content);
    let title = e.title.map(|t| t.content);
    let id = if e.id.trim().is_empty() {
        let body = content.as_deref().or(summary.as_deref()).unwrap_or("");
        format!("gen:{}", hash_hex(&["content", body]))
    } else {
        e.id
    };
    // The pass reads every author feed-rs reads (and splits address and
    // name where feed-rs does not), so feed-rs's are only a fallback.
    let (content_base, summary_base, mut meta) = match x {
        Some(x) => {
            let mut meta = x.meta;
            if meta.authors.is_empty() {
                meta.authors = x.source_authors;
            }
            (x.content_base, x.summary_base, meta)
        }
        None => {
            let mut meta = fallback_meta(&e.links, &e.media);
            meta.authors = people(&e.authors);
            (e.base.clone(), None, meta)
        }
    };
    // Each entry carries its own authors: the merged feed mixes sources.
    if meta.authors.is_empty() {
        meta.authors = feed_authors.to_vec();
    }
    if meta.contributors.is_empty() {
        meta.contributors = people(&e.contributors);
    }
    meta.categories = e
        .categories
        .iter()
        .filter(|c| !c.term.trim().is_empty())
        .map(|c| Category {
            term: c.term.clone(),
            scheme: c.scheme.clone().filter(|s| !s.trim().is_empty()),
            label: c.label.clone().filter(|l| !l.trim().is_empty()),
        })
        .collect();
    if let Some(rights) = e.rights.map(|r| r.content).filter(|r| !r.trim().is_empty()) {
        meta.rights = Some(rights);
    }
    meta.content_src = meta.content_src.or(content_src);
    meta.content_text = content_text;
    meta.summary_text = summary_text;
    RawItem {
        id_generated: id.starts_with("gen:"),
        id,
        title,
        link,
        summary,
        content,
        text_only,
        content_base,
        summary_base,
        authors: meta
            .authors
            .iter()
            .filter_map(|p| p.display())
            .filter(|n| !n.trim().is_empty())
            .map(str::to_owned)
            .collect(),
        categories: e.categories.into_iter().map(|c| c.label.unwrap_or(c.term)).collect(),
        published: e.published,
        updated: e.updated,
        language: e.language.filter(|l| !l.trim().is_empty()),
        meta,
    }
}

/// What feed-rs kept of an item's media, for when the document pass did not
/// line up with feed-rs's items: enclosure links and media contents.
fn fallback_meta(links: &[Link], media: &[feed_rs::model::MediaObject]) -> ItemMeta {
    let mut meta = ItemMeta::default();
    let enclosures = links
        .iter()
        .filter(|l| l.rel.as_deref() == Some("enclosure"))
        .map(|l| Enclosure {
            url: l.href.clone(),
            media_type: l.media_type.clone(),
            length: l.length,
            title: l.title.clone(),
            duration: None,
        });
    let contents = media.iter().flat_map(|m| {
        m.content.iter().filter_map(|c| {
            Some(Enclosure {
                url: c.url.as_ref()?.to_string(),
                media_type: c.content_type.as_ref().map(ToString::to_string),
                length: c.size,
                duration: c.duration.map(|d| d.as_secs()),
                title: None,
            })
        })
    });
    for enclosure in enclosures.chain(contents) {
        if !meta.enclosures.iter().any(|e| e.url == enclosure.url) {
            meta.enclosures.push(enclosure);
        }
    }
    meta
}

#[cfg(test)]
mod tests;
