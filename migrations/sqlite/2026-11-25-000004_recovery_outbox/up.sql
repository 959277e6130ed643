-- Recovery and unlock: single-use tokens (SHA-256 only), the queue of requests matched
-- asynchronously, and the transactional email outbox.

CREATE TABLE one_time_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    purpose TEXT NOT NULL CHECK (purpose IN ('password_reset', 'account_unlock')),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    invalidated_at TIMESTAMP,
    wrong_username_attempts INTEGER NOT NULL DEFAULT 0 CHECK (wrong_username_attempts >= 0)
);
CREATE INDEX one_time_tokens_account ON one_time_tokens (account_id, purpose);

-- What was typed on the recovery and unlock forms, kept only until the delivery worker has
-- matched it (then deleted in the same transaction that queues any email).
CREATE TABLE recovery_requests (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('recovery', 'unlock')),
    work_email TEXT NOT NULL,
    date_of_birth DATE NOT NULL,
    username TEXT,
    ip TEXT,
    user_agent TEXT,
    request_id TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX recovery_requests_created ON recovery_requests (created_at);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    language TEXT NOT NULL CHECK (language IN ('en', 'cy')),
    account_id TEXT,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    claimed_by TEXT,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_recipient ON outbox (recipient, created_at);
