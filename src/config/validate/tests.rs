//! Unit tests of `config/validate`.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use url::Url;

use super::super::{ConfigError, DEFAULT_MAX_CONNECTIONS_PER_ADDRESS, Location, ProxySetting, parse, problems};
use super::*;

const PRIVATE: &str = "[[source]]\nname = \"p\"\nurl = \"https://example.org/feed.xml\"\n";

#[test]
fn dollar_brace_names_expand_from_the_environment() {
    let env = |n: &str| (n == "TOKEN").then(|| "s3cr3t".to_string());
    assert_eq!(expand("Bearer ${TOKEN}", env).unwrap(), "Bearer s3cr3t");
    assert_eq!(expand("a$$b$c", env).unwrap(), "a$b$c");
    let unset = expand("${NOPE}", env).unwrap_err();
    assert!(unset.contains("environment variable NOPE is not set"), "{unset}");
    assert!(expand("${", env).is_err());
    assert!(expand("${A-B}", env).is_err());
}

#[test]
fn an_unset_variable_is_a_config_error_naming_it() {
    let p = problems(&format!(
        "{PRIVATE}username = \"u\"\npassword = \"${{TRIBUTARY_TEST_UNSET_VARIABLE_7F3A}}\"\n"
    ));
    assert_eq!(p.len(), 1, "{p:#?}");
    assert_eq!(p[0].line, 5);
    assert!(
        p[0].message
            .starts_with("password: environment variable TRIBUTARY_TEST_UNSET_VARIABLE_7F3A is not set"),
        "{}",
        p[0].message
    );
}

#[test]
fn basic_auth_headers_and_user_agent_are_read_and_never_printed() {
    let c = parse(
            &format!(
                "{PRIVATE}username = \"reader\"\npassword = \"hunter2\"\nuser_agent = \"Custom/1\"\nheaders = {{ \"X-Api-Key\" = \"k3y\", Cookie = \"session=c00kie\" }}\n"
            ),
            Path::new("/srv/t/tributary.toml"),
        )
        .unwrap();
    let r = &c.sources[0].request;
    let (user, password) = r.basic_auth.as_ref().unwrap();
    assert_eq!((user.expose(), password.expose()), ("reader", "hunter2"));
    let headers: Vec<(&str, &str)> = r.headers.iter().map(|(n, v)| (n.as_str(), v.expose())).collect();
    assert_eq!(headers, [("cookie", "session=c00kie"), ("x-api-key", "k3y")]);
    assert_eq!(r.user_agent.as_deref(), Some("Custom/1"));
    let shown = format!("{:?}", c.sources[0]);
    for secret in ["reader", "hunter2", "k3y", "c00kie"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[test]
fn password_file_is_read_relative_to_the_config_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("feed.pass"), "from-file\n").unwrap();
    let c = parse(
        &format!("{PRIVATE}username = \"u\"\npassword_file = \"feed.pass\"\n"),
        &dir.path().join("tributary.toml"),
    );
    // $CREDENTIALS_DIRECTORY takes precedence when set; the tests run without it.
    if std::env::var_os("CREDENTIALS_DIRECTORY").is_none() {
        let c = c.unwrap();
        let (_, password) = c.sources[0].request.basic_auth.as_ref().unwrap();
        assert_eq!(password.expose(), "from-file");
    }
}

#[test]
fn password_mistakes_are_reported_without_the_password() {
    let p = problems(&format!(
        "{PRIVATE}password = \"hunter2\"\npassword_file = \"/nonexistent/p\"\nheaders = {{ \"Bad Name\" = \"x\", Ok = \"zz7\\nzz9\" }}\n"
    ));
    let messages: Vec<&str> = p.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(messages.len(), 4, "{p:#?}");
    assert!(
        messages.iter().any(|m| m.contains("either password or password_file")),
        "{messages:?}"
    );
    assert!(messages.iter().any(|m| m.contains("needs a username")), "{messages:?}");
    assert!(
        messages
            .iter()
            .any(|m| m.contains("\"Bad Name\" is not an HTTP header name")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("value of \"ok\"") || m.contains("value of \"Ok\"")),
        "{messages:?}"
    );
    assert!(
        messages.iter().all(|m| !m.contains("hunter2") && !m.contains("zz9")),
        "{messages:?}"
    );
}

