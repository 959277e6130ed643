//! The failures any use case can meet that have nothing to do with its own rules: storage,
//! a full hashing pool, and the unexpected. Each use case's error wraps them as one variant,
//! so they are answered the same way everywhere (503 with `Retry-After`, or an opaque 500
//! whose cause chain is logged).

use esr_persistence::RepoError;

use crate::state::StorageError;

/// A failure outside the use case's own rules.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The database call failed (unavailable, or an error of ours).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The hashing pool is at capacity: try again shortly.
    #[error("hashing is at capacity")]
    Overloaded,
    /// Something that should not fail did.
    #[error("unexpected: {0}")]
    Unexpected(String),
}

impl From<RepoError> for Failure {
    fn from(e: RepoError) -> Self {
        Self::Storage(StorageError::Repo(e))
    }
}

impl Failure {
    /// An unexpected failure with its cause's text.
    pub fn unexpected(cause: impl std::fmt::Display) -> Self {
        Self::Unexpected(cause.to_string())
    }
}
