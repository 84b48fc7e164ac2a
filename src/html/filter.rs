//! ammonia's work on a canonical stream the parser builds as written,
//! done as a filter over that stream.
//!
//! When the tree model says the HTML parser builds the canonical form
//! exactly as written ([`TreeModel::is_exact`](super::tree::TreeModel::is_exact)),
//! the tree ammonia walks is the stream itself: every element of it is
//! allowed, in the HTML namespace, and closed where written. What ammonia
//! then does reduces to what it does to each element's attributes, and what
//! html5ever's tokenizer and serializer do to text and attribute values:
//!
//! * character references are decoded as the tokenizer decodes them (the
//!   same table, `html5ever::data::NAMED_ENTITIES`; the legacy names
//!   without a semicolon, which in an attribute stay as written before `=`
//!   or a letter or digit; numeric references with the windows-1252
//!   replacements of `C1_REPLACEMENTS`), and carriage returns written as
//!   such become newlines;
//! * the newline right after `<pre>` is dropped, as the tree builder does;
//! * attributes: a repeated one keeps its first value; ammonia keeps those
//!   of its allowlist whose URL, if they hold one, has an allowed scheme or
//!   is relative with a base to resolve it against; adds `rel` to links;
//!   drops empty `href`/`src` (the sanitizer's attribute filter); resolves
//!   relative URLs with `Url::join` — in ammonia's order, including the
//!   `swap_remove` that reorders what follows a dropped attribute;
//! * the serializer escapes `&`, `<`, `>` and U+00A0 in text, and `&`, `"`,
//!   `<`, `>` and U+00A0 in attribute values, and writes void elements
//!   without an end tag.
//!
//! The output is byte for byte ammonia's (the tests compare the two over
//! every corpus the sanitizer has), at a fifth of the cost. Whatever this
//! filter is not sure to reproduce — a character reference right after
//! `<pre>` (the parser's handling of that newline depends on whether the
//! reference is well formed), an ammonia setting it does not implement,
//! anything unexpected in the canonical form — makes it return `None`, and
//! the sanitizer gives the stream to ammonia.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use html5ever::data::{C1_REPLACEMENTS, NAMED_ENTITIES};
use url::Url;

use super::Element;

/// The part of an ammonia builder's configuration the filter applies,
/// read from the builder itself.
#[derive(Debug)]
pub(super) struct Rules {
    tag_attributes: HashMap<&'static str, HashSet<&'static str>>,
    generic_attributes: HashSet<&'static str>,
    url_schemes: HashSet<&'static str>,
    link_rel: Option<String>,
    /// Whether an attribute value is kept: the builder's attribute filter,
    /// which the builder cannot hand out.
    keeps_value: fn(&str, &str) -> bool,
}

impl Rules {
    /// The rules of `builder`, whose attribute filter is `keeps_value`;
    /// `None` when it uses a setting the filter does not implement
    /// (attribute values or prefixes, classes), so that only ammonia runs.
    pub(super) fn of(builder: &ammonia::Builder<'static>, keeps_value: fn(&str, &str) -> bool) -> Option<Rules> {
        let unsupported = !builder.clone_tag_attribute_values().is_empty()
            || !builder.clone_set_tag_attribute_values().is_empty()
            || !builder.clone_allowed_classes().is_empty()
            || builder.clone_generic_attribute_prefixes().is_some();
        if unsupported {
            return None;
        }
        Some(Rules {
            tag_attributes: builder.clone_tag_attributes(),
            generic_attributes: builder.clone_generic_attributes(),
            url_schemes: builder.clone_url_schemes(),
            link_rel: builder.get_link_rel().map(str::to_owned),
            keeps_value,
        })
    }

    fn allows(&self, element: &str, attribute: &str) -> bool {
        self.generic_attributes.contains(attribute)
            || self
                .tag_attributes
                .get(element)
                .is_some_and(|names| names.contains(attribute))
    }
}

/// Whether ammonia treats `attribute` of `element` as a URL (its
/// `is_url_attr`, for HTML elements).
fn is_url_attr(element: &str, attribute: &str) -> bool {
    matches!(attribute, "href" | "xlink:href" | "src")
        || (element == "form" && attribute == "action")
        || (element == "object" && attribute == "data")
        || (matches!(element, "button" | "input") && attribute == "formaction")
        || (element == "a" && attribute == "ping")
        || (element == "video" && attribute == "poster")
}

/// One attribute on its way through ammonia's steps.
struct Attr<'a> {
    /// Where it stood among the element's attributes (`rel` added: last).
    index: usize,
    name: &'a str,
    value: Cow<'a, str>,
    /// A URL attribute whose value is a relative URL.
    relative: bool,
}

/// What the filter made of a canonical stream.
pub(super) struct Filtered {
    /// ammonia's output.
    pub(super) html: String,
    /// Whether every element kept its attributes in their order, `rel`
    /// last. ammonia removes an attribute by swapping the last one into its
    /// place, and sanitizing that order again would put it back: output
    /// whose order changed is not yet a fixpoint.
    pub(super) in_order: bool,
}

