-- Retention: remember which (source, item id) pairs were pruned, so an old
-- item still present in its feed is not stored again as if it were new.
CREATE TABLE pruned_items (
    source_id INTEGER NOT NULL REFERENCES sources(id),
    item_id   TEXT NOT NULL,
    pruned_at INTEGER NOT NULL,
    PRIMARY KEY (source_id, item_id)
) WITHOUT ROWID;
CREATE INDEX pruned_items_at ON pruned_items(pruned_at);
