//! Passkeys and security keys (WebAuthn), by their holder: register one, with the same proof an
//! authenticator app needs ([`super::factors`]), answer a login's challenge with one, or sign
//! in with one alone.
//!
//! A ceremony's state lives in `webauthn_ceremonies` between its start and its finish, so any
//! instance can finish what another started. A credential (public key and signature counter)
//! is stored sealed with the MFA key like a TOTP secret; each sign-in moves its counter on
//! with a compare-and-set, and the library refuses an answer whose counter did not move
//! forward (a cloned key).

use chrono::{DateTime, Duration, Utc};
use esr_domain::{AccountId, MfaPolicy, TokenDigest};
use esr_persistence::accounts::{self, Account};
use esr_persistence::second_factors::{self, FactorKind, NewPasskey, StoredFactor};
use esr_persistence::sessions::{SecondFactor, Session, SessionKind};
use esr_persistence::webauthn_ceremonies::{self as ceremonies, CeremonyPurpose, NewCeremony};
use esr_persistence::{DbConnection, RepoError};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};

use super::factors::{self, Confirmed, FactorError};
use super::sessions::{self, IssuedSession, Proof, Tokens};
use super::{Caller, Failure, consequences};
use crate::config::Config;
use crate::mfa::MfaKey;
use crate::mfa::passkey::{RelyingParty, user_handle};
use crate::rate_limit::Limited;
use crate::state::AppState;

/// How long a registration can be finished.
pub const REGISTRATION_TTL: Duration = Duration::minutes(5);

/// A registration started: what the browser or phone needs to make the credential.
#[derive(Debug)]
pub struct RegistrationStart {
    /// Finish with this id.
    pub ceremony_id: String,
    /// `{"publicKey": …}` for `navigator.credentials.create()`.
    pub options: CreationChallengeResponse,
    /// Seconds it can be finished.
    pub expires_in: u64,
}

/// What a registration ceremony remembers.
#[derive(Serialize, Deserialize)]
struct Registration {
    name: String,
    state: PasskeyRegistration,
}

/// Starts registering a passkey: the same proof and rules as adding an authenticator app,
/// then the library's options, excluding the account's own passkeys (one authenticator, one
/// passkey).
pub async fn start_registration(
    app: &AppState,
    session: &Session,
    name: Option<&str>,
    enrolment_token: Option<&str>,
    now: DateTime<Utc>,
) -> Result<RegistrationStart, FactorError> {
    let rp = app
        .config
        .passkeys
        .clone()
        .ok_or(FactorError::PasskeysUnavailable)?;
    let name = factors::factor_name(name, "Passkey")?;
    let proof = enrolment_token.map(TokenDigest::of);
    let session = session.clone();
    let key = app.config.mfa_key.clone();
    let hold = super::contact_change_hold(&app.config);
    app.db(move |c| {
        c.write_transaction(|c| {
            let account = factors::account_of(c, &session.account_id)?;
            if factors::policy_of(c, &account)? == MfaPolicy::Off {
                return Ok(Err(FactorError::PolicyOff));
            }
            if let Err(e) = factors::not_held(c, &account, &session, hold, now)? {
                return Ok(Err(e));
            }
            if let Err(e) = factors::check_proof(c, &session, proof.as_ref(), now)? {
                return Ok(Err(e));
            }
            Ok(Ok(remember_registration(
                c, &rp, &key, &account, &session, name, now,
            )?))
        })
    })
    .await
    .map_err(Failure::from)?
}

