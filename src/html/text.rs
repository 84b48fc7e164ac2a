//! Text: what a reader sees of HTML, and the characters stored text may hold.
//!
//! Three readers of text used to keep their own rules (the normalizer's
//! tag stripping, dedup's fingerprint text, the JSON Feed writer's summary
//! with its own entity decoder); they now all read here, with the one
//! tokenizer and the one table of block elements:
//!
//! * [`visible_text`] and [`text_len`]: what a reader sees in sanitized
//!   HTML, with block elements separating words ([`Breaks::Blocks`]) or,
//!   for fingerprints, every tag ([`Breaks::EveryTag`]);
//!   [`visible_text_spaced`] is the same with its whitespace not collapsed,
//!   for readers that count or split words;
//! * [`strip_tags`]: markup taken out of a field that is plain text by
//!   nature but may hold a known tag (a title);
//! * [`is_blank`]: whether a sanitized body shows anything at all;
//! * [`clean_text`] and [`clean_markup`]: the characters every stored text
//!   may hold (no controls, no noncharacters, NFC), which XML and feed
//!   readers require, applied to text and to serialized markup.

use std::borrow::Cow;

use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use super::Element;
use super::tokens::{RawKind, Token, Tokenizer};

/// Cleans text for storage and for XML: removes the characters XML 1.0
/// cannot carry or discourages — C0 controls other than tab, newline and
/// carriage return, DEL, C1 controls, and the Unicode noncharacters
/// (`U+FDD0`–`U+FDEF`, `U+xFFFE`, `U+xFFFF`) — then applies Unicode NFC.
pub fn clean_text(s: &str) -> String {
    let stripped = strip_unwanted_chars(s);
    if is_nfc(&stripped) {
        stripped.into_owned()
    } else {
        stripped.nfc().collect()
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

/// Whether `s` is in NFC, by the quick check; what it cannot tell counts
/// as no.
fn is_nfc(s: &str) -> bool {
    // Characters below U+0300 are starters that NFC keeps as they are, so
    // the check can run on the runs of other characters alone (each starts
    // after a starter, as the check starts): they are found by their UTF-8
    // lead bytes, 0xCC and up, and their continuation bytes.
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(start) = position_from(bytes, i, |b| b >= 0xCC) {
        let mut end = start + 1;
        while bytes.get(end).is_some_and(|&b| b >= 0xCC || (0x80..0xC0).contains(&b)) {
            end += 1;
        }
        if is_nfc_quick(s[start..end].chars()) != IsNormalized::Yes {
            return false;
        }
        i = end;
    }
    true
}

/// The first position at or after `from` of a byte that `hit` accepts,
/// testing 16 bytes at a time first (a loop the compiler vectorizes).
fn position_from(bytes: &[u8], from: usize, hit: impl Fn(u8) -> bool) -> Option<usize> {
    const CHUNK: usize = 16;
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + CHUNK)
        && !chunk.iter().fold(false, |any, &b| any | hit(b))
    {
        i += CHUNK;
    }
    bytes.get(i..)?.iter().position(|&b| hit(b)).map(|at| i + at)
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

/// [`clean_text`] for serialized HTML: the same characters removed and NFC
/// applied, with a guard that keeps NFC from merging a tag's closing `>`
/// with a combining mark that follows it, and `]]>` written `]]&gt;` so the
/// markup can sit in a CDATA section. Returns `html` itself when nothing
/// changes, as for nearly every body.
pub fn clean_markup(html: String) -> String {
    let stripped = match strip_unwanted_chars(&html) {
        Cow::Owned(stripped) => Some(stripped),
        Cow::Borrowed(_) => None,
    };
    let html = stripped.unwrap_or(html);
    // `>` followed by U+0338 composes to `≯` under NFC, which would turn the
    // end of a tag into text and the text after it into attributes. A
    // combining grapheme joiner after every `>` that precedes a combining
    // mark blocks any composition with the `>`.
    let combining_after_gt = |at: usize| {
        // Combining marks start at U+0300, whose UTF-8 starts with 0xCC.
        html.as_bytes().get(at + 1).is_some_and(|&b| b >= 0xCC)
            && html[at + 1..]
                .chars()
                .next()
                .is_some_and(|c| canonical_combining_class(c) != 0)
    };
    let html = if memchr::memchr_iter(b'>', html.as_bytes()).any(combining_after_gt) {
        let mut guarded = String::with_capacity(html.len() + 8);
        let mut prev_gt = false;
        for c in html.chars() {
            if prev_gt && canonical_combining_class(c) != 0 {
                guarded.push('\u{34F}');
            }
            guarded.push(c);
            prev_gt = c == '>';
        }
        guarded
    } else {
        html
    };
    let html = if is_nfc(&html) { html } else { html.nfc().collect() };
    if html.contains("]]>") {
        html.replace("]]>", "]]&gt;")
    } else {
        html
    }
}

/// Which tags separate words in [`visible_text`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Breaks {
    /// A block element's tag, or a line break: `<p>a</p><p>b</p>` reads
    /// `a b`, `<b>w</b>ord` reads `word`, as a reader sees them.
    Blocks,
    /// Every tag: `<b>w</b>ord` reads `w ord`. Text fingerprints have
    /// always been computed from this reading (it can only split words,
    /// never join them), and stored fingerprints must keep matching.
    EveryTag,
}

/// The text a reader sees in sanitized HTML: tags removed (those that
/// separate words, see [`Breaks`], become a space), entities decoded,
/// characters [`clean_text`] removes removed, runs of ASCII whitespace and
/// line separators collapsed to one space, the ends trimmed. No-break
/// spaces are kept. It is not normalized again: sanitized markup is in NFC
/// already, and a character an entity stands for is kept as it is even
/// where NFC would merge it with the next (`&gt;` before U+0338); apply
/// [`clean_text`] where the result must be NFC.
///
/// Made for sanitized HTML, in which every `<` starts a tag and no
/// attribute value holds `<` or `>`; anything else is read with the HTML
/// tokenization rules (a `<` that starts no tag is text).
pub fn visible_text(html: &str, breaks: Breaks) -> String {
    collapse_whitespace(&visible_text_spaced(html, breaks))
}

/// [`visible_text`] with its whitespace as it comes (runs not collapsed,
/// ends not trimmed), for readers to whom any run of whitespace is one
/// separator: the words are the same, and collapsing is a pass over every
/// byte.
pub fn visible_text_spaced(html: &str, breaks: Breaks) -> String {
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
                if breaks == Breaks::EveryTag || Element::named(&tag.name).is_some_and(Element::is_block) {
                    text.push(' ');
                }
            }
        }
    }
    let text = htmlize::unescape(text);
    if let Cow::Owned(stripped) = strip_unwanted_chars(&text) {
        stripped
    } else {
        text.into_owned()
    }
}

