//! Password login for the My ESR app, refresh-token rotation and logout.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Utc};
use esr_domain::{
    Coded, InactivityPolicy, InternetAccessStatus, LoginAttempt, LoginOutcome, Password,
    TokenDigest, Username, decide_login,
};
use esr_persistence::accounts::{self, Account};
use esr_persistence::organisations;
use esr_persistence::sessions::{self, NewSession, RefreshSpend, Session, SessionKind};
use esr_persistence::{DbConnection, RepoError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::audit::{self, account_actor};
use crate::auth::Authenticated;
use crate::client::Client;
use crate::problem::{AsProblem, Problem, ProblemSpec, internal_error};
use crate::rate_limit::Limited;
use crate::state::{AppState, StorageError};

/// Registers the session routes (under `/v1`).
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(login).service(refresh).service(logout);
}

/// Username and password, as typed on the login page or in the My ESR app.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "999JSMITH01", "password": "Bluebell harbour lantern"}))]
pub struct LoginRequest {
    /// ESR username (case-insensitive), e.g. `999JSMITH01`.
    #[schema(min_length = 1, max_length = 64)]
    pub username: String,
    /// Password.
    #[schema(value_type = String, format = Password, min_length = 1, max_length = 1024)]
    pub password: Password,
}

/// Tokens for a session.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "token_type": "Bearer",
    "access_token": "eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCIsImtpZCI6Ii4uLiJ9.eyJ...",
    "expires_in": 900,
    "access_token_expires_at": "2026-11-25T09:15:00Z",
    "refresh_token": "Q2Vnc0dGV3h4bXNkZ1d0cE1jY2JpQ0lJb2h0b1Bkc0k",
    "refresh_token_expires_at": "2026-12-09T09:00:00Z",
    "session_expires_at": "2026-12-25T09:00:00Z"
}))]
pub struct TokenResponse {
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Access token (EdDSA JWT) for `Authorization: Bearer …`.
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// When the access token expires.
    pub access_token_expires_at: DateTime<Utc>,
    /// Single-use refresh token: exchange it at `POST /v1/auth/refresh` for new tokens. Using
    /// one twice ends the session.
    pub refresh_token: String,
    /// When the refresh token expires if unused.
    pub refresh_token_expires_at: DateTime<Utc>,
    /// When the session ends however often it is refreshed.
    pub session_expires_at: DateTime<Utc>,
}

/// A session created or rotated in the database, before its access token is signed.
pub struct IssuedSession {
    session_id: String,
    account_id: String,
    kind: SessionKind,
    refresh_token: String,
    refresh_expires_at: DateTime<Utc>,
    session_expires_at: DateTime<Utc>,
}

impl IssuedSession {
    /// The new session's id (for the audit trail).
    pub fn session_id(&self) -> &str {
        &self.session_id
    }
}

