//! Stage 1, syntax: the TOML text as serde reads it.
//!
//! The `Raw*` structs mirror the file's tables. They check syntax and types
//! only; unknown keys are rejected (`deny_unknown_fields`), and values that
//! need checking against each other or the outside world keep their span
//! ([`Spanned`]) so that validation can point at them. Each syntax error
//! becomes a [`Problem`] with its line and column, and so does each key
//! serde refuses: serde stops at the first, so the refused key is set
//! aside and the document read again until it reads. An unknown key gets
//! a "did you mean" naming the closest known one.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

use super::Problem;

/// The whole file as serde reads it.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    #[serde(default)]
    pub(super) daemon: RawDaemon,
    #[serde(default)]
    pub(super) feed: RawFeed,
    #[serde(default)]
    pub(super) dedup: RawDedup,
    #[serde(default)]
    pub(super) web: RawWeb,
    #[serde(default, rename = "source")]
    pub(super) sources: Vec<Spanned<RawSource>>,
    #[serde(default, rename = "output")]
    pub(super) outputs: Vec<Spanned<RawOutput>>,
    /// Names of `[[source]]` blocks set aside for problems already reported.
    #[serde(skip)]
    pub(super) set_aside_sources: Vec<String>,
}

/// One `[[output]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOutput {
    pub(super) name: Spanned<String>,
    pub(super) title: Option<String>,
    #[serde(default)]
    pub(super) tags: Vec<String>,
    #[serde(default)]
    pub(super) sources: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) include: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) exclude: Vec<Spanned<String>>,
    pub(super) path: Option<String>,
}

/// `[daemon]`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDaemon {
    pub(super) database: Option<Spanned<String>>,
    pub(super) listen: Option<Spanned<String>>,
    pub(super) schedule: Option<Spanned<String>>,
    pub(super) jitter: Option<Spanned<String>>,
    pub(super) max_concurrent_fetches: Option<Spanned<i64>>,
    pub(super) max_concurrent_per_host: Option<Spanned<i64>>,
    pub(super) timeout: Option<Spanned<String>>,
    pub(super) max_feed_bytes: Option<Spanned<toml::Value>>,
    pub(super) user_agent: Option<Spanned<String>>,
    pub(super) retention: Option<RawRetention>,
    pub(super) allow_private_addresses: Option<Spanned<toml::Value>>,
    pub(super) cache_hints: Option<bool>,
    pub(super) proxy: Option<Spanned<String>>,
    pub(super) max_connections_per_address: Option<Spanned<i64>>,
    pub(super) initial_entries: Option<Spanned<i64>>,
    pub(super) max_age: Option<Spanned<String>>,
}

/// `[daemon] retention`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetention {
    pub(super) days: Option<Spanned<i64>>,
    pub(super) keep_per_source_min: Option<Spanned<i64>>,
}

/// `[feed]`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFeed {
    pub(super) title: Option<String>,
    pub(super) description: Option<String>,
    pub(super) author: Option<String>,
    pub(super) base_url: Option<Spanned<String>>,
    pub(super) entries: Option<Spanned<i64>>,
    pub(super) websub_hub: Option<Spanned<String>>,
    pub(super) timezone: Option<Spanned<String>>,
}

/// `[web]`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWeb {
    pub(super) enabled: Option<bool>,
    pub(super) templates: Option<String>,
}

/// `[dedup]`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDedup {
    pub(super) by_link: Option<bool>,
    pub(super) by_text: Option<bool>,
    pub(super) text_window: Option<Spanned<String>>,
}

/// One `[[source]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    pub(super) name: Spanned<String>,
    pub(super) url: Spanned<String>,
    pub(super) title: Option<Spanned<String>>,
    pub(super) schedule: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) tags: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) include: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) exclude: Vec<Spanned<String>>,
    pub(super) allow_private_addresses: Option<Spanned<toml::Value>>,
    pub(super) cache_hints: Option<bool>,
    pub(super) proxy: Option<Spanned<String>>,
    pub(super) username: Option<Spanned<String>>,
    pub(super) password: Option<Spanned<String>>,
    pub(super) password_file: Option<Spanned<String>>,
    pub(super) headers: Option<Spanned<toml::Table>>,
    pub(super) user_agent: Option<Spanned<String>>,
    pub(super) full_text: Option<Spanned<bool>>,
    pub(super) full_text_selector: Option<Spanned<String>>,
    pub(super) full_text_rate: Option<Spanned<String>>,
    pub(super) initial_entries: Option<Spanned<i64>>,
    pub(super) max_age: Option<Spanned<String>>,
}