#[test]
fn a_source_takes_the_daemon_proxy_unless_it_names_its_own() {
    let c = parse(
            &format!("[daemon]\nproxy = \"env\"\n{PRIVATE}\n[[source]]\nname = \"q\"\nurl = \"https://example.org/q\"\nproxy = \"http://u:pw@proxy.example:3128\"\n"),
            Path::new("/srv/t/tributary.toml"),
        )
        .unwrap();
    assert_eq!(c.sources[0].proxy, Some(ProxySetting::Env));
    assert!(
        matches!(&c.sources[1].proxy, Some(ProxySetting::Url(u)) if u.expose() == "http://u:pw@proxy.example:3128")
    );
    assert!(!format!("{:?}", c.sources[1]).contains("pw@"));
    for good in [
        "socks5://127.0.0.1:1080",
        "socks5h://u:pw@proxy.example:1080",
        "https://proxy.example",
    ] {
        let c = parse(
            &format!("{PRIVATE}proxy = \"{good}\"\n"),
            Path::new("/srv/t/tributary.toml"),
        )
        .unwrap();
        assert!(matches!(&c.sources[0].proxy, Some(ProxySetting::Url(u)) if u.expose() == good));
    }
    let p = problems(&format!(
        "[daemon]\nproxy = \"socks4://127.0.0.1:1080\"\n{PRIVATE}proxy = \"socks5://\"\n"
    ));
    assert_eq!(p.len(), 2, "{p:#?}");
    assert_eq!((p[0].line, p[0].column), (2, 9));
    assert!(
        p[0].message.starts_with("proxy scheme \"socks4\" is not supported")
            && p[0].message.contains("socks5:// or socks5h://"),
        "{}",
        p[0].message
    );
    assert!(p[1].message.contains("names no host"), "{}", p[1].message);
    let p = problems(&format!("{PRIVATE}proxy = \"ftp://proxy.example\"\n"));
    assert!(
        p[0].message.starts_with("proxy scheme \"ftp\" is not supported"),
        "{}",
        p[0].message
    );
}

#[test]
fn minimal_config_gets_defaults() {
    let c = parse(
        "[[source]]\nname = \"a\"\nurl = \"https://example.org/feed.xml\"\n",
        Path::new("/srv/t/tributary.toml"),
    )
    .unwrap();
    assert_eq!(c.daemon.database, Path::new("/srv/t/data/tributary.db"));
    assert_eq!(c.daemon.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.feed.base_url.as_str(), "http://127.0.0.1:8080/");
    assert_eq!(c.daemon.max_feed_bytes, 16 * 1024 * 1024);
    assert_eq!(c.sources[0].schedule.to_string(), "*/15 * * * *");
    assert_eq!(
        c.sources[0].location,
        Location::Http(Url::parse("https://example.org/feed.xml").unwrap())
    );
}

#[test]
fn all_validation_problems_are_reported_with_positions() {
    let text = r#"
[daemon]
schedule = "every day"
max_concurrent_fetches = 0

[[source]]
name = "Bad Name"
url = "https://example.org/a"

[[source]]
name = "dup"
url = "ftp://example.org/b"

[[source]]
name = "dup"
url = "https://example.org/c"
schedule = "* * *"
include = ["(unclosed"]
"#;
    let p = problems(text);
    let lines: Vec<usize> = p.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![3, 4, 7, 12, 15, 17, 18], "{p:#?}");
    assert!(p[2].message.contains("a-z"));
    assert!(p[3].message.contains("scheme"));
    assert!(p[4].message.contains("twice"));
    assert_eq!(p[0].column, 12);
    let err = parse(text, Path::new("/x/t.toml")).unwrap_err().to_string();
    assert!(err.starts_with("/x/t.toml:3:12: "), "{err}");
}

