//! The tree: what the HTML parser will build from the sanitizer's tokens,
//! as far as the sanitizer needs to know it.
//!
//! The sanitizer hands ammonia — html5ever's tree builder — a token stream
//! of allowed elements only. Two facts about the tree the builder makes of
//! it decide what the sanitizer does, and [`TreeModel`], a model of the
//! builder's stack of open elements fed with those tokens, knows both:
//!
//! * **Depth.** The parser's and ammonia's cost grows with nesting depth
//!   times size (40,000 nested `<div>`s took seconds), so a stream whose
//!   stack would grow deeper than [`MAX_HTML_DEPTH`] is not parsed at all
//!   but reduced to its text. The model may overestimate the depth but
//!   never underestimates it: it closes an element only when the tree
//!   builder certainly closes it too.
//! * **Exactness.** Whether the builder does nothing but open and close as
//!   written: every end tag closes the element on top, no start tag closes
//!   anything implicitly, table parts stand only where they belong. Then
//!   the tree is the stream as written, and so is the sanitized output,
//!   which the parser therefore reads back as written: sanitizing it again
//!   would change nothing, and the sanitizer need not try (see
//!   `sanitize`).
//!
//! While the stream is exact the model's stack is the builder's, element
//! for element; once it is not, the model keeps its conservative depth
//! count, and only if the depth could matter at all.

use super::Element;
use super::tokens::{RawKind, Token};

/// The deepest element nesting the sanitizer hands to the HTML parser.
///
/// Deeper input is flattened to paragraphs of text: the parser and the
/// sanitizer cost grows with depth times size (40,000 nested `<div>`s took
/// seconds), and no real article nests this deep.
pub const MAX_HTML_DEPTH: usize = 512;

/// Elements a table end tag closes on its way to the table.
const TABLE_END: &[&str] = &[
    "caption", "colgroup", "dd", "dt", "li", "p", "rp", "rt", "rtc", "tbody", "td", "tfoot", "th", "thead", "tr",
];
/// Elements a table section's end tag closes on its way.
const TABLE_SECTION_END: &[&str] = &["dd", "dt", "li", "p", "rp", "rt", "rtc", "td", "th", "tr"];
/// Elements a row's end tag closes on its way.
const TABLE_ROW_END: &[&str] = &["dd", "dt", "li", "p", "rp", "rt", "rtc", "td", "th"];

/// Whether a fragment can make the model deeper than [`MAX_HTML_DEPTH`].
///
/// The model pushes one element per start tag, and at most two more for a
/// table cell or row (the `tbody` and `tr` the parser inserts), so a
/// fragment with few `<` cannot: most bodies need no depth model at all.
pub fn may_exceed_depth(html: &str) -> bool {
    let bytes = html.as_bytes();
    let mut bound = 0;
    for at in memchr::memchr_iter(b'<', bytes) {
        bound += if matches!(bytes.get(at + 1), Some(b't' | b'T')) {
            3
        } else {
            1
        };
        if bound > MAX_HTML_DEPTH {
            return true;
        }
    }
    false
}

/// The HTML tree builder's stack would grow deeper than [`MAX_HTML_DEPTH`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooDeep;

/// A model of the HTML tree builder's stack of open elements; see the
/// module documentation.
#[derive(Debug)]
pub struct TreeModel {
    stack: Vec<Element>,
    exact: bool,
    /// Whether the depth must still be followed once the stream is not
    /// exact (see [`may_exceed_depth`]).
    depth_matters: bool,
}

impl TreeModel {
    /// A model for a fragment; `depth_matters` unless [`may_exceed_depth`]
    /// says it cannot.
    pub fn new(depth_matters: bool) -> Self {
        TreeModel {
            stack: Vec::new(),
            exact: true,
            depth_matters,
        }
    }

    /// Whether the tree builder builds the stream so far exactly as written,
    /// every element closed.
    pub fn is_exact(&self) -> bool {
        self.exact && self.stack.is_empty()
    }

