//! Validity of the merged feeds against their specifications and real readers.
//!
//! Every format is rendered from the same hostile fixtures (Italian text,
//! HTML with entities, markup characters and XML-illegal control characters
//! in plain-text fields, far past and far future dates, entries without
//! content or link, many credits, a file-path source, paging and hub links)
//! and then checked by independent tools:
//!
//! * well-formed XML for quick-xml and for `xmllint` (Debian `libxml2-utils`);
//! * Atom against the RELAX NG grammar of RFC 4287 with `jing` (Debian `jing`);
//! * RSS dates as RFC 822 and Atom dates as RFC 3339;
//! * JSON Feed keys, types and dates per the 1.1 specification;
//! * Python feedparser (`pip install feedparser`) reads them without `bozo`;
//! * feed-rs reads them back with the same entries and titles.
//!
//! The external tools are required: a missing one fails the test with the
//! name of the package that provides it.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::{DateTime, Datelike, TimeZone, Timelike, Utc};
use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::Value;
use tributary::model::{Category, ContentSource, Credit, Enclosure, Image, ItemMeta, MediaCredit, Person, StoredEntry};
use tributary::publish::{FeedMeta, Format, render};

/// The Italian title every reader must return byte-exact.
const ITALIAN_TITLE: &str = "L’Alleanza Sino-Russa non è un fenomeno passeggero…";

/// The article body of the Italian entry, one paragraph per blank-line block.
const ARTICLE_IT: &str = include_str!("fixtures/article-it.txt");

/// The RELAX NG compact grammar of RFC 4287, Appendix B.
const ATOM_RNC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemas/atom.rnc");

/// The feedparser driver script.
const FEEDPARSER_CHECK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/feedparser_check.py");

// ---------------------------------------------------------------------------
// Fixtures

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn now() -> DateTime<Utc> {
    at(2026, 12, 2, 3, 0, 0)
}

/// The first page of a paged feed: every optional field set.
fn full_meta() -> FeedMeta {
    FeedMeta {
        title: "Tributary — «tutte» le notizie & altro <rassegna>".to_string(),
        description: Some("Il meglio di tutte le fonti, \"senza\" filtri".to_string()),
        id: "urn:tributary:feed:all".to_string(),
        self_url: "http://localhost:8080/feeds/all.atom?page=2".to_string(),
        site_url: "http://localhost:8080/".to_string(),
        author: "Tributary".to_string(),
        language: Some("it".to_string()),
        next_url: Some("http://localhost:8080/feeds/all.atom?page=3".to_string()),
        previous_url: Some("http://localhost:8080/feeds/all.atom?page=1".to_string()),
        hub_url: Some("https://hub.example.org/".to_string()),
        generator_version: "0.1.0".to_string(),
    }
}

/// A last page with nothing optional and no entries.
fn bare_meta() -> FeedMeta {
    FeedMeta {
        title: "Vuoto".to_string(),
        description: None,
        id: "urn:tributary:feed:vuoto".to_string(),
        self_url: "http://localhost:8080/feeds/vuoto.atom?page=9".to_string(),
        site_url: "http://localhost:8080/".to_string(),
        author: "Tributary".to_string(),
        language: None,
        next_url: None,
        previous_url: None,
        hub_url: None,
        generator_version: "0.1.0".to_string(),
    }
}

fn credit(source: &str, item_id: &str, item_link: Option<&str>) -> Credit {
    Credit {
        source: source.to_string(),
        source_title: Some(format!("Fonte {source}")),
        source_url: format!("https://{source}.example.com/feed.xml"),
        source_site: Some(format!("https://{source}.example.com/")),
        item_id: item_id.to_string(),
        item_link: item_link.map(str::to_string),
        source_feed_id: None,
    }
}

/// A credit for a source configured as a local file.
fn file_credit(item_id: &str, item_link: Option<&str>) -> Credit {
    Credit {
        source: "archivio locale".to_string(),
        source_title: None,
        source_url: "/var/lib/tributary/feeds/archivio.xml".to_string(),
        source_site: None,
        item_id: item_id.to_string(),
        item_link: item_link.map(str::to_string),
        source_feed_id: None,
    }
}

/// Escapes text for inclusion in HTML.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The Italian article as `<p>` paragraphs.
fn article_html() -> String {
    ARTICLE_IT
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>", html_escape(p)))
        .collect()
}

fn entry(uid: &str, title: &str, published: DateTime<Utc>) -> StoredEntry {
    StoredEntry {
        uid: uid.to_string(),
        title: title.to_string(),
        link: None,
        summary_html: None,
        content_html: None,
        author: None,
        language: None,
        categories: vec![],
        published,
        updated: published,
        credits: vec![],
        meta: ItemMeta::default(),
    }
}

