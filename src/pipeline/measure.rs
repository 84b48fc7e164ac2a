//! Candidates per new item at store scale.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use crate::dedup::{self, Print, compare, print};
use crate::store::keys::{KeyIndex, posting};

/// Sizes of the fact sample measured; [`print::SAMPLE`] is the one used.
const SAMPLES: [usize; 5] = [4, 6, 8, 10, 12];

struct Probe {
    role: String,
    kind: String,
    story: String,
    print: Print,
    keys: Vec<Vec<u32>>,
}

fn percentile(xs: &mut [usize], q: f64) -> usize {
    xs.sort_unstable();
    xs.get(((xs.len().saturating_sub(1)) as f64 * q) as usize)
        .copied()
        .unwrap_or(0)
}

#[test]
#[ignore = "needs $DEDUP_CANDIDATES from scripts/dedup-candidates"]
fn measure_candidates() {
    let Ok(path) = std::env::var("DEDUP_CANDIDATES") else {
        return;
    };
    let started = Instant::now();
    let file = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
    let mut stored: Vec<(Print, Vec<Vec<u32>>)> = Vec::new();
    let mut story_at: HashMap<String, u32> = HashMap::new();
    let mut probes: Vec<Probe> = Vec::new();
    for line in std::io::BufRead::lines(file) {
        let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        let s = |k: &str| v[k].as_str().unwrap().to_string();
        let Some((print, keys)) = print::print_sampling(&s("title"), Some(&s("html")), &SAMPLES) else {
            continue;
        };
        if s("role") == "stored" {
            story_at.insert(s("story"), stored.len() as u32);
            stored.push((print, keys));
        } else {
            probes.push(Probe {
                role: s("role"),
                kind: s("kind"),
                story: s("story"),
                print,
                keys,
            });
        }
    }
    println!(
        "{} stored items and {} probes printed in {:.0} s",
        stored.len(),
        probes.len(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "\n| fact sample | keys per stored item | index MB | candidates per unrelated item: mean / median / p90 / p99 / max | lookup µs | copies found: light / heavy / furniture / trunc-30 / trunc-60 |"
    );
    println!("|---|---|---|---|---|---|");
    for (si, k) in SAMPLES.iter().enumerate() {
        let built = Instant::now();
        let mut postings: Vec<u64> = Vec::with_capacity(stored.iter().map(|(_, keys)| keys[si].len()).sum());
        postings.extend(
            stored
                .iter()
                .enumerate()
                .flat_map(|(i, (_, keys))| keys[si].iter().map(move |key| posting(*key, i as u32))),
        );
        let n = postings.len();
        let index = KeyIndex::from_postings(postings);
        let build_ms = built.elapsed().as_millis();
        let mut unrelated = Vec::new();
        let mut found: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
        let looked = Instant::now();
        let mut lookups = 0u32;
        for p in &probes {
            let mut probe = p.print.clone();
            probe.keys = p.keys[si].clone();
            let cands = dedup::candidates::<std::convert::Infallible>(
                &probe,
                |k| Ok(index.count(k)),
                |keys| {
                    let mut hits = Vec::new();
                    index.hits(keys, &mut hits);
                    Ok(hits)
                },
                |k, item| Ok(index.contains(k, item)),
            )
            .unwrap_or_default();
            lookups += 1;
            if p.role == "new" {
                unrelated.push(cands.len());
                continue;
            }
            let Some(&at) = story_at.get(&p.story) else { continue };
            let e = found.entry(p.kind.as_str()).or_default();
            e.1 += 1;
            if cands.contains(&i64::from(at)) {
                e.0 += 1;
                if *k == print::SAMPLE && compare::judge(&p.print, &stored[at as usize].0).outcome.is_ok() {
                    e.2 += 1;
                }
            }
        }
        let per_lookup = looked.elapsed().as_micros() as f64 / f64::from(lookups.max(1));
        let mean = unrelated.iter().sum::<usize>() as f64 / unrelated.len().max(1) as f64;
        let share = |kind: &str| {
            found.get(kind).map_or("-".to_string(), |(f, t, _)| {
                format!("{:.3}", *f as f64 / (*t).max(1) as f64)
            })
        };
        println!(
            "| {k}{} | {:.2} | {:.1} | {mean:.2} / {} / {} / {} / {} | {per_lookup:.1} | {} / {} / {} / {} / {} |",
            if *k == print::SAMPLE { " (used)" } else { "" },
            n as f64 / stored.len() as f64,
            index.bytes() as f64 / 1e6,
            percentile(&mut unrelated, 0.5),
            percentile(&mut unrelated, 0.9),
            percentile(&mut unrelated, 0.99),
            percentile(&mut unrelated, 1.0),
            share("light-edit"),
            share("heavy-edit"),
            share("furniture"),
            share("truncated-30"),
            share("truncated-60"),
        );
        if *k == print::SAMPLE {
            for (kind, (f, t, same)) in &found {
                println!("    {kind}: found {f}/{t}, judged the same story {same}/{t}; index built in {build_ms} ms");
            }
        }
    }
}

/// How long upgrading a large store takes: a store of version 8 with
/// one entry per stored story of `$DEDUP_CANDIDATES` (each credited to
/// one source, with an old fingerprint row) is migrated to items, its
/// prints computed, and the key index built, each step timed.
#[test]
#[ignore = "needs $DEDUP_CANDIDATES from scripts/dedup-candidates"]
fn measure_migration() {
    let Ok(path) = std::env::var("DEDUP_CANDIDATES") else {
        return;
    };
    // On the disk of the target folder, as a real store would be.
    let base = std::env::var_os("CARGO_TARGET_DIR").map_or_else(std::env::temp_dir, std::path::PathBuf::from);
    let dir = tempfile::tempdir_in(base).unwrap();
    let db = dir.path().join("old.db");
    let file = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
    let now = chrono::Utc::now();
    let entries = {
        let mut c = rusqlite::Connection::open(&db).unwrap();
        c.pragma_update(None, "journal_mode", "WAL").unwrap();
        crate::store::migrations_to(&mut c, 8);
        c.pragma_update(None, "application_id", i64::from(crate::store::APPLICATION_ID))
            .unwrap();
        let tx = c.transaction().unwrap();
        tx.execute(
            "INSERT INTO sources (id, name, url) VALUES (1, 's', 'https://s.example/feed')",
            [],
        )
        .unwrap();
        let mut n = 0i64;
        for line in std::io::BufRead::lines(file) {
            let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
            if v["role"] != "stored" {
                continue;
            }
            n += 1;
            let published = (now - chrono::TimeDelta::minutes(n % (20 * 24 * 60))).timestamp();
            tx.execute(
                    "INSERT INTO entries (id, uid, canonical_link, link, title, content_html, published_at, updated_at, first_seen_at, content_source_id)
                     VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?6, ?6, 1)",
                    rusqlite::params![n, format!("u{n}"), format!("https://s.example/{n}"), v["title"].as_str(), v["html"].as_str(), published],
                )
                .unwrap();
            tx.execute(
                    "INSERT INTO entry_sources (source_id, item_id, entry_id, link, content_hash, first_seen_at, last_seen_at)
                     VALUES (1, ?1, ?1, ?2, 'h', ?3, ?3)",
                    rusqlite::params![n, format!("https://s.example/{n}"), published],
                )
                .unwrap();
            tx.execute(
                "INSERT INTO entry_fingerprints VALUES (?1, 1, 2, 100, zeroblob(512), zeroblob(500), ?2)",
                rusqlite::params![n, published],
            )
            .unwrap();
            for b in 0..6 {
                tx.execute(
                    "INSERT OR IGNORE INTO entry_bands VALUES (?1, ?2)",
                    rusqlite::params![(n * 7 + b) % 65536 + (b << 16), n],
                )
                .unwrap();
            }
        }
        tx.commit().unwrap();
        c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
        n
    };
    let size = std::fs::metadata(&db).unwrap().len();
    let t = Instant::now();
    let store = crate::store::Store::open(&db).unwrap();
    let migrated = t.elapsed();
    let t = Instant::now();
    let (expired, computed) = super::maintain_prints(&store, dedup::Rules::default(), now).unwrap();
    let printed = t.elapsed();
    let t = Instant::now();
    store.write(|w| w.key_hits(&[1]).map(|_| ())).unwrap();
    let indexed = t.elapsed();
    let (postings, bytes) = store.key_index_size().unwrap();
    println!(
        "{entries} entries, {:.0} MB at version 8: migration {:.1} s; prints computed for {computed} items ({expired} expired) in {:.1} s; key index of {postings} postings ({:.1} MB) built in {:.2} s",
        size as f64 / 1e6,
        migrated.as_secs_f64(),
        printed.as_secs_f64(),
        bytes as f64 / 1e6,
        indexed.as_secs_f64()
    );
}
