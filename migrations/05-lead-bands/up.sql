-- Dedup rule 3: the lead SimHash's band keys become 2×32 bits instead of
-- 4×16, so that a key shared by chance stays rare in a large store (at
-- 450,000 entries each 16-bit key was shared by about 7 unrelated
-- stories). Lead keys are tagged 1 << 36 (68719476736) and the second half
-- 1 << 32 (4294967296); the text SimHash keeps its 4×16-bit keys, tagged
-- by position in bits 16-17. The old lead keys carried bit 20.
DELETE FROM entry_bands WHERE band >= 1048576 AND band < 2097152;
INSERT OR IGNORE INTO entry_bands (band, entry_id)
    SELECT 68719476736 | (lead_simhash & 4294967295), entry_id FROM entry_fingerprints;
INSERT OR IGNORE INTO entry_bands (band, entry_id)
    SELECT 68719476736 | 4294967296 | ((lead_simhash >> 32) & 4294967295), entry_id FROM entry_fingerprints;
