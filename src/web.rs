//! The HTML pages: the river of an output (`/`, `/outputs/NAME.html`) and
//! `/status`, rendered with minijinja from templates built into the binary
//! (`templates/`), any of which a `[web] templates` folder may replace.
//!
//! Entry HTML is the stored, sanitized HTML and is inserted as it is; every
//! other value is escaped by the engine (`.html` templates auto-escape).
//! The pages need no script, and `PAGE_CSP` forbids any. This module
//! renders plain data to text; caching and HTTP belong to `http`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use minijinja::{Environment, Value, context};
use serde::Serialize;

use crate::config::TimeZone;
use crate::model::StoredEntry;
use crate::publish::Format;

/// The Content-Security-Policy of the HTML pages: no script, plugin, base
/// or framing; the stylesheet from here; images from anywhere, since
/// entries link them.
pub(crate) const PAGE_CSP: &str = "default-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'none'; style-src 'self'; img-src * data:; media-src *";

/// The built-in templates, by name.
const BUILT_IN: [(&str, &str); 3] = [
    ("river.html", include_str!("../templates/river.html")),
    ("status.html", include_str!("../templates/status.html")),
    ("style.css", include_str!("../templates/style.css")),
];

/// Errors of the web pages.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// A template of the `[web] templates` folder could not be read.
    #[error("cannot read template {}: {source}; fix its permissions or remove it to use the built-in one", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A template does not compile.
    #[error("template {name} does not compile: {source:#}; fix it or remove it from the [web] templates folder")]
    Syntax {
        /// The template's name (or file).
        name: String,
        /// What the engine said.
        source: minijinja::Error,
    },
    /// A template failed while rendering.
    #[error("template {name} failed to render: {source:#}; check the names it uses against the built-in template")]
    Render {
        /// The template's name.
        name: String,
        /// What the engine said.
        source: minijinja::Error,
    },
}

/// The compiled templates and the stylesheet.
#[derive(Debug)]
pub(crate) struct Templates {
    env: Environment<'static>,
    /// The stylesheet served at `/style.css`.
    pub(crate) style: String,
}

impl Templates {
    /// The built-in templates, each replaced by the file of the same name
    /// in `dir` when there is one.
    pub(crate) fn load(dir: Option<&Path>) -> Result<Templates, WebError> {
        let mut env = Environment::new();
        env.set_formatter(escape);
        let mut style = String::new();
        for (name, built_in) in BUILT_IN {
            let text = match dir.map(|d| d.join(name)) {
                Some(path) => match std::fs::read_to_string(&path) {
                    Ok(t) => t,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => built_in.to_string(),
                    Err(source) => return Err(WebError::Read { path, source }),
                },
                None => built_in.to_string(),
            };
            if name == "style.css" {
                style = text;
                continue;
            }
            env.add_template_owned(name, text).map_err(|source| WebError::Syntax {
                name: dir.map_or_else(|| name.to_string(), |d| d.join(name).display().to_string()),
                source,
            })?;
        }
        Ok(Templates { env, style })
    }

    /// The built-in templates (which always compile; a test pins it).
    pub(crate) fn built_in() -> Templates {
        Templates::load(None).unwrap_or_else(|_| Templates {
            env: Environment::new(),
            style: String::new(),
        })
    }

    fn render(&self, name: &str, ctx: Value) -> Result<String, WebError> {
        let render = |source| WebError::Render {
            name: name.to_string(),
            source,
        };
        self.env.get_template(name).map_err(render)?.render(ctx).map_err(render)
    }
}

/// Escapes values for HTML like the engine does, except `/`, which needs
/// no escaping in text or quoted attributes: links stay as they are written.
fn escape(out: &mut minijinja::Output, state: &minijinja::State, value: &Value) -> Result<(), minijinja::Error> {
    if state.auto_escape() != minijinja::AutoEscape::Html || value.is_safe() || value.is_undefined() || value.is_none()
    {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = value.to_string();
    let mut last = 0;
    for (i, c) in text.char_indices() {
        let entity = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&#39;",
            _ => continue,
        };
        out.write_str(&text[last..i]).map_err(minijinja::Error::from)?;
        out.write_str(entity).map_err(minijinja::Error::from)?;
        last = i + 1;
    }
    out.write_str(&text[last..]).map_err(minijinja::Error::from)
}

/// One page of a river: what the template needs besides the entries.
#[derive(Debug, Clone)]
pub(crate) struct RiverPage<'a> {
    /// The output's title.
    pub(crate) title: &'a str,
    /// The `[feed] description`.
    pub(crate) description: Option<&'a str>,
    /// The output's name (`all` is served at `/`).
    pub(crate) output: &'a str,
    /// 1-based page number.
    pub(crate) page: usize,
    /// Whether an older page follows.
    pub(crate) has_next: bool,
    /// The time zone days are grouped in.
    pub(crate) timezone: TimeZone,
}

