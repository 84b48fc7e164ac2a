//! Sanitizing: an untrusted HTML fragment made safe to publish.

use std::borrow::Cow;
use std::cell::RefCell;

use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
use url::Url;

use super::Element;
use super::text::strip_unwanted_chars;
use super::tokens::{RawKind, Token, Tokenizer};

/// The deepest element nesting [`sanitize_html`] hands to the HTML parser.
///
/// Deeper input is flattened to paragraphs of text: the parser and the
/// sanitizer cost grows with depth times size (40,000 nested `<div>`s took
/// seconds), and no real article nests this deep.
pub const MAX_HTML_DEPTH: usize = 512;

/// Most sanitizing passes before markup that does not settle is reduced to
/// its text (see [`sanitize_html`]).
const MAX_SANITIZE_PASSES: usize = 4;

/// URL schemes allowed in `href` and `src`.
const URL_SCHEMES: &[&str] = &["http", "https", "mailto"];

/// Sanitizes an HTML fragment for display in any feed reader or browser.
///
/// 1. Characters XML cannot carry are removed (as in [`clean_text`]) and the
///    input is re-tokenized into a simple canonical form: only allowed
///    elements, quoted attributes, no comments, doctypes or processing
///    instructions; `<script>` and `<style>` lose
///    their content, and the text of `<textarea>`, `<title>`, `<xmp>`,
///    `<iframe>`, `<noembed>`, `<noframes>` and `<plaintext>` is kept as
///    text. While doing so a conservative model of the HTML tree builder
///    tracks the nesting depth; when it would exceed [`MAX_HTML_DEPTH`] the
///    markup is dropped altogether and the text is wrapped in paragraphs.
/// 2. ammonia applies the allowlist: ammonia's default elements (plus
///    `tfoot`) and their default attributes except `cite`; no `style`, no
///    event handlers, no `srcset`; URLs only `http`, `https` and `mailto`;
///    links get `rel="noopener noreferrer"`; empty `href`/`src` are removed.
/// 3. Relative URLs are made absolute against `base` when it is an
///    `http`/`https` URL. Without such a base they are removed: left
///    relative, they would resolve against whatever site serves our feed.
/// 4. The serialized result goes through [`clean_text`] — with a guard that
///    keeps NFC from merging a tag's closing `>` with a combining mark that
///    follows it, since `>` + U+0338 composes to `≯` — and `]]>` is written
///    `]]&gt;` so the output can sit in a CDATA section.
///
/// Sanitizing the output again returns it unchanged. The HTML parser can
/// restructure its own serialization of mis-nested markup (a heading moved
/// into another by a misplaced table, say), so the passes above are repeated
/// on their own output until it no longer changes — usually one extra pass
/// confirms it — and markup still unsettled after four passes is reduced to
/// its text. The confirming pass is skipped when [`reparses_unchanged`]
/// shows the output is one the HTML parser reads back as written.
pub fn sanitize_html(html: &str, base: Option<&Url>) -> String {
    let relative = match base.filter(|u| matches!(u.scheme(), "http" | "https")) {
        Some(base) => ammonia::UrlRelative::RewriteWithBase(base.clone()),
        None => ammonia::UrlRelative::Deny,
    };
    BUILDER.with_borrow_mut(|builder| {
        builder.url_relative(relative);
        sanitize_with(html, builder)
    })
}

/// [`sanitize_html`] with the builder chosen.
fn sanitize_with(html: &str, builder: &ammonia::Builder<'_>) -> String {
    let mut out = sanitize_pass(html, builder);
    if reparses_unchanged(&out) {
        debug_assert_eq!(
            sanitize_pass(&out, builder),
            out,
            "a settled sanitization changed on another pass"
        );
        return out;
    }
    for _ in 1..MAX_SANITIZE_PASSES {
        let again = sanitize_pass(&out, builder);
        if again == out {
            return out;
        }
        out = again;
    }
    // The parser keeps restructuring its own serialization: keep the text.
    finish_markup(&builder.clean(&flatten_html(&out)).to_string())
}

/// One sanitizing pass; see [`sanitize_html`].
fn sanitize_pass(html: &str, builder: &ammonia::Builder<'_>) -> String {
    let input = strip_unwanted_chars(html);
    let prepared = prepare_html(&input).unwrap_or_else(|| flatten_html(&input));
    finish_markup(&builder.clean(&prepared).to_string())
}

