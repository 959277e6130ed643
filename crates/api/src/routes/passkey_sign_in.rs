//! Signing in with a passkey alone, from home or the My ESR app: no username, no password. The
//! browser or phone offers the passkeys it holds for this service; the one chosen names its
//! account and proves it (with the person's fingerprint, face or PIN).

use actix_web::http::StatusCode;
use actix_web::{post, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::passkey_sign_in::{self, PasskeySignInError};
use crate::app::sessions::LoginError;
use crate::app::{Caller, Failure};
use crate::problem::{AsProblem, ProblemCatalogue, ProblemSpec};
use crate::rate_limit::Limited;
use crate::routes::auth::TokenResponse;
use crate::state::AppState;

/// Registers the routes (under `/v1`).
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(start).service(finish);
}

impl AsProblem for PasskeySignInError {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::Unavailable => ProblemSpec::from_catalogue(
                StatusCode::SERVICE_UNAVAILABLE,
                "passkeys-unavailable",
                "problem-passkeys-unavailable",
                Vec::new(),
            ),
            Self::Refused => ProblemSpec::from_catalogue(
                StatusCode::UNAUTHORIZED,
                "passkey-sign-in-failed",
                "problem-passkey-sign-in-failed",
                Vec::new(),
            ),
            // After a genuine answer, the account's state is told as a password login tells it.
            Self::Suspended => LoginError::Suspended.problem(),
            Self::NotApproved => LoginError::NotApproved.problem(),
            Self::InternetAccessLapsed => LoginError::InternetAccessLapsed.problem(),
            Self::RateLimited(limited) => limited.problem(),
            Self::Failure(f) => f.problem(),
        }
    }
}
crate::problem_response!(PasskeySignInError);

/// Finishing can give them all.
impl ProblemCatalogue for PasskeySignInError {
    fn examples() -> Vec<ProblemSpec> {
        let mut examples: Vec<ProblemSpec> = [
            Self::Unavailable,
            Self::Refused,
            Self::Suspended,
            Self::NotApproved,
            Self::InternetAccessLapsed,
        ]
        .iter()
        .map(AsProblem::problem)
        .collect();
        examples.extend(Limited::examples());
        examples.extend(Failure::examples());
        examples
    }
}

crate::operation_problems!(
    /// The problems of starting a sign-in with a passkey.
    StartProblems: Failure => [
        PasskeySignInError::Unavailable,
        Limited { retry_after_secs: 60 },
    ]
);

/// A sign-in with a passkey under way.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "ceremony": "q0Rk8sVh2Lw5Yx1Nc7Tj4Pb9Ga6Ed3Mf0Uz2Io8KyXs…",
    "options": {"publicKey": {
        "challenge": "tV3c0n5W0Zb9kq7bq3Jr2g8Yh7fGf1Zk0PpLx2m4QeA",
        "timeout": 300000,
        "rpId": "my.esr.example.org",
        "allowCredentials": [],
        "userVerification": "required"
    }, "mediation": "conditional"},
    "expires_in": 300
}))]
pub struct PasskeySignInStart {
    /// Send this back with the credential: the sign-in's state, sealed (opaque; nothing is
    /// stored until it is finished).
    pub ceremony: String,
    /// For `navigator.credentials.get()` (binary fields in base64url: decode `challenge`), or
    /// as `requestJson` to Android's Credential Manager. `allowCredentials` is empty: the
    /// browser or phone offers every passkey it holds for this service.
    #[schema(value_type = Object)]
    pub options: webauthn_rs::prelude::RequestChallengeResponse,
    /// Seconds it can be finished.
    pub expires_in: u64,
}

/// Start signing in with a passkey alone: options for the browser or phone to offer the
/// passkeys it holds for this service. No body (the person is not known yet); stores nothing.
#[utoipa::path(
    tag = "session",
    operation_id = "passkey_sign_in_start",
    path = "/auth/passkey/start",
    responses(
        (status = 200, description = "Ask the browser or phone for a passkey.", body = PasskeySignInStart),
        StartProblems,
    ),
)]
#[post("/auth/passkey/start")]
pub async fn start(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<web::Json<PasskeySignInStart>, PasskeySignInError> {
    let started = passkey_sign_in::start_sign_in(&state, &caller, Utc::now()).await?;
    Ok(web::Json(PasskeySignInStart {
        ceremony: started.ceremony,
        options: started.options,
        expires_in: started.expires_in,
    }))
}

/// The passkey's answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeySignInRequest {
    /// From the start, exactly as given.
    pub ceremony: String,
    /// The `PublicKeyCredential` from `navigator.credentials.get()` as JSON, binary fields in
    /// base64url (`id`, `rawId`, `response.authenticatorData`, `clientDataJSON`, `signature`,
    /// `userHandle`; `type` `public-key`).
    #[schema(value_type = Object)]
    pub credential: Box<webauthn_rs::prelude::PublicKeyCredential>,
}

/// Finish signing in with a passkey alone: the tokens of a session with `amr` `["hwk"]`, as
/// strong as one completed with a second factor. Each start works once, for five minutes. Every
/// refusal before the passkey is proven is the same `401 passkey-sign-in-failed`;
/// `account-suspended`, `internet-access-not-approved` and `internet-access-lapsed` come only
/// after. A locked account stays locked (unlock it by email).
#[utoipa::path(
    tag = "session",
    operation_id = "passkey_sign_in_finish",
    path = "/auth/passkey/finish",
    request_body = PasskeySignInRequest,
    responses(
        (status = 200, description = "Signed in.", body = TokenResponse),
        PasskeySignInError,
    ),
)]
#[post("/auth/passkey/finish")]
pub async fn finish(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<PasskeySignInRequest>,
) -> Result<web::Json<TokenResponse>, PasskeySignInError> {
    if body.ceremony.len() > 4096 {
        return Err(PasskeySignInError::Refused);
    }
    let tokens = passkey_sign_in::finish_sign_in(
        &state,
        &caller,
        &body.ceremony,
        &body.credential,
        Utc::now(),
    )
    .await?;
    Ok(web::Json(tokens.into()))
}
