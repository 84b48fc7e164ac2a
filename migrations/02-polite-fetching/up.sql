-- Polite fetching: redirects, server hints, backoff and due times per source.

-- A 301/308 target seen on one poll waits in pending_redirect; seen again on
-- the next poll it becomes current_url, which is fetched instead of the
-- configured url (which stays the source's identity).
ALTER TABLE sources ADD COLUMN current_url TEXT;
ALTER TABLE sources ADD COLUMN pending_redirect TEXT;
-- The server's Retry-After (429/503): no request before this time.
ALTER TABLE sources ADD COLUMN retry_after_at INTEGER;
-- Shortest interval the server asked for (Cache-Control, Expires, RSS ttl,
-- sy:updatePeriod), capped; a floor on the next poll.
ALTER TABLE sources ADD COLUMN min_interval_secs INTEGER;
-- When the scheduler will poll the source next (cron + jitter + backoff + hints).
ALTER TABLE sources ADD COLUMN next_due_at INTEGER;
-- Polls answered 304, for status and metrics.
ALTER TABLE sources ADD COLUMN not_modified_count INTEGER NOT NULL DEFAULT 0;
