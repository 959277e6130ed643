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
use crate::app::Failure;
use crate::app::internet_access::{self, AccessError, AccessPage};
use crate::app::passwords::{self, SetAtWorkError};
use crate::auth::{AuthError, Authenticated};
use crate::problem::{AsProblem, ProblemCatalogue, ProblemSpec, policy_problem};
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
    "status_changed_at": "2026-11-25T09:02:11.000000Z",
    "password_set": true,
    "password_changed_at": "2026-11-25T09:03:40.000000Z",
    "organisation": {"code": "999", "name": "Demo NHS Trust", "approval": "automatic"}
}))]
pub struct InternetAccess {
    /// ESR username: use it with the password to log in from home and in the My ESR app.
    pub username: String,
    /// Internet-access status: `not_requested`, `pending`, `approved`, `rejected` or `revoked`.
    #[schema(schema_with = crate::routes::closed_sets::internet_access)]
    pub status: String,
    /// When the status last changed.
    #[serde(serialize_with = "crate::timestamps::micros_opt")]
    pub status_changed_at: Option<DateTime<Utc>>,
    /// Whether a password is set (never the password itself).
    pub password_set: bool,
    /// When the password was last set.
    #[serde(serialize_with = "crate::timestamps::micros_opt")]
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
    ProblemSpec::from_catalogue(
        StatusCode::UNAUTHORIZED,
        "invalid-token",
        "problem-invalid-token--account-gone",
        Vec::new(),
    )
}

fn smartcard_required() -> ProblemSpec {
    ProblemSpec::from_catalogue(
        StatusCode::FORBIDDEN,
        "smartcard-required",
        "problem-smartcard-required",
        Vec::new(),
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

impl ProblemCatalogue for AccessError {
    fn examples() -> Vec<ProblemSpec> {
        let mut examples = vec![
            Self::AccountGone.problem(),
            Self::SmartcardRequired.problem(),
            AuthError::EnrolmentRequired.problem(),
        ];
        examples.extend(Failure::examples());
        examples
    }
}

crate::operation_problems!(
    /// The problems of reading Manage Internet Access.
    GetAccessProblems: Failure => [AccessError::AccountGone, AuthError::EnrolmentRequired]
);

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

impl ProblemCatalogue for SetAtWorkError {
    fn examples() -> Vec<ProblemSpec> {
        let mut examples: Vec<ProblemSpec> = [
            Self::SessionEnded,
            Self::SmartcardRequired,
            Self::NotApproved(InternetAccessStatus::Pending),
            Self::ContactChangeHold(crate::problem::example_hold_end()),
        ]
        .iter()
        .map(AsProblem::problem)
        .collect();
        examples.push(crate::problem::policy_problem_example());
        examples.push(AuthError::EnrolmentRequired.problem());
        examples.extend(Failure::examples());
        examples
    }
}

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
        GetAccessProblems,
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
        AccessError,
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
        SetAtWorkError,
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
