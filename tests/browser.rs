//! The web pages in a real browser: headless Chromium (Debian's
//! `chromium`, installed by `scripts/test`) renders the river and the
//! status page from a daemon on loopback; its DOM after load is checked,
//! and screenshots at a desktop's and a phone's width show a drawn page. Skipped, saying so, where no Chromium is installed.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;

/// The Chromium binary, if one is installed.
fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH")?
                .to_str()?
                .split(':')
                .map(|dir| PathBuf::from(dir).join(name))
                .find(|p| p.is_file())
        })
}

/// Headless Chromium with a profile of its own in `profile`, quiet: no
/// sandbox (tests may run as root), no GPU, no background traffic.
fn headless(browser: &std::path::Path, profile: &std::path::Path) -> Command {
    let mut c = Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// The DOM of `url` after load, as headless Chromium serializes it.
async fn dump_dom(browser: PathBuf, url: String) -> String {
    tokio::task::spawn_blocking(move || {
        let profile = tempfile::tempdir().unwrap();
        let out = headless(&browser, profile.path())
            .arg("--dump-dom")
            .arg(&url)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "chromium {url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    })
    .await
    .unwrap()
}

/// A PNG screenshot of `url` in a `width`×`height` window, by headless
/// Chromium: the file's bytes.
async fn screenshot(browser: PathBuf, url: String, width: u32, height: u32) -> Vec<u8> {
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("shot.png");
        let out = headless(&browser, &dir.path().join("profile"))
            .arg("--hide-scrollbars")
            .arg(format!("--window-size={width},{height}"))
            .arg(format!("--screenshot={}", png.display()))
            .arg(&url)
            .output()
            .unwrap();
        assert!(
            out.status.success() && png.is_file(),
            "chromium --screenshot {url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read(&png).unwrap()
    })
    .await
    .unwrap()
}

/// The width and height a PNG's header gives.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG file");
    assert_eq!(&png[12..16], b"IHDR");
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

/// Text as a serialized DOM writes it in a text node…
fn text_node(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\u{a0}', "&nbsp;")
}

/// …and in a double-quoted attribute.
fn attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('\u{a0}', "&nbsp;")
}

/// An item whose content smuggles script in every way the sanitizer must stop.
const HOSTILE_RSS: &str = r#"<rss version="2.0"><channel><title>Ostile</title><link>https://ostile.example.it/</link>
<item><guid>h1</guid><title>Pagina ostile</title><link>https://ostile.example.it/1</link>
<description><![CDATA[<p id="smuggled">testo</p><script>document.title = "pwned"; document.body.setAttribute("data-pwned", "1");</script><img src="x" onerror="document.title = 'pwned'"><a href="javascript:document.title='pwned'">x</a>]]></description>
</item></channel></rss>"#;

#[tokio::test]
async fn chromium_shows_every_entry_and_source_and_runs_no_script() {
    let Some(browser) = chromium() else {
        report_skip(
            "browser",
            "no chromium on PATH (scripts/test installs Debian's chromium)",
        );
        return;
    };
    let server = FeedServer::start().await;
    server.set("/ostile.xml", Route::feed("application/rss+xml", HOSTILE_RSS));
    let sb = Sandbox::new();
    let dir = repo_file("config/samples");
    let mut sources = String::new();
    for (name, file) in [
        ("cronache-esteri", "cronache-esteri.rss"),
        ("mondo-notizie", "mondo-notizie.atom"),
        ("world-briefing", "world-briefing.json"),
    ] {
        sources.push_str(&source_block(name, dir.join(file).to_str().unwrap()));
    }
    sources.push_str(&source_block("ostile", &server.url("/ostile.xml")));
    let config = sb.config(&sources);
    let cx = context(&config).await;
    poll_all(&cx, &config).await;
    let daemon = RunningDaemon::start_with(&config, cx.store.clone()).await;
    let addr = daemon.addr;

    let dom = dump_dom(browser.clone(), format!("http://{addr}/")).await;
    assert!(
        dom.contains(&text_node(ITALIAN_TITLE)),
        "the Italian title byte-exact:\n{dom}"
    );
    let feed: serde_json::Value = serde_json::from_str(
        &reqwest::get(format!("http://{addr}/feed.json"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), cx.store.entry_count().unwrap() as usize);
    for item in items {
        let (url, title) = (item["url"].as_str().unwrap(), item["title"].as_str().unwrap());
        let link = format!("<a href=\"{}\">{}</a>", attribute(url), text_node(title));
        assert!(dom.contains(&link), "{link} is in the rendered page");
    }
    // The sanitizer held: the paragraph is there, nothing that runs is.
    assert!(dom.contains("<div class=\"content\"><p>testo</p>"), "{dom}");
    assert!(!dom.contains("onerror") && !dom.contains("javascript:"), "{dom}");
    assert!(!dom.contains("pwned"), "no smuggled script survived:\n{dom}");
    assert!(!dom.contains("<script"), "{dom}");
    assert!(dom.contains("<title>Test</title>"));

    let status = dump_dom(browser.clone(), format!("http://{addr}/status")).await;
    for name in ["cronache-esteri", "mondo-notizie", "world-briefing", "ostile"] {
        assert!(
            status.contains(&format!("<small>{name}</small>")),
            "{name} on /status:\n{status}"
        );
    }

    // What a person sees: the pages drawn at a desktop's and a phone's
    // width, each far from the blank page a broken stylesheet, template or
    // policy would leave (a blank page compresses to almost nothing).
    for (width, height) in [(1280, 2000), (390, 1600)] {
        let blank = screenshot(browser.clone(), "about:blank".into(), width, height).await;
        assert_eq!(png_size(&blank), (width, height));
        for page in ["/", "/status"] {
            let shot = screenshot(browser.clone(), format!("http://{addr}{page}"), width, height).await;
            assert_eq!(png_size(&shot), (width, height), "{page} at {width}x{height}");
            assert!(
                shot.len() > 4 * blank.len(),
                "{page} at {width}x{height} draws the page: {} bytes against {} for a blank one",
                shot.len(),
                blank.len()
            );
        }
    }
    daemon.stop().await;

    // The policy holds on its own: a theme's inline script does not run either.
    std::fs::create_dir(sb.path("look")).unwrap();
    std::fs::write(
        sb.path("look/river.html"),
        "<!DOCTYPE html><html><head><title>theme</title></head><body><p id=\"p\">static</p>\
         <script>document.title = \"ran\"; document.getElementById(\"p\").textContent = \"ran\";</script></body></html>",
    )
    .unwrap();
    let text = std::fs::read_to_string(sb.path("tributary.toml")).unwrap();
    std::fs::write(
        sb.path("tributary.toml"),
        format!("[web]\ntemplates = \"look\"\n\n{text}"),
    )
    .unwrap();
    let themed = tributary::config::load(&sb.path("tributary.toml")).unwrap();
    let daemon = RunningDaemon::start_with(&themed, cx.store.clone()).await;
    let dom = dump_dom(browser, format!("http://{}/", daemon.addr)).await;
    assert!(dom.contains("<title>theme</title>"), "{dom}");
    assert!(
        dom.contains("<p id=\"p\">static</p>"),
        "the CSP stopped the inline script:\n{dom}"
    );
    daemon.stop().await;
}
