//! Inputs found by the fuzz targets in `fuzz/`, each pinned to the promise
//! it broke. The minimized inputs are kept in `fuzz/regressions/`.
#![allow(clippy::unwrap_used, missing_docs)]

use tributary::parse::{Document, ParseError, parse};
use url::Url;

fn parse_bytes(bytes: &[u8], charset: Option<&str>) -> Result<tributary::model::ParsedFeed, ParseError> {
    let url = Url::parse("https://news.example.org/feed.xml").unwrap();
    parse(Document {
        bytes,
        charset,
        media_type: None,
        url: &url,
    })
}

/// The `feed` target's minimized input: `<![CDATA[` inside an attribute
/// value hid the `<?xml … encoding="Shift_JIS"?>` after it from the repair
/// that removes declarations, and quick-xml panics on an encoding switch
/// mid-document. The feed was lost as "the feed parser crashed".
#[test]
fn parse_survives_cdata_opener_in_attribute_before_late_declaration() {
    let input = b"<fenl=\"a\x04<![CDATA[le.it/\"\x83j\x83d>ta <?xml on=\"1.0\" encoding=\"Shift_JIS\"?>\0\0\0\0";
    let result = parse_bytes(input, Some("iso-8859-1"));
    assert!(!matches!(result, Err(ParseError::Panicked { .. })), "{result:?}");

    for opener in ["<![CDATA[", "<!--", "<?pi "] {
        let doc = format!(
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title>\
             <link rel=\"alternate\" href=\"https://example.org/{opener}x\"/>\
             <?xml version=\"1.0\" encoding=\"Shift_JIS\"?>\
             <entry><id>1</id><title>A</title></entry></feed>"
        );
        let feed = parse_bytes(doc.as_bytes(), None).unwrap_or_else(|e| panic!("{opener}: {e}"));
        assert_eq!(feed.items.len(), 1, "{opener}");
        assert_eq!(feed.items[0].title.as_deref(), Some("A"), "{opener}");
        let written = Url::parse(&format!("https://example.org/{opener}x")).unwrap();
        assert_eq!(
            feed.info.site_link.as_deref(),
            Some(written.as_str()),
            "{opener}: the attribute value is kept"
        );
    }
}

/// The `feed` target's find: feed-rs 3 splits an author string into name and
/// e-mail address by slicing one byte beside the address, which panics when
/// that byte is inside a multi-byte character (`«mario@example.it»`, or a
/// U+FFFD left by an invalid byte). The panic was contained, but the whole
/// feed was lost on every poll as "the feed parser crashed".
#[test]
fn parse_survives_email_beside_a_multibyte_character_in_an_author() {
    let input = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/regressions/feed-email-beside-multibyte-character-in-author"
    ))
    .unwrap();
    // The first byte is the fuzz target's selector; the rest is the document.
    let feed = parse_bytes(&input[1..], None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(feed.items.len(), 1);
    assert_eq!(feed.items[0].title.as_deref(), Some("Prima"));

    let authors = [
        "«redazione@ecoadriatico.example.it»",
        "Redazione «redazione@ecoadriatico.example.it»",
        "redazione@ecoadriatico.example.it — Redazione",
        "redazione@ecoadriatico.ex\u{FFFD}mple.it (Redazione)",
        "&#171;redazione@ecoadriatico.example.it&#187;",
    ];
    for author in authors {
        for element in ["author", "dc:creator", "managingEditor"] {
            let (channel, item) = if element == "managingEditor" {
                (format!("<{element}>{author}</{element}>"), String::new())
            } else {
                (String::new(), format!("<{element}>{author}</{element}>"))
            };
            let doc = format!(
                "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel><title>T</title>{channel}\
                 <item><guid>1</guid><title>Prima</title>{item}</item>\
                 <item><guid>2</guid><title>Seconda città</title></item></channel></rss>"
            );
            let feed = parse_bytes(doc.as_bytes(), None).unwrap_or_else(|e| panic!("{element} {author}: {e}"));
            let titles: Vec<_> = feed.items.iter().map(|i| i.title.as_deref()).collect();
            assert_eq!(titles, [Some("Prima"), Some("Seconda città")], "{element} {author}");
        }
    }
    let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"T","items":[
        {"id":"1","title":"Prima","content_text":"x","authors":[{"name":"«redazione@ecoadriatico.example.it»"}]}]}"#;
    let feed = parse_bytes(json.as_bytes(), None).unwrap_or_else(|e| panic!("JSON Feed: {e}"));
    assert_eq!(feed.items.len(), 1);
}
