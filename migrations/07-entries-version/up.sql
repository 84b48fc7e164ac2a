-- A counter of committed changes to the entries, bumped in the same
-- transaction by every writer that changes them, whichever process it runs
-- in (the daemon, `tributary poll`, `tributary db prune`). The daemon reads
-- it to notice what another process committed, so that the pages it serves
-- do not stay stale until its own next change.
CREATE TABLE entries_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO entries_version (id, version) VALUES (1, 1);
