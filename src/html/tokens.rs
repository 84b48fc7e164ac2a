//! Tokens: an HTML fragment split into text and tags.
//!
//! This is the program's one HTML tokenizer. It has two modes:
//!
//! * [`Tokenizer::html`] follows the HTML tokenization rules for tags,
//!   attributes, comments, bogus comments and the raw-text elements
//!   (`script`, `style`, `textarea`, `title`, `xmp`, `iframe`, `noembed`,
//!   `noframes`, `plaintext`), so that it splits an untrusted fragment where
//!   the HTML parser will. The sanitizer rewrites that split into a canonical
//!   form the parser cannot read any other way, and the text reader uses it
//!   on sanitized HTML.
//! * [`Tokenizer::text`] reads fields that are plain text by nature —
//!   titles, author names, categories — in which `<` is usually a
//!   character (`Vec<T>`, `a < b`, `I <3 Rust`): only a complete tag whose
//!   name is a known element written in lower case (or, for names of two
//!   letters or more, upper case), a complete comment or declaration, and
//!   the content of a CDATA section are markup; anything else is text.
//!
//! Text and attribute values are handed out as written, entities included;
//! the reader decodes them (`htmlize`, with the HTML rules).
//!
//! # Why it is written here rather than taken from html5ever
//!
//! html5ever's tokenizer (built already, for ammonia) is the reference: the
//! tests run both over hostile and sloppy markup and require the same tags,
//! attributes and text (`html5ever_splits_the_same_tags_and_text`). It is
//! not used on the hot path because it alone would take a quarter of what
//! sanitizing a body may cost. Reading every tag and attribute of the 5 KB
//! article body of the benches (120 tags), medians of three runs of
//! `cargo bench --bench ingest -- tokenize` on a shared 2-core AMD EPYC
//! (2026-12-07): this tokenizer 4.3–6.1 µs, html5ever's 17.2–32.3 µs. The
//! sanitizer's budget for that body is 80 µs; it now takes about a third
//! of that, with no html5ever at all for markup the parser builds as
//! written (see `sanitize` and `filter`).
//!
//! Its reading is never trusted for safety either way: the sanitizer writes
//! what it read in a form holding only allowed elements, quoted attributes
//! and escaped text, and ammonia parses that form with html5ever.

use std::borrow::Cow;

use super::Element;

/// How the content of an element whose text is not markup is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawKind {
    /// `<script>`, `<style>`: content dropped.
    Dropped,
    /// `<textarea>`, `<title>`: text in which entities are decoded.
    Rcdata,
    /// `<xmp>`, `<iframe>`, `<noembed>`, `<noframes>`: literal text.
    Rawtext,
    /// `<plaintext>`: literal text up to the end of the input.
    Plaintext,
}

/// The raw-text element `name` (lower case) is, as a static name, and how
/// its content is read; `None` for other elements.
pub(crate) fn raw_element(name: &str) -> Option<(&'static str, RawKind)> {
    Some(match name {
        "script" => ("script", RawKind::Dropped),
        "style" => ("style", RawKind::Dropped),
        "textarea" => ("textarea", RawKind::Rcdata),
        "title" => ("title", RawKind::Rcdata),
        "xmp" => ("xmp", RawKind::Rawtext),
        "iframe" => ("iframe", RawKind::Rawtext),
        "noembed" => ("noembed", RawKind::Rawtext),
        "noframes" => ("noframes", RawKind::Rawtext),
        "plaintext" => ("plaintext", RawKind::Plaintext),
        _ => return None,
    })
}

/// A start or end tag as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag<'a> {
    /// The name, lower-cased.
    pub name: Cow<'a, str>,
    /// Whether it ends with `/>`.
    pub self_closing: bool,
    /// The whole tag, `<` to `>`.
    pub source: &'a str,
    /// Where the name starts in `source`.
    name_at: usize,
    /// Where the attributes start in `source`.
    attrs_at: usize,
}

impl<'a> Tag<'a> {
    /// The name as written.
    pub fn written_name(&self) -> &'a str {
        &self.source[self.name_at..self.name_at + self.name.len()]
    }

    /// The attributes, names and values as written (values not decoded;
    /// an attribute without a value has an empty one). An end tag's
    /// attributes mean nothing, but are read to find where it ends.
    pub fn attrs(&self) -> Attrs<'a> {
        Attrs {
            src: self.source,
            pos: self.attrs_at,
        }
    }
}

