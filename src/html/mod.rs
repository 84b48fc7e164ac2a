//! HTML: the one place that reads it.
//!
//! Feeds carry HTML from anyone, in the body of every item and sometimes in
//! titles and names. Every reading of it goes through this module:
//!
//! * [`tokens`] splits HTML into text and tags, with the HTML tokenization
//!   rules (and a stricter reading for text fields that merely may hold
//!   markup);
//! * [`sanitize`](fn@sanitize) makes an untrusted fragment safe to publish:
//!   ammonia's allowlist, a canonical form the parser cannot misread, a cap
//!   on nesting depth (with the model of the HTML tree builder in `tree`),
//!   and output that is stable when sanitized again; for markup the
//!   parser builds as written, `filter` does ammonia's work without a tree;
//! * [`text`] reads the text a reader sees, and holds the character rules
//!   every stored text follows;
//! * the table of elements below: which are allowed, void, blocks of text,
//!   and how the HTML tree builder treats them, in one place.
//!
//! `normalize` sanitizes bodies and makes titles plain text with it, `dedup`
//! fingerprints visible text with it and `publish` writes JSON Feed
//! summaries with it; nothing else tokenizes HTML or decides what its text
//! is. Inside, the modules depend one way: `tokens` ← `text` ← `sanitize`,
//! `tokens` ← `tree` ← `sanitize`, and `filter` ← `sanitize`.

mod filter;
mod sanitize;
pub mod text;
pub mod tokens;
mod tree;

pub use sanitize::sanitize;
#[cfg(feature = "bench-internals")]
pub use sanitize::sanitize_by_ammonia;

#[cfg(test)]
mod corpus;

/// An element the program knows by name: a row of the element table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Element(u8);

/// Kept by the sanitizer (ammonia's default allowlist plus `tfoot`).
const ALLOWED: u16 = 1;
/// Never has content or an end tag.
const VOID: u16 = 1 << 1;
/// Separates words: a block of text, or a line break.
const BLOCK: u16 = 1 << 2;
/// A tag with this name is markup even inside a plain-text field.
const TEXT: u16 = 1 << 3;
/// In the HTML parser's "special" category: a start `<li>` (`<dd>`, `<dt>`)
/// looks for an open one to close only up to the nearest of these, other
/// than `div` and `p` (listed for allowed elements only).
const SPECIAL: u16 = 1 << 4;
/// Its start tag closes an open `<p>` (`table` is left out: whether it does
/// depends on the document's quirks mode).
const CLOSES_P: u16 = 1 << 5;
/// Closed implicitly by the end tag of an enclosing block.
const IMPLIED_END: u16 = 1 << 6;
/// A block whose end tag also closes the implied-end elements above it.
const BLOCK_END: u16 = 1 << 7;

