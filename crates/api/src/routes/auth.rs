//! Password login for the My ESR app, refresh-token rotation and logout.

use actix_web::http::StatusCode;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{DateTime, Utc};
use esr_domain::Password;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::challenge::Challenge;
use crate::app::second_step::{self, Answer, SecondStepError};
use crate::app::sessions::{self, LoginError, LoginInput, LoginResult, RefreshError, Tokens};
use crate::app::{Caller, Failure};
use crate::auth::AnySession;
use crate::i18n::Arg;
use crate::problem::{AsProblem, ProblemCatalogue, ProblemSpec};
use crate::rate_limit::Limited;
use crate::state::AppState;

/// Registers the session routes (under `/v1`).
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(login)
        .service(login_second_factor)
        .service(refresh)
        .service(logout);
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
    "access_token_expires_at": "2026-11-25T09:15:00.000000Z",
    "refresh_token": "Q2Vnc0dGV3h4bXNkZ1d0cE1jY2JpQ0lJb2h0b1Bkc0k",
    "refresh_token_expires_at": "2026-12-09T09:00:00.000000Z",
    "session_expires_at": "2026-12-25T09:00:00.000000Z"
}))]
pub struct TokenResponse {
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Access token (EdDSA JWT) for `Authorization: Bearer …`.
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// When the access token expires.
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub access_token_expires_at: DateTime<Utc>,
    /// Single-use refresh token: exchange it at `POST /v1/auth/refresh` for new tokens. Using
    /// one twice ends the session.
    pub refresh_token: String,
    /// When the refresh token expires if unused.
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub refresh_token_expires_at: DateTime<Utc>,
    /// When the session ends however often it is refreshed.
    #[serde(serialize_with = "crate::timestamps::micros")]
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

/// A correct password for an account with a second factor: no tokens yet. Send the
/// `mfa_token` with a code to `POST /v1/auth/login/mfa` within `expires_in` seconds.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "mfa_required": true,
    "mfa_token": "c2VjcmV0LXNpbmdsZS11c2UtdG9rZW4tZm9yLXRoZS1zZWNvbmQtc3RlcA",
    "methods": ["totp", "recovery_code"],
    "expires_in": 300
}))]
pub struct SecondFactorRequired {
    /// Always `true`: tells this answer from [`TokenResponse`].
    pub mfa_required: bool,
    /// Single-use token of this login's second step, bound to the account.
    pub mfa_token: String,
    /// How the account can answer: `passkey`, `totp` (authenticator app), `recovery_code`.
    pub methods: Vec<&'static str>,
    /// With `passkey` in `methods`: the options for `navigator.credentials.get()`
    /// (`{"publicKey": {"challenge", "allowCredentials", "rpId", "userVerification", …}}`,
    /// binary fields in base64url). Send the credential it makes as `passkey`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub passkey: Option<webauthn_rs::prelude::RequestChallengeResponse>,
    /// Seconds the `mfa_token` works.
    pub expires_in: u64,
}

impl From<Challenge> for SecondFactorRequired {
    fn from(c: Challenge) -> Self {
        Self {
            mfa_required: true,
            mfa_token: c.mfa_token,
            methods: c.methods.iter().map(|m| m.as_str()).collect(),
            passkey: c.passkey,
            expires_in: c.expires_in,
        }
    }
}

/// What a login answers: tokens, or (for an account with a second factor) a challenge.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum LoginResponse {
    /// Logged in.
    Tokens(TokenResponse),
    /// A second factor is needed.
    SecondFactor(SecondFactorRequired),
}

impl AsProblem for LoginError {
    fn problem(&self) -> ProblemSpec {
        let words = |status, code: &'static str, detail_id| {
            ProblemSpec::from_catalogue(status, code, detail_id, Vec::new())
        };
        match self {
            Self::InvalidCredentials => words(
                StatusCode::UNAUTHORIZED,
                "invalid-credentials",
                "problem-invalid-credentials",
            ),
            Self::NotApproved => words(
                StatusCode::FORBIDDEN,
                "internet-access-not-approved",
                "problem-internet-access-not-approved",
            ),
            Self::Suspended => words(
                StatusCode::FORBIDDEN,
                "account-suspended",
                "problem-account-suspended",
            ),
            Self::InternetAccessLapsed => words(
                StatusCode::FORBIDDEN,
                "internet-access-lapsed",
                "problem-internet-access-lapsed",
            ),
            Self::PasswordExpired => words(
                StatusCode::FORBIDDEN,
                "password-expired",
                "problem-password-expired",
            ),
            Self::InvalidRequest(input) => ProblemSpec::from_catalogue(
                StatusCode::BAD_REQUEST,
                "invalid-request-body",
                match input {
                    LoginInput::Missing => "problem-invalid-request-body--missing-credentials",
                    LoginInput::TooLong => "problem-invalid-request-body--credentials-too-long",
                },
                Vec::new(),
            ),
            Self::RateLimited(limited) => limited.problem(),
            Self::Failure(f) => f.problem(),
        }
    }
}
crate::problem_response!(LoginError);

