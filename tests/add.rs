//! `tributary add`: finding a feed from a page or a URL on a local server,
//! and appending it to a config file that keeps its comments and layout.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

const RSS: &str = "application/rss+xml";

fn rss(title: &str) -> String {
    format!(
        "<rss version=\"2.0\"><channel><title>{title}</title><link>https://blog.example.org/</link>\
         <item><guid>a</guid><title>Uno</title><link>https://blog.example.org/uno</link></item>\
         <item><guid>b</guid><title>Due</title><link>https://blog.example.org/due</link></item>\
         </channel></rss>"
    )
}

fn atom(title: &str) -> String {
    format!(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>{title}</title><id>urn:x</id>\
         <updated>2026-12-01T00:00:00Z</updated><entry><id>urn:x:1</id><title>Uno</title>\
         <updated>2026-12-01T00:00:00Z</updated></entry></feed>"
    )
}

fn html(head: &str) -> String {
    format!("<!doctype html><html><head><title>Il blog</title>{head}</head><body><p>ciao</p></body></html>")
}

/// A config file as a person writes one: comments, odd spacing, an output
/// after the sources. Loopback is allowed only when `allow_loopback`.
fn config_text(allow_loopback: bool) -> String {
    let guard = if allow_loopback {
        "allow_private_addresses = true   # the test servers are on 127.0.0.1\n"
    } else {
        ""
    };
    format!(
        "# My planet — edited by hand\n\
         [daemon]\n\
         database = \"t.db\"\n\
         listen   = \"127.0.0.1:0\"\n\
         {guard}\n\
         # --- sources ---\n\
         [[source]]\n\
         name = \"gia-qui\"  # already here\n\
         url = 'https://example.org/feed.xml'\n\
         tags = [ \"vecchio\" ]\n\
         \n\
         # --- outputs ---\n\
         [[output]]\n\
         name = \"tutto\"\n"
    )
}

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("tributary.toml");
    std::fs::write(&path, text).unwrap();
    path
}

