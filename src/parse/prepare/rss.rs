//! The RSS dialects feed-rs does not accept, mapped onto ones it does.
//!
//! feed-rs reads RSS only when the root `<rss>` says version "2.0", "0.91"
//! or "0.92", and RDF only in the RSS 1.0 namespace. Feeds in the wild
//! write `<rss>` without a version, or with 0.93, 0.94, 2.01 and the like,
//! and Netscape's RSS 0.90 uses a namespace of its own for elements RSS
//! 1.0 shares. Both are fixed on text the markup repair has already made
//! well-formed; any other root is left untouched.

use memchr::memmem;

/// The namespace of Netscape's RSS 0.90, which feed-rs does not know.
const NETSCAPE_RSS_NS: &str = "http://my.netscape.com/rdf/simple/0.9/";
/// The RSS 1.0 namespace, whose elements RSS 0.90 shares.
const RSS1_NS: &str = "http://purl.org/rss/1.0/";

/// Gives an `<rss>` root a version feed-rs accepts ("2.0", "0.91", "0.92").
pub(super) fn fix_rss_version(out: &mut String, root: usize) {
    let b = out.as_bytes();
    let tag = &b[root..];
    if !tag.starts_with(b"<rss")
        || !tag
            .get(4)
            .is_some_and(|&c| c.is_ascii_whitespace() || c == b'>' || c == b'/')
    {
        return;
    }
    let mut j = root + 4;
    let skip_ws = |mut j: usize| {
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        j
    };
    loop {
        j = skip_ws(j);
        match b.get(j) {
            None | Some(b'>' | b'/') => break,
            _ => {}
        }
        let name_start = j;
        while j < b.len() && !b[j].is_ascii_whitespace() && !matches!(b[j], b'=' | b'>' | b'/') {
            j += 1;
        }
        let name_end = j;
        j = skip_ws(j);
        if b.get(j) != Some(&b'=') {
            if name_end == name_start {
                j += 1;
            }
            continue;
        }
        j = skip_ws(j + 1);
        let (value_start, value_end, replace) = match b.get(j) {
            Some(&q) if q == b'"' || q == b'\'' => {
                let Some(len) = memchr::memchr(q, &b[j + 1..]) else {
                    return;
                };
                let start = j + 1;
                j = start + len + 1;
                (start, start + len, "2.0")
            }
            _ => {
                let start = j;
                while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                    j += 1;
                }
                (start, j, "\"2.0\"")
            }
        };
        if &b[name_start..name_end] == b"version" {
            if !matches!(&b[value_start..value_end], b"2.0" | b"0.91" | b"0.92") {
                out.replace_range(value_start..value_end, replace);
            }
            return;
        }
    }
    out.insert_str(root + 4, " version=\"2.0\"");
}

/// The default namespaces UserLand once gave RSS 0.92 and 2.0 documents;
/// RSS has no namespace, and feed-rs reads no item in these.
const USERLAND_RSS_NS: &[&str] = &["http://backend.userland.com/rss2", "http://backend.userland.com/rss"];

/// Undeclares a UserLand RSS namespace given as the default namespace
/// (`xmlns="http://backend.userland.com/rss2"` becomes `xmlns=""`), so the
/// elements are RSS's own again. A prefixed declaration is left alone: a
/// prefix cannot be undeclared, and its elements are not the feed's.
pub(super) fn drop_userland_namespace(out: String) -> String {
    if !out.contains("backend.userland.com/rss") {
        return out;
    }
    let mut fixed = out;
    for ns in USERLAND_RSS_NS {
        for quote in ['"', '\''] {
            fixed = fixed.replace(&format!("xmlns={quote}{ns}{quote}"), &format!("xmlns={quote}{quote}"));
        }
    }
    fixed
}