fn remember_registration(
    conn: &mut DbConnection,
    rp: &RelyingParty,
    key: &MfaKey,
    account: &Account,
    session: &Session,
    name: String,
    now: DateTime<Utc>,
) -> Result<RegistrationStart, RepoError> {
    let own: Vec<_> = stored_passkeys(conn, key, account)?
        .iter()
        .map(|(_, passkey)| passkey.cred_id().clone())
        .collect();
    let username = account.username.as_str();
    let (mut options, state) = rp
        .webauthn()
        .start_passkey_registration(
            user_handle(account.id.as_str()),
            username,
            username,
            Some(own),
        )
        .map_err(|e| RepoError::Corrupt(format!("passkey registration options: {e}")))?;
    // A passkey the device can find by itself signs in alone too (no username): ask for one
    // where the device can make it. Phones and laptops do anyway; a security key may not.
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(webauthn_rs_proto::ResidentKeyRequirement::Preferred);
    }
    let ceremony_id = uuid::Uuid::new_v4().to_string();
    ceremonies::end_registrations_of(conn, &session.id)?;
    let state = serde_json::to_string(&Registration { name, state })
        .map_err(|e| RepoError::Corrupt(format!("passkey registration state: {e}")))?;
    ceremonies::start(
        conn,
        &NewCeremony {
            id: &ceremony_id,
            purpose: CeremonyPurpose::Registration,
            account_id: &account.id,
            session_id: Some(&session.id),
            state: &state,
            expires_at: now + REGISTRATION_TTL,
        },
        now,
    )?;
    Ok(RegistrationStart {
        ceremony_id,
        options,
        expires_in: u64::try_from(REGISTRATION_TTL.num_seconds()).unwrap_or(300),
    })
}

/// Finishes a registration with the credential the browser or phone made: only the session
/// that started it, once, within its time. The new passkey is confirmed at once (the ceremony
/// was its proof); the session that added it counts as signed in with it; the account's
/// first factor comes with recovery codes and ends the sessions opened with a password alone.
pub async fn finish_registration(
    app: &AppState,
    caller: &Caller,
    session: &Session,
    ceremony_id: &str,
    credential: &RegisterPublicKeyCredential,
    now: DateTime<Utc>,
) -> Result<Confirmed, FactorError> {
    let rp = app
        .config
        .passkeys
        .clone()
        .ok_or(FactorError::PasskeysUnavailable)?;
    let id = ceremony_id.to_owned();
    let owner = session.id.clone();
    let ceremony = app
        .db(move |c| ceremonies::find(c, &id, CeremonyPurpose::Registration, now))
        .await
        .map_err(Failure::from)?
        .filter(|c| c.session_id.as_ref() == Some(&owner))
        .ok_or(FactorError::NotFound)?;
    let registration: Registration = serde_json::from_str(&ceremony.state)
        .map_err(|e| Failure::unexpected(format!("passkey registration state: {e}")))?;
    let passkey = rp
        .webauthn()
        .finish_passkey_registration(credential, &registration.state)
        .map_err(|e| FactorError::PasskeyRejected(e.to_string()))?;
    // WebAuthn credential ids are 1 to 1023 bytes.
    if !(1..=1023).contains(&passkey.cred_id().len()) {
        return Err(FactorError::PasskeyRejected("credential id length".into()));
    }
    let session = session.clone();
    let key = app.config.mfa_key.clone();
    let caller = caller.clone();
    let hold = super::contact_change_hold(&app.config);
    let confirmed = app
        .db(move |c| {
            c.write_transaction(|c| {
                if !ceremonies::finish(c, &ceremony.id)? {
                    return Ok(Err(FactorError::NotFound));
                }
                let account = factors::account_of(c, &session.account_id)?;
                if let Err(e) = factors::not_held(c, &account, &session, hold, now)? {
                    return Ok(Err(e));
                }
                if second_factors::credential_registered(c, &credential_id_of(&passkey))? {
                    return Ok(Err(FactorError::PasskeyRejected(
                        "credential registered already".into(),
                    )));
                }
                let added = NewRegistered {
                    name: &registration.name,
                    passkey: &passkey,
                };
                Ok(Ok(add_passkey(
                    c, &caller, &key, &account, &session, &added, now,
                )?))
            })
        })
        .await
        .map_err(Failure::from)?;
    app.delivery_wake.notify_one();
    confirmed
}

/// A credential just registered, and its name.
struct NewRegistered<'a> {
    name: &'a str,
    passkey: &'a Passkey,
}

