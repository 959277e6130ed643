//! Account status, internet-access status and their transitions.
//!
//! Every change is a method returning the new state or a [`TransitionError`], so an illegal
//! change is refused in one place. Methods return errors rather than silently keeping the
//! state even where the change would be a no-op (locking a locked account): the caller
//! decides whether "already so" is fine for its endpoint.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::Coded;

/// A stored text value that names no known variant (e.g. a corrupt status column).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} value")]
pub struct UnknownValueError {
    what: &'static str,
}

impl UnknownValueError {
    pub(crate) fn new(what: &'static str) -> Self {
        Self { what }
    }

    /// Which kind of value, e.g. `account-status`.
    pub fn what(&self) -> &'static str {
        self.what
    }
}

impl Coded for UnknownValueError {
    fn code(&self) -> &'static str {
        match self.what {
            "account-status" => "invalid-account-status",
            "internet-access-status" => "invalid-internet-access-status",
            "approval-mode" => "invalid-approval-mode",
            "token-purpose" => "invalid-token-purpose",
            _ => "invalid-value",
        }
    }

    fn message(&self) -> String {
        match self.what {
            "approval-mode" => "Approval mode must be \"automatic\" or \"manual\"".to_owned(),
            other => format!("Unknown {} value", other.replace('-', " ")),
        }
    }
}

/// How an organisation approves internet-access requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalMode {
    /// Requests are approved at once.
    Automatic,
    /// An administrator approves each request.
    Manual,
}

impl ApprovalMode {
    /// `automatic` or `manual`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Automatic => "automatic",
            Self::Manual => "manual",
        }
    }

    /// Reads `automatic`/`manual` (trimmed, any case).
    pub fn parse(s: &str) -> Result<Self, UnknownValueError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "automatic" => Ok(Self::Automatic),
            "manual" => Ok(Self::Manual),
            _ => Err(UnknownValueError::new("approval-mode")),
        }
    }
}

impl fmt::Display for ApprovalMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the account may be used at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Normal.
    Active,
    /// Too many failed logins; unlocked by a password reset, an unlock link or an
    /// administrator.
    Locked,
    /// Suspended by an administrator; only an administrator reactivates it.
    Suspended,
    /// Closed (e.g. the person left); only an administrator enables it again.
    Disabled,
}

/// A change of [`AccountStatus`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountAction {
    /// Active → Locked.
    Lock,
    /// Locked → Active.
    Unlock,
    /// Active or Locked → Suspended.
    Suspend,
    /// Suspended → Active.
    Reactivate,
    /// Any but Disabled → Disabled.
    Disable,
    /// Disabled → Active.
    Enable,
}

impl AccountAction {
    fn verb(self) -> &'static str {
        match self {
            Self::Lock => "lock",
            Self::Unlock => "unlock",
            Self::Suspend => "suspend",
            Self::Reactivate => "reactivate",
            Self::Disable => "disable",
            Self::Enable => "enable",
        }
    }
}