/// Replaces the RSS 0.90 namespace (as an attribute value) by RSS 1.0's.
pub(super) fn replace_netscape_namespace(out: String) -> String {
    let b = out.as_bytes();
    let finder = memmem::Finder::new(NETSCAPE_RSS_NS.as_bytes());
    let hits: Vec<usize> = finder
        .find_iter(b)
        .filter(|&at| at > 0 && matches!(b[at - 1], b'"' | b'\''))
        .collect();
    if hits.is_empty() {
        return out;
    }
    let mut fixed = String::with_capacity(out.len());
    let mut copied = 0;
    for at in hits {
        fixed.push_str(&out[copied..at]);
        fixed.push_str(RSS1_NS);
        copied = at + NETSCAPE_RSS_NS.len();
    }
    fixed.push_str(&out[copied..]);
    fixed
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::parse::prepare::tests::{entry_titles, feed_title, parse, prepare_str};

    fn rss_root(root: &str) -> String {
        format!("{root}<channel><title>T</title><item><title>A</title></item></channel></rss>")
    }

    #[test]
    fn rss_version_is_fixed() {
        for (root, expected) in [
            ("<rss>", "<rss version=\"2.0\">"),
            ("<rss version=\"2.01\">", "<rss version=\"2.0\">"),
            ("<rss version='0.93'>", "<rss version='2.0'>"),
            ("<rss version=\"0.94\">", "<rss version=\"2.0\">"),
            ("<rss version=\"\">", "<rss version=\"2.0\">"),
            ("<rss version=2.01>", "<rss version=\"2.0\">"),
            (
                "<rss\n  xmlns:atom=\"http://www.w3.org/2005/Atom\" version = \"0.90\" >",
                "<rss\n  xmlns:atom=\"http://www.w3.org/2005/Atom\" version = \"2.0\" >",
            ),
            (
                "<rss xmlns:version=\"urn:x\" a='version=\"1\"'>",
                "<rss version=\"2.0\" xmlns:version=\"urn:x\" a='version=\"1\"'>",
            ),
            ("<rss version=\"2.0\">", "<rss version=\"2.0\">"),
            ("<rss version=\"0.91\">", "<rss version=\"0.91\">"),
            ("<rss version=\"0.92\">", "<rss version=\"0.92\">"),
        ] {
            let doc = format!("<?xml version=\"1.0\"?>\n<!-- <rss> -->{}", rss_root(root));
            let p = prepare_str(&doc);
            assert!(p.text.contains(expected), "{root}: {}", p.text);
            assert_eq!(entry_titles(&parse(&p)), vec!["A"], "{root}");
        }
    }

    #[test]
    fn other_roots_are_untouched() {
        let doc = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T &amp; U</title>\
                   <entry><title>A</title><id>1</id></entry></feed>";
        let p = prepare_str(doc);
        assert_eq!(p.text, doc);
        assert_eq!(entry_titles(&parse(&p)), vec!["A"]);
    }

    #[test]
    fn userland_rss_namespace_is_undeclared() {
        let doc = r#"<?xml version="1.0"?>
<rss version="2.0" xmlns="http://backend.userland.com/rss2" xmlns:blogChannel="http://backend.userland.com/blogChannelModule">
  <channel><title>Scripting News</title><link>http://scripting.example.com/</link><description>d</description>
  <item><title>First</title><guid>1</guid></item><item><title>Second</title><guid>2</guid></item></channel></rss>"#;
        let p = prepare_str(doc);
        assert!(
            p.text.contains("<rss version=\"2.0\" xmlns=\"\" xmlns:blogChannel="),
            "{}",
            p.text
        );
        let feed = parse(&p);
        assert_eq!(feed_title(&feed), "Scripting News");
        assert_eq!(entry_titles(&feed), vec!["First", "Second"]);
    }

    #[test]
    fn rss_090_namespace_is_mapped() {
        let doc = r#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/">
  <channel><title>Mozilla Dot Org</title><link>http://www.mozilla.org</link><description>d</description></channel>
  <item><title>New Status Updates</title><link>http://www.mozilla.org/status/</link></item>
  <item><title>Bugzilla Reorganized</title><link>http://www.mozilla.org/bugs/</link></item>
</rdf:RDF>"#;
        let p = prepare_str(doc);
        assert!(p.text.contains("xmlns=\"http://purl.org/rss/1.0/\""));
        let feed = parse(&p);
        assert_eq!(feed_title(&feed), "Mozilla Dot Org");
        assert_eq!(entry_titles(&feed), vec!["New Status Updates", "Bugzilla Reorganized"]);
    }
}
