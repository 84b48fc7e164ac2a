//! Tokens: an HTML fragment split into text and tags.

/// How the content of an element whose text is not markup is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RawKind {
    /// `<script>`, `<style>`: content dropped.
    Dropped,
    /// `<textarea>`, `<title>`: text in which entities are decoded.
    Rcdata,
    /// `<xmp>`, `<iframe>`, `<noembed>`, `<noframes>`: literal text.
    Rawtext,
    /// `<plaintext>`: literal text up to the end of the input.
    Plaintext,
}

pub(crate) fn raw_kind(name: &str) -> Option<RawKind> {
    match name {
        "script" | "style" => Some(RawKind::Dropped),
        "textarea" | "title" => Some(RawKind::Rcdata),
        "xmp" | "iframe" | "noembed" | "noframes" => Some(RawKind::Rawtext),
        "plaintext" => Some(RawKind::Plaintext),
        _ => None,
    }
}

/// A start tag as written; names lower-cased, values not decoded.
#[derive(Debug, PartialEq)]
pub(crate) struct StartTag<'a> {
    pub(crate) name: String,
    pub(crate) attrs: Vec<(&'a str, &'a str)>,
    pub(crate) self_closing: bool,
}

/// One token of an HTML fragment.
#[derive(Debug, PartialEq)]
pub(crate) enum Token<'a> {
    /// Markup text, entities as written.
    Text(&'a str),
    /// The content of a raw-text element.
    Raw {
        text: &'a str,
        kind: RawKind,
    },
    Start(StartTag<'a>),
    /// An end tag's lower-cased name.
    End(String),
}

/// A small HTML tokenizer following the HTML tokenization rules for tags,
/// attributes, comments, bogus comments and raw-text elements. Comments,
/// doctypes and processing instructions are skipped.
pub(crate) struct Tokenizer<'a> {
    src: &'a str,
    pos: usize,
    raw: Option<(String, RawKind)>,
}

pub(crate) fn is_html_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

impl<'a> Tokenizer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Tokenizer { src, pos: 0, raw: None }
    }

    /// Position just after the next `>` at or after `from`, or the end.
    fn skip_to_gt(&self, from: usize) -> usize {
        self.src[from..].find('>').map_or(self.src.len(), |i| from + i + 1)
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

    /// Parses a tag whose name starts at `name_start`. Returns `None` (and
    /// consumes the rest) when the input ends inside the tag, which drops it.
    fn tag(&mut self, name_start: usize, end_tag: bool) -> Option<Token<'a>> {
        let src = self.src;
        let bytes = src.as_bytes();
        let len = bytes.len();
        let mut i = name_start;
        while i < len && !is_html_space(bytes[i]) && bytes[i] != b'/' && bytes[i] != b'>' {
            i += 1;
        }
        let name = src[name_start..i].to_ascii_lowercase();
        let mut attrs = Vec::new();
        let mut self_closing = false;
        loop {
            while i < len && is_html_space(bytes[i]) {
                i += 1;
            }
            if i >= len {
                self.pos = len;
                return None;
            }
            match bytes[i] {
                b'>' => {
                    i += 1;
                    break;
                }
                b'/' => {
                    i += 1;
                    if bytes.get(i) == Some(&b'>') {
                        self_closing = true;
                        i += 1;
                        break;
                    }
                    continue;
                }
                _ => {}
            }
            let attr_start = i;
            if bytes[i] == b'=' {
                i += 1;
            }
            while i < len && !is_html_space(bytes[i]) && !matches!(bytes[i], b'/' | b'>' | b'=') {
                i += 1;
            }
            let attr_name = &src[attr_start..i];
            while i < len && is_html_space(bytes[i]) {
                i += 1;
            }
            let mut value = "";
            if i < len && bytes[i] == b'=' {
                i += 1;
                while i < len && is_html_space(bytes[i]) {
                    i += 1;
                }
                if i >= len {
                    self.pos = len;
                    return None;
                }
                match bytes[i] {
                    quote @ (b'"' | b'\'') => {
                        let value_start = i + 1;
                        let Some(offset) = bytes[value_start..].iter().position(|&b| b == quote) else {
                            self.pos = len;
                            return None;
                        };
                        value = &src[value_start..value_start + offset];
                        i = value_start + offset + 1;
                    }
                    b'>' => {}
                    _ => {
                        let value_start = i;
                        while i < len && !is_html_space(bytes[i]) && bytes[i] != b'>' {
                            i += 1;
                        }
                        value = &src[value_start..i];
                    }
                }
            }
            attrs.push((attr_name, value));
        }
        self.pos = i;
        if end_tag {
            return Some(Token::End(name));
        }
        if let Some(kind) = raw_kind(&name) {
            self.raw = Some((name.clone(), kind));
        }
        Some(Token::Start(StartTag {
            name,
            attrs,
            self_closing,
        }))
    }
}

impl<'a> Iterator for Tokenizer<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let src = self.src;
        let bytes = src.as_bytes();
        let len = bytes.len();
        if let Some((name, kind)) = self.raw.take() {
            let start = self.pos;
            let end = if kind == RawKind::Plaintext {
                len
            } else {
                self.raw_end(start, &name)
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
                let end = src[pos..].find('<').map_or(len, |i| pos + i);
                self.pos = end;
                return Some(Token::Text(&src[pos..end]));
            }
            match bytes.get(pos + 1).copied() {
                Some(c) if c.is_ascii_alphabetic() => return self.tag(pos + 1, false),
                Some(b'/') => match bytes.get(pos + 2).copied() {
                    Some(c) if c.is_ascii_alphabetic() => return self.tag(pos + 2, true),
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
                _ => {
                    let end = src[pos + 1..].find('<').map_or(len, |i| pos + 1 + i);
                    self.pos = end;
                    return Some(Token::Text(&src[pos..end]));
                }
            }
        }
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_follows_html_rules() {
        let tokens: Vec<Token<'_>> = Tokenizer::new("a<B Class=x data-y='1>2' z=\"q\" w>t</B><br/>x<3<!-->y").collect();
        assert_eq!(
            tokens,
            vec![
                Token::Text("a"),
                Token::Start(StartTag {
                    name: "b".into(),
                    attrs: vec![("Class", "x"), ("data-y", "1>2"), ("z", "q"), ("w", "")],
                    self_closing: false,
                }),
                Token::Text("t"),
                Token::End("b".into()),
                Token::Start(StartTag {
                    name: "br".into(),
                    attrs: vec![],
                    self_closing: true,
                }),
                Token::Text("x"),
                Token::Text("<3"),
                Token::Text("y"),
            ]
        );
        let unterminated: Vec<Token<'_>> = Tokenizer::new("ok<div class=\"x").collect();
        assert_eq!(unterminated, vec![Token::Text("ok")]);
        let attr_quote: Vec<Token<'_>> = Tokenizer::new("<div a\"b>c").collect();
        assert_eq!(
            attr_quote,
            vec![
                Token::Start(StartTag {
                    name: "div".into(),
                    attrs: vec![("a\"b", "")],
                    self_closing: false
                }),
                Token::Text("c"),
            ]
        );
    }
}
