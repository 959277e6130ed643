ALTER TABLE people DROP COLUMN contact_changed_at;
