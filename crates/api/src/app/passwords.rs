//! Setting a password, by its three paths: changed at home (current password given), reset
//! with an emailed link, and set at work with a smartcard. All three check the new password
//! against the whole policy the same way ([`check_new_password`]), re-check inside their write
//! transaction what they read before hashing, and end in the one consequence function
//! ([`consequences::password_set`]).

use chrono::{DateTime, Utc};
use esr_domain::{
    AccountId, AccountStatus, InternetAccessStatus, NewPassword, Password, PlainToken,
    PolicyContext, TokenError, TokenPurpose, Username, Violation,
};
use esr_persistence::accounts::{self, Account, AccountProfile};
use esr_persistence::audit::{Actor, EventType};
use esr_persistence::sessions::{self, Session, SessionKind};
use esr_persistence::{DbConnection, RepoError, one_time_tokens, people};
use serde_json::json;

use super::consequences::{self, PasswordPath, PasswordSet, PasswordSetEffects};
use super::recovery::{self, LinkError, UseLinkError};
use super::{Caller, Failure, audit, lockout};
use crate::breached::BreachOutcome;
use crate::rate_limit::Limited;
use crate::state::AppState;

/// The passwords typed into a form.
pub struct NewPasswordForm {
    /// The password in use now, when the path asks for it.
    pub current: Option<Password>,
    /// The new password.
    pub new: Password,
    /// The new password again.
    pub confirm: Password,
}

/// What checking a new password concluded.
pub enum Verdict {
    /// The current password (when one was asked for) is wrong.
    WrongCurrent,
    /// The new password breaks the policy; every violation.
    Policy(Vec<Violation>),
    /// Accepted: the PHC hash to store.
    Hashed(String),
}

impl std::fmt::Debug for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::WrongCurrent => "WrongCurrent",
            Self::Policy(_) => "Policy",
            Self::Hashed(_) => "Hashed",
        })
    }
}

/// The account a new password is for, as read before checking it.
pub struct Checked {
    /// The account, its person and organisation.
    pub profile: AccountProfile,
    /// What the check concluded.
    pub verdict: Verdict,
}

