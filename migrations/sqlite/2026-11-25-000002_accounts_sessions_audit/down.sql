DROP TABLE audit_head;
DROP TABLE audit_events;
DROP TABLE signing_keys;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE password_history;
DROP TABLE accounts;
DROP TABLE people;