#[derive(Serialize)]
struct Day {
    date: String,
    label: String,
    entries: Vec<Value>,
}

#[derive(Serialize)]
struct SourceRef {
    title: String,
    site: Option<String>,
}

/// An `http(s)` URL, or nothing: links written into the pages come from
/// feeds, and a `javascript:` or `data:` one must not become a link.
fn web_link(url: Option<&str>) -> Option<String> {
    let u = url::Url::parse(url?).ok()?;
    matches!(u.scheme(), "http" | "https").then(|| u.to_string())
}

fn entry_value(e: &StoredEntry, tz: TimeZone) -> Value {
    let local = tz.local(e.published);
    let mut sources: Vec<SourceRef> = Vec::new();
    for c in &e.credits {
        let title = c
            .source_title
            .clone()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| c.source.clone());
        if !sources.iter().any(|s| s.title == title) {
            sources.push(SourceRef {
                title,
                site: web_link(c.source_site.as_deref()),
            });
        }
    }
    let content = e.content_html.as_deref().filter(|c| !c.trim().is_empty());
    let summary = e.summary_html.as_deref().filter(|c| !c.trim().is_empty());
    context! {
        uid => e.uid,
        title => e.title,
        link => web_link(e.link.as_deref()),
        sources => sources,
        author => e.author,
        language => e.language,
        datetime => e.published.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        time => local.format("%H:%M").to_string(),
        // Sanitized when stored; inserted as it is.
        content => content.map(|c: &str| Value::from_safe_string(c.to_string())),
        summary => if content.is_none() { summary.map(|c: &str| Value::from_safe_string(c.to_string())) } else { None },
        enclosures => enclosures(e),
    }
}

/// The entry's enclosures that a page may link: `http(s)` only, each with
/// the kind of player it gets (`audio`, `video`, else a plain link).
fn enclosures(e: &StoredEntry) -> Vec<Value> {
    e.meta
        .enclosures
        .iter()
        .filter_map(|x| {
            let url = web_link(Some(&x.url))?;
            let media_type = x.media_type.clone();
            let kind = match media_type.as_deref().and_then(|t| t.split('/').next()) {
                Some("audio") => "audio",
                Some("video") => "video",
                _ => "link",
            };
            Some(context! { url => url, type => media_type, kind => kind })
        })
        .collect()
}

/// The entries grouped by day in `tz`, in the order given (newest first).
fn days(entries: &[StoredEntry], tz: TimeZone) -> Vec<Day> {
    let mut days: Vec<Day> = Vec::new();
    for e in entries {
        let local = tz.local(e.published);
        let date = local.format("%Y-%m-%d").to_string();
        let value = entry_value(e, tz);
        match days.last_mut() {
            Some(d) if d.date == date => d.entries.push(value),
            _ => days.push(Day {
                label: local.format("%A, %-d %B %Y").to_string(),
                date,
                entries: vec![value],
            }),
        }
    }
    days
}

/// The file name of an output's river, relative to its folder.
fn river_name(output: &str) -> String {
    if output == crate::config::ALL_OUTPUT {
        "./".to_string()
    } else {
        format!("{output}.html")
    }
}

/// Renders one page of a river.
pub(crate) fn render_river(t: &Templates, p: &RiverPage<'_>, entries: &[StoredEntry]) -> Result<String, WebError> {
    let all = p.output == crate::config::ALL_OUTPUT;
    // Links are relative, so the pages work under any base path.
    let root = if all { "" } else { "../" };
    let feeds: Vec<Value> = Format::ALL
        .iter()
        .map(|f| {
            let href = if all {
                format!("feed.{}", f.extension())
            } else {
                format!("{}.{}", p.output, f.extension())
            };
            let (name, ty) = match f {
                Format::Atom => ("Atom", "application/atom+xml"),
                Format::Rss => ("RSS", "application/rss+xml"),
                Format::Json => ("JSON Feed", "application/feed+json"),
            };
            context! { name => name, type => ty, href => href }
        })
        .collect();
    let own = river_name(p.output);
    let page_href = |n: usize| {
        if n <= 1 {
            own.clone()
        } else {
            format!("{own}?page={n}").replacen("./?", "?", 1)
        }
    };
    let language = entries
        .iter()
        .find_map(|e| e.language.clone())
        .unwrap_or_else(|| "en".into());
    t.render(
        "river.html",
        context! {
            title => p.title,
            description => p.description,
            version => env!("CARGO_PKG_VERSION"),
            language => language,
            root => root,
            self_href => own,
            feeds => feeds,
            days => days(entries, p.timezone),
            page => p.page,
            next_href => p.has_next.then(|| page_href(p.page + 1)),
            previous_href => (p.page > 1).then(|| page_href(p.page - 1)),
        },
    )
}

