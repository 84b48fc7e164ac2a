//! The filter against ammonia: the same output for every input of every
//! corpus, and how often real bodies take it.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use url::Url;

use super::super::corpus::{MUTATION_XSS, XSS_VECTORS, assert_safe, fuzz_inputs};
use super::super::sanitize::{filter_takes_first_pass, sanitize, sanitize_by_ammonia};

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

/// Sanitizes `input` both ways with and without `base`, requires the same
/// output and a fixpoint; returns whether the filter took the first pass
/// (with `base`).
fn same_as_ammonia(input: &str, base: Option<&Url>) -> bool {
    for b in [None, base] {
        let out = sanitize(input, b);
        let reference = sanitize_by_ammonia(input, b);
        assert_eq!(out, reference, "filter and ammonia differ on {input:?} (base {b:?})");
        assert_safe(input, &out);
        assert_eq!(sanitize(&out, b), out, "not a fixpoint: {input:?} (base {b:?})");
    }
    filter_takes_first_pass(input, base)
}

/// Markup the parser builds as written, with what the filter must get
/// exactly right: references of every kind in text and attribute values,
/// URLs of every kind, repeated, empty and refused attributes, `<pre>`
/// newlines, carriage returns, U+00A0.
fn exact_inputs(count: usize) -> Vec<String> {
    const ELEMENTS: &[&str] = &[
        "p",
        "b",
        "i",
        "a",
        "span",
        "div",
        "em",
        "strong",
        "code",
        "pre",
        "blockquote",
        "q",
        "del",
        "ins",
        "abbr",
        "h2",
        "small",
        "sup",
        "sub",
        "ul",
        "ol",
        "dl",
        "figure",
        "figcaption",
        "details",
        "summary",
        "bdo",
        "time",
        "mark",
        "cite",
    ];
    const VOID: &[&str] = &["br", "img", "hr", "wbr"];
    const ATTRS: &[&str] = &[
        "href=\"https://ex.example/a?b=1&amp;c=2\"",
        "href=\"/rel/path\"",
        "href=\"rel&amp;x\"",
        "href=\"#frag\"",
        "href=\"//cdn.example/x\"",
        "href=\"\"",
        "href=\"  \"",
        "href=\"javascript:alert(1)\"",
        "href=\"mailto:a@ex.example\"",
        "href=\"ftp://ex.example/\"",
        "href=\"http://[::1\"",
        "href=\"https://ex.example/&#x80;&#0;\"",
        "href=\"?q=&notit;&not=1&amp\"",
        "HREF=\"/upper\"",
        "src=\"img.png\"",
        "src=\"\"",
        "src=\"https://ex.example/i.png\"",
        "src=\"data:image/png;base64,AAAA\"",
        "title=\"t &amp; &quot;q&quot; &lt;x&gt; \u{a0}&nbsp; &copy &copyx &copy= &#169 &#xA9;\"",
        "title=\"&notin; &notit; &not &ampamp; &AMP; &#x1F600; &#128512 &#1114112; &#xD800; &#99999999999;\"",
        "title=\"line\r\nbreak\rand\"",
        "title=\"\"",
        "title=\"&#13;\"",
        "lang=\"it\"",
        "alt=\"a photo\"",
        "width=\"10\"",
        "height=\"20\"",
        "align=\"left\"",
        "cite=\"https://ex.example/\"",
        "datetime=\"2026-12-07\"",
        "dir=\"rtl\"",
        "rel=\"nofollow\"",
        "class=\"c\"",
        "id=\"x\"",
        "style=\"color:red\"",
        "onclick=\"alert(1)\"",
        "hreflang=\"en\"",
        "start=\"3\"",
        "x=y",
        "title=unquoted&amp;",
        "data-x=\"1\"",
    ];
    const TEXT: &[&str] = &[
        "text",
        " ",
        "\n",
        "\r\n",
        "\r",
        "&amp;",
        "&amp",
        "&ampx",
        "&lt;",
        "&gt;",
        ">",
        "\"",
        "'",
        "&",
        "& ",
        "&;",
        "&#",
        "&#x",
        "&#;",
        "&#10;",
        "&#x0a;",
        "&#10",
        "&NewLine;",
        "&nbsp;",
        "&nbsp",
        "\u{a0}",
        "&not",
        "&notit;",
        "&notin;",
        "&copy=",
        "&foo;",
        "&#x80;",
        "&#x81;",
        "&#150;",
        "&#0;",
        "&#x0;",
        "&#13;",
        "&#xD800;",
        "&#1114112;",
        "&#99999999999;",
        "&#x10FFFF;",
        "&#xFFFE;",
        "&#1;",
        "&#x1F600;",
        "&ngE;",
        "&acE;",
        "\u{2019}",
        "caff\u{e8}",
        "e\u{301}",
        "]]>",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut inputs = Vec::with_capacity(count);
    for _ in 0..count {
        let mut html = String::new();
        let mut open: Vec<&str> = Vec::new();
        for _ in 0..1 + next(20) {
            match next(6) {
                0 | 1 if open.len() < 6 => {
                    let mut name = ELEMENTS[next(ELEMENTS.len())];
                    // Elements that close or move others are the tree
                    // model's business; keep the stream as written.
                    if matches!(
                        name,
                        "div" | "ul" | "ol" | "dl" | "figure" | "details" | "pre" | "blockquote" | "h2"
                    ) && open.iter().any(|o| matches!(*o, "p" | "h2" | "a"))
                    {
                        name = "span";
                    }
                    if name == "a" && open.contains(&"a") {
                        name = "b";
                    }
                    html.push('<');
                    html.push_str(name);
                    for _ in 0..next(4) {
                        html.push(' ');
                        html.push_str(ATTRS[next(ATTRS.len())]);
                    }
                    html.push('>');
                    open.push(name);
                }
                2 if !open.is_empty() => {
                    let name = open.pop().unwrap();
                    html.push_str(&format!("</{name}>"));
                }
                3 if !open.iter().any(|o| matches!(*o, "ul" | "ol" | "dl")) => {
                    let name = VOID[next(VOID.len())];
                    html.push('<');
                    html.push_str(name);
                    for _ in 0..next(4) {
                        html.push(' ');
                        html.push_str(ATTRS[next(ATTRS.len())]);
                    }
                    html.push('>');
                }
                _ => {
                    for _ in 0..1 + next(4) {
                        html.push_str(TEXT[next(TEXT.len())]);
                    }
                }
            }
        }
        while let Some(name) = open.pop() {
            html.push_str(&format!("</{name}>"));
        }
        inputs.push(html);
    }
    inputs
}

/// Every feed document of the shipped samples and the test fixtures.
fn feed_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            // Documents in legacy encodings are the parser's business
            // (and quick-xml's); their bodies are in UTF-8 elsewhere.
            if path.is_dir() && !path.ends_with("encodings") {
                walk(&path, out);
            } else if path
                .extension()
                .is_some_and(|e| matches!(e.to_str(), Some("xml" | "rss" | "atom" | "json" | "rdf")))
            {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("config/samples"), &mut files);
    walk(&root.join("tests/fixtures"), &mut files);
    files.sort();
    files
}

