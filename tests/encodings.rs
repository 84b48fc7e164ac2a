//! Text reaches the reader byte-exact whatever the source's encoding: RSS
//! feeds in UTF-8 (with and without BOM), UTF-16 (both byte orders),
//! windows-1252, ISO-8859-1, ISO-8859-15, windows-1251, KOI8-R, GB18030, GBK
//! and Shift_JIS, and feeds whose declaration, HTTP charset and bytes
//! disagree, go through the real pipeline; the item's title and text must
//! appear unchanged, as UTF-8 and never as numeric character references, in
//! the Atom, RSS and JSON outputs.
//!
//! The fixtures in `tests/fixtures/encodings/` are written by
//! `scripts/make-encoding-fixtures`, which holds the same texts.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::collections::BTreeSet;
use tributary::model::PollOutcome;

use common::*;
use encoding_rs::Encoding;
use tributary::publish::Format;

/// One fixture and what it must turn into.
struct Case {
    /// The file under `tests/fixtures/encodings/`.
    file: &'static str,
    /// The encoding the bytes really are in.
    bytes_in: &'static Encoding,
    /// When set, the feed is served over HTTP with this `Content-Type`;
    /// otherwise it is read as a file.
    http: Option<&'static str>,
    /// The channel title, credited as the entry's Atom `<source>` title.
    channel: &'static str,
    /// The item title.
    title: &'static str,
    /// The item description, which the feed wraps in `<p>`.
    body: &'static str,
}

const UTF8_NO_BOM: Case = Case {
    file: "utf8-no-bom.rss",
    bytes_in: encoding_rs::UTF_8,
    http: None,
    channel: "Notizie dal mondo",
    title: "Ünïcødé: «ciao» — 日本語 ✓ 😀",
    body: "Grüße aus Zürich, 東京 und Київ — naïve café, ½ € ™ 𝄞.",
};

const UTF8_BOM: Case = Case {
    file: "utf8-bom.rss",
    bytes_in: encoding_rs::UTF_8,
    http: None,
    channel: "Ειδήσεις",
    title: "Καλημέρα κόσμε — Привет, мир",
    body: "Ο καιρός σήμερα: ηλιόλουστος, 25 °C. Погода: солнечно.",
};

const UTF16LE_BOM: Case = Case {
    file: "utf16le-bom.rss",
    bytes_in: encoding_rs::UTF_16LE,
    http: None,
    channel: "Tin tức",
    title: "Tiếng Việt: Xin chào thế giới 🌏",
    body: "Hà Nội, ngày 1 tháng 12 — 한국어 뉴스, עברית, العربية.",
};

const UTF16BE_BOM: Case = Case {
    file: "utf16be-bom.rss",
    bytes_in: encoding_rs::UTF_16BE,
    http: None,
    channel: "Haberler",
    title: "Türkçe haberler: İstanbul’da kış",
    body: "Şehirde kar yağışı bekleniyor; ağır taşıtlar için uyarı — ①②③.",
};

const WINDOWS_1252: Case = Case {
    file: "windows-1252.rss",
    bytes_in: encoding_rs::WINDOWS_1252,
    http: None,
    channel: "Cronache – Esteri",
    title: ITALIAN_TITLE,
    body: "“Non è un’alleanza di comodo” – ha detto il ministro… «Vedremo». Perché sì: è così.",
};

/// Declared ISO-8859-1; decoded as windows-1252 (the WHATWG reading of that
/// label), so the curly quotes of the text, bytes 0x93 0x94 0x92, survive.
const ISO_8859_1: Case = Case {
    file: "iso-8859-1.rss",
    bytes_in: encoding_rs::WINDOWS_1252,
    http: None,
    channel: "Città e cultura",
    title: "Perché è già più città",
    body: "Così l’ha definita: “una città più giusta”, già oggi.",
};

