//! What the tests of this module run over and check with: hostile and
//! sloppy markup, the safety checks on sanitized output, and html5ever's
//! tokenizer as the reference for ours.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind as Raw5;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token as Token5, TokenSink, TokenSinkResult, Tokenizer as Tokenizer5, TokenizerOpts,
};

use super::Element;
use super::tokens::{RawKind, Token, Tokenizer, raw_element};

/// Script injection in the shapes the sanitizer must neutralize.
pub(crate) const XSS_VECTORS: &[&str] = &[
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://xss.example/xss.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    "<<script>script>alert(1)<</script>/script>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<img \"\"\"><script>alert(1)</script>\">",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\"&#106;avascript:alert(1)\">x</a>",
    "<a href=\"&#x6A;&#x61;&#x76;&#x61;script&#x3A;alert(1)\">x</a>",
    "<a href=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1)\">x</a>",
    "<a href=\"java\tscript:alert(1)\">x</a>",
    "<a href=\"java&#09;script:alert(1)\">x</a>",
    "<a href=\"java&#x0A;script:alert(1)\">x</a>",
    "<a href=\" \u{1}javascript:alert(1)\">x</a>",
    "<a href=\"  &#14;javascript:alert(1)\">x</a>",
    "<a href=\"javascript&colon;alert(1)\">x</a>",
    "<a href=javascript:alert(1)>x</a>",
    "<a href='vbscript:msgbox(1)'>x</a>",
    "<a href=\"livescript:alert(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<img src=\"data:image/svg+xml,<svg onload=alert(1)>\">",
    "<a href=\"file:///etc/passwd\">x</a>",
    "<a href=\"http://ok.example/\" onclick=\"alert(1)\">x</a>",
    "<div onmouseover=\"alert(1)\" onclick='x' ONLOAD=y>x</div>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
    "<svg><animate attributeName=href values=javascript:alert(1) /><a><text>x</text></a></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<math href=\"javascript:alert(1)\">x</math>",
    "<iframe src=\"https://evil.example/\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<base href=\"javascript:alert(1)//\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<form action=\"javascript:alert(1)\"><button formaction=\"javascript:alert(1)\">x</button></form>",
    "<input onfocus=alert(1) autofocus>",
    "<body onload=alert(1)>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<link rel=stylesheet href=\"javascript:alert(1)\">",
    "<table background=\"javascript:alert(1)\"><tr><td>x</td></tr></table>",
    "<details open ontoggle=alert(1)>x</details>",
    "<video><source onerror=\"alert(1)\"></video>",
    "<img src=\"x\" srcset=\"javascript:alert(1) 1x\">",
    "<blockquote cite=\"javascript:alert(1)\">q</blockquote>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<svg><iframe><a title=\"</iframe><img src onerror=alert(1)>\">test",
    "<!--<img src=\"--><img src=x onerror=alert(1)//\">",
    "<xmp><img src=x onerror=alert(1)></xmp>",
    "<textarea><script>alert(1)</script></textarea>",
    "<title><img src=x onerror=alert(1)></title>",
    "<plaintext><script>alert(1)</script>",
    "<b>&#x338; onmouseover=alert(1) x</b>",
    "<b>\u{338} onmouseover=alert(1) x</b>",
    "<a href=\"https://ok.example/\"\u{338} onclick=alert(1)>x</a>",
    "<img/src=x/onerror=alert(1)>",
    "<a/href=\"javascript:alert(1)\">x</a>",
    "<div \"onclick=alert(1)\">x</div>",
    "<p title=\"]]><script>alert(1)</script>\">cdata</p>",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<template><script>alert(1)</script></template>",
    "<select><option><img src=x onerror=alert(1)></option></select>",
    "<a href=\"https://ok.example/\" ping=\"https://track.example/\">x</a>",
];

