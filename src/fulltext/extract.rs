//! Reading the article out of a fetched page: decoded as feeds are (the
//! page's `<meta charset>` in place of the XML declaration), the article
//! found by dom_smoothie (the maintained Rust port of Mozilla's
//! readability.js) or taken from the first element the source's
//! `full_text_selector` matches, and sanitized through `html` with its
//! relative URLs resolved against the page's address (as published:
//! without credentials). No script, style or event handler survives: the
//! sanitizer's allowlist has none of them.

use dom_query::{Document, Matcher};
use dom_smoothie::{Config, Readability};
use url::Url;

use super::FullTextError;
use crate::html;
use crate::parse::decode_page;

/// Elements a page may have before readability gives up on it: a bound on
/// the work one hostile page can cause (news pages have a few thousand).
const MAX_ELEMENTS: usize = 60_000;

/// Page furniture readability can take for part of the article when it
/// sits beside it with prose of its own (an author's bio, a newsletter
/// box, a comment thread, share and "related" boxes, cookie banners): the
/// class and id names sites give it, removed before the article is looked
/// for. Names only a piece of furniture carries, never a container.
const FURNITURE: &str = "[class*=author-bio], [class*=author-info], [class*=about-author], [class*=author-box], \
    [class*=share-box], [class*=sharing], [class*=social-share], [class*=newsletter], [class*=cookie], [id*=cookie], \
    [class*=consent], [class*=most-read], [class*=related-], [class*=comment-list], [id=comments], [class*=post-navigation]";

/// Furniture known by its shape rather than its name, for pages whose class
/// names say nothing (minified CSS): a list whose every item is nothing but
/// a link (related stories, "most read", navigation), and a form with the
/// box around it when that box holds little else (newsletter sign-ups,
/// comment forms). An article's own lists carry text beside their links.
fn remove_furniture_by_shape(doc: &Document) {
    for list in doc.select("ul, ol").nodes() {
        let items = list.element_children();
        let only_links = items.len() >= 2
            && items.iter().all(|li| {
                let text = li.text();
                let linked: usize = li
                    .descendants()
                    .iter()
                    .filter(|n| n.has_name("a"))
                    .map(|a| a.text().trim().len())
                    .sum();
                li.has_name("li") && !text.trim().is_empty() && linked >= text.trim().len()
            });
        if only_links {
            list.remove_from_parent();
        }
    }
    for form in doc.select("form").nodes() {
        let form_text = form.text().trim().len();
        match form.parent() {
            Some(parent)
                if !parent.has_name("body")
                    && !parent.has_name("main")
                    && !parent.has_name("article")
                    && parent.text().trim().len() < form_text + FORM_BOX_TEXT =>
            {
                parent.remove_from_parent()
            }
            _ => form.remove_from_parent(),
        }
    }
}

/// Characters of text beside a form for its box to count as the form's
/// (a sign-up line, a comment form's heading), not as content around it.
const FORM_BOX_TEXT: usize = 200;

/// The media types read as pages; a page without one is read too.
fn is_html(media_type: Option<&str>) -> bool {
    media_type.is_none_or(|m| matches!(m, "text/html" | "application/xhtml+xml" | "text/plain" | ""))
}

bench_pub! {
    /// A fetched page, as `extract` needs it.
    #[derive(Debug, Clone, Copy)]
    struct Page<'a> {
        /// The body.
        pub bytes: &'a [u8],
        /// The `charset` of the `Content-Type` header.
        pub charset: Option<&'a str>,
        /// The media type of the `Content-Type` header.
        pub media_type: Option<&'a str>,
        /// Where the page came from after redirects, as it may be published:
        /// the base of its relative URLs.
        pub url: &'a Url,
    }
}

