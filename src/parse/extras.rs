//! What feed-rs does not keep, read from the document ourselves.
//!
//! feed-rs drops or reshapes much of what an item says: the `xml:base` in
//! scope of an entry's content (it keeps only an attribute on the content
//! element itself, unresolved), `slash:comments` and Atom `thr:count`,
//! item-level `itunes:explicit` and `itunes:block`, the role of a
//! `media:credit`, every enclosure but the first kind when Media RSS is
//! present, and it reads `rob@example.org (Rob Roberts)` as the name
//! `(Rob Roberts)`. This module makes one streaming pass over the prepared
//! text (or reads the JSON Feed object) and returns, per item in document
//! order, what it found; [`super::convert`] lays it over feed-rs's entries,
//! which come in the same order.
//!
//! It also counts the elements that look like items anywhere in the
//! document, so that a document in a dialect feed-rs reads as empty is
//! reported instead of polled as `ok` with nothing.

use std::sync::LazyLock;

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use regex::Regex;
use url::Url;

use crate::model::{ContentSource, Enclosure, Image, ItemMeta, MediaCredit, Person};

mod json;
pub(super) use json::scan_json;

const ATOM: &str = "http://www.w3.org/2005/Atom";
const RSS1: &str = "http://purl.org/rss/1.0/";
const DC: &str = "http://purl.org/dc/elements/1.1/";
const CONTENT: &str = "http://purl.org/rss/1.0/modules/content/";
const WFW: &str = "http://wellformedweb.org/CommentAPI/";
const SLASH: &str = "http://purl.org/rss/1.0/modules/slash/";
const THR: &str = "http://purl.org/syndication/thread/1.0";

/// The namespaces of the extensions this pass reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    /// The format's own elements (RSS without a namespace or in RSS 1.0's,
    /// Atom 1.0).
    Own,
    Dc,
    Content,
    Media,
    Itunes,
    Wfw,
    Slash,
    Thr,
    Other,
}

fn namespace(uri: &str, family: Family) -> Ns {
    match uri {
        DC => Ns::Dc,
        CONTENT => Ns::Content,
        WFW => Ns::Wfw,
        SLASH => Ns::Slash,
        THR => Ns::Thr,
        ATOM if family == Family::Atom => Ns::Own,
        RSS1 if family == Family::Rss => Ns::Own,
        _ if uri.trim_end_matches('/') == "http://search.yahoo.com/mrss" => Ns::Media,
        _ if uri.eq_ignore_ascii_case("http://www.itunes.com/dtds/podcast-1.0.dtd") => Ns::Itunes,
        _ => Ns::Other,
    }
}

/// Which family the root element belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Rss,
    Atom,
    Unknown,
}

/// What the pass found in one item.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct ItemExtras {
    /// The innermost `xml:base` in scope of the content element, resolved;
    /// `None` when no `xml:base` is in scope there.
    pub content_base: Option<String>,
    /// The same for the summary (`description`, Atom `summary`).
    pub summary_base: Option<String>,
    /// What the item says beyond the basics. Authors here replace
    /// feed-rs's; the other fields are merged with feed-rs's.
    pub meta: ItemMeta,
    /// Authors of an Atom entry's `<source>`: they apply when the entry
    /// names none (RFC 4287 §4.2.1).
    pub source_authors: Vec<Person>,
    /// The item's page, for formats where feed-rs mixes it with attachments
    /// (JSON Feed `url`, else `external_url`).
    pub link: Option<String>,
    /// Whether `link` is the answer (JSON Feed) rather than unknown (XML).
    pub link_known: bool,
}

