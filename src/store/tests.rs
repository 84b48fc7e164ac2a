//! Unit tests of `store`.

#![allow(clippy::unwrap_used)]

use super::*;

#[test]
fn migrations_are_valid() {
    migrations().validate().unwrap();
    assert!(schema_version() >= 1);
}

#[test]
fn write_each_fails_only_the_failing_job_and_keeps_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("t.db")).unwrap();
    let jobs = ["a", "bad", "c"];
    let results = s.write_each(&jobs, |w, name| {
        w.source_id(name, "https://example.org/feed")?;
        if *name == "bad" {
            // A failure after a write: that write must not survive.
            w.exec("INSERT INTO no_such_table VALUES (1)", [])
                .map_err(w.err("testing"))?;
        }
        Ok(name.len())
    });
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].as_ref().ok(), Some(&1));
    assert!(results[1].is_err(), "{:?}", results[1]);
    assert_eq!(results[2].as_ref().ok(), Some(&1));
    let names: Vec<String> = s.sources().unwrap().into_iter().map(|st| st.name).collect();
    assert_eq!(names, ["a", "c"]);
}

#[test]
fn write_each_commits_a_batch_of_good_jobs_together() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("t.db")).unwrap();
    let results = s.write_each(&["a", "b"], |w, name| w.source_id(name, "https://example.org/feed"));
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(s.sources().unwrap().len(), 2);
}

#[test]
fn open_creates_folder_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/dir/t.db");
    Store::open(&path).unwrap();
    let s = Store::open(&path).unwrap();
    s.ping().unwrap();
    assert_eq!(s.integrity_check().unwrap(), vec!["ok".to_string()]);
    let mode: String = s
        .lock_writer()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn foreign_file_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, b"these are my notes, not a database at all, please keep them").unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::NotOurs { .. }), "{err}");
    assert!(err.to_string().contains("db backup"));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"these are my notes, not a database at all, please keep them"
    );
    let other = dir.path().join("other.db");
    Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t(x)")
        .unwrap();
    assert!(matches!(Store::open(&other).unwrap_err(), StoreError::NotOurs { .. }));
}

#[test]
fn newer_schema_is_refused_with_versions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    drop(Store::open(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::NewerSchema { found: 99, .. }), "{err}");
}

