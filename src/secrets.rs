//! What counts as a secret in a source's address, and how it is kept out of
//! everything Tributary shows.
//!
//! A source URL may carry credentials: userinfo (`https://user:pass@host/`)
//! or a credential-like query parameter (`?token=…`). The merged feeds,
//! OPML and exports are public by nature, and logs, errors and the status
//! routes are read by more people than the config file, so:
//!
//! - [`public_url`] is what is *published*: the URL without userinfo and
//!   without credential-like parameters (feeds, `/opml`, `export-opml`);
//! - [`redact_url`] and [`redact_text`] are what is *shown*: the same URL
//!   with each secret replaced by `***`, so an operator still sees which
//!   address was meant (logs, error messages, `/sources`, `tributary
//!   sources`).
//!
//! Credential-like parameters are matched by name, case-insensitively, with
//! `-` read as `_`: [`CREDENTIAL_PARAMS`].
//!
//! A source's request options (`username`, `password`, header values) are
//! held as [`Secret`]s: their `Debug` and `Display` print [`MASK`], so no log
//! line, error or status page built from a configuration can show them.
//! Pure functions, no I/O.

use std::borrow::Cow;

use url::Url;

/// What a secret is shown as.
pub const MASK: &str = "***";

/// A value that is sent to a server but never shown: `Debug` and `Display`
/// print [`MASK`]; [`Secret::expose`] gives the value to the code that sends it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the request that carries it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(MASK)
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(MASK)
    }
}

/// Query parameter names whose values are treated as credentials
/// (compared case-insensitively, `-` read as `_`).
pub const CREDENTIAL_PARAMS: &[&str] = &[
    "token",
    "key",
    "apikey",
    "api_key",
    "access_token",
    "auth",
    "auth_token",
    "secret",
    "client_secret",
    "password",
    "passwd",
    "private_token",
    "sig",
    "signature",
];

/// Whether a query parameter of this name carries a credential.
pub fn is_credential_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase().replace('-', "_");
    CREDENTIAL_PARAMS.contains(&name.as_str())
}

/// Whether the URL text carries userinfo or a credential-like parameter.
pub fn has_secrets(url: &str) -> bool {
    Url::parse(url).is_ok_and(|u| url_has_secrets(&u))
}

fn url_has_secrets(u: &Url) -> bool {
    !u.username().is_empty() || u.password().is_some() || u.query_pairs().any(|(k, _)| is_credential_param(&k))
}

/// The URL as it may be published: userinfo and credential-like query
/// parameters removed. `None` when the text is not an `http(s)` URL (a file
/// path, say), which is never published.
pub fn public_url(url: &str) -> Option<String> {
    let mut u = Url::parse(url).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    if !url_has_secrets(&u) {
        return Some(url.to_string());
    }
    // Neither can fail on an http(s) URL, which always has a host.
    let _ = u.set_username("");
    let _ = u.set_password(None);
    rewrite_query(&mut u, |_| None);
    Some(u.to_string())
}

/// The URL as it may be shown in logs, errors and status: each secret (user
/// name, password, credential parameter value) replaced by [`MASK`]. Text
/// that is not a URL with a host (a file path) is returned unchanged.
pub fn redact_url(url: &str) -> Cow<'_, str> {
    let Ok(mut u) = Url::parse(url) else {
        return Cow::Borrowed(url);
    };
    if !url_has_secrets(&u) {
        return Cow::Borrowed(url);
    }
    if !u.username().is_empty() {
        let _ = u.set_username(MASK);
    }
    if u.password().is_some() {
        let _ = u.set_password(Some(MASK));
    }
    rewrite_query(&mut u, |_| Some(MASK));
    Cow::Owned(u.to_string())
}

/// Rewrites the credential parameters of `u`'s query: `replace` gives the
/// new value, or `None` to drop the parameter. Other parameters keep their
/// exact bytes and order.
fn rewrite_query(u: &mut Url, replace: impl Fn(&str) -> Option<&'static str>) {
    let Some(query) = u.query() else { return };
    let mut parts: Vec<String> = Vec::new();
    for part in query.split('&') {
        let raw_name = part.split_once('=').map_or(part, |(n, _)| n);
        let name: String = url::form_urlencoded::parse(raw_name.as_bytes())
            .next()
            .map(|(n, _)| n.into_owned())
            .unwrap_or_default();
        if is_credential_param(&name) {
            if let Some(value) = replace(&name) {
                parts.push(format!("{raw_name}={value}"));
            }
        } else {
            parts.push(part.to_string());
        }
    }
    if parts.is_empty() {
        u.set_query(None);
    } else {
        u.set_query(Some(&parts.join("&")));
    }
}

