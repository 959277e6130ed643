//! Password login for the My ESR app, refresh-token rotation and logout.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Utc};
use esr_domain::{Coded, Password};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::Caller;
use crate::app::sessions::{self, LoginError, RefreshError, Tokens};
use crate::auth::Authenticated;
use crate::problem::{AsProblem, Problem, ProblemSpec};
use crate::state::AppState;

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

impl From<Tokens> for TokenResponse {
    fn from(t: Tokens) -> Self {
        Self {
            token_type: "Bearer",
            access_token: t.access_token,
            expires_in: t.expires_in,
            access_token_expires_at: t.access_token_expires_at,
            refresh_token: t.refresh_token,
            refresh_token_expires_at: t.refresh_token_expires_at,
            session_expires_at: t.session_expires_at,
        }
    }
}

impl AsProblem for LoginError {
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
            Self::Failure(f) => f.problem(),
        }
    }
}
crate::problem_response!(LoginError);

impl AsProblem for RefreshError {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::InvalidRefreshToken => ProblemSpec::new(
                StatusCode::UNAUTHORIZED,
                "invalid-refresh-token",
                "Unauthorized",
                "The refresh token is invalid, expired or already used, or its session has ended. Log in again.",
            ),
            Self::Failure(f) => f.problem(),
        }
    }
}
crate::problem_response!(RefreshError);

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
    caller: Caller,
    body: web::Json<LoginRequest>,
) -> Result<web::Json<TokenResponse>, LoginError> {
    let LoginRequest { username, password } = body.into_inner();
    let tokens = sessions::password_login(&state, &caller, &username, password, Utc::now()).await?;
    Ok(web::Json(tokens.into()))
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
    caller: Caller,
    body: web::Json<RefreshRequest>,
) -> Result<web::Json<TokenResponse>, RefreshError> {
    let token = body.into_inner().refresh_token;
    let tokens = sessions::refresh(&state, &caller, &token, Utc::now()).await?;
    Ok(web::Json(tokens.into()))
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
    caller: Caller,
    auth: Authenticated,
) -> Result<HttpResponse, crate::app::Failure> {
    sessions::logout(&state, &caller, &auth.session, Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}
