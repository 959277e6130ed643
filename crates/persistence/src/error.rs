//! Errors of the storage layer.

/// Why a database connection (or the pool) could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// `ESR_DATABASE_URL` is not one we understand.
    #[error("invalid database URL {url}: {reason}")]
    InvalidUrl {
        /// The URL with its password redacted.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The driver refused: connection refused, authentication failed, unknown database, ….
    #[error("cannot connect to {url}: {source}")]
    Connect {
        /// The URL with its password redacted.
        url: String,
        /// The driver's own error.
        #[source]
        source: diesel::ConnectionError,
    },
    /// Connected, but the per-connection settings failed (e.g. the SQLite file is read-only).
    #[error("cannot configure the connection to {url}: {source}")]
    Setup {
        /// The URL with its password redacted.
        url: String,
        /// The statement's error.
        #[source]
        source: diesel::result::Error,
    },
    /// The SQLite file's directory could not be created.
    #[error("cannot create the directory for the SQLite database {path}: {source}")]
    CreateDir {
        /// The directory.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Pool settings out of range.
    #[error("invalid pool settings: {0}")]
    InvalidOptions(&'static str),
    /// The pool could not be built.
    #[error("cannot build the database pool: {0}")]
    Pool(#[source] r2d2::Error),
}

/// Errors of repository calls.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// No connection became free within the pool timeout (or the database is unreachable).
    #[error("database unavailable: {0}")]
    Unavailable(#[source] r2d2::Error),
    /// A query failed.
    #[error("database query failed")]
    Query(#[from] diesel::result::Error),
    /// Stored data broke an invariant (e.g. an unknown enum value in a text column).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// The migration table could not be read.
    #[error("cannot read the migration state: {0}")]
    Migration(String),
}

impl RepoError {
    /// True when the database is busy or unreachable rather than the query being wrong, so
    /// callers answer 503 and clients retry.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Unavailable(_) => true,
            Self::Query(e) => is_transient(e),
            Self::Corrupt(_) | Self::Migration(_) => false,
        }
    }
}

impl RepoError {
    /// True when the connection itself is gone (the server closed it or cannot be reached),
    /// as opposed to a busy or full database: the connection is of no further use.
    pub fn is_connection_lost(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            Self::Query(Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            )) => true,
            Self::Query(Error::DatabaseError(DatabaseErrorKind::Unknown, info)) => {
                let m = info.message();
                m.contains("server closed the connection") || m.contains("terminating connection")
            }
            _ => false,
        }
    }

    /// True when a `UNIQUE` constraint refused the write.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            Self::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

fn is_transient(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
        | Error::DatabaseError(DatabaseErrorKind::UnableToSendCommand, _)
        | Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        Error::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            let m = info.message();
            // SQLite: "database is locked" (busy_timeout elapsed), disk full, I/O errors.
            m.contains("database is locked")
                || m.contains("database or disk is full")
                || m.contains("disk I/O error")
                || m.contains("server closed the connection")
                || m.contains("terminating connection")
        }
        _ => false,
    }
}
