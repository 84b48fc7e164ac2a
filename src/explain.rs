//! `tributary explain`: why items became one entry, and why the stored items
//! most like it were not merged into it.
//!
//! Read-only: it reads the entry's items and how each joined (the rule, the
//! item that decided it and the score recorded when it was stored), the
//! entries merged into it, and it asks the same questions the writer asks —
//! the candidate keys and the judge of `dedup` — of the items near it, on a
//! key index built from the store for the purpose (the daemon's own index
//! lives in its process).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::dedup::{self, Print, compare};
use crate::model::StoredItem;
use crate::store::{Store, StoreError};

/// Why `explain` could not answer.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// Nothing matches the entry asked for.
    #[error(
        "no entry {0} in the database: give an entry's uid as published (urn:tributary:entry:…, or its hex part), or a source name and an item id"
    )]
    NotFound(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The near candidates shown at most.
const NEAR: usize = 10;

/// What to explain: an entry's public uid, or a source's item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// `urn:tributary:entry:HEX` or `HEX`.
    Uid(String),
    /// A source name and an item id as the source gave it.
    Item(String, String),
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn short_uid(uid: &str) -> &str {
    uid.get(..12).unwrap_or(uid)
}

/// The evidence of a verdict in words.
fn evidence(e: &compare::Evidence) -> String {
    format!(
        "words {:.2}, phrasing {:.2}, opening {:.2} of {} shingles, facts {}/{} shared, slots {} agree / {} differ{}, title {:.2}",
        e.words,
        e.phrasing,
        e.opening,
        e.opening_len,
        e.facts_shared,
        e.facts_fewer,
        e.agree,
        e.conflicts,
        if e.date_conflicts > 0 {
            format!(" ({} dates)", e.date_conflicts)
        } else {
            String::new()
        },
        e.title
    )
}

fn print_of(item: &StoredItem) -> Option<Print> {
    item.print.as_deref().and_then(Print::decode)
}

/// Explains an entry, as lines of text for people.
pub fn explain(store: &Store, rules: &dedup::Rules, query: &Query) -> Result<String, ExplainError> {
    let mut out = String::new();
    let (entry_id, asked) = match query {
        Query::Uid(uid) => match store.entry_by_uid(uid)? {
            Some(id) => (id, uid.clone()),
            None => {
                let Some(m) = store.merged_entry(uid)? else {
                    return Err(ExplainError::NotFound(uid.clone()));
                };
                let into = store.entry_titles(&[m.into])?;
                let into_uid = into.get(&m.into).map_or("?", |(u, _)| u.as_str());
                let by = match m.by_item {
                    Some(i) => item_names(store, &[i])?
                        .remove(&i)
                        .unwrap_or_else(|| format!("item {i}")),
                    None => "an item".into(),
                };
                let _ = writeln!(
                    out,
                    "entry {} \"{}\" was merged into {} on {}: {by} was the same story as both ({}{}).\n",
                    m.uid,
                    m.title,
                    into_uid,
                    day(m.at),
                    m.join.rule,
                    m.join.score.map(|s| format!(", score {s:.2}")).unwrap_or_default()
                );
                (m.into, uid.clone())
            }
        },
        Query::Item(source, item) => match store.entry_by_item(source, item)? {
            Some(id) => (id, format!("{source} {item}")),
            None => return Err(ExplainError::NotFound(format!("holding {source} / {item}"))),
        },
    };
    let Some(entry) = store.entry_items(entry_id)? else {
        return Err(ExplainError::NotFound(asked));
    };
    let _ = writeln!(
        out,
        "entry {} \"{}\", published {}{}",
        entry.uid,
        entry.title,
        day(entry.published),
        entry
            .canonical_link
            .as_deref()
            .map(|l| format!(", link {l}"))
            .unwrap_or_default()
    );
    let names: HashMap<i64, String> = entry
        .items
        .iter()
        .map(|(source, it)| (it.id, format!("{source} / {}", it.item_id)))
        .collect();
    let prints: HashMap<i64, Option<Print>> = entry.items.iter().map(|(_, it)| (it.id, print_of(it))).collect();
    let _ = writeln!(out, "\n{} items, in the order they were stored:", entry.items.len());
    for (_, it) in &entry.items {
        let matched = it.join.matched.map(|m| {
            names
                .get(&m)
                .cloned()
                .unwrap_or_else(|| format!("item {m}, no longer stored"))
        });
        let _ = writeln!(
            out,
            "  {} (published {}): {}{}{}",
            names[&it.id],
            day(it.published),
            match it.join.rule.as_str() {
                dedup::NEW => "started the entry",
                dedup::SAME_LINK => "same canonical link as",
                "migrated" => "joined before items were recorded (an older release)",
                rule => rule,
            },
            matched.map(|m| format!(" {m}")).unwrap_or_default(),
            it.join.score.map(|s| format!(", score {s:.2}")).unwrap_or_default()
        );
        if let Some(m) = it.join.matched
            && it.join.rule != dedup::SAME_LINK
            && let (Some(Some(a)), Some(Some(b))) = (prints.get(&it.id), prints.get(&m))
        {
            let _ = writeln!(out, "      {}", evidence(&compare::judge(a, b).evidence));
        }
    }
    if !entry.merged.is_empty() {
        let _ = writeln!(out, "\nentries merged into this one:");
        for m in &entry.merged {
            let by = m
                .by_item
                .and_then(|i| names.get(&i).cloned())
                .unwrap_or_else(|| "an item".into());
            let _ = writeln!(
                out,
                "  {} \"{}\" on {}: {by} was the same story as both ({}{})",
                m.uid,
                m.title,
                day(m.at),
                m.join.rule,
                m.join.score.map(|s| format!(", score {s:.2}")).unwrap_or_default()
            );
        }
    }
    near(store, rules, &entry.items, entry.id, &mut out)?;
    Ok(out)
}

/// `source / item id` of stored items, by row id.
fn item_names(store: &Store, ids: &[i64]) -> Result<HashMap<i64, String>, StoreError> {
    Ok(store
        .items_by_id(ids)?
        .into_iter()
        .map(|(source, it)| (it.id, format!("{source} / {}", it.item_id)))
        .collect())
}

/// The stored items of other entries that share candidate keys or the
/// canonical link with the entry's items, and why each is not the same
/// story.
fn near(
    store: &Store,
    rules: &dedup::Rules,
    items: &[(String, StoredItem)],
    entry_id: i64,
    out: &mut String,
) -> Result<(), StoreError> {
    let search = store.key_search()?;
    // candidate item → (the entry's item it is nearest to, verdict)
    let mut found: BTreeMap<i64, (i64, compare::Verdict)> = BTreeMap::new();
    let mut link_posts: Vec<(String, String)> = Vec::new();
    for (_, it) in items {
        let own = print_of(it);
        if let Some(p) = &own {
            let ids = dedup::candidates::<std::convert::Infallible>(
                p,
                |k| Ok(search.count(k)),
                |keys| Ok(search.hits(keys)),
                |k, item| Ok(search.contains(k, item)),
            )
            .unwrap_or_default();
            for (_, other) in store.items_by_id(&ids)? {
                if other.entry_id == entry_id || (other.published - it.published).abs() > rules.window() {
                    continue;
                }
                let Some(q) = print_of(&other) else { continue };
                let v = compare::judge(p, &q);
                let better = found.get(&other.id).is_none_or(|(_, w)| v.score > w.score);
                if better {
                    found.insert(other.id, (it.id, v));
                }
            }
        }
        if let Some(link) = &it.canonical_link {
            for (source, other) in store.items_by_link(link)? {
                if other.entry_id != entry_id && !dedup::link_edge(own.as_ref(), &other) {
                    link_posts.push((format!("{source} / {}", other.item_id), link.clone()));
                }
            }
        }
    }
    if found.is_empty() && link_posts.is_empty() {
        let _ = writeln!(out, "\nno stored item of another entry comes near it.");
        return Ok(());
    }
    let mut near: Vec<(i64, i64, compare::Verdict)> = found.into_iter().map(|(c, (i, v))| (c, i, v)).collect();
    near.sort_by(|a, b| b.2.score.total_cmp(&a.2.score).then(a.0.cmp(&b.0)));
    near.truncate(NEAR);
    let ids: Vec<i64> = near.iter().map(|n| n.0).collect();
    let others = store.items_by_id(&ids)?;
    let entries = store.entry_titles(&others.iter().map(|(_, o)| o.entry_id).collect::<Vec<_>>())?;
    let own_names: HashMap<i64, String> = items
        .iter()
        .map(|(source, it)| (it.id, format!("{source} / {}", it.item_id)))
        .collect();
    if !near.is_empty() {
        let _ = writeln!(out, "\nnear items of other entries, and why they were not merged:");
    }
    for (id, mine, v) in &near {
        let Some((source, other)) = others.iter().find(|(_, o)| o.id == *id) else {
            continue;
        };
        let (uid, title) = entries
            .get(&other.entry_id)
            .map_or(("?", "?"), |(u, t)| (u.as_str(), t.as_str()));
        let why = match v.outcome {
            Err(miss) => miss.describe().to_string(),
            Ok(m) => format!(
                "the judge says the same story now ({}), but they were not compared when stored (the item came before the store kept prints)",
                m.name()
            ),
        };
        let _ = writeln!(
            out,
            "  {source} / {} in entry {} \"{title}\", near {}: {why}\n      {}",
            other.item_id,
            short_uid(uid),
            own_names.get(mine).map_or("?", String::as_str),
            evidence(&v.evidence)
        );
    }
    if !link_posts.is_empty() {
        let _ = writeln!(
            out,
            "\nsame canonical link, but the texts clearly differ (the link-post rule):"
        );
        for (name, link) in &link_posts {
            let _ = writeln!(out, "  {name} ({link})");
        }
    }
    Ok(())
}
