//! The Atom 1.0 (RFC 4287) writer of the merged feeds.
//!
//! It owns the shape of an Atom document: the feed head with its self,
//! alternate, RFC 5005 paging and WebSub hub links, and each entry with its
//! `via` links to the other sources that carried it and an `atom:source`
//! naming the first one.

use std::io;

use chrono::{DateTime, Utc};

use super::{
    Extensions, FeedMeta, GENERATOR_NAME, ITUNES_NS, MEDIA_NS, XmlOut, category_parts, entry_id, feed_updated, rfc3339,
    source_links, source_title, write_media,
};
use crate::model::{Credit, Person, StoredEntry};
use crate::secrets;

/// The Atom namespace, the default namespace of the document.
const ATOM_NS: &str = "http://www.w3.org/2005/Atom";
/// The Atom threading extension (RFC 4685): `thr:count`, `thr:total`.
const THREAD_NS: &str = "http://purl.org/syndication/thread/1.0";

/// Writes the Atom document for `entries`.
pub(super) fn render(meta: &FeedMeta, entries: &[StoredEntry], now: DateTime<Utc>) -> io::Result<Vec<u8>> {
    let mut x = XmlOut::new()?;
    let mut root: Vec<(&str, &str)> = vec![("xmlns", ATOM_NS)];
    let ext = Extensions::of(entries);
    if ext.thread {
        root.push(("xmlns:thr", THREAD_NS));
    }
    if ext.media {
        root.push(("xmlns:media", MEDIA_NS));
    }
    if ext.itunes {
        root.push(("xmlns:itunes", ITUNES_NS));
    }
    if let Some(lang) = meta.language.as_deref() {
        root.push(("xml:lang", lang));
    }
    x.start("feed", &root)?;

    x.simple("id", &meta.id)?;
    x.text_element("title", &[("type", "text")], &meta.title)?;
    if let Some(description) = meta.description.as_deref() {
        x.text_element("subtitle", &[("type", "text")], description)?;
    }
    x.simple("updated", &rfc3339(feed_updated(entries, now)))?;
    x.start("author", &[])?;
    x.simple("name", &meta.author)?;
    x.end("author")?;
    x.empty(
        "link",
        &[
            ("rel", "self"),
            ("type", "application/atom+xml"),
            ("href", &meta.self_url),
        ],
    )?;
    x.empty(
        "link",
        &[("rel", "alternate"), ("type", "text/html"), ("href", &meta.site_url)],
    )?;
    if let Some(next) = meta.next_url.as_deref() {
        x.empty(
            "link",
            &[("rel", "next"), ("type", "application/atom+xml"), ("href", next)],
        )?;
    }
    if let Some(previous) = meta.previous_url.as_deref() {
        x.empty(
            "link",
            &[
                ("rel", "previous"),
                ("type", "application/atom+xml"),
                ("href", previous),
            ],
        )?;
    }
    if let Some(hub) = meta.hub_url.as_deref() {
        x.empty("link", &[("rel", "hub"), ("href", hub)])?;
    }
    x.text_element("generator", &[("version", &meta.generator_version)], GENERATOR_NAME)?;

    for entry in entries {
        write_entry(&mut x, entry)?;
    }

    x.end("feed")?;
    Ok(x.finish())
}

