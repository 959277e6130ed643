-- Smartcard (OIDC) sign-in flows in progress. Keyed by the SHA-256 of `state`, so any instance
-- can finish a flow another started; single use (used_at set by one conditional UPDATE) and
-- short-lived. The nonce is kept only as its SHA-256; the PKCE verifier must be sent to the
-- token endpoint, so it is kept as is until the flow is used or expires.
CREATE TABLE oidc_flows (
    state_hash TEXT PRIMARY KEY,
    nonce_hash TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX oidc_flows_expires ON oidc_flows (expires_at);
