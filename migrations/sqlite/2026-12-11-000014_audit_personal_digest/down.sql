DROP TRIGGER audit_events_no_update;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
DROP INDEX audit_events_unblanked;
ALTER TABLE audit_events DROP COLUMN personal_blanked_at;
ALTER TABLE audit_events DROP COLUMN personal_digest;
