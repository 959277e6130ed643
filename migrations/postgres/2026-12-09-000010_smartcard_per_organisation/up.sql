-- A smartcard identifies one member of staff nationally, who may be employed by several
-- organisations: the card is unique within an organisation, not across them. (Unique across
-- them, an organisation's key could learn that a card is linked elsewhere, and claim unused
-- cards before their holder's own employer links them.)
ALTER TABLE people DROP CONSTRAINT people_smartcard_subject_key;
ALTER TABLE people ADD CONSTRAINT people_organisation_smartcard_key
    UNIQUE (organisation_code, smartcard_subject);
CREATE INDEX people_smartcard_subject ON people (smartcard_subject);
