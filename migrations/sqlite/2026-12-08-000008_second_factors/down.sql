DROP TABLE mfa_tokens;
DROP TABLE recovery_codes;
DROP TABLE second_factors;
ALTER TABLE sessions DROP COLUMN enrolment_only;
ALTER TABLE sessions DROP COLUMN second_factor;
ALTER TABLE organisations DROP COLUMN mfa_policy;
