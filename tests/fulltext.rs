//! Full text for summary-only feeds, end to end against servers on
//! 127.0.0.1: a feed of teasers whose links point to article pages; after a
//! poll the merged feed carries each article (its teaser as the summary),
//! later polls fetch no page again, pages that cannot be read leave the
//! feed's text, a transient failure is tried again, encodings arrive
//! byte-exact, the address guard refuses a redirect, the selector picks its
//! element, nothing executable survives; and a summary-only copy whose
//! article equals another feed's full text becomes one entry.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use common::{Sandbox, Scripted, repo_file, respond, tributary_output};
use tributary::publish::Format;

const ENGLISH: &str = "The harbour authority confirmed on Tuesday that the northern breakwater will be rebuilt over the next three winters, after storms last year opened a gap wide enough for a fishing boat to pass through.
Engineers from the port surveyed the structure in the spring and found that the concrete blocks laid in the nineteen sixties had shifted by almost a metre, undermining the road that runs along the top of the wall.
The first phase, which starts in November, will close the gap with rock armour brought by barge from a quarry further up the coast, so that lorries do not have to cross the town centre.
Local fishermen welcomed the plan but asked for the work to pause during the herring season, when the inner harbour is at its busiest and boats leave before dawn.
The council said it would publish a timetable for each phase and keep the promenade open at weekends, although the lighthouse at the end of the breakwater will stay closed to visitors until the work is finished.";

/// The article's paragraphs in a news page with its furniture.
fn news_page(title: &str, article: &str, head: &str) -> String {
    let paragraphs: String = article
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|p| format!("<p onclick=\"track(this)\">{p}</p>\n"))
        .collect();
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head>{head}<title>{title} | Coast News</title>
<script>window.dataLayer = [{{"page": "article"}}];</script></head>
<body onload="init()">
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li><li><a href="/weather">Weather</a></li></ul></nav></header>
<div id="cookie-consent" class="cookie-banner"><p>We use cookies to give you the best experience on our website.</p><button onclick="acceptCookies()">Accept all</button></div>
<main><article class="story"><h1>{title}</h1><div class="story-body">
{paragraphs}<script>loadComments();</script>
</div></article>
<aside class="sidebar most-read"><h2>Most read</h2><ol><li><a href="/1">Celebrity chef opens a restaurant on the pier</a></li><li><a href="/2">Ten things to do this weekend</a></li></ol></aside>
</main>
<footer><p>Copyright 2026 Coast News Ltd. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
</body></html>"#
    )
}

fn rss(items: &[(&str, &str, &str)]) -> String {
    let items: String = items
        .iter()
        .map(|(title, link, teaser)| {
            format!("<item><title>{title}</title><link>{link}</link><guid>{link}</guid><description>{teaser}</description></item>")
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Teasers</title><link>http://127.0.0.1/</link><description>t</description>{items}</channel></rss>"#
    )
}

/// Word trigrams of a text, lower-cased, punctuation ignored.
fn trigrams(text: &str) -> HashSet<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    words.windows(3).map(|w| w.join(" ")).collect()
}

fn recall(truth: &str, got: &str) -> f64 {
    let want = trigrams(truth);
    let have = trigrams(got);
    want.iter().filter(|t| have.contains(*t)).count() as f64 / want.len().max(1) as f64
}

/// The merged JSON Feed's items.
fn items(cx: &tributary::pipeline::Context, config: &tributary::config::Config) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(&common::render(&cx.store, config, Format::Json)).unwrap();
    v["items"].as_array().unwrap().clone()
}

fn item<'a>(items: &'a [serde_json::Value], title: &str) -> &'a serde_json::Value {
    items
        .iter()
        .find(|i| i["title"] == title)
        .unwrap_or_else(|| panic!("no item {title:?} in {items:#?}"))
}

fn content(i: &serde_json::Value) -> String {
    i["content_html"].as_str().unwrap_or_default().to_string()
}

