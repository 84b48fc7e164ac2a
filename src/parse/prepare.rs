//! Turning raw feed bytes into clean UTF-8 text that feed-rs accepts.
//!
//! This module owns everything that happens to a document before the feed
//! parser sees it:
//!
//! * choosing the character encoding (byte order mark, valid UTF-8, the XML
//!   declaration, the HTTP `charset`, then a statistical guess) and decoding
//!   to UTF-8 with replacement of malformed sequences;
//! * for XML: removing every `<?xml …?>` declaration and the whole
//!   `<!DOCTYPE …>` (which defuses entity-expansion and external-entity
//!   attacks), escaping bare `&` and `<`, turning HTML named entities into
//!   characters, dropping references to and occurrences of characters that
//!   XML 1.0 forbids, giving `<rss>` a version feed-rs understands and
//!   mapping the Netscape RSS 0.90 namespace onto RSS 1.0;
//! * for JSON Feed: repairing raw control characters inside strings, turning
//!   numeric item ids into strings, supplying a missing title and version and
//!   removing XML-illegal characters from string values.

use std::borrow::Cow;

use encoding_rs::Encoding;
use memchr::{memchr2, memmem};
use serde_json::Value;

/// What preparing a document found and produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
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

/// Where the encoding used to decode a document came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodingSource {
    /// A byte order mark at the start of the bytes.
    Bom,
    /// The bytes are valid UTF-8 (this wins over any declaration).
    ValidUtf8,
    /// The `encoding` pseudo-attribute of the `<?xml …?>` declaration.
    XmlDeclaration,
    /// The `charset` parameter of the HTTP `Content-Type` header.
    HttpCharset,
    /// A guess from the bytes themselves.
    Guess,
}

/// The syntax of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// RSS, Atom or RDF: anything that does not start with `{`.
    Xml,
    /// JSON Feed: the first non-whitespace character is `{`.
    Json,
}