impl ProblemCatalogue for LoginError {
    fn examples() -> Vec<ProblemSpec> {
        let mut examples: Vec<ProblemSpec> = [
            Self::InvalidCredentials,
            Self::NotApproved,
            Self::Suspended,
            Self::InternetAccessLapsed,
            Self::PasswordExpired,
            Self::InvalidRequest(LoginInput::Missing),
        ]
        .iter()
        .map(AsProblem::problem)
        .collect();
        examples.extend(Limited::examples());
        examples.extend(Failure::examples());
        examples
    }
}

impl AsProblem for RefreshError {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::InvalidRefreshToken(why) => ProblemSpec::from_catalogue(
                StatusCode::UNAUTHORIZED,
                "invalid-refresh-token",
                "problem-invalid-refresh-token",
                Vec::new(),
            )
            .with_session_ended(*why),
            Self::Failure(f) => f.problem(),
        }
    }
}
crate::problem_response!(RefreshError);

impl ProblemCatalogue for RefreshError {
    fn examples() -> Vec<ProblemSpec> {
        let mut examples = vec![Self::InvalidRefreshToken(Some("password_changed")).problem()];
        examples.extend(Failure::examples());
        examples
    }
}

/// Log in with username and password (My ESR app, home). Returns an access token and a
/// rotating refresh token — or, for an account with a second factor, `mfa_required` and an
/// `mfa_token` for `POST /v1/auth/login/mfa`. Unknown username, wrong password and locked
/// account get the same `401 invalid-credentials`; `internet-access-not-approved` and
/// `account-suspended` are revealed only after a correct password. Five consecutive
/// failures (passwords and second factors together) lock the account.
#[utoipa::path(
    tag = "session",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in (`TokenResponse`), or a second factor is needed (`SecondFactorRequired`: no tokens yet). Where the organisation requires a second factor and the account has none, the tokens are of a session that can only add one (`GET /v1/me` says `enrolment_only`).", body = LoginResponse),
        LoginError,
    ),
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<LoginRequest>,
) -> Result<web::Json<LoginResponse>, LoginError> {
    let LoginRequest { username, password } = body.into_inner();
    let result = sessions::password_login(&state, &caller, &username, password, Utc::now()).await?;
    Ok(web::Json(match result {
        LoginResult::Session(tokens) => LoginResponse::Tokens(tokens.into()),
        LoginResult::SecondFactorRequired(c) => LoginResponse::SecondFactor(c.into()),
    }))
}

/// The second step of a login: the `mfa_token` and one second factor.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "mfa_token": "c2VjcmV0LXNpbmdsZS11c2UtdG9rZW4tZm9yLXRoZS1zZWNvbmQtc3RlcA",
    "totp_code": "492039"
}))]
pub struct SecondFactorRequest {
    /// From the login's `mfa_required` answer.
    #[schema(format = Password, min_length = 1, max_length = 128)]
    pub mfa_token: String,
    /// Six digits from the authenticator app (spaces allowed). Give this or `recovery_code`.
    #[serde(default)]
    #[schema(format = Password, example = "492039")]
    pub totp_code: Option<String>,
    /// One of the account's recovery codes, `XXXX-XXXX-XXXX` (any case; dashes optional).
    #[serde(default)]
    #[schema(format = Password, example = "7KQ2-M9XD-4TPA")]
    pub recovery_code: Option<String>,
    /// A passkey's answer to the login's `passkey` options: the `PublicKeyCredential` from
    /// `navigator.credentials.get()` (or the phone's credential manager) as JSON, binary fields
    /// in base64url (`id`, `rawId`, `response.authenticatorData`, `clientDataJSON`,
    /// `signature`, `userHandle`; `type` `public-key`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub passkey: Option<Box<webauthn_rs::prelude::PublicKeyCredential>>,
}

