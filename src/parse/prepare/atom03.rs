//! Atom 0.3, rewritten as the Atom 1.0 it maps onto.
//!
//! Old blogs and bridges still serve Atom 0.3 (`xmlns="http://purl.org/atom/ns#"`).
//! feed-rs reads only Atom 1.0, and in an unknown namespace it sees no
//! entries at all, so such a feed would poll as `ok` with nothing. The two
//! differ in a few names and in how a text says what it holds, so the
//! elements of the 0.3 namespace are rewritten: the namespace becomes Atom
//! 1.0's; `issued` becomes `published`, `modified` `updated`, `tagline`
//! `subtitle`, `copyright` `rights`, a person's `url` its `uri`; and a
//! text's `type` (a media type, default `text/plain`) with its `mode`
//! (`xml`, `escaped` or `base64`, default `xml`) becomes the 1.0 `type`
//! (`text`, `html` or `xhtml`). Base64 content, which no reader of ours
//! shows, is dropped. Everything else — text, references, CDATA, other
//! namespaces — is copied as it was.

use quick_xml::events::{BytesEnd, BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, Writer};

/// The Atom 0.3 namespace.
pub(super) const ATOM03_NS: &str = "http://purl.org/atom/ns#";
/// The Atom 1.0 namespace.
const ATOM10_NS: &str = "http://www.w3.org/2005/Atom";

/// Elements of Atom 0.3 whose content is a text construct with `mode`.
const TEXTS: &[&str] = &["title", "tagline", "copyright", "info", "summary", "content"];

/// `text` rewritten as Atom 1.0 when its root is an Atom 0.3 `feed` (or
/// `entry`); `None` when it is not Atom 0.3 or cannot be read through.
pub(super) fn to_atom10(text: &str) -> Option<String> {
    if !text.contains(ATOM03_NS) {
        return None;
    }
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = false;
    let mut writer = Writer::new(Vec::with_capacity(text.len() + 64));
    // Names of the open elements as written out, so end tags match.
    let mut open: Vec<String> = Vec::new();
    // Depth of a base64 element being dropped.
    let mut skipping: Option<usize> = None;
    let mut seen_root = false;
    loop {
        let (resolved, event) = reader.read_resolved_event().ok()?;
        let in_03 = matches!(&resolved, ResolveResult::Bound(ns) if ns.as_ref() == ATOM03_NS);
        match event {
            Event::Eof => break,
            Event::Start(_) if skipping.is_some() => open.push(String::new()),
            Event::Empty(_) if skipping.is_some() => {}
            Event::Start(e) => {
                if !seen_root {
                    seen_root = true;
                    if !in_03 || !matches!(e.local_name().as_ref(), "feed" | "entry") {
                        return None;
                    }
                }
                let (start, drop) = rewrite(&e, in_03, &open)?;
                if drop {
                    skipping = Some(open.len());
                    open.push(String::new());
                    continue;
                }
                open.push(start.name().as_ref().to_owned());
                writer.write_event(Event::Start(start)).ok()?;
            }
            Event::Empty(e) => {
                if !seen_root {
                    return None;
                }
                let (start, drop) = rewrite(&e, in_03, &open)?;
                if !drop {
                    writer.write_event(Event::Empty(start)).ok()?;
                }
            }
            Event::End(_) => {
                let name = open.pop()?;
                if let Some(depth) = skipping {
                    if open.len() == depth {
                        skipping = None;
                    }
                    continue;
                }
                writer.write_event(Event::End(BytesEnd::new(name))).ok()?;
            }
            _ if skipping.is_some() => {}
            other => writer.write_event(other).ok()?,
        }
    }
    String::from_utf8(writer.into_inner()).ok()
}

