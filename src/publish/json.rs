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
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    avatar: Option<String>,
}

/// A JSON Feed attachment.
#[derive(Serialize)]
struct Attachment {
    url: String,
    mime_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_in_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_in_seconds: Option<u64>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    date_published: String,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Author>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<Attachment>,
    #[serde(rename = "_tributary")]
    tributary: Extension,
}

/// The `_tributary` extension object of an item: every source, and what
/// JSON Feed has no member for.
#[derive(Serialize)]
struct Extension {
    sources: Vec<SourceRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comments: Option<Comments>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<PersonRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    contributors: Vec<PersonRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    categories: Vec<CategoryRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rights: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_src: Option<ContentSrc>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    thumbnails: Vec<Thumbnail>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    media_credits: Vec<CreditRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    itunes: Option<Itunes>,
}

/// One credited source of an item, as the source itself named the item.
#[derive(Serialize)]
struct SourceRef {
    source: String,
    title: String,
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

/// Where an item is discussed.
#[derive(Serialize)]
struct Comments {
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    feed_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
}

/// A person with the address JSON Feed authors cannot carry.
#[derive(Serialize)]
struct PersonRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

/// A category with its scheme and label.
#[derive(Serialize)]
struct CategoryRef {
    term: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheme: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
}

/// Content that lives elsewhere (Atom `content src`).
#[derive(Serialize)]
struct ContentSrc {
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    mime_type: Option<String>,
}

/// A thumbnail image.
#[derive(Serialize)]
struct Thumbnail {
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<u32>,
}

/// A Media RSS credit.
#[derive(Serialize)]
struct CreditRef {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheme: Option<String>,
}

/// The iTunes fields of an episode.
#[derive(Serialize)]
struct Itunes {
    #[serde(skip_serializing_if = "Option::is_none")]
    explicit: Option<bool>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    block: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<u64>,
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
            name: Some(clean(&meta.author)),
            url: None,
            avatar: None,
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
///
/// A text-only item keeps `content_text` (and a plain `summary`); its
/// attachments are its enclosures, `image` its own image or first
/// thumbnail, and `authors` carry their home page (or `mailto:` address).
fn item(entry: &StoredEntry) -> Item {
    let m = &entry.meta;
    let content_text = m.content_text.as_deref().map(clean);
    let content_html = match content_text {
        Some(_) => None,
        None => entry
            .content_html
            .as_deref()
            .or(entry.summary_html.as_deref())
            .map(clean),
    };
    // JSON Feed requires content_html or content_text; an entry with neither
    // gets an empty text body.
    let content_text = content_text.or_else(|| content_html.is_none().then(String::new));
    let summary = match (entry.summary_html.as_deref(), entry.content_html.as_deref()) {
        (Some(summary), Some(_)) => m
            .summary_text
            .as_deref()
            .map(clean)
            .or_else(|| Some(visible_text(summary, Breaks::Blocks)))
            .filter(|s| !s.is_empty()),
        _ => None,
    };
    let authors = if m.authors.is_empty() {
        entry
            .author
            .iter()
            .map(|name| Author {
                name: Some(clean(name)),
                url: None,
                avatar: None,
            })
            .collect()
    } else {
        m.authors
            .iter()
            .map(|p| Author {
                name: clean_opt(p.display()),
                url: clean_opt(p.uri.as_deref()).or_else(|| p.email.as_deref().map(|e| clean(&format!("mailto:{e}")))),
                avatar: clean_opt(p.avatar.as_deref()),
            })
            .collect()
    };
    let person = |p: &crate::model::Person| PersonRef {
        name: clean_opt(p.name.as_deref()),
        email: clean_opt(p.email.as_deref()),
        url: clean_opt(p.uri.as_deref()),
    };
    let comments = (m.comments.is_some() || m.comments_feed.is_some() || m.comment_count.is_some()).then(|| Comments {
        url: clean_opt(m.comments.as_deref()),
        feed_url: clean_opt(m.comments_feed.as_deref()),
        count: m.comment_count,
    });
    let itunes = (m.explicit.is_some() || m.block || m.duration.is_some()).then_some(Itunes {
        explicit: m.explicit,
        block: m.block,
        duration: m.duration,
    });
    Item {
        id: entry_id(&entry.uid),
        url: clean_opt(entry.link.as_deref()),
        title: clean(&entry.title),
        content_html,
        content_text,
        summary,
        image: clean_opt(m.image.as_deref().or(m.thumbnails.first().map(|t| t.url.as_str()))),
        date_published: rfc3339(entry.published),
        date_modified: rfc3339(entry.updated),
        authors,
        language: clean_opt(entry.language.as_deref()),
        tags: entry.categories.iter().map(|c| clean(c)).collect(),
        attachments: m
            .enclosures
            .iter()
            .map(|e| Attachment {
                url: clean(&e.url),
                mime_type: clean(e.media_type.as_deref().unwrap_or("application/octet-stream")),
                title: clean_opt(e.title.as_deref()),
                size_in_bytes: e.length,
                duration_in_seconds: e.duration,
            })
            .collect(),
        tributary: Extension {
            sources: entry.credits.iter().map(source_ref).collect(),
            comments,
            authors: m.authors.iter().filter(|p| p.email.is_some()).map(person).collect(),
            contributors: m.contributors.iter().map(person).collect(),
            categories: m
                .categories
                .iter()
                .filter(|c| c.scheme.is_some() || c.label.is_some())
                .map(|c| CategoryRef {
                    term: clean(&c.term),
                    scheme: clean_opt(c.scheme.as_deref()),
                    label: clean_opt(c.label.as_deref()),
                })
                .collect(),
            rights: clean_opt(m.rights.as_deref()),
            content_src: m.content_src.as_ref().map(|c| ContentSrc {
                url: clean(&c.url),
                mime_type: clean_opt(c.media_type.as_deref()),
            }),
            thumbnails: m
                .thumbnails
                .iter()
                .map(|t| Thumbnail {
                    url: clean(&t.url),
                    width: t.width,
                    height: t.height,
                })
                .collect(),
            media_credits: m
                .media_credits
                .iter()
                .map(|c| CreditRef {
                    name: clean(&c.name),
                    role: clean_opt(c.role.as_deref()),
                    scheme: clean_opt(c.scheme.as_deref()),
                })
                .collect(),
            itunes,
        },
    }
}

/// The `_tributary.sources` element of one credit.
fn source_ref(credit: &Credit) -> SourceRef {
    SourceRef {
        source: clean(&credit.source),
        title: clean(super::source_title(credit)),
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
    fn attachments_image_authors_and_plain_text_in_json() {
        use super::super::tests::podcast_entry;
        let out = render(Format::Json, &meta(), &[podcast_entry()], now());
        let v: Value = serde_json::from_str(&out).unwrap();
        let item = &v["items"][0];
        assert_eq!(item["content_text"], "Prima riga\nseconda");
        assert!(item.get("content_html").is_none());
        assert_eq!(item["summary"], "Note <brevi>");
        assert_eq!(item["image"], "https://pod.example.org/12.jpg");
        assert_eq!(
            item["attachments"],
            json!([
                {"url": "https://cdn.example.org/12.mp3", "mime_type": "audio/mpeg", "title": "MP3",
                 "size_in_bytes": 31_415_926, "duration_in_seconds": 1801},
                {"url": "https://cdn.example.org/12.ogg", "mime_type": "application/octet-stream"},
            ])
        );
        assert_eq!(
            item["authors"],
            json!([
                {"name": "Rob Roberts", "url": "https://pod.example.org/rob", "avatar": "https://pod.example.org/rob.png"},
                {"name": "Ann"},
            ])
        );
        let ext = &item["_tributary"];
        assert_eq!(
            ext["comments"],
            json!({"url": "https://pod.example.org/12#comments", "feed_url": "https://pod.example.org/12/comments.rss", "count": 7})
        );
        assert_eq!(ext["authors"][0]["email"], "rob@example.org");
        assert_eq!(ext["rights"], "CC BY-SA 4.0");
        assert_eq!(
            ext["itunes"],
            json!({"explicit": false, "block": true, "duration": 1801})
        );
        assert_eq!(ext["categories"][0]["scheme"], "https://pod.example.org/topics");
    }

    #[test]
    fn tributary_sources_exact() {
        let v = value();
        assert_eq!(
            v["items"][0]["_tributary"],
            json!({"sources": [
                {"source": "uno", "title": "Fonte uno", "id": "uno-1", "url": "https://uno.example.com/articolo?a=1&b=2"},
                {"source": "due", "title": "Fonte due", "id": "due-7", "url": "https://due.example.com/x"},
                {"source": "tre", "title": "Fonte tre", "id": "tre-3", "url": "https://uno.example.com/articolo?a=1&b=2"},
                {"source": "quattro", "title": "Fonte quattro", "id": "quattro-4"},
                {"source": "cinque", "title": "Fonte cinque", "id": "cinque-5", "url": "https://due.example.com/x"},
                {"source": "sei", "title": "Fonte sei", "id": "sei-6", "url": "https://sei.example.com/y"},
            ]})
        );
        assert_eq!(
            v["items"][1]["_tributary"],
            json!({"sources": [{"source": "locale", "title": "locale", "id": "loc-1"}]})
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
