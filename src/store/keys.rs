//! The in-memory index of items' candidate keys.
//!
//! Each item row may carry a list of 32-bit keys (`items.keys`), given by
//! the caller; the store does not know what they mean. Finding the items
//! that share a key with a new one is the writer's most frequent question,
//! and asking it of an SQLite index cost B-tree page reads per key in a
//! large store, so the keys of every item that has any are held here, as
//! one sorted array of `key << 32 | item` (8 bytes a key), built from the
//! store the first time a write asks (and again after retention or expiry
//! removed keys), and updated as the writer commits: additions made inside a
//! transaction are seen by that transaction and join the index only if it
//! commits. Keys of items that were deleted or re-keyed since the last build
//! stay until the next one; the caller checks what it finds against the
//! rows anyway.

use std::collections::HashMap;

/// Postings added since the last merge, at most, before they join the
/// sorted array (a merge moves the whole array).
const RECENT: usize = 16_384;

/// Sorted postings `key << 32 | item`, and those added since the last
/// merge.
#[derive(Debug, Default)]
pub(crate) struct KeyIndex {
    main: Vec<u64>,
    /// Where each run of keys with the same top [`DIRECTORY_BITS`] bits
    /// starts in `main` (one more entry for its end): a search looks at a
    /// few dozen postings instead of 21 steps over the whole array, each a
    /// likely cache miss (2 % of a cold 10,000-feed poll on the writer).
    directory: Vec<u32>,
    recent: Postings,
}

/// Top bits of a key that pick its run in [`KeyIndex::directory`].
const DIRECTORY_BITS: u32 = 16;

/// The directory of sorted postings (see [`KeyIndex::directory`]).
fn directory_of(main: &[u64]) -> Vec<u32> {
    let buckets = 1usize << DIRECTORY_BITS;
    let mut dir = Vec::with_capacity(buckets + 1);
    let mut at = 0usize;
    for b in 0..=buckets as u64 {
        while at < main.len() && (main[at] >> (64 - DIRECTORY_BITS)) < b {
            at += 1;
        }
        // The array holds fewer than 2^32 postings (items are u32 too).
        dir.push(u32::try_from(at).unwrap_or(u32::MAX));
    }
    dir
}

/// One posting.
pub(crate) fn posting(key: u32, item: u32) -> u64 {
    (u64::from(key) << 32) | u64::from(item)
}

/// A few thousand postings grouped by key: those a transaction added, or
/// those added to the index since its last merge. Each question is one
/// hash lookup whatever their number (a list searched linearly cost the
/// writer 3.6 % of a cold 10,000-feed poll).
#[derive(Debug, Default)]
pub(crate) struct Postings {
    by_key: HashMap<u32, Vec<u32>, foldhash::fast::FixedState>,
    len: usize,
}

impl Postings {
    /// Adds `item` under `key`.
    pub(crate) fn push(&mut self, key: u32, item: u32) {
        self.by_key.entry(key).or_default().push(item);
        self.len += 1;
    }

    /// Postings held (a posting added twice counts twice).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Pushes `(item, key)` for every posting of `keys` onto `out`.
    pub(crate) fn hits(&self, keys: &[u32], out: &mut Vec<(u32, u32)>) {
        for &key in keys {
            if let Some(items) = self.by_key.get(&key) {
                out.extend(items.iter().map(|i| (*i, key)));
            }
        }
    }

    /// How many postings hold `key`.
    pub(crate) fn count(&self, key: u32) -> usize {
        self.by_key.get(&key).map_or(0, Vec::len)
    }

    /// Whether `item` holds `key` here.
    pub(crate) fn contains(&self, key: u32, item: u32) -> bool {
        self.by_key.get(&key).is_some_and(|items| items.contains(&item))
    }

    fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.by_key
            .iter()
            .flat_map(|(k, items)| items.iter().map(|i| posting(*k, *i)))
    }

    fn bytes(&self) -> usize {
        self.by_key.capacity() * (std::mem::size_of::<(u32, Vec<u32>)>() + 1)
            + self.by_key.values().map(|v| v.capacity() * 4).sum::<usize>()
    }
}

impl KeyIndex {
    /// An index of the given postings.
    pub(crate) fn from_postings(mut postings: Vec<u64>) -> KeyIndex {
        postings.sort_unstable();
        postings.dedup();
        KeyIndex {
            directory: directory_of(&postings),
            main: postings,
            recent: Postings::default(),
        }
    }

    /// Postings held.
    pub(crate) fn len(&self) -> usize {
        self.main.len() + self.recent.len()
    }

    /// Bytes of memory the postings take.
    pub(crate) fn bytes(&self) -> usize {
        self.main.capacity() * std::mem::size_of::<u64>() + self.directory.capacity() * 4 + self.recent.bytes()
    }

    /// Pushes `(item, key)` for every posting of `keys` onto `out`.
    pub(crate) fn hits(&self, keys: &[u32], out: &mut Vec<(u32, u32)>) {
        for &key in keys {
            let (start, end) = self.range(key);
            out.extend(self.main[start..end].iter().map(|p| (*p as u32, key)));
        }
        self.recent.hits(keys, out);
    }

    /// How many items hold `key`.
    pub(crate) fn count(&self, key: u32) -> usize {
        let (start, end) = self.range(key);
        end - start + self.recent.count(key)
    }

    /// Whether `item` holds `key`.
    pub(crate) fn contains(&self, key: u32, item: u32) -> bool {
        let (start, end) = self.range(key);
        self.main[start..end].binary_search(&posting(key, item)).is_ok() || self.recent.contains(key, item)
    }

