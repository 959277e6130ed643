//! Sessions: password login from home and the My ESR app, refresh-token rotation, logout,
//! and the session a smartcard sign-in opens.

use chrono::{DateTime, Duration, Utc};
use esr_domain::{
    AccountId, AfterPassword, InactivityPolicy, InternetAccessStatus, LoginAttempt, LoginOutcome,
    Password, SessionId, TokenDigest, Username, decide_login,
};
use esr_persistence::accounts::{self, Account};
use esr_persistence::audit::{Actor, EventType};
use esr_persistence::organisations::{self, Organisation};
use esr_persistence::second_factors;
use esr_persistence::sessions::{
    self, NewSession, RefreshSpend, RevokeReason, SecondFactor, Session, SessionKind,
};
use esr_persistence::{DbConnection, RepoError};

use super::challenge::{self, Challenge};
use serde_json::json;

use super::consequences::{self, Withdrawal};
use super::{Caller, Failure, audit, factors, lockout};
use crate::config::Config;
use crate::hashing::HashSlot;
use crate::rate_limit::Limited;
use crate::state::AppState;

/// Longest username looked at; anything longer cannot be valid.
const MAX_USERNAME: usize = 64;
/// Longest password looked at (bytes).
const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest refresh token looked at.
const MAX_REFRESH_TOKEN: usize = 128;
/// How long a session limited to enrolling a second factor lasts.
const ENROLMENT_SESSION: std::time::Duration = std::time::Duration::from_secs(3600);

/// The tokens of a session, as handed to the client.
#[derive(Debug)]
pub struct Tokens {
    /// Access token (EdDSA JWT).
    pub access_token: String,
    /// When the access token expires.
    pub access_token_expires_at: DateTime<Utc>,
    /// Seconds until then, from the issuing instant.
    pub expires_in: u64,
    /// Single-use refresh token.
    pub refresh_token: String,
    /// When the refresh token expires if unused.
    pub refresh_token_expires_at: DateTime<Utc>,
    /// When the session ends however often it is refreshed.
    pub session_expires_at: DateTime<Utc>,
}

/// A session created or rotated in the database, before its access token is signed.
pub struct IssuedSession {
    session_id: SessionId,
    account_id: AccountId,
    kind: SessionKind,
    second_factor: Option<SecondFactor>,
    refresh_token: String,
    refresh_expires_at: DateTime<Utc>,
    session_expires_at: DateTime<Utc>,
}

impl IssuedSession {
    /// The new session's id (for the audit trail).
    pub fn session_id(&self) -> &SessionId {
        &self.session_id
    }
}

/// What a correct password opened.
#[derive(Debug)]
pub enum LoginResult {
    /// A session (for an account limited to enrolment, a session that can only enrol).
    Session(Tokens),
    /// Nothing yet: the account has a second factor, to be given with the challenge's token.
    SecondFactorRequired(Challenge),
}

/// What the login transaction produced.
pub(super) enum Opened {
    Session(IssuedSession),
    Challenge(Challenge),
}

/// How a session was earned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proof {
    /// The first factor.
    pub kind: SessionKind,
    /// The second factor that followed a password, if any.
    pub second_factor: Option<SecondFactor>,
    /// Limited to enrolling a factor.
    pub enrolment_only: bool,
}

impl Proof {
    /// A session earned by `kind` alone.
    pub fn single(kind: SessionKind) -> Self {
        Self {
            kind,
            second_factor: None,
            enrolment_only: false,
        }
    }
}