#[test]
fn url_without_a_scheme_suggests_https() {
    let text = "[[source]]\nname = \"a\"\nurl = \"example.org/feed\"\n\n[[source]]\nname = \"b\"\nurl = \"localhost:8080/rss\"\n\n[[source]]\nname = \"c\"\nurl = \"https:/news.example.it/feed\"\n";
    let p = problems(text);
    assert_eq!(p.len(), 3, "{p:#?}");
    assert_eq!((p[0].line, p[0].column), (3, 7));
    assert!(
        p[0].message.ends_with("did you mean \"https://example.org/feed\"?"),
        "{}",
        p[0].message
    );
    assert!(p[0].message.starts_with("this url has no scheme"), "{}", p[0].message);
    assert!(
        p[1].message.ends_with("did you mean \"https://localhost:8080/rss\"?"),
        "{}",
        p[1].message
    );
    assert!(
        p[2].message.ends_with("did you mean \"https://news.example.it/feed\"?"),
        "{}",
        p[2].message
    );
}

#[test]
fn cron_error_in_config_speaks_of_the_written_line() {
    let p = problems("[daemon]\nschedule = \"61 * * * *\"\n");
    assert_eq!(p.len(), 1, "{p:#?}");
    assert_eq!((p[0].line, p[0].column), (2, 12));
    assert_eq!(
        p[0].message,
        "schedule \"61 * * * *\": minute 61 is out of range: minutes go from 0 to 59"
    );
}

#[test]
fn url_suggestions_show_credentials_as_stars() {
    let p = problems(
        "[[source]]\nname = \"a\"\nurl = \"user:pa55@example.org/feed?token=t0ken\"\n[[source]]\nname = \"b\"\nurl = \"htps://user:pa55@example.org/feed\"\n",
    );
    assert_eq!(p.len(), 2, "{p:#?}");
    for p in &p {
        assert!(
            p.message.contains("did you mean \"https://***:***@example.org/feed"),
            "{}",
            p.message
        );
        assert!(
            !p.message.contains("pa55") && !p.message.contains("t0ken"),
            "{}",
            p.message
        );
    }
}

#[test]
fn missing_files_get_no_url_suggestion() {
    for path in ["samples/missing.xml", "feed.xml", "./example.org", "/srv/feeds/a.rss"] {
        let p = problems(&format!("[[source]]\nname = \"a\"\nurl = {path:?}\n"));
        assert!(p[0].message.contains("does not exist"), "{path}: {}", p[0].message);
        assert!(!p[0].message.contains("did you mean"), "{path}: {}", p[0].message);
    }
}

#[test]
fn mistyped_schemes_suggest_the_right_one() {
    for (typo, meant) in [
        ("htps://e.org/feed", "https://e.org/feed"),
        ("htp://e.org/feed", "http://e.org/feed"),
        ("htpt://e.org/feed", "http://e.org/feed"),
        ("feed://e.org/rss", "https://e.org/rss"),
    ] {
        let p = problems(&format!("[[source]]\nname = \"a\"\nurl = {typo:?}\n"));
        assert!(
            p[0].message.ends_with(&format!("did you mean {meant:?}?")),
            "{typo}: {}",
            p[0].message
        );
    }
    let p = problems("[[source]]\nname = \"a\"\nurl = \"ftp://e.org/feed\"\n");
    assert!(!p[0].message.contains("did you mean"), "{}", p[0].message);
}