/// ammonia's output for `canonical`, a canonical stream the parser builds
/// exactly as written; relative URLs resolved against `base`, or dropped
/// without one. `None` when the filter cannot vouch for the result.
pub(super) fn clean<'a>(canonical: &'a str, rules: &'a Rules, base: Option<&Url>) -> Option<Filtered> {
    let bytes = canonical.as_bytes();
    let mut out = String::with_capacity(canonical.len() + canonical.len() / 8);
    let mut attrs: Vec<Attr<'a>> = Vec::new();
    let mut pos = 0;
    let mut after_pre = false;
    let mut in_order = true;
    while pos < bytes.len() {
        if bytes[pos] != b'<' {
            let end = memchr::memchr(b'<', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
            let mut text = &canonical[pos..end];
            if after_pre {
                // The tree builder drops a newline that starts a `<pre>`,
                // unless a parse error came first: a reference here could
                // be one.
                if text.starts_with('&') {
                    return None;
                }
                text = text
                    .strip_prefix("\r\n")
                    .or_else(|| text.strip_prefix(['\r', '\n']))
                    .unwrap_or(text);
            }
            push_text(&mut out, text, false);
            after_pre = false;
            pos = end;
            continue;
        }
        let close = pos + 1 + memchr::memchr(b'>', &bytes[pos + 1..])?;
        if bytes.get(pos + 1) == Some(&b'/') {
            let element = allowed(&canonical[pos + 2..close])?;
            if element.is_void() {
                return None;
            }
            out.push_str(&canonical[pos..=close]);
            pos = close + 1;
            after_pre = false;
            continue;
        }
        // A start tag: `<name` then ` name="value"` pairs; values hold no
        // `"` but may hold `>`.
        let name_end = pos + 1 + bytes[pos + 1..].iter().position(|&b| b == b' ' || b == b'>')?;
        let element = allowed(&canonical[pos + 1..name_end])?;
        let tag = element.name();
        attrs.clear();
        let mut at = name_end;
        while bytes[at] == b' ' {
            let eq = at + 1 + memchr::memchr(b'=', &bytes[at + 1..])?;
            let name = &canonical[at + 1..eq];
            if bytes.get(eq + 1) != Some(&b'"') {
                return None;
            }
            let value_end = eq + 2 + memchr::memchr(b'"', &bytes[eq + 2..])?;
            at = value_end + 1;
            if at >= bytes.len() {
                return None;
            }
            // The tokenizer keeps the first of repeated attributes.
            if attrs.iter().any(|a| a.name == name) {
                continue;
            }
            attrs.push(Attr {
                index: attrs.len(),
                name,
                value: decode(&canonical[eq + 2..value_end], true),
                relative: false,
            });
        }
        if bytes[at] != b'>' {
            return None;
        }
        pos = at + 1;
        filter_attributes(tag, &mut attrs, rules, base);
        in_order &= attrs.windows(2).all(|w| w[0].index < w[1].index);
        out.push('<');
        out.push_str(tag);
        for attr in &attrs {
            out.push(' ');
            out.push_str(attr.name);
            out.push_str("=\"");
            push_escaped(&mut out, &attr.value, true);
            out.push('"');
        }
        out.push('>');
        after_pre = tag == "pre";
    }
    Some(Filtered { html: out, in_order })
}

/// The allowed element named `name`.
fn allowed(name: &str) -> Option<Element> {
    Element::named(name).filter(|e| e.is_allowed())
}

/// ammonia's `clean_child` and `adjust_node_attributes` on the attributes
/// of one element, step by step.
fn filter_attributes<'a>(tag: &str, attrs: &mut Vec<Attr<'a>>, rules: &'a Rules, base: Option<&Url>) {
    attrs.retain_mut(|attr| {
        if !rules.allows(tag, attr.name) {
            return false;
        }
        if !is_url_attr(tag, attr.name) {
            return true;
        }
        match Url::parse(&attr.value) {
            Ok(url) => rules.url_schemes.contains(url.scheme()),
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                attr.relative = true;
                base.is_some()
            }
            Err(_) => false,
        }
    });
    if tag == "a"
        && let Some(rel) = &rules.link_rel
    {
        attrs.push(Attr {
            index: usize::MAX,
            name: "rel",
            value: Cow::Borrowed(rel),
            relative: false,
        });
    }
    // ammonia drops what its attribute filter refuses with `swap_remove`,
    // last first, which moves the last attribute into each hole.
    for i in (0..attrs.len()).rev() {
        if !(rules.keeps_value)(attrs[i].name, &attrs[i].value) {
            attrs.swap_remove(i);
        }
    }
    let mut dropped = Vec::new();
    for (i, attr) in attrs.iter_mut().enumerate() {
        if attr.relative && is_url_attr(tag, attr.name) {
            match base.and_then(|b| b.join(&attr.value).ok()) {
                Some(url) => attr.value = Cow::Owned(url.into()),
                None => dropped.push(i),
            }
        }
    }
    for i in dropped.into_iter().rev() {
        attrs.swap_remove(i);
    }
}

