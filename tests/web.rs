//! The web pages end to end: the river (`/`, `/outputs/NAME.html`),
//! `/status` and `/style.css`, from a daemon on loopback.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;

const PAGE_CSP: &str = "default-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'none'; style-src 'self'; img-src * data:; media-src *";

/// The shipped samples as sources, with `extra` TOML before them.
fn samples(extra: &str) -> String {
    let dir = repo_file("config/samples");
    let mut text = extra.to_string();
    for (name, file) in [
        ("cronache-esteri", "cronache-esteri.rss"),
        ("mondo-notizie", "mondo-notizie.atom"),
        ("world-briefing", "world-briefing.json"),
    ] {
        text.push_str(&source_block(name, dir.join(file).to_str().unwrap()));
        text.push_str("schedule = \"@daily\"\n\n");
    }
    text
}

/// Text as the pages escape it.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

async fn get(client: &reqwest::Client, url: String) -> reqwest::Response {
    client.get(url).send().await.unwrap()
}

#[tokio::test]
async fn the_river_shows_every_entry_of_the_feed_with_its_policy_and_validators() {
    let sb = Sandbox::new();
    let config = sb.config(&samples(""));
    let cx = context(&config).await;
    poll_all(&cx, &config).await;
    let daemon = RunningDaemon::start_with(&config, cx.store.clone()).await;
    let addr = daemon.addr;
    let client = reqwest::Client::builder().no_gzip().no_brotli().build().unwrap();

    let r = get(&client, format!("http://{addr}/")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(r.headers()["content-security-policy"], PAGE_CSP);
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let html = r.text().await.unwrap();
    assert!(html.contains(ITALIAN_TITLE), "the Italian title byte-exact:\n{html}");

    let feed: serde_json::Value = serde_json::from_str(
        &get(&client, format!("http://{addr}/feed.json"))
            .await
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let items = feed["items"].as_array().unwrap();
    assert!(!items.is_empty());
    for item in items {
        let (url, title) = (item["url"].as_str().unwrap(), item["title"].as_str().unwrap());
        let link = format!("<a href=\"{}\">{}</a>", escaped(url), escaped(title));
        assert!(html.contains(&link), "{link} is on the page");
    }
    for alternate in [
        "href=\"feed.atom\"",
        "href=\"feed.rss\"",
        "href=\"feed.json\"",
        "href=\"opml\"",
    ] {
        assert!(html.contains(alternate), "{alternate}");
    }
    assert!(html.contains("<link rel=\"alternate\" type=\"application/feed+json\""));
    assert!(html.contains("<a href=\"status\">Status</a>"));
    assert!(!html.contains("<script"));

    let again = client
        .get(format!("http://{addr}/"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let br = client
        .get(format!("http://{addr}/"))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(br.headers()["content-encoding"], "br");
    assert_eq!(br.headers()["content-security-policy"], PAGE_CSP);

    let status = get(&client, format!("http://{addr}/status")).await;
    assert_eq!(status.status(), 200);
    assert_eq!(status.headers()["content-security-policy"], PAGE_CSP);
    let status = status.text().await.unwrap();
    for name in ["cronache-esteri", "mondo-notizie", "world-briefing"] {
        assert!(status.contains(&format!("<small>{name}</small>")), "{name} on /status");
    }
    assert!(status.contains("0 of 3 sources failing"), "{status}");

    let opml = get(&client, format!("http://{addr}/opml")).await.text().await.unwrap();
    assert!(
        opml.contains("text=\"Cronache dal mondo\" title=\"Cronache dal mondo\""),
        "the blogroll shows the feed's own title:\n{opml}"
    );
    assert!(opml.contains("htmlUrl=\"https://"), "and its site:\n{opml}");

    let style = get(&client, format!("http://{addr}/style.css")).await;
    assert_eq!(style.headers()["content-type"], "text/css; charset=utf-8");
    let style_etag = style.headers()["etag"].to_str().unwrap().to_string();
    assert!(
        style_etag.starts_with('"') && !style_etag.starts_with("W/"),
        "a strong ETag"
    );
    let again = client
        .get(format!("http://{addr}/style.css"))
        .header("if-none-match", &style_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    daemon.stop().await;
}

#[tokio::test]
async fn a_named_output_has_its_own_river_and_its_feeds_point_to_it() {
    let sb = Sandbox::new();
    let config = sb.config(&samples(
        "[[output]]\nname = \"esteri\"\nsources = [\"cronache-esteri\"]\n\n",
    ));
    let cx = context(&config).await;
    poll_all(&cx, &config).await;
    let daemon = RunningDaemon::start_with(&config, cx.store.clone()).await;
    let addr = daemon.addr;
    let client = reqwest::Client::new();

    let r = get(&client, format!("http://{addr}/outputs/esteri.html")).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains(ITALIAN_TITLE));
    assert!(html.contains("href=\"esteri.atom\""));
    assert!(html.contains("href=\"../style.css\""));
    let atom = get(&client, format!("http://{addr}/outputs/esteri.atom"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        atom.contains("rel=\"alternate\" type=\"text/html\" href=\"http://127.0.0.1:8080/outputs/esteri.html\""),
        "{atom}"
    );
    let all = get(&client, format!("http://{addr}/feed.atom"))
        .await
        .text()
        .await
        .unwrap();
    assert!(all.contains("rel=\"alternate\" type=\"text/html\" href=\"http://127.0.0.1:8080/\""));
    assert_eq!(
        get(&client, format!("http://{addr}/outputs/nope.html")).await.status(),
        404
    );
    daemon.stop().await;
}

#[tokio::test]
async fn pages_off_answer_404_and_a_template_folder_replaces_the_river() {
    let sb = Sandbox::new();
    let config = sb.config(&samples("[web]\nenabled = false\n\n"));
    let daemon = RunningDaemon::start(&config).await;
    let addr = daemon.addr;
    let client = reqwest::Client::new();
    for path in ["/", "/status", "/style.css", "/outputs/all.html"] {
        assert_eq!(
            get(&client, format!("http://{addr}{path}")).await.status(),
            404,
            "{path}"
        );
    }
    daemon.stop().await;

    let sb = Sandbox::new();
    std::fs::create_dir(sb.path("look")).unwrap();
    std::fs::write(
        sb.path("look/river.html"),
        "<p>{{ title }} · {{ days | length }} days</p>",
    )
    .unwrap();
    let config = sb.config(&samples("[web]\ntemplates = \"look\"\n\n"));
    let daemon = RunningDaemon::start(&config).await;
    let addr = daemon.addr;
    let html = get(&client, format!("http://{addr}/")).await.text().await.unwrap();
    assert!(html.starts_with("<p>Test · "), "{html}");
    let status = get(&client, format!("http://{addr}/status"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        status.contains("<small>world-briefing</small>"),
        "the built-in status page stays"
    );
    daemon.stop().await;

    // A theme that does not compile is logged, and the built-in pages serve.
    std::fs::write(sb.path("look/river.html"), "{% for %}").unwrap();
    let daemon = RunningDaemon::start(&config).await;
    let r = get(&client, format!("http://{}/", daemon.addr)).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("<a href=\"status\">Status</a>"));
    daemon.stop().await;
}