/// What the pass found in a document.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct DocExtras {
    /// One per item feed-rs reads, in document order.
    pub items: Vec<ItemExtras>,
    /// Feed-level authors (Atom `<author>`, `itunes:author`, `dc:creator`,
    /// JSON Feed `authors`): the authors of every item that names none.
    pub feed_authors: Vec<Person>,
    /// Elements that look like items anywhere in the document (`item`,
    /// `entry`), whatever their namespace or place.
    pub item_like: usize,
    /// The root element and its namespace, for messages about a document
    /// whose items could not be read.
    pub root: Option<(String, Option<String>)>,
}

/// Text being collected for a leaf element, and where it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    RssAuthor,
    DcCreator,
    DcContributor,
    DcRights,
    ItunesAuthor,
    ItunesDuration,
    ItunesExplicit,
    ItunesBlock,
    Comments,
    CommentsFeed,
    CommentCount,
    MediaCredit,
    PersonName,
    PersonEmail,
    PersonUri,
}

/// The role and scheme of a `media:credit` being read.
type RoleScheme = (String, Option<String>);

/// One open element.
#[derive(Debug)]
struct Frame {
    ns: Ns,
    local: String,
    /// The base in scope (resolved), and whether an `xml:base` set it.
    base: Option<Url>,
    explicit_base: bool,
}

/// Which people list an Atom person construct belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PersonOf {
    ItemAuthor,
    ItemContributor,
    SourceAuthor,
    FeedAuthor,
}

struct Scan<'a> {
    family: Family,
    stack: Vec<Frame>,
    out: DocExtras,
    item: Option<ItemExtras>,
    /// Depth of the open item's frame.
    item_depth: usize,
    text: String,
    collecting: Option<(usize, Target, Option<RoleScheme>)>,
    person: Option<(usize, PersonOf, Person)>,
    document_url: Option<&'a Url>,
}