/// Most problems of one file reported before giving up on the rest.
const MAX_PROBLEMS: usize = 200;

/// Reads `text` into the raw structs.
///
/// Syntax errors (every one the TOML parser can recover from) stop the
/// reading: `Err` holds them. Otherwise serde reads the document, and each
/// key it refuses (unknown, wrong type, missing) becomes a [`Problem`]; the
/// key, or the table lacking a required key, is set aside and the document
/// is read again, so that every such problem is reported, not only the one
/// serde meets first. `Ok` holds what could be read and those problems.
pub(super) fn read(text: &str) -> Result<(RawConfig, Vec<Problem>), Vec<Problem>> {
    let (doc, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        // After an error the parser resynchronizes, and one mistake (an
        // unclosed array) may be reported again on the line that follows:
        // the first error of each line is kept.
        let mut problems: Vec<Problem> = Vec::new();
        for e in &errors {
            let p = problem(text, e.span(), e.message());
            if !problems.iter().any(|q| q.line == p.line) {
                problems.push(p);
            }
        }
        problems.sort_by_key(|p| (p.line, p.column));
        return Err(problems);
    }
    // A valid file deserializes from the document itself. Only a file
    // with problems goes through the loop below, which needs a copy of the
    // document per attempt: for 10,000 sources the document is about 20 MB,
    // and the daemon's memory keeps the high-water mark of its start.
    if let Ok(raw) = RawConfig::deserialize(toml::de::Deserializer::from(doc)) {
        return Ok((raw, Vec::new()));
    }
    let (mut doc, _) = DeTable::parse_recoverable(text);
    let mut problems = Vec::new();
    let mut set_aside: Vec<SetAside> = Vec::new();
    loop {
        let error = match RawConfig::deserialize(toml::de::Deserializer::from(doc.clone())) {
            Ok(mut raw) => {
                raw.set_aside_sources = set_aside.into_iter().filter_map(|s| s.source_name).collect();
                return Ok((raw, problems));
            }
            Err(e) => e,
        };
        let removed = match error.span() {
            Some(span) if problems.len() < MAX_PROBLEMS => {
                let whole = doc.span();
                set_aside_at(doc.get_mut(), &span, &whole, true)
            }
            _ => None,
        };
        let Some(removed) = removed else {
            problems.push(problem(text, error.span(), error.message()));
            return Err(problems);
        };
        // A key set aside for being wrong is not missing as well.
        let explained = missing_field(error.message()).is_some_and(|field| {
            set_aside
                .iter()
                .any(|s| s.key.as_deref() == Some(field) && s.holder == removed.span)
        });
        if !explained {
            let message = match &removed.key {
                Some(key) if !error.message().contains(&format!("`{key}`")) => {
                    format!("`{key}`: {}", error.message().trim())
                }
                _ => error.message().to_string(),
            };
            problems.push(problem(text, error.span(), &message));
        }
        set_aside.push(removed);
    }
}

/// A part of the document taken out after serde refused it.
struct SetAside {
    /// Where it was.
    span: Range<usize>,
    /// Its key, when it was a key of a table.
    key: Option<String>,
    /// The span of the table or array that held it.
    holder: Range<usize>,
    /// The `name` of a `[[source]]` block taken out whole.
    source_name: Option<String>,
}

/// The field named by serde's "missing field `x`" message.
fn missing_field(message: &str) -> Option<&str> {
    message.trim().strip_prefix("missing field `")?.split('`').next()
}

/// Takes out of `table` the innermost key or array element whose text
/// holds `span`; `holder` is the span of `table` and `top` says whether it
/// is the document itself. The span of a `[table]` is its header only, so
/// every table is searched.
fn set_aside_at(table: &mut DeTable<'_>, span: &Range<usize>, holder: &Range<usize>, top: bool) -> Option<SetAside> {
    let holds = |r: &Range<usize>| r.start <= span.start && span.end <= r.end;
    let keys: Vec<(String, Range<usize>)> = table
        .iter()
        .map(|(k, v)| {
            let extent = k.span().start.min(v.span().start)..k.span().end.max(v.span().end);
            (k.get_ref().to_string(), extent)
        })
        .collect();
    for (key, extent) in keys {
        let value = table.get_mut(key.as_str())?;
        if let Some(inner) = set_aside_in(value, span, top && key == "source") {
            return Some(inner);
        }
        if holds(&extent) {
            table.remove(key.as_str());
            return Some(SetAside {
                span: extent,
                key: Some(key),
                holder: holder.clone(),
                source_name: None,
            });
        }
    }
    None
}