bench_pub! {
    /// The article of `page` as sanitized HTML: the first element `selector`
    /// matches, else what readability finds.
    fn extract(page: Page<'_>, selector: Option<&str>) -> Result<String, FullTextError> {
        let url = page.url.as_str();
        if !is_html(page.media_type) {
            return Err(FullTextError::NotHtml {
                url: url.to_string(),
                media_type: page.media_type.unwrap_or_default().to_string(),
            });
        }
        let (text, _) = decode_page(page.bytes, page.charset);
        let article = match selector {
            Some(selector) => {
                let no_match = || FullTextError::NoMatch {
                    url: url.to_string(),
                    selector: selector.to_string(),
                };
                let matcher = Matcher::new(selector).map_err(|_| no_match())?;
                let doc = Document::from(text);
                let found = doc.select_matcher(&matcher);
                let first = found.nodes().first().ok_or_else(no_match)?;
                let html = first.html().to_string();
                let clean = html::sanitize(&html, Some(page.url));
                if html::text::is_blank(&clean) {
                    return Err(no_match());
                }
                return Ok(clean);
            }
            None => {
                let config = Config {
                    max_elements_to_parse: MAX_ELEMENTS,
                    ..Config::default()
                };
                let no_article = || FullTextError::NoArticle { url: url.to_string() };
                let doc = Document::from(text);
                if let Ok(furniture) = Matcher::new(FURNITURE) {
                    doc.select_matcher(&furniture).remove();
                }
                remove_furniture_by_shape(&doc);
                let mut reader = Readability::with_document(doc, Some(url), Some(config)).map_err(|_| no_article())?;
                reader.parse().map_err(|_| no_article())?.content.to_string()
            }
        };
        let clean = html::sanitize(&article, Some(page.url));
        if html::text::is_blank(&clean) {
            return Err(FullTextError::NoArticle { url: url.to_string() });
        }
        Ok(clean)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const PROSE: &str = "The river rose through the night and by morning the lower town was under water. \
        Volunteers carried sandbags to the old bridge while the mayor asked residents to stay indoors. \
        Engineers said the embankment built after the last flood had held, but that the pumps could not keep up. \
        Schools stayed closed and the railway line to the coast was suspended until further notice.";

    fn page(body: &str) -> String {
        format!(
            r#"<!doctype html><html><head><title>Flood</title><script>var tracker = 1;</script></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<div class="cookie-banner">We use cookies to improve your experience. <button onclick="accept()">Accept</button></div>
<main><article><h1>Flood</h1>{body}</article></main>
<aside class="most-read"><h3>Most read</h3><ul><li><a href="/x">Celebrity chef opens restaurant</a></li></ul></aside>
<footer>Copyright 2026 Example News. All rights reserved.</footer></body></html>"#
        )
    }

    fn paragraphs() -> String {
        [PROSE, PROSE, PROSE]
            .join(" ")
            .split(". ")
            .map(|s| {
                format!(
                    "<p onclick=\"steal()\">{s}. <a href=\"/more\">more</a> <img src=\"pic.jpg\" onerror=\"x()\"></p>"
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn url() -> Url {
        Url::parse("https://news.example/2026/flood.html").unwrap()
    }

    fn read(html: &[u8], selector: Option<&str>) -> Result<String, FullTextError> {
        let url = url();
        extract(
            Page {
                bytes: html,
                charset: None,
                media_type: Some("text/html"),
                url: &url,
            },
            selector,
        )
    }

    #[test]
    fn the_article_is_read_and_the_furniture_left_out() {
        let out = read(page(&paragraphs()).as_bytes(), None).unwrap();
        assert!(out.contains("Volunteers carried sandbags"), "{out}");
        assert!(!out.contains("cookies"), "{out}");
        assert!(!out.contains("Celebrity chef"), "{out}");
        assert!(!out.contains("Copyright"), "{out}");
    }

    #[test]
    fn scripts_and_event_handlers_never_survive() {
        let body = format!(
            "{}<script>alert(1)</script><p><a href=\"javascript:alert(2)\">x</a></p>",
            paragraphs()
        );
        let out = read(page(&body).as_bytes(), None).unwrap();
        let lower = out.to_ascii_lowercase();
        assert!(!lower.contains("<script"), "{out}");
        assert!(!lower.contains("onclick") && !lower.contains("onerror"), "{out}");
        assert!(!lower.contains("javascript:"), "{out}");
    }

    #[test]
    fn an_author_box_beside_the_article_is_left_out() {
        let bio = "Tom writes about rivers and the towns along them, and has lived by the water for most of his life.";
        let html = page(&format!(
            "{}</article><div class=\"author-info\"><p>{bio} {bio}</p></div><article>",
            paragraphs()
        ));
        let out = read(html.as_bytes(), None).unwrap();
        assert!(out.contains("Volunteers carried sandbags"), "{out}");
        assert!(!out.contains("Tom writes about rivers"), "{out}");
    }

    /// With class names that say nothing, a list of bare links and a
    /// sign-up box inside the article's container are still furniture; a
    /// list whose items carry text of their own is the article's.
    #[test]
    fn link_lists_and_form_boxes_are_furniture_whatever_their_names() {
        let html = page(&format!(
            "{}<ul class=\"x1\"><li>Sandbags are filled at the depot on Mill Street.</li>\
             <li>The shelter at the <a href=\"/school\">old school</a> takes families with pets.</li></ul>\
             <div class=\"x2\"><p>Sign up for our weekly letter and never miss a story from the valley.</p>\
             <form action=\"/subscribe\"><input type=\"email\" name=\"e\"><button>OK</button></form></div>\
             <div class=\"x3\"><h2>Read also</h2><ul class=\"x4\">\
             <li><a href=\"/a\">Celebrity chef opens a restaurant on the quay</a></li>\
             <li><a href=\"/b\">The new ferry timetable starts on Monday morning</a></li>\
             <li><a href=\"/c\">Ten walks along the coast before the winter comes</a></li></ul></div>",
            paragraphs()
        ));
        let out = read(html.as_bytes(), None).unwrap();
        assert!(out.contains("Volunteers carried sandbags"), "{out}");
        assert!(out.contains("Sandbags are filled at the depot"), "{out}");
        assert!(out.contains("takes families with pets"), "{out}");
        assert!(!out.contains("Sign up for our weekly letter"), "{out}");
        assert!(!out.contains("Celebrity chef"), "{out}");
        assert!(!out.contains("ferry timetable"), "{out}");
    }

    #[test]
    fn relative_urls_resolve_against_the_page() {
        let out = read(page(&paragraphs()).as_bytes(), None).unwrap();
        assert!(out.contains("href=\"https://news.example/more\""), "{out}");
        assert!(out.contains("src=\"https://news.example/2026/pic.jpg\""), "{out}");
    }

    #[test]
    fn the_selector_picks_its_element() {
        let html = format!(
            "<html><body><div class=\"teaser\"><p>{PROSE}</p></div><div id=\"story\"><p>Only this paragraph.</p></div></body></html>"
        );
        let out = read(html.as_bytes(), Some("#story")).unwrap();
        assert!(out.contains("Only this paragraph."), "{out}");
        assert!(!out.contains("Volunteers"), "{out}");
        assert!(matches!(
            read(html.as_bytes(), Some(".nowhere")),
            Err(FullTextError::NoMatch { .. })
        ));
    }

    #[test]
    fn a_page_in_windows_1252_with_meta_charset_reads_byte_exact() {
        let text = "\u{201c}Citt\u{e0} d\u{2019}arte\u{201d}, perch\u{e9} \u{e8} cos\u{ec}: caff\u{e8} \u{2013} na\u{ef}ve \u{20ac}5";
        let html = format!(
            "<html><head><meta charset=\"windows-1252\"></head><body><article><p>{text} {PROSE}</p><p>{PROSE}</p></article></body></html>"
        );
        let (bytes, _, bad) = encoding_rs::WINDOWS_1252.encode(&html);
        assert!(!bad);
        let out = read(&bytes, None).unwrap();
        assert!(out.contains(text), "{out}");
    }

    #[test]
    fn a_page_without_article_or_not_html_gives_none() {
        assert!(matches!(
            read(b"<html><body></body></html>", None),
            Err(FullTextError::NoArticle { .. })
        ));
        let url = url();
        let pdf = extract(
            Page {
                bytes: b"%PDF-1.4",
                charset: None,
                media_type: Some("application/pdf"),
                url: &url,
            },
            None,
        );
        assert!(matches!(pdf, Err(FullTextError::NotHtml { .. })));
    }
}
