//! A community planet, end to end: a podcast, a photo blog, blogs with
//! comments, relative links and `xml:base`, a windows-1252 blog, a JSON
//! Feed with attachments, a relay sharing a story, an Atom 0.3 bridge and
//! an RSS 1.0 feed are polled from a local server, merged, and the merged
//! feeds read back by real consumers: Python feedparser (enclosures, media,
//! authors with their addresses, comments, categories, sources), newsboat
//! (`enclosure_url` of every episode), jing with the RELAX NG grammar of
//! RFC 4287, xmllint, and the JSON Feed 1.1 shapes.
//!
//! The external tools are required, as in `tests/validity.rs`: a missing
//! one fails the test with what installs it (`scripts/test` installs them).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use serde_json::Value;
use tributary::model::PollOutcome;
use tributary::publish::Format;

/// The feedparser driver that prints every entry's details.
const FEEDPARSER_ENTRIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/feedparser_entries.py");
/// The RELAX NG compact grammar of RFC 4287, Appendix B.
const ATOM_RNC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemas/atom.rnc");

/// (source name, configured title, fixture file, served path, media type).
const SOURCES: &[(&str, Option<&str>, &str, &str, &str)] = &[
    (
        "podcast",
        None,
        "tests/fixtures/planet/podcast.rss",
        "/podcast.rss",
        "application/rss+xml",
    ),
    (
        "fiona-s-photo-blog",
        None,
        "tests/fixtures/planet/photos.atom",
        "/photos.atom",
        "application/atom+xml",
    ),
    (
        "two-cooks",
        None,
        "tests/fixtures/planet/comments.rss",
        "/comments.rss",
        "application/rss+xml",
    ),
    (
        "relative",
        None,
        "tests/fixtures/planet/threads.atom",
        "/threads.atom",
        "application/atom+xml",
    ),
    (
        "relay",
        Some("The Relay"),
        "tests/fixtures/planet/relay.rss",
        "/relay.rss",
        "application/rss+xml",
    ),
    (
        "jay",
        None,
        "tests/fixtures/planet/attachments.json",
        "/jay.json",
        "application/feed+json",
    ),
    (
        "cronache-esteri",
        Some("Cronache — Esteri"),
        "config/samples/cronache-esteri.rss",
        "/esteri.rss",
        "application/rss+xml",
    ),
    (
        "mondo-notizie",
        None,
        "config/samples/mondo-notizie.atom",
        "/mondo.atom",
        "application/atom+xml",
    ),
    (
        "world-briefing",
        None,
        "config/samples/world-briefing.json",
        "/world.json",
        "application/feed+json",
    ),
    (
        "old-bridge",
        None,
        "tests/fixtures/planet/old.atom",
        "/old.atom",
        "application/atom+xml",
    ),
    (
        "rdf-weekly",
        None,
        "tests/fixtures/planet/rdf.xml",
        "/rdf.xml",
        "application/rdf+xml",
    ),
];

/// The planet polled once: its sandbox, server and merged documents.
struct Planet {
    sb: Sandbox,
    server: FeedServer,
    docs: Vec<(Format, PathBuf, String)>,
}

impl Planet {
    async fn start() -> Planet {
        let server = FeedServer::start().await;
        let mut blocks = String::new();
        for (name, title, file, path, media_type) in SOURCES {
            server.set(path, Route::feed(media_type, std::fs::read(repo_file(file)).unwrap()));
            blocks.push_str(&format!(
                "[[source]]\nname = \"{name}\"\nurl = \"{}\"\n",
                server.url(path)
            ));
            if let Some(title) = title {
                blocks.push_str(&format!("title = \"{title}\"\n"));
            }
            blocks.push('\n');
        }
        let sb = Sandbox::new();
        let config = sb.config(&blocks);
        let cx = context(&config).await;
        for report in poll_all(&cx, &config).await {
            assert_eq!(report.outcome, PollOutcome::Ok, "{report:?}");
            assert!(report.counts.items > 0, "{} yields entries: {report:?}", report.source);
        }
        let mut docs = Vec::new();
        for format in Format::ALL {
            let body = render(&cx.store, &config, format);
            let path = sb.path(&format!("planet.{}", format.extension()));
            std::fs::write(&path, &body).unwrap();
            docs.push((format, path, body));
        }
        Planet { sb, server, docs }
    }

