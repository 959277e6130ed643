//! Smartcard sign-in at work through NHS CIS2 (OpenID Connect authorization code flow with
//! PKCE): `start` hands the front end the provider's authorization URL, `callback` exchanges
//! the code and answers a workplace session (`amr` `smartcard`, shorter lifetime).
//!
//! `state` is the flow itself (nonce, PKCE verifier, redirect URI, expiry) sealed under a key
//! every instance shares, so any instance finishes a flow another started and starting one
//! stores nothing; a state works once, for `ESR_OIDC_FLOW_TTL_SECS`. Every outcome of a
//! callback is audited, without codes, tokens, nonces or states.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use esr_domain::{AccountStatus, Coded, OrganisationCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::smartcard::{self, SmartcardError};
use crate::app::{Caller, Failure};
use crate::oidc::RsaJwkSet;
use crate::problem::{AsProblem, OrganisationChoice, ProblemCatalogue, ProblemSpec};
use crate::rate_limit::Limited;
use crate::routes::auth::TokenResponse;
use crate::state::AppState;

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
#[schema(example = json!({"redirect_uri": "https://portal.esr.example.org/smartcard/callback"}))]
pub struct StartRequest {
    /// The front end's callback page; must be on the configured allow-list (exact match).
    pub redirect_uri: String,
    /// The organisation to sign in to, for a smartcard linked to ESR records in several
    /// (the callback answered `organisation-choice-required` with the choices).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "999", pattern = "^[0-9A-Z]{3}$")]
    pub organisation_code: Option<OrganisationCode>,
}

/// Where to send the browser to sign in with the smartcard.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "authorization_url": "https://am.nhsidentity.spineservices.nhs.uk/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare/authorize?response_type=code&client_id=esr-access&redirect_uri=https%3A%2F%2Fportal.esr.example.org%2Fsmartcard%2Fcallback&scope=openid+profile&state=tV3c0n5W0Zb9kq7bq3Jr2g8Yh7fGf1Zk0PpLx2m4QeA&nonce=...&code_challenge=...&code_challenge_method=S256&acr_values=AAL3_ANY",
    "state": "tV3c0n5W0Zb9kq7bq3Jr2g8Yh7fGf1Zk0PpLx2m4QeA",
    "browser_binding": "q0Rk8sVh2Lw5Yx1Nc7Tj4Pb9Ga6Ed3Mf0Uz2Io8KyXs",
    "expires_at": "2026-11-25T09:10:00.000000Z"
}))]
pub struct StartResponse {
    /// Redirect the browser here (the provider's authorization endpoint with `state`,
    /// `nonce`, the PKCE challenge and `acr_values`).
    pub authorization_url: String,
    /// The `state` the provider will return with the code; the front end may check it.
    pub state: String,
    /// Keep this in the browser that starts the sign-in (session storage, never a URL) and
    /// send it back with the code: a code and state replayed from any other browser are
    /// refused, so nobody can sign someone else's browser in as themselves.
    #[schema(format = Password)]
    pub browser_binding: String,
    /// The sign-in must be completed (callback) before this time.
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub expires_at: DateTime<Utc>,
}