#[test]
fn a_failing_migration_leaves_the_previous_schema_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    drop(Store::open(&path).unwrap());
    // Pretend migration 04 (pruned items) never ran, and put an object in
    // the way of its second statement so that applying it fails halfway.
    let before = 3;
    let c = Connection::open(&path).unwrap();
    c.execute_batch("DROP TABLE pruned_items; CREATE TABLE pruned_items_at (x);")
        .unwrap();
    c.pragma_update(None, "user_version", before).unwrap();
    drop(c);
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Migration { .. }), "{err}");
    assert!(err.to_string().contains(&path.display().to_string()));
    let c = Connection::open(&path).unwrap();
    let version: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, before, "the version did not move");
    let index: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'pruned_items'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(index, 0, "the table its first statement created was rolled back");
    let ok: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn migration_05_rewrites_lead_bands_as_dedup_computed_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut c = Connection::open(&path).unwrap();
    migrations().to_version(&mut c, 4).unwrap();
    // A store of version 4: one fingerprint (a lead SimHash with the top
    // bit set, negative as stored) and its 8 keys of 16 bits.
    let (simhash, lead): (u64, u64) = (0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210);
    c.execute_batch(
        "INSERT INTO sources (id, name, url) VALUES (1, 's', 'https://example.org/feed');
             INSERT INTO entries (id, uid, title, published_at, updated_at, first_seen_at, content_source_id)
                 VALUES (1, 'u', 't', 0, 0, 0, 1);",
    )
    .unwrap();
    c.execute(
        "INSERT INTO entry_fingerprints VALUES (1, ?1, ?2, 20, x'', x'', 0)",
        [simhash as i64, lead as i64],
    )
    .unwrap();
    for (k, hash) in [simhash, lead].into_iter().enumerate() {
        for i in 0..4 {
            let old = ((k as i64) << 20) | ((i as i64) << 16) | ((hash >> (16 * i)) & 0xffff) as i64;
            c.execute("INSERT INTO entry_bands VALUES (?1, 1)", [old]).unwrap();
        }
    }
    migrations().to_version(&mut c, 5).unwrap();
    let mut st = c
        .prepare("SELECT band FROM entry_bands WHERE entry_id = 1 ORDER BY band")
        .unwrap();
    let got: Vec<i64> = st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    // The keys version 5 of rule 3 computed: 4×16 bits of the text
    // SimHash, 2×32 bits of the lead SimHash tagged 1 << 36.
    let text = |i: i64| (i << 16) | ((simhash >> (16 * i)) & 0xffff) as i64;
    let lead_key = |i: i64| (1 << 36) | (i << 32) | ((lead >> (32 * i)) & 0xffff_ffff) as i64;
    let mut want = vec![text(0), text(1), text(2), text(3), lead_key(0), lead_key(1)];
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn migration_09_records_every_credit_as_an_item_and_leaves_one_print_per_entry_to_compute() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut c = Connection::open(&path).unwrap();
    migrations().to_version(&mut c, 8).unwrap();
    // Entry 1 shows source 2's text and is credited to sources 1 and 2;
    // entry 2 has one credit. Both hold the same canonical link column
    // as before, and entry 1 had a fingerprint and band keys.
    c.execute_batch(
            "INSERT INTO sources (id, name, url) VALUES (1, 'a', 'https://a.example/feed'), (2, 'b', 'https://b.example/feed');
             INSERT INTO entries (id, uid, canonical_link, title, content_html, published_at, updated_at, first_seen_at, content_source_id)
                 VALUES (1, 'u1', 'https://x.example/1', 't1', '<p>text</p>', 100, 100, 100, 2),
                        (2, 'u2', NULL, 't2', NULL, 200, 200, 200, 1);
             INSERT INTO entry_sources (source_id, item_id, entry_id, link, content_hash, first_seen_at, last_seen_at)
                 VALUES (1, 'a-1', 1, 'https://x.example/1', 'h', 100, 100),
                        (2, 'b-1', 1, 'https://x.example/1?utm_source=rss', 'h', 110, 110),
                        (1, 'a-2', 2, NULL, 'h', 200, 200);
             INSERT INTO entry_fingerprints VALUES (1, 1, 2, 20, x'', x'', 100);
             INSERT INTO entry_bands VALUES (7, 1);",
        )
        .unwrap();
    migrations().to_latest(&mut c).unwrap();
    let mut st = c
        .prepare("SELECT source_id, item_id, entry_id, canonical_link, published_at, rule, keys FROM items ORDER BY id")
        .unwrap();
    type Row = (i64, String, i64, Option<String>, i64, String, Option<Vec<u8>>);
    let rows: Vec<Row> = st
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let link = Some("https://x.example/1".to_string());
    assert_eq!(
        rows,
        [
            (1, "a-1".into(), 1, link.clone(), 100, "migrated".into(), Some(vec![])),
            (2, "b-1".into(), 1, link, 100, "migrated".into(), None),
            (1, "a-2".into(), 2, None, 200, "migrated".into(), None),
        ]
    );
    let gone: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name IN ('entry_bands', 'entry_fingerprints', 'entries_canonical_link')",
                [],
                |r| r.get(0),
            )
            .unwrap();
    assert_eq!(gone, 0);
}

/// The file's bytes; and no `-wal`, `-shm` or `-journal` beside it.
fn bytes_alone(path: &Path) -> Vec<u8> {
    for suffix in ["-wal", "-shm", "-journal"] {
        let side = files::sidecar(path, suffix);
        assert!(!side.exists(), "{} exists", side.display());
    }
    std::fs::read(path).unwrap()
}

/// Opens `path`, expecting a refusal that leaves the file byte-identical
/// and creates nothing beside it.
fn refused_untouched(path: &Path) -> StoreError {
    let before = bytes_alone(path);
    let err = Store::open(path).unwrap_err();
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
    assert!(bytes_alone(path) == before, "{} changed: {err}", path.display());
    err
}