    fn top(&self) -> Option<&'static str> {
        self.stack.last().map(|e| e.name())
    }

    fn is_open(&self, name: &str) -> bool {
        self.stack.iter().any(|e| e.name() == name)
    }

    /// Follows one token of the canonical stream the sanitizer writes:
    /// only allowed elements count (the parser never sees the others), the
    /// content of a raw-text element that is kept is text, and `</br>` is a
    /// `<br>`, as the parser reads it. Returns the allowed element a tag
    /// names, if any; [`TooDeep`] when the depth cap is exceeded.
    pub fn feed(&mut self, token: &Token<'_>) -> Result<Option<Element>, TooDeep> {
        let allowed = |name: &str| Element::named(name).filter(|e| e.is_allowed());
        let element = match token {
            Token::Text(text) => {
                self.text(text);
                None
            }
            Token::Raw { text, kind } => {
                if *kind != RawKind::Dropped {
                    self.text(text);
                }
                None
            }
            Token::Start(tag) => {
                let element = allowed(&tag.name);
                if let Some(element) = element
                    && !self.start(element, tag.self_closing)
                {
                    return Err(TooDeep);
                }
                element
            }
            Token::End(tag) => {
                let element = allowed(&tag.name);
                match element {
                    Some(br) if br.name() == "br" => self.start(br, false).then_some(()).ok_or(TooDeep)?,
                    Some(element) if !element.is_void() => self.end(element),
                    _ => {}
                }
                element
            }
        };
        Ok(element)
    }

    /// Text between tags: anything but whitespace directly inside table
    /// structure is moved out of the table by the parser.
    fn text(&mut self, text: &str) {
        if self.exact
            && matches!(
                self.top(),
                Some("table" | "tbody" | "thead" | "tfoot" | "tr" | "colgroup")
            )
            && !text.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\x0c'))
        {
            self.exact = false;
        }
    }

    /// A start tag of an allowed element; `false` when the depth cap is
    /// exceeded.
    fn start(&mut self, element: Element, self_closing: bool) -> bool {
        if self.exact {
            if self.opens_as_written(element, self_closing) {
                return element.is_void() || self.push(element);
            }
            self.exact = false;
        }
        !self.depth_matters || self.start_conservatively(element)
    }

    /// An end tag of an allowed, non-void element.
    fn end(&mut self, element: Element) {
        if self.exact {
            if self.stack.last() == Some(&element) {
                self.stack.pop();
                return;
            }
            self.exact = false;
        }
        if self.depth_matters {
            self.end_conservatively(element);
        }
    }

    fn push(&mut self, element: Element) -> bool {
        self.stack.push(element);
        self.stack.len() <= MAX_HTML_DEPTH
    }

    /// Whether the tree builder just opens `element` (or, void, inserts it)
    /// where the stream puts it: it fits where it stands and closes nothing.
    fn opens_as_written(&self, element: Element, self_closing: bool) -> bool {
        let name = element.name();
        let top = self.top();
        if self_closing && !element.is_void() {
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
        let closes_something = match name {
            _ if (element.closes_p() || name == "table") && self.is_open("p") => true,
            _ if element.is_heading() && self.stack.last().is_some_and(|e| e.is_heading()) => true,
            "a" => self.is_open("a"),
            "li" | "dd" | "dt" => {
                let same: &[&str] = if name == "li" { &["li"] } else { &["dd", "dt"] };
                self.stack
                    .iter()
                    .rev()
                    .take_while(|e| !e.is_special() || matches!(e.name(), "div" | "p") || same.contains(&e.name()))
                    .any(|e| same.contains(&e.name()))
            }
            "rp" | "rt" | "rtc" => {
                self.is_open("ruby") && matches!(top, Some("dd" | "dt" | "li" | "p" | "rp" | "rt" | "rtc"))
            }
            _ => false,
        };
        fits && !closes_something
    }

    fn pop_if(&mut self, names: &[&str]) {
        if self.top().is_some_and(|top| names.contains(&top)) {
            self.stack.pop();
        }
    }

    /// A start tag once the stream is not exact: implied closes only where
    /// the tree builder certainly makes them; self-closing syntax on a
    /// non-void element opens it, as in HTML; the `tbody` and `tr` the
    /// parser inserts around bare table cells are counted. `false` when the
    /// depth cap is exceeded.
    fn start_conservatively(&mut self, element: Element) -> bool {
        let name = element.name();
        if element.closes_p() {
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
        if element.is_void() {
            return true;
        }
        let in_section = matches!(self.top(), Some("tbody" | "thead" | "tfoot"));
        let needs_row = matches!(name, "td" | "th") && self.top() != Some("tr");
        let needs_section = (needs_row || name == "tr") && !in_section;
        for (needed, inserted) in [(needs_section, "tbody"), (needs_row, "tr")] {
            if needed
                && let Some(inserted) = Element::named(inserted)
                && !self.push(inserted)
            {
                return false;
            }
        }
        self.push(element)
    }

    /// An end tag once the stream is not exact: it closes the innermost
    /// open element of its name only if that is on top, or if every element
    /// above it is one the tree builder closes implicitly for that end tag
    /// (`</ul>` closes an unclosed `<li>`, `</table>` unclosed cells and
    /// rows). Formatting elements are never closed implicitly, because the
    /// tree builder reopens them later.
    fn end_conservatively(&mut self, element: Element) {
        let name = element.name();
        let implied = |open: Element| open.ends_implied();
        let through = |open: Element| match name {
            "table" => TABLE_END.contains(&open.name()),
            "tbody" | "thead" | "tfoot" => TABLE_SECTION_END.contains(&open.name()),
            "tr" => TABLE_ROW_END.contains(&open.name()),
            "td" | "th" | "caption" | "p" | "li" | "dd" | "dt" => implied(open),
            _ if element.is_heading() || element.is_block_end() => implied(open),
            _ => false,
        };
        let closes = |open: Element| open == element || (element.is_heading() && open.is_heading());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::tokens::Tokenizer;

    fn too_deep(html: &str) -> bool {
        let mut tree = TreeModel::new(true);
        !Tokenizer::html(html).all(|token| tree.feed(&token).is_ok())
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
    fn few_tags_cannot_exceed_the_depth_cap() {
        assert!(!may_exceed_depth(&"<div>".repeat(MAX_HTML_DEPTH)));
        assert!(may_exceed_depth(&"<div>".repeat(MAX_HTML_DEPTH + 1)));
        // A bare cell may open a tbody and a row besides itself.
        let cells = "<td>".repeat(MAX_HTML_DEPTH / 3);
        assert!(!may_exceed_depth(&cells));
        assert!(may_exceed_depth(&format!("{cells}<TD>")));
        let mut tree = TreeModel::new(false);
        assert!(Tokenizer::html(&format!("<table>{cells}")).all(|token| tree.feed(&token).is_ok()));
        // Where it cannot, the model stops following the depth once the
        // stream is not exact, and never refuses.
        let mut tree = TreeModel::new(false);
        assert!(Tokenizer::html(&"<p><div>".repeat(400)).all(|token| tree.feed(&token).is_ok()));
        assert!(!tree.is_exact());
    }
}