    fn doc(&self, format: Format) -> &str {
        &self.docs.iter().find(|(f, ..)| *f == format).unwrap().2
    }

    fn path(&self, format: Format) -> &Path {
        &self.docs.iter().find(|(f, ..)| *f == format).unwrap().1
    }

    fn json(&self) -> Value {
        serde_json::from_str(self.doc(Format::Json)).unwrap()
    }

    /// What newsboat stores of the merged document of `format`, read
    /// headless (`newsboat -x reload`) from this server into a fresh cache:
    /// (title, enclosure_url, author) per item.
    fn newsboat(&self, format: Format) -> Vec<(String, String, String)> {
        let newsboat = require_program("newsboat", "apt-get install -y newsboat");
        let path = format!("/merged.{}", format.extension());
        let media_type = match format {
            Format::Atom => "application/atom+xml",
            _ => "application/rss+xml",
        };
        self.server
            .set(&path, Route::feed(media_type, self.doc(format).to_string()));
        let home = self.sb.path(&format!("newsboat-{}", format.extension()));
        std::fs::create_dir_all(&home).unwrap();
        let urls = home.join("urls");
        let cache = home.join("cache.db");
        let config = home.join("config");
        std::fs::write(&urls, format!("{}\n", self.server.url(&path))).unwrap();
        std::fs::write(&config, "").unwrap();
        let out = Command::new(&newsboat)
            .args(["-x", "reload", "-u"])
            .arg(&urls)
            .arg("-c")
            .arg(&cache)
            .arg("-C")
            .arg(&config)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", &home)
            .env("XDG_DATA_HOME", &home)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "newsboat: {}", describe(&out));
        let db = rusqlite::Connection::open(&cache).unwrap();
        let mut st = db
            .prepare("SELECT title, enclosure_url, author FROM rss_item ORDER BY pubDate DESC")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// What feedparser reads in the merged document of `format`.
    fn feedparser(&self, format: Format) -> Value {
        let python = require_program("python3", "apt-get install -y python3 python3-pip");
        let out = run(&python, &[FEEDPARSER_ENTRIES.as_ref(), self.path(format).as_os_str()]);
        assert!(out.status.success(), "feedparser_entries.py: {}", describe(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["bozo"], 0, "{format:?}: feedparser bozo: {}", v["bozo_exception"]);
        v
    }
}

/// The feedparser entry titled `title`.
fn entry<'a>(parsed: &'a Value, title: &str) -> &'a Value {
    parsed["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["title"] == title)
        .unwrap_or_else(|| panic!("no entry titled {title:?}"))
}

/// The JSON Feed item titled `title`.
fn item<'a>(json: &'a Value, title: &str) -> &'a Value {
    json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["title"] == title)
        .unwrap_or_else(|| panic!("no item titled {title:?}"))
}

fn require_program(program: &str, install: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("`{program}` is not on PATH; install it with: {install}"))
}

fn run(program: &Path, args: &[&std::ffi::OsStr]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
}

