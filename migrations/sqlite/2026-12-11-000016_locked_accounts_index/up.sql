-- The metrics count locked accounts at every scrape: only they are in this index.
CREATE INDEX accounts_locked ON accounts (id) WHERE status = 'locked';
