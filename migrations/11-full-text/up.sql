-- Full text for summary-only feeds: what is known of each item's article
-- page, for sources with `full_text = true`. One row per (source, item id)
-- once its page was tried: `done` rows hold the article read from it
-- (sanitized HTML), which the item shows while its link stays the same;
-- `failed-permanent` pages (404, not an article, refused address, too many
-- attempts) are not fetched again; `failed-transient` ones (timeout, 5xx,
-- connection error) are tried again after `next_retry_at`. A later edit of
-- the item to another link fetches anew. Rows go with their item's credit
-- when retention prunes it.
CREATE TABLE full_text (
    source_id     INTEGER NOT NULL REFERENCES sources(id),
    item_id       TEXT NOT NULL,
    url           TEXT NOT NULL,     -- the item's link the page was fetched from
    state         TEXT NOT NULL CHECK (state IN ('done', 'failed-permanent', 'failed-transient')),
    attempts      INTEGER NOT NULL,
    next_retry_at INTEGER,           -- failed-transient: not before this time
    last_error    TEXT,              -- the last failure, in words
    content       TEXT,              -- done: the article, sanitized HTML
    at            INTEGER NOT NULL,  -- when the last attempt ended
    PRIMARY KEY (source_id, item_id)
);
