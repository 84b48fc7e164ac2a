//! Text fields: titles, author names, categories and language tags made
//! plain, clean and bounded, and plain-text bodies made into HTML.

use std::collections::HashSet;

use super::MAX_RAW_TITLE_BYTES;
use crate::html;
use crate::html::text::{clean_text, collapse_whitespace, strip_tags};

/// Most categories kept per entry.
pub(super) const MAX_CATEGORIES: usize = 64;

/// Longest category kept, in chars.
pub(super) const MAX_CATEGORY_CHARS: usize = 200;

/// Longest language tag kept (BCP 47 tags are at most 35 chars in practice).
pub(super) const MAX_LANGUAGE_CHARS: usize = 35;

/// Plain text for titles, author names and categories.
///
/// Entities are decoded once (`AT&amp;T` → `AT&T`, `&rsquo;` → `’`); then
/// anything that looks like an HTML tag is removed — so a title sent as
/// `&lt;b&gt;Hi&lt;/b&gt;` or `<b>Hi</b>` becomes `Hi` — then the text is
/// cleaned ([`clean_text`]), runs of ASCII whitespace and line separators
/// collapse to one space and the ends are trimmed. No-break spaces are kept
/// (they are meaningful, e.g. in French typography).
///
/// Only known HTML element names count as tags, written in lower case or, for
/// names of two letters or more, in upper case: `Vec<T>`, `Option<String>`,
/// `a < b` and `<3` stay as they are. The result is never HTML-escaped.
pub fn plain_text(s: &str) -> String {
    let decoded = htmlize::unescape(s);
    let stripped = strip_tags(&decoded);
    collapse_whitespace(&clean_text(&stripped))
}

/// Plain text as HTML: escaped, blank-line-separated paragraphs in `<p>`,
/// single line breaks as `<br>`.
pub(super) fn text_to_html(text: &str) -> String {
    let text = clean_text(text).replace("\r\n", "\n").replace('\r', "\n");
    let mut html = String::with_capacity(text.len() + 16);
    let mut paragraph: Vec<&str> = Vec::new();
    let flush = |html: &mut String, paragraph: &mut Vec<&str>| {
        if paragraph.is_empty() {
            return;
        }
        html.push_str("<p>");
        for (i, line) in paragraph.iter().enumerate() {
            if i > 0 {
                html.push_str("<br>");
            }
            html.push_str(&htmlize::escape_text(*line));
        }
        html.push_str("</p>");
        paragraph.clear();
    };
    for line in text.split('\n') {
        if line.trim().is_empty() {
            flush(&mut html, &mut paragraph);
        } else {
            paragraph.push(line.trim_end());
        }
    }
    flush(&mut html, &mut paragraph);
    // The same canonical serialization as sanitized HTML.
    html::sanitize(&html, None)
}

/// Plain-text categories: empty ones dropped, duplicates (ignoring case)
/// dropped keeping the first spelling, each capped, at most 64.
pub(super) fn clean_categories(raw: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for category in raw {
        if out.len() == MAX_CATEGORIES {
            break;
        }
        let mut text = plain_text(truncate_bytes(category, MAX_RAW_TITLE_BYTES));
        truncate_chars_in_place(&mut text, MAX_CATEGORY_CHARS);
        if !text.is_empty() && seen.insert(text.to_lowercase()) {
            out.push(text);
        }
    }
    out
}

/// Non-empty strings in order, exact duplicates removed.
pub(super) fn dedupe_exact(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    items.filter(|s| !s.is_empty() && seen.insert(s.clone())).collect()
}

/// A BCP 47-ish language tag: the leading run of letters, digits, `-` and
/// `_` (so `en-US;q=0.8` or `fr, en` keep their first tag), `_` written as
/// `-`, stray dashes trimmed, at most 35 chars.
pub(super) fn language_tag(raw: &str) -> Option<String> {
    let tag: String = raw
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .map(|c| if c == '_' { '-' } else { c })
        .take(MAX_LANGUAGE_CHARS)
        .collect();
    let tag = tag.trim_matches('-');
    (!tag.is_empty()).then(|| tag.to_owned())
}

