//! The OpenAPI document: committed copy in sync, every route documented, every documented
//! route served, Swagger UI served from vendored assets.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::helpers::{TestApp, TestBackend, spawn_app};

fn committed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi/openapi.json")
}

#[test]
fn committed_document_matches_the_code() {
    let generated = esr_api::openapi::document_json();
    let committed = std::fs::read_to_string(committed_path()).unwrap_or_default();
    assert!(
        generated == committed,
        "openapi/openapi.json is out of date: run `cargo run -p esr-api -- openapi -o openapi/openapi.json`"
    );
}

#[test]
fn every_operation_id_is_unique() {
    // Code generators name client methods after them; OpenAPI requires them unique, and two
    // handlers with the same Rust name in different modules would otherwise share one.
    let doc: serde_json::Value = serde_json::from_str(&esr_api::openapi::document_json()).unwrap();
    let mut seen = std::collections::BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(id) = op["operationId"].as_str() else {
                continue;
            };
            if let Some(first) = seen.insert(id.to_owned(), format!("{method} {path}")) {
                panic!("operationId {id} is used by {first} and by {method} {path}");
            }
        }
    }
    assert!(seen.len() > 40, "{seen:?}");
}

#[test]
fn document_is_openapi_3_with_security_schemes_and_tags() {
    let doc: serde_json::Value = serde_json::from_str(&esr_api::openapi::document_json()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc["info"]["title"], "ESR Access API");
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearerAuth"]["scheme"], "bearer");
    assert_eq!(schemes["apiKey"]["scheme"], "bearer");
    let tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for tag in op["tags"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} has tags"))
            {
                assert!(
                    tags.contains(tag.as_str().unwrap()),
                    "{method} {path}: tag {tag} is declared"
                );
            }
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} has responses"
            );
        }
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