/// Reads the extras of an XML document (prepared text). A document the
/// reader cannot get through yields what was found up to the problem;
/// feed-rs reports the problem itself.
pub(super) fn scan_xml(text: &str, document_url: Option<&Url>) -> DocExtras {
    let mut reader = NsReader::from_str(text);
    reader.config_mut().expand_empty_elements = true;
    reader.config_mut().check_end_names = false;
    let mut scan = Scan {
        family: Family::Unknown,
        stack: Vec::new(),
        out: DocExtras::default(),
        item: None,
        item_depth: 0,
        text: String::new(),
        collecting: None,
        person: None,
        document_url,
    };
    while let Ok((resolved, event)) = reader.read_resolved_event() {
        let uri = match resolved {
            ResolveResult::Bound(ns) => Some(ns.as_ref().to_owned()),
            _ => None,
        };
        match event {
            Event::Start(e) => {
                let attrs = attributes(&reader, &e);
                scan.start(uri, e.local_name().as_ref(), &attrs);
            }
            Event::End(_) => scan.end(),
            Event::Text(t) => scan.push_text(&t.xml10_content()),
            Event::CData(c) => scan.push_text(&c.xml10_content()),
            Event::GeneralRef(r) => {
                if r.is_char_ref() {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        scan.text.push(c);
                    }
                } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(r.as_ref()) {
                    scan.text.push_str(s);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    scan.out
}

/// An element's attributes: (namespace URI, local name, value).
type Attrs = Vec<(Option<String>, String, String)>;

fn attributes(reader: &NsReader<&[u8]>, e: &BytesStart<'_>) -> Attrs {
    let mut out = Vec::new();
    for attr in e.attributes().with_checks(false).flatten() {
        let key = attr.key;
        let Ok(value) = attr.normalized_value(quick_xml::XmlVersion::Implicit1_0) else {
            continue;
        };
        if key.as_ref() == "xml:base" {
            out.push((Some("xml".to_owned()), "base".to_owned(), value.into_owned()));
            continue;
        }
        let (ns, local) = reader.resolver().resolve_attribute(key);
        let ns = match ns {
            ResolveResult::Bound(n) => Some(n.as_ref().to_owned()),
            _ => None,
        };
        out.push((ns, local.as_ref().to_owned(), value.into_owned()));
    }
    out
}

fn attr<'a>(attrs: &'a Attrs, name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(ns, local, _)| ns.is_none() && local == name)
        .map(|(_, _, v)| v.trim())
        .filter(|v| !v.is_empty())
}

impl Scan<'_> {
    fn parent_base(&self) -> (Option<Url>, bool) {
        match self.stack.last() {
            Some(f) => (f.base.clone(), f.explicit_base),
            None => (self.document_url.cloned(), false),
        }
    }

    /// The base in scope of the element now open: an `xml:base` resolved,
    /// else the document's address.
    fn base(&self) -> Option<&Url> {
        self.stack.last().and_then(|f| f.base.as_ref()).or(self.document_url)
    }

    /// `raw` resolved against the base in scope (RFC 3986), or as written
    /// when it cannot be.
    fn resolve(&self, raw: &str) -> String {
        let raw = raw.trim();
        match self.base() {
            Some(base) => base.join(raw).map(String::from).unwrap_or_else(|_| raw.to_owned()),
            None => raw.to_owned(),
        }
    }

    fn start(&mut self, uri: Option<String>, local: &str, attrs: &Attrs) {
        let depth = self.stack.len();
        if depth == 0 {
            self.family = match local {
                "rss" | "RDF" => Family::Rss,
                "feed" | "entry" => Family::Atom,
                _ => Family::Unknown,
            };
            self.out.root = Some((local.to_owned(), uri.clone()));
        }
        let ns = match uri.as_deref() {
            None => Ns::Own,
            Some(u) => namespace(u, self.family),
        };
        let (mut base, mut explicit) = self.parent_base();
        if let Some((_, _, value)) = attrs
            .iter()
            .find(|(ns, l, _)| ns.as_deref() == Some("xml") && l == "base")
        {
            let joined = match &base {
                Some(b) => b.join(value.trim()).ok(),
                None => Url::parse(value.trim()).ok(),
            };
            if let Some(u) = joined {
                base = Some(u);
                explicit = true;
            }
        }
        if matches!(local, "item" | "entry") {
            self.out.item_like += 1;
        }
        self.stack.push(Frame {
            ns,
            local: local.to_owned(),
            base,
            explicit_base: explicit,
        });
        if self.item.is_none() {
            if self.is_item_start(depth, ns, local) {
                self.item = Some(ItemExtras::default());
                self.item_depth = depth;
                return;
            }
            self.feed_level(depth, ns, local);
            return;
        }
        self.item_level(depth, ns, local, attrs);
    }

    /// Whether an element at `depth` starts an item as feed-rs reads them.
    fn is_item_start(&self, depth: usize, ns: Ns, local: &str) -> bool {
        if ns != Ns::Own {
            return false;
        }
        let parent = |i: usize| self.stack.get(i).map(|f| f.local.as_str());
        match (self.family, local, depth) {
            (Family::Atom, "entry", 0) => true,
            (Family::Atom, "entry", 1) => parent(0) == Some("feed"),
            (Family::Rss, "item", 1) => parent(0) == Some("RDF"),
            (Family::Rss, "item", 2) => parent(0) == Some("rss") && parent(1) == Some("channel"),
            _ => false,
        }
    }

    /// Feed-level elements: the authors every item inherits.
    fn feed_level(&mut self, depth: usize, ns: Ns, local: &str) {
        let in_channel = match self.family {
            Family::Atom => depth == 1 && self.stack.first().is_some_and(|f| f.local == "feed"),
            Family::Rss => self
                .stack
                .get(depth.wrapping_sub(1))
                .is_some_and(|f| f.local == "channel"),
            Family::Unknown => false,
        };
        if !in_channel {
            if let Some((d, _, _)) = &self.person
                && depth == d + 1
            {
                self.person_part(ns, local);
            }
            return;
        }
        match (self.family, ns, local) {
            (Family::Atom, Ns::Own, "author") => self.person = Some((depth, PersonOf::FeedAuthor, Person::default())),
            (Family::Rss, Ns::Dc, "creator") => self.collect(depth, Target::DcCreator),
            (Family::Rss, Ns::Itunes, "author") => self.collect(depth, Target::ItunesAuthor),
            _ => {}
        }
    }

    fn person_part(&mut self, ns: Ns, local: &str) {
        let depth = self.stack.len() - 1;
        match (ns, local) {
            (Ns::Own, "name") => self.collect(depth, Target::PersonName),
            (Ns::Own, "email") => self.collect(depth, Target::PersonEmail),
            (Ns::Own, "uri" | "url") => self.collect(depth, Target::PersonUri),
            _ => {}
        }
    }

    fn item_level(&mut self, depth: usize, ns: Ns, local: &str, attrs: &Attrs) {
        let child = depth == self.item_depth + 1;
        let explicit = self.stack.last().is_some_and(|f| f.explicit_base);
        let here = self.stack.last().and_then(|f| f.base.as_ref()).map(Url::to_string);
        if let Some((d, _, _)) = &self.person
            && depth == d + 1
        {
            self.person_part(ns, local);
            return;
        }
        let in_source = self
            .stack
            .get(self.item_depth + 1)
            .is_some_and(|f| f.ns == Ns::Own && f.local == "source" && self.family == Family::Atom);
        if in_source {
            if depth == self.item_depth + 2 && ns == Ns::Own && local == "author" {
                self.person = Some((depth, PersonOf::SourceAuthor, Person::default()));
            }
            return;
        }
        match (self.family, ns, local) {
            (Family::Atom, Ns::Own, "author") if child => {
                self.person = Some((depth, PersonOf::ItemAuthor, Person::default()));
            }
            (Family::Atom, Ns::Own, "contributor") if child => {
                self.person = Some((depth, PersonOf::ItemContributor, Person::default()));
            }
            (Family::Atom, Ns::Own, "content") if child => {
                let src = attr(attrs, "src").map(|src| ContentSource {
                    url: self.resolve(src),
                    media_type: attr(attrs, "type").map(str::to_owned),
                });
                self.set_item(|i| {
                    i.content_base = here.filter(|_| explicit);
                    i.meta.content_src = src;
                });
            }
            (Family::Atom, Ns::Own, "summary") if child => {
                self.set_item(|i| i.summary_base = here.filter(|_| explicit));
            }
            (Family::Atom, Ns::Own, "link") if child => self.atom_link(attrs),
            (Family::Rss, Ns::Own, "description") if child => {
                self.set_item(|i| i.summary_base = here.filter(|_| explicit));
            }
            (Family::Rss, Ns::Content, "encoded") if child => {
                self.set_item(|i| i.content_base = here.filter(|_| explicit));
            }
            (Family::Rss, Ns::Own, "author") if child => self.collect(depth, Target::RssAuthor),
            (Family::Rss, Ns::Own, "comments") if child => self.collect(depth, Target::Comments),
            (Family::Rss, Ns::Own, "enclosure") if child => {
                if let Some(url) = attr(attrs, "url") {
                    let enclosure = Enclosure {
                        url: self.resolve(url),
                        media_type: attr(attrs, "type").map(str::to_owned),
                        length: attr(attrs, "length").and_then(|l| l.parse().ok()).filter(|l| *l > 0),
                        ..Enclosure::default()
                    };
                    self.set_item(|i| push_enclosure(&mut i.meta.enclosures, enclosure));
                }
            }
            (_, Ns::Dc, "creator") if child => self.collect(depth, Target::DcCreator),
            (_, Ns::Dc, "contributor") if child => self.collect(depth, Target::DcContributor),
            (_, Ns::Dc, "rights") if child => self.collect(depth, Target::DcRights),
            (_, Ns::Wfw, "commentRss" | "commentRSS") if child => self.collect(depth, Target::CommentsFeed),
            (_, Ns::Slash, "comments") if child => self.collect(depth, Target::CommentCount),
            (_, Ns::Thr, "total") if child => self.collect(depth, Target::CommentCount),
            (_, Ns::Itunes, "author") if child => self.collect(depth, Target::ItunesAuthor),
            (_, Ns::Itunes, "duration") if child => self.collect(depth, Target::ItunesDuration),
            (_, Ns::Itunes, "explicit") if child => self.collect(depth, Target::ItunesExplicit),
            (_, Ns::Itunes, "block") if child => self.collect(depth, Target::ItunesBlock),
            (_, Ns::Itunes, "image") if child => {
                if let Some(href) = attr(attrs, "href").or_else(|| attr(attrs, "url")) {
                    let url = self.resolve(href);
                    self.set_item(|i| i.meta.image = Some(url));
                }
            }
            (_, Ns::Media, "content") => {
                if let Some(url) = attr(attrs, "url") {
                    let enclosure = Enclosure {
                        url: self.resolve(url),
                        media_type: attr(attrs, "type").map(str::to_owned),
                        length: attr(attrs, "fileSize").and_then(|l| l.parse().ok()).filter(|l| *l > 0),
                        duration: attr(attrs, "duration").and_then(parse_duration),
                        ..Enclosure::default()
                    };
                    self.set_item(|i| push_enclosure(&mut i.meta.enclosures, enclosure));
                }
            }
            (_, Ns::Media, "thumbnail") => {
                if let Some(url) = attr(attrs, "url") {
                    let image = Image {
                        url: self.resolve(url),
                        width: attr(attrs, "width").and_then(|w| w.parse().ok()),
                        height: attr(attrs, "height").and_then(|h| h.parse().ok()),
                    };
                    self.set_item(|i| {
                        if !i.meta.thumbnails.iter().any(|t| t.url == image.url) {
                            i.meta.thumbnails.push(image);
                        }
                    });
                }
            }
            (_, Ns::Media, "credit") => {
                let role = attr(attrs, "role").map(str::to_owned);
                let scheme = attr(attrs, "scheme").map(str::to_owned);
                self.text.clear();
                self.collecting = Some((depth, Target::MediaCredit, Some((role.unwrap_or_default(), scheme))));
            }
            _ => {}
        }
    }

    fn atom_link(&mut self, attrs: &Attrs) {
        let Some(href) = attr(attrs, "href") else {
            return;
        };
        let url = self.resolve(href);
        let media_type = attr(attrs, "type").map(str::to_owned);
        match attr(attrs, "rel") {
            Some("enclosure") => {
                let enclosure = Enclosure {
                    url,
                    media_type,
                    length: attr(attrs, "length").and_then(|l| l.parse().ok()).filter(|l| *l > 0),
                    title: attr(attrs, "title").map(str::to_owned),
                    ..Enclosure::default()
                };
                self.set_item(|i| push_enclosure(&mut i.meta.enclosures, enclosure));
            }
            Some("replies") => {
                let count = attrs
                    .iter()
                    .find(|(ns, local, _)| ns.as_deref() == Some(THR) && local == "count")
                    .and_then(|(_, _, v)| v.trim().parse::<u64>().ok());
                let is_page = media_type.as_deref().is_none_or(|t| t.starts_with("text/html"));
                self.set_item(|i| {
                    if is_page {
                        i.meta.comments.get_or_insert(url);
                    } else {
                        i.meta.comments_feed.get_or_insert(url);
                    }
                    if let Some(n) = count {
                        i.meta.comment_count = Some(i.meta.comment_count.unwrap_or(0).max(n));
                    }
                });
            }
            _ => {}
        }
    }

    fn set_item(&mut self, f: impl FnOnce(&mut ItemExtras)) {
        if let Some(item) = self.item.as_mut() {
            f(item);
        }
    }

    fn collect(&mut self, depth: usize, target: Target) {
        self.text.clear();
        self.collecting = Some((depth, target, None));
    }

    fn push_text(&mut self, s: &str) {
        if self.collecting.is_some() {
            self.text.push_str(s);
        }
    }

    fn end(&mut self) {
        let depth = self.stack.len().saturating_sub(1);
        if let Some((d, target, extra)) = self.collecting.take() {
            if d == depth {
                let text = std::mem::take(&mut self.text);
                self.finish(target, text.trim(), extra);
            } else {
                self.collecting = Some((d, target, extra));
            }
        }
        if let Some((d, _, _)) = &self.person
            && *d == depth
            && let Some((_, of, person)) = self.person.take()
            && (person.name.is_some() || person.email.is_some())
        {
            let list = match of {
                PersonOf::FeedAuthor => Some(&mut self.out.feed_authors),
                PersonOf::ItemAuthor => self.item.as_mut().map(|i| &mut i.meta.authors),
                PersonOf::ItemContributor => self.item.as_mut().map(|i| &mut i.meta.contributors),
                PersonOf::SourceAuthor => self.item.as_mut().map(|i| &mut i.source_authors),
            };
            if let Some(list) = list {
                add_person(list, person);
            }
        }
        if self.item.is_some()
            && depth == self.item_depth
            && let Some(item) = self.item.take()
        {
            self.out.items.push(item);
        }
        self.stack.pop();
    }

    fn finish(&mut self, target: Target, text: &str, extra: Option<RoleScheme>) {
        if text.is_empty() {
            return;
        }
        let in_item = self.item.is_some();
        match target {
            Target::PersonName | Target::PersonEmail | Target::PersonUri => {
                let resolved = (target == Target::PersonUri).then(|| self.resolve(text));
                if let Some((_, _, p)) = self.person.as_mut() {
                    match target {
                        Target::PersonName => p.name = Some(text.to_owned()),
                        Target::PersonEmail => p.email = Some(text.trim_start_matches("mailto:").to_owned()),
                        _ => p.uri = resolved,
                    }
                }
            }
            Target::RssAuthor | Target::DcCreator | Target::ItunesAuthor => {
                let person = parse_person(text);
                if in_item {
                    self.set_item(|i| add_person(&mut i.meta.authors, person));
                } else {
                    add_person(&mut self.out.feed_authors, person);
                }
            }
            Target::DcContributor => {
                let person = parse_person(text);
                self.set_item(|i| add_person(&mut i.meta.contributors, person));
            }
            Target::DcRights => {
                let text = text.to_owned();
                self.set_item(|i| {
                    i.meta.rights.get_or_insert(text);
                });
            }
            Target::ItunesDuration => {
                let duration = parse_duration(text);
                self.set_item(|i| i.meta.duration = duration.or(i.meta.duration));
            }
            Target::ItunesExplicit => {
                let explicit = match text.to_ascii_lowercase().as_str() {
                    "yes" | "true" | "explicit" => Some(true),
                    "no" | "false" | "clean" => Some(false),
                    _ => None,
                };
                self.set_item(|i| i.meta.explicit = explicit.or(i.meta.explicit));
            }
            Target::ItunesBlock => {
                let block = matches!(text.to_ascii_lowercase().as_str(), "yes" | "true");
                self.set_item(|i| i.meta.block |= block);
            }
            Target::Comments => {
                let url = self.resolve(text);
                self.set_item(|i| {
                    i.meta.comments.get_or_insert(url);
                });
            }
            Target::CommentsFeed => {
                let url = self.resolve(text);
                self.set_item(|i| {
                    i.meta.comments_feed.get_or_insert(url);
                });
            }
            Target::CommentCount => {
                if let Ok(n) = text.parse::<u64>() {
                    self.set_item(|i| i.meta.comment_count = Some(i.meta.comment_count.unwrap_or(0).max(n)));
                }
            }
            Target::MediaCredit => {
                let (role, scheme) = extra.unwrap_or_default();
                let credit = MediaCredit {
                    name: text.to_owned(),
                    role: Some(role).filter(|r| !r.is_empty()),
                    scheme,
                };
                self.set_item(|i| {
                    if !i.meta.media_credits.contains(&credit) {
                        i.meta.media_credits.push(credit);
                    }
                });
            }
        }
    }
}