/// What the provider returned to the front end's callback page.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "5a1b0c3d-authorization-code", "state": "tV3c0n5W0Zb9kq7bq3Jr2g8Yh7fGf1Zk0PpLx2m4QeA", "browser_binding": "q0Rk8sVh2Lw5Yx1Nc7Tj4Pb9Ga6Ed3Mf0Uz2Io8KyXs"}))]
pub struct CallbackRequest {
    /// The authorization code (single use).
    #[schema(format = Password)]
    pub code: String,
    /// The `state` from the same redirect.
    pub state: String,
    /// The `browser_binding` that `start` gave this browser.
    #[schema(format = Password)]
    pub browser_binding: String,
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
            Self::Disabled => ProblemSpec::from_catalogue(
                StatusCode::SERVICE_UNAVAILABLE,
                "smartcard-login-disabled",
                "problem-smartcard-login-disabled",
                Vec::new(),
            ),
            Self::RedirectUriNotAllowed => ProblemSpec::from_catalogue(
                StatusCode::BAD_REQUEST,
                "redirect-uri-not-allowed",
                "problem-redirect-uri-not-allowed",
                Vec::new(),
            ),
            Self::InvalidRequest(detail) => ProblemSpec::new(
                StatusCode::BAD_REQUEST,
                "invalid-request-body",
                "Invalid request body",
                *detail,
            ),
            Self::InvalidState(_) => unauthorized(
                "smartcard-state-invalid",
                "This smartcard sign-in has expired, was already used or was started in another browser.",
            ),
            Self::CodeRejected(_) => unauthorized(
                "smartcard-code-rejected",
                "The NHS identity service did not accept this sign-in.",
            ),
            Self::InvalidIdToken(_) => unauthorized(
                "smartcard-token-invalid",
                "The answer of the NHS identity service could not be verified.",
            ),
            Self::AssuranceTooLow(_) => ProblemSpec::from_catalogue(
                StatusCode::FORBIDDEN,
                "smartcard-assurance-too-low",
                "problem-smartcard-assurance-too-low",
                Vec::new(),
            ),
            Self::NoEsrRecord => ProblemSpec::from_catalogue(
                StatusCode::FORBIDDEN,
                "no-esr-record",
                "problem-no-esr-record",
                Vec::new(),
            ),
            Self::OrganisationChoiceRequired(choices) => ProblemSpec::from_catalogue(
                StatusCode::CONFLICT,
                "organisation-choice-required",
                "problem-organisation-choice-required",
                Vec::new(),
            )
            .with_organisations(
                choices
                    .iter()
                    .map(|e| OrganisationChoice {
                        code: e.code.as_str().to_owned(),
                        name: e.name.clone(),
                    })
                    .collect(),
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
            Self::NoUsername(e) => {
                ProblemSpec::new(StatusCode::FORBIDDEN, e.code(), "No username", e.message())
            }
            Self::ProviderUnavailable(_) => ProblemSpec::from_catalogue(
                StatusCode::SERVICE_UNAVAILABLE,
                "identity-provider-unavailable",
                "problem-identity-provider-unavailable",
                Vec::new(),
            )
            .with_retry_after(30),
            Self::RateLimited(limited) => limited.problem(),
            Self::Failure(f) => f.problem(),
        }
    }
}
crate::problem_response!(SmartcardError);

/// The callback's problems (it can give them all).
impl ProblemCatalogue for SmartcardError {
    fn examples() -> Vec<ProblemSpec> {
        let demo = |code: &str, name: &str| smartcard::Employer {
            code: OrganisationCode::parse(code).expect("a valid example code"),
            name: name.to_owned(),
        };
        let mut examples: Vec<ProblemSpec> = [
            Self::Disabled,
            Self::InvalidRequest("Send code, state and browser_binding."),
            Self::InvalidState("expired"),
            Self::CodeRejected("invalid_grant".into()),
            Self::InvalidIdToken(crate::oidc::IdTokenRejection::Malformed),
            Self::AssuranceTooLow(2),
            Self::NoEsrRecord,
            Self::OrganisationChoiceRequired(vec![
                demo("999", "Demo NHS Trust"),
                demo("998", "Demo Community Health Services"),
            ]),
            Self::AccountUnusable(AccountStatus::Suspended),
            Self::AccountUnusable(AccountStatus::Disabled),
            Self::NoUsername(esr_domain::UsernameError::NoUsableLetters),
            Self::NoUsername(esr_domain::UsernameError::Exhausted),
            Self::ProviderUnavailable("connection refused".into()),
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
    /// The problems of starting a sign-in.
    StartProblems: Failure => [
        SmartcardError::Disabled,
        SmartcardError::RedirectUriNotAllowed,
        SmartcardError::InvalidRequest("redirect_uri is empty"),
        SmartcardError::ProviderUnavailable("connection refused".into()),
        Limited { retry_after_secs: 60 },
    ]
);

/// Start a smartcard sign-in (NHS CIS2). Returns the provider's authorization URL for the
/// browser, and a `browser_binding` for the callback. `state` carries the flow sealed (nonce and
/// PKCE verifier are never readable outside the service); it works for 10 minutes, once, and
/// only with the `browser_binding` of the browser that started. `acr_values` asks for a smartcard-strength sign-in (`AAL3_ANY` by default).
#[utoipa::path(
    operation_id = "smartcard_start",
    tag = "smartcard",
    request_body = StartRequest,
    responses(
        (status = 200, description = "Redirect the browser to `authorization_url`.", body = StartResponse),
        StartProblems,
    ),
)]
#[post("/auth/smartcard/start")]
pub async fn start(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<StartRequest>,
) -> Result<web::Json<StartResponse>, SmartcardError> {
    let StartRequest {
        redirect_uri,
        organisation_code,
    } = body.into_inner();
    let started = smartcard::start(
        &state,
        &caller,
        &redirect_uri,
        organisation_code,
        Utc::now(),
    )
    .await?;
    Ok(web::Json(StartResponse {
        authorization_url: started.authorization_url,
        state: started.state,
        browser_binding: started.browser_binding,
        expires_at: started.expires_at,
    }))
}

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
            "access_token_expires_at": "2026-11-25T09:15:00.000000Z",
            "refresh_token": "Vb0kT3pXc9LmQ2rWs8yHn4dFg7jKz1aEu6oIi5xPt0M",
            "refresh_token_expires_at": "2026-11-25T17:00:00.000000Z",
            "session_expires_at": "2026-11-25T17:00:00.000000Z"
        })),
        SmartcardError,
    ),
)]
#[post("/auth/smartcard/callback")]
pub async fn callback(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CallbackRequest>,
) -> Result<web::Json<TokenResponse>, SmartcardError> {
    let CallbackRequest {
        code,
        state: flow_state,
        browser_binding,
    } = body.into_inner();
    let tokens = smartcard::complete(
        &state,
        &caller,
        &code,
        &flow_state,
        &browser_binding,
        Utc::now(),
    )
    .await?;
    Ok(web::Json(tokens.into()))
}