/// How much text sanitized HTML shows: the characters of its
/// [`visible_text`] other than whitespace.
pub fn text_len(html: &str) -> usize {
    // What collapsing would remove is whitespace, not counted either way.
    visible_text_spaced(html, Breaks::Blocks)
        .chars()
        .filter(|c| !c.is_whitespace())
        .count()
}

/// `s` with runs of ASCII whitespace and the line and paragraph separators
/// collapsed to one space, and trimmed. No-break spaces are kept.
pub fn collapse_whitespace(s: &str) -> String {
    // Read as bytes, and copied a stretch at a time: every text an item
    // shows or is printed from passes here, and splitting by `char` and
    // copying word by word was a tenth of a print's time. A single space
    // between two other characters stays inside the stretch being copied;
    // any other run of separators ends it. The separators are ASCII bytes
    // or the three bytes of U+2028/U+2029 (E2 80 A8/A9), so every cut
    // falls between two characters.
    fn separator(bytes: &[u8], i: usize) -> usize {
        match bytes.get(i) {
            // The usual byte, answered first.
            Some(&b) if b > b' ' && b != 0xe2 => 0,
            Some(b) if b.is_ascii_whitespace() => 1,
            Some(0xe2) if bytes.get(i + 1) == Some(&0x80) && matches!(bytes.get(i + 2), Some(0xa8 | 0xa9)) => 3,
            _ => 0,
        }
    }
    fn push(out: &mut String, stretch: &str) {
        if !stretch.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(stretch);
        }
    }
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let (mut i, mut start) = (0, 0);
    while i < bytes.len() {
        let width = separator(bytes, i);
        let lone_space = bytes[i] == b' ' && i > start && i + 1 < bytes.len() && separator(bytes, i + 1) == 0;
        if width == 0 || lone_space {
            i += 1;
            continue;
        }
        push(&mut out, &s[start..i]);
        i += width;
        start = i;
    }
    push(&mut out, &s[start..]);
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
    !starts_with_plain_text(html) && visible_text(html, Breaks::Blocks).is_empty() && !html.contains("<img")
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
    fn collapsing_whitespace_by_bytes_agrees_with_splitting_by_characters() {
        let by_chars = |s: &str| {
            s.split(|c: char| c.is_ascii_whitespace() || matches!(c, '\u{2028}' | '\u{2029}'))
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let pieces = [
            " ", "\t", "\n", "\r", "\x0c", "\x0b", "\u{a0}", "\u{2028}", "\u{2029}", "\u{2027}", "\u{202a}",
            "\u{2000}", "è", "città", "“a”", "x", "\u{e2}",
        ];
        // Every string of up to three pieces, and some longer ones.
        let mut cases = vec![String::new()];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    cases.push(format!("{a}{b}{c}"));
                }
            }
        }
        cases.push("  Il  consiglio\u{2028}\u{2028}comunale \n\t di\u{a0}Verona  ".into());
        for case in &cases {
            assert_eq!(collapse_whitespace(case), by_chars(case), "{case:?}");
        }
        assert_eq!(collapse_whitespace(" a\u{2029} b\u{a0}c \x0b"), "a b\u{a0}c \x0b");
    }

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
    fn nfc_check_on_runs_agrees_with_the_check_on_the_whole_text() {
        let pieces = [
            "a",
            "\u{e8}",
            "\u{301}",
            "\u{316}",
            "\u{338}",
            ">",
            "\u{201c}",
            "\u{ac00}",
            "\u{1100}",
            "\u{1161}",
            "\u{340}",
            "\u{212b}",
            "\u{1f600}",
            "\u{2ff}",
            "\u{300}",
            "e",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let s = format!("{a}{b}{c}x{b}");
                    assert_eq!(is_nfc(&s), is_nfc_quick(s.chars()) == IsNormalized::Yes, "{s:?}");
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
    fn clean_markup_keeps_tags_whole_and_cdata_open() {
        // `>` + U+0338 would compose to `≯` and end the tag in text.
        assert_eq!(clean_markup("<b>\u{338}x</b>".into()), "<b>\u{34F}\u{338}x</b>");
        assert_eq!(clean_markup("<p>e\u{301}\u{1}</p>".into()), "<p>\u{e9}</p>");
        assert_eq!(
            clean_markup("<p title=\"]]>\">]]></p>".into()),
            "<p title=\"]]&gt;\">]]&gt;</p>"
        );
        let clean = String::from("<p>caff\u{e8} \u{201c}ok\u{201d}</p>");
        let at = clean.as_ptr();
        let cleaned = clean_markup(clean);
        assert_eq!(cleaned.as_ptr(), at, "nothing to change, nothing copied");
    }

    #[test]
    fn visible_text_is_what_a_reader_sees() {
        let blocks = |html| visible_text(html, Breaks::Blocks);
        assert_eq!(blocks("<p>a</p><p>b</p>"), "a b");
        assert_eq!(blocks("<b>w</b>ord &amp; more"), "word & more");
        assert_eq!(
            blocks("x &lt;y&gt; &#8217;&#x2019; &bogus; &"),
            "x <y> \u{2019}\u{2019} &bogus; &"
        );
        assert_eq!(blocks("a < b"), "a < b");
        assert_eq!(blocks("  line<br/>break\n\n end "), "line break end");
        assert_eq!(blocks("<details><summary>s</summary>d</details><nav>n</nav>"), "s d n");
        assert_eq!(
            blocks("<table><caption>c</caption><tr><td>1</td><td>2</td></tr></table>"),
            "c 1 2"
        );
        assert_eq!(
            blocks("Prix&nbsp;: 5\u{A0}\u{20AC}\u{2028}ok"),
            "Prix\u{A0}: 5\u{A0}\u{20AC} ok"
        );
        assert_eq!(blocks("<a title=\"x\">t</a><img alt=\"pic\">"), "t");
        assert_eq!(blocks(""), "");
        // Every tag separates words in the fingerprints' reading.
        assert_eq!(
            visible_text("<p>L&rsquo;Ital<b>ia</b>, oggi</p>", Breaks::EveryTag),
            "L\u{2019}Ital ia , oggi"
        );
    }

    #[test]
    fn text_length_counts_what_a_reader_sees() {
        assert_eq!(text_len("<p>ab <b>c</b></p>"), 3);
        assert_eq!(text_len("<p>a&amp;b&nbsp;c</p>"), 4);
        assert_eq!(text_len("<img alt=\"long alternative\">"), 0);
        assert_eq!(text_len(""), 0);
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
            let text = visible_text(html, Breaks::Blocks);
            if starts_with_plain_text(html) {
                assert!(!text.is_empty(), "{html:?} has text");
            }
            assert_eq!(is_blank(html), text.is_empty() && !html.contains("<img"), "{html:?}");
        }
    }
}