fn describe(output: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The links of a feedparser entry with relation `rel`: (href, title).
fn links<'a>(entry: &'a Value, rel: &str) -> Vec<(&'a str, Option<&'a str>)> {
    entry["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["rel"] == rel)
        .map(|l| (l["href"].as_str().unwrap(), l["title"].as_str()))
        .collect()
}

fn content(entry: &Value) -> (&str, &str) {
    let c = &entry["content"][0];
    (c["type"].as_str().unwrap(), c["value"].as_str().unwrap())
}

// newsboat fetches from this process's server while the test waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn podcast_episodes_keep_their_enclosures_for_feedparser_and_newsboat() {
    let planet = Planet::start().await;
    let mp3 = planet.server.url("/media/ep2.mp3");
    for format in [Format::Atom, Format::Rss] {
        let parsed = planet.feedparser(format);
        let ep2 = entry(&parsed, "Episode 2: Volcanoes");
        let first = &ep2["enclosures"][0];
        assert_eq!(
            (first["href"].as_str(), first["type"].as_str(), first["length"].as_str()),
            (Some(mp3.as_str()), Some("audio/mpeg"), Some("43210987")),
            "{format:?}: the enclosure, its relative URL resolved against the feed's"
        );
        assert_eq!(ep2["itunes_duration"], "0:45:10", "{format:?}");
        assert_eq!(ep2["image"]["href"], "https://pod.example.org/ep2.jpg", "{format:?}");
        let ep1 = entry(&parsed, "Episode 1: Tides");
        assert_eq!(
            ep1["enclosures"][0]["href"], "https://cdn.pod.example.org/ep1.mp3",
            "{format:?}"
        );
        assert_eq!(ep1["itunes_block"], 1, "{format:?}");
        let note = entry(&parsed, "Note 7: field recording");
        assert_eq!(
            note["enclosures"][0]["href"], "https://jay.example.org/notes/7.m4a",
            "{format:?}"
        );
    }
    // Atom carries every enclosure; RSS the first, and all of them as media:content.
    let atom = planet.feedparser(Format::Atom);
    let hrefs: Vec<&str> = entry(&atom, "Episode 2: Volcanoes")["enclosures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["href"].as_str().unwrap())
        .collect();
    assert_eq!(hrefs, [mp3.as_str(), "https://cdn.pod.example.org/ep2.ogg"]);
    let rss = planet.feedparser(Format::Rss);
    let ep2 = entry(&rss, "Episode 2: Volcanoes");
    assert_eq!(ep2["enclosures"].as_array().unwrap().len(), 1);
    let media: Vec<&str> = ep2["media_content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["url"].as_str().unwrap())
        .collect();
    assert_eq!(media, [mp3.as_str(), "https://cdn.pod.example.org/ep2.ogg"]);
    assert_eq!(ep2["media_content"][1]["duration"], "2710");

    for format in [Format::Rss, Format::Atom] {
        let items = planet.newsboat(format);
        let enclosure = |title: &str| {
            items
                .iter()
                .find(|(t, ..)| t == title)
                .unwrap_or_else(|| panic!("{format:?}: newsboat has no {title:?} in {items:?}"))
                .1
                .clone()
        };
        // newsboat keeps the last enclosure it meets: in RSS that is the
        // <enclosure> (the item's first, written after its media:content
        // list); Atom has one rel="enclosure" link per file, in the
        // source's order, so there it keeps the episode's second file.
        let expected = match format {
            Format::Atom => "https://cdn.pod.example.org/ep2.ogg",
            _ => mp3.as_str(),
        };
        assert_eq!(enclosure("Episode 2: Volcanoes"), expected, "{format:?}");
        assert_eq!(
            enclosure("Episode 1: Tides"),
            "https://cdn.pod.example.org/ep1.mp3",
            "{format:?}"
        );
        assert_eq!(
            enclosure("Note 7: field recording"),
            "https://jay.example.org/notes/7.m4a",
            "{format:?}"
        );
        // newsboat keeps audio and video enclosures only (podcasts): the
        // photo's JPEG is checked through feedparser above.
        assert_eq!(
            enclosure("Risotto, settled"),
            "",
            "{format:?}: no enclosure, none invented"
        );
    }
}

// newsboat fetches from this process's server while the test waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authors_reach_every_entry_with_their_address_and_home_page() {
    let planet = Planet::start().await;
    for format in [Format::Atom, Format::Rss] {
        let parsed = planet.feedparser(format);
        let detail = |title: &str| entry(&parsed, title)["author_detail"].clone();
        // An RSS author string is split into name and address.
        let rob = detail("Episode 2: Volcanoes");
        assert_eq!(
            (rob["name"].as_str(), rob["email"].as_str()),
            (Some("Rob Roberts"), Some("rob@example.org")),
            "{format:?}"
        );
        // The channel's itunes:author, the Atom feed's author, an RSS 1.0
        // channel's dc:creator and a JSON Feed's authors reach entries with none.
        assert_eq!(detail("Episode 1: Tides")["name"], "Pat Host", "{format:?}");
        let fiona = detail("Harbour at dawn");
        assert_eq!(
            (fiona["name"].as_str(), fiona["email"].as_str()),
            (Some("Fiona Fotografa"), Some("fiona@example.org")),
            "{format:?}"
        );
        assert_eq!(detail("Forty-two")["name"], "Rolf Rdf", "{format:?}");
        assert_eq!(detail("Note 7: field recording")["name"], "Jay Jsonson", "{format:?}");
        assert_eq!(detail("Still speaking Atom 0.3")["name"], "Olga Oldtimer", "{format:?}");
        // Several authors stay several.
        let names = |title: &str| -> Vec<String> {
            entry(&parsed, title)["authors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    a["name"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{format:?} {title}: {a}"))
                        .to_string()
                })
                .collect()
        };
        assert_eq!(names("Risotto, settled"), ["Ada Cuoca", "Bruno Chef"], "{format:?}");
        assert_eq!(
            names("Links that point home"),
            ["Ann Author", "Bea Bloggera"],
            "{format:?}"
        );
        assert_eq!(
            entry(&parsed, "Harbour at dawn")["contributors"][0]["name"],
            "Gianni Assistente",
            "{format:?}"
        );
    }
    // Atom keeps every author's home page.
    let atom = planet.feedparser(Format::Atom);
    assert_eq!(
        entry(&atom, "Harbour at dawn")["author_detail"]["href"],
        "https://fiona.example.org/about"
    );
    assert_eq!(
        entry(&atom, "Links that point home")["authors"][1]["href"],
        "https://bea.example.org/"
    );
    assert_eq!(
        entry(&atom, "Note 6: a guest")["author_detail"]["href"],
        "https://kim.example.org/"
    );
    // JSON Feed: authors with url and avatar; addresses in the extension.
    let json = planet.json();
    assert_eq!(
        item(&json, "Note 7: field recording")["authors"],
        serde_json::json!([{"name": "Jay Jsonson", "url": "https://jay.example.org/about", "avatar": "https://jay.example.org/jay.png"}])
    );
    let rob = item(&json, "Episode 2: Volcanoes");
    assert_eq!(
        rob["authors"],
        serde_json::json!([{"name": "Rob Roberts", "url": "mailto:rob@example.org"}])
    );
    assert_eq!(rob["_tributary"]["authors"][0]["email"], "rob@example.org");
    // newsboat shows an author for every episode.
    let items = planet.newsboat(Format::Rss);
    let author = |title: &str| items.iter().find(|(t, ..)| t == title).unwrap().2.clone();
    assert_eq!(author("Episode 1: Tides"), "Pat Host");
    assert!(author("Episode 2: Volcanoes").contains("Rob Roberts"), "{items:?}");
}