fn page_row(config: &tributary::config::Config, link: &str) -> (String, String) {
    let db = rusqlite::Connection::open(&config.daemon.database).unwrap();
    db.query_row(
        "SELECT state, coalesce(last_error, '') FROM full_text WHERE url = ?1",
        [link],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

/// A listener that accepts connections and never answers.
async fn silent_server() -> (std::net::SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(s);
        }
    });
    (addr, count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_only_feed_gets_its_articles_once_and_failures_keep_the_feed_text() {
    let italian = std::fs::read_to_string(repo_file("tests/fixtures/article-it.txt")).unwrap();
    let italian_page = news_page("Alleanza", &italian, "<meta charset=\"windows-1252\">");
    let (italian_1252, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&italian_page);
    assert!(!unmappable);
    let italian_1252 = italian_1252.into_owned();
    let english_page = news_page("Breakwater", ENGLISH, "<meta charset=\"utf-8\">");
    let selector_page = format!(
        "<html><body><div class=\"intro\"><p>{}</p></div><div id=\"story-body\"><p>Only the selected element is the article here, with its own words.</p></div></body></html>",
        ENGLISH.replace('\n', " ")
    );
    let (slow, slow_hits) = silent_server().await;
    let server = Scripted::start("127.0.0.1", move |path, n, _req| match path {
        "/feed.xml" | "/sel.xml" => unreachable!(),
        "/a/ok" => respond(
            200,
            &[("content-type", "text/html; charset=utf-8")],
            english_page.clone(),
        ),
        "/a/it" => respond(200, &[("content-type", "text/html")], italian_1252.clone()),
        "/a/503" if n == 1 => respond(503, &[], "busy"),
        "/a/503" => respond(200, &[("content-type", "text/html")], english_page.clone()),
        "/a/redirect" => respond(302, &[("location", "http://10.0.0.1/a")], ""),
        "/a/sel" => respond(200, &[("content-type", "text/html")], selector_page.clone()),
        _ => respond(404, &[], "not found"),
    })
    .await;
    // The feeds are served by a second server so that the page server's
    // script stays about pages.
    let base = server.url("");
    let slow_link = format!("http://{slow}/a/slow");
    let feed = rss(&[
        (
            "Breakwater",
            &format!("{base}/a/ok"),
            "The harbour wall will be rebuilt.",
        ),
        ("Alleanza", &format!("{base}/a/it"), "Xi e Putin a Pechino."),
        ("Gone", &format!("{base}/a/404"), "A page that is gone."),
        ("Slow", &slow_link, "A page that never answers."),
        ("Busy", &format!("{base}/a/503"), "A page that is busy at first."),
        (
            "Refused",
            &format!("{base}/a/redirect"),
            "A page that redirects inward.",
        ),
    ]);
    let sel_feed = rss(&[("Selected", &format!("{base}/a/sel"), "Pick the element.")]);
    let feeds = Scripted::start("127.0.0.1", move |path, _, _| match path {
        "/feed.xml" => respond(200, &[("content-type", "application/rss+xml")], feed.clone()),
        _ => respond(200, &[("content-type", "application/rss+xml")], sel_feed.clone()),
    })
    .await;
    let sandbox = Sandbox::new();
    let config = sandbox.config_with(
        "timeout = \"1s\"",
        &format!(
            "[[source]]\nname = \"teasers\"\nurl = \"{}\"\nfull_text = true\nfull_text_rate = \"0s\"\nallow_private_addresses = [\"127.0.0.0/8\"]\n\n\
             [[source]]\nname = \"picked\"\nurl = \"{}\"\nfull_text = true\nfull_text_selector = \"#story-body\"\n",
            feeds.url("/feed.xml"),
            feeds.url("/sel.xml")
        ),
    );
    let cx = common::context(&config).await;
    for r in common::poll_all(&cx, &config).await {
        assert!(!r.failed(), "page failures never fail the feed's poll: {r:?}");
    }
    let pages = cx.finish_pages().await;
    assert_eq!((pages.read, pages.failed), (3, 4), "{pages:?}");
    let all = items(&cx, &config);

    // The article, its teaser as the summary.
    let breakwater = item(&all, "Breakwater");
    let text = content(breakwater);
    let r = recall(ENGLISH, &text);
    assert!(r >= 0.95, "recall {r}: {text}");
    assert_eq!(breakwater["summary"], "The harbour wall will be rebuilt.");
    for furniture in ["cookies", "Most read", "Celebrity chef", "Copyright", "Accept all"] {
        assert!(!text.contains(furniture), "{furniture} in {text}");
    }

    // The windows-1252 page with <meta charset> arrives byte-exact.
    let alleanza = content(item(&all, "Alleanza"));
    for paragraph in italian.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            alleanza.contains(paragraph.trim()),
            "missing {paragraph:?} in {alleanza}"
        );
    }

    // The selector picked its element.
    let picked = content(item(&all, "Selected"));
    assert!(
        picked.contains("Only the selected element is the article here"),
        "{picked}"
    );
    assert!(!picked.contains("harbour"), "{picked}");

    // 404, timeout, 503 and a refused redirect leave the feed's text.
    for (title, teaser) in [
        ("Gone", "A page that is gone."),
        ("Slow", "A page that never answers."),
        ("Busy", "A page that is busy at first."),
        ("Refused", "A page that redirects inward."),
    ] {
        let i = item(&all, title);
        assert!(content(i).contains(teaser), "{title}: {i:#}");
    }
    assert_eq!(page_row(&config, &format!("{base}/a/404")).0, "failed-permanent");
    assert_eq!(page_row(&config, &slow_link).0, "failed-transient");
    let (state, error) = page_row(&config, &format!("{base}/a/redirect"));
    assert_eq!(state, "failed-permanent");
    assert!(error.contains("refused to fetch http://10.0.0.1/a"), "{error}");
    assert_eq!(page_row(&config, &format!("{base}/a/503")).0, "failed-transient");

    // Nothing executable survives, in any format.
    for format in [Format::Json, Format::Atom, Format::Rss] {
        let out = common::render(&cx.store, &config, format).to_ascii_lowercase();
        assert!(!out.contains("<script") && !out.contains("&lt;script"), "{format:?}");
        for handler in ["onclick", "onload", "onerror"] {
            assert!(!out.contains(handler), "{handler} in {format:?}");
        }
    }

    // A second poll fetches no page again (the transient ones wait).
    let hits = |p: &str| server.hits(p);
    let before: Vec<usize> = ["/a/ok", "/a/it", "/a/404", "/a/503", "/a/redirect", "/a/sel"]
        .map(hits)
        .to_vec();
    let slow_before = slow_hits.load(std::sync::atomic::Ordering::SeqCst);
    common::poll_all(&cx, &config).await;
    cx.finish_pages().await;
    let after: Vec<usize> = ["/a/ok", "/a/it", "/a/404", "/a/503", "/a/redirect", "/a/sel"]
        .map(hits)
        .to_vec();
    assert_eq!(before, after);
    assert_eq!(before, vec![1, 1, 1, 1, 1, 1]);
    assert_eq!(slow_hits.load(std::sync::atomic::Ordering::SeqCst), slow_before);
    // The unchanged feed text is no edit of an item showing its article.
    let again = items(&cx, &config);
    assert_eq!(content(item(&again, "Breakwater")), text);
    assert_eq!(item(&again, "Breakwater")["date_modified"], breakwater["date_modified"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_503_is_tried_again_on_a_later_poll() {
    let page = news_page("Breakwater", ENGLISH, "");
    let server = Scripted::start("127.0.0.1", move |path, n, _| match path {
        "/feed.xml" => respond(
            200,
            &[("content-type", "application/rss+xml")],
            rss(&[("Busy", "/a/busy", "Busy at first.")]).replace("<link>/a/busy", "<link>http://127.0.0.1/a/busy"),
        ),
        "/a/busy" if n == 1 => respond(503, &[], "busy"),
        "/a/busy" => respond(200, &[("content-type", "text/html")], page.clone()),
        _ => respond(404, &[], ""),
    })
    .await;
    let feed = rss(&[("Busy", &server.url("/a/busy"), "Busy at first.")]);
    let feeds = Scripted::start("127.0.0.1", move |_, _, _| {
        respond(200, &[("content-type", "application/rss+xml")], feed.clone())
    })
    .await;
    let sandbox = Sandbox::new();
    let config = sandbox.config(&format!(
        "[[source]]\nname = \"busy\"\nurl = \"{}\"\nfull_text = true\n",
        feeds.url("/feed.xml")
    ));
    let mut cx = common::context(&config).await;
    common::poll_all(&cx, &config).await;
    assert_eq!(cx.finish_pages().await.failed, 1);
    assert!(content(item(&items(&cx, &config), "Busy")).contains("Busy at first."));
    // Within its backoff the page waits…
    common::poll_all(&cx, &config).await;
    cx.finish_pages().await;
    assert_eq!(server.hits("/a/busy"), 1);
    // …and a later poll that does not wait for it (`poll --force`) reads it.
    cx.force = true;
    common::poll_all(&cx, &config).await;
    assert_eq!(cx.finish_pages().await.read, 1);
    assert_eq!(server.hits("/a/busy"), 2);
    let busy = item(&items(&cx, &config), "Busy").clone();
    assert!(recall(ENGLISH, &content(&busy)) >= 0.95, "{busy:#}");
    assert_eq!(busy["summary"], "Busy at first.");
    assert_eq!(page_row(&config, &server.url("/a/busy")).0, "done");
}

/// A feed that answers 304 from its second poll on still gets its failed
/// page retried once the page is due: the feed is then fetched whole, since
/// a 304 brings no items to retry from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_failed_is_retried_when_due_even_if_the_feed_answers_304() {
    let page = news_page("Breakwater", ENGLISH, "");
    let server = Scripted::start("127.0.0.1", move |path, n, _| match path {
        "/a/busy" if n == 1 => respond(503, &[], "busy"),
        "/a/busy" => respond(200, &[("content-type", "text/html")], page.clone()),
        _ => respond(404, &[], ""),
    })
    .await;
    let feed = rss(&[("Busy", &server.url("/a/busy"), "Busy at first.")]);
    let feeds = Scripted::start("127.0.0.1", move |_, _, request| {
        if request.headers().get("if-none-match").is_some_and(|v| v == "\"v1\"") {
            respond(304, &[("etag", "\"v1\"")], "")
        } else {
            respond(
                200,
                &[("content-type", "application/rss+xml"), ("etag", "\"v1\"")],
                feed.clone(),
            )
        }
    })
    .await;
    let sandbox = Sandbox::new();
    let config = sandbox.config(&format!(
        "[[source]]\nname = \"busy\"\nurl = \"{}\"\nfull_text = true\n",
        feeds.url("/feed.xml")
    ));
    let cx = common::context(&config).await;
    let source = &config.sources[0];
    let now = chrono::Utc::now();
    tributary::pipeline::refresh(&cx, source, now).await;
    assert_eq!(cx.finish_pages().await.failed, 1);
    // Before the page is due the feed is revalidated: 304, no page fetch.
    let report = tributary::pipeline::refresh(&cx, source, now + chrono::TimeDelta::minutes(1)).await;
    assert_eq!(report.status, Some(304));
    cx.finish_pages().await;
    assert_eq!(server.hits("/a/busy"), 1);
    // Once it is due, the feed is fetched whole and the page read.
    let report = tributary::pipeline::refresh(&cx, source, now + chrono::TimeDelta::hours(1)).await;
    assert_eq!(report.status, Some(200));
    assert_eq!(cx.finish_pages().await.read, 1);
    assert_eq!(server.hits("/a/busy"), 2);
    assert_eq!(page_row(&config, &server.url("/a/busy")).0, "done");
    let busy = item(&items(&cx, &config), "Busy").clone();
    assert!(recall(ENGLISH, &content(&busy)) >= 0.95, "{busy:#}");
}

/// A page refused for good under one config (a 401 before the key was
/// given) is tried again once the source's request settings change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_whose_settings_change_tries_its_failed_pages_again() {
    let page = news_page("Breakwater", ENGLISH, "");
    let server = Scripted::start("127.0.0.1", move |path, _, request| {
        let keyed = request.headers().get("x-key").is_some_and(|v| v == "sesamo");
        match path {
            "/feed.xml" => respond(
                200,
                &[("content-type", "application/rss+xml")],
                rss(&[("Locked", "/a/locked", "Locked at first.")]),
            ),
            "/a/locked" if keyed => respond(200, &[("content-type", "text/html")], page.clone()),
            "/a/locked" => respond(401, &[], "who are you?"),
            _ => respond(404, &[], ""),
        }
    })
    .await;
    let link = server.url("/a/locked");
    let sandbox = Sandbox::new();
    let block = format!(
        "[[source]]\nname = \"locked\"\nurl = \"{}\"\nfull_text = true\n",
        server.url("/feed.xml")
    );
    let config = sandbox.config(&block);
    let cx = common::context(&config).await;
    common::poll_all(&cx, &config).await;
    assert_eq!(cx.finish_pages().await.failed, 1);
    assert_eq!(page_row(&config, &link).0, "failed-permanent");
    // The same config again: the page stays refused, nothing is fetched.
    common::poll_all(&cx, &config).await;
    cx.finish_pages().await;
    assert_eq!(server.hits("/a/locked"), 1);
    // The key is added: the source starts afresh and the page is read.
    let keyed = sandbox.config(&format!("{block}headers = {{ \"X-Key\" = \"sesamo\" }}\n"));
    common::poll_all(&cx, &keyed).await;
    assert_eq!(cx.finish_pages().await.read, 1);
    assert_eq!(server.hits("/a/locked"), 2);
    assert_eq!(page_row(&keyed, &link).0, "done");
}

