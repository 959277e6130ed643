-- A smartcard identifies one member of staff nationally, who may be employed by several
-- organisations: the card is unique within an organisation, not across them. (Unique across
-- them, an organisation's key could learn that a card is linked elsewhere, and claim unused
-- cards before their holder's own employer links them.)
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
    smartcard_subject TEXT,
    language TEXT NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'cy')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    contact_changed_at TIMESTAMP,
    UNIQUE (organisation_code, employee_number),
    UNIQUE (organisation_code, smartcard_subject)
);
INSERT INTO people_rebuilt (id, organisation_code, employee_number, first_name, last_name,
    date_of_birth, work_email, smartcard_subject, language, created_at, updated_at,
    contact_changed_at)
SELECT id, organisation_code, employee_number, first_name, last_name, date_of_birth,
    work_email, smartcard_subject, language, created_at, updated_at, contact_changed_at
FROM people;
DROP TABLE people;
ALTER TABLE people_rebuilt RENAME TO people;
CREATE INDEX people_email_dob ON people (work_email, date_of_birth);
CREATE INDEX people_smartcard_subject ON people (smartcard_subject);
COMMIT;
PRAGMA foreign_keys = ON;
