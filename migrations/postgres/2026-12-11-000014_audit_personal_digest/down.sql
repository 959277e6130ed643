CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
DROP INDEX audit_events_unblanked;
ALTER TABLE audit_events DROP COLUMN personal_blanked_at;
ALTER TABLE audit_events DROP COLUMN personal_digest;
