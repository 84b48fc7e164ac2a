//! The include/exclude filters of sources and outputs.
//!
//! A `[[source]]` or `[[output]]` may list `include` and `exclude` regular
//! expressions (Rust `regex` syntax), matched against an item's title and
//! text: it passes when some include pattern matches (or there is none)
//! and no exclude pattern does. This file compiles the patterns, reporting
//! each bad one at its position, and applies them.

use std::ops::Range;

use regex::Regex;
use toml::Spanned;

use super::{OutputConfig, SourceConfig};

impl OutputConfig {
    /// Whether an entry with this title and text passes the regex filters.
    pub(crate) fn accepts(&self, text: &str) -> bool {
        passes_filters(&self.include, &self.exclude, || text)
    }
}

impl SourceConfig {
    /// Whether an item with this title and text passes the include/exclude
    /// filters, the text built only when a filter needs it: most sources
    /// have none, and the text is a copy of the whole item.
    pub(crate) fn accepts_with<T: AsRef<str>>(&self, text: impl FnOnce() -> T) -> bool {
        passes_filters(&self.include, &self.exclude, text)
    }
}

/// The include/exclude rule shared by sources and outputs: some include
/// pattern matches (or there is none) and no exclude pattern does. `text`
/// is called only when there is a pattern to match.
pub(super) fn passes_filters<T: AsRef<str>>(include: &[Regex], exclude: &[Regex], text: impl FnOnce() -> T) -> bool {
    if include.is_empty() && exclude.is_empty() {
        return true;
    }
    let text = text();
    let text = text.as_ref();
    (include.is_empty() || include.iter().any(|r| r.is_match(text))) && !exclude.iter().any(|r| r.is_match(text))
}

/// Compiles `patterns`, keeping the valid ones; each invalid one is handed
/// to `report` with its span and why.
pub(super) fn compile(patterns: &[Spanned<String>], mut report: impl FnMut(Range<usize>, String)) -> Vec<Regex> {
    let mut out = Vec::new();
    for r in patterns {
        match Regex::new(r.get_ref()) {
            Ok(re) => out.push(re),
            Err(e) => report(r.span(), format!("invalid regular expression: {e}")),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn regexes(patterns: &[&str]) -> Vec<Regex> {
        patterns.iter().map(|p| Regex::new(p).unwrap()).collect()
    }

    #[test]
    fn filters_without_patterns_never_build_the_text() {
        assert!(passes_filters::<&str>(&[], &[], || panic!("the text was built")));
    }

    #[test]
    fn an_exclude_match_wins_over_an_include_match() {
        let include = regexes(&["(?i)cina", "russia"]);
        let exclude = regexes(&["(?i)oroscopo"]);
        assert!(passes_filters(&include, &exclude, || "La Cina"));
        assert!(passes_filters(&include, &exclude, || "russia"));
        assert!(!passes_filters(&include, &exclude, || "Oroscopo: la Cina"));
        assert!(!passes_filters(&include, &exclude, || "Meteo"));
        assert!(passes_filters(&[], &exclude, || "Meteo"));
    }

    #[test]
    fn bad_patterns_are_reported_at_their_span_and_good_ones_kept() {
        let patterns = [
            Spanned::new(10..15, "a+".to_string()),
            Spanned::new(20..30, "(unclosed".to_string()),
        ];
        let mut reported = vec![];
        let kept = compile(&patterns, |span, message| reported.push((span, message)));
        assert_eq!(kept.len(), 1);
        assert!(kept[0].is_match("aaa"));
        assert_eq!(reported.len(), 1);
        assert_eq!(reported[0].0, 20..30);
        assert!(
            reported[0].1.starts_with("invalid regular expression: "),
            "{}",
            reported[0].1
        );
    }
}
