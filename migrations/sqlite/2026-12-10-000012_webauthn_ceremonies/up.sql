-- A passkey ceremony between its start and its finish: what the relying-party library needs to
-- check the browser's or phone's answer (the challenge, the credentials allowed). Registration
-- belongs to the session that started it; a second factor to the login's mfa_token (its
-- digest is the id). Single use, minutes long: a finish deletes its row, and every start
-- deletes the rows that expired. A sign-in with a passkey alone stores nothing at its start
-- (its state travels sealed); its row ('sign_in', empty state, the digest of the sealed state
-- as id) marks it spent until it expires.
CREATE TABLE webauthn_ceremonies (
    id TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL CHECK (purpose IN ('registration', 'second_factor', 'sign_in')),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    session_id TEXT,
    state TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX webauthn_ceremonies_expires ON webauthn_ceremonies (expires_at);

-- A passkey's credential id (public: browsers are told it in allowCredentials), unique across
-- every account: the same credential cannot be registered twice, by one account or two.
ALTER TABLE second_factors ADD COLUMN credential_id TEXT;
CREATE UNIQUE INDEX second_factors_credential ON second_factors (credential_id);
