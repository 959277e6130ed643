ALTER TABLE api_keys DROP COLUMN sees_clients;
