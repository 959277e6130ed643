//! How a send fails, whichever transport made it: the delivery worker retries or gives up by
//! this alone.

/// Why a send failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// Worth retrying (connection refused, timeout, 4xx SMTP, 5xx/429 Notify).
    #[error("temporary: {0}")]
    Temporary(String),
    /// Will fail again (bad address, refused by policy): the message is dead at once.
    #[error("permanent: {0}")]
    Permanent(String),
}