/// One source's row on the status page.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SourceRow {
    /// Configured name.
    pub(crate) name: String,
    /// Display title (the feed's own title, else the name).
    pub(crate) title: String,
    /// The source's site, if known.
    pub(crate) site: Option<String>,
    /// Times, in the page's time zone.
    pub(crate) last_poll: Option<String>,
    /// Last successful poll.
    pub(crate) last_success: Option<String>,
    /// HTTP status of the last poll.
    pub(crate) status: Option<u16>,
    /// Items stored.
    pub(crate) items: u64,
    /// Failed polls in a row.
    pub(crate) failures: u32,
    /// When it is due next.
    pub(crate) next_due: Option<String>,
    /// The last error, secrets redacted.
    pub(crate) error: Option<String>,
}

/// A time as the pages show it: `2026-12-07 13:05 +01:00`.
pub(crate) fn show_time(t: DateTime<Utc>, tz: TimeZone) -> String {
    tz.local(t).format("%Y-%m-%d %H:%M %:z").to_string()
}

/// What the status page shows besides the sources.
#[derive(Debug, Clone)]
pub(crate) struct StatusPage<'a> {
    /// The `[feed] title`.
    pub(crate) title: &'a str,
    /// How long the daemon has run.
    pub(crate) uptime: std::time::Duration,
    /// The database's size in bytes.
    pub(crate) database_bytes: u64,
    /// Entries stored.
    pub(crate) entries: u64,
}

