-- Identity v2: deduplication compares items, not entries.
--
-- One row per (source, item id), as entry_sources has, with what the
-- deduplication needs of the item itself: its canonical link (rule 2), its
-- publication date (the text window), how it joined its entry (the rule,
-- the item that decided it and the score, for `tributary explain`), and its
-- candidate keys; its print (text fingerprint) sits in item_prints. An entry
-- is the set of items joined by "same story" decisions; two entries that a
-- later item bridges are merged into the older, and entry_merges remembers
-- the younger's uid.
--
-- Stores from before this version carry one fingerprint per entry, of the
-- text it shows: the rows below attribute it to that text's source. Their
-- keys are NULL until Tributary recomputes the print from the stored text
-- (at the first write after the upgrade); every other item gets no print.

CREATE TABLE items (
    id             INTEGER PRIMARY KEY,
    source_id      INTEGER NOT NULL REFERENCES sources(id),
    item_id        TEXT NOT NULL,
    entry_id       INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    canonical_link TEXT,
    published_at   INTEGER NOT NULL,
    rule           TEXT NOT NULL,     -- how it joined its entry: new, same-link, text-copy, text-edit, text-opening, migrated
    matched        INTEGER,           -- items.id of the item that decided it (may be gone since)
    score          REAL,              -- the decision's score
    keys           BLOB,              -- candidate keys, u32 little-endian; NULL: not computed yet; empty: none
    UNIQUE (source_id, item_id)
);
CREATE INDEX items_entry ON items(entry_id);
CREATE INDEX items_link ON items(canonical_link) WHERE canonical_link IS NOT NULL;
CREATE INDEX items_published ON items(published_at);

-- The print of an item, within the text window only.
CREATE TABLE item_prints (
    item  INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
    print BLOB NOT NULL
);

-- Entries merged into an older one because an item bridged them.
CREATE TABLE entry_merges (
    id           INTEGER PRIMARY KEY,
    entry_id     INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,  -- the entry kept
    merged_uid   TEXT NOT NULL,                                             -- the younger entry, gone
    merged_title TEXT NOT NULL,
    by_item      INTEGER,                                                   -- items.id of the bridging item
    rule         TEXT NOT NULL,
    score        REAL,
    at           INTEGER NOT NULL
);
CREATE INDEX entry_merges_entry ON entry_merges(entry_id);
CREATE INDEX entry_merges_uid ON entry_merges(merged_uid);

INSERT INTO items (source_id, item_id, entry_id, canonical_link, published_at, rule)
    SELECT es.source_id, es.item_id, es.entry_id, e.canonical_link, e.published_at, 'migrated'
    FROM entry_sources es JOIN entries e ON e.id = es.entry_id
    ORDER BY es.first_seen_at, es.source_id, es.item_id;
-- Only the item whose text the entry shows gets a print (computed later).
UPDATE items SET keys = x'' WHERE id NOT IN (
    SELECT min(i.id) FROM items i JOIN entries e ON e.id = i.entry_id AND i.source_id = e.content_source_id
    GROUP BY i.entry_id);

-- Two items under one canonical link may now be separate entries (the
-- link-post rule): the link is no longer unique, and is looked up per item.
DROP INDEX entries_canonical_link;
DROP TABLE entry_bands;
DROP TABLE entry_fingerprints;