/// Writes one `<entry>`.
fn write_entry(x: &mut XmlOut, entry: &StoredEntry) -> io::Result<()> {
    let mut attrs: Vec<(&str, &str)> = Vec::new();
    if let Some(lang) = entry.language.as_deref() {
        attrs.push(("xml:lang", lang));
    }
    x.start("entry", &attrs)?;

    x.simple("id", &entry_id(&entry.uid))?;
    x.text_element("title", &[("type", "text")], &entry.title)?;
    x.simple("updated", &rfc3339(entry.updated))?;
    x.simple("published", &rfc3339(entry.published))?;
    let m = &entry.meta;
    if m.authors.is_empty() {
        if let Some(author) = entry.author.as_deref() {
            x.start("author", &[])?;
            x.simple("name", author)?;
            x.end("author")?;
        }
    } else {
        for person in &m.authors {
            write_person(x, "author", person)?;
        }
    }
    for person in &m.contributors {
        write_person(x, "contributor", person)?;
    }
    if let Some(link) = entry.link.as_deref() {
        x.empty("link", &[("rel", "alternate"), ("type", "text/html"), ("href", link)])?;
    }
    // Every source that carried the entry, by its title.
    for (title, href) in source_links(entry) {
        if let Some(href) = href.as_deref() {
            x.empty("link", &[("rel", "via"), ("href", href), ("title", title)])?;
        }
    }
    for e in &m.enclosures {
        let length = e.length.map(|l| l.to_string());
        let mut attrs: Vec<(&str, &str)> = vec![("rel", "enclosure"), ("href", &e.url)];
        if let Some(t) = e.media_type.as_deref() {
            attrs.push(("type", t));
        }
        if let Some(l) = length.as_deref() {
            attrs.push(("length", l));
        }
        if let Some(t) = e.title.as_deref() {
            attrs.push(("title", t));
        }
        x.empty("link", &attrs)?;
    }
    let count = m.comment_count.map(|n| n.to_string());
    if let Some(page) = m.comments.as_deref() {
        let mut attrs: Vec<(&str, &str)> = vec![("rel", "replies"), ("type", "text/html"), ("href", page)];
        if let Some(n) = count.as_deref() {
            attrs.push(("thr:count", n));
        }
        x.empty("link", &attrs)?;
    }
    if let Some(feed) = m.comments_feed.as_deref() {
        x.empty("link", &[("rel", "replies"), ("href", feed)])?;
    }
    if let Some(n) = count.as_deref() {
        x.simple("thr:total", n)?;
    }
    let mut written: Vec<&str> = Vec::new();
    for category in &entry.categories {
        let (term, scheme, label) = category_parts(entry, category);
        if written.contains(&term) {
            continue;
        }
        written.push(term);
        let mut attrs: Vec<(&str, &str)> = vec![("term", term)];
        if let Some(scheme) = scheme {
            attrs.push(("scheme", scheme));
        }
        if let Some(label) = label {
            attrs.push(("label", label));
        }
        x.empty("category", &attrs)?;
    }
    if let Some(rights) = m.rights.as_deref() {
        x.text_element("rights", &[("type", "text")], rights)?;
    }
    if let Some(first) = entry.credits.first() {
        write_source(x, first, entry)?;
    }
    write_media(x, entry)?;

    let summary_html = entry.summary_html.as_deref();
    let content_html = entry.content_html.as_deref();
    if let Some(src) = &m.content_src {
        // RFC 4287 §4.1.3: content with `src` is empty, and the entry then
        // needs a summary: the text we have is it.
        if let Some(text) = summary_html.or(content_html) {
            x.text_element("summary", &[("type", "html")], text)?;
        }
        let mut attrs: Vec<(&str, &str)> = vec![("src", &src.url)];
        if let Some(t) = src.media_type.as_deref() {
            attrs.push(("type", t));
        }
        x.empty("content", &attrs)?;
    } else {
        match (summary_html, content_html) {
            (summary, Some(content)) => {
                match (summary, m.summary_text.as_deref()) {
                    (Some(_), Some(text)) => x.text_element("summary", &[("type", "text")], text)?,
                    (Some(summary), None) => x.text_element("summary", &[("type", "html")], summary)?,
                    (None, _) => {}
                }
                match m.content_text.as_deref() {
                    Some(text) => x.text_element("content", &[("type", "text")], text)?,
                    None => x.text_element("content", &[("type", "html")], content)?,
                }
            }
            (Some(summary), None) => {
                x.text_element("content", &[("type", "html")], summary)?;
            }
            (None, None) => {
                // RFC 4287 §4.1.1: an entry without atom:content must have an
                // alternate link (a summary does not count); without one, the
                // title stands in as text content.
                if entry.link.is_none() {
                    x.text_element("content", &[("type", "text")], &entry.title)?;
                }
            }
        }
    }

    x.end("entry")
}

/// Writes an Atom person construct; its required name is the address when
/// the feed gave no name.
fn write_person(x: &mut XmlOut, element: &str, person: &Person) -> io::Result<()> {
    let Some(name) = person.display() else {
        return Ok(());
    };
    x.start(element, &[])?;
    x.simple("name", name)?;
    if let Some(uri) = person.uri.as_deref() {
        x.simple("uri", uri)?;
    }
    if let Some(email) = person.email.as_deref() {
        x.simple("email", email)?;
    }
    x.end(element)
}

