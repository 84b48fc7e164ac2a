-- A source's whole life: a fingerprint of the request settings each source
-- was last polled with (its URL, credentials, headers, user agent, proxy and
-- address policy), "sha256:" and 64 hex digits — never the settings
-- themselves. When the config's fingerprint differs, the source starts
-- afresh: its validators, redirects, Retry-After, server hints and backoff
-- are reset, so a fixed source is polled at once. NULL: not known yet (rows
-- from before this version, new rows): recorded at the next poll, without
-- a reset.
ALTER TABLE sources ADD COLUMN settings TEXT;