fn entries() -> Vec<StoredEntry> {
    let italian = StoredEntry {
        link: Some("https://notizie.example.it/esteri/alleanza?id=7&ref=rss".to_string()),
        content_html: Some(article_html()),
        author: Some("Redazione Esteri".to_string()),
        language: Some("it".to_string()),
        categories: vec!["Politica estera".to_string(), "Relazioni internazionali".to_string()],
        updated: at(2026, 11, 30, 10, 15, 0),
        credits: vec![credit(
            "esteri",
            "esteri-42",
            Some("https://notizie.example.it/esteri/alleanza?id=7&ref=rss"),
        )],
        ..entry("a1b2c3d4", ITALIAN_TITLE, at(2026, 11, 30, 9, 0, 0))
    };

    let html = StoredEntry {
        link: Some("https://foto.example.com.br/galeria/1".to_string()),
        summary_html: Some(
            "<p>Un riassunto con <em>enfasi</em> &amp; un <a href=\"https://example.org/\">link</a>.</p>".to_string(),
        ),
        content_html: Some(
            "<p>Leggi <a href=\"https://example.org/a?x=1&amp;y=2\" title=\"Il &quot;pezzo&quot;\">l’articolo</a> \
             &amp; guarda:</p>\
             <p><img src=\"https://example.org/img/gatto.png\" alt=\"un gatto &lt;3\" width=\"640\" height=\"480\"></p>\
             <p>5 &lt; 7 &amp;&amp; 7 &gt; 5, &nbsp;fine&#8230; <code>&lt;![CDATA[ x ]]&gt;</code></p>"
                .to_string(),
        ),
        author: Some("Ana Gonçalves".to_string()),
        language: Some("pt-BR".to_string()),
        categories: vec![
            "Fotografia d’autore".to_string(),
            "Società & Cultura".to_string(),
            "Économie numérique".to_string(),
        ],
        credits: vec![credit("foto", "foto-1", Some("https://foto.example.com.br/galeria/1"))],
        ..entry("b2", "Fotos, ligações e entidades", at(2026, 11, 29, 18, 5, 9))
    };

    let tricky = StoredEntry {
        link: Some("https://strano.example.com/p?a=<1>&b=\"2\"".to_string()),
        content_html: Some("<p>Controllo\u{8} e tab\u{B} verticale\u{FFFE} qui</p>".to_string()),
        author: Some("Autore\u{FFFE} Strano\u{1}".to_string()),
        categories: vec!["Cate\u{1}goria".to_string(), "Vert\u{B}icale".to_string()],
        credits: vec![credit("strano", "strano-\u{8}1", Some("https://strano.example.com/p"))],
        ..entry(
            "c3",
            "Tom & Jerry <3 \"citazioni\" ]]> fine\u{1}",
            at(2026, 11, 28, 7, 0, 0),
        )
    };

    let future = StoredEntry {
        link: Some("https://futuro.example.com/annuncio".to_string()),
        content_html: Some("<p>Dal futuro.</p>".to_string()),
        updated: at(2099, 6, 16, 0, 0, 0),
        credits: vec![credit(
            "futuro",
            "futuro-1",
            Some("https://futuro.example.com/annuncio"),
        )],
        ..entry("d4", "Annuncio dal 2099", at(2099, 6, 15, 12, 30, 45))
    };

    // Summary only, no link, at the Unix epoch.
    let epoch = StoredEntry {
        summary_html: Some("<p>Solo un <b>riassunto</b>.</p>".to_string()),
        credits: vec![credit("storia", "storia-0", None)],
        ..entry("e5", "All’inizio dei tempi", at(1970, 1, 1, 0, 0, 0))
    };

    // Title only: no link, no summary, no content, a file-path source.
    let title_only = StoredEntry {
        credits: vec![file_credit("loc-1", None)],
        ..entry("f6", "Solo titolo", at(2026, 11, 27, 23, 59, 59))
    };

    // Six credits, the first a file path; repeated and missing item links.
    let many = StoredEntry {
        link: Some("https://uno.example.com/pezzo".to_string()),
        content_html: Some("<p>Ripreso da sei fonti.</p>".to_string()),
        author: Some("Agenzia".to_string()),
        categories: vec!["Cronaca locale".to_string()],
        credits: vec![
            file_credit("loc-9", Some("https://uno.example.com/pezzo")),
            credit("uno", "uno-9", Some("https://uno.example.com/pezzo")),
            credit("due", "due-9", None),
            credit("tre", "tre-9", Some("https://tre.example.com/pezzo")),
            credit("quattro", "quattro-9", Some("https://tre.example.com/pezzo")),
            credit("cinque", "cinque-9", None),
        ],
        ..entry("a7", "Una notizia, sei fonti", at(2026, 11, 26, 6, 0, 0))
    };

    // A podcast episode saying everything an item can: several authors
    // with addresses, enclosures (one without type or length), images,
    // comments, categories with a scheme, rights, iTunes and Media RSS
    // fields, and content given as plain text. Control characters hide in
    // its names.
    let podcast = StoredEntry {
        link: Some("https://pod.example.org/ep/12?a=1&b=2".to_string()),
        summary_html: Some("<p>Note &lt;brevi&gt; &amp; utili</p>".to_string()),
        content_html: Some("<p>Prima riga<br>seconda &lt;riga&gt;</p>".to_string()),
        author: Some("Rob Roberts, Ann".to_string()),
        categories: vec!["Scienza & tecnica".to_string()],
        credits: vec![credit("pod", "ep-12", Some("https://pod.example.org/ep/12?a=1&b=2"))],
        meta: ItemMeta {
            authors: vec![
                Person {
                    name: Some("Rob \"R\" Roberts\u{1}".into()),
                    email: Some("rob@example.org".into()),
                    uri: Some("https://pod.example.org/rob?x=1&y=2".into()),
                    avatar: Some("https://pod.example.org/rob.png".into()),
                },
                Person {
                    name: Some("Ann".into()),
                    ..Person::default()
                },
                Person {
                    email: Some("anon@example.org".into()),
                    ..Person::default()
                },
            ],
            contributors: vec![Person {
                name: Some("Cy <Mixer>".into()),
                ..Person::default()
            }],
            enclosures: vec![
                Enclosure {
                    url: "https://cdn.example.org/12.mp3?token=public&x=1".into(),
                    media_type: Some("audio/mpeg".into()),
                    length: Some(31_415_926),
                    duration: Some(1801),
                    title: Some("MP3 & co".into()),
                },
                Enclosure {
                    url: "https://cdn.example.org/12.ogg".into(),
                    ..Enclosure::default()
                },
            ],
            image: Some("https://pod.example.org/12.jpg".into()),
            thumbnails: vec![Image {
                url: "https://pod.example.org/12-small.jpg".into(),
                width: Some(120),
                height: Some(90),
            }],
            categories: vec![Category {
                term: "scienza".into(),
                scheme: Some("https://pod.example.org/topics".into()),
                label: Some("Scienza & tecnica".into()),
            }],
            comments: Some("https://pod.example.org/ep/12#comments".into()),
            comments_feed: Some("https://pod.example.org/ep/12/comments.rss".into()),
            comment_count: Some(7),
            rights: Some("© 2026 Pod & co\u{8}".into()),
            content_text: Some("Prima riga\nseconda <riga>".into()),
            summary_text: Some("Note <brevi> & utili".into()),
            explicit: Some(true),
            block: true,
            duration: Some(1801),
            media_credits: vec![MediaCredit {
                name: "Sam".into(),
                role: Some("producer".into()),
                scheme: Some("urn:ebu".into()),
            }],
            ..ItemMeta::default()
        },
        ..entry("b8", "Episodio 12: «tutto»", at(2026, 11, 25, 6, 0, 0))
    };

    // Content that lives elsewhere: Atom content src.
    let elsewhere = StoredEntry {
        link: Some("https://altrove.example.org/a".to_string()),
        content_html: Some("<p>Il riassunto di un PDF.</p>".to_string()),
        credits: vec![credit("altrove", "alt-1", Some("https://altrove.example.org/a"))],
        meta: ItemMeta {
            content_src: Some(ContentSource {
                url: "https://altrove.example.org/a.pdf".into(),
                media_type: Some("application/pdf".into()),
            }),
            ..ItemMeta::default()
        },
        ..entry("c9", "Un articolo altrove", at(2026, 11, 24, 6, 0, 0))
    };

    vec![
        italian, html, tricky, future, epoch, title_only, many, podcast, elsewhere,
    ]
}

