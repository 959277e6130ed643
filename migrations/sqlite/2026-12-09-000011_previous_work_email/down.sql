ALTER TABLE people DROP COLUMN previous_email_until;
ALTER TABLE people DROP COLUMN previous_work_email;
