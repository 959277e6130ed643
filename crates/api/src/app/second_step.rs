//! The second step of a password login: the challenge a correct password earned
//! ([`super::challenge`]) answered with an authenticator-app code or a recovery code opens
//! the session.
//!
//! A wrong, replayed or spent code counts towards the same lockout as a wrong password, in
//! the same atomic increment ([`super::lockout`]), and the correct password that earned the
//! challenge does not clear the count: only a completed login does.

use chrono::{DateTime, Utc};
use esr_domain::{AccountStatus, RecoveryCode, TokenDigest, TotpCode};
use esr_persistence::accounts::{self, Account};
use esr_persistence::audit::{Actor, EventType};
use esr_persistence::mfa_tokens::{self, MfaTokenPurpose};
use esr_persistence::second_factors::{self, FactorKind};
use esr_persistence::sessions::{SecondFactor, SessionKind};
use esr_persistence::{DbConnection, RepoError, recovery_codes};
use serde_json::json;

use super::challenge::Method;
use super::sessions::{IssuedSession, Proof, Tokens, login_succeeded, open_session, sign};
use super::{Caller, Failure, audit, consequences, factors, lockout, passkeys};
use crate::config::Config;
use crate::rate_limit::Limited;
use crate::state::AppState;

/// Longest `mfa_token` looked at.
const MAX_MFA_TOKEN: usize = 128;

/// The second factor given.
#[derive(Debug)]
pub enum Answer {
    /// A code from an authenticator app.
    Totp(TotpCode),
    /// A recovery code.
    RecoveryCode(RecoveryCode),
    /// A passkey's answer to the challenge's options.
    Passkey(Box<webauthn_rs::prelude::PublicKeyCredential>),
}

impl Answer {
    fn method(&self) -> Method {
        match self {
            Self::Totp(_) => Method::Totp,
            Self::RecoveryCode(_) => Method::RecoveryCode,
            Self::Passkey(_) => Method::Passkey,
        }
    }

    /// What the session it opens was completed with (RFC 8176 `otp` or `hwk`).
    fn second_factor(&self) -> SecondFactor {
        match self {
            Self::Passkey(_) => SecondFactor::Hwk,
            Self::Totp(_) | Self::RecoveryCode(_) => SecondFactor::Otp,
        }
    }
}

/// Why the second step did not open a session.
#[derive(Debug, thiserror::Error)]
pub enum SecondStepError {
    /// The `mfa_token` is unknown, spent or expired, or its account can no longer sign in.
    #[error("invalid mfa token")]
    InvalidMfaToken,
    /// The code is wrong, was used before, or its time step was accepted already.
    #[error("wrong second factor")]
    WrongSecondFactor,
    /// Too many attempts from this client.
    #[error("rate limited")]
    RateLimited(Limited),
    /// Storage or the unexpected.
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// Answers a challenge: the token and a second factor open a session with `amr`
/// `["pwd","otp"]` (a code) or `["pwd","hwk"]` (a passkey). A wrong answer counts towards
/// the lockout.
pub async fn complete(
    app: &AppState,
    caller: &Caller,
    mfa_token: &str,
    answer: Answer,
    now: DateTime<Utc>,
) -> Result<Tokens, SecondStepError> {
    if mfa_token.is_empty() || mfa_token.len() > MAX_MFA_TOKEN {
        return Err(SecondStepError::InvalidMfaToken);
    }
    app.limits
        .login_per_ip
        .check(&caller.limit_key())
        .await
        .map_err(SecondStepError::RateLimited)?;
    let digest = TokenDigest::of(mfa_token.trim());
    let config = app.config.clone();
    let caller = caller.clone();
    let completed = app
        .db(move |c| {
            c.write_transaction(|c| answer_challenge(c, &config, &caller, &digest, &answer, now))
        })
        .await
        .map_err(Failure::from)?;
    match completed {
        Ok(issued) => {
            app.metrics.security_event("login.succeeded");
            Ok(sign(app, issued, now)?)
        }
        Err(e) => {
            app.metrics.security_event("login.second_factor_failed");
            Err(e)
        }
    }
}

fn answer_challenge(
    conn: &mut DbConnection,
    config: &Config,
    caller: &Caller,
    digest: &TokenDigest,
    answer: &Answer,
    now: DateTime<Utc>,
) -> Result<Result<IssuedSession, SecondStepError>, RepoError> {
    let Some(account_id) = mfa_tokens::find_usable(conn, digest, MfaTokenPurpose::SignIn, now)?
    else {
        return Ok(Err(SecondStepError::InvalidMfaToken));
    };
    let Some(account) = accounts::find_for_update(conn, &account_id)? else {
        return Ok(Err(SecondStepError::InvalidMfaToken));
    };
    if account.status != AccountStatus::Active || !account.internet_access.allows_login() {
        return Ok(Err(SecondStepError::InvalidMfaToken));
    }
    if !accepts(conn, config, &account, digest, answer, now)? {
        wrong_answer(conn, config, caller, &account, answer.method(), now)?;
        return Ok(Err(SecondStepError::WrongSecondFactor));
    }
    let verified = account.password_hash.as_deref().unwrap_or_default();
    if !mfa_tokens::spend(conn, digest, &account.id, MfaTokenPurpose::SignIn, now)?
        || !accounts::record_successful_login(conn, &account.id, verified, now)?
    {
        return Ok(Err(SecondStepError::InvalidMfaToken));
    }
    let proof = Proof {
        second_factor: Some(answer.second_factor()),
        ..Proof::single(SessionKind::Password)
    };
    let issued = open_session(conn, config, caller, &account.id, proof, now)?;
    login_succeeded(conn, caller, &account, &issued, now)?;
    if answer.method() == Method::RecoveryCode {
        consequences::recovery_code_used(conn, &account, now)?;
    }
    Ok(Ok(issued))
}

/// Whether `answer` is right for the account, spending what it used: the recovery code, or
/// the authenticator app's time step (so the same code is refused a second time).
fn accepts(
    conn: &mut DbConnection,
    config: &Config,
    account: &Account,
    mfa_token: &TokenDigest,
    answer: &Answer,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    match answer {
        Answer::RecoveryCode(code) => {
            let digest = config.mfa_key.recovery_code_digest(code);
            recovery_codes::spend(conn, &account.id, &digest, now)
        }
        Answer::Passkey(credential) => {
            passkeys::accepts_second_factor(conn, config, account, mfa_token, credential, now)
        }
        Answer::Totp(code) => {
            let apps = second_factors::list_for_account(conn, &account.id)?
                .into_iter()
                .filter(|f| f.is_confirmed() && f.kind == FactorKind::Totp);
            for app in apps {
                if let Some(step) = factors::totp_step(&config.mfa_key, &app, code, now) {
                    return second_factors::accept_step(conn, &app.id, step, now);
                }
            }
            Ok(false)
        }
    }
}

fn wrong_answer(
    conn: &mut DbConnection,
    config: &Config,
    caller: &Caller,
    account: &Account,
    method: Method,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let counted = lockout::count_failure(conn, caller, account, &config.lockout, now)?;
    audit::record(
        conn,
        caller,
        EventType::LoginSecondFactorFailed,
        Some(&account.id),
        &Actor::Account(account.username.clone()),
        &json!({
            "method": method.as_str(),
            "locked": matches!(counted, lockout::Counted::Locked { .. }),
        }),
        now,
    )
}