/// The item bodies (content and summary) of every feed of [`feed_files`],
/// each with its item's link as the base, as the pipeline gives them, and
/// the folder the feed is in.
fn real_bodies() -> Vec<(String, Option<Url>, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut bodies = Vec::new();
    for path in feed_files() {
        let Ok(bytes) = std::fs::read(&path) else { continue };
        let Ok(feed) = feed_rs::parser::parse(&bytes[..]) else {
            continue;
        };
        // config/samples, tests/fixtures/dedup, tests/fixtures/planet, …
        let parts: Vec<_> = path
            .strip_prefix(root)
            .unwrap()
            .iter()
            .map(|c| c.to_string_lossy())
            .collect();
        let depth = if parts[0] == "config" { 2 } else { 3 };
        let set = parts[..depth.min(parts.len() - 1)].join("/");
        for entry in feed.entries {
            let base = entry.links.first().and_then(|l| Url::parse(&l.href).ok());
            let content = entry.content.and_then(|c| c.body);
            let summary = entry.summary.map(|s| s.content);
            for body in [content, summary].into_iter().flatten() {
                bodies.push((body, base.clone(), set.clone()));
            }
        }
    }
    bodies
}

#[test]
fn filter_output_equals_ammonia_on_every_corpus() {
    let base = url("https://example.com/feed/post.html");
    // Hostile and sloppy markup: mostly ammonia's, some of it exact.
    let hostile: Vec<String> = XSS_VECTORS
        .iter()
        .chain(MUTATION_XSS)
        .map(|s| s.to_string())
        .chain(fuzz_inputs(20_000))
        .collect();
    let filtered = hostile
        .iter()
        .filter(|input| same_as_ammonia(input, Some(&base)))
        .count();
    println!(
        "hostile and fuzzed markup: the filter took {filtered} of {}",
        hostile.len()
    );
    // Markup built as written, full of references, URLs and attributes:
    // nearly all the filter's.
    let exact = exact_inputs(20_000);
    let filtered = exact.iter().filter(|input| same_as_ammonia(input, Some(&base))).count();
    println!("generated exact markup: the filter took {filtered} of {}", exact.len());
    assert!(filtered * 10 >= exact.len() * 9, "{filtered} of {}", exact.len());
}

#[test]
fn filter_output_equals_ammonia_on_real_bodies_and_takes_most_of_them() {
    let bodies = real_bodies();
    assert!(bodies.len() > 500, "only {} bodies found", bodies.len());
    let mut sets: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for (body, base, set) in &bodies {
        let taken = same_as_ammonia(body, base.as_ref());
        let counts = sets.entry(set.as_str()).or_default();
        counts.0 += usize::from(taken);
        counts.1 += 1;
    }
    for (set, (taken, all)) in &sets {
        println!("real bodies, {set}: the filter took {taken} of {all}");
    }
    let filtered: usize = sets.values().map(|c| c.0).sum();
    println!(
        "real bodies in all: the filter took {filtered} of {} ({:.1} %)",
        bodies.len(),
        100.0 * filtered as f64 / bodies.len() as f64
    );
    assert!(filtered * 10 >= bodies.len() * 9, "{filtered} of {}", bodies.len());
}

