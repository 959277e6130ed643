//! The signed-in member of staff's second factors: list, add an authenticator app (with a
//! proof stronger than the password), confirm it, remove one, recovery codes, and the emailed
//! enrolment link.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use esr_domain::TotpCode;
use esr_persistence::second_factors::StoredFactor;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::Caller;
use crate::app::Failure;
use crate::app::factors::{self, FactorError};
use crate::app::passkeys;
use crate::auth::AnySession;
use crate::problem::{AsProblem, ProblemSpec};
use crate::routes::organisations::MfaPolicyBody;
use crate::state::AppState;

/// Registers the `/me/factors` routes (under `/v1`).
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    // The templated `/me/factors/{id}` last: a resource matched first by path answers
    // OPTIONS (and 405s) for the fixed paths beside it.
    cfg.service(list_factors)
        .service(start_totp)
        .service(confirm_totp)
        .service(start_passkey)
        .service(finish_passkey)
        .service(regenerate_recovery_codes)
        .service(send_enrolment_link)
        .service(remove_factor);
}

/// A second factor, never its secret.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5c2-7d1e-7c4b-9a8e-3f2d1c0b9a87",
    "kind": "totp",
    "name": "Work phone",
    "confirmed": true,
    "created_at": "2026-12-07T09:00:00.000000Z",
    "last_used_at": "2026-12-07T17:45:12.000000Z"
}))]
pub struct FactorBody {
    /// Id (for removal).
    #[schema(format = "uuid")]
    pub id: String,
    /// `totp` (authenticator app) or `passkey`.
    pub kind: &'static str,
    /// The name given when it was added.
    pub name: String,
    /// `false` until a first code confirms it; only confirmed factors are asked for.
    pub confirmed: bool,
    /// Added.
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub created_at: DateTime<Utc>,
    /// Last used to sign in.
    #[serde(serialize_with = "crate::timestamps::micros_opt")]
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<StoredFactor> for FactorBody {
    fn from(f: StoredFactor) -> Self {
        Self {
            confirmed: f.is_confirmed(),
            kind: f.kind.as_str(),
            id: f.id,
            name: f.name,
            created_at: f.created_at,
            last_used_at: f.last_used_at,
        }
    }
}

/// The account's sign-in methods.
#[derive(Debug, Serialize, ToSchema)]
pub struct FactorsBody {
    /// The organisation's policy: `off`, `optional` or `required`.
    pub mfa_policy: MfaPolicyBody,
    /// Every factor, oldest first.
    pub factors: Vec<FactorBody>,
    /// Unused recovery codes left.
    pub recovery_codes_remaining: i64,
}

impl AsProblem for FactorError {
    fn problem(&self) -> ProblemSpec {
        let spec =
            |status, code, title, detail: &str| ProblemSpec::new(status, code, title, detail);
        match self {
            Self::PolicyOff => spec(
                StatusCode::FORBIDDEN,
                "mfa-off",
                "Not available",
                "Your organisation does not use second sign-in methods.",
            ),
            Self::ProofRequired => spec(
                StatusCode::FORBIDDEN,
                "enrolment-proof-required",
                "More proof needed",
                "Your password alone cannot change sign-in methods. Sign in at work with your smartcard, sign in with a sign-in method you already have, or ask for an enrolment link (POST /v1/me/factors/enrolment-link) and send its token as enrolment_token.",
            ),
            Self::ExistingFactorRequired => spec(
                StatusCode::FORBIDDEN,
                "enrolment-proof-required",
                "More proof needed",
                "You have a sign-in method already: to add or change one, sign in with it (or at work with your smartcard). Emailed links only add the first.",
            ),
            Self::InvalidEnrolmentToken => spec(
                StatusCode::FORBIDDEN,
                "invalid-enrolment-token",
                "Link not valid",
                "The enrolment link is not valid: it was used, has expired, or belongs to another account. Ask for a new one.",
            ),
            Self::InvalidName(detail) => spec(
                StatusCode::BAD_REQUEST,
                "invalid-factor-name",
                "Invalid name",
                detail,
            ),
            Self::NotFound => spec(
                StatusCode::NOT_FOUND,
                "factor-not-found",
                "Not found",
                "No sign-in method of yours has this id.",
            ),
            Self::AlreadyConfirmed => spec(
                StatusCode::CONFLICT,
                "factor-already-confirmed",
                "Already confirmed",
                "This authenticator app is confirmed already.",
            ),
            Self::WrongCode => spec(
                StatusCode::BAD_REQUEST,
                "invalid-second-factor",
                "Code not correct",
                "The code does not match. Check the time on your phone and enter the code your authenticator app shows now.",
            ),
            Self::LastFactorRequired => spec(
                StatusCode::CONFLICT,
                "last-factor-required",
                "Cannot remove",
                "Your organisation requires a second sign-in method: add another before removing this one.",
            ),
            Self::NoFactor => spec(
                StatusCode::CONFLICT,
                "no-factor",
                "No sign-in method",
                "Add an authenticator app or a passkey first; recovery codes come with it.",
            ),
            Self::TooManyLinks => spec(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-emails",
                "Too many emails",
                "Three links were sent to your work email address in the last hour. Use the newest, or try again later.",
            )
            .with_retry_after(1200),
            Self::PasskeysUnavailable => spec(
                StatusCode::SERVICE_UNAVAILABLE,
                "passkeys-unavailable",
                "Passkeys not available",
                "Passkeys cannot be used with this service's address; use an authenticator app.",
            ),
            Self::PasskeyRejected(_) => spec(
                StatusCode::BAD_REQUEST,
                "passkey-rejected",
                "Passkey not accepted",
                "The passkey could not be checked. Start again from this service's own page, and unlock the passkey with your fingerprint, face or PIN when asked.",
            ),
            Self::ContactChangeHold(until) => crate::problem::contact_change_hold_problem(
                "Your work email or smartcard details were changed recently. For your security, sign-in methods can be changed once the waiting time after the change has passed (see Retry-After), or now from a session signed in with a sign-in method you already have. If you did not expect the change, contact your System Administrator.",
                *until,
            ),
            Self::Failure(f) => f.problem(),
        }
    }
}
crate::problem_response!(FactorError);

/// Every problem of the factor operations; each operation declares its own below.
impl crate::problem::ProblemCatalogue for FactorError {
    fn examples() -> Vec<ProblemSpec> {
        <Failure as crate::problem::ProblemCatalogue>::examples()
    }
}

/// A contact-change hold, for the examples.
fn hold() -> FactorError {
    FactorError::ContactChangeHold(crate::problem::example_hold_end())
}

crate::operation_problems!(
    /// The problems of starting an authenticator app.
    StartTotpProblems: FactorError => [
        FactorError::InvalidName("Use at most 60 characters."),
        FactorError::PolicyOff,
        FactorError::ProofRequired,
        FactorError::InvalidEnrolmentToken,
        hold(),
    ]
);

crate::operation_problems!(
    /// The problems of confirming an authenticator app.
    ConfirmTotpProblems: FactorError => [
        FactorError::WrongCode,
        FactorError::NotFound,
        FactorError::AlreadyConfirmed,
    ]
);

crate::operation_problems!(
    /// The problems of starting to add a passkey.
    StartPasskeyProblems: FactorError => [
        FactorError::InvalidName("Use at most 60 characters."),
        FactorError::PolicyOff,
        FactorError::ProofRequired,
        FactorError::InvalidEnrolmentToken,
        hold(),
        FactorError::PasskeysUnavailable,
    ]
);

crate::operation_problems!(
    /// The problems of finishing adding a passkey.
    FinishPasskeyProblems: FactorError => [
        FactorError::PasskeyRejected(String::new()),
        FactorError::NotFound,
        hold(),
        FactorError::PasskeysUnavailable,
    ]
);

crate::operation_problems!(
    /// The problems of removing a sign-in method.
    RemoveFactorProblems: FactorError => [
        FactorError::ProofRequired,
        hold(),
        FactorError::NotFound,
        FactorError::LastFactorRequired,
    ]
);

crate::operation_problems!(
    /// The problems of new recovery codes.
    RegenerateProblems: FactorError => [
        FactorError::ProofRequired,
        hold(),
        FactorError::NoFactor,
    ]
);

crate::operation_problems!(
    /// The problems of asking for an enrolment link.
    EnrolmentLinkProblems: FactorError => [
        FactorError::PolicyOff,
        FactorError::ExistingFactorRequired,
        hold(),
        FactorError::TooManyLinks,
    ]
);

/// The signed-in person's sign-in methods (never a secret), the organisation's policy and how
/// many recovery codes are left. Works in a session limited to enrolment.
#[utoipa::path(
    tag = "self",
    path = "/me/factors",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The sign-in methods.", body = FactorsBody),
        FactorError,
    ),
)]
#[get("/me/factors")]
pub async fn list_factors(
    state: web::Data<AppState>,
    AnySession(auth): AnySession,
) -> Result<web::Json<FactorsBody>, FactorError> {
    let overview = factors::overview(&state, &auth.session).await?;
    Ok(web::Json(FactorsBody {
        mfa_policy: overview.policy.into(),
        factors: overview.factors.into_iter().map(Into::into).collect(),
        recovery_codes_remaining: overview.recovery_codes_remaining,
    }))
}