/// Deterministic generator of hostile and sloppy markup.
pub(crate) fn fuzz_inputs(count: usize) -> Vec<String> {
    const PIECES: &[&str] = &[
        "<div>",
        "</div>",
        "<p>",
        "</p>",
        "<b>",
        "</b>",
        "<i>",
        "</i>",
        "<a href=\"/x\">",
        "<a href=\"javascript:alert(1)\">",
        "</a>",
        "<table>",
        "<tr>",
        "<td>",
        "</td>",
        "</table>",
        "<ul>",
        "<li>",
        "</ul>",
        "<svg>",
        "</svg>",
        "<math>",
        "<mtext>",
        "<script>",
        "</script>",
        "<style>",
        "</style>",
        "<textarea>",
        "</textarea>",
        "<iframe>",
        "</iframe>",
        "<noscript>",
        "</noscript>",
        "<!--",
        "-->",
        "<!",
        "<?",
        ">",
        "<",
        "\"",
        "'",
        "=",
        " ",
        "\n",
        "&",
        "&amp;",
        "&lt;",
        "&#x338;",
        "\u{338}",
        "&#106;",
        "\u{1}",
        "\u{0}",
        "\u{FFFE}",
        "]]>",
        "<![CDATA[",
        "<img src=x onerror=alert(1)>",
        "<img src=\"",
        "<div title=\"",
        "<div a\"b>",
        "/>",
        "<br/>",
        "</br>",
        "<select>",
        "<option>",
        "<template>",
        "<xmp>",
        "<plaintext>",
        "<h1>",
        "<h2>",
        "text",
        "é",
        "e\u{301}",
        "<base href=//evil>",
        "<meta http-equiv=refresh>",
        "onload=alert(1)",
        "<form>",
        "<button formaction=javascript:x>",
        "<object data=javascript:x>",
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|_| {
            let n = 1 + (next() % 24) as usize;
            (0..n)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect()
        })
        .collect()
}

/// Mutation XSS: markup that a sanitizer's serialization can turn into
/// something else when parsed again (foreign content, `noscript`, a form
/// closed across namespaces). ammonia issue 185 and the ammonia advisories
/// are of this family.
pub(crate) const MUTATION_XSS: &[&str] = &[
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<svg><style><img src=x onerror=alert(1)>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    "<math><mtext><table><mglyph><style><!--</style><img title=\"--&gt;&lt;/mglyph&gt;&lt;img src=1 onerror=alert(1)&gt;\">",
    "<svg></p><style><a id=\"</style><img src=1 onerror=alert(1)>\">",
    "<math><annotation-xml encoding=\"text/html\"><style><img src=x onerror=alert(1)></style></annotation-xml></math>",
    "<svg><foreignObject><p><style><img src=x onerror=alert(1)></style></p></foreignObject></svg>",
    "<table><select><option><style></option></select></table><img src=x onerror=alert(1)>",
];

/// Start tags of serialized output, with attribute names and decoded values.
pub(crate) fn start_tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    Tokenizer::html(html)
        .filter_map(|t| match t {
            Token::Start(tag) => Some((
                tag.name.to_string(),
                tag.attrs()
                    .map(|(k, v)| (k.to_ascii_lowercase(), htmlize::unescape_attribute(v).into_owned()))
                    .collect(),
            )),
            _ => None,
        })
        .collect()
}

/// Maximum nesting of well-formed serialized output.
pub(crate) fn output_depth(html: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for token in Tokenizer::html(html) {
        match token {
            Token::Start(tag) if !Element::named(&tag.name).is_some_and(Element::is_void) => {
                depth += 1;
                max = max.max(depth);
            }
            Token::End(tag) if !Element::named(&tag.name).is_some_and(Element::is_void) => {
                depth = depth.saturating_sub(1)
            }
            _ => {}
        }
    }
    max
}

/// Panics unless `out`, sanitized from `input`, holds only allowed
/// elements and attributes and safe URLs.
pub(crate) fn assert_safe(input: &str, out: &str) {
    let lower = out.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "{input:?} → {out:?}");
    assert!(!out.contains("]]>"), "{input:?} → {out:?}");
    for (name, attrs) in start_tags(out) {
        assert!(
            Element::named(&name).is_some_and(Element::is_allowed),
            "tag {name} from {input:?} → {out:?}"
        );
        for (attr, value) in attrs {
            assert!(!attr.starts_with("on"), "{attr} from {input:?} → {out:?}");
            assert!(
                !matches!(
                    attr.as_str(),
                    "style"
                        | "srcdoc"
                        | "formaction"
                        | "srcset"
                        | "action"
                        | "background"
                        | "xmlns"
                        | "xlink:href"
                        | "http-equiv"
                        | "cite"
                ),
                "{attr} from {input:?} → {out:?}"
            );
            let squeezed: String = value
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control())
                .collect::<String>()
                .to_ascii_lowercase();
            for bad in ["javascript:", "vbscript:", "data:", "file:", "livescript:"] {
                assert!(!squeezed.starts_with(bad), "{attr}={value:?} from {input:?} → {out:?}");
            }
            if matches!(attr.as_str(), "href" | "src") {
                assert!(
                    squeezed.starts_with("http://")
                        || squeezed.starts_with("https://")
                        || squeezed.starts_with("mailto:"),
                    "{attr}={value:?} from {input:?} → {out:?}"
                );
            }
        }
    }
}