fn application_id(path: &Path) -> u32 {
    let c = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    c.query_row("PRAGMA application_id", [], |r| r.get::<_, i64>(0))
        .unwrap() as u32
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A source and an entry, written through the store.
fn write_entry(s: &Store, name: &str) {
    s.write(|w| {
        let id = w.source_id(name, "https://user:secret@example.org/feed")?;
        w.exec(
            "INSERT INTO entries (uid, title, published_at, updated_at, first_seen_at, content_source_id)
                 VALUES (?1, 't', 0, 0, 0, ?2)",
            rusqlite::params![name, id],
        )
        .map_err(w.err("testing"))?;
        w.mark_changed();
        Ok(())
    })
    .unwrap();
}

/// An item of source 1 that started entry 1, with one key.
fn new_item(item_id: &str, published: i64, key: u32, print: Option<Vec<u8>>) -> crate::model::ItemRecord {
    crate::model::ItemRecord {
        source_id: 1,
        item_id: item_id.into(),
        entry_id: 1,
        canonical_link: None,
        published: to_time(published),
        join: crate::model::Join {
            rule: "new".into(),
            matched: None,
            score: None,
        },
        keys: vec![key],
        print,
    }
}

#[test]
fn keys_another_process_committed_are_found_by_this_ones_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let (daemon, poll) = (Store::open(&path).unwrap(), Store::open(&path).unwrap());
    write_entry(&daemon, "one");
    // The daemon's index is built, and holds nothing yet.
    daemon
        .write(|w| w.key_hits(&[7]).map(|h| assert!(h.is_empty())))
        .unwrap();
    // Another process (`tributary poll` beside the daemon) stores an item.
    poll.write(|w| {
        let id = w.insert_item(&new_item("x", 0, 7, None))?;
        w.credit(1, "x", 1, None, "h", to_time(0))?;
        Ok(id)
    })
    .unwrap();
    let hits = daemon.write(|w| w.key_hits(&[7])).unwrap();
    assert_eq!(hits.len(), 1, "the daemon's index was rebuilt: {hits:?}");
}

/// Entries in a copy of the database file made without its `-wal`.
fn entries_in_a_copy_of_the_file_alone(path: &Path) -> i64 {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    std::fs::copy(path, &copy).unwrap();
    let c = Connection::open(&copy).unwrap();
    c.query_row("SELECT count(*) FROM entries", [], |r| r.get(0)).unwrap()
}

#[test]
fn a_change_of_entries_committed_by_another_process_moves_the_data_version_once_synced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    // Two stores on one file, as the daemon and `tributary poll` are.
    let daemon = Store::open(&path).unwrap();
    let other = Store::open(&path).unwrap();
    let before = daemon.data_version();
    assert!(!daemon.sync_data_version().unwrap(), "nothing changed yet");

    write_entry(&other, "one");
    assert!(other.data_version() > before, "the writer sees its own commit at once");
    assert_eq!(daemon.data_version(), before, "the other process has not looked yet");
    assert!(
        daemon.sync_data_version().unwrap(),
        "the other process's commit is seen"
    );
    assert_eq!(daemon.data_version(), other.data_version());
    assert!(!daemon.sync_data_version().unwrap(), "seen once");

    // A commit that changes no entry (a poll's state alone) moves nothing.
    other
        .write(|w| w.source_id("two", "https://example.org/two").map(drop))
        .unwrap();
    assert!(!daemon.sync_data_version().unwrap());

    // Nor does it go backwards when this process's own commit is newer.
    write_entry(&daemon, "three");
    let own = daemon.data_version();
    assert!(!daemon.sync_data_version().unwrap());
    assert_eq!(daemon.data_version(), own);

    // A prune in another process is a change too (the test entries
    // are dated 1970); one that removes nothing is not.
    let before_prune = daemon.data_version();
    assert_eq!(other.prune(1, 1, Utc::now()).unwrap().entries, 2);
    assert!(daemon.sync_data_version().unwrap(), "the prune is seen");
    assert!(daemon.data_version() > before_prune);
    assert_eq!(other.prune(1, 1, Utc::now()).unwrap().entries, 0);
    assert!(!daemon.sync_data_version().unwrap());
}

