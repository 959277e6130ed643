//! Signing in with a passkey alone (no username, no password). Starting stores nothing: the
//! library's state travels sealed in the `ceremony` the client sends back. The answer names
//! its account (the user handle) and must verify with one of that account's passkeys
//! ([`super::passkeys`]); a row then marks the ceremony spent.

use chrono::{DateTime, Duration, Utc};
use esr_domain::{AccountId, MfaPolicy, TokenDigest};
use esr_persistence::accounts::{self, Account};
use esr_persistence::sessions::SessionKind;
use esr_persistence::webauthn_ceremonies as ceremonies;
use esr_persistence::{DbConnection, RepoError, organisations};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, PublicKeyCredential, RequestChallengeResponse,
};

use super::passkeys::{made_in_a_frame, record_use, stored_passkeys};
use super::sessions::{self, IssuedSession, Proof, Tokens};
use super::{Caller, Failure, factors};
use crate::config::Config;
use crate::mfa::MfaKey;
use crate::mfa::passkey::RelyingParty;
use crate::rate_limit::Limited;
use crate::state::AppState;

/// How long a sign-in with a passkey alone can be finished.
pub const SIGN_IN_TTL: Duration = Duration::minutes(5);

/// What the sealed `ceremony` of a sign-in with a passkey alone is bound to.
const SIGN_IN_SEAL: &str = "passkey sign-in";

/// A sign-in with a passkey alone, started: nothing is stored, the state travels sealed.
#[derive(Debug)]
pub struct SignInStart {
    /// The sealed state: send it back with the credential.
    pub ceremony: String,
    /// `{"publicKey": …}` for `navigator.credentials.get()`, allowing any of this service's
    /// passkeys (the person is not known yet).
    pub options: RequestChallengeResponse,
    /// Seconds it can be finished.
    pub expires_in: u64,
}

/// What a sign-in's `ceremony` carries, sealed.
#[derive(Serialize, Deserialize)]
struct SealedSignIn {
    /// Random: what the spent mark is made of, so no other spelling of the same sealed text
    /// (the text is never trimmed or normalised, but whatever decodes to it) escapes the mark.
    id: String,
    state: DiscoverableAuthentication,
    expires_at: DateTime<Utc>,
}