/// One rendered page: the feed facts and entries it was made from.
struct Page {
    name: &'static str,
    meta: FeedMeta,
    entries: Vec<StoredEntry>,
}

impl Page {
    fn render(&self, format: Format) -> String {
        render(format, &self.meta, &self.entries, now())
    }
}

fn pages() -> Vec<Page> {
    vec![
        Page {
            name: "full",
            meta: full_meta(),
            entries: entries(),
        },
        Page {
            name: "empty",
            meta: bare_meta(),
            entries: vec![],
        },
    ]
}

/// Whether `c` matches the `Char` production of XML 1.0.
fn is_xml_char(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}'
    )
}

/// `s` without the characters XML 1.0 forbids.
fn xml_clean(s: &str) -> String {
    s.chars().filter(|&c| is_xml_char(c)).collect()
}

/// The titles every reader must return, in order.
fn expected_titles(page: &Page) -> Vec<String> {
    page.entries.iter().map(|e| xml_clean(&e.title)).collect()
}

/// Writes every format of every page into a fresh directory.
struct Written {
    _dir: tempfile::TempDir,
    files: Vec<(String, Format, PathBuf)>,
}

fn write_all(formats: &[Format]) -> Written {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for page in pages() {
        for &format in formats {
            let path = dir.path().join(format!("{}.{}", page.name, format.extension()));
            std::fs::write(&path, page.render(format)).unwrap();
            files.push((page.name.to_string(), format, path));
        }
    }
    Written { _dir: dir, files }
}

