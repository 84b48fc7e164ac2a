//! Cleaning what an item says beyond the basics ([`ItemMeta`]): the same
//! hygiene as the entry's own fields, applied to people, media, comments,
//! categories and rights.
//!
//! Every URL is made absolute (against the item's link, else the feed's
//! address) and kept only when it is `http` or `https`; names, titles,
//! labels and rights become plain text; an e-mail address is kept only
//! when it looks like one; media types only when they are `type/subtype`;
//! lists are capped. The plain text of a text-only content or summary
//! follows the field it belongs to after normalization moved or dropped
//! fields.

use std::hash::Hasher;

use siphasher::sip128::{Hasher128, SipHasher13};
use url::Url;

use super::{clean_text, plain_text, resolve_http, truncate_bytes, truncate_chars_in_place};
use crate::model::{Category, ContentSource, Enclosure, Image, ItemMeta, MediaCredit, Person};

/// Most people kept per list (authors, contributors).
const MAX_PEOPLE: usize = 32;
/// Most enclosures, thumbnails and media credits kept.
const MAX_MEDIA: usize = 32;
/// Most categories kept (as for the entry's categories).
const MAX_CATEGORIES: usize = 64;
/// Longest name, title or label kept, in chars.
const MAX_NAME_CHARS: usize = 200;
/// Longest rights statement kept, in chars.
const MAX_RIGHTS_CHARS: usize = 2_000;
/// Longest URL kept, in bytes.
const MAX_URL_BYTES: usize = 4_096;
/// Longest plain-text content kept, in bytes (as for HTML content).
const MAX_TEXT_BYTES: usize = 4 * 1024 * 1024;

/// Where the entry's text fields came from, so the plain text follows them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fields {
    /// The entry shows content.
    pub content: bool,
    /// That content is the item's summary (it had no content of its own).
    pub content_from_summary: bool,
    /// The entry shows a summary besides its content.
    pub summary: bool,
}

/// `meta` cleaned; relative URLs resolve against `base`.
pub(super) fn clean(meta: &ItemMeta, base: Option<&Url>, fields: Fields) -> ItemMeta {
    let url = |raw: &str| -> Option<String> {
        let raw = truncate_bytes(raw.trim(), MAX_URL_BYTES);
        resolve_http(&clean_text(raw), base).map(String::from)
    };
    let name = |raw: &str| -> Option<String> {
        let mut text = plain_text(truncate_bytes(raw, 16 * 1024));
        truncate_chars_in_place(&mut text, MAX_NAME_CHARS);
        (!text.is_empty()).then_some(text)
    };
    let people = |list: &[Person]| -> Vec<Person> {
        let mut out: Vec<Person> = Vec::new();
        for p in list {
            let person = Person {
                name: p.name.as_deref().and_then(name),
                email: p.email.as_deref().and_then(email),
                uri: p.uri.as_deref().and_then(url),
                avatar: p.avatar.as_deref().and_then(url),
            };
            if (person.name.is_some() || person.email.is_some()) && !out.contains(&person) {
                out.push(person);
            }
            if out.len() == MAX_PEOPLE {
                break;
            }
        }
        out
    };
    let mut enclosures: Vec<Enclosure> = Vec::new();
    for e in &meta.enclosures {
        let Some(u) = url(&e.url) else { continue };
        if enclosures.iter().any(|x| x.url == u) {
            continue;
        }
        enclosures.push(Enclosure {
            url: u,
            media_type: e.media_type.as_deref().and_then(media_type),
            length: e.length.filter(|l| *l > 0),
            duration: e.duration,
            title: e.title.as_deref().and_then(name),
        });
        if enclosures.len() == MAX_MEDIA {
            break;
        }
    }
    let mut thumbnails: Vec<Image> = Vec::new();
    for t in &meta.thumbnails {
        let Some(u) = url(&t.url) else { continue };
        if !thumbnails.iter().any(|x| x.url == u) && thumbnails.len() < MAX_MEDIA {
            thumbnails.push(Image {
                url: u,
                width: t.width.filter(|w| *w > 0),
                height: t.height.filter(|h| *h > 0),
            });
        }
    }
    let mut categories: Vec<Category> = Vec::new();
    for c in &meta.categories {
        let Some(term) = name(&c.term) else { continue };
        let category = Category {
            term,
            scheme: c
                .scheme
                .as_deref()
                .map(|s| clean_text(truncate_bytes(s.trim(), MAX_URL_BYTES)))
                .filter(|s| !s.is_empty()),
            label: c.label.as_deref().and_then(name),
        };
        if !categories.contains(&category) && categories.len() < MAX_CATEGORIES {
            categories.push(category);
        }
    }
    let mut media_credits: Vec<MediaCredit> = Vec::new();
    for c in &meta.media_credits {
        let Some(who) = name(&c.name) else { continue };
        let credit = MediaCredit {
            name: who,
            role: c.role.as_deref().and_then(name),
            scheme: c.scheme.as_deref().and_then(name),
        };
        if !media_credits.contains(&credit) && media_credits.len() < MAX_MEDIA {
            media_credits.push(credit);
        }
    }
    let text = |t: &Option<String>| {
        t.as_deref()
            .map(|t| clean_text(truncate_bytes(t.trim(), MAX_TEXT_BYTES)))
            .filter(|t| !t.trim().is_empty())
    };
    let (content_text, summary_text) = match (fields.content, fields.content_from_summary) {
        (false, _) => (None, None),
        (true, true) => (text(&meta.summary_text), None),
        (true, false) => (
            text(&meta.content_text),
            fields.summary.then(|| text(&meta.summary_text)).flatten(),
        ),
    };
    let mut rights = meta.rights.as_deref().map(plain_text).unwrap_or_default();
    truncate_chars_in_place(&mut rights, MAX_RIGHTS_CHARS);
    ItemMeta {
        authors: people(&meta.authors),
        contributors: people(&meta.contributors),
        enclosures,
        image: meta.image.as_deref().and_then(url),
        thumbnails,
        categories,
        comments: meta.comments.as_deref().and_then(url),
        comments_feed: meta.comments_feed.as_deref().and_then(url),
        comment_count: meta.comment_count,
        rights: (!rights.is_empty()).then_some(rights),
        content_src: meta.content_src.as_ref().and_then(|c| {
            Some(ContentSource {
                url: url(&c.url)?,
                media_type: c.media_type.as_deref().and_then(media_type),
            })
        }),
        content_text,
        summary_text,
        explicit: meta.explicit,
        block: meta.block,
        duration: meta.duration,
        media_credits,
    }
}

