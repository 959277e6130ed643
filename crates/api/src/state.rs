//! State shared by every request of one instance.

use std::sync::Arc;

use esr_persistence::{DbConnection, DbPool, RepoError};

use crate::config::Config;
use crate::metrics::Metrics;

/// Shared application state, handed to handlers as `web::Data<AppState>`.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Validated configuration.
    pub config: Arc<Config>,
    /// Database pool.
    pub pool: DbPool,
    /// Metrics registry.
    pub metrics: Metrics,
}

/// A failure of a database call made through [`AppState::db`].
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The repository call failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// The blocking pool refused the work (the server is shutting down).
    #[error("the blocking thread pool is shut down")]
    Shutdown,
}

impl StorageError {
    /// True when a retry later may succeed (answered 503).
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Repo(e) => e.is_unavailable(),
            Self::Shutdown => true,
        }
    }
}

impl crate::problem::AsProblem for StorageError {
    fn problem(&self) -> crate::problem::ProblemSpec {
        use actix_web::http::StatusCode;
        if self.is_unavailable() {
            tracing::warn!(error = %self, "database unavailable");
            crate::problem::ProblemSpec::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database-unavailable",
                "Service Unavailable",
                "The service is busy or its database is unavailable; try again shortly.",
            )
            .with_retry_after(1)
        } else {
            crate::problem::internal_error(self)
        }
    }
}
crate::problem_response!(StorageError);

impl AppState {
    /// Runs a database call on the blocking pool, inside the current tracing span, with a
    /// connection checked out for its duration. Never blocks an async worker.
    pub async fn db<T, F>(&self, f: F) -> Result<T, StorageError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, RepoError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        actix_web::web::block(move || {
            span.in_scope(|| {
                let mut conn = pool.get()?;
                f(&mut conn)
            })
        })
        .await
        .map_err(|_| StorageError::Shutdown)?
        .map_err(StorageError::from)
    }
}
