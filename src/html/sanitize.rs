//! Sanitizing: an untrusted HTML fragment made safe to publish.
//!
//! ammonia does the sanitizing proper: html5ever parses the fragment as a
//! browser would, ammonia keeps only allowed elements, attributes and URL
//! schemes, and html5ever serializes the result. Around it this module
//! does three things ammonia does not, each for a reason:
//!
//! * **A canonical form first.** The fragment is re-tokenized ([`tokens`])
//!   and written again with only allowed elements, quoted attributes and
//!   escaped text, before ammonia's parser sees it: foreign content (SVG,
//!   MathML), `noscript`, `template`, forms and raw-text elements never
//!   reach the parser, so the namespace and raw-text confusions behind
//!   mutation XSS have nothing to work with.
//! * **A depth cap.** Deeply nested markup is flattened to its text before
//!   parsing ([`tree`]): html5ever's and ammonia's cost grows with depth
//!   times size.
//! * **Settling.** ammonia's output is not always stable when sanitized
//!   again: the parser restructures its own serialization of mis-nested
//!   markup, and character references decode to characters that change on
//!   the next parse (<https://github.com/rust-ammonia/ammonia/issues/185>:
//!   `&#13;` becomes a carriage return, then a newline; `<a><table><a>`
//!   moves its links on every pass). Output that changes when parsed again
//!   is what mutation XSS exploits, and a feed reader re-parses what we
//!   publish. So the output is always a fixpoint: sanitizing it again
//!   returns it unchanged. When the tree model shows the parser built the
//!   canonical form exactly as written (nearly every real body), the output
//!   is read back as written too and one pass is enough (the filter below
//!   also checks the attributes kept their order); otherwise the pass
//!   is repeated on its own output until it stops changing, and markup that
//!   has not settled after four passes is reduced to its text. (ammonia
//!   also reorders an element's attributes when it drops one before
//!   others, which the next pass undoes: such output takes another pass.)
//!
//! ammonia stays the reference, but for a canonical form the parser builds
//! exactly as written it does not run: its work on such a stream reduces
//! to a filter over the tokens ([`filter`]: attribute allowlist, URL
//! schemes and resolution, `rel` on links, character references decoded
//! and text escaped as html5ever's tokenizer and serializer do), whose
//! output is byte for byte ammonia's — tested against it over every
//! corpus and fuzzed against it (`fuzz/fuzz_targets/sanitize.rs`).
//! Every body of the shipped samples and test fixtures (4,171) takes it.
//! On the 5 KB body of the ingest bench that is 0.446 M instructions
//! instead of 1.266 M (callgrind), and a median of 44.9 µs instead of
//! 128.1 µs with `cargo bench --features bench-internals --bench ingest --
//! sanitize_html --measurement-time 5` (2 shared AMD EPYC cores at load
//! 6–7, 2026-12-07; docs/performance.md, "Sanitizer: a filter for markup
//! built as written").
//!
//! [`tokens`]: super::tokens
//! [`tree`]: super::tree
//! [`filter`]: super::filter

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::LazyLock;

use url::Url;

use super::Element;
use super::filter;
use super::text::{clean_markup, strip_unwanted_chars};
use super::tokens::{RawKind, Token, Tokenizer};
use super::tree::{TreeModel, may_exceed_depth};

/// Most sanitizing passes before markup that does not settle is reduced to
/// its text (see [`sanitize`]).
const MAX_SANITIZE_PASSES: usize = 4;

/// URL schemes allowed in `href` and `src`.
const URL_SCHEMES: &[&str] = &["http", "https", "mailto"];

