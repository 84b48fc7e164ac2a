//! The RSS 2.0 writer of the merged feeds.
//!
//! It owns the shape of an RSS document: the channel with its required
//! title, link and description, Atom links for self, RFC 5005 paging and the
//! WebSub hub, and each item with `content:encoded`, a non-permalink `guid`,
//! its authors, enclosure, media, comments and categories, a `source`
//! naming the first source that carried it and a `via` link per source.

use std::io;

use chrono::{DateTime, Utc};

use super::{
    Extensions, FeedMeta, GENERATOR_NAME, ITUNES_NS, MEDIA_NS, XmlOut, category_parts, entry_id, feed_updated, rfc822,
    source_links, source_title, write_media, write_media_contents,
};
use crate::model::StoredEntry;

/// The Well-Formed Web comment API namespace (`wfw:commentRss`).
const WFW_NS: &str = "http://wellformedweb.org/CommentAPI/";
/// The Slash namespace (`slash:comments`).
const SLASH_NS: &str = "http://purl.org/rss/1.0/modules/slash/";
/// The media type of an enclosure whose feed gave none.
const UNKNOWN_TYPE: &str = "application/octet-stream";

/// Writes the RSS document for `entries`.
pub(super) fn render(meta: &FeedMeta, entries: &[StoredEntry], now: DateTime<Utc>) -> io::Result<Vec<u8>> {
    let mut x = XmlOut::new()?;
    let mut root: Vec<(&str, &str)> = vec![
        ("version", "2.0"),
        ("xmlns:content", "http://purl.org/rss/1.0/modules/content/"),
        ("xmlns:dc", "http://purl.org/dc/elements/1.1/"),
        ("xmlns:atom", "http://www.w3.org/2005/Atom"),
    ];
    let ext = Extensions::of(entries);
    if ext.media {
        root.push(("xmlns:media", MEDIA_NS));
    }
    if ext.itunes {
        root.push(("xmlns:itunes", ITUNES_NS));
    }
    if ext.comments_feed {
        root.push(("xmlns:wfw", WFW_NS));
    }
    if ext.thread {
        root.push(("xmlns:slash", SLASH_NS));
    }
    x.start("rss", &root)?;
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
///
/// RSS has room for one `<enclosure>`: the item's first enclosure (in the
/// source's order) is it, and every enclosure, that one included, is also
/// a `media:content`. It has one `<source>` too, naming the first source;
/// an entry several sources carried lists them all, linked, in a last
/// paragraph of its text.
fn write_item(x: &mut XmlOut, entry: &StoredEntry) -> io::Result<()> {
    let m = &entry.meta;
    x.start("item", &[])?;
    x.simple("title", &entry.title)?;
    if let Some(link) = entry.link.as_deref() {
        x.simple("link", link)?;
    }
    let footer = sources_footer(entry);
    let description = entry.summary_html.as_deref().or(entry.content_html.as_deref());
    match (entry.content_html.as_deref(), &footer) {
        (None, Some(footer)) => {
            let text = format!("{}{footer}", description.unwrap_or(""));
            x.simple("description", &text)?;
        }
        _ => {
            if let Some(description) = description {
                x.simple("description", description)?;
            }
        }
    }
    if let Some(content) = entry.content_html.as_deref() {
        match &footer {
            Some(footer) => x.simple("content:encoded", &format!("{content}{footer}"))?,
            None => x.simple("content:encoded", content)?,
        }
    }
    x.text_element("guid", &[("isPermaLink", "false")], &entry_id(&entry.uid))?;
    x.simple("pubDate", &rfc822(entry.published))?;
    // `<author>` is an address: the first author who has one, with the
    // name; every other author is a `dc:creator`.
    let with_address = m.authors.iter().position(|p| p.email.is_some());
    if let Some(person) = with_address.map(|i| &m.authors[i]) {
        let email = person.email.as_deref().unwrap_or_default();
        match person.name.as_deref() {
            Some(name) => x.simple("author", &format!("{email} ({name})"))?,
            None => x.simple("author", email)?,
        }
    }
    if m.authors.is_empty() {
        if let Some(author) = entry.author.as_deref() {
            x.simple("dc:creator", author)?;
        }
    } else {
        for (i, person) in m.authors.iter().enumerate() {
            if Some(i) != with_address
                && let Some(name) = person.display()
            {
                x.simple("dc:creator", name)?;
            }
        }
    }
    for name in m.contributors.iter().filter_map(|p| p.display()) {
        x.simple("dc:contributor", name)?;
    }
    let mut written: Vec<&str> = Vec::new();
    for category in &entry.categories {
        let (term, scheme, _) = category_parts(entry, category);
        if written.contains(&term) {
            continue;
        }
        written.push(term);
        match scheme {
            Some(domain) => x.text_element("category", &[("domain", domain)], term)?,
            None => x.simple("category", term)?,
        }
    }
    if let Some(rights) = m.rights.as_deref() {
        x.simple("dc:rights", rights)?;
    }
    if let Some(page) = m.comments.as_deref() {
        x.simple("comments", page)?;
    }
    if let Some(feed) = m.comments_feed.as_deref() {
        x.simple("wfw:commentRss", feed)?;
    }
    if let Some(n) = m.comment_count {
        x.simple("slash:comments", &n.to_string())?;
    }
    // The media:content elements come first: readers that take the last
    // enclosure-like element they meet (newsboat) then take <enclosure>.
    write_media_contents(x, entry)?;
    if let Some(first) = m.enclosures.first() {
        let length = first.length.unwrap_or(0).to_string();
        let kind = first.media_type.as_deref().unwrap_or(UNKNOWN_TYPE);
        x.empty("enclosure", &[("url", &first.url), ("length", &length), ("type", kind)])?;
    }
    write_media(x, entry)?;
    for (title, href) in source_links(entry) {
        if let Some(href) = href.as_deref() {
            x.empty("atom:link", &[("rel", "via"), ("href", href), ("title", title)])?;
        }
    }
    if let Some(first) = entry.credits.first()
        && let Some(feed_url) = crate::secrets::public_url(&first.source_url)
    {
        x.text_element("source", &[("url", &feed_url)], source_title(first))?;
    }
    x.end("item")
}

/// The paragraph naming every source of an entry carried by more than
/// one, each linked to the item in that source when it has an address:
/// `<p>Sources: <a href="…">Title</a>, …</p>`. `None` for a single source.
fn sources_footer(entry: &StoredEntry) -> Option<String> {
    let sources = source_links(entry);
    if sources.len() < 2 {
        return None;
    }
    let named: Vec<String> = sources
        .iter()
        .map(|(title, href)| {
            let title = htmlize::escape_text(*title);
            match href {
                Some(href) => format!("<a href=\"{}\">{title}</a>", htmlize::escape_attribute(href.as_str())),
                None => title.into_owned(),
            }
        })
        .collect();
    Some(format!("<p>Sources: {}</p>", named.join(", ")))
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
        let content = e.content.as_ref().unwrap().body.as_deref().unwrap();
        let (text, footer) = content.split_at(content.find("<p>Sources: ").unwrap());
        assert_eq!(text, "<p>Contenuto &amp; più: a &lt; b, ]]&gt; fine</p><p>Due</p>");
        assert!(
            footer.starts_with("<p>Sources: <a href=\"https://uno.example.com/articolo?a=1&amp;b=2\">Fonte uno</a>, ")
                && footer.ends_with("<a href=\"https://sei.example.com/y\">Fonte sei</a></p>"),
            "{footer}"
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
    fn one_enclosure_every_media_content_and_the_comments_in_rss() {
        use super::super::tests::podcast_entry;
        let out = render(Format::Rss, &meta(), &[podcast_entry()], now());
        assert_eq!(out.matches("<enclosure ").count(), 1);
        assert!(
            out.contains("<enclosure url=\"https://cdn.example.org/12.mp3\" length=\"31415926\" type=\"audio/mpeg\"/>")
        );
        assert!(out.contains(
            "<media:content url=\"https://cdn.example.org/12.mp3\" type=\"audio/mpeg\" fileSize=\"31415926\" duration=\"1801\"/>"
        ));
        assert!(out.contains("<media:content url=\"https://cdn.example.org/12.ogg\"/>"));
        assert!(out.contains("<author>rob@example.org (Rob Roberts)</author>"));
        assert_eq!(out.matches("<dc:creator>").count(), 1, "the other author");
        assert!(out.contains("<dc:creator>Ann</dc:creator>"));
        assert!(out.contains("<dc:contributor>Cy Mixer</dc:contributor>"));
        assert!(out.contains("<category domain=\"https://pod.example.org/topics\">science</category>"));
        assert!(out.contains("<comments>https://pod.example.org/12#comments</comments>"));
        assert!(out.contains("<wfw:commentRss>https://pod.example.org/12/comments.rss</wfw:commentRss>"));
        assert!(out.contains("<slash:comments>7</slash:comments>"));
        assert!(out.contains("<dc:rights>CC BY-SA 4.0</dc:rights>"));
        assert!(out.contains("<itunes:image href=\"https://pod.example.org/12.jpg\"/>"));
        assert!(out.contains("<itunes:explicit>false</itunes:explicit>"));
        assert!(
            out.contains("<media:thumbnail url=\"https://pod.example.org/12-small.jpg\" width=\"120\" height=\"90\"/>")
        );
        assert!(!out.contains("<p>Sources:"), "one source needs no list");
        let feed = feed_rs::parser::parse(out.as_bytes()).unwrap();
        assert_eq!(feed.entries.len(), 1);
    }

    #[test]
    fn an_enclosure_without_length_or_type_gets_the_required_attributes() {
        use super::super::tests::podcast_entry;
        let mut e = podcast_entry();
        e.meta.enclosures.remove(0);
        let out = render(Format::Rss, &meta(), &[e], now());
        assert!(out.contains(
            "<enclosure url=\"https://cdn.example.org/12.ogg\" length=\"0\" type=\"application/octet-stream\"/>"
        ));
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
        assert_eq!(out.matches("<atom:link rel=\"self\"").count(), 1);
        assert_eq!(
            out.matches("<atom:link").count(),
            1 + 6,
            "the self link and a via link per source"
        );
        let feed = feed_rs::parser::parse(out.as_bytes()).unwrap();
        assert_eq!(
            feed.entries[0].summary.as_ref().unwrap().content,
            "<p>Contenuto &amp; più: a &lt; b, ]]&gt; fine</p><p>Due</p>"
        );
    }
}
