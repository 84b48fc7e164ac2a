//! The data flow stays one way (docs/architecture.md): each module may use
//! only the modules below it. The test reads every source file, collects
//! the `crate::…` paths its code names (`use` lines and inline paths alike,
//! `crate::{a, b}` groups included; comments skipped), and checks the
//! resulting module graph against the table of allowed uses — and that the
//! serving side does not reach the ingest stages even through another
//! module.
#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Which crate modules each module may use. Every module of `src/` must be
/// listed; a module missing here fails the test.
const ALLOWED: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("xmltext", &[]),
    ("secrets", &[]),
    ("schedule", &["model"]),
    ("html", &["xmltext"]),
    ("config", &["model", "schedule", "secrets"]),
    ("fetch", &["model", "config", "secrets"]),
    ("parse", &["model", "xmltext"]),
    ("fulltext", &["model", "config", "secrets", "fetch", "parse", "html"]),
    ("normalize", &["model", "html", "xmltext"]),
    ("dedup", &["model", "html", "normalize"]),
    ("store", &["model"]),
    ("explain", &["model", "dedup", "store"]),
    (
        "pipeline",
        &[
            "model",
            "config",
            "schedule",
            "secrets",
            "fetch",
            "parse",
            "normalize",
            "dedup",
            "store",
            "fulltext",
        ],
    ),
    ("publish", &["model", "xmltext", "secrets", "html"]),
    ("outputs", &["model", "config", "store", "publish"]),
    ("opml", &["config"]),
    ("web", &["model", "config", "publish"]),
    ("discover", &["model", "config", "fetch", "parse"]),
    ("metrics", &["model", "store"]),
    ("serve", &["config"]),
    (
        "http",
        &[
            "model", "config", "secrets", "store", "publish", "outputs", "opml", "metrics", "web",
        ],
    ),
    (
        "daemon",
        &[
            "model", "config", "schedule", "secrets", "fetch", "dedup", "store", "pipeline", "publish", "outputs",
            "metrics", "http", "serve",
        ],
    ),
    (
        "cli",
        &[
            "model", "config", "schedule", "secrets", "fetch", "store", "pipeline", "publish", "outputs", "opml",
            "discover", "daemon", "http", "metrics", "explain",
        ],
    ),
];

/// The ingest stages that the read path must never compile against.
const INGEST: &[&str] = &[
    "fetch",
    "parse",
    "normalize",
    "dedup",
    "pipeline",
    "explain",
    "fulltext",
];

fn src() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The files of module `name`: `src/name.rs` and everything under `src/name/`.
fn files_of(name: &str) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    let file = src().join(format!("{name}.rs"));
    if file.is_file() {
        out.push(file);
    }
    let mut stack = vec![src().join(name)];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else if p.extension().is_some_and(|e| e == "rs") && !is_test_module(&p) {
            out.push(p);
        }
    }
    out
}

/// Whether `file` is a unit-test module kept in its own file: its parent
/// declares it under `#[cfg(test)]` (`#[cfg(test)] mod tests;`), so, like
/// the tests inside a file, it may reach further than its module.
fn is_test_module(file: &std::path::Path) -> bool {
    let (Some(stem), Some(dir)) = (file.file_stem().and_then(|s| s.to_str()), file.parent()) else {
        return false;
    };
    let parent = if stem == "mod" {
        return false;
    } else if dir.join("mod.rs").is_file() {
        dir.join("mod.rs")
    } else {
        dir.with_extension("rs")
    };
    let Ok(code) = std::fs::read_to_string(parent) else {
        return false;
    };
    let mut test_only = false;
    for line in code.lines().map(str::trim) {
        if line == format!("mod {stem};") {
            return test_only;
        }
        if line.starts_with("#[cfg(test)]") {
            test_only = true;
        } else if !line.starts_with("#[") {
            test_only = false;
        }
    }
    false
}