#[test]
fn the_data_version_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let s = Store::open(&path).unwrap();
    write_entry(&s, "one");
    let v = s.data_version();
    drop(s);
    assert_eq!(Store::open(&path).unwrap().data_version(), v);
}

#[test]
fn a_new_store_carries_tributarys_application_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    drop(Store::open(&path).unwrap());
    assert_eq!(application_id(&path), APPLICATION_ID);
    assert_eq!(APPLICATION_ID, 0x5452_4942);
}

#[test]
fn a_newer_user_version_is_refused_with_both_versions_and_left_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    // Someone else's file (rollback journal), at a version above ours.
    let path = dir.path().join("other.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE sources (x); CREATE TABLE entries (y); PRAGMA user_version = 99;")
        .unwrap();
    let err = refused_untouched(&path);
    assert!(matches!(err, StoreError::NotOurs { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("user_version 99") && text.contains(&format!("0 to {}", schema_version())),
        "{text}"
    );
    assert!(text.contains("0x00000000") && text.contains("0x54524942"), "{text}");
    // A Tributary store from a newer release.
    let path = dir.path().join("t.db");
    drop(Store::open(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = refused_untouched(&path);
    assert!(matches!(err, StoreError::NewerSchema { found: 99, .. }), "{err}");
}

#[test]
fn a_foreign_application_id_is_refused_with_both_ids_and_left_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    // Tributary's very tables, in WAL mode, under another application's id.
    let path = dir.path().join("t.db");
    drop(Store::open(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "application_id", i64::from(u32::from_be_bytes(*b"GPKG")))
        .unwrap();
    let err = refused_untouched(&path);
    assert!(matches!(err, StoreError::NotOurs { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("0x47504b47 (\"GPKG\")") && text.contains("0x54524942"),
        "{text}"
    );
}

#[test]
fn other_tables_at_user_version_4_are_refused_and_not_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE sources (id INTEGER PRIMARY KEY, name TEXT);
                 CREATE TABLE entries (id INTEGER PRIMARY KEY);
                 CREATE TABLE entry_bands (band INTEGER, entry_id INTEGER);
                 INSERT INTO entry_bands VALUES (1048577, 1);
                 PRAGMA user_version = 4;",
        )
        .unwrap();
    let err = refused_untouched(&path);
    assert!(matches!(err, StoreError::NotOurs { .. }), "{err}");
    assert!(err.to_string().contains("schema version 4"), "{err}");
}

#[test]
fn an_empty_file_is_refused_with_what_to_do_and_left_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    std::fs::write(&path, b"").unwrap();
    let err = refused_untouched(&path);
    assert!(matches!(err, StoreError::Empty { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("Delete it") && text.contains("point `database` elsewhere"),
        "{text}"
    );
}

#[test]
fn garbage_bytes_are_refused_and_left_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let garbage: Vec<u8> = (0u32..8192)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&path, &garbage).unwrap();
    assert!(matches!(refused_untouched(&path), StoreError::NotOurs { .. }));
    // An SQLite header over garbage.
    let mut fake = b"SQLite format 3\0".to_vec();
    fake.extend_from_slice(&garbage);
    std::fs::write(&path, &fake).unwrap();
    assert!(matches!(refused_untouched(&path), StoreError::NotOurs { .. }));
}

#[test]
fn an_sqlite_file_without_tables_is_refused_unless_tributary_created_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "page_size", 8192)
        .unwrap();
    Connection::open(&path).unwrap().execute_batch("VACUUM").unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() > 0);
    let err = refused_untouched(&path);
    assert!(matches!(err, StoreError::NotOurs { .. }), "{err}");
    assert!(err.to_string().contains("delete it"), "{err}");
}