/// Turns a documented path template into a concrete path using parameter examples.
fn concrete(path: &str) -> String {
    path.replace("{code}", "999")
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let app = spawn_app(TestBackend::Sqlite).await.unwrap();
    let served: serde_json::Value = app
        .get("/api-docs/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    let generated: serde_json::Value =
        serde_json::from_str(&esr_api::openapi::document_json()).unwrap();
    assert_eq!(
        served, generated,
        "the served document is the generated one"
    );
    for (path, item) in served["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let res = send(&app, method, &concrete(path)).await;
            let status = res.status().as_u16();
            let code = if res
                .headers()
                .get("content-type")
                .is_some_and(|c| c == "application/problem+json")
            {
                res.json::<serde_json::Value>().await.unwrap()["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            } else {
                String::new()
            };
            assert!(
                code != "not-found" && code != "method-not-allowed",
                "{method} {path} is documented but not served ({status} {code})"
            );
        }
    }
    app.stop().await;
}

async fn send(app: &TestApp, method: &str, path: &str) -> reqwest::Response {
    let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    app.client
        .request(method, format!("{}{path}", app.address))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap()
}

/// Routes registered outside `utoipa_actix_web` (which only accepts documented handlers).
/// Each must be infrastructure that documents itself or is documented by hand.
const UNDOCUMENTED_REGISTRATION_ALLOWED: &[&str] = &[
    // Swagger UI and the document it serves (documented by the DocumentEndpoint modifier).
    "SwaggerUi::new(",
    // The problem+json 404/405 fallback.
    ".default_service(",
];

/// The one route served only on the operator listener, hence in no public document.
const OPERATOR_ONLY_ROUTE: &str = "#[get(\"/metrics\")]";

#[test]
fn every_served_route_is_documented() {
    // Handlers are registered through utoipa_actix_web, whose `service()` refuses (at compile
    // time) a handler without `#[utoipa::path]`. What remains is registration that bypasses it:
    // find every actix routing call in the source and check it is one of the known exceptions.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let bypasses = [
        ".route(",
        "web::resource(",
        "web::scope(",
        "Resource::new(",
        "Scope::new(",
        ".default_service(",
        "SwaggerUi::new(",
        ".external_resource(",
    ];
    let mut found = Vec::new();
    visit(&src, &mut |file, text| {
        // The self-service pages are web pages, not API operations.
        if file.ends_with("self_service.rs") {
            return;
        }
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            // utoipa_actix_web's own scope/service collect documentation; they are the allowed way.
            let code = code.replace("utoipa_actix_web::scope(", "");
            // The document itself when Swagger UI is off (documented by the DocumentEndpoint
            // modifier, as when Swagger UI serves it).
            let code = code.replace(".route(OPENAPI_PATH,", "");
            // Swagger UI's address without its slash, redirected to Swagger UI.
            let code = code.replace(".route(\"/swagger-ui\", to_slash)", "");
            for pattern in bypasses {
                if code.contains(pattern) && !UNDOCUMENTED_REGISTRATION_ALLOWED.contains(&pattern) {
                    found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
            // An actix route macro must sit under a #[utoipa::path] attribute, except the
            // operator listener's metrics: not part of the public API, not served on it.
            if code.trim_start().starts_with(OPERATOR_ONLY_ROUTE) {
                continue;
            }
            for mac in [
                "#[get(",
                "#[post(",
                "#[put(",
                "#[patch(",
                "#[delete(",
                "#[route(",
            ] {
                if code.trim_start().starts_with(mac) {
                    let above = text.lines().take(n).collect::<Vec<_>>().join("\n");
                    let last_item_end = above.rfind("\n}").unwrap_or(0);
                    if !above[last_item_end..].contains("#[utoipa::path(") {
                        found.push(format!(
                            "{}:{}: {} without #[utoipa::path]",
                            file.display(),
                            n + 1,
                            line.trim()
                        ));
                    }
                }
            }
        }
    });
    assert!(
        found.is_empty(),
        "routes served without documentation:\n{}",
        found.join("\n")
    );
}

fn visit(dir: &Path, f: &mut dyn FnMut(&Path, &str)) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            visit(&path, f);
        } else if path.extension().is_some_and(|e| e == "rs") {
            f(&path, &std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[tokio::test]
async fn swagger_ui_is_served_from_vendored_assets() {
    let app = spawn_app(TestBackend::Sqlite).await.unwrap();
    let res = app.get("/swagger-ui/").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger-ui-bundle.js"), "{html}");
    let init = app
        .get("/swagger-ui/swagger-initializer.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api-docs/openapi.json"), "{init}");
    for asset in [
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "swagger-ui-standalone-preset.js",
    ] {
        let res = app.get(&format!("/swagger-ui/{asset}")).await;
        assert_eq!(res.status(), 200, "{asset}");
        assert!(
            res.bytes().await.unwrap().len() > 1_000,
            "{asset} is the real asset"
        );
    }
    app.stop().await;
}

/// The example values of a response's problem+json content (`example` or `examples`).
fn problem_examples(response: &serde_json::Value) -> Vec<serde_json::Value> {
    let content = &response["content"]["application/problem+json"];
    let mut found: Vec<serde_json::Value> = content["examples"]
        .as_object()
        .map(|all| all.values().map(|e| e["value"].clone()).collect())
        .unwrap_or_default();
    if !content["example"].is_null() {
        found.push(content["example"].clone());
    }
    found
}

/// Every error response of every operation lists its codes, each with an example body of its
/// own (made by the error type that answers), all in the `Problem.code` enum.
#[test]
fn every_problem_response_has_an_example_of_each_code_it_lists() {
    let doc: serde_json::Value = serde_json::from_str(&esr_api::openapi::document_json()).unwrap();
    let codes: BTreeSet<&str> =
        doc["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
            .as_array()
            .expect("Problem.code is an enum")
            .iter()
            .filter_map(|c| c.as_str())
            .collect();
    let mut checked = 0;
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.push((method.clone(), path.clone()));
        }
    }
    for (method, path) in &operations {
        let op = &doc["paths"][path][method];
        let responses = op["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path} is documented"));
        for (status, response) in responses {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let examples = problem_examples(response);
            assert!(
                !examples.is_empty(),
                "{method} {path} {status} has an example: {response}"
            );
            for example in examples {
                let code = example["code"].as_str().unwrap_or_default();
                assert_eq!(
                    example["status"].to_string(),
                    *status,
                    "{method} {path} {status}: example {example}"
                );
                assert!(!code.is_empty(), "{method} {path} {status}: {example}");
                assert!(
                    codes.contains(code),
                    "{method} {path} {status}: {code} is in the Problem.code enum"
                );
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| d.contains(&format!("`{code}`"))),
                    "{method} {path} {status}: the description names {code}"
                );
                assert_eq!(
                    example["type"],
                    format!("/problems/{code}"),
                    "{method} {path} {status}"
                );
                for field in ["title", "detail", "request_id"] {
                    assert!(
                        example[field].is_string(),
                        "{method} {path} {status}: {field} in {example}"
                    );
                }
                if code == "password-policy" {
                    assert!(
                        example["violations"]
                            .as_array()
                            .is_some_and(|v| v.len() >= 2),
                        "every violation at once: {example}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 400, "{checked} examples");
    // The workplace session of the callback.
    let ok = &doc["paths"]["/v1/auth/smartcard/callback"]["post"]["responses"]["200"]["content"]["application/json"]
        ["example"];
    let issued = ok["access_token_expires_at"].as_str().unwrap();
    let ends = ok["session_expires_at"].as_str().unwrap();
    let hours = (ends.parse::<chrono::DateTime<chrono::Utc>>().unwrap()
        - issued.parse::<chrono::DateTime<chrono::Utc>>().unwrap())
    .num_minutes() as f64
        / 60.0
        + ok["expires_in"].as_f64().unwrap() / 3600.0;
    assert_eq!(hours, 8.0, "a workplace session of 8 hours: {ok}");
    let access = ok["access_token"].as_str().unwrap();
    assert_eq!(
        crate::auth::jwt_part(access, 1)["amr"],
        serde_json::json!(["smartcard"])
    );
}

/// Production serves the document without the dev-only operations (which do not exist there);
/// and Swagger UI can be switched off while the document stays for clients.
#[tokio::test]
async fn production_serves_no_dev_routes_and_swagger_ui_can_be_switched_off() {
    let app = crate::helpers::spawn_production_app(
        TestBackend::Sqlite,
        &["--smartcard-disabled", "--swagger-ui", "false"],
    )
    .await
    .unwrap();
    let res = app.get("/api-docs/openapi.json").await;
    assert_eq!(res.status(), 200, "the document stays for clients");
    let doc: serde_json::Value = res.json().await.unwrap();
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    assert!(
        !paths
            .iter()
            .any(|p| p.starts_with("/dev-idp") || p.starts_with("/v1/dev/")),
        "{paths:?}"
    );
    assert!(paths.iter().any(|p| *p == "/v1/auth/login"), "{paths:?}");
    let tags: Vec<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(!tags.contains(&"dev"), "{tags:?}");
    assert_eq!(
        app.get("/swagger-ui/").await.status(),
        404,
        "Swagger UI off"
    );
    app.stop().await;

    // Dev mode (the committed document) keeps them, marked as dev only.
    let dev = spawn_app(TestBackend::Sqlite).await.unwrap();
    let doc: serde_json::Value = dev
        .get("/api-docs/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    assert!(doc["paths"].get("/v1/dev/mailbox").is_some());
    assert_eq!(dev.get("/swagger-ui/").await.status(), 200);
    dev.stop().await;
}

/// Whether the document lists `code` among the problems of `method path` at `status`.
fn documented(doc: &serde_json::Value, method: &str, path: &str, status: u16, code: &str) -> bool {
    let response = &doc["paths"][path][method]["responses"][status.to_string()];
    problem_examples(response)
        .iter()
        .any(|example| example["code"] == code)
}

/// Real error answers, provoked through HTTP, are the ones the document lists for their
/// operation and status: the catalogue is the error types', not a hand-kept list.
#[tokio::test]
async fn problems_the_server_sends_are_documented_for_their_operation() {
    let app = spawn_app(TestBackend::Sqlite).await.unwrap();
    let doc: serde_json::Value = serde_json::from_str(&esr_api::openapi::document_json()).unwrap();
    let key = crate::admin::admin_key(&app, "catalogue", "all", "write");
    let read_key = crate::admin::admin_key(&app, "catalogue-read", "all", "read");
    let mut cases: Vec<(&str, &str, reqwest::Response)> = vec![
        (
            "post",
            "/v1/auth/login",
            app.login(crate::auth::JANE, "not her password").await,
        ),
        (
            "post",
            "/v1/auth/login",
            app.client
                .post(format!("{}/v1/auth/login", app.address))
                .header("content-type", "application/json")
                .body("{not json")
                .send()
                .await
                .unwrap(),
        ),
        (
            "post",
            "/v1/auth/refresh",
            app.post_json(
                "/v1/auth/refresh",
                &serde_json::json!({"refresh_token": "made-up"}),
                None,
            )
            .await,
        ),
        ("get", "/v1/me", app.get("/v1/me").await),
        ("get", "/v1/me", app.get_auth("/v1/me", "not-a-token").await),
        (
            "post",
            "/v1/recovery-requests",
            app.post_json(
                "/v1/recovery-requests",
                &serde_json::json!({"work_email": "jane", "date_of_birth": "1980-02-30"}),
                None,
            )
            .await,
        ),
        (
            "post",
            "/v1/password-resets/validate",
            app.post_json(
                "/v1/password-resets/validate",
                &serde_json::json!({"token": "made-up"}),
                None,
            )
            .await,
        ),
        (
            "get",
            "/v1/organisations/{code}",
            app.get("/v1/organisations/12").await,
        ),
        (
            "get",
            "/v1/organisations/{code}",
            app.get("/v1/organisations/123").await,
        ),
        (
            "get",
            "/v1/admin/accounts/{username}",
            app.get_auth("/v1/admin/accounts/999NOBODY01", &key).await,
        ),
        (
            "get",
            "/v1/admin/accounts",
            app.get_auth("/v1/admin/accounts?limit=0", &key).await,
        ),
        (
            "post",
            "/v1/admin/accounts/{username}/internet-access/revoke",
            // Oliver's request is pending: there is no access to revoke.
            app.post_json(
                "/v1/admin/accounts/998OBROWN01/internet-access/revoke",
                &serde_json::json!({}),
                Some(&key),
            )
            .await,
        ),
        (
            "post",
            "/v1/admin/accounts/{username}/suspend",
            app.post_json(
                &format!("/v1/admin/accounts/{}/suspend", crate::auth::JANE),
                &serde_json::json!({}),
                Some(&read_key),
            )
            .await,
        ),
        (
            "get",
            "/v1/admin/people",
            app.get_auth("/v1/admin/people", "esr_made-up").await,
        ),
        (
            "post",
            "/v1/admin/api-keys",
            app.post_json(
                "/v1/admin/api-keys",
                &serde_json::json!({"name": "catalogue", "scope": "all", "access": "read"}),
                Some(&key),
            )
            .await,
        ),
        (
            "post",
            "/v1/admin/people/import",
            app.client
                .post(format!("{}/v1/admin/people/import", app.address))
                .bearer_auth(&key)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap(),
        ),
    ];
    for (method, path, res) in cases.drain(..) {
        let status = res.status().as_u16();
        assert!(status >= 400, "{method} {path} fails: {status}");
        let body = crate::helpers::problem(res).await;
        let code = body["code"].as_str().unwrap_or_default().to_owned();
        assert!(
            documented(&doc, method, path, status, &code),
            "{method} {path} answered {status} {code}, which its documentation lists"
        );
    }
    app.stop().await;
}

/// A problem's `type` is the address of a page that explains it; every code has one.
#[tokio::test]
async fn every_problem_type_resolves_to_a_page_that_explains_it() {
    let app = spawn_app(TestBackend::Sqlite).await.unwrap();
    let doc: serde_json::Value = serde_json::from_str(&esr_api::openapi::document_json()).unwrap();
    let codes = doc["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
        .as_array()
        .unwrap()
        .clone();
    let list = app.get("/problems").await;
    assert_eq!(list.status(), 200);
    let list = list.text().await.unwrap();
    for code in &codes {
        let code = code.as_str().unwrap();
        assert!(
            list.contains(&format!("href=\"/problems/{code}\"")),
            "{code} is listed"
        );
        let page = app.get(&format!("/problems/{code}")).await;
        assert_eq!(page.status(), 200, "/problems/{code}");
        assert!(
            page.headers()
                .get("content-type")
                .is_some_and(|c| c.to_str().unwrap().starts_with("text/html"))
        );
        let page = page.text().await.unwrap();
        assert!(
            page.contains(&format!("<code>{code}</code>")),
            "{code}: {page}"
        );
    }
    // The page of a code an operation gives names the operation.
    let page = app
        .get("/problems/invalid-credentials")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("POST /v1/auth/login"), "{page}");
    assert!(page.contains("401"), "{page}");
    // The type of a real answer is such a page.
    let refused = crate::helpers::problem(app.login(crate::auth::JANE, "wrong").await).await;
    let page = app.get(refused["type"].as_str().unwrap()).await;
    assert_eq!(page.status(), 200);
    let unknown = app.get("/problems/no-such-problem").await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        crate::helpers::problem(unknown).await["code"],
        "problem-type-not-found"
    );
    app.stop().await;
}
