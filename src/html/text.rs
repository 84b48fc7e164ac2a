//! Text: what a reader sees of HTML, and the characters stored text may hold.

use std::borrow::Cow;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use super::Element;
use super::tokens::{RawKind, Token, Tokenizer};

/// Cleans text for storage and for XML: removes the characters XML 1.0
/// cannot carry or discourages — C0 controls other than tab, newline and
/// carriage return, DEL, C1 controls, and the Unicode noncharacters
/// (`U+FDD0`–`U+FDEF`, `U+xFFFE`, `U+xFFFF`) — then applies Unicode NFC.
pub fn clean_text(s: &str) -> String {
    let stripped = strip_unwanted_chars(s);
    match is_nfc_quick(stripped.chars()) {
        IsNormalized::Yes => stripped.into_owned(),
        _ => stripped.nfc().collect(),
    }
}

/// `s` without the characters [`clean_text`] removes; no normalization.
pub fn strip_unwanted_chars(s: &str) -> Cow<'_, str> {
    match first_unwanted(s) {
        Some(at) => {
            let mut out = String::with_capacity(s.len());
            out.push_str(&s[..at]);
            out.extend(s[at..].chars().filter(|c| !is_unwanted_char(*c)));
            Cow::Owned(out)
        }
        None => Cow::Borrowed(s),
    }
}

/// Byte offset of the first character [`is_unwanted_char`] refuses, read off
/// the UTF-8 bytes: this runs over every HTML body several times, and almost
/// always finds nothing.
fn first_unwanted(s: &str) -> Option<usize> {
    /// Bytes checked at once, a branch-free test the compiler turns into
    /// vector instructions: a chunk passes when it holds no control and no
    /// lead byte of the characters refused above ASCII (C1 controls start
    /// with 0xC2, the noncharacters with 0xEF or 0xF0 and up), which is
    /// nearly all text in any language. A chunk may start or end inside a
    /// character; only the character-by-character reading below must start
    /// at one, or at a continuation byte of a character that passed.
    const CHUNK: usize = 16;
    let plain = |x: u8| {
        (x.wrapping_sub(0x20) < 0x5F)
            | (x == b'\t')
            | (x == b'\n')
            | (x == b'\r')
            | ((x >= 0x80) & (x != 0xC2) & (x < 0xEF))
    };
    let b = s.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut i = 0;
    while i < b.len() {
        while let Some(chunk) = b.get(i..i + CHUNK)
            && chunk.iter().fold(true, |ok, &x| ok & plain(x))
        {
            i += CHUNK;
        }
        let Some(&x) = b.get(i) else { break };
        let (len, unwanted) = match x {
            b'\t' | b'\n' | b'\r' => (1, false),
            0x00..=0x1F | 0x7F => (1, true),
            // The rest of a character whose lead byte passed in a chunk.
            0x80..=0xBF => (1, false),
            0x20..=0x7E => (1, false),
            // U+0080–U+009F.
            0xC2 => (2, (0x80..=0x9F).contains(&at(i + 1))),
            0xC0..=0xDF => (2, false),
            // U+FDD0–U+FDEF and U+FFFE, U+FFFF.
            0xEF => (
                3,
                (at(i + 1) == 0xB7 && (0x90..=0xAF).contains(&at(i + 2))) || (at(i + 1) == 0xBF && at(i + 2) >= 0xBE),
            ),
            0xE0..=0xEE => (3, false),
            // U+nFFFE, U+nFFFF of the other planes.
            _ => (4, at(i + 1) & 0x0F == 0x0F && at(i + 2) == 0xBF && at(i + 3) >= 0xBE),
        };
        if unwanted {
            return Some(i);
        }
        i += len;
    }
    None
}

/// Whether [`clean_text`] removes `c`.
pub fn is_unwanted_char(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{7F}'..='\u{9F}'
            | '\u{FDD0}'..='\u{FDEF}'
    ) || (u32::from(c) & 0xFFFE) == 0xFFFE
}

/// The text a reader sees in sanitized HTML: tags removed (a block
/// element's tag, or a line break, separates words), entities decoded,
/// characters [`clean_text`] removes removed, runs of ASCII whitespace and
/// line separators collapsed to one space, the ends trimmed.
pub fn visible_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    for token in Tokenizer::html(html) {
        match token {
            Token::Text(t) => text.push_str(t),
            Token::Raw { text: t, kind } => {
                if kind != RawKind::Dropped {
                    text.push_str(t);
                }
            }
            Token::Start(tag) | Token::End(tag) => {
                if Element::named(&tag.name).is_some_and(Element::is_block) {
                    text.push(' ');
                }
            }
        }
    }
    collapse_whitespace(&clean_text(&htmlize::unescape(text)))
}

/// `s` with runs of ASCII whitespace and the line and paragraph separators
/// collapsed to one space, and trimmed. No-break spaces are kept.
pub fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s
        .split(|c: char| c.is_ascii_whitespace() || matches!(c, '\u{2028}' | '\u{2029}'))
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// A plain-text field without its markup: the tags of known elements
/// (see [`Tokenizer::text`]), comments and declarations removed, a block
/// element's tag replaced by a space, the content of CDATA sections kept;
/// every other `<` is kept as the character it is.
pub fn strip_tags(s: &str) -> Cow<'_, str> {
    if !s.contains('<') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for token in Tokenizer::text(s) {
        match token {
            Token::Text(t) | Token::Raw { text: t, .. } => out.push_str(t),
            Token::Start(tag) | Token::End(tag) => {
                if Element::named(&tag.name).is_some_and(Element::is_block) {
                    out.push(' ');
                }
            }
        }
    }
    Cow::Owned(out)
}

