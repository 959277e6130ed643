//! Organisations: the employing NHS organisations whose codes start every ESR username.

use actix_web::http::StatusCode;
use actix_web::{get, web};
use chrono::{DateTime, Utc};
use esr_domain::{ApprovalMode, Coded, OrganisationCode};
use esr_persistence::organisations::{self, Organisation};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::problem::{AsProblem, ProblemCatalogue, ProblemSpec};
use crate::state::{AppState, StorageError};

/// Registers the organisation routes (under `/v1`).
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(list_organisations).service(get_organisation);
}

/// How an organisation approves requests for internet access.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InternetAccessApproval {
    /// Requests are approved at once.
    Automatic,
    /// An administrator approves each request.
    Manual,
}

impl From<ApprovalMode> for InternetAccessApproval {
    fn from(mode: ApprovalMode) -> Self {
        match mode {
            ApprovalMode::Automatic => Self::Automatic,
            ApprovalMode::Manual => Self::Manual,
        }
    }
}

/// Whether an organisation's staff sign in from home with a second factor.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MfaPolicyBody {
    /// A password alone; no second factor is enrolled or asked for.
    Off,
    /// Those who add a sign-in method are asked for it at every password login (the default).
    Optional,
    /// Everyone needs one: without it, a password opens only enrolment.
    Required,
}

impl From<esr_domain::MfaPolicy> for MfaPolicyBody {
    fn from(policy: esr_domain::MfaPolicy) -> Self {
        match policy {
            esr_domain::MfaPolicy::Off => Self::Off,
            esr_domain::MfaPolicy::Optional => Self::Optional,
            esr_domain::MfaPolicy::Required => Self::Required,
        }
    }
}

impl From<MfaPolicyBody> for esr_domain::MfaPolicy {
    fn from(policy: MfaPolicyBody) -> Self {
        match policy {
            MfaPolicyBody::Off => Self::Off,
            MfaPolicyBody::Optional => Self::Optional,
            MfaPolicyBody::Required => Self::Required,
        }
    }
}

/// An employing organisation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "code": "999",
    "name": "Demo NHS Trust",
    "internet_access_approval": "automatic",
    "created_at": "2026-11-25T09:00:00.000000Z",
    "updated_at": "2026-11-25T09:00:00.000000Z"
}))]
pub struct OrganisationBody {
    /// Three-character ESR organisation code; every username of its staff starts with it.
    pub code: String,
    /// Organisation name as shown to staff, e.g. in recovery emails.
    pub name: String,
    /// How internet-access requests are approved.
    pub internet_access_approval: InternetAccessApproval,
    /// When the organisation was created (UTC).
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub created_at: DateTime<Utc>,
    /// When it last changed (UTC).
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub updated_at: DateTime<Utc>,
}

impl From<Organisation> for OrganisationBody {
    fn from(o: Organisation) -> Self {
        Self {
            code: o.code.as_str().to_owned(),
            name: o.name,
            internet_access_approval: o.internet_access_approval.into(),
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

/// A page of organisations.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationPage {
    /// Organisations ordered by code.
    pub items: Vec<OrganisationBody>,
    /// Opaque cursor for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Paging parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// `next_cursor` of the previous page (opaque; an empty value means the first page).
    #[param(pattern = "^([0-9A-Za-z]{3})?$")]
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100, example = 50)]
    pub limit: Option<u32>,
}

/// Errors of the organisation routes.
#[derive(Debug, thiserror::Error)]
pub enum OrganisationError {
    /// The code in the path is not three letters or digits.
    #[error("invalid organisation code")]
    InvalidCode(#[source] esr_domain::OrganisationCodeError),
    /// No organisation has that code.
    #[error("organisation not found")]
    NotFound,
    /// A paging parameter is out of range.
    #[error("invalid paging parameter: {0}")]
    InvalidPage(&'static str),
    /// The database call failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl AsProblem for OrganisationError {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::InvalidCode(e) => ProblemSpec::new(
                StatusCode::BAD_REQUEST,
                e.code(),
                "Invalid organisation code",
                e.message(),
            ),
            Self::NotFound => ProblemSpec::from_catalogue(
                StatusCode::NOT_FOUND,
                "organisation-not-found",
                "problem-organisation-not-found",
                Vec::new(),
            ),
            Self::InvalidPage(detail) => ProblemSpec::new(
                StatusCode::BAD_REQUEST,
                "invalid-query-parameter",
                "Invalid query parameter",
                *detail,
            ),
            Self::Storage(e) => e.problem(),
        }
    }
}
crate::problem_response!(OrganisationError);

/// Reading one organisation's problems.
impl ProblemCatalogue for OrganisationError {
    fn examples() -> Vec<ProblemSpec> {
        let bad_code = OrganisationCode::parse("99").expect_err("too short");
        let mut examples = vec![
            Self::InvalidCode(bad_code).problem(),
            Self::NotFound.problem(),
        ];
        examples.extend(StorageError::examples());
        examples
    }
}

crate::operation_problems!(
    /// The problems of listing organisations.
    ListOrganisationsProblems: StorageError => [
        OrganisationError::InvalidPage("limit must be between 1 and 100"),
    ]
);

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 100;

/// List organisations, ordered by code, a page at a time.
#[utoipa::path(
    tag = "organisations",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of organisations.", body = OrganisationPage),
        ListOrganisationsProblems,
    ),
)]
#[get("/organisations")]
pub async fn list_organisations(
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<OrganisationPage>, OrganisationError> {
    let PageQuery { cursor, limit } = query.into_inner();
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(OrganisationError::InvalidPage(
            "limit must be between 1 and 100",
        ));
    }
    // Cursors are organisation codes; anything else cannot come from us.
    let cursor = cursor
        .filter(|c| !c.is_empty())
        .map(|c| {
            OrganisationCode::parse(&c)
                .map_err(|_| OrganisationError::InvalidPage("cursor is not one this API returned"))
        })
        .transpose()?;
    let page = state
        .db(move |conn| {
            organisations::list(conn, cursor.as_ref().map(OrganisationCode::as_str), limit)
        })
        .await?;
    Ok(web::Json(OrganisationPage {
        items: page.items.into_iter().map(OrganisationBody::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Get one organisation by its code.
#[utoipa::path(
    tag = "organisations",
    params(("code" = String, Path, description = "Three-character organisation code (letters or digits, any case).", pattern = "^[0-9A-Za-z]{3}$", example = "999")),
    responses(
        (status = 200, description = "The organisation.", body = OrganisationBody),
        OrganisationError,
    ),
)]
#[get("/organisations/{code}")]
pub async fn get_organisation(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<web::Json<OrganisationBody>, OrganisationError> {
    let code = OrganisationCode::parse(&code).map_err(OrganisationError::InvalidCode)?;
    let found = state
        .db(move |conn| organisations::find(conn, &code))
        .await?;
    found
        .map(|o| web::Json(o.into()))
        .ok_or(OrganisationError::NotFound)
}
