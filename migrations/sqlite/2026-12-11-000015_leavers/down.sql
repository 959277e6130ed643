DROP INDEX people_left;
ALTER TABLE people DROP COLUMN erased_at;
ALTER TABLE people DROP COLUMN left_at;
