DROP INDEX people_smartcard_subject;
ALTER TABLE people DROP CONSTRAINT people_organisation_smartcard_key;
ALTER TABLE people ADD CONSTRAINT people_smartcard_subject_key UNIQUE (smartcard_subject);