/// Takes out of `value`, when it is a table or an array, the innermost part
/// holding `span`, other than `value` itself.
fn set_aside_in(value: &mut Spanned<DeValue<'_>>, span: &Range<usize>, sources: bool) -> Option<SetAside> {
    let holder = value.span();
    let items = match value.get_mut() {
        DeValue::Table(t) => return set_aside_at(t, span, &holder, false),
        DeValue::Array(items) => items,
        _ => return None,
    };
    for i in 0..items.len() {
        let item = items.get_mut(i)?;
        if let Some(inner) = set_aside_in(item, span, false) {
            return Some(inner);
        }
        let extent = item.span();
        if extent.start <= span.start && span.end <= extent.end {
            let source_name = sources
                .then(|| item.get_ref().get("name")?.get_ref().as_str().map(str::to_string))
                .flatten();
            let kept: DeArray<'_> = std::mem::replace(items, DeArray::new())
                .into_iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, v)| v)
                .collect();
            *items = kept;
            return Some(SetAside {
                span: extent,
                key: None,
                holder,
                source_name,
            });
        }
    }
    None
}

fn problem(text: &str, span: Option<Range<usize>>, message: &str) -> Problem {
    let (line, column) = span.map(|s| line_col(text, s.start)).unwrap_or((1, 1));
    Problem {
        line,
        column,
        message: explain_syntax(message),
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before.get(line_start..).map(|s| s.chars().count()).unwrap_or(0) + 1;
    (line, column)
}

/// A type serde names in Rust's terms (`i64`, `struct RawRetention`, `a
/// sequence`) in the file's terms.
fn plain_type(expected: &str) -> &str {
    match expected {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        "a sequence" => "a list such as [\"a\", \"b\"]",
        "a map" => "a table",
        e if e.starts_with("struct ") => "a table",
        e => e,
    }
}

/// Adds a "did you mean" to serde's unknown-field message: the known key
/// fewest edits away (Levenshtein distance, in characters), if it is at
/// most three edits away; of equally close keys, the first alphabetically.
fn explain_syntax(message: &str) -> String {
    let message = message.trim();
    // "invalid type: string \"4\", expected i64": the value is left out (the
    // position points at it, and it may be a password), the types are
    // named in the file's terms.
    if let Some((what, expected)) = message.split_once(", expected ")
        && let Some((prefix, found)) = what
            .split_once("invalid type: ")
            .or_else(|| what.split_once("invalid value: "))
    {
        let kind = found.split(['"', '`']).next().unwrap_or("").trim();
        let kind = match kind {
            "integer" => "a whole number",
            "floating point" => "a number with a fraction",
            "string" => "a string",
            "boolean" => "true or false",
            "sequence" => "a list",
            "map" => "a table",
            "" => "this value",
            k => k,
        };
        return format!("{prefix}must be {}, not {kind}", plain_type(expected));
    }
    if missing_field(message).is_some() {
        return format!("{message}: add it to this table");
    }
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_string();
    };
    let Some((field, expected)) = rest.split_once('`') else {
        return message.to_string();
    };
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let best = candidates
        .iter()
        .map(|c| (strsim::levenshtein(field, c), *c))
        .min()
        .filter(|(d, _)| *d <= 3);
    match best {
        Some((_, c)) => format!("{message}; did you mean `{c}`?"),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::problems;
    use super::*;

    #[test]
    fn unknown_key_names_line_column_and_suggests() {
        let p = problems("[daemon]\nlisten = \"127.0.0.1:8080\"\nshedule = \"@hourly\"\n");
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].line, p[0].column), (3, 1));
        assert!(p[0].message.contains("did you mean `schedule`"), "{}", p[0].message);
    }

    #[test]
    fn unknown_key_far_from_every_field_gets_no_suggestion() {
        let p = problems("[daemon]\nmax_concurrent = 4\n");
        assert!(
            p[0].message.starts_with("unknown field `max_concurrent`"),
            "{}",
            p[0].message
        );
        assert!(!p[0].message.contains("did you mean"), "{}", p[0].message);
    }

    #[test]
    fn suggestion_allows_three_edits_counted_in_characters() {
        let p = problems("[feed]\nentry = 5\n");
        assert!(p[0].message.ends_with("did you mean `entries`?"), "{}", p[0].message);
        // Three substituted characters, six bytes: still within reach.
        let p = problems("[feed]\n\"\u{eb}ntr\u{ef}\u{eb}s\" = 5\n");
        assert!(p[0].message.ends_with("did you mean `entries`?"), "{}", p[0].message);
    }

    #[test]
    fn equally_close_fields_suggest_the_alphabetically_first() {
        let p = problems("[[source]]\nname = \"a\"\nurl = \"https://e.org/\"\nclude = [\"x\"]\n");
        assert!(p[0].message.ends_with("did you mean `exclude`?"), "{}", p[0].message);
    }

    #[test]
    fn two_unknown_keys_are_both_reported_in_file_order() {
        let p = problems("[daemon]\nzeta = 1\nalpha = 2\n");
        assert_eq!(p.len(), 2, "{p:#?}");
        assert_eq!((p[0].line, p[0].column), (2, 1));
        assert!(p[0].message.starts_with("unknown field `zeta`"), "{}", p[0].message);
        assert_eq!((p[1].line, p[1].column), (3, 1));
        assert!(p[1].message.starts_with("unknown field `alpha`"), "{}", p[1].message);
    }

    #[test]
    fn unknown_keys_wrong_types_missing_keys_and_bad_values_are_reported_together() {
        let text = r#"[daemon]
max_concurrent_fetches = "4"
shedule = "@hourly"

[[source]]
name = "a"
url = "https://e.org/a"
tgas = ["x"]

[[source]]
name = "b"

[[source]]
name = 7
url = "https://e.org/c"

[[source]]
name = "d"
url = "https://e.org/d"
schedule = "every fortnight"

[[output]]
name = "o"
sources = ["b", "nope"]
"#;
        let p = problems(text);
        let at: Vec<(usize, usize)> = p.iter().map(|p| (p.line, p.column)).collect();
        assert_eq!(
            at,
            [(2, 26), (3, 1), (8, 1), (10, 1), (14, 8), (20, 12), (24, 17)],
            "{p:#?}"
        );
        assert_eq!(
            p[0].message,
            "`max_concurrent_fetches`: must be a whole number, not a string"
        );
        assert!(p[1].message.ends_with("did you mean `schedule`?"), "{}", p[1].message);
        assert!(p[2].message.ends_with("did you mean `tags`?"), "{}", p[2].message);
        assert_eq!(p[3].message, "missing field `url`: add it to this table");
        assert_eq!(p[4].message, "`name`: must be a string, not a whole number");
        assert!(p[5].message.contains("fortnight"), "{}", p[5].message);
        // `b` was set aside with its own problem; only `nope` is unknown.
        assert!(p[6].message.contains("\"nope\""), "{}", p[6].message);
    }

    #[test]
    fn wrong_types_are_named_in_the_files_terms_without_the_value() {
        let p = problems(
            "[daemon]\nretention = 5\nuser_agent = 12345\n[[source]]\nname = \"a\"\nurl = \"https://e.org/\"\ntags = \"s3cr3t\"\n",
        );
        assert_eq!(p[0].message, "`retention`: must be a table, not a whole number");
        assert_eq!(p[1].message, "`user_agent`: must be a string, not a whole number");
        assert_eq!(
            p[2].message,
            "`tags`: must be a list such as [\"a\", \"b\"], not a string"
        );
        assert!(
            p.iter()
                .all(|p| !p.message.contains("s3cr3t") && !p.message.contains("12345"))
        );
    }

    #[test]
    fn syntax_error_has_position() {
        let p = problems("[daemon]\nlisten = \n");
        assert_eq!(p[0].line, 2);
    }

    #[test]
    fn syntax_errors_on_separate_lines_are_all_reported() {
        let p = problems("[daemon\nlisten = \"127.0.0.1:8080\"\n[feed]\ntitle = \"a\" b\n");
        let at: Vec<(usize, usize)> = p.iter().map(|p| (p.line, p.column)).collect();
        assert_eq!(at, [(1, 8), (4, 13)], "{p:#?}");
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("a\nbè c", 5), (2, 3));
        assert_eq!(line_col("abc", 0), (1, 1));
    }
}
