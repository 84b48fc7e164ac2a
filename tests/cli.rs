//! The `tributary` binary: exit codes, messages, and the shipped default
//! configuration working offline.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;
use std::process::Command;

fn tributary() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tributary"));
    c.env_remove("TRIBUTARY_CONFIG").env("RUST_LOG", "warn");
    c
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            if e.file_name() != "data" {
                copy_dir(&e.path(), &target);
            }
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn bad_config_exits_2_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[daemon]\nlisten = \"127.0.0.1:8080\"\nshedule = \"@hourly\"\n").unwrap();
    let out = tributary().arg("check").arg("--config").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:3:1: unknown field `shedule`", path.display())),
        "{err}"
    );
    assert!(err.contains("did you mean `schedule`"), "{err}");

    std::fs::write(
        &path,
        "[[source]]\nname = \"x\"\nurl = \"https://e.org/\"\nschedule = \"every fortnight\"\n",
    )
    .unwrap();
    let out = tributary().arg("check").arg("--config").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bad.toml:4:12: schedule"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn missing_config_exits_2_naming_the_path() {
    let out = tributary()
        .args(["check", "--config", "/nonexistent/t.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/t.toml"));
}

#[test]
fn default_config_polls_offline_and_exports_the_italian_article() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("config"),
        &dir.path().join("config"),
    );
    let config = dir.path().join("config/tributary.toml");

    let out = tributary().arg("poll").arg("--config").arg(&config).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("cronache-esteri"), "{stdout}");
    let header: Vec<&str> = stdout
        .lines()
        .next()
        .unwrap()
        .split("  ")
        .filter(|c| !c.trim().is_empty())
        .collect();
    let row: Vec<&str> = stdout.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        header.len(),
        row.len() + 1,
        "one header per column (ERROR is empty): {stdout}"
    );
    assert!(stdout.contains("merged by link: 1"), "{stdout}");

    let out = tributary().arg("poll").arg("--config").arg(&config).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("not-modified"));

    let target = dir.path().join("out/merged.json");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    let out = tributary()
        .args(["export", "--format", "json", "-o"])
        .arg(&target)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json = std::fs::read_to_string(&target).unwrap();
    assert!(json.contains("L’Alleanza Sino-Russa non è un fenomeno passeggero…"));
    let leftovers: Vec<_> = std::fs::read_dir(target.parent().unwrap()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");

    let out = tributary()
        .arg("sources")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.starts_with("SOURCE"), "{table}");
    assert!(table.contains("world-briefing"));
}

#[test]
fn default_config_command_prints_the_shipped_file() {
    let out = tributary().arg("default-config").output().unwrap();
    assert!(out.status.success());
    let shipped = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/tributary.toml")).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), shipped);
}

#[test]
fn poll_of_an_unknown_source_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.toml");
    std::fs::write(&path, "[[source]]\nname = \"a\"\nurl = \"https://e.org/\"\n").unwrap();
    let out = tributary()
        .args(["poll", "--source", "b", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no source named \"b\""));
}

/// `tributary ARGS --config CONFIG` under `umask 000`, the most permissive.
fn under_umask_000(args: &[&str], config: &Path) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg("umask 000 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_tributary"))
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("TRIBUTARY_CONFIG")
        .env_remove("STATE_DIRECTORY")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn poll_under_umask_000_makes_private_files_and_leaves_every_entry_in_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("config"),
        &dir.path().join("config"),
    );
    let config = dir.path().join("config/tributary.toml");
    let out = under_umask_000(&["poll"], &config);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let data = dir.path().join("config/data");
    let db = data.join("tributary.db");
    assert_eq!(mode(&data), 0o700, "the folder Tributary created");
    assert_eq!(mode(&db), 0o600);
    let wal = data.join("tributary.db-wal");
    assert_eq!(
        std::fs::metadata(&wal).map_or(0, |m| m.len()),
        0,
        "the log was copied into the file"
    );
    for side in ["tributary.db-wal", "tributary.db-shm"] {
        if data.join(side).exists() {
            assert_eq!(mode(&data.join(side)), 0o600, "{side}");
        }
    }
    // The database file alone, copied as a naive backup would, holds the poll.
    let copy = dir.path().join("copy.db");
    std::fs::copy(&db, &copy).unwrap();
    let entries: i64 = rusqlite::Connection::open(&copy)
        .unwrap()
        .query_row("SELECT count(*) FROM entries", [], |r| r.get(0))
        .unwrap();
    assert!(entries > 0);

    let backup = dir.path().join("backup.db");
    let out = under_umask_000(&["db", "backup", backup.to_str().unwrap()], &config);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(mode(&backup), 0o600);
}

#[test]
fn db_backup_to_a_dangling_symlink_is_refused_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("t.toml");
    std::fs::write(&config, "[daemon]\ndatabase = \"t.db\"\n").unwrap();
    let target = dir.path().join("planted");
    let link = dir.path().join("backup.db");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = tributary()
        .args(["db", "backup"])
        .arg(&link)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&link.display().to_string()) && err.contains("symbolic link"),
        "{err}"
    );
    assert!(!target.exists(), "the symlink's target was created");
}

