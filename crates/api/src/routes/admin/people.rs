//! People (staff records, one per employment): create, get, list and update. The CSV import
//! of whole staff lists is `POST /v1/admin/people/import`.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use esr_domain::{DateOfBirth, EmployeeNumber, OrganisationCode, PersonId, PersonName, WorkEmail};
use std::collections::HashMap;

use esr_persistence::people::{self, Person, PersonFilter};
use esr_persistence::{DbConnection, RepoError, accounts};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::organisations::present;
use super::{AdminError, ListProblems, bad_cursor, page_limit, violation, violation_of};
use crate::admin_auth::{AdminKey, WriteKey};
use crate::app::Caller;
use crate::app::people::{
    self as use_cases, NewPersonRecord, PersonError, PersonUpdate, visible_person,
};
use crate::problem::Violation;
use crate::state::AppState;

/// Registers the people routes.
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(list_people)
        .service(create_person)
        .service(get_person)
        .service(update_person)
        .service(person_leaves);
}

/// A member of staff in one employing organisation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "a4b1c2d3-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
    "organisation_code": "241",
    "employee_number": "24100017",
    "first_name": "Jane",
    "last_name": "Smith",
    "date_of_birth": "1985-04-12",
    "work_email": "jane.smith@bolton.example.org",
    "smartcard_subject": "555012345678",
    "smartcard_linked": true,
    "language": "en",
    "left_at": null,
    "created_at": "2026-11-25T09:00:00.000000Z",
    "updated_at": "2026-11-25T09:00:00.000000Z"
}))]
pub struct AdminPerson {
    /// Identifier.
    #[schema(format = "uuid")]
    pub id: String,
    /// Employing organisation.
    pub organisation_code: String,
    /// Employee number, unique within the organisation.
    pub employee_number: String,
    /// First name.
    pub first_name: String,
    /// Surname.
    pub last_name: String,
    /// Date of birth (`YYYY-MM-DD`); `null` for a read-only key, which never sees it (it is
    /// what the recovery form asks for).
    pub date_of_birth: Option<NaiveDate>,
    /// Work email (recovery emails go here).
    pub work_email: String,
    /// NHS smartcard identity (CIS2 `uid`), when linked; `null` for a read-only key, which
    /// sees only `smartcard_linked`.
    pub smartcard_subject: Option<String>,
    /// Whether a smartcard is linked to this record.
    pub smartcard_linked: bool,
    /// `en` or `cy`: the language of emails.
    #[schema(schema_with = crate::routes::closed_sets::language)]
    pub language: String,
    /// When they left the organisation (their accounts were disabled then); `null` while
    /// employed.
    #[serde(serialize_with = "crate::timestamps::micros_opt")]
    pub left_at: Option<DateTime<Utc>>,
    /// Created.
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub created_at: DateTime<Utc>,
    /// Last changed.
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub updated_at: DateTime<Utc>,
    /// The person's ESR account, once they have one: `GET /v1/admin/accounts/{username}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "241JSMITH01")]
    pub username: Option<String>,
}

impl AdminPerson {
    /// The person, with the username of their account if any.
    fn with_username(p: Person, usernames: &HashMap<String, String>) -> Self {
        let username = usernames.get(p.id.as_str()).cloned();
        Self {
            username,
            ..p.into()
        }
    }

    /// What `key` may see of the person: without [`AdminKey::sees_proofs`], no date of birth
    /// and no smartcard identity, only whether a card is linked.
    fn seen_by(mut self, key: &AdminKey) -> Self {
        if !key.sees_proofs() {
            self.date_of_birth = None;
            self.smartcard_subject = None;
        }
        self
    }
}

/// The person as an administrator sees them, their account's username looked up.
fn admin_person(conn: &mut DbConnection, person: Person) -> Result<AdminPerson, RepoError> {
    let usernames = accounts::usernames_of(conn, std::slice::from_ref(&person.id))?;
    Ok(AdminPerson::with_username(person, &usernames))
}

