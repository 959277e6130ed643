-- A smartcard sign-in's flow travels sealed in its `state` (see crates/api/src/smartcard_flow.rs), so
-- starting one stores nothing. What is left to remember is which states were spent: a row per
-- callback that brought a genuine, unexpired state, kept until that state expires.
DROP TABLE oidc_flows;
CREATE TABLE spent_smartcard_states (
    state_digest TEXT PRIMARY KEY NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX spent_smartcard_states_expires ON spent_smartcard_states (expires_at);
