//! Unit tests of `parse`.

#![allow(clippy::unwrap_used)]

use super::*;

fn doc<'a>(bytes: &'a [u8], url: &'a Url) -> Document<'a> {
    Document {
        bytes,
        charset: None,
        media_type: None,
        url,
    }
}

#[test]
fn ids_are_deterministic_without_guid() {
    let url = Url::parse("https://example.org/feed").unwrap();
    let xml = br#"<rss version="2.0"><channel><title>t</title>
            <item><title>A</title><link>https://example.org/a</link></item>
            <item><title>Only a title</title></item>
            <item><description>only content</description></item>
        </channel></rss>"#;
    let a = parse(doc(xml, &url)).unwrap();
    let b = parse(doc(xml, &url)).unwrap();
    assert_eq!(a, b);
    assert!(
        a.items
            .iter()
            .all(|i| i.id_generated && i.id.starts_with("gen:") && i.id.len() == 36)
    );
    let edited = String::from_utf8_lossy(xml).replace("<title>A</title>", "<title>A, edited</title>");
    let c = parse(doc(edited.as_bytes(), &url)).unwrap();
    assert_eq!(a.items[0].id, c.items[0].id, "an edited title keeps the generated id");
}

#[test]
fn feed_ids_are_kept_as_given() {
    let url = Url::parse("https://example.org/feed").unwrap();
    let xml = br#"<rss version="2.0"><channel><title>t</title><language>it</language>
            <item><guid isPermaLink="false"> abc-1 </guid><title>A</title></item></channel></rss>"#;
    let f = parse(doc(xml, &url)).unwrap();
    assert_eq!(f.items[0].id, "abc-1");
    assert!(!f.items[0].id_generated);
    assert_eq!(f.info.language.as_deref(), Some("it"));
}

#[test]
fn ttl_and_syndication_hints() {
    let url = Url::parse("https://example.org/feed").unwrap();
    let xml = br#"<rss version="2.0"><channel><title>t</title><ttl>90</ttl></channel></rss>"#;
    assert_eq!(
        parse(doc(xml, &url)).unwrap().info.min_interval,
        Some(Duration::from_secs(5400))
    );
    let rdf = br#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><title>t</title><sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency></channel></rdf:RDF>"#;
    assert_eq!(
        parse(doc(rdf, &url)).unwrap().info.min_interval,
        Some(Duration::from_secs(21_600))
    );
}

#[test]
fn html_page_is_not_a_feed() {
    let url = Url::parse("https://example.org/feed").unwrap();
    let html = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>captcha</body></html>";
    let mut d = doc(html, &url);
    d.media_type = Some("text/html");
    let err = parse(d).unwrap_err();
    assert_eq!(
        err.to_string(),
        "not a feed: got text/html (an HTML page) from https://example.org/feed"
    );
}

#[test]
fn json_that_is_no_feed_is_not_a_feed() {
    let url = Url::parse("https://example.org/api").unwrap();
    let mut d = doc(br#"{"error": "not found"}"#, &url);
    d.media_type = Some("application/json");
    let err = parse(d).unwrap_err();
    assert_eq!(
        err.to_string(),
        "not a feed: got application/json from https://example.org/api"
    );
    let err = parse(doc(b"[1, 2]", &url)).unwrap_err();
    assert!(matches!(err, ParseError::NotAFeed { .. }), "{err}");
    let err = parse(doc(
        br#"{"version": "https://jsonfeed.org/version/1.1", "items": 3}"#,
        &url,
    ))
    .unwrap_err();
    assert!(
        matches!(err, ParseError::Invalid { .. }),
        "a broken JSON Feed stays invalid: {err}"
    );
}

#[test]
fn parse_errors_describe_the_problem_without_echoing_document_values() {
    let url = Url::parse("https://example.org/feed").unwrap();
    let cases: [&[u8]; 4] = [
        br#"{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": "SECRET-TOKEN-456"}"#,
        br#"{"version": "SECRET-TOKEN-456", "title": "t", "items": []}"#,
        b"<rss version=\"2.0\"><channel><title>t</title><SECRET-TOKEN-456></channel></rss>",
        b"<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title><entry><SECRET-TOKEN-456></x></entry></feed>",
    ];
    for bytes in cases {
        match parse(doc(bytes, &url)) {
            Err(err) => {
                let shown = err.to_string();
                assert!(!shown.contains("SECRET"), "{shown}");
                assert!(shown.contains("https://example.org/feed"), "{shown}");
            }
            Ok(_) => panic!("expected an error for {}", String::from_utf8_lossy(bytes)),
        }
    }
    let err = parse(doc(cases[0], &url)).unwrap_err().to_string();
    assert!(err.contains("at line 1 column"), "the position is given: {err}");
    assert!(err.contains("wrong shape"), "{err}");
}

#[test]
fn values_are_cut_out_of_parser_messages() {
    assert_eq!(
        without_values(r#"invalid type: string "SECRET", expected a sequence"#),
        "invalid type: string …, expected a sequence"
    );
    assert_eq!(
        without_values("expected `</a>`, but `</SECRET>` was found"),
        "expected …, but … was found"
    );
    assert_eq!(without_values(&"x".repeat(500)).chars().count(), 201);
}

#[test]
fn malformed_feed_names_the_url() {
    let url = Url::parse("https://example.org/feed").unwrap();
    let err = parse(doc(b"<rss version=\"2.0\"><channel><item><title>x</item>", &url)).unwrap_err();
    assert!(matches!(err, ParseError::Invalid { .. }), "{err}");
    assert!(err.to_string().contains("https://example.org/feed"));
}

#[test]
fn mixed_text_and_html_fields() {
    let url = Url::parse("https://example.org/feed.json").unwrap();
    let json = br#"{"version":"https://jsonfeed.org/version/1.1","title":"j","items":[
            {"id":"1","content_html":"<p>full</p>","summary":"a < b"},
            {"id":"2","content_text":"line one\n\npara two"}]}"#;
    let f = parse(doc(json, &url)).unwrap();
    assert!(!f.items[0].text_only);
    assert_eq!(f.items[0].summary.as_deref(), Some("<p>a &lt; b</p>"));
    assert!(f.items[1].text_only);
}

