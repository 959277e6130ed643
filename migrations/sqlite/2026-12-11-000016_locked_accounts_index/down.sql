DROP INDEX accounts_locked;
