-- When a person's work email or smartcard subject last changed. For a while after (the
-- contact-change hold) no recovery email is sent and no password is set at work, so whoever
-- changed the contact detail cannot use it at once to take the account over.
ALTER TABLE people ADD COLUMN contact_changed_at TIMESTAMP;
