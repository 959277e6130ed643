-- A read-only key sees the clients behind audit events (IP, user agent) only when granted
-- this: a service desk does not need them, an investigation may.
ALTER TABLE api_keys ADD COLUMN sees_clients BOOLEAN NOT NULL DEFAULT FALSE;
