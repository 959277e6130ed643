//! Email: what is sent (templates), how it leaves (transports), and queueing through the
//! outbox in the transaction of the change that causes it.

pub mod delivery;
pub mod notify;
pub mod templates;
pub mod transport;

use chrono::{DateTime, Utc};
use esr_persistence::accounts;
use esr_persistence::outbox::{self, NewMessage};
use esr_persistence::{DbConnection, RepoError};
use serde_json::json;

/// Template names (the outbox `kind`).
pub mod kind {
    /// Username(s) and reset links, from Forgotten | Request Username/Password.
    pub const RECOVERY: &str = "recovery";
    /// Unlock link (or, when not locked, a reset link), from Unlock Account.
    pub const UNLOCK: &str = "unlock";
    /// "Your ESR password was changed".
    pub const PASSWORD_CHANGED: &str = "password_changed";
    /// "Your ESR account has been locked".
    pub const ACCOUNT_LOCKED: &str = "account_locked";
}

/// Queues a notice about an account (password changed, account locked) to its holder's work
/// email, in the caller's transaction.
pub fn queue_account_notice(
    conn: &mut DbConnection,
    account_id: &str,
    notice: &str,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let Some(profile) = accounts::profile(conn, account_id)? else {
        return Ok(());
    };
    let payload = json!({
        "username": profile.account.username.as_str(),
        "organisation_code": profile.account.organisation_code.as_str(),
        "organisation_name": profile.organisation_name,
        "at": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    });
    outbox::enqueue(
        conn,
        &NewMessage {
            kind: notice,
            recipient: &profile.person.work_email,
            language: &profile.person.language,
            account_id: Some(account_id),
            payload: &payload,
        },
        now,
    )?;
    Ok(())
}