fn add_passkey(
    conn: &mut DbConnection,
    caller: &Caller,
    key: &MfaKey,
    account: &Account,
    session: &Session,
    added: &NewRegistered<'_>,
    now: DateTime<Utc>,
) -> Result<Confirmed, RepoError> {
    let id = second_factors::new_id();
    let sealed = seal(key, added.passkey, &id, account)?;
    second_factors::add_passkey(
        conn,
        &NewPasskey {
            id: &id,
            account_id: &account.id,
            name: added.name,
            sealed_credential: &sealed,
            credential_id: &credential_id_of(added.passkey),
        },
        now,
    )?;
    let first = second_factors::count_confirmed(conn, &account.id)? == 1;
    // A session opened with a passkey alone has shown one already.
    if session.kind != SessionKind::Passkey {
        esr_persistence::sessions::complete_with_second_factor(
            conn,
            &session.id,
            SecondFactor::Hwk,
        )?;
    }
    let recovery_codes = if first {
        Some(factors::issue_recovery_codes(
            conn, caller, key, account, now,
        )?)
    } else {
        None
    };
    let factor = second_factors::find(conn, &account.id, &id)?
        .ok_or_else(|| RepoError::Corrupt("added passkey vanished".into()))?;
    consequences::factor_added(conn, caller, account, &factor, &session.id, now)?;
    Ok(Confirmed {
        factor,
        recovery_codes,
    })
}

/// Starts answering a login's challenge with a passkey: the options for
/// `navigator.credentials.get()`, allowing the account's passkeys, remembered under the
/// challenge's `mfa_token` (by its digest) until `expires_at`.
pub fn start_second_factor(
    conn: &mut DbConnection,
    config: &Config,
    account: &Account,
    mfa_token: &TokenDigest,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<RequestChallengeResponse>, RepoError> {
    let Some(rp) = &config.passkeys else {
        return Ok(None);
    };
    let keys: Vec<Passkey> = stored_passkeys(conn, &config.mfa_key, account)?
        .into_iter()
        .map(|(_, passkey)| passkey)
        .collect();
    if keys.is_empty() {
        return Ok(None);
    }
    let (options, state) = rp
        .webauthn()
        .start_passkey_authentication(&keys)
        .map_err(|e| RepoError::Corrupt(format!("passkey sign-in options: {e}")))?;
    let state = serde_json::to_string(&state)
        .map_err(|e| RepoError::Corrupt(format!("passkey sign-in state: {e}")))?;
    ceremonies::start(
        conn,
        &NewCeremony {
            id: mfa_token.as_str(),
            purpose: CeremonyPurpose::SecondFactor,
            account_id: &account.id,
            session_id: None,
            state: &state,
            expires_at,
        },
        now,
    )?;
    Ok(Some(options))
}

/// Whether `credential` answers the challenge of `mfa_token` for the account with one of its
/// passkeys, moving that passkey's signature counter on. A wrong, replayed or cloned answer
/// is `false` (and counts towards the lockout, by the caller).
pub fn accepts_second_factor(
    conn: &mut DbConnection,
    config: &Config,
    account: &Account,
    mfa_token: &TokenDigest,
    credential: &PublicKeyCredential,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let Some(rp) = &config.passkeys else {
        return Ok(false);
    };
    if made_in_a_frame(credential) {
        return Ok(false);
    }
    let Some(ceremony) =
        ceremonies::find(conn, mfa_token.as_str(), CeremonyPurpose::SecondFactor, now)?
            .filter(|c| c.account_id == account.id)
    else {
        return Ok(false);
    };
    let Ok(state) = serde_json::from_str::<PasskeyAuthentication>(&ceremony.state) else {
        return Ok(false);
    };
    let result = match rp
        .webauthn()
        .finish_passkey_authentication(credential, &state)
    {
        Ok(result) => result,
        Err(e) => {
            tracing::info!(reason = %e, "passkey answer refused");
            return Ok(false);
        }
    };
    let key = &config.mfa_key;
    let used = stored_passkeys(conn, key, account)?
        .into_iter()
        .find(|(_, passkey)| passkey.cred_id() == result.cred_id());
    let Some((factor, mut passkey)) = used else {
        return Ok(false);
    };
    passkey.update_credential(&result);
    let was = factor.sealed_secret.as_deref().unwrap_or_default();
    let now_sealed = seal(key, &passkey, &factor.id, account)?;
    if !second_factors::record_passkey_use(conn, &factor.id, was, &now_sealed, now)? {
        return Ok(false);
    }
    ceremonies::finish(conn, &ceremony.id)?;
    Ok(true)
}

/// Whether the browser says the answer was given inside a frame of another site
/// (`crossOrigin` true, or a `topOrigin`, in the client data): a page that embeds ours must
/// not sign anyone in. Client data that does not read as JSON counts as such.
fn made_in_a_frame(credential: &PublicKeyCredential) -> bool {
    serde_json::from_slice::<serde_json::Value>(&credential.response.client_data_json).map_or(
        true,
        |data| {
            data["crossOrigin"] == serde_json::Value::Bool(true) || data.get("topOrigin").is_some()
        },
    )
}

/// The account's confirmed passkeys, opened. One that does not open (another key, or moved
/// from another row) is logged and left out.
fn stored_passkeys(
    conn: &mut DbConnection,
    key: &MfaKey,
    account: &Account,
) -> Result<Vec<(StoredFactor, Passkey)>, RepoError> {
    Ok(second_factors::list_for_account(conn, &account.id)?
        .into_iter()
        .filter(|f| f.kind == FactorKind::Passkey && f.is_confirmed())
        .filter_map(|f| {
            let passkey = open(key, &f)?;
            Some((f, passkey))
        })
        .collect())
}

/// A credential's id as stored: base64url.
fn credential_id_of(passkey: &Passkey) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::encode_string(passkey.cred_id().as_ref())
}