// ---------------------------------------------------------------------------
// External tools

/// The path of `program` on `PATH`, or a failure naming what installs it.
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

/// `python3` with feedparser importable, or a failure naming the packages.
fn require_feedparser() -> PathBuf {
    let python = require_program("python3", "apt-get install -y python3 python3-pip");
    let probe = run(&python, &["-c".as_ref(), "import feedparser".as_ref()]);
    assert!(
        probe.status.success(),
        "Python module feedparser is missing; install it with: python3 -m pip install feedparser\n{}",
        describe(&probe)
    );
    python
}

// ---------------------------------------------------------------------------
// XML helpers

/// Checks that `doc` is well-formed XML 1.0 as quick-xml reads it: no reader
/// error to the end, matching end tags, one root element, well-formed and
/// unique attributes, only predefined entities or valid character references,
/// and only XML characters anywhere.
fn assert_well_formed_quick_xml(label: &str, doc: &str) {
    if let Some((i, c)) = doc.char_indices().find(|&(_, c)| !is_xml_char(c)) {
        panic!(
            "{label}: character U+{:04X} at byte {i} is not allowed in XML 1.0",
            c as u32
        );
    }
    let mut reader = Reader::from_str(doc);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.check_comments = true;
    config.allow_dangling_amp = false;
    config.allow_unmatched_ends = false;
    let mut depth = 0usize;
    let mut roots = 0usize;
    let mut saw_decl = false;
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("{label}: quick-xml error at byte {}: {e}", reader.error_position()));
        match event {
            Event::Decl(decl) => {
                assert_eq!(
                    reader.buffer_position(),
                    decl.len() as u64 + 4,
                    "{label}: declaration not first"
                );
                assert_eq!(decl.version().unwrap(), "1.0", "{label}");
                let encoding = decl.encoding().expect("encoding declared").unwrap();
                assert!(encoding.eq_ignore_ascii_case("utf-8"), "{label}: encoding {encoding}");
                saw_decl = true;
            }
            Event::Start(start) | Event::Empty(start) if depth == 0 && roots > 0 => {
                panic!("{label}: second root element <{}>", start.name().as_ref());
            }
            Event::Start(start) => {
                check_attributes(label, &start);
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
            }
            Event::Empty(start) => {
                check_attributes(label, &start);
                if depth == 0 {
                    roots += 1;
                }
            }
            Event::End(_) => {
                depth = depth
                    .checked_sub(1)
                    .unwrap_or_else(|| panic!("{label}: unmatched end tag"));
            }
            Event::Text(text) => {
                assert!(
                    depth > 0 || text.trim().is_empty(),
                    "{label}: text outside the root element: {:?}",
                    &*text
                );
            }
            Event::GeneralRef(reference) => {
                assert!(depth > 0, "{label}: reference outside the root element");
                if reference.is_char_ref() {
                    let c = reference
                        .resolve_char_ref()
                        .unwrap_or_else(|e| panic!("{label}: bad character reference: {e}"))
                        .unwrap_or_else(|| panic!("{label}: bad character reference"));
                    assert!(is_xml_char(c), "{label}: reference to U+{:04X}", c as u32);
                } else {
                    let name = &*reference;
                    assert!(
                        matches!(name, "amp" | "lt" | "gt" | "quot" | "apos"),
                        "{label}: undeclared entity &{name};"
                    );
                }
            }
            Event::CData(_) => assert!(depth > 0, "{label}: CDATA outside the root element"),
            Event::DocType(_) => panic!("{label}: unexpected DOCTYPE"),
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    assert!(saw_decl, "{label}: no XML declaration");
    assert_eq!(depth, 0, "{label}: document ends inside an element");
    assert_eq!(roots, 1, "{label}: expected exactly one root element");
}

fn check_attributes(label: &str, start: &quick_xml::events::BytesStart<'_>) {
    let name = start.name().as_ref().to_string();
    let mut attributes = start.attributes();
    attributes.with_checks(true);
    for attribute in attributes {
        let attribute = attribute.unwrap_or_else(|e| panic!("{label}: bad attribute on <{name}>: {e}"));
        attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .unwrap_or_else(|e| panic!("{label}: bad attribute value on <{name}>: {e}"));
    }
}