impl From<Person> for AdminPerson {
    fn from(p: Person) -> Self {
        Self {
            id: p.id.into_string(),
            organisation_code: p.organisation_code.as_str().to_owned(),
            employee_number: p.employee_number,
            first_name: p.first_name,
            last_name: p.last_name,
            date_of_birth: Some(p.date_of_birth),
            work_email: p.work_email,
            smartcard_linked: p.smartcard_subject.is_some(),
            smartcard_subject: p.smartcard_subject,
            language: p.language,
            left_at: p.left_at,
            created_at: p.created_at,
            updated_at: p.updated_at,
            username: None,
        }
    }
}

/// A page of people.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminPersonPage {
    /// People, oldest first: ids are time-ordered (UUID version 7), and the
    /// list is in id order, so pages stay stable while people are added.
    pub items: Vec<AdminPerson>,
    /// Cursor of the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Filters and paging of the people list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PersonQuery {
    /// Only this organisation's people.
    #[param(example = "241")]
    pub organisation: Option<String>,
    /// Only this employee number.
    #[param(example = "24100017")]
    pub employee_number: Option<String>,
    /// Only this work email (case-insensitive).
    #[param(example = "jane.smith@bolton.example.org")]
    pub email: Option<String>,
    /// Only those changed at or after this time (RFC 3339), e.g. the start of your last
    /// sync. What changed and why is in the audit trail (`GET /v1/admin/audit-events`).
    #[param(example = "2026-12-07T09:00:00.000000Z")]
    pub updated_since: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100, example = 50)]
    pub limit: Option<u32>,
}

/// A new person.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "organisation_code": "241",
    "employee_number": "24100017",
    "first_name": "Jane",
    "last_name": "Smith",
    "date_of_birth": "1985-04-12",
    "work_email": "jane.smith@bolton.example.org",
    "smartcard_subject": "555012345678"
}))]
pub struct CreatePersonRequest {
    /// An existing organisation the key covers.
    pub organisation_code: String,
    /// 1–30 letters, digits, hyphens; unique within the organisation.
    pub employee_number: String,
    /// First name.
    pub first_name: String,
    /// Surname.
    pub last_name: String,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub date_of_birth: String,
    /// Work email.
    pub work_email: String,
    /// NHS smartcard identity (CIS2 `uid`), if known.
    #[serde(default)]
    pub smartcard_subject: Option<String>,
    /// `en` (default) or `cy`.
    #[serde(default)]
    pub language: Option<String>,
}

/// Changes to a person: absent fields stay; `"smartcard_subject": null` unlinks the card.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"last_name": "Smith-Jones", "work_email": "jane.smith-jones@bolton.example.org"}))]
pub struct UpdatePersonRequest {
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Surname.
    #[serde(default)]
    pub last_name: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub date_of_birth: Option<String>,
    /// Work email.
    #[serde(default)]
    pub work_email: Option<String>,
    /// Smartcard identity; `null` unlinks it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub smartcard_subject: Option<Option<String>>,
    /// `en` or `cy`.
    #[serde(default)]
    pub language: Option<String>,
}

fn not_found() -> AdminError {
    AdminError::NotFound {
        code: "person-not-found",
        what: "Person",
    }
}

fn organisation_not_found() -> Violation {
    violation_of(
        "organisation_code",
        "organisation-not-found",
        "No organisation has this code.",
    )
}

impl From<PersonError> for AdminError {
    fn from(e: PersonError) -> Self {
        match e {
            PersonError::NotFound => not_found(),
            PersonError::OrganisationNotFound => Self::Invalid(vec![organisation_not_found()]),
            PersonError::Conflict => Self::Conflict {
                code: "person-conflict",
                detail: "Another person has this employee number in this organisation, or this smartcard subject.".into(),
            },
            PersonError::Stale(_) => Self::PreconditionFailed,
            PersonError::Failure(f) => Self::Failure(f),
        }
    }
}