/// A new authenticator app.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Work phone", "enrolment_token": "dGhlLWVucm9sbWVudC1saW5rLXRva2VuLWZyb20tdGhlLWVtYWls"}))]
pub struct StartTotpRequest {
    /// A name to tell it from others (default `Authenticator app`), up to 60 characters.
    #[serde(default)]
    pub name: Option<String>,
    /// The token of an emailed enrolment link: needed when the session is a password
    /// session without a second factor.
    #[serde(default)]
    #[schema(format = Password)]
    pub enrolment_token: Option<String>,
}

/// A pending authenticator app: scan the QR code (or type the secret), then confirm with a
/// first code. The secret is shown only in this answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5c2-7d1e-7c4b-9a8e-3f2d1c0b9a87",
    "name": "Work phone",
    "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    "otpauth_uri": "otpauth://totp/ESR:999JSMITH01?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=ESR",
    "qr_svg": "<?xml version=\"1.0\" standalone=\"yes\"?><svg xmlns=\"http://www.w3.org/2000/svg\" …</svg>"
}))]
pub struct PendingTotpBody {
    /// The factor's id: confirm it at `POST /v1/me/factors/totp/{id}/confirm`.
    #[schema(format = "uuid")]
    pub id: String,
    /// Its name.
    pub name: String,
    /// The secret in base32, for typing into the app by hand.
    pub secret: String,
    /// `otpauth://` URI (SHA-1, 6 digits, 30 seconds) for apps that open links.
    pub otpauth_uri: String,
    /// The URI as a QR code: an SVG document.
    pub qr_svg: String,
}