/// Free text (an error message, a log line) with every URL in it redacted
/// as by [`redact_url`]. A URL is a `scheme://` run of ASCII up to white
/// space, a quote or an angle bracket; closing punctuation at its end is left out.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(sep) = rest.find("://") {
        let scheme_start = rest[..sep]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            .last()
            .map_or(sep, |(i, _)| i);
        let tail = &rest[sep..];
        let end = sep
            + tail
                .find(|c: char| c.is_whitespace() || !c.is_ascii() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
                .unwrap_or(tail.len());
        let mut token_end = end;
        while token_end > sep + 3 && rest[..token_end].ends_with([')', '.', ',', ';', ':', ']', '!', '?']) {
            token_end -= 1;
        }
        out.push_str(&rest[..scheme_start]);
        let token = &rest[scheme_start..token_end];
        let shown = redact_url(token);
        changed |= matches!(shown, Cow::Owned(_));
        out.push_str(&shown);
        out.push_str(&rest[token_end..end]);
        rest = &rest[end..];
    }
    out.push_str(rest);
    if changed { Cow::Owned(out) } else { Cow::Borrowed(text) }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const LEAKY: &str = "http://user:secret@feeds.example.com/feed?token=abc&lang=it&API-Key=k1";

    #[test]
    fn a_secret_is_masked_in_debug_and_display() {
        let s = Secret::new("hunter2");
        assert_eq!(
            format!("{s} {s:?} {:?}", Some(("user", s.clone()))),
            "*** *** Some((\"user\", ***))"
        );
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn public_url_drops_userinfo_and_credential_params_and_keeps_the_rest() {
        assert_eq!(
            public_url(LEAKY).as_deref(),
            Some("http://feeds.example.com/feed?lang=it")
        );
        assert_eq!(
            public_url("https://example.com/f?sig=1").as_deref(),
            Some("https://example.com/f")
        );
        // Clean URLs pass byte for byte, even when the url crate would
        // normalize them.
        assert_eq!(
            public_url("https://Example.com/a%7Eb?q=%41").as_deref(),
            Some("https://Example.com/a%7Eb?q=%41")
        );
        assert_eq!(public_url("/var/lib/feeds/a.xml"), None);
        assert_eq!(public_url("file:///var/lib/feeds/a.xml"), None);
    }

    #[test]
    fn every_documented_parameter_is_a_credential() {
        for name in CREDENTIAL_PARAMS {
            let url = format!("https://example.com/f?{name}=s3cr3t&x=1");
            assert!(!public_url(&url).unwrap().contains("s3cr3t"), "{name}");
            assert!(!redact_url(&url).contains("s3cr3t"), "{name}");
            assert!(is_credential_param(&name.to_ascii_uppercase()), "{name}");
        }
        assert!(!is_credential_param("keyword"));
        assert!(!is_credential_param("page"));
    }

    #[test]
    fn redact_url_masks_each_secret() {
        assert_eq!(
            redact_url(LEAKY),
            "http://***:***@feeds.example.com/feed?token=***&lang=it&API-Key=***"
        );
        assert_eq!(redact_url("https://only-user@example.com/"), "https://***@example.com/");
        assert!(matches!(redact_url("https://example.com/feed"), Cow::Borrowed(_)));
        assert_eq!(redact_url("feeds/local.xml"), "feeds/local.xml");
    }

    #[test]
    fn redact_text_finds_urls_inside_messages() {
        let msg = format!("HTTP 404 from {LEAKY}. Check the URL (was {LEAKY})");
        let shown = redact_text(&msg);
        assert!(
            !shown.contains("secret") && !shown.contains("abc") && !shown.contains("k1"),
            "{shown}"
        );
        assert!(shown.starts_with("HTTP 404 from http://***:***@feeds.example.com/feed?token=***"));
        assert!(shown.ends_with("API-Key=***)"), "{shown}");
        let quoted = "error sending request for url (https://a:b@h.example/x?auth=z): refused";
        assert_eq!(
            redact_text(quoted),
            "error sending request for url (https://***:***@h.example/x?auth=***): refused"
        );
        assert!(matches!(redact_text("no url here"), Cow::Borrowed(_)));
        assert!(matches!(redact_text("see https://example.com/ok"), Cow::Borrowed(_)));
        // Multi-byte text around a URL survives.
        assert_eq!(
            redact_text("«https://u:p@h.example/» è giù"),
            "«https://***:***@h.example/» è giù"
        );
    }
}
