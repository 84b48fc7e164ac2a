//! Rendering of the merged feeds: stored entries in, document bytes out.
//!
//! This module owns the three output syntaxes — Atom 1.0 (RFC 4287), RSS 2.0
//! and JSON Feed 1.1 — and the small vocabulary they share: the [`Format`]
//! names and media types, the feed-level facts in [`FeedMeta`], the stable
//! entry IRI of `entry_id` and the feed's `updated` date of `feed_updated`;
//! text goes out through the XML 1.0 character filter of
//! `xmltext`. It knows nothing of
//! HTTP or storage: callers hand it plain [`StoredEntry`] values and get a
//! `String` back.

mod atom;
mod json;
mod rss;

use std::io;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use quick_xml::Writer;
use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::model::{Credit, StoredEntry};
use crate::secrets;

/// The name written in every document's generator field.
const GENERATOR_NAME: &str = "Tributary";

/// One of the syntaxes a merged feed is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Atom 1.0 (RFC 4287).
    Atom,
    /// RSS 2.0.
    Rss,
    /// JSON Feed 1.1.
    Json,
}

impl Format {
    /// Every format, in the order feeds are usually advertised.
    pub const ALL: [Format; 3] = [Format::Atom, Format::Rss, Format::Json];

    /// The format named by a file extension (`atom`, `rss`, `json`), exactly.
    pub(crate) fn from_extension(ext: &str) -> Option<Format> {
        match ext {
            "atom" => Some(Format::Atom),
            "rss" => Some(Format::Rss),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    /// The file extension that names this format, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Atom => "atom",
            Format::Rss => "rss",
            Format::Json => "json",
        }
    }

    /// The `Content-Type` a document of this format is served with.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }
}

/// Feed-level facts of one merged feed document, supplied by the caller.
#[derive(Debug, Clone)]
pub struct FeedMeta {
    /// The merged feed's title, plain text.
    pub title: String,
    /// A one-line description of the feed, plain text.
    pub description: Option<String>,
    /// The feed's stable IRI, e.g. `urn:tributary:feed:all`.
    pub id: String,
    /// The absolute URL of this very document, in this format.
    pub self_url: String,
    /// The server's base URL (its home page).
    pub site_url: String,
    /// The feed-level author name (RFC 4287 requires one).
    pub author: String,
    /// The feed's language tag, if it has one.
    pub language: Option<String>,
    /// The absolute URL of the next (older) page, `None` on the last page (RFC 5005).
    pub next_url: Option<String>,
    /// The absolute URL of the previous (newer) page, `None` on the first page (RFC 5005).
    pub previous_url: Option<String>,
    /// The WebSub hub to advertise, if any.
    pub hub_url: Option<String>,
    /// The generator's version, written beside its name.
    pub generator_version: String,
}

