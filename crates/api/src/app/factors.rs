//! Second factors, by their holder: enrol an authenticator app (with a proof stronger than
//! the password), confirm it with a first code, list and remove factors, and issue recovery
//! codes. An administrator's reset is in [`super::administration`].
//!
//! Enrolment needs a strong proof (SPEC §2): a workplace (smartcard) session, a session
//! completed with a second factor, or a password session together with a one-time link
//! emailed to the work email. A password alone never adds a factor, or whoever learnt the
//! password could keep the account with a factor of their own.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use esr_domain::{MfaPolicy, OneTimeToken, RecoveryCode, TokenDigest, TotpCode};
use esr_persistence::accounts::{self, Account, AccountProfile};
use esr_persistence::audit::{Actor, EventType};
use esr_persistence::mfa_tokens::{self, MfaTokenPurpose};
use esr_persistence::organisations::{self, Organisation};
use esr_persistence::outbox::{self, EmailKind, NewMessage};
use esr_persistence::second_factors::{self, StoredFactor};
use esr_persistence::sessions::{self, SecondFactor, Session, SessionKind};
use esr_persistence::{DbConnection, RepoError, people, recovery_codes};
use serde_json::json;

use super::{Caller, Failure, audit, consequences};
use crate::email::templates::{EnrolmentPayload, RecoveryAccount};
use crate::mfa::{MfaKey, TotpSecret};
use crate::state::AppState;

/// How long an emailed enrolment link works.
pub const ENROLMENT_LINK_TTL: Duration = Duration::minutes(30);
/// Longest name of a factor.
const MAX_FACTOR_NAME: usize = 60;
/// How long a pending authenticator app can be confirmed.
const PENDING_TTL: Duration = Duration::minutes(10);
/// Wrong codes that end a pending authenticator app (it must be started again).
const MAX_FAILED_CONFIRMATIONS: u32 = 5;
/// Enrolment links an account may be sent an hour.
const ENROLMENT_LINKS_PER_HOUR: i64 = 3;