/// Why a password login did not open a session.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown username, wrong password, locked or disabled account: one answer.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Correct password, internet access not approved.
    #[error("internet access not approved")]
    NotApproved,
    /// Correct password, account suspended.
    #[error("account suspended")]
    Suspended,
    /// Correct password, but no login for longer than the organisation's inactivity limit:
    /// internet access has lapsed (revoked now) until renewed at work.
    #[error("internet access lapsed")]
    InternetAccessLapsed,
    /// Correct password, but older than the organisation's password expiry.
    #[error("password expired")]
    PasswordExpired,
    /// Username or password missing or absurdly long.
    #[error("invalid login request: {0:?}")]
    InvalidRequest(LoginInput),
    /// Too many attempts from this client or on this username.
    #[error("rate limited")]
    RateLimited(Limited),
    /// Storage, capacity or the unexpected.
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// Password login: the username as typed (trimmed, any case) and the password. Unknown
/// username, wrong password and locked account answer alike, after the same work (a dummy
/// hash is verified when there is no account); the status is revealed only after a correct
/// password. Five consecutive failures lock the account.
pub async fn password_login(
    app: &AppState,
    caller: &Caller,
    typed_username: &str,
    password: Password,
    now: DateTime<Utc>,
) -> Result<LoginResult, LoginError> {
    let typed = typed_username.trim().to_owned();
    check_login_input(&typed, &password)?;
    let slot = admit_login(app, caller, &typed).await?;
    let account = match Username::parse(&typed) {
        Ok(username) => app
            .db(move |c| accounts::find_by_username(c, &username))
            .await
            .map_err(Failure::from)?,
        Err(_) => None,
    };
    let stored_hash = account.as_ref().and_then(|a| a.password_hash.clone());
    let (correct, upgraded) = verify_password(app, slot, password, stored_hash).await?;
    let Some(account) = account else {
        return Err(unknown_username(app, caller, &typed, now).await);
    };
    let outcome = decide_login(LoginAttempt {
        account: account.status,
        internet_access: account.internet_access,
        password_correct: correct,
    });
    let config = app.config.clone();
    let caller = caller.clone();
    let upgraded = upgraded.map(esr_domain::PasswordHash::into_string);
    let applied = app
        .db(move |c| {
            c.write_transaction(|c| {
                apply_login(
                    c,
                    &config,
                    &caller,
                    &account,
                    outcome,
                    upgraded.as_deref(),
                    now,
                )
            })
        })
        .await
        .map_err(Failure::from)?;
    answer_login(app, applied, now)
}

/// The rate limits (per client and per typed username), then a slot in the hashing pool:
/// a flood is refused here, in microseconds, before any work.
async fn admit_login(app: &AppState, caller: &Caller, typed: &str) -> Result<HashSlot, LoginError> {
    let limited = match app.limits.login_per_ip.check(&caller.limit_key()).await {
        Ok(()) => {
            app.limits
                .login_per_username
                .check(&typed.to_uppercase())
                .await
        }
        refused => refused,
    };
    limited.map_err(|limited| {
        app.metrics.security_event("login.rate_limited");
        LoginError::RateLimited(limited)
    })?;
    Ok(app.hashing.try_reserve().map_err(|_| {
        app.metrics.security_event("hashing.rejected");
        Failure::Overloaded
    })?)
}

/// Verifies `password` against the stored hash (and the new hash when the parameters have
/// moved on); with no hash (an unknown username) the same work against a dummy, so timing
/// does not reveal whether the username exists.
async fn verify_password(
    app: &AppState,
    slot: HashSlot,
    password: Password,
    stored_hash: Option<String>,
) -> Result<(bool, Option<esr_domain::PasswordHash>), LoginError> {
    let hasher = app.hasher.clone();
    Ok(app
        .hashing
        .run(slot, move || match &stored_hash {
            Some(phc) => hasher.verify_and_upgrade(&password, phc, &mut rand::rng()),
            None => {
                let _ = hasher.verify(&password, hasher.dummy_hash());
                Ok((false, None))
            }
        })
        .await
        .map_err(Failure::unexpected)?
        .map_err(Failure::unexpected)?)
}

/// Signs what the login opened, or passes its refusal on; counted in the metrics.
fn answer_login(
    app: &AppState,
    applied: Result<Opened, LoginError>,
    now: DateTime<Utc>,
) -> Result<LoginResult, LoginError> {
    match applied {
        Ok(Opened::Session(issued)) => {
            app.metrics.security_event("login.succeeded");
            Ok(LoginResult::Session(sign(app, issued, now)?))
        }
        Ok(Opened::Challenge(challenge)) => {
            app.metrics.security_event("login.second_factor_required");
            Ok(LoginResult::SecondFactorRequired(challenge))
        }
        Err(e) => {
            app.metrics.security_event("login.failed");
            Err(e)
        }
    }
}

