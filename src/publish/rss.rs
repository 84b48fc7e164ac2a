//! The RSS 2.0 writer of the merged feeds.
//!
//! It owns the shape of an RSS document: the channel with its required
//! title, link and description, Atom links for self, RFC 5005 paging and the
//! WebSub hub, and each item with `content:encoded`, a non-permalink `guid`,
//! `dc:creator` and a `source` naming the first source that carried it.

use std::io;

use chrono::{DateTime, Utc};

use super::{FeedMeta, GENERATOR_NAME, XmlOut, entry_id, feed_updated, rfc822};
use crate::model::StoredEntry;

/// Writes the RSS document for `entries`.
pub(super) fn render(meta: &FeedMeta, entries: &[StoredEntry], now: DateTime<Utc>) -> io::Result<Vec<u8>> {
    let mut x = XmlOut::new()?;
    x.start(
        "rss",
        &[
            ("version", "2.0"),
            ("xmlns:content", "http://purl.org/rss/1.0/modules/content/"),
            ("xmlns:dc", "http://purl.org/dc/elements/1.1/"),
            ("xmlns:atom", "http://www.w3.org/2005/Atom"),
        ],
    )?;
    x.start("channel", &[])?;

    x.simple("title", &meta.title)?;
    x.simple("link", &meta.site_url)?;
    x.simple("description", meta.description.as_deref().unwrap_or(&meta.title))?;
    if let Some(lang) = meta.language.as_deref() {
        x.simple("language", lang)?;
    }
    x.simple("lastBuildDate", &rfc822(feed_updated(entries, now)))?;
    x.simple("generator", &format!("{GENERATOR_NAME} {}", meta.generator_version))?;
    x.empty(
        "atom:link",
        &[
            ("rel", "self"),
            ("type", "application/rss+xml"),
            ("href", &meta.self_url),
        ],
    )?;
    if let Some(next) = meta.next_url.as_deref() {
        x.empty(
            "atom:link",
            &[("rel", "next"), ("type", "application/rss+xml"), ("href", next)],
        )?;
    }
    if let Some(previous) = meta.previous_url.as_deref() {
        x.empty(
            "atom:link",
            &[("rel", "previous"), ("type", "application/rss+xml"), ("href", previous)],
        )?;
    }
    if let Some(hub) = meta.hub_url.as_deref() {
        x.empty("atom:link", &[("rel", "hub"), ("href", hub)])?;
    }

    for entry in entries {
        write_item(&mut x, entry)?;
    }

    x.end("channel")?;
    x.end("rss")?;
    Ok(x.finish())
}