#[test]
fn a_store_of_an_earlier_release_is_adopted_stamped_and_keeps_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    // As an earlier release left it: no application id, version 4, and
    // the last commits still in the write-ahead log.
    let mut c = Connection::open(&path).unwrap();
    c.pragma_update(None, "journal_mode", "WAL").unwrap();
    migrations().to_version(&mut c, 4).unwrap();
    c.execute_batch(
        "INSERT INTO sources (id, name, url) VALUES (1, 's', 'https://example.org/feed');
             INSERT INTO entries (id, uid, title, published_at, updated_at, first_seen_at, content_source_id)
                 VALUES (1, 'u', 't', 0, 0, 0, 1);",
    )
    .unwrap();
    c.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .unwrap();
    drop(c);
    assert!(std::fs::metadata(files::sidecar(&path, "-wal")).unwrap().len() > 0);
    let s = Store::open(&path).unwrap();
    assert_eq!(s.entry_count().unwrap(), 1);
    drop(s);
    assert_eq!(application_id(&path), APPLICATION_ID);
    let c = Connection::open(&path).unwrap();
    let version: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version as usize, schema_version());
}

#[test]
fn a_new_store_its_folders_log_and_shared_memory_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/t.db");
    let s = Store::open(&path).unwrap();
    write_entry(&s, "one");
    assert_eq!(mode(&dir.path().join("a")), 0o700);
    assert_eq!(mode(&dir.path().join("a/b")), 0o700);
    assert_eq!(mode(&path), 0o600);
    // SQLite gives its log and shared memory the database file's mode.
    assert_eq!(mode(&files::sidecar(&path, "-wal")), 0o600);
    assert_eq!(mode(&files::sidecar(&path, "-shm")), 0o600);
}

#[test]
fn an_existing_database_file_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    drop(Store::open(&path).unwrap());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    drop(Store::open(&path).unwrap());
    assert_eq!(mode(&path), 0o640);
}

#[test]
fn a_checkpoint_while_the_store_is_shared_leaves_every_commit_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let s = std::sync::Arc::new(Store::open(&path).unwrap());
    let held_elsewhere = s.clone();
    for i in 0..20 {
        write_entry(&s, &format!("source-{i}"));
    }
    assert_eq!(s.entry_count().unwrap(), 20);
    assert!(s.checkpoint().unwrap());
    let wal = files::sidecar(&path, "-wal");
    assert!(
        std::fs::metadata(&wal).map_or(0, |m| m.len()) == 0,
        "the log is emptied"
    );
    assert_eq!(entries_in_a_copy_of_the_file_alone(&path), 20);
    drop(held_elsewhere);
}

#[test]
fn dropping_the_store_leaves_every_commit_in_the_file_and_no_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let s = Store::open(&path).unwrap();
    write_entry(&s, "one");
    s.ping().unwrap();
    drop(s);
    assert!(!files::sidecar(&path, "-wal").exists());
    assert_eq!(entries_in_a_copy_of_the_file_alone(&path), 1);
}

#[test]
fn unwritable_folder_names_the_path() {
    let err = Store::open(Path::new("/proc/tributary-test/t.db")).unwrap_err();
    assert!(err.to_string().contains("/proc/tributary-test"), "{err}");
}

#[test]
fn forgetting_the_source_an_entry_is_shown_from_hands_it_to_another_and_drops_its_lone_entries() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("t.db")).unwrap();
    // Entry 1 ("a") is shown from source a and credited to a and b; entry 2 ("a-only") to a alone.
    write_entry(&s, "a");
    s.write(|w| {
        let b = w.source_id("b", "https://b.example.org/feed")?;
        w.exec(
            "INSERT INTO entries (uid, title, published_at, updated_at, first_seen_at, content_source_id)
                 VALUES ('a-only', 't', 0, 0, 0, 1)",
            [],
        )
        .map_err(w.err("testing"))?;
        w.credit(1, "shared", 1, None, "h", to_time(0))?;
        w.credit(b, "shared", 1, None, "h", to_time(5))?;
        w.credit(1, "lone", 2, None, "h", to_time(0))?;
        w.hold_back(1, "old", to_time(0))?;
        Ok(())
    })
    .unwrap();
    let before = s.data_version();
    assert_eq!(s.forget_source("nobody").unwrap(), None);
    let f = s.forget_source("a").unwrap().unwrap();
    assert_eq!((f.entries, f.shared), (1, 1));
    assert!(s.data_version() > before, "the pages of a running daemon follow");
    let (shown_from, credits, rows): (String, i64, i64) = s
        .read("testing", |c| {
            c.query_row(
                "SELECT (SELECT name FROM sources WHERE id = e.content_source_id),
                        (SELECT count(*) FROM entry_sources),
                        (SELECT count(*) FROM pruned_items) + (SELECT count(*) FROM sources)
                 FROM entries e",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
        })
        .unwrap();
    assert_eq!((shown_from.as_str(), credits, rows), ("b", 1, 1));
    assert_eq!(s.entry_count().unwrap(), 1);
    assert_eq!(s.integrity_check().unwrap(), ["ok"]);
}

