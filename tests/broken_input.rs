//! Broken and hostile feeds end to end: each yields a clear per-source error
//! or clean entries, never a crash, never invalid output, and never touches
//! what other sources stored.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use tributary::model::PollOutcome;
use tributary::publish::Format;

fn item(guid: &str, title: &str, extra: &str) -> String {
    format!(
        "<item><guid>{guid}</guid><title>{title}</title><link>https://b.example.org/{guid}</link><description>testo {guid}</description>{extra}</item>"
    )
}

fn channel(items: &str) -> String {
    format!("<rss version=\"2.0\"><channel><title>B</title>{items}</channel></rss>")
}

async fn poll_one(
    body: impl Into<Vec<u8>>,
    content_type: &str,
) -> (
    Sandbox,
    tributary::config::Config,
    tributary::pipeline::Context,
    Vec<tributary::model::PollReport>,
) {
    let server = FeedServer::start().await;
    server.set("/f", Route::feed(content_type, body));
    let sb = Sandbox::new();
    let config = sb.config(&source_block("s", &server.url("/f")));
    let cx = context(&config).await;
    let r = poll_all(&cx, &config).await;
    (sb, config, cx, r)
}

fn outputs_are_valid(store: &tributary::store::Store, config: &tributary::config::Config) {
    for format in Format::ALL {
        let body = render(store, config, format);
        feed_rs::parser::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{format:?} output does not parse: {e}"));
        if format != Format::Json {
            let mut reader = quick_xml::Reader::from_str(&body);
            loop {
                match reader.read_event() {
                    Ok(quick_xml::events::Event::Eof) => break,
                    Ok(_) => {}
                    Err(e) => panic!("{format:?} is not well-formed: {e}"),
                }
            }
        }
    }
}

#[tokio::test]
async fn one_invalid_byte_keeps_the_good_items() {
    let mut body =
        channel(&(item("1", "Buona", "") + &item("2", "Rotta \u{1}", "") + &item("3", "Altra", ""))).into_bytes();
    let at = body.windows(5).position(|w| w == b"Rotta").unwrap();
    body[at + 5] = 0xFF;
    let (_sb, config, cx, r) = poll_one(body, "application/rss+xml").await;
    assert_eq!((r[0].outcome, r[0].counts.new), (PollOutcome::Ok, 3), "{r:?}");
    let titles: Vec<_> = cx.store.newest(10, 0).unwrap().into_iter().map(|e| e.title).collect();
    assert!(titles.iter().any(|t| t.starts_with("Rotta")), "{titles:?}");
    outputs_are_valid(&cx.store, &config);
}

#[tokio::test]
async fn illegal_control_characters_raw_and_escaped_never_reach_the_output() {
    let body = channel(&(item("1", "Uno\u{1}\u{8} &#1; &#x1F;fine", "") + &item("2", "Due\u{B}\u{C}", "")));
    let (_sb, config, cx, r) = poll_one(body, "application/rss+xml").await;
    assert_eq!(r[0].counts.new, 2, "{r:?}");
    for e in cx.store.newest(10, 0).unwrap() {
        assert!(
            e.title.chars().all(|c| !c.is_control() || c == '\t' || c == '\n'),
            "{:?}",
            e.title
        );
    }
    outputs_are_valid(&cx.store, &config);
}

#[tokio::test]
async fn far_future_and_epoch_dates() {
    let body = channel(
        &(item("f", "Futuro", "<pubDate>Thu, 01 Jan 2099 00:00:00 +0000</pubDate>")
            + &item("e", "Epoca", "<pubDate>Thu, 01 Jan 1970 00:00:00 +0000</pubDate>")),
    );
    let (_sb, config, cx, _) = poll_one(body, "application/rss+xml").await;
    let now = chrono::Utc::now();
    let entries = cx.store.newest(10, 0).unwrap();
    let future = entries.iter().find(|e| e.title == "Futuro").unwrap();
    assert!(
        future.published <= now + chrono::TimeDelta::minutes(10),
        "a 2099 date becomes first-seen"
    );
    let epoch = entries.iter().find(|e| e.title == "Epoca").unwrap();
    assert_eq!(epoch.published.timestamp(), 0);
    let atom = render(&cx.store, &config, Format::Atom);
    assert!(!atom.contains("2099"), "the feed never claims a future date");
    outputs_are_valid(&cx.store, &config);
}

#[tokio::test]
async fn duplicate_ids_inside_one_feed_are_stored_once_and_repolls_change_nothing() {
    let body = channel(&(item("same", "Primo", "") + &item("same", "Secondo", "")));
    let (_sb, config, cx, r) = poll_one(body, "application/rss+xml").await;
    assert_eq!(r[0].counts.new, 1, "{r:?}");
    assert_eq!(
        cx.store.newest(10, 0).unwrap()[0].title,
        "Primo",
        "the first occurrence wins"
    );
    let again = poll_all(&cx, &config).await;
    assert_eq!((again[0].counts.new, again[0].counts.updated), (0, 0), "{again:?}");
}

#[tokio::test]
async fn the_same_id_in_two_feeds_never_overwrites_the_other_source() {
    let server = FeedServer::start().await;
    server.set(
        "/a",
        Route::feed("application/rss+xml", channel(&item("1", "Notizia di A", ""))),
    );
    server.set(
        "/b",
        Route::feed(
            "application/rss+xml",
            channel("<item><guid>1</guid><title>Notizia di B</title><link>https://altro.example.org/x</link><description>diverso</description></item>"),
        ),
    );
    let sb = Sandbox::new();
    let config = sb.config(&(source_block("a", &server.url("/a")) + &source_block("b", &server.url("/b"))));
    let cx = context(&config).await;
    poll_all(&cx, &config).await;
    let titles: Vec<_> = cx.store.newest(10, 0).unwrap().into_iter().map(|e| e.title).collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(titles.contains(&"Notizia di A".to_string()) && titles.contains(&"Notizia di B".to_string()));
}