/// Adds `enclosure` unless one with its URL is there; a later one fills
/// what the first lacks (an `<enclosure>` has the length, the
/// `media:content` of the same file the duration).
fn push_enclosure(list: &mut Vec<Enclosure>, enclosure: Enclosure) {
    match list.iter_mut().find(|e| e.url == enclosure.url) {
        Some(e) => {
            e.media_type = e.media_type.take().or(enclosure.media_type);
            e.length = e.length.or(enclosure.length);
            e.duration = e.duration.or(enclosure.duration);
            e.title = e.title.take().or(enclosure.title);
        }
        None => list.push(enclosure),
    }
}

/// Adds `person`, or completes the one already there with the same name
/// (an RSS `<author>` with the address and a `dc:creator` with the name).
pub(super) fn add_person(list: &mut Vec<Person>, person: Person) {
    let same = |p: &Person| match (&p.name, &person.name) {
        (Some(a), Some(b)) => a.trim().eq_ignore_ascii_case(b.trim()),
        (None, None) | (Some(_), None) | (None, Some(_)) => p.email.is_some() && p.email == person.email,
    };
    match list.iter_mut().find(|p| same(p)) {
        Some(p) => {
            p.name = p.name.take().or(person.name);
            p.email = p.email.take().or(person.email);
            p.uri = p.uri.take().or(person.uri);
            p.avatar = p.avatar.take().or(person.avatar);
        }
        None => list.push(person),
    }
}