/// Add an authenticator app (pending until confirmed by this session, within 10 minutes).
/// Needs a workplace (smartcard) session, a session completed with a second factor, or, for
/// the account's first method, an `enrolment_token` from an emailed link. Replaces any other
/// pending authenticator app.
#[utoipa::path(
    tag = "self",
    path = "/me/factors/totp",
    security(("bearerAuth" = [])),
    request_body = StartTotpRequest,
    responses(
        (status = 201, description = "Pending: scan the QR code, then confirm with a code.", body = PendingTotpBody),
        StartTotpProblems,
    ),
)]
#[post("/me/factors/totp")]
pub async fn start_totp(
    state: web::Data<AppState>,
    AnySession(auth): AnySession,
    body: web::Json<StartTotpRequest>,
) -> Result<HttpResponse, FactorError> {
    let pending = factors::start_totp(
        &state,
        &auth.session,
        body.name.as_deref(),
        body.enrolment_token.as_deref(),
        Utc::now(),
    )
    .await?;
    Ok(HttpResponse::Created().json(PendingTotpBody {
        id: pending.factor_id,
        name: pending.name,
        secret: pending.secret_base32,
        otpauth_uri: pending.otpauth_uri,
        qr_svg: pending.qr_svg,
    }))
}

/// A first code from the new authenticator app.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "492039"}))]
pub struct ConfirmTotpRequest {
    /// Six digits (spaces allowed).
    pub code: String,
}

