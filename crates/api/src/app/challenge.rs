//! What a correct password earns: from the organisation's multi-factor policy and the
//! account's confirmed factors, a session, a session limited to enrolment, or a challenge (a
//! single-use `mfa_token`, five minutes, bound to the account) that the second step answers
//! ([`super::second_step`]).

use chrono::{DateTime, Duration, Utc};
use esr_domain::{AfterPassword, MfaPolicy, OneTimeToken};
use esr_persistence::accounts::Account;
use esr_persistence::audit::{Actor, EventType};
use esr_persistence::mfa_tokens::{self, MfaTokenPurpose};
use esr_persistence::second_factors::{self, FactorKind, StoredFactor};
use esr_persistence::{DbConnection, RepoError, recovery_codes};
use serde_json::json;

use super::{Caller, audit, factors, passkeys};
use crate::config::Config;

/// How long a challenge can be answered.
pub const CHALLENGE_TTL: Duration = Duration::minutes(5);
/// A way to answer a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A code from an authenticator app.
    Totp,
    /// One of the account's recovery codes.
    RecoveryCode,
    /// One of the account's passkeys or security keys.
    Passkey,
}

impl Method {
    /// The name clients see in `methods`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::RecoveryCode => "recovery_code",
            Self::Passkey => "passkey",
        }
    }
}

/// What a correct password earned for an account with a second factor.
#[derive(Debug)]
pub struct Challenge {
    /// The single-use token to send back with the second factor.
    pub mfa_token: String,
    /// The ways this account can answer.
    pub methods: Vec<Method>,
    /// With `Method::Passkey`: the options for `navigator.credentials.get()`.
    pub passkey: Option<webauthn_rs::prelude::RequestChallengeResponse>,
    /// Seconds the token works.
    pub expires_in: u64,
}

/// What a correct password opens for this account, by its organisation's policy and its
/// confirmed factors.
pub fn after_password(
    conn: &mut DbConnection,
    account: &Account,
) -> Result<AfterPassword, RepoError> {
    let policy = factors::policy_of(conn, account)?;
    let confirmed = second_factors::count_confirmed(conn, &account.id)?;
    Ok(policy.after_password(usize::try_from(confirmed).unwrap_or(usize::MAX)))
}

/// [`after_password`] for a login that has read the policy and the account's factors already.
pub fn after_password_with(policy: MfaPolicy, factors: &[StoredFactor]) -> AfterPassword {
    policy.after_password(factors.iter().filter(|f| f.is_confirmed()).count())
}

/// Issues a challenge for the account (voiding any earlier one) and audits it; `factors` are
/// the account's, as the login read them.
pub fn challenge(
    conn: &mut DbConnection,
    config: &Config,
    caller: &Caller,
    account: &Account,
    factors: &[StoredFactor],
    now: DateTime<Utc>,
) -> Result<Challenge, RepoError> {
    let (plain, digest) = OneTimeToken::generate(&mut rand::rng());
    mfa_tokens::issue(
        conn,
        &digest,
        &account.id,
        MfaTokenPurpose::SignIn,
        now + CHALLENGE_TTL,
        now,
    )?;
    let expires_at = now + CHALLENGE_TTL;
    let passkey =
        passkeys::start_second_factor(conn, config, account, factors, &digest, expires_at, now)?;
    let mut methods = methods_of(conn, account, factors)?;
    if passkey.is_some() {
        methods.insert(0, Method::Passkey);
    }
    audit::record(
        conn,
        caller,
        EventType::LoginSecondFactorRequired,
        Some(&account.id),
        &Actor::Account(account.username.clone()),
        &json!({"methods": methods.iter().map(|m| m.as_str()).collect::<Vec<_>>()}),
        now,
    )?;
    Ok(Challenge {
        mfa_token: plain.expose_secret().to_owned(),
        methods,
        passkey,
        expires_in: u64::try_from(CHALLENGE_TTL.num_seconds()).unwrap_or(300),
    })
}

fn methods_of(
    conn: &mut DbConnection,
    account: &Account,
    factors: &[StoredFactor],
) -> Result<Vec<Method>, RepoError> {
    let mut methods = Vec::new();
    if factors
        .iter()
        .any(|f| f.is_confirmed() && f.kind == FactorKind::Totp)
    {
        methods.push(Method::Totp);
    }
    if recovery_codes::count_unused(conn, &account.id)? > 0 {
        methods.push(Method::RecoveryCode);
    }
    Ok(methods)
}