impl SecondFactorRequest {
    fn answer(self) -> Result<(String, Answer), SecondFactorInputError> {
        let answer = match (self.totp_code, self.recovery_code, self.passkey) {
            (Some(code), None, None) => esr_domain::TotpCode::parse(&code)
                .map(Answer::Totp)
                .map_err(SecondFactorInputError::Shape)?,
            (None, Some(code), None) => esr_domain::RecoveryCode::parse(&code)
                .map(Answer::RecoveryCode)
                .map_err(SecondFactorInputError::Shape)?,
            (None, None, Some(credential)) => Answer::Passkey(credential),
            _ => return Err(SecondFactorInputError::NotExactlyOne),
        };
        Ok((self.mfa_token, answer))
    }
}

/// Why a second step was refused before it was looked at.
#[derive(Debug, thiserror::Error)]
pub enum SecondFactorInputError {
    /// Not exactly one of `totp_code`, `recovery_code` and `passkey`.
    #[error("give exactly one of totp_code, recovery_code and passkey")]
    NotExactlyOne,
    /// The code's shape is wrong.
    #[error(transparent)]
    Shape(esr_domain::SecondFactorInputError),
}

/// Why the second step failed, before or after it was looked at.
#[derive(Debug, thiserror::Error)]
pub enum SecondFactorError {
    /// The request's shape.
    #[error(transparent)]
    Input(#[from] SecondFactorInputError),
    /// The use case's answer.
    #[error(transparent)]
    Step(#[from] SecondStepError),
}

impl AsProblem for SecondFactorError {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::Input(e) => ProblemSpec::from_catalogue(
                StatusCode::BAD_REQUEST,
                "invalid-request-body",
                match e {
                    SecondFactorInputError::NotExactlyOne => {
                        "problem-invalid-request-body--not-exactly-one-factor"
                    }
                    SecondFactorInputError::Shape(
                        esr_domain::SecondFactorInputError::TotpShape,
                    ) => "problem-invalid-request-body--totp-shape",
                    SecondFactorInputError::Shape(
                        esr_domain::SecondFactorInputError::RecoveryCodeShape,
                    ) => "problem-invalid-request-body--recovery-code-shape",
                },
                Vec::new(),
            ),
            Self::Step(SecondStepError::InvalidMfaToken) => ProblemSpec::from_catalogue(
                StatusCode::UNAUTHORIZED,
                "invalid-mfa-token",
                "problem-invalid-mfa-token",
                Vec::new(),
            ),
            Self::Step(SecondStepError::WrongSecondFactor) => ProblemSpec::from_catalogue(
                StatusCode::UNAUTHORIZED,
                "invalid-second-factor",
                "problem-invalid-second-factor",
                Vec::new(),
            ),
            Self::Step(SecondStepError::RateLimited(limited)) => limited.problem(),
            Self::Step(SecondStepError::Failure(f)) => f.problem(),
        }
    }
}
crate::problem_response!(SecondFactorError);

impl ProblemCatalogue for SecondFactorError {
    fn examples() -> Vec<ProblemSpec> {
        let mut examples: Vec<ProblemSpec> = [
            Self::Input(SecondFactorInputError::NotExactlyOne),
            Self::Step(SecondStepError::InvalidMfaToken),
            Self::Step(SecondStepError::WrongSecondFactor),
        ]
        .iter()
        .map(AsProblem::problem)
        .collect();
        examples.extend(Limited::examples());
        examples.extend(Failure::examples());
        examples
    }
}