/// Sanitizes an HTML fragment for display in any feed reader or browser.
///
/// 1. Characters XML cannot carry are removed (as in
///    [`clean_text`](super::text::clean_text)) and the input is
///    re-tokenized into a canonical form: only allowed elements, quoted
///    attributes, no comments, doctypes or processing instructions;
///    `<script>` and `<style>` lose their content, and the text of
///    `<textarea>`, `<title>`, `<xmp>`, `<iframe>`, `<noembed>`,
///    `<noframes>` and `<plaintext>` is kept as text. When the HTML tree
///    builder's stack would grow deeper than
///    `MAX_HTML_DEPTH`, the markup is dropped
///    altogether and the text is wrapped in paragraphs.
/// 2. ammonia applies the allowlist: ammonia's default elements (plus
///    `tfoot`) and their default attributes except `cite`; no `style`, no
///    event handlers, no `srcset`; URLs only `http`, `https` and `mailto`;
///    links get `rel="noopener noreferrer"`; empty `href`/`src` are removed.
/// 3. Relative URLs are made absolute against `base` when it is an
///    `http`/`https` URL. Without such a base they are removed: left
///    relative, they would resolve against whatever site serves our feed.
/// 4. The serialized result goes through `clean_text` — with a guard that
///    keeps NFC from merging a tag's closing `>` with a combining mark that
///    follows it, since `>` + U+0338 composes to `≯` — and `]]>` is written
///    `]]&gt;` so the output can sit in a CDATA section.
///
/// Sanitizing the output again returns it unchanged (see the module
/// documentation for how, and why it matters).
pub fn sanitize(html: &str, base: Option<&Url>) -> String {
    sanitize_by(html, base, RULES.as_ref())
}

/// [`sanitize`] with ammonia doing all the work, never the `filter`: the
/// reference the filter is tested (and fuzzed) against.
#[cfg(any(test, feature = "bench-internals"))]
pub fn sanitize_by_ammonia(html: &str, base: Option<&Url>) -> String {
    sanitize_by(html, base, None)
}

/// Whether the first pass of [`sanitize`] over `html` is the filter's.
#[cfg(test)]
pub(super) fn filter_takes_first_pass(html: &str, base: Option<&Url>) -> bool {
    let base = base.filter(|u| matches!(u.scheme(), "http" | "https"));
    let input = strip_unwanted_chars(html);
    matches!(
        (prepare(&input), RULES.as_ref()),
        (Some((prepared, true)), Some(rules)) if filter::clean(&prepared, rules, base).is_some()
    )
}

/// [`sanitize`], with the filter's rules or without the filter.
fn sanitize_by(html: &str, base: Option<&Url>, rules: Option<&filter::Rules>) -> String {
    let base = base.filter(|u| matches!(u.scheme(), "http" | "https"));
    let relative = match base {
        Some(base) => ammonia::UrlRelative::RewriteWithBase(base.clone()),
        None => ammonia::UrlRelative::Deny,
    };
    BUILDER.with_borrow_mut(|builder| {
        builder.url_relative(relative);
        sanitize_with(html, &Cleaner { builder, base, rules })
    })
}

/// [`sanitize`] with the cleaner chosen.
fn sanitize_with(html: &str, cleaner: &Cleaner<'_>) -> String {
    let first = pass(html, cleaner);
    if first.settled {
        debug_assert_eq!(
            pass(&first.html, cleaner).html,
            first.html,
            "a settled sanitization changed on another pass"
        );
        return first.html;
    }
    let mut out = first.html;
    for _ in 1..MAX_SANITIZE_PASSES {
        let again = pass(&out, cleaner).html;
        if again == out {
            return out;
        }
        out = again;
    }
    // The parser keeps restructuring its own serialization: keep the text.
    keep_pre_newlines(clean_markup(clean(cleaner.builder, &flatten_html(&out))))
}

/// What turns a canonical form into sanitized HTML: ammonia, told the base
/// already, or for a stream the parser builds as written the [`filter`]
/// that gives the same output without building a tree.
struct Cleaner<'a> {
    builder: &'a ammonia::Builder<'static>,
    /// The base relative URLs are resolved against; without one they go.
    base: Option<&'a Url>,
    /// The filter's rules; `None` to have ammonia do all the work.
    rules: Option<&'a filter::Rules>,
}