/// Whether sanitized, serialized `html` is certain to come back unchanged
/// from another [`sanitize_pass`], so that pass can be skipped.
///
/// Conservative: `true` only when the markup is already in canonical form
/// ([`prepare_html`] and the character filter leave it alone), contains no
/// carriage return (the parser turns it into a newline), and is a token
/// stream on which the HTML tree builder does nothing but open and close:
/// every end tag closes the element on top, every element is closed, no
/// start tag closes an open `<p>`, `<li>`, `<dd>`/`<dt>`, heading or `<a>`
/// or triggers ruby's implied end tags, and table parts appear only where
/// they belong with nothing but whitespace text between them. The parser
/// then builds the tree that was serialized, the allowlist keeps it as it
/// is, and the serializer writes the same text. Anything else returns
/// `false` and gets the confirming pass.
fn reparses_unchanged(html: &str) -> bool {
    if html.contains('\r') || matches!(strip_unwanted_chars(html), Cow::Owned(_)) {
        return false;
    }
    if prepare_html(html).as_deref() != Some(html) {
        return false;
    }
    let mut stack: Vec<&'static str> = Vec::new();
    let open = |stack: &[&str], name: &str| stack.contains(&name);
    for token in Tokenizer::html(html) {
        let top = stack.last().copied();
        let in_table_structure = matches!(top, Some("table" | "tbody" | "thead" | "tfoot" | "tr" | "colgroup"));
        match token {
            Token::Raw { .. } => return false,
            Token::Text(text) => {
                let whitespace = text.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\x0c'));
                if in_table_structure && !whitespace {
                    return false;
                }
            }
            Token::Start(tag) => {
                let Some(name) = allowed_tag(&tag.name) else {
                    return false;
                };
                if tag.self_closing && !is_void(name) {
                    return false;
                }
                let fits = match top {
                    Some("table") => matches!(name, "caption" | "colgroup" | "tbody" | "thead" | "tfoot"),
                    Some("tbody" | "thead" | "tfoot") => name == "tr",
                    Some("tr") => matches!(name, "td" | "th"),
                    Some("colgroup") => name == "col",
                    _ => !matches!(
                        name,
                        "caption" | "col" | "colgroup" | "tbody" | "td" | "tfoot" | "th" | "thead" | "tr"
                    ),
                };
                if !fits {
                    return false;
                }
                let closes_something = match name {
                    _ if (closes_p(name) || name == "table") && open(&stack, "p") => true,
                    _ if is_heading(name) && top.is_some_and(is_heading) => true,
                    "a" => open(&stack, "a"),
                    "li" | "dd" | "dt" => {
                        let same: &[&str] = if name == "li" { &["li"] } else { &["dd", "dt"] };
                        stack
                            .iter()
                            .rev()
                            .take_while(|n| !is_special(n) || matches!(**n, "div" | "p") || same.contains(n))
                            .any(|n| same.contains(n))
                    }
                    "rp" | "rt" | "rtc" => {
                        open(&stack, "ruby") && matches!(top, Some("dd" | "dt" | "li" | "p" | "rp" | "rt" | "rtc"))
                    }
                    _ => false,
                };
                if closes_something {
                    return false;
                }
                if !is_void(name) {
                    stack.push(name);
                }
            }
            Token::End(tag) => {
                if top != Some(&*tag.name) {
                    return false;
                }
                stack.pop();
            }
        }
    }
    stack.is_empty()
}

thread_local! {
    /// The sanitizer, one per thread, told each body's base URL (or that
    /// relative URLs go) before use: building one (a dozen hash sets) cost
    /// about as much as a tenth of sanitizing a 5 KB body.
    static BUILDER: RefCell<ammonia::Builder<'static>> = RefCell::new(html_builder());
}

/// The sanitizer's rules; relative URLs are dropped until
/// [`sanitize_html`] gives it a base.
fn html_builder() -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::default();
    builder
        .tags(Element::allowed_names().collect())
        .rm_tag_attributes("blockquote", &["cite"])
        .rm_tag_attributes("q", &["cite"])
        .rm_tag_attributes("del", &["cite"])
        .rm_tag_attributes("ins", &["cite"])
        .url_schemes(URL_SCHEMES.iter().copied().collect())
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true)
        // An empty URL would otherwise become the base URL itself.
        .attribute_filter(|_element, attribute, value| {
            if matches!(attribute, "href" | "src") && value.trim().is_empty() {
                None
            } else {
                Some(Cow::Borrowed(value))
            }
        })
        .url_relative(ammonia::UrlRelative::Deny);
    builder
}