/// Renders `entries`, in the order given, as one document of `format`.
///
/// `now` bounds the feed's `updated` date (see `feed_updated`).
pub fn render(format: Format, meta: &FeedMeta, entries: &[StoredEntry], now: DateTime<Utc>) -> String {
    let written = match format {
        Format::Json => return json::render(meta, entries),
        Format::Atom => atom::render(meta, entries, now),
        Format::Rss => rss::render(meta, entries, now),
    };
    // Invariant: the XML writers write only to a `Vec<u8>`, and writing to a
    // Vec<u8> cannot fail.
    #[allow(clippy::expect_used)]
    let bytes = written.expect("writing to a Vec<u8> cannot fail");
    // Every byte written is either ASCII markup or copied from a `&str`, so
    // the document is UTF-8; the lossy path is never taken.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The date a feed was last updated: the newest `updated` among `entries`,
/// never later than `now`, and `now` itself when there are no entries.
pub(crate) fn feed_updated(entries: &[StoredEntry], now: DateTime<Utc>) -> DateTime<Utc> {
    entries
        .iter()
        .map(|e| e.updated)
        .max()
        .map_or(now, |newest| newest.min(now))
}

/// The stable IRI of an entry, used as Atom `id`, RSS `guid` and JSON Feed `id`.
fn entry_id(uid: &str) -> String {
    format!("urn:tributary:entry:{uid}")
}

#[cfg(test)]
use crate::xmltext::is_xml_char;
use crate::xmltext::strip_xml_illegal;

/// The earliest instant every output date format can represent.
fn min_representable() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The latest instant every output date format can represent.
fn max_representable() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Clamps a date to four-digit, non-negative years, which RFC 3339 and
/// RFC 822 both require (and chrono's RFC 2822 writer panics outside).
fn representable(dt: DateTime<Utc>) -> DateTime<Utc> {
    dt.clamp(min_representable(), max_representable())
}

/// A date as RFC 3339 with second precision and `Z`, e.g. `2026-12-02T03:00:00Z`.
fn rfc3339(dt: DateTime<Utc>) -> String {
    representable(dt).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A date as RFC 822 with a four-digit year, e.g. `Wed, 02 Dec 2026 03:00:00 +0000`.
fn rfc822(dt: DateTime<Utc>) -> String {
    // chrono's `to_rfc2822` writes the day unpadded; RSS readers expect two digits.
    representable(dt).format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// How the writers name a credited source: its display title (the
/// configured `title`, else the feed's own, else its name).
fn source_title(credit: &Credit) -> &str {
    credit.source_title.as_deref().unwrap_or(&credit.source)
}

/// Every source of an entry as a (title, address) pair, first-seen first:
/// the address is the item's link in that source, else the source's site,
/// else its feed's public address; a source with none of these has no
/// address. Each pair once.
fn source_links(entry: &StoredEntry) -> Vec<(&str, Option<String>)> {
    let mut out: Vec<(&str, Option<String>)> = Vec::new();
    for credit in &entry.credits {
        let href = credit
            .item_link
            .clone()
            .or_else(|| credit.source_site.as_deref().and_then(secrets::public_url))
            .or_else(|| secrets::public_url(&credit.source_url));
        let pair = (source_title(credit), href);
        if !out.contains(&pair) {
            out.push(pair);
        }
    }
    out
}

/// A playing time as `H:MM:SS`, the form every podcast reader accepts.
fn hms(seconds: u64) -> String {
    format!("{}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60)
}

/// The scheme and label of a stored category, found among the item's own
/// categories by term or label: (term, scheme, label).
fn category_parts<'a>(entry: &'a StoredEntry, category: &'a str) -> (&'a str, Option<&'a str>, Option<&'a str>) {
    match entry
        .meta
        .categories
        .iter()
        .find(|c| c.term == category || c.label.as_deref() == Some(category))
    {
        Some(c) => (c.term.as_str(), c.scheme.as_deref(), c.label.as_deref()),
        None => (category, None, None),
    }
}

/// The entry's images for Media RSS thumbnails: its own image first, then
/// its thumbnails, each URL once: (url, width, height).
fn thumbnails(entry: &StoredEntry) -> Vec<(&str, Option<u32>, Option<u32>)> {
    let mut out: Vec<(&str, Option<u32>, Option<u32>)> = Vec::new();
    if let Some(image) = entry.meta.image.as_deref() {
        out.push((image, None, None));
    }
    for t in &entry.meta.thumbnails {
        match out.iter_mut().find(|(u, _, _)| *u == t.url) {
            Some(seen) => *seen = (seen.0, t.width, t.height),
            None => out.push((t.url.as_str(), t.width, t.height)),
        }
    }
    out
}

/// Which extension namespaces a document's entries need.
#[derive(Debug, Clone, Copy, Default)]
struct Extensions {
    media: bool,
    itunes: bool,
    thread: bool,
    comments_feed: bool,
}

impl Extensions {
    fn of(entries: &[StoredEntry]) -> Extensions {
        let mut x = Extensions::default();
        for e in entries {
            let m = &e.meta;
            x.media |= !m.enclosures.is_empty()
                || !m.thumbnails.is_empty()
                || m.image.is_some()
                || !m.media_credits.is_empty();
            x.itunes |= m.image.is_some() || m.explicit.is_some() || m.block || m.duration.is_some();
            x.thread |= m.comment_count.is_some() || m.comments.is_some() || m.comments_feed.is_some();
            x.comments_feed |= m.comments_feed.is_some();
        }
        x
    }
}

/// The Media RSS namespace.
const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";
/// The iTunes podcast namespace.
const ITUNES_NS: &str = "http://www.itunes.com/dtds/podcast-1.0.dtd";

/// Writes a `media:content` per enclosure of an entry (RSS, which has room
/// for one `<enclosure>` only).
fn write_media_contents(x: &mut XmlOut, entry: &StoredEntry) -> io::Result<()> {
    for e in &entry.meta.enclosures {
        let length = e.length.map(|l| l.to_string());
        let duration = e.duration.map(|d| d.to_string());
        let mut attrs: Vec<(&str, &str)> = vec![("url", &e.url)];
        if let Some(t) = e.media_type.as_deref() {
            attrs.push(("type", t));
        }
        if let Some(l) = length.as_deref() {
            attrs.push(("fileSize", l));
        }
        if let Some(d) = duration.as_deref() {
            attrs.push(("duration", d));
        }
        x.empty("media:content", &attrs)?;
    }
    Ok(())
}

/// Writes an entry's Media RSS and iTunes elements, shared by Atom and RSS:
/// `media:thumbnail`s, `media:credit`s, and the iTunes image, duration,
/// explicit and block.
fn write_media(x: &mut XmlOut, entry: &StoredEntry) -> io::Result<()> {
    let m = &entry.meta;
    for (url, width, height) in thumbnails(entry) {
        let width = width.map(|w| w.to_string());
        let height = height.map(|h| h.to_string());
        let mut attrs: Vec<(&str, &str)> = vec![("url", url)];
        if let Some(w) = width.as_deref() {
            attrs.push(("width", w));
        }
        if let Some(h) = height.as_deref() {
            attrs.push(("height", h));
        }
        x.empty("media:thumbnail", &attrs)?;
    }
    for c in &m.media_credits {
        let mut attrs: Vec<(&str, &str)> = Vec::new();
        if let Some(role) = c.role.as_deref() {
            attrs.push(("role", role));
        }
        if let Some(scheme) = c.scheme.as_deref() {
            attrs.push(("scheme", scheme));
        }
        x.text_element("media:credit", &attrs, &c.name)?;
    }
    if let Some(image) = m.image.as_deref() {
        x.empty("itunes:image", &[("href", image)])?;
    }
    if let Some(d) = m.duration {
        x.simple("itunes:duration", &hms(d))?;
    }
    if let Some(explicit) = m.explicit {
        x.simple("itunes:explicit", if explicit { "true" } else { "false" })?;
    }
    if m.block {
        x.simple("itunes:block", "Yes")?;
    }
    Ok(())
}

/// A thin XML writer over a `Vec<u8>` that filters every attribute value and
/// text node through [`strip_xml_illegal`] and lets quick-xml escape them.
struct XmlOut {
    writer: Writer<Vec<u8>>,
}

impl XmlOut {
    /// Starts a UTF-8 document with its XML declaration.
    fn new() -> io::Result<Self> {
        let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
        writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
        Ok(XmlOut { writer })
    }

    /// A start tag with its attributes, values filtered and escaped.
    fn tag<'a>(name: &'a str, attrs: &[(&str, &str)]) -> BytesStart<'a> {
        let mut start = BytesStart::new(name);
        for (key, value) in attrs {
            start.push_attribute((*key, strip_xml_illegal(value).as_ref()));
        }
        start
    }

    /// Writes `<name attrs…>`.
    fn start(&mut self, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
        self.writer.write_event(Event::Start(Self::tag(name, attrs)))
    }

    /// Writes `</name>`.
    fn end(&mut self, name: &str) -> io::Result<()> {
        self.writer.write_event(Event::End(BytesEnd::new(name)))
    }

    /// Writes `<name attrs…/>`.
    fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
        self.writer.write_event(Event::Empty(Self::tag(name, attrs)))
    }

    /// Writes `<name attrs…>text</name>`, the text filtered and escaped.
    fn text_element(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) -> io::Result<()> {
        self.start(name, attrs)?;
        // Text nodes need only `<`, `>` and `&` escaped; quotes stay as written.
        let text = partial_escape(strip_xml_illegal(text));
        self.writer.write_event(Event::Text(BytesText::from_escaped(text)))?;
        self.end(name)
    }

    /// Writes `<name>text</name>`.
    fn simple(&mut self, name: &str, text: &str) -> io::Result<()> {
        self.text_element(name, &[], text)
    }

    /// Ends the document and returns its bytes.
    fn finish(self) -> Vec<u8> {
        let mut bytes = self.writer.into_inner();
        bytes.push(b'\n');
        bytes
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{Credit, ItemMeta};

    /// The Italian title every format must carry byte-exact.
    pub(crate) const ITALIAN_TITLE: &str = "L’Alleanza Sino-Russa non è un fenomeno passeggero…";

    pub(crate) fn at(y: i32, mo: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, 0, 0).unwrap()
    }

    pub(crate) fn now() -> DateTime<Utc> {
        at(2026, 12, 2, 3)
    }

    pub(crate) fn meta() -> FeedMeta {
        FeedMeta {
            title: "Tributary — «tutte» le notizie & altro".to_string(),
            description: Some("Il meglio di tutte le fonti".to_string()),
            id: "urn:tributary:feed:all".to_string(),
            self_url: "http://localhost:8080/feeds/all.atom?page=2".to_string(),
            site_url: "http://localhost:8080/".to_string(),
            author: "Tributary".to_string(),
            language: Some("it".to_string()),
            next_url: Some("http://localhost:8080/feeds/all.atom?page=3".to_string()),
            previous_url: Some("http://localhost:8080/feeds/all.atom?page=1".to_string()),
            hub_url: Some("https://hub.example.org/".to_string()),
            generator_version: "0.1.0".to_string(),
        }
    }

    pub(crate) fn credit(source: &str, id: &str, link: Option<&str>) -> Credit {
        Credit {
            source: source.to_string(),
            source_title: Some(format!("Fonte {source}")),
            source_url: format!("https://{source}.example.com/feed.xml"),
            source_site: Some(format!("https://{source}.example.com/")),
            item_id: id.to_string(),
            item_link: link.map(str::to_string),
            source_feed_id: None,
        }
    }

    /// The entry with everything: Italian text, tricky HTML, control
    /// characters, several credits with repeated and missing links.
    pub(crate) fn rich_entry() -> StoredEntry {
        StoredEntry {
            uid: "0123abcd".to_string(),
            title: ITALIAN_TITLE.to_string(),
            link: Some("https://uno.example.com/articolo?a=1&b=2".to_string()),
            summary_html: Some("<p>Riassunto “breve” &amp; chiaro\u{1}</p>".to_string()),
            content_html: Some("<p>Contenuto &amp; più: a &lt; b, ]]&gt; fine\u{8}\u{FFFE}</p><p>Due</p>".to_string()),
            author: Some("Mario Rossi".to_string()),
            language: Some("it".to_string()),
            categories: vec!["Politica".to_string(), "Esteri & Mondo".to_string()],
            published: at(2026, 11, 30, 9),
            updated: at(2026, 12, 1, 10),
            meta: ItemMeta::default(),
            credits: vec![
                credit("uno", "uno-1", Some("https://uno.example.com/articolo?a=1&b=2")),
                credit("due", "due-7", Some("https://due.example.com/x")),
                credit("tre", "tre-3", Some("https://uno.example.com/articolo?a=1&b=2")),
                credit("quattro", "quattro-4", None),
                credit("cinque", "cinque-5", Some("https://due.example.com/x")),
                credit("sei", "sei-6", Some("https://sei.example.com/y")),
            ],
        }
    }

    /// A bare entry: no link, no content, no summary, a date in 2099, a
    /// source that is a file path.
    pub(crate) fn bare_entry() -> StoredEntry {
        StoredEntry {
            uid: "ffee".to_string(),
            title: "Nota senza \u{1}collegamento".to_string(),
            link: None,
            summary_html: None,
            content_html: None,
            author: None,
            language: None,
            categories: vec![],
            published: at(2099, 1, 1, 0),
            updated: at(2099, 1, 2, 0),
            meta: ItemMeta::default(),
            credits: vec![Credit {
                source: "locale".to_string(),
                source_title: None,
                source_url: "/var/lib/feeds/locale.xml".to_string(),
                source_site: None,
                item_id: "loc-1".to_string(),
                item_link: None,
                source_feed_id: None,
            }],
        }
    }

    /// An entry with a summary only.
    pub(crate) fn summary_entry() -> StoredEntry {
        StoredEntry {
            uid: "5a5a".to_string(),
            title: "Solo riassunto".to_string(),
            link: Some("https://due.example.com/solo".to_string()),
            summary_html: Some("<p>Solo <b>questo</b></p>".to_string()),
            content_html: None,
            author: None,
            language: Some("en".to_string()),
            categories: vec![],
            published: at(2026, 10, 1, 8),
            updated: at(2026, 10, 1, 8),
            credits: vec![credit("due", "due-9", Some("https://due.example.com/solo"))],
            meta: ItemMeta::default(),
        }
    }

    /// A podcast episode with everything an item can say beyond the basics.
    pub(crate) fn podcast_entry() -> StoredEntry {
        use crate::model::{Category, Enclosure, Image, MediaCredit, Person};
        StoredEntry {
            uid: "90d".to_string(),
            title: "Episodio 12".to_string(),
            link: Some("https://pod.example.org/12".to_string()),
            summary_html: Some("<p>Note &lt;brevi&gt;</p>".to_string()),
            content_html: Some("<p>Prima riga<br>seconda</p>".to_string()),
            author: Some("Rob Roberts, Ann".to_string()),
            language: Some("it".to_string()),
            categories: vec!["podcast".to_string(), "Scienza".to_string()],
            published: at(2026, 11, 20, 6),
            updated: at(2026, 11, 20, 6),
            credits: vec![credit("pod", "ep-12", Some("https://pod.example.org/12"))],
            meta: ItemMeta {
                authors: vec![
                    Person {
                        name: Some("Rob Roberts".into()),
                        email: Some("rob@example.org".into()),
                        uri: Some("https://pod.example.org/rob".into()),
                        avatar: Some("https://pod.example.org/rob.png".into()),
                    },
                    Person {
                        name: Some("Ann".into()),
                        ..Person::default()
                    },
                ],
                contributors: vec![Person {
                    name: Some("Cy Mixer".into()),
                    ..Person::default()
                }],
                enclosures: vec![
                    Enclosure {
                        url: "https://cdn.example.org/12.mp3".into(),
                        media_type: Some("audio/mpeg".into()),
                        length: Some(31_415_926),
                        duration: Some(1801),
                        title: Some("MP3".into()),
                    },
                    Enclosure {
                        url: "https://cdn.example.org/12.ogg".into(),
                        media_type: None,
                        length: None,
                        duration: None,
                        title: None,
                    },
                ],
                image: Some("https://pod.example.org/12.jpg".into()),
                thumbnails: vec![Image {
                    url: "https://pod.example.org/12-small.jpg".into(),
                    width: Some(120),
                    height: Some(90),
                }],
                categories: vec![Category {
                    term: "science".into(),
                    scheme: Some("https://pod.example.org/topics".into()),
                    label: Some("Scienza".into()),
                }],
                comments: Some("https://pod.example.org/12#comments".into()),
                comments_feed: Some("https://pod.example.org/12/comments.rss".into()),
                comment_count: Some(7),
                rights: Some("CC BY-SA 4.0".into()),
                content_src: None,
                content_text: Some("Prima riga\nseconda".into()),
                summary_text: Some("Note <brevi>".into()),
                explicit: Some(false),
                block: true,
                duration: Some(1801),
                media_credits: vec![MediaCredit {
                    name: "Sam".into(),
                    role: Some("producer".into()),
                    scheme: Some("urn:ebu".into()),
                }],
            },
        }
    }

    /// An entry whose content lives elsewhere (Atom `content src`).
    pub(crate) fn elsewhere_entry() -> StoredEntry {
        StoredEntry {
            uid: "e15e".to_string(),
            title: "Un articolo altrove".to_string(),
            summary_html: None,
            content_html: Some("<p>Il riassunto</p>".to_string()),
            meta: ItemMeta {
                content_src: Some(crate::model::ContentSource {
                    url: "https://altrove.example.org/a.pdf".into(),
                    media_type: Some("application/pdf".into()),
                }),
                ..ItemMeta::default()
            },
            ..summary_entry()
        }
    }

    pub(crate) fn entries() -> Vec<StoredEntry> {
        vec![rich_entry(), bare_entry(), summary_entry()]
    }

    /// Whether a document contains only XML 1.0 characters.
    pub(crate) fn all_xml_chars(s: &str) -> bool {
        s.chars().all(is_xml_char)
    }

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::from_extension(f.extension()), Some(f));
            assert!(f.content_type().ends_with("; charset=utf-8"));
        }
        assert_eq!(Format::from_extension("xml"), None);
        assert_eq!(Format::from_extension("ATOM"), None);
        assert_eq!(Format::from_extension(""), None);
        assert_eq!(Format::Atom.content_type(), "application/atom+xml; charset=utf-8");
        assert_eq!(Format::Rss.content_type(), "application/rss+xml; charset=utf-8");
        assert_eq!(Format::Json.content_type(), "application/feed+json; charset=utf-8");
    }

    #[test]
    fn entry_id_is_a_urn() {
        assert_eq!(entry_id("0123abcd"), "urn:tributary:entry:0123abcd");
    }

    #[test]
    fn feed_updated_is_newest_but_never_future() {
        let n = now();
        assert_eq!(feed_updated(&[], n), n);
        // The bare entry is updated in 2099: clamped to now.
        assert_eq!(feed_updated(&entries(), n), n);
        let past = vec![rich_entry(), summary_entry()];
        assert_eq!(feed_updated(&past, n), at(2026, 12, 1, 10));
        assert!(feed_updated(&entries(), n) <= n);
    }

    #[test]
    fn dates_format_and_clamp() {
        assert_eq!(rfc3339(now()), "2026-12-02T03:00:00Z");
        assert_eq!(rfc822(now()), "Wed, 02 Dec 2026 03:00:00 +0000");
        assert_eq!(rfc822(at(2026, 12, 9, 3)), "Wed, 09 Dec 2026 03:00:00 +0000");
        // Out-of-range years do not panic and stay four digits.
        assert_eq!(rfc822(DateTime::<Utc>::MAX_UTC), "Fri, 31 Dec 9999 23:59:59 +0000");
        assert_eq!(rfc3339(DateTime::<Utc>::MIN_UTC), "0000-01-01T00:00:00Z");
    }

    #[test]
    fn every_source_is_named_once_with_an_address() {
        let rich = rich_entry();
        let links = source_links(&rich);
        let titles: Vec<&str> = links.iter().map(|(t, _)| *t).collect();
        assert_eq!(
            titles,
            [
                "Fonte uno",
                "Fonte due",
                "Fonte tre",
                "Fonte quattro",
                "Fonte cinque",
                "Fonte sei"
            ]
        );
        assert_eq!(
            links[3].1.as_deref(),
            Some("https://quattro.example.com/"),
            "no item link: the site"
        );
        let bare = bare_entry();
        let bare = source_links(&bare);
        assert_eq!(bare, vec![("locale", None)], "a file source has no public address");
    }

    #[test]
    fn durations_are_written_as_hours_minutes_seconds() {
        assert_eq!(hms(0), "0:00:00");
        assert_eq!(hms(1801), "0:30:01");
        assert_eq!(hms(37_230), "10:20:30");
    }

    #[test]
    fn every_format_renders_the_italian_title_byte_exact() {
        for f in Format::ALL {
            let out = render(f, &meta(), &entries(), now());
            assert!(out.contains(ITALIAN_TITLE), "{f:?}");
            assert!(!out.contains("&#"), "{f:?} used a character reference");
            assert!(out.contains("Esteri &amp; Mondo") || f == Format::Json);
        }
    }

    #[test]
    fn every_format_renders_an_empty_feed() {
        for f in Format::ALL {
            let out = render(f, &meta(), &[], now());
            let feed = feed_rs::parser::parse(out.as_bytes()).unwrap();
            assert!(feed.entries.is_empty(), "{f:?}");
            assert_eq!(feed.title.unwrap().content, meta().title, "{f:?}");
        }
    }
}
