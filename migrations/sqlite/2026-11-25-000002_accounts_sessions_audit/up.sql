-- People, their ESR accounts, password history, sessions, refresh tokens, signing keys and the
-- hash-chained audit trail. Timestamps are UTC. Identifiers are random UUID text.

CREATE TABLE people (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_code TEXT NOT NULL REFERENCES organisations (code),
    employee_number TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    date_of_birth DATE NOT NULL,
    work_email TEXT NOT NULL,
    smartcard_subject TEXT UNIQUE,
    language TEXT NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'cy')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (organisation_code, employee_number)
);
CREATE INDEX people_email_dob ON people (work_email, date_of_birth);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE CHECK (username = upper(username)),
    person_id TEXT NOT NULL REFERENCES people (id),
    organisation_code TEXT NOT NULL REFERENCES organisations (code),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'locked', 'suspended', 'disabled')),
    internet_access TEXT NOT NULL DEFAULT 'not_requested'
        CHECK (internet_access IN ('not_requested', 'pending', 'approved', 'rejected', 'revoked')),
    internet_access_changed_at TIMESTAMP,
    password_hash TEXT,
    password_changed_at TIMESTAMP,
    failed_login_count INTEGER NOT NULL DEFAULT 0 CHECK (failed_login_count >= 0),
    locked_at TIMESTAMP,
    last_login_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (person_id, organisation_code)
);

CREATE TABLE password_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    password_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX password_history_account ON password_history (account_id, id);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    amr TEXT NOT NULL CHECK (amr IN ('pwd', 'smartcard')),
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    revoked_reason TEXT,
    ip TEXT,
    user_agent TEXT
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    parent_hash TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    algorithm TEXT NOT NULL CHECK (algorithm = 'EdDSA'),
    public_key TEXT NOT NULL,
    private_key_pem TEXT,
    created_at TIMESTAMP NOT NULL,
    retired_at TIMESTAMP
);

CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    event_type TEXT NOT NULL,
    account_id TEXT,
    actor TEXT NOT NULL,
    ip TEXT,
    user_agent TEXT,
    request_id TEXT,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_account ON audit_events (account_id, seq);
CREATE INDEX audit_events_type ON audit_events (event_type, seq);

-- The head of the audit chain: one row, updated by every append inside the appending
-- transaction, so appends are serialised and the chain cannot fork.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only: the database refuses edits and deletions of audit rows.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