/// The unescaped text of every element whose qualified name is `element`,
/// in document order.
fn element_texts(doc: &str, element: &str) -> Vec<String> {
    let mut reader = Reader::from_str(doc);
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    loop {
        match reader.read_event().unwrap() {
            Event::Start(start) if start.name().as_ref() == element => current = Some(String::new()),
            Event::End(end) if end.name().as_ref() == element => {
                out.push(current.take().expect("end without start"));
            }
            Event::Text(text) => {
                if let Some(s) = current.as_mut() {
                    s.push_str(&text.xml10_content());
                }
            }
            Event::CData(cdata) => {
                if let Some(s) = current.as_mut() {
                    s.push_str(&cdata.xml10_content());
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(s) = current.as_mut() {
                    let c = match &*reference {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => reference.resolve_char_ref().unwrap().unwrap(),
                    };
                    s.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

// ---------------------------------------------------------------------------
// 1. Well-formed XML

#[test]
fn atom_and_rss_are_well_formed_for_quick_xml() {
    for page in pages() {
        for format in [Format::Atom, Format::Rss] {
            let doc = page.render(format);
            assert_well_formed_quick_xml(&format!("{} {format:?}", page.name), &doc);
        }
    }
}

#[test]
fn atom_and_rss_are_well_formed_for_xmllint() {
    let xmllint = require_program("xmllint", "apt-get install -y libxml2-utils");
    let written = write_all(&[Format::Atom, Format::Rss]);
    for (page, format, path) in &written.files {
        let output = run(&xmllint, &["--noout".as_ref(), "--nonet".as_ref(), path.as_os_str()]);
        assert!(
            output.status.success() && output.stderr.is_empty(),
            "xmllint rejects {page} {format:?}:\n{}",
            describe(&output)
        );
    }
}

// ---------------------------------------------------------------------------
// 2. Atom against the RFC 4287 grammar

#[test]
fn atom_validates_against_rfc4287_grammar() {
    let jing = require_program("jing", "apt-get install -y jing");
    let written = write_all(&[Format::Atom]);
    for (page, _, path) in &written.files {
        let output = run(&jing, &["-c".as_ref(), ATOM_RNC.as_ref(), path.as_os_str()]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && !stdout.contains("error"),
            "jing rejects {page} Atom against RFC 4287:\n{}\n--- document\n{}",
            describe(&output),
            std::fs::read_to_string(path).unwrap()
        );
    }
}

/// The RFC 4287 constraints that Appendix B states as Schematron rules
/// rather than grammar: a feed author or an author on every entry, and on
/// every entry an alternate link or a content element.
#[test]
fn atom_meets_rfc4287_rules_outside_the_grammar() {
    let page = &pages()[0];
    let doc = page.render(Format::Atom);
    let feed = feed_rs::parser::parse(doc.as_bytes()).unwrap();
    let feed_has_author = !feed.authors.is_empty();
    for (entry, stored) in feed.entries.iter().zip(&page.entries) {
        assert!(
            feed_has_author || !entry.authors.is_empty(),
            "{}: no author",
            stored.uid
        );
        let alternate = entry
            .links
            .iter()
            .any(|l| l.rel.as_deref().is_none_or(|rel| rel == "alternate"));
        assert!(
            alternate || entry.content.is_some(),
            "{}: neither alternate link nor content",
            stored.uid
        );
        // RFC 4287 §4.1.1: at most one alternate link per type and hreflang.
        let mut seen = BTreeSet::new();
        for link in entry
            .links
            .iter()
            .filter(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        {
            assert!(
                seen.insert((link.media_type.clone(), link.href_lang.clone())),
                "{}: two alternate links of one type and language",
                stored.uid
            );
        }
    }
}

// ---------------------------------------------------------------------------
// 3. Dates

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn two_digits(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Checks `s` has the shape `Ddd, DD Mon YYYY HH:MM:SS +ZZZZ` (RFC 822 with a
/// four-digit year, as RFC 2822 writes it) and returns the instant.
fn assert_rfc822(label: &str, s: &str) -> DateTime<Utc> {
    let parsed = DateTime::parse_from_rfc2822(s).unwrap_or_else(|e| panic!("{label}: {s:?} is not RFC 2822: {e}"));
    let parts: Vec<&str> = s.split(' ').collect();
    let [day_name, day, month, year, time, zone] = parts[..] else {
        panic!("{label}: {s:?} does not have six space-separated fields");
    };
    let day_name = day_name
        .strip_suffix(',')
        .unwrap_or_else(|| panic!("{label}: {s:?}: no comma after the day name"));
    assert!(DAYS.contains(&day_name), "{label}: {s:?}: day name");
    assert!(two_digits(day), "{label}: {s:?}: day is not two digits");
    assert!(MONTHS.contains(&month), "{label}: {s:?}: month name");
    assert!(
        year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()),
        "{label}: {s:?}: year"
    );
    let hms: Vec<&str> = time.split(':').collect();
    assert!(
        hms.len() == 3 && hms.iter().all(|p| two_digits(p)),
        "{label}: {s:?}: time is not HH:MM:SS"
    );
    assert!(
        zone.len() == 5 && matches!(zone.as_bytes()[0], b'+' | b'-') && zone[1..].bytes().all(|b| b.is_ascii_digit()),
        "{label}: {s:?}: zone is not numeric"
    );
    // The written fields agree with the instant they denote.
    assert_eq!(
        DAYS[parsed.weekday().num_days_from_monday() as usize],
        day_name,
        "{label}: {s:?}"
    );
    assert_eq!(MONTHS[parsed.month0() as usize], month, "{label}: {s:?}");
    assert_eq!(parsed.day(), day.parse::<u32>().unwrap(), "{label}: {s:?}");
    assert_eq!(parsed.year(), year.parse::<i32>().unwrap(), "{label}: {s:?}");
    assert_eq!(parsed.second(), hms[2].parse::<u32>().unwrap(), "{label}: {s:?}");
    parsed.with_timezone(&Utc)
}

fn assert_rfc3339(label: &str, s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{label}: {s:?} is not RFC 3339: {e}"))
        .with_timezone(&Utc)
}

/// The feed-level date every format must carry: the newest entry update, but
/// never after `now`.
fn expected_feed_updated(page: &Page) -> DateTime<Utc> {
    page.entries
        .iter()
        .map(|e| e.updated)
        .max()
        .map_or(now(), |d| d.min(now()))
}

#[test]
fn rss_dates_are_rfc822() {
    for page in pages() {
        let doc = page.render(Format::Rss);
        let last_build = element_texts(&doc, "lastBuildDate");
        assert_eq!(last_build.len(), 1, "{}: one lastBuildDate", page.name);
        assert_eq!(assert_rfc822(page.name, &last_build[0]), expected_feed_updated(&page));
        let pub_dates = element_texts(&doc, "pubDate");
        assert_eq!(pub_dates.len(), page.entries.len(), "{}: a pubDate per item", page.name);
        for (s, e) in pub_dates.iter().zip(&page.entries) {
            assert_eq!(assert_rfc822(&format!("{} {}", page.name, e.uid), s), e.published);
        }
    }
    // The edges of the fixtures, spelled out.
    let doc = pages()[0].render(Format::Rss);
    let pub_dates = element_texts(&doc, "pubDate");
    assert!(
        pub_dates.contains(&"Thu, 01 Jan 1970 00:00:00 +0000".to_string()),
        "{pub_dates:?}"
    );
    assert!(
        pub_dates.contains(&"Mon, 15 Jun 2099 12:30:45 +0000".to_string()),
        "{pub_dates:?}"
    );
}

#[test]
fn atom_dates_are_rfc3339() {
    for page in pages() {
        let doc = page.render(Format::Atom);
        let updated = element_texts(&doc, "updated");
        let published = element_texts(&doc, "published");
        for s in updated.iter().chain(&published) {
            assert_rfc3339(page.name, s);
        }
        // The feed's own updated comes first, then per entry its updated and
        // its source's updated.
        assert_eq!(assert_rfc3339(page.name, &updated[0]), expected_feed_updated(&page));
        assert_eq!(published.len(), page.entries.len(), "{}", page.name);
        for (s, e) in published.iter().zip(&page.entries) {
            assert_eq!(assert_rfc3339(&e.uid, s), e.published);
        }
        let feed = feed_rs::parser::parse(doc.as_bytes()).unwrap();
        for (parsed, e) in feed.entries.iter().zip(&page.entries) {
            assert_eq!(parsed.updated, Some(e.updated), "{}", e.uid);
        }
    }
}

// ---------------------------------------------------------------------------
// 4. JSON Feed 1.1

const TOP_LEVEL_KEYS: &[&str] = &[
    "version",
    "title",
    "home_page_url",
    "feed_url",
    "description",
    "user_comment",
    "next_url",
    "icon",
    "favicon",
    "authors",
    "language",
    "expired",
    "hubs",
    "items",
];

const ITEM_KEYS: &[&str] = &[
    "id",
    "url",
    "external_url",
    "title",
    "content_html",
    "content_text",
    "summary",
    "image",
    "banner_image",
    "date_published",
    "date_modified",
    "authors",
    "tags",
    "language",
    "attachments",
];

const STRING_KEYS: &[&str] = &[
    "version",
    "title",
    "home_page_url",
    "feed_url",
    "description",
    "user_comment",
    "next_url",
    "icon",
    "favicon",
    "language",
    "id",
    "url",
    "external_url",
    "content_html",
    "content_text",
    "summary",
    "image",
    "banner_image",
    "date_published",
    "date_modified",
];

/// Checks the keys of one JSON Feed object against `allowed` (plus `_`
/// extensions) and the types of the string-valued and author members.
fn check_object(label: &str, object: &serde_json::Map<String, Value>, allowed: &[&str]) {
    for (key, value) in object {
        assert!(
            allowed.contains(&key.as_str()) || key.starts_with('_'),
            "{label}: key {key:?} is not in JSON Feed 1.1"
        );
        if STRING_KEYS.contains(&key.as_str()) {
            assert!(value.is_string(), "{label}: {key} must be a string, is {value}");
        }
        if key == "authors" {
            let authors = value
                .as_array()
                .unwrap_or_else(|| panic!("{label}: authors is not an array"));
            for author in authors {
                let author = author.as_object().expect("author object");
                assert!(!author.is_empty(), "{label}: an author needs name, url or avatar");
                for (k, v) in author {
                    assert!(
                        matches!(k.as_str(), "name" | "url" | "avatar") || k.starts_with('_'),
                        "{label}: author key {k:?}"
                    );
                    assert!(v.is_string(), "{label}: author {k} must be a string");
                }
            }
        }
    }
}

#[test]
fn json_feed_follows_version_1_1() {
    for page in pages() {
        let doc = page.render(Format::Json);
        let value: Value = serde_json::from_str(&doc).unwrap_or_else(|e| panic!("{}: not JSON: {e}", page.name));
        let top = value.as_object().expect("top-level object");
        let label = page.name;
        check_object(label, top, TOP_LEVEL_KEYS);
        assert_eq!(top["version"], "https://jsonfeed.org/version/1.1", "{label}");
        assert_eq!(top["title"], xml_clean(&page.meta.title).as_str(), "{label}");
        assert_eq!(top["home_page_url"], page.meta.site_url.as_str(), "{label}");
        assert_eq!(
            top.get("next_url").and_then(Value::as_str),
            page.meta.next_url.as_deref(),
            "{label}"
        );
        if let Some(expired) = top.get("expired") {
            assert!(expired.is_boolean(), "{label}: expired");
        }
        if let Some(hubs) = top.get("hubs") {
            for hub in hubs.as_array().expect("hubs array") {
                assert!(hub["type"].is_string() && hub["url"].is_string(), "{label}: hub {hub}");
            }
        }
        assert_eq!(top.get("hubs").is_some(), page.meta.hub_url.is_some(), "{label}");

        let items = top["items"].as_array().expect("items array");
        assert_eq!(items.len(), page.entries.len(), "{label}");
        let mut ids = BTreeSet::new();
        for (item, stored) in items.iter().zip(&page.entries) {
            let label = format!("{} item {}", page.name, stored.uid);
            let item = item.as_object().expect("item object");
            check_object(&label, item, ITEM_KEYS);
            let id = item.get("id").and_then(Value::as_str).expect("item id string");
            assert!(ids.insert(id.to_string()), "{label}: duplicate id {id}");
            assert!(
                item.contains_key("content_html") || item.contains_key("content_text"),
                "{label}: needs content_html or content_text"
            );
            assert_eq!(item["title"], xml_clean(&stored.title).as_str(), "{label}");
            for key in ["date_published", "date_modified"] {
                if let Some(date) = item.get(key) {
                    assert_rfc3339(&label, date.as_str().unwrap());
                }
            }
            assert_eq!(
                assert_rfc3339(&label, item["date_published"].as_str().unwrap()),
                stored.published
            );
            for attachment in item.get("attachments").and_then(Value::as_array).into_iter().flatten() {
                let attachment = attachment.as_object().expect("attachment object");
                for (k, v) in attachment {
                    match k.as_str() {
                        "url" | "mime_type" | "title" => assert!(v.is_string(), "{label}: attachment {k}"),
                        "size_in_bytes" | "duration_in_seconds" => assert!(v.is_u64(), "{label}: attachment {k}"),
                        _ => assert!(k.starts_with('_'), "{label}: attachment key {k:?}"),
                    }
                }
                assert!(
                    attachment.contains_key("url") && attachment.contains_key("mime_type"),
                    "{label}: an attachment needs url and mime_type"
                );
            }
            if let Some(tags) = item.get("tags") {
                assert!(
                    tags.as_array().expect("tags array").iter().all(Value::is_string),
                    "{label}"
                );
            }

            let sources = item["_tributary"]["sources"]
                .as_array()
                .unwrap_or_else(|| panic!("{label}: _tributary.sources is not an array"));
            assert_eq!(sources.len(), stored.credits.len(), "{label}: one source per credit");
            for (source, credit) in sources.iter().zip(&stored.credits) {
                let source = source.as_object().expect("source object");
                for (k, v) in source {
                    assert!(
                        matches!(k.as_str(), "source" | "title" | "id" | "url"),
                        "{label}: source key {k:?}"
                    );
                    assert!(v.is_string(), "{label}: source {k} must be a string");
                }
                assert_eq!(source["source"], xml_clean(&credit.source).as_str(), "{label}");
                assert_eq!(source["id"], xml_clean(&credit.item_id).as_str(), "{label}");
                assert_eq!(
                    source.get("url").and_then(Value::as_str),
                    credit.item_link.as_deref(),
                    "{label}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// 5. Python feedparser

#[derive(serde::Deserialize, Debug)]
struct FeedparserReport {
    bozo: u8,
    bozo_exception: Option<String>,
    version: String,
    json_supported: bool,
    feed_title: Option<String>,
    entry_titles: Vec<Option<String>>,
}

fn feedparser_read(python: &Path, path: &Path) -> FeedparserReport {
    let output = run(python, &[FEEDPARSER_CHECK.as_ref(), path.as_os_str()]);
    assert!(
        output.status.success(),
        "feedparser_check.py on {}:\n{}",
        path.display(),
        describe(&output)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("feedparser_check.py printed no report ({e}):\n{}", describe(&output)))
}

/// feedparser 6.0 reads Atom and RSS only: JSON Feed is checked too as soon
/// as the installed release reports that it can read it.
#[test]
fn feedparser_reads_every_format_without_bozo() {
    let python = require_feedparser();
    let written = write_all(&Format::ALL);
    for (name, format, path) in &written.files {
        let page = pages().into_iter().find(|p| p.name == name).unwrap();
        let report = feedparser_read(&python, path);
        if *format == Format::Json && !report.json_supported {
            continue;
        }
        let label = format!("{name} {format:?}");
        assert_eq!(report.bozo, 0, "{label}: feedparser bozo: {:?}", report.bozo_exception);
        let expected_version = match format {
            Format::Atom => "atom10",
            Format::Rss => "rss20",
            Format::Json => "json11",
        };
        assert_eq!(report.version, expected_version, "{label}");
        assert_eq!(report.feed_title.as_deref(), Some(page.meta.title.as_str()), "{label}");
        let titles: Vec<String> = report
            .entry_titles
            .iter()
            .map(|t| t.clone().unwrap_or_default())
            .collect();
        assert_eq!(titles, expected_titles(&page), "{label}");
        if *name == "full" {
            assert_eq!(titles[0].as_bytes(), ITALIAN_TITLE.as_bytes(), "{label}: Italian title");
        }
    }
}

// ---------------------------------------------------------------------------
// 6. feed-rs reads every format back

#[test]
fn feed_rs_reads_every_format_back() {
    for page in pages() {
        for format in Format::ALL {
            let label = format!("{} {format:?}", page.name);
            let doc = page.render(format);
            let feed = feed_rs::parser::parse(doc.as_bytes()).unwrap_or_else(|e| panic!("{label}: {e}"));
            let expected_type = match format {
                Format::Atom => feed_rs::model::FeedType::Atom,
                Format::Rss => feed_rs::model::FeedType::RSS2,
                Format::Json => feed_rs::model::FeedType::JSON,
            };
            assert_eq!(feed.feed_type, expected_type, "{label}");
            assert_eq!(feed.title.map(|t| t.content), Some(page.meta.title.clone()), "{label}");
            assert_eq!(feed.entries.len(), page.entries.len(), "{label}");
            let titles: Vec<String> = feed
                .entries
                .iter()
                .map(|e| e.title.as_ref().map(|t| t.content.clone()).unwrap_or_default())
                .collect();
            assert_eq!(titles, expected_titles(&page), "{label}");
            let ids: Vec<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
            let expected_ids: Vec<String> = page
                .entries
                .iter()
                .map(|e| format!("urn:tributary:entry:{}", e.uid))
                .collect();
            assert_eq!(ids, expected_ids, "{label}");
            if page.name == "full" {
                let first = feed.entries[0].title.as_ref().unwrap().content.as_bytes();
                assert_eq!(first, ITALIAN_TITLE.as_bytes(), "{label}: Italian title");
                let body = feed.entries[0].content.as_ref().and_then(|c| c.body.as_deref());
                assert_eq!(body, Some(article_html().as_str()), "{label}: Italian article");
            }
        }
    }
}

/// The fixtures are as hostile as intended: the checks above would be weaker
/// if a fixture lost its control characters or its edge cases.
#[test]
fn fixtures_cover_the_hostile_cases() {
    let all = entries();
    let raw: String = all
        .iter()
        .flat_map(|e| {
            [
                e.title.clone(),
                e.content_html.clone().unwrap_or_default(),
                e.author.clone().unwrap_or_default(),
            ]
            .into_iter()
            .chain(e.categories.clone())
        })
        .collect();
    for c in ['\u{1}', '\u{8}', '\u{B}', '\u{FFFE}'] {
        assert!(raw.contains(c), "fixtures lack U+{:04X}", c as u32);
    }
    assert!(
        all.iter()
            .any(|e| e.title.contains("]]>") && e.title.contains('<') && e.title.contains('"'))
    );
    assert!(all.iter().any(|e| e.published.year() == 2099));
    assert!(all.iter().any(|e| e.published.year() == 1970));
    assert!(all.iter().any(|e| e.credits.len() == 6));
    assert!(
        all.iter()
            .any(|e| e.link.is_none() && e.content_html.is_none() && e.summary_html.is_none())
    );
    assert!(all.iter().any(|e| e.language.as_deref() == Some("pt-BR")));
    assert!(article_html().matches("<p>").count() > 3);
}
