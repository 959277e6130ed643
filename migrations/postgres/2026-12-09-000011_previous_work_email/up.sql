-- The work email on record before a contact-change hold began, and until when notices are
-- copied to it: whoever changed the address (and then the card, or had the sign-in methods
-- reset) cannot keep the holder from hearing of it during the hold.
ALTER TABLE people ADD COLUMN previous_work_email TEXT;
ALTER TABLE people ADD COLUMN previous_email_until TIMESTAMP;