async fn tributary(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_tributary"))
            .args(args)
            .env_remove("TRIBUTARY_CONFIG")
            .env_remove("STATE_DIRECTORY")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn add_args(config: &Path, url: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "add".to_string(),
        url.to_string(),
        "--config".into(),
        config.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// A site whose home page advertises its feed and its comments feed.
async fn advertising_site() -> Scripted {
    Scripted::start("127.0.0.1", |path, _, _| match path {
        "/" => respond(
            200,
            &[("content-type", "text/html; charset=utf-8")],
            html(
                "<link rel=\"stylesheet\" href=\"/s.css\">\
                 <link rel=\"alternate\" type=\"application/rss+xml\" title=\"Articoli\" href=\"/feed.xml\">\
                 <link rel=\"alternate\" type=\"application/rss+xml\" title=\"Commenti\" href=\"comments.xml\">",
            ),
        ),
        "/feed.xml" => respond(200, &[("content-type", RSS)], rss("Il Blog di Prova")),
        "/comments.xml" => respond(200, &[("content-type", RSS)], rss("Commenti al Blog")),
        _ => respond(404, &[], "not found"),
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_finds_the_feed_a_page_advertises_and_appends_it_keeping_comments() {
    let site = advertising_site().await;
    let dir = tempfile::tempdir().unwrap();
    let before = config_text(true);
    let config = write_config(dir.path(), &before);

    let out = tributary(add_args(&config, &site.url("/"), &["--tag", "blog", "--tag", "it"])).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));

    let after = std::fs::read_to_string(&config).unwrap();
    let block = format!(
        "\n# Il Blog di Prova\n[[source]]\nname = \"il-blog-di-prova\"\nurl = \"{}\"\ntags = [\"blog\", \"it\"]\n",
        site.url("/feed.xml")
    );
    let at = after.find(&block).unwrap_or_else(|| panic!("no block in:\n{after}"));
    let mut without = after.clone();
    without.replace_range(at..at + block.len(), "");
    assert_eq!(without, before, "every other byte of the file is kept");
    assert!(
        at < after.find("# --- outputs ---").unwrap(),
        "after the last source:\n{after}"
    );

    // The file still loads, with the new source last among the sources.
    let loaded = tributary::config::load(&config).unwrap();
    assert_eq!(
        loaded.sources.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["gia-qui", "il-blog-di-prova"]
    );
    assert_eq!(loaded.sources[1].tags, ["blog", "it"]);

    assert!(stdout.contains(&format!("found {}", site.url("/feed.xml"))), "{stdout}");
    assert!(stdout.contains("<link rel=\"alternate\">"), "says how: {stdout}");
    assert!(
        stdout.contains(&site.url("/comments.xml")) && stdout.contains("Commenti al Blog"),
        "lists the other advertised feed: {stdout}"
    );
    assert!(
        stdout.contains("reload"),
        "says how a running daemon picks it up: {stdout}"
    );
    assert_eq!(site.hits("/feed"), 0, "no guessing when the page advertises a feed");

    // The same feed again is refused, and the file stays as it is.
    let again = tributary(add_args(&config, &site.url("/"), &[])).await;
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stdout));
    assert!(
        text(&again.stderr).contains("already configured as source \"il-blog-di-prova\""),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_dry_run_prints_the_block_and_leaves_the_file_byte_identical() {
    let site = advertising_site().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &config_text(true));
    let before = std::fs::read(&config).unwrap();
    let modified = std::fs::metadata(&config).unwrap().modified().unwrap();

    let out = tributary(add_args(&config, &site.url("/"), &["--dry-run", "--name", "prova"])).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("dry run"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "[[source]]\nname = \"prova\"\nurl = \"{}\"\n",
            site.url("/feed.xml")
        )),
        "{stdout}"
    );
    assert_eq!(std::fs::read(&config).unwrap(), before);
    assert_eq!(std::fs::metadata(&config).unwrap().modified().unwrap(), modified);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "nothing else written: {names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_reads_a_link_header_when_the_page_has_no_link_element() {
    let site = Scripted::start("127.0.0.1", |path, _, _| match path {
        "/" => respond(
            200,
            &[
                ("content-type", "text/html"),
                ("link", "</style.css>; rel=preload; as=style"),
                (
                    "link",
                    "</atom.xml>; rel=\"alternate\"; type=\"application/atom+xml\"; title=\"Atom\"",
                ),
            ],
            html(""),
        ),
        "/atom.xml" => respond(
            200,
            &[("content-type", "application/atom+xml")],
            atom("Solo Intestazioni"),
        ),
        _ => respond(404, &[], "not found"),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &config_text(true));
    let out = tributary(add_args(&config, &site.url("/"), &[])).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("Link: header"), "{stdout}");
    let loaded = tributary::config::load(&config).unwrap();
    let added = loaded.sources.last().unwrap();
    assert_eq!(added.name, "solo-intestazioni");
    assert_eq!(added.location.full(), site.url("/atom.xml"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_tries_the_usual_paths_when_the_page_advertises_nothing() {
    let site = Scripted::start("127.0.0.1", |path, _, _| match path {
        "/blog/" => respond(200, &[("content-type", "text/html")], html("")),
        "/index.xml" => respond(200, &[("content-type", "text/xml")], rss("Hugo")),
        "/feed.xml" => respond(200, &[("content-type", "text/xml")], rss("Never reached")),
        _ => respond(404, &[], "not found"),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &config_text(true));
    let out = tributary(add_args(&config, &site.url("/blog/"), &[])).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!("found {}", site.url("/index.xml"))),
        "{stdout}"
    );
    for path in ["/feed", "/rss.xml", "/atom.xml", "/index.xml"] {
        assert_eq!(site.hits(path), 1, "{path} tried once, in order");
    }
    assert_eq!(site.hits("/feed.xml"), 0, "stops at the first feed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_exits_non_zero_with_a_clear_message_when_nothing_is_found() {
    let site = Scripted::start("127.0.0.1", |path, _, _| match path {
        "/" => respond(
            200,
            &[("content-type", "text/html")],
            html("<link rel=\"icon\" href=\"/i.png\">"),
        ),
        _ => respond(404, &[], "not found"),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let before = config_text(true);
    let config = write_config(dir.path(), &before);
    let out = tributary(add_args(&config, &site.url("/"), &[])).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(&format!("error: no feed found at {}: ", site.url("/"))),
        "{stderr}"
    );
    assert!(stderr.contains("advertises none"), "{stderr}");
    assert!(
        stderr.contains(&format!("{} (HTTP 404", site.url("/rss.xml"))),
        "{stderr}"
    );
    assert!(stderr.contains("Give the feed's own URL"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_honours_the_daemons_address_guard() {
    let site = advertising_site().await;
    let dir = tempfile::tempdir().unwrap();
    let before = config_text(false);
    let config = write_config(dir.path(), &before);
    let out = tributary(add_args(&config, &site.url("/feed.xml"), &[])).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("refused to fetch"), "{stderr}");
    assert!(
        stderr.contains("allow_private_addresses"),
        "names the key to set: {stderr}"
    );
    assert_eq!(site.hits("/feed.xml"), 0, "nothing reached the server");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_uses_a_feed_url_as_it_is_and_checks_the_name() {
    let site = advertising_site().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &config_text(true));
    let bad = tributary(add_args(&config, &site.url("/feed.xml"), &["--name", "Bad Name"])).await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("a-z, 0-9 and '-'"), "{}", text(&bad.stderr));
    let taken = tributary(add_args(&config, &site.url("/feed.xml"), &["--name", "gia-qui"])).await;
    assert_eq!(taken.status.code(), Some(2));
    assert!(
        text(&taken.stderr).contains("already a source"),
        "{}",
        text(&taken.stderr)
    );
    assert_eq!(site.hits("/feed.xml"), 0, "names are checked before fetching");

    let out = tributary(add_args(&config, &site.url("/feed.xml"), &["--name", "mio"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("the URL given"), "{}", text(&out.stdout));
    assert_eq!(site.hits("/"), 0, "a feed is used as it is");
    let loaded = tributary::config::load(&config).unwrap();
    assert_eq!(loaded.sources.last().unwrap().name, "mio");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_writes_a_credential_to_the_file_but_never_prints_it() {
    let site = advertising_site().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &config_text(true));
    let url = site.url("/feed.xml?token=s3cr3t-value");
    let out = tributary(add_args(&config, &url, &["--name", "privato"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!shown.contains("s3cr3t-value"), "{shown}");
    assert!(shown.contains("token=***"), "{shown}");
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .contains(&format!("url = \"{url}\""))
    );

    let missing = tributary(add_args(&config, &site.url("/nope?token=s3cr3t-value"), &[])).await;
    assert_eq!(missing.status.code(), Some(1));
    let shown = text(&missing.stderr);
    assert!(
        !shown.contains("s3cr3t-value") && shown.contains("token=***"),
        "{shown}"
    );
}
