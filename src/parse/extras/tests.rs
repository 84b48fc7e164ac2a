//! Unit tests of `parse/extras`.

#![allow(clippy::unwrap_used)]

use super::*;

#[test]
fn author_strings_split_into_name_and_address() {
    let p = parse_person("rob@example.org (Rob Roberts)");
    assert_eq!(p.name.as_deref(), Some("Rob Roberts"));
    assert_eq!(p.email.as_deref(), Some("rob@example.org"));
    let p = parse_person("Rob Roberts <rob@example.org>");
    assert_eq!(
        (p.name.as_deref(), p.email.as_deref()),
        (Some("Rob Roberts"), Some("rob@example.org"))
    );
    let p = parse_person("Rob Roberts (mailto:rob@example.org)");
    assert_eq!(
        (p.name.as_deref(), p.email.as_deref()),
        (Some("Rob Roberts"), Some("rob@example.org"))
    );
    let p = parse_person("rob@example.org");
    assert_eq!((p.name, p.email.as_deref()), (None, Some("rob@example.org")));
    let p = parse_person("Mario Rossi");
    assert_eq!((p.name.as_deref(), p.email), (Some("Mario Rossi"), None));
    let p = parse_person("«mario@example.it» (Mario)");
    assert_eq!(p.email.as_deref(), Some("mario@example.it"));
}

#[test]
fn durations_in_every_itunes_form() {
    assert_eq!(parse_duration("3725"), Some(3725));
    assert_eq!(parse_duration("62:05"), Some(3725));
    assert_eq!(parse_duration("1:02:05"), Some(3725));
    assert_eq!(parse_duration("1:02:05.4"), Some(3725));
    assert_eq!(parse_duration("soon"), None);
    assert_eq!(parse_duration("1:2:3:4"), None);
}

#[test]
fn innermost_xml_base_of_the_content_is_found() {
    let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example.org/">
            <entry xml:base="rel/2026/"><id>1</id><title>t</title>
              <content type="html">&lt;a href="../about.html"&gt;a&lt;/a&gt;</content>
              <summary xml:base="/other/" type="html">s</summary>
            </entry>
            <entry><id>2</id><title>u</title><content type="html">c</content></entry>
        </feed>"#;
    let url = Url::parse("https://blog.example.org/feed.atom").unwrap();
    let x = scan_xml(doc, Some(&url));
    assert_eq!(x.items.len(), 2);
    assert_eq!(
        x.items[0].content_base.as_deref(),
        Some("https://blog.example.org/rel/2026/")
    );
    assert_eq!(
        x.items[0].summary_base.as_deref(),
        Some("https://blog.example.org/other/")
    );
    assert_eq!(
        x.items[1].content_base.as_deref(),
        Some("https://blog.example.org/"),
        "the feed's xml:base is in scope"
    );
}

#[test]
fn no_xml_base_means_no_content_base() {
    let doc = r#"<rss version="2.0"><channel><title>t</title><item><title>a</title>
            <description>&lt;img src="img/pic.png"&gt;</description></item></channel></rss>"#;
    let url = Url::parse("https://blog.example.org/feed.rss").unwrap();
    let x = scan_xml(doc, Some(&url));
    assert_eq!(x.items.len(), 1);
    assert_eq!(x.items[0].content_base, None);
    assert_eq!(x.items[0].summary_base, None);
}

#[test]
fn podcast_item_extras() {
    let doc = r#"<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
              xmlns:media="http://search.yahoo.com/mrss/" xmlns:slash="http://purl.org/rss/1.0/modules/slash/"
              xmlns:wfw="http://wellformedweb.org/CommentAPI/" xmlns:dc="http://purl.org/dc/elements/1.1/">
            <channel><title>Pod</title><itunes:author>Pat Host</itunes:author>
            <item><title>Ep 1</title>
              <author>rob@example.org (Rob Roberts)</author>
              <dc:creator>Rob Roberts</dc:creator>
              <enclosure url="media/ep1.mp3" length="12345" type="audio/mpeg"/>
              <media:content url="https://cdn.example.org/ep1.mp3" type="audio/mpeg" duration="1800"/>
              <media:content url="https://pod.example.org/media/ep1.mp3" duration="1801"/>
              <media:thumbnail url="https://pod.example.org/ep1.jpg" width="300" height="300"/>
              <media:credit role="producer" scheme="urn:ebu">Sam Prod</media:credit>
              <itunes:image href="https://pod.example.org/ep1-cover.jpg"/>
              <itunes:duration>30:01</itunes:duration>
              <itunes:explicit>yes</itunes:explicit>
              <itunes:block>Yes</itunes:block>
              <comments>https://pod.example.org/ep1#comments</comments>
              <wfw:commentRss>https://pod.example.org/ep1/feed</wfw:commentRss>
              <slash:comments>7</slash:comments>
            </item></channel></rss>"#;
    let url = Url::parse("https://pod.example.org/feed.xml").unwrap();
    let x = scan_xml(doc, Some(&url));
    assert_eq!(x.feed_authors[0].name.as_deref(), Some("Pat Host"));
    let m = &x.items[0].meta;
    assert_eq!(m.authors.len(), 1, "{:?}", m.authors);
    assert_eq!(m.authors[0].name.as_deref(), Some("Rob Roberts"));
    assert_eq!(m.authors[0].email.as_deref(), Some("rob@example.org"));
    assert_eq!(m.enclosures.len(), 2, "{:?}", m.enclosures);
    assert_eq!(m.enclosures[0].url, "https://pod.example.org/media/ep1.mp3");
    assert_eq!(m.enclosures[0].length, Some(12345));
    assert_eq!(m.enclosures[0].duration, Some(1801));
    assert_eq!(m.enclosures[1].url, "https://cdn.example.org/ep1.mp3");
    assert_eq!(m.thumbnails[0].width, Some(300));
    assert_eq!(m.media_credits[0].role.as_deref(), Some("producer"));
    assert_eq!(m.media_credits[0].scheme.as_deref(), Some("urn:ebu"));
    assert_eq!(m.image.as_deref(), Some("https://pod.example.org/ep1-cover.jpg"));
    assert_eq!(m.duration, Some(1801));
    assert_eq!(m.explicit, Some(true));
    assert!(m.block);
    assert_eq!(m.comments.as_deref(), Some("https://pod.example.org/ep1#comments"));
    assert_eq!(m.comments_feed.as_deref(), Some("https://pod.example.org/ep1/feed"));
    assert_eq!(m.comment_count, Some(7));
}

