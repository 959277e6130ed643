//! The password-login decision, as a pure function of what the caller read and verified.
//!
//! The caller (API + persistence) does: look the username up; verify the password against
//! the stored hash, or against [`PasswordHasher::dummy_hash`](crate::PasswordHasher::dummy_hash)
//! when there is no such account (then answer [`LoginError::InvalidCredentials`] without
//! calling [`decide_login`]); call [`decide_login`]; apply the outcome: increment the failure
//! count atomically when [`LoginOutcome::counts_failure`] and lock when
//! [`LockoutPolicy::should_lock`] says so for the count the increment returned (never for a
//! count read earlier: concurrent attempts would each see a stale one), reset the count when
//! [`LoginOutcome::resets_failures`], and answer [`LoginOutcome::error`].

use crate::{AccountStatus, Coded, InternetAccessStatus};

/// What the caller knows about a login attempt on an existing account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginAttempt {
    /// Account status as read.
    pub account: AccountStatus,
    /// Internet-access status as read.
    pub internet_access: InternetAccessStatus,
    /// Whether the password verified against the stored hash.
    pub password_correct: bool,
}

/// The decision for one login attempt. Several outcomes share one public answer
/// ([`LoginError::InvalidCredentials`]) but stay distinct for the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    /// Active, approved, correct password: issue tokens (and rehash if needed).
    Success,
    /// Wrong password on an active account: count the failure (the count it reaches decides
    /// the lock, see [`LockoutPolicy::should_lock`](crate::LockoutPolicy::should_lock)).
    WrongPassword,
    /// The account is locked: refused whatever the password, not counted.
    AccountLocked,
    /// The account is disabled: refused whatever the password, not counted.
    AccountDisabled,
    /// Suspended and the password was wrong: refused, not counted (a suspended account
    /// cannot be locked).
    SuspendedWrongPassword,
    /// Correct password but the account is suspended.
    AccountSuspended,
    /// Correct password but internet access is not approved.
    InternetAccessNotApproved,
}

impl LoginOutcome {
    /// The error to answer with, if any.
    pub fn error(self) -> Option<LoginError> {
        match self {
            Self::Success => None,
            Self::WrongPassword
            | Self::AccountLocked
            | Self::AccountDisabled
            | Self::SuspendedWrongPassword => Some(LoginError::InvalidCredentials),
            Self::AccountSuspended => Some(LoginError::AccountSuspended),
            Self::InternetAccessNotApproved => Some(LoginError::InternetAccessNotApproved),
        }
    }

    /// Whether the consecutive-failure count must be incremented.
    pub fn counts_failure(self) -> bool {
        matches!(self, Self::WrongPassword)
    }

    /// Whether the consecutive-failure count must be reset (the password was correct on an
    /// account that is not locked).
    pub fn resets_failures(self) -> bool {
        matches!(
            self,
            Self::Success | Self::AccountSuspended | Self::InternetAccessNotApproved
        )
    }
}

/// The public answer to a failed login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// Unknown username, wrong password, locked or disabled account: one identical answer.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Revealed only after a correct password.
    #[error("internet access not approved")]
    InternetAccessNotApproved,
    /// Revealed only after a correct password.
    #[error("account suspended")]
    AccountSuspended,
}

impl Coded for LoginError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidCredentials => "invalid-credentials",
            Self::InternetAccessNotApproved => "internet-access-not-approved",
            Self::AccountSuspended => "account-suspended",
        }
    }

    fn message(&self) -> String {
        match self {
            Self::InvalidCredentials => {
                "The username or password is incorrect, or the account is locked. \
                 Use Forgotten | Request Username/Password to get your username and reset \
                 your password, or Unlock Account to unlock it"
            }
            Self::InternetAccessNotApproved => {
                "Internet access has not been approved for this account. Log into ESR with \
                 your smartcard at work and use Manage Internet Access"
            }
            Self::AccountSuspended => {
                "This account has been suspended. Please contact the System Administrator"
            }
        }
        .to_owned()
    }
}

