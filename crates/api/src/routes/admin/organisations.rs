//! Organisations: create, get, list and update, with the settings enforced at login
//! (approval mode, inactivity limit, password expiry).

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use esr_domain::{ApprovalMode, OrganisationCode};
use esr_persistence::organisations::{
    self, Organisation, OrganisationChanges, OrganisationSettings,
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{AdminError, ListProblems, PageQuery, bad_cursor, page_limit, violation, violation_of};
use crate::admin_auth::{AdminKey, WriteKey};
use crate::app::Caller;
use crate::app::organisations as use_cases;
use crate::problem::Violation;
use crate::routes::organisations::{InternetAccessApproval, MfaPolicyBody};
use crate::state::AppState;

/// Registers the organisation routes.
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(list_organisations)
        .service(create_organisation)
        .service(get_organisation)
        .service(update_organisation);
}

/// Longest inactivity limit or password expiry, in days (ten years).
const MAX_DAYS: u32 = 3650;

/// An organisation with its administrative settings.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "code": "241",
    "name": "Bolton NHS Foundation Trust",
    "internet_access_approval": "manual",
    "inactivity_limit_days": 183,
    "password_expiry_days": null,
    "mfa_policy": "optional",
    "created_at": "2026-11-25T09:00:00.000000Z",
    "updated_at": "2026-11-25T09:00:00.000000Z"
}))]
pub struct AdminOrganisation {
    /// Three-character ESR organisation code.
    pub code: String,
    /// Name as shown to staff.
    pub name: String,
    /// How internet-access requests are approved.
    pub internet_access_approval: InternetAccessApproval,
    /// Days without a login after which internet access lapses (renewed at work with a
    /// smartcard); `null`: no limit.
    pub inactivity_limit_days: Option<u32>,
    /// Days after which a password expires (reset by email or at work); `null`: never (the
    /// default, as NCSC advises).
    pub password_expiry_days: Option<u32>,
    /// Whether staff sign in from home with a second factor: `off`, `optional` (the
    /// default) or `required`.
    pub mfa_policy: MfaPolicyBody,
    /// Created.
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub created_at: DateTime<Utc>,
    /// Last changed.
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub updated_at: DateTime<Utc>,
}

impl From<Organisation> for AdminOrganisation {
    fn from(o: Organisation) -> Self {
        Self {
            code: o.code.as_str().to_owned(),
            name: o.name,
            internet_access_approval: o.internet_access_approval.into(),
            inactivity_limit_days: o.inactivity_limit_days,
            password_expiry_days: o.password_expiry_days,
            mfa_policy: o.mfa_policy.into(),
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

/// A page of organisations.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminOrganisationPage {
    /// Organisations by code.
    pub items: Vec<AdminOrganisation>,
    /// Cursor of the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A new organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "code": "241",
    "name": "Bolton NHS Foundation Trust",
    "internet_access_approval": "manual",
    "inactivity_limit_days": 183
}))]
pub struct CreateOrganisationRequest {
    /// Three letters or digits.
    pub code: String,
    /// 1–200 characters.
    pub name: String,
    /// `automatic` or `manual`.
    pub internet_access_approval: InternetAccessApproval,
    /// 1–3650, or absent for no limit.
    #[serde(default)]
    pub inactivity_limit_days: Option<u32>,
    /// 1–3650, or absent for passwords that do not expire.
    #[serde(default)]
    pub password_expiry_days: Option<u32>,
    /// `off`, `optional` (when absent) or `required`.
    #[serde(default)]
    pub mfa_policy: Option<MfaPolicyBody>,
}

