//! The single writer of prepared polls: group commit, and the identity
//! decisions taken inside its transaction (edges to stored items, bridges
//! between entries, the upkeep of stored prints).

use super::*;

/// What the writer answers for one piece of work.
type Stored = Result<Applied, StoreError>;
type Reply = tokio::sync::oneshot::Sender<Stored>;

/// What the writer commits: a prepared poll, or an article page read (or
/// failed) for an item of a `full_text = true` source.
#[derive(Debug)]
pub(super) enum Work {
    /// A prepared poll.
    Poll(Box<Prepared>),
    /// An item's article page: remembered, and applied as an edit of the item.
    Page(Box<PageDone>),
}

impl Work {
    fn name(&self) -> String {
        match self {
            Work::Poll(p) => p.source.name.clone(),
            Work::Page(p) => p.source.name.clone(),
        }
    }

    fn apply(&self, w: &Writer<'_>) -> Stored {
        match self {
            Work::Poll(p) => p.apply(w),
            Work::Page(p) => p.apply(w).map(|counts| Applied {
                counts,
                pages: Vec::new(),
            }),
        }
    }
}

/// Polls prepared and waiting for the writer, at most: a full queue holds
/// back preparing (and so memory) until the writer catches up.
const QUEUE: usize = 32;

/// The most polls committed in one transaction.
const MAX_BATCH: usize = 64;

/// The single writer of prepared polls: a thread that takes every poll
/// waiting when it is free and commits them in one transaction (group
/// commit). Each poll's entries still move together with its validators,
/// and a poll is reported stored only once its transaction is durable; what
/// a batch saves is the commit and the index pages shared by its polls,
/// written to the WAL once instead of once per poll. Stops when the last
/// handle is dropped.
#[derive(Debug, Clone)]
pub(crate) struct Committer {
    queue: std::sync::mpsc::SyncSender<(Work, Reply)>,
}

impl Committer {
    /// Starts the writer thread for `store`, and the store's log copier.
    /// Before its first commit it brings the stored prints to what `rules`
    /// compare ([`maintain_prints`]).
    pub(crate) fn start(store: Arc<Store>, rules: dedup::Rules) -> std::io::Result<Committer> {
        let (queue, waiting) = std::sync::mpsc::sync_channel::<(Work, Reply)>(QUEUE);
        // The log is copied into the file beside the writer, not in its
        // commits; failing that, SQLite's own copies go on as before.
        if let Err(e) = store.copy_log_in_background() {
            warn!("{e}; the writer copies the write-ahead log itself");
        }
        std::thread::Builder::new()
            .name("tributary-writer".into())
            .spawn(move || {
                if let Err(e) = maintain_prints(&store, rules, Utc::now()) {
                    warn!("cannot bring the text prints up to date: {e}");
                }
                while let Ok(first) = waiting.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH
                        && let Ok(next) = waiting.try_recv()
                    {
                        batch.push(next);
                    }
                    let (polls, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                    // A panic fails this batch's polls (their replies are
                    // dropped, the transaction rolled back), not the writer.
                    let results = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        store.write_each(&polls, |w, p| p.apply(w))
                    }));
                    if let Ok(results) = results {
                        for (reply, result) in replies.into_iter().zip(results) {
                            // The poll may have been cancelled (shutdown): nothing to tell.
                            let _ = reply.send(result);
                        }
                    }
                }
            })?;
        Ok(Committer { queue })
    }

    /// Queues work, blocking while the queue is full; the receiver answers
    /// once it is committed or has failed.
    pub(super) fn submit(&self, work: Work) -> Result<tokio::sync::oneshot::Receiver<Stored>, PollError> {
        let name = work.name();
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.queue.send((work, reply)).map_err(|_| PollError::Task(name))?;
        Ok(answer)
    }
}

bench_pub! {
    /// An item's print as the writer gets it.
    #[derive(Debug, Clone, Copy)]
    enum PrintOf<P> {
        /// Computed where the poll was prepared (`None`: the item has no
        /// text to print).
        Ready(Option<P>),
        /// Not computed: the store held the item with this very content
        /// when the poll was prepared, so the writer finds nothing to do.
        /// Should the stored item differ by then, the writer computes it.
        Unchanged,
    }
}