/// € is 0xA4 here (¤ in windows-1252), œ 0xBD, Ÿ 0xBE.
const ISO_8859_15: Case = Case {
    file: "iso-8859-15.rss",
    bytes_in: encoding_rs::ISO_8859_15,
    http: None,
    channel: "Économie",
    title: "€ œ Ÿ: une œuvre à 10 €",
    body: "Cœur, Œdipe, Šárka, Žižka, škola, žena: prix 20 € (TVA incluse).",
};

const WINDOWS_1251: Case = Case {
    file: "windows-1251.rss",
    bytes_in: encoding_rs::WINDOWS_1251,
    http: None,
    channel: "Новости",
    title: "Москва: новости дня",
    body: "Правительство утвердило бюджет на 2027 год — «важный шаг».",
};

const KOI8_R: Case = Case {
    file: "koi8-r.rss",
    bytes_in: encoding_rs::KOI8_R,
    http: None,
    channel: "Погода",
    title: "Санкт-Петербург: погода на неделю",
    body: "Ожидается снег, ветер и мороз до минус двадцати градусов.",
};

/// Includes 𠮷 (U+20BB7), a four-byte GB18030 sequence outside GBK.
const GB18030: Case = Case {
    file: "gb18030.rss",
    bytes_in: encoding_rs::GB18030,
    http: None,
    channel: "新闻",
    title: "中文新闻：北京",
    body: "北京今天天气晴朗，气温二十五度。𠮷野家开了新店，价格€10。",
};

const GBK: Case = Case {
    file: "gbk.rss",
    bytes_in: encoding_rs::GBK,
    http: None,
    channel: "财经",
    title: "中文新闻：北京",
    body: "上海证券交易所今日收盘，指数小幅上涨。",
};

const SHIFT_JIS: Case = Case {
    file: "shift_jis.rss",
    bytes_in: encoding_rs::SHIFT_JIS,
    http: None,
    channel: "ニュース",
    title: "日本語のニュース",
    body: "東京都は今日、新しい交通計画を発表しました。",
};

/// (a) HTTP says windows-1251, the declaration says KOI8-R and the bytes are
/// KOI8-R: the declaration is read before the HTTP charset, so it wins.
const HTTP_1251_DECLARED_KOI8_R: Case = Case {
    file: "http-1251-declared-koi8-r.rss",
    bytes_in: encoding_rs::KOI8_R,
    http: Some("application/rss+xml; charset=windows-1251"),
    channel: "Экономика",
    title: "Новосибирск: курс рубля",
    body: "Рубль укрепился по отношению к доллару и евро.",
};

/// (b) No declaration; the HTTP charset koi8-r is right.
const HTTP_KOI8_R_UNDECLARED: Case = Case {
    file: "http-koi8-r-undeclared.rss",
    bytes_in: encoding_rs::KOI8_R,
    http: Some("application/rss+xml; charset=koi8-r"),
    channel: "Выборы",
    title: "Екатеринбург: выборы мэра",
    body: "Явка избирателей составила сорок процентов.",
};

/// (c) The declaration lies (ISO-8859-1) about UTF-8 bytes: valid UTF-8 wins.
const DECLARED_LATIN1_BYTES_UTF8: Case = Case {
    file: "declared-latin1-bytes-utf8.rss",
    bytes_in: encoding_rs::UTF_8,
    http: None,
    channel: "Überblick",
    title: "Überraschung: Straße in Köln — “Ökö”",
    body: "Déjà vu: naïve façade, 10 €, Ελλάδα.",
};

/// (d) The declaration lies (UTF-8) about windows-1252 bytes: the bytes are
/// not UTF-8, so the label is not believed and the guess finds windows-1252.
const DECLARED_UTF8_BYTES_CP1252: Case = Case {
    file: "declared-utf8-bytes-cp1252.rss",
    bytes_in: encoding_rs::WINDOWS_1252,
    http: None,
    channel: "Attualità",
    title: "Perché l’Italia è così",
    body: "La città è più bella d’estate: “è già qui”, dicono – però non è così… \
           Così è la vita: più caffè, più libertà, meno città.",
};

