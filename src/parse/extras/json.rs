//! The extras of a JSON Feed document: authors with their `url` and
//! `avatar`, attachments as enclosures, item images and links, resolved
//! against the document's URL. The JSON side of [`super`]; the XML side
//! is the streaming scan there.

use url::Url;

use super::{DocExtras, ItemExtras, add_person, push_enclosure};
use crate::model::{Enclosure, ItemMeta, Person};

/// Reads the extras of a JSON Feed document: authors with their `url` and
/// `avatar` (both `authors` and the 1.0 `author`), attachments and images.
pub(in crate::parse) fn scan_json(text: &str, document_url: Option<&Url>) -> DocExtras {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return DocExtras::default();
    };
    let resolve = |raw: &str| match document_url {
        Some(base) => base
            .join(raw.trim())
            .map(String::from)
            .unwrap_or_else(|_| raw.trim().to_owned()),
        None => raw.trim().to_owned(),
    };
    let string = |v: &serde_json::Value, key: &str| {
        v.get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let people = |v: &serde_json::Value| {
        let mut out = Vec::new();
        let list = v.get("authors").and_then(serde_json::Value::as_array);
        let one = v.get("author").filter(|a| a.is_object());
        for a in list.into_iter().flatten().chain(one) {
            let person = Person {
                name: string(a, "name"),
                email: None,
                uri: string(a, "url").map(|u| resolve(&u)),
                avatar: string(a, "avatar").map(|u| resolve(&u)),
            };
            if person.name.is_some() || person.uri.is_some() {
                add_person(&mut out, person);
            }
        }
        out
    };
    let mut out = DocExtras {
        feed_authors: people(&value),
        root: Some(("JSON Feed".to_owned(), None)),
        ..DocExtras::default()
    };
    let items = value.get("items").and_then(serde_json::Value::as_array);
    for item in items.into_iter().flatten() {
        let mut meta = ItemMeta {
            authors: people(item),
            image: string(item, "image").map(|u| resolve(&u)),
            ..ItemMeta::default()
        };
        let attachments = item.get("attachments").and_then(serde_json::Value::as_array);
        for a in attachments.into_iter().flatten() {
            let Some(url) = string(a, "url") else { continue };
            let number = |key: &str| {
                a.get(key).and_then(|n| {
                    n.as_u64()
                        .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f.round() as u64))
                })
            };
            push_enclosure(
                &mut meta.enclosures,
                Enclosure {
                    url: resolve(&url),
                    media_type: string(a, "mime_type"),
                    length: number("size_in_bytes").filter(|l| *l > 0),
                    duration: number("duration_in_seconds"),
                    title: string(a, "title"),
                },
            );
        }
        out.item_like += 1;
        out.items.push(ItemExtras {
            link: string(item, "url")
                .or_else(|| string(item, "external_url"))
                .map(|u| resolve(&u)),
            link_known: true,
            meta,
            ..ItemExtras::default()
        });
    }
    out
}