/// Decides a login attempt on an existing account (see the module docs for the caller's
/// part). Status is revealed only after a correct password, and a locked or disabled account
/// answers exactly like a wrong password.
pub fn decide_login(attempt: LoginAttempt) -> LoginOutcome {
    match (attempt.account, attempt.password_correct) {
        (AccountStatus::Locked, _) => LoginOutcome::AccountLocked,
        (AccountStatus::Disabled, _) => LoginOutcome::AccountDisabled,
        (AccountStatus::Suspended, false) => LoginOutcome::SuspendedWrongPassword,
        (AccountStatus::Suspended, true) => LoginOutcome::AccountSuspended,
        (AccountStatus::Active, false) => LoginOutcome::WrongPassword,
        (AccountStatus::Active, true) if attempt.internet_access.allows_login() => {
            LoginOutcome::Success
        }
        (AccountStatus::Active, true) => LoginOutcome::InternetAccessNotApproved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LockoutPolicy;
    use AccountStatus::*;
    use InternetAccessStatus::*;

    fn attempt(
        account: AccountStatus,
        internet_access: InternetAccessStatus,
        password_correct: bool,
    ) -> LoginOutcome {
        decide_login(LoginAttempt {
            account,
            internet_access,
            password_correct,
        })
    }

    #[test]
    fn success_needs_active_approved_and_correct_password() {
        let outcome = attempt(Active, Approved, true);
        assert_eq!(outcome, LoginOutcome::Success);
        assert!(outcome.resets_failures());
        assert_eq!(outcome.error(), None);
    }

    #[test]
    fn fifth_consecutive_failure_locks() {
        let policy = LockoutPolicy::default();
        let o = attempt(Active, Approved, false);
        assert_eq!(o, LoginOutcome::WrongPassword);
        assert!(o.counts_failure());
        assert_eq!(o.error(), Some(LoginError::InvalidCredentials));
        // The count the atomic increment returns decides the lock.
        for after in 1..5 {
            assert!(!policy.should_lock(after), "{after}");
        }
        assert!(policy.should_lock(5));
        // Then the account is locked: even the right password gets the same answer.
        let after = attempt(Locked, Approved, true);
        assert_eq!(after, LoginOutcome::AccountLocked);
        assert!(!after.counts_failure());
        assert!(!after.resets_failures());
        assert_eq!(after.error(), Some(LoginError::InvalidCredentials));
    }

    #[test]
    fn failures_count_even_without_internet_access() {
        let o = attempt(Active, Pending, false);
        assert_eq!(o, LoginOutcome::WrongPassword);
        assert!(o.counts_failure());
    }

    #[test]
    fn status_is_revealed_only_after_a_correct_password() {
        for access in [NotRequested, Pending, Rejected, Revoked] {
            assert_eq!(
                attempt(Active, access, true).error(),
                Some(LoginError::InternetAccessNotApproved)
            );
            assert_eq!(
                attempt(Active, access, false).error(),
                Some(LoginError::InvalidCredentials)
            );
        }
        assert_eq!(
            attempt(Suspended, Approved, true).error(),
            Some(LoginError::AccountSuspended)
        );
        let wrong = attempt(Suspended, Approved, false);
        assert_eq!(wrong.error(), Some(LoginError::InvalidCredentials));
        assert!(!wrong.counts_failure());
        for pw in [true, false] {
            assert_eq!(
                attempt(Disabled, Approved, pw).error(),
                Some(LoginError::InvalidCredentials)
            );
        }
    }

    #[test]
    fn codes() {
        assert_eq!(LoginError::InvalidCredentials.code(), "invalid-credentials");
        assert!(
            LoginError::InvalidCredentials
                .message()
                .contains("Unlock Account")
        );
        assert_eq!(
            LoginError::InternetAccessNotApproved.code(),
            "internet-access-not-approved"
        );
        assert_eq!(LoginError::AccountSuspended.code(), "account-suspended");
    }

    #[test]
    fn configurable_threshold() {
        let policy = LockoutPolicy { threshold: 3 };
        assert!(!policy.should_lock(2));
        assert!(policy.should_lock(3));
    }
}
