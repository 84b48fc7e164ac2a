//! Findings of the security review that show end to end: what the merged
//! feeds, exports, status routes and logs say about a source whose URL
//! carries credentials, a channel title holding markup, and an error about a
//! document holding a secret. Everything on 127.0.0.1.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::process::Command;

use common::*;

/// Every secret the tests put into a source's address or document.
const SECRETS: &[&str] = &["feeduser", "SECRET"];

/// The routes the daemon serves for these configs (but the stylesheet):
/// feeds, OPML, operator pages, metrics and the web pages.
const SERVED_ROUTES: [&str; 9] = [
    "/feed.atom",
    "/feed.rss",
    "/feed.json",
    "/opml",
    "/sources",
    "/metrics",
    "/",
    "/status",
    "/healthz",
];

/// What every command that prints sources, entries or settings prints for
/// `config`, named by its arguments.
async fn command_outputs(config: &tributary::config::Config) -> Vec<(String, String)> {
    let mut out = vec![];
    for args in [
        &["export", "--format", "atom"][..],
        &["export", "--format", "rss"],
        &["export", "--format", "json"],
        &["export-opml"],
        &["sources"],
        &["check"],
    ] {
        let text = tokio::task::spawn_blocking({
            let config = config.clone();
            move || run(&config, args)
        })
        .await
        .unwrap();
        out.push((args.join(" "), text));
    }
    out
}

/// The body of every route of [`SERVED_ROUTES`] from `daemon`.
async fn served_pages(daemon: &RunningDaemon) -> Vec<(&'static str, String)> {
    let client = reqwest::Client::new();
    let mut out = vec![];
    for route in SERVED_ROUTES {
        let body = get_text(&client, &format!("http://{}{route}", daemon.addr)).await;
        out.push((route, body));
    }
    out
}

fn assert_clean(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} shows {s:?}:\n{text}");
    }
}

fn atom_feed() -> String {
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>
<feed xmlns=\"http://www.w3.org/2005/Atom\">
  <id>urn:uuid:0b0e7a1c-private-feed</id>
  <title type=\"html\">&lt;script&gt;alert(1)&lt;/script&gt;Notizie &lt;b&gt;riservate&lt;/b&gt;</title>
  <link rel=\"alternate\" href=\"https://riservate.example.it/\"/>
  <updated>2026-12-01T10:00:00Z</updated>
  <entry>
    <id>urn:uuid:entry-1</id>
    <title>Una notizia per gli abbonati</title>
    <link href=\"https://riservate.example.it/2026/12/notizia\"/>
    <link rel=\"enclosure\" type=\"audio/mpeg\" href=\"media/notizia.mp3\"/>
    <link rel=\"replies\" type=\"text/html\" href=\"#commenti\"/>
    <updated>2026-12-01T10:00:00Z</updated>
    <content type=\"html\" xml:base=\"?pagina=2\">&lt;p&gt;Testo della notizia.&lt;img src=\"img/foto.png\"&gt;&lt;/p&gt;</content>
  </entry>
</feed>"
        .to_string()
}

/// A source whose URL carries userinfo and a token, one whose JSON Feed
/// breaks with a secret where its items should be, and the config for both.
async fn leaky_setup() -> (FeedServer, Sandbox, tributary::config::Config, String) {
    let server = FeedServer::start().await;
    server.set("/private.atom", Route::feed("application/atom+xml", atom_feed()));
    server.set(
        "/broken.json",
        Route::feed(
            "application/feed+json",
            r#"{"version": "https://jsonfeed.org/version/1.1", "title": "x", "items": "SECRET-TOKEN-456"}"#,
        ),
    );
    let port = server
        .url("/")
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches('/')
        .to_string();
    let leaky = format!("http://feeduser:pa55-SECRET-1@127.0.0.1:{port}/private.atom?token=SECRET-2&lang=it");
    let sb = Sandbox::new();
    let config = sb.config(&format!(
        "{}{}",
        source_block("riservate", &leaky),
        source_block("rotto", &server.url("/broken.json"))
    ));
    (server, sb, config, port)
}

fn tributary(config: &tributary::config::Config) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tributary"));
    c.env_remove("TRIBUTARY_CONFIG")
        .env("RUST_LOG", "tributary=debug")
        .arg("--config")
        .arg(&config.path);
    c
}

