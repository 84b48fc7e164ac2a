//! Fuzz target `sanitize`: the sanitizer's filter against ammonia.
//!
//! For markup the HTML parser builds exactly as written, the sanitizer does
//! ammonia's work with a filter over the token stream instead of building a
//! tree (`src/html/filter.rs`). This target requires the two to agree byte
//! for byte on arbitrary input, and the output to be a fixpoint (sanitizing
//! it again changes nothing). The first input byte chooses the base URL:
//! none, an `https` page, an `http` directory, or a `file` URL (which the
//! sanitizer treats as none); the rest, read as UTF-8 with replacement
//! characters, is the fragment.

#![no_main]

use libfuzzer_sys::fuzz_target;
use url::Url;

use tributary::html::{sanitize, sanitize_by_ammonia};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let base = match selector % 4 {
        0 => None,
        1 => Url::parse("https://example.com/feed/post.html").ok(),
        2 => Url::parse("http://example.org/a/b/").ok(),
        _ => Url::parse("file:///srv/feeds/feed.xml").ok(),
    };
    let html = String::from_utf8_lossy(rest);
    let out = sanitize(&html, base.as_ref());
    let reference = sanitize_by_ammonia(&html, base.as_ref());
    assert_eq!(out, reference, "the filter and ammonia differ on {html:?} (base {base:?})");
    assert_eq!(sanitize(&out, base.as_ref()), out, "not a fixpoint: {html:?} (base {base:?})");
});