/// Decodes `bytes` and cleans the text so feed-rs can parse it.
///
/// `http_charset` is the value of the `charset` parameter of the HTTP
/// `Content-Type` header, if any (quotes are tolerated).
pub fn prepare(bytes: &[u8], http_charset: Option<&str>) -> Prepared {
    let (encoding, encoding_source, body) = choose_encoding(bytes, http_charset);
    let (decoded, invalid_bytes) = encoding.decode_without_bom_handling(body);
    let decoded = decoded.trim_start_matches('\u{FEFF}');
    let syntax = if decoded.trim_start().starts_with('{') {
        Syntax::Json
    } else {
        Syntax::Xml
    };
    let text = match syntax {
        Syntax::Xml => clean_xml(&strip_xml_illegal(decoded)),
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

use crate::xmltext::is_xml_char;
pub use crate::xmltext::strip_xml_illegal;

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

/// How much of the document the declaration is looked for in.
const DECLARATION_WINDOW: usize = 1024;

/// How much of the document the statistical detector reads.
const GUESS_WINDOW: usize = 1 << 20;

fn choose_encoding<'a>(bytes: &'a [u8], http_charset: Option<&str>) -> (&'static Encoding, EncodingSource, &'a [u8]) {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        return (encoding, EncodingSource::Bom, &bytes[bom_len..]);
    }
    // UTF-16 without a BOM: `<` or `{` interleaved with NUL bytes. Checked
    // before UTF-8 validity because such bytes are valid (if useless) UTF-8.
    if let Some(encoding) = utf16_without_bom(bytes) {
        return (encoding, EncodingSource::Guess, bytes);
    }
    if std::str::from_utf8(bytes).is_ok() {
        return (encoding_rs::UTF_8, EncodingSource::ValidUtf8, bytes);
    }
    // The bytes are not valid UTF-8. A label claiming UTF-8 is only
    // believed when the bytes are mostly UTF-8 with a few broken sequences.
    let mut mostly = None;
    let mut mostly_utf8 = |bytes: &[u8]| *mostly.get_or_insert_with(|| is_mostly_utf8(bytes));
    let labelled = [
        (
            declared_label(bytes).and_then(Encoding::for_label),
            EncodingSource::XmlDeclaration,
        ),
        (
            http_charset.and_then(|charset| Encoding::for_label(charset_label(charset).as_bytes())),
            EncodingSource::HttpCharset,
        ),
    ];
    for (encoding, source) in labelled {
        let Some(encoding) = encoding else { continue };
        if !usable_label(encoding) {
            continue;
        }
        if encoding == encoding_rs::UTF_8 && !mostly_utf8(bytes) {
            continue;
        }
        return (encoding, source, bytes);
    }
    if mostly_utf8(bytes) {
        return (encoding_rs::UTF_8, EncodingSource::Guess, bytes);
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    if bytes.len() > GUESS_WINDOW {
        detector.feed(&bytes[..GUESS_WINDOW], false);
    } else {
        detector.feed(bytes, true);
    }
    let encoding = detector.guess(None, chardetng::Utf8Detection::Allow);
    (encoding, EncodingSource::Guess, bytes)
}

/// A label naming UTF-16 on bytes without a BOM that are not UTF-16, or
/// one mapping to the "replacement" encoding, cannot decode anything.
fn usable_label(encoding: &'static Encoding) -> bool {
    encoding != encoding_rs::UTF_16LE && encoding != encoding_rs::UTF_16BE && encoding != encoding_rs::REPLACEMENT
}

fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let start = bytes.get(..4)?;
    let markup = |c: u8| c == b'<' || c == b'{';
    if markup(start[0]) && start[1] == 0 && start[2] != 0 && start[3] == 0 {
        Some(encoding_rs::UTF_16LE)
    } else if start[0] == 0 && markup(start[1]) && start[2] == 0 && start[3] != 0 {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// True when the bytes contain valid multi-byte UTF-8 sequences and at most
/// as many malformed sequences as valid multi-byte ones: a UTF-8 document
/// with a few stray bytes rather than a legacy single-byte one.
fn is_mostly_utf8(bytes: &[u8]) -> bool {
    fn leads(b: &[u8]) -> usize {
        b.iter().filter(|&&c| c >= 0xC0).count()
    }
    let mut rest = bytes;
    let mut valid = 0usize;
    let mut invalid = 0usize;
    loop {
        match std::str::from_utf8(rest) {
            Ok(_) => {
                valid += leads(rest);
                break;
            }
            Err(e) => {
                let (good, after) = rest.split_at(e.valid_up_to());
                valid += leads(good);
                invalid += 1;
                let skip = e.error_len().unwrap_or(after.len());
                rest = &after[skip..];
            }
        }
    }
    valid > 0 && invalid <= valid
}

/// The value of `encoding="…"` in an XML declaration near the start.
fn declared_label(bytes: &[u8]) -> Option<&[u8]> {
    let window = &bytes[..bytes.len().min(DECLARATION_WINDOW)];
    let start = memmem::find(window, b"<?xml")?;
    let decl = &window[start + 5..];
    let decl = &decl[..memmem::find(decl, b"?>").unwrap_or(decl.len())];
    let at = memmem::find(decl, b"encoding")?;
    let mut rest = &decl[at + 8..];
    rest = rest.trim_ascii_start();
    rest = rest.strip_prefix(b"=")?.trim_ascii_start();
    let (&quote, value) = rest.split_first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let end = value.iter().position(|&c| c == quote)?;
    Some(value[..end].trim_ascii())
}

/// A `charset` parameter value without surrounding whitespace and quotes.
fn charset_label(charset: &str) -> &str {
    charset.trim().trim_matches(|c| c == '"' || c == '\'').trim()
}

// ---------------------------------------------------------------------------
// XML
// ---------------------------------------------------------------------------

/// The namespace of Netscape's RSS 0.90, which feed-rs does not know.
const NETSCAPE_RSS_NS: &str = "http://my.netscape.com/rdf/simple/0.9/";
/// The RSS 1.0 namespace, whose elements RSS 0.90 shares.
const RSS1_NS: &str = "http://purl.org/rss/1.0/";

/// What to do with a `&` found in markup or text.
enum Reference {
    /// A well-formed reference feed-rs handles: keep it, ending at the index.
    Keep(usize),
    /// Replace the reference, which ends at the index, with the text.
    Replace(usize, Cow<'static, str>),
    /// Not a reference (or an unknown one): escape the `&` itself.
    Bare,
}

fn clean_xml(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(b.len() + b.len() / 64 + 32);
    // Start of the run of input not yet copied to `out`.
    let mut copied = 0usize;
    // Where scanning resumes.
    let mut i = 0usize;
    // Offset in `out` of the first start tag.
    let mut root: Option<usize> = None;
    // End of the start tag being scanned: a `<` before it is inside a
    // quoted attribute value, not markup.
    let mut tag_end = 0usize;
    while let Some(off) = memchr2(b'<', b'&', &b[i..]) {
        let p = i + off;
        if b[p] == b'<' && p < tag_end {
            // As in `a="x<![CDATA[y"`: the parser reads it as text of the
            // value, so no comment, CDATA or declaration starts here.
            out.push_str(&src[copied..p]);
            out.push_str("&lt;");
            copied = p + 1;
            i = p + 1;
            continue;
        }
        if b[p] == b'&' {
            match reference_at(b, p) {
                Reference::Keep(end) => i = end,
                Reference::Replace(end, text) => {
                    out.push_str(&src[copied..p]);
                    out.push_str(&text);
                    copied = end;
                    i = end;
                }
                Reference::Bare => {
                    out.push_str(&src[copied..p]);
                    out.push_str("&amp;");
                    copied = p + 1;
                    i = p + 1;
                }
            }
            continue;
        }
        let rest = &b[p..];
        if rest.starts_with(b"<![CDATA[") {
            i = find_end(b, p + 9, b"]]>");
        } else if rest.starts_with(b"<!--") {
            i = find_end(b, p + 4, b"-->");
        } else if rest.starts_with(b"<?") {
            let end = processing_instruction_end(b, p);
            if is_xml_declaration(rest) {
                out.push_str(&src[copied..p]);
                copied = end;
            }
            i = end;
        } else if rest.len() >= 9 && rest[..9].eq_ignore_ascii_case(b"<!DOCTYPE") {
            let end = doctype_end(b, p + 9);
            out.push_str(&src[copied..p]);
            copied = end;
            i = end;
        } else {
            match rest.get(1) {
                Some(b'!' | b'/') => i = p + 2,
                Some(&c) if is_name_start(c) => {
                    if root.is_none() {
                        root = Some(out.len() + (p - copied));
                    }
                    tag_end = start_tag_end(b, p + 1);
                    i = p + 1;
                }
                _ => {
                    // A `<` that cannot start markup, as in `a < b`.
                    out.push_str(&src[copied..p]);
                    out.push_str("&lt;");
                    copied = p + 1;
                    i = p + 1;
                }
            }
        }
    }
    out.push_str(&src[copied..]);
    if let Some(root) = root {
        fix_rss_version(&mut out, root);
    }
    replace_netscape_namespace(out)
}

/// Index of the `>` closing the start tag whose name starts at `from`, or
/// the end of the input: the first `>` outside quotes, where a quote opens a
/// quoted run anywhere in the tag, as the feed parser reads it.
fn start_tag_end(b: &[u8], from: usize) -> usize {
    let mut quote: Option<u8> = None;
    for at in memchr::memchr3_iter(b'>', b'"', b'\'', &b[from..]) {
        let c = b[from + at];
        match quote {
            None if c == b'>' => return from + at,
            None => quote = Some(c),
            Some(q) if q == c => quote = None,
            Some(_) => {}
        }
    }
    b.len()
}

/// Index just past `pat` searched from `from`, or the end of the input.
fn find_end(b: &[u8], from: usize, pat: &[u8]) -> usize {
    memmem::find(&b[from..], pat).map_or(b.len(), |at| from + at + pat.len())
}

fn processing_instruction_end(b: &[u8], p: usize) -> usize {
    let from = p + 2;
    if let Some(at) = memmem::find(&b[from..], b"?>") {
        return from + at + 2;
    }
    memchr::memchr(b'>', &b[from..]).map_or(b.len(), |at| from + at + 1)
}

/// `<?xml` followed by whitespace, `?` or the end (not `<?xml-stylesheet`).
fn is_xml_declaration(rest: &[u8]) -> bool {
    rest.len() >= 5
        && rest[2..5].eq_ignore_ascii_case(b"xml")
        && rest.get(5).is_none_or(|&c| c.is_ascii_whitespace() || c == b'?')
}

/// Index just past a DOCTYPE declaration whose keyword ends at `from`,
/// including an internal subset with quoted strings and comments.
fn doctype_end(b: &[u8], from: usize) -> usize {
    let mut j = from;
    let mut quote: Option<u8> = None;
    let mut subset = false;
    while j < b.len() {
        let c = b[j];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            j += 1;
            continue;
        }
        match c {
            b'"' | b'\'' => quote = Some(c),
            b'[' => subset = true,
            b']' => subset = false,
            b'<' if subset && b[j..].starts_with(b"<!--") => {
                j = find_end(b, j + 4, b"-->");
                continue;
            }
            b'>' if !subset => return j + 1,
            _ => {}
        }
        j += 1;
    }
    // Unbalanced quotes or brackets: fall back to the first `>`.
    memchr::memchr(b'>', &b[from..]).map_or(b.len(), |at| from + at + 1)
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':' || c >= 0x80
}

fn is_name_char(c: u8) -> bool {
    is_name_start(c) || c.is_ascii_digit() || c == b'-' || c == b'.'
}

/// Classifies the `&` at `p`.
fn reference_at(b: &[u8], p: usize) -> Reference {
    let mut j = p + 1;
    if b.get(j) == Some(&b'#') {
        j += 1;
        let marker = b.get(j).copied();
        let hex = matches!(marker, Some(b'x' | b'X'));
        if hex {
            j += 1;
        }
        let start = j;
        while j < b.len()
            && (if hex {
                b[j].is_ascii_hexdigit()
            } else {
                b[j].is_ascii_digit()
            })
        {
            j += 1;
        }
        if j == start || b.get(j) != Some(&b';') {
            return Reference::Bare;
        }
        let digits = &b[start..j];
        let end = j + 1;
        let radix = if hex { 16 } else { 10 };
        let value = digits.iter().try_fold(0u32, |acc, &d| {
            let digit = char::from(d).to_digit(radix)?;
            acc.checked_mul(radix)?.checked_add(digit)
        });
        return match value.and_then(char::from_u32) {
            Some(c) if (0x80..=0x9F).contains(&u32::from(c)) => {
                // HTML reads these as windows-1252 (`&#146;` is ’).
                let byte = [u8::try_from(u32::from(c)).unwrap_or(0)];
                let (mapped, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&byte);
                Reference::Replace(end, Cow::Owned(mapped.into_owned()))
            }
            Some(c) if is_xml_char(c) => {
                if marker == Some(b'X') {
                    // XML only knows the lower-case `x`.
                    let mut text = String::from("&#x");
                    text.push_str(std::str::from_utf8(digits).unwrap_or("0"));
                    text.push(';');
                    Reference::Replace(end, Cow::Owned(text))
                } else {
                    Reference::Keep(end)
                }
            }
            // A reference to a character XML forbids, or to none at all.
            _ => Reference::Replace(end, Cow::Borrowed("")),
        };
    }
    if !b.get(j).is_some_and(|&c| is_name_start(c)) {
        return Reference::Bare;
    }
    while j < b.len() && is_name_char(b[j]) {
        j += 1;
    }
    if b.get(j) != Some(&b';') {
        return Reference::Bare;
    }
    let end = j + 1;
    let name = &b[p + 1..j];
    if matches!(name, b"amp" | b"lt" | b"gt" | b"quot" | b"apos") {
        return Reference::Keep(end);
    }
    match htmlize::ENTITIES.get(&b[p..end]) {
        Some(&expansion) => match std::str::from_utf8(expansion) {
            Ok(text) => Reference::Replace(end, escape_expansion(text)),
            Err(_) => Reference::Bare,
        },
        // Unknown (perhaps declared in a removed DTD): shown literally.
        None => Reference::Bare,
    }
}

/// Escapes the characters of an entity expansion that are markup in XML.
fn escape_expansion(text: &'static str) -> Cow<'static, str> {
    if !text.contains(['<', '>', '&', '"']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Gives an `<rss>` root a version feed-rs accepts ("2.0", "0.91", "0.92").
fn fix_rss_version(out: &mut String, root: usize) {
    let b = out.as_bytes();
    let tag = &b[root..];
    if !tag.starts_with(b"<rss")
        || !tag
            .get(4)
            .is_some_and(|&c| c.is_ascii_whitespace() || c == b'>' || c == b'/')
    {
        return;
    }
    let mut j = root + 4;
    let skip_ws = |mut j: usize| {
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        j
    };
    loop {
        j = skip_ws(j);
        match b.get(j) {
            None | Some(b'>' | b'/') => break,
            _ => {}
        }
        let name_start = j;
        while j < b.len() && !b[j].is_ascii_whitespace() && !matches!(b[j], b'=' | b'>' | b'/') {
            j += 1;
        }
        let name_end = j;
        j = skip_ws(j);
        if b.get(j) != Some(&b'=') {
            if name_end == name_start {
                j += 1;
            }
            continue;
        }
        j = skip_ws(j + 1);
        let (value_start, value_end, replace) = match b.get(j) {
            Some(&q) if q == b'"' || q == b'\'' => {
                let Some(len) = memchr::memchr(q, &b[j + 1..]) else {
                    return;
                };
                let start = j + 1;
                j = start + len + 1;
                (start, start + len, "2.0")
            }
            _ => {
                let start = j;
                while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                    j += 1;
                }
                (start, j, "\"2.0\"")
            }
        };
        if &b[name_start..name_end] == b"version" {
            if !matches!(&b[value_start..value_end], b"2.0" | b"0.91" | b"0.92") {
                out.replace_range(value_start..value_end, replace);
            }
            return;
        }
    }
    out.insert_str(root + 4, " version=\"2.0\"");
}

/// Replaces the RSS 0.90 namespace (as an attribute value) by RSS 1.0's.
fn replace_netscape_namespace(out: String) -> String {
    let b = out.as_bytes();
    let finder = memmem::Finder::new(NETSCAPE_RSS_NS.as_bytes());
    let hits: Vec<usize> = finder
        .find_iter(b)
        .filter(|&at| at > 0 && matches!(b[at - 1], b'"' | b'\''))
        .collect();
    if hits.is_empty() {
        return out;
    }
    let mut fixed = String::with_capacity(out.len());
    let mut copied = 0;
    for at in hits {
        fixed.push_str(&out[copied..at]);
        fixed.push_str(RSS1_NS);
        copied = at + NETSCAPE_RSS_NS.len();
    }
    fixed.push_str(&out[copied..]);
    fixed
}

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

/// The JSON Feed version assumed when a document names none.
const JSON_FEED_VERSION: &str = "https://jsonfeed.org/version/1.1";

/// Item members feed-rs reads as strings.
const ITEM_STRING_FIELDS: [&str; 9] = [
    "id",
    "url",
    "external_url",
    "title",
    "content_html",
    "content_text",
    "summary",
    "date_published",
    "date_modified",
];

fn clean_json(text: &str) -> String {
    let (mut value, mut changed) = match serde_json::from_str::<Value>(text) {
        Ok(value) => (value, false),
        Err(_) => {
            let Some(repaired) = escape_raw_controls(text) else {
                return text.to_owned();
            };
            match serde_json::from_str::<Value>(&repaired) {
                Ok(value) => (value, true),
                Err(_) => return text.to_owned(),
            }
        }
    };
    changed |= fix_json_feed(&mut value);
    changed |= strip_json_illegal(&mut value);
    if !changed {
        return text.to_owned();
    }
    serde_json::to_string(&value).unwrap_or_else(|_| text.to_owned())
}

/// Escapes raw TAB/LF/CR inside JSON strings and drops other raw control
/// characters; `None` when there is nothing to repair.
fn escape_raw_controls(text: &str) -> Option<String> {
    if !text.bytes().any(|c| c < 0x20) {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            } else if u32::from(c) < 0x20 {
                match c {
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    _ => {}
                }
                continue;
            }
        } else if c == '"' {
            in_string = true;
        } else if u32::from(c) < 0x20 && !matches!(c, '\t' | '\n' | '\r') {
            continue;
        }
        out.push(c);
    }
    Some(out)
}

fn scalar_to_string(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Makes a JSON Feed acceptable to feed-rs; true when anything changed.
fn fix_json_feed(value: &mut Value) -> bool {
    let Value::Object(map) = value else {
        return false;
    };
    // Only documents that look like a JSON Feed are completed; any other
    // JSON (an API error, say) is left for the parser to reject.
    let versioned = map
        .get("version")
        .and_then(Value::as_str)
        .is_some_and(|v| v.contains("jsonfeed.org/version/"));
    if !versioned && !map.get("items").is_some_and(Value::is_array) {
        return false;
    }
    let mut changed = false;
    match map.get_mut("title") {
        None => {
            map.insert("title".to_owned(), Value::String(String::new()));
            changed = true;
        }
        Some(title) => {
            if title.is_null() {
                *title = Value::String(String::new());
                changed = true;
            } else if let Some(s) = scalar_to_string(title) {
                *title = Value::String(s);
                changed = true;
            }
        }
    }
    match map.get_mut("version") {
        None => {
            map.insert("version".to_owned(), Value::String(JSON_FEED_VERSION.to_owned()));
            changed = true;
        }
        Some(version) => match version {
            Value::Null => {
                *version = Value::String(JSON_FEED_VERSION.to_owned());
                changed = true;
            }
            Value::String(s) if s.starts_with("http://jsonfeed.org/version/1") => {
                s.insert(4, 's');
                changed = true;
            }
            _ => {}
        },
    }
    if let Some(Value::Array(items)) = map.get_mut("items") {
        for item in items {
            let Value::Object(item) = item else { continue };
            for key in ITEM_STRING_FIELDS {
                if let Some(field) = item.get_mut(key)
                    && let Some(s) = scalar_to_string(field)
                {
                    *field = Value::String(s);
                    changed = true;
                }
            }
        }
    }
    changed
}

/// Removes XML-illegal characters from every string value.
fn strip_json_illegal(value: &mut Value) -> bool {
    match value {
        Value::String(s) => {
            if let Cow::Owned(clean) = strip_xml_illegal(s) {
                *s = clean;
                true
            } else {
                false
            }
        }
        Value::Array(values) => values
            .iter_mut()
            .fold(false, |changed, v| strip_json_illegal(v) | changed),
        Value::Object(map) => map
            .values_mut()
            .fold(false, |changed, v| strip_json_illegal(v) | changed),
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(prepared: &Prepared) -> feed_rs::model::Feed {
        match feed_rs::parser::parse(prepared.text.as_bytes()) {
            Ok(feed) => feed,
            Err(e) => panic!("feed-rs rejected {:?}: {e}", prepared.text),
        }
    }

    fn feed_title(feed: &feed_rs::model::Feed) -> String {
        feed.title.as_ref().map(|t| t.content.clone()).unwrap_or_default()
    }

    fn entry_titles(feed: &feed_rs::model::Feed) -> Vec<String> {
        feed.entries
            .iter()
            .map(|e| e.title.as_ref().map(|t| t.content.clone()).unwrap_or_default())
            .collect()
    }

    /// An RSS 2.0 document with a channel title and one item per title.
    fn rss(channel: &str, items: &[&str]) -> String {
        let mut s = format!("<rss version=\"2.0\"><channel><title>{channel}</title>");
        for (n, item) in items.iter().enumerate() {
            s.push_str(&format!("<item><title>{item}</title><guid>id-{n}</guid></item>"));
        }
        s.push_str("</channel></rss>");
        s
    }

    fn encode(encoding: &'static Encoding, text: &str) -> Vec<u8> {
        let (bytes, used, unmappable) = encoding.encode(text);
        assert_eq!(used, encoding);
        assert!(!unmappable, "{text} not representable in {}", encoding.name());
        bytes.into_owned()
    }

    fn prepare_str(s: &str) -> Prepared {
        prepare(s.as_bytes(), None)
    }

    const CP1252_TEXT: &str = "Caf\u{e9} \u{201c}cr\u{e8}me br\u{fb}l\u{e9}e\u{201d}";
    const CP1252_ITEM: &str = "It\u{2019}s the chef\u{2019}s na\u{ef}ve \u{e9}l\u{e8}ve \u{2013} d\u{e9}j\u{e0} vu";

    #[test]
    fn cp1252_declared_iso_8859_1() {
        let doc = format!(
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n{}",
            rss(CP1252_TEXT, &[CP1252_ITEM])
        );
        let p = prepare(&encode(encoding_rs::WINDOWS_1252, &doc), None);
        assert_eq!(p.encoding, "windows-1252");
        assert_eq!(p.encoding_source, EncodingSource::XmlDeclaration);
        assert!(!p.invalid_bytes);
        assert_eq!(p.syntax, Syntax::Xml);
        assert!(!p.text.contains("<?xml"));
        let feed = parse(&p);
        assert_eq!(feed_title(&feed), CP1252_TEXT);
        assert_eq!(entry_titles(&feed), vec![CP1252_ITEM]);
    }

    #[test]
    fn cp1252_with_http_charset() {
        let doc = rss(CP1252_TEXT, &[CP1252_ITEM]);
        let bytes = encode(encoding_rs::WINDOWS_1252, &doc);
        let p = prepare(&bytes, Some(" \"ISO-8859-1\" "));
        assert_eq!(p.encoding, "windows-1252");
        assert_eq!(p.encoding_source, EncodingSource::HttpCharset);
        let feed = parse(&p);
        assert_eq!(feed_title(&feed), CP1252_TEXT);
        assert_eq!(entry_titles(&feed), vec![CP1252_ITEM]);
    }

    #[test]
    fn cp1252_guessed() {
        let doc = rss(CP1252_TEXT, &[CP1252_ITEM, "Pi\u{f1}a colada \u{e0} la fran\u{e7}aise"]);
        let p = prepare(&encode(encoding_rs::WINDOWS_1252, &doc), None);
        assert_eq!(p.encoding, "windows-1252");
        assert_eq!(p.encoding_source, EncodingSource::Guess);
        let feed = parse(&p);
        assert_eq!(feed_title(&feed), CP1252_TEXT);
        assert_eq!(entry_titles(&feed)[0], CP1252_ITEM);
    }

    #[test]
    fn declaration_utf8_but_cp1252_bytes() {
        let doc = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>{}",
            rss(CP1252_TEXT, &[CP1252_ITEM])
        );
        let p = prepare(&encode(encoding_rs::WINDOWS_1252, &doc), None);
        assert_eq!(p.encoding, "windows-1252");
        assert_eq!(p.encoding_source, EncodingSource::Guess);
        let feed = parse(&p);
        assert_eq!(feed_title(&feed), CP1252_TEXT);
        assert_eq!(entry_titles(&feed), vec![CP1252_ITEM]);
    }

    #[test]
    fn http_charset_utf8_but_cp1252_bytes_is_ignored() {
        let doc = rss(CP1252_TEXT, &[CP1252_ITEM]);
        let p = prepare(&encode(encoding_rs::WINDOWS_1252, &doc), Some("utf-8"));
        assert_eq!(p.encoding, "windows-1252");
        assert_eq!(feed_title(&parse(&p)), CP1252_TEXT);
    }

    #[test]
    fn utf8_bom_wins_over_declaration() {
        let doc = format!(
            "\u{feff}<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>{}",
            rss("Caf\u{e9} \u{2014} na\u{ef}ve", &["\u{fc}ber"])
        );
        let p = prepare(doc.as_bytes(), Some("ISO-8859-1"));
        assert_eq!(p.encoding, "UTF-8");
        assert_eq!(p.encoding_source, EncodingSource::Bom);
        assert!(!p.text.starts_with('\u{feff}'));
        let feed = parse(&p);
        assert_eq!(feed_title(&feed), "Caf\u{e9} \u{2014} na\u{ef}ve");
        assert_eq!(entry_titles(&feed), vec!["\u{fc}ber"]);
    }

    #[test]
    fn valid_utf8_wins_over_lying_declaration_and_charset() {
        let doc = format!(
            "<?xml version=\"1.0\" encoding=\"windows-1251\"?>{}",
            rss("\u{2018}Caf\u{e9}\u{2019}", &["x"])
        );
        let p = prepare(doc.as_bytes(), Some("koi8-r"));
        assert_eq!(p.encoding, "UTF-8");
        assert_eq!(p.encoding_source, EncodingSource::ValidUtf8);
        assert_eq!(feed_title(&parse(&p)), "\u{2018}Caf\u{e9}\u{2019}");
    }

    fn utf16(text: &str, little: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let units = bom.then_some(0xFEFF_u16).into_iter().chain(text.encode_utf16());
        for unit in units {
            if little {
                out.extend_from_slice(&unit.to_le_bytes());
            } else {
                out.extend_from_slice(&unit.to_be_bytes());
            }
        }
        out
    }

    #[test]
    fn utf16le_with_bom() {
        let doc = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-16\"?>{}",
            rss("\u{65e5}\u{672c} Caf\u{e9} \u{1f600}", &["\u{444}\u{438}\u{434}"])
        );
        let p = prepare(&utf16(&doc, true, true), None);
        assert_eq!(p.encoding, "UTF-16LE");
        assert_eq!(p.encoding_source, EncodingSource::Bom);
        let feed = parse(&p);
        assert_eq!(feed_title(&feed), "\u{65e5}\u{672c} Caf\u{e9} \u{1f600}");
        assert_eq!(entry_titles(&feed), vec!["\u{444}\u{438}\u{434}"]);
    }

    #[test]
    fn utf16be_with_bom_and_without() {
        let doc = rss("Caf\u{e9}", &["\u{3b1}\u{3b2}"]);
        let p = prepare(&utf16(&doc, false, true), None);
        assert_eq!(p.encoding, "UTF-16BE");
        assert_eq!(feed_title(&parse(&p)), "Caf\u{e9}");
        let p = prepare(&utf16(&doc, false, false), None);
        assert_eq!(p.encoding, "UTF-16BE");
        assert_eq!(feed_title(&parse(&p)), "Caf\u{e9}");
        let p = prepare(&utf16(&doc, true, false), None);
        assert_eq!(p.encoding, "UTF-16LE");
        assert_eq!(entry_titles(&parse(&p)), vec!["\u{3b1}\u{3b2}"]);
    }

    #[test]
    fn utf16_label_on_ascii_bytes_is_ignored() {
        let doc = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-16\"?>{}",
            rss(CP1252_TEXT, &[CP1252_ITEM])
        );
        let p = prepare(&encode(encoding_rs::WINDOWS_1252, &doc), Some("windows-1252"));
        assert_eq!(p.encoding, "windows-1252");
        assert_eq!(p.encoding_source, EncodingSource::HttpCharset);
        assert_eq!(feed_title(&parse(&p)), CP1252_TEXT);
    }

    #[test]
    fn long_declaration_with_encoding_switch() {
        let decl = "<?xml version=\"1.0\" encoding=\"windows-1252\" standalone=\"yes\"                                      ?>";
        assert!(decl.len() > 64);
        let doc = format!("{decl}\r\n{}", rss(CP1252_TEXT, &[CP1252_ITEM]));
        let p = prepare(&encode(encoding_rs::WINDOWS_1252, &doc), None);
        assert_eq!(p.encoding_source, EncodingSource::XmlDeclaration);
        assert!(!p.text.contains("<?xml"));
        let feed = parse(&p);
        assert_eq!(feed_title(&feed), CP1252_TEXT);
        assert_eq!(entry_titles(&feed), vec![CP1252_ITEM]);
    }

    #[test]
    fn second_declaration_mid_document() {
        let doc = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel><title>T</title>\
                   <?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\
                   <item><title>A</title></item><?xml version='1.0'?><item><title>B</title></item></channel></rss>";
        let p = prepare_str(doc);
        assert!(!p.text.contains("<?xml"));
        let feed = parse(&p);
        assert_eq!(entry_titles(&feed), vec!["A", "B"]);
    }

    #[test]
    fn markup_openers_inside_attribute_values_are_text() {
        // Found by fuzzing: `<![CDATA[` (or `<!--`) inside an attribute value
        // was taken for a section running to the end of the document, so the
        // declaration after it stayed, and feed-rs's XML reader panics on a
        // mid-document encoding switch.
        for opener in ["<![CDATA[", "<!--", "<?pi ", "<b>"] {
            let doc = format!(
                "<rss version=\"2.0\"><channel><title>T</title>\
                 <item><title>A</title><enclosure url=\"https://example.org/{opener}x\" type='a<b' length=\"1\"/></item>\
                 <?xml version=\"1.0\" encoding=\"Shift_JIS\"?>\
                 <item><title>B</title></item></channel></rss>"
            );
            let p = prepare_str(&doc);
            assert!(!p.text.contains("<?xml"), "{opener}: {}", p.text);
            let escaped = opener.replace('<', "&lt;");
            assert!(
                p.text
                    .contains(&format!("url=\"https://example.org/{escaped}x\" type='a&lt;b'")),
                "{}",
                p.text
            );
            assert_eq!(entry_titles(&parse(&p)), vec!["A", "B"], "{opener}");
        }
    }

    #[test]
    fn other_processing_instructions_are_kept() {
        let doc = "<?xml version=\"1.0\"?><?xml-stylesheet type=\"text/xsl\" href=\"a.xsl?x=1&y=2\"?>\
                   <rss version=\"2.0\"><channel><title>T</title><item><title>A</title></item></channel></rss>";
        let p = prepare_str(doc);
        assert!(
            p.text
                .starts_with("<?xml-stylesheet type=\"text/xsl\" href=\"a.xsl?x=1&y=2\"?>")
        );
        assert_eq!(entry_titles(&parse(&p)), vec!["A"]);
    }

    #[test]
    fn bare_ampersands_are_escaped() {
        let doc = "<rss version=\"2.0\"><channel><title>Tom & Jerry &</title>\
                   <link>http://example.com/?a=1&b=2</link>\
                   <item><title>R&D &amp; more &#38; &x &#; &#xZ; &1;</title>\
                   <enclosure url=\"http://example.com/a.mp3?x=1&y=2\" type=\"audio/mpeg\" length=\"1\"/></item>\
                   </channel></rss>";
        let p = prepare_str(doc);
        assert!(p.text.contains("Tom &amp; Jerry &amp;</title>"));
        let feed = parse(&p);
        assert_eq!(feed_title(&feed), "Tom & Jerry &");
        assert_eq!(feed.links[0].href, "http://example.com/?a=1&b=2");
        assert_eq!(entry_titles(&feed), vec!["R&D & more & &x &#; &#xZ; &1;"]);
        let media = &feed.entries[0].media[0].content[0];
        assert_eq!(media.url.as_ref().unwrap().as_str(), "http://example.com/a.mp3?x=1&y=2");
    }

    #[test]
    fn html_entities_become_characters() {
        let doc = rss(
            "It&rsquo;s&nbsp;caf&eacute; &mdash; &hellip; &copy; &AMP; &Eacute;",
            &["&lt;b&gt;bold&lt;/b&gt; &quot;q&quot; &apos;a&apos;"],
        );
        let p = prepare_str(&doc);
        assert!(p.text.contains("&lt;b&gt;bold&lt;/b&gt; &quot;q&quot; &apos;a&apos;"));
        assert!(
            p.text
                .contains("It\u{2019}s\u{a0}caf\u{e9} \u{2014} \u{2026} \u{a9} &amp; \u{c9}")
        );
        let feed = parse(&p);
        assert_eq!(
            feed_title(&feed),
            "It\u{2019}s\u{a0}caf\u{e9} \u{2014} \u{2026} \u{a9} & \u{c9}"
        );
        assert_eq!(entry_titles(&feed), vec!["<b>bold</b> \"q\" 'a'"]);
    }

    #[test]
    fn entity_expanding_to_markup_stays_escaped() {
        // `&lt` style HTML names that are not among XML's five.
        let p = prepare_str(&rss("&LT;b&GT; &QUOT;", &["x"]));
        assert!(p.text.contains("&lt;b&gt; &quot;"));
        assert_eq!(feed_title(&parse(&p)), "<b> \"");
    }

    #[test]
    fn numeric_references() {
        let doc = rss(
            "a&#1;b&#x0;c&#xFFFE;d&#xD800;e&#99999999999;f&#x110000;g",
            &["&#65;&#x42;&#X43;&#x1F600;&#146;&#150;&#x93;&#x81;"],
        );
        let p = prepare_str(&doc);
        let feed = parse(&p);
        assert_eq!(feed_title(&feed), "abcdefg");
        assert_eq!(entry_titles(&feed), vec!["ABC\u{1f600}\u{2019}\u{2013}\u{201c}\u{81}"]);
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
    fn strip_xml_illegal_borrows_when_clean() {
        let clean = "tab\tlf\ncr\r \u{d7ff}\u{e000}\u{fffd}\u{10000}\u{10ffff} \u{ef}\u{bf}";
        assert!(matches!(strip_xml_illegal(clean), Cow::Borrowed(_)));
        assert_eq!(strip_xml_illegal("\u{0}a\u{1f}b\u{7}\u{fffe}\u{ffff}c\u{b}"), "abc");
        assert_eq!(strip_xml_illegal("\u{0}"), "");
        assert_eq!(strip_xml_illegal("\u{feff}\u{fffd}\u{fffe}x"), "\u{feff}\u{fffd}x");
    }

    #[test]
    fn billion_laughs_is_defused() {
        let doc = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ELEMENT lolz (#PCDATA)>
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
 <!-- a comment with ] and > and " inside -->
]>
<rss version="2.0"><channel><title>&lol9;</title><item><title>x &lol; y</title></item></channel></rss>"#;
        let p = prepare_str(doc);
        assert!(!p.text.contains("DOCTYPE"));
        assert!(!p.text.contains("ENTITY"));
        let feed = parse(&p);
        assert_eq!(feed_title(&feed), "&lol9;");
        assert_eq!(entry_titles(&feed), vec!["x &lol; y"]);
    }

    #[test]
    fn external_entity_is_not_read() {
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE rss [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> <!ENTITY % p SYSTEM 'http://example.com/x.dtd'> %p; ]>
<rss version="2.0"><channel><title>&xxe;</title><item><title>t</title><description>&xxe;</description></item></channel></rss>"#;
        let p = prepare_str(doc);
        assert!(!p.text.contains("passwd"));
        let feed = parse(&p);
        assert_eq!(feed_title(&feed), "&xxe;");
        let summary = feed.entries[0].summary.as_ref().unwrap().content.clone();
        assert_eq!(summary, "&xxe;");
    }

    #[test]
    fn public_doctype_is_removed() {
        let doc = "<?xml version=\"1.0\"?>\n<!DOCTYPE rss PUBLIC \"-//Netscape Communications//DTD RSS 0.91//EN\"\n \
                   \"http://my.netscape.com/publish/formats/rss-0.91.dtd\">\n\
                   <rss version=\"0.91\"><channel><title>T</title><item><title>A</title></item></channel></rss>";
        let p = prepare_str(doc);
        assert!(!p.text.contains("DOCTYPE"));
        assert!(p.text.contains("<rss version=\"0.91\">"));
        assert_eq!(entry_titles(&parse(&p)), vec!["A"]);
    }

    fn rss_root(root: &str) -> String {
        format!("{root}<channel><title>T</title><item><title>A</title></item></channel></rss>")
    }

    #[test]
    fn rss_version_is_fixed() {
        for (root, expected) in [
            ("<rss>", "<rss version=\"2.0\">"),
            ("<rss version=\"2.01\">", "<rss version=\"2.0\">"),
            ("<rss version='0.93'>", "<rss version='2.0'>"),
            ("<rss version=\"0.94\">", "<rss version=\"2.0\">"),
            ("<rss version=\"\">", "<rss version=\"2.0\">"),
            ("<rss version=2.01>", "<rss version=\"2.0\">"),
            (
                "<rss\n  xmlns:atom=\"http://www.w3.org/2005/Atom\" version = \"0.90\" >",
                "<rss\n  xmlns:atom=\"http://www.w3.org/2005/Atom\" version = \"2.0\" >",
            ),
            (
                "<rss xmlns:version=\"urn:x\" a='version=\"1\"'>",
                "<rss version=\"2.0\" xmlns:version=\"urn:x\" a='version=\"1\"'>",
            ),
            ("<rss version=\"2.0\">", "<rss version=\"2.0\">"),
            ("<rss version=\"0.91\">", "<rss version=\"0.91\">"),
            ("<rss version=\"0.92\">", "<rss version=\"0.92\">"),
        ] {
            let doc = format!("<?xml version=\"1.0\"?>\n<!-- <rss> -->{}", rss_root(root));
            let p = prepare_str(&doc);
            assert!(p.text.contains(expected), "{root}: {}", p.text);
            assert_eq!(entry_titles(&parse(&p)), vec!["A"], "{root}");
        }
    }

    #[test]
    fn other_roots_are_untouched() {
        let doc = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T &amp; U</title>\
                   <entry><title>A</title><id>1</id></entry></feed>";
        let p = prepare_str(doc);
        assert_eq!(p.text, doc);
        assert_eq!(entry_titles(&parse(&p)), vec!["A"]);
    }

    #[test]
    fn rss_090_namespace_is_mapped() {
        let doc = r#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/">
  <channel><title>Mozilla Dot Org</title><link>http://www.mozilla.org</link><description>d</description></channel>
  <item><title>New Status Updates</title><link>http://www.mozilla.org/status/</link></item>
  <item><title>Bugzilla Reorganized</title><link>http://www.mozilla.org/bugs/</link></item>
</rdf:RDF>"#;
        let p = prepare_str(doc);
        assert!(p.text.contains("xmlns=\"http://purl.org/rss/1.0/\""));
        let feed = parse(&p);
        assert_eq!(feed_title(&feed), "Mozilla Dot Org");
        assert_eq!(entry_titles(&feed), vec!["New Status Updates", "Bugzilla Reorganized"]);
    }

    #[test]
    fn cdata_and_comments_untouched() {
        let cdata = "<![CDATA[Tom & Jerry &nbsp; <b>x</b> &#1; ]] ]>]]>";
        let doc = format!(
            "<rss version=\"2.0\"><channel><title>T</title><!-- a & b &nbsp; < c -->\
             <item><title>A</title><description>{cdata}]]&gt; after &amp; </description></item></channel></rss>"
        );
        let p = prepare_str(&doc);
        assert!(p.text.contains(cdata));
        assert!(p.text.contains("<!-- a & b &nbsp; < c -->"));
        let feed = parse(&p);
        let summary = feed.entries[0].summary.as_ref().unwrap().content.clone();
        assert_eq!(summary, "Tom & Jerry &nbsp; <b>x</b> &#1; ]] ]>]]> after &");
    }

    #[test]
    fn stray_less_than_is_escaped() {
        let p = prepare_str(&rss("1 < 2 <= 3 <3", &["a<"]));
        assert!(p.text.contains("1 &lt; 2 &lt;= 3 &lt;3"));
        let feed = parse(&p);
        assert_eq!(feed_title(&feed), "1 < 2 <= 3 <3");
    }

    #[test]
    fn json_feed_with_bom_numeric_id_and_no_title() {
        let doc = "\u{feff}{\"version\":\"https://jsonfeed.org/version/1.1\",\
                   \"items\":[{\"id\":2,\"title\":\"Two\"},{\"id\":true,\"title\":3},{\"id\":\"x\",\"content_text\":\"a\u{1}b\"}]}";
        let p = prepare_str(doc);
        assert_eq!(p.syntax, Syntax::Json);
        assert_eq!(p.encoding_source, EncodingSource::Bom);
        let feed = parse(&p);
        assert_eq!(feed_title(&feed), "");
        let ids: Vec<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, vec!["2", "true", "x"]);
        assert_eq!(entry_titles(&feed), vec!["Two", "3", ""]);
    }

    #[test]
    fn json_feed_missing_version_and_http_version() {
        let p = prepare_str("  {\"title\":\"T\",\"items\":[{\"id\":\"1\"}]}");
        assert_eq!(p.syntax, Syntax::Json);
        assert_eq!(feed_title(&parse(&p)), "T");
        let p = prepare_str("{\"version\":\"http://jsonfeed.org/version/1\",\"title\":null,\"items\":[]}");
        assert!(p.text.contains("https://jsonfeed.org/version/1"));
        assert_eq!(feed_title(&parse(&p)), "");
    }

    #[test]
    fn json_feed_with_raw_control_characters() {
        let doc = "{\"version\":\"https://jsonfeed.org/version/1\",\"title\":\"T\",\
                   \"items\":[{\"id\":\"1\",\"content_html\":\"line\none\ttab\u{1}\"}]}";
        let p = prepare_str(doc);
        let feed = parse(&p);
        let body = feed.entries[0].content.as_ref().unwrap().body.clone().unwrap();
        assert_eq!(body, "line\none\ttab");
    }

    #[test]
    fn other_json_is_not_completed() {
        let doc = "{\"error\":\"not found\",\"code\":404}";
        assert_eq!(prepare_str(doc).text, doc);
        let doc = "{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":[]}";
        assert!(prepare_str(doc).text.contains("\"title\":\"\""));
    }

    #[test]
    fn valid_json_feed_is_left_as_is() {
        let doc = "{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"T\",\"items\":[{\"id\":\"1\"}]}";
        assert_eq!(prepare_str(doc).text, doc);
        let broken = "{\"version\": ";
        assert_eq!(prepare_str(broken).text, broken);
        assert!(feed_rs::parser::parse(prepare_str(broken).text.as_bytes()).is_err());
    }

    fn declared(encoding: &'static Encoding, label: &str, title: &str, item: &str) -> Prepared {
        let doc = format!("<?xml version=\"1.0\" encoding=\"{label}\"?>\n{}", rss(title, &[item]));
        let p = prepare(&encode(encoding, &doc), None);
        assert_eq!(p.encoding, encoding.name());
        assert_eq!(p.encoding_source, EncodingSource::XmlDeclaration);
        assert!(!p.invalid_bytes);
        let feed = parse(&p);
        assert_eq!(feed_title(&feed), title);
        assert_eq!(entry_titles(&feed), vec![item]);
        p
    }

    #[test]
    fn russian_declared_encodings() {
        let title =
            "\u{41d}\u{43e}\u{432}\u{43e}\u{441}\u{442}\u{438} \u{2014} \u{41c}\u{43e}\u{441}\u{43a}\u{432}\u{430}";
        let item = "\u{41f}\u{440}\u{438}\u{432}\u{435}\u{442}, \u{43c}\u{438}\u{440}!";
        declared(
            encoding_rs::KOI8_R,
            "KOI8-R",
            "\u{41d}\u{43e}\u{432}\u{43e}\u{441}\u{442}\u{438}",
            item,
        );
        declared(encoding_rs::WINDOWS_1251, "windows-1251", title, item);
    }

    #[test]
    fn cjk_declared_encodings() {
        let japanese = "\u{65e5}\u{672c}\u{8a9e}\u{306e}\u{30cb}\u{30e5}\u{30fc}\u{30b9}";
        declared(
            encoding_rs::SHIFT_JIS,
            "Shift_JIS",
            japanese,
            "\u{6771}\u{4eac}\u{ff01}",
        );
        let chinese = "\u{4e2d}\u{6587}\u{65b0}\u{95fb} \u{20ac}";
        declared(encoding_rs::GB18030, "GB18030", chinese, "\u{5317}\u{4eac}");
        declared(encoding_rs::GBK, "gb2312", "\u{4e2d}\u{6587}", "\u{5317}\u{4eac}");
    }

    #[test]
    fn iso_8859_15_euro_sign() {
        let p = declared(
            encoding_rs::ISO_8859_15,
            "ISO-8859-15",
            "Prix 5 \u{20ac} \u{153}uvre",
            "\u{160}koda",
        );
        assert_eq!(p.encoding, "ISO-8859-15");
        let bytes = encode(encoding_rs::ISO_8859_15, "\u{20ac}");
        assert_eq!(bytes, vec![0xA4]);
    }

    #[test]
    fn one_invalid_byte_in_utf8_feed() {
        let good = [
            "Caf\u{e9} cr\u{e8}me",
            "\u{2018}Quoted\u{2019} \u{2014} dash",
            "na\u{ef}ve \u{fc}ber",
        ];
        let mut doc = rss("Feed \u{e9}t\u{e9}", &good).into_bytes();
        let at = doc.windows(5).position(|w| w == b"<item").unwrap();
        let mut item = b"<item><title>Bad ".to_vec();
        item.push(0xE9);
        item.extend_from_slice(b" byte</title><guid>bad</guid></item>");
        doc.splice(at..at, item);
        assert!(std::str::from_utf8(&doc).is_err());
        for (charset, source) in [
            (None, EncodingSource::Guess),
            (Some("utf-8"), EncodingSource::HttpCharset),
        ] {
            let p = prepare(&doc, charset);
            assert_eq!(p.encoding, "UTF-8");
            assert_eq!(p.encoding_source, source);
            assert!(p.invalid_bytes);
            let feed = parse(&p);
            let titles = entry_titles(&feed);
            assert_eq!(titles.len(), 4);
            assert_eq!(titles[0], "Bad \u{fffd} byte");
            assert_eq!(&titles[1..], &good);
            assert_eq!(feed_title(&feed), "Feed \u{e9}t\u{e9}");
        }
        // With a declaration the declared UTF-8 is used the same way.
        let mut declared = b"<?xml version=\"1.0\" encoding=\"utf-8\"?>".to_vec();
        declared.extend_from_slice(&doc);
        let p = prepare(&declared, None);
        assert_eq!(p.encoding_source, EncodingSource::XmlDeclaration);
        assert_eq!(entry_titles(&parse(&p)).len(), 4);
    }

    #[test]
    fn one_invalid_byte_in_ascii_feed_is_guessed() {
        let mut doc = rss("Feed", &["a", "b"]).into_bytes();
        let at = doc.windows(5).position(|w| w == b"<item").unwrap();
        doc.splice(at..at, b"<item><title>x\x92s</title></item>".iter().copied());
        let p = prepare(&doc, None);
        assert_eq!(p.encoding_source, EncodingSource::Guess);
        let titles = entry_titles(&parse(&p));
        assert_eq!(titles.len(), 3);
        assert_eq!(titles[0], "x\u{2019}s");
    }

    #[test]
    fn declared_label_scan() {
        assert_eq!(
            declared_label(b"<?xml version='1.0' encoding = ' koi8-r ' ?><rss/>"),
            Some(&b"koi8-r"[..])
        );
        assert_eq!(declared_label(b"<?xml version=\"1.0\"?><rss encoding=\"x\"/>"), None);
        assert_eq!(declared_label(b"<rss/>"), None);
        assert_eq!(declared_label(b"<?xml version=\"1.0\" encoding=koi8-r?>"), None);
        let mut late = vec![b' '; DECLARATION_WINDOW];
        late.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"koi8-r\"?>");
        assert_eq!(declared_label(&late), None);
    }

    #[test]
    fn unknown_labels_fall_through() {
        let doc = format!(
            "<?xml version=\"1.0\" encoding=\"x-no-such-thing\"?>{}",
            rss(CP1252_TEXT, &[CP1252_ITEM])
        );
        let p = prepare(&encode(encoding_rs::WINDOWS_1252, &doc), Some("bogus"));
        assert_eq!(p.encoding_source, EncodingSource::Guess);
        assert_eq!(feed_title(&parse(&p)), CP1252_TEXT);
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

    #[test]
    fn large_document_is_linear() {
        let mut doc = String::from("<rss version=\"2.0\"><channel><title>T</title>");
        for n in 0..20_000 {
            doc.push_str(&format!(
                "<item><title>Tom & Jerry &rsquo;{n}&rsquo; &lt;b&gt;</title><guid>{n}</guid>\
                 <description><![CDATA[<p>a & b</p>]]></description></item>"
            ));
        }
        doc.push_str("</channel></rss>");
        let p = prepare_str(&doc);
        let feed = parse(&p);
        assert_eq!(feed.entries.len(), 20_000);
        assert_eq!(entry_titles(&feed)[19_999], "Tom & Jerry \u{2019}19999\u{2019} <b>");
    }
}
