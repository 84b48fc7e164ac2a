//! The XML 1.0 character rules, shared by the reader and the writers.
//!
//! XML 1.0 allows TAB, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD and U+10000
//! upwards; feeds carry the rest anyway (raw or as `&#1;`), feed-rs passes
//! them through, and writers copy them out raw, which strict consumers
//! reject. Both ends filter with the one function here.

use std::borrow::Cow;

/// Removes the characters that XML 1.0 does not allow.
///
/// Kept are TAB, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD and U+10000 upwards;
/// removed are the other C0 controls and U+FFFE/U+FFFF. Borrows when nothing
/// needs removing.
pub fn strip_xml_illegal(s: &str) -> Cow<'_, str> {
    let b = s.as_bytes();
    let Some((mut pos, mut len)) = next_illegal(b, 0) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len());
    let mut start = 0;
    loop {
        out.push_str(&s[start..pos]);
        start = pos + len;
        match next_illegal(b, start) {
            Some((p, l)) => {
                pos = p;
                len = l;
            }
            None => break,
        }
    }
    out.push_str(&s[start..]);
    Cow::Owned(out)
}

/// Finds the next XML-illegal character at or after `from`: its byte
/// position and length.
fn next_illegal(b: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut i = from;
    while i < b.len() {
        let off = b[i..]
            .iter()
            .position(|&c| (c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r')) || c == 0xEF)?;
        let p = i + off;
        if b[p] != 0xEF {
            return Some((p, 1));
        }
        // U+FFFE is EF BF BE, U+FFFF is EF BF BF.
        if b.get(p + 1) == Some(&0xBF) && matches!(b.get(p + 2), Some(0xBE | 0xBF)) {
            return Some((p, 3));
        }
        i = p + 1;
    }
    None
}

/// Whether XML 1.0 allows `c`.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_keeps_legal_and_drops_illegal() {
        let legal = "tab\there\nnew\rline L’è 𝄞 \u{D7FF}\u{E000}\u{FFFD}";
        assert!(matches!(strip_xml_illegal(legal), Cow::Borrowed(_)));
        assert_eq!(strip_xml_illegal(legal), legal);
        let dirty = "a\u{0}b\u{1}c\u{8}d\u{B}e\u{C}f\u{1F}g\u{FFFE}h\u{FFFF}i";
        assert_eq!(strip_xml_illegal(dirty), "abcdefghi");
        assert_eq!(strip_xml_illegal(""), "");
    }

    #[test]
    fn strip_xml_illegal_borrows_when_clean() {
        let clean = "tab\tlf\ncr\r \u{d7ff}\u{e000}\u{fffd}\u{10000}\u{10ffff} \u{ef}\u{bf}";
        assert!(matches!(strip_xml_illegal(clean), Cow::Borrowed(_)));
        assert_eq!(strip_xml_illegal("\u{0}a\u{1f}b\u{7}\u{fffe}\u{ffff}c\u{b}"), "abc");
        assert_eq!(strip_xml_illegal("\u{0}"), "");
        assert_eq!(strip_xml_illegal("\u{feff}\u{fffd}\u{fffe}x"), "\u{feff}\u{fffd}x");
    }
}