impl AccountStatus {
    /// `active`, `locked`, `suspended` or `disabled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Locked => "locked",
            Self::Suspended => "suspended",
            Self::Disabled => "disabled",
        }
    }

    /// Reads the `as_str` form.
    pub fn parse(s: &str) -> Result<Self, UnknownValueError> {
        match s {
            "active" => Ok(Self::Active),
            "locked" => Ok(Self::Locked),
            "suspended" => Ok(Self::Suspended),
            "disabled" => Ok(Self::Disabled),
            _ => Err(UnknownValueError::new("account-status")),
        }
    }

    fn refuse(self, action: AccountAction) -> TransitionError {
        TransitionError::Account { action, from: self }
    }

    /// Active → Locked (failed-login threshold reached).
    pub fn lock(self) -> Result<Self, TransitionError> {
        match self {
            Self::Active => Ok(Self::Locked),
            _ => Err(self.refuse(AccountAction::Lock)),
        }
    }

    /// Locked → Active (unlock link or administrator). A suspended account stays suspended.
    pub fn unlock(self) -> Result<Self, TransitionError> {
        match self {
            Self::Locked => Ok(Self::Active),
            _ => Err(self.refuse(AccountAction::Unlock)),
        }
    }

    /// Active or Locked → Suspended (administrator).
    pub fn suspend(self) -> Result<Self, TransitionError> {
        match self {
            Self::Active | Self::Locked => Ok(Self::Suspended),
            _ => Err(self.refuse(AccountAction::Suspend)),
        }
    }

    /// Suspended → Active (administrator).
    pub fn reactivate(self) -> Result<Self, TransitionError> {
        match self {
            Self::Suspended => Ok(Self::Active),
            _ => Err(self.refuse(AccountAction::Reactivate)),
        }
    }

    /// Active, Locked or Suspended → Disabled.
    pub fn disable(self) -> Result<Self, TransitionError> {
        match self {
            Self::Disabled => Err(self.refuse(AccountAction::Disable)),
            _ => Ok(Self::Disabled),
        }
    }

    /// Disabled → Active.
    pub fn enable(self) -> Result<Self, TransitionError> {
        match self {
            Self::Disabled => Ok(Self::Active),
            _ => Err(self.refuse(AccountAction::Enable)),
        }
    }

    /// The status after a completed password reset: a lock is cleared (the reset proves
    /// the person controls the work email); suspended and disabled accounts stay so.
    pub fn after_password_reset(self) -> Self {
        match self {
            Self::Locked => Self::Active,
            other => other,
        }
    }
}

impl fmt::Display for AccountStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the person may use their password from the internet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InternetAccessStatus {
    /// Never asked for.
    NotRequested,
    /// Waiting for an administrator (manual approval).
    Pending,
    /// Password login allowed.
    Approved,
    /// An administrator refused the request; the person may ask again.
    Rejected,
    /// Withdrawn (by an administrator, or after the inactivity limit); renewed at work.
    Revoked,
}

/// A change of [`InternetAccessStatus`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InternetAccessAction {
    /// The person asks for access.
    Request,
    /// An administrator approves.
    Approve,
    /// An administrator rejects.
    Reject,
    /// Access is withdrawn.
    Revoke,
    /// The person renews access at work.
    Renew,
}

impl InternetAccessAction {
    fn verb(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Revoke => "revoke",
            Self::Renew => "renew",
        }
    }
}

impl InternetAccessStatus {
    /// `not_requested`, `pending`, `approved`, `rejected` or `revoked`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotRequested => "not_requested",
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Revoked => "revoked",
        }
    }

    /// Reads the `as_str` form.
    pub fn parse(s: &str) -> Result<Self, UnknownValueError> {
        match s {
            "not_requested" => Ok(Self::NotRequested),
            "pending" => Ok(Self::Pending),
            "approved" => Ok(Self::Approved),
            "rejected" => Ok(Self::Rejected),
            "revoked" => Ok(Self::Revoked),
            _ => Err(UnknownValueError::new("internet-access-status")),
        }
    }

    fn refuse(self, action: InternetAccessAction) -> TransitionError {
        TransitionError::InternetAccess { action, from: self }
    }

    fn granted(mode: ApprovalMode) -> Self {
        match mode {
            ApprovalMode::Automatic => Self::Approved,
            ApprovalMode::Manual => Self::Pending,
        }
    }

    /// NotRequested, Rejected or Revoked → Approved (automatic) or Pending (manual).
    pub fn request(self, mode: ApprovalMode) -> Result<Self, TransitionError> {
        match self {
            Self::NotRequested | Self::Rejected | Self::Revoked => Ok(Self::granted(mode)),
            _ => Err(self.refuse(InternetAccessAction::Request)),
        }
    }

    /// Pending → Approved.
    pub fn approve(self) -> Result<Self, TransitionError> {
        match self {
            Self::Pending => Ok(Self::Approved),
            _ => Err(self.refuse(InternetAccessAction::Approve)),
        }
    }

    /// Pending → Rejected.
    pub fn reject(self) -> Result<Self, TransitionError> {
        match self {
            Self::Pending => Ok(Self::Rejected),
            _ => Err(self.refuse(InternetAccessAction::Reject)),
        }
    }

    /// Approved → Revoked.
    pub fn revoke(self) -> Result<Self, TransitionError> {
        match self {
            Self::Approved => Ok(Self::Revoked),
            _ => Err(self.refuse(InternetAccessAction::Revoke)),
        }
    }

    /// At work with a smartcard: Approved stays Approved (the caller restarts the
    /// inactivity clock); Revoked is requested again under `mode`.
    pub fn renew(self, mode: ApprovalMode) -> Result<Self, TransitionError> {
        match self {
            Self::Approved => Ok(Self::Approved),
            Self::Revoked => Ok(Self::granted(mode)),
            _ => Err(self.refuse(InternetAccessAction::Renew)),
        }
    }

    /// Whether password login is allowed.
    pub fn allows_login(self) -> bool {
        self == Self::Approved
    }
}