#[test]
fn atom_replies_enclosures_and_people() {
    let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom" xmlns:thr="http://purl.org/syndication/thread/1.0">
            <author><name>Feed Author</name><email>feed@example.org</email></author>
            <entry><id>1</id><title>t</title>
              <author><name>Ann</name><email>ann@example.org</email><uri>/ann</uri></author>
              <author><name>Bob</name></author>
              <contributor><name>Cy</name></contributor>
              <link rel="replies" type="text/html" href="/1#comments" thr:count="4"/>
              <link rel="replies" type="application/atom+xml" href="/1/comments.atom"/>
              <link rel="enclosure" type="image/jpeg" length="999" title="Photo" href="/p.jpg"/>
              <source><id>s</id><author><name>Src</name></author></source>
            </entry></feed>"#;
    let url = Url::parse("https://a.example.org/feed").unwrap();
    let x = scan_xml(doc, Some(&url));
    assert_eq!(x.feed_authors[0].email.as_deref(), Some("feed@example.org"));
    let i = &x.items[0];
    let names: Vec<_> = i.meta.authors.iter().map(|p| p.name.clone().unwrap()).collect();
    assert_eq!(names, ["Ann", "Bob"]);
    assert_eq!(i.meta.authors[0].uri.as_deref(), Some("https://a.example.org/ann"));
    assert_eq!(i.meta.contributors[0].name.as_deref(), Some("Cy"));
    assert_eq!(i.meta.comments.as_deref(), Some("https://a.example.org/1#comments"));
    assert_eq!(
        i.meta.comments_feed.as_deref(),
        Some("https://a.example.org/1/comments.atom")
    );
    assert_eq!(i.meta.comment_count, Some(4));
    assert_eq!(i.meta.enclosures[0].title.as_deref(), Some("Photo"));
    assert_eq!(i.meta.enclosures[0].length, Some(999));
    assert_eq!(i.source_authors[0].name.as_deref(), Some("Src"));
}

#[test]
fn json_feed_attachments_images_and_authors() {
    let doc = r#"{"version":"https://jsonfeed.org/version/1.1","title":"J",
            "authors":[{"name":"Jo","url":"https://j.example.org/jo"}],
            "items":[{"id":"1","url":"/posts/1","content_html":"x","image":"/i.png",
              "attachments":[{"url":"/a.mp3","mime_type":"audio/mpeg","size_in_bytes":10,"duration_in_seconds":61,"title":"A"}]},
              {"id":"2","content_text":"y","author":{"name":"Old","avatar":"/o.png"}}]}"#;
    let url = Url::parse("https://j.example.org/feed.json").unwrap();
    let x = scan_json(doc, Some(&url));
    assert_eq!(x.feed_authors[0].uri.as_deref(), Some("https://j.example.org/jo"));
    assert_eq!(x.items[0].link.as_deref(), Some("https://j.example.org/posts/1"));
    assert_eq!(x.items[0].meta.image.as_deref(), Some("https://j.example.org/i.png"));
    let a = &x.items[0].meta.enclosures[0];
    assert_eq!(
        (a.url.as_str(), a.length, a.duration, a.title.as_deref()),
        ("https://j.example.org/a.mp3", Some(10), Some(61), Some("A"))
    );
    assert_eq!(x.items[1].meta.authors[0].name.as_deref(), Some("Old"));
    assert_eq!(
        x.items[1].meta.authors[0].avatar.as_deref(),
        Some("https://j.example.org/o.png")
    );
}