fn check_subject(s: &str, violations: &mut Vec<Violation>) -> String {
    let s = s.trim().to_owned();
    let ok = (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !ok {
        violations.push(violation_of(
            "smartcard_subject",
            "invalid-smartcard-subject",
            "A smartcard subject is 1 to 64 letters, digits, '.', '_' or '-'.",
        ));
    }
    s
}

fn check_language(s: &str, violations: &mut Vec<Violation>) -> String {
    if !matches!(s, "en" | "cy") {
        violations.push(violation_of(
            "language",
            "invalid-language",
            "The language is en (English) or cy (Welsh).",
        ));
    }
    s.to_owned()
}

fn parse<T, E: esr_domain::Coded>(
    field: &str,
    r: Result<T, E>,
    violations: &mut Vec<Violation>,
) -> Option<T> {
    r.map_err(|e| violations.push(violation(field, &e))).ok()
}

/// An example of refused fields: a work email that is not one, and an unknown organisation.
fn invalid_fields() -> AdminError {
    let mut violations = Vec::new();
    parse(
        "work_email",
        WorkEmail::parse("jane.smith"),
        &mut violations,
    );
    violations.push(organisation_not_found());
    AdminError::Invalid(violations)
}

crate::operation_problems!(
    /// The problems of creating a person.
    CreatePersonProblems: AdminError => [invalid_fields(), AdminError::from(PersonError::Conflict)]
);

crate::operation_problems!(
    /// The problems of reading a person.
    PersonProblems: AdminError => [not_found()]
);

crate::operation_problems!(
    /// The problems of changing a person.
    UpdatePersonProblems: AdminError => [
        invalid_fields(),
        not_found(),
        AdminError::from(PersonError::Conflict),
        AdminError::PreconditionFailed,
    ]
);

/// List people, filtered by organisation, employee number and email.
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    params(PersonQuery),
    responses(
        (status = 200, description = "A page of people.", body = AdminPersonPage),
        ListProblems,
    ),
)]
#[get("/admin/people")]
pub async fn list_people(
    state: web::Data<AppState>,
    key: AdminKey,
    query: web::Query<PersonQuery>,
) -> Result<web::Json<AdminPersonPage>, AdminError> {
    let q = query.into_inner();
    let limit = page_limit(q.limit)?;
    let bad = |what: &str| AdminError::InvalidParameter(format!("invalid {what}"));
    let mut filter = PersonFilter {
        organisation: q
            .organisation
            .as_deref()
            .map(OrganisationCode::parse)
            .transpose()
            .map_err(|_| bad("organisation code"))?,
        employee_number: q
            .employee_number
            .as_deref()
            .map(EmployeeNumber::parse)
            .transpose()
            .map_err(|_| bad("employee number"))?
            .map(|n| n.as_str().to_owned()),
        work_email: q
            .email
            .as_deref()
            .map(WorkEmail::parse)
            .transpose()
            .map_err(|_| bad("email"))?
            .map(|e| e.as_str().to_owned()),
        updated_since: super::updated_since(q.updated_since.as_deref())?,
    };
    if let Some(own) = key.organisation() {
        match &filter.organisation {
            Some(asked) if asked != own => {
                return Ok(web::Json(AdminPersonPage {
                    items: Vec::new(),
                    next_cursor: None,
                }));
            }
            _ => filter.organisation = Some(own.clone()),
        }
    }
    let cursor = q
        .cursor
        .map(|c| {
            uuid::Uuid::parse_str(&c)
                .map(|_| c)
                .map_err(|_| bad_cursor())
        })
        .transpose()?;
    let (page, usernames) = state
        .db(move |c| {
            let page = people::list(c, &filter, cursor.as_deref(), limit)?;
            let ids: Vec<PersonId> = page.items.iter().map(|p| p.id.clone()).collect();
            Ok((page, accounts::usernames_of(c, &ids)?))
        })
        .await?;
    Ok(web::Json(AdminPersonPage {
        items: page
            .items
            .into_iter()
            .map(|p| AdminPerson::with_username(p, &usernames).seen_by(&key))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Create a person.
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    request_body = CreatePersonRequest,
    responses(
        (status = 201, description = "Created.", body = AdminPerson),
        CreatePersonProblems,
    ),
)]
#[post("/admin/people")]
pub async fn create_person(
    state: web::Data<AppState>,
    key: WriteKey,
    caller: Caller,
    body: Result<web::Json<CreatePersonRequest>, actix_web::Error>,
) -> Result<HttpResponse, AdminError> {
    let b = super::json_body(body)?;
    let record = match parse_new_person(&b, Utc::now().date_naive()) {
        Ok(record) => record,
        Err((organisation, mut violations)) => {
            // Every problem at once: an unknown organisation beside the other fields.
            if let Some(code) = organisation
                && !organisation_visible(&state, &key, code).await?
            {
                violations.push(organisation_not_found());
            }
            return Err(AdminError::Invalid(violations));
        }
    };
    let created = use_cases::create(&state, &caller, &key, record, Utc::now()).await?;
    Ok(HttpResponse::Created().json(AdminPerson::from(created)))
}

/// Whether the organisation exists and the key covers it.
async fn organisation_visible(
    state: &AppState,
    key: &AdminKey,
    code: OrganisationCode,
) -> Result<bool, AdminError> {
    if !key.can_see(&code) {
        return Ok(false);
    }
    Ok(state
        .db(move |c| esr_persistence::organisations::find(c, &code))
        .await?
        .is_some())
}

/// Every field of a new person, or every violation at once with the organisation code when
/// it was well formed (its existence is the use case's to check).
fn parse_new_person(
    b: &CreatePersonRequest,
    today: NaiveDate,
) -> Result<NewPersonRecord, (Option<OrganisationCode>, Vec<Violation>)> {
    let mut v = Vec::new();
    let org = parse(
        "organisation_code",
        OrganisationCode::parse(&b.organisation_code),
        &mut v,
    );
    let number = parse(
        "employee_number",
        EmployeeNumber::parse(&b.employee_number),
        &mut v,
    );
    let first = parse("first_name", PersonName::parse(&b.first_name), &mut v);
    let last = parse("last_name", PersonName::parse(&b.last_name), &mut v);
    let dob = parse(
        "date_of_birth",
        DateOfBirth::parse(&b.date_of_birth, today),
        &mut v,
    );
    let email = parse("work_email", WorkEmail::parse(&b.work_email), &mut v);
    let subject = b
        .smartcard_subject
        .as_deref()
        .map(|s| check_subject(s, &mut v));
    let language = check_language(b.language.as_deref().unwrap_or("en"), &mut v);
    match (org, number, first, last, dob, email) {
        (
            Some(organisation),
            Some(employee_number),
            Some(first_name),
            Some(last_name),
            Some(date_of_birth),
            Some(work_email),
        ) if v.is_empty() => Ok(NewPersonRecord {
            organisation,
            employee_number,
            first_name,
            last_name,
            date_of_birth,
            work_email,
            smartcard_subject: subject,
            language,
        }),
        (org, ..) => Err((org, v)),
    }
}

/// Get a person.
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    params(("id" = String, Path, description = "The person's id.")),
    responses(
        (status = 200, description = "The person.", body = AdminPerson, headers(("ETag" = String, description = "The version of this record: send it as `If-Match` with a change."))),
        PersonProblems,
    ),
)]
#[get("/admin/people/{id}")]
pub async fn get_person(
    state: web::Data<AppState>,
    key: AdminKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let id = PersonId::parse(&id.into_inner()).ok_or_else(not_found)?;
    let found = state
        .db(move |c| {
            visible_person(c, &key, &id)?
                .map(|p| Ok(admin_person(c, p)?.seen_by(&key)))
                .transpose()
        })
        .await?;
    let person = found.ok_or_else(not_found)?;
    Ok(super::with_etag(&person, person.updated_at))
}