fn run(config: &tributary::config::Config, args: &[&str]) -> String {
    let out = tributary(config).args(args).output().unwrap();
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_in_a_source_url_are_never_published_logged_or_served() {
    let (server, _sb, config, port) = leaky_setup().await;

    // The poll, with debug logs: the span's url= field and the errors.
    let poll = tokio::task::spawn_blocking({
        let config = config.clone();
        move || run(&config, &["poll"])
    })
    .await
    .unwrap();
    assert_clean("poll (table and logs)", &poll);
    assert!(poll.contains("***"), "secrets are shown as ***: {poll}");
    // The credentials still reached the server: only their display is hidden.
    let seen = server.seen("/private.atom");
    assert_eq!(seen.len(), 1);
    assert!(seen[0].headers.contains_key("authorization"));

    for (what, text) in command_outputs(&config).await {
        assert_clean(&what, &text);
    }

    // In the feeds a source is named by its own id and site link; the
    // address it is fetched from appears only without its credentials.
    let atom = run(&config, &["export", "--format", "atom"]);
    assert!(atom.contains("<id>urn:uuid:0b0e7a1c-private-feed</id>"), "{atom}");
    // The item's relative URLs resolve against the address without its
    // credentials (they would otherwise carry them along).
    for resolved in [
        format!("href=\"http://127.0.0.1:{port}/media/notizia.mp3\""),
        format!("href=\"http://127.0.0.1:{port}/private.atom?lang=it#commenti\""),
        format!("src=\"http://127.0.0.1:{port}/img/foto.png\""),
    ] {
        assert!(atom.contains(&resolved), "{resolved} in {atom}");
    }
    assert!(
        atom.contains(&format!("href=\"http://127.0.0.1:{port}/private.atom?lang=it\"")),
        "{atom}"
    );
    let rss = run(&config, &["export", "--format", "rss"]);
    assert!(
        rss.contains(&format!(
            "<source url=\"http://127.0.0.1:{port}/private.atom?lang=it\">"
        )),
        "{rss}"
    );
    let opml = run(&config, &["export-opml"]);
    assert!(
        opml.contains(&format!("xmlUrl=\"http://127.0.0.1:{port}/private.atom?lang=it\"")),
        "{opml}"
    );

    // The daemon's routes.
    let daemon = RunningDaemon::start(&config).await;
    for (route, body) in served_pages(&daemon).await {
        assert_clean(route, &body);
    }
    let client = reqwest::Client::new();
    let sources = get_text(&client, &format!("http://{}/sources", daemon.addr)).await;
    assert!(sources.contains("***"), "{sources}");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn markup_in_a_channel_title_is_published_as_plain_text() {
    let (_server, _sb, config, _) = leaky_setup().await;
    tokio::task::spawn_blocking({
        let config = config.clone();
        move || run(&config, &["poll", "--source", "riservate"])
    })
    .await
    .unwrap();
    for format in ["atom", "rss", "json"] {
        let out = run(&config, &["export", "--format", format]);
        if format != "json" {
            // JSON Feed has no element for a source's title.
            assert!(out.contains("Notizie riservate"), "{format}: {out}");
        }
        for bad in ["<script", "&lt;script", "&lt;b", "<b>"] {
            assert!(!out.contains(bad), "{format} carries {bad:?}: {out}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn error_messages_describe_a_broken_document_without_echoing_it() {
    let (_server, _sb, config, _) = leaky_setup().await;
    let poll = tokio::task::spawn_blocking({
        let config = config.clone();
        move || run(&config, &["poll", "--source", "rotto"])
    })
    .await
    .unwrap();
    assert_clean("poll of a broken JSON Feed", &poll);
    let store = tributary::daemon::open_store(&config).await.unwrap();
    let error = store
        .sources()
        .unwrap()
        .into_iter()
        .find(|s| s.name == "rotto")
        .and_then(|s| s.last_error)
        .unwrap();
    assert!(error.contains("line 1 column"), "{error}");
    assert_clean("last_error", &error);
}

#[tokio::test(flavor = "multi_thread")]
async fn request_option_secrets_are_never_published_logged_or_served() {
    const OPTION_SECRETS: &[&str] = &["optuser", "OPTSECRET"];
    let server = FeedServer::start().await;
    server.set("/private.atom", Route::feed("application/atom+xml", atom_feed()));
    let options = "username = \"optuser\"\npassword = \"OPTSECRET-3\"\nheaders = { \"X-Api-Key\" = \"OPTSECRET-4\", Cookie = \"s=OPTSECRET-5\" }\n\n";
    let sb = Sandbox::new();
    let config = sb.config(&format!(
        "{}{options}{}{options}",
        source_block("riservate", &server.url("/private.atom")),
        // A failing source: its error is logged, stored and served.
        source_block("sparita", &server.url("/missing.atom")),
    ));
    let clean = |what: &str, text: &str| {
        for s in OPTION_SECRETS {
            assert!(!text.contains(s), "{what} shows {s:?}:\n{text}");
        }
    };
    let poll = tokio::task::spawn_blocking({
        let config = config.clone();
        move || run(&config, &["poll"])
    })
    .await
    .unwrap();
    clean("poll (table and logs)", &poll);
    // The options reached the server.
    let seen = server.seen("/private.atom");
    assert_eq!(seen.len(), 1, "{poll}");
    assert_eq!(seen[0].headers["x-api-key"], "OPTSECRET-4");
    assert!(seen[0].headers.contains_key("authorization"));
    for (what, text) in command_outputs(&config).await {
        clean(&what, &text);
    }
    let daemon = RunningDaemon::start(&config).await;
    for (route, body) in served_pages(&daemon).await {
        clean(route, &body);
    }
    daemon.stop().await;
}
