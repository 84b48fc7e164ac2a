//! Fuzz target `config`: arbitrary UTF-8 text through `config::parse`.
//!
//! Checks what the configuration layer promises: it never panics, `parse`
//! never reports a read error (it is handed text), and an invalid file is
//! reported as problems, at least one, each with a 1-based line and column
//! (in characters) that lie inside the text, sorted in file order, and
//! shown as `fuzz.toml:line:column: message`.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tributary::config::{ConfigError, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let problems = match parse(text, Path::new("fuzz.toml")) {
        Ok(_) => return,
        Err(ConfigError::Read { .. }) => panic!("parse reported a read error"),
        Err(e @ ConfigError::Invalid { .. }) => {
            let shown = e.to_string();
            let ConfigError::Invalid { problems, .. } = e else {
                unreachable!()
            };
            assert!(!problems.is_empty(), "an invalid config with no problems");
            assert!(shown.starts_with("fuzz.toml:"), "error does not name the file: {shown}");
            for p in &problems {
                let at = format!("fuzz.toml:{}:{}: {}", p.line, p.column, p.message);
                assert!(shown.contains(&at), "{at:?} missing from {shown:?}");
            }
            problems
        }
    };
    let lines: Vec<&str> = text.split('\n').collect();
    for p in &problems {
        assert!(
            p.line >= 1 && p.line <= lines.len(),
            "line {} outside the text ({} lines)",
            p.line,
            lines.len()
        );
        let width = lines[p.line - 1].chars().count();
        assert!(
            p.column >= 1 && p.column <= width + 1,
            "column {} outside line {} ({width} chars)",
            p.column,
            p.line
        );
        assert!(!p.message.trim().is_empty(), "a problem without a message");
    }
    assert!(
        problems
            .windows(2)
            .all(|w| (w[0].line, w[0].column) <= (w[1].line, w[1].column)),
        "problems not in file order: {problems:?}"
    );
});
