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
stable `code` and the `request_id`; every response carries `X-Request-Id`. A problem's `title` and \
`detail` are in Welsh when `Accept-Language` prefers it (`cy`, `cy-GB`; q-values honoured) and \
the problem has Welsh words, as `Content-Language` then says; its `code` never changes.",
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

/// Adds the problems an operation's extractors can give before its handler runs, by the
/// operation's shape, beside those its error type lists: a JSON body's (malformed, wrong shape,
/// too large, wrong type, too slow), malformed path or query parameters, a missing or invalid
/// access token, and a read-only API key on an admin change. Each comes from the extractor's
/// own error type, so the document shows what the service sends.
fn add_extractor_problems(api: &mut utoipa::openapi::OpenApi) {
    use crate::admin_auth::AdminAuthError;
    use crate::auth::AuthError;
    use crate::problem::{AsProblem, ProblemCatalogue, RequestError, merge_into};
    use utoipa::openapi::RefOr;
    for (path, item) in &mut api.paths.paths {
        let admin = path.starts_with("/v1/admin/");
        for (method, op) in [
            ("GET", &mut item.get),
            ("PUT", &mut item.put),
            ("POST", &mut item.post),
            ("DELETE", &mut item.delete),
            ("PATCH", &mut item.patch),
        ] {
            let Some(op) = op else { continue };
            let mut problems = Vec::new();
            let json_body = op.request_body.as_ref().is_some_and(
                |b| matches!(b, RefOr::T(b) if b.content.contains_key("application/json")),
            );
            if json_body {
                problems.extend(RequestError::examples());
            }
            if op.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
                problems.extend(RequestError::parameter_examples());
            }
            if bearer_only(op) {
                problems.push(AuthError::Missing.problem());
                problems.push(crate::auth::invalid_token_problem(Some("password_changed")));
            }
            if admin && method != "GET" {
                problems.push(AdminAuthError::ReadOnly.problem());
            }
            merge_into(&mut op.responses.responses, &problems);
        }
    }
}

/// Whether an operation needs an access token (not merely accepts one).
fn bearer_only(op: &utoipa::openapi::path::Operation) -> bool {
    op.security.as_ref().is_some_and(|requirements| {
        requirements
            .iter()
            .all(|r| serde_json::to_string(r).is_ok_and(|json| json.contains("bearerAuth")))
            && !requirements.is_empty()
    })
}

/// Declares every problem code of the document as the `code` enum of `Problem`.
fn declare_problem_codes(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::{RefOr, Type};
    let codes = crate::problem::ProblemIndex::of(api).codes();
    let Some(components) = api.components.as_mut() else {
        return;
    };
    let Some(RefOr::T(Schema::Object(problem))) = components.schemas.get_mut("Problem") else {
        return;
    };
    if let Some(RefOr::T(Schema::Object(code))) = problem.properties.get_mut("code") {
        code.schema_type = Type::String.into();
        code.enum_values = Some(codes.into_iter().map(Into::into).collect());
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
    add_extractor_problems(&mut api);
    declare_problem_codes(&mut api);
    declare_response_headers(&mut api);
    api
}

/// The headers the service's middleware and problems add to answers, declared once as
/// components and referred to from each response they can come with: `X-Request-Id` on every
/// answer, `Retry-After` on 429 and 503 (when the wait is known), `WWW-Authenticate` on 401 (a
/// missing or refused token or key). A header an operation sets itself (`ETag`) stays as the
/// operation declares it.
fn declare_response_headers(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let string = |format: Option<utoipa::openapi::SchemaFormat>| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(format)
            .build()
    };
    let declared = [
        (
            "X-Request-Id",
            string(None),
            "The request's id: a UUID, or the id a trusted proxy passed on (8 to 64 letters, digits, `-`, `_`, `.`). The same as a problem's `request_id` and in every log line of the request.",
        ),
        (
            "Retry-After",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Int64,
                )))
                .minimum(Some(0))
                .build(),
            "Seconds to wait before trying again (RFC 9110 §10.2.3), when the wait is known.",
        ),
        (
            "WWW-Authenticate",
            string(None),
            "The bearer challenge (RFC 6750 §3) when a token or API key is missing or refused.",
        ),
        (
            "Content-Language",
            string(None),
            "The language of the problem's `title` and `detail`: `cy` (Welsh) when the request's `Accept-Language` prefers Welsh and the problem has Welsh words, otherwise `en`.",
        ),
        (
            "Vary",
            string(None),
            "`Accept-Language` (among others): the words of a problem depend on it.",
        ),
    ];
    let components = api.components.get_or_insert_with(Default::default);
    for (name, schema, description) in declared {
        components.headers.insert(
            name.to_owned(),
            RefOr::T(
                HeaderBuilder::new()
                    .schema(Some(schema))
                    .description(Some(description))
                    .build(),
            ),
        );
    }
    let header_ref = |name: &str| {
        RefOr::Ref(utoipa::openapi::Ref::new(format!(
            "#/components/headers/{name}"
        )))
    };
    for item in api.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            for (status, response) in operation.responses.responses.iter_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                response
                    .headers
                    .entry("X-Request-Id".to_owned())
                    .or_insert_with(|| header_ref("X-Request-Id"));
                if status == "429" || status == "503" {
                    response
                        .headers
                        .entry("Retry-After".to_owned())
                        .or_insert_with(|| header_ref("Retry-After"));
                }
                if status == "401" {
                    response
                        .headers
                        .entry("WWW-Authenticate".to_owned())
                        .or_insert_with(|| header_ref("WWW-Authenticate"));
                }
                if status.parse::<u16>().is_ok_and(|s| s >= 400) {
                    for name in ["Content-Language", "Vary"] {
                        response
                            .headers
                            .entry(name.to_owned())
                            .or_insert_with(|| header_ref(name));
                    }
                }
            }
        }
    }
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
        None => crate::problem::no_route_problem().into_response(),
    }
}