/// Every element name the program knows, sorted, with what it knows of it.
const ELEMENTS: &[(&str, u16)] = &[
    ("a", ALLOWED | TEXT),
    ("abbr", ALLOWED | TEXT),
    ("acronym", ALLOWED | TEXT),
    ("address", BLOCK | TEXT),
    ("area", ALLOWED | VOID | SPECIAL),
    ("article", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P | BLOCK_END),
    ("aside", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P | BLOCK_END),
    ("audio", TEXT),
    ("b", ALLOWED | TEXT),
    ("bdi", ALLOWED | TEXT),
    ("bdo", ALLOWED | TEXT),
    ("big", TEXT),
    ("blink", TEXT),
    ("blockquote", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P | BLOCK_END),
    ("body", TEXT),
    ("br", ALLOWED | VOID | BLOCK | TEXT | SPECIAL),
    ("button", TEXT),
    ("caption", ALLOWED | BLOCK | TEXT | SPECIAL),
    ("center", ALLOWED | TEXT | SPECIAL | CLOSES_P | BLOCK_END),
    ("cite", ALLOWED | TEXT),
    ("code", ALLOWED | TEXT),
    ("col", ALLOWED | VOID | SPECIAL),
    ("colgroup", ALLOWED | SPECIAL),
    ("data", ALLOWED),
    ("dd", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P | IMPLIED_END),
    ("del", ALLOWED | TEXT),
    ("details", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P | BLOCK_END),
    ("dfn", ALLOWED | TEXT),
    ("div", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P | BLOCK_END),
    ("dl", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P | BLOCK_END),
    ("dt", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P | IMPLIED_END),
    ("em", ALLOWED | TEXT),
    ("embed", TEXT),
    ("figcaption", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P | BLOCK_END),
    ("figure", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P | BLOCK_END),
    ("font", TEXT),
    ("footer", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P | BLOCK_END),
    ("form", TEXT),
    ("h1", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P),
    ("h2", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P),
    ("h3", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P),
    ("h4", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P),
    ("h5", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P),
    ("h6", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P),
    ("head", TEXT),
    ("header", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P | BLOCK_END),
    ("hgroup", ALLOWED | SPECIAL | CLOSES_P | BLOCK_END),
    ("hr", ALLOWED | VOID | BLOCK | TEXT | SPECIAL | CLOSES_P),
    ("html", TEXT),
    ("i", ALLOWED | TEXT),
    ("iframe", TEXT),
    ("img", ALLOWED | VOID | TEXT | SPECIAL),
    ("input", TEXT),
    ("ins", ALLOWED | TEXT),
    ("kbd", ALLOWED | TEXT),
    ("label", TEXT),
    ("li", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P | IMPLIED_END),
    ("link", TEXT),
    ("main", TEXT),
    ("map", ALLOWED),
    ("mark", ALLOWED | TEXT),
    ("math", TEXT),
    ("meta", TEXT),
    ("nav", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P | BLOCK_END),
    ("nobr", TEXT),
    ("object", TEXT),
    ("ol", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P | BLOCK_END),
    ("p", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P | IMPLIED_END),
    ("picture", TEXT),
    ("pre", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P | BLOCK_END),
    ("q", ALLOWED | TEXT),
    ("rp", ALLOWED | IMPLIED_END),
    ("rt", ALLOWED | IMPLIED_END),
    ("rtc", ALLOWED | IMPLIED_END),
    ("ruby", ALLOWED),
    ("s", ALLOWED | TEXT),
    ("samp", ALLOWED | TEXT),
    ("script", TEXT),
    ("section", BLOCK | TEXT),
    ("small", ALLOWED | TEXT),
    ("source", TEXT),
    ("span", ALLOWED | TEXT),
    ("strike", ALLOWED | TEXT),
    ("strong", ALLOWED | TEXT),
    ("style", TEXT),
    ("sub", ALLOWED | TEXT),
    ("summary", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P | BLOCK_END),
    ("sup", ALLOWED | TEXT),
    ("svg", TEXT),
    ("table", ALLOWED | BLOCK | TEXT | SPECIAL),
    ("tbody", ALLOWED | TEXT | SPECIAL),
    ("td", ALLOWED | BLOCK | TEXT | SPECIAL),
    ("textarea", TEXT),
    ("tfoot", ALLOWED | TEXT | SPECIAL),
    ("th", ALLOWED | BLOCK | TEXT | SPECIAL),
    ("thead", ALLOWED | TEXT | SPECIAL),
    ("time", ALLOWED | TEXT),
    ("title", TEXT),
    ("tr", ALLOWED | BLOCK | TEXT | SPECIAL),
    ("tt", ALLOWED | TEXT),
    ("u", ALLOWED | TEXT),
    ("ul", ALLOWED | BLOCK | TEXT | SPECIAL | CLOSES_P | BLOCK_END),
    ("var", ALLOWED | TEXT),
    ("video", TEXT),
    ("wbr", ALLOWED | VOID | TEXT | SPECIAL),
];

/// The longest element name [`Element::named`] can look up.
const MAX_NAME: usize = 16;

/// A name as an integer whose order is the names' order: its bytes, big
/// endian, zero-padded (as [`Element::named`] makes them at run time);
/// `None` for names no element has.
const fn key(name: &[u8]) -> Option<u128> {
    if name.is_empty() || name.len() > MAX_NAME {
        return None;
    }
    let mut key = 0u128;
    let mut i = 0;
    while i < MAX_NAME {
        let byte = if i < name.len() { name[i] } else { 0 };
        if byte == 0 && i < name.len() {
            // Zero is the padding.
            return None;
        }
        key = key << 8 | byte as u128;
        i += 1;
    }
    Some(key)
}