/// Complete a login with a second factor: the `mfa_token` from `POST /v1/auth/login` and a
/// code from the authenticator app or a recovery code. Returns the tokens, with `amr`
/// `["pwd","otp"]`. Each code works once; a wrong one counts towards the lockout like a
/// wrong password, and the `mfa_token` stays usable (five minutes) for another try.
#[utoipa::path(
    tag = "session",
    path = "/auth/login/mfa",
    request_body = SecondFactorRequest,
    responses(
        (status = 200, description = "Logged in; the `mfa_token` is spent.", body = TokenResponse),
        SecondFactorError,
    ),
)]
#[post("/auth/login/mfa")]
pub async fn login_second_factor(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<SecondFactorRequest>,
) -> Result<web::Json<TokenResponse>, SecondFactorError> {
    let (mfa_token, answer) = body.into_inner().answer()?;
    let tokens = second_step::complete(&state, &caller, &mfa_token, answer, Utc::now()).await?;
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
/// A retry within 30 seconds (`ESR_REFRESH_GRACE_SECS`) of the refresh, while its new refresh
/// token is unused, answers with that same refresh token again: a lost response or two app
/// threads refreshing at once do not log anyone out.
#[utoipa::path(
    tag = "session",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens; the presented refresh token is spent (a retry within the grace gets the same refresh token and a fresh access token).", body = TokenResponse),
        RefreshError,
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

/// What to log out, when the access token is not at hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "Q2Vnc0dGV3h4bXNkZ1d0cE1jY2JpQ0lJb2h0b1Bkc0k"}))]
pub struct LogoutRequest {
    /// The session's refresh token (for an app whose access token has expired).
    #[serde(default)]
    #[schema(format = Password, max_length = 128)]
    pub refresh_token: Option<String>,
}

/// Longest refresh token a logout body may carry.
const MAX_LOGOUT_TOKEN: usize = 128;

impl LogoutRequest {
    /// The body as sent: empty, or `{"refresh_token": …}` with a token of at most 128
    /// characters.
    fn read(body: &[u8]) -> Result<Self, LogoutError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self {
                refresh_token: None,
            });
        }
        let request: Self =
            serde_json::from_slice(body).map_err(|e| LogoutError::Body(e.to_string()))?;
        if request
            .refresh_token
            .as_ref()
            .is_some_and(|t| t.len() > MAX_LOGOUT_TOKEN)
        {
            return Err(LogoutError::TokenTooLong);
        }
        Ok(request)
    }
}

/// Why a logout was refused.
#[derive(Debug, thiserror::Error)]
pub enum LogoutError {
    /// Neither an access token nor a refresh token came.
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
    /// The body is not a `LogoutRequest` (the parser's reason).
    #[error("invalid logout body: {0}")]
    Body(String),
    /// The refresh token is longer than any this service issues.
    #[error("refresh_token is longer than {MAX_LOGOUT_TOKEN} characters")]
    TokenTooLong,
    /// Storage or the unexpected.
    #[error(transparent)]
    Failure(#[from] crate::app::Failure),
}

impl AsProblem for LogoutError {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::Auth(e) => e.problem(),
            Self::Body(why) => ProblemSpec::from_catalogue(
                StatusCode::BAD_REQUEST,
                "invalid-request-body",
                "problem-invalid-request-body--logout-body",
                vec![("reason", Arg::Text(why.clone()))],
            ),
            Self::TokenTooLong => ProblemSpec::from_catalogue(
                StatusCode::BAD_REQUEST,
                "invalid-request-body",
                "problem-invalid-request-body--logout-token-too-long",
                Vec::new(),
            ),
            Self::Failure(f) => f.problem(),
        }
    }
}
crate::problem_response!(LogoutError);

impl ProblemCatalogue for LogoutError {
    fn examples() -> Vec<ProblemSpec> {
        let mut examples = vec![
            Self::TokenTooLong.problem(),
            Self::Auth(crate::auth::AuthError::Missing).problem(),
        ];
        examples.extend(Failure::examples());
        examples
    }
}

/// End a session: its access tokens stop working at once and its refresh token is spent.
/// Send the access token (`Authorization: Bearer …`), or, when it has expired, the session's
/// refresh token in the body. Logging out again, or with a token whose session has already
/// ended, is also `204` (RFC 7009): the session is ended either way.
#[utoipa::path(
    tag = "session",
    security((), ("bearerAuth" = [])),
    request_body(content = Option<LogoutRequest>, description = "Optional: the refresh token, when the access token is not at hand."),
    responses(
        (status = 204, description = "Logged out (or the session had ended already)."),
        LogoutError,
    ),
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    session: Option<AnySession>,
    body: web::Bytes,
) -> Result<HttpResponse, LogoutError> {
    let request = LogoutRequest::read(&body)?;
    let now = Utc::now();
    if let Some(AnySession(auth)) = session {
        sessions::logout(&state, &caller, &auth.session, now).await?;
        return Ok(HttpResponse::NoContent().finish());
    }
    match request.refresh_token {
        Some(token) => sessions::logout_by_refresh_token(&state, &caller, &token, now).await?,
        // A bearer token that no longer opens a session: already logged out.
        None if req.headers().contains_key(AUTHORIZATION) => {}
        None => return Err(crate::auth::AuthError::Missing.into()),
    }
    Ok(HttpResponse::NoContent().finish())
}