/// Why a sign-in with a passkey alone opened no session.
#[derive(Debug, thiserror::Error)]
pub enum PasskeySignInError {
    /// Passkeys are not offered (the pages' address has no domain name).
    #[error("passkeys are not available")]
    Unavailable,
    /// The ceremony is not ours, expired or used, or the answer does not verify for the
    /// account it names, or that account cannot sign in: one answer for all.
    #[error("passkey sign-in refused")]
    Refused,
    /// A genuine answer, for a suspended account.
    #[error("account suspended")]
    Suspended,
    /// A genuine answer, for an account without approved internet access.
    #[error("internet access not approved")]
    NotApproved,
    /// A genuine answer, but no login for longer than the organisation's inactivity limit.
    #[error("internet access lapsed")]
    InternetAccessLapsed,
    /// Too many attempts from this client.
    #[error("rate limited")]
    RateLimited(Limited),
    /// Storage or the unexpected.
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// The client's share of sign-in attempts, then the relying party: what every step of a
/// sign-in with a passkey alone checks first.
async fn admit(app: &AppState, caller: &Caller) -> Result<RelyingParty, PasskeySignInError> {
    app.limits
        .login_per_ip
        .check(&caller.limit_key())
        .await
        .map_err(PasskeySignInError::RateLimited)?;
    app.config
        .passkeys
        .clone()
        .ok_or(PasskeySignInError::Unavailable)
}

/// Starts a sign-in with a passkey alone: options that let the browser or phone offer any
/// passkey it holds for this service. Stores nothing (a flood of starts fills no table).
pub async fn start_sign_in(
    app: &AppState,
    caller: &Caller,
    now: DateTime<Utc>,
) -> Result<SignInStart, PasskeySignInError> {
    let rp = admit(app, caller).await?;
    let (options, state) = rp
        .webauthn()
        .start_discoverable_authentication()
        .map_err(|e| Failure::unexpected(format!("passkey sign-in options: {e}")))?;
    let sealed = SealedSignIn {
        id: esr_domain::random_token(&mut rand::rng(), 16),
        state,
        expires_at: now + SIGN_IN_TTL,
    };
    let bytes = zeroize::Zeroizing::new(serde_json::to_vec(&sealed).map_err(Failure::unexpected)?);
    Ok(SignInStart {
        ceremony: app.config.mfa_key.seal(&bytes, SIGN_IN_SEAL, ""),
        options,
        expires_in: u64::try_from(SIGN_IN_TTL.num_seconds()).unwrap_or(300),
    })
}

/// Finishes a sign-in with a passkey alone: the answer names its account (the user handle),
/// must verify with one of that account's passkeys, and spends the ceremony. The session it
/// opens (`amr` `["hwk"]`) counts as strong as one completed with a second factor. Refusals
/// before the answer verifies all look alike; a suspended or unapproved account is told so
/// only after.
pub async fn finish_sign_in(
    app: &AppState,
    caller: &Caller,
    ceremony: &str,
    credential: &PublicKeyCredential,
    now: DateTime<Utc>,
) -> Result<Tokens, PasskeySignInError> {
    let rp = admit(app, caller).await?;
    let sealed =
        open_sign_in(&app.config.mfa_key, ceremony, now).ok_or(PasskeySignInError::Refused)?;
    let (handle, used) = rp
        .webauthn()
        .identify_discoverable_authentication(credential)
        .map_err(|_| PasskeySignInError::Refused)?;
    let account_id = AccountId::from_stored(handle.to_string());
    let used = used.to_vec();
    let answer = SignInAnswer {
        rp,
        used,
        spent: TokenDigest::of(&sealed.id),
        sealed,
        credential: credential.clone(),
    };
    let config = app.config.clone();
    let caller = caller.clone();
    let signed_in = app
        .db(move |c| {
            c.write_transaction(|c| sign_in(c, &config, &caller, &account_id, &answer, now))
        })
        .await
        .map_err(Failure::from)?;
    let issued = signed_in?;
    app.metrics.security_event("login.succeeded");
    Ok(sessions::sign(app, issued, now)?)
}

/// A sign-in's answer, checked.
struct SignInAnswer {
    rp: RelyingParty,
    /// The credential id the answer names (read with its user handle).
    used: Vec<u8>,
    spent: TokenDigest,
    sealed: SealedSignIn,
    credential: PublicKeyCredential,
}

fn open_sign_in(key: &MfaKey, ceremony: &str, now: DateTime<Utc>) -> Option<SealedSignIn> {
    let opened = key.open(ceremony, SIGN_IN_SEAL, "").ok()?;
    let sealed: SealedSignIn = serde_json::from_slice(&opened).ok()?;
    (sealed.expires_at > now).then_some(sealed)
}

fn sign_in(
    conn: &mut DbConnection,
    config: &Config,
    caller: &Caller,
    account_id: &AccountId,
    answer: &SignInAnswer,
    now: DateTime<Utc>,
) -> Result<Result<IssuedSession, PasskeySignInError>, RepoError> {
    let Some(account) = accounts::find_for_update(conn, account_id)? else {
        return Ok(Err(PasskeySignInError::Refused));
    };
    if !verify_discoverable(conn, config, &account, answer, now)? {
        sessions::login_failed(conn, caller, &account, "passkey_refused", now)?;
        return Ok(Err(PasskeySignInError::Refused));
    }
    let expires_at = answer.sealed.expires_at;
    if !ceremonies::spend(conn, &answer.spent, &account.id, expires_at, now)? {
        sessions::login_failed(conn, caller, &account, "passkey_ceremony_reused", now)?;
        return Ok(Err(PasskeySignInError::Refused));
    }
    if let Err(e) = may_sign_in(conn, caller, &account, now)? {
        return Ok(Err(e));
    }
    if !accounts::record_passkey_login(conn, &account.id, now)? {
        return Ok(Err(PasskeySignInError::Refused));
    }
    let issued = sessions::open_session(
        conn,
        config,
        caller,
        &account.id,
        Proof::single(SessionKind::Passkey),
        now,
    )?;
    sessions::login_succeeded(conn, caller, &account, &issued, now)?;
    Ok(Ok(issued))
}

/// Whether the answer verifies with one of the account's passkeys, moving its counter on.
fn verify_discoverable(
    conn: &mut DbConnection,
    config: &Config,
    account: &Account,
    answer: &SignInAnswer,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let key = &config.mfa_key;
    if made_in_a_frame(&answer.credential) {
        return Ok(false);
    }
    let used = answer.used.as_slice();
    let Some((factor, passkey)) = stored_passkeys(conn, key, account)?
        .into_iter()
        .find(|(_, p)| AsRef::<[u8]>::as_ref(p.cred_id()) == used)
    else {
        return Ok(false);
    };
    let result = match answer.rp.webauthn().finish_discoverable_authentication_v2(
        &answer.credential,
        answer.sealed.state.clone(),
        &passkey,
    ) {
        Ok(result) => result,
        Err(e) => {
            tracing::info!(reason = %e, "passkey sign-in refused");
            return Ok(false);
        }
    };
    record_use(conn, key, account, &factor, passkey, &result, now)
}

/// After a genuine answer: what the account's state allows, as a password login would say.
fn may_sign_in(
    conn: &mut DbConnection,
    caller: &Caller,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<Result<(), PasskeySignInError>, RepoError> {
    use esr_domain::AccountStatus;
    let refused = match account.status {
        AccountStatus::Active if !account.internet_access.allows_login() => {
            Some(PasskeySignInError::NotApproved)
        }
        AccountStatus::Active => None,
        AccountStatus::Suspended => Some(PasskeySignInError::Suspended),
        AccountStatus::Locked | AccountStatus::Disabled => Some(PasskeySignInError::Refused),
    };
    if let Some(refused) = refused {
        sessions::login_failed(conn, caller, account, "passkey_account_not_usable", now)?;
        return Ok(Err(refused));
    }
    let organisation = organisations::find(conn, &account.organisation_code)?;
    if factors::policy_in(organisation.as_ref()) == MfaPolicy::Off {
        return Ok(Err(PasskeySignInError::Refused));
    }
    if sessions::inactivity_lapsed(conn, caller, account, organisation.as_ref(), now)? {
        return Ok(Err(PasskeySignInError::InternetAccessLapsed));
    }
    Ok(Ok(()))
}
