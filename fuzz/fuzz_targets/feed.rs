//! Fuzz target `feed`: arbitrary bytes through parse → normalize → publish.
//!
//! The first input byte chooses what the fetch would have learned (the HTTP
//! charset, the media type and whether the document came over HTTP or from
//! a file); the rest is the document. Every item is normalized and every
//! entry rendered in Atom, RSS and JSON Feed, and the promises of each stage
//! are checked:
//!
//! * nothing panics outside the parser's own containment (a panic inside
//!   feed-rs is turned into `ParseError::Panicked` by design; set
//!   `TRIBUTARY_FUZZ_STRICT=1` to treat those as crashes too);
//! * a parse error names the source;
//! * a normalized entry has a non-empty, clean title, no date past
//!   `now` + 10 minutes, `updated >= published`, an absolute http(s) link or
//!   none, and sanitized HTML: clean NFC text, no `]]>`, no `<script`, no
//!   scripting/styling/embedding element, no `on…`/`style` attribute, and
//!   `href`/`src` only as absolute `http`, `https` or `mailto` URLs;
//! * Atom and RSS are well-formed XML made of XML 1.0 characters only, and
//!   the titles and HTML they carry read back exactly as stored;
//! * JSON Feed parses with serde_json, has one item per entry, and its HTML
//!   passes the same HTML checks.

#![no_main]

use std::cell::{Cell, RefCell};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer};
use libfuzzer_sys::fuzz_target;
use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};
use url::Url;

use tributary::config::{FeedConfig, OutputConfig};
use tributary::model::{Credit, Entry, FeedInfo, StoredEntry};
use tributary::normalize::{Context, clean_text, normalize};
use tributary::parse::{Document, ParseError, display_url, parse};
use tributary::publish::{Format, render};
use tributary::xmltext::{is_xml_char, strip_xml_illegal};

thread_local! {
    /// Set while `tributary::parse::parse` runs, whose feed-rs call is
    /// wrapped in `catch_unwind`.
    static IN_PARSE: Cell<bool> = const { Cell::new(false) };
}

/// Whether a contained parser panic was already reported by this process.
static CONTAINED_REPORTED: AtomicBool = AtomicBool::new(false);

/// Replaces libFuzzer's abort-on-panic hook with one that lets a panic
/// inside `parse` unwind to the parser's own `catch_unwind` (printing the
/// first one), and aborts on every other panic as before.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let strict = std::env::var_os("TRIBUTARY_FUZZ_STRICT").is_some_and(|v| v != "0");
        let abort_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !strict && IN_PARSE.with(Cell::get) {
                if !CONTAINED_REPORTED.swap(true, Ordering::Relaxed) {
                    eprintln!("tributary-fuzz: contained parser panic (not a crash): {info}");
                }
                // If it escapes `parse`, libfuzzer-sys still aborts.
                return;
            }
            abort_hook(info);
        }));
    });
}

/// The poll time every input is normalized and rendered at.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, 3, 0, 0)
        .single()
        .expect("a valid date")
}

