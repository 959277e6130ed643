//! Counting a wrong secret towards the lockout: the one place where a failure is counted and
//! the lock decided, whatever was wrong (a password at login, the current password of a
//! change).

use chrono::{DateTime, Utc};
use esr_domain::LockoutPolicy;
use esr_persistence::accounts::{self, Account};
use esr_persistence::{DbConnection, RepoError};

use super::{Caller, consequences};

/// What counting one failure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// Counted; the account stays active.
    Failure {
        /// Consecutive failures now.
        count: u32,
    },
    /// Counted, and this failure locked the account.
    Locked {
        /// Consecutive failures now (the threshold).
        count: u32,
    },
    /// Not counted: the account was no longer active (locked meanwhile, suspended, …).
    NotActive,
}

/// Counts one failure on `account` atomically; when the count it reaches is the policy's
/// threshold, locks the account and applies the lock's consequences, all in the caller's
/// transaction. However many attempts race, the count never passes the threshold and exactly
/// one of them locks.
pub fn count_failure(
    conn: &mut DbConnection,
    caller: &Caller,
    account: &Account,
    policy: &LockoutPolicy,
    now: DateTime<Utc>,
) -> Result<Counted, RepoError> {
    let Some(count) = accounts::record_failed_login(conn, &account.id, now)? else {
        return Ok(Counted::NotActive);
    };
    if !policy.should_lock(count) {
        return Ok(Counted::Failure { count });
    }
    if !accounts::lock(conn, &account.id, now)? {
        // The row is held since the increment, so it is still active; stay safe regardless.
        return Ok(Counted::NotActive);
    }
    consequences::account_locked(conn, caller, account, count, now)?;
    Ok(Counted::Locked { count })
}