#[test]
fn atom_03_feed_yields_its_entries() {
    let url = Url::parse("http://old.example.org/atom.xml").unwrap();
    let xml = br#"<?xml version="1.0" encoding="utf-8"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#">
  <title>Old blog</title>
  <link rel="alternate" type="text/html" href="http://old.example.org/"/>
  <modified>2026-11-01T10:00:00Z</modified>
  <author><name>Olga</name><email>olga@example.org</email></author>
  <entry>
    <title>Still here</title>
    <link rel="alternate" type="text/html" href="http://old.example.org/2026/11/still-here"/>
    <id>tag:old.example.org,2026:1</id>
    <issued>2026-11-01T09:00:00Z</issued>
    <modified>2026-11-01T10:00:00Z</modified>
    <content type="text/html" mode="escaped">&lt;p&gt;Hello&lt;/p&gt;</content>
  </entry>
</feed>"#;
    let f = parse(doc(xml, &url)).unwrap();
    assert_eq!(f.info.title.as_deref(), Some("Old blog"));
    assert_eq!(f.items.len(), 1);
    let item = &f.items[0];
    assert_eq!(item.title.as_deref(), Some("Still here"));
    assert_eq!(item.content.as_deref(), Some("<p>Hello</p>"));
    assert!(item.published.is_some());
    assert_eq!(item.meta.authors[0].email.as_deref(), Some("olga@example.org"));
}

#[test]
fn a_document_whose_items_cannot_be_read_is_an_error_naming_the_format() {
    let url = Url::parse("https://example.org/rdf").unwrap();
    // RSS 1.0 with its items inside the channel: feed-rs reads none.
    let rdf = br#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
  <channel><title>t</title><link>https://example.org/</link><description>d</description>
    <item><title>A</title><link>https://example.org/a</link></item>
    <item><title>B</title><link>https://example.org/b</link></item>
  </channel></rdf:RDF>"#;
    let err = parse(doc(rdf, &url)).unwrap_err();
    assert_eq!(err.kind(), "unsupported-format");
    let text = err.to_string();
    assert!(text.contains("RSS 1.0") && text.contains("2 item elements"), "{text}");
    assert!(text.contains("https://example.org/rdf"), "{text}");
    // Items in a namespace nobody knows.
    let odd = br#"<feed xmlns="urn:SECRET-ns"><entry><title>x</title></entry></feed>"#;
    let text = parse(doc(odd, &url)).unwrap_err().to_string();
    assert!(text.contains("unknown namespace") && !text.contains("SECRET"), "{text}");
    // A feed with no items at all is simply empty.
    let empty = br#"<rss version="2.0"><channel><title>t</title></channel></rss>"#;
    assert!(parse(doc(empty, &url)).unwrap().items.is_empty());
}

#[test]
fn feed_level_authors_are_given_to_entries_without_their_own() {
    let url = Url::parse("https://example.org/feed").unwrap();
    let atom = br#"<feed xmlns="http://www.w3.org/2005/Atom"><id>f</id><title>t</title>
            <author><name>Ada</name><email>ada@example.org</email><uri>https://example.org/ada</uri></author>
            <entry><id>1</id><title>a</title></entry>
            <entry><id>2</id><title>b</title><author><name>Bea</name></author></entry></feed>"#;
    let f = parse(doc(atom, &url)).unwrap();
    assert_eq!(f.items[0].authors, vec!["Ada"]);
    assert_eq!(
        f.items[0].meta.authors[0].uri.as_deref(),
        Some("https://example.org/ada")
    );
    assert_eq!(f.items[1].authors, vec!["Bea"]);
    let podcast =
        br#"<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>p</title>
            <itunes:author>Pat Host</itunes:author><item><guid>1</guid><title>e</title></item></channel></rss>"#;
    let f = parse(doc(podcast, &url)).unwrap();
    assert_eq!(f.items[0].authors, vec!["Pat Host"]);
}

