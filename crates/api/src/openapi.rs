//! The OpenAPI document: generated from the routes themselves, committed as
//! `openapi/openapi.json`, served at `/api-docs/openapi.json` and rendered by Swagger UI.

use std::sync::LazyLock;

use actix_web::App;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::problem::{OrganisationChoice, Problem, Violation};

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/api-docs/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ESR Access API",
        description = "The service that owns NHS staff ESR usernames and passwords: remote-access \
registration at work with a smartcard, login from home and from the My ESR app, and recovery of a \
forgotten username or password by email.\n\nErrors are RFC 9457 `application/problem+json` with a \
stable `code` and the `request_id`; every response carries `X-Request-Id`.",
        license(name = "MIT", identifier = "MIT"),
    ),
    servers((url = "/", description = "This server")),
    tags(
        (name = "session", description = "Log in with username and password (My ESR app, home), refresh and log out."),
        (name = "smartcard", description = "Sign in at work with an NHS smartcard through NHS CIS2 (OpenID Connect authorization code flow with PKCE). The result is a workplace session (`amr` `smartcard`, 8 hours) for Manage Internet Access."),
        (name = "self", description = "The signed-in member of staff: profile and password change."),
        (name = "internet-access", description = "Manage Internet Access (at work): the ESR username, the internet-access status, Request Internet Access, and Reset Password with a workplace session."),
        (name = "recovery", description = "Forgotten | Request Username/Password | Unlock Account, and the links their emails carry."),
        (name = "organisations", description = "Employing organisations; their codes start every ESR username."),
        (name = "password-policy", description = "The password rules, and a live check for password forms."),
        (name = "admin", description = "Administrators and integrators (API key: `Authorization: Bearer esr_…`, created with `esr-api create-api-key`): organisations, people, accounts (unlock, suspend, internet-access approval, recovery email), the audit trail, the email outbox and the keys themselves. Keys scoped to one organisation see only it (404 for everything else); read-only keys get 403 on changes. Administrators never see or set a password."),
        (name = "operations", description = "Health, readiness, metrics and this document."),
        (name = "dev", description = "Dev mode only: the built-in test identity provider standing in for NHS CIS2, and the mailbox of the file email transport. These routes do not exist in production (404)."),
    ),
    components(schemas(Problem, Violation, OrganisationChoice)),
    modifiers(&SecuritySchemes, &DocumentEndpoint),
)]
struct ApiDoc;

/// Declares how clients authenticate.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearerAuth",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "Access token from `POST /v1/auth/login` or `POST /v1/auth/smartcard/callback` (EdDSA JWT, 15 minutes).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("esr_…")
                    .description(Some(
                        "Administrator API key (`Authorization: Bearer esr_…`), created with `esr-api create-api-key`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Documents the document itself (served by the Swagger UI service).
struct DocumentEndpoint;

impl Modify for DocumentEndpoint {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let operation = OperationBuilder::new()
            .tag("operations")
            .summary(Some("This OpenAPI document."))
            .operation_id(Some("openapi_document"))
            .response(
                "200",
                ResponseBuilder::new()
                    .description("The OpenAPI 3.1 document of this API.")
                    .content("application/json", ContentBuilder::new().build())
                    .build(),
            )
            .build();
        openapi
            .paths
            .add_path_operation(OPENAPI_PATH, vec![HttpMethod::Get], operation);
    }
}

/// Adds the problem answers every operation of a kind can give, so the document lists them
/// even where a handler's own annotation does not (a handler's own entry always wins).
///
/// Admin operations first: 401 (no live API key), 403 (read-only key on a change, or an
/// organisation-scoped key on a service-wide operation), 404 where the path names a resource
/// (also for other organisations' resources: never 403, so a scoped key learns nothing about
/// them), 413/415 for a body, and 503. Then every operation: the extractors answer 415 for a
/// body of another type, 400/413 for a bad JSON body and 400 for bad parameters, the bearer
/// extractor 401, and any database-backed `/v1` operation 503 when the database is unavailable.
fn add_problem_responses(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{Ref, RefOr};
    let problem = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    crate::problem::PROBLEM_JSON,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build(),
        )
    };
    for (path, item) in api.paths.paths.iter_mut() {
        let v1 = path.starts_with("/v1/");
        let admin = path.starts_with("/v1/admin/");
        let names_resource = path.contains('{');
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            let responses = &mut op.responses.responses;
            let mut add = |code: &str, description: &str| {
                responses
                    .entry(code.to_owned())
                    .or_insert_with(|| problem(description));
            };
            let has_body = op.request_body.is_some();
            if admin {
                add(
                    "401",
                    "`invalid-api-key`: no API key, or an unknown or revoked one (see `WWW-Authenticate`).",
                );
                add(
                    "403",
                    "`api-key-read-only` (a change with a read-only key) or `api-key-scope` (an operation on the service itself with a key scoped to one organisation).",
                );
                if has_body {
                    add(
                        "413",
                        "`payload-too-large`: JSON bodies are limited to 16 KiB.",
                    );
                    add(
                        "415",
                        "`unsupported-media-type`: send `Content-Type: application/json`.",
                    );
                }
                if names_resource {
                    add(
                        "404",
                        "Not found, or belongs to an organisation the key does not cover.",
                    );
                }
                add("503", "`database-unavailable` (see `Retry-After`).");
            }
            if has_body {
                add(
                    "415",
                    "`unsupported-media-type`: the body's `Content-Type` is not the documented one.",
                );
            }
            let json_body = op.request_body.as_ref().is_some_and(
                |b| matches!(b, RefOr::T(b) if b.content.contains_key("application/json")),
            );
            if json_body {
                add(
                    "400",
                    "`malformed-json` or `invalid-request-body`: the body is not JSON of the documented shape (unknown fields are refused).",
                );
                add(
                    "413",
                    "`payload-too-large`: JSON bodies are limited to 16 KiB.",
                );
            }
            if op.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
                add(
                    "400",
                    "`invalid-path-parameter` or `invalid-query-parameter`.",
                );
            }
            let bearer = op.security.as_ref().is_some_and(|reqs| {
                reqs.iter()
                    .any(|r| serde_json::to_string(r).is_ok_and(|j| j.contains("bearerAuth")))
            });
            if bearer {
                add(
                    "401",
                    "`unauthenticated` or `invalid-token`: no valid access token (see `WWW-Authenticate`).",
                );
            }
            if v1 && !path.starts_with("/v1/password-policy") {
                add("503", "`database-unavailable` (see `Retry-After`).");
            }
        }
    }
}