fuzz_target!(|data: &[u8]| {
    install_panic_hook();
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let charset = match selector & 0b111 {
        0 => None,
        1 => Some("utf-8"),
        2 => Some("iso-8859-1"),
        3 => Some("windows-1252"),
        4 => Some("koi8-r"),
        5 => Some("shift_jis"),
        6 => Some("utf-16le"),
        _ => Some("x-no-such-charset"),
    };
    let media_type = match (selector >> 3) & 0b11 {
        0 => None,
        1 => Some("application/rss+xml"),
        2 => Some("text/html"),
        _ => Some("application/feed+json"),
    };
    let url = if selector & 0b10_0000 == 0 {
        Url::parse("https://news.example.org/section/feed.xml?fmt=rss")
    } else {
        Url::parse("file:///var/lib/tributary/feeds/local.xml")
    }
    .expect("a valid URL");
    let doc = Document {
        bytes,
        charset,
        media_type,
        url: &url,
    };

    IN_PARSE.with(|f| f.set(true));
    let parsed = parse(doc);
    IN_PARSE.with(|f| f.set(false));
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            if matches!(e, ParseError::Panicked { .. })
                && std::env::var_os("TRIBUTARY_FUZZ_STRICT").is_some_and(|v| v != "0")
            {
                panic!("feed parser panicked (strict mode)");
            }
            let shown = display_url(&url);
            assert!(e.to_string().contains(&shown), "error does not name {shown}: {e}");
            return;
        }
    };

    let now = now();
    let cx = Context {
        base_url: Some(&url),
        feed: &parsed.info,
        now,
    };
    let entries: Vec<Entry> = parsed.items.iter().map(|item| normalize(item, &cx)).collect();
    for e in &entries {
        check_entry(e, now);
    }
    let stored: Vec<StoredEntry> = entries.iter().map(|e| stored_entry(e, &parsed.info, &url)).collect();

    let feed = FeedConfig {
        title: parsed.info.title.clone().unwrap_or_else(|| "Tributary".to_string()),
        description: parsed.info.title.clone(),
        author: parsed.info.title.clone().unwrap_or_else(|| "Tributary".to_string()),
        base_url: Url::parse("http://127.0.0.1:8080/").expect("a valid URL"),
        entries: 100,
        websub_hub: Url::parse("https://hub.example.org/").ok(),
        source_titles: Default::default(),
        timezone: tributary::config::TimeZone::UTC,
    };
    let output = OutputConfig::all();
    for format in Format::ALL {
        let meta = tributary::outputs::meta(&feed, &output, format, 2, true);
        let doc = render(format, &meta, &stored, now);
        match format {
            Format::Atom | Format::Rss => check_xml(&doc, format, &stored),
            Format::Json => check_json(&doc, &stored),
        }
    }
});

/// The stored form of a freshly normalized entry, credited to its source and
/// to a second source that carried it under its canonical link.
fn stored_entry(e: &Entry, info: &FeedInfo, url: &Url) -> StoredEntry {
    let credit = |source: &str, link: Option<&String>| Credit {
        source: source.to_string(),
        source_title: info.title.clone(),
        source_url: url.to_string(),
        source_feed_id: info.id.clone(),
        source_site: info.site_link.clone(),
        item_id: e.item_id.clone(),
        item_link: link.cloned(),
    };
    StoredEntry {
        uid: tributary::dedup::entry_uid("fuzz", &e.item_id),
        title: e.title.clone(),
        link: e.link.clone(),
        summary_html: e.summary_html.clone(),
        content_html: e.content_html.clone(),
        author: e.author.clone(),
        language: e.language.clone(),
        categories: e.categories.clone(),
        published: e.published,
        updated: e.updated,
        credits: vec![
            credit("fuzz", e.link.as_ref()),
            credit("mirror", e.canonical_link.as_ref()),
        ],
        meta: e.meta.clone(),
    }
}

/// What `normalize` promises about every entry.
fn check_entry(e: &Entry, now: DateTime<Utc>) {
    assert!(!e.title.is_empty(), "empty title: {e:?}");
    assert_eq!(clean_text(&e.title), e.title, "title not clean text");
    assert!(
        e.published <= now + Duration::minutes(10),
        "published in the future: {}",
        e.published
    );
    assert!(e.updated >= e.published, "updated before published: {e:?}");
    if let Some(link) = &e.link {
        let parsed = Url::parse(link).unwrap_or_else(|err| panic!("link {link:?} does not parse: {err}"));
        assert!(
            matches!(parsed.scheme(), "http" | "https"),
            "link {link:?} is not http(s)"
        );
    }
    for html in [&e.summary_html, &e.content_html].into_iter().flatten() {
        assert!(!html.trim().is_empty(), "blank HTML kept");
        assert_eq!(
            &clean_text(html),
            html,
            "sanitized HTML is not clean NFC text: {html:?}"
        );
        assert!(!html.contains("]]>"), "sanitized HTML contains ]]>: {html:?}");
        check_html(html);
    }
}