/// Update a person: names, work email, date of birth, smartcard subject, language.
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    params(("id" = String, Path, description = "The person's id."), ("If-Match" = Option<String>, Header, description = "The `ETag` of the record as read: the change is made only if it is still at that version (else `412 precondition-failed`). Without it, the change is made whatever came in between.")),
    request_body = UpdatePersonRequest,
    responses(
        (status = 200, description = "The person as they now are.", body = AdminPerson, headers(("ETag" = String, description = "The version of this record: send it as `If-Match` with a change."))),
        UpdatePersonProblems,
    ),
)]
#[patch("/admin/people/{id}")]
pub async fn update_person(
    state: web::Data<AppState>,
    key: WriteKey,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Result<web::Json<UpdatePersonRequest>, actix_web::Error>,
) -> Result<HttpResponse, AdminError> {
    let b = super::json_body(body)?;
    let id = PersonId::parse(&id.into_inner()).ok_or_else(not_found)?;
    let update = parse_update(b, Utc::now().date_naive())?;
    let expected = super::if_match(&req);
    let updated =
        use_cases::update(&state, &caller, &key, id, update, expected, Utc::now()).await?;
    let person = state.db(move |c| admin_person(c, updated)).await?;
    Ok(super::with_etag(&person, person.updated_at))
}

