PRAGMA foreign_keys = OFF;
BEGIN;
DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE amr = 'hwk');
DELETE FROM sessions WHERE amr = 'hwk';
CREATE TABLE sessions_rebuilt (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    amr TEXT NOT NULL CHECK (amr IN ('pwd', 'smartcard')),
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
INSERT INTO sessions_rebuilt SELECT id, account_id, amr, created_at, last_used_at, expires_at,
    revoked_at, revoked_reason, ip, user_agent, second_factor, enrolment_only FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_rebuilt RENAME TO sessions;
CREATE INDEX sessions_account ON sessions (account_id);
COMMIT;
PRAGMA foreign_keys = ON;
