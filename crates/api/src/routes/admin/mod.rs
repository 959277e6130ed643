//! The administrator and integrator API under `/v1/admin`, authenticated with API keys
//! (`Authorization: Bearer esr_…`, see [`crate::admin_auth`]). Every change is audited with
//! the key's name; organisation-scoped keys see only their organisation (404 for the rest).
//! Administrators never see or set a password: they can only trigger the email flows.

use actix_web::http::StatusCode;
use actix_web::http::header::{ETAG, IF_MATCH};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use esr_domain::Coded;
use esr_persistence::audit::EventType;
use esr_persistence::{DbConnection, RepoError};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::admin_auth::{AdminAuthError, AdminKey};
use crate::app::{Caller, Failure};
use crate::problem::{AsProblem, ProblemCatalogue, ProblemSpec, Violation};
use crate::state::StorageError;

pub mod accounts;
pub mod api_keys;
pub mod audit_events;
pub mod organisations;
pub mod people;
pub mod people_import;

/// Registers the admin routes (under `/v1`).
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    api_keys::configure(cfg);
    accounts::configure(cfg);
    audit_events::configure(cfg);
    organisations::configure(cfg);
    // Before people's `/admin/people/{id}` routes.
    people_import::configure(cfg);
    people::configure(cfg);
}

/// Errors shared by the admin routes.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Authentication or authorisation failed.
    #[error(transparent)]
    Auth(#[from] AdminAuthError),
    /// The resource does not exist, or belongs to an organisation the key does not cover.
    #[error("{what} not found")]
    NotFound {
        /// Stable problem code, e.g. `account-not-found`.
        code: &'static str,
        /// What was looked for, e.g. `Account`.
        what: &'static str,
    },
    /// The input broke one or more rules; each is listed.
    #[error("invalid input")]
    Invalid(Vec<Violation>),
    /// A query or path parameter is malformed.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// The change conflicts with the current state (e.g. unlocking an active account).
    #[error("conflict: {detail}")]
    Conflict {
        /// Stable problem code.
        code: &'static str,
        /// What to do about it.
        detail: String,
    },
    /// `If-Match` named a version the record is no longer at: nothing was changed.
    #[error("precondition failed")]
    PreconditionFailed,
    /// The JSON body could not be read (malformed, wrong shape, too large, wrong type).
    #[error("unreadable request body")]
    Body(Box<ProblemSpec>),
    /// Storage, capacity or the unexpected.
    #[error(transparent)]
    Failure(#[from] Failure),
}

impl From<RepoError> for AdminError {
    fn from(e: RepoError) -> Self {
        Self::Failure(e.into())
    }
}

impl From<StorageError> for AdminError {
    fn from(e: StorageError) -> Self {
        Self::Failure(e.into())
    }
}

impl From<esr_domain::TransitionError> for AdminError {
    fn from(e: esr_domain::TransitionError) -> Self {
        Self::Conflict {
            code: e.code(),
            detail: format!("{}.", e.message()),
        }
    }
}

impl AsProblem for AdminError {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::Auth(e) => e.problem(),
            Self::NotFound { code, what } => ProblemSpec::new(
                StatusCode::NOT_FOUND,
                code,
                "Not Found",
                format!("{what} not found."),
            ),
            Self::Invalid(violations) => ProblemSpec::from_catalogue(
                StatusCode::BAD_REQUEST,
                "invalid-request-body",
                "problem-invalid-request-body--violations",
                Vec::new(),
            )
            .with_violations(violations.clone()),
            Self::InvalidParameter(detail) => ProblemSpec::new(
                StatusCode::BAD_REQUEST,
                "invalid-query-parameter",
                "Invalid query parameter",
                detail.clone(),
            ),
            Self::Conflict { code, detail } => {
                ProblemSpec::new(StatusCode::CONFLICT, code, "Conflict", detail.clone())
            }
            Self::PreconditionFailed => ProblemSpec::from_catalogue(
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                "problem-precondition-failed",
                Vec::new(),
            ),
            Self::Body(spec) => (**spec).clone(),
            Self::Failure(f) => f.problem(),
        }
    }
}
crate::problem_response!(AdminError);

