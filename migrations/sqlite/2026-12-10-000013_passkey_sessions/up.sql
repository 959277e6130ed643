-- A session can be opened with a passkey alone (amr 'hwk'), beside a password ('pwd') and a
-- smartcard. SQLite cannot change a CHECK constraint, so the table is rebuilt as it was with
-- the new value allowed.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE sessions_rebuilt (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    amr TEXT NOT NULL CHECK (amr IN ('pwd', 'smartcard', 'hwk')),
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    revoked_reason TEXT,
    ip TEXT,
    user_agent TEXT,
    second_factor TEXT CHECK (second_factor IN ('otp', 'hwk')),
    enrolment_only BOOLEAN NOT NULL DEFAULT FALSE
);
INSERT INTO sessions_rebuilt (id, account_id, amr, created_at, last_used_at, expires_at,
    revoked_at, revoked_reason, ip, user_agent, second_factor, enrolment_only)
SELECT id, account_id, amr, created_at, last_used_at, expires_at, revoked_at, revoked_reason,
    ip, user_agent, second_factor, enrolment_only
FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_rebuilt RENAME TO sessions;
CREATE INDEX sessions_account ON sessions (account_id);
COMMIT;
PRAGMA foreign_keys = ON;