/// `tributary export ARGS` over an empty store in `dir`.
fn export(dir: &Path, args: &[&str]) -> std::process::Output {
    let config = dir.join("t.toml");
    if !config.exists() {
        std::fs::write(&config, "[daemon]\ndatabase = \"t.db\"\n").unwrap();
    }
    tributary()
        .arg("export")
        .args(args)
        .arg("--config")
        .arg(&config)
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn export_o_takes_the_format_from_the_file_extension() {
    let dir = tempfile::tempdir().unwrap();
    for (file, format) in [
        ("guess.json", "json"),
        ("feed.rss", "rss"),
        ("feed.atom", "atom"),
        ("feed.xml", "atom"),
        ("LOUD.JSON", "json"),
    ] {
        let out = export(dir.path(), &["-o", file]);
        assert!(out.status.success(), "{file}: {}", String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        let is = match format {
            "json" => {
                serde_json::from_str::<serde_json::Value>(&text).unwrap()["version"]
                    == "https://jsonfeed.org/version/1.1"
            }
            "rss" => text.contains("<rss version=\"2.0\""),
            _ => text.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\""),
        };
        assert!(is, "{file} is not {format}:\n{text}");
    }
    // --format agreeing with the extension, or saying what `.xml` and an
    // extension naming no format hold.
    for (args, marker) in [
        (&["--format", "json", "-o", "a.json"][..], "jsonfeed.org"),
        (&["--format", "rss", "-o", "b.xml"][..], "<rss version=\"2.0\""),
        (&["--format", "rss", "-o", "c.txt"][..], "<rss version=\"2.0\""),
    ] {
        let out = export(dir.path(), args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(dir.path().join(args[3])).unwrap();
        assert!(text.contains(marker), "{args:?}:\n{text}");
    }
}

#[test]
fn export_o_with_an_unknown_extension_or_a_contradicting_format_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (args, says) in [
        (&["-o", "feed.txt"][..], "cannot tell the format of feed.txt"),
        (&["-o", "feed"][..], "--format atom|rss|json"),
        (
            &["--format", "atom", "-o", "guess.json"][..],
            "--format atom contradicts",
        ),
        (&["--format", "json", "-o", "feed.rss"][..], "names rss"),
    ] {
        let out = export(dir.path(), args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["t.toml"], "nothing was written, not even the database");
}

#[test]
fn explain_tells_which_rule_made_items_one_entry_and_exits_2_on_an_unknown_one() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("config"),
        &dir.path().join("config"),
    );
    let config = dir.path().join("config/tributary.toml");
    let out = tributary().arg("poll").arg("--config").arg(&config).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // The sample Atom feed republishes one story of the RSS feed under its
    // link plus tracking parameters.
    let out = tributary()
        .args([
            "explain",
            "mondo-notizie",
            "tag:ilglobo.example.org,2026:articolo/48195",
            "--config",
        ])
        .arg(&config)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.starts_with("entry "), "{text}");
    assert!(text.contains("2 items"), "{text}");
    assert!(text.contains("cronache-esteri / cronache-2026-0405"), "{text}");
    assert!(text.contains("same canonical link as"), "{text}");
    // The entry's uid, as published, explains the same entry.
    let uid = text.split_whitespace().nth(1).unwrap();
    let out = tributary()
        .args(["explain", &format!("urn:tributary:entry:{uid}"), "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), text);

    let out = tributary()
        .args(["explain", "0123456789abcdef", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no entry 0123456789abcdef") && err.contains("source name and an item id"),
        "{err}"
    );
}

#[test]
fn check_reports_sources_the_address_guard_will_refuse_with_the_key_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.toml");
    std::fs::write(
        &path,
        "[daemon]\ndatabase = \"t.db\"\n\n\
         [[source]]\nname = \"literal\"\nurl = \"http://reader:s3cr3t@10.1.2.3/feed?token=abc123\"\n\n\
         [[source]]\nname = \"named\"\nurl = \"http://localhost:9/feed\"\n\n\
         [[source]]\nname = \"allowed\"\nurl = \"http://localhost:9/other\"\nallow_private_addresses = [\"127.0.0.0/8\", \"::1\"]\n\n\
         [[source]]\nname = \"local-file\"\nurl = \"t.toml\"\n",
    )
    .unwrap();
    let out = tributary().arg("check").arg("--config").arg(&path).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(stdout.contains("4 sources, 2 refused by the address guard"), "{stdout}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 2, "{stderr}");
    assert!(
        errors[0].contains("source \"literal\" (http://***:***@10.1.2.3/feed?token=***)")
            && errors[0].contains("10.1.2.3 is a private address")
            && errors[0].contains("allow_private_addresses"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].contains("source \"named\" (http://localhost:9/feed)")
            && errors[1].contains("localhost resolves to")
            && errors[1].contains("loopback")
            && errors[1].contains("allow_private_addresses"),
        "{}",
        errors[1]
    );
    assert!(!stdout.contains("s3cr3t") && !stderr.contains("s3cr3t") && !stderr.contains("abc123"));

    // The same file with the policy key set where the guard asked: ok.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("[daemon]\n", "[daemon]\nallow_private_addresses = true\n"),
    )
    .unwrap();
    let out = tributary().arg("check").arg("--config").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(": ok, 4 sources"));
}
