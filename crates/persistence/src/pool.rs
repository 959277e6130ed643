//! The r2d2 pool over [`DbConnection`], with our own connection manager so the operator sees
//! the driver's real error (diesel's generic multi-connection manager only reports
//! "Invalid connection url for multiconnection" whatever went wrong).

use std::path::Path;
use std::time::Duration;

use diesel::RunQueryDsl;

use crate::connection::{Backend, DatabaseUrl, DbConnection, SqliteOptions, establish};
use crate::error::{ConnectError, RepoError};

/// A connection checked out of the pool.
pub type PooledConnection = r2d2::PooledConnection<Manager>;

/// Pool sizing and timeouts.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    /// Upper bound on open connections.
    pub max_size: u32,
    /// How long a caller waits for a free connection before getting
    /// [`RepoError::Unavailable`] (answered 503 by the API).
    pub connection_timeout: Duration,
    /// SQLite per-connection settings.
    pub sqlite: SqliteOptions,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 10,
            connection_timeout: Duration::from_secs(2),
            sqlite: SqliteOptions::default(),
        }
    }
}

/// Opens [`DbConnection`]s for r2d2.
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
    sqlite: SqliteOptions,
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConnection, ConnectError> {
        establish(&self.url, self.sqlite)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), ConnectError> {
        // A SQLite connection is a handle on a local file: there is no server to lose, so the
        // check-out ping would only cost a statement per request. PostgreSQL connections are
        // pinged, so one broken by a database restart is replaced before it is used.
        if matches!(conn, DbConnection::Sqlite(_)) {
            return Ok(());
        }
        diesel::sql_query("SELECT 1")
            .execute(conn)
            .map(drop)
            .map_err(|source| ConnectError::Setup {
                url: self.url.redacted(),
                source,
            })
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.is_broken()
    }
}

/// Logs connection failures r2d2 meets in the background with their real cause.
#[derive(Debug)]
struct LogErrors;

impl r2d2::HandleError<ConnectError> for LogErrors {
    fn handle_error(&self, error: ConnectError) {
        tracing::warn!(error = %error, "database connection failed");
    }
}

/// The shared connection pool.
#[derive(Clone, Debug)]
pub struct DbPool {
    pool: r2d2::Pool<Manager>,
    url: DatabaseUrl,
}

impl DbPool {
    /// Builds the pool and opens one connection first, so a wrong URL, a refused connection
    /// or bad credentials fail start-up with the driver's own message.
    pub fn connect(url: &DatabaseUrl, options: PoolOptions) -> Result<Self, ConnectError> {
        if url.backend() == Backend::Sqlite
            && let Some(dir) = Path::new(url.expose())
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|source| ConnectError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        if options.max_size == 0 || options.connection_timeout.is_zero() {
            return Err(ConnectError::InvalidOptions(
                "the pool needs at least one connection and a non-zero timeout",
            ));
        }
        // Opening one directly surfaces the real cause; r2d2 would only report a timeout.
        let first = establish(url, options.sqlite)?;
        drop(first);
        let pool = r2d2::Pool::builder()
            .max_size(options.max_size)
            .min_idle(Some(0))
            .connection_timeout(options.connection_timeout)
            .test_on_check_out(true)
            .error_handler(Box::new(LogErrors))
            .build_unchecked(Manager {
                url: url.clone(),
                sqlite: options.sqlite,
            });
        Ok(Self {
            pool,
            url: url.clone(),
        })
    }

    /// Checks out a connection, waiting at most the pool timeout.
    pub fn get(&self) -> Result<PooledConnection, RepoError> {
        self.pool.get().map_err(RepoError::Unavailable)
    }

    /// Checks out an idle connection if there is one, without waiting.
    pub fn try_get(&self) -> Option<PooledConnection> {
        self.pool.try_get()
    }

    /// The backend behind this pool.
    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// The database URL, password redacted.
    pub fn redacted_url(&self) -> String {
        self.url.redacted()
    }

    /// Connections currently open and idle, for metrics.
    pub fn state(&self) -> (u32, u32) {
        let s = self.pool.state();
        (s.connections, s.idle_connections)
    }
}