/// Renders `/status`: failing sources first (most failures first), then by name.
pub(crate) fn render_status(t: &Templates, p: &StatusPage<'_>, mut rows: Vec<SourceRow>) -> Result<String, WebError> {
    rows.sort_by(|a, b| b.failures.cmp(&a.failures).then_with(|| a.name.cmp(&b.name)));
    let failing = rows.iter().filter(|r| r.failures > 0).count();
    let secs = p.uptime.as_secs();
    let uptime = humantime::format_duration(std::time::Duration::from_secs(secs)).to_string();
    let mib = p.database_bytes as f64 / (1024.0 * 1024.0);
    t.render(
        "status.html",
        context! {
            title => p.title,
            version => env!("CARGO_PKG_VERSION"),
            root => "",
            uptime => uptime,
            database_size => format!("{mib:.1} MiB"),
            entries => p.entries,
            failing => failing,
            sources => rows,
        },
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::Credit;

    fn entry(uid: &str, title: &str, published: &str, content: &str) -> StoredEntry {
        let t = DateTime::parse_from_rfc3339(published).unwrap().with_timezone(&Utc);
        StoredEntry {
            uid: uid.into(),
            title: title.into(),
            link: Some(format!("https://e.example.it/{uid}")),
            summary_html: None,
            content_html: Some(content.into()),
            author: None,
            language: None,
            categories: vec![],
            published: t,
            updated: t,
            credits: vec![Credit {
                source: "fonte".into(),
                source_title: Some("La Fonte".into()),
                source_url: "https://user:pw@e.example.it/feed".into(),
                source_feed_id: None,
                source_site: Some("javascript:alert(1)".into()),
                item_id: uid.into(),
                item_link: None,
            }],
            meta: Default::default(),
        }
    }

    fn page(tz: TimeZone) -> RiverPage<'static> {
        RiverPage {
            title: "Rassegna <&>",
            description: None,
            output: "all",
            page: 1,
            has_next: true,
            timezone: tz,
        }
    }

    #[test]
    fn built_in_templates_compile() {
        Templates::load(None).unwrap();
    }

    #[test]
    fn river_groups_days_in_the_configured_offset() {
        let t = Templates::built_in();
        let entries = [
            entry("a", "Sera", "2026-12-06T23:30:00Z", "<p>x</p>"),
            entry("b", "Pomeriggio", "2026-12-06T15:00:00Z", "<p>y</p>"),
        ];
        let utc = render_river(&t, &page(TimeZone::UTC), &entries).unwrap();
        assert_eq!(utc.matches("<section class=\"day\">").count(), 1, "{utc}");
        let rome = render_river(
            &t,
            &page(TimeZone::Offset(chrono::FixedOffset::east_opt(3600).unwrap())),
            &entries,
        )
        .unwrap();
        assert_eq!(rome.matches("<section class=\"day\">").count(), 2, "{rome}");
        assert!(rome.contains("<time datetime=\"2026-12-07\">Monday, 7 December 2026</time>"));
        assert!(rome.contains(">00:30</time>"));
    }

    /// A named zone follows daylight saving time: Rome is UTC+2 in July
    /// and UTC+1 in December, so 22:30 UTC is the next day in July only.
    #[test]
    fn river_days_and_times_follow_a_named_zones_daylight_saving() {
        let t = Templates::built_in();
        let rome = TimeZone::Named(chrono_tz::Europe::Rome);
        let summer = [entry("s", "Estate", "2026-07-06T22:30:00Z", "<p>x</p>")];
        let html = render_river(&t, &page(rome), &summer).unwrap();
        assert!(html.contains("<time datetime=\"2026-07-07\">"), "{html}");
        assert!(html.contains(">00:30</time>"), "{html}");
        let winter = [entry("w", "Inverno", "2026-12-06T22:30:00Z", "<p>x</p>")];
        let html = render_river(&t, &page(rome), &winter).unwrap();
        assert!(html.contains("<time datetime=\"2026-12-06\">"), "{html}");
        assert!(html.contains(">23:30</time>"), "{html}");
        let july = DateTime::parse_from_rfc3339("2026-07-06T22:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(show_time(july, rome), "2026-07-07 00:30 +02:00");
    }

    #[test]
    fn river_plays_audio_and_video_enclosures_and_links_the_rest() {
        let mut e = entry("p1", "Episodio 1", "2026-12-01T10:00:00Z", "<p>Note</p>");
        for (url, media_type) in [
            ("https://pod.example.it/ep1.mp3", Some("audio/mpeg")),
            ("https://pod.example.it/ep1.mp4", Some("video/mp4")),
            ("https://pod.example.it/ep1.pdf", None),
            ("javascript:alert(1)", Some("audio/mpeg")),
        ] {
            e.meta.enclosures.push(crate::model::Enclosure {
                url: url.into(),
                media_type: media_type.map(str::to_string),
                ..Default::default()
            });
        }
        let v = enclosures(&e);
        assert_eq!(v.len(), 3, "{v:?}");
        let kinds: Vec<String> = v.iter().map(|x| x.get_attr("kind").unwrap().to_string()).collect();
        assert_eq!(kinds, ["audio", "video", "link"]);
    }

    #[test]
    fn river_escapes_titles_keeps_stored_html_and_drops_script_links() {
        let t = Templates::built_in();
        let entries = [entry(
            "a",
            "<script>alert(1)</script>",
            "2026-12-06T10:00:00Z",
            "<p><b>bold</b></p>",
        )];
        let html = render_river(&t, &page(TimeZone::UTC), &entries).unwrap();
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("<p><b>bold</b></p>"));
        assert!(html.contains("Rassegna &lt;&amp;&gt;"));
        assert!(
            !html.contains("javascript:"),
            "a source site that is not http(s) is no link"
        );
        assert!(html.contains("<span class=\"source\">La Fonte</span>"));
        assert!(!html.contains("pw@"), "the source URL is never shown");
        assert!(html.contains("<a rel=\"next\" href=\"?page=2\">"), "{html}");
        assert!(html.contains("<link rel=\"alternate\" type=\"application/atom+xml\""));
    }

    #[test]
    fn status_lists_failing_sources_first() {
        let t = Templates::built_in();
        let row = |name: &str, failures| SourceRow {
            name: name.into(),
            title: name.to_uppercase(),
            site: None,
            last_poll: None,
            last_success: None,
            status: Some(200),
            items: 3,
            failures,
            next_due: None,
            error: (failures > 0).then(|| "HTTP 500 <b>".to_string()),
        };
        let p = StatusPage {
            title: "T",
            uptime: std::time::Duration::from_secs(90),
            database_bytes: 1 << 20,
            entries: 7,
        };
        let html = render_status(&t, &p, vec![row("alpha", 0), row("beta", 2)]).unwrap();
        let (beta, alpha) = (html.find("BETA").unwrap(), html.find("ALPHA").unwrap());
        assert!(beta < alpha, "the failing source comes first");
        assert!(html.contains("HTTP 500 &lt;b&gt;"));
        assert!(html.contains("1 of 2 sources failing"));
        assert!(html.contains("1m 30s"));
    }

    #[test]
    fn a_template_folder_replaces_only_the_files_it_has() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("style.css"), "body{}").unwrap();
        let t = Templates::load(Some(dir.path())).unwrap();
        assert_eq!(t.style, "body{}");
        assert!(t.env.get_template("river.html").is_ok());
        std::fs::write(dir.path().join("river.html"), "{% if %}").unwrap();
        let e = Templates::load(Some(dir.path())).unwrap_err().to_string();
        assert!(e.contains("river.html does not compile"), "{e}");
    }
}
