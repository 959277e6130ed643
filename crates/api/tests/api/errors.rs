//! The error contract: every failure is problem+json with a code and the request id.

use crate::both_backends;
use crate::helpers::{TestApp, problem};

both_backends!(
    bad_json_bodies_are_problems_and_never_500,
    unknown_route_is_a_problem_404,
    wrong_method_is_a_problem_405_with_allow,
    request_id_is_echoed_or_generated,
    responses_carry_safety_headers,
    json_bodies_must_be_objects_not_arrays_of_fields,
);

/// Found by schemathesis: serde's derived `Deserialize` also reads a struct from an array of
/// its fields in order, so `["999JSMITH01", "<password>"]` logged in and `[null, null]`
/// patched an organisation. Every JSON body must be an object, as documented.
async fn json_bodies_must_be_objects_not_arrays_of_fields(app: &TestApp) {
    let login = |body: &'static str| {
        app.client
            .post(format!("{}/v1/auth/login", app.address))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let res = login(r#" ["999JSMITH01", "Bluebell harbour lantern"]"#)
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body = problem(res).await;
    assert_eq!(body["code"], "invalid-request-body", "{body}");
    // The same credentials as an object still log in: the body reached the handler intact.
    let res = login(r#"{"username": "999JSMITH01", "password": "Bluebell harbour lantern"}"#)
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // JSON types with a `+json` suffix are JSON too.
    let res = app
        .client
        .post(format!("{}/v1/password-policy/check", app.address))
        .header("content-type", "application/merge-patch+json")
        .body(r#"["x"]"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

async fn unknown_route_is_a_problem_404(app: &TestApp) {
    for path in [
        "/nope",
        "/v1",
        "/v1/",
        "/v2/organisations",
        "/v1/organisations/999/nothing",
        "/%2e%2e/%2e%2e/etc/passwd",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 404, "{path}");
        let body = problem(res).await;
        assert_eq!(body["code"], "not-found", "{path}");
        assert!(
            !body["detail"].as_str().unwrap().contains("passwd"),
            "no reflection of the path"
        );
    }
}

async fn wrong_method_is_a_problem_405_with_allow(app: &TestApp) {
    let res = app
        .client
        .delete(format!("{}/v1/organisations/999", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "GET");
    assert_eq!(problem(res).await["code"], "method-not-allowed");

    let res = app
        .client
        .post(format!("{}/health/live", app.address))
        .header("content-type", "application/json")
        .body("{bad")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(problem(res).await["code"], "method-not-allowed");
}

async fn request_id_is_echoed_or_generated(app: &TestApp) {
    // From a client that is not a trusted proxy, the id is never taken: it could make its
    // requests' log lines and audit rows pass for someone else's.
    let res = app
        .client
        .get(format!("{}/health/live", app.address))
        .header("x-request-id", "lb-7f3a9c21-0001")
        .send()
        .await
        .unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");

    // From a trusted proxy (the load balancer), a plain id is kept end to end.
    let behind_proxy = crate::helpers::spawn_app_with(crate::helpers::TestBackend::Sqlite, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await
    .unwrap();
    let res = behind_proxy
        .client
        .get(format!("{}/health/live", behind_proxy.address))
        .header("x-request-id", "lb-7f3a9c21-0001")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "lb-7f3a9c21-0001");

    // An id that could pollute logs is replaced by a fresh UUID even from the proxy.
    let res = behind_proxy
        .client
        .get(format!("{}/nope", behind_proxy.address))
        .header("x-request-id", "evil\" injected=1")
        .send()
        .await
        .unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    assert_eq!(problem(res).await["request_id"], id.as_str());
}

async fn responses_carry_safety_headers(app: &TestApp) {
    for path in ["/health/live", "/v1/organisations/999", "/nope"] {
        let res = app.get(path).await;
        let h = res.headers();
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.starts_with("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert!(
            !h.contains_key("strict-transport-security"),
            "{path}: no HSTS over plain http"
        );
    }
    // A body refused before any handler (too large) carries them too.
    let res = app
        .client
        .post(format!("{}/v1/auth/login", app.address))
        .header("content-type", "application/json")
        .body(format!("{{\"username\": \"{}\"}}", "x".repeat(20_000)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let h = res.headers();
    assert_eq!(h["x-frame-options"], "DENY", "413");
    assert_eq!(h["x-content-type-options"], "nosniff", "413");
    assert!(h.contains_key("content-security-policy"), "413");
    assert_eq!(h["content-type"], "application/problem+json");
    // Swagger UI: its own scripts only, never framed.
    let res = app.get("/swagger-ui/").await;
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(
        !csp.contains("'unsafe-eval'") && !csp.contains("script-src 'self' 'unsafe-inline'"),
        "{csp}"
    );
}

async fn post_raw(
    app: &TestApp,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let mut req = app
        .client
        .post(format!("{}/v1/password-policy/check", app.address))
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    req.send().await.unwrap()
}

async fn bad_json_bodies_are_problems_and_never_500(app: &TestApp) {
    let json = Some("application/json");
    let cases: Vec<(Option<&str>, Vec<u8>, u16, &str)> = vec![
        (json, b"{bad".to_vec(), 400, "malformed-json"),
        (json, b"".to_vec(), 400, "malformed-json"),
        (
            json,
            br#"{"new_password": "x""#.to_vec(),
            400,
            "malformed-json",
        ),
        (json, br#"[1, 2]"#.to_vec(), 400, "invalid-request-body"),
        (
            json,
            br#"{"new_password": 12}"#.to_vec(),
            400,
            "invalid-request-body",
        ),
        (
            json,
            br#"{"new_password": "x", "admin": true}"#.to_vec(),
            400,
            "invalid-request-body",
        ),
        (json, br#"{}"#.to_vec(), 400, "invalid-request-body"),
        (json, br#"null"#.to_vec(), 400, "invalid-request-body"),
        // Deep nesting is refused at the first token, without recursing.
        (
            json,
            "[".repeat(10_000).into_bytes(),
            400,
            "invalid-request-body",
        ),
        (
            json,
            format!(r#"{{"new_password": {}"#, "{\"a\":".repeat(2_000)).into_bytes(),
            400,
            "invalid-request-body",
        ),
        (
            Some("text/plain"),
            br#"{"new_password": "x"}"#.to_vec(),
            415,
            "unsupported-media-type",
        ),
        (
            None,
            br#"{"new_password": "x"}"#.to_vec(),
            415,
            "unsupported-media-type",
        ),
        (
            json,
            format!(r#"{{"new_password": "{}"}}"#, "a".repeat(17 * 1024)).into_bytes(),
            413,
            "payload-too-large",
        ),
    ];
    for (content_type, body, status, code) in cases {
        let shown = String::from_utf8_lossy(&body[..body.len().min(40)]).into_owned();
        let res = post_raw(app, content_type, body).await;
        assert_eq!(res.status(), status, "{content_type:?} {shown}");
        assert_eq!(problem(res).await["code"], code, "{content_type:?} {shown}");
    }
}

/// An unexpected failure (here: a row the code cannot interpret) is an opaque 500
/// problem: the cause goes to the log with the request id, never to the client.
#[tokio::test]
async fn internal_errors_are_opaque_problems() {
    use diesel::connection::SimpleConnection;
    let app = crate::helpers::spawn_app(crate::helpers::TestBackend::Sqlite)
        .await
        .unwrap();
    let mut conn = app.db();
    conn.batch_execute(
        "PRAGMA ignore_check_constraints = ON; UPDATE accounts SET status = 'weird' WHERE username = '999JSMITH01';",
    )
    .unwrap();
    let res = app.login("999JSMITH01", "Bluebell harbour lantern").await;
    assert_eq!(res.status(), 500);
    let body = problem(res).await;
    assert_eq!(body["code"], "internal-error");
    let text = format!("{} {}", body["title"], body["detail"]);
    assert!(
        !text.contains("weird") && !text.contains("account") && !text.contains("stored data"),
        "{text}"
    );
    app.stop().await;
}

/// Reached over TLS (an https public address), every answer tells browsers to keep to https.
#[tokio::test]
async fn answers_carry_hsts_when_the_public_address_is_https() {
    let app = crate::helpers::spawn_production_app(
        crate::helpers::TestBackend::Sqlite,
        &["--smartcard-disabled"],
    )
    .await
    .unwrap();
    for path in ["/health/live", "/nope", "/self-service/"] {
        let res = app.get(path).await;
        assert_eq!(
            res.headers()["strict-transport-security"],
            "max-age=31536000",
            "{path}"
        );
    }
    app.stop().await;
}

/// A client trickling its JSON body (a slow-body attack holds a connection per byte a second)
/// gets `408 request-timeout` once the body deadline passes, and others are served meanwhile.
#[tokio::test]
async fn a_trickled_body_is_cut_off_with_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = crate::helpers::spawn_app_with(crate::helpers::TestBackend::Sqlite, |c| {
        c.body_timeout = std::time::Duration::from_secs(1);
    })
    .await
    .unwrap();
    let stream = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    let (mut reader, mut writer) = stream.into_split();
    writer
        .write_all(b"POST /v1/auth/login HTTP/1.1\r\nHost: esr\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let trickle = tokio::spawn(async move {
        for _ in 0..30 {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            if writer.write_all(b" ").await.is_err() {
                break;
            }
        }
    });
    assert_eq!(
        app.get("/health/live").await.status(),
        200,
        "others are served"
    );
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), reader.read(&mut answer))
        .await
        .expect("answered before the trickle ends")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request-timeout"), "{answer}");
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    trickle.abort();
    app.stop().await;
}
