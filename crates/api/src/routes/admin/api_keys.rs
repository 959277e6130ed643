//! API keys: list, create (shown once) and revoke. Keys administer the service itself, so
//! these need a read-write key scoped to all organisations; any key may ask what it is.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use esr_domain::{ApiKeyAccess, ApiKeyName, ApiKeyScope};
use esr_persistence::api_keys::{self, ApiKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{
    AdminError, PageQuery, ServiceListProblems, bad_cursor, page_limit, violation, violation_of,
};
use crate::admin_auth::{AdminAuthError, AdminKey, WriteKey};
use crate::app::Caller;
use crate::app::api_keys::{self as use_cases, CreateKeyError, NewKey};
use crate::state::AppState;

/// Registers the key routes.
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(current_api_key)
        .service(list_api_keys)
        .service(create_api_key)
        .service(revoke_api_key);
}

/// An API key as listed: never the key itself, only its first characters.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "6f1c2a9e-4b7d-4e0a-9c1b-2d3e4f5a6b7c",
    "name": "hr-feed",
    "prefix": "esr_Q2Vnc0dG",
    "scope": "all",
    "access": "write",
    "sees_clients": true,
    "created_at": "2026-11-25T09:00:00.000000Z",
    "revoked_at": null,
    "last_used_at": "2026-11-25T09:05:00.000000Z"
}))]
pub struct ApiKeyBody {
    /// Identifier (for revoking).
    #[schema(format = "uuid")]
    pub id: String,
    /// Unique name; the audit trail names the key by it.
    pub name: String,
    /// The key's first characters, to tell keys apart.
    pub prefix: String,
    /// `all` or an organisation code.
    pub scope: String,
    /// `read` or `write`.
    #[schema(schema_with = crate::routes::closed_sets::key_access)]
    pub access: String,
    /// Whether it sees the IP and user agent of audit events: every read-write key, and a
    /// read-only key created with `sees_clients`.
    pub sees_clients: bool,
    /// Created.
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub created_at: DateTime<Utc>,
    /// Revoked; a revoked key is refused (401).
    #[serde(serialize_with = "crate::timestamps::micros_opt")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// Last used (to the minute).
    #[serde(serialize_with = "crate::timestamps::micros_opt")]
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyBody {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            name: k.name.as_str().to_owned(),
            prefix: k.prefix,
            scope: k.scope.as_str().to_owned(),
            sees_clients: k.sees_clients || k.access == ApiKeyAccess::Write,
            access: k.access.as_str().to_owned(),
            created_at: k.created_at,
            revoked_at: k.revoked_at,
            last_used_at: k.last_used_at,
        }
    }
}

/// A page of API keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyPage {
    /// Keys ordered by name, revoked ones included.
    pub items: Vec<ApiKeyBody>,
    /// Cursor of the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A new key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "service-desk-241", "scope": "241", "access": "write"}))]
pub struct CreateApiKeyRequest {
    /// Unique name: 1–64 letters, digits, `.`, `_`, `-`.
    pub name: String,
    /// `all` or the code of an existing organisation.
    pub scope: String,
    /// `read` or `write`.
    pub access: String,
    /// A read-only key that also sees the IP and user agent of audit events (an
    /// investigation's); read-only keys otherwise read them as `null`. Default `false`.
    #[serde(default)]
    pub sees_clients: bool,
}

/// A key just created: the only time `key` is shown.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "key": "esr_Q2Vnc0dGV3h4bXNkZ1d0cE1jY2JpQ0lJb2h0b1Bkc0k",
    "api_key": {
        "id": "6f1c2a9e-4b7d-4e0a-9c1b-2d3e4f5a6b7c",
        "name": "service-desk-241",
        "prefix": "esr_Q2Vnc0dG",
        "scope": "241",
        "access": "write",
        "created_at": "2026-11-25T09:00:00.000000Z",
        "revoked_at": null,
        "last_used_at": null
    }
}))]
pub struct CreatedApiKey {
    /// The key: store it now, it cannot be shown again.
    pub key: String,
    /// The key as listed.
    pub api_key: ApiKeyBody,
}

/// The key making the request: its name, scope and access, so a script can check it holds
/// the key it expects before acting. Any live key, read-only or scoped to one organisation
/// included; never the key itself.
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    responses(
        (status = 200, description = "This key, as listed.", body = ApiKeyBody),
        AdminError,
    ),
)]
#[get("/admin/api-keys/current")]
pub async fn current_api_key(
    state: web::Data<AppState>,
    key: AdminKey,
) -> Result<web::Json<ApiKeyBody>, AdminError> {
    let id = key.id.clone();
    let found = state.db(move |c| api_keys::find(c, &id)).await?;
    found
        .map(|k| web::Json(ApiKeyBody::from(k)))
        .ok_or_else(key_not_found)
}

