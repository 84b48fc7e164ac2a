//! What an item says beyond its title, link, text and dates: the people,
//! media, comments, categories and rights the three formats can carry.
//!
//! One [`ItemMeta`] travels with an item from the parser (URLs as the
//! document wrote them, resolved against its `xml:base`), through
//! normalization (absolute `http`/`https` URLs only, plain text, capped) and
//! the store (one JSON column), to the writers. Every field is optional or
//! a list, so an item that says nothing more has the empty (default) value,
//! which is stored as nothing.

use serde::{Deserialize, Serialize};

/// A person an item or feed names: an author or a contributor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// The name as written (`Rob Roberts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The e-mail address, without `mailto:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A home page (Atom `uri`, JSON Feed `url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// An avatar image (JSON Feed `avatar`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
}

impl Person {
    /// What a reader shows for this person: the name, else the address.
    pub fn display(&self) -> Option<&str> {
        self.name.as_deref().or(self.email.as_deref())
    }
}

/// A file attached to an item: an RSS `<enclosure>`, an Atom
/// `rel="enclosure"` link, a JSON Feed attachment or a `media:content`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enclosure {
    /// Where the file is.
    pub url: String,
    /// Its media type (`audio/mpeg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Its size in bytes, when the feed gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// Its playing time in seconds, when the feed gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
    /// A title of its own (Atom link `title`, JSON Feed attachment `title`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// An image of an item: a `media:thumbnail`, an `itunes:image`, a JSON Feed
/// `image`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// Where the image is.
    pub url: String,
    /// Its width in pixels, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Its height in pixels, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

/// A category with the vocabulary it belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// The term (Atom `term`, the text of an RSS `<category>`).
    pub term: String,
    /// The vocabulary (Atom `scheme`, RSS `domain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// A human-readable label (Atom `label`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A Media RSS `<media:credit>`: someone who took part in making the media.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaCredit {
    /// Who.
    pub name: String,
    /// Their role (`photographer`, `author`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The vocabulary of the role (`urn:ebu`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
}

/// Content that lives elsewhere: Atom `<content src="…" type="…"/>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentSource {
    /// Where the content is.
    pub url: String,
    /// Its media type, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

/// Everything an item says beyond its title, link, text and dates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemMeta {
    /// Authors, in feed order, with their e-mail and home page.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<Person>,
    /// Contributors (Atom `<contributor>`, `dc:contributor`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contributors: Vec<Person>,
    /// Attached files, in feed order, each URL once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enclosures: Vec<Enclosure>,
    /// The item's own image (JSON Feed `image`, `itunes:image`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Thumbnails (`media:thumbnail`), each URL once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thumbnails: Vec<Image>,
    /// The item's own categories with their scheme and label; the plain
    /// terms are also the entry's categories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<Category>,
    /// The page where the item is discussed (RSS `<comments>`, Atom
    /// `rel="replies"` of type `text/html`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
    /// A feed of the item's comments (`wfw:commentRss`, Atom
    /// `rel="replies"` of a feed type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments_feed: Option<String>,
    /// How many comments there are (`slash:comments`, `thr:count`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_count: Option<u64>,
    /// Copyright or licence, plain text (Atom `<rights>`, `dc:rights`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights: Option<String>,
    /// Content that lives elsewhere (Atom `<content src>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_src: Option<ContentSource>,
    /// The content as the plain text the feed gave (Atom `type="text"`,
    /// JSON Feed `content_text`); the entry's HTML is made from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_text: Option<String>,
    /// The summary as the plain text the feed gave, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_text: Option<String>,
    /// iTunes `explicit`: whether the episode is marked explicit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explicit: Option<bool>,
    /// iTunes `block`: the publisher asks directories not to list it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub block: bool,
    /// Playing time in seconds (`itunes:duration`, `media:content duration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
    /// Media RSS credits.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media_credits: Vec<MediaCredit>,
}

impl ItemMeta {
    /// Whether the item says nothing beyond the basics.
    pub fn is_empty(&self) -> bool {
        *self == ItemMeta::default()
    }
}
