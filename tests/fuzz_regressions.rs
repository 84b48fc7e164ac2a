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