/// List API keys (read-write key for all organisations).
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of keys, by name.", body = ApiKeyPage),
        ServiceListProblems,
    ),
)]
#[get("/admin/api-keys")]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    key: WriteKey,
    query: web::Query<PageQuery>,
) -> Result<web::Json<ApiKeyPage>, AdminError> {
    key.require_all_organisations()?;
    let PageQuery { cursor, limit } = query.into_inner();
    let limit = page_limit(limit)?;
    if let Some(c) = &cursor {
        ApiKeyName::parse(c).map_err(|_| bad_cursor())?;
    }
    let page = state
        .db(move |c| api_keys::list(c, cursor.as_deref(), limit))
        .await?;
    Ok(web::Json(ApiKeyPage {
        items: page.items.into_iter().map(ApiKeyBody::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Create an API key (read-write key for all organisations). The key is in the answer once.
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    request_body = CreateApiKeyRequest,
    responses(
        (status = 201, description = "Created; `key` is shown this once.", body = CreatedApiKey),
        CreateKeyProblems,
    ),
)]
#[post("/admin/api-keys")]
pub async fn create_api_key(
    state: web::Data<AppState>,
    key: WriteKey,
    caller: Caller,
    body: Result<web::Json<CreateApiKeyRequest>, actix_web::Error>,
) -> Result<HttpResponse, AdminError> {
    key.require_all_organisations()?;
    let new = parse_new_key(&super::json_body(body)?)?;
    let actor = key.actor();
    let created = state
        .db(move |c| Ok(use_cases::create(c, &caller, &actor, &new, Utc::now())))
        .await?;
    let (secret, stored) = created.map_err(create_key_problem)?;
    Ok(HttpResponse::Created().json(CreatedApiKey {
        key: secret.expose_secret().to_owned(),
        api_key: stored.into(),
    }))
}

/// The request's name, scope and access, or every field that is wrong.
fn parse_new_key(body: &CreateApiKeyRequest) -> Result<NewKey, AdminError> {
    let mut violations = Vec::new();
    let name = ApiKeyName::parse(&body.name)
        .map_err(|e| violations.push(violation("name", &e)))
        .ok();
    let scope = ApiKeyScope::parse(&body.scope)
        .map_err(|e| {
            violations.push(violation_of(
                "scope",
                "invalid-api-key-scope",
                &e.to_string(),
            ))
        })
        .ok();
    let access = ApiKeyAccess::parse(&body.access)
        .map_err(|e| {
            violations.push(violation_of(
                "access",
                "invalid-api-key-access",
                &e.to_string(),
            ))
        })
        .ok();
    match (name, scope, access) {
        (Some(name), Some(scope), Some(access)) => Ok(NewKey {
            name,
            scope,
            access,
            sees_clients: body.sees_clients,
        }),
        _ => Err(AdminError::Invalid(violations)),
    }
}

fn key_not_found() -> AdminError {
    AdminError::NotFound {
        code: "api-key-not-found",
        what: "API key",
    }
}

crate::operation_problems!(
    /// The problems of creating a key.
    CreateKeyProblems: AdminError => [
        AdminAuthError::ScopeTooNarrow,
        parse_new_key(&CreateApiKeyRequest {
            name: "hr feed!".into(),
            scope: "everything".into(),
            access: "admin".into(),
            sees_clients: false,
        })
        .expect_err("three invalid fields"),
        create_key_problem(CreateKeyError::NameTaken(
            ApiKeyName::parse("hr-feed").expect("a valid name"),
        )),
    ]
);

crate::operation_problems!(
    /// The problems of revoking a key.
    RevokeKeyProblems: AdminError => [AdminAuthError::ScopeTooNarrow, key_not_found()]
);

fn create_key_problem(error: CreateKeyError) -> AdminError {
    match error {
        CreateKeyError::NameTaken(name) => AdminError::Conflict {
            code: "api-key-name-taken",
            detail: format!("An API key named {name} exists already; choose another name."),
        },
        CreateKeyError::UnknownOrganisation(code) => AdminError::Invalid(vec![violation_of(
            "scope",
            "organisation-not-found",
            &format!("No organisation has the code {code}."),
        )]),
        CreateKeyError::Failure(f) => f.into(),
    }
}

/// Revoke an API key (read-write key for all organisations). A revoked key is refused at
/// once (401); revoking twice is harmless.
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    params(("id" = String, Path, description = "The key's id.")),
    responses(
        (status = 200, description = "The key, now revoked.", body = ApiKeyBody),
        RevokeKeyProblems,
    ),
)]
#[post("/admin/api-keys/{id}/revoke")]
pub async fn revoke_api_key(
    state: web::Data<AppState>,
    key: WriteKey,
    caller: Caller,
    id: web::Path<String>,
) -> Result<web::Json<ApiKeyBody>, AdminError> {
    key.require_all_organisations()?;
    let id = id.into_inner();
    let actor = key.actor();
    let found = state
        .db(move |c| use_cases::revoke(c, &caller, &actor, &id, Utc::now()))
        .await?;
    found.map(|k| web::Json(k.into())).ok_or_else(key_not_found)
}