/// The public keys of this service's `private_key_jwt` client authentication (JWK Set): give
/// this address (or its content) to the identity provider when registering the client.
/// Empty when a client secret is configured or smartcard sign-in is off.
#[utoipa::path(
    operation_id = "oidc_client_jwks",
    tag = "smartcard",
    responses(
        (status = 200, description = "RSA public keys of our client assertions.", body = RsaJwkSet, content_type = "application/jwk-set+json"),
        Failure,
    ),
)]
#[get("/.well-known/oidc-client-jwks.json")]
pub async fn client_jwks(state: web::Data<AppState>) -> Result<HttpResponse, SmartcardError> {
    let set = match state.oidc.as_deref() {
        Some(oidc) => oidc
            .client_jwks()
            .await
            .map_err(|e| SmartcardError::Failure(Failure::unexpected(e)))?,
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

    use crate::app::internet_access::AccessError;
    use crate::app::passwords::SetAtWorkError;
    use crate::app::smartcard::SmartcardError;
    use crate::oidc::id_token::IdTokenRejection;
    use crate::problem::{AsProblem, ProblemSpec};
    use crate::rate_limit::Limited;

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

    /// The examples Swagger UI shows for smartcard sign-in and Manage Internet Access are what
    /// the service really answers: same type and title for each code and status, and the real
    /// wording of the detail.
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
            AccessError::SmartcardRequired.problem(),
            SetAtWorkError::NotApproved(InternetAccessStatus::Pending).problem(),
            SetAtWorkError::NotApproved(InternetAccessStatus::NotRequested).problem(),
        ];
        for spec in real {
            let real = answer(spec);
            let code = real["code"].as_str().unwrap();
            let shown = by_code
                .get(code)
                .unwrap_or_else(|| panic!("no documented example of {code}"));
            let same = |e: &&Value, fields: &[&str]| fields.iter().all(|f| e[*f] == real[*f]);
            assert!(
                shown.iter().any(|e| same(&e, &["status", "type", "title"])),
                "{code}: no example has the real status, type and title of {real}"
            );
            assert!(
                shown
                    .iter()
                    .any(|e| same(&e, &["status", "title", "detail"]))
                    || code == "internet-access-not-approved",
                "{code}: no example has the real detail {}",
                real["detail"]
            );
        }
    }
}