/// Writes one `<item>`.
fn write_item(x: &mut XmlOut, entry: &StoredEntry) -> io::Result<()> {
    x.start("item", &[])?;
    x.simple("title", &entry.title)?;
    if let Some(link) = entry.link.as_deref() {
        x.simple("link", link)?;
    }
    if let Some(description) = entry.summary_html.as_deref().or(entry.content_html.as_deref()) {
        x.simple("description", description)?;
    }
    if let Some(content) = entry.content_html.as_deref() {
        x.simple("content:encoded", content)?;
    }
    x.text_element("guid", &[("isPermaLink", "false")], &entry_id(&entry.uid))?;
    x.simple("pubDate", &rfc822(entry.published))?;
    if let Some(author) = entry.author.as_deref() {
        x.simple("dc:creator", author)?;
    }
    for category in &entry.categories {
        x.simple("category", category)?;
    }
    if let Some(first) = entry.credits.first()
        && let Some(feed_url) = crate::secrets::public_url(&first.source_url)
    {
        x.text_element(
            "source",
            &[("url", &feed_url)],
            first.source_title.as_deref().unwrap_or(&first.source),
        )?;
    }
    x.end("item")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::{
        ITALIAN_TITLE, all_xml_chars, bare_entry, entries, meta, now, rich_entry, summary_entry,
    };
    use super::super::{Format, render};

    fn rss() -> String {
        render(Format::Rss, &meta(), &entries(), now())
    }

    #[test]
    fn parses_back_with_feed_rs() {
        let out = rss();
        let feed = feed_rs::parser::parse(out.as_bytes()).unwrap();
        assert_eq!(feed.feed_type, feed_rs::model::FeedType::RSS2);
        assert_eq!(feed.title.unwrap().content, meta().title);
        assert_eq!(feed.description.unwrap().content, "Il meglio di tutte le fonti");
        assert_eq!(feed.language.as_deref(), Some("it"));
        assert_eq!(feed.updated, Some(now()));
        assert!(feed.links.iter().any(|l| l.href == "http://localhost:8080/"));
        assert_eq!(feed.entries.len(), 3);

        let e = &feed.entries[0];
        let rich = rich_entry();
        assert_eq!(e.id, "urn:tributary:entry:0123abcd");
        assert_eq!(e.title.as_ref().unwrap().content, ITALIAN_TITLE);
        assert_eq!(e.links[0].href, rich.link.clone().unwrap());
        assert_eq!(e.published, Some(rich.published));
        assert_eq!(
            e.summary.as_ref().unwrap().content,
            "<p>Riassunto “breve” &amp; chiaro</p>"
        );
        assert_eq!(
            e.content.as_ref().unwrap().body.as_deref(),
            Some("<p>Contenuto &amp; più: a &lt; b, ]]&gt; fine</p><p>Due</p>")
        );
        assert_eq!(e.authors[0].name.as_deref(), Some("Mario Rossi"));
        let terms: Vec<&str> = e.categories.iter().map(|c| c.term.as_str()).collect();
        assert_eq!(terms, vec!["Politica", "Esteri & Mondo"]);

        let bare = &feed.entries[1];
        assert_eq!(bare.id, "urn:tributary:entry:ffee");
        assert_eq!(bare.title.as_ref().unwrap().content, "Nota senza collegamento");
        assert!(bare.summary.is_none());
        assert!(bare.content.is_none());

        let only = &feed.entries[2];
        assert_eq!(
            only.summary.as_ref().unwrap().content,
            summary_entry().summary_html.unwrap()
        );
        assert!(only.content.is_none());
    }

    #[test]
    fn raw_text_is_byte_exact_and_legal() {
        let out = rss();
        assert!(out.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"));
        assert!(out.contains(&format!("<title>{ITALIAN_TITLE}</title>")));
        assert!(all_xml_chars(&out));
        assert!(!out.contains("]]>"));
        assert!(!out.contains("&#"));
        assert!(out.contains(
            "<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" \
             xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:atom=\"http://www.w3.org/2005/Atom\">"
        ));
        assert!(out.contains("<link>https://uno.example.com/articolo?a=1&amp;b=2</link>"));
    }

    #[test]
    fn dates_are_rfc822_with_four_digit_years() {
        let out = rss();
        assert!(out.contains("<lastBuildDate>Wed, 02 Dec 2026 03:00:00 +0000</lastBuildDate>"));
        assert!(out.contains("<pubDate>Mon, 30 Nov 2026 09:00:00 +0000</pubDate>"));
        assert!(out.contains("<pubDate>Thu, 01 Jan 2099 00:00:00 +0000</pubDate>"));
    }

    #[test]
    fn channel_links_and_generator() {
        let out = rss();
        assert!(out.contains(
            "<atom:link rel=\"self\" type=\"application/rss+xml\" \
             href=\"http://localhost:8080/feeds/all.atom?page=2\"/>"
        ));
        assert!(out.contains(
            "rel=\"next\" type=\"application/rss+xml\" href=\"http://localhost:8080/feeds/all.atom?page=3\""
        ));
        assert!(out.contains(
            "rel=\"previous\" type=\"application/rss+xml\" href=\"http://localhost:8080/feeds/all.atom?page=1\""
        ));
        assert!(out.contains("<atom:link rel=\"hub\" href=\"https://hub.example.org/\"/>"));
        assert!(out.contains("<generator>Tributary 0.1.0</generator>"));
        assert!(out.contains("<language>it</language>"));
    }

    #[test]
    fn guid_and_source() {
        let out = rss();
        assert!(out.contains("<guid isPermaLink=\"false\">urn:tributary:entry:0123abcd</guid>"));
        assert!(out.contains("<source url=\"https://uno.example.com/feed.xml\">Fonte uno</source>"));
        // The bare entry's source is a file path: no <source>.
        assert_eq!(out.matches("<source").count(), 2);
        assert!(out.contains("<dc:creator>Mario Rossi</dc:creator>"));
    }

    #[test]
    fn description_falls_back_to_title_and_content() {
        let mut m = meta();
        m.description = None;
        m.language = None;
        m.next_url = None;
        m.previous_url = None;
        m.hub_url = None;
        let mut e = rich_entry();
        e.summary_html = None;
        let out = render(Format::Rss, &m, &[e, bare_entry()], now());
        assert!(out.contains(&format!(
            "<description>{}</description>",
            "Tributary — «tutte» le notizie &amp; altro"
        )));
        assert!(!out.contains("<language>"));
        assert_eq!(out.matches("<atom:link").count(), 1);
        let feed = feed_rs::parser::parse(out.as_bytes()).unwrap();
        assert_eq!(
            feed.entries[0].summary.as_ref().unwrap().content,
            "<p>Contenuto &amp; più: a &lt; b, ]]&gt; fine</p><p>Due</p>"
        );
    }
}