#[test]
fn max_connections_per_address_defaults_below_the_global_cap_and_is_bounded_by_it() {
    let c = parse("[daemon]\n", Path::new("/srv/t/tributary.toml")).unwrap();
    assert_eq!(
        c.daemon.max_connections_per_address,
        DEFAULT_MAX_CONNECTIONS_PER_ADDRESS
    );
    let c = parse(
        "[daemon]\nmax_connections_per_address = 8\n",
        Path::new("/srv/t/tributary.toml"),
    )
    .unwrap();
    assert_eq!(c.daemon.max_connections_per_address, 8);
    for bad in ["0", "-1", "4097"] {
        let p = problems(&format!(
            "[daemon]\nlisten = \"127.0.0.1:8080\"\nmax_connections_per_address = {bad}\n"
        ));
        assert_eq!(p.len(), 1, "{bad}: {p:?}");
        assert_eq!((p[0].line, p[0].column), (3, 31), "{bad}");
        assert!(p[0].message.contains("between 1 and 4096"), "{}", p[0].message);
    }
    let err = parse("[daemon]\nmax_connections_per_address = 5000\n", Path::new("/x/t.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("/x/t.toml:2:31: max_connections_per_address"), "{err}");
}

#[test]
fn a_source_title_names_it_and_an_empty_one_is_refused() {
    let cfg = Path::new("/etc/tributary/t.toml");
    let c = parse(
            "[[source]]\nname = \"fiona-s-photo-blog\"\nurl = \"https://fiona.example.org/feed\"\ntitle = \"  Fiona’s   photo blog \"\n\n[[source]]\nname = \"b\"\nurl = \"https://b.example.org/feed\"\n",
            cfg,
        )
        .unwrap();
    assert_eq!(c.sources[0].title.as_deref(), Some("Fiona’s photo blog"));
    assert_eq!(c.sources[1].title, None);
    assert_eq!(
        c.feed.source_titles.get("fiona-s-photo-blog").map(String::as_str),
        Some("Fiona’s photo blog")
    );
    assert_eq!(c.feed.source_titles.len(), 1);
    let p = match parse(
        "[[source]]\nname = \"a\"\nurl = \"https://a.example.org/\"\ntitle = \" \"\n",
        cfg,
    ) {
        Err(ConfigError::Invalid { problems, .. }) => problems,
        other => panic!("{other:?}"),
    };
    assert!(p[0].message.contains("title cannot be empty"), "{:?}", p[0]);
    assert_eq!(p[0].line, 4);
}

#[test]
fn file_sources_resolve_against_the_config_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("samples")).unwrap();
    std::fs::write(dir.path().join("samples/a.xml"), "<rss/>").unwrap();
    let cfg = dir.path().join("t.toml");
    let c = parse("[[source]]\nname = \"a\"\nurl = \"samples/a.xml\"\n", &cfg).unwrap();
    assert_eq!(c.sources[0].location, Location::File(dir.path().join("samples/a.xml")));
    let p = match parse("[[source]]\nname = \"a\"\nurl = \"samples/missing.xml\"\n", &cfg) {
        Err(ConfigError::Invalid { problems, .. }) => problems,
        _ => panic!(),
    };
    assert!(p[0].message.contains("does not exist"));
    assert_eq!((p[0].line, p[0].column), (3, 7));
}

#[test]
fn sizes_and_filters() {
    assert_eq!(parse_size("16MiB").unwrap(), 16 * 1024 * 1024);
    assert_eq!(parse_size("500 KB").unwrap(), 500_000);
    assert_eq!(parse_size("2048").unwrap(), 2048);
    assert!(parse_size("lots").is_err());
    let c = parse(
        "[[source]]\nname = \"a\"\nurl = \"https://e.org/\"\ninclude = [\"(?i)cina\"]\nexclude = [\"(?i)oroscopo\"]\n",
        Path::new("/t/t.toml"),
    )
    .unwrap();
    assert!(c.sources[0].accepts_with(|| "La Cina e la Russia"));
    assert!(!c.sources[0].accepts_with(|| "Oroscopo: la Cina"));
    assert!(!c.sources[0].accepts_with(|| "Meteo"));
}