/// The confirmed factor, and the recovery codes issued with a first one.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "factor": {"id": "0193a5c2-7d1e-7c4b-9a8e-3f2d1c0b9a87", "kind": "totp", "name": "Work phone", "confirmed": true, "created_at": "2026-12-07T09:00:00.000000Z", "last_used_at": "2026-12-07T09:00:40.000000Z"},
    "recovery_codes": ["7KQ2-M9XD-4TPA", "H3WC-8N2R-QZ5E", "…"]
}))]
pub struct ConfirmedBody {
    /// The factor, now asked for at every password login.
    pub factor: FactorBody,
    /// With the account's first factor: ten single-use recovery codes, shown only here.
    /// Keep them somewhere safe; each signs in once without the app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

impl From<factors::Confirmed> for ConfirmedBody {
    fn from(confirmed: factors::Confirmed) -> Self {
        Self {
            factor: confirmed.factor.into(),
            recovery_codes: confirmed.recovery_codes,
        }
    }
}

/// Confirm a pending authenticator app with a code from it: only the session that added it,
/// within 10 minutes; five wrong codes end it. The account's first factor comes with ten
/// recovery codes, shown only in this answer, and ends every other session opened with a
/// password alone. The session that confirms it counts as signed in with it (no longer
/// limited to enrolment).
#[utoipa::path(
    tag = "self",
    path = "/me/factors/totp/{id}/confirm",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The pending factor's id.")),
    request_body = ConfirmTotpRequest,
    responses(
        (status = 200, description = "Confirmed.", body = ConfirmedBody),
        ConfirmTotpProblems,
    ),
)]
#[post("/me/factors/totp/{id}/confirm")]
pub async fn confirm_totp(
    state: web::Data<AppState>,
    caller: Caller,
    AnySession(auth): AnySession,
    id: web::Path<String>,
    body: web::Json<ConfirmTotpRequest>,
) -> Result<web::Json<ConfirmedBody>, FactorError> {
    let code = TotpCode::parse(&body.code).map_err(|_| FactorError::WrongCode)?;
    let confirmed =
        factors::confirm_totp(&state, &caller, &auth.session, &id, &code, Utc::now()).await?;
    Ok(web::Json(confirmed.into()))
}

/// A passkey registration under way: hand `options` to `navigator.credentials.create()`
/// (binary fields are base64url: decode `challenge`, `user.id` and each `excludeCredentials`
/// id), or as `requestJson` to Android's Credential Manager, then send what it makes to
/// `POST /v1/me/factors/passkey/{ceremony_id}/confirm` within `expires_in` seconds.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "ceremony_id": "5b0c7a52-3f7e-4e1a-9d8e-6a1f0c2b3d4e",
    "options": {"publicKey": {
        "rp": {"name": "NHS Electronic Staff Record", "id": "my.esr.example.org"},
        "user": {"id": "bz8Ryo5aTMGLji4qT5pX", "name": "999JSMITH01", "displayName": "999JSMITH01"},
        "challenge": "q0Rk8sVh2Lw5Yx1Nc7Tj4Pb9Ga6Ed3Mf0Uz2Io8KyXs",
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}],
        "timeout": 300000,
        "attestation": "none",
        "excludeCredentials": [],
        "authenticatorSelection": {"residentKeyRequirement": "discouraged", "requireResidentKey": false, "userVerification": "required"}
    }},
    "expires_in": 300
}))]
pub struct PasskeyRegistrationBody {
    /// Confirm with this id.
    #[schema(format = "uuid")]
    pub ceremony_id: String,
    /// `{"publicKey": PublicKeyCredentialCreationOptions}`.
    #[schema(value_type = Object)]
    pub options: webauthn_rs::prelude::CreationChallengeResponse,
    /// Seconds the registration can be confirmed.
    pub expires_in: u64,
}

/// Add a passkey or security key: the same proof as an authenticator app (a workplace session,
/// a session completed with a second factor, or, for the account's first method, an
/// `enrolment_token` from an emailed link). Answers the options for the browser or phone; the
/// passkey is added when its credential comes back (`…/confirm`). Its relying party is the host
/// of the self-service pages.
#[utoipa::path(
    tag = "self",
    path = "/me/factors/passkey",
    security(("bearerAuth" = [])),
    request_body = StartTotpRequest,
    responses(
        (status = 201, description = "Under way: make the credential, then confirm.", body = PasskeyRegistrationBody),
        StartPasskeyProblems,
    ),
)]
#[post("/me/factors/passkey")]
pub async fn start_passkey(
    state: web::Data<AppState>,
    AnySession(auth): AnySession,
    body: web::Json<StartTotpRequest>,
) -> Result<HttpResponse, FactorError> {
    let started = passkeys::start_registration(
        &state,
        &auth.session,
        body.name.as_deref(),
        body.enrolment_token.as_deref(),
        Utc::now(),
    )
    .await?;
    Ok(HttpResponse::Created().json(PasskeyRegistrationBody {
        ceremony_id: started.ceremony_id,
        options: started.options,
        expires_in: started.expires_in,
    }))
}