/// The top-level crate modules that `code` names through `crate::` paths,
/// up to its unit tests (`#[cfg(test)]`), which may reach further.
fn crate_uses(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in code.lines() {
        let line = line.trim_start();
        if line.starts_with("#[cfg(test)]") {
            break;
        }
        if line.starts_with("//") {
            continue;
        }
        let line = line.split(" // ").next().unwrap_or(line);
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let before = &rest[..at];
            rest = &rest[at + "crate::".len()..];
            // `tributary::crate::` never occurs; `$crate::` is a macro path.
            if before.ends_with('$') {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                // `crate::{a, b::c, d::{e}}`: the top-level names.
                let mut depth = 0;
                let mut name = String::new();
                let mut expect_name = true;
                for c in group.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => expect_name = true,
                        c if expect_name && depth == 0 && (c.is_ascii_alphanumeric() || c == '_') => name.push(c),
                        _ => {
                            if !name.is_empty() {
                                out.insert(std::mem::take(&mut name));
                            }
                            if depth == 0 && !c.is_whitespace() {
                                expect_name = false;
                            }
                        }
                    }
                }
                if !name.is_empty() {
                    out.insert(name);
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        }
    }
    out
}

/// The crate's modules as declared in `lib.rs`.
fn modules() -> Vec<String> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    lib.lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("pub ").unwrap_or(l);
            let l = l.strip_prefix("pub(crate) ").unwrap_or(l);
            l.strip_prefix("mod ")?.strip_suffix(';').map(str::to_string)
        })
        .collect()
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    modules()
        .into_iter()
        .map(|m| {
            let mut uses = BTreeSet::new();
            for f in files_of(&m) {
                uses.extend(crate_uses(&std::fs::read_to_string(f).unwrap()));
            }
            uses.remove(&m);
            (m, uses)
        })
        .collect()
}

#[test]
fn the_use_scanner_reads_groups_nested_paths_and_skips_comments() {
    let code = "use crate::model::{Entry, PollReport};\n\
                use crate::{config::{self, Config}, store, publish::Format};\n\
                // crate::daemon is mentioned in a comment\n\
                let x = crate::secrets::redact_url(u); // crate::http too\n\
                /// see [`crate::pipeline`]\n\
                #[cfg(test)]\n\
                mod tests { use crate::daemon; }\n";
    let got: Vec<String> = crate_uses(code).into_iter().collect();
    assert_eq!(got, ["config", "model", "publish", "secrets", "store"]);
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut problems = vec![];
    for (m, uses) in graph() {
        let Some(ok) = allowed.get(m.as_str()) else {
            if m != "main" {
                problems.push(format!("module {m} is not in the layering table of tests/layering.rs"));
            }
            continue;
        };
        for u in uses {
            if !ok.contains(&u.as_str()) {
                problems.push(format!("{m} uses crate::{u}, which is not below it"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn serving_never_compiles_against_ingest() {
    let g = graph();
    for start in ["http", "serve", "outputs", "publish", "metrics", "store", "web"] {
        let mut seen = BTreeSet::new();
        let mut stack = vec![start.to_string()];
        while let Some(m) = stack.pop() {
            if seen.insert(m.clone()) {
                stack.extend(g.get(&m).into_iter().flatten().cloned());
            }
        }
        for stage in INGEST {
            assert!(!seen.contains(*stage), "{start} reaches {stage}: {seen:?}");
        }
    }
}

#[test]
fn the_graph_has_no_cycle() {
    let g = graph();
    fn visit(m: &str, g: &BTreeMap<String, BTreeSet<String>>, path: &mut Vec<String>, done: &mut BTreeSet<String>) {
        if done.contains(m) {
            return;
        }
        assert!(!path.iter().any(|p| p == m), "cycle: {} -> {m}", path.join(" -> "));
        path.push(m.to_string());
        for u in g.get(m).into_iter().flatten() {
            visit(u, g, path, done);
        }
        path.pop();
        done.insert(m.to_string());
    }
    let mut done = BTreeSet::new();
    for m in g.keys() {
        visit(m, &g, &mut vec![], &mut done);
    }
}

#[test]
fn external_crates_stay_in_their_rooms() {
    // The store knows nothing of HTTP; the pure stages no network or runtime.
    let forbid = |module: &str, needles: &[&str]| {
        for f in files_of(module) {
            let text = std::fs::read_to_string(&f).unwrap();
            for n in needles {
                assert!(!text.contains(n), "{} must not use {n}", f.display());
            }
        }
    };
    forbid("store", &["axum", "reqwest", "hyper"]);
    for m in [
        "parse",
        "normalize",
        "dedup",
        "publish",
        "schedule",
        "model",
        "html",
        "secrets",
        "web",
    ] {
        forbid(m, &["reqwest", "axum", "tokio::"]);
    }
    forbid("config", &["tokio", "reqwest", "axum"]);
}
