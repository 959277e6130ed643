//! "Manage Internet Access" (ESR user guide): the signed-in member of staff's ESR username
//! and internet-access status, the request for access, and "Reset Password" at work, where
//! the smartcard is the proof and no current password is needed.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use esr_domain::{InternetAccessStatus, Password};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::Caller;
use crate::app::internet_access::{self, AccessError, AccessPage};
use crate::app::passwords::{self, SetAtWorkError};
use crate::auth::{AuthError, Authenticated};
use crate::problem::{AsProblem, Problem, ProblemSpec, policy_problem};
use crate::state::AppState;

/// Registers the internet-access routes (under `/v1`).
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(get_internet_access)
        .service(request_internet_access)
        .service(set_password);
}

/// The employing organisation and how it approves internet access.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationAccess {
    /// Organisation code (every username starts with it), e.g. `999`.
    pub code: String,
    /// Organisation name.
    pub name: String,
    /// `automatic` (requests are approved at once) or `manual` (an administrator approves).
    pub approval: String,
}

/// The "Manage Internet Access" page.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "username": "999SJONES01",
    "status": "approved",
    "status_changed_at": "2026-11-25T09:02:11Z",
    "password_set": true,
    "password_changed_at": "2026-11-25T09:03:40Z",
    "organisation": {"code": "999", "name": "Demo NHS Trust", "approval": "automatic"}
}))]
pub struct InternetAccess {
    /// ESR username: use it with the password to log in from home and in the My ESR app.
    pub username: String,
    /// Internet-access status: `not_requested`, `pending`, `approved`, `rejected` or `revoked`.
    pub status: String,
    /// When the status last changed.
    pub status_changed_at: Option<DateTime<Utc>>,
    /// Whether a password is set (never the password itself).
    pub password_set: bool,
    /// When the password was last set.
    pub password_changed_at: Option<DateTime<Utc>>,
    /// The employing organisation and its approval mode.
    pub organisation: OrganisationAccess,
}

/// The new password, typed twice.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"new_password": "Wandering heron at dusk", "confirm_password": "Wandering heron at dusk"}))]
pub struct SetPasswordRequest {
    /// New Password.
    #[schema(value_type = String, format = Password)]
    pub new_password: Password,
    /// Retype Password.
    #[schema(value_type = String, format = Password)]
    pub confirm_password: Password,
}

fn account_gone() -> ProblemSpec {
    ProblemSpec::new(
        StatusCode::UNAUTHORIZED,
        "invalid-token",
        "Unauthorized",
        "The account of this session no longer exists.",
    )
}

fn smartcard_required() -> ProblemSpec {
    ProblemSpec::new(
        StatusCode::FORBIDDEN,
        "smartcard-required",
        "Smartcard sign-in required",
        "Manage Internet Access is only available at work: sign in to ESR with your smartcard.",
    )
}

impl AsProblem for AccessError {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::AccountGone => account_gone(),
            Self::SmartcardRequired => smartcard_required(),
            Self::Failure(f) => f.problem(),
        }
    }
}
crate::problem_response!(AccessError);

impl AsProblem for SetAtWorkError {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::SessionEnded => AuthError::SessionEnded(None).problem(),
            Self::SmartcardRequired => smartcard_required(),
            Self::NotApproved(status) => ProblemSpec::new(
                StatusCode::FORBIDDEN,
                "internet-access-not-approved",
                "Internet access not approved",
                match status {
                    InternetAccessStatus::Pending => {
                        "Your request for internet access is waiting for approval by your organisation. You can set your password once it is approved."
                    }
                    _ => {
                        "Request internet access first; you can set your password once it is approved."
                    }
                },
            ),
            Self::Policy(violations) => policy_problem(violations),
            Self::ContactChangeHold(until) => {
                crate::problem::contact_change_hold_problem(CONTACT_CHANGE_HOLD, *until)
            }
            Self::Failure(f) => f.problem(),
        }
    }
}
crate::problem_response!(SetAtWorkError);

const CONTACT_CHANGE_HOLD: &str = "Your work email or smartcard details were changed recently. For your security you can set your password once the waiting time after the change has passed (see Retry-After). If you did not expect the change, contact your System Administrator.";