/// Loads the account and its history and checks `form` against the whole policy: static rules
/// with the person's context words, the breached-password look-up when on, the current
/// password when asked for, the history, then hashing — all hashing on the bounded pool.
/// `Ok(None)` when the account is gone.
pub async fn check_new_password(
    app: &AppState,
    account_id: AccountId,
    form: NewPasswordForm,
) -> Result<Option<Checked>, Failure> {
    let slot = app.hashing.try_reserve().map_err(|_| {
        app.metrics.security_event("hashing.rejected");
        Failure::Overloaded
    })?;
    let depth = app.config.password_policy.history_depth;
    let (profile, history) = app
        .db(move |c| {
            let profile = accounts::profile(c, &account_id)?;
            let history = accounts::password_history(c, &account_id, depth)?;
            Ok((profile, history))
        })
        .await?;
    let Some(profile) = profile else {
        return Ok(None);
    };
    let checked = static_rules(app, &profile, &form).await;
    let current_hash = profile.account.password_hash.clone();
    let policy = app.config.password_policy.clone();
    let hasher = app.hasher.clone();
    let NewPasswordForm { current, .. } = form;
    let verdict = app
        .hashing
        .run(slot, move || -> Result<Verdict, String> {
            if let Some(current) = &current {
                let current_ok = current_hash
                    .as_deref()
                    .is_some_and(|phc| hasher.verify(current, phc));
                if !current_ok {
                    return Ok(Verdict::WrongCurrent);
                }
            }
            let new = match checked {
                Ok(new) => new,
                Err(violations) => return Ok(Verdict::Policy(violations)),
            };
            let recent: Vec<&str> = history.iter().map(String::as_str).collect();
            if let Err(v) = policy.check_history(&new, &recent, &hasher) {
                return Ok(Verdict::Policy(vec![v]));
            }
            hasher
                .hash(&new, &mut rand::rng())
                .map(|h| Verdict::Hashed(h.into_string()))
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(Failure::unexpected)?
        .map_err(Failure::Unexpected)?;
    Ok(Some(Checked { profile, verdict }))
}

/// The policy's static rules with the person's context words, and the breached-password
/// look-up when it is on (fail-open: an unavailable API leaves the verdict as it was).
async fn static_rules(
    app: &AppState,
    profile: &AccountProfile,
    form: &NewPasswordForm,
) -> Result<NewPassword, Vec<Violation>> {
    let policy = &app.config.password_policy;
    let checked = policy.check(
        &form.new,
        Some(&form.confirm),
        &PolicyContext {
            username: Some(profile.account.username.as_str()),
            first_name: Some(&profile.person.first_name),
            last_name: Some(&profile.person.last_name),
            email: Some(&profile.person.work_email),
            organisation_name: Some(&profile.organisation_name),
            date_of_birth: Some(profile.person.date_of_birth),
            other_words: &[],
        },
    );
    let Some(breached) = app.breached.as_ref().filter(|_| policy.breached_check) else {
        return checked;
    };
    match breached.check(&form.new.normalised()).await {
        BreachOutcome::Breached(_) => {
            app.metrics.security_event("password.breached");
            let mut violations = checked.err().unwrap_or_default();
            violations.push(Violation::Breached);
            Err(violations)
        }
        BreachOutcome::NotFound => checked,
        BreachOutcome::Unavailable(reason) => {
            app.metrics.security_event("breached_check.unavailable");
            tracing::warn!(
                %reason,
                "breached-password check unavailable; the password was not checked against it (fail-open)"
            );
            checked
        }
    }
}

/// Why a password was not changed at home.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The session ended, or the account was locked, suspended or re-passworded meanwhile.
    #[error("session ended")]
    SessionEnded,
    /// The current password is wrong (counted towards the lockout).
    #[error("current password incorrect")]
    WrongCurrentPassword,
    /// The new password breaks the policy.
    #[error("password policy")]
    Policy(Vec<Violation>),
    /// A workplace session during the contact-change hold (see
    /// [`super::workplace_session_held`]).
    #[error("contact details changed recently")]
    ContactChangeHold(DateTime<Utc>),
    /// Storage, capacity or the unexpected.
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// A password changed at home.
#[derive(Debug, Clone, Copy)]
pub struct PasswordChanged {
    /// When the new password was set.
    pub at: DateTime<Utc>,
    /// Other sessions of the account that were ended.
    pub other_sessions_ended: usize,
}

/// Change the password at home or in the app: current + new + confirm. A wrong current
/// password counts towards the lockout; every other session ends.
pub async fn change_at_home(
    app: &AppState,
    caller: &Caller,
    session: &Session,
    form: NewPasswordForm,
    now: DateTime<Utc>,
) -> Result<PasswordChanged, ChangeError> {
    // Only an active account changes its password with the current one. A locked account's
    // way back is an unlock link, a reset or the smartcard's set at work; checking the current
    // password here would let a session opened after the lock (a smartcard one) guess it with
    // no lockout to stop it, the right guess answered differently.
    let held_session = session.clone();
    let hold = super::contact_change_hold(&app.config);
    let (active, held) = app
        .db(move |c| {
            let active = accounts::find(c, &held_session.account_id)?
                .is_some_and(|a| a.status == AccountStatus::Active);
            let held = super::workplace_session_held(c, &held_session, hold, now)?;
            Ok::<_, RepoError>((active, held))
        })
        .await
        .map_err(Failure::from)?;
    if !active {
        return Err(ChangeError::SessionEnded);
    }
    if let Some(until) = held {
        return Err(ChangeError::ContactChangeHold(until));
    }
    let Checked { profile, verdict } = check_new_password(app, session.account_id.clone(), form)
        .await?
        .ok_or(ChangeError::SessionEnded)?;
    let new_hash = match verdict {
        Verdict::WrongCurrent => {
            wrong_current_password(app, caller, profile.account, now).await?;
            return Err(ChangeError::WrongCurrentPassword);
        }
        Verdict::Policy(violations) => return Err(ChangeError::Policy(violations)),
        Verdict::Hashed(hash) => hash,
    };
    let caller = caller.clone();
    let session_id = session.id.clone();
    let verified = profile.account.password_hash;
    let written = app
        .db(move |c| {
            c.write_transaction(|c| {
                let Some(account) = still_allowed(c, &session_id, &profile.account.id, now)?
                    .filter(|a| a.status == AccountStatus::Active && a.password_hash == verified)
                else {
                    return Ok(None);
                };
                let set = PasswordSet {
                    account: &account,
                    new_hash: &new_hash,
                    path: PasswordPath::ChangedAtHome,
                    keep_session: Some(&session_id),
                };
                consequences::password_set(c, &caller, &set, now).map(Some)
            })
        })
        .await
        .map_err(Failure::from)?;
    let effects = written.ok_or(ChangeError::SessionEnded)?;
    app.metrics.security_event("password.changed");
    Ok(PasswordChanged {
        at: now,
        other_sessions_ended: effects.sessions_ended,
    })
}

/// Audits a wrong current password and counts it towards the lockout.
async fn wrong_current_password(
    app: &AppState,
    caller: &Caller,
    account: Account,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    let caller = caller.clone();
    let policy = app.config.lockout;
    app.db(move |c| {
        c.write_transaction(|c| {
            audit::record(
                c,
                &caller,
                EventType::PasswordChangeFailed,
                Some(&account.id),
                &Actor::Account(account.username.clone()),
                &json!({"reason": "current_password_incorrect"}),
                now,
            )?;
            lockout::count_failure(c, &caller, &account, &policy, now)
        })
    })
    .await?;
    Ok(())
}

/// The account of a session that is still live, held for the rest of the transaction (a
/// revocation or lock committed since the earlier read wins over the write).
fn still_allowed(
    conn: &mut DbConnection,
    session_id: &esr_domain::SessionId,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> Result<Option<Account>, RepoError> {
    let Some(account) = accounts::find_for_update(conn, account_id)? else {
        return Ok(None);
    };
    let live = sessions::find_for_update(conn, session_id)?
        .is_some_and(|s| s.is_active(now) && &s.account_id == account_id);
    Ok(live.then_some(account))
}

/// Why a password was not set at work.
#[derive(Debug, thiserror::Error)]
pub enum SetAtWorkError {
    /// The session ended, or the account changed meanwhile so that it no longer allows it.
    #[error("session ended")]
    SessionEnded,
    /// A password session tried what needs the smartcard.
    #[error("smartcard session required")]
    SmartcardRequired,
    /// Setting a password needs approved internet access.
    #[error("internet access is {}", .0.as_str())]
    NotApproved(InternetAccessStatus),
    /// The new password breaks the policy.
    #[error("password policy")]
    Policy(Vec<Violation>),
    /// The person's work email or smartcard changed recently; no password is set until then.
    #[error("contact change hold until {0}")]
    ContactChangeHold(DateTime<Utc>),
    /// Storage, capacity or the unexpected.
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// Reset Password at work: new + retype, the smartcard session being the proof. Needs
/// approved internet access; unlocks the account and ends every other session.
pub async fn set_at_work(
    app: &AppState,
    caller: &Caller,
    session: &Session,
    new: Password,
    confirm: Password,
    now: DateTime<Utc>,
) -> Result<(), SetAtWorkError> {
    if session.kind != SessionKind::Smartcard {
        return Err(SetAtWorkError::SmartcardRequired);
    }
    let account_id = session.account_id.clone();
    let current = app
        .db(move |c| accounts::find(c, &account_id))
        .await
        .map_err(Failure::from)?
        .ok_or(SetAtWorkError::SessionEnded)?;
    if !current.internet_access.allows_login() {
        return Err(SetAtWorkError::NotApproved(current.internet_access));
    }
    let form = NewPasswordForm {
        current: None,
        new,
        confirm,
    };
    let Checked { profile, verdict } = check_new_password(app, session.account_id.clone(), form)
        .await?
        .ok_or(SetAtWorkError::SessionEnded)?;
    let new_hash = match verdict {
        Verdict::Hashed(hash) => hash,
        Verdict::Policy(violations) => return Err(SetAtWorkError::Policy(violations)),
        Verdict::WrongCurrent => {
            return Err(Failure::unexpected("no current password was asked for").into());
        }
    };
    let caller = caller.clone();
    let session_id = session.id.clone();
    let hold = super::contact_change_hold(&app.config);
    let written = app
        .db(move |c| {
            c.write_transaction(|c| {
                let Some(account) = still_allowed(c, &session_id, &profile.account.id, now)?
                    .filter(may_set_at_work)
                else {
                    return Ok(Err(SetAtWorkError::SessionEnded));
                };
                // A card just linked to this person (perhaps by whoever also changed the
                // email) is not yet proof enough to choose the password.
                let person = people::find(c, &account.person_id)?
                    .ok_or_else(|| RepoError::Corrupt("account without person".into()))?;
                if let Some(until) = person.contact_hold_until(hold, now) {
                    return Ok(Err(SetAtWorkError::ContactChangeHold(until)));
                }
                let set = PasswordSet {
                    account: &account,
                    new_hash: &new_hash,
                    path: PasswordPath::SetAtWork,
                    keep_session: Some(&session_id),
                };
                consequences::password_set(c, &caller, &set, now).map(Ok)
            })
        })
        .await
        .map_err(Failure::from)?;
    written?;
    app.metrics.security_event("password.set");
    Ok(())
}

/// A smartcard may set the password of an active or locked account (that is how a locked-out
/// person gets back in) with approved access; never of a suspended or disabled one.
fn may_set_at_work(account: &Account) -> bool {
    matches!(
        account.status,
        AccountStatus::Active | AccountStatus::Locked
    ) && account.internet_access == InternetAccessStatus::Approved
}

impl From<LinkError> for ResetError {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::Invalid(e) => Self::InvalidLink(e),
            LinkError::Failure(f) => Self::Failure(f),
        }
    }
}

impl From<UseLinkError> for ResetError {
    fn from(e: UseLinkError) -> Self {
        match e {
            UseLinkError::RateLimited(l) => Self::RateLimited(l),
            UseLinkError::Link(e) => e.into(),
        }
    }
}

/// Why a password was not reset with a link.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    /// Too many attempts from this client.
    #[error("rate limited")]
    RateLimited(Limited),
    /// The link is unknown, used, expired, replaced or burned: one answer for all.
    #[error("invalid link: {0}")]
    InvalidLink(TokenError),
    /// The username is not the link's account.
    #[error("username does not match the link")]
    UsernameMismatch,
    /// The new password breaks the policy.
    #[error("password policy")]
    Policy(Vec<Violation>),
    /// Storage, capacity or the unexpected.
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// The Update Password form of a reset link: the username must be the link's account (five
/// wrong usernames end the link), the whole policy applies, and on success the account is
/// unlocked, every session ends and every other link stops working. Nobody is logged in.
pub async fn reset_by_link(
    app: &AppState,
    caller: &Caller,
    raw_token: &str,
    username: Option<Username>,
    new: Password,
    confirm: Password,
    now: DateTime<Utc>,
) -> Result<(), ResetError> {
    let token = &recovery::guessed_token(app, caller, raw_token).await?;
    let stored = recovery::usable_link(app, token, TokenPurpose::PasswordReset, now)
        .await
        .map_err(ResetError::from)?;
    let form = NewPasswordForm {
        current: None,
        new,
        confirm,
    };
    let account_id = stored.account_id.clone();
    let profile = app
        .db(move |c| accounts::profile(c, &account_id))
        .await
        .map_err(Failure::from)?
        .ok_or(ResetError::InvalidLink(TokenError::Malformed))?;
    if username.as_ref() != Some(&profile.account.username) {
        return Err(wrong_username(app, caller, token, &profile.account.id, now).await?);
    }
    let Checked { verdict, .. } = check_new_password(app, profile.account.id.clone(), form)
        .await?
        .ok_or(ResetError::InvalidLink(TokenError::Malformed))?;
    let new_hash = match verdict {
        Verdict::Hashed(hash) => hash,
        Verdict::Policy(violations) => return Err(ResetError::Policy(violations)),
        Verdict::WrongCurrent => {
            return Err(Failure::unexpected("no current password was given").into());
        }
    };
    let caller = caller.clone();
    let digest = token.digest();
    let account_id = profile.account.id.clone();
    let written = app
        .db(move |c| {
            c.write_transaction(|c| {
                reset_in_transaction(c, &caller, &digest, &account_id, &new_hash, now)
            })
        })
        .await
        .map_err(Failure::from)?;
    written.ok_or(ResetError::InvalidLink(TokenError::Used))?;
    app.metrics.security_event("password.reset");
    Ok(())
}

/// Uses the link (single use: a concurrent reset with the same link loses) and sets the
/// password, if the account may still have it reset: active or locked (a suspension or a
/// revoked access cancels links, and is re-checked here all the same).
fn reset_in_transaction(
    conn: &mut DbConnection,
    caller: &Caller,
    digest: &esr_domain::TokenDigest,
    account_id: &AccountId,
    new_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<PasswordSetEffects>, RepoError> {
    if !one_time_tokens::consume(conn, digest, TokenPurpose::PasswordReset, now)? {
        return Ok(None);
    }
    let Some(account) = accounts::find_for_update(conn, account_id)?.filter(may_reset) else {
        return Ok(None);
    };
    let set = PasswordSet {
        account: &account,
        new_hash,
        path: PasswordPath::ResetByLink,
        keep_session: None,
    };
    consequences::password_set(conn, caller, &set, now).map(Some)
}

fn may_reset(account: &Account) -> bool {
    matches!(
        account.status,
        AccountStatus::Active | AccountStatus::Locked
    ) && account.internet_access == InternetAccessStatus::Approved
}

/// Counts a wrong username against the link (the fifth burns it) and audits it.
async fn wrong_username(
    app: &AppState,
    caller: &Caller,
    token: &PlainToken,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> Result<ResetError, Failure> {
    let caller = caller.clone();
    let digest = token.digest();
    let account_id = account_id.clone();
    let attempts = app
        .db(move |c| {
            c.write_transaction(|c| {
                let n = one_time_tokens::record_wrong_username(c, &digest)?;
                audit::record(
                    c,
                    &caller,
                    EventType::PasswordResetUsernameMismatch,
                    Some(&account_id),
                    &Actor::Anonymous,
                    &json!({"attempts": n}),
                    now,
                )?;
                Ok::<_, RepoError>(n)
            })
        })
        .await?;
    app.metrics
        .security_event("password_reset.username_mismatch");
    Ok(match attempts {
        Some(n) if n >= esr_domain::MAX_WRONG_USERNAME_ATTEMPTS => {
            ResetError::InvalidLink(TokenError::Burned)
        }
        _ => ResetError::UsernameMismatch,
    })
}