/// Elements a sanitized fragment never contains.
const FORBIDDEN_ELEMENTS: &[&str] = &[
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input", "button",
    "textarea", "select", "svg", "math", "link", "meta", "base", "noscript", "template",
];

/// Collects the tags of an HTML fragment as a browser tokenizes it.
struct Tags(RefCell<Vec<html5ever::tokenizer::Tag>>);

impl TokenSink for Tags {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        if let Token::TagToken(tag) = token {
            self.0.borrow_mut().push(tag);
        }
        TokenSinkResult::Continue
    }
}

/// What `html::sanitize` promises about markup, checked on `html` as a
/// browser would read it.
fn check_html(html: &str) {
    assert!(
        !html.to_ascii_lowercase().contains("<script"),
        "sanitized HTML contains <script: {html:?}"
    );
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let tokenizer = Tokenizer::new(Tags(RefCell::new(Vec::new())), Default::default());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    for tag in tokenizer.sink.0.borrow().iter() {
        if tag.kind != TagKind::StartTag {
            continue;
        }
        let name: &str = &tag.name;
        assert!(
            !FORBIDDEN_ELEMENTS.contains(&name),
            "sanitized HTML has a <{name}> element: {html:?}"
        );
        for attr in &tag.attrs {
            let attr_name: &str = &attr.name.local;
            let value: &str = &attr.value;
            assert!(
                !attr_name.starts_with("on"),
                "sanitized HTML has an event handler {attr_name}={value:?}: {html:?}"
            );
            assert_ne!(attr_name, "style", "sanitized HTML has a style attribute: {html:?}");
            if matches!(attr_name, "href" | "src") {
                let url = Url::parse(value)
                    .unwrap_or_else(|err| panic!("{attr_name}={value:?} is not an absolute URL ({err}): {html:?}"));
                assert!(
                    matches!(url.scheme(), "http" | "https" | "mailto"),
                    "{attr_name}={value:?} has a forbidden scheme: {html:?}"
                );
            }
        }
    }
}