/// Text or an attribute value as the tokenizer reads it: character
/// references decoded, carriage returns made newlines.
fn decode(raw: &str, in_attribute: bool) -> Cow<'_, str> {
    let bytes = raw.as_bytes();
    let Some(first) = memchr::memchr2(b'&', b'\r', bytes) else {
        return Cow::Borrowed(raw);
    };
    let mut out = String::with_capacity(raw.len());
    out.push_str(&raw[..first]);
    let mut pos = first;
    while pos < bytes.len() {
        let next = memchr::memchr2(b'&', b'\r', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
        out.push_str(&raw[pos..next]);
        pos = next;
        match bytes.get(pos) {
            None => break,
            Some(b'\r') => {
                out.push('\n');
                pos += if bytes.get(pos + 1) == Some(&b'\n') { 2 } else { 1 };
            }
            Some(_) => match char_ref(&raw[pos + 1..], in_attribute) {
                Some((chars, used)) => {
                    out.extend(chars.into_iter().flatten());
                    pos += 1 + used;
                }
                None => {
                    out.push('&');
                    pos += 1;
                }
            },
        }
    }
    Cow::Owned(out)
}

/// The character reference that `rest` (what follows a `&`) starts with,
/// and the bytes it takes; `None` when the `&` is a character. html5ever's
/// `CharRefTokenizer`, on a complete text or attribute value.
fn char_ref(rest: &str, in_attribute: bool) -> Option<([Option<char>; 2], usize)> {
    let bytes = rest.as_bytes();
    match *bytes.first()? {
        b'#' => {
            let (base, start) = match bytes.get(1) {
                Some(b'x' | b'X') => (16, 2),
                _ => (10, 1),
            };
            let mut num: u32 = 0;
            let mut too_big = false;
            let mut end = start;
            while let Some(digit) = bytes.get(end).and_then(|&b| char::from(b).to_digit(base)) {
                num = num.wrapping_mul(base);
                too_big |= num > 0x10FFFF;
                num = num.wrapping_add(digit);
                end += 1;
            }
            if end == start {
                return None;
            }
            if bytes.get(end) == Some(&b';') {
                end += 1;
            }
            let c = match num {
                _ if too_big || num > 0x10FFFF => '\u{FFFD}',
                0 | 0xD800..=0xDFFF => '\u{FFFD}',
                0x80..=0x9F => C1_REPLACEMENTS[(num - 0x80) as usize].or_else(|| char::from_u32(num))?,
                _ => char::from_u32(num)?,
            };
            Some(([Some(c), None], end))
        }
        b if b.is_ascii_alphanumeric() => {
            // The longest name in the table that `rest` starts with, looking
            // one character past it as the tokenizer does.
            let mut matched: Option<((u32, u32), usize)> = None;
            for (i, c) in rest.char_indices() {
                let end = i + c.len_utf8();
                match NAMED_ENTITIES.get(&rest[..end]) {
                    Some(&m) if m.0 != 0 => matched = Some((m, end)),
                    Some(_) => {}
                    None => break,
                }
            }
            let ((c1, c2), len) = matched?;
            let next = rest[len..].chars().next();
            if in_attribute
                && !rest[..len].ends_with(';')
                && next.is_some_and(|c| c == '=' || c.is_ascii_alphanumeric())
            {
                return None;
            }
            Some((
                [char::from_u32(c1), (c2 != 0).then(|| char::from_u32(c2)).flatten()],
                len,
            ))
        }
        _ => None,
    }
}

/// Text written as html5ever's serializer writes it.
fn push_text(out: &mut String, raw: &str, in_attribute: bool) {
    push_escaped(out, &decode(raw, in_attribute), in_attribute);
}

/// `text` escaped as html5ever's serializer escapes text (`&`, `<`, `>`,
/// U+00A0) or, `in_attribute`, attribute values (`"` besides).
fn push_escaped(out: &mut String, text: &str, in_attribute: bool) {
    let bytes = text.as_bytes();
    let len = bytes.len();
    let quote = if in_attribute { b'"' } else { b'<' };
    let find_markup = |from: usize| memchr::memchr3(quote, b'<', b'>', &bytes[from..]).map_or(len, |i| from + i);
    let find_other = |from: usize| memchr::memchr2(b'&', 0xC2, &bytes[from..]).map_or(len, |i| from + i);
    let (mut markup, mut other) = (find_markup(0), find_other(0));
    let mut copied = 0;
    loop {
        let at = markup.min(other);
        if at == len {
            break;
        }
        let (replacement, next) = match bytes[at] {
            b'&' => ("&amp;", at + 1),
            b'<' => ("&lt;", at + 1),
            b'>' => ("&gt;", at + 1),
            b'"' => ("&quot;", at + 1),
            // U+00A0 is C2 A0; the other characters starting with C2 stay.
            _ if bytes.get(at + 1) == Some(&0xA0) => ("&nbsp;", at + 2),
            _ => ("", at + 1),
        };
        if !replacement.is_empty() {
            out.push_str(&text[copied..at]);
            out.push_str(replacement);
            copied = next;
        }
        if markup < next {
            markup = find_markup(next);
        }
        if other < next {
            other = find_other(next);
        }
    }
    out.push_str(&text[copied..]);
}

#[cfg(test)]
mod tests;
