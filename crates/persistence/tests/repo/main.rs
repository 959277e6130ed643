//! Integration tests of the storage layer against real databases: every test runs on a fresh
//! SQLite file and, when `ESR_TEST_DATABASE_URL` names a PostgreSQL server (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`), on a fresh PostgreSQL database too. Each test
//! appears as `NAME::sqlite` and `NAME::postgres`; tests about one backend only appear once.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod helpers;

mod accounts;
mod migrations;
mod organisations;
mod people_import;
mod pool;
mod rate_limits;
mod sqlite_settings;
mod transactions;