/// Final pass over serialized HTML: XML-unsafe characters removed, NFC made
/// safe for markup and applied, `]]>` escaped.
fn finish_markup(html: &str) -> String {
    let stripped = strip_unwanted_chars(html);
    // `>` followed by U+0338 composes to `≯` under NFC, which would turn the
    // end of a tag into text and the text after it into attributes. A
    // combining grapheme joiner after every `>` that precedes a combining
    // mark blocks any composition with the `>`.
    let combining_after_gt = |at: usize| {
        stripped[at + 1..]
            .chars()
            .next()
            .is_some_and(|c| canonical_combining_class(c) != 0)
    };
    let guarded = if memchr::memchr_iter(b'>', stripped.as_bytes()).any(combining_after_gt) {
        let mut guarded = String::with_capacity(stripped.len() + 8);
        let mut prev_gt = false;
        for c in stripped.chars() {
            if prev_gt && canonical_combining_class(c) != 0 {
                guarded.push('\u{34F}');
            }
            guarded.push(c);
            prev_gt = c == '>';
        }
        guarded
    } else {
        stripped.into_owned()
    };
    let normalized = match is_nfc_quick(guarded.chars()) {
        IsNormalized::Yes => guarded,
        _ => guarded.nfc().collect(),
    };
    let normalized = keep_pre_newlines(normalized);
    if normalized.contains("]]>") {
        normalized.replace("]]>", "]]&gt;")
    } else {
        normalized
    }
}

/// Doubles a newline that starts the content of a `<pre>`.
///
/// The HTML parser drops one newline right after `<pre>`, and the serializer
/// does not write it back, so without this every round trip would eat one.
/// `html` is serialized markup: every `<` outside a tag starts a tag, and
/// attribute values are double-quoted.
fn keep_pre_newlines(html: String) -> String {
    if !html.contains("<pre") {
        return html;
    }
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len() + 8);
    let mut copied = 0;
    let mut i = 0;
    while let Some(offset) = html[i..].find('<') {
        let start = i + offset;
        let mut end = start + 1;
        let mut quoted = false;
        while end < bytes.len() {
            match bytes[end] {
                b'"' => quoted = !quoted,
                b'>' if !quoted => break,
                _ => {}
            }
            end += 1;
        }
        i = (end + 1).min(bytes.len());
        let is_pre = html[start..].starts_with("<pre") && matches!(bytes.get(start + 4), Some(b'>' | b' '));
        if is_pre && bytes.get(i) == Some(&b'\n') {
            out.push_str(&html[copied..i]);
            out.push('\n');
            copied = i;
        }
    }
    out.push_str(&html[copied..]);
    out
}

/// Allowed element name as a static string, if `name` is allowed.
fn allowed_tag(name: &str) -> Option<&'static str> {
    Element::named(name).filter(|e| e.is_allowed()).map(Element::name)
}

fn is_void(name: &str) -> bool {
    Element::named(name).is_some_and(Element::is_void)
}

fn closes_p(name: &str) -> bool {
    Element::named(name).is_some_and(Element::closes_p)
}

fn is_special(name: &str) -> bool {
    Element::named(name).is_some_and(Element::is_special)
}

fn is_heading(name: &str) -> bool {
    Element::named(name).is_some_and(Element::is_heading)
}

const TABLE_SECTION_END: &[&str] = &["dd", "dt", "li", "p", "rp", "rt", "rtc", "td", "th", "tr"];

const TABLE_ROW_END: &[&str] = &["dd", "dt", "li", "p", "rp", "rt", "rtc", "td", "th"];

const TABLE_END: &[&str] = &[
    "caption", "colgroup", "dd", "dt", "li", "p", "rp", "rt", "rtc", "tbody", "td", "tfoot", "th", "thead", "tr",
];

/// A conservative model of the depth of the HTML parser's stack of open
/// elements, fed with allowed tags only.
///
/// It may overestimate the depth but must never underestimate it by more
/// than a small constant factor, so it only closes an element when the HTML
/// tree builder certainly closes it too: an end tag closes the innermost open
/// element of that name only if it is on top, or if every element above it
/// is one the tree builder closes implicitly for that end tag (`</ul>` closes
/// an unclosed `<li>`, `</table>` unclosed cells and rows). Formatting
/// elements are never closed implicitly, because the tree builder reopens
/// them later; self-closing syntax on a non-void element opens it, as in
/// HTML; the `tbody` and `tr` the parser inserts around bare table cells are
/// counted.
#[derive(Debug, Default)]
struct DepthModel {
    stack: Vec<&'static str>,
}

