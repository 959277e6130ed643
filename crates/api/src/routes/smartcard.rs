//! Smartcard sign-in at work through NHS CIS2 (OpenID Connect authorization code flow with
//! PKCE): `start` hands the front end the provider's authorization URL, `callback` exchanges
//! the code and answers a workplace session (`amr` `smartcard`, shorter lifetime).
//!
//! `state`, `nonce` and the PKCE verifier are made here and kept in the database (the state
//! and nonce only as SHA-256), so any instance finishes a flow another started; a state works
//! once, for `ESR_OIDC_FLOW_TTL_SECS`. Every outcome is audited, without codes, tokens, nonces
//! or states.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use esr_domain::{AccountStatus, Coded, InternetAccessStatus, UsernameError};
use esr_persistence::oidc_flows::{self, FlowUse, NewFlow};
use esr_persistence::sessions::SessionKind;
use esr_persistence::{DbConnection, RepoError, accounts, people};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::audit::{self, account_actor};
use crate::client::Client;
use crate::oidc::id_token::pkce_challenge;
use crate::oidc::{IdTokenRejection, OidcClient, ProviderError, RsaJwkSet};
use crate::problem::{AsProblem, Problem, ProblemSpec, internal_error};
use crate::rate_limit::Limited;
use crate::routes::auth::{IssuedSession, TokenResponse, create_session, respond_with_tokens};
use crate::state::{AppState, StorageError};

/// Registers the smartcard routes (under `/v1`).
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(start).service(callback);
}

/// Registers the client key set (no prefix).
pub fn configure_well_known(cfg: &mut ServiceConfig<'_>) {
    cfg.service(client_jwks);
}

/// Where the provider should send the browser back to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"redirect_uri": "https://portal.esr.example.nhs.uk/smartcard/callback"}))]
pub struct StartRequest {
    /// The front end's callback page; must be on the configured allow-list (exact match).
    pub redirect_uri: String,
}

/// Where to send the browser to sign in with the smartcard.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "authorization_url": "https://am.nhsidentity.spineservices.nhs.uk/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare/authorize?response_type=code&client_id=esr-access&redirect_uri=https%3A%2F%2Fportal.esr.example.nhs.uk%2Fsmartcard%2Fcallback&scope=openid+profile&state=tV3c0n5W0Zb9kq7bq3Jr2g8Yh7fGf1Zk0PpLx2m4QeA&nonce=...&code_challenge=...&code_challenge_method=S256&acr_values=AAL3_ANY",
    "state": "tV3c0n5W0Zb9kq7bq3Jr2g8Yh7fGf1Zk0PpLx2m4QeA",
    "expires_at": "2026-11-25T09:10:00Z"
}))]
pub struct StartResponse {
    /// Redirect the browser here (the provider's authorization endpoint with `state`,
    /// `nonce`, the PKCE challenge and `acr_values`).
    pub authorization_url: String,
    /// The `state` the provider will return with the code; the front end may check it.
    pub state: String,
    /// The sign-in must be completed (callback) before this time.
    pub expires_at: DateTime<Utc>,
}

/// What the provider returned to the front end's callback page.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "5a1b0c3d-authorization-code", "state": "tV3c0n5W0Zb9kq7bq3Jr2g8Yh7fGf1Zk0PpLx2m4QeA"}))]
pub struct CallbackRequest {
    /// The authorization code (single use).
    #[schema(format = Password)]
    pub code: String,
    /// The `state` from the same redirect.
    pub state: String,
}