impl<P> PrintOf<P> {
    /// The same, borrowed.
    pub fn as_ref(&self) -> PrintOf<&P> {
        match self {
            PrintOf::Ready(p) => PrintOf::Ready(p.as_ref()),
            PrintOf::Unchanged => PrintOf::Unchanged,
        }
    }
}

bench_pub! {
    /// Stores one normalized entry of a poll in the poll's transaction: the
    /// rule 1 lookup, the edges of rules 2 and 3 to stored items, then the
    /// insert or merge, the item's row and print, the merges of the entries it
    /// bridges, the source's credit and tags. Counts what it did.
    #[allow(clippy::too_many_arguments)]
    fn store_entry(
        w: &Writer<'_>,
        source: &SourceConfig,
        source_id: i64,
        e: &Entry,
        print: PrintOf<&Encoded>,
        rules: dedup::Rules,
        now: DateTime<Utc>,
        counts: &mut IngestCounts,
    ) -> Result<(), StoreError> {
        let existing = w.find_item(source_id, &e.item_id)?;
        match &existing {
            Some((_, _, hash)) if *hash == e.content_hash => return Ok(()),
            None if w.was_pruned(source_id, &e.item_id)? => return Ok(()),
            _ => {}
        }
        let computed;
        let encoded = match print {
            PrintOf::Ready(p) => p,
            PrintOf::Unchanged => {
                computed = encoded_print_of(e);
                computed.as_ref()
            }
        };
        let print = encoded.map(|p| &p.print);
        let own_item = existing.as_ref().map(|(item, _, _)| *item);
        let edges = edges(w, e, print, own_item, &rules)?;
        let plan = dedup::plan(existing.as_ref().map(|(_, entry, _)| *entry), &edges);
        let record = |entry_id: i64| ItemRecord {
            source_id,
            item_id: e.item_id.clone(),
            entry_id,
            canonical_link: e.canonical_link.clone(),
            published: e.published,
            join: plan.join.clone(),
            keys: print.map(|p| p.keys().to_vec()).unwrap_or_default(),
            print: encoded.map(|p| p.bytes.clone()),
        };
        let (item, entry_id) = match (existing, plan.entry) {
            (Some((item, own_entry, _)), _) => {
                let (current, shown_from) = w.load(own_entry)?;
                let (merged, took_text) = dedup::merge(&current, e, shown_from == source_id, now);
                if merged != current {
                    w.update(own_entry, &merged, if took_text { source_id } else { shown_from })?;
                }
                w.update_item(item, &record(own_entry))?;
                counts.updated += 1;
                (item, own_entry)
            }
            (None, None) => {
                let uid = dedup::entry_uid(&source.name, &e.item_id);
                let id = w.insert(&uid, e, source_id, now)?;
                counts.new += 1;
                (w.insert_item(&record(id))?, id)
            }
            (None, Some(target)) => {
                let (current, shown_from) = w.load(target)?;
                let (merged, took_text) = dedup::merge(&current, e, false, now);
                if merged != current {
                    w.update(target, &merged, if took_text { source_id } else { shown_from })?;
                }
                if plan.join.rule == dedup::SAME_LINK {
                    counts.merged_link += 1;
                } else {
                    counts.merged_text += 1;
                }
                (w.insert_item(&record(target))?, target)
            }
        };
        // The oldest entry reached keeps its id; every other one joins it.
        let keep = plan.entry.unwrap_or(entry_id);
        let mut younger = plan.merge.clone();
        if entry_id != keep {
            younger.retain(|g| *g != entry_id);
            younger.insert(0, entry_id);
        }
        for gone in younger {
            bridge(w, keep, gone, item, &edges, now)?;
            counts.bridged += 1;
        }
        w.credit(source_id, &e.item_id, keep, e.link.as_deref(), &e.content_hash, now)?;
        w.tag(keep, source.tags.iter().chain(e.categories.iter()).map(String::as_str))?;
        Ok(())
    }
}