/// Whether sanitized HTML shows nothing: no text and no image.
pub fn is_blank(html: &str) -> bool {
    !starts_with_plain_text(html) && visible_text(html).is_empty() && !html.contains("<img")
}

/// Whether sanitized `html` has, outside its tags and before any `&`, an
/// ASCII letter or digit, or a `<` that starts no tag, which
/// [`visible_text`] certainly keeps: the quick answer for almost every body,
/// without building its text.
fn starts_with_plain_text(html: &str) -> bool {
    for token in Tokenizer::html(html) {
        let text = match token {
            Token::Text(text) => text,
            Token::Start(_) | Token::End(_) => continue,
            // Raw text is not in sanitized HTML: leave it to the full reading.
            Token::Raw { .. } => return false,
        };
        if text.starts_with('<') {
            return true;
        }
        for b in text.bytes() {
            if b == b'&' {
                // An entity could join text across tags: leave it to the full reading.
                return false;
            }
            if b.is_ascii_alphanumeric() {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn byte_scan_for_unwanted_characters_agrees_with_the_character_rule() {
        let ranges = [
            0..0x800u32,
            0xD000..0xD800,
            0xE000..0x1_0100,
            0x1_FF00..0x2_0100,
            0xE_FFF0..0xF_0010,
            0x10_FF00..0x11_0000,
        ];
        for c in ranges.into_iter().flatten().filter_map(char::from_u32) {
            let s = format!("ab{c}cd");
            let expected = s.char_indices().find(|(_, c)| is_unwanted_char(*c)).map(|(i, _)| i);
            assert_eq!(first_unwanted(&s), expected, "U+{:04X}", u32::from(c));
            assert_eq!(
                strip_unwanted_chars(&s),
                s.chars().filter(|c| !is_unwanted_char(*c)).collect::<String>()
            );
        }
        assert_eq!(first_unwanted("città “x” \u{7}"), Some("città “x” ".len()));
    }

    #[test]
    fn byte_scan_agrees_with_the_character_rule_across_ascii_chunks() {
        // The scan skips plain ASCII 16 bytes at a time: an unwanted or
        // multi-byte character at every offset around chunk boundaries.
        // Chunks also pass non-ASCII text: the same around accented letters
        // and other multi-byte characters, which a chunk boundary can split.
        for c in [
            '\u{7}',
            '\u{85}',
            '\u{FFFE}',
            '\u{FDD0}',
            '\u{10FFFF}',
            'à',
            '“',
            '\t',
            '\u{1F600}',
        ] {
            for (pad, filler) in (0..40).flat_map(|n| [(n, "x"), (n / 2, "è"), (n / 3, "“"), (n / 4, "\u{1F600}")]) {
                for tail in ["", "abc", "ò and more plain text after it, long enough"] {
                    let s = format!("{}{c}{tail}", filler.repeat(pad));
                    let expected = s.char_indices().find(|(_, c)| is_unwanted_char(*c)).map(|(i, _)| i);
                    assert_eq!(first_unwanted(&s), expected, "U+{:04X} after {pad}", u32::from(c));
                }
            }
        }
    }

    #[test]
    fn clean_text_removes_controls_and_normalizes() {
        assert_eq!(clean_text("e\u{301}te\u{301}"), "été");
        assert_eq!(clean_text("a\u{0}b\u{1}c\u{8}d\u{B}e\u{C}f\u{1F}g"), "abcdefg");
        assert_eq!(clean_text("tab\tnl\ncr\r"), "tab\tnl\ncr\r");
        assert_eq!(clean_text("x\u{7F}\u{85}\u{9F}y"), "xy");
        assert_eq!(clean_text("x\u{FFFE}\u{FFFF}\u{FDD0}\u{1FFFF}y"), "xy");
        assert_eq!(clean_text("\u{FFFD}ok\u{FEFF}"), "\u{FFFD}ok\u{FEFF}");
        assert_eq!(clean_text("Ａ\u{212B}"), "Ａ\u{C5}");
        // A control between a letter and its accent does not block composition.
        assert_eq!(clean_text("e\u{1}\u{301}"), "é");
    }

    #[test]
    fn blank_html_quick_answer_agrees_with_the_text() {
        for html in [
            "",
            "<p></p>",
            "<p> \n </p>",
            "<p>a</p>",
            "<p>&nbsp;</p>",
            "<p>&#32;</p>",
            "<p>&#3<b></b>2;</p>",
            "<p>&am<b></b>p;</p>",
            "<a title=\"x>y\"></a>",
            "<a title=\"x>y\">z</a>",
            "<p>< 3</p>",
            "<![CDATA[ ]]>",
            "<![CDATA[x]]>",
            "<!-- a --><p> </p>",
            "<!-- a -->b",
            "<p>\u{2028}</p>",
            "<img src=\"https://e.org/a.png\">",
            "<p>—</p>",
            "<unterminated a=\"",
        ] {
            let text = visible_text(html);
            if starts_with_plain_text(html) {
                assert!(!text.is_empty(), "{html:?} has text");
            }
            assert_eq!(is_blank(html), text.is_empty() && !html.contains("<img"), "{html:?}");
        }
    }
}