/// `\r\n` and `\r` as `\n`, as an XML reader reports line ends.
fn xml_eols(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// The text an XML reader gets back for a string the writers wrote.
fn read_back(s: &str) -> String {
    xml_eols(&strip_xml_illegal(s))
}

/// Reads an Atom or RSS document to the end and checks it is well-formed,
/// and that the entries' titles and HTML read back as stored.
fn check_xml(doc: &str, format: Format, entries: &[StoredEntry]) {
    if let Some(bad) = doc.chars().find(|c| !is_xml_char(*c)) {
        panic!("{format:?} output has the XML-illegal character {bad:?}");
    }
    let mut reader = Reader::from_str(doc);
    reader.config_mut().check_end_names = true;
    reader.config_mut().check_comments = true;
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    // (element name, `type` attribute, text) of every text-only element.
    let mut texts: Vec<(String, Option<String>, String)> = Vec::new();
    let mut current: Option<String> = None;
    let mut current_type: Option<String> = None;
    loop {
        let event = reader.read_event().unwrap_or_else(|e| {
            panic!(
                "{format:?} output is not well-formed at {}: {e}",
                reader.error_position()
            )
        });
        match event {
            Event::Eof => break,
            Event::Start(start) => {
                if stack.is_empty() {
                    roots += 1;
                }
                let name = start.name().as_ref().to_string();
                current_type = check_attributes(&start, format);
                stack.push(name.clone());
                current = Some(String::new());
            }
            Event::Empty(start) => {
                if stack.is_empty() {
                    roots += 1;
                }
                check_attributes(&start, format);
                current = None;
            }
            Event::End(end) => {
                let name = end.name().as_ref().to_string();
                let open = stack
                    .pop()
                    .unwrap_or_else(|| panic!("{format:?}: </{name}> closes nothing"));
                assert_eq!(open, name, "{format:?}: mismatched end tag");
                if let Some(text) = current.take() {
                    texts.push((name, current_type.take(), text));
                }
            }
            Event::Text(text) => {
                let content = text.xml10_content();
                if stack.is_empty() {
                    assert!(
                        content.trim().is_empty(),
                        "{format:?}: text outside the root: {content:?}"
                    );
                }
                if let Some(t) = current.as_mut() {
                    t.push_str(&content);
                }
            }
            Event::GeneralRef(r) => {
                assert!(!stack.is_empty(), "{format:?}: reference outside the root");
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match &*r {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "quot" => '"',
                        "apos" => '\'',
                        other => panic!("{format:?}: undeclared entity &{other};"),
                    },
                    Err(e) => panic!("{format:?}: bad character reference &{};: {e}", &*r),
                };
                assert!(is_xml_char(c), "{format:?}: reference to an illegal character {c:?}");
                if let Some(t) = current.as_mut() {
                    t.push(c);
                }
            }
            Event::CData(c) => {
                assert!(!stack.is_empty(), "{format:?}: CDATA outside the root");
                if let Some(t) = current.as_mut() {
                    t.push_str(&c);
                }
            }
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::DocType(_) => panic!("{format:?}: the writers never write a doctype"),
        }
    }
    assert!(stack.is_empty(), "{format:?}: unclosed elements {stack:?}");
    assert_eq!(roots, 1, "{format:?}: {roots} root elements");

    let has = |name: &str, kind: Option<&str>, want: &str| {
        texts
            .iter()
            .any(|(n, t, text)| n == name && (kind.is_none() || t.as_deref() == kind) && text == want)
    };
    let (title, html_elements): (&str, &[&str]) = match format {
        Format::Atom => ("title", &["content", "summary"]),
        _ => ("title", &["description", "content:encoded"]),
    };
    let html_kind = (format == Format::Atom).then_some("html");
    for e in entries {
        let want = read_back(&e.title);
        assert!(has(title, None, &want), "{format:?}: title {want:?} does not read back");
        for html in [&e.summary_html, &e.content_html].into_iter().flatten() {
            let want = read_back(html);
            assert!(
                html_elements.iter().any(|el| has(el, html_kind, &want)),
                "{format:?}: HTML {want:?} does not read back"
            );
        }
    }
    for (name, kind, text) in &texts {
        if html_elements.contains(&name.as_str()) && (format != Format::Atom || kind.as_deref() == Some("html")) {
            check_html(text);
        }
    }
}

/// Checks every attribute of a tag unescapes; returns its `type` value.
fn check_attributes(start: &quick_xml::events::BytesStart<'_>, format: Format) -> Option<String> {
    let mut kind = None;
    for attr in start.attributes().with_checks(true) {
        let attr = attr.unwrap_or_else(|e| panic!("{format:?}: bad attribute: {e}"));
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .unwrap_or_else(|e| panic!("{format:?}: attribute value does not unescape: {e}"));
        if attr.key.as_ref() == "type" {
            kind = Some(value.into_owned());
        }
    }
    kind
}

/// Parses a JSON Feed document and checks its items' HTML.
fn check_json(doc: &str, entries: &[StoredEntry]) {
    let value: serde_json::Value =
        serde_json::from_str(doc).unwrap_or_else(|e| panic!("JSON Feed output does not parse: {e}"));
    assert_eq!(
        value["version"].as_str(),
        Some("https://jsonfeed.org/version/1.1"),
        "JSON Feed version"
    );
    let items = value["items"].as_array().expect("JSON Feed items array");
    assert_eq!(items.len(), entries.len(), "one JSON item per entry");
    for (item, entry) in items.iter().zip(entries) {
        assert_eq!(
            item["title"].as_str(),
            Some(strip_xml_illegal(&entry.title).as_ref()),
            "JSON title does not read back"
        );
        assert!(
            item["content_html"].is_string() || item["content_text"].is_string(),
            "JSON item without content_html or content_text"
        );
        if let Some(html) = item["content_html"].as_str() {
            check_html(html);
        }
    }
}
