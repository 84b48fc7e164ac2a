-- Faithful items: what an item says beyond its title, link, text and dates
-- (authors with their e-mail and home page, contributors, enclosures,
-- images, comment links and counts, categories with their scheme, rights,
-- iTunes and Media RSS details), as one JSON object of the shown text's
-- source (model::ItemMeta). NULL: nothing more is known. Existing entries
-- start with NULL and are filled by their next poll: an item's content
-- hash covers this metadata, so each stored item reads as edited once.
ALTER TABLE entries ADD COLUMN meta TEXT;
