-- Tributary schema, version 1.
-- Migrations are append-only: never edit this file once released; add
-- migrations/NN-name/up.sql instead. Times are Unix seconds (UTC).

-- One row per configured source, keyed by its config name. Rows outlive the
-- config: removing a source stops polling it but keeps its entries.
CREATE TABLE sources (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT NOT NULL UNIQUE,
    url                  TEXT NOT NULL,          -- as configured (URL or file path)
    title                TEXT,                   -- the feed's own title
    site_link            TEXT,                   -- the feed's home page
    etag                 TEXT,                   -- validators of the last 200 response,
    last_modified        TEXT,                   -- committed with that poll's entries
    last_poll_at         INTEGER,
    last_success_at      INTEGER,
    last_status          INTEGER,                -- HTTP status of the last poll, if any
    last_error           TEXT,                   -- human words, NULL after a success
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    items_last_poll      INTEGER NOT NULL DEFAULT 0
);

-- One row per story, however many sources carried it.
CREATE TABLE entries (
    id                INTEGER PRIMARY KEY,
    uid               TEXT NOT NULL UNIQUE,      -- stable public id (Atom id, RSS guid)
    canonical_link    TEXT,                      -- cross-source identity (dedup rule 2)
    link              TEXT,                      -- display link: first source's original
    title             TEXT NOT NULL,
    summary_html      TEXT,
    content_html      TEXT,
    author            TEXT,
    language          TEXT,
    published_at      INTEGER NOT NULL,          -- sort date: earliest credible
    updated_at        INTEGER NOT NULL,
    first_seen_at     INTEGER NOT NULL,
    content_source_id INTEGER NOT NULL REFERENCES sources(id)  -- whose text is shown
);
CREATE UNIQUE INDEX entries_canonical_link ON entries(canonical_link) WHERE canonical_link IS NOT NULL;
CREATE INDEX entries_newest ON entries(published_at DESC, id DESC);

-- One row per (source, item id): which entry the item became, with the item's
-- original link for credit. Dedup rule 1 looks up the primary key.
CREATE TABLE entry_sources (
    source_id     INTEGER NOT NULL REFERENCES sources(id),
    item_id       TEXT NOT NULL,                 -- exactly as the source gave it
    entry_id      INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    link          TEXT,                          -- exactly as in the source
    content_hash  TEXT NOT NULL,                 -- detects edits
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    PRIMARY KEY (source_id, item_id)
) WITHOUT ROWID;
CREATE INDEX entry_sources_entry ON entry_sources(entry_id);

-- Categories of an entry: its sources' tags and the items' own categories.
CREATE TABLE entry_tags (
    entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    tag      TEXT NOT NULL,
    PRIMARY KEY (entry_id, tag)
) WITHOUT ROWID;
CREATE INDEX entry_tags_tag ON entry_tags(tag);

-- One row per poll, for `tributary sources`, metrics and post-mortems.
CREATE TABLE fetch_log (
    id            INTEGER PRIMARY KEY,
    source_id     INTEGER NOT NULL REFERENCES sources(id),
    at            INTEGER NOT NULL,
    outcome       TEXT NOT NULL,                 -- ok | not-modified | error kind
    status        INTEGER,
    items_new     INTEGER NOT NULL DEFAULT 0,
    items_updated INTEGER NOT NULL DEFAULT 0,
    items_merged  INTEGER NOT NULL DEFAULT 0,
    bytes         INTEGER NOT NULL DEFAULT 0,
    duration_ms   INTEGER NOT NULL DEFAULT 0,
    error         TEXT
);
CREATE INDEX fetch_log_source_at ON fetch_log(source_id, at);
