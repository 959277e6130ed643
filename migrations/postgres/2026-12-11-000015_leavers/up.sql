-- Leavers: a person who left the organisation (absent from a full HR feed, or marked by an
-- administrator) has their accounts disabled; after a configurable period the person is
-- anonymised (erased), which is recorded too so the purge takes each leaver once.
ALTER TABLE people ADD COLUMN left_at TIMESTAMP;
ALTER TABLE people ADD COLUMN erased_at TIMESTAMP;
CREATE INDEX people_left ON people (left_at) WHERE left_at IS NOT NULL AND erased_at IS NULL;
