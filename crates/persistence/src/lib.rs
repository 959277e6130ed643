//! ESR Access storage: one diesel code path for SQLite (embedded default) and PostgreSQL
//! (production), with the schema, models, repositories, connection pool and migrations.
//!
//! Every function here is synchronous; callers run them off the async workers.
//!
//! Look-ups by a unique key end in `.get_result(conn)`, not `.first(conn)`: `first` adds a
//! bound `LIMIT ?`, and the bundled SQLite (3.50) marks a statement whose `LIMIT` is a bound
//! parameter to be re-prepared whenever that parameter is bound again, which diesel does at
//! every execution, so the statement cache never helps and each look-up pays a full parse
//! and plan (measured: `GET /v1/me` spent most of its time in `sqlite3Reprepare`; see
//! docs/BENCHMARKS.md). `first` stays where an ordering picks one row of many.

/// Runs one query expression on whichever concrete connection `conn` holds.
///
/// For SQL both backends speak but diesel's multi-backend does not model (`ON CONFLICT`), the
/// expression is written once and compiled for each backend.
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::DbConnection::Postgresql($c) => $body,
            $crate::DbConnection::Sqlite($c) => $body,
        }
    };
}

pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod connection;
pub mod error;
pub mod mfa_tokens;
pub mod migrations;
pub mod one_time_tokens;
pub mod organisations;
pub mod outbox;
pub mod people;
pub mod people_import;
pub mod pool;
pub mod rate_limits;
pub mod recovery_codes;
pub mod recovery_requests;
pub mod retention;
pub mod schema;
pub mod second_factors;
pub mod sessions;
pub mod signing_keys;
pub mod spent_smartcard_states;
pub mod subjects;
pub mod webauthn_ceremonies;

pub use connection::{Backend, DatabaseUrl, DbConnection};
pub use error::{ConnectError, RepoError};
pub use pool::{DbPool, PoolOptions, PooledConnection};