#[test]
fn filter_matches_ammonia_on_each_allowed_element_and_attribute() {
    let base = url("https://example.com/a/b");
    for element in super::super::Element::allowed_names() {
        let void = super::super::Element::named(element).is_some_and(|e| e.is_void());
        let attrs = "title=\"t\" lang=\"en\" href=\"/h\" src=\"s.png\" align=\"left\" cite=\"c\" alt=\"a\" \
                     width=\"1\" span=\"2\" colspan=\"3\" summary=\"s\" start=\"4\" dir=\"ltr\" datetime=\"d\" \
                     hreflang=\"it\" headers=\"h\" scope=\"row\" char=\".\" charoff=\"1\" size=\"2\" rowspan=\"2\" \
                     height=\"3\" rel=\"x\" onclick=\"y\"";
        // Text inside table structure is moved out of it by the parser.
        let text = if matches!(element, "table" | "tbody" | "thead" | "tfoot" | "tr" | "colgroup") {
            ""
        } else {
            "x"
        };
        let input = if void {
            format!("<{element} {attrs}>")
        } else if text.is_empty() {
            format!("<{element} {attrs}></{element}>")
        } else {
            format!("<{element} {attrs}>x</{element}>")
        };
        // Table parts stand where they belong for the stream to be exact.
        let input = match element {
            "td" | "th" => format!("<table><tbody><tr>{input}</tr></tbody></table>"),
            "tr" => format!("<table><tbody>{input}</tbody></table>"),
            "tbody" | "thead" | "tfoot" | "caption" | "colgroup" => format!("<table>{input}</table>"),
            "col" => format!("<table><colgroup>{input}</colgroup></table>"),
            "li" => format!("<ul>{input}</ul>"),
            "dd" | "dt" => format!("<dl>{input}</dl>"),
            "rp" | "rt" | "rtc" => format!("<ruby>r{input}</ruby>"),
            _ => input,
        };
        assert!(
            same_as_ammonia(&input, Some(&base)),
            "the filter did not take {input:?}"
        );
    }
}

#[test]
fn references_and_urls_the_filter_decodes_like_the_parser() {
    let base = url("https://example.com/feed/");
    for (input, out) in [
        // Legacy names without a semicolon: decoded in text, kept in an
        // attribute before a letter, digit or `=`.
        ("<p>&notit; &copy2 &ampx</p>", "<p>\u{ac}it; \u{a9}2 &amp;x</p>"),
        (
            "<p title=\"&notit; &copy2 &copy=1 &copy.\">x</p>",
            "<p title=\"&amp;notit; &amp;copy2 &amp;copy=1 \u{a9}.\">x</p>",
        ),
        // Numeric references: windows-1252 for C1, U+FFFD for what is not a character.
        (
            "<p>&#x80;&#150;&#0;&#xD800;&#1114112;&#99999999999;</p>",
            "<p>\u{20ac}\u{2013}\u{fffd}\u{fffd}\u{fffd}\u{fffd}</p>",
        ),
        // Two-character references.
        ("<p>&ngE;</p>", "<p>\u{2267}\u{338}</p>"),
        // The serializer's escapes, U+00A0 included.
        (
            "<p title=\"a&quot;b&nbsp;<>\">&lt;&gt;&amp;&nbsp;</p>",
            "<p title=\"a&quot;b&nbsp;&lt;&gt;\">&lt;&gt;&amp;&nbsp;</p>",
        ),
        // The newline that starts a `<pre>` goes; keep_pre_newlines keeps a second.
        ("<pre>\r\n\r\nx</pre>", "<pre>\n\nx</pre>"),
        // A repeated attribute keeps its first value; relative URLs resolve.
        (
            "<img src=\"a.png\" SRC=\"b.png\">",
            "<img src=\"https://example.com/feed/a.png\">",
        ),
    ] {
        assert!(filter_takes_first_pass(input, Some(&base)), "{input:?}");
        assert_eq!(sanitize(input, Some(&base)), out, "{input:?}");
        assert_eq!(sanitize_by_ammonia(input, Some(&base)), out, "{input:?}");
    }
    // A reference right after `<pre>` is left to ammonia: whether the
    // parser drops the newline it stands for depends on its semicolon.
    for input in ["<pre>&#10;x</pre>", "<pre>&#10x</pre>"] {
        assert!(!filter_takes_first_pass(input, Some(&base)), "{input:?}");
        assert_eq!(sanitize(input, Some(&base)), sanitize_by_ammonia(input, Some(&base)));
    }
}