impl From<AccessPage> for InternetAccess {
    fn from(page: AccessPage) -> Self {
        let p = page.profile;
        Self {
            username: p.account.username.as_str().to_owned(),
            status: p.account.internet_access.as_str().to_owned(),
            status_changed_at: p.account.internet_access_changed_at,
            password_set: p.account.password_hash.is_some(),
            password_changed_at: p.account.password_changed_at,
            organisation: OrganisationAccess {
                code: p.account.organisation_code.as_str().to_owned(),
                name: p.organisation_name,
                approval: page.approval.as_str().to_owned(),
            },
        }
    }
}

/// Manage Internet Access: the ESR username, whether a password is set, the internet-access
/// status and how the organisation approves requests. Any session.
#[utoipa::path(
    tag = "internet-access",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The member of staff's internet access.", body = InternetAccess),
        (status = 401, description = "No valid access token: `invalid-token` (invalid or expired, or the session ended) or `unauthenticated` (none sent).", body = Problem, content_type = "application/problem+json", examples(
            ("invalid-token" = (summary = "Invalid or expired access token", value = json!({"type": "/problems/invalid-token", "title": "Unauthorized", "status": 401, "detail": "The access token is invalid or expired, or its session has ended. Refresh it or log in again.", "code": "invalid-token", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
            ("unauthenticated" = (summary = "No access token", value = json!({"type": "/problems/unauthenticated", "title": "Unauthorized", "status": 401, "detail": "Send an access token: Authorization: Bearer <token> (from POST /v1/auth/login).", "code": "unauthenticated", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
        )),
        (status = 503, description = "`database-unavailable` (see `Retry-After`).", body = Problem, content_type = "application/problem+json", example = json!({"type": "/problems/database-unavailable", "title": "Service Unavailable", "status": 503, "detail": "The service is busy or its database is unavailable; try again shortly.", "code": "database-unavailable", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"})),
    ),
)]
#[get("/me/internet-access")]
pub async fn get_internet_access(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<web::Json<InternetAccess>, AccessError> {
    let page = internet_access::page(&state, &auth.session).await?;
    Ok(web::Json(page.into()))
}

/// Request Internet Access (workplace session). Organisations with `automatic` approval
/// approve at once; `manual` ones leave the request `pending` for an administrator.
/// Idempotent: asking again while `pending` or `approved` changes nothing.
#[utoipa::path(
    tag = "internet-access",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The internet access after the request (`approved` or `pending`).", body = InternetAccess),
        (status = 401, description = "No valid access token: `invalid-token` (invalid or expired, or the session ended) or `unauthenticated` (none sent).", body = Problem, content_type = "application/problem+json", examples(
            ("invalid-token" = (summary = "Invalid or expired access token", value = json!({"type": "/problems/invalid-token", "title": "Unauthorized", "status": 401, "detail": "The access token is invalid or expired, or its session has ended. Refresh it or log in again.", "code": "invalid-token", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
            ("unauthenticated" = (summary = "No access token", value = json!({"type": "/problems/unauthenticated", "title": "Unauthorized", "status": 401, "detail": "Send an access token: Authorization: Bearer <token> (from POST /v1/auth/login).", "code": "unauthenticated", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
        )),
        (status = 403, description = "`smartcard-required`: a password session cannot request access.", body = Problem, content_type = "application/problem+json", example = json!({"type": "/problems/smartcard-required", "title": "Smartcard sign-in required", "status": 403, "detail": "Manage Internet Access is only available at work: sign in to ESR with your smartcard.", "code": "smartcard-required", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"})),
        (status = 503, description = "`database-unavailable` (see `Retry-After`).", body = Problem, content_type = "application/problem+json", example = json!({"type": "/problems/database-unavailable", "title": "Service Unavailable", "status": 503, "detail": "The service is busy or its database is unavailable; try again shortly.", "code": "database-unavailable", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"})),
    ),
)]
#[post("/me/internet-access")]
pub async fn request_internet_access(
    state: web::Data<AppState>,
    caller: Caller,
    auth: Authenticated,
) -> Result<web::Json<InternetAccess>, AccessError> {
    let page = internet_access::request(&state, &caller, &auth.session, Utc::now()).await?;
    Ok(web::Json(page.into()))
}

/// Reset Password at work: set the password used from home and in the My ESR app (new +
/// retype; no current password, the smartcard is the proof). Needs a workplace session and
/// `approved` internet access. The full password policy applies, including "not the same as
/// any previous 4 passwords". Clears a lockout and ends the account's other sessions.
#[utoipa::path(
    operation_id = "set_internet_access_password",
    tag = "internet-access",
    security(("bearerAuth" = [])),
    request_body = SetPasswordRequest,
    responses(
        (status = 204, description = "Password set."),
        (status = 400, description = "`password-policy` with every violation, or a malformed request (`invalid-request-body`).", body = Problem, content_type = "application/problem+json", examples(
            ("password-policy" = (summary = "password1: every broken rule at once", value = json!({"type": "/problems/password-policy", "title": "Password not accepted", "status": 400, "detail": "The new password does not meet the password policy; see violations.", "code": "password-policy", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10", "violations": [
                {"code": "password-too-short", "field": "new_password", "message": "Password must be a minimum of 12 characters"},
                {"code": "password-common", "field": "new_password", "message": "Commonly used passwords, like \"password1\" are not allowed"}
            ]}))),
            ("invalid-request-body" = (summary = "Malformed request", value = json!({"type": "/problems/invalid-request-body", "title": "Invalid request body", "status": 400, "detail": "The request body does not match the expected schema: missing field `confirm_password` at line 1 column 40.", "code": "invalid-request-body", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
        )),
        (status = 401, description = "No valid access token: `invalid-token` (invalid or expired, or the session ended) or `unauthenticated` (none sent).", body = Problem, content_type = "application/problem+json", examples(
            ("invalid-token" = (summary = "Invalid or expired access token", value = json!({"type": "/problems/invalid-token", "title": "Unauthorized", "status": 401, "detail": "The access token is invalid or expired, or its session has ended. Refresh it or log in again.", "code": "invalid-token", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
            ("unauthenticated" = (summary = "No access token", value = json!({"type": "/problems/unauthenticated", "title": "Unauthorized", "status": 401, "detail": "Send an access token: Authorization: Bearer <token> (from POST /v1/auth/login).", "code": "unauthenticated", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
        )),
        (status = 403, description = "`smartcard-required` (a password session), `internet-access-not-approved`, or `contact-change-hold` (the work email or smartcard changed within `ESR_CONTACT_CHANGE_HOLD_HOURS`; `Retry-After` says when it ends).", body = Problem, content_type = "application/problem+json", examples(
            ("smartcard-required" = (summary = "A password session (from home or the My ESR app)", value = json!({"type": "/problems/smartcard-required", "title": "Smartcard sign-in required", "status": 403, "detail": "Manage Internet Access is only available at work: sign in to ESR with your smartcard.", "code": "smartcard-required", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
            ("internet-access-not-approved" = (summary = "Internet access not (yet) approved", value = json!({"type": "/problems/internet-access-not-approved", "title": "Internet access not approved", "status": 403, "detail": "Your request for internet access is waiting for approval by your organisation. You can set your password once it is approved.", "code": "internet-access-not-approved", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
        )),
        (status = 413, description = "`payload-too-large`: JSON bodies are limited to 16 KiB.", body = Problem, content_type = "application/problem+json", example = json!({"type": "/problems/payload-too-large", "title": "Payload Too Large", "status": 413, "detail": "The request body is larger than the limit of 16384 bytes.", "code": "payload-too-large", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"})),
        (status = 415, description = "`unsupported-media-type`: send `Content-Type: application/json`.", body = Problem, content_type = "application/problem+json", example = json!({"type": "/problems/unsupported-media-type", "title": "Unsupported Media Type", "status": 415, "detail": "Send the request body as application/json.", "code": "unsupported-media-type", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"})),
        (status = 503, description = "`busy`: password hashing at capacity, or `database-unavailable` (see `Retry-After`).", body = Problem, content_type = "application/problem+json", examples(
            ("busy" = (summary = "Password hashing at capacity", value = json!({"type": "/problems/busy", "title": "Service Unavailable", "status": 503, "detail": "The service is busy. Please try again in a moment.", "code": "busy", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
            ("database-unavailable" = (summary = "The database is unavailable", value = json!({"type": "/problems/database-unavailable", "title": "Service Unavailable", "status": 503, "detail": "The service is busy or its database is unavailable; try again shortly.", "code": "database-unavailable", "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"}))),
        )),
    ),
)]
#[put("/me/internet-access/password")]
pub async fn set_password(
    state: web::Data<AppState>,
    caller: Caller,
    auth: Authenticated,
    body: web::Json<SetPasswordRequest>,
) -> Result<HttpResponse, SetAtWorkError> {
    let SetPasswordRequest {
        new_password,
        confirm_password,
    } = body.into_inner();
    passwords::set_at_work(
        &state,
        &caller,
        &auth.session,
        new_password,
        confirm_password,
        Utc::now(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