/// The first `max` chars of `text`, ending with `…` when it was cut.
pub(super) fn ellipsize(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// `s` cut to at most `max` bytes, on a char boundary.
pub(super) fn truncate_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

pub(super) fn truncate_chars_in_place(s: &mut String, max: usize) {
    if let Some((end, _)) = s.char_indices().nth(max) {
        s.truncate(end);
        s.truncate(s.trim_end().len());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::RawItem;
    use crate::normalize::tests::{item, run};

    #[test]
    fn plain_text_titles() {
        let cases = [
            ("L&rsquo;Alleanza", "L’Alleanza"),
            ("AT&amp;T", "AT&T"),
            ("&lt;b&gt;Hi&lt;/b&gt;", "Hi"),
            ("<b>Hi</b> there", "Hi there"),
            ("<B>Bold</B>", "<B>Bold</B>"),
            ("<STRONG>Loud</STRONG>", "Loud"),
            ("a < b and c > d", "a < b and c > d"),
            ("I <3 Rust", "I <3 Rust"),
            ("Vec<T> and Option<String>", "Vec<T> and Option<String>"),
            ("Box&lt;dyn Error&gt;", "Box<dyn Error>"),
            ("HashMap<K, V>", "HashMap<K, V>"),
            ("Hello<br>World", "Hello World"),
            ("Hello<br/>World<p>again</p>", "Hello World again"),
            ("<a href=\"x>y\">link</a>", "link"),
            ("x <!-- note --> y", "x y"),
            ("<![CDATA[Inside]]>", "Inside"),
            ("&amp;lt;b&amp;gt;", "&lt;b&gt;"),
            ("  many \t spaces\n\nand\r\nlines  ", "many spaces and lines"),
            ("Line\u{2028}sep", "Line sep"),
            ("Prix\u{A0}: 5\u{A0}€", "Prix\u{A0}: 5\u{A0}€"),
            ("Caf&eacute; e\u{301}", "Café é"),
            ("bell\u{7}char", "bellchar"),
            ("&#1;&#x0;&#xD800;&#x110000;&#xFFFF;ok", "\u{FFFD}\u{FFFD}\u{FFFD}ok"),
            ("<script>alert(1)</script>", "alert(1)"),
            ("<unknown>tag</unknown>", "<unknown>tag</unknown>"),
            ("", ""),
            ("   ", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(plain_text(input), expected, "{input:?}");
        }
    }

    #[test]
    fn plain_text_is_not_escaped() {
        assert_eq!(plain_text("Tom & Jerry's \"show\""), "Tom & Jerry's \"show\"");
    }

    #[test]
    fn language_tags() {
        assert_eq!(language_tag("en-US").as_deref(), Some("en-US"));
        assert_eq!(language_tag(" pt_BR ").as_deref(), Some("pt-BR"));
        assert_eq!(language_tag("en-US;q=0.8").as_deref(), Some("en-US"));
        assert_eq!(language_tag("fr, en").as_deref(), Some("fr"));
        assert_eq!(language_tag("-de-").as_deref(), Some("de"));
        assert_eq!(language_tag("<script>"), None);
        assert_eq!(language_tag(""), None);
        assert_eq!(language_tag(&"a".repeat(100)).unwrap().len(), MAX_LANGUAGE_CHARS);
    }

    #[test]
    fn ellipsize_and_truncate() {
        assert_eq!(ellipsize("short", 80), "short");
        let long = "è".repeat(100);
        let cut = ellipsize(&long, 80);
        assert_eq!(cut.chars().count(), 80);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate_bytes("aè", 2), "a");
        assert_eq!(truncate_bytes("aè", 3), "aè");
        let mut s = "ab cd".to_owned();
        truncate_chars_in_place(&mut s, 3);
        assert_eq!(s, "ab");
    }

    #[test]
    fn normalize_text_only() {
        let entry = run(&RawItem {
            text_only: true,
            content: Some("First <line> & more\nsame para\r\n\r\n  \nSecond\u{A0}para".into()),
            ..item()
        });
        assert_eq!(
            entry.content_html.as_deref(),
            Some("<p>First &lt;line&gt; &amp; more<br>same para</p><p>Second&nbsp;para</p>")
        );
        let again = html::sanitize(entry.content_html.as_deref().unwrap(), None);
        assert_eq!(Some(again.as_str()), entry.content_html.as_deref());
    }

    #[test]
    fn normalize_authors_categories_language() {
        let entry = run(&RawItem {
            authors: vec!["Ada &amp; Co".into(), " ".into(), "<b>Bob</b>".into(), "Bob".into()],
            categories: vec![
                "Rust".into(),
                "rust".into(),
                "".into(),
                " <i>Web</i> ".into(),
                "x".repeat(300),
            ],
            language: Some("en_GB".into()),
            ..item()
        });
        assert_eq!(entry.author.as_deref(), Some("Ada & Co, Bob"));
        assert_eq!(entry.categories.len(), 3);
        assert_eq!(entry.categories[0], "Rust");
        assert_eq!(entry.categories[1], "Web");
        assert_eq!(entry.categories[2].chars().count(), MAX_CATEGORY_CHARS);
        assert_eq!(entry.language.as_deref(), Some("en-GB"));

        let many: Vec<String> = (0..100).map(|i| format!("tag{i}")).collect();
        let entry = run(&RawItem {
            categories: many,
            authors: vec![],
            ..item()
        });
        assert_eq!(entry.categories.len(), MAX_CATEGORIES);
        assert_eq!(entry.author, None);
    }
}