impl fmt::Display for InternetAccessStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status change that is not allowed from the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// An account status change.
    #[error("cannot {} an account that is {}", action.verb(), from.as_str())]
    Account {
        /// What was attempted.
        action: AccountAction,
        /// The status it was attempted from.
        from: AccountStatus,
    },
    /// An internet-access status change.
    #[error("cannot {} internet access that is {}", action.verb(), from.as_str())]
    InternetAccess {
        /// What was attempted.
        action: InternetAccessAction,
        /// The status it was attempted from.
        from: InternetAccessStatus,
    },
}

impl Coded for TransitionError {
    fn code(&self) -> &'static str {
        match self {
            Self::Account { .. } => "account-status-conflict",
            Self::InternetAccess { .. } => "internet-access-status-conflict",
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Account { action, from } => format!(
                "This account cannot be {} because it is {}",
                past_tense(action.verb()),
                from.as_str()
            ),
            Self::InternetAccess { action, from } => {
                let state = from.as_str().replace('_', " ");
                match action {
                    InternetAccessAction::Request => {
                        format!("Internet access cannot be requested because it is already {state}")
                    }
                    _ => format!(
                        "Internet access cannot be {} because it is {state}",
                        past_tense(action.verb())
                    ),
                }
            }
        }
    }
}

fn past_tense(verb: &str) -> String {
    if verb.ends_with('e') {
        format!("{verb}d")
    } else {
        format!("{verb}ed")
    }
}

/// Consecutive failed logins that lock an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LockoutPolicy {
    /// Failures that lock (5; ASVS allows up to 100).
    pub threshold: u32,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self { threshold: 5 }
    }
}

impl LockoutPolicy {
    /// Whether an account whose consecutive-failure count is now `failures_after` (as
    /// returned by the atomic increment) must be locked.
    pub fn should_lock(&self, failures_after: u32) -> bool {
        failures_after >= self.threshold.max(1)
    }
}

/// An organisation's optional limit on time without a login, after which internet access
/// is revoked until renewed at work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InactivityPolicy {
    /// `None`: no limit (the default).
    pub limit: Option<TimeDelta>,
}