/// Builds the document from the same route registration the server uses. It is the dev
/// mode's set (a superset): dev-only operations are tagged `dev` and say they are absent in
/// production, so the document is the same whatever the mode.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(|cfg| crate::routes::configure(cfg, true))
        .split_for_parts();
    let mut api = api;
    add_problem_responses(&mut api);
    api
}

/// The document a server of this mode serves: in production, without the dev-only operations
/// (tagged `dev`), which do not exist there.
pub fn served_document(dev: bool) -> utoipa::openapi::OpenApi {
    // The document is built once per process (it also answers 405s' `Allow`).
    let mut api = DOCUMENT.clone();
    if !dev {
        api.paths.paths.retain(|_, item| !only_dev(item));
        if let Some(tags) = &mut api.tags {
            tags.retain(|tag| tag.name != "dev");
        }
    }
    api
}

/// Whether every operation of `item` is tagged `dev`.
fn only_dev(item: &PathItem) -> bool {
    let operations = [
        &item.get,
        &item.put,
        &item.post,
        &item.delete,
        &item.options,
        &item.head,
        &item.patch,
        &item.trace,
    ];
    let mut present = operations.iter().filter_map(|o| o.as_ref()).peekable();
    present.peek().is_some()
        && present.all(|o| {
            o.tags
                .as_ref()
                .is_some_and(|tags| tags.iter().any(|t| t == "dev"))
        })
}

/// The document as committed: pretty JSON with a trailing newline.
pub fn document_json() -> String {
    let mut json = serde_json::to_string_pretty(&document()).unwrap_or_default();
    json.push('\n');
    json
}

static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(document);

/// Methods the document lists for a route pattern, for the `Allow` header of a 405.
pub fn allowed_methods(pattern: &str) -> Vec<&'static str> {
    let Some(item) = DOCUMENT.paths.paths.get(pattern) else {
        return Vec::new();
    };
    let PathItem {
        get,
        put,
        post,
        delete,
        options,
        head,
        patch,
        trace,
        ..
    } = item;
    [
        (get, "GET"),
        (put, "PUT"),
        (post, "POST"),
        (delete, "DELETE"),
        (options, "OPTIONS"),
        (head, "HEAD"),
        (patch, "PATCH"),
        (trace, "TRACE"),
    ]
    .into_iter()
    .filter_map(|(op, name)| op.as_ref().map(|_| name))
    .collect()
}

/// Default service: 405 with `Allow` when the path exists with other methods, else 404.
pub async fn no_route(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    let path = req.path().to_owned();
    let allowed = req
        .resource_map()
        .match_pattern(&path)
        .map(|pattern| allowed_methods(&pattern));
    match allowed {
        Some(methods) => {
            let allow = if methods.is_empty() {
                "GET, HEAD".to_owned()
            } else {
                methods.join(", ")
            };
            let mut res = crate::problem::ProblemSpec::new(
                actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method Not Allowed",
                format!("{} is not allowed here; use {allow}.", req.method()),
            )
            .into_response();
            if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&allow) {
                res.headers_mut().insert(actix_web::http::header::ALLOW, v);
            }
            res
        }
        None => crate::problem::ProblemSpec::new(
            actix_web::http::StatusCode::NOT_FOUND,
            "not-found",
            "Not Found",
            "There is nothing at this address. The API is described at /api-docs/openapi.json.",
        )
        .into_response(),
    }
}
