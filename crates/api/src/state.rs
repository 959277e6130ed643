//! State shared by every request of one instance.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use esr_domain::PasswordHasher;
use esr_persistence::{DbConnection, DbPool, RepoError};

use crate::config::Config;
use crate::hashing::HashingPool;
use crate::metrics::Metrics;
use crate::rate_limit::RateLimits;
use crate::tokens::TokenService;

/// Shared application state, handed to handlers as `web::Data<AppState>`.
#[derive(Clone)]
pub struct AppState {
    /// Validated configuration.
    pub config: Arc<Config>,
    /// Database pool.
    pub pool: DbPool,
    /// Metrics registry.
    pub metrics: Metrics,
    /// Access-token signing and verification.
    pub tokens: Arc<TokenService>,
    /// argon2id with the configured parameters (and its dummy hash).
    pub hasher: Arc<PasswordHasher>,
    /// Where hashing runs, with bounded admission.
    pub hashing: HashingPool,
    /// Per-instance rate limits.
    pub limits: Arc<RateLimits>,
    /// When verification keys were last reloaded from the database.
    pub keys_reloaded: Arc<Mutex<Instant>>,
    /// Wakes this instance's delivery worker when something is queued.
    pub delivery_wake: Arc<tokio::sync::Notify>,
    /// The smartcard identity provider's relying party; `None` when smartcard sign-in is off.
    pub oidc: Option<Arc<crate::oidc::OidcClient>>,
    /// The dev identity provider (dev mode only).
    pub dev_idp: Option<Arc<crate::oidc::dev_provider::DevIdp>>,
    /// The breached-password range API; `None` when the check is off.
    pub breached: Option<Arc<crate::breached::BreachedPasswords>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("database", &self.pool.redacted_url())
            .finish_non_exhaustive()
    }
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

impl AppState {
    /// A short read by key (microseconds on SQLite): on SQLite it runs on the calling thread
    /// when a pooled connection is idle, saving the hand-over to the blocking pool and back,
    /// which costs more than the read itself; otherwise (PostgreSQL, whose every query is a
    /// network round trip, or no idle connection) it goes through [`AppState::db`]. SQLite in
    /// WAL mode never makes a reader wait for writers, so the worker thread is not held up.
    /// Only for single-row look-ups on the request's hot path (`GET /v1/me`).
    pub async fn db_read<T, F>(&self, f: F) -> Result<T, StorageError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, RepoError> + Send + 'static,
        T: Send + 'static,
    {
        if self.pool.backend() == esr_persistence::Backend::Sqlite
            && let Some(mut conn) = self.pool.try_get()
        {
            return f(&mut conn).map_err(StorageError::from);
        }
        self.db(f).await
    }

    /// Runs a database call on the blocking pool, inside the current tracing span, with a
    /// connection checked out for its duration, and wakes the delivery worker when it queued
    /// an email. Never blocks an async worker.
    pub async fn db<T, F>(&self, f: F) -> Result<T, StorageError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, RepoError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        let (result, queued) = actix_web::web::block(move || {
            span.in_scope(|| {
                esr_persistence::outbox::take_queued_here();
                let result = pool.run(f);
                (result, esr_persistence::outbox::take_queued_here())
            })
        })
        .await
        .map_err(|_| StorageError::Shutdown)?;
        if queued {
            // Send what the call queued now rather than at the worker's next poll.
            self.delivery_wake.notify_one();
        }
        let result = result.map_err(StorageError::from);
        if let Err(e) = &result
            && e.is_unavailable()
        {
            self.metrics.db_unavailable();
        }
        result
    }
}
