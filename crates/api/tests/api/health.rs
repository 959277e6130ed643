//! Liveness, readiness and metrics.

use diesel::connection::SimpleConnection;

use crate::both_backends;
use crate::helpers::{TestApp, TestBackend, problem};

both_backends!(
    live_answers_ok,
    ready_reports_database_and_migrations,
    ready_is_503_when_migrations_are_pending,
    metrics_count_requests_by_route
);

async fn live_answers_ok(app: &TestApp) {
    let res = app.get("/health/live").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("x-request-id"));
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok"}));
}

async fn ready_reports_database_and_migrations(app: &TestApp) {
    let res = app.get("/health/ready").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    let database = match app.backend {
        TestBackend::Sqlite => "sqlite",
        TestBackend::Postgres => "postgres",
    };
    assert_eq!(
        body,
        serde_json::json!({"status": "ready", "database": database, "migrations": "current"})
    );
}

async fn ready_is_503_when_migrations_are_pending(app: &TestApp) {
    // Forget the newest migration: the binary now knows one the database has not applied.
    app.db()
        .batch_execute(
            "DELETE FROM __diesel_schema_migrations WHERE version = (SELECT MAX(version) FROM __diesel_schema_migrations)",
        )
        .unwrap();
    let res = app.get("/health/ready").await;
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    let body = problem(res).await;
    assert_eq!(body["code"], "not-ready");
    assert!(
        body["detail"].as_str().unwrap().contains("esr-api migrate"),
        "{body}"
    );
}

async fn metrics_count_requests_by_route(app: &TestApp) {
    assert_eq!(app.get("/v1/organisations/999").await.status(), 200);
    assert_eq!(app.get("/v1/organisations/997").await.status(), 404);
    assert_eq!(app.get("/no/such/thing").await.status(), 404);
    let res = app
        .client
        .get(format!("{}/metrics", app.operator_address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = res.text().await.unwrap();
    for line in [
        r#"esr_http_requests_total{method="GET",route="/v1/organisations/{code}",status="200"} 1"#,
        r#"esr_http_requests_total{method="GET",route="/v1/organisations/{code}",status="404"} 1"#,
        r#"esr_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        r#"esr_http_request_duration_seconds_count{method="GET",route="/v1/organisations/{code}"} 2"#,
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
    }
    assert!(text.contains("esr_db_pool_connections"), "{text}");
    // Never on the public listener: its counters could tell whether a recovery request
    // matched someone (emails sent, emails pending).
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 404, "no metrics on the public listener");
    let operator_only = app
        .client
        .get(format!("{}/v1/organisations/999", app.operator_address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        operator_only.status(),
        404,
        "no API on the operator listener"
    );
}

/// PostgreSQL only: the database disappears under a running server.
#[tokio::test]
async fn ready_is_503_when_the_database_is_gone() {
    let Some(app) = crate::helpers::spawn_app_with(TestBackend::Postgres, |c| {
        c.database_timeout = std::time::Duration::from_secs(2);
    })
    .await
    else {
        return;
    };
    assert_eq!(app.get("/health/ready").await.status(), 200);
    let admin_url = std::env::var(crate::helpers::PG_ENV).unwrap();
    let name = url::Url::parse(app.database_url.expose())
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_owned();
    {
        use diesel::Connection;
        let mut admin = diesel::PgConnection::establish(&admin_url).unwrap();
        admin
            .batch_execute(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
            .unwrap();
    }
    let started = std::time::Instant::now();
    let res = app.get("/health/ready").await;
    assert_eq!(res.status(), 503);
    let body = problem(res).await;
    assert_eq!(body["code"], "not-ready");
    // Fails within the pool timeout (2 s), not after a hang.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // Other routes answer 503 with Retry-After too, never a 500.
    let res = app.get("/v1/organisations/999").await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "1");
    assert_eq!(problem(res).await["code"], "database-unavailable");
    app.stop().await;
}
