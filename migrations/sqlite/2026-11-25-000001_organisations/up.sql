CREATE TABLE organisations (
    code TEXT PRIMARY KEY NOT NULL CHECK (code GLOB '[0-9A-Z][0-9A-Z][0-9A-Z]'),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    internet_access_approval TEXT NOT NULL CHECK (internet_access_approval IN ('automatic', 'manual')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