/// The attributes of a [`Tag`].
#[derive(Clone, Debug)]
pub struct Attrs<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Iterator for Attrs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        match next_attr(self.src, &mut self.pos) {
            Step::Attr(name, value) => Some((name, value)),
            Step::End { .. } | Step::Unterminated => None,
        }
    }
}

/// One token of an HTML fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token<'a> {
    /// Text, entities as written. A text token can start with a `<` that
    /// starts no tag; it never holds another.
    Text(&'a str),
    /// The content of a raw-text element ([`Tokenizer::html`] only).
    Raw {
        /// The content as written.
        text: &'a str,
        /// How it is read.
        kind: RawKind,
    },
    /// A start tag.
    Start(Tag<'a>),
    /// An end tag.
    End(Tag<'a>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Html,
    Text,
}

/// Splits a fragment into [`Token`]s; comments, doctypes and processing
/// instructions are skipped.
#[derive(Clone, Debug)]
pub struct Tokenizer<'a> {
    src: &'a str,
    pos: usize,
    mode: Mode,
    /// The raw-text element just opened, whose content comes next.
    raw: Option<(&'static str, RawKind)>,
}

/// HTML's ASCII whitespace.
pub fn is_html_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

impl<'a> Tokenizer<'a> {
    /// Reads `src` with the HTML tokenization rules: a `<` followed by a
    /// letter starts a tag, which runs to its `>` (quoted attribute values
    /// may hold `>`); input that ends inside a tag or comment ends there.
    pub fn html(src: &'a str) -> Self {
        Tokenizer {
            src,
            pos: 0,
            mode: Mode::Html,
            raw: None,
        }
    }

    /// Reads `src` as a plain-text field that may hold markup: only what is
    /// certainly markup is (see the module documentation); there are no
    /// raw-text elements.
    pub fn text(src: &'a str) -> Self {
        Tokenizer {
            src,
            pos: 0,
            mode: Mode::Text,
            raw: None,
        }
    }

    /// Where the next token starts: just after the last one.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Position just after the next `>` at or after `from`, or the end.
    fn skip_to_gt(&self, from: usize) -> usize {
        memchr::memchr(b'>', &self.src.as_bytes()[from..]).map_or(self.src.len(), |i| from + i + 1)
    }

    /// Position just after the comment whose data starts at `from`.
    fn comment_end(&self, from: usize) -> usize {
        let rest = &self.src[from..];
        if rest.starts_with('>') {
            return from + 1;
        }
        if rest.starts_with("->") {
            return from + 2;
        }
        let mut i = from;
        while let Some(offset) = self.src[i..].find("--") {
            let dashes = i + offset;
            let after = &self.src[dashes + 2..];
            if after.starts_with('>') {
                return dashes + 3;
            }
            if after.starts_with("!>") {
                return dashes + 4;
            }
            i = dashes + 1;
        }
        self.src.len()
    }

    /// Start of the end tag `</name` closing a raw-text element, or the end.
    fn raw_end(&self, from: usize, name: &str) -> usize {
        let bytes = self.src.as_bytes();
        let mut i = from;
        while let Some(offset) = self.src[i..].find("</") {
            let at = i + offset;
            let name_end = at + 2 + name.len();
            if name_end <= bytes.len()
                && bytes[at + 2..name_end].eq_ignore_ascii_case(name.as_bytes())
                && bytes
                    .get(name_end)
                    .is_some_and(|&b| is_html_space(b) || b == b'/' || b == b'>')
            {
                return at;
            }
            i = at + 2;
        }
        bytes.len()
    }

    /// Text from `pos` (which may be a `<` that starts nothing) to the next `<`.
    fn text_run(&mut self, pos: usize) -> Token<'a> {
        let bytes = self.src.as_bytes();
        let end = memchr::memchr(b'<', &bytes[pos + 1..]).map_or(bytes.len(), |i| pos + 1 + i);
        self.pos = end;
        Token::Text(&self.src[pos..end])
    }

    /// The next token in [`Mode::Html`].
    fn next_html(&mut self) -> Option<Token<'a>> {
        let src = self.src;
        let bytes = src.as_bytes();
        let len = bytes.len();
        if let Some((name, kind)) = self.raw.take() {
            let start = self.pos;
            let end = if kind == RawKind::Plaintext {
                len
            } else {
                self.raw_end(start, name)
            };
            self.pos = end;
            if end > start {
                return Some(Token::Raw {
                    text: &src[start..end],
                    kind,
                });
            }
        }
        while self.pos < len {
            let pos = self.pos;
            if bytes[pos] != b'<' {
                return Some(self.text_run(pos));
            }
            match bytes.get(pos + 1).copied() {
                Some(c) if c.is_ascii_alphabetic() => return self.tag(pos, false),
                Some(b'/') => match bytes.get(pos + 2).copied() {
                    Some(c) if c.is_ascii_alphabetic() => return self.tag(pos, true),
                    Some(b'>') => self.pos = pos + 3,
                    Some(_) => self.pos = self.skip_to_gt(pos + 2),
                    None => {
                        self.pos = len;
                        return Some(Token::Text(&src[pos..]));
                    }
                },
                Some(b'!') => {
                    self.pos = if src[pos..].starts_with("<!--") {
                        self.comment_end(pos + 4)
                    } else {
                        self.skip_to_gt(pos + 2)
                    };
                }
                Some(b'?') => self.pos = self.skip_to_gt(pos + 1),
                _ => return Some(self.text_run(pos)),
            }
        }
        None
    }

    /// A tag at `lt` in [`Mode::Html`]; the input ending inside it drops
    /// it and ends the fragment.
    fn tag(&mut self, lt: usize, end_tag: bool) -> Option<Token<'a>> {
        let Some(tag) = read_tag(self.src, lt, end_tag) else {
            self.pos = self.src.len();
            return None;
        };
        self.pos = lt + tag.source.len();
        if end_tag {
            return Some(Token::End(tag));
        }
        self.raw = raw_element(&tag.name);
        Some(Token::Start(tag))
    }

    /// The next token in [`Mode::Text`].
    fn next_text(&mut self) -> Option<Token<'a>> {
        let src = self.src;
        let bytes = src.as_bytes();
        while self.pos < bytes.len() {
            let pos = self.pos;
            if bytes[pos] != b'<' {
                return Some(self.text_run(pos));
            }
            let rest = &src[pos..];
            if let Some(inner) = rest.strip_prefix("<![CDATA[") {
                let end = inner.find("]]>").unwrap_or(inner.len());
                self.pos = (pos + 9 + end + 3).min(bytes.len());
                if end > 0 {
                    return Some(Token::Text(&inner[..end]));
                }
                continue;
            }
            let skipped = if let Some(comment) = rest.strip_prefix("<!--") {
                comment.find("-->").map(|e| pos + 4 + e + 3)
            } else if matches!(bytes.get(pos + 1), Some(b'!' | b'?')) {
                rest.find('>').map(|e| pos + e + 1)
            } else {
                let end_tag = bytes.get(pos + 1) == Some(&b'/');
                let name_start = pos + 1 + usize::from(end_tag);
                let tag = bytes
                    .get(name_start)
                    .is_some_and(u8::is_ascii_alphabetic)
                    .then(|| read_tag(src, pos, end_tag))
                    .flatten()
                    .filter(|tag| is_text_markup(tag.written_name()));
                if let Some(tag) = tag {
                    self.pos = pos + tag.source.len();
                    return Some(if end_tag { Token::End(tag) } else { Token::Start(tag) });
                }
                None
            };
            match skipped {
                Some(end) => self.pos = end,
                None => return Some(self.text_run(pos)),
            }
        }
        None
    }
}