/// The "same story" edges from an incoming item to stored items: rule 2
/// (same canonical link, unless the texts clearly differ), then rule 3
/// (the candidates its keys find, confirmed on their prints).
fn edges(
    w: &Writer<'_>,
    e: &Entry,
    print: Option<&Print>,
    own_item: Option<i64>,
    rules: &dedup::Rules,
) -> Result<Vec<Edge>, StoreError> {
    let mut edges: Vec<Edge> = Vec::new();
    if rules.by_link
        && let Some(link) = &e.canonical_link
    {
        for y in w.items_with_link(link)? {
            if Some(y.id) != own_item && dedup::link_edge(print, &y) {
                edges.push(Edge {
                    item: y.id,
                    entry: y.entry_id,
                    rule: dedup::SAME_LINK,
                    score: None,
                });
            }
        }
    }
    if rules.by_text
        && let Some(p) = print
    {
        let found = dedup::candidates(
            p,
            |k| w.key_count(k),
            |keys| w.key_hits(keys),
            |k, item| w.key_contains(k, item),
        )?;
        for id in found {
            if Some(id) == own_item || edges.iter().any(|x| x.item == id) {
                continue;
            }
            let Some(y) = w.item(id)? else { continue };
            if let Some((m, score)) = dedup::text_edge(p, e.published, &y, rules) {
                edges.push(Edge {
                    item: id,
                    entry: y.entry_id,
                    rule: m.name(),
                    score: Some(score),
                });
            }
        }
    }
    Ok(edges)
}

/// Merges entry `gone` into the older entry `keep`, because `item` is the
/// same story as both: `keep` takes the longer text and the earlier date
/// (as when a copy arrives), and is marked updated, since its credits
/// changed.
fn bridge(
    w: &Writer<'_>,
    keep: i64,
    gone: i64,
    item: i64,
    edges: &[Edge],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (current, shown_from) = w.load(keep)?;
    let (other, other_from) = w.load(gone)?;
    let (mut merged, took_text) = dedup::merge(&current, &other, false, now);
    merged.updated = now.max(current.updated);
    let join = edges
        .iter()
        .filter(|x| x.entry == gone)
        .max_by(|a, b| a.score.unwrap_or(0.0).total_cmp(&b.score.unwrap_or(0.0)))
        .map_or_else(
            || crate::model::Join {
                rule: "same-item".into(),
                matched: None,
                score: None,
            },
            |x| crate::model::Join {
                rule: x.rule.into(),
                matched: Some(x.item),
                score: x.score,
            },
        );
    tracing::info!(
        kept = keep,
        merged = gone,
        rule = %join.rule,
        "an item is the same story as two entries: merged the younger into the older"
    );
    w.merge_entries(&EntryMerge {
        keep,
        gone,
        merged: &merged,
        content_source_id: if took_text { other_from } else { shown_from },
        by_item: Some(item),
        join: &join,
        at: now,
    })
}

/// Items whose prints are computed in one transaction, when a store from
/// before items were recorded gets its prints.
const PRINT_BATCH: usize = 2000;

/// Keeps the stored prints to what rule 3 compares: forgets those of items
/// published before the horizon (`dedup::Rules::print_horizon`), and
/// computes the missing ones (a store upgraded from before items were
/// recorded: the print of the text each entry shows) within it. Returns
/// (prints forgotten, prints computed).
pub fn maintain_prints(store: &Store, rules: dedup::Rules, now: DateTime<Utc>) -> Result<(u64, u64), StoreError> {
    let started = Instant::now();
    let horizon = rules.print_horizon(now);
    let expired = store.write(|w| w.expire_prints(horizon))?;
    let mut computed = 0u64;
    loop {
        let done = store.write(|w| {
            let batch = w.items_without_print(PRINT_BATCH)?;
            for item in &batch {
                let print = (item.published >= horizon)
                    .then(|| dedup::print(&item.title, item.body.as_deref()))
                    .flatten();
                let keys = print.as_ref().map(|p| p.keys().to_vec()).unwrap_or_default();
                w.set_print(item.id, &keys, print.as_ref().map(Print::encode).as_deref())?;
            }
            Ok(batch.len())
        })?;
        computed += done as u64;
        if done < PRINT_BATCH {
            break;
        }
    }
    if computed > 0 || expired > 0 {
        info!(
            expired,
            computed,
            ms = started.elapsed().as_millis() as u64,
            "text prints: forgot those outside the window, computed the missing ones"
        );
    }
    Ok((expired, computed))
}