/// (e) No declaration; a quoted HTTP charset.
const HTTP_SHIFT_JIS_QUOTED: Case = Case {
    file: "http-shift_jis-quoted.rss",
    bytes_in: encoding_rs::SHIFT_JIS,
    http: Some("text/xml; charset=\"Shift_JIS\""),
    channel: "天気",
    title: "大阪の天気予報",
    body: "明日は晴れのち曇り、最高気温は二十八度の見込みです。",
};

/// (f) No declaration, no HTTP charset: windows-1251 is found by the guess.
const GUESSED_WINDOWS_1251: Case = Case {
    file: "guessed-windows-1251.rss",
    bytes_in: encoding_rs::WINDOWS_1251,
    http: Some("application/rss+xml"),
    channel: "Город",
    title: "Санкт-Петербург: белые ночи",
    body: "В июне в Санкт-Петербурге начинаются белые ночи: солнце почти не заходит, \
           и жители гуляют по набережным до самого утра.",
};

const ALL: &[&Case] = &[
    &UTF8_NO_BOM,
    &UTF8_BOM,
    &UTF16LE_BOM,
    &UTF16BE_BOM,
    &WINDOWS_1252,
    &ISO_8859_1,
    &ISO_8859_15,
    &WINDOWS_1251,
    &KOI8_R,
    &GB18030,
    &GBK,
    &SHIFT_JIS,
    &HTTP_1251_DECLARED_KOI8_R,
    &HTTP_KOI8_R_UNDECLARED,
    &DECLARED_LATIN1_BYTES_UTF8,
    &DECLARED_UTF8_BYTES_CP1252,
    &HTTP_SHIFT_JIS_QUOTED,
    &GUESSED_WINDOWS_1251,
];

fn fixture(file: &str) -> Vec<u8> {
    std::fs::read(repo_file(&format!("tests/fixtures/encodings/{file}"))).unwrap()
}

/// Space-separated hex bytes, for failure messages.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

/// The text as the fixture's bytes spell it.
fn encoded(case: &Case, text: &str) -> String {
    let bytes: Vec<u8> = if case.bytes_in == encoding_rs::UTF_16LE {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    } else if case.bytes_in == encoding_rs::UTF_16BE {
        text.encode_utf16().flat_map(u16::to_be_bytes).collect()
    } else {
        case.bytes_in.encode(text).0.into_owned()
    };
    hex(&bytes)
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Atom => "Atom",
        Format::Rss => "RSS",
        Format::Json => "JSON",
    }
}

/// The fixture holds the case's texts in the case's encoding; a failure here
/// is a broken fixture, not a pipeline bug.
fn check_fixture(case: &Case) {
    let bytes = fixture(case.file);
    let (text, used, malformed) = case.bytes_in.decode(&bytes);
    assert!(
        !malformed && used == case.bytes_in,
        "fixture {}: not clean {} (decoded as {}) — regenerate with scripts/make-encoding-fixtures",
        case.file,
        case.bytes_in.name(),
        used.name()
    );
    for text_expected in [case.channel, case.title, case.body] {
        assert!(
            text.contains(text_expected),
            "fixture {} does not hold {text_expected:?} — regenerate with scripts/make-encoding-fixtures",
            case.file
        );
    }
}