/// Two feeds of one story: `/full.xml`, a wire's item with the whole
/// article as its text, and `/teaser.xml`, an item linking to
/// `story_link` with a teaser that shares nothing with the article.
async fn wire_and_teaser(story_link: &str) -> Scripted {
    let paragraphs: String = ENGLISH.lines().map(|p| format!("<p>{p}</p>")).collect();
    let teaser = rss(&[("Harbour works", story_link, "Big changes are coming to the seafront.")]);
    let full = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Wire</title><link>http://127.0.0.1/</link><description>w</description>
<item><title>Northern breakwater to be rebuilt</title><link>https://wire.example/breakwater-rebuilt</link><guid>wire-1</guid><description><![CDATA[{paragraphs}]]></description></item></channel></rss>"#
    );
    Scripted::start("127.0.0.1", move |path, _, _| {
        let body = if path == "/teaser.xml" {
            teaser.clone()
        } else {
            full.clone()
        };
        respond(200, &[("content-type", "application/rss+xml")], body)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_summary_only_copy_whose_article_is_another_feeds_full_text_is_one_entry() {
    let page = news_page("Breakwater", ENGLISH, "");
    let server = Scripted::start("127.0.0.1", move |path, _, _| match path {
        "/story" => respond(200, &[("content-type", "text/html")], page.clone()),
        _ => respond(404, &[], ""),
    })
    .await;
    // The teaser shares nothing with the article's opening: alone it
    // matches nothing, and only the article read from the page can.
    let feeds = wire_and_teaser(&server.url("/story")).await;
    let sandbox = Sandbox::new();
    let config = sandbox.config(&format!(
        "[[source]]\nname = \"wire\"\nurl = \"{}\"\n\n[[source]]\nname = \"teaser\"\nurl = \"{}\"\nfull_text = true\n",
        feeds.url("/full.xml"),
        feeds.url("/teaser.xml")
    ));
    let cx = common::context(&config).await;
    common::poll_all(&cx, &config).await;
    assert_eq!(cx.finish_pages().await.read, 1);
    let all = items(&cx, &config);
    assert_eq!(all.len(), 1, "one entry: {all:#?}");
    let sources: Vec<&str> = all[0]["_tributary"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources.len(), 2, "{sources:?}");
    assert!(sources.contains(&"wire") && sources.contains(&"teaser"), "{sources:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_full_text_the_teaser_stays_apart_from_the_full_copy() {
    // The control of the test above: the same two feeds, no full_text.
    let feeds = wire_and_teaser("https://coast.example/story").await;
    let sandbox = Sandbox::new();
    let config = sandbox.config(&format!(
        "[[source]]\nname = \"wire\"\nurl = \"{}\"\n\n[[source]]\nname = \"teaser\"\nurl = \"{}\"\n",
        feeds.url("/full.xml"),
        feeds.url("/teaser.xml")
    ));
    let cx = common::context(&config).await;
    common::poll_all(&cx, &config).await;
    assert_eq!(items(&cx, &config).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tributary_poll_reads_the_pages_before_it_exits() {
    let page = news_page("Breakwater", ENGLISH, "");
    let server = Scripted::start("127.0.0.1", move |path, _, _| match path {
        "/story" => respond(200, &[("content-type", "text/html")], page.clone()),
        _ => respond(404, &[], ""),
    })
    .await;
    // A page that is gone, under a link with a credential in it.
    let gone = format!("{}?token=s3cr3t", server.url("/gone"));
    let feed = rss(&[
        ("Breakwater", &server.url("/story"), "The harbour wall will be rebuilt."),
        ("Gone", &gone, "A page that is gone."),
    ]);
    let feeds = Scripted::start("127.0.0.1", move |_, _, _| {
        respond(200, &[("content-type", "application/rss+xml")], feed.clone())
    })
    .await;
    let sandbox = Sandbox::new();
    let config = sandbox.config(&format!(
        "[[source]]\nname = \"teasers\"\nurl = \"{}\"\nfull_text = true\n",
        feeds.url("/feed.xml")
    ));
    let out = tributary_output(&["poll"], &sandbox.path("tributary.toml")).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("article pages: 1 read, 1 without an article"),
        "{stdout}"
    );
    assert_eq!(server.hits("/story"), 1);
    // One log line for the page that gave no article, naming the source,
    // the item and the page, the credential shown as ***.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("full text:")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    let line = lines[0];
    assert!(line.contains("teasers") && line.contains("HTTP 404"), "{line}");
    assert!(line.contains("/gone?token=***"), "{line}");
    assert!(
        line.contains("item=") && line.contains("keeps its feed's text"),
        "{line}"
    );
    assert!(!stderr.contains("s3cr3t"), "{stderr}");
    let store = tributary::store::Store::open(&config.daemon.database).unwrap();
    let v: serde_json::Value = serde_json::from_str(&common::render(&store, &config, Format::Json)).unwrap();
    let all = v["items"].as_array().unwrap().clone();
    let text = content(item(&all, "Breakwater"));
    assert!(content(item(&all, "Gone")).contains("A page that is gone."));
    assert!(recall(ENGLISH, &text) >= 0.95, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemons_output_files_follow_an_article_read_after_the_poll() {
    let first = news_page("Breakwater", ENGLISH, "");
    let italian = std::fs::read_to_string(repo_file("tests/fixtures/article-it.txt")).unwrap();
    let second = news_page("Alleanza", &italian, "<meta charset=\"utf-8\">");
    let server = Scripted::start("127.0.0.1", move |path, _, _| match path {
        "/first" => respond(200, &[("content-type", "text/html")], first.clone()),
        "/second" => respond(200, &[("content-type", "text/html")], second.clone()),
        _ => respond(404, &[], ""),
    })
    .await;
    let (one, two) = (
        "northern breakwater will be rebuilt",
        "Durante l’incontro di alto profilo",
    );
    // Pages of one host start full_text_rate apart: the second article is
    // read a second after the poll, its output files long written.
    let feed = rss(&[
        ("First", &server.url("/first"), "Teaser one."),
        ("Second", &server.url("/second"), "Teaser two."),
    ]);
    let feeds = Scripted::start("127.0.0.1", move |_, _, _| {
        respond(200, &[("content-type", "application/rss+xml")], feed.clone())
    })
    .await;
    let sandbox = Sandbox::new();
    let config = sandbox.config(&format!(
        "[[source]]\nname = \"teasers\"\nurl = \"{}\"\nschedule = \"@daily\"\nfull_text = true\nfull_text_rate = \"1s\"\n\n\
         [[output]]\nname = \"all\"\npath = \"site/all\"\n",
        feeds.url("/feed.xml")
    ));
    let daemon = common::RunningDaemon::start(&config).await;
    // Wait (bounded) until both articles are in the written JSON file.
    let mut pause = std::time::Duration::from_millis(10);
    let mut file = String::new();
    for _ in 0..150 {
        file = std::fs::read_to_string(sandbox.path("site/all.json")).unwrap_or_default();
        if file.contains(one) && file.contains(two) {
            break;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(std::time::Duration::from_millis(200));
    }
    daemon.stop().await;
    assert!(
        file.contains(one) && file.contains(two),
        "both articles reach the output file:\n{file}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_its_feed_moves_to_another_link_gets_the_new_pages_article() {
    let first = news_page("Breakwater", ENGLISH, "");
    let italian = std::fs::read_to_string(repo_file("tests/fixtures/article-it.txt")).unwrap();
    let second = news_page("Alleanza", &italian, "<meta charset=\"utf-8\">");
    let server = Scripted::start("127.0.0.1", move |path, _, _| match path {
        "/v1" => respond(200, &[("content-type", "text/html")], first.clone()),
        "/v2" => respond(200, &[("content-type", "text/html")], second.clone()),
        _ => respond(404, &[], ""),
    })
    .await;
    // The same item (one guid), its link changed by the feed's second version.
    let feed = |link: String| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title><link>http://127.0.0.1/</link><description>t</description>
<item><title>Story</title><link>{link}</link><guid isPermaLink="false">story-1</guid><description>The teaser.</description></item></channel></rss>"#
        )
    };
    let (v1, v2) = (feed(server.url("/v1")), feed(server.url("/v2")));
    let feeds = Scripted::start("127.0.0.1", move |_, n, _| {
        let body = if n == 1 { v1.clone() } else { v2.clone() };
        respond(200, &[("content-type", "application/rss+xml")], body)
    })
    .await;
    let sandbox = Sandbox::new();
    let config = sandbox.config(&format!(
        "[[source]]\nname = \"moving\"\nurl = \"{}\"\nfull_text = true\nfull_text_rate = \"0s\"\n",
        feeds.url("/feed.xml")
    ));
    let cx = common::context(&config).await;
    common::poll_all(&cx, &config).await;
    cx.finish_pages().await;
    let before = content(item(&items(&cx, &config), "Story"));
    assert!(before.contains("northern breakwater will be rebuilt"), "{before}");
    common::poll_all(&cx, &config).await;
    cx.finish_pages().await;
    assert_eq!((server.hits("/v1"), server.hits("/v2")), (1, 1));
    let after = items(&cx, &config);
    assert_eq!(after.len(), 1, "still one entry: {after:#?}");
    let text = content(&after[0]);
    assert!(text.contains("Durante l’incontro di alto profilo"), "{text}");
    assert!(!text.contains("breakwater"), "{text}");
    assert_eq!(after[0]["summary"], "The teaser.");
}