/// The credential the browser or phone made.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmPasskeyRequest {
    /// The `PublicKeyCredential` from `navigator.credentials.create()` as JSON, binary fields
    /// in base64url (`id`, `rawId`, `response.attestationObject`, `response.clientDataJSON`;
    /// `type` `public-key`).
    #[schema(value_type = Object)]
    pub credential: Box<webauthn_rs::prelude::RegisterPublicKeyCredential>,
}

/// Confirm a passkey with the credential made for the options of `POST /v1/me/factors/passkey`:
/// only the session that started it, once, within five minutes. The passkey is then asked for
/// at every password login (`methods` `passkey`); the account's first method comes with ten
/// recovery codes and ends every other session opened with a password alone. The session that
/// adds it counts as signed in with it.
#[utoipa::path(
    tag = "self",
    path = "/me/factors/passkey/{ceremony_id}/confirm",
    security(("bearerAuth" = [])),
    params(("ceremony_id" = String, Path, description = "From the registration's start.")),
    request_body = ConfirmPasskeyRequest,
    responses(
        (status = 200, description = "Added.", body = ConfirmedBody),
        FinishPasskeyProblems,
    ),
)]
#[post("/me/factors/passkey/{ceremony_id}/confirm")]
pub async fn finish_passkey(
    state: web::Data<AppState>,
    caller: Caller,
    AnySession(auth): AnySession,
    ceremony_id: web::Path<String>,
    body: web::Json<ConfirmPasskeyRequest>,
) -> Result<web::Json<ConfirmedBody>, FactorError> {
    let confirmed = passkeys::finish_registration(
        &state,
        &caller,
        &auth.session,
        &ceremony_id,
        &body.credential,
        Utc::now(),
    )
    .await?;
    Ok(web::Json(confirmed.into()))
}

/// Remove a sign-in method. A confirmed one needs a session that signed in with a second
/// factor (or a workplace session); every other session of the account ends, and the holder
/// is emailed. Where the organisation requires a second factor, the last cannot be removed.
#[utoipa::path(
    tag = "self",
    path = "/me/factors/{id}",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The factor's id.")),
    responses(
        (status = 204, description = "Removed."),
        RemoveFactorProblems,
    ),
)]
#[delete("/me/factors/{id}")]
pub async fn remove_factor(
    state: web::Data<AppState>,
    caller: Caller,
    AnySession(auth): AnySession,
    id: web::Path<String>,
) -> Result<HttpResponse, FactorError> {
    factors::remove(&state, &caller, &auth.session, &id, Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new set of recovery codes.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"recovery_codes": ["7KQ2-M9XD-4TPA", "H3WC-8N2R-QZ5E", "…"]}))]
pub struct RecoveryCodesBody {
    /// Ten single-use codes, shown only here; the previous set no longer works.
    pub recovery_codes: Vec<String>,
}

/// Issue a new set of ten recovery codes; the old set stops working. Needs a session that
/// signed in with a second factor (or a workplace session).
#[utoipa::path(
    tag = "self",
    path = "/me/factors/recovery-codes",
    security(("bearerAuth" = [])),
    responses(
        (status = 201, description = "The new codes.", body = RecoveryCodesBody),
        RegenerateProblems,
    ),
)]
#[post("/me/factors/recovery-codes")]
pub async fn regenerate_recovery_codes(
    state: web::Data<AppState>,
    caller: Caller,
    AnySession(auth): AnySession,
) -> Result<HttpResponse, FactorError> {
    let codes =
        factors::regenerate_recovery_codes(&state, &caller, &auth.session, Utc::now()).await?;
    Ok(HttpResponse::Created().json(RecoveryCodesBody {
        recovery_codes: codes,
    }))
}

/// Email a one-time enrolment link to the account's work email. Its token (in the link's
/// `#token=` fragment) lets a password session of the account add its first sign-in method,
/// for 30 minutes. A new link replaces the previous one; three an hour at most. An account
/// with a sign-in method already adds another by signing in with it.
#[utoipa::path(
    tag = "self",
    path = "/me/factors/enrolment-link",
    security(("bearerAuth" = [])),
    responses(
        (status = 202, description = "The link is on its way to the work email."),
        EnrolmentLinkProblems,
    ),
)]
#[post("/me/factors/enrolment-link")]
pub async fn send_enrolment_link(
    state: web::Data<AppState>,
    caller: Caller,
    AnySession(auth): AnySession,
) -> Result<HttpResponse, FactorError> {
    factors::send_enrolment_link(&state, &caller, &auth.session, Utc::now()).await?;
    Ok(HttpResponse::Accepted().finish())
}
