-- Multi-factor sign-in from home and the app.

-- Whether an organisation's staff use a second factor: 'off', 'optional' (those who enrol
-- one are asked for it) or 'required' (a password alone opens only enrolment).
ALTER TABLE organisations ADD COLUMN mfa_policy TEXT NOT NULL DEFAULT 'optional'
    CHECK (mfa_policy IN ('off', 'optional', 'required'));

-- The second factor a password session was completed with ('otp': authenticator app or
-- recovery code; 'hwk': passkey or security key), and whether the session may only enrol
-- one (a password session of an account that must have a factor and has none).
ALTER TABLE sessions ADD COLUMN second_factor TEXT CHECK (second_factor IN ('otp', 'hwk'));
ALTER TABLE sessions ADD COLUMN enrolment_only BOOLEAN NOT NULL DEFAULT FALSE;

-- Authenticator apps and passkeys. A TOTP secret is stored only sealed with the key from
-- ESR_MFA_KEY_FILE; last_step is the last time step accepted, so each code works once.
-- A factor is pending until confirmed_at is set by a first valid code, which only the
-- session that started it (enrolling_session_id) may give, a few times at most
-- (failed_confirmations).
CREATE TABLE second_factors (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    kind TEXT NOT NULL CHECK (kind IN ('totp', 'passkey')),
    name TEXT NOT NULL,
    sealed_secret TEXT,
    last_step BIGINT,
    enrolling_session_id TEXT,
    failed_confirmations INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,
    last_used_at TIMESTAMP
);
CREATE INDEX second_factors_account ON second_factors (account_id);

-- One-time recovery codes, stored only as keyed digests; a new set replaces the old.
CREATE TABLE recovery_codes (
    code_digest TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX recovery_codes_account ON recovery_codes (account_id);

-- Single-use tokens of the second step: 'sign_in' (the mfa_token a correct password
-- earns, answered with a code) and 'enrolment' (the emailed link that lets a password
-- session enrol a first factor). SHA-256 only.
CREATE TABLE mfa_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    purpose TEXT NOT NULL CHECK (purpose IN ('sign_in', 'enrolment')),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX mfa_tokens_account ON mfa_tokens (account_id, purpose);