/// Polls the case's feed and checks the three outputs; returns every
/// problem found, each with the input bytes, what was expected and what came out.
async fn run(case: &Case) -> Vec<String> {
    check_fixture(case);
    let bytes = fixture(case.file);
    let sb = Sandbox::new();
    let _server;
    let url = match case.http {
        Some(content_type) => {
            let server = FeedServer::start().await;
            server.set("/feed", Route::feed(content_type, bytes.clone()));
            let url = server.url("/feed");
            _server = server;
            url
        }
        None => repo_file(&format!("tests/fixtures/encodings/{}", case.file))
            .to_str()
            .unwrap()
            .to_string(),
    };
    let config = sb.config(&source_block("case", &url));
    let cx = context(&config).await;
    let reports = poll_all(&cx, &config).await;
    let r = &reports[0];
    assert_eq!(
        (r.outcome, r.error.as_deref(), r.counts.new),
        (PollOutcome::Ok, None, 1),
        "{}: the poll failed: {r:?}",
        case.file
    );

    let via = case
        .http
        .map_or("read as a file".to_string(), |ct| format!("served as {ct:?}"));
    let mut problems = Vec::new();
    let expect = |problems: &mut Vec<String>, ok: bool, what: &str, text: &str, got: &str| {
        if !ok {
            problems.push(format!(
                "{file} ({via}, bytes in {enc}): {what}\n    expected {text:?}\n    input bytes {bytes}\n    got {got:?}",
                file = case.file,
                enc = case.bytes_in.name(),
                bytes = encoded(case, text),
            ));
        }
    };

    let stored = cx.store.newest(10, 0).unwrap();
    let stored_title = stored.first().map(|e| e.title.clone()).unwrap_or_default();
    expect(
        &mut problems,
        stored_title == case.title,
        "stored title",
        case.title,
        &stored_title,
    );

    let html = format!("<p>{}</p>", case.body);
    for format in Format::ALL {
        let name = format_name(format);
        let out = render(&cx.store, &config, format);
        let parsed = match feed_rs::parser::parse(out.as_bytes()) {
            Ok(p) => p,
            Err(e) => {
                problems.push(format!("{}: {name} output does not parse back: {e}", case.file));
                continue;
            }
        };
        let entry = parsed.entries.first();
        let parsed_title = entry.and_then(|e| e.title.as_ref()).map(|t| t.content.clone());
        let parsed_title = parsed_title.unwrap_or_default();
        let parsed_body = entry
            .and_then(|e| e.content.as_ref().and_then(|c| c.body.clone()))
            .or_else(|| entry.and_then(|e| e.summary.as_ref().map(|s| s.content.clone())))
            .unwrap_or_default();
        expect(
            &mut problems,
            parsed_title == case.title,
            &format!("{name}: title parsed back by feed-rs"),
            case.title,
            &parsed_title,
        );
        expect(
            &mut problems,
            out.contains(case.title),
            &format!("{name}: title byte-exact in the document"),
            case.title,
            &parsed_title,
        );
        expect(
            &mut problems,
            out.contains(case.body),
            &format!("{name}: text byte-exact in the document"),
            case.body,
            &parsed_body,
        );
        expect(
            &mut problems,
            parsed_body == html,
            &format!("{name}: HTML body parsed back by feed-rs"),
            &html,
            &parsed_body,
        );
        if let Some(at) = out.find("&#") {
            let end = out[at..].find(';').map_or(out.len(), |e| at + e + 1);
            problems.push(format!(
                "{}: {name} holds a numeric character reference {:?}",
                case.file,
                &out[at..end]
            ));
        }
        match format {
            Format::Json => {
                let v: serde_json::Value = serde_json::from_str(&out).unwrap();
                let item = &v["items"][0];
                let title = item["title"].as_str().unwrap_or_default();
                expect(
                    &mut problems,
                    title == case.title,
                    "JSON: items[0].title",
                    case.title,
                    title,
                );
                let content = item["content_html"].as_str().unwrap_or_default();
                expect(
                    &mut problems,
                    content == html,
                    "JSON: items[0].content_html",
                    &html,
                    content,
                );
            }
            Format::Atom => {
                let credited = format!("<title type=\"text\">{}</title>", case.channel);
                expect(
                    &mut problems,
                    out.contains(&credited),
                    "Atom: the channel title credited in <source>",
                    case.channel,
                    out.split("<source>")
                        .nth(1)
                        .and_then(|s| s.split("</source>").next())
                        .unwrap_or(""),
                );
            }
            Format::Rss => {}
        }
    }
    problems
}

