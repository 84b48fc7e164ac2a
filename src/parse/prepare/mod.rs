//! Turning raw feed bytes into clean UTF-8 text that feed-rs accepts.
//!
//! This module owns the order of the steps a document goes through before
//! the feed parser sees it, and what they report ([`Prepared`]):
//!
//! 1. `charset` chooses the character encoding, and the bytes are decoded
//!    to UTF-8 with replacement of malformed sequences;
//! 2. the first non-whitespace character decides the [`Syntax`]: `{` is
//!    JSON Feed, anything else is XML;
//! 3. XML text loses the characters XML 1.0 forbids ([`strip_xml_illegal`]),
//!    `xml` repairs its markup and `rss` maps RSS dialects feed-rs does not
//!    read onto ones it does, and `atom03` rewrites Atom 0.3 as the Atom
//!    1.0 it maps onto; JSON text is repaired by `json`.
//!
//! Each step has a file of its own because each has its own traps and
//! tests: the encoding is chosen on bytes, before there is any text, the
//! markup repair is one linear scan that must stay linear, the RSS fixes
//! only touch the root element and a namespace, and the JSON repair shares
//! nothing with the XML ones but the character filter.

mod atom03;
mod charset;
mod json;
mod rss;
mod xml;

pub(crate) use charset::EncodingSource;

use crate::xmltext::strip_xml_illegal;
use charset::{choose_encoding, choose_page_encoding};

/// An HTML page's bytes as text: the encoding chosen as for feeds (byte
/// order mark, valid UTF-8, then the page's `<meta charset>` or
/// `http-equiv`, the HTTP `charset`, a guess), malformed sequences
/// replaced. The name of the encoding used comes with it.
pub(crate) fn decode_page(bytes: &[u8], http_charset: Option<&str>) -> (String, &'static str) {
    let (encoding, _, body) = choose_page_encoding(bytes, http_charset);
    let (text, _) = encoding.decode_without_bom_handling(body);
    (text.trim_start_matches('\u{FEFF}').to_string(), encoding.name())
}
use json::clean_json;
use xml::clean_xml;

/// What preparing a document found and produced.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Prepared {
    /// Clean UTF-8 text, XML declarations removed, ready for feed-rs.
    pub text: String,
    /// Whether the document is XML or JSON.
    pub syntax: Syntax,
    /// Name of the encoding used to decode the bytes (an `encoding_rs`
    /// name such as `"UTF-8"` or `"windows-1252"`).
    pub encoding: &'static str,
    /// Where the choice of encoding came from.
    pub encoding_source: EncodingSource,
    /// True when decoding met malformed byte sequences (each was replaced
    /// with U+FFFD).
    pub invalid_bytes: bool,
}

/// The syntax of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// RSS, Atom or RDF: anything that does not start with `{`.
    Xml,
    /// JSON Feed: the first non-whitespace character is `{`.
    Json,
}

/// Decodes `bytes` and cleans the text so feed-rs can parse it.
///
/// `http_charset` is the value of the `charset` parameter of the HTTP
/// `Content-Type` header, if any (quotes are tolerated).
pub(crate) fn prepare(bytes: &[u8], http_charset: Option<&str>) -> Prepared {
    let (encoding, encoding_source, body) = choose_encoding(bytes, http_charset);
    let (decoded, invalid_bytes) = encoding.decode_without_bom_handling(body);
    let decoded = decoded.trim_start_matches('\u{FEFF}');
    let syntax = if decoded.trim_start().starts_with('{') {
        Syntax::Json
    } else {
        Syntax::Xml
    };
    let text = match syntax {
        Syntax::Xml => {
            let text = clean_xml(&strip_xml_illegal(decoded));
            atom03::to_atom10(&text).unwrap_or(text)
        }
        Syntax::Json => clean_json(decoded),
    };
    Prepared {
        text,
        syntax,
        encoding: encoding.name(),
        encoding_source,
        invalid_bytes,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    pub(super) fn parse(prepared: &Prepared) -> feed_rs::model::Feed {
        match feed_rs::parser::parse(prepared.text.as_bytes()) {
            Ok(feed) => feed,
            Err(e) => panic!("feed-rs rejected {:?}: {e}", prepared.text),
        }
    }

    pub(super) fn feed_title(feed: &feed_rs::model::Feed) -> String {
        feed.title.as_ref().map(|t| t.content.clone()).unwrap_or_default()
    }

    pub(super) fn entry_titles(feed: &feed_rs::model::Feed) -> Vec<String> {
        feed.entries
            .iter()
            .map(|e| e.title.as_ref().map(|t| t.content.clone()).unwrap_or_default())
            .collect()
    }

    /// An RSS 2.0 document with a channel title and one item per title.
    pub(super) fn rss(channel: &str, items: &[&str]) -> String {
        let mut s = format!("<rss version=\"2.0\"><channel><title>{channel}</title>");
        for (n, item) in items.iter().enumerate() {
            s.push_str(&format!("<item><title>{item}</title><guid>id-{n}</guid></item>"));
        }
        s.push_str("</channel></rss>");
        s
    }

    pub(super) fn prepare_str(s: &str) -> Prepared {
        prepare(s.as_bytes(), None)
    }

    #[test]
    fn raw_illegal_characters_removed() {
        let doc = rss("a\u{1}b\u{0}c\u{1b}d\u{fffe}e\u{ffff}f\tg", &["<![CDATA[x\u{8}y]]>"]);
        let p = prepare_str(&doc);
        assert!(
            !p.text
                .contains(['\u{1}', '\u{0}', '\u{1b}', '\u{fffe}', '\u{ffff}', '\u{8}'])
        );
        let feed = parse(&p);
        assert_eq!(feed_title(&feed), "abcdef\tg");
        assert_eq!(entry_titles(&feed), vec!["xy"]);
    }

    #[test]
    fn empty_and_whitespace_input() {
        let p = prepare(b"", None);
        assert_eq!(p.text, "");
        assert_eq!(p.syntax, Syntax::Xml);
        assert_eq!(p.encoding_source, EncodingSource::ValidUtf8);
        let p = prepare(b" \n ", None);
        assert_eq!(p.syntax, Syntax::Xml);
        assert_eq!(prepare(b"&", None).text, "&amp;");
        assert_eq!(prepare(b"<", None).text, "&lt;");
        assert_eq!(prepare(b"<![CDATA[", None).text, "<![CDATA[");
        assert_eq!(prepare(b"<?xml", None).text, "");
        assert_eq!(prepare(b"<!DOCTYPE [ \"", None).text, "");
        assert_eq!(prepare(b"<rss", None).text, "<rss");
        assert_eq!(prepare(b"<rss/>", None).text, "<rss version=\"2.0\"/>");
        assert_eq!(prepare(b"<rss version=\"1", None).text, "<rss version=\"1");
    }
}
