//! The JSON Feed 1.1 writer of the merged feeds.
//!
//! It owns the JSON shape of a merged feed — the top-level object, its items
//! and the `_tributary` extension object that credits every source of an
//! item — as serializable structs. An item's plain-text `summary` is the
//! visible text of its sanitized HTML summary ([`visible_text`]).

use serde::Serialize;

use super::{FeedMeta, entry_id, rfc3339, strip_xml_illegal};
use crate::html::text::{Breaks, visible_text};
use crate::model::{Credit, StoredEntry};

/// The JSON Feed version IRI.
const VERSION: &str = "https://jsonfeed.org/version/1.1";

/// A JSON Feed document.
#[derive(Serialize)]
struct Feed {
    version: &'static str,
    title: String,
    home_page_url: String,
    feed_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    authors: Vec<Author>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<Hub>,
    items: Vec<Item>,
}

/// A JSON Feed author object.
#[derive(Serialize)]
struct Author {
    name: String,
}

/// A JSON Feed hub object.
#[derive(Serialize)]
struct Hub {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

/// A JSON Feed item.
#[derive(Serialize)]
struct Item {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    date_published: String,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Author>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(rename = "_tributary")]
    tributary: Extension,
}

/// The `_tributary` extension object of an item.
#[derive(Serialize)]
struct Extension {
    sources: Vec<SourceRef>,
}