impl DepthModel {
    fn top(&self) -> Option<&'static str> {
        self.stack.last().copied()
    }

    fn pop_if(&mut self, names: &[&str]) {
        if self.top().is_some_and(|top| names.contains(&top)) {
            self.stack.pop();
        }
    }

    /// Pushes an element; `false` when the depth cap is exceeded.
    fn push(&mut self, name: &'static str) -> bool {
        self.stack.push(name);
        self.stack.len() <= MAX_HTML_DEPTH
    }

    /// A start tag; `false` when the depth cap is exceeded.
    fn start(&mut self, name: &'static str) -> bool {
        if closes_p(name) {
            self.pop_if(&["p"]);
        }
        match name {
            "li" => self.pop_if(&["li"]),
            "dd" | "dt" => self.pop_if(&["dd", "dt"]),
            "td" | "th" => self.pop_if(&["td", "th"]),
            "tr" => {
                self.pop_if(&["td", "th"]);
                self.pop_if(&["tr"]);
            }
            _ => {}
        }
        if is_void(name) {
            return true;
        }
        let in_section = matches!(self.top(), Some("tbody" | "thead" | "tfoot"));
        let needs_row = matches!(name, "td" | "th") && self.top() != Some("tr");
        let needs_section = (needs_row || name == "tr") && !in_section;
        if needs_section && !self.push("tbody") {
            return false;
        }
        if needs_row && !self.push("tr") {
            return false;
        }
        self.push(name)
    }

    /// An end tag.
    fn end(&mut self, name: &'static str) {
        let implied = |open: &str| Element::named(open).is_some_and(Element::ends_implied);
        let through = |open: &str| match name {
            "table" => TABLE_END.contains(&open),
            "tbody" | "thead" | "tfoot" => TABLE_SECTION_END.contains(&open),
            "tr" => TABLE_ROW_END.contains(&open),
            "td" | "th" | "caption" | "p" | "li" | "dd" | "dt" => implied(open),
            n if is_heading(n) || Element::named(n).is_some_and(Element::is_block_end) => implied(open),
            _ => false,
        };
        let closes = |open: &str| open == name || (is_heading(name) && is_heading(open));
        for index in (0..self.stack.len()).rev() {
            let open = self.stack[index];
            if closes(open) {
                self.stack.truncate(index);
                return;
            }
            if !through(open) {
                return;
            }
        }
    }
}

/// Re-serializes `html` in the canonical form described in [`sanitize_html`];
/// `None` when its nesting exceeds [`MAX_HTML_DEPTH`].
fn prepare_html(html: &str) -> Option<String> {
    let mut out = String::with_capacity(html.len() + html.len() / 8);
    let mut model = DepthModel::default();
    for token in Tokenizer::html(html) {
        match token {
            Token::Text(text) => push_markup_text(&mut out, text),
            Token::Raw { text, kind } => push_raw_text(&mut out, text, kind),
            Token::Start(tag) => {
                let Some(name) = allowed_tag(&tag.name) else {
                    continue;
                };
                if !model.start(name) {
                    return None;
                }
                out.push('<');
                out.push_str(name);
                for (attr, value) in tag.attrs() {
                    if !is_simple_attr_name(attr) {
                        continue;
                    }
                    out.push(' ');
                    out.extend(attr.chars().map(|c| c.to_ascii_lowercase()));
                    out.push_str("=\"");
                    out.push_str(&value.replace('"', "&quot;"));
                    out.push('"');
                }
                out.push('>');
            }
            Token::End(tag) => {
                let Some(name) = allowed_tag(&tag.name) else {
                    continue;
                };
                if name == "br" {
                    // The HTML parser reads `</br>` as `<br>`.
                    out.push_str("<br>");
                } else if !is_void(name) {
                    model.end(name);
                    out.push_str("</");
                    out.push_str(name);
                    out.push('>');
                }
            }
        }
    }
    Some(out)
}

