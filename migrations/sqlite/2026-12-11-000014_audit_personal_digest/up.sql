-- An audit trail that can forget: the chain of new rows covers a keyed digest of their
-- personal fields (actor, IP, user agent, details) instead of the values, so the values can
-- be blanked after their retention, or at erasure, and the chain still verifies. Rows from
-- before this migration keep the old link over their raw values and are never blanked.
ALTER TABLE audit_events ADD COLUMN personal_digest TEXT;
ALTER TABLE audit_events ADD COLUMN personal_blanked_at TIMESTAMP;
CREATE INDEX audit_events_unblanked ON audit_events (at) WHERE personal_blanked_at IS NULL AND personal_digest IS NOT NULL;

-- Still append-only, with one change allowed: blanking a row's personal fields, once, leaving
-- everything its link covers as it was. The actor keeps its kind (`account`, `api-key`, ...).
DROP TRIGGER audit_events_no_update;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
WHEN NOT (
    OLD.personal_digest IS NOT NULL
    AND OLD.personal_blanked_at IS NULL
    AND NEW.personal_blanked_at IS NOT NULL
    AND NEW.ip IS NULL
    AND NEW.user_agent IS NULL
    AND NEW.details = '{}'
    AND NEW.actor = CASE WHEN instr(OLD.actor, ':') > 0
                         THEN substr(OLD.actor, 1, instr(OLD.actor, ':') - 1)
                         ELSE OLD.actor END
    AND NEW.seq IS OLD.seq AND NEW.at IS OLD.at AND NEW.event_type IS OLD.event_type
    AND NEW.account_id IS OLD.account_id AND NEW.request_id IS OLD.request_id
    AND NEW.prev_hash IS OLD.prev_hash AND NEW.hash IS OLD.hash
    AND NEW.personal_digest IS OLD.personal_digest
)
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