/// Writes the `<source>` of an entry from its first credit.
fn write_source(x: &mut XmlOut, credit: &Credit, entry: &StoredEntry) -> io::Result<()> {
    x.start("source", &[])?;
    x.simple("id", &source_iri(credit))?;
    x.text_element("title", &[("type", "text")], source_title(credit))?;
    if let Some(feed_url) = secrets::public_url(&credit.source_url) {
        x.empty("link", &[("rel", "self"), ("href", &feed_url)])?;
    }
    // The site link is the source feed's own claim: only http(s) is
    // republished, and never with credentials in it.
    if let Some(site) = credit.source_site.as_deref().and_then(secrets::public_url) {
        x.empty("link", &[("rel", "alternate"), ("href", &site)])?;
    }
    x.simple("updated", &rfc3339(entry.updated))?;
    x.end("source")
}

/// The IRI identifying a credited source: the feed's own id when it has a
/// usable one, else the address it is fetched from as it may be published
/// (`secrets::public_url`: never userinfo or credential parameters), a
/// `file:` URL for an absolute path, else a `urn:tributary:source:` IRI of
/// its name.
fn source_iri(credit: &Credit) -> String {
    if let Some(id) = credit
        .source_feed_id
        .as_deref()
        .filter(|id| url::Url::parse(id).is_ok() && !secrets::has_secrets(id))
    {
        return id.to_string();
    }
    if let Some(feed_url) = secrets::public_url(&credit.source_url) {
        return feed_url;
    }
    if let Ok(file) = url::Url::from_file_path(&credit.source_url) {
        return file.to_string();
    }
    let name: String = url::form_urlencoded::byte_serialize(credit.source.as_bytes()).collect();
    format!("urn:tributary:source:{name}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::{
        ITALIAN_TITLE, all_xml_chars, bare_entry, entries, meta, now, rich_entry, summary_entry,
    };
    use super::super::{Format, render};
    use super::*;

    fn atom() -> String {
        render(Format::Atom, &meta(), &entries(), now())
    }

    fn parse(out: &str) -> feed_rs::model::Feed {
        feed_rs::parser::parse(out.as_bytes()).unwrap()
    }

    #[test]
    fn parses_back_with_feed_rs() {
        let out = atom();
        let feed = parse(&out);
        assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
        assert_eq!(feed.id, "urn:tributary:feed:all");
        assert_eq!(feed.title.unwrap().content, meta().title);
        assert_eq!(feed.description.unwrap().content, "Il meglio di tutte le fonti");
        assert_eq!(feed.updated, Some(now()));
        assert_eq!(feed.authors[0].name.as_deref(), Some("Tributary"));
        assert_eq!(feed.language.as_deref(), Some("it"));
        let gen_ = feed.generator.unwrap();
        assert_eq!(gen_.content, "Tributary");
        assert_eq!(gen_.version.as_deref(), Some("0.1.0"));
        let rels: Vec<(Option<&str>, &str)> = feed.links.iter().map(|l| (l.rel.as_deref(), l.href.as_str())).collect();
        assert!(rels.contains(&(Some("self"), "http://localhost:8080/feeds/all.atom?page=2")));
        assert!(rels.contains(&(Some("alternate"), "http://localhost:8080/")));
        assert!(rels.contains(&(Some("next"), "http://localhost:8080/feeds/all.atom?page=3")));
        assert!(rels.contains(&(Some("previous"), "http://localhost:8080/feeds/all.atom?page=1")));
        assert!(rels.contains(&(Some("hub"), "https://hub.example.org/")));

        assert_eq!(feed.entries.len(), 3);
        let e = &feed.entries[0];
        let rich = rich_entry();
        assert_eq!(e.id, "urn:tributary:entry:0123abcd");
        assert_eq!(e.title.as_ref().unwrap().content, ITALIAN_TITLE);
        assert_eq!(e.updated, Some(rich.updated));
        assert_eq!(e.published, Some(rich.published));
        assert_eq!(e.authors[0].name.as_deref(), Some("Mario Rossi"));
        assert_eq!(e.links[0].href, rich.link.clone().unwrap());
        assert_eq!(e.links[0].rel.as_deref(), Some("alternate"));
        let content = e.content.as_ref().unwrap().body.as_deref().unwrap();
        assert_eq!(content, "<p>Contenuto &amp; più: a &lt; b, ]]&gt; fine</p><p>Due</p>");
        assert_eq!(
            e.summary.as_ref().unwrap().content,
            "<p>Riassunto “breve” &amp; chiaro</p>"
        );
        let terms: Vec<&str> = e.categories.iter().map(|c| c.term.as_str()).collect();
        assert_eq!(terms, vec!["Politica", "Esteri & Mondo"]);
        // feed-rs does not read an entry's xml:lang; the raw test checks it.

        // Bare entry: the title stands in as summary.
        let bare = &feed.entries[1];
        assert_eq!(bare.id, "urn:tributary:entry:ffee");
        assert_eq!(bare.title.as_ref().unwrap().content, "Nota senza collegamento");
        assert!(bare.summary.is_none());
        assert_eq!(
            bare.content.as_ref().and_then(|c| c.body.as_deref()),
            Some("Nota senza collegamento")
        );
        assert!(bare.links.is_empty());

        // Summary only: the summary becomes the content.
        let only = &feed.entries[2];
        assert_eq!(
            only.content.as_ref().unwrap().body.as_deref(),
            summary_entry().summary_html.as_deref()
        );
        assert!(only.summary.is_none());
    }

    #[test]
    fn raw_text_is_byte_exact_and_legal() {
        let out = atom();
        assert!(out.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"));
        assert!(out.contains(&format!("<title type=\"text\">{ITALIAN_TITLE}</title>")));
        assert!(out.contains("Riassunto “breve”"));
        assert!(all_xml_chars(&out));
        assert!(!out.contains("]]>"));
        assert!(out.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"it\">"));
        assert!(out.contains("<entry xml:lang=\"it\">"));
        assert!(out.contains("href=\"https://uno.example.com/articolo?a=1&amp;b=2\""));
        // Quotes are escaped in attributes only.
        let mut e = rich_entry();
        e.author = Some("Ana \"Q\" O'Neil".to_string());
        e.categories = vec!["c\"d".to_string()];
        let out = render(Format::Atom, &meta(), &[e], now());
        assert!(out.contains("<name>Ana \"Q\" O'Neil</name>"));
        assert!(out.contains("<category term=\"c&quot;d\"/>"));
        assert!(all_xml_chars(&out));
    }

    #[test]
    fn every_source_is_a_via_link_with_its_title() {
        let out = render(Format::Atom, &meta(), &[rich_entry()], now());
        assert_eq!(out.matches("rel=\"via\"").count(), 6);
        assert!(out.contains("<link rel=\"via\" href=\"https://due.example.com/x\" title=\"Fonte due\"/>"));
        assert!(out.contains("<link rel=\"via\" href=\"https://quattro.example.com/\" title=\"Fonte quattro\"/>"));
        let feed = parse(&out);
        let vias: Vec<_> = feed.entries[0]
            .links
            .iter()
            .filter(|l| l.rel.as_deref() == Some("via"))
            .map(|l| l.title.clone().unwrap())
            .collect();
        assert_eq!(vias.len(), 6);
        assert_eq!(vias[5], "Fonte sei");
    }

    #[test]
    fn everything_an_item_says_is_written_in_atom() {
        use super::super::tests::{elsewhere_entry, podcast_entry};
        let out = render(Format::Atom, &meta(), &[podcast_entry(), elsewhere_entry()], now());
        assert!(out.contains("xmlns:thr=\"http://purl.org/syndication/thread/1.0\""));
        assert!(
            out.contains("<content type=\"text\">Prima riga\nseconda</content>"),
            "{out}"
        );
        assert!(out.contains("<summary type=\"text\">Note &lt;brevi&gt;</summary>"));
        assert!(out.contains(
            "<link rel=\"replies\" type=\"text/html\" href=\"https://pod.example.org/12#comments\" thr:count=\"7\"/>"
        ));
        assert!(out.contains("<thr:total>7</thr:total>"));
        assert!(out.contains("<media:credit role=\"producer\" scheme=\"urn:ebu\">Sam</media:credit>"));
        assert!(out.contains("<itunes:duration>0:30:01</itunes:duration>"));
        assert!(out.contains("<itunes:block>Yes</itunes:block>"));
        assert!(out.contains("<content src=\"https://altrove.example.org/a.pdf\" type=\"application/pdf\"/>"));
        let feed = parse(&out);
        let e = &feed.entries[0];
        assert_eq!(e.authors.len(), 2);
        assert_eq!(e.authors[0].email.as_deref(), Some("rob@example.org"));
        assert_eq!(e.authors[0].uri.as_deref(), Some("https://pod.example.org/rob"));
        assert_eq!(e.contributors[0].name.as_deref(), Some("Cy Mixer"));
        let enclosures: Vec<_> = e
            .links
            .iter()
            .filter(|l| l.rel.as_deref() == Some("enclosure"))
            .collect();
        assert_eq!(enclosures.len(), 2);
        assert_eq!(enclosures[0].length, Some(31_415_926));
        assert_eq!(enclosures[0].media_type.as_deref(), Some("audio/mpeg"));
        assert_eq!(enclosures[0].title.as_deref(), Some("MP3"));
        let science = e.categories.iter().find(|c| c.term == "science").unwrap();
        assert_eq!(science.scheme.as_deref(), Some("https://pod.example.org/topics"));
        assert_eq!(science.label.as_deref(), Some("Scienza"));
        assert_eq!(e.categories.len(), 2, "the label is not written twice");
        assert_eq!(e.rights.as_ref().unwrap().content, "CC BY-SA 4.0");
        let other = &feed.entries[1];
        assert_eq!(other.summary.as_ref().unwrap().content, "<p>Il riassunto</p>");
    }

    #[test]
    fn source_names_the_first_credit() {
        let out = render(Format::Atom, &meta(), &[rich_entry()], now());
        let start = out.find("<source>").unwrap();
        let end = out.find("</source>").unwrap();
        let source = &out[start..end];
        assert!(source.contains("<id>https://uno.example.com/feed.xml</id>"));
        assert!(source.contains("<title type=\"text\">Fonte uno</title>"));
        assert!(source.contains("<link rel=\"self\" href=\"https://uno.example.com/feed.xml\"/>"));
        assert!(source.contains("<link rel=\"alternate\" href=\"https://uno.example.com/\"/>"));
        assert!(source.contains("<updated>2026-12-01T10:00:00Z</updated>"));
        assert_eq!(out.matches("<source>").count(), 1);
    }

    #[test]
    fn file_source_has_no_self_link_and_a_file_iri() {
        let out = render(Format::Atom, &meta(), &[bare_entry()], now());
        let start = out.find("<source>").unwrap();
        let end = out.find("</source>").unwrap();
        let source = &out[start..end];
        assert!(source.contains("<id>file:///var/lib/feeds/locale.xml</id>"));
        assert!(source.contains("<title type=\"text\">locale</title>"));
        assert!(!source.contains("rel=\"self\""));
        assert!(!source.contains("rel=\"alternate\""));
        // Entry dates are written as given, the feed's is clamped to now.
        assert!(out.contains("<published>2099-01-01T00:00:00Z</published>"));
        assert!(out.contains("<updated>2026-12-02T03:00:00Z</updated>"));
    }

    #[test]
    fn relative_source_gets_a_urn() {
        let mut c = bare_entry().credits.remove(0);
        c.source_url = "feeds/local.xml".to_string();
        c.source = "la mia fonte".to_string();
        assert_eq!(source_iri(&c), "urn:tributary:source:la+mia+fonte");
    }

    #[test]
    fn optional_feed_fields_are_omitted() {
        let mut m = meta();
        m.description = None;
        m.language = None;
        m.next_url = None;
        m.previous_url = None;
        m.hub_url = None;
        let out = render(Format::Atom, &m, &[summary_entry()], now());
        assert!(!out.contains("<subtitle"));
        assert!(!out.contains("xml:lang=\"it\""));
        assert!(!out.contains("rel=\"next\""));
        assert!(!out.contains("rel=\"previous\""));
        assert!(!out.contains("rel=\"hub\""));
        assert!(!out.contains("<author><name>Mario"));
        assert!(parse(&out).entries[0].authors.is_empty());
    }
}
