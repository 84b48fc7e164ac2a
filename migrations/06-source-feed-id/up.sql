-- A source's own feed id (Atom <id>), kept so that the merged feeds can
-- name a source by its own identity and site link instead of the address it
-- was fetched from, which may carry credentials. NULL for formats without a
-- feed-level id (RSS, JSON Feed).
ALTER TABLE sources ADD COLUMN feed_id TEXT;
