//! Repairing XML feed text so that feed-rs parses it, and defusing what it
//! must not act on.
//!
//! One linear pass over the decoded text, after the XML 1.0 character
//! filter: it removes every `<?xml …?>` declaration (feed-rs's XML reader
//! panics on a mid-document encoding switch) and the whole `<!DOCTYPE …>`
//! (which defuses entity-expansion and external-entity attacks), escapes
//! bare `&` and `<`, turns HTML named entities into characters, reads
//! numeric references to U+0080–U+009F as windows-1252 as HTML does, drops
//! references to characters that XML 1.0 forbids, and leaves CDATA
//! sections, comments and other processing instructions alone. It notes
//! where the root element starts, for `rss` to fix the dialects feed-rs
//! does not accept.

use std::borrow::Cow;

use memchr::{memchr2, memmem};

use super::rss::{drop_userland_namespace, fix_rss_version, replace_netscape_namespace};
use crate::xmltext::is_xml_char;

/// What to do with a `&` found in markup or text.
enum Reference {
    /// A well-formed reference feed-rs handles: keep it, ending at the index.
    Keep(usize),
    /// Replace the reference, which ends at the index, with the text.
    Replace(usize, Cow<'static, str>),
    /// Not a reference (or an unknown one): escape the `&` itself.
    Bare,
}

/// Repairs XML text (already free of characters XML 1.0 forbids) for feed-rs.
pub(super) fn clean_xml(src: &str) -> String {
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
    drop_userland_namespace(replace_netscape_namespace(out))
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::parse::prepare::tests::{entry_titles, feed_title, parse, prepare_str, rss};

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