#[test]
fn address_policies_global_and_per_source() {
    let c = parse(
            "[daemon]\nallow_private_addresses = [\"10.0.0.0/8\", \"127.0.0.2\"]\n[[source]]\nname = \"a\"\nurl = \"https://e.org/\"\n[[source]]\nname = \"b\"\nurl = \"https://e.org/b\"\nallow_private_addresses = true\ncache_hints = false\n",
            Path::new("/t/t.toml"),
        )
        .unwrap();
    assert_eq!(
        c.sources[0].allow_private_addresses,
        AddressPolicy::Allow(vec!["10.0.0.0/8".parse().unwrap(), "127.0.0.2/32".parse().unwrap()])
    );
    assert!(c.sources[0].cache_hints);
    assert_eq!(c.sources[1].allow_private_addresses, AddressPolicy::Any);
    assert!(!c.sources[1].cache_hints);
    let p = problems("[daemon]\nallow_private_addresses = \"yes\"\n");
    assert_eq!((p[0].line, p[0].column), (2, 27));
    assert!(p[0].message.contains("true, false, or a list"));
    let p = problems("[daemon]\nallow_private_addresses = [\"not-an-ip\"]\n");
    assert!(p[0].message.contains("not an address or network"), "{}", p[0].message);
}

#[test]
fn outputs_are_validated() {
    let text = "[[source]]\nname = \"a\"\nurl = \"https://e.org/\"\n\n[[output]]\nname = \"esteri\"\ntags = [\"esteri\"]\nsources = [\"a\", \"zz\"]\n";
    let p = problems(text);
    assert_eq!((p[0].line, p[0].column), (8, 17));
    assert!(
        p[0].message.contains("\"zz\", which is not configured"),
        "{}",
        p[0].message
    );
    let ok = parse(
            "[[source]]\nname = \"a\"\nurl = \"https://e.org/\"\n[[output]]\nname = \"esteri\"\ntags = [\"esteri\"]\nexclude = [\"(?i)oroscopo\"]\npath = \"public/esteri\"\n",
            Path::new("/t/t.toml"),
        )
        .unwrap();
    let o = ok.output("esteri").unwrap();
    assert_eq!(o.path.as_deref(), Some(Path::new("/t/public/esteri")));
    assert!(!o.accepts("Oroscopo di oggi"));
    assert_eq!(ok.output("all").unwrap().name, "all");
    assert!(ok.output("nope").is_none());
}

#[test]
fn feed_timezone_takes_offsets_and_zone_names_and_web_defaults_to_on() {
    let c = parse("", Path::new("/t/t.toml")).unwrap();
    assert_eq!(c.feed.timezone, TimeZone::UTC);
    assert_eq!(c.web, WebConfig::default());
    let c = parse(
        "[feed]\ntimezone = \"+01:00\"\n[web]\nenabled = false\ntemplates = \"look\"\n",
        Path::new("/t/t.toml"),
    )
    .unwrap();
    assert_eq!(
        c.feed.timezone,
        TimeZone::Offset(chrono::FixedOffset::east_opt(3600).unwrap())
    );
    assert!(!c.web.enabled);
    assert_eq!(c.web.templates.as_deref(), Some(Path::new("/t/look")));
    assert_eq!(parse_offset("-05:30").map(|o| o.local_minus_utc()), Some(-19_800));
    let c = parse("[feed]\ntimezone = \"Europe/Rome\"\n", Path::new("/t/t.toml")).unwrap();
    assert_eq!(c.feed.timezone, TimeZone::Named(chrono_tz::Europe::Rome));
    let p = problems("[feed]\ntimezone = \"Europe/Roma\"\n");
    assert_eq!((p[0].line, p[0].column), (2, 12));
    assert!(
        p[0].message.contains("did you mean \"Europe/Rome\"?"),
        "{}",
        p[0].message
    );
    assert!(p[0].message.contains("\"UTC\", or an offset"), "{}", p[0].message);
    let p = problems("[feed]\ntimezone = \"Middle Earth\"\n");
    assert!(!p[0].message.contains("did you mean"), "{}", p[0].message);
}

