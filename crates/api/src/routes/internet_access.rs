//! "Manage Internet Access" (ESR user guide): the signed-in member of staff's ESR username
//! and internet-access status, the request for access, and "Reset Password" at work, where
//! the smartcard is the proof and no current password is needed.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use esr_domain::{InternetAccessStatus, Password};
use esr_persistence::accounts::{self, AccountProfile};
use esr_persistence::sessions::{self, SessionKind};
use esr_persistence::{DbConnection, RepoError, organisations};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::audit::{self, account_actor};
use crate::auth::Authenticated;
use crate::client::Client;
use crate::password_change::{
    NewPasswordForm, PrepareError, Verdict, busy_problem, check_new_password, policy_problem,
};
use crate::problem::{AsProblem, Problem, ProblemSpec, internal_error};
use crate::state::{AppState, StorageError};

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

/// Errors of the internet-access routes.
#[derive(Debug, thiserror::Error)]
pub enum InternetAccessError {
    /// The account behind the session is gone.
    #[error("account not found")]
    AccountGone,
    /// A password session tried what needs the smartcard.
    #[error("smartcard session required")]
    SmartcardRequired,
    /// Setting a password needs approved internet access.
    #[error("internet access is {}", .0.as_str())]
    NotApproved(InternetAccessStatus),
    /// The new password breaks the policy.
    #[error("password policy")]
    Policy(Vec<esr_domain::Violation>),
    /// Hashing at capacity.
    #[error("overloaded")]
    Overloaded,
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Something that should not fail did.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<PrepareError> for InternetAccessError {
    fn from(e: PrepareError) -> Self {
        match e {
            PrepareError::AccountGone => Self::AccountGone,
            PrepareError::Storage(e) => Self::Storage(e),
            PrepareError::Internal(e) => Self::Internal(e),
        }
    }
}

impl AsProblem for InternetAccessError {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::AccountGone => ProblemSpec::new(
                StatusCode::UNAUTHORIZED,
                "invalid-token",
                "Unauthorized",
                "The account of this session no longer exists.",
            ),
            Self::SmartcardRequired => ProblemSpec::new(
                StatusCode::FORBIDDEN,
                "smartcard-required",
                "Smartcard sign-in required",
                "Manage Internet Access is only available at work: sign in to ESR with your smartcard.",
            ),
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
            Self::Overloaded => busy_problem(),
            Self::Storage(e) => e.problem(),
            Self::Internal(_) => internal_error(self),
        }
    }
}
crate::problem_response!(InternetAccessError);

fn require_smartcard(auth: &Authenticated) -> Result<(), InternetAccessError> {
    if auth.session.kind == SessionKind::Smartcard {
        Ok(())
    } else {
        Err(InternetAccessError::SmartcardRequired)
    }
}

/// Loads the page data.
fn load(conn: &mut DbConnection, account_id: &str) -> Result<Option<InternetAccess>, RepoError> {
    let Some(profile) = accounts::profile(conn, account_id)? else {
        return Ok(None);
    };
    let approval = organisations::find(conn, &profile.account.organisation_code)?
        .map(|o| o.internet_access_approval)
        .ok_or_else(|| RepoError::Corrupt("account of a missing organisation".into()))?;
    Ok(Some(body(profile, approval)))
}