    fn range(&self, key: u32) -> (usize, usize) {
        let b = (key >> (32 - DIRECTORY_BITS)) as usize;
        let (lo, hi) = match (self.directory.get(b), self.directory.get(b + 1)) {
            (Some(lo), Some(hi)) => (*lo as usize, *hi as usize),
            _ => (0, self.main.len()),
        };
        let run = &self.main[lo..hi];
        let start = run.partition_point(|p| *p < posting(key, 0));
        let end = start + run[start..].partition_point(|p| (*p >> 32) as u32 == key);
        (lo + start, lo + end)
    }

    /// Adds postings (those of a committed transaction).
    pub(crate) fn add(&mut self, postings: &Postings) {
        for (key, items) in &postings.by_key {
            for item in items {
                self.recent.push(*key, *item);
            }
        }
        if self.recent.len() > RECENT {
            self.merge_recent();
        }
    }

    /// Moves the recent postings into the sorted array, in place: the array
    /// grows by exactly their number and is merged from its end.
    fn merge_recent(&mut self) {
        let mut recent: Vec<u64> = self.recent.iter().collect();
        self.recent = Postings::default();
        recent.sort_unstable();
        recent.dedup();
        let old = self.main.len();
        self.main.reserve_exact(recent.len());
        self.main.resize(old + recent.len(), 0);
        let (mut i, mut j, mut k) = (old, recent.len(), old + recent.len());
        while j > 0 {
            if i > 0 && self.main[i - 1] > recent[j - 1] {
                self.main[k - 1] = self.main[i - 1];
                i -= 1;
            } else {
                self.main[k - 1] = recent[j - 1];
                j -= 1;
            }
            k -= 1;
        }
        self.main.dedup();
        self.directory = directory_of(&self.main);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn postings_of(list: &[u64]) -> Postings {
        let mut p = Postings::default();
        for x in list {
            p.push((*x >> 32) as u32, *x as u32);
        }
        p
    }

    fn sorted_hits(index: &KeyIndex, keys: &[u32]) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        index.hits(keys, &mut out);
        out.sort_unstable();
        out
    }

    #[test]
    fn hits_come_from_the_sorted_array_and_the_recent_postings() {
        let mut index = KeyIndex::from_postings(vec![posting(7, 1), posting(3, 2), posting(7, 3), posting(9, 1)]);
        index.add(&postings_of(&[posting(7, 4), posting(5, 5)]));
        assert_eq!(sorted_hits(&index, &[7, 5]), [(1, 7), (3, 7), (4, 7), (5, 5)]);
        assert_eq!(sorted_hits(&index, &[8]), []);
        assert_eq!(index.len(), 6);
        assert_eq!((index.count(7), index.count(5), index.count(8)), (3, 1, 0));
        assert!(index.contains(7, 4) && index.contains(9, 1) && !index.contains(9, 4));
    }

    #[test]
    fn merging_the_recent_postings_keeps_every_posting_once_and_in_order() {
        let mut index = KeyIndex::from_postings((0..1000u32).map(|i| posting(i % 97, i)).collect());
        let mut want: Vec<u64> = index.main.clone();
        for round in 0..3u32 {
            let batch: Vec<u64> = (0..RECENT as u32 + 10)
                .map(|i| posting((i * 31 + round) % 101, 1000 + round * 10_000 + i))
                .collect();
            want.extend_from_slice(&batch);
            index.add(&postings_of(&batch));
            // A posting added twice is held once.
            index.add(&postings_of(&batch[..3]));
        }
        index.merge_recent();
        want.sort_unstable();
        want.dedup();
        assert_eq!(index.main, want);
        assert_eq!(index.recent.len(), 0);
        for key in [0, 5, 96, 100] {
            let got = sorted_hits(&index, &[key]);
            let expected: Vec<(u32, u32)> = want
                .iter()
                .filter(|p| (**p >> 32) as u32 == key)
                .map(|p| (*p as u32, key))
                .collect();
            assert_eq!(got, expected, "key {key}");
        }
    }

    #[test]
    fn every_question_agrees_with_a_plain_scan_whatever_the_keys_top_bits() {
        // Keys spread over every directory run, and at their edges.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let edges = [
            0u32,
            1,
            0xffff,
            0x1_0000,
            0x1_0001,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_fffe,
            0xffff_ffff,
        ];
        let mut keys: Vec<u32> = edges.to_vec();
        keys.extend((0..300).map(|_| (next() >> 32) as u32));
        let mut all: Vec<u64> = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            for j in 0..(i % 4) + 1 {
                all.push(posting(*k, (i * 10 + j) as u32));
            }
        }
        let (first, later) = all.split_at(all.len() * 2 / 3);
        let mut index = KeyIndex::from_postings(first.to_vec());
        index.add(&postings_of(later));
        let check = |index: &KeyIndex| {
            let absent = keys.iter().map(|k| k.wrapping_add(1)).filter(|k| !keys.contains(k));
            for key in keys.iter().copied().chain(absent) {
                let want: Vec<(u32, u32)> = {
                    let mut w: Vec<(u32, u32)> = all
                        .iter()
                        .filter(|p| (**p >> 32) as u32 == key)
                        .map(|p| (*p as u32, key))
                        .collect();
                    w.sort_unstable();
                    w
                };
                assert_eq!(sorted_hits(index, &[key]), want, "key {key:#x}");
                assert_eq!(index.count(key), want.len(), "key {key:#x}");
                for (item, _) in &want {
                    assert!(index.contains(key, *item), "key {key:#x} item {item}");
                }
                assert!(!index.contains(key, u32::MAX), "key {key:#x}");
            }
        };
        check(&index);
        index.merge_recent();
        check(&index);
    }
}