#[test]
fn full_text_keys_are_read_with_the_documented_default_rate() {
    let c = parse(
        &format!("{PRIVATE}full_text = true\nfull_text_selector = \"article .body\"\nfull_text_rate = \"250ms\"\n"),
        Path::new("/srv/t/tributary.toml"),
    )
    .unwrap();
    let ft = c.sources[0].full_text.as_ref().unwrap();
    assert_eq!(ft.selector.as_deref(), Some("article .body"));
    assert_eq!(ft.rate, std::time::Duration::from_millis(250));
    let c = parse(
        &format!("{PRIVATE}full_text = true\n"),
        Path::new("/srv/t/tributary.toml"),
    )
    .unwrap();
    let ft = c.sources[0].full_text.as_ref().unwrap();
    assert_eq!(
        (ft.selector.as_deref(), ft.rate),
        (None, crate::config::DEFAULT_FULL_TEXT_RATE)
    );
    let c = parse(PRIVATE, Path::new("/srv/t/tributary.toml")).unwrap();
    assert!(c.sources[0].full_text.is_none(), "off by default");
}

#[test]
fn a_bad_full_text_selector_is_a_config_error_at_its_place() {
    let p = problems(&format!(
        "{PRIVATE}full_text = true\nfull_text_selector = \"div[[\"\nfull_text_rate = \"soon\"\n"
    ));
    assert_eq!(p.len(), 2, "{p:#?}");
    assert_eq!((p[0].line, p[0].column), (5, 22));
    assert!(p[0].message.contains("is not a CSS selector"), "{}", p[0].message);
    assert_eq!(p[1].line, 6);
    assert!(
        p[1].message.contains("full_text_rate \"soon\" is not a duration"),
        "{}",
        p[1].message
    );
}

#[test]
fn full_text_selector_without_full_text_is_an_error() {
    let p = problems(&format!("{PRIVATE}full_text_selector = \"#story\"\n"));
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(p[0].message.contains("needs full_text = true"), "{}", p[0].message);
}

#[test]
fn initial_entries_and_max_age_of_the_daemon_are_overridden_per_source() {
    let c = parse(
        &format!(
            "[daemon]\ninitial_entries = 20\nmax_age = \"30d\"\n{PRIVATE}\n[[source]]\nname = \"q\"\nurl = \"https://example.org/q\"\ninitial_entries = 5\nmax_age = \"1h\"\n"
        ),
        Path::new("/srv/t/tributary.toml"),
    )
    .unwrap();
    let day = std::time::Duration::from_secs(86_400);
    assert_eq!(
        (c.sources[0].initial_entries, c.sources[0].max_age),
        (Some(20), Some(30 * day))
    );
    assert_eq!(
        (c.sources[1].initial_entries, c.sources[1].max_age),
        (Some(5), Some(std::time::Duration::from_secs(3600)))
    );
    let none = parse(PRIVATE, Path::new("/srv/t/tributary.toml")).unwrap();
    assert_eq!((none.sources[0].initial_entries, none.sources[0].max_age), (None, None));
}

#[test]
fn zero_or_negative_initial_entries_and_a_zero_max_age_are_refused_at_their_place() {
    let text = format!(
        "[daemon]\ninitial_entries = 0\nmax_age = \"0s\"\n{PRIVATE}initial_entries = -3\nmax_age = \"a month\"\n"
    );
    let p = problems(&text);
    assert_eq!(p.len(), 4, "{p:#?}");
    assert_eq!((p[0].line, p[0].column), (2, 19), "{p:#?}");
    assert!(
        p[0].message.starts_with("initial_entries must be 1 or more") && p[0].message.ends_with("not 0"),
        "{}",
        p[0].message
    );
    assert_eq!((p[1].line, p[1].column), (3, 11));
    assert!(
        p[1].message.starts_with("max_age must be longer than 0s"),
        "{}",
        p[1].message
    );
    assert_eq!(p[2].line, 7);
    assert!(p[2].message.ends_with("not -3"), "{}", p[2].message);
    assert_eq!(p[3].line, 8);
    assert!(
        p[3].message.starts_with("max_age \"a month\" is not a duration"),
        "{}",
        p[3].message
    );
    let err = parse(&text, Path::new("/srv/t/tributary.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("/srv/t/tributary.toml:2:19: initial_entries must be 1 or more"),
        "{err}"
    );
}