/// The keys of [`ELEMENTS`], in the same order.
const KEYS: [u128; ELEMENTS.len()] = {
    let mut keys = [0; ELEMENTS.len()];
    let mut i = 0;
    while i < ELEMENTS.len() {
        keys[i] = match key(ELEMENTS[i].0.as_bytes()) {
            Some(key) => key,
            None => panic!("an element name longer than MAX_NAME"),
        };
        i += 1;
    }
    keys
};

impl Element {
    /// The element with this lower-case name, if it is in the table.
    pub fn named(name: &str) -> Option<Element> {
        // Runs for every tag of every body: a binary search over integer
        // keys rather than string comparisons.
        let name = name.as_bytes();
        if name.is_empty() || name.len() > MAX_NAME || name.contains(&0) {
            return None;
        }
        let mut padded = [0; MAX_NAME];
        padded[..name.len()].copy_from_slice(name);
        let index = KEYS.binary_search(&u128::from_be_bytes(padded)).ok()?;
        // The table has fewer than 256 rows (checked by a test).
        u8::try_from(index).ok().map(Element)
    }

    /// The element's lower-case name.
    pub fn name(self) -> &'static str {
        ELEMENTS[usize::from(self.0)].0
    }

    fn has(self, flag: u16) -> bool {
        ELEMENTS[usize::from(self.0)].1 & flag != 0
    }

    /// Kept by the sanitizer.
    pub fn is_allowed(self) -> bool {
        self.has(ALLOWED)
    }

    /// Never has content or an end tag.
    pub fn is_void(self) -> bool {
        self.has(VOID)
    }

    /// Separates words in the text a reader sees.
    pub fn is_block(self) -> bool {
        self.has(BLOCK)
    }

    /// Markup even inside a plain-text field (see [`tokens::Tokenizer::text`]).
    pub fn is_text_markup(self) -> bool {
        self.has(TEXT)
    }

    /// In the HTML parser's "special" category (allowed elements only).
    pub(crate) fn is_special(self) -> bool {
        self.has(SPECIAL)
    }

    /// Its start tag closes an open `<p>`.
    pub(crate) fn closes_p(self) -> bool {
        self.has(CLOSES_P)
    }

    /// Closed implicitly by the end tag of an enclosing block.
    pub(crate) fn ends_implied(self) -> bool {
        self.has(IMPLIED_END)
    }

    /// A block whose end tag closes the implied-end elements above it.
    pub(crate) fn is_block_end(self) -> bool {
        self.has(BLOCK_END)
    }

    /// `h1` to `h6`.
    pub(crate) fn is_heading(self) -> bool {
        matches!(self.name(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
    }

    /// The names of the elements the sanitizer keeps.
    pub(crate) fn allowed_names() -> impl Iterator<Item = &'static str> {
        ELEMENTS.iter().filter(|(_, f)| f & ALLOWED != 0).map(|(n, _)| *n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_element_table_is_sorted_small_and_consistent() {
        assert!(ELEMENTS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(KEYS.windows(2).all(|w| w[0] < w[1]));
        assert!(ELEMENTS.len() < 256);
        for (i, (name, _)) in ELEMENTS.iter().enumerate() {
            let element = Element::named(name);
            assert_eq!(element.map(|e| usize::from(e.0)), Some(i));
            assert_eq!(element.map(Element::name), Some(*name));
            assert_eq!(*name, name.to_ascii_lowercase());
        }
        for unknown in ["P", "", "abbreviations-too", "a\0", "h7", "blockquotes", "\u{e9}"] {
            assert_eq!(Element::named(unknown), None, "{unknown:?}");
        }
        assert_eq!(Element::named("blink").map(Element::is_allowed), Some(false));
        // Void and parser-only facts are kept for allowed elements, which
        // are the only ones the parser ever sees from us.
        for (name, flags) in ELEMENTS {
            if flags & (VOID | SPECIAL | CLOSES_P | IMPLIED_END | BLOCK_END) != 0 {
                assert!(flags & ALLOWED != 0, "{name}");
            }
        }
    }
}