/// What is wrong with a login's input, found before the account is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginInput {
    /// The username or the password is empty.
    Missing,
    /// The username or the password is longer than any real one.
    TooLong,
}

fn check_login_input(typed: &str, password: &Password) -> Result<(), LoginError> {
    if typed.is_empty() || password.expose_secret().is_empty() {
        return Err(LoginError::InvalidRequest(LoginInput::Missing));
    }
    if typed.chars().count() > MAX_USERNAME || password.expose_secret().len() > MAX_PASSWORD_BYTES {
        return Err(LoginError::InvalidRequest(LoginInput::TooLong));
    }
    Ok(())
}

/// Audits a login for a username no account has (as a keyed digest) and answers like a
/// wrong password.
async fn unknown_username(
    app: &AppState,
    caller: &Caller,
    typed: &str,
    now: DateTime<Utc>,
) -> LoginError {
    let details = json!({"reason": "unknown_username", "username_digest": app.config.audit_digest_key.digest(typed)});
    let caller = caller.clone();
    let recorded = app
        .db(move |c| {
            c.write_transaction(|c| {
                audit::record(
                    c,
                    &caller,
                    EventType::LoginFailed,
                    None,
                    &Actor::Anonymous,
                    &details,
                    now,
                )
            })
        })
        .await;
    app.metrics.security_event("login.failed");
    match recorded {
        Ok(()) => LoginError::InvalidCredentials,
        Err(e) => Failure::from(e).into(),
    }
}