/// The text of `html` without any markup, as escaped paragraphs: used when
/// the markup is too deeply nested to be worth parsing.
fn flatten_html(html: &str) -> String {
    let mut text = String::with_capacity(html.len() / 2);
    for token in Tokenizer::html(html) {
        match token {
            Token::Text(t) => text.push_str(t),
            Token::Raw { text: t, kind } => push_raw_text(&mut text, t, kind),
            Token::Start(tag) | Token::End(tag) => {
                let name = &*tag.name;
                if name == "br" {
                    text.push('\n');
                } else if Element::named(name).is_some_and(Element::is_block) {
                    text.push_str("\n\n");
                }
            }
        }
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut paragraph = String::new();
    for line in text.split('\n') {
        if line.trim().is_empty() {
            if !paragraph.is_empty() {
                out.push_str("<p>");
                push_markup_text(&mut out, &paragraph);
                out.push_str("</p>");
                paragraph.clear();
            }
        } else {
            if !paragraph.is_empty() {
                paragraph.push('\n');
            }
            paragraph.push_str(line.trim());
        }
    }
    if !paragraph.is_empty() {
        out.push_str("<p>");
        push_markup_text(&mut out, &paragraph);
        out.push_str("</p>");
    }
    out
}

/// Markup text with entities kept; `<` escaped so no tag can form.
fn push_markup_text(out: &mut String, text: &str) {
    for (i, part) in text.split('<').enumerate() {
        if i > 0 {
            out.push_str("&lt;");
        }
        out.push_str(part);
    }
}

/// The content of a raw-text element as markup text.
fn push_raw_text(out: &mut String, text: &str, kind: RawKind) {
    match kind {
        RawKind::Dropped => {}
        RawKind::Rcdata => push_markup_text(out, text),
        RawKind::Rawtext | RawKind::Plaintext => out.push_str(&htmlize::escape_text(text)),
    }
}

/// Attribute names kept in the canonical form (every allowed one is simple).
fn is_simple_attr_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::html::corpus::{XSS_VECTORS, fuzz_inputs};
    use crate::html::text::{clean_text, visible_text};
    use std::time::{Duration as StdDuration, Instant};

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    /// Start tags of serialized output, with attribute names and decoded values.
    fn start_tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
        Tokenizer::html(html)
            .filter_map(|t| match t {
                Token::Start(tag) => Some((
                    tag.name.to_string(),
                    tag.attrs()
                        .map(|(k, v)| (k.to_ascii_lowercase(), htmlize::unescape_attribute(v).into_owned()))
                        .collect(),
                )),
                _ => None,
            })
            .collect()
    }

    /// Maximum nesting of well-formed serialized output.
    fn output_depth(html: &str) -> usize {
        let (mut depth, mut max) = (0usize, 0usize);
        for token in Tokenizer::html(html) {
            match token {
                Token::Start(tag) if !is_void(&tag.name) => {
                    depth += 1;
                    max = max.max(depth);
                }
                Token::End(tag) if !is_void(&tag.name) => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        max
    }

    fn assert_safe(input: &str, out: &str) {
        let lower = out.to_ascii_lowercase();
        assert!(!lower.contains("<script"), "{input:?} → {out:?}");
        assert!(!out.contains("]]>"), "{input:?} → {out:?}");
        for (name, attrs) in start_tags(out) {
            assert!(allowed_tag(&name).is_some(), "tag {name} from {input:?} → {out:?}");
            for (attr, value) in attrs {
                assert!(!attr.starts_with("on"), "{attr} from {input:?} → {out:?}");
                assert!(
                    !matches!(
                        attr.as_str(),
                        "style"
                            | "srcdoc"
                            | "formaction"
                            | "srcset"
                            | "action"
                            | "background"
                            | "xmlns"
                            | "xlink:href"
                            | "http-equiv"
                            | "cite"
                    ),
                    "{attr} from {input:?} → {out:?}"
                );
                let squeezed: String = value
                    .chars()
                    .filter(|c| !c.is_whitespace() && !c.is_control())
                    .collect::<String>()
                    .to_ascii_lowercase();
                for bad in ["javascript:", "vbscript:", "data:", "file:", "livescript:"] {
                    assert!(!squeezed.starts_with(bad), "{attr}={value:?} from {input:?} → {out:?}");
                }
                if matches!(attr.as_str(), "href" | "src") {
                    assert!(
                        squeezed.starts_with("http://")
                            || squeezed.starts_with("https://")
                            || squeezed.starts_with("mailto:"),
                        "{attr}={value:?} from {input:?} → {out:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn xss_vectors_are_neutralized() {
        assert!(XSS_VECTORS.len() >= 30);
        let base = url("https://example.com/feed/");
        for input in XSS_VECTORS {
            for b in [None, Some(&base)] {
                let out = sanitize_html(input, b);
                assert_safe(input, &out);
                assert_eq!(sanitize_html(&out, b), out, "idempotence of {input:?}");
            }
        }
    }

    #[test]
    fn nfc_cannot_break_markup() {
        let out = sanitize_html("<b>&#x338; onmouseover=alert(1) x</b>", None);
        let renormalized: String = out.nfc().collect();
        assert_eq!(renormalized, out);
        let tags = start_tags(&renormalized);
        assert_eq!(tags.len(), 1);
        assert_eq!(tags[0].0, "b");
        assert!(tags[0].1.is_empty());
    }

    #[test]
    fn safe_markup_survives() {
        let input = "<h2>Title</h2><p>Some <b>bold</b>, <i>italic</i> and <a href=\"https://ex.com/a?b=1&amp;c=2\" title=\"t\">a link</a>.</p>\
                     <ul><li>one</li><li>two</li></ul><blockquote>quote</blockquote>\
                     <img src=\"https://ex.com/i.png\" alt=\"pic\" title=\"tt\" width=\"10\" height=\"20\">\
                     <pre><code>let x = a &lt; b;</code></pre><table><tbody><tr><td>1</td></tr></tbody></table>";
        let out = sanitize_html(input, None);
        assert_eq!(
            out,
            "<h2>Title</h2><p>Some <b>bold</b>, <i>italic</i> and <a href=\"https://ex.com/a?b=1&amp;c=2\" title=\"t\" rel=\"noopener noreferrer\">a link</a>.</p>\
             <ul><li>one</li><li>two</li></ul><blockquote>quote</blockquote>\
             <img src=\"https://ex.com/i.png\" alt=\"pic\" title=\"tt\" width=\"10\" height=\"20\">\
             <pre><code>let x = a &lt; b;</code></pre><table><tbody><tr><td>1</td></tr></tbody></table>"
        );
        assert_eq!(sanitize_html(&out, None), out);
    }

    #[test]
    fn mailto_links_survive() {
        let out = sanitize_html("<a href=\"mailto:a@ex.com\">mail</a>", None);
        assert_eq!(out, "<a href=\"mailto:a@ex.com\" rel=\"noopener noreferrer\">mail</a>");
    }

    #[test]
    fn relative_urls_are_rewritten_against_an_http_base() {
        let base = url("https://example.com/blog/post/");
        let out = sanitize_html(
            "<a href=\"/x\">a</a><img src=\"img.png\"><img src=\"//cdn.example/x.png\"><a href=\"#sec\">s</a>",
            Some(&base),
        );
        assert_eq!(
            out,
            "<a href=\"https://example.com/x\" rel=\"noopener noreferrer\">a</a>\
             <img src=\"https://example.com/blog/post/img.png\">\
             <img src=\"https://cdn.example/x.png\">\
             <a href=\"https://example.com/blog/post/#sec\" rel=\"noopener noreferrer\">s</a>"
        );
        assert_eq!(sanitize_html(&out, Some(&base)), out);
        assert_eq!(sanitize_html(&out, None), out);
    }

    #[test]
    fn confirming_pass_is_skipped_only_for_markup_the_parser_reads_back_as_written() {
        for settled in [
            "<p>Un caff\u{e8} \u{201c}corto\u{201d} <a href=\"https://example.org/\" rel=\"noopener noreferrer\">qui</a></p>",
            "<ul><li>a<ul><li>b</li></ul></li></ul>",
            "<dl><dt>t</dt><dd>d</dd></dl>",
            "<table><tbody><tr><td>x</td></tr></tbody></table>",
            "<b><i>x</i></b><br><pre>\n\ncode</pre>",
            "<ruby>\u{6f22}<rt>kan</rt></ruby>",
        ] {
            assert!(reparses_unchanged(settled), "{settled}");
            assert_eq!(sanitize_pass(settled, &html_builder()), settled);
        }
        for unsettled in [
            "<p><div>x</div></p>",
            "<p><table><tbody><tr><td>x</td></tr></tbody></table></p>",
            "<table><tr><td>x</td></tr></table>",
            "<table>text<tbody></tbody></table>",
            "<h1><h2>x</h2></h1>",
            "<a href=\"https://a.example/\"><a href=\"https://b.example/\">x</a></a>",
            "<li><li>x</li></li>",
            "<dd><dt>x</dt></dd>",
            "<ruby><rp><rt>x</rt></rp></ruby>",
            "<b><i>x</b></i>",
            "<b>unclosed",
            "a\r\nb",
            "<p/>",
            "<td>x</td>",
            "<p>x<!-- c --></p>",
        ] {
            assert!(!reparses_unchanged(unsettled), "{unsettled}");
        }
    }

    #[test]
    fn relative_urls_are_dropped_without_an_http_base() {
        let input = "<a href=\"/x\">a</a><img src=\"img.png\" alt=\"i\">";
        let expected = "<a rel=\"noopener noreferrer\">a</a><img alt=\"i\">";
        assert_eq!(sanitize_html(input, None), expected);
        let file_base = url("file:///home/me/feed.xml");
        assert_eq!(sanitize_html(input, Some(&file_base)), expected);
    }

    #[test]
    fn text_with_cdata_end_stays_text() {
        let out = sanitize_html("<p>a ]]> b</p>", None);
        assert_eq!(out, "<p>a ]]&gt; b</p>");
        assert_eq!(visible_text(&out), "a ]]> b");
        let out = sanitize_html("<p title=\"x]]>y\">t</p>", None);
        assert!(!out.contains("]]>"));
        assert_eq!(sanitize_html(&out, None), out);
    }

    #[test]
    fn raw_text_elements() {
        assert_eq!(sanitize_html("a<script>x<b>y</b></script>b", None), "ab");
        assert_eq!(sanitize_html("a<style>p{}</style>b", None), "ab");
        assert_eq!(
            sanitize_html("<textarea><b>x</b> &amp;</textarea>", None),
            "&lt;b&gt;x&lt;/b&gt; &amp;"
        );
        assert_eq!(
            sanitize_html("<xmp><b>x</b> &amp;</xmp>", None),
            "&lt;b&gt;x&lt;/b&gt; &amp;amp;"
        );
        assert_eq!(sanitize_html("<script>never closed <b>x", None), "");
        assert_eq!(
            sanitize_html("<noscript><img src=\"https://ex.com/i.png\"></noscript>", None),
            "<img src=\"https://ex.com/i.png\">"
        );
    }

    #[test]
    fn italian_text_is_byte_exact() {
        let html = "<p>L’Alleanza Sino-Russa non è un fenomeno passeggero… “un modello di relazioni”</p>";
        assert_eq!(sanitize_html(html, None), html);
    }

    fn too_deep(html: &str) -> bool {
        prepare_html(html).is_none()
    }

    #[test]
    fn depth_scanner_counts_nesting() {
        assert!(!too_deep(&"<div>".repeat(MAX_HTML_DEPTH)));
        assert!(too_deep(&"<div>".repeat(MAX_HTML_DEPTH + 1)));
        assert!(!too_deep(&"<div>x</div>".repeat(10_000)));
        assert!(!too_deep(&"<br><img src=x><hr><wbr>".repeat(1_000)));
        assert!(!too_deep(&"<!-- <div> -->".repeat(1_000)));
        assert!(!too_deep(&"<!DOCTYPE html><?xml x?>".repeat(1_000)));
        assert!(!too_deep(&"<input><meta><link><source>".repeat(1_000)));
        // Unclosed paragraphs, list items, definitions and cells are siblings.
        assert!(!too_deep(&"<p>para".repeat(2_000)));
        assert!(!too_deep(&format!("<ul>{}</ul>", "<li>item".repeat(2_000))));
        assert!(!too_deep(&format!("<dl>{}</dl>", "<dt>t<dd>d".repeat(2_000))));
        assert!(!too_deep(&format!("<table>{}</table>", "<tr><td>a<td>b".repeat(2_000))));
        assert!(!too_deep(&"<table><tr><td>a</td></tr></table>".repeat(2_000)));
        assert!(!too_deep(&"<table><td>x</table>".repeat(2_000)));
        assert!(!too_deep(&"<ul><li><p>x</ul>".repeat(2_000)));
        // Constructs the HTML parser nests although they look closed.
        assert!(too_deep(&"<div/>".repeat(600)));
        assert!(too_deep(&"<div></x>".repeat(600)));
        assert!(too_deep(&"<div></span>".repeat(600)));
        assert!(too_deep(&"<b><div></b>".repeat(600)));
        assert!(too_deep(&"<p><b></p>".repeat(600)));
        assert!(too_deep(&"<div><table><td></div>".repeat(600)));
        assert!(too_deep(&"<span>".repeat(600)));
        assert!(too_deep(&format!("<div x\">{}\"", "<div>".repeat(600))));
        assert!(too_deep(&format!("<!--><div>{}", "<div>".repeat(600))));
        assert!(too_deep(&format!("<script><!-- </script>{}-->", "<div>".repeat(600))));
        // Disallowed elements are dropped before counting (and before the
        // HTML parser sees the fragment), so foreign content cannot nest.
        assert!(!too_deep(&"<foo>".repeat(2_000)));
        assert!(!too_deep(&"<svg><div></div><circle/>".repeat(2_000)));
    }

    #[test]
    fn nesting_within_the_cap_is_kept() {
        let input = format!("{}x{}", "<div>".repeat(100), "</div>".repeat(100));
        let out = sanitize_html(&input, None);
        assert_eq!(out, input);
    }

    #[test]
    fn deep_nesting_is_flattened_quickly() {
        let input = format!("{}deep text{}", "<div>".repeat(600), "</div>".repeat(600));
        let started = Instant::now();
        let out = sanitize_html(&input, None);
        assert_eq!(out, "<p>deep text</p>");
        let huge = format!(
            "<p>intro &amp; more</p>{}<b>x</b> y<script>bad()</script>",
            "<div>".repeat(40_000)
        );
        let out = sanitize_html(&huge, None);
        assert_eq!(out, "<p>intro &amp; more</p><p>x y</p>");
        assert!(started.elapsed() < StdDuration::from_secs(3));
        assert_eq!(sanitize_html(&out, None), out);
    }

    #[test]
    fn adversarial_patterns_stay_shallow_and_fast() {
        let patterns = [
            "<div>",
            "<div/>",
            "<div></x>",
            "<b><div></b>",
            "<p><b></p>",
            "<a><p></a>",
            "<b a=1><b a=2><b a=3><p></p>",
            "<div><table><td></div>",
            "<table><div><td></td></div>",
            "<table><caption><div>",
            "<svg><div></div><circle/>",
            "<svg><foreignObject><div></svg>",
            "<math><mi><div></math>",
            "<select><div>",
            "<ul><li><div></li>",
            "<h1><h2>",
            "<dl><dd><div></dd>",
            "<ruby><rt><div></rt>",
            "<em><i><s><div></em>",
            "<td><tr><th>",
            "<p><table><p>",
            "<span><li></span>",
            "<object><div>",
            "<template><div>",
            "<button><div>",
            "<font color=red><div></font>",
        ];
        for pattern in patterns {
            let input = pattern.repeat(3_000);
            let started = Instant::now();
            let out = sanitize_html(&input, None);
            let elapsed = started.elapsed();
            let depth = output_depth(&out);
            assert!(depth <= 2 * MAX_HTML_DEPTH, "{pattern}: depth {depth}");
            assert!(elapsed < StdDuration::from_secs(5), "{pattern}: {elapsed:?}");
            assert_safe(pattern, &out);
        }
    }

    #[test]
    fn pre_newlines_survive_round_trips() {
        for input in ["<pre>\n\n\nx</pre>", "<pre lang=\"en\">\n\nx</pre>", "<pre>\nx</pre>"] {
            let out = sanitize_html(input, None);
            assert_eq!(sanitize_html(&out, None), out, "{input:?}");
        }
        assert_eq!(sanitize_html("<pre>\n\nx</pre>", None), "<pre>\n\nx</pre>");
        assert_eq!(sanitize_html("<pre>\nx</pre>", None), "<pre>x</pre>");
        assert_eq!(
            sanitize_html("<p title=\"<pre>\n\">t</p>", None),
            "<p title=\"&lt;pre&gt;\n\">t</p>"
        );
    }

    #[test]
    fn misnested_markup_settles() {
        let input = "<h2>a<table><table><h1>b";
        let out = sanitize_html(input, None);
        assert_eq!(sanitize_html(&out, None), out);
    }

    #[test]
    fn empty_urls_are_dropped() {
        let base = url("https://example.com/feed/");
        assert_eq!(
            sanitize_html("<a href=\"\">e</a><img src=\" \">", Some(&base)),
            "<a rel=\"noopener noreferrer\">e</a><img>"
        );
    }

    #[test]
    fn fuzzed_markup_is_safe_and_idempotent() {
        let base = url("https://example.com/feed/");
        for input in fuzz_inputs(3_000) {
            for b in [None, Some(&base)] {
                let out = sanitize_html(&input, b);
                assert_safe(&input, &out);
                assert_eq!(sanitize_html(&out, b), out, "idempotence of {input:?}");
                let text = visible_text(&out);
                assert_eq!(clean_text(&text), text);
            }
        }
    }
}
