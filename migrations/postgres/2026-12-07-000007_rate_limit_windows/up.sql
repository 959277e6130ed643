-- Rate-limit counters shared by every instance (used on PostgreSQL; SQLite runs one instance
-- and keeps its counters in memory). One row per limit, key and fixed window; the key is a
-- SHA-256 digest, never the address, username or email it counts. Rows are swept a few
-- windows after they end.
CREATE TABLE rate_limit_windows (
    key_digest TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (key_digest, window_start)
);
CREATE INDEX rate_limit_windows_start ON rate_limit_windows (window_start);