impl InactivityPolicy {
    /// Whether access last used (or renewed) at `last_activity` has lapsed at `now`.
    pub fn has_lapsed(&self, last_activity: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        self.limit.is_some_and(|limit| now - last_activity >= limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AccountStatus::*;
    use InternetAccessStatus::*;

    const ACCOUNT: [AccountStatus; 4] = [Active, Locked, Suspended, Disabled];
    const ACCESS: [InternetAccessStatus; 5] = [NotRequested, Pending, Approved, Rejected, Revoked];

    #[test]
    fn account_transitions_table() {
        type Step = fn(AccountStatus) -> Result<AccountStatus, TransitionError>;
        let table: [(Step, [Option<AccountStatus>; 4]); 6] = [
            (AccountStatus::lock, [Some(Locked), None, None, None]),
            (AccountStatus::unlock, [None, Some(Active), None, None]),
            (
                AccountStatus::suspend,
                [Some(Suspended), Some(Suspended), None, None],
            ),
            (AccountStatus::reactivate, [None, None, Some(Active), None]),
            (
                AccountStatus::disable,
                [Some(Disabled), Some(Disabled), Some(Disabled), None],
            ),
            (AccountStatus::enable, [None, None, None, Some(Active)]),
        ];
        for (step, expected) in table {
            for (from, want) in ACCOUNT.into_iter().zip(expected) {
                let got = step(from);
                match want {
                    Some(to) => assert_eq!(got, Ok(to), "{from:?}"),
                    None => {
                        let err = got.unwrap_err();
                        assert_eq!(err.code(), "account-status-conflict");
                        assert!(
                            matches!(err, TransitionError::Account { from: f, .. } if f == from)
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn unlock_when_suspended_is_refused_with_a_clear_message() {
        let err = Suspended.unlock().unwrap_err();
        assert_eq!(
            err,
            TransitionError::Account {
                action: AccountAction::Unlock,
                from: Suspended
            }
        );
        assert_eq!(
            err.message(),
            "This account cannot be unlocked because it is suspended"
        );
    }

    #[test]
    fn password_reset_clears_a_lock_only() {
        assert_eq!(Locked.after_password_reset(), Active);
        assert_eq!(Active.after_password_reset(), Active);
        assert_eq!(Suspended.after_password_reset(), Suspended);
        assert_eq!(Disabled.after_password_reset(), Disabled);
    }

    #[test]
    fn internet_access_transitions_table() {
        use ApprovalMode::*;
        for from in ACCESS {
            let requested_manual = from.request(Manual);
            let requested_auto = from.request(Automatic);
            match from {
                NotRequested | Rejected | Revoked => {
                    assert_eq!(requested_manual, Ok(Pending));
                    assert_eq!(requested_auto, Ok(Approved));
                }
                _ => {
                    assert!(requested_manual.is_err());
                    assert!(requested_auto.is_err());
                }
            }
            assert_eq!(from.approve().ok(), (from == Pending).then_some(Approved));
            assert_eq!(from.reject().ok(), (from == Pending).then_some(Rejected));
            assert_eq!(from.revoke().ok(), (from == Approved).then_some(Revoked));
            let renewed = from.renew(Manual).ok();
            match from {
                Approved => assert_eq!(renewed, Some(Approved)),
                InternetAccessStatus::Revoked => assert_eq!(renewed, Some(Pending)),
                _ => assert_eq!(renewed, None),
            }
            assert_eq!(from.allows_login(), from == Approved);
        }
        let err = NotRequested.approve().unwrap_err();
        assert_eq!(err.code(), "internet-access-status-conflict");
        assert_eq!(
            err.message(),
            "Internet access cannot be approved because it is not requested"
        );
        assert_eq!(
            Pending.request(Manual).unwrap_err().message(),
            "Internet access cannot be requested because it is already pending"
        );
    }

    #[test]
    fn text_forms_round_trip() {
        for s in ACCOUNT {
            assert_eq!(AccountStatus::parse(s.as_str()), Ok(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        for s in ACCESS {
            assert_eq!(InternetAccessStatus::parse(s.as_str()), Ok(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        for m in [ApprovalMode::Automatic, ApprovalMode::Manual] {
            assert_eq!(ApprovalMode::parse(m.as_str()), Ok(m));
        }
        assert_eq!(ApprovalMode::parse(" Manual "), Ok(ApprovalMode::Manual));
        assert_eq!(
            ApprovalMode::parse("sometimes").unwrap_err().code(),
            "invalid-approval-mode"
        );
        assert_eq!(
            AccountStatus::parse("Active").unwrap_err().code(),
            "invalid-account-status"
        );
        assert_eq!(
            InternetAccessStatus::parse("").unwrap_err().code(),
            "invalid-internet-access-status"
        );
    }

    #[test]
    fn lockout_threshold() {
        let policy = LockoutPolicy::default();
        assert_eq!(policy.threshold, 5);
        assert!(!policy.should_lock(4));
        assert!(policy.should_lock(5));
        assert!(policy.should_lock(6));
        // A threshold of 0 would lock on no failure at all; treated as 1.
        assert!(!LockoutPolicy { threshold: 0 }.should_lock(0));
    }

    #[test]
    fn inactivity_limit() {
        let t0 = DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let six_months = InactivityPolicy {
            limit: Some(TimeDelta::days(183)),
        };
        assert!(!six_months.has_lapsed(t0, t0 + TimeDelta::days(182)));
        assert!(six_months.has_lapsed(t0, t0 + TimeDelta::days(183)));
        assert!(!InactivityPolicy::default().has_lapsed(t0, t0 + TimeDelta::days(10_000)));
    }
}