fn body(p: AccountProfile, approval: esr_domain::ApprovalMode) -> InternetAccess {
    InternetAccess {
        username: p.account.username.as_str().to_owned(),
        status: p.account.internet_access.as_str().to_owned(),
        status_changed_at: p.account.internet_access_changed_at,
        password_set: p.account.password_hash.is_some(),
        password_changed_at: p.account.password_changed_at,
        organisation: OrganisationAccess {
            code: p.account.organisation_code.as_str().to_owned(),
            name: p.organisation_name,
            approval: approval.as_str().to_owned(),
        },
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
) -> Result<web::Json<InternetAccess>, InternetAccessError> {
    let account_id = auth.session.account_id.clone();
    state
        .db(move |c| load(c, &account_id))
        .await?
        .map(web::Json)
        .ok_or(InternetAccessError::AccountGone)
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
    client: Client,
    auth: Authenticated,
) -> Result<web::Json<InternetAccess>, InternetAccessError> {
    require_smartcard(&auth)?;
    let account_id = auth.session.account_id.clone();
    let page = state
        .db(move |c| {
            c.write_transaction(|c| {
                let now = Utc::now();
                let Some(account) = accounts::find(c, &account_id)? else {
                    return Ok(None);
                };
                let mode = organisations::find(c, &account.organisation_code)?
                    .map(|o| o.internet_access_approval)
                    .ok_or_else(|| RepoError::Corrupt("account of a missing organisation".into()))?;
                // Already pending or approved: nothing to do (idempotent).
                if let Ok(next) = account.internet_access.request(mode)
                    && accounts::transition_internet_access(
                        c,
                        &account.id,
                        account.internet_access,
                        next,
                        now,
                    )?
                {
                    audit::record(
                        c,
                        &client,
                        "internet_access.requested",
                        Some(&account.id),
                        &account_actor(account.username.as_str()),
                        &json!({"from": account.internet_access.as_str(), "to": next.as_str(), "approval": mode.as_str()}),
                        now,
                    )?;
                }
                load(c, &account.id)
            })
        })
        .await?
        .ok_or(InternetAccessError::AccountGone)?;
    Ok(web::Json(page))
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
        (status = 403, description = "`smartcard-required` (a password session), or `internet-access-not-approved`.", body = Problem, content_type = "application/problem+json", examples(
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
    client: Client,
    auth: Authenticated,
    body: web::Json<SetPasswordRequest>,
) -> Result<HttpResponse, InternetAccessError> {
    require_smartcard(&auth)?;
    let SetPasswordRequest {
        new_password,
        confirm_password,
    } = body.into_inner();
    let account_id = auth.session.account_id.clone();
    let current = state
        .db(move |c| accounts::find(c, &account_id))
        .await?
        .ok_or(InternetAccessError::AccountGone)?;
    if !current.internet_access.allows_login() {
        return Err(InternetAccessError::NotApproved(current.internet_access));
    }
    let slot = state.hashing.try_reserve().map_err(|_| {
        state.metrics.security_event("hashing.rejected");
        InternetAccessError::Overloaded
    })?;
    let (profile, verdict) = check_new_password(
        &state,
        slot,
        auth.session.account_id.clone(),
        NewPasswordForm {
            current: None,
            new: new_password,
            confirm: confirm_password,
        },
    )
    .await?;
    let new_hash = match verdict {
        Verdict::Hashed(hash) => hash,
        Verdict::Policy(violations) => return Err(InternetAccessError::Policy(violations)),
        Verdict::WrongCurrent => {
            return Err(InternetAccessError::Internal(
                "no current password was asked for".into(),
            ));
        }
    };
    let account = profile.account;
    let session_id = auth.session.id.clone();
    state
        .db(move |c| {
            c.write_transaction(|c| {
                let now = Utc::now();
                accounts::set_password(c, &account.id, &new_hash, true, now)?;
                // Outstanding reset and unlock links are for the old password: void them.
                esr_persistence::one_time_tokens::invalidate_all(c, &account.id, now)?;
                crate::email::queue_account_notice(
                    c,
                    &account.id,
                    crate::email::kind::PASSWORD_CHANGED,
                    now,
                )?;
                let ended = sessions::revoke_all_for_account(
                    c,
                    &account.id,
                    Some(&session_id),
                    "password_set",
                    now,
                )?;
                audit::record(
                    c,
                    &client,
                    "password.set",
                    Some(&account.id),
                    &account_actor(account.username.as_str()),
                    &json!({"via": "smartcard", "other_sessions_ended": ended, "unlocked": account.status == esr_domain::AccountStatus::Locked}),
                    now,
                )?;
                Ok::<_, RepoError>(())
            })
        })
        .await?;
    state.metrics.security_event("password.set");
    state.delivery_wake.notify_one();
    Ok(HttpResponse::NoContent().finish())
}
