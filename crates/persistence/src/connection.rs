//! The connection type shared by both backends, how it is opened, and write transactions.

use std::fmt;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;

use crate::error::ConnectError;

/// A connection to either supported database; queries are written once against this type.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// Production and scale-out backend.
    Postgresql(diesel::PgConnection),
    /// Embedded default backend.
    Sqlite(diesel::SqliteConnection),
}

/// Which database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `postgres://` or `postgresql://`.
    Postgres,
    /// `sqlite://PATH` (a file path; relative paths are relative to the working directory).
    Sqlite,
}

impl Backend {
    /// Short lower-case name for logs, metrics and health output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
        }
    }
}

/// A parsed `ESR_DATABASE_URL`: the backend and what to hand to the driver.
///
/// Its `Display` and `Debug` redact any password so the URL can go into logs and errors.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    backend: Backend,
    /// For PostgreSQL the full URL; for SQLite the file path.
    target: String,
}

impl DatabaseUrl {
    /// Parses a database URL, choosing the backend by its scheme.
    pub fn parse(raw: &str) -> Result<Self, ConnectError> {
        let raw = raw.trim();
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(ConnectError::InvalidUrl {
                    url: raw.to_owned(),
                    reason: "a SQLite URL needs a file path, e.g. sqlite://./var/esr.db".into(),
                });
            }
            return Ok(Self {
                backend: Backend::Sqlite,
                target: path.to_owned(),
            });
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let parsed = url::Url::parse(raw).map_err(|e| ConnectError::InvalidUrl {
                url: redact(raw),
                reason: e.to_string(),
            })?;
            if parsed.host_str().is_none_or(str::is_empty) && !raw.contains("host=") {
                return Err(ConnectError::InvalidUrl {
                    url: redact(raw),
                    reason: "a PostgreSQL URL needs a host".into(),
                });
            }
            return Ok(Self {
                backend: Backend::Postgres,
                target: raw.to_owned(),
            });
        }
        Err(ConnectError::InvalidUrl {
            url: redact(raw),
            reason: "the scheme must be sqlite://, postgres:// or postgresql://".into(),
        })
    }

    /// The backend this URL selects.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL or path handed to the driver. Contains the password, if any: never log it.
    pub fn expose(&self) -> &str {
        &self.target
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        match self.backend {
            Backend::Sqlite => format!("sqlite://{}", self.target),
            Backend::Postgres => redact(&self.target),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

/// Replaces the password of a URL (and any `password=` query parameter) with `***`.
pub fn redact(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        // Unparseable: keep the scheme only, the rest might hold a secret.
        return raw
            .split_once("://")
            .map_or_else(|| "***".to_owned(), |(scheme, _)| format!("{scheme}://***"));
    };
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k.eq_ignore_ascii_case("password") {
                "***".to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    if !pairs.is_empty() {
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// SQLite settings applied to every new connection.
#[derive(Debug, Clone, Copy)]
pub struct SqliteOptions {
    /// How long a writer waits for the lock before failing with `SQLITE_BUSY`.
    pub busy_timeout_ms: u32,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            busy_timeout_ms: 5_000,
        }
    }
}

/// Opens one connection. Errors carry the driver's own message (connection refused,
/// authentication failed, unknown database) and the redacted URL, never the password.
pub fn establish(url: &DatabaseUrl, sqlite: SqliteOptions) -> Result<DbConnection, ConnectError> {
    match url.backend() {
        Backend::Postgres => diesel::PgConnection::establish(url.expose())
            .map(DbConnection::Postgresql)
            .map_err(|source| ConnectError::Connect {
                url: url.redacted(),
                source,
            }),
        Backend::Sqlite => {
            let mut conn = diesel::SqliteConnection::establish(url.expose()).map_err(|source| {
                ConnectError::Connect {
                    url: url.redacted(),
                    source,
                }
            })?;
            // WAL lets readers run beside the single writer; NORMAL sync is durable in WAL mode
            // up to the last checkpoint-safe commit and is the documented pairing.
            conn.batch_execute(&format!(
                "PRAGMA busy_timeout = {};
                 PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA foreign_keys = ON;",
                sqlite.busy_timeout_ms
            ))
            .map_err(|source| ConnectError::Setup {
                url: url.redacted(),
                source,
            })?;
            Ok(DbConnection::Sqlite(conn))
        }
    }
}

impl DbConnection {
    /// A round trip to the database.
    pub fn ping(&mut self) -> Result<(), crate::RepoError> {
        diesel::sql_query("SELECT 1").execute(self)?;
        Ok(())
    }

    /// Which backend this connection talks to.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgresql(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Runs `f` in a write transaction: committed when `f` returns `Ok`, rolled back when it
    /// returns `Err`.
    ///
    /// On SQLite it starts with `BEGIN IMMEDIATE`, taking the write lock up front, so two
    /// writers never both read and then fail to upgrade (`SQLITE_BUSY` mid-transaction); the
    /// `busy_timeout` makes the second wait instead. On PostgreSQL it is a plain transaction;
    /// row-level atomicity comes from the statements themselves (conditional `UPDATE`s, row
    /// locks taken by the first write).
    pub fn write_transaction<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Self) -> Result<T, E>,
        E: From<crate::RepoError>,
    {
        let query = |e: diesel::result::Error| E::from(crate::RepoError::Query(e));
        let outermost_sqlite = match self {
            Self::Sqlite(inner) => <AnsiTransactionManager as TransactionManager<
                diesel::SqliteConnection,
            >>::transaction_manager_status_mut(inner)
            .transaction_depth()
            .map_err(query)?
            .is_none(),
            Self::Postgresql(_) => false,
        };
        match self {
            // Outermost on SQLite: take the write lock now.
            Self::Sqlite(inner) if outermost_sqlite => {
                AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")
            }
            // PostgreSQL, or nested on SQLite (a savepoint inside the outer transaction).
            _ => <Self as Connection>::TransactionManager::begin_transaction(self),
        }
        .map_err(query)?;
        // Commit and rollback go through the multi-connection's manager, which delegates to
        // the inner one whose transaction we just opened.
        match f(self) {
            Ok(value) => {
                <Self as Connection>::TransactionManager::commit_transaction(self)
                    .map_err(query)?;
                Ok(value)
            }
            Err(e) => {
                if let Err(rollback) =
                    <Self as Connection>::TransactionManager::rollback_transaction(self)
                {
                    tracing::error!(error = %rollback, "rollback failed");
                }
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_chosen_by_scheme() {
        let url = DatabaseUrl::parse("sqlite://./var/esr.db").expect("sqlite url");
        assert_eq!(url.backend(), Backend::Sqlite);
        assert_eq!(url.expose(), "./var/esr.db");
        for raw in [
            "postgres://u:p@localhost/db",
            "postgresql://localhost:5432/db",
        ] {
            let url = DatabaseUrl::parse(raw).expect("postgres url");
            assert_eq!(url.backend(), Backend::Postgres);
        }
    }

    #[test]
    fn unknown_scheme_is_refused_and_redacted() {
        let err = DatabaseUrl::parse("mysql://root:hunter2@db/esr").expect_err("mysql refused");
        let text = err.to_string();
        assert!(text.contains("sqlite://"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn password_is_redacted_everywhere() {
        let url = DatabaseUrl::parse(
            "postgres://esr:s3cret@db.example:5432/esr?password=x2&sslmode=require",
        )
        .expect("url");
        for shown in [url.to_string(), format!("{url:?}"), url.redacted()] {
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(!shown.contains("x2"), "{shown}");
            assert!(shown.contains("db.example"), "{shown}");
            assert!(shown.contains("sslmode=require"), "{shown}");
        }
    }

    #[test]
    fn empty_sqlite_path_is_refused() {
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }
}