/// Errors of login, refresh and logout.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
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
    #[error("invalid login request: {0}")]
    InvalidRequest(&'static str),
    /// Too many attempts from this client or on this username.
    #[error("rate limited")]
    RateLimited(Limited),
    /// Hashing is at capacity.
    #[error("overloaded")]
    Overloaded,
    /// The refresh token is unknown, expired, spent or its session ended.
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Something that should not fail did.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<RepoError> for SessionError {
    fn from(e: RepoError) -> Self {
        Self::Storage(StorageError::Repo(e))
    }
}

impl AsProblem for SessionError {
    fn problem(&self) -> ProblemSpec {
        let login_error = |e: esr_domain::LoginError, status| {
            ProblemSpec::new(status, e.code(), "Login failed", e.message())
        };
        match self {
            Self::InvalidCredentials => login_error(
                esr_domain::LoginError::InvalidCredentials,
                StatusCode::UNAUTHORIZED,
            ),
            Self::NotApproved => login_error(
                esr_domain::LoginError::InternetAccessNotApproved,
                StatusCode::FORBIDDEN,
            ),
            Self::Suspended => login_error(
                esr_domain::LoginError::AccountSuspended,
                StatusCode::FORBIDDEN,
            ),
            Self::InternetAccessLapsed => ProblemSpec::new(
                StatusCode::FORBIDDEN,
                "internet-access-lapsed",
                "Login failed",
                "Your internet access has lapsed because you have not logged in from home for a \
                 long time. Log into ESR using your smartcard on a computer at work and use \
                 Manage Internet Access to request internet access again.",
            ),
            Self::PasswordExpired => ProblemSpec::new(
                StatusCode::FORBIDDEN,
                "password-expired",
                "Login failed",
                "Your password has expired. Use Forgotten | Request Username/Password to get a \
                 password reset link by email, or use Reset Password in Manage Internet Access at \
                 work with your smartcard.",
            ),
            Self::InvalidRequest(detail) => ProblemSpec::new(
                StatusCode::BAD_REQUEST,
                "invalid-request-body",
                "Invalid request body",
                *detail,
            ),
            Self::RateLimited(limited) => limited.problem(),
            Self::Overloaded => crate::password_change::busy_problem(),
            Self::InvalidRefreshToken => ProblemSpec::new(
                StatusCode::UNAUTHORIZED,
                "invalid-refresh-token",
                "Unauthorized",
                "The refresh token is invalid, expired or already used, or its session has ended. Log in again.",
            ),
            Self::Storage(e) => e.problem(),
            Self::Internal(_) => internal_error(self),
        }
    }
}
crate::problem_response!(SessionError);

/// Longest username or password looked at; anything longer cannot be valid.
const MAX_USERNAME: usize = 64;
const MAX_PASSWORD_BYTES: usize = 1024;

/// Log in with username and password (My ESR app, home). Returns an access token and a
/// rotating refresh token. Unknown username, wrong password and locked account get the same
/// `401 invalid-credentials`; `internet-access-not-approved` and `account-suspended` are
/// revealed only after a correct password. Five consecutive failures lock the account.
#[utoipa::path(
    tag = "session",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in.", body = TokenResponse),
        (status = 400, description = "Malformed request.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`invalid-credentials`: unknown username, wrong password or locked account.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "After a correct password only: `internet-access-not-approved`, `account-suspended`, `internet-access-lapsed` (no login for longer than the organisation's inactivity limit: renew at work with a smartcard in Manage Internet Access) or `password-expired` (older than the organisation's password expiry: reset it by email or at work).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts (see `Retry-After`).", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Busy (see `Retry-After`).", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, SessionError> {
    let LoginRequest { username, password } = body.into_inner();
    let typed = username.trim().to_owned();
    if typed.is_empty() || password.expose_secret().is_empty() {
        return Err(SessionError::InvalidRequest(
            "Enter your username and password.",
        ));
    }
    if typed.chars().count() > MAX_USERNAME || password.expose_secret().len() > MAX_PASSWORD_BYTES {
        return Err(SessionError::InvalidRequest(
            "The username or password is too long.",
        ));
    }
    let limit_key = typed.to_uppercase();
    state
        .limits
        .login_per_ip
        .check(&client.ip_text())
        .and_then(|()| state.limits.login_per_username.check(&limit_key))
        .map_err(|limited| {
            state.metrics.security_event("login.rate_limited");
            SessionError::RateLimited(limited)
        })?;
    // Admission before any work: a flood is refused here, in microseconds.
    let slot = state.hashing.try_reserve().map_err(|_| {
        state.metrics.security_event("hashing.rejected");
        SessionError::Overloaded
    })?;

    let account = match Username::parse(&typed) {
        Ok(username) => {
            state
                .db(move |c| accounts::find_by_username(c, &username))
                .await?
        }
        Err(_) => None,
    };
    let stored_hash = account.as_ref().and_then(|a| a.password_hash.clone());
    let hasher = state.hasher.clone();
    let (correct, upgraded) = state
        .hashing
        .run(slot, move || match &stored_hash {
            Some(phc) => hasher.verify_and_upgrade(&password, phc, &mut rand::rng()),
            None => {
                // Same work as a real verification, so timing does not reveal the username.
                let _ = hasher.verify(&password, hasher.dummy_hash());
                Ok((false, None))
            }
        })
        .await
        .map_err(|e| SessionError::Internal(e.to_string()))?
        .map_err(|e| SessionError::Internal(e.to_string()))?;

    let Some(account) = account else {
        let details = json!({"reason": "unknown_username", "username_digest": state.config.audit_digest_key.digest(&typed)});
        let client2 = client.clone();
        state
            .db(move |c| {
                c.write_transaction(|c| {
                    audit::record(
                        c,
                        &client2,
                        "login.failed",
                        None,
                        "anonymous",
                        &details,
                        Utc::now(),
                    )
                })
            })
            .await?;
        state.metrics.security_event("login.failed");
        return Err(SessionError::InvalidCredentials);
    };

    let outcome = decide_login(
        LoginAttempt {
            account: account.status,
            internet_access: account.internet_access,
            password_correct: correct,
            failed_attempts: account.failed_login_count,
        },
        &state.config.lockout,
    );
    let config = state.config.clone();
    let upgraded = upgraded.map(esr_domain::PasswordHash::into_string);
    let applied = state
        .db(move |c| {
            c.write_transaction(|c| {
                apply_login(c, &config, &client, &account, outcome, upgraded.as_deref())
            })
        })
        .await
        .map_err(|e| match e {
            StorageError::Repo(RepoError::Corrupt(msg)) => SessionError::Internal(msg),
            other => SessionError::Storage(other),
        })?;
    match applied {
        Ok(issued) => {
            state.metrics.security_event("login.succeeded");
            respond_with_tokens(&state, issued)
        }
        Err(e) => {
            state.metrics.security_event("login.failed");
            // A lock queues an email: send it now rather than at the next poll.
            state.delivery_wake.notify_one();
            Err(e)
        }
    }
}

/// An organisation limit that refuses a login with a correct password.
enum Limit {
    InactivityLapsed,
    PasswordExpired,
}

/// Checks the account's organisation's inactivity limit (time since the last login, or
/// since access was approved or renewed, whichever is later) and password expiry.
fn organisation_limits(
    conn: &mut DbConnection,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<Option<Limit>, RepoError> {
    let Some(org) = organisations::find(conn, &account.organisation_code)? else {
        return Ok(None);
    };
    let days = |d: u32| chrono::TimeDelta::days(i64::from(d));
    let inactivity = InactivityPolicy {
        limit: org.inactivity_limit_days.map(days),
    };
    let last_activity = account
        .last_login_at
        .into_iter()
        .chain(account.internet_access_changed_at)
        .max()
        .unwrap_or(account.created_at);
    if inactivity.has_lapsed(last_activity, now) {
        return Ok(Some(Limit::InactivityLapsed));
    }
    if let (Some(expiry), Some(changed)) = (org.password_expiry_days, account.password_changed_at)
        && now - changed >= days(expiry)
    {
        return Ok(Some(Limit::PasswordExpired));
    }
    Ok(None)
}

/// Applies a login decision in one transaction: counters, lock, session, audit.
fn apply_login(
    conn: &mut DbConnection,
    config: &crate::config::Config,
    client: &Client,
    account: &Account,
    outcome: LoginOutcome,
    upgraded_hash: Option<&str>,
) -> Result<Result<IssuedSession, SessionError>, RepoError> {
    let now = Utc::now();
    let actor = account_actor(account.username.as_str());
    let id = Some(account.id.as_str());
    let fail = |conn: &mut DbConnection, reason: &str| {
        audit::record(
            conn,
            client,
            "login.failed",
            id,
            &actor,
            &json!({"reason": reason}),
            now,
        )
    };
    match outcome {
        LoginOutcome::Success => {
            // Organisation limits, looked at only now that the password is known correct.
            match organisation_limits(conn, account, now)? {
                Some(Limit::InactivityLapsed) => {
                    accounts::reset_failed_logins(conn, &account.id, now)?;
                    if accounts::transition_internet_access(
                        conn,
                        &account.id,
                        InternetAccessStatus::Approved,
                        InternetAccessStatus::Revoked,
                        now,
                    )? {
                        sessions::revoke_all_for_account(
                            conn,
                            &account.id,
                            None,
                            "internet_access_lapsed",
                            now,
                        )?;
                        audit::record(
                            conn,
                            client,
                            "internet_access.lapsed",
                            id,
                            "system",
                            &json!({"last_login_at": account.last_login_at}),
                            now,
                        )?;
                    }
                    fail(conn, "internet_access_lapsed")?;
                    return Ok(Err(SessionError::InternetAccessLapsed));
                }
                Some(Limit::PasswordExpired) => {
                    accounts::reset_failed_logins(conn, &account.id, now)?;
                    fail(conn, "password_expired")?;
                    return Ok(Err(SessionError::PasswordExpired));
                }
                None => {}
            }
            let verified = account.password_hash.as_deref().unwrap_or_default();
            if !accounts::record_successful_login(conn, &account.id, verified, now)? {
                // Locked, suspended or re-passworded since we read it: that state wins.
                fail(conn, "changed_during_login")?;
                return Ok(Err(SessionError::InvalidCredentials));
            }
            if let Some(new_hash) = upgraded_hash
                && accounts::upgrade_password_hash(conn, &account.id, verified, new_hash)?
            {
                audit::record(
                    conn,
                    client,
                    "password.rehashed",
                    id,
                    "system",
                    &json!({}),
                    now,
                )?;
            }
            let issued = create_session(
                conn,
                config,
                client,
                &account.id,
                SessionKind::Password,
                now,
            )?;
            audit::record(
                conn,
                client,
                "login.succeeded",
                id,
                &actor,
                &json!({"amr": "pwd", "session_id": issued.session_id}),
                now,
            )?;
            Ok(Ok(issued))
        }
        LoginOutcome::WrongPassword { .. } => {
            match accounts::record_failed_login(conn, &account.id, config.lockout.threshold, now)? {
                Some(failed) => {
                    fail(conn, "wrong_password")?;
                    if failed.locked_now {
                        sessions::revoke_all_for_account(
                            conn,
                            &account.id,
                            None,
                            "account_locked",
                            now,
                        )?;
                        audit::record(
                            conn,
                            client,
                            "account.locked",
                            id,
                            "system",
                            &json!({"failed_logins": failed.count}),
                            now,
                        )?;
                        crate::email::queue_account_notice(
                            conn,
                            &account.id,
                            crate::email::kind::ACCOUNT_LOCKED,
                            now,
                        )?;
                    }
                }
                // Locked (or otherwise changed) by a concurrent attempt: not counted again.
                None => fail(conn, "account_locked")?,
            }
            Ok(Err(SessionError::InvalidCredentials))
        }
        LoginOutcome::AccountLocked => {
            fail(conn, "account_locked")?;
            Ok(Err(SessionError::InvalidCredentials))
        }
        LoginOutcome::AccountDisabled => {
            fail(conn, "account_disabled")?;
            Ok(Err(SessionError::InvalidCredentials))
        }
        LoginOutcome::SuspendedWrongPassword => {
            fail(conn, "suspended_wrong_password")?;
            Ok(Err(SessionError::InvalidCredentials))
        }
        LoginOutcome::AccountSuspended => {
            accounts::reset_failed_logins(conn, &account.id, now)?;
            fail(conn, "account_suspended")?;
            Ok(Err(SessionError::Suspended))
        }
        LoginOutcome::InternetAccessNotApproved => {
            accounts::reset_failed_logins(conn, &account.id, now)?;
            fail(conn, "internet_access_not_approved")?;
            Ok(Err(SessionError::NotApproved))
        }
    }
}

/// Creates a session and its first refresh token. A password session lasts at most
/// `ESR_SESSION_MAX_HOURS`, a workplace (smartcard) session `ESR_WORKPLACE_SESSION_HOURS`.
pub fn create_session(
    conn: &mut DbConnection,
    config: &crate::config::Config,
    client: &Client,
    account_id: &str,
    kind: SessionKind,
    now: DateTime<Utc>,
) -> Result<IssuedSession, RepoError> {
    let mut rng = rand::rng();
    let session_id = esr_domain::random_token(&mut rng, 16);
    let lifetime = match kind {
        SessionKind::Password => config.session_max,
        SessionKind::Smartcard => config.workplace_session,
    };
    let session_expires_at =
        now + chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::hours(8));
    let ip = client.ip_text();
    sessions::create(
        conn,
        &NewSession {
            id: &session_id,
            account_id,
            kind,
            expires_at: session_expires_at,
            ip: Some(&ip),
            user_agent: client.user_agent.as_deref(),
        },
        now,
    )?;
    let (refresh_token, refresh_expires_at) =
        add_refresh_token(conn, config, &session_id, None, session_expires_at, now)?;
    Ok(IssuedSession {
        session_id,
        account_id: account_id.to_owned(),
        kind,
        refresh_token,
        refresh_expires_at,
        session_expires_at,
    })
}

fn add_refresh_token(
    conn: &mut DbConnection,
    config: &crate::config::Config,
    session_id: &str,
    parent: Option<&str>,
    session_expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(String, DateTime<Utc>), RepoError> {
    let token = esr_domain::random_token(&mut rand::rng(), 32);
    let ttl =
        chrono::Duration::from_std(config.refresh_token_ttl).unwrap_or(chrono::Duration::days(14));
    let expires_at = (now + ttl).min(session_expires_at);
    sessions::add_refresh_token(
        conn,
        TokenDigest::of(&token).as_str(),
        session_id,
        parent,
        expires_at,
        now,
    )?;
    Ok((token, expires_at))
}

/// Signs the access token of an issued session and answers with both tokens.
pub fn respond_with_tokens(
    state: &AppState,
    issued: IssuedSession,
) -> Result<HttpResponse, SessionError> {
    let now = Utc::now();
    let access = state
        .tokens
        .issue(
            &issued.account_id,
            &issued.session_id,
            &[issued.kind.as_str()],
            now,
        )
        .map_err(|e| SessionError::Internal(e.to_string()))?;
    let expires_in = u64::try_from((access.expires_at - now).num_seconds()).unwrap_or(0);
    Ok(HttpResponse::Ok().json(TokenResponse {
        token_type: "Bearer",
        access_token: access.token,
        expires_in,
        access_token_expires_at: access.expires_at,
        refresh_token: issued.refresh_token,
        refresh_token_expires_at: issued.refresh_expires_at,
        session_expires_at: issued.session_expires_at,
    }))
}

/// A refresh token to exchange.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from the last login or refresh.
    #[schema(format = Password, min_length = 1, max_length = 128)]
    pub refresh_token: String,
}

/// Exchange a refresh token for a new access token and a new refresh token. Each refresh
/// token works once: presenting a spent one ends the whole session (someone else has a copy).
#[utoipa::path(
    tag = "session",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens; the presented refresh token is spent.", body = TokenResponse),
        (status = 400, description = "Malformed request.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`invalid-refresh-token`: unknown, expired, already used (the session is then revoked), or the session has ended.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, SessionError> {
    let token = body.into_inner().refresh_token;
    if token.is_empty() || token.len() > 128 {
        return Err(SessionError::InvalidRefreshToken);
    }
    let digest = TokenDigest::of(&token);
    let config = state.config.clone();
    let outcome = state
        .db(move |c| c.write_transaction(|c| rotate(c, &config, &client, digest.as_str())))
        .await?;
    match outcome {
        Rotation::Issued(issued) => respond_with_tokens(&state, issued),
        Rotation::Reused => {
            state.metrics.security_event("refresh_token.reused");
            Err(SessionError::InvalidRefreshToken)
        }
        Rotation::Refused => Err(SessionError::InvalidRefreshToken),
    }
}

enum Rotation {
    Issued(IssuedSession),
    Reused,
    Refused,
}

fn rotate(
    conn: &mut DbConnection,
    config: &crate::config::Config,
    client: &Client,
    digest: &str,
) -> Result<Rotation, RepoError> {
    let now = Utc::now();
    match sessions::spend_refresh_token(conn, digest, now)? {
        RefreshSpend::Spent { session } => {
            if !session.is_active(now) || !account_may_continue(conn, &session)? {
                if session.revoked_at.is_none() {
                    sessions::revoke(conn, &session.id, "account_not_active", now)?;
                }
                return Ok(Rotation::Refused);
            }
            let (refresh_token, refresh_expires_at) = add_refresh_token(
                conn,
                config,
                &session.id,
                Some(digest),
                session.expires_at,
                now,
            )?;
            sessions::touch(conn, &session.id, now)?;
            Ok(Rotation::Issued(IssuedSession {
                session_id: session.id,
                account_id: session.account_id,
                kind: session.kind,
                refresh_token,
                refresh_expires_at,
                session_expires_at: session.expires_at,
            }))
        }
        RefreshSpend::Reused { session_id } => {
            let session = sessions::find(conn, &session_id)?;
            let was_active = sessions::revoke(conn, &session_id, "refresh_token_reuse", now)?;
            audit::record(
                conn,
                client,
                "refresh_token.reused",
                session.as_ref().map(|s| s.account_id.as_str()),
                "anonymous",
                &json!({"session_id": session_id, "session_was_active": was_active}),
                now,
            )?;
            Ok(Rotation::Reused)
        }
        RefreshSpend::Expired | RefreshSpend::Unknown => Ok(Rotation::Refused),
    }
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

/// End the current session: its access tokens stop working at once and its refresh token
/// is spent.
#[utoipa::path(
    tag = "session",
    security(("bearerAuth" = [])),
    responses(
        (status = 204, description = "Logged out."),
        (status = 401, description = "No valid access token.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    client: Client,
    auth: Authenticated,
) -> Result<HttpResponse, SessionError> {
    let session = auth.session;
    state
        .db(move |c| {
            c.write_transaction(|c| {
                let now = Utc::now();
                sessions::revoke(c, &session.id, "logout", now)?;
                audit::record(
                    c,
                    &client,
                    "logout",
                    Some(&session.account_id),
                    &format!("session:{}", session.id),
                    &json!({}),
                    now,
                )
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