impl Cleaner<'_> {
    /// ammonia's output for `canonical`, by the filter when `exact` (the
    /// parser builds it as written) and the filter can vouch for it; with
    /// whether the filter saw every element keep its attributes in order.
    fn clean(&self, canonical: &str, exact: bool) -> (String, bool) {
        if exact
            && let Some(rules) = self.rules
            && let Some(filtered) = filter::clean(canonical, rules, self.base)
        {
            return (filtered.html, filtered.in_order);
        }
        (clean(self.builder, canonical), false)
    }
}

/// What one pass made of a fragment.
struct Pass {
    /// The sanitized HTML.
    html: String,
    /// Whether another pass is certain to return `html` unchanged.
    settled: bool,
}

/// One sanitizing pass: steps 1 to 4 of [`sanitize`].
///
/// The output is settled when the parser built the canonical form exactly
/// as written (the tree model says so) and the [`filter`] did ammonia's
/// work: ammonia then only drops attributes, so the output is the same
/// tree, which the parser reads back as written — unless a character
/// reference put a carriage return in it (the parser reads one as a
/// newline), or dropping an attribute reordered the others (ammonia swaps
/// the last attribute into the hole; the next pass would restore the
/// order). Without the filter the pass is confirmed by another.
fn pass(html: &str, cleaner: &Cleaner<'_>) -> Pass {
    let input = strip_unwanted_chars(html);
    let (prepared, exact) = match prepare(&input) {
        Some(prepared) => prepared,
        None => (flatten_html(&input), false),
    };
    let (html, in_order) = cleaner.clean(&prepared, exact);
    let html = keep_pre_newlines(clean_markup(html));
    let settled = exact && in_order && memchr::memchr(b'\r', html.as_bytes()).is_none();
    Pass { html, settled }
}