/// Why a factor could not be added, confirmed or removed, or codes issued.
#[derive(Debug, thiserror::Error)]
pub enum FactorError {
    /// The organisation's policy is `off`.
    #[error("second factors are off for this organisation")]
    PolicyOff,
    /// The session is a password session without a second factor, and no valid enrolment
    /// link came with the request.
    #[error("a stronger proof than the password is needed")]
    ProofRequired,
    /// The account has a factor already: only a session that showed one (or a workplace
    /// session) adds another; an emailed link is for the first.
    #[error("an existing factor is needed")]
    ExistingFactorRequired,
    /// The enrolment token is unknown, used, expired or another account's.
    #[error("invalid enrolment token")]
    InvalidEnrolmentToken,
    /// The name is empty, too long or holds control characters.
    #[error("invalid factor name: {0}")]
    InvalidName(&'static str),
    /// No such factor of this account.
    #[error("factor not found")]
    NotFound,
    /// Confirming a factor that is confirmed already.
    #[error("factor already confirmed")]
    AlreadyConfirmed,
    /// The code does not match the authenticator app's secret (or its step was used).
    #[error("wrong code")]
    WrongCode,
    /// Removing the last factor where the policy requires one.
    #[error("the last factor cannot be removed")]
    LastFactorRequired,
    /// Recovery codes need a confirmed factor first.
    #[error("no factor enrolled")]
    NoFactor,
    /// The account has been sent its hourly share of enrolment links.
    #[error("too many enrolment links")]
    TooManyLinks,
    /// The work email or smartcard changed within the contact-change hold, and the session
    /// has no second factor to show: the changed detail is not yet proof enough.
    #[error("contact details changed recently")]
    ContactChangeHold(DateTime<Utc>),
    /// Passkeys are not offered: the pages' address has no domain name (dev on an IP address).
    #[error("passkeys are not available")]
    PasskeysUnavailable,
    /// The new passkey's credential did not verify (wrong origin or relying party, a challenge
    /// not ours, an authenticator that did not verify the person).
    #[error("passkey refused: {0}")]
    PasskeyRejected(String),
    /// Storage or the unexpected.
    #[error(transparent)]
    Failure(#[from] Failure),
}

impl From<RepoError> for FactorError {
    fn from(e: RepoError) -> Self {
        Self::Failure(e.into())
    }
}

/// An account's factors as its holder sees them.
#[derive(Debug)]
pub struct Overview {
    /// The organisation's policy.
    pub policy: MfaPolicy,
    /// Every factor, pending ones included (never a secret).
    pub factors: Vec<StoredFactor>,
    /// Unused recovery codes left.
    pub recovery_codes_remaining: i64,
}

/// The account's factors and recovery codes left.
pub async fn overview(app: &AppState, session: &Session) -> Result<Overview, Failure> {
    let account_id = session.account_id.clone();
    Ok(app
        .db(move |c| {
            let account = account_of(c, &account_id)?;
            Ok(Overview {
                policy: policy_of(c, &account)?,
                factors: second_factors::list_for_account(c, &account.id)?,
                recovery_codes_remaining: recovery_codes::count_unused(c, &account.id)?,
            })
        })
        .await?)
}

/// A pending authenticator app: what the person scans or types into it. The secret is
/// shown here once and never again.
#[derive(Debug)]
pub struct PendingTotp {
    /// The factor's id (confirm it with a first code).
    pub factor_id: String,
    /// Its name.
    pub name: String,
    /// The secret in base32, for typing in by hand.
    pub secret_base32: String,
    /// The `otpauth://` URI.
    pub otpauth_uri: String,
    /// The URI as a QR code (SVG).
    pub qr_svg: String,
}

/// Starts enrolling an authenticator app: checks the proof, makes a secret, stores it sealed
/// as a pending factor (replacing any other pending one) and returns what the app needs.
pub async fn start_totp(
    app: &AppState,
    session: &Session,
    name: Option<&str>,
    enrolment_token: Option<&str>,
    now: DateTime<Utc>,
) -> Result<PendingTotp, FactorError> {
    let name = factor_name(name, "Authenticator app")?;
    let proof = enrolment_token.map(TokenDigest::of);
    let session = session.clone();
    let key = app.config.mfa_key.clone();
    let hold = super::contact_change_hold(&app.config);
    app.db(move |c| {
        c.write_transaction(|c| {
            let account = match may_enrol(c, &session, proof.as_ref(), hold, now)? {
                Ok(account) => account,
                Err(e) => return Ok(Err(e)),
            };
            Ok(Ok(add_pending_totp(
                c, &key, &account, &session, &name, now,
            )?))
        })
    })
    .await
    .map_err(Failure::from)?
}

/// The account `session` may add a sign-in method to: the organisation uses them, the
/// contact-change hold does not bind the session, and the enrolment proof holds (an
/// enrolment link given as `proof` is spent here).
pub(super) fn may_enrol(
    conn: &mut DbConnection,
    session: &Session,
    proof: Option<&TokenDigest>,
    hold: Duration,
    now: DateTime<Utc>,
) -> Result<Result<Account, FactorError>, RepoError> {
    let account = account_of(conn, &session.account_id)?;
    if policy_of(conn, &account)? == MfaPolicy::Off {
        return Ok(Err(FactorError::PolicyOff));
    }
    if let Err(e) = not_held(conn, &account, session, hold, now)? {
        return Ok(Err(e));
    }
    if let Err(e) = check_proof(conn, session, proof, now)? {
        return Ok(Err(e));
    }
    Ok(Ok(account))
}

fn add_pending_totp(
    conn: &mut DbConnection,
    key: &MfaKey,
    account: &Account,
    session: &Session,
    name: &str,
    now: DateTime<Utc>,
) -> Result<PendingTotp, RepoError> {
    let secret = TotpSecret::generate();
    let factor_id = second_factors::new_id();
    let sealed = key.seal(secret.as_bytes(), &factor_id, account.id.as_str());
    let new = second_factors::NewTotp {
        id: &factor_id,
        account_id: &account.id,
        name,
        sealed_secret: &sealed,
        enrolling_session_id: &session.id,
    };
    second_factors::add_pending_totp(conn, &new, now)?;
    let enrolment = secret.enrolment(account.username.as_str());
    Ok(PendingTotp {
        factor_id,
        name: name.to_owned(),
        secret_base32: enrolment.secret_base32,
        otpauth_uri: enrolment.otpauth_uri,
        qr_svg: enrolment.qr_svg,
    })
}

/// A factor just confirmed, and the recovery codes issued with the account's first one.
#[derive(Debug)]
pub struct Confirmed {
    /// The factor, now usable.
    pub factor: StoredFactor,
    /// Ten new codes when this is the first factor (shown once), else `None`.
    pub recovery_codes: Option<Vec<String>>,
}

/// Confirms a pending authenticator app with a first code from it. The session that confirms
/// it has now shown the factor, so it counts as completed with it (and, under `required`, is
/// no longer limited to enrolment).
pub async fn confirm_totp(
    app: &AppState,
    caller: &Caller,
    session: &Session,
    factor_id: &str,
    code: &TotpCode,
    now: DateTime<Utc>,
) -> Result<Confirmed, FactorError> {
    let session = session.clone();
    let factor_id = factor_id.to_owned();
    let code = code.clone();
    let key = app.config.mfa_key.clone();
    let caller = caller.clone();
    app.db(move |c| {
        c.write_transaction(|c| {
            confirm_in_transaction(c, &caller, &key, &session, &factor_id, &code, now)
        })
    })
    .await
    .map_err(Failure::from)?
}

fn confirm_in_transaction(
    conn: &mut DbConnection,
    caller: &Caller,
    key: &MfaKey,
    session: &Session,
    factor_id: &str,
    code: &TotpCode,
    now: DateTime<Utc>,
) -> Result<Result<Confirmed, FactorError>, RepoError> {
    let account = account_of(conn, &session.account_id)?;
    let Some(factor) = second_factors::find(conn, &account.id, factor_id)? else {
        return Ok(Err(FactorError::NotFound));
    };
    if factor.is_confirmed() {
        return Ok(Err(FactorError::AlreadyConfirmed));
    }
    // Only the session that started it, while it is fresh: another session of the account
    // (one that has only the password) must not finish someone else's enrolment.
    if factor.enrolling_session_id.as_ref() != Some(&session.id)
        || now - factor.created_at > PENDING_TTL
    {
        return Ok(Err(FactorError::NotFound));
    }
    let step = totp_step(key, &factor, code, now);
    let accepted = match step {
        Some(step) => second_factors::accept_step(conn, &factor.id, step, now)?,
        None => false,
    };
    if !accepted {
        wrong_confirmation(conn, caller, &account, &factor, now)?;
        return Ok(Err(FactorError::WrongCode));
    }
    let first = second_factors::count_confirmed(conn, &account.id)? == 1;
    sessions::complete_with_second_factor(conn, &session.id, SecondFactor::Otp)?;
    let recovery_codes = if first {
        Some(issue_recovery_codes(conn, caller, key, &account, now)?)
    } else {
        None
    };
    let factor = second_factors::find(conn, &account.id, &factor.id)?
        .ok_or_else(|| RepoError::Corrupt("confirmed factor vanished".into()))?;
    consequences::factor_added(conn, caller, &account, &factor, &session.id, now)?;
    Ok(Ok(Confirmed {
        factor,
        recovery_codes,
    }))
}

/// A wrong code for a pending authenticator app: counted and audited; the fifth ends it.
fn wrong_confirmation(
    conn: &mut DbConnection,
    caller: &Caller,
    account: &Account,
    factor: &StoredFactor,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let failures = second_factors::count_failed_confirmation(conn, &factor.id)?;
    let ended = failures >= MAX_FAILED_CONFIRMATIONS;
    if ended {
        second_factors::remove(conn, &account.id, &factor.id)?;
    }
    audit::record(
        conn,
        caller,
        EventType::FactorConfirmationFailed,
        Some(&account.id),
        &Actor::Account(account.username.clone()),
        &json!({"factor_id": factor.id, "failures": failures, "pending_factor_removed": ended}),
        now,
    )
}

/// The time step `code` matches for the authenticator app `factor` at `now`, if any.
pub fn totp_step(
    key: &MfaKey,
    factor: &StoredFactor,
    code: &TotpCode,
    now: DateTime<Utc>,
) -> Option<i64> {
    let sealed = factor.sealed_secret.as_deref()?;
    let opened = key
        .open(sealed, &factor.id, factor.account_id.as_str())
        .map_err(
            |e| tracing::error!(factor_id = %factor.id, error = %e, "TOTP secret does not open"),
        )
        .ok()?;
    let unix = u64::try_from(now.timestamp()).ok()?;
    TotpSecret::from_bytes(opened).matching_step(code, unix)
}

/// Removes one of the holder's factors. Removing a confirmed factor needs a session that
/// showed a second factor (or a workplace one), ends every other session and, for the last
/// factor, takes the recovery codes with it; where the policy requires a factor, the last
/// cannot go.
pub async fn remove(
    app: &AppState,
    caller: &Caller,
    session: &Session,
    factor_id: &str,
    now: DateTime<Utc>,
) -> Result<(), FactorError> {
    let session = session.clone();
    let factor_id = factor_id.to_owned();
    let caller = caller.clone();
    let hold = super::contact_change_hold(&app.config);
    app.db(move |c| {
        c.write_transaction(|c| remove_in_transaction(c, &caller, &session, &factor_id, hold, now))
    })
    .await
    .map_err(Failure::from)?
}

fn remove_in_transaction(
    conn: &mut DbConnection,
    caller: &Caller,
    session: &Session,
    factor_id: &str,
    hold: Duration,
    now: DateTime<Utc>,
) -> Result<Result<(), FactorError>, RepoError> {
    let account = account_of(conn, &session.account_id)?;
    let Some(factor) = second_factors::find(conn, &account.id, factor_id)? else {
        return Ok(Err(FactorError::NotFound));
    };
    let own_pending =
        !factor.is_confirmed() && factor.enrolling_session_id.as_ref() == Some(&session.id);
    if !own_pending && !is_strong(session) {
        return Ok(Err(FactorError::ProofRequired));
    }
    if factor.is_confirmed() {
        if let Err(e) = not_held(conn, &account, session, hold, now)? {
            return Ok(Err(e));
        }
        let last = second_factors::count_confirmed(conn, &account.id)? == 1;
        if last && policy_of(conn, &account)? == MfaPolicy::Required {
            return Ok(Err(FactorError::LastFactorRequired));
        }
    }
    second_factors::remove(conn, &account.id, &factor.id)?;
    consequences::factor_removed(conn, caller, &account, &factor, &session.id, now)?;
    Ok(Ok(()))
}

/// Issues a new set of recovery codes (the old set stops working). Needs a session that
/// showed a second factor, or a workplace one, and a confirmed factor.
pub async fn regenerate_recovery_codes(
    app: &AppState,
    caller: &Caller,
    session: &Session,
    now: DateTime<Utc>,
) -> Result<Vec<String>, FactorError> {
    if !is_strong(session) {
        return Err(FactorError::ProofRequired);
    }
    let session = session.clone();
    let key = app.config.mfa_key.clone();
    let caller = caller.clone();
    let hold = super::contact_change_hold(&app.config);
    app.db(move |c| {
        c.write_transaction(|c| {
            let account = account_of(c, &session.account_id)?;
            if let Err(e) = not_held(c, &account, &session, hold, now)? {
                return Ok(Err(e));
            }
            if second_factors::count_confirmed(c, &account.id)? == 0 {
                return Ok(Err(FactorError::NoFactor));
            }
            let codes = issue_recovery_codes(c, &caller, &key, &account, now)?;
            consequences::recovery_codes_replaced(c, &account, now)?;
            Ok(Ok(codes))
        })
    })
    .await
    .map_err(Failure::from)?
}

pub(super) fn issue_recovery_codes(
    conn: &mut DbConnection,
    caller: &Caller,
    key: &MfaKey,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<Vec<String>, RepoError> {
    let mut rng = rand::rng();
    let codes: Vec<RecoveryCode> = (0..esr_domain::RECOVERY_CODES_PER_SET)
        .map(|_| RecoveryCode::generate(&mut rng))
        .collect();
    let digests: Vec<String> = codes.iter().map(|c| key.recovery_code_digest(c)).collect();
    recovery_codes::replace_set(conn, &account.id, &digests, now)?;
    audit::record(
        conn,
        caller,
        EventType::RecoveryCodesIssued,
        Some(&account.id),
        &Actor::Account(account.username.clone()),
        &json!({"codes": codes.len()}),
        now,
    )?;
    Ok(codes.iter().map(RecoveryCode::display).collect())
}

/// Emails a one-time enrolment link to the holder's work email: with it, a password session
/// of the account may enrol its first factor. At most three an hour, counted apart from the
/// mailbox's share, so they cannot crowd out a recovery email.
pub async fn send_enrolment_link(
    app: &AppState,
    caller: &Caller,
    session: &Session,
    now: DateTime<Utc>,
) -> Result<(), FactorError> {
    let session = session.clone();
    let caller = caller.clone();
    let hold = super::contact_change_hold(&app.config);
    app.db(move |c| {
        c.write_transaction(|c| {
            let account = account_of(c, &session.account_id)?;
            if policy_of(c, &account)? == MfaPolicy::Off {
                return Ok(Err(FactorError::PolicyOff));
            }
            if let Err(e) = not_held(c, &account, &session, hold, now)? {
                return Ok(Err(e));
            }
            if second_factors::count_confirmed(c, &account.id)? > 0 {
                return Ok(Err(FactorError::ExistingFactorRequired));
            }
            let links_this_hour = outbox::queued_about_since(
                c,
                &account.id,
                EmailKind::EnrolmentLink,
                now - Duration::hours(1),
            )?;
            if links_this_hour >= ENROLMENT_LINKS_PER_HOUR {
                return Ok(Err(FactorError::TooManyLinks));
            }
            let profile = consequences::profile_of(c, &account)?;
            queue_enrolment_link(c, &caller, &account, &profile, now)?;
            Ok(Ok(()))
        })
    })
    .await
    .map_err(Failure::from)?
}

fn queue_enrolment_link(
    conn: &mut DbConnection,
    caller: &Caller,
    account: &Account,
    profile: &AccountProfile,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let (plain, digest) = OneTimeToken::generate(&mut rand::rng());
    mfa_tokens::issue(
        conn,
        &digest,
        &account.id,
        MfaTokenPurpose::Enrolment,
        now + ENROLMENT_LINK_TTL,
        now,
    )?;
    let payload = EnrolmentPayload {
        account: RecoveryAccount {
            organisation_code: account.organisation_code.as_str().to_owned(),
            organisation_name: profile.organisation_name.clone(),
            username: account.username.as_str().to_owned(),
            token: plain.expose_secret().to_owned(),
        },
        minutes: u64::try_from(ENROLMENT_LINK_TTL.num_minutes()).unwrap_or(30),
    };
    let payload = serde_json::to_value(&payload)
        .map_err(|e| RepoError::Corrupt(format!("enrolment payload: {e}")))?;
    outbox::enqueue(
        conn,
        &NewMessage {
            kind: EmailKind::EnrolmentLink,
            recipient: &profile.person.work_email,
            language: &profile.person.language,
            account_id: Some(&account.id),
            payload: &payload,
        },
        now,
    )?;
    audit::record(
        conn,
        caller,
        EventType::EnrolmentLinkIssued,
        Some(&account.id),
        &Actor::Account(account.username.clone()),
        &json!({"expires_at": (now + ENROLMENT_LINK_TTL).to_rfc3339_opts(SecondsFormat::Secs, true)}),
        now,
    )
}

/// A session that showed more than a password: completed with a second factor, opened at
/// work with a smartcard, or with a passkey alone (which verified its user).
pub fn is_strong(session: &Session) -> bool {
    matches!(session.kind, SessionKind::Smartcard | SessionKind::Passkey)
        || session.second_factor.is_some()
}

/// Refuses a change of sign-in methods while the contact-change hold runs, unless the session
/// showed a second factor: a card or address just linked (perhaps by whoever wants the
/// account) is not yet proof enough, neither as a workplace session nor as the inbox an
/// enrolment link goes to.
pub(super) fn not_held(
    conn: &mut DbConnection,
    account: &Account,
    session: &Session,
    hold: Duration,
    now: DateTime<Utc>,
) -> Result<Result<(), FactorError>, RepoError> {
    if session.second_factor.is_some() || session.kind == SessionKind::Passkey {
        return Ok(Ok(()));
    }
    let person = people::find(conn, &account.person_id)?
        .ok_or_else(|| RepoError::Corrupt(format!("account {} has no person", account.id)))?;
    Ok(match person.contact_hold_until(hold, now) {
        Some(until) => Err(FactorError::ContactChangeHold(until)),
        None => Ok(()),
    })
}

/// The enrolment proof: a strong session, or a valid enrolment link of this account (spent
/// here, so it works once).
fn check_proof(
    conn: &mut DbConnection,
    session: &Session,
    enrolment_token: Option<&TokenDigest>,
    now: DateTime<Utc>,
) -> Result<Result<(), FactorError>, RepoError> {
    if is_strong(session) {
        return Ok(Ok(()));
    }
    if second_factors::count_confirmed(conn, &session.account_id)? > 0 {
        return Ok(Err(FactorError::ExistingFactorRequired));
    }
    let Some(digest) = enrolment_token else {
        return Ok(Err(FactorError::ProofRequired));
    };
    if mfa_tokens::spend(
        conn,
        digest,
        &session.account_id,
        MfaTokenPurpose::Enrolment,
        now,
    )? {
        Ok(Ok(()))
    } else {
        Ok(Err(FactorError::InvalidEnrolmentToken))
    }
}

pub(super) fn factor_name(name: Option<&str>, default: &str) -> Result<String, FactorError> {
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(default);
    if name.chars().count() > MAX_FACTOR_NAME {
        return Err(FactorError::InvalidName("Use at most 60 characters."));
    }
    if name
        .chars()
        .any(|c| c.is_control() || esr_domain::hides_text(c))
    {
        return Err(FactorError::InvalidName(
            "Use letters, digits, spaces and punctuation only.",
        ));
    }
    Ok(name.to_owned())
}

pub(super) fn account_of(
    conn: &mut DbConnection,
    id: &esr_domain::AccountId,
) -> Result<Account, RepoError> {
    accounts::find(conn, id)?
        .ok_or_else(|| RepoError::Corrupt(format!("session of a missing account {id}")))
}

/// The multi-factor policy of the account's organisation.
pub fn policy_of(conn: &mut DbConnection, account: &Account) -> Result<MfaPolicy, RepoError> {
    Ok(policy_in(
        organisations::find(conn, &account.organisation_code)?.as_ref(),
    ))
}

/// The multi-factor policy of an organisation already read (the default if it is gone).
pub fn policy_in(organisation: Option<&Organisation>) -> MfaPolicy {
    organisation.map(|o| o.mfa_policy).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_names_default_and_are_checked() {
        assert_eq!(
            factor_name(None, "Authenticator app").unwrap(),
            "Authenticator app"
        );
        assert_eq!(
            factor_name(Some("  "), "Authenticator app").unwrap(),
            "Authenticator app"
        );
        assert_eq!(
            factor_name(Some(" Work phone "), "x").unwrap(),
            "Work phone"
        );
        assert!(factor_name(Some(&"x".repeat(61)), "x").is_err());
        assert!(factor_name(Some("a\u{7}b"), "x").is_err());
        assert!(factor_name(Some("a\u{202e}b"), "x").is_err());
    }
}
