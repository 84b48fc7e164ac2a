//! Stage 1, syntax: the TOML text as serde reads it.
//!
//! The `Raw*` structs mirror the file's tables. They check syntax and types
//! only; unknown keys are rejected (`deny_unknown_fields`), and values that
//! need checking against each other or the outside world keep their span
//! ([`Spanned`]) so that validation can point at them. A syntax error
//! becomes a [`Problem`] with its line and column, and an unknown key gets
//! a "did you mean" naming the closest known one.

use serde::Deserialize;
use toml::Spanned;

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
    #[serde(default, rename = "source")]
    pub(super) sources: Vec<Spanned<RawSource>>,
    #[serde(default, rename = "output")]
    pub(super) outputs: Vec<Spanned<RawOutput>>,
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
    pub(super) max_connections_per_address: Option<Spanned<i64>>,
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
    pub(super) schedule: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) tags: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) include: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) exclude: Vec<Spanned<String>>,
    pub(super) allow_private_addresses: Option<Spanned<toml::Value>>,
    pub(super) cache_hints: Option<bool>,
}

/// Reads `text` into the raw structs, or says where and why it cannot.
pub(super) fn read(text: &str) -> Result<RawConfig, Problem> {
    toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        Problem {
            line,
            column,
            message: explain_syntax(e.message()),
        }
    })
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

/// Adds a "did you mean" to serde's unknown-field message: the known key
/// fewest edits away (Levenshtein distance, in characters), if it is at
/// most three edits away; of equally close keys, the first alphabetically.
fn explain_syntax(message: &str) -> String {
    let message = message.trim();
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
    fn syntax_error_has_position() {
        let p = problems("[daemon]\nlisten = \n");
        assert_eq!(p[0].line, 2);
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("a\nbè c", 5), (2, 3));
        assert_eq!(line_col("abc", 0), (1, 1));
    }
}