/// ammonia's sanitizing and serialization of `html`.
fn clean(builder: &ammonia::Builder<'_>, html: &str) -> String {
    let mut out = Vec::with_capacity(html.len() + html.len() / 4);
    // Writing to a vector cannot fail, and html5ever writes UTF-8; were
    // either not so, nothing is published rather than part of it.
    if builder.clean(html).write_to(&mut out).is_err() {
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The rules of [`html_builder`] for the [`filter`]; `None` (ammonia for
/// everything) if it ever uses a setting the filter does not implement.
static RULES: LazyLock<Option<filter::Rules>> = LazyLock::new(|| filter::Rules::of(&html_builder(), keeps_value));

thread_local! {
    /// The sanitizer, one per thread, told each body's base URL (or that
    /// relative URLs go) before use: building one (a dozen hash sets) cost
    /// about as much as a tenth of sanitizing a 5 KB body.
    static BUILDER: RefCell<ammonia::Builder<'static>> = RefCell::new(html_builder());
}

/// The sanitizer's rules; relative URLs are dropped until [`sanitize`]
/// gives it a base.
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
        .attribute_filter(|_element, attribute, value| keeps_value(attribute, value).then_some(Cow::Borrowed(value)))
        .url_relative(ammonia::UrlRelative::Deny);
    builder
}

/// Whether the sanitizer keeps `value` of `attribute`: not an empty
/// `href` or `src`, which would otherwise become the base URL itself.
fn keeps_value(attribute: &str, value: &str) -> bool {
    !(matches!(attribute, "href" | "src") && value.trim().is_empty())
}

/// Doubles a newline that starts the content of a `<pre>`.
///
/// The HTML parser drops one newline right after `<pre>`, and the serializer
/// does not write it back, so without this every round trip would eat one.
fn keep_pre_newlines(html: String) -> String {
    if !html.contains("<pre") {
        return html;
    }
    let mut out = String::with_capacity(html.len() + 8);
    let mut copied = 0;
    let mut tokens = Tokenizer::html(&html);
    while let Some(token) = tokens.next() {
        if let Token::Start(tag) = token
            && tag.name == "pre"
        {
            let end = tokens.offset();
            if html.as_bytes().get(end) == Some(&b'\n') {
                out.push_str(&html[copied..end]);
                out.push('\n');
                copied = end;
            }
        }
    }
    out.push_str(&html[copied..]);
    out
}

/// Re-serializes `html` in the canonical form described in [`sanitize`],
/// with whether the tree builder builds it exactly as written; `None` when
/// its nesting exceeds [`MAX_HTML_DEPTH`](super::tree::MAX_HTML_DEPTH).
fn prepare(html: &str) -> Option<(String, bool)> {
    let mut out = String::with_capacity(html.len() + html.len() / 8);
    let mut tree = TreeModel::new(may_exceed_depth(html));
    for token in Tokenizer::html(html) {
        let element = tree.feed(&token).ok()?;
        match (token, element) {
            (Token::Text(text), _) => push_markup_text(&mut out, text),
            (Token::Raw { text, kind }, _) => push_raw_text(&mut out, text, kind),
            (Token::Start(tag), Some(element)) => {
                out.push('<');
                out.push_str(element.name());
                for (attr, value) in tag.attrs() {
                    if !is_simple_attr_name(attr) {
                        continue;
                    }
                    out.push(' ');
                    out.extend(attr.chars().map(|c| c.to_ascii_lowercase()));
                    out.push_str("=\"");
                    push_replaced(&mut out, value, b'"', "&quot;");
                    out.push('"');
                }
                out.push('>');
            }
            // The HTML parser reads `</br>` as `<br>`.
            (Token::End(_), Some(element)) if element.name() == "br" => out.push_str("<br>"),
            (Token::End(_), Some(element)) if !element.is_void() => {
                out.push_str("</");
                out.push_str(element.name());
                out.push('>');
            }
            // Elements that are not allowed, and end tags of void ones.
            (Token::Start(_) | Token::End(_), _) => {}
        }
    }
    Some((out, tree.is_exact()))
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
                if tag.name == "br" {
                    text.push('\n');
                } else if Element::named(&tag.name).is_some_and(Element::is_block) {
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

/// `text` with every `byte` (ASCII) written as `replacement`.
fn push_replaced(out: &mut String, text: &str, byte: u8, replacement: &str) {
    let mut copied = 0;
    for at in memchr::memchr_iter(byte, text.as_bytes()) {
        out.push_str(&text[copied..at]);
        out.push_str(replacement);
        copied = at + 1;
    }
    out.push_str(&text[copied..]);
}

/// Markup text with entities kept; `<` escaped so no tag can form.
fn push_markup_text(out: &mut String, text: &str) {
    push_replaced(out, text, b'<', "&lt;");
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
    use crate::html::corpus::{
        MUTATION_XSS, XSS_VECTORS, assert_safe, fuzz_inputs, output_depth, start_tags, without_attribute_values,
    };
    use crate::html::text::{Breaks, visible_text};
    use crate::html::tree::MAX_HTML_DEPTH;
    use std::time::{Duration as StdDuration, Instant};
    use unicode_normalization::UnicodeNormalization;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    /// Mutation XSS: markup whose serialization a parser reads differently
    /// the next time (namespace confusion between HTML, SVG and MathML,
    /// `noscript`, a form closed across namespaces). None of it reaches
    /// the parser as written, and what comes out is stable.
    #[test]
    fn mutation_xss_family_is_neutralized_and_stable() {
        let base = url("https://example.com/feed/");
        for input in MUTATION_XSS {
            for b in [None, Some(&base)] {
                let out = sanitize(input, b);
                assert_safe(input, &out);
                let acted_on = without_attribute_values(&out).to_ascii_lowercase();
                for bad in [
                    "onerror",
                    "<script",
                    "<style",
                    "<svg",
                    "<math",
                    "<noscript",
                    "<form",
                    "<mglyph",
                ] {
                    assert!(!acted_on.contains(bad), "{bad} from {input:?} → {out:?}");
                }
                assert!(!out.to_ascii_lowercase().contains("<script"), "{input:?} → {out:?}");
                assert!(!out.to_ascii_lowercase().contains("<style"), "{input:?} → {out:?}");
                assert_eq!(sanitize(&out, b), out, "idempotence of {input:?}");
            }
        }
        // The `noscript` vector keeps its would-be markup only as the
        // escaped value of a title.
        assert_eq!(
            sanitize(MUTATION_XSS[2], None),
            "<p title=\"&lt;/noscript&gt;&lt;img src=x onerror=alert(1)&gt;\"></p>"
        );
    }

    #[test]
    fn xss_vectors_are_neutralized() {
        assert!(XSS_VECTORS.len() >= 30);
        let base = url("https://example.com/feed/");
        for input in XSS_VECTORS {
            for b in [None, Some(&base)] {
                let out = sanitize(input, b);
                assert_safe(input, &out);
                assert_eq!(sanitize(&out, b), out, "idempotence of {input:?}");
            }
        }
    }

    #[test]
    fn nfc_cannot_break_markup() {
        let out = sanitize("<b>&#x338; onmouseover=alert(1) x</b>", None);
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
        let out = sanitize(input, None);
        assert_eq!(
            out,
            "<h2>Title</h2><p>Some <b>bold</b>, <i>italic</i> and <a href=\"https://ex.com/a?b=1&amp;c=2\" title=\"t\" rel=\"noopener noreferrer\">a link</a>.</p>\
             <ul><li>one</li><li>two</li></ul><blockquote>quote</blockquote>\
             <img src=\"https://ex.com/i.png\" alt=\"pic\" title=\"tt\" width=\"10\" height=\"20\">\
             <pre><code>let x = a &lt; b;</code></pre><table><tbody><tr><td>1</td></tr></tbody></table>"
        );
        assert_eq!(sanitize(&out, None), out);
    }

    #[test]
    fn mailto_links_survive() {
        let out = sanitize("<a href=\"mailto:a@ex.com\">mail</a>", None);
        assert_eq!(out, "<a href=\"mailto:a@ex.com\" rel=\"noopener noreferrer\">mail</a>");
    }

    #[test]
    fn relative_urls_are_rewritten_against_an_http_base() {
        let base = url("https://example.com/blog/post/");
        let out = sanitize(
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
        assert_eq!(sanitize(&out, Some(&base)), out);
        assert_eq!(sanitize(&out, None), out);
    }

    #[test]
    fn one_pass_is_trusted_only_for_markup_the_parser_builds_as_written() {
        let builder = html_builder();
        let builder = &Cleaner {
            builder: &builder,
            base: None,
            rules: RULES.as_ref(),
        };
        for (input, out) in [
            (
                "<p>Un caff\u{e8} \u{201c}corto\u{201d} <a href=\"https://example.org/\">qui</a></p>",
                "<p>Un caff\u{e8} \u{201c}corto\u{201d} <a href=\"https://example.org/\" rel=\"noopener noreferrer\">qui</a></p>",
            ),
            (
                "<ul><li>a<ul><li>b</li></ul></li></ul>",
                "<ul><li>a<ul><li>b</li></ul></li></ul>",
            ),
            ("<dl><dt>t</dt><dd>d</dd></dl>", "<dl><dt>t</dt><dd>d</dd></dl>"),
            (
                "<table><tbody><tr><td>x</td></tr></tbody></table>",
                "<table><tbody><tr><td>x</td></tr></tbody></table>",
            ),
            (
                "<b><i>x</i></b><br><pre>\n\ncode</pre>",
                "<b><i>x</i></b><br><pre>\n\ncode</pre>",
            ),
            ("<ruby>\u{6f22}<rt>kan</rt></ruby>", "<ruby>\u{6f22}<rt>kan</rt></ruby>"),
            // What the canonical form drops does not count against it.
            ("<p>x<!-- c --></p><svg><p>y</p></svg>", "<p>x</p><p>y</p>"),
            ("a\r\nb", "a\nb"),
        ] {
            let first = pass(input, builder);
            assert!(first.settled, "{input:?}");
            assert_eq!(first.html, out, "{input:?}");
            assert_eq!(pass(out, builder).html, out, "{input:?}");
        }
        for unsettled in [
            "<p><div>x</div></p>",
            "<p><table><tbody><tr><td>x</td></tr></tbody></table></p>",
            "<table><tr><td>x</td></tr></table>",
            "<table>text<tbody></tbody></table>",
            "<table>&#32;<tbody></tbody></table>",
            "<h1><h2>x</h2></h1>",
            "<a href=\"https://a.example/\"><a href=\"https://b.example/\">x</a></a>",
            "<li><li>x</li></li>",
            "<dd><dt>x</dt></dd>",
            "<ruby><rp><rt>x</rt></rp></ruby>",
            "<b><i>x</b></i>",
            "<b>unclosed",
            "<p/>",
            "<td>x</td>",
            "<table></br></table>",
            "<p>a&#13;b</p>",
            "<p title=\"a&#13;b\">c</p>",
        ] {
            assert!(!pass(unsettled, builder).settled, "{unsettled:?}");
        }
    }

    /// ammonia issue 185: the parser restructures its own serialization of
    /// mis-nested markup, and a carriage return written as a reference
    /// comes back a newline. Each of these changes on a second pass, and
    /// `sanitize` still ends at a fixpoint.
    #[test]
    fn markup_whose_first_sanitization_is_not_a_fixpoint_still_settles() {
        let builder = html_builder();
        let builder = &Cleaner {
            builder: &builder,
            base: None,
            rules: RULES.as_ref(),
        };
        for input in [
            "<a><table><a>",
            "<h1><a><h6></a></h6>",
            "<h2>a<table><table><h1>b",
            "<p>a&#13;b</p>",
        ] {
            let first = pass(input, builder);
            assert!(!first.settled, "{input:?}");
            assert_ne!(pass(&first.html, builder).html, first.html, "{input:?}");
            let out = sanitize(input, None);
            assert_eq!(sanitize(&out, None), out, "{input:?}");
        }
    }

    /// ammonia drops an attribute by swapping the last one into its place:
    /// an empty `href` before other attributes came out with `rel` first,
    /// and the next pass (which drops that `rel` and adds its own last)
    /// changed it. The output is the fixpoint.
    #[test]
    fn an_attribute_dropped_before_others_still_leaves_a_fixpoint() {
        let base = url("https://example.com/feed/");
        for b in [None, Some(&base)] {
            for input in [
                "<a href=\"\" title=\"t\" hreflang=\"it\">x</a>",
                "<a href=\" \" title=\"t\">x</a>",
                "<img src=\"\" alt=\"a\" width=\"1\">",
                "<a href=\"//[::1\" title=\"t\">x</a>",
            ] {
                let out = sanitize(input, b);
                assert_eq!(sanitize(&out, b), out, "{input:?}");
                assert_eq!(out, sanitize_by_ammonia(input, b), "{input:?}");
            }
        }
        assert_eq!(
            sanitize("<a href=\"\" title=\"t\" hreflang=\"it\">x</a>", Some(&base)),
            "<a title=\"t\" hreflang=\"it\" rel=\"noopener noreferrer\">x</a>"
        );
    }

    #[test]
    fn relative_urls_are_dropped_without_an_http_base() {
        let input = "<a href=\"/x\">a</a><img src=\"img.png\" alt=\"i\">";
        let expected = "<a rel=\"noopener noreferrer\">a</a><img alt=\"i\">";
        assert_eq!(sanitize(input, None), expected);
        let file_base = url("file:///home/me/feed.xml");
        assert_eq!(sanitize(input, Some(&file_base)), expected);
    }

    #[test]
    fn text_with_cdata_end_stays_text() {
        let out = sanitize("<p>a ]]> b</p>", None);
        assert_eq!(out, "<p>a ]]&gt; b</p>");
        assert_eq!(visible_text(&out, Breaks::Blocks), "a ]]> b");
        let out = sanitize("<p title=\"x]]>y\">t</p>", None);
        assert!(!out.contains("]]>"));
        assert_eq!(sanitize(&out, None), out);
    }

    #[test]
    fn raw_text_elements() {
        assert_eq!(sanitize("a<script>x<b>y</b></script>b", None), "ab");
        assert_eq!(sanitize("a<style>p{}</style>b", None), "ab");
        assert_eq!(
            sanitize("<textarea><b>x</b> &amp;</textarea>", None),
            "&lt;b&gt;x&lt;/b&gt; &amp;"
        );
        assert_eq!(
            sanitize("<xmp><b>x</b> &amp;</xmp>", None),
            "&lt;b&gt;x&lt;/b&gt; &amp;amp;"
        );
        assert_eq!(sanitize("<script>never closed <b>x", None), "");
        assert_eq!(
            sanitize("<noscript><img src=\"https://ex.com/i.png\"></noscript>", None),
            "<img src=\"https://ex.com/i.png\">"
        );
    }

    #[test]
    fn italian_text_is_byte_exact() {
        let html = "<p>L’Alleanza Sino-Russa non è un fenomeno passeggero… “un modello di relazioni”</p>";
        assert_eq!(sanitize(html, None), html);
    }

    #[test]
    fn nesting_within_the_cap_is_kept() {
        let input = format!("{}x{}", "<div>".repeat(100), "</div>".repeat(100));
        let out = sanitize(&input, None);
        assert_eq!(out, input);
    }

    #[test]
    fn deep_nesting_is_flattened_quickly() {
        let input = format!("{}deep text{}", "<div>".repeat(600), "</div>".repeat(600));
        let started = Instant::now();
        let out = sanitize(&input, None);
        assert_eq!(out, "<p>deep text</p>");
        let huge = format!(
            "<p>intro &amp; more</p>{}<b>x</b> y<script>bad()</script>",
            "<div>".repeat(40_000)
        );
        let out = sanitize(&huge, None);
        assert_eq!(out, "<p>intro &amp; more</p><p>x y</p>");
        assert!(started.elapsed() < StdDuration::from_secs(3));
        assert_eq!(sanitize(&out, None), out);
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
            let out = sanitize(&input, None);
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
            let out = sanitize(input, None);
            assert_eq!(sanitize(&out, None), out, "{input:?}");
        }
        assert_eq!(sanitize("<pre>\n\nx</pre>", None), "<pre>\n\nx</pre>");
        assert_eq!(sanitize("<pre>\nx</pre>", None), "<pre>x</pre>");
        assert_eq!(
            sanitize("<p title=\"<pre>\n\">t</p>", None),
            "<p title=\"&lt;pre&gt;\n\">t</p>"
        );
    }

    #[test]
    fn misnested_markup_settles() {
        let input = "<h2>a<table><table><h1>b";
        let out = sanitize(input, None);
        assert_eq!(sanitize(&out, None), out);
    }

    #[test]
    fn empty_urls_are_dropped() {
        let base = url("https://example.com/feed/");
        assert_eq!(
            sanitize("<a href=\"\">e</a><img src=\" \">", Some(&base)),
            "<a rel=\"noopener noreferrer\">e</a><img>"
        );
    }

    #[test]
    fn fuzzed_markup_is_safe_and_idempotent() {
        let base = url("https://example.com/feed/");
        for input in fuzz_inputs(3_000) {
            for b in [None, Some(&base)] {
                let out = sanitize(&input, b);
                assert_safe(&input, &out);
                assert_eq!(sanitize(&out, b), out, "idempotence of {input:?}");
                let text = visible_text(&out, Breaks::Blocks);
                assert_eq!(strip_unwanted_chars(&text), text);
            }
        }
    }
}