/// Errors of the smartcard routes.
#[derive(Debug, thiserror::Error)]
pub enum SmartcardError {
    /// Smartcard sign-in is switched off on this service.
    #[error("smartcard sign-in disabled")]
    Disabled,
    /// The redirect URI is not on the allow-list.
    #[error("redirect URI not allowed")]
    RedirectUriNotAllowed,
    /// Empty or absurdly long input.
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    /// Unknown, expired or already used state.
    #[error("invalid state ({0})")]
    InvalidState(&'static str),
    /// The token endpoint refused the code.
    #[error("code rejected: {0}")]
    CodeRejected(String),
    /// The ID token failed verification.
    #[error("invalid ID token: {0}")]
    InvalidIdToken(IdTokenRejection),
    /// The assurance level is too low.
    #[error("assurance level {0} too low")]
    AssuranceTooLow(u8),
    /// No person has this smartcard identity.
    #[error("no ESR record linked to this smartcard")]
    NoEsrRecord,
    /// The account is suspended or disabled.
    #[error("account {}", .0.as_str())]
    AccountUnusable(AccountStatus),
    /// The person's names yield no username.
    #[error("no username: {0}")]
    NoUsername(UsernameError),
    /// The provider is unreachable, slow or broken.
    #[error("identity provider unavailable: {0}")]
    ProviderUnavailable(String),
    /// Too many attempts from this client.
    #[error("rate limited")]
    RateLimited(Limited),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Something that should not fail did.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<RepoError> for SmartcardError {
    fn from(e: RepoError) -> Self {
        Self::Storage(StorageError::Repo(e))
    }
}

const SIGN_IN_AGAIN: &str = "Please sign in with your smartcard again.";

impl AsProblem for SmartcardError {
    fn problem(&self) -> ProblemSpec {
        let unauthorized = |code, detail: &str| {
            ProblemSpec::new(
                StatusCode::UNAUTHORIZED,
                code,
                "Smartcard sign-in failed",
                format!("{detail} {SIGN_IN_AGAIN}"),
            )
        };
        match self {
            Self::Disabled => ProblemSpec::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "smartcard-login-disabled",
                "Smartcard sign-in unavailable",
                "Smartcard sign-in is not enabled on this service.",
            ),
            Self::RedirectUriNotAllowed => ProblemSpec::new(
                StatusCode::BAD_REQUEST,
                "redirect-uri-not-allowed",
                "Redirect URI not allowed",
                "The redirect_uri is not one this service is configured to use (ESR_OIDC_REDIRECT_URIS).",
            ),
            Self::InvalidRequest(detail) => ProblemSpec::new(
                StatusCode::BAD_REQUEST,
                "invalid-request-body",
                "Invalid request body",
                *detail,
            ),
            Self::InvalidState(_) => unauthorized(
                "smartcard-state-invalid",
                "This smartcard sign-in has expired or was already used.",
            ),
            Self::CodeRejected(_) => unauthorized(
                "smartcard-code-rejected",
                "The NHS identity service did not accept this sign-in.",
            ),
            Self::InvalidIdToken(_) => unauthorized(
                "smartcard-token-invalid",
                "The answer of the NHS identity service could not be verified.",
            ),
            Self::AssuranceTooLow(_) => ProblemSpec::new(
                StatusCode::FORBIDDEN,
                "smartcard-assurance-too-low",
                "Smartcard required",
                "This sign-in is not strong enough to manage internet access. Please sign in with your NHS smartcard.",
            ),
            Self::NoEsrRecord => ProblemSpec::new(
                StatusCode::FORBIDDEN,
                "no-esr-record",
                "No ESR record linked to this smartcard",
                "There is no ESR record linked to this smartcard. Please contact the System Administrator.",
            ),
            Self::AccountUnusable(status) => {
                let (code, detail) = match status {
                    AccountStatus::Suspended => (
                        "account-suspended",
                        "Your ESR account is suspended. Please contact the System Administrator.",
                    ),
                    _ => (
                        "account-disabled",
                        "Your ESR account is disabled. Please contact the System Administrator.",
                    ),
                };
                ProblemSpec::new(StatusCode::FORBIDDEN, code, "Account not usable", detail)
            }
            Self::NoUsername(e) => ProblemSpec::new(
                StatusCode::FORBIDDEN,
                e.code(),
                "No username",
                e.message(),
            ),
            Self::ProviderUnavailable(_) => ProblemSpec::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "identity-provider-unavailable",
                "Service Unavailable",
                "The NHS identity service (smartcard sign-in) is not answering. Please try again in a few minutes.",
            )
            .with_retry_after(30),
            Self::RateLimited(limited) => limited.problem(),
            Self::Storage(e) => e.problem(),
            Self::Internal(_) => internal_error(self),
        }
    }
}
crate::problem_response!(SmartcardError);

fn provider(state: &AppState) -> Result<&OidcClient, SmartcardError> {
    state.oidc.as_deref().ok_or(SmartcardError::Disabled)
}