/// What every admin operation can answer; each declares its own problems beside these (a
/// read-only key's `403` is added to every change by the OpenAPI document's builder).
impl ProblemCatalogue for AdminError {
    fn examples() -> Vec<ProblemSpec> {
        let mut examples = vec![AdminAuthError::InvalidKey.problem()];
        examples.extend(Failure::examples());
        examples
    }
}

crate::operation_problems!(
    /// The problems of an admin list.
    ListProblems: AdminError => [page_limit(Some(0)).expect_err("0 is below the minimum")]
);

crate::operation_problems!(
    /// The problems of a list of the service itself (keys, the outbox).
    ServiceListProblems: ListProblems => [AdminAuthError::ScopeTooNarrow]
);

impl From<crate::app::versions::Stale> for AdminError {
    fn from(_: crate::app::versions::Stale) -> Self {
        Self::PreconditionFailed
    }
}

/// A record's answer with its version as `ETag`, for a later `If-Match`.
pub fn with_etag<T: serde::Serialize>(body: &T, updated_at: DateTime<Utc>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((ETAG, crate::app::versions::tag(updated_at)))
        .json(body)
}

/// The request's `If-Match`, if it sent one.
pub fn if_match(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A refused status change, for the examples.
pub fn account_conflict(
    action: esr_domain::AccountAction,
    from: esr_domain::AccountStatus,
) -> AdminError {
    esr_domain::TransitionError::Account { action, from }.into()
}

/// A refused internet-access change, for the examples.
pub fn access_conflict(
    action: esr_domain::InternetAccessAction,
    from: esr_domain::InternetAccessStatus,
) -> AdminError {
    esr_domain::TransitionError::InternetAccess { action, from }.into()
}

/// The JSON body of an admin change, read only after the key was accepted: handlers take
/// `Result<web::Json<T>, actix_web::Error>` so a read-only or unknown key is refused (403/401)
/// whatever the body, and call this once the key has passed.
pub fn json_body<T>(body: Result<web::Json<T>, actix_web::Error>) -> Result<T, AdminError> {
    body.map(web::Json::into_inner).map_err(|e| {
        let response = e.error_response();
        AdminError::Body(Box::new(
            response
                .extensions()
                .get::<ProblemSpec>()
                .cloned()
                .unwrap_or_else(|| ProblemSpec::for_status(response.status())),
        ))
    })
}

impl AdminError {
    /// One violation of a field.
    pub fn field(field: &str, e: &impl Coded) -> Self {
        Self::Invalid(vec![violation(field, e)])
    }
}

/// A violation of `field`.
pub fn violation(field: &str, e: &impl Coded) -> Violation {
    Violation {
        code: e.code().to_owned(),
        field: Some(field.to_owned()),
        message: e.message(),
        words: crate::problem::violation_words(e.code()),
    }
}

/// A violation with a code and message of our own.
pub fn violation_of(field: &str, code: &str, message: &str) -> Violation {
    Violation {
        code: code.to_owned(),
        field: Some(field.to_owned()),
        message: message.to_owned(),
        words: None,
    }
}

/// Paging parameters of admin lists.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100, example = 50)]
    pub limit: Option<u32>,
}

/// The page size asked for (1–100, default 50).
pub fn page_limit(limit: Option<u32>) -> Result<u32, AdminError> {
    let limit = limit.unwrap_or(50);
    if (1..=100).contains(&limit) {
        Ok(limit)
    } else {
        Err(AdminError::InvalidParameter(
            "limit must be between 1 and 100".into(),
        ))
    }
}

/// An `updated_since` query value: an RFC 3339 time.
pub fn updated_since(value: Option<&str>) -> Result<Option<DateTime<Utc>>, AdminError> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    AdminError::InvalidParameter(
                        "updated_since is an RFC 3339 time, e.g. 2026-12-07T09:00:00Z".into(),
                    )
                })
        })
        .transpose()
}

/// A cursor that cannot have come from us.
pub fn bad_cursor() -> AdminError {
    AdminError::InvalidParameter("cursor is not one this API returned".into())
}

/// Appends the audit event of an admin action (actor `api-key:{name}`), in the caller's
/// transaction.
pub fn audit(
    conn: &mut DbConnection,
    caller: &Caller,
    key: &AdminKey,
    event_type: EventType,
    account_id: Option<&esr_domain::AccountId>,
    details: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    crate::app::audit::record(
        conn,
        caller,
        event_type,
        account_id,
        &key.actor(),
        details,
        now,
    )
}