#[tokio::test]
async fn id_less_items_keep_their_identity_across_polls() {
    let body = channel(
        "<item><title>Senza guid</title><link>https://b.example.org/x</link></item><item><description>solo testo, niente titolo né link</description></item>",
    );
    let (_sb, config, cx, r) = poll_one(body, "application/rss+xml").await;
    assert_eq!(r[0].counts.new, 2);
    let before: Vec<_> = cx.store.newest(10, 0).unwrap().into_iter().map(|e| e.uid).collect();
    let mut forced = cx.clone();
    forced.force = true;
    let again = poll_all(&forced, &config).await;
    assert_eq!((again[0].counts.new, again[0].counts.updated), (0, 0), "{again:?}");
    let after: Vec<_> = cx.store.newest(10, 0).unwrap().into_iter().map(|e| e.uid).collect();
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_huge_title_and_fifty_thousand_items() {
    let title = "T".repeat(16 * 1024 * 1024 / 2);
    let (_sb, config, cx, r) = poll_one(channel(&item("big", &title, "")), "application/rss+xml").await;
    assert_eq!(r[0].outcome, PollOutcome::Ok, "{:?}", r[0].error);
    assert!(
        cx.store.newest(1, 0).unwrap()[0].title.chars().count() <= 2_000,
        "titles are capped"
    );
    outputs_are_valid(&cx.store, &config);

    let many: String = (0..50_000)
        .map(|i| format!("<item><guid>{i}</guid><title>n{i}</title></item>"))
        .collect();
    let (_sb2, _config2, cx2, r2) = poll_one(channel(&many), "application/rss+xml").await;
    assert_eq!(
        (r2[0].outcome, r2[0].counts.new),
        (PollOutcome::Ok, 50_000),
        "{:?}",
        r2[0].error
    );
    assert_eq!(cx2.store.entry_count().unwrap(), 50_000);
}

#[tokio::test]
async fn json_feed_with_numeric_ids_and_rss_without_version() {
    let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[{"id":2,"title":"Numerico","content_text":"x"}]}"#;
    let (_sb, _c, cx, r) = poll_one(json, "application/feed+json").await;
    assert_eq!(r[0].counts.new, 1, "{r:?}");
    assert_eq!(cx.store.newest(1, 0).unwrap()[0].credits[0].item_id, "2");
    let rss = "<rss><channel><title>V</title><item><guid>1</guid><title>Senza versione</title></item></channel></rss>";
    let (_sb2, _c2, cx2, r2) = poll_one(rss, "application/rss+xml").await;
    assert_eq!(r2[0].counts.new, 1, "{r2:?}");
    assert_eq!(cx2.store.newest(1, 0).unwrap()[0].title, "Senza versione");
}

#[tokio::test]
async fn a_feed_that_changes_encoding_between_polls_keeps_its_text() {
    let server = FeedServer::start().await;
    let text = "Perché è già “così”";
    let utf8 = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>{}",
        channel(&item("1", text, ""))
    );
    server.set("/f", Route::feed("application/rss+xml", utf8.clone()));
    let sb = Sandbox::new();
    let config = sb.config(&source_block("s", &server.url("/f")));
    let cx = context(&config).await;
    poll_all(&cx, &config).await;
    let relabelled = utf8.replace("UTF-8", "windows-1252");
    let cp1252 = encoding_rs::WINDOWS_1252.encode(&relabelled).0.into_owned();
    server.set("/f", Route::feed("application/rss+xml", cp1252));
    let r = poll_all(&cx, &config).await;
    assert_eq!(
        (r[0].outcome, r[0].counts.new, r[0].counts.updated),
        (PollOutcome::Ok, 0, 0),
        "same text, same item: {r:?}"
    );
    assert_eq!(cx.store.newest(1, 0).unwrap()[0].title, text);
}

#[tokio::test]
async fn billion_laughs_and_external_entities_stay_inert() {
    let body = r#"<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>L</title><item><guid>1</guid><title>&c; &xxe;</title></item></channel></rss>"#;
    let (_sb, config, cx, r) = poll_one(body, "application/rss+xml").await;
    assert_eq!(r[0].outcome, PollOutcome::Ok, "{r:?}");
    let title = &cx.store.newest(1, 0).unwrap()[0].title;
    assert!(title.len() < 100 && !title.contains("root:"), "{title}");
    outputs_are_valid(&cx.store, &config);
}

#[tokio::test]
async fn deep_nesting_is_an_error_for_its_source_only() {
    let deep = format!(
        "<rss version=\"2.0\"><channel><title>D</title><item><guid>1</guid><title>x</title><description>{}{}</description></item></channel></rss>",
        "<x>".repeat(100_000),
        "</x>".repeat(100_000)
    );
    let server = FeedServer::start().await;
    server.set("/deep", Route::feed("application/rss+xml", deep));
    server.set(
        "/ok",
        Route::feed("application/rss+xml", channel(&item("1", "Buona", ""))),
    );
    let sb = Sandbox::new();
    let config = sb.config(&(source_block("deep", &server.url("/deep")) + &source_block("ok", &server.url("/ok"))));
    let cx = context(&config).await;
    let r = poll_all(&cx, &config).await;
    assert!(r[0].failed() || r[0].counts.new == 1, "{:?}", r[0]);
    assert_eq!((r[1].outcome, r[1].counts.new), (PollOutcome::Ok, 1));
    outputs_are_valid(&cx.store, &config);
}