fn rate_limit(state: &AppState, client: &Client) -> Result<(), SmartcardError> {
    state
        .limits
        .login_per_ip
        .check(&format!("smartcard:{}", client.ip_text()))
        .map_err(|limited| {
            state.metrics.security_event("smartcard.rate_limited");
            SmartcardError::RateLimited(limited)
        })
}

/// Audits a refusal made before the provider is asked (switched off, redirect URI not
/// allowed, malformed input, rate limited) and returns the error to answer. Other errors
/// pass through unaudited (their step audits them). The rate limit is checked before
/// anything else is, so these writes are bounded by it.
async fn refuse(
    state: &AppState,
    client: &Client,
    step: &'static str,
    error: SmartcardError,
) -> SmartcardError {
    let reason = match &error {
        SmartcardError::Disabled => "disabled",
        SmartcardError::RedirectUriNotAllowed => "redirect_uri_not_allowed",
        SmartcardError::InvalidRequest(_) => "invalid_request",
        SmartcardError::RateLimited(_) => {
            // At most one a minute per client IP (`refusal_audits_per_ip`).
            if state
                .limits
                .refusal_audits_per_ip
                .check(&format!("smartcard:{}", client.ip_text()))
                .is_err()
            {
                return error;
            }
            "rate_limited"
        }
        _ => return error,
    };
    fail(
        state,
        client,
        None,
        json!({"step": step, "reason": reason}),
        error,
    )
    .await
}

/// Records a failed smartcard step (its own transaction) and returns the error to answer.
async fn fail(
    state: &AppState,
    client: &Client,
    account_id: Option<String>,
    details: serde_json::Value,
    error: SmartcardError,
) -> SmartcardError {
    let client = client.clone();
    let recorded = state
        .db(move |c| {
            c.write_transaction(|c| {
                audit::record(
                    c,
                    &client,
                    "smartcard.login_failed",
                    account_id.as_deref(),
                    "anonymous",
                    &details,
                    Utc::now(),
                )
            })
        })
        .await;
    if let Err(e) = recorded {
        tracing::error!(error = %e, "cannot audit a failed smartcard sign-in");
    }
    state.metrics.security_event("smartcard.login_failed");
    error
}