/// Changes to an organisation: absent fields stay as they are; `null` removes a limit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"inactivity_limit_days": 183, "password_expiry_days": null, "mfa_policy": "required"}))]
pub struct UpdateOrganisationRequest {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New approval mode.
    #[serde(default)]
    pub internet_access_approval: Option<InternetAccessApproval>,
    /// New inactivity limit; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    pub inactivity_limit_days: Option<Option<u32>>,
    /// New password expiry; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    pub password_expiry_days: Option<Option<u32>>,
    /// New multi-factor policy. Under `required`, staff without a sign-in method can only
    /// add one after their next password login.
    #[serde(default)]
    pub mfa_policy: Option<MfaPolicyBody>,
}

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`).
pub fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

fn mode(a: InternetAccessApproval) -> ApprovalMode {
    match a {
        InternetAccessApproval::Automatic => ApprovalMode::Automatic,
        InternetAccessApproval::Manual => ApprovalMode::Manual,
    }
}

fn check_name(name: &str, violations: &mut Vec<Violation>) -> String {
    let name = name.trim().to_owned();
    let hidden = |c: char| c.is_control() || esr_domain::hides_text(c);
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(hidden) {
        violations.push(violation_of(
            "name",
            "invalid-organisation-name",
            "The name is 1 to 200 characters, without control, invisible or text-direction characters.",
        ));
    }
    name
}

fn check_days(field: &str, days: Option<u32>, violations: &mut Vec<Violation>) {
    if days.is_some_and(|d| !(1..=MAX_DAYS).contains(&d)) {
        violations.push(violation_of(
            field,
            "invalid-days",
            "A number of days from 1 to 3650, or null for none.",
        ));
    }
}

fn not_found() -> AdminError {
    AdminError::NotFound {
        code: "organisation-not-found",
        what: "Organisation",
    }
}

fn organisation_exists() -> AdminError {
    AdminError::Conflict {
        code: "organisation-exists",
        detail: "An organisation with this code exists already; update it instead.".into(),
    }
}

/// An example of refused fields: an empty name and a day count out of range.
fn invalid_fields() -> AdminError {
    let mut violations = Vec::new();
    check_name("", &mut violations);
    check_days("inactivity_limit_days", Some(0), &mut violations);
    AdminError::Invalid(violations)
}

crate::operation_problems!(
    /// The problems of creating an organisation.
    CreateOrganisationProblems: AdminError => [
        crate::admin_auth::AdminAuthError::ScopeTooNarrow,
        invalid_fields(),
        organisation_exists(),
    ]
);

crate::operation_problems!(
    /// The problems of reading an organisation.
    OrganisationProblems: AdminError => [not_found()]
);

crate::operation_problems!(
    /// The problems of changing an organisation.
    UpdateOrganisationProblems: AdminError => [
        invalid_fields(),
        not_found(),
        AdminError::PreconditionFailed,
    ]
);

/// Parses a path code; a malformed one is as unknown as a missing one.
fn path_code(code: &str) -> Result<OrganisationCode, AdminError> {
    OrganisationCode::parse(code).map_err(|_| not_found())
}

/// List organisations (an organisation-scoped key sees its own only).
#[utoipa::path(
    tag = "admin",
    operation_id = "admin_list_organisations",
    security(("apiKey" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of organisations by code.", body = AdminOrganisationPage),
        ListProblems,
    ),
)]
#[get("/admin/organisations")]
pub async fn list_organisations(
    state: web::Data<AppState>,
    key: AdminKey,
    query: web::Query<PageQuery>,
) -> Result<web::Json<AdminOrganisationPage>, AdminError> {
    let PageQuery { cursor, limit } = query.into_inner();
    let limit = page_limit(limit)?;
    let cursor = cursor
        .map(|c| OrganisationCode::parse(&c).map_err(|_| bad_cursor()))
        .transpose()?;
    let page = match key.organisation().cloned() {
        Some(own) => {
            let after = cursor.as_ref().is_some_and(|c| c.as_str() >= own.as_str());
            let items = if after {
                Vec::new()
            } else {
                state
                    .db(move |c| organisations::find(c, &own))
                    .await?
                    .into_iter()
                    .collect()
            };
            organisations::Page {
                items,
                next_cursor: None,
            }
        }
        None => {
            state
                .db(move |c| {
                    organisations::list(c, cursor.as_ref().map(OrganisationCode::as_str), limit)
                })
                .await?
        }
    };
    Ok(web::Json(AdminOrganisationPage {
        items: page
            .items
            .into_iter()
            .map(AdminOrganisation::from)
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Create an organisation (read-write key for all organisations).
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    request_body = CreateOrganisationRequest,
    responses(
        (status = 201, description = "Created.", body = AdminOrganisation),
        CreateOrganisationProblems,
    ),
)]
#[post("/admin/organisations")]
pub async fn create_organisation(
    state: web::Data<AppState>,
    key: WriteKey,
    caller: Caller,
    body: Result<web::Json<CreateOrganisationRequest>, actix_web::Error>,
) -> Result<HttpResponse, AdminError> {
    key.require_all_organisations()?;
    let body = super::json_body(body)?;
    let mut violations = Vec::new();
    let code = OrganisationCode::parse(&body.code)
        .map_err(|e| violations.push(violation("code", &e)))
        .ok();
    let name = check_name(&body.name, &mut violations);
    check_days(
        "inactivity_limit_days",
        body.inactivity_limit_days,
        &mut violations,
    );
    check_days(
        "password_expiry_days",
        body.password_expiry_days,
        &mut violations,
    );
    let Some(code) = code.filter(|_| violations.is_empty()) else {
        return Err(AdminError::Invalid(violations));
    };
    let actor = key.actor();
    let created = state
        .db(move |c| {
            let settings = OrganisationSettings {
                name: &name,
                internet_access_approval: mode(body.internet_access_approval),
                inactivity_limit_days: body.inactivity_limit_days,
                password_expiry_days: body.password_expiry_days,
                mfa_policy: body.mfa_policy.map(Into::into).unwrap_or_default(),
            };
            use_cases::create(c, &caller, &actor, &code, &settings, Utc::now())
        })
        .await?;
    match created {
        Some(o) => Ok(HttpResponse::Created().json(AdminOrganisation::from(o))),
        None => Err(organisation_exists()),
    }
}

/// Get an organisation.
#[utoipa::path(
    tag = "admin",
    operation_id = "admin_get_organisation",
    security(("apiKey" = [])),
    params(("code" = String, Path, description = "Organisation code.", example = "999")),
    responses(
        (status = 200, description = "The organisation.", body = AdminOrganisation, headers(("ETag" = String, description = "The version of this record: send it as `If-Match` with a change."))),
        OrganisationProblems,
    ),
)]
#[get("/admin/organisations/{code}")]
pub async fn get_organisation(
    state: web::Data<AppState>,
    key: AdminKey,
    code: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let code = path_code(&code)?;
    if !key.can_see(&code) {
        return Err(not_found());
    }
    let found = state.db(move |c| organisations::find(c, &code)).await?;
    let organisation = AdminOrganisation::from(found.ok_or_else(not_found)?);
    Ok(super::with_etag(&organisation, organisation.updated_at))
}

/// Update an organisation: name, approval mode, inactivity limit, password expiry.
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    params(("code" = String, Path, description = "Organisation code.", example = "999"), ("If-Match" = Option<String>, Header, description = "The `ETag` of the record as read: the change is made only if it is still at that version (else `412 precondition-failed`). Without it, the change is made whatever came in between.")),
    request_body = UpdateOrganisationRequest,
    responses(
        (status = 200, description = "The organisation as it now is.", body = AdminOrganisation, headers(("ETag" = String, description = "The version of this record: send it as `If-Match` with a change."))),
        UpdateOrganisationProblems,
    ),
)]
#[patch("/admin/organisations/{code}")]
pub async fn update_organisation(
    state: web::Data<AppState>,
    key: WriteKey,
    caller: Caller,
    req: HttpRequest,
    code: web::Path<String>,
    body: Result<web::Json<UpdateOrganisationRequest>, actix_web::Error>,
) -> Result<HttpResponse, AdminError> {
    let code = path_code(&code)?;
    if !key.can_see(&code) {
        return Err(not_found());
    }
    let body = super::json_body(body)?;
    let mut violations = Vec::new();
    let name = body.name.as_deref().map(|n| check_name(n, &mut violations));
    check_days(
        "inactivity_limit_days",
        body.inactivity_limit_days.flatten(),
        &mut violations,
    );
    check_days(
        "password_expiry_days",
        body.password_expiry_days.flatten(),
        &mut violations,
    );
    if !violations.is_empty() {
        return Err(AdminError::Invalid(violations));
    }
    let actor = key.actor();
    let expected = super::if_match(&req);
    let updated = state
        .db(move |c| {
            let changes = OrganisationChanges {
                name: name.as_deref(),
                internet_access_approval: body.internet_access_approval.map(mode),
                inactivity_limit_days: body.inactivity_limit_days,
                password_expiry_days: body.password_expiry_days,
                mfa_policy: body.mfa_policy.map(Into::into),
            };
            use_cases::update(
                c,
                &caller,
                &actor,
                &code,
                &changes,
                expected.as_deref(),
                Utc::now(),
            )
        })
        .await??;
    let organisation = AdminOrganisation::from(updated.ok_or_else(not_found)?);
    Ok(super::with_etag(&organisation, organisation.updated_at))
}
