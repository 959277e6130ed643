//! ESR Access storage: one diesel code path for SQLite (embedded default) and PostgreSQL
//! (production), with the schema, models, repositories, connection pool and migrations.
//!
//! Every function here is synchronous; callers run them off the async workers.

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
pub mod migrations;
pub mod oidc_flows;
pub mod one_time_tokens;
pub mod organisations;
pub mod outbox;
pub mod people;
pub mod people_import;
pub mod pool;
pub mod recovery_requests;
pub mod schema;
pub mod sessions;
pub mod signing_keys;

pub use connection::{Backend, DatabaseUrl, DbConnection};
pub use error::{ConnectError, RepoError};
pub use pool::{DbPool, PoolOptions, PooledConnection};
