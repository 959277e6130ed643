DROP INDEX second_factors_credential;
ALTER TABLE second_factors DROP COLUMN credential_id;
DROP TABLE webauthn_ceremonies;
