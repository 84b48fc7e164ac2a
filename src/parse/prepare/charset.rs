//! Choosing the character encoding of a document's bytes.
//!
//! In this order: a byte order mark; UTF-16 without one (`<` or `{`
//! interleaved with NUL bytes); bytes that are valid UTF-8, whatever they
//! claim; the `encoding` of the `<?xml …?>` declaration; the HTTP `charset`;
//! then a statistical guess. A label is only believed when it can decode the
//! bytes: UTF-16 labels on bytes without a BOM and labels meaning the
//! "replacement" encoding are passed over, and a UTF-8 label on invalid
//! bytes is believed only when they are mostly UTF-8 with a few broken
//! sequences.
//!
//! It works on bytes, before there is any text, and its mistakes (mojibake,
//! replacement characters) are of another kind than the markup repairs',
//! so it stands apart from them.

use encoding_rs::Encoding;
use memchr::memmem;

/// Where the encoding used to decode a document came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EncodingSource {
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

/// How much of the document the declaration is looked for in.
const DECLARATION_WINDOW: usize = 1024;

/// How much of the document the statistical detector reads.
const GUESS_WINDOW: usize = 1 << 20;

/// The encoding to decode `bytes` with, where that choice came from, and
/// the bytes to decode (without the byte order mark, if any).
pub(super) fn choose_encoding<'a>(
    bytes: &'a [u8],
    http_charset: Option<&str>,
) -> (&'static Encoding, EncodingSource, &'a [u8]) {
    choose(bytes, declared_label(bytes), http_charset)
}

/// [`choose_encoding`] for an HTML page: the page's `<meta charset>` or
/// `<meta http-equiv="Content-Type" content="…; charset=…">` takes the
/// place of the XML declaration (a page may also start with one).
pub(super) fn choose_page_encoding<'a>(
    bytes: &'a [u8],
    http_charset: Option<&str>,
) -> (&'static Encoding, EncodingSource, &'a [u8]) {
    choose(bytes, meta_label(bytes).or_else(|| declared_label(bytes)), http_charset)
}

fn choose<'a>(
    bytes: &'a [u8],
    declared: Option<&[u8]>,
    http_charset: Option<&str>,
) -> (&'static Encoding, EncodingSource, &'a [u8]) {
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
        (declared.and_then(Encoding::for_label), EncodingSource::XmlDeclaration),
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

/// How much of a page its `<meta>` charset is looked for in (the HTML
/// standard's prescan reads 1024 bytes; pages put scripts and styles
/// first, so a little more).
const META_WINDOW: usize = 4096;

/// The charset a page's `<meta charset="…">` or `<meta http-equiv=
/// "Content-Type" content="text/html; charset=…">` names near its start.
fn meta_label(bytes: &[u8]) -> Option<&[u8]> {
    let window = &bytes[..bytes.len().min(META_WINDOW)];
    let lower = window.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = memmem::find(&lower[from..], b"<meta").map(|i| from + i + 5) {
        let end = memchr::memchr(b'>', &lower[at..]).map_or(lower.len(), |i| at + i);
        if let Some(p) = memmem::find(&lower[at..end], b"charset").map(|i| at + i + 7) {
            let value = window[p..end].trim_ascii_start();
            if let Some(value) = value.strip_prefix(b"=") {
                let value = value.trim_ascii_start();
                let value = value
                    .strip_prefix(b"\"")
                    .or_else(|| value.strip_prefix(b"'"))
                    .unwrap_or(value);
                let len = value
                    .iter()
                    .position(|&c| matches!(c, b'"' | b'\'' | b';' | b'/' | b'>') || c.is_ascii_whitespace())
                    .unwrap_or(value.len());
                if len > 0 {
                    return Some(&value[..len]);
                }
            }
        }
        from = end;
    }
    None
}

/// A `charset` parameter value without surrounding whitespace and quotes.
fn charset_label(charset: &str) -> &str {
    charset.trim().trim_matches(|c| c == '"' || c == '\'').trim()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::parse::prepare::tests::{entry_titles, feed_title, parse, rss};
    use crate::parse::prepare::{Prepared, Syntax, prepare};

    fn encode(encoding: &'static Encoding, text: &str) -> Vec<u8> {
        let (bytes, used, unmappable) = encoding.encode(text);
        assert_eq!(used, encoding);
        assert!(!unmappable, "{text} not representable in {}", encoding.name());
        bytes.into_owned()
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
    fn meta_charset_and_http_equiv_are_read() {
        assert_eq!(
            meta_label(b"<html><head><meta charset=\"windows-1252\"><title>x"),
            Some(&b"windows-1252"[..])
        );
        assert_eq!(meta_label(b"<META CHARSET=iso-8859-1>"), Some(&b"iso-8859-1"[..]));
        assert_eq!(
            meta_label(b"<meta name=x><meta http-equiv=\"Content-Type\" content=\"text/html; charset=koi8-r\">"),
            Some(&b"koi8-r"[..])
        );
        assert_eq!(meta_label(b"<meta name=\"description\" content=\"x\">"), None);
    }

    #[test]
    fn page_in_windows_1252_with_meta_charset_is_decoded_by_it() {
        let page = "<html><head><meta charset=\"windows-1252\"></head><body><p>\u{201c}Citt\u{e0}\u{201d} \u{e8} qui</p></body></html>";
        let bytes = encode(encoding_rs::WINDOWS_1252, page);
        let (encoding, source, _) = choose_page_encoding(&bytes, None);
        assert_eq!(encoding, encoding_rs::WINDOWS_1252);
        assert_eq!(source, EncodingSource::XmlDeclaration);
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
}