async fn check(case: &Case) {
    let problems = run(case).await;
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

macro_rules! cases {
    ($($test:ident => $case:ident;)*) => {
        $(
            #[tokio::test]
            async fn $test() {
                check(&$case).await;
            }
        )*
    };
}

cases! {
    utf8_without_bom => UTF8_NO_BOM;
    utf8_with_bom => UTF8_BOM;
    utf16le_with_bom => UTF16LE_BOM;
    utf16be_with_bom => UTF16BE_BOM;
    windows_1252_italian => WINDOWS_1252;
    iso_8859_1_label_read_as_windows_1252 => ISO_8859_1;
    iso_8859_15_euro_and_oe => ISO_8859_15;
    windows_1251_russian => WINDOWS_1251;
    koi8_r_russian => KOI8_R;
    gb18030_chinese_with_four_byte_sequence => GB18030;
    gbk_chinese => GBK;
    shift_jis_japanese => SHIFT_JIS;
    declaration_wins_over_http_charset => HTTP_1251_DECLARED_KOI8_R;
    http_charset_without_declaration => HTTP_KOI8_R_UNDECLARED;
    valid_utf8_wins_over_lying_latin1_declaration => DECLARED_LATIN1_BYTES_UTF8;
    lying_utf8_declaration_on_windows_1252_bytes_is_guessed => DECLARED_UTF8_BYTES_CP1252;
    quoted_http_charset => HTTP_SHIFT_JIS_QUOTED;
    windows_1251_without_any_label_is_guessed => GUESSED_WINDOWS_1251;
}

/// Every fixture file belongs to exactly one case, and every case is tested.
#[test]
fn every_fixture_has_a_case() {
    let dir = repo_file("tests/fixtures/encodings");
    let files: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let cases: BTreeSet<String> = ALL.iter().map(|c| c.file.to_string()).collect();
    assert_eq!(cases.len(), ALL.len(), "two cases share a fixture");
    assert_eq!(files, cases);
    for case in ALL {
        check_fixture(case);
    }
}

/// The conflicting cases really conflict: the labels they carry are wrong
/// (or absent) for their bytes, so only the documented order gets them right.
#[test]
fn conflicting_cases_carry_misleading_labels() {
    let declared = |case: &Case| {
        let bytes = fixture(case.file);
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(100)]).into_owned();
        head.split("encoding=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .map(str::to_string)
    };
    assert_eq!(declared(&HTTP_1251_DECLARED_KOI8_R).as_deref(), Some("KOI8-R"));
    let koi8_bytes = fixture(HTTP_1251_DECLARED_KOI8_R.file);
    let wrong = encoding_rs::WINDOWS_1251.decode(&koi8_bytes).0;
    assert!(!wrong.contains(HTTP_1251_DECLARED_KOI8_R.title));
    assert_eq!(declared(&HTTP_KOI8_R_UNDECLARED), None);
    assert_eq!(declared(&DECLARED_LATIN1_BYTES_UTF8).as_deref(), Some("ISO-8859-1"));
    assert!(std::str::from_utf8(&fixture(DECLARED_LATIN1_BYTES_UTF8.file)).is_ok());
    assert_eq!(declared(&DECLARED_UTF8_BYTES_CP1252).as_deref(), Some("UTF-8"));
    assert!(std::str::from_utf8(&fixture(DECLARED_UTF8_BYTES_CP1252.file)).is_err());
    assert_eq!(declared(&GUESSED_WINDOWS_1251), None);
    assert_eq!(declared(&HTTP_SHIFT_JIS_QUOTED), None);
    let latin1 = encoding_rs::Encoding::for_label(b"ISO-8859-1").unwrap();
    assert_eq!(
        latin1,
        encoding_rs::WINDOWS_1252,
        "WHATWG reads ISO-8859-1 as windows-1252"
    );
    assert_ne!(
        encoding_rs::Encoding::for_label(b"ISO-8859-15").unwrap(),
        encoding_rs::WINDOWS_1252
    );
}