/// One credited source of an item, as the source itself named the item.
#[derive(Serialize)]
struct SourceRef {
    source: String,
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

/// A string with XML-illegal control characters removed, owned.
fn clean(s: &str) -> String {
    strip_xml_illegal(s).into_owned()
}

/// [`clean`] over an optional string.
fn clean_opt(s: Option<&str>) -> Option<String> {
    s.map(clean)
}

/// Renders the JSON Feed document for `entries`, compact.
pub(super) fn render(meta: &FeedMeta, entries: &[StoredEntry]) -> String {
    let feed = Feed {
        version: VERSION,
        title: clean(&meta.title),
        home_page_url: clean(&meta.site_url),
        feed_url: clean(&meta.self_url),
        description: clean_opt(meta.description.as_deref()),
        authors: vec![Author {
            name: clean(&meta.author),
        }],
        language: clean_opt(meta.language.as_deref()),
        next_url: clean_opt(meta.next_url.as_deref()),
        hubs: meta
            .hub_url
            .iter()
            .map(|url| Hub {
                kind: "WebSub",
                url: clean(url),
            })
            .collect(),
        items: entries.iter().map(item).collect(),
    };
    // Serializing plain structs of strings and vectors cannot fail (no maps
    // with non-string keys, no failing `Serialize` impls); the fallback is an
    // empty but valid feed object rather than a panic.
    serde_json::to_string(&feed).unwrap_or_else(|_| format!("{{\"version\":\"{VERSION}\"}}"))
}

/// The JSON Feed item of one stored entry.
fn item(entry: &StoredEntry) -> Item {
    let content_html = entry
        .content_html
        .as_deref()
        .or(entry.summary_html.as_deref())
        .map(clean);
    // JSON Feed requires content_html or content_text; an entry with neither
    // gets an empty text body.
    let content_text = content_html.is_none().then(String::new);
    let summary = match (entry.summary_html.as_deref(), entry.content_html.as_deref()) {
        (Some(summary), Some(_)) => Some(visible_text(summary, Breaks::Blocks)).filter(|s| !s.is_empty()),
        _ => None,
    };
    Item {
        id: entry_id(&entry.uid),
        url: clean_opt(entry.link.as_deref()),
        title: clean(&entry.title),
        content_html,
        content_text,
        summary,
        date_published: rfc3339(entry.published),
        date_modified: rfc3339(entry.updated),
        authors: entry.author.iter().map(|name| Author { name: clean(name) }).collect(),
        language: clean_opt(entry.language.as_deref()),
        tags: entry.categories.iter().map(|c| clean(c)).collect(),
        tributary: Extension {
            sources: entry.credits.iter().map(source_ref).collect(),
        },
    }
}

/// The `_tributary.sources` element of one credit.
fn source_ref(credit: &Credit) -> SourceRef {
    SourceRef {
        source: clean(&credit.source),
        id: clean(&credit.item_id),
        url: clean_opt(credit.item_link.as_deref()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::{ITALIAN_TITLE, bare_entry, entries, meta, now, rich_entry, summary_entry};
    use super::super::{Format, render};
    use super::*;
    use serde_json::{Value, json};

    fn json_out() -> String {
        render(Format::Json, &meta(), &entries(), now())
    }

    fn value() -> Value {
        serde_json::from_str(&json_out()).unwrap()
    }

    #[test]
    fn parses_back_with_feed_rs() {
        let out = json_out();
        let feed = feed_rs::parser::parse(out.as_bytes()).unwrap();
        assert_eq!(feed.feed_type, feed_rs::model::FeedType::JSON);
        assert_eq!(feed.title.unwrap().content, meta().title);
        assert_eq!(feed.entries.len(), 3);
        let e = &feed.entries[0];
        let rich = rich_entry();
        assert_eq!(e.id, "urn:tributary:entry:0123abcd");
        assert_eq!(e.title.as_ref().unwrap().content, ITALIAN_TITLE);
        assert_eq!(e.links[0].href, rich.link.clone().unwrap());
        assert_eq!(
            e.content.as_ref().unwrap().body.as_deref(),
            Some("<p>Contenuto &amp; più: a &lt; b, ]]&gt; fine</p><p>Due</p>")
        );
        assert_eq!(e.summary.as_ref().unwrap().content, "Riassunto “breve” & chiaro");
        assert_eq!(e.published, Some(rich.published));
        assert_eq!(e.updated, Some(rich.updated));
        assert_eq!(e.authors[0].name.as_deref(), Some("Mario Rossi"));
        let terms: Vec<&str> = e.categories.iter().map(|c| c.term.as_str()).collect();
        assert_eq!(terms, vec!["Politica", "Esteri & Mondo"]);
        assert_eq!(feed.entries[1].id, "urn:tributary:entry:ffee");
        assert_eq!(feed.entries[2].id, "urn:tributary:entry:5a5a");
    }

    #[test]
    fn top_level_shape() {
        let v = value();
        assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
        assert_eq!(v["title"], meta().title.as_str());
        assert_eq!(v["home_page_url"], "http://localhost:8080/");
        assert_eq!(v["feed_url"], "http://localhost:8080/feeds/all.atom?page=2");
        assert_eq!(v["description"], "Il meglio di tutte le fonti");
        assert_eq!(v["authors"], json!([{"name": "Tributary"}]));
        assert_eq!(v["language"], "it");
        assert_eq!(v["next_url"], "http://localhost:8080/feeds/all.atom?page=3");
        assert_eq!(
            v["hubs"],
            json!([{"type": "WebSub", "url": "https://hub.example.org/"}])
        );
        assert_eq!(v["items"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn none_fields_are_omitted() {
        let mut m = meta();
        m.description = None;
        m.language = None;
        m.next_url = None;
        m.hub_url = None;
        let out = render(Format::Json, &m, &[bare_entry()], now());
        let v: Value = serde_json::from_str(&out).unwrap();
        let top = v.as_object().unwrap();
        for key in ["description", "language", "next_url", "hubs"] {
            assert!(!top.contains_key(key), "{key}");
        }
        let item = v["items"][0].as_object().unwrap();
        for key in ["url", "content_html", "summary", "authors", "language", "tags"] {
            assert!(!item.contains_key(key), "{key}");
        }
        assert_eq!(item["content_text"], "");
        assert_eq!(item["title"], "Nota senza collegamento");
        assert_eq!(item["date_published"], "2099-01-01T00:00:00Z");
        assert_eq!(item["date_modified"], "2099-01-02T00:00:00Z");
        assert!(!out.contains("null"));
    }

    #[test]
    fn tributary_sources_exact() {
        let v = value();
        assert_eq!(
            v["items"][0]["_tributary"],
            json!({"sources": [
                {"source": "uno", "id": "uno-1", "url": "https://uno.example.com/articolo?a=1&b=2"},
                {"source": "due", "id": "due-7", "url": "https://due.example.com/x"},
                {"source": "tre", "id": "tre-3", "url": "https://uno.example.com/articolo?a=1&b=2"},
                {"source": "quattro", "id": "quattro-4"},
                {"source": "cinque", "id": "cinque-5", "url": "https://due.example.com/x"},
                {"source": "sei", "id": "sei-6", "url": "https://sei.example.com/y"},
            ]})
        );
        assert_eq!(
            v["items"][1]["_tributary"],
            json!({"sources": [{"source": "locale", "id": "loc-1"}]})
        );
    }

    #[test]
    fn item_fields() {
        let v = value();
        let rich = &v["items"][0];
        assert_eq!(rich["id"], "urn:tributary:entry:0123abcd");
        assert_eq!(rich["url"], "https://uno.example.com/articolo?a=1&b=2");
        assert_eq!(rich["title"], ITALIAN_TITLE);
        assert_eq!(rich["summary"], "Riassunto “breve” & chiaro");
        assert_eq!(rich["date_published"], "2026-11-30T09:00:00Z");
        assert_eq!(rich["date_modified"], "2026-12-01T10:00:00Z");
        assert_eq!(rich["authors"], json!([{"name": "Mario Rossi"}]));
        assert_eq!(rich["language"], "it");
        assert_eq!(rich["tags"], json!(["Politica", "Esteri & Mondo"]));
        assert!(rich.get("content_text").is_none());

        let only = &v["items"][2];
        assert_eq!(only["content_html"], summary_entry().summary_html.unwrap().as_str());
        assert!(only.get("summary").is_none());
    }

    #[test]
    fn text_is_raw_utf8_without_controls() {
        let out = json_out();
        assert!(out.contains(ITALIAN_TITLE));
        assert!(out.contains("Riassunto “breve”"));
        assert!(!out.contains("\\u"));
        assert!(!out.contains('\u{1}'));
        assert!(!out.contains('\u{FFFE}'));
    }

    #[test]
    fn summary_is_the_visible_text_of_the_html_summary() {
        let mut entry = summary_entry();
        entry.summary_html = Some("<p>a</p><p>b &amp; <b>c</b>d&nbsp;e\u{1}</p>".into());
        entry.content_html = Some("<p>full</p>".into());
        assert_eq!(item(&entry).summary.as_deref(), Some("a b & cd\u{A0}e"));
        entry.summary_html = Some("<p> </p>".into());
        assert_eq!(item(&entry).summary, None);
    }
}
