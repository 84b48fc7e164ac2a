//! `tributary add`: a feed found from a URL (the feed itself, or a page
//! advertising it) and appended to the config file as a `[[source]]` block.

use super::*;

/// `tributary add`: finds the feed, appends its `[[source]]` block.
pub(super) async fn add(
    cli: &Cli,
    url: &str,
    name: Option<&str>,
    tags: &[String],
    dry_run: bool,
) -> anyhow::Result<i32> {
    use crate::secrets::{redact_text, redact_url};
    let config = load_config(cli)?;
    let url = add_url(url)?;
    let taken: std::collections::HashSet<String> = config.sources.iter().map(|s| s.name.clone()).collect();
    if let Some(name) = name {
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(UsageError(format!(
                "--name {name:?}: use only a-z, 0-9 and '-' (e.g. \"ansa-mondo\")"
            ))
            .into());
        }
        if taken.contains(name) {
            return Err(UsageError(format!(
                "--name {name:?} is already a source in {}: choose another name",
                config.path.display()
            ))
            .into());
        }
    }
    let mut clean_tags: Vec<String> = Vec::new();
    for t in tags {
        let t = t.trim();
        if t.is_empty() {
            return Err(UsageError("--tag cannot be empty".into()).into());
        }
        if !clean_tags.iter().any(|x| x == t) {
            clean_tags.push(t.to_string());
        }
    }
    let configured = |u: &url::Url| {
        config
            .sources
            .iter()
            .find(|s| matches!(&s.location, config::Location::Http(x) if x == u))
            .map(|s| s.name.clone())
    };
    if let Some(existing) = configured(&url) {
        return Err(UsageError(format!(
            "{} is already configured as source {existing:?} in {}",
            redact_url(url.as_str()),
            config.path.display()
        ))
        .into());
    }

    let fetcher = crate::fetch::Fetcher::new(crate::fetch::FetchSettings::from_config(&config.daemon))?;
    let found = crate::discover::discover(&fetcher, &url, &config.daemon.allow_private_addresses)
        .await
        .map_err(|e| anyhow::anyhow!("{}", redact_text(&e.to_string())))?;
    let feed = &found.feed;
    if let Some(existing) = configured(&feed.url) {
        return Err(UsageError(format!(
            "the feed {} is already configured as source {existing:?} in {}",
            redact_url(feed.url.as_str()),
            config.path.display()
        ))
        .into());
    }
    let name = match name {
        Some(n) => n.to_string(),
        None => crate::opml::unique_name(&derived_name(feed), &taken),
    };
    let new = config::edit::NewSource {
        name: name.clone(),
        url: feed.url.to_string(),
        tags: clean_tags,
        comment: feed.title.clone(),
    };
    let text =
        std::fs::read_to_string(&config.path).with_context(|| format!("cannot read {}", config.path.display()))?;
    let updated = config::edit::append_source(&text, &config.path, &new)?;
    // What is written must load: the new source is checked like the others.
    config::parse(&updated, &config.path)?;

    println!(
        "found {} ({}): {}, {} item{}",
        redact_url(feed.url.as_str()),
        feed.via,
        feed.title
            .as_deref()
            .map(|t| format!("{t:?}"))
            .unwrap_or_else(|| "no title".into()),
        feed.items,
        if feed.items == 1 { "" } else { "s" }
    );
    if !found.others.is_empty() {
        println!("the page also advertises (add one with `tributary add URL`):");
        for o in &found.others {
            println!(
                "  {}  {}",
                redact_url(o.url.as_str()),
                o.title.as_deref().map(|t| format!("{t:?}")).unwrap_or_default()
            );
        }
    }
    let block = config::edit::append_source("", &config.path, &new)?;
    let block = redact_text(block.trim_start());
    let path = config.path.display();
    if dry_run {
        println!("\nwould append to {path} (dry run: the file is unchanged):\n\n{block}");
        return Ok(0);
    }
    config::edit::write_config(&config.path, &updated)?;
    println!("\nappended to {path}:\n\n{block}");
    println!(
        "a running daemon starts polling {name:?} once it reloads its config: systemctl reload tributary, or kill -HUP <its pid>"
    );
    Ok(0)
}

/// The URL given to `add`: `https://` is assumed when it has no scheme.
fn add_url(text: &str) -> Result<url::Url, UsageError> {
    let text = text.trim();
    let full = if text.contains("://") {
        text.to_string()
    } else {
        format!("https://{}", text.trim_start_matches('/'))
    };
    match url::Url::parse(&full) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(u),
        _ => Err(UsageError(format!(
            "{:?} is not an http(s) URL: give the feed's or the site's address, such as https://example.org/",
            crate::secrets::redact_text(text)
        ))),
    }
}

/// A source name for a found feed: from its title, else from its host.
fn derived_name(feed: &crate::discover::Found) -> String {
    let from_title = feed.title.as_deref().map(crate::opml::slug);
    match from_title {
        Some(s) if s != "feed" => s,
        _ => crate::opml::slug(feed.url.host_str().unwrap_or("feed").trim_start_matches("www.")),
    }
}
