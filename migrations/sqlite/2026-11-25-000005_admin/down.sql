DROP INDEX audit_events_at;
DROP INDEX accounts_organisation;
ALTER TABLE organisations DROP COLUMN password_expiry_days;
ALTER TABLE organisations DROP COLUMN inactivity_limit_days;
DROP TABLE api_keys;