fn open(key: &MfaKey, factor: &StoredFactor) -> Option<Passkey> {
    let sealed = factor.sealed_secret.as_deref()?;
    let opened = key
        .open(sealed, &factor.id, factor.account_id.as_str())
        .map_err(|e| tracing::error!(factor_id = %factor.id, error = %e, "passkey does not open"))
        .ok()?;
    serde_json::from_slice(&opened)
        .map_err(|e| tracing::error!(factor_id = %factor.id, error = %e, "passkey is not readable"))
        .ok()
}

fn seal(
    key: &MfaKey,
    passkey: &Passkey,
    factor_id: &str,
    account: &Account,
) -> Result<String, RepoError> {
    let bytes = zeroize::Zeroizing::new(
        serde_json::to_vec(passkey)
            .map_err(|e| RepoError::Corrupt(format!("passkey not serialisable: {e}")))?,
    );
    Ok(key.seal(&bytes, factor_id, account.id.as_str()))
}

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

/// Starts a sign-in with a passkey alone: options that let the browser or phone offer any
/// passkey it holds for this service. Stores nothing (a flood of starts fills no table).
pub async fn start_sign_in(
    app: &AppState,
    caller: &Caller,
    now: DateTime<Utc>,
) -> Result<SignInStart, PasskeySignInError> {
    app.limits
        .login_per_ip
        .check(&caller.limit_key())
        .await
        .map_err(PasskeySignInError::RateLimited)?;
    let rp = app
        .config
        .passkeys
        .as_ref()
        .ok_or(PasskeySignInError::Unavailable)?;
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
    app.limits
        .login_per_ip
        .check(&caller.limit_key())
        .await
        .map_err(PasskeySignInError::RateLimited)?;
    let rp = app
        .config
        .passkeys
        .clone()
        .ok_or(PasskeySignInError::Unavailable)?;
    let sealed =
        open_sign_in(&app.config.mfa_key, ceremony, now).ok_or(PasskeySignInError::Refused)?;
    let (handle, _) = rp
        .webauthn()
        .identify_discoverable_authentication(credential)
        .map_err(|_| PasskeySignInError::Refused)?;
    let account_id = AccountId::from_stored(handle.to_string());
    let answer = SignInAnswer {
        rp,
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
    app.delivery_wake.notify_one();
    let issued = signed_in?;
    app.metrics.security_event("login.succeeded");
    Ok(sessions::sign(app, issued, now)?)
}

/// A sign-in's answer, checked.
struct SignInAnswer {
    rp: RelyingParty,
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
    let Ok((_, used)) = answer
        .rp
        .webauthn()
        .identify_discoverable_authentication(&answer.credential)
    else {
        return Ok(false);
    };
    let Some((factor, mut passkey)) = stored_passkeys(conn, key, account)?
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
    passkey.update_credential(&result);
    let was = factor.sealed_secret.as_deref().unwrap_or_default();
    let now_sealed = seal(key, &passkey, &factor.id, account)?;
    second_factors::record_passkey_use(conn, &factor.id, was, &now_sealed, now)
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
    if factors::policy_of(conn, account)? == MfaPolicy::Off {
        return Ok(Err(PasskeySignInError::Refused));
    }
    if sessions::inactivity_lapsed(conn, caller, account, now)? {
        return Ok(Err(PasskeySignInError::InternetAccessLapsed));
    }
    Ok(Ok(()))
}
