//! OPML 2.0 in and out: moving subscription lists between readers.
//!
//! Import reads every `<outline>` with an `xmlUrl` (folders become tags) and
//! turns it into `[[source]]` TOML blocks with names derived from the titles,
//! made unique. Export writes the configured sources as an OPML 2.0
//! document. Pure text in, text out.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, Event};
use quick_xml::{Reader, Writer};
use unicode_normalization::UnicodeNormalization;

use crate::config::SourceConfig;

/// One subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outline {
    /// Its title (`text`/`title` attribute).
    pub(crate) title: String,
    /// The feed URL (`xmlUrl`).
    pub xml_url: String,
    /// The site URL (`htmlUrl`), if given.
    pub(crate) html_url: Option<String>,
    /// Folders it sits in, outermost first.
    pub folders: Vec<String>,
}

impl Outline {
    /// The configured sources as outlines, each address as it may be
    /// published (no userinfo or credential-like parameters, see
    /// `crate::secrets`): the `/opml` route and `export-opml` both serve
    /// this. A source's `text` is its configured `title`, else the feed's
    /// own title as `known` has it, else its name; its `htmlUrl` is the
    /// feed's site link, when known.
    pub(crate) fn from_sources(sources: &[SourceConfig], known: &HashMap<String, Known>) -> Vec<Outline> {
        sources
            .iter()
            .map(|s| {
                let known = known.get(&s.name);
                let feed_title = known
                    .and_then(|k| k.title.as_deref())
                    .map(str::trim)
                    .filter(|t| !t.is_empty());
                Outline {
                    title: s.title.as_deref().or(feed_title).unwrap_or(&s.name).to_string(),
                    xml_url: s.location.public(),
                    html_url: known.and_then(|k| k.site.clone()),
                    folders: s.tags.clone(),
                }
            })
            .collect()
    }
}

/// What a poll learned of a source that its outline shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Known {
    /// The feed's own title.
    pub title: Option<String>,
    /// The feed's site link, as it may be published.
    pub site: Option<String>,
}

/// Why an OPML document could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{file}: not a readable OPML document at byte {position}: {detail}")]
pub struct OpmlError {
    /// The file.
    pub(crate) file: String,
    /// Byte offset of the problem.
    pub(crate) position: u64,
    /// What was wrong.
    pub(crate) detail: String,
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref().eq_ignore_ascii_case(name))
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.trim().to_string())
        })
        .filter(|v| !v.is_empty())
}

