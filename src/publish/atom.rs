//! The Atom 1.0 (RFC 4287) writer of the merged feeds.
//!
//! It owns the shape of an Atom document: the feed head with its self,
//! alternate, RFC 5005 paging and WebSub hub links, and each entry with its
//! `via` links to the other sources that carried it and an `atom:source`
//! naming the first one.

use std::io;

use chrono::{DateTime, Utc};

use super::{FeedMeta, GENERATOR_NAME, XmlOut, entry_id, feed_updated, rfc3339, via_links};
use crate::model::{Credit, StoredEntry};
use crate::secrets;

/// The Atom namespace, the default namespace of the document.
const ATOM_NS: &str = "http://www.w3.org/2005/Atom";

/// Writes the Atom document for `entries`.
pub(super) fn render(meta: &FeedMeta, entries: &[StoredEntry], now: DateTime<Utc>) -> io::Result<Vec<u8>> {
    let mut x = XmlOut::new()?;
    let mut root: Vec<(&str, &str)> = vec![("xmlns", ATOM_NS)];
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
    if let Some(author) = entry.author.as_deref() {
        x.start("author", &[])?;
        x.simple("name", author)?;
        x.end("author")?;
    }
    if let Some(link) = entry.link.as_deref() {
        x.empty("link", &[("rel", "alternate"), ("type", "text/html"), ("href", link)])?;
    }
    for via in via_links(entry) {
        x.empty("link", &[("rel", "via"), ("href", via)])?;
    }
    for category in &entry.categories {
        x.empty("category", &[("term", category)])?;
    }
    if let Some(first) = entry.credits.first() {
        write_source(x, first, entry)?;
    }

    match (entry.summary_html.as_deref(), entry.content_html.as_deref()) {
        (summary, Some(content)) => {
            if let Some(summary) = summary {
                x.text_element("summary", &[("type", "html")], summary)?;
            }
            x.text_element("content", &[("type", "html")], content)?;
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

    x.end("entry")
}

/// Writes the `<source>` of an entry from its first credit.
fn write_source(x: &mut XmlOut, credit: &Credit, entry: &StoredEntry) -> io::Result<()> {
    x.start("source", &[])?;
    x.simple("id", &source_iri(credit))?;
    x.text_element(
        "title",
        &[("type", "text")],
        credit.source_title.as_deref().unwrap_or(&credit.source),
    )?;
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
    fn via_links_are_counted_and_deduplicated() {
        let out = render(Format::Atom, &meta(), &[rich_entry()], now());
        assert_eq!(out.matches("rel=\"via\"").count(), 2);
        assert!(out.contains("<link rel=\"via\" href=\"https://due.example.com/x\"/>"));
        assert!(out.contains("<link rel=\"via\" href=\"https://sei.example.com/y\"/>"));
        let feed = parse(&out);
        let vias = feed.entries[0]
            .links
            .iter()
            .filter(|l| l.rel.as_deref() == Some("via"))
            .count();
        assert_eq!(vias, 2);
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
