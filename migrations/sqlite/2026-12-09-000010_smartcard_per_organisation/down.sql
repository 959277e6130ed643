PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE people_rebuilt (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_code TEXT NOT NULL REFERENCES organisations (code),
    employee_number TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    date_of_birth DATE NOT NULL,
    work_email TEXT NOT NULL,
    smartcard_subject TEXT UNIQUE,
    language TEXT NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'cy')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    contact_changed_at TIMESTAMP,
    UNIQUE (organisation_code, employee_number)
);
INSERT INTO people_rebuilt SELECT id, organisation_code, employee_number, first_name, last_name,
    date_of_birth, work_email, smartcard_subject, language, created_at, updated_at,
    contact_changed_at FROM people;
DROP TABLE people;
ALTER TABLE people_rebuilt RENAME TO people;
CREATE INDEX people_email_dob ON people (work_email, date_of_birth);
COMMIT;
PRAGMA foreign_keys = ON;