/// Reads the subscriptions of an OPML document (`file` names it in errors).
pub fn parse(text: &str, file: &str) -> Result<Vec<Outline>, OpmlError> {
    let mut reader = Reader::from_str(text);
    let mut folders: Vec<Option<String>> = Vec::new();
    let mut out = Vec::new();
    loop {
        let event = reader.read_event().map_err(|e| OpmlError {
            file: file.to_string(),
            position: reader.buffer_position(),
            detail: e.to_string(),
        })?;
        let (e, opens_folder) = match event {
            Event::Start(e) if e.local_name().as_ref() == "outline" => (e, true),
            Event::Empty(e) if e.local_name().as_ref() == "outline" => (e, false),
            Event::End(e) if e.local_name().as_ref() == "outline" => {
                folders.pop();
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let title = attr(&e, "text").or_else(|| attr(&e, "title"));
        if let Some(url) = attr(&e, "xmlUrl") {
            out.push(Outline {
                title: title.clone().unwrap_or_else(|| url.clone()),
                xml_url: url,
                html_url: attr(&e, "htmlUrl"),
                folders: folders
                    .iter()
                    .flatten()
                    .cloned()
                    .chain(
                        attr(&e, "category")
                            .iter()
                            .flat_map(|c| c.split([',', '/']).map(|f| f.trim().to_string()).collect::<Vec<_>>())
                            .filter(|f| !f.is_empty()),
                    )
                    .collect(),
            });
        }
        if opens_folder {
            folders.push(title);
        }
    }
    Ok(out)
}

/// A source name from a title: lower-case ASCII letters, digits and dashes.
pub(crate) fn slug(title: &str) -> String {
    let folded: String = title
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let mut slug = String::new();
    for part in folded.split('-').filter(|p| !p.is_empty()) {
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(part);
        if slug.len() >= 48 {
            break;
        }
    }
    if slug.is_empty() { "feed".into() } else { slug }
}

fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `base`, or `base-2`, `base-3`… : the first not in `taken`.
pub(crate) fn unique_name(base: &str, taken: &HashSet<String>) -> String {
    let mut name = base.to_string();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    name
}

/// `[[source]]` blocks for `outlines`, with names unique among themselves
/// and against `taken` (the names already in the config).
pub(crate) fn to_toml(outlines: &[Outline], taken: &HashSet<String>) -> String {
    let mut used = taken.clone();
    let mut out = String::new();
    for o in outlines {
        let name = unique_name(&slug(&o.title), &used);
        used.insert(name.clone());
        out.push_str(&format!(
            "[[source]]\n# {}\nname = {}\nurl = {}\n",
            o.title.replace('\n', " "),
            toml_string(&name),
            toml_string(&o.xml_url)
        ));
        if !o.folders.is_empty() {
            let tags: Vec<String> = o.folders.iter().map(|f| toml_string(&slug(f))).collect();
            out.push_str(&format!("tags = [{}]\n", tags.join(", ")));
        }
        out.push('\n');
    }
    out
}

/// An OPML 2.0 document listing `outlines`.
pub(crate) fn render(title: &str, outlines: &[Outline], now: DateTime<Utc>) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let written = (|| -> std::io::Result<()> {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.write_event(Event::Start(
            BytesStart::new("opml").with_attributes([("version", "2.0")]),
        ))?;
        w.write_event(Event::Start(BytesStart::new("head")))?;
        w.create_element("title")
            .write_text_content(quick_xml::events::BytesText::new(title))?;
        w.create_element("dateCreated")
            .write_text_content(quick_xml::events::BytesText::new(&now.to_rfc2822()))?;
        w.write_event(Event::End(BytesEnd::new("head")))?;
        w.write_event(Event::Start(BytesStart::new("body")))?;
        for o in outlines {
            let mut e = BytesStart::new("outline");
            e.push_attribute(("type", "rss"));
            e.push_attribute(("text", o.title.as_str()));
            e.push_attribute(("title", o.title.as_str()));
            e.push_attribute(("xmlUrl", o.xml_url.as_str()));
            if let Some(h) = &o.html_url {
                e.push_attribute(("htmlUrl", h.as_str()));
            }
            if !o.folders.is_empty() {
                e.push_attribute(("category", o.folders.join(",").as_str()));
            }
            w.write_event(Event::Empty(e))?;
        }
        w.write_event(Event::End(BytesEnd::new("body")))?;
        w.write_event(Event::End(BytesEnd::new("opml")))?;
        Ok(())
    })();
    // Writing to a Vec<u8> cannot fail.
    let _ = written;
    String::from_utf8_lossy(&w.into_inner()).into_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0"?>
<opml version="2.0"><head><title>Mine</title></head><body>
  <outline text="Esteri">
    <outline type="rss" text="ANSA — Mondo" xmlUrl="https://www.ansa.it/mondo.xml" htmlUrl="https://www.ansa.it/"/>
    <outline type="rss" text="ANSA – Mondo" xmlUrl="https://www.ansa.it/mondo2.xml"/>
  </outline>
  <outline type="rss" title="Città &amp; Società" xmlUrl="https://e.example.it/feed?a=1&amp;b=2"/>
</body></opml>"#;

    #[test]
    fn import_reads_folders_and_makes_unique_names() {
        let o = parse(SAMPLE, "subs.opml").unwrap();
        assert_eq!(o.len(), 3);
        assert_eq!(o[0].folders, vec!["Esteri".to_string()]);
        assert_eq!(o[2].folders, Vec::<String>::new());
        assert_eq!(o[2].xml_url, "https://e.example.it/feed?a=1&b=2");
        let toml = to_toml(&o, &HashSet::from(["citta-societa".to_string()]));
        assert!(toml.contains("name = \"ansa-mondo\""));
        assert!(toml.contains("name = \"ansa-mondo-2\""));
        assert!(toml.contains("name = \"citta-societa-2\""));
        assert!(toml.contains("tags = [\"esteri\"]"));
        let parsed: toml::Table = toml::from_str(&toml).unwrap();
        assert_eq!(parsed["source"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn export_names_sources_by_title_then_feed_title_and_links_their_site() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        std::fs::write(
            &path,
            "[[source]]\nname = \"fiona-s-photo-blog\"\nurl = \"https://fiona.example.org/feed\"\n\n\
             [[source]]\nname = \"rob\"\nurl = \"https://rob.example.org/feed\"\ntitle = \"Rob’s notes\"\n\n\
             [[source]]\nname = \"never-polled\"\nurl = \"https://n.example.org/feed\"\n",
        )
        .unwrap();
        let config = crate::config::load(&path).unwrap();
        let known = HashMap::from([
            (
                "fiona-s-photo-blog".to_string(),
                Known {
                    title: Some("Fiona’s Photo Blog".into()),
                    site: Some("https://fiona.example.org/".into()),
                },
            ),
            (
                "rob".to_string(),
                Known {
                    title: Some("rob.example.org".into()),
                    site: None,
                },
            ),
        ]);
        let o = Outline::from_sources(&config.sources, &known);
        let named: Vec<(&str, Option<&str>)> = o.iter().map(|o| (o.title.as_str(), o.html_url.as_deref())).collect();
        assert_eq!(
            named,
            [
                ("Fiona’s Photo Blog", Some("https://fiona.example.org/")),
                ("Rob’s notes", None),
                ("never-polled", None),
            ]
        );
        let text = render("Tributary", &o, Utc::now());
        assert!(text.contains("text=\"Fiona’s Photo Blog\""), "{text}");
        assert!(text.contains("htmlUrl=\"https://fiona.example.org/\""), "{text}");
    }

    #[test]
    fn round_trip() {
        let o = parse(SAMPLE, "subs.opml").unwrap();
        let text = render("Tributary", &o, Utc::now());
        let back = parse(&text, "out.opml").unwrap();
        assert_eq!(
            back.iter().map(|x| &x.xml_url).collect::<Vec<_>>(),
            o.iter().map(|x| &x.xml_url).collect::<Vec<_>>()
        );
        assert_eq!(back[0].title, "ANSA — Mondo");
    }

    #[test]
    fn broken_opml_names_the_file() {
        let err = parse("<opml><body><outline text='x' xmlUrl='y'></body>", "bad.opml").unwrap_err();
        assert!(
            err.to_string().starts_with("bad.opml: not a readable OPML document"),
            "{err}"
        );
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("L’Espresso — Attualità!"), "l-espresso-attualita");
        assert_eq!(slug("日本"), "feed");
    }
}