#[tokio::test]
async fn comment_links_and_counts_reach_every_format() {
    let planet = Planet::start().await;
    let rss = planet.feedparser(Format::Rss);
    let risotto = entry(&rss, "Risotto, settled");
    assert_eq!(
        risotto["comments"],
        "https://cooks.example.org/2026/11/risotto#comments"
    );
    assert_eq!(
        risotto["wfw_commentrss"],
        "https://cooks.example.org/2026/11/risotto/feed"
    );
    assert_eq!(risotto["slash_comments"], "42");
    // Atom replies links (RFC 4685) become RSS comments, and back.
    let home = entry(&rss, "Links that point home");
    assert_eq!(
        home["comments"],
        "https://rel.example.org/rel/2026/posts/first.html#comments"
    );
    assert_eq!(home["slash_comments"], "5");
    let atom = planet.feedparser(Format::Atom);
    let risotto = entry(&atom, "Risotto, settled");
    assert_eq!(
        links(risotto, "replies"),
        [
            ("https://cooks.example.org/2026/11/risotto#comments", None),
            ("https://cooks.example.org/2026/11/risotto/feed", None),
        ]
    );
    assert_eq!(risotto["thr_total"], "42");
    assert_eq!(entry(&atom, "Episode 2: Volcanoes")["thr_total"], "3");
    let json = planet.json();
    assert_eq!(
        item(&json, "Risotto, settled")["_tributary"]["comments"],
        serde_json::json!({"url": "https://cooks.example.org/2026/11/risotto#comments",
                           "feed_url": "https://cooks.example.org/2026/11/risotto/feed", "count": 42})
    );
}

