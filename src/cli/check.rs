//! `tributary check`: the config, each source's schedule and location,
//! and the sources the address guard will refuse.

use super::*;

/// `tributary check`: the config is valid (else `load_config` failed); the
/// sources the address guard will refuse are errors (exit 2).
pub(super) async fn check(config: &Config) -> i32 {
    let refused = refused_sources(config).await;
    if refused.is_empty() {
        println!("{}: ok, {} sources", config.path.display(), config.sources.len());
    } else {
        println!(
            "{}: {} sources, {} refused by the address guard",
            config.path.display(),
            config.sources.len(),
            refused.len()
        );
    }
    println!("database: {}", config.daemon.database.display());
    println!("listen:   http://{}/", config.daemon.listen);
    let now = Utc::now();
    let mut rows = vec![vec![
        "SOURCE".into(),
        "SCHEDULE".into(),
        "NEXT TICK (UTC)".into(),
        "LOCATION".into(),
    ]];
    for s in &config.sources {
        let next = s
            .schedule
            .next_after(now)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| "never".into());
        rows.push(vec![
            s.name.clone(),
            s.schedule.to_string(),
            next,
            s.location.to_string(),
        ]);
    }
    print_table(&rows);
    for message in &refused {
        eprintln!("error: {message}");
    }
    if refused.is_empty() { 0 } else { 2 }
}

/// The sources whose fetches the address guard will refuse, as messages
/// naming the source, its URL (secrets as `***`) and the key to set: an
/// IP-literal host in a refused range, a host name that resolves here (the
/// system resolver, at most 5 s per name) to a refused address, or such a
/// proxy. A name that does not resolve here is not reported: a poll may
/// still reach it later, or through its proxy.
async fn refused_sources(config: &Config) -> Vec<String> {
    use crate::config::{Location, ProxySetting};
    use crate::fetch::guard;
    let mut checks = tokio::task::JoinSet::new();
    // A few lookups at a time, however many sources there are.
    let lookups = std::sync::Arc::new(tokio::sync::Semaphore::new(16));
    for (i, s) in config.sources.iter().enumerate() {
        let Location::Http(url) = &s.location else { continue };
        let mut targets = vec![("", url.clone())];
        if let Some(ProxySetting::Url(p)) = &s.proxy
            && let Ok(p) = url::Url::parse(p.expose())
        {
            targets.push(("its proxy ", p));
        }
        for (what, target) in targets {
            let (name, policy, shown) = (
                s.name.clone(),
                s.allow_private_addresses.clone(),
                s.location.to_string(),
            );
            let lookups = lookups.clone();
            checks.spawn(async move {
                let _turn = lookups.acquire().await;
                let refusal = match (guard::literal(&target), target.host_str()) {
                    (Some(ip), _) => guard::check(&policy, ip).map(|reason| guard::describe(ip, reason)),
                    (None, Some(host)) => {
                        let lookup = guard::Lookup::system();
                        let looked = guard::check_name(&lookup, &policy, host);
                        match tokio::time::timeout(std::time::Duration::from_secs(5), looked).await {
                            Ok(Err(refused)) => Some(refused.to_string()),
                            _ => None,
                        }
                    }
                    (None, None) => None,
                };
                let message = refusal.map(|detail| {
                    let shown_target = if what.is_empty() {
                        String::new()
                    } else {
                        format!("{what}{} ", crate::secrets::redact_url(target.as_str()))
                    };
                    format!(
                        "source {name:?} ({shown}): {shown_target}will be refused: {detail}; set allow_private_addresses = true, or a list of the networks to allow such as [\"{}\"], in this [[source]] or in [daemon]",
                        detail
                            .split_whitespace()
                            .map(|w| w.trim_end_matches(','))
                            .find(|w| w.parse::<std::net::IpAddr>().is_ok())
                            .unwrap_or("10.0.0.0/8")
                    )
                });
                (i, message)
            });
        }
    }
    let mut found: Vec<(usize, String)> = Vec::new();
    while let Some(done) = checks.join_next().await {
        if let Ok((i, Some(message))) = done {
            found.push((i, message));
        }
    }
    found.sort();
    found.into_iter().map(|(_, m)| m).collect()
}
