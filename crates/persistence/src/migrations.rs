//! Embedded migrations, one set per backend under `migrations/{sqlite,postgres}/`.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::connection::DbConnection;
use crate::error::RepoError;

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// A migration failure, with the version that failed where known.
#[derive(Debug, thiserror::Error)]
#[error("migration failed: {0}")]
pub struct MigrationError(String);

impl From<RepoError> for MigrationError {
    fn from(e: RepoError) -> Self {
        Self(e.to_string())
    }
}

/// Applies every pending migration; returns the versions applied, oldest first.
pub fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, MigrationError> {
    let applied = match conn {
        DbConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES),
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE),
    }
    .map_err(|e| MigrationError(e.to_string()))?;
    Ok(applied.into_iter().map(|v| v.to_string()).collect())
}

/// Versions embedded in this binary but not yet applied to the database.
pub fn pending(conn: &mut DbConnection) -> Result<Vec<String>, RepoError> {
    let pending = match conn {
        DbConnection::Postgresql(c) => c
            .pending_migrations(POSTGRES)
            .map(|m| m.iter().map(|m| m.name().version().to_string()).collect()),
        DbConnection::Sqlite(c) => c
            .pending_migrations(SQLITE)
            .map(|m| m.iter().map(|m| m.name().version().to_string()).collect()),
    };
    pending.map_err(|e| RepoError::Migration(e.to_string()))
}