/// Applies a login decision in one transaction: counters, lock, session, audit.
fn apply_login(
    conn: &mut DbConnection,
    config: &Config,
    caller: &Caller,
    account: &Account,
    outcome: LoginOutcome,
    upgraded_hash: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Result<Opened, LoginError>, RepoError> {
    let refuse = |conn: &mut DbConnection, reason: &str, error: LoginError| {
        if outcome.resets_failures() {
            accounts::reset_failed_logins(conn, &account.id, now)?;
        }
        login_failed(conn, caller, account, reason, now)?;
        Ok(Err(error))
    };
    match outcome {
        LoginOutcome::Success => succeed(conn, config, caller, account, upgraded_hash, now),
        LoginOutcome::WrongPassword => {
            let counted = lockout::count_failure(conn, caller, account, &config.lockout, now)?;
            let reason = match counted {
                lockout::Counted::NotActive => "account_locked",
                _ => "wrong_password",
            };
            refuse(conn, reason, LoginError::InvalidCredentials)
        }
        LoginOutcome::AccountLocked => {
            refuse(conn, "account_locked", LoginError::InvalidCredentials)
        }
        LoginOutcome::AccountDisabled => {
            refuse(conn, "account_disabled", LoginError::InvalidCredentials)
        }
        LoginOutcome::SuspendedWrongPassword => {
            // Counted like any wrong password, so guessing a suspended account's password is
            // bounded as an active one's is.
            accounts::record_failed_login(conn, &account.id, now)?;
            refuse(
                conn,
                "suspended_wrong_password",
                LoginError::InvalidCredentials,
            )
        }
        // After as many wrong passwords as lock an active account, the right one no longer
        // says "suspended": it would mark the right guess among unlimited tries.
        // The count is kept, or a second try of the same password would answer "suspended".
        LoginOutcome::AccountSuspended
            if config.lockout.should_lock(account.failed_login_count) =>
        {
            login_failed(conn, caller, account, "suspended_after_failures", now)?;
            Ok(Err(LoginError::InvalidCredentials))
        }
        LoginOutcome::AccountSuspended => refuse(conn, "account_suspended", LoginError::Suspended),
        LoginOutcome::InternetAccessNotApproved => refuse(
            conn,
            "internet_access_not_approved",
            LoginError::NotApproved,
        ),
    }
}

pub(super) fn login_failed(
    conn: &mut DbConnection,
    caller: &Caller,
    account: &Account,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    audit::record(
        conn,
        caller,
        EventType::LoginFailed,
        Some(&account.id),
        &Actor::Account(account.username.clone()),
        &json!({"reason": reason}),
        now,
    )
}

/// A correct password on an active, approved account: the organisation's limits, then what
/// its multi-factor policy makes of the password: a session, a session limited to enrolment,
/// or a second-factor challenge (unless a lock, suspension or new password committed since
/// the account was read).
fn succeed(
    conn: &mut DbConnection,
    config: &Config,
    caller: &Caller,
    account: &Account,
    upgraded_hash: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Result<Opened, LoginError>, RepoError> {
    let organisation = organisations::find(conn, &account.organisation_code)?;
    if let Some(refused) = organisation_limits(conn, caller, account, organisation.as_ref(), now)? {
        accounts::reset_failed_logins(conn, &account.id, now)?;
        let reason = match refused {
            LoginError::InternetAccessLapsed => "internet_access_lapsed",
            _ => "password_expired",
        };
        login_failed(conn, caller, account, reason, now)?;
        return Ok(Err(refused));
    }
    let factors = second_factors::list_for_account(conn, &account.id)?;
    let policy = factors::policy_in(organisation.as_ref());
    let after_password = challenge::after_password_with(policy, &factors);
    let verified = account.password_hash.as_deref().unwrap_or_default();
    if after_password == AfterPassword::SecondFactor {
        // The failure count stays until the second factor is right: a correct password
        // between wrong codes must not clear them, or codes could be guessed without end.
        if !accounts::still_signs_in_with(conn, &account.id, verified)? {
            login_failed(conn, caller, account, "changed_during_login", now)?;
            return Ok(Err(LoginError::InvalidCredentials));
        }
        upgrade_hash(conn, caller, account, verified, upgraded_hash, now)?;
        let issued = challenge::challenge(conn, config, caller, account, &factors, now)?;
        return Ok(Ok(Opened::Challenge(issued)));
    }
    if !accounts::record_successful_login(conn, &account.id, verified, now)? {
        login_failed(conn, caller, account, "changed_during_login", now)?;
        return Ok(Err(LoginError::InvalidCredentials));
    }
    upgrade_hash(conn, caller, account, verified, upgraded_hash, now)?;
    let proof = Proof {
        enrolment_only: after_password == AfterPassword::EnrolmentOnly,
        ..Proof::single(SessionKind::Password)
    };
    let issued = open_session(conn, config, caller, &account.id, proof, now)?;
    login_succeeded(conn, caller, account, &issued, now)?;
    Ok(Ok(Opened::Session(issued)))
}

/// Stores the password's hash with today's parameters, if verifying it found them stale.
fn upgrade_hash(
    conn: &mut DbConnection,
    caller: &Caller,
    account: &Account,
    verified: &str,
    upgraded_hash: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    if let Some(new_hash) = upgraded_hash
        && accounts::upgrade_password_hash(conn, &account.id, verified, new_hash)?
    {
        audit::record(
            conn,
            caller,
            EventType::PasswordRehashed,
            Some(&account.id),
            &Actor::System,
            &json!({}),
            now,
        )?;
    }
    Ok(())
}

/// Audits a login that opened `issued`, with its methods.
pub(super) fn login_succeeded(
    conn: &mut DbConnection,
    caller: &Caller,
    account: &Account,
    issued: &IssuedSession,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    audit::record(
        conn,
        caller,
        EventType::LoginSucceeded,
        Some(&account.id),
        &Actor::Account(account.username.clone()),
        &json!({
            "amr": sessions::amr(issued.kind, issued.second_factor).join(" "),
            "session_id": issued.session_id,
        }),
        now,
    )
}

/// The organisation's inactivity limit (time since the last login, or since access was
/// approved or renewed, whichever is later) and password expiry, looked at only once the
/// password is known to be correct. A lapse revokes internet access then and there.
fn organisation_limits(
    conn: &mut DbConnection,
    caller: &Caller,
    account: &Account,
    organisation: Option<&Organisation>,
    now: DateTime<Utc>,
) -> Result<Option<LoginError>, RepoError> {
    if inactivity_lapsed(conn, caller, account, organisation, now)? {
        return Ok(Some(LoginError::InternetAccessLapsed));
    }
    let Some(org) = organisation else {
        return Ok(None);
    };
    let days = |d: u32| Duration::days(i64::from(d));
    if let (Some(expiry), Some(changed)) = (org.password_expiry_days, account.password_changed_at)
        && now - changed >= days(expiry)
    {
        return Ok(Some(LoginError::PasswordExpired));
    }
    Ok(None)
}

/// Whether the account's internet access has lapsed by its organisation's inactivity limit
/// (time since the last login, or since access was approved or renewed, whichever is later).
/// A lapse revokes internet access then and there. `organisation` is the account's, as the
/// caller read it.
pub(super) fn inactivity_lapsed(
    conn: &mut DbConnection,
    caller: &Caller,
    account: &Account,
    organisation: Option<&Organisation>,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let Some(org) = organisation else {
        return Ok(false);
    };
    let inactivity = InactivityPolicy {
        limit: org
            .inactivity_limit_days
            .map(|d| Duration::days(i64::from(d))),
    };
    let last_activity = account
        .last_login_at
        .into_iter()
        .chain(account.internet_access_changed_at)
        .max()
        .unwrap_or(account.created_at);
    if !inactivity.has_lapsed(last_activity, now) {
        return Ok(false);
    }
    if accounts::transition_internet_access(
        conn,
        &account.id,
        InternetAccessStatus::Approved,
        InternetAccessStatus::Revoked,
        now,
    )? {
        consequences::access_withdrawn(
            conn,
            caller,
            &Actor::System,
            account,
            Withdrawal::AccessLapsed,
            json!({"last_login_at": account.last_login_at}),
            now,
        )?;
    }
    Ok(true)
}

/// Opens a session and its first refresh token. A password or passkey session lasts at most
/// `ESR_SESSION_MAX_HOURS`, a workplace (smartcard) session `ESR_WORKPLACE_SESSION_HOURS`.
pub fn open_session(
    conn: &mut DbConnection,
    config: &Config,
    caller: &Caller,
    account_id: &AccountId,
    proof: Proof,
    now: DateTime<Utc>,
) -> Result<IssuedSession, RepoError> {
    let session_id = SessionId::from_stored(esr_domain::random_token(&mut rand::rng(), 16));
    let kind = proof.kind;
    let lifetime = match kind {
        // Long enough to add a factor, not to live on a password alone.
        SessionKind::Password if proof.enrolment_only => ENROLMENT_SESSION,
        SessionKind::Password | SessionKind::Passkey => config.session_max,
        SessionKind::Smartcard => config.workplace_session,
    };
    let session_expires_at = now + Duration::from_std(lifetime).unwrap_or(Duration::hours(8));
    let ip = caller.ip_text();
    sessions::create(
        conn,
        &NewSession {
            id: &session_id,
            account_id,
            kind,
            expires_at: session_expires_at,
            ip: Some(&ip),
            user_agent: caller.user_agent.as_deref(),
            second_factor: proof.second_factor,
            enrolment_only: proof.enrolment_only,
        },
        now,
    )?;
    // A session's first refresh token is random; each later one follows from the last.
    let refresh_token = esr_domain::random_token(&mut rand::rng(), 32);
    let refresh_expires_at = store_refresh_token(
        conn,
        config,
        &refresh_token,
        &session_id,
        None,
        session_expires_at,
        now,
    )?;
    Ok(IssuedSession {
        session_id,
        account_id: account_id.clone(),
        kind,
        second_factor: proof.second_factor,
        refresh_token,
        refresh_expires_at,
        session_expires_at,
    })
}

fn store_refresh_token(
    conn: &mut DbConnection,
    config: &Config,
    token: &str,
    session_id: &SessionId,
    parent: Option<&TokenDigest>,
    session_expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, RepoError> {
    let ttl = Duration::from_std(config.refresh_token_ttl).unwrap_or(Duration::days(14));
    let expires_at = (now + ttl).min(session_expires_at);
    sessions::add_refresh_token(
        conn,
        &TokenDigest::of(token),
        session_id,
        parent,
        expires_at,
        now,
    )?;
    Ok(expires_at)
}

/// Signs the access token of an issued session.
pub fn sign(app: &AppState, issued: IssuedSession, now: DateTime<Utc>) -> Result<Tokens, Failure> {
    let access = app
        .tokens
        .issue(
            issued.account_id.as_str(),
            issued.session_id.as_str(),
            &sessions::amr(issued.kind, issued.second_factor),
            now,
        )
        .map_err(Failure::unexpected)?;
    Ok(Tokens {
        expires_in: u64::try_from((access.expires_at - now).num_seconds()).unwrap_or(0),
        access_token: access.token,
        access_token_expires_at: access.expires_at,
        refresh_token: issued.refresh_token,
        refresh_token_expires_at: issued.refresh_expires_at,
        session_expires_at: issued.session_expires_at,
    })
}

/// Why a refresh token was not exchanged.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// Unknown, expired, already used (the session is then revoked), or its session ended;
    /// why the session ended, when known (see [`crate::problem::Problem::session_ended`]).
    #[error("invalid refresh token")]
    InvalidRefreshToken(Option<&'static str>),
    /// Storage or the unexpected.
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// Exchanges a refresh token for a new pair. Each works once: presenting a spent one ends
/// the whole session (someone else has a copy), except within `ESR_REFRESH_GRACE_SECS` of
/// its use while its successor is unused, when it answers with that same successor.
pub async fn refresh(
    app: &AppState,
    caller: &Caller,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Tokens, RefreshError> {
    if token.is_empty() || token.len() > MAX_REFRESH_TOKEN {
        return Err(RefreshError::InvalidRefreshToken(None));
    }
    let token = token.to_owned();
    let config = app.config.clone();
    let caller = caller.clone();
    let rotation = app
        .db(move |c| c.write_transaction(|c| rotate(c, &config, &caller, &token, now)))
        .await
        .map_err(Failure::from)?;
    match rotation {
        Rotation::Issued(issued) => Ok(sign(app, issued, now)?),
        Rotation::Reused => {
            app.metrics.security_event("refresh_token.reused");
            Err(RefreshError::InvalidRefreshToken(Some(
                RevokeReason::RefreshTokenReuse.as_str(),
            )))
        }
        Rotation::Refused(why) => Err(RefreshError::InvalidRefreshToken(why)),
    }
}

enum Rotation {
    Issued(IssuedSession),
    Reused,
    /// Refused, with why the session ended when it did.
    Refused(Option<&'static str>),
}

fn rotate(
    conn: &mut DbConnection,
    config: &Config,
    caller: &Caller,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Rotation, RepoError> {
    let digest = TokenDigest::of(token);
    match sessions::spend_refresh_token(conn, &digest, now)? {
        RefreshSpend::Spent { session } => {
            if let Some(why) = session.end_reason(now) {
                return Ok(Rotation::Refused(Some(why)));
            }
            if !account_may_continue(conn, &session)? {
                sessions::revoke(conn, &session.id, RevokeReason::AccountNotActive, now)?;
                return Ok(Rotation::Refused(Some(
                    RevokeReason::AccountNotActive.as_str(),
                )));
            }
            let refresh_token = successor_of(config, token);
            let refresh_expires_at = store_refresh_token(
                conn,
                config,
                &refresh_token,
                &session.id,
                Some(&digest),
                session.expires_at,
                now,
            )?;
            sessions::touch(conn, &session.id, now)?;
            Ok(Rotation::Issued(issued(
                session,
                refresh_token,
                refresh_expires_at,
            )))
        }
        RefreshSpend::Reused {
            session_id,
            used_at,
        } => {
            let within_grace = now - used_at
                <= Duration::from_std(config.refresh_grace).unwrap_or(Duration::zero());
            if within_grace && let Some(again) = resend_successor(conn, config, token, now)? {
                return Ok(Rotation::Issued(again));
            }
            // A token of a session that has ended already (its tokens are spent with it) says
            // why it ended; only a live session's spent token is a copy in other hands.
            let ended = sessions::find(conn, &session_id)?.and_then(|s| s.end_reason(now));
            match ended {
                Some(why) => Ok(Rotation::Refused(Some(why))),
                None => reused(conn, caller, &session_id, now),
            }
        }
        // Unused for longer than its lifetime: the session idled out.
        RefreshSpend::Expired => Ok(Rotation::Refused(Some("idle_timeout"))),
        RefreshSpend::Unknown => Ok(Rotation::Refused(None)),
    }
}

/// The refresh token that follows `token`: HMAC-SHA-256 of it under a key derived from the
/// audit key (outside the database). Only this service can compute it, and only from the token
/// itself, so a spent token presented again within the grace can be answered with the very
/// successor it was answered with the first time, without storing that successor in the clear.
fn successor_of(config: &Config, token: &str) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    use hmac::{KeyInit, Mac};
    let key = config
        .audit_digest_key
        .subkey("esr-access refresh successor v1");
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length");
    mac.update(token.as_bytes());
    Base64UrlUnpadded::encode_string(&mac.finalize().into_bytes())
}

/// Within the grace after a refresh: the same successor again, if it is still unused and its
/// session may continue (a lost response, two threads refreshing at once). `None` when the
/// successor was used already: then the spent token is in someone else's hands.
fn resend_successor(
    conn: &mut DbConnection,
    config: &Config,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<IssuedSession>, RepoError> {
    let successor = successor_of(config, token);
    let Some((session_id, expires_at)) =
        sessions::unused_refresh_token(conn, &TokenDigest::of(&successor), now)?
    else {
        return Ok(None);
    };
    let Some(session) = sessions::find(conn, &session_id)? else {
        return Ok(None);
    };
    if !session.is_active(now) || !account_may_continue(conn, &session)? {
        return Ok(None);
    }
    Ok(Some(issued(session, successor, expires_at)))
}

fn issued(
    session: Session,
    refresh_token: String,
    refresh_expires_at: DateTime<Utc>,
) -> IssuedSession {
    IssuedSession {
        second_factor: session.second_factor,
        session_id: session.id,
        account_id: session.account_id,
        kind: session.kind,
        refresh_token,
        refresh_expires_at,
        session_expires_at: session.expires_at,
    }
}

/// A spent refresh token presented again: the session ends, and it is audited.
fn reused(
    conn: &mut DbConnection,
    caller: &Caller,
    session_id: &SessionId,
    now: DateTime<Utc>,
) -> Result<Rotation, RepoError> {
    let account_id = sessions::find(conn, session_id)?.map(|s| s.account_id);
    sessions::revoke(conn, session_id, RevokeReason::RefreshTokenReuse, now)?;
    audit::record(
        conn,
        caller,
        EventType::RefreshTokenReused,
        account_id.as_ref(),
        &Actor::Anonymous,
        &json!({"session_id": session_id}),
        now,
    )?;
    Ok(Rotation::Reused)
}

/// A password session may continue only while its account is active and internet access is
/// approved. A workplace (smartcard) session also continues on a locked account: setting a
/// new password at work is how a locked account is unlocked.
fn account_may_continue(conn: &mut DbConnection, session: &Session) -> Result<bool, RepoError> {
    use esr_domain::AccountStatus;
    let Some(account) = accounts::find(conn, &session.account_id)? else {
        return Ok(false);
    };
    Ok(match session.kind {
        SessionKind::Password => {
            account.status == AccountStatus::Active
                && account.internet_access.allows_login()
                && still_enough(conn, session, &account)?
        }
        SessionKind::Passkey => {
            account.status == AccountStatus::Active && account.internet_access.allows_login()
        }
        SessionKind::Smartcard => {
            matches!(
                account.status,
                AccountStatus::Active | AccountStatus::Locked
            )
        }
    })
}

/// Whether what opened a password session still opens the account: a session with no second
/// factor only while a password alone would still open one like it (the account has gained
/// no factor, the policy has not changed to ask for one).
fn still_enough(
    conn: &mut DbConnection,
    session: &Session,
    account: &Account,
) -> Result<bool, RepoError> {
    if session.second_factor.is_some() {
        return Ok(true);
    }
    Ok(match challenge::after_password(conn, account)? {
        AfterPassword::Session => !session.enrolment_only,
        AfterPassword::EnrolmentOnly => session.enrolment_only,
        AfterPassword::SecondFactor => false,
    })
}

/// Ends a session: its access tokens stop working at once and its refresh token is spent.
pub async fn logout(
    app: &AppState,
    caller: &Caller,
    session: &Session,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    let caller = caller.clone();
    let session = session.clone();
    app.db(move |c| c.write_transaction(|c| end_by_logout(c, &caller, &session, now)))
        .await?;
    Ok(())
}

/// Ends the session a refresh token belongs to (RFC 7009 style: for an app whose access token
/// has expired). A token that is unknown, or whose session has ended, ends nothing and is not
/// an error: the outcome the caller wants holds either way.
pub async fn logout_by_refresh_token(
    app: &AppState,
    caller: &Caller,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    if token.is_empty() || token.len() > MAX_REFRESH_TOKEN {
        return Ok(());
    }
    let digest = TokenDigest::of(token);
    let caller = caller.clone();
    app.db(move |c| {
        c.write_transaction(|c| {
            let Some(session_id) = sessions::session_of_refresh_token(c, &digest)? else {
                return Ok(());
            };
            match sessions::find(c, &session_id)? {
                Some(session) => end_by_logout(c, &caller, &session, now),
                None => Ok(()),
            }
        })
    })
    .await?;
    Ok(())
}

/// Revokes the session for a logout, audited when it was still active (a repeated logout
/// changes nothing and records nothing).
fn end_by_logout(
    conn: &mut DbConnection,
    caller: &Caller,
    session: &Session,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    if !sessions::revoke(conn, &session.id, RevokeReason::Logout, now)? {
        return Ok(());
    }
    audit::record(
        conn,
        caller,
        EventType::Logout,
        Some(&session.account_id),
        &Actor::Session(session.id.clone()),
        &json!({}),
        now,
    )
}

/// The account's active sessions, most recently used first.
pub async fn list_own(
    app: &AppState,
    session: &Session,
    now: DateTime<Utc>,
) -> Result<Vec<Session>, EndSessionError> {
    let session = session.clone();
    let hold = super::contact_change_hold(&app.config);
    app.db(move |c| {
        if let Some(until) = super::workplace_session_held(c, &session, hold, now)? {
            return Ok(Err(EndSessionError::ContactChangeHold(until)));
        }
        Ok(Ok(sessions::list_active_for_account(
            c,
            &session.account_id,
            now,
        )?))
    })
    .await
    .map_err(Failure::from)?
}

/// Why the account's sessions were not listed or one of them not ended.
#[derive(Debug, thiserror::Error)]
pub enum EndSessionError {
    /// No active session of this account has that id.
    #[error("session not found")]
    NotFound,
    /// A workplace session during the contact-change hold (see
    /// [`super::workplace_session_held`]).
    #[error("contact details changed recently")]
    ContactChangeHold(DateTime<Utc>),
    /// Storage or the unexpected.
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// Ends one of the account's sessions (a lost phone, a shared computer) from another: its
/// access tokens stop working at once and its refresh token is spent.
pub async fn end_own(
    app: &AppState,
    caller: &Caller,
    session: &Session,
    target: &str,
    now: DateTime<Utc>,
) -> Result<(), EndSessionError> {
    let account_id = session.account_id.clone();
    let actor = Actor::Session(session.id.clone());
    let target = SessionId::from_stored(target.to_owned());
    let caller = caller.clone();
    let session = session.clone();
    let hold = super::contact_change_hold(&app.config);
    let ended = app
        .db(move |c| {
            c.write_transaction(|c| {
                if let Some(until) = super::workplace_session_held(c, &session, hold, now)? {
                    return Ok(Err(EndSessionError::ContactChangeHold(until)));
                }
                let owned = sessions::find(c, &target)?
                    .filter(|s| s.account_id == account_id && s.is_active(now));
                if owned.is_none() {
                    return Ok(Ok(false));
                }
                sessions::revoke(c, &target, RevokeReason::EndedByOwner, now)?;
                audit::record(
                    c,
                    &caller,
                    EventType::SessionEndedByOwner,
                    Some(&account_id),
                    &actor,
                    &json!({"session_id": target}),
                    now,
                )?;
                Ok(Ok(true))
            })
        })
        .await
        .map_err(Failure::from)??;
    if ended {
        Ok(())
    } else {
        Err(EndSessionError::NotFound)
    }
}