fn page_done(url: &str) -> crate::model::PageMemory {
    crate::model::PageMemory {
        url: url.into(),
        state: crate::model::PageState::Done,
        attempts: 1,
        next_retry: None,
        last_error: None,
        content: Some("<p>article</p>".into()),
        at: to_time(0),
    }
}

#[test]
fn an_article_pages_memory_reads_back_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("t.db")).unwrap();
    write_entry(&s, "a");
    let failed = crate::model::PageMemory {
        state: crate::model::PageState::FailedTransient,
        attempts: 2,
        next_retry: Some(to_time(900)),
        last_error: Some("HTTP 503 from https://e.org/x".into()),
        content: None,
        ..page_done("https://e.org/x")
    };
    s.write(|w| {
        assert_eq!(w.page(1, "x")?, None);
        w.record_page(1, "x", &failed)?;
        assert_eq!(w.page(1, "x")?, Some(failed.clone()));
        w.record_page(1, "x", &page_done("https://e.org/x"))?;
        assert_eq!(w.page(1, "x")?, Some(page_done("https://e.org/x")));
        Ok(())
    })
    .unwrap();
}

#[test]
fn forgetting_a_source_forgets_its_article_pages() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("t.db")).unwrap();
    write_entry(&s, "a");
    s.write(|w| {
        w.credit(1, "x", 1, None, "h", to_time(0))?;
        w.record_page(1, "x", &page_done("https://e.org/x"))
    })
    .unwrap();
    // The page's row refers to the source: it must go first.
    assert!(s.forget_source("a").unwrap().is_some());
    let rows: i64 = s
        .read("testing", |c| {
            c.query_row("SELECT count(*) FROM full_text", [], |r| r.get(0))
        })
        .unwrap();
    assert_eq!(rows, 0);
    assert_eq!(s.integrity_check().unwrap(), ["ok"]);
}

#[test]
fn retention_forgets_the_article_pages_of_the_items_it_prunes() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("t.db")).unwrap();
    write_entry(&s, "a");
    s.write(|w| {
        w.credit(1, "old", 1, None, "h", to_time(0))?;
        w.record_page(1, "old", &page_done("https://e.org/old"))?;
        // A page whose item is still stored elsewhere stays.
        w.exec(
            "INSERT INTO entries (uid, title, published_at, updated_at, first_seen_at, content_source_id)
                 VALUES ('new', 't', ?1, ?1, ?1, 1)",
            [chrono::Utc::now().timestamp()],
        )
        .map_err(w.err("testing"))?;
        w.credit(1, "new", 2, None, "h", chrono::Utc::now())?;
        w.record_page(1, "new", &page_done("https://e.org/new"))
    })
    .unwrap();
    let pruned = s.prune(30, 0, chrono::Utc::now()).unwrap();
    assert_eq!(pruned.entries, 1);
    let left: Vec<String> = s
        .read("testing", |c| {
            c.prepare("SELECT item_id FROM full_text")?
                .query_map([], |r| r.get(0))?
                .collect()
        })
        .unwrap();
    assert_eq!(left, ["new"]);
}

#[test]
fn with_the_log_copier_running_stopping_still_leaves_every_commit_in_the_file_and_no_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let s = Store::open(&path).unwrap();
    s.copy_log_in_background().unwrap();
    // Idempotent: a second call starts no second copier.
    s.copy_log_in_background().unwrap();
    let autocheckpoint = |s: &Store| -> i64 {
        s.lock_writer()
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(autocheckpoint(&s), 0, "the writer leaves the copies to the copier");
    for i in 0..20 {
        write_entry(&s, &format!("source-{i}"));
    }
    assert!(s.checkpoint().unwrap());
    assert_eq!(
        autocheckpoint(&s),
        copier::LIMIT,
        "once it stopped, the writer copies again"
    );
    assert_eq!(entries_in_a_copy_of_the_file_alone(&path), 20);
    drop(s);
    assert!(!files::sidecar(&path, "-wal").exists());
}