/// `html` with every attribute value left out: the markup and text a
/// browser acts on (a value is inert text, its `<` and `>` escaped).
pub(crate) fn without_attribute_values(html: &str) -> String {
    Tokenizer::html(html)
        .map(|token| match token {
            Token::Text(t) | Token::Raw { text: t, .. } => t.to_owned(),
            Token::Start(tag) => {
                let names: String = tag.attrs().map(|(name, _)| format!(" {name}")).collect();
                format!("<{}{names}>", tag.name)
            }
            Token::End(tag) => format!("</{}>", tag.name),
        })
        .collect()
}

/// What html5ever's tokenizer makes of a fragment: start tags with their
/// attributes (lower-cased names, first of duplicates, decoded values),
/// end tags, and the decoded text between them, adjacent text joined.
pub(crate) struct Reference(RefCell<Vec<String>>);

impl Reference {
    fn push_text(&self, text: &str) {
        let mut tokens = self.0.borrow_mut();
        match tokens.last_mut() {
            Some(last) if last.starts_with("t:") => last.push_str(text),
            _ => tokens.push(format!("t:{text}")),
        }
    }
}

impl TokenSink for Reference {
    type Handle = ();

    fn process_token(&self, token: Token5, _line: u64) -> TokenSinkResult<()> {
        match token {
            Token5::TagToken(tag) if tag.kind == TagKind::StartTag => {
                let attrs: String = tag
                    .attrs
                    .iter()
                    .map(|a| format!(" {}={}", &*a.name.local, &*a.value))
                    .collect();
                let slash = if tag.self_closing { "/" } else { "" };
                self.0.borrow_mut().push(format!("<{}{attrs}{slash}>", &*tag.name));
                // Told, as the tree builder would tell it, which elements
                // hold raw text; `script` is read like `style`.
                return match raw_element(&tag.name).map(|(_, kind)| kind) {
                    Some(RawKind::Dropped | RawKind::Rawtext) => TokenSinkResult::RawData(Raw5::Rawtext),
                    Some(RawKind::Rcdata) => TokenSinkResult::RawData(Raw5::Rcdata),
                    Some(RawKind::Plaintext) => TokenSinkResult::Plaintext,
                    None => TokenSinkResult::Continue,
                };
            }
            Token5::TagToken(tag) => self.0.borrow_mut().push(format!("</{}>", &*tag.name)),
            Token5::CharacterTokens(text) => self.push_text(&text),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

pub(crate) fn reference(html: &str) -> Vec<String> {
    let opts = TokenizerOpts {
        discard_bom: false,
        ..TokenizerOpts::default()
    };
    let tokenizer = Tokenizer5::new(Reference(RefCell::new(Vec::new())), opts);
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.0.take()
}

/// Ours, in the reference's terms: names lower-cased, duplicate
/// attributes dropped, text and values decoded as HTML decodes them.
pub(crate) fn ours(html: &str) -> Vec<String> {
    let mut out = Reference(RefCell::new(Vec::new()));
    for token in Tokenizer::html(html) {
        match token {
            Token::Text(text) => out.push_text(&htmlize::unescape(text)),
            Token::Raw {
                text,
                kind: RawKind::Rcdata,
            } => out.push_text(&htmlize::unescape(text)),
            Token::Raw { text, .. } => out.push_text(text),
            Token::Start(tag) => {
                let mut seen = Vec::new();
                let mut attrs = String::new();
                for (name, value) in tag.attrs() {
                    let name = name.to_ascii_lowercase();
                    if !seen.contains(&name) {
                        attrs.push_str(&format!(" {name}={}", htmlize::unescape_attribute(value)));
                        seen.push(name);
                    }
                }
                let slash = if tag.self_closing { "/" } else { "" };
                out.0.get_mut().push(format!("<{}{attrs}{slash}>", tag.name));
            }
            Token::End(tag) => out.0.get_mut().push(format!("</{}>", tag.name)),
        }
    }
    out.0.take()
}
