//! Repairing JSON Feed text so that feed-rs parses it.
//!
//! Raw control characters inside strings are escaped (TAB, LF, CR) or
//! dropped. A document that looks like a JSON Feed (a `jsonfeed.org`
//! version or an `items` array) is completed: a missing or null title and
//! version are supplied, an `http://` version becomes `https://`, and
//! numbers or booleans where feed-rs reads strings (the title, item ids,
//! titles, URLs, contents, dates) become strings. Every string value loses
//! the characters XML 1.0 forbids, as XML documents do. Other JSON (an API
//! error, say) is not completed, so the parser still rejects it; a document
//! that needs nothing, or that does not parse even once its control
//! characters are repaired, is returned byte for byte.

use std::borrow::Cow;

use serde_json::Value;

use crate::xmltext::strip_xml_illegal;

/// The JSON Feed version assumed when a document names none.
const JSON_FEED_VERSION: &str = "https://jsonfeed.org/version/1.1";

/// Item members feed-rs reads as strings.
const ITEM_STRING_FIELDS: [&str; 9] = [
    "id",
    "url",
    "external_url",
    "title",
    "content_html",
    "content_text",
    "summary",
    "date_published",
    "date_modified",
];

/// Repairs JSON text for feed-rs; text that needs no repair, or that
/// cannot be parsed even after it, comes back unchanged.
pub(super) fn clean_json(text: &str) -> String {
    let (mut value, mut changed) = match serde_json::from_str::<Value>(text) {
        Ok(value) => (value, false),
        Err(_) => {
            let Some(repaired) = escape_raw_controls(text) else {
                return text.to_owned();
            };
            match serde_json::from_str::<Value>(&repaired) {
                Ok(value) => (value, true),
                Err(_) => return text.to_owned(),
            }
        }
    };
    changed |= fix_json_feed(&mut value);
    changed |= strip_json_illegal(&mut value);
    if !changed {
        return text.to_owned();
    }
    serde_json::to_string(&value).unwrap_or_else(|_| text.to_owned())
}

/// Escapes raw TAB/LF/CR inside JSON strings and drops other raw control
/// characters; `None` when there is nothing to repair.
fn escape_raw_controls(text: &str) -> Option<String> {
    if !text.bytes().any(|c| c < 0x20) {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            } else if u32::from(c) < 0x20 {
                match c {
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    _ => {}
                }
                continue;
            }
        } else if c == '"' {
            in_string = true;
        } else if u32::from(c) < 0x20 && !matches!(c, '\t' | '\n' | '\r') {
            continue;
        }
        out.push(c);
    }
    Some(out)
}

fn scalar_to_string(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Makes a JSON Feed acceptable to feed-rs; true when anything changed.
fn fix_json_feed(value: &mut Value) -> bool {
    let Value::Object(map) = value else {
        return false;
    };
    // Only documents that look like a JSON Feed are completed; any other
    // JSON (an API error, say) is left for the parser to reject.
    let versioned = map
        .get("version")
        .and_then(Value::as_str)
        .is_some_and(|v| v.contains("jsonfeed.org/version/"));
    if !versioned && !map.get("items").is_some_and(Value::is_array) {
        return false;
    }
    let mut changed = false;
    match map.get_mut("title") {
        None => {
            map.insert("title".to_owned(), Value::String(String::new()));
            changed = true;
        }
        Some(title) => {
            if title.is_null() {
                *title = Value::String(String::new());
                changed = true;
            } else if let Some(s) = scalar_to_string(title) {
                *title = Value::String(s);
                changed = true;
            }
        }
    }
    match map.get_mut("version") {
        None => {
            map.insert("version".to_owned(), Value::String(JSON_FEED_VERSION.to_owned()));
            changed = true;
        }
        Some(version) => match version {
            Value::Null => {
                *version = Value::String(JSON_FEED_VERSION.to_owned());
                changed = true;
            }
            Value::String(s) if s.starts_with("http://jsonfeed.org/version/1") => {
                s.insert(4, 's');
                changed = true;
            }
            _ => {}
        },
    }
    if let Some(Value::Array(items)) = map.get_mut("items") {
        for item in items {
            let Value::Object(item) = item else { continue };
            for key in ITEM_STRING_FIELDS {
                if let Some(field) = item.get_mut(key)
                    && let Some(s) = scalar_to_string(field)
                {
                    *field = Value::String(s);
                    changed = true;
                }
            }
        }
    }
    changed
}

/// Removes XML-illegal characters from every string value.
fn strip_json_illegal(value: &mut Value) -> bool {
    match value {
        Value::String(s) => {
            if let Cow::Owned(clean) = strip_xml_illegal(s) {
                *s = clean;
                true
            } else {
                false
            }
        }
        Value::Array(values) => values
            .iter_mut()
            .fold(false, |changed, v| strip_json_illegal(v) | changed),
        Value::Object(map) => map
            .values_mut()
            .fold(false, |changed, v| strip_json_illegal(v) | changed),
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::parse::prepare::tests::{entry_titles, feed_title, parse, prepare_str};
    use crate::parse::prepare::{EncodingSource, Syntax};

    #[test]
    fn json_feed_with_bom_numeric_id_and_no_title() {
        let doc = "\u{feff}{\"version\":\"https://jsonfeed.org/version/1.1\",\
                   \"items\":[{\"id\":2,\"title\":\"Two\"},{\"id\":true,\"title\":3},{\"id\":\"x\",\"content_text\":\"a\u{1}b\"}]}";
        let p = prepare_str(doc);
        assert_eq!(p.syntax, Syntax::Json);
        assert_eq!(p.encoding_source, EncodingSource::Bom);
        let feed = parse(&p);
        assert_eq!(feed_title(&feed), "");
        let ids: Vec<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, vec!["2", "true", "x"]);
        assert_eq!(entry_titles(&feed), vec!["Two", "3", ""]);
    }

    #[test]
    fn json_feed_missing_version_and_http_version() {
        let p = prepare_str("  {\"title\":\"T\",\"items\":[{\"id\":\"1\"}]}");
        assert_eq!(p.syntax, Syntax::Json);
        assert_eq!(feed_title(&parse(&p)), "T");
        let p = prepare_str("{\"version\":\"http://jsonfeed.org/version/1\",\"title\":null,\"items\":[]}");
        assert!(p.text.contains("https://jsonfeed.org/version/1"));
        assert_eq!(feed_title(&parse(&p)), "");
    }

    #[test]
    fn json_feed_with_raw_control_characters() {
        let doc = "{\"version\":\"https://jsonfeed.org/version/1\",\"title\":\"T\",\
                   \"items\":[{\"id\":\"1\",\"content_html\":\"line\none\ttab\u{1}\"}]}";
        let p = prepare_str(doc);
        let feed = parse(&p);
        let body = feed.entries[0].content.as_ref().unwrap().body.clone().unwrap();
        assert_eq!(body, "line\none\ttab");
    }

    #[test]
    fn other_json_is_not_completed() {
        let doc = "{\"error\":\"not found\",\"code\":404}";
        assert_eq!(prepare_str(doc).text, doc);
        let doc = "{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":[]}";
        assert!(prepare_str(doc).text.contains("\"title\":\"\""));
    }

    #[test]
    fn valid_json_feed_is_left_as_is() {
        let doc = "{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"T\",\"items\":[{\"id\":\"1\"}]}";
        assert_eq!(prepare_str(doc).text, doc);
        let broken = "{\"version\": ";
        assert_eq!(prepare_str(broken).text, broken);
        assert!(feed_rs::parser::parse(prepare_str(broken).text.as_bytes()).is_err());
    }
}
