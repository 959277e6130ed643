DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE amr = 'hwk');
DELETE FROM sessions WHERE amr = 'hwk';
ALTER TABLE sessions DROP CONSTRAINT sessions_amr_check;
ALTER TABLE sessions ADD CONSTRAINT sessions_amr_check CHECK (amr IN ('pwd', 'smartcard'));