#[test]
fn new_sources_registered_together_are_found_as_source_for_poll_would_leave_them() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("t.db")).unwrap();
    let (old_id, _, afresh) = s.source_for_poll("old", "https://a.example/feed", "s1").unwrap();
    assert!(!afresh);
    let list = |old_settings: &str| {
        vec![
            (
                "old".to_string(),
                "https://a.example/feed".to_string(),
                old_settings.to_string(),
            ),
            (
                "new-1".to_string(),
                "https://b.example/feed".to_string(),
                "s2".to_string(),
            ),
            ("new-2".to_string(), "/srv/feeds/c.xml".to_string(), "s3".to_string()),
        ]
    };
    // Only the two the store has never seen; the known one's changed
    // settings are left alone.
    assert_eq!(s.register_new_sources(&list("changed")).unwrap(), 2);
    assert_eq!(s.register_new_sources(&list("changed")).unwrap(), 0);
    let sources = s.sources().unwrap();
    let names: Vec<&str> = sources.iter().map(|st| st.name.as_str()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    for (name, url, settings) in &list("s1")[1..] {
        let (_, state, afresh) = s.source_for_poll(name, url, settings).unwrap();
        assert!(!afresh, "{name}");
        assert_eq!(state.settings.as_deref(), Some(settings.as_str()));
    }
    // The known source still learns at its poll that it starts afresh.
    let (id, _, afresh) = s.source_for_poll("old", "https://a.example/feed", "changed").unwrap();
    assert_eq!(id, old_id);
    assert!(afresh);
}

#[test]
fn a_batch_of_polls_keeps_its_pages_in_memory_up_to_the_spill_limit_and_other_writes_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("t.db")).unwrap();
    let spill = |w: &Writer<'_>| -> Result<i64, StoreError> {
        w.tx.query_row("PRAGMA cache_spill", [], |r| r.get(0))
            .map_err(w.err("reading the spill threshold"))
    };
    let default = s.write(spill).unwrap();
    assert!(default > 0 && default < SPILL_PAGES, "{default}");
    let during = s.write_each(&[1, 2], |w, _| spill(w));
    assert!(
        during.iter().all(|r| r.as_ref().ok() == Some(&SPILL_PAGES)),
        "{during:?}"
    );
    assert_eq!(s.write(spill).unwrap(), default);
}

#[test]
fn expiring_prints_forgets_the_keys_and_prints_of_items_published_before_the_horizon_only() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("t.db")).unwrap();
    write_entry(&s, "one");
    // Three items of one entry, published at 100, 200 and 300, each with a
    // key and a print.
    s.write(|w| {
        for (n, at) in [(1, 100), (2, 200), (3, 300)] {
            w.insert_item(&new_item(&format!("i{n}"), at, n, Some(vec![n as u8; 8])))?;
        }
        Ok(())
    })
    .unwrap();
    let expired = s.write(|w| w.expire_prints(to_time(200))).unwrap();
    assert_eq!(expired, 1);
    let c = Connection::open(dir.path().join("t.db")).unwrap();
    let rows: Vec<(String, i64, bool)> = c
        .prepare(
            "SELECT i.item_id, length(i.keys), p.item IS NOT NULL FROM items i
             LEFT JOIN item_prints p ON p.item = i.id ORDER BY i.id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(
        rows,
        [("i1".into(), 0, false), ("i2".into(), 4, true), ("i3".into(), 4, true)]
    );
    // Nothing left to forget: a second run changes nothing.
    assert_eq!(s.write(|w| w.expire_prints(to_time(200))).unwrap(), 0);
}

#[test]
fn items_keep_no_index_of_their_publication_dates() {
    // Migration 12: an index whose keys arrive in random order costs a page
    // per insert in every commit; the text window's search reads the table.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    Store::open(&path).unwrap();
    let c = Connection::open(&path).unwrap();
    let indexes: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items' AND sql IS NOT NULL ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(indexes, ["items_entry", "items_link"]);
}