#[tokio::test]
async fn relative_links_resolve_against_the_innermost_xml_base() {
    let planet = Planet::start().await;
    for format in [Format::Atom, Format::Rss] {
        let parsed = planet.feedparser(format);
        let home = entry(&parsed, "Links that point home");
        assert_eq!(
            home["link"], "https://rel.example.org/rel/2026/posts/first.html",
            "{format:?}"
        );
        let (_, html) = content(home);
        assert!(
            html.contains("href=\"https://rel.example.org/rel/about.html\""),
            "{format:?}: {html}"
        );
        assert!(
            html.contains("src=\"https://rel.example.org/rel/2026/img/pic.png\""),
            "{format:?}: {html}"
        );
    }
    let json = planet.json();
    let html = item(&json, "Links that point home")["content_html"].as_str().unwrap();
    assert!(
        html.contains("https://rel.example.org/rel/about.html")
            && html.contains("https://rel.example.org/rel/2026/img/pic.png")
    );
}

#[tokio::test]
async fn a_story_two_feeds_carry_names_both_sources_in_every_format() {
    let planet = Planet::start().await;
    let atom = planet.feedparser(Format::Atom);
    let shared = entry(&atom, "The shared story");
    assert_eq!(
        links(shared, "via"),
        [
            ("https://rel.example.org/shared-story", Some("Relative Thoughts")),
            (
                "https://rel.example.org/shared-story?utm_source=relay&utm_medium=rss",
                Some("The Relay")
            ),
        ],
        "every source, by its title (the relay's configured one)"
    );
    assert_eq!(shared["source"]["title"], "Relative Thoughts");
    let rss = planet.feedparser(Format::Rss);
    let shared = entry(&rss, "The shared story");
    let (_, html) = content(shared);
    assert!(
        html.ends_with(
            "<p>Sources: <a href=\"https://rel.example.org/shared-story\">Relative Thoughts</a>, \
             <a href=\"https://rel.example.org/shared-story?utm_source=relay&amp;utm_medium=rss\">The Relay</a></p>"
        ),
        "{html}"
    );
    assert_eq!(links(shared, "via").len(), 2);
    let json = planet.json();
    let sources: Vec<&str> = item(&json, "The shared story")["_tributary"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["Relative Thoughts", "The Relay"]);
    // A configured title names the source in <source> too.
    let italian = atom["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["source"]["title"] == "Cronache — Esteri")
        .expect("the configured title of cronache-esteri");
    assert!(
        italian["link"]
            .as_str()
            .unwrap()
            .starts_with("https://cronache.example.it/")
    );
}

#[tokio::test]
async fn photo_blog_media_categories_contributors_and_rights_survive() {
    let planet = Planet::start().await;
    for format in [Format::Atom, Format::Rss] {
        let parsed = planet.feedparser(format);
        let photo = entry(&parsed, "Harbour at dawn");
        assert_eq!(
            photo["media_thumbnail"],
            serde_json::json!([{"url": "https://fiona.example.org/thumbs/41.jpg", "width": "320", "height": "213"}]),
            "{format:?}"
        );
        assert_eq!(
            photo["media_credit"],
            serde_json::json!([{"content": "Fiona Fotografa", "role": "photographer", "scheme": "urn:ebu"}]),
            "{format:?}"
        );
        assert_eq!(photo["rights"], "CC BY-NC 4.0", "{format:?}");
        let tag = &photo["tags"][0];
        assert_eq!(
            (tag["term"].as_str(), tag["scheme"].as_str()),
            (Some("harbour"), Some("https://fiona.example.org/tags/")),
            "{format:?}"
        );
        assert_eq!(photo["enclosures"][0]["type"], "image/jpeg", "{format:?}");
    }
    let atom = planet.feedparser(Format::Atom);
    assert_eq!(entry(&atom, "Harbour at dawn")["tags"][0]["label"], "Harbour");
    assert_eq!(entry(&atom, "Harbour at dawn")["enclosures"][0]["title"], "Full size");
}

#[tokio::test]
async fn plain_text_content_stays_text_and_content_src_is_kept() {
    let planet = Planet::start().await;
    let atom = planet.feedparser(Format::Atom);
    assert_eq!(
        content(entry(&atom, "Plain words only")),
        ("text/plain", "Line one <not a tag>\n\nSecond paragraph & more.")
    );
    assert_eq!(
        content(entry(&atom, "Note 6: a guest")),
        ("text/plain", "Kim recorded this one.")
    );
    let paper = entry(&atom, "A paper elsewhere");
    assert_eq!(paper["content"][0]["src"], "https://rel.example.org/paper.pdf");
    assert_eq!(paper["content"][0]["type"], "application/pdf");
    assert_eq!(paper["summary"], "<p>The paper is a PDF of its own.</p>");
    let json = planet.json();
    let plain = item(&json, "Plain words only");
    assert_eq!(
        plain["content_text"],
        "Line one <not a tag>\n\nSecond paragraph & more."
    );
    assert!(plain.get("content_html").is_none());
    assert_eq!(
        item(&json, "A paper elsewhere")["_tributary"]["content_src"]["url"],
        "https://rel.example.org/paper.pdf"
    );
}

#[tokio::test]
async fn json_feed_attachments_images_and_authors_survive() {
    let planet = Planet::start().await;
    let json = planet.json();
    let note = item(&json, "Note 7: field recording");
    assert_eq!(
        note["attachments"],
        serde_json::json!([{"url": "https://jay.example.org/notes/7.m4a", "mime_type": "audio/mp4", "title": "Rain",
                            "size_in_bytes": 1_234_567, "duration_in_seconds": 95}])
    );
    assert_eq!(note["image"], "https://jay.example.org/notes/7.jpg");
    // Enclosures of other formats become attachments.
    let ep2 = item(&json, "Episode 2: Volcanoes");
    assert_eq!(ep2["attachments"].as_array().unwrap().len(), 2);
    assert_eq!(ep2["image"], "https://pod.example.org/ep2.jpg");
    assert_eq!(
        ep2["_tributary"]["itunes"],
        serde_json::json!({"explicit": true, "duration": 2710})
    );
    assert_eq!(
        item(&json, "Harbour at dawn")["image"],
        "https://fiona.example.org/thumbs/41.jpg"
    );
}

#[tokio::test]
async fn atom_0_3_and_rss_1_0_feeds_are_read() {
    let planet = Planet::start().await;
    let atom = planet.feedparser(Format::Atom);
    let old = entry(&atom, "Still speaking Atom 0.3");
    assert_eq!(old["link"], "https://bridge.example.org/2026/11/still");
    assert!(content(old).1.starts_with("<p>This bridge has served"));
    assert_eq!(old["source"]["title"], "Old Bridge");
    assert_eq!(entry(&atom, "Forty-two")["link"], "https://rdf.example.org/42");
}

#[tokio::test]
async fn the_seed_italian_article_is_byte_exact_in_all_three_formats() {
    let planet = Planet::start().await;
    let fixture = std::fs::read_to_string(repo_file("tests/fixtures/article-it.txt")).unwrap();
    let paragraphs: Vec<&str> = fixture.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).collect();
    let first = paragraphs[0];
    let check = |label: &str, title: Option<&str>, html: &str| {
        assert_eq!(title, Some(ITALIAN_TITLE), "{label}: the title");
        assert!(
            html.contains(&format!("<p>{first}")),
            "{label}: the first paragraph, byte-exact: {html}"
        );
        assert!(html.contains("<p>"), "{label}: the HTML paragraphs survive");
    };
    for format in [Format::Atom, Format::Rss] {
        let parsed = planet.feedparser(format);
        let italian = entry(&parsed, ITALIAN_TITLE);
        check(&format!("{format:?}"), italian["title"].as_str(), content(italian).1);
        assert!(planet.doc(format).contains(ITALIAN_TITLE), "{format:?}: the raw title");
    }
    let json = planet.json();
    let italian = item(&json, ITALIAN_TITLE);
    check(
        "JSON",
        italian["title"].as_str(),
        italian["content_html"].as_str().unwrap(),
    );
}