#[test]
fn rss_author_with_address_and_name_keeps_both() {
    let url = Url::parse("https://example.org/feed").unwrap();
    let xml = br#"<rss version="2.0"><channel><title>t</title>
            <item><guid>1</guid><title>a</title><author>rob@example.org (Rob Roberts)</author></item></channel></rss>"#;
    let f = parse(doc(xml, &url)).unwrap();
    assert_eq!(f.items[0].authors, vec!["Rob Roberts"]);
    assert_eq!(f.items[0].meta.authors[0].email.as_deref(), Some("rob@example.org"));
}

#[test]
fn atom_text_content_is_kept_as_text() {
    let url = Url::parse("https://example.org/feed").unwrap();
    let xml = br#"<feed xmlns="http://www.w3.org/2005/Atom"><id>f</id><title>t</title>
            <entry><id>1</id><title>a</title><content type="text">a &lt; b

second</content><rights type="text">CC BY 4.0</rights>
            <category term="rust" scheme="https://example.org/tags" label="Rust"/></entry></feed>"#;
    let f = parse(doc(xml, &url)).unwrap();
    let item = &f.items[0];
    assert!(item.text_only);
    assert_eq!(item.meta.content_text.as_deref(), Some("a < b\n\nsecond"));
    assert_eq!(item.meta.rights.as_deref(), Some("CC BY 4.0"));
    assert_eq!(
        item.meta.categories[0].scheme.as_deref(),
        Some("https://example.org/tags")
    );
    assert_eq!(item.meta.categories[0].label.as_deref(), Some("Rust"));
}

#[test]
fn atom_content_src_is_kept() {
    let url = Url::parse("https://example.org/feed").unwrap();
    let xml = br#"<feed xmlns="http://www.w3.org/2005/Atom"><id>f</id><title>t</title>
            <entry><id>1</id><title>a</title><summary>s</summary>
            <content type="application/pdf" src="/papers/1.pdf"/></entry></feed>"#;
    let f = parse(doc(xml, &url)).unwrap();
    let src = f.items[0].meta.content_src.as_ref().unwrap();
    assert_eq!(src.url, "https://example.org/papers/1.pdf");
    assert_eq!(src.media_type.as_deref(), Some("application/pdf"));
}

#[test]
fn relative_links_resolve_against_the_innermost_xml_base() {
    let url = Url::parse("https://blog.example.org/feed.atom").unwrap();
    let xml = br#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example.org/">
            <id>f</id><title>t</title>
            <entry xml:base="rel/2026/"><id>1</id><title>a</title>
              <link rel="alternate" href="posts/03/first.html"/>
              <content type="html">&lt;a href="../about.html"&gt;about&lt;/a&gt; &lt;img src="img/pic.png"&gt;</content>
            </entry></feed>"#;
    let f = parse(doc(xml, &url)).unwrap();
    let info = crate::normalize::feed_info(f.info.clone());
    let e = crate::normalize::normalize(
        &f.items[0],
        &crate::normalize::Context {
            base_url: Some(&url),
            feed: &info,
            now: chrono::Utc::now(),
        },
    );
    let html = e.content_html.unwrap();
    assert!(
        html.contains("href=\"https://blog.example.org/rel/about.html\""),
        "{html}"
    );
    assert!(
        html.contains("src=\"https://blog.example.org/rel/2026/img/pic.png\""),
        "{html}"
    );
    assert_eq!(
        e.link.as_deref(),
        Some("https://blog.example.org/rel/2026/posts/03/first.html")
    );
}

#[test]
fn json_feed_attachments_are_not_taken_for_the_item_link() {
    let url = Url::parse("https://example.org/feed.json").unwrap();
    let json = br#"{"version":"https://jsonfeed.org/version/1.1","title":"j","items":[
            {"id":"1","content_text":"x","attachments":[{"url":"https://example.org/a.mp3","mime_type":"audio/mpeg"}]}]}"#;
    let f = parse(doc(json, &url)).unwrap();
    assert_eq!(f.items[0].link, None);
    assert_eq!(f.items[0].meta.enclosures[0].url, "https://example.org/a.mp3");
}

#[test]
fn italian_windows_1252_is_decoded() {
    let url = Url::parse("https://example.org/feed").unwrap();
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(
            "<?xml version=\"1.0\" encoding=\"windows-1252\"?><rss version=\"2.0\"><channel><title>c</title><item><guid>1</guid><title>L’Alleanza Sino-Russa non è un fenomeno passeggero…</title></item></channel></rss>",
        );
    let f = parse(doc(&bytes, &url)).unwrap();
    assert_eq!(
        f.items[0].title.as_deref(),
        Some("L’Alleanza Sino-Russa non è un fenomeno passeggero…")
    );
}
