//! The r2d2 pool over [`DbConnection`], with our own connection manager so the operator sees
//! the driver's real error (diesel's generic multi-connection manager only reports
//! "Invalid connection url for multiconnection" whatever went wrong).

use std::path::Path;
use std::time::{Duration, Instant};

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

/// How long after a connection last went back to the pool in working order it is handed out
/// again without a check. Under load connections come back within milliseconds, so the check's
/// round trip (a `SELECT 1`, one in every few statements of a login) is spent only on
/// connections that sat idle, which a database restart is likely to have broken.
const TRUSTED_AFTER_USE: Duration = Duration::from_secs(2);

/// A connection in the pool, and when it last came back from a caller unbroken.
pub struct Pooled {
    conn: DbConnection,
    returned_at: Option<Instant>,
    /// A call on it found the database gone: it is closed rather than pooled again.
    lost: bool,
}

impl std::ops::Deref for Pooled {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Pooled;
    type Error = ConnectError;

    fn connect(&self) -> Result<Pooled, ConnectError> {
        Ok(Pooled {
            conn: establish(&self.url, self.sqlite)?,
            returned_at: None,
            lost: false,
        })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), ConnectError> {
        // A SQLite connection is a handle on a local file: there is no server to lose, so the
        // check-out ping would only cost a statement per request. A PostgreSQL connection is
        // pinged unless it worked a moment ago, so one broken by a database restart is
        // replaced before it is used.
        if matches!(pooled.conn, DbConnection::Sqlite(_))
            || pooled
                .returned_at
                .is_some_and(|at| at.elapsed() < TRUSTED_AFTER_USE)
        {
            return Ok(());
        }
        diesel::sql_query("SELECT 1")
            .execute(&mut pooled.conn)
            .map(drop)
            .map_err(|source| ConnectError::Setup {
                url: self.url.redacted(),
                source,
            })
    }

    /// Called as each connection goes back to the pool.
    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        use diesel::r2d2::R2D2Connection;
        let broken = pooled.lost || pooled.conn.is_broken();
        if !broken {
            pooled.returned_at = Some(Instant::now());
        }
        broken
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

    /// Runs `f` on a connection checked out for it. A connection on which `f` found the
    /// database gone is closed instead of going back to the pool, so a restart costs each
    /// pooled connection one failed call, not one per use.
    pub fn run<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, RepoError>,
    ) -> Result<T, RepoError> {
        let mut conn = self.get()?;
        let result = f(&mut conn);
        if result.as_ref().is_err_and(RepoError::is_connection_lost) {
            conn.lost = true;
        }
        result
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
