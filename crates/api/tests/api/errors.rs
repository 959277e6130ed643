//! The error contract: every failure is problem+json with a code and the request id.

use crate::both_backends;
use crate::helpers::{TestApp, problem};

both_backends!(
    unknown_route_is_a_problem_404,
    wrong_method_is_a_problem_405_with_allow,
    request_id_is_echoed_or_generated,
    responses_carry_safety_headers,
);

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
    let res = app
        .client
        .get(format!("{}/health/live", app.address))
        .header("x-request-id", "lb-7f3a9c21-0001")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "lb-7f3a9c21-0001");

    // An id that could pollute logs is replaced by a fresh UUID.
    let res = app
        .client
        .get(format!("{}/nope", app.address))
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
    }
}
