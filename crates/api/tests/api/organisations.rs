//! `GET /v1/organisations` and `GET /v1/organisations/{code}`.

use esr_domain::{ApprovalMode, OrganisationCode};
use esr_persistence::organisations::{self, NewOrganisation};

use crate::both_backends;
use crate::helpers::{TestApp, problem};

both_backends!(
    demo_organisation_is_served,
    codes_are_case_insensitive,
    unknown_and_malformed_codes_are_problems,
    list_pages_with_a_cursor,
    bad_paging_parameters_are_problems,
);

async fn demo_organisation_is_served(app: &TestApp) {
    let res = app.get("/v1/organisations/999").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "999");
    assert_eq!(body["name"], "Demo NHS Trust");
    assert_eq!(body["internet_access_approval"], "automatic");
    for field in ["created_at", "updated_at"] {
        let at = body[field].as_str().unwrap();
        chrono::DateTime::parse_from_rfc3339(at).unwrap_or_else(|e| panic!("{field} {at}: {e}"));
        assert!(at.ends_with('Z'), "{field} is UTC: {at}");
    }
}

async fn codes_are_case_insensitive(app: &TestApp) {
    add(
        app,
        "R1A",
        "Leeds Community Healthcare NHS Trust",
        ApprovalMode::Manual,
    );
    let res = app.get("/v1/organisations/r1a").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "R1A");
    assert_eq!(body["internet_access_approval"], "manual");
}

async fn unknown_and_malformed_codes_are_problems(app: &TestApp) {
    let body = problem(app.get("/v1/organisations/997").await).await;
    assert_eq!(body["code"], "organisation-not-found");
    assert_eq!(body["status"], 404);
    for bad in ["9999", "9%209", "%F0%9F%98%80", "..%2F"] {
        let res = app.get(&format!("/v1/organisations/{bad}")).await;
        assert_eq!(res.status(), 400, "{bad}");
        assert_eq!(
            problem(res).await["code"],
            "invalid-organisation-code",
            "{bad}"
        );
    }
}

async fn list_pages_with_a_cursor(app: &TestApp) {
    add(
        app,
        "241",
        "Bolton NHS Foundation Trust",
        ApprovalMode::Automatic,
    );
    add(
        app,
        "RX1",
        "Nottingham University Hospitals NHS Trust",
        ApprovalMode::Manual,
    );
    let mut seen = Vec::new();
    let mut path = "/v1/organisations?limit=2".to_owned();
    loop {
        let res = app.get(&path).await;
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        let items = body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|o| o["code"].as_str().unwrap().to_owned()));
        match body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/organisations?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["241", "998", "999", "RX1"]);
}

async fn bad_paging_parameters_are_problems(app: &TestApp) {
    for query in [
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=ten",
        "cursor=%00%00",
        "page=2",
    ] {
        let res = app.get(&format!("/v1/organisations?{query}")).await;
        assert_eq!(res.status(), 400, "{query}");
        assert_eq!(
            problem(res).await["code"],
            "invalid-query-parameter",
            "{query}"
        );
    }
}

fn add(app: &TestApp, code: &str, name: &str, mode: ApprovalMode) {
    let code = OrganisationCode::parse(code).unwrap();
    organisations::upsert(
        &mut app.db(),
        &NewOrganisation {
            code: &code,
            name,
            internet_access_approval: mode,
        },
        chrono::Utc::now(),
    )
    .unwrap();
}
