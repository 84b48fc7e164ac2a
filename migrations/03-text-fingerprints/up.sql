-- Dedup rule 3: text fingerprints of entries and their SimHash bands.

-- One fingerprint per entry, of the text it currently shows. Rows older
-- than the rule's window are never consulted and may be pruned.
CREATE TABLE entry_fingerprints (
    entry_id     INTEGER PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
    simhash      INTEGER NOT NULL,
    lead_simhash INTEGER NOT NULL,
    shingles     INTEGER NOT NULL,   -- distinct body shingles
    sketch       BLOB NOT NULL,      -- bottom-k body shingle hashes, u32 little-endian, sorted
    lead         BLOB NOT NULL,      -- shingle hashes of the body's opening, u32 little-endian, sorted
    published_at INTEGER NOT NULL    -- copy of entries.published_at for the window
);
CREATE INDEX entry_fingerprints_published ON entry_fingerprints(published_at);

-- 4×16-bit bands of both SimHashes: candidates share at least one band.
CREATE TABLE entry_bands (
    band     INTEGER NOT NULL,
    entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    PRIMARY KEY (band, entry_id)
) WITHOUT ROWID;
CREATE INDEX entry_bands_entry ON entry_bands(entry_id);
