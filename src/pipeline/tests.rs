//! Unit tests of `pipeline`: what a poll prepares and what the writer
//! makes of it, on a store in a temporary folder.

use super::*;
use crate::model::Validators;

/// The words of a story, long enough to be printed: `n` sentences.
fn story(subject: &str, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{subject} told the council of Verona on day {} that the new bridge would cost {} euros. ",
                i + 3,
                1_200_000 + i * 7_919
            )
        })
        .collect()
}

fn rss(items: &[(&str, &str)]) -> Body {
    let items: String = items
        .iter()
        .map(|(id, text)| {
            format!(
                "<item><title>Story {id}</title><link>https://news.example.org/{id}</link><guid>{id}</guid>\
                 <pubDate>Mon, 07 Dec 2026 08:00:00 GMT</pubDate><description>&lt;p&gt;{text}&lt;/p&gt;</description></item>"
            )
        })
        .collect();
    Body {
        bytes: format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>{items}</channel></rss>")
            .into_bytes(),
        charset: None,
        media_type: Some("application/rss+xml".into()),
        final_url: url::Url::parse("https://news.example.org/feed.xml").unwrap(),
        status: 200,
        validators: Validators::default(),
        links: vec![],
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    store: Store,
    source: SourceConfig,
    source_id: i64,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tributary.toml");
    std::fs::write(
        &path,
        "[daemon]\ndatabase = \"t.db\"\n\n[[source]]\nname = \"news\"\nurl = \"https://news.example.org/feed.xml\"\n",
    )
    .unwrap();
    let config = crate::config::load(&path).unwrap();
    let store = Store::open(&dir.path().join("t.db")).unwrap();
    let source = config.sources[0].clone();
    let source_id = store
        .write(|w| w.source_id(&source.name, &source.location.full()))
        .unwrap();
    Setup {
        _dir: dir,
        store,
        source,
        source_id,
    }
}

fn now() -> DateTime<Utc> {
    "2026-12-07T09:00:00Z".parse().unwrap()
}

fn prepared(s: &Setup, body: Body, known: impl FnOnce(&[&str]) -> HashMap<String, String>) -> Prepared {
    let at = IngestAt {
        now: now(),
        elapsed_ms: 0,
        rules: dedup::Rules::default(),
    };
    prepare(&s.source, s.source_id, body, known, at, |hint| (hint, now(), None)).unwrap()
}

fn apply(s: &Setup, p: &Prepared) -> IngestCounts {
    let mut done = s.store.write_each(&[p], |w, p| p.apply(w));
    done.pop().unwrap().unwrap().counts
}

/// The stored print of an item.
fn stored_print(s: &Setup, item_id: &str) -> Option<Vec<u8>> {
    s.store
        .read("testing", |c| {
            c.query_row(
                "SELECT p.print FROM items i LEFT JOIN item_prints p ON p.item = i.id WHERE i.item_id = ?1",
                [item_id],
                |r| r.get(0),
            )
        })
        .unwrap()
}

#[test]
fn an_item_stored_with_the_same_content_is_not_printed_again() {
    let s = setup();
    let (a, b) = (story("The mayor", 6), story("The engineer", 6));
    let first = prepared(&s, rss(&[("a", &a), ("b", &b)]), |_| HashMap::new());
    assert!(first.prints.iter().all(|p| matches!(p, PrintOf::Ready(Some(_)))));
    apply(&s, &first);

    // Fetched again (no validators: a 200), with b edited.
    let b2 = story("The chief engineer", 6);
    let known = |ids: &[&str]| known_hashes(&s.store, "news", s.source_id, ids);
    let again = prepared(&s, rss(&[("a", &a), ("b", &b2)]), known);
    assert!(matches!(again.prints[0], PrintOf::Unchanged), "{:?}", again.prints[0]);
    assert!(
        matches!(again.prints[1], PrintOf::Ready(Some(_))),
        "{:?}",
        again.prints[1]
    );
    let counts = apply(&s, &again);
    assert_eq!((counts.new, counts.updated), (0, 1));
    let want = encoded_print_of(&again.entries[1]).unwrap().bytes;
    assert_eq!(stored_print(&s, "b"), Some(want));
    assert_eq!(
        stored_print(&s, "a"),
        Some(encoded_print_of(&first.entries[0]).unwrap().bytes)
    );
}

#[test]
fn an_item_changed_since_its_poll_was_prepared_gets_its_print_from_the_writer() {
    let s = setup();
    let a = story("The mayor", 6);
    apply(&s, &prepared(&s, rss(&[("a", &a)]), |_| HashMap::new()));

    // Prepared as if the store already held the edited text (it changed
    // meanwhile, or another process stored it and was rolled back): the
    // print is left to the writer, which finds another hash stored.
    let a2 = story("The new mayor", 6);
    let edited = prepared(&s, rss(&[("a", &a2)]), |_| HashMap::new());
    let hash = edited.entries[0].content_hash.clone();
    let stale = prepared(&s, rss(&[("a", &a2)]), |_| HashMap::from([("a".to_string(), hash)]));
    assert!(matches!(stale.prints[0], PrintOf::Unchanged));
    let counts = apply(&s, &stale);
    assert_eq!(counts.updated, 1);
    assert_eq!(
        stored_print(&s, "a"),
        Some(encoded_print_of(&edited.entries[0]).unwrap().bytes)
    );
}
