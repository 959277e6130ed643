//! The signed-in member of staff's sessions: where they are signed in, and ending one (a lost
//! phone, a shared computer left signed in).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, web};
use chrono::{DateTime, Utc};
use esr_persistence::sessions::Session;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::Caller;
use crate::app::Failure;
use crate::app::sessions::{self, EndSessionError};
use crate::auth::AuthError;
use crate::auth::Authenticated;
use crate::problem::{AsProblem, ProblemCatalogue, ProblemSpec};
use crate::state::AppState;

/// Registers the `/me/sessions` routes (under `/v1`).
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(list_sessions).service(end_session);
}

/// One active session of the account.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "kR3v9TqL0mW2xYb7",
    "current": true,
    "amr": ["pwd", "otp"],
    "device": "My ESR/3.2 (iPhone; iOS 18.1)",
    "ip": "203.0.113.24",
    "created_at": "2026-12-07T08:59:58.000000Z",
    "last_used_at": "2026-12-07T09:14:02.000000Z",
    "expires_at": "2027-01-06T08:59:58.000000Z"
}))]
pub struct SessionBody {
    /// Id (to end it).
    pub id: String,
    /// Whether this is the session making the request.
    pub current: bool,
    /// How it signed in: `pwd`, `smartcard`, then `otp` or `hwk` for a second factor.
    pub amr: Vec<&'static str>,
    /// The user agent it signed in with, as the device sent it.
    pub device: Option<String>,
    /// The address it signed in from.
    pub ip: Option<String>,
    /// Signed in.
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub created_at: DateTime<Utc>,
    /// Last refreshed.
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub last_used_at: DateTime<Utc>,
    /// Ends at the latest.
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub expires_at: DateTime<Utc>,
}

fn body(s: Session, current: &Session) -> SessionBody {
    SessionBody {
        current: s.id == current.id,
        amr: s.amr(),
        id: s.id.as_str().to_owned(),
        device: s.user_agent,
        ip: s.ip,
        created_at: s.created_at,
        last_used_at: s.last_used_at,
        expires_at: s.expires_at,
    }
}

/// The account's active sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionsBody {
    /// Most recently used first.
    pub items: Vec<SessionBody>,
}

impl AsProblem for EndSessionError {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::NotFound => ProblemSpec::from_catalogue(
                StatusCode::NOT_FOUND,
                "session-not-found",
                "problem-session-not-found",
                Vec::new(),
            ),
            Self::ContactChangeHold(until) => crate::problem::contact_change_hold_problem(
                "Your work email or smartcard details were changed recently. For your security, a smartcard sign-in cannot see or end your other sessions until the waiting time after the change has passed (see Retry-After). If you did not expect the change, contact your System Administrator.",
                *until,
            ),
            Self::Failure(f) => f.problem(),
        }
    }
}
crate::problem_response!(EndSessionError);

impl ProblemCatalogue for EndSessionError {
    fn examples() -> Vec<ProblemSpec> {
        let mut examples: Vec<ProblemSpec> = [
            Self::NotFound,
            Self::ContactChangeHold(crate::problem::example_hold_end()),
        ]
        .iter()
        .map(AsProblem::problem)
        .collect();
        examples.push(AuthError::EnrolmentRequired.problem());
        examples.extend(Failure::examples());
        examples
    }
}

crate::operation_problems!(
    /// The problems of listing one's sessions.
    ListSessionsProblems: Failure => [
        EndSessionError::ContactChangeHold(crate::problem::example_hold_end()),
        AuthError::EnrolmentRequired,
    ]
);

/// Where the signed-in person is signed in: every active session of the account (device,
/// address, when it started and was last used), the current one marked.
#[utoipa::path(
    tag = "self",
    path = "/me/sessions",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The active sessions.", body = SessionsBody),
        ListSessionsProblems,
    ),
)]
#[get("/me/sessions")]
pub async fn list_sessions(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<web::Json<SessionsBody>, EndSessionError> {
    let all = sessions::list_own(&state, &auth.session, Utc::now()).await?;
    Ok(web::Json(SessionsBody {
        items: all.into_iter().map(|s| body(s, &auth.session)).collect(),
    }))
}

/// End one of the account's sessions (the current one too: that is a logout). Its access
/// tokens stop working at once and its refresh token is spent.
#[utoipa::path(
    tag = "self",
    path = "/me/sessions/{id}",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "The session's id.")),
    responses(
        (status = 204, description = "Ended."),
        EndSessionError,
    ),
)]
#[delete("/me/sessions/{id}")]
pub async fn end_session(
    state: web::Data<AppState>,
    caller: Caller,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, EndSessionError> {
    sessions::end_own(&state, &caller, &auth.session, &id, Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}
