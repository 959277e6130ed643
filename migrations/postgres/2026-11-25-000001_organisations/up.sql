CREATE TABLE organisations (
    code TEXT PRIMARY KEY CHECK (code ~ '^[0-9A-Z]{3}$'),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    internet_access_approval TEXT NOT NULL CHECK (internet_access_approval IN ('automatic', 'manual')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