#[tokio::test]
async fn the_planet_is_valid_atom_rss_and_json_feed() {
    let planet = Planet::start().await;
    let java_jing = require_program("jing", "apt-get install -y jing");
    let out = run(
        &java_jing,
        &["-c".as_ref(), ATOM_RNC.as_ref(), planet.path(Format::Atom).as_os_str()],
    );
    assert!(out.status.success(), "jing (RFC 4287 RELAX NG): {}", describe(&out));
    let xmllint = require_program("xmllint", "apt-get install -y libxml2-utils");
    for format in [Format::Atom, Format::Rss] {
        let out = run(&xmllint, &["--noout".as_ref(), planet.path(format).as_os_str()]);
        assert!(out.status.success(), "xmllint {format:?}: {}", describe(&out));
        assert_eq!(
            planet.feedparser(format)["version"],
            if format == Format::Atom { "atom10" } else { "rss20" }
        );
    }
    // JSON Feed 1.1: the members of items and attachments, and their types.
    let json = planet.json();
    for item in json["items"].as_array().unwrap() {
        for (key, value) in item.as_object().unwrap() {
            match key.as_str() {
                "id" | "url" | "external_url" | "title" | "content_html" | "content_text" | "summary" | "image"
                | "banner_image" | "date_published" | "date_modified" | "language" => {
                    assert!(value.is_string(), "{key}: {value}")
                }
                "authors" | "tags" | "attachments" => assert!(value.is_array(), "{key}"),
                k => assert!(k.starts_with('_'), "{k} is not in JSON Feed 1.1"),
            }
        }
        for a in item.get("attachments").and_then(Value::as_array).into_iter().flatten() {
            assert!(a["url"].is_string() && a["mime_type"].is_string(), "{a}");
            for key in ["size_in_bytes", "duration_in_seconds"] {
                assert!(a.get(key).is_none_or(Value::is_u64), "{key}: {a}");
            }
        }
        for author in item.get("authors").and_then(Value::as_array).into_iter().flatten() {
            for (k, v) in author.as_object().unwrap() {
                assert!(
                    matches!(k.as_str(), "name" | "url" | "avatar") && v.is_string(),
                    "{author}"
                );
            }
        }
    }
}

#[tokio::test]
async fn opml_names_sources_by_title_and_links_their_site() {
    let planet = Planet::start().await;
    let out = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(["export-opml", "--config"])
        .arg(planet.sb.path("tributary.toml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "export-opml: {}", describe(&out));
    let opml = String::from_utf8(out.stdout).unwrap();
    let outline = |xml_url: &str| {
        opml.lines()
            .find(|l| l.contains(&format!("xmlUrl=\"{xml_url}\"")))
            .unwrap_or_else(|| panic!("no outline for {xml_url} in {opml}"))
            .to_string()
    };
    // The feed's own title by default, with its site; a configured title wins.
    let fiona = outline(&planet.server.url("/photos.atom"));
    assert!(
        fiona.contains("text=\"Fiona&apos;s Photo Blog\"") || fiona.contains("text=\"Fiona's Photo Blog\""),
        "{fiona}"
    );
    assert!(fiona.contains("htmlUrl=\"https://fiona.example.org/\""), "{fiona}");
    let relay = outline(&planet.server.url("/relay.rss"));
    assert!(relay.contains("text=\"The Relay\""), "{relay}");
    assert!(relay.contains("htmlUrl=\"https://relay.example.net/\""), "{relay}");
}