/// An e-mail address when `raw` looks like one: one `@` with text on both
/// sides, a dot in the domain, no spaces or brackets.
fn email(raw: &str) -> Option<String> {
    let raw = raw.trim().trim_start_matches("mailto:");
    let (local, domain) = raw.split_once('@')?;
    let fine = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !matches!(c, '<' | '>' | '(' | ')' | '"' | '@' | ','))
    };
    (raw.len() <= 254 && fine(local) && fine(domain) && domain.contains('.')).then(|| raw.to_owned())
}

/// A media type when `raw` is `type/subtype` (parameters dropped), lower case.
fn media_type(raw: &str) -> Option<String> {
    let essence = raw.split(';').next()?.trim().to_ascii_lowercase();
    let (kind, sub) = essence.split_once('/')?;
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    (token(kind) && token(sub)).then_some(essence)
}

/// `hash` extended with `meta`, so that an item whose media, people or
/// comments change counts as edited. An item with nothing beyond the basics
/// keeps the hash it always had.
pub(super) fn extend_hash(hash: String, meta: &ItemMeta) -> String {
    if meta.is_empty() {
        return hash;
    }
    let mut hasher = SipHasher13::new_with_keys(0x7472_6962_7574_6172, 0x792d_6d65_7461_6461);
    hasher.write(hash.as_bytes());
    hasher.write(serde_json::to_string(meta).unwrap_or_default().as_bytes());
    let h = hasher.finish128();
    format!("{:016x}{:016x}", h.h1, h.h2)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fields() -> Fields {
        Fields {
            content: true,
            content_from_summary: false,
            summary: false,
        }
    }

    #[test]
    fn urls_become_absolute_http_and_others_go() {
        let base = Url::parse("https://blog.example.org/posts/1").unwrap();
        let meta = ItemMeta {
            enclosures: vec![
                Enclosure {
                    url: "../media/a.mp3".into(),
                    media_type: Some("Audio/MPEG; charset=x".into()),
                    length: Some(0),
                    ..Enclosure::default()
                },
                Enclosure {
                    url: "javascript:alert(1)".into(),
                    ..Enclosure::default()
                },
                Enclosure {
                    url: "https://blog.example.org/media/a.mp3".into(),
                    ..Enclosure::default()
                },
            ],
            image: Some("data:image/png;base64,xx".into()),
            comments: Some("#comments".into()),
            ..ItemMeta::default()
        };
        let m = clean(&meta, Some(&base), fields());
        assert_eq!(m.enclosures.len(), 1, "{:?}", m.enclosures);
        assert_eq!(m.enclosures[0].url, "https://blog.example.org/media/a.mp3");
        assert_eq!(m.enclosures[0].media_type.as_deref(), Some("audio/mpeg"));
        assert_eq!(m.enclosures[0].length, None);
        assert_eq!(m.image, None);
        assert_eq!(m.comments.as_deref(), Some("https://blog.example.org/posts/1#comments"));
    }

    #[test]
    fn people_are_plain_text_with_plausible_addresses() {
        let meta = ItemMeta {
            authors: vec![
                Person {
                    name: Some("<b>Rob</b> &amp; Roberts".into()),
                    email: Some("mailto:rob@example.org".into()),
                    uri: Some("ftp://x".into()),
                    avatar: None,
                },
                Person {
                    name: None,
                    email: Some("not an address".into()),
                    ..Person::default()
                },
            ],
            ..ItemMeta::default()
        };
        let m = clean(&meta, None, fields());
        assert_eq!(
            m.authors,
            vec![Person {
                name: Some("Rob & Roberts".into()),
                email: Some("rob@example.org".into()),
                uri: None,
                avatar: None
            }]
        );
    }

    #[test]
    fn plain_text_follows_its_field() {
        let meta = ItemMeta {
            content_text: None,
            summary_text: Some("only a summary".into()),
            ..ItemMeta::default()
        };
        let moved = Fields {
            content: true,
            content_from_summary: true,
            summary: false,
        };
        assert_eq!(
            clean(&meta, None, moved).content_text.as_deref(),
            Some("only a summary")
        );
        let dropped = Fields {
            content: true,
            content_from_summary: false,
            summary: false,
        };
        assert_eq!(clean(&meta, None, dropped).summary_text, None);
    }

    #[test]
    fn empty_meta_keeps_the_old_hash() {
        assert_eq!(extend_hash("abc".into(), &ItemMeta::default()), "abc");
        let meta = ItemMeta {
            comment_count: Some(3),
            ..ItemMeta::default()
        };
        assert_ne!(extend_hash("abc".into(), &meta), "abc");
    }
}