static EMAIL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?:mailto:)?([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})").ok());

/// A person from an author string: `rob@example.org (Rob Roberts)`,
/// `Rob Roberts <rob@example.org>`, `Rob Roberts (rob@example.org)`, a bare
/// address or a bare name.
pub(super) fn parse_person(text: &str) -> Person {
    let text = text.trim();
    let Some(found) = EMAIL.as_ref().and_then(|re| re.captures(text)) else {
        return Person {
            name: Some(text.to_owned()).filter(|n| !n.is_empty()),
            ..Person::default()
        };
    };
    let (Some(whole), Some(address)) = (found.get(0), found.get(1)) else {
        return Person::default();
    };
    let mut rest = format!("{}{}", &text[..whole.start()], &text[whole.end()..]);
    for empty in ["()", "<>", "[]"] {
        rest = rest.replace(empty, " ");
    }
    let mut name = rest.trim();
    loop {
        let trimmed = name
            .strip_prefix('(')
            .and_then(|n| n.strip_suffix(')'))
            .or_else(|| name.strip_prefix('<').and_then(|n| n.strip_suffix('>')))
            .map(str::trim);
        match trimmed {
            Some(t) => name = t,
            None => break,
        }
    }
    let name = name.trim_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '-' | '–'));
    Person {
        name: Some(name.to_owned()).filter(|n| !n.is_empty()),
        email: Some(address.as_str().to_owned()),
        ..Person::default()
    }
}

/// A playing time in seconds: `3725`, `62:05`, `1:02:05`, `1:02:05.5`.
pub(super) fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut seconds: f64 = 0.0;
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() > 3 {
        return None;
    }
    for part in &parts {
        let value: f64 = part.trim().parse().ok()?;
        if !value.is_finite() || value < 0.0 {
            return None;
        }
        seconds = seconds * 60.0 + value;
    }
    (seconds < 1e9).then_some(seconds.round() as u64)
}

#[cfg(test)]
mod tests;