/// The 1.0 form of a start tag, and whether the element is to be dropped.
fn rewrite<'a>(e: &BytesStart<'a>, in_03: bool, open: &[String]) -> Option<(BytesStart<'static>, bool)> {
    let qname = e.name().as_ref().to_owned();
    let local = e.local_name().as_ref().to_owned();
    let prefix = qname.strip_suffix(local.as_str()).unwrap_or("").to_owned();
    let parent_local = open
        .last()
        .map(|p| p.rsplit(':').next().unwrap_or(p).to_owned())
        .unwrap_or_default();
    let new_local = if in_03 {
        match local.as_str() {
            "issued" => "published",
            "modified" => "updated",
            "tagline" => "subtitle",
            "copyright" => "rights",
            "url" if matches!(parent_local.as_str(), "author" | "contributor") => "uri",
            other => other,
        }
    } else {
        local.as_str()
    };
    let mut start = BytesStart::new(format!("{prefix}{new_local}"));
    let text_construct = in_03 && TEXTS.contains(&local.as_str());
    let mut media_type: Option<String> = None;
    let mut mode: Option<String> = None;
    for attr in e.attributes().with_checks(false) {
        let attr = attr.ok()?;
        let key = attr.key.as_ref();
        let value = || {
            attr.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|v| v.trim().to_ascii_lowercase())
                .ok()
        };
        if text_construct && key == "type" {
            media_type = value();
            continue;
        }
        if text_construct && key == "mode" {
            mode = value();
            continue;
        }
        if (key == "xmlns" || key.starts_with("xmlns:"))
            && attr.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok()?.trim() == ATOM03_NS
        {
            start.push_attribute((key, ATOM10_NS));
            continue;
        }
        if in_03 && key == "version" && matches!(local.as_str(), "feed") {
            continue;
        }
        start.push_attribute(attr);
    }
    if text_construct {
        let media_type = media_type.unwrap_or_else(|| "text/plain".to_owned());
        let html = media_type.contains("html");
        let kind = match mode.as_deref().unwrap_or("xml") {
            "base64" => return Some((start, true)),
            "escaped" if html => "html",
            "escaped" => "text",
            _ if html => "xhtml",
            _ => "text",
        };
        start.push_attribute(("type", kind));
    }
    Some((start, false))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const FEED: &str = r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#" xml:lang="en">
  <title mode="escaped" type="text/html">Old &amp;amp; Gold</title>
  <tagline>Since 2004</tagline>
  <link rel="alternate" type="text/html" href="http://old.example.org/"/>
  <modified>2026-11-01T10:00:00Z</modified>
  <author><name>Olga</name><url>http://old.example.org/olga</url><email>olga@example.org</email></author>
  <entry>
    <title>First &amp; foremost</title>
    <link rel="alternate" type="text/html" href="http://old.example.org/1"/>
    <id>tag:old.example.org,2004:1</id>
    <issued>2026-11-01T09:00:00Z</issued>
    <modified>2026-11-01T10:00:00Z</modified>
    <summary type="text/plain">A &lt;b&gt; summary</summary>
    <content type="text/html" mode="escaped">&lt;p&gt;Escaped &lt;b&gt;HTML&lt;/b&gt;&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>Second</title>
    <id>tag:old.example.org,2004:2</id>
    <issued>2026-11-02T09:00:00Z</issued>
    <content type="application/xhtml+xml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Inline <em>XHTML</em></p></div></content>
    <content type="image/png" mode="base64">iVBORw0KGgo=</content>
  </entry>
</feed>"#;

    #[test]
    fn atom_03_maps_onto_atom_10() {
        let out = to_atom10(FEED).unwrap();
        assert!(out.contains("xmlns=\"http://www.w3.org/2005/Atom\""), "{out}");
        assert!(!out.contains("<issued>") && out.contains("<published>2026-11-01T09:00:00Z</published>"));
        assert!(out.contains("<uri>http://old.example.org/olga</uri>"));
        assert!(!out.contains("base64") && !out.contains("iVBOR"));
        let feed = feed_rs::parser::parse(out.as_bytes()).unwrap();
        assert_eq!(feed.title.unwrap().content, "Old &amp; Gold");
        assert_eq!(feed.description.unwrap().content, "Since 2004");
        assert_eq!(feed.authors[0].uri.as_deref(), Some("http://old.example.org/olga"));
        assert_eq!(feed.entries.len(), 2);
        let first = &feed.entries[0];
        assert_eq!(first.title.as_ref().unwrap().content, "First & foremost");
        assert!(first.published.is_some() && first.updated.is_some());
        assert_eq!(first.summary.as_ref().unwrap().content, "A <b> summary");
        let content = first.content.as_ref().unwrap();
        assert_eq!(content.content_type.to_string(), "text/html");
        assert_eq!(content.body.as_deref(), Some("<p>Escaped <b>HTML</b></p>"));
        let second = feed.entries[1].content.as_ref().unwrap().body.clone().unwrap();
        assert!(second.contains("<em>XHTML</em>"), "{second}");
    }

    #[test]
    fn other_documents_are_left_alone() {
        assert_eq!(
            to_atom10("<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title></feed>"),
            None
        );
        assert_eq!(
            to_atom10("<rss version=\"2.0\"><channel><title>http://purl.org/atom/ns#</title></channel></rss>"),
            None
        );
    }
}