impl<'a> Iterator for Tokenizer<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        match self.mode {
            Mode::Html => self.next_html(),
            Mode::Text => self.next_text(),
        }
    }
}

/// Whether a tag name written so is markup inside a plain-text field: a
/// known element, written all in lower case or (two letters or more) all
/// in upper case.
fn is_text_markup(written: &str) -> bool {
    let lower = written.to_ascii_lowercase();
    let as_lower = written == lower;
    let as_upper = written.len() >= 2 && !written.bytes().any(|b| b.is_ascii_lowercase());
    (as_lower || as_upper) && Element::named(&lower).is_some_and(Element::is_text_markup)
}

/// The tag whose `<` is at `lt` (its name starts after `<` or `</`), or
/// `None` when the input ends inside it.
fn read_tag(src: &str, lt: usize, end_tag: bool) -> Option<Tag<'_>> {
    let bytes = src.as_bytes();
    let name_start = lt + 1 + usize::from(end_tag);
    let mut i = name_start;
    while i < bytes.len() && !is_html_space(bytes[i]) && bytes[i] != b'/' && bytes[i] != b'>' {
        i += 1;
    }
    let written = &src[name_start..i];
    let attrs_at = i;
    loop {
        match next_attr(src, &mut i) {
            Step::Attr(..) => {}
            Step::Unterminated => return None,
            Step::End { at, self_closing } => {
                let name = if written.bytes().any(|b| b.is_ascii_uppercase()) {
                    Cow::Owned(written.to_ascii_lowercase())
                } else {
                    Cow::Borrowed(written)
                };
                return Some(Tag {
                    name,
                    self_closing,
                    source: &src[lt..at],
                    name_at: name_start - lt,
                    attrs_at: attrs_at - lt,
                });
            }
        }
    }
}