/// The fields an update sets, or every violation at once.
fn parse_update(b: UpdatePersonRequest, today: NaiveDate) -> Result<PersonUpdate, AdminError> {
    let mut v = Vec::new();
    let update = PersonUpdate {
        first_name: b
            .first_name
            .as_deref()
            .and_then(|s| parse("first_name", PersonName::parse(s), &mut v)),
        last_name: b
            .last_name
            .as_deref()
            .and_then(|s| parse("last_name", PersonName::parse(s), &mut v)),
        date_of_birth: b
            .date_of_birth
            .as_deref()
            .and_then(|s| parse("date_of_birth", DateOfBirth::parse(s, today), &mut v)),
        work_email: b
            .work_email
            .as_deref()
            .and_then(|s| parse("work_email", WorkEmail::parse(s), &mut v)),
        smartcard_subject: b
            .smartcard_subject
            .map(|s| s.map(|s| check_subject(&s, &mut v))),
        language: b.language.as_deref().map(|s| check_language(s, &mut v)),
    };
    if v.is_empty() {
        Ok(update)
    } else {
        Err(AdminError::Invalid(v))
    }
}

/// Record that a person has left the organisation.
///
/// Their accounts are disabled at once: every session ends, every link is cancelled and
/// internet access is revoked (`account.disabled` audited for each), and the person shows
/// `left_at`. After `ESR_ERASE_LEAVERS_AFTER_DAYS` they are anonymised. A full HR feed import
/// (`POST /v1/admin/people/import?full_feed=ORG`) does the same for everyone missing from the
/// file. Saying it again changes nothing and answers the person as they are.
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    params(("id" = String, Path, description = "The person's id.")),
    responses(
        (status = 200, description = "The person, with `left_at`.", body = AdminPerson),
        PersonProblems,
    ),
)]
#[post("/admin/people/{id}/leave")]
pub async fn person_leaves(
    state: web::Data<AppState>,
    key: WriteKey,
    caller: Caller,
    id: web::Path<String>,
) -> Result<web::Json<AdminPerson>, AdminError> {
    let id = PersonId::parse(&id.into_inner()).ok_or_else(not_found)?;
    let left = crate::app::leavers::mark_leaver(&state, &caller, &key, id, Utc::now())
        .await?
        .ok_or_else(not_found)?;
    let person = state.db(move |c| admin_person(c, left)).await?;
    Ok(web::Json(person))
}
