DROP TABLE spent_smartcard_states;
CREATE TABLE oidc_flows (
    state_hash TEXT PRIMARY KEY NOT NULL,
    nonce_hash TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX oidc_flows_expires ON oidc_flows (expires_at);