/// One step through a tag's attributes.
enum Step<'a> {
    /// An attribute's name and value, as written.
    Attr(&'a str, &'a str),
    /// The tag ends just before `at`.
    End { at: usize, self_closing: bool },
    /// The input ends inside the tag.
    Unterminated,
}

/// Reads the next attribute, or the end of the tag, from `*i` on.
fn next_attr<'a>(src: &'a str, i: &mut usize) -> Step<'a> {
    let bytes = src.as_bytes();
    let len = bytes.len();
    let skip_space = |i: &mut usize| {
        while *i < len && is_html_space(bytes[*i]) {
            *i += 1;
        }
    };
    loop {
        skip_space(i);
        match bytes.get(*i) {
            None => return Step::Unterminated,
            Some(b'>') => {
                *i += 1;
                return Step::End {
                    at: *i,
                    self_closing: false,
                };
            }
            Some(b'/') => {
                *i += 1;
                if bytes.get(*i) == Some(&b'>') {
                    *i += 1;
                    return Step::End {
                        at: *i,
                        self_closing: true,
                    };
                }
            }
            Some(_) => break,
        }
    }
    let name_start = *i;
    if bytes[*i] == b'=' {
        *i += 1;
    }
    while *i < len && !is_html_space(bytes[*i]) && !matches!(bytes[*i], b'/' | b'>' | b'=') {
        *i += 1;
    }
    let name = &src[name_start..*i];
    skip_space(i);
    let mut value = "";
    if bytes.get(*i) == Some(&b'=') {
        *i += 1;
        skip_space(i);
        match bytes.get(*i).copied() {
            None => return Step::Unterminated,
            Some(quote @ (b'"' | b'\'')) => {
                let value_start = *i + 1;
                let Some(offset) = memchr::memchr(quote, &bytes[value_start..]) else {
                    return Step::Unterminated;
                };
                value = &src[value_start..value_start + offset];
                *i = value_start + offset + 1;
            }
            Some(b'>') => {}
            Some(_) => {
                let value_start = *i;
                while *i < len && !is_html_space(bytes[*i]) && bytes[*i] != b'>' {
                    *i += 1;
                }
                value = &src[value_start..*i];
            }
        }
    }
    Step::Attr(name, value)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::html::corpus::{MUTATION_XSS, XSS_VECTORS, fuzz_inputs, ours, reference};

    /// Tokens as short strings: `t:text`, `<name a=v>`, `<name/>`, `</name>`,
    /// `raw:text`, with text and attributes as written.
    fn described(tokens: impl Iterator<Item = Token<'static>>) -> Vec<String> {
        tokens
            .map(|token| match token {
                Token::Text(t) => format!("t:{t}"),
                Token::Raw { text, .. } => format!("raw:{text}"),
                Token::Start(tag) => {
                    let attrs: String = tag.attrs().map(|(n, v)| format!(" {n}={v}")).collect();
                    let slash = if tag.self_closing { "/" } else { "" };
                    format!("<{}{attrs}{slash}>", tag.name)
                }
                Token::End(tag) => format!("</{}>", tag.name),
            })
            .collect()
    }

    #[test]
    fn tokenizer_follows_html_rules() {
        assert_eq!(
            described(Tokenizer::html(
                "a<B Class=x data-y='1>2' z=\"q\" w>t</B><br/>x<3<!-->y"
            )),
            [
                "t:a",
                "<b Class=x data-y=1>2 z=q w=>",
                "t:t",
                "</b>",
                "<br/>",
                "t:x",
                "t:<3",
                "t:y"
            ]
        );
        assert_eq!(described(Tokenizer::html("ok<div class=\"x")), ["t:ok"]);
        assert_eq!(described(Tokenizer::html("<div a\"b>c")), ["<div a\"b=>", "t:c"]);
        assert_eq!(
            described(Tokenizer::html("<textarea><b>&amp;</textarea >x<script>a</SCRIPT/>")),
            [
                "<textarea>",
                "raw:<b>&amp;",
                "</textarea>",
                "t:x",
                "<script>",
                "raw:a",
                "</script>"
            ]
        );
        assert_eq!(
            described(Tokenizer::html("<br / ><p =a b = 'c'>")),
            ["<br>", "<p =a= b=c>"]
        );
        let tag = Tokenizer::html("<DiV id=1>").next().unwrap();
        let Token::Start(tag) = tag else { panic!("{tag:?}") };
        assert_eq!((tag.written_name(), tag.source), ("DiV", "<DiV id=1>"));
        assert!(matches!(tag.name, Cow::Owned(_)));
        let Some(Token::Start(tag)) = Tokenizer::html("<div>").next() else {
            panic!()
        };
        assert!(matches!(tag.name, Cow::Borrowed("div")));
    }

    #[test]
    fn text_fields_take_only_complete_known_tags_as_markup() {
        let cases: &[(&str, &[&str])] = &[
            ("<b>Hi</b> there", &["<b>", "t:Hi", "</b>", "t: there"]),
            ("<STRONG>x</STRONG>", &["<strong>", "t:x", "</strong>"]),
            // One upper-case letter is a type parameter, not a tag.
            ("<B>x</B>", &["t:<B>x", "t:</B>"]),
            (
                "Vec<T> and Option<String>",
                &["t:Vec", "t:<T> and Option", "t:<String>"],
            ),
            ("a < b and <3", &["t:a ", "t:< b and ", "t:<3"]),
            ("<unknown>x</unknown>", &["t:<unknown>x", "t:</unknown>"]),
            ("<bR>x", &["t:<bR>x"]),
            ("<a href=\"x>y\">l</a>", &["<a href=x>y>", "t:l", "</a>"]),
            ("<b unterminated", &["t:<b unterminated"]),
            ("x <!-- c --> y <!-- open", &["t:x ", "t: y ", "t:<!-- open"]),
            ("<!--> x", &["t:<!--> x"]),
            ("<?pi?>a<!DOCTYPE x>b<!x", &["t:a", "t:b", "t:<!x"]),
            (
                "<![CDATA[<b>in</b>]]>out<![CDATA[]]><![CDATA[open",
                &["t:<b>in</b>", "t:out", "t:open"],
            ),
            ("<script>alert(1)</script>", &["<script>", "t:alert(1)", "</script>"]),
            ("</ x>", &["t:</ x>"]),
        ];
        for (input, expected) in cases {
            assert_eq!(described(Tokenizer::text(input)), *expected, "{input:?}");
        }
    }

    #[test]
    fn html5ever_splits_the_same_tags_and_text() {
        let inputs = XSS_VECTORS
            .iter()
            .chain(MUTATION_XSS)
            .map(|s| s.to_string())
            .chain(fuzz_inputs(3_000));
        for input in inputs {
            // Input preprocessing, not tokenization: HTML reads CR LF and CR
            // as LF, and NUL (which the sanitizer removes first) as U+FFFD.
            let input: String = input.replace("\r\n", "\n").replace('\r', "\n").replace('\0', "");
            assert_eq!(ours(&input), reference(&input), "{input:?}");
        }
    }
}
