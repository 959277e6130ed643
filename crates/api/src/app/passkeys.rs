//! Passkeys and security keys (WebAuthn), by their holder: register one, with the same proof an
//! authenticator app needs ([`super::factors`]), and answer a login's challenge with one.
//! Signing in with one alone is [`super::passkey_sign_in`].
//!
//! A ceremony's state lives in `webauthn_ceremonies` between its start and its finish, so any
//! instance can finish what another started. A credential (public key and signature counter)
//! is stored sealed with the MFA key like a TOTP secret; each sign-in moves its counter on
//! with a compare-and-set, and the library refuses an answer whose counter did not move
//! forward (a cloned key).

use chrono::{DateTime, Duration, Utc};
use esr_domain::TokenDigest;
use esr_persistence::accounts::Account;
use esr_persistence::second_factors::{self, FactorKind, NewPasskey, StoredFactor};
use esr_persistence::sessions::{SecondFactor, Session, SessionKind};
use esr_persistence::webauthn_ceremonies::{self as ceremonies, CeremonyPurpose, NewCeremony};
use esr_persistence::{DbConnection, RepoError};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    AuthenticationResult, CreationChallengeResponse, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};

use super::factors::{self, Confirmed, FactorError};
use super::{Caller, Failure, consequences};
use crate::config::Config;
use crate::mfa::MfaKey;
use crate::mfa::passkey::{RelyingParty, user_handle};
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
            let account = match factors::may_enrol(c, &session, proof.as_ref(), hold, now)? {
                Ok(account) => account,
                Err(e) => return Ok(Err(e)),
            };
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
    app.db(move |c| {
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
    .map_err(Failure::from)?
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
    factors: &[StoredFactor],
    mfa_token: &TokenDigest,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<RequestChallengeResponse>, RepoError> {
    let Some(rp) = &config.passkeys else {
        return Ok(None);
    };
    let keys: Vec<Passkey> = passkeys_among(&config.mfa_key, factors.iter().cloned())
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
    if made_in_a_frame(credential) || !names_the_account(credential, account) {
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
    let Some((factor, passkey)) = used else {
        return Ok(false);
    };
    if !record_use(conn, key, account, &factor, passkey, &result, now)? {
        return Ok(false);
    }
    ceremonies::finish(conn, &ceremony.id)?;
    Ok(true)
}

/// Records a sign-in with `passkey` (stored as `factor`): its counter moved on as `result`
/// says, with a compare-and-set on the stored credential. `false` when another sign-in with
/// it won the race.
pub(super) fn record_use(
    conn: &mut DbConnection,
    key: &MfaKey,
    account: &Account,
    factor: &StoredFactor,
    mut passkey: Passkey,
    result: &AuthenticationResult,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    passkey.update_credential(result);
    let was = factor.sealed_secret.as_deref().unwrap_or_default();
    let now_sealed = seal(key, &passkey, &factor.id, account)?;
    second_factors::record_passkey_use(conn, &factor.id, was, &now_sealed, now)
}

/// Whether the browser says the answer was given inside a frame of another site
/// (`crossOrigin` true, or a `topOrigin`, in the client data): a page that embeds ours must
/// not sign anyone in. Client data that does not read as JSON counts as such.
pub(super) fn made_in_a_frame(credential: &PublicKeyCredential) -> bool {
    serde_json::from_slice::<serde_json::Value>(&credential.response.client_data_json).map_or(
        true,
        |data| {
            data["crossOrigin"] == serde_json::Value::Bool(true) || data.get("topOrigin").is_some()
        },
    )
}

/// Whether the user handle an authenticator returned, if it returned one, is the account's
/// (WebAuthn §7.2 step 6): a passkey answers for the user it was made for, never another.
fn names_the_account(credential: &PublicKeyCredential, account: &Account) -> bool {
    credential
        .get_user_unique_id()
        .is_none_or(|handle| handle == user_handle(account.id.as_str()).as_bytes())
}

/// The account's confirmed passkeys, opened. One that does not open (another key, or moved
/// from another row) is logged and left out.
pub(super) fn stored_passkeys(
    conn: &mut DbConnection,
    key: &MfaKey,
    account: &Account,
) -> Result<Vec<(StoredFactor, Passkey)>, RepoError> {
    let factors = second_factors::list_for_account(conn, &account.id)?;
    Ok(passkeys_among(key, factors))
}

/// The confirmed passkeys among `factors`, opened.
fn passkeys_among(
    key: &MfaKey,
    factors: impl IntoIterator<Item = StoredFactor>,
) -> Vec<(StoredFactor, Passkey)> {
    factors
        .into_iter()
        .filter(|f| f.kind == FactorKind::Passkey && f.is_confirmed())
        .filter_map(|f| {
            let passkey = open(key, &f)?;
            Some((f, passkey))
        })
        .collect()
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

pub(super) fn seal(
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