/// Start a smartcard sign-in (NHS CIS2). Returns the provider's authorization URL for the
/// browser; `state`, `nonce` and the PKCE verifier are kept server-side for 10 minutes and
/// work once. `acr_values` asks for a smartcard-strength sign-in (`AAL3_ANY` by default).
#[utoipa::path(
    operation_id = "smartcard_start",
    tag = "smartcard",
    request_body = StartRequest,
    responses(
        (status = 200, description = "Redirect the browser to `authorization_url`.", body = StartResponse),
        (status = 400, description = "`redirect-uri-not-allowed`, or a malformed request (`invalid-request-body`).", body = Problem, content_type = "application/problem+json", examples(
            ("redirect-uri-not-allowed" = (summary = "Not on the allow-list", value = json!({"type": "/problems/redirect-uri-not-allowed", "title": "Redirect URI not allowed", "status": 400, "detail": "The redirect_uri is not one this service is configured to use (ESR_OIDC_REDIRECT_URIS).", "code": "redirect-uri-not-allowed", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
            ("invalid-request-body" = (summary = "Malformed request", value = json!({"type": "/problems/invalid-request-body", "title": "Invalid request body", "status": 400, "detail": "The request body does not match the expected schema: missing field `redirect_uri` at line 1 column 2.", "code": "invalid-request-body", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
        )),
        (status = 413, description = "`payload-too-large`: JSON bodies are limited to 16 KiB.", body = Problem, content_type = "application/problem+json", example = json!({"type": "/problems/payload-too-large", "title": "Payload Too Large", "status": 413, "detail": "The request body is larger than the limit of 16384 bytes.", "code": "payload-too-large", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"})),
        (status = 415, description = "`unsupported-media-type`: send `Content-Type: application/json`.", body = Problem, content_type = "application/problem+json", example = json!({"type": "/problems/unsupported-media-type", "title": "Unsupported Media Type", "status": 415, "detail": "Send the request body as application/json.", "code": "unsupported-media-type", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"})),
        (status = 429, description = "Too many attempts (see `Retry-After`).", body = Problem, content_type = "application/problem+json", example = json!({"type": "/problems/too-many-requests", "title": "Too Many Requests", "status": 429, "detail": "Too many attempts. Please wait before trying again.", "code": "too-many-requests", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"})),
        (status = 503, description = "`identity-provider-unavailable` (see `Retry-After`), or `smartcard-login-disabled`, or `database-unavailable`.", body = Problem, content_type = "application/problem+json", examples(
            ("identity-provider-unavailable" = (summary = "The provider is unreachable or slow", value = json!({"type": "/problems/identity-provider-unavailable", "title": "Service Unavailable", "status": 503, "detail": "The NHS identity service (smartcard sign-in) is not answering. Please try again in a few minutes.", "code": "identity-provider-unavailable", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
            ("smartcard-login-disabled" = (summary = "Smartcard sign-in is switched off", value = json!({"type": "/problems/smartcard-login-disabled", "title": "Smartcard sign-in unavailable", "status": 503, "detail": "Smartcard sign-in is not enabled on this service.", "code": "smartcard-login-disabled", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
            ("database-unavailable" = (summary = "The database is unavailable", value = json!({"type": "/problems/database-unavailable", "title": "Service Unavailable", "status": 503, "detail": "The service is busy or its database is unavailable; try again shortly.", "code": "database-unavailable", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
        )),
    ),
)]
#[post("/auth/smartcard/start")]
pub async fn start(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<StartRequest>,
) -> Result<web::Json<StartResponse>, SmartcardError> {
    let checked = rate_limit(&state, &client).and_then(|()| {
        let oidc = provider(&state)?;
        let requested = body.into_inner().redirect_uri;
        url::Url::parse(requested.trim())
            .ok()
            .filter(|uri| oidc.config().redirect_uris.contains(uri))
            .map(|allowed| (oidc, allowed))
            .ok_or(SmartcardError::RedirectUriNotAllowed)
    });
    let (oidc, allowed) = match checked {
        Ok(checked) => checked,
        Err(e) => return Err(refuse(&state, &client, "start", e).await),
    };

    let mut rng = rand::rng();
    let flow_state = esr_domain::random_token(&mut rng, 32);
    let nonce = esr_domain::random_token(&mut rng, 32);
    // 43 base64url characters: within RFC 7636's 43–128 unreserved characters.
    let verifier = esr_domain::random_token(&mut rng, 32);
    let authorization_url = match oidc
        .authorization_url(
            &flow_state,
            &nonce,
            &pkce_challenge(&verifier),
            allowed.as_str(),
        )
        .await
    {
        Ok(url) => url,
        Err(e) => {
            tracing::warn!(error = %e, "smartcard start: identity provider unavailable");
            let details = json!({"step": "start", "reason": "provider_unavailable"});
            return Err(fail(
                &state,
                &client,
                None,
                details,
                SmartcardError::ProviderUnavailable(e.to_string()),
            )
            .await);
        }
    };
    let now = Utc::now();
    let expires_at = now
        + chrono::Duration::from_std(oidc.config().flow_ttl)
            .unwrap_or(chrono::Duration::minutes(10));
    let state_hash = esr_domain::sha256_hex(flow_state.as_bytes());
    let nonce_hash = esr_domain::sha256_hex(nonce.as_bytes());
    let redirect_uri = allowed.to_string();
    state
        .db(move |c| {
            c.write_transaction(|c| {
                // Flows long past their expiry are of no use, not even to recognise a replay.
                oidc_flows::delete_expired(c, now - chrono::Duration::days(1))?;
                oidc_flows::create(
                    c,
                    &NewFlow {
                        state_hash: &state_hash,
                        nonce_hash: &nonce_hash,
                        code_verifier: &verifier,
                        redirect_uri: &redirect_uri,
                        expires_at,
                    },
                    now,
                )?;
                audit::record(
                    c,
                    &client,
                    "smartcard.started",
                    None,
                    "anonymous",
                    &json!({"redirect_uri": redirect_uri}),
                    now,
                )
            })
        })
        .await?;
    state.metrics.security_event("smartcard.started");
    Ok(web::Json(StartResponse {
        authorization_url: authorization_url.to_string(),
        state: flow_state,
        expires_at,
    }))
}

/// Longest code or state looked at.
const MAX_PARAMETER: usize = 2048;

/// Finish a smartcard sign-in: exchanges the code at the provider's token endpoint
/// (`private_key_jwt` or client secret, PKCE verifier), verifies the ID token (signature with
/// the provider's published keys, algorithm pinned, `iss`, `aud`, `exp`, `iat`, `nonce`,
/// assurance level) and answers a **workplace session** (`amr` `smartcard`, 8 hours). The
/// smartcard identity (`uid`) must be linked to an ESR record; a person without an ESR
/// username gets one now (internet access `not_requested`).
#[utoipa::path(
    operation_id = "smartcard_callback",
    tag = "smartcard",
    request_body = CallbackRequest,
    responses(
        (status = 200, description = "Signed in: a workplace session (`amr` `[\"smartcard\"]`, ends 8 hours after sign-in however often it is refreshed).", body = TokenResponse, example = json!({
            "token_type": "Bearer",
            "access_token": "eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCIsImtpZCI6Ii4uLiJ9.eyJzdWIiOiIuLi4iLCJzaWQiOiIuLi4iLCJhbXIiOlsic21hcnRjYXJkIl0sIi4uLiI6Ii4uLiJ9.c2lnbmF0dXJl",
            "expires_in": 900,
            "access_token_expires_at": "2026-11-25T09:15:00Z",
            "refresh_token": "Vb0kT3pXc9LmQ2rWs8yHn4dFg7jKz1aEu6oIi5xPt0M",
            "refresh_token_expires_at": "2026-11-25T17:00:00Z",
            "session_expires_at": "2026-11-25T17:00:00Z"
        })),
        (status = 400, description = "Malformed request (`invalid-request-body`): a missing, empty, unknown or too long field.", body = Problem, content_type = "application/problem+json", example = json!({"type": "/problems/invalid-request-body", "title": "Invalid request body", "status": 400, "detail": "Send both code and state.", "code": "invalid-request-body", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"})),
        (status = 401, description = "`smartcard-state-invalid` (unknown, expired or already used state), `smartcard-code-rejected` (the provider refused the code), or `smartcard-token-invalid` (the ID token failed verification). Start again.", body = Problem, content_type = "application/problem+json", examples(
            ("smartcard-state-invalid" = (summary = "Unknown, expired or reused state", value = json!({"type": "/problems/smartcard-state-invalid", "title": "Smartcard sign-in failed", "status": 401, "detail": "This smartcard sign-in has expired or was already used. Please sign in with your smartcard again.", "code": "smartcard-state-invalid", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
            ("smartcard-code-rejected" = (summary = "The provider refused the code", value = json!({"type": "/problems/smartcard-code-rejected", "title": "Smartcard sign-in failed", "status": 401, "detail": "The NHS identity service did not accept this sign-in. Please sign in with your smartcard again.", "code": "smartcard-code-rejected", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
            ("smartcard-token-invalid" = (summary = "The ID token failed verification", value = json!({"type": "/problems/smartcard-token-invalid", "title": "Smartcard sign-in failed", "status": 401, "detail": "The answer of the NHS identity service could not be verified. Please sign in with your smartcard again.", "code": "smartcard-token-invalid", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
        )),
        (status = 403, description = "`no-esr-record` (no ESR record linked to this smartcard), `smartcard-assurance-too-low`, `account-suspended` or `account-disabled`.", body = Problem, content_type = "application/problem+json", examples(
            ("no-esr-record" = (summary = "No ESR record linked to this smartcard", value = json!({"type": "/problems/no-esr-record", "title": "No ESR record linked to this smartcard", "status": 403, "detail": "There is no ESR record linked to this smartcard. Please contact the System Administrator.", "code": "no-esr-record", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
            ("smartcard-assurance-too-low" = (summary = "Assurance level below the configured minimum", value = json!({"type": "/problems/smartcard-assurance-too-low", "title": "Smartcard required", "status": 403, "detail": "This sign-in is not strong enough to manage internet access. Please sign in with your NHS smartcard.", "code": "smartcard-assurance-too-low", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
            ("account-suspended" = (summary = "The ESR account is suspended", value = json!({"type": "/problems/account-suspended", "title": "Account not usable", "status": 403, "detail": "Your ESR account is suspended. Please contact the System Administrator.", "code": "account-suspended", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
        )),
        (status = 413, description = "`payload-too-large`: JSON bodies are limited to 16 KiB.", body = Problem, content_type = "application/problem+json", example = json!({"type": "/problems/payload-too-large", "title": "Payload Too Large", "status": 413, "detail": "The request body is larger than the limit of 16384 bytes.", "code": "payload-too-large", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"})),
        (status = 415, description = "`unsupported-media-type`: send `Content-Type: application/json`.", body = Problem, content_type = "application/problem+json", example = json!({"type": "/problems/unsupported-media-type", "title": "Unsupported Media Type", "status": 415, "detail": "Send the request body as application/json.", "code": "unsupported-media-type", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"})),
        (status = 429, description = "Too many attempts (see `Retry-After`).", body = Problem, content_type = "application/problem+json", example = json!({"type": "/problems/too-many-requests", "title": "Too Many Requests", "status": 429, "detail": "Too many attempts. Please wait before trying again.", "code": "too-many-requests", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"})),
        (status = 503, description = "`identity-provider-unavailable`: unreachable or slower than the configured timeout (see `Retry-After`), or `smartcard-login-disabled`, or `database-unavailable`.", body = Problem, content_type = "application/problem+json", examples(
            ("identity-provider-unavailable" = (summary = "The provider is unreachable or slow", value = json!({"type": "/problems/identity-provider-unavailable", "title": "Service Unavailable", "status": 503, "detail": "The NHS identity service (smartcard sign-in) is not answering. Please try again in a few minutes.", "code": "identity-provider-unavailable", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
            ("smartcard-login-disabled" = (summary = "Smartcard sign-in is switched off", value = json!({"type": "/problems/smartcard-login-disabled", "title": "Smartcard sign-in unavailable", "status": 503, "detail": "Smartcard sign-in is not enabled on this service.", "code": "smartcard-login-disabled", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
            ("database-unavailable" = (summary = "The database is unavailable", value = json!({"type": "/problems/database-unavailable", "title": "Service Unavailable", "status": 503, "detail": "The service is busy or its database is unavailable; try again shortly.", "code": "database-unavailable", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
        )),
    ),
)]
#[post("/auth/smartcard/callback")]
pub async fn callback(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<CallbackRequest>,
) -> Result<HttpResponse, SmartcardError> {
    let CallbackRequest {
        code,
        state: flow_state,
    } = body.into_inner();
    let checked = rate_limit(&state, &client).and_then(|()| {
        let oidc = provider(&state)?;
        if code.is_empty() || flow_state.is_empty() {
            return Err(SmartcardError::InvalidRequest("Send both code and state."));
        }
        if code.len() > MAX_PARAMETER || flow_state.len() > MAX_PARAMETER {
            return Err(SmartcardError::InvalidRequest("code or state is too long."));
        }
        Ok(oidc)
    });
    let oidc = match checked {
        Ok(oidc) => oidc,
        Err(e) => return Err(refuse(&state, &client, "callback", e).await),
    };

    let state_hash = esr_domain::sha256_hex(flow_state.as_bytes());
    let used = state
        .db(move |c| c.write_transaction(|c| oidc_flows::use_flow(c, &state_hash, Utc::now())))
        .await?;
    let flow = match used {
        FlowUse::Used(flow) => flow,
        refused => {
            let reason = match refused {
                FlowUse::AlreadyUsed => "state_reused",
                FlowUse::Expired => "state_expired",
                _ => "state_unknown",
            };
            if reason == "state_reused" {
                state.metrics.security_event("smartcard.state_reused");
            }
            let details = json!({"step": "callback", "reason": reason});
            return Err(fail(
                &state,
                &client,
                None,
                details,
                SmartcardError::InvalidState(reason),
            )
            .await);
        }
    };

    let verified = match oidc
        .exchange_code(&code, &flow.code_verifier, &flow.redirect_uri)
        .await
    {
        Ok(id_token) => oidc.verify(&id_token, &flow.nonce_hash).await,
        Err(e) => Err(e),
    };
    let verified = match verified {
        Ok(verified) => verified,
        Err(e) => {
            let (reason, error) = match e {
                ProviderError::Unavailable(cause) => {
                    tracing::warn!(error = %cause, "smartcard callback: identity provider unavailable");
                    (
                        "provider_unavailable".to_owned(),
                        SmartcardError::ProviderUnavailable(cause),
                    )
                }
                ProviderError::CodeRejected(cause) => {
                    tracing::info!(error = %cause, "smartcard callback: code rejected");
                    (
                        "code_rejected".to_owned(),
                        SmartcardError::CodeRejected(cause),
                    )
                }
                ProviderError::InvalidToken(IdTokenRejection::AssuranceTooLow { level }) => {
                    tracing::info!(level, "smartcard callback: assurance too low");
                    (
                        "assurance_too_low".to_owned(),
                        SmartcardError::AssuranceTooLow(level),
                    )
                }
                ProviderError::InvalidToken(rejection) => {
                    tracing::info!(
                        reason = rejection.reason(),
                        "smartcard callback: ID token refused"
                    );
                    (
                        format!("id_token_{}", rejection.reason()),
                        SmartcardError::InvalidIdToken(rejection),
                    )
                }
                ProviderError::ClientKey(cause) => {
                    ("client_key".to_owned(), SmartcardError::Internal(cause))
                }
            };
            let details = json!({"step": "callback", "reason": reason});
            return Err(fail(&state, &client, None, details, error).await);
        }
    };

    let config = state.config.clone();
    let client2 = client.clone();
    let subject = verified.subject.clone();
    let outcome = state
        .db(move |c| {
            c.write_transaction(|c| sign_in(c, &config, &client2, &subject, verified.assurance))
        })
        .await?;
    match outcome {
        Ok(issued) => {
            state.metrics.security_event("smartcard.login_succeeded");
            respond_with_tokens(&state, issued).map_err(|e| SmartcardError::Internal(e.to_string()))
        }
        Err(e) => {
            state.metrics.security_event("smartcard.login_failed");
            Err(e)
        }
    }
}

/// Links the verified smartcard identity to a person and account and opens the workplace
/// session, auditing the outcome, in one transaction.
fn sign_in(
    conn: &mut DbConnection,
    config: &crate::config::Config,
    client: &Client,
    subject: &str,
    assurance: u8,
) -> Result<Result<IssuedSession, SmartcardError>, RepoError> {
    let now = Utc::now();
    let failed = |conn: &mut DbConnection, account_id: Option<&str>, details| {
        audit::record(
            conn,
            client,
            "smartcard.login_failed",
            account_id,
            "anonymous",
            &details,
            now,
        )
    };
    let Some(person) = people::find_by_smartcard_subject(conn, subject)? else {
        failed(
            conn,
            None,
            json!({"step": "callback", "reason": "unknown_subject", "subject_digest": config.audit_digest_key.digest(subject)}),
        )?;
        return Ok(Err(SmartcardError::NoEsrRecord));
    };
    let existed = accounts::for_person(conn, &person.id)?
        .into_iter()
        .any(|a| a.organisation_code == person.organisation_code);
    let account = match accounts::find_or_create_for_person(
        conn,
        &person,
        InternetAccessStatus::NotRequested,
        now,
    )? {
        Ok(account) => account,
        Err(e) => {
            failed(
                conn,
                None,
                json!({"step": "callback", "reason": "no_username", "person_id": person.id}),
            )?;
            return Ok(Err(SmartcardError::NoUsername(e)));
        }
    };
    if !existed {
        audit::record(
            conn,
            client,
            "account.created",
            Some(&account.id),
            "system",
            &json!({"via": "smartcard", "username": account.username.as_str()}),
            now,
        )?;
    }
    if matches!(
        account.status,
        AccountStatus::Suspended | AccountStatus::Disabled
    ) {
        failed(
            conn,
            Some(&account.id),
            json!({"step": "callback", "reason": format!("account_{}", account.status.as_str())}),
        )?;
        return Ok(Err(SmartcardError::AccountUnusable(account.status)));
    }
    let issued = create_session(
        conn,
        config,
        client,
        &account.id,
        SessionKind::Smartcard,
        now,
    )?;
    audit::record(
        conn,
        client,
        "smartcard.login_succeeded",
        Some(&account.id),
        &account_actor(account.username.as_str()),
        &json!({"amr": "smartcard", "session_id": issued.session_id(), "assurance_level": assurance}),
        now,
    )?;
    Ok(Ok(issued))
}

/// The public keys of this service's `private_key_jwt` client authentication (JWK Set): give
/// this address (or its content) to the identity provider when registering the client.
/// Empty when a client secret is configured or smartcard sign-in is off.
#[utoipa::path(
    operation_id = "oidc_client_jwks",
    tag = "smartcard",
    responses(
        (status = 200, description = "RSA public keys of our client assertions.", body = RsaJwkSet, content_type = "application/jwk-set+json"),
        (status = 500, description = "The dev client key could not be generated.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/.well-known/oidc-client-jwks.json")]
pub async fn client_jwks(state: web::Data<AppState>) -> Result<HttpResponse, SmartcardError> {
    let set = match state.oidc.as_deref() {
        Some(oidc) => oidc
            .client_jwks()
            .await
            .map_err(|e| SmartcardError::Internal(e.to_string()))?,
        None => RsaJwkSet { keys: Vec::new() },
    };
    Ok(HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .insert_header((
            actix_web::http::header::CACHE_CONTROL,
            "public, max-age=300",
        ))
        .json(set))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use esr_domain::{AccountStatus, InternetAccessStatus};
    use serde_json::Value;

    use super::SmartcardError;
    use crate::oidc::id_token::IdTokenRejection;
    use crate::problem::{AsProblem, ProblemSpec};
    use crate::rate_limit::Limited;
    use crate::routes::internet_access::InternetAccessError;

    /// Every problem example (an object with `code` and `status`) anywhere under `value`.
    fn examples(value: &Value, found: &mut Vec<Value>) {
        match value {
            Value::Object(map) => {
                if map.get("code").is_some_and(Value::is_string)
                    && map.get("status").is_some_and(Value::is_number)
                {
                    found.push(value.clone());
                }
                map.values().for_each(|v| examples(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| examples(v, found)),
            _ => {}
        }
    }

    fn answer(spec: ProblemSpec) -> Value {
        serde_json::to_value(spec.into_body("request-id".into())).expect("a problem body")
    }

    /// The hand-written examples Swagger UI shows for smartcard sign-in and Manage Internet
    /// Access are what the service really answers: same status, type and title for each code,
    /// and the real wording of the detail, so the documentation cannot drift from the code.
    #[test]
    fn documented_problem_examples_are_the_real_answers() {
        let doc = serde_json::to_value(crate::openapi::document()).unwrap();
        let mut documented = Vec::new();
        examples(&doc["paths"], &mut documented);
        let mut by_code: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for example in documented {
            by_code
                .entry(example["code"].as_str().unwrap().to_owned())
                .or_default()
                .push(example);
        }
        let real: Vec<ProblemSpec> = vec![
            SmartcardError::Disabled.problem(),
            SmartcardError::RedirectUriNotAllowed.problem(),
            SmartcardError::InvalidState("expired").problem(),
            SmartcardError::CodeRejected("invalid_grant".into()).problem(),
            SmartcardError::InvalidIdToken(IdTokenRejection::BadSignature).problem(),
            SmartcardError::AssuranceTooLow(1).problem(),
            SmartcardError::NoEsrRecord.problem(),
            SmartcardError::AccountUnusable(AccountStatus::Suspended).problem(),
            SmartcardError::ProviderUnavailable("timed out".into()).problem(),
            SmartcardError::RateLimited(Limited {
                retry_after_secs: 30,
            })
            .problem(),
            InternetAccessError::SmartcardRequired.problem(),
            InternetAccessError::NotApproved(InternetAccessStatus::Pending).problem(),
            InternetAccessError::NotApproved(InternetAccessStatus::NotRequested).problem(),
        ];
        for spec in real {
            let real = answer(spec);
            let code = real["code"].as_str().unwrap();
            let shown = by_code
                .get(code)
                .unwrap_or_else(|| panic!("no documented example of {code}"));
            for example in shown {
                for field in ["status", "type", "title"] {
                    assert_eq!(example[field], real[field], "{code}: {field}");
                }
            }
            assert!(
                shown.iter().any(|e| e["detail"] == real["detail"])
                    || code == "internet-access-not-approved",
                "{code}: no example has the real detail {}",
                real["detail"]
            );
        }
    }
}
