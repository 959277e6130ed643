-- A session can be opened with a passkey alone (amr 'hwk'), beside a password ('pwd') and a
-- smartcard.
ALTER TABLE sessions DROP CONSTRAINT sessions_amr_check;
ALTER TABLE sessions ADD CONSTRAINT sessions_amr_check CHECK (amr IN ('pwd', 'smartcard', 'hwk'));
