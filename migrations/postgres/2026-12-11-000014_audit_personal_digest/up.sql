-- An audit trail that can forget: the chain of new rows covers a keyed digest of their
-- personal fields (actor, IP, user agent, details) instead of the values, so the values can
-- be blanked after their retention, or at erasure, and the chain still verifies. Rows from
-- before this migration keep the old link over their raw values and are never blanked.
ALTER TABLE audit_events ADD COLUMN personal_digest TEXT;
ALTER TABLE audit_events ADD COLUMN personal_blanked_at TIMESTAMP;
CREATE INDEX audit_events_unblanked ON audit_events (at) WHERE personal_blanked_at IS NULL AND personal_digest IS NOT NULL;

-- Still append-only, with one change allowed: blanking a row's personal fields, once, leaving
-- everything its link covers as it was. The actor keeps its kind (`account`, `api-key`, ...).
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND OLD.personal_digest IS NOT NULL
        AND OLD.personal_blanked_at IS NULL
        AND NEW.personal_blanked_at IS NOT NULL
        AND NEW.ip IS NULL
        AND NEW.user_agent IS NULL
        AND NEW.details = '{}'
        AND NEW.actor = split_part(OLD.actor, ':', 1)
        AND (NEW.seq, NEW.at, NEW.event_type, NEW.account_id, NEW.request_id,
             NEW.prev_hash, NEW.hash, NEW.personal_digest)
            IS NOT DISTINCT FROM
            (OLD.seq, OLD.at, OLD.event_type, OLD.account_id, OLD.request_id,
             OLD.prev_hash, OLD.hash, OLD.personal_digest)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
