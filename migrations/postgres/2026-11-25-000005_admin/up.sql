-- Administrator API: keys (stored only as SHA-256 with a short visible prefix), and the
-- organisation settings enforced at login.

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE CHECK (length(key_hash) = 64),
    scope TEXT NOT NULL CHECK (scope = 'all' OR scope ~ '^[0-9A-Z]{3}$'),
    access TEXT NOT NULL CHECK (access IN ('read', 'write')),
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    last_used_at TIMESTAMP
);

-- Days without a login after which internet access lapses (NULL: no limit), and days after
-- which a password expires (NULL: never, as NCSC advises).
ALTER TABLE organisations ADD COLUMN inactivity_limit_days INTEGER
    CHECK (inactivity_limit_days IS NULL OR inactivity_limit_days BETWEEN 1 AND 3650);
ALTER TABLE organisations ADD COLUMN password_expiry_days INTEGER
    CHECK (password_expiry_days IS NULL OR password_expiry_days BETWEEN 1 AND 3650);

-- Admin lists: accounts of an organisation by username, audit events by time.
CREATE INDEX accounts_organisation ON accounts (organisation_code, username);
CREATE INDEX audit_events_at ON audit_events (at);
