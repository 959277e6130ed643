//! People: creating, listing and updating them, and bad input refused whole.

use serde_json::{Value, json};

use super::{admin_key, audit_of, code_of, get, ok_json, patch, post};
use crate::both_backends;
use crate::helpers::{TestApp, problem};

both_backends!(
    people_are_created_listed_and_updated,
    bad_people_input_is_refused_whole,
    a_change_from_a_stale_read_is_refused,
    a_person_and_their_account_lead_to_each_other,
    a_sync_reads_what_changed_since_its_last_run,
);

async fn people_are_created_listed_and_updated(app: &TestApp) {
    let root = admin_key(app, "root", "all", "write");
    let new = json!({
        "organisation_code": "998", "employee_number": "300001", "first_name": "Gwen",
        "last_name": "Evans", "date_of_birth": "1979-02-28", "work_email": " Gwen.Evans@Demo.Example.ORG ",
        "smartcard_subject": "555000000301", "language": "cy"});
    let res = post(app, "/v1/admin/people", &root, new.clone()).await;
    assert_eq!(res.status(), 201);
    let gwen: Value = res.json().await.unwrap();
    assert_eq!(gwen["work_email"], "gwen.evans@demo.example.org");
    assert_eq!(gwen["language"], "cy");
    let res = post(app, "/v1/admin/people", &root, new.clone()).await;
    assert_eq!(code_of(res).await, (409, "person-conflict".into()));
    let mut other = new.clone();
    other["employee_number"] = json!("300002");
    let res = post(app, "/v1/admin/people", &root, other).await;
    assert_eq!(
        code_of(res).await,
        (409, "person-conflict".into()),
        "smartcard subject taken"
    );

    let id = gwen["id"].as_str().unwrap();
    assert_eq!(
        ok_json(get(app, &format!("/v1/admin/people/{id}"), &root).await).await,
        gwen
    );
    for q in [
        "employee_number=300001",
        "email=GWEN.EVANS@demo.example.org",
        "organisation=998&employee_number=300001",
    ] {
        let body = ok_json(get(app, &format!("/v1/admin/people?{q}"), &root).await).await;
        assert_eq!(body["items"].as_array().unwrap().len(), 1, "{q}");
        assert_eq!(body["items"][0]["id"], gwen["id"]);
    }
    // Cursor pagination visits everyone once.
    let total = ok_json(get(app, "/v1/admin/people?limit=100", &root).await).await["items"]
        .as_array()
        .unwrap()
        .len();
    let (mut seen, mut path) = (Vec::new(), "/v1/admin/people?limit=2".to_owned());
    loop {
        let body = ok_json(get(app, &path, &root).await).await;
        seen.extend(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_str().unwrap().to_owned()),
        );
        match body["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/admin/people?limit=2&cursor={c}"),
            None => break,
        }
    }
    let unique: std::collections::BTreeSet<_> = seen.iter().collect();
    assert_eq!((seen.len(), unique.len()), (total, total));

    let updated = ok_json(patch(app, &format!("/v1/admin/people/{id}"), &root, json!({
        "last_name": "Evans-Price", "work_email": "gwen.price@demo.example.org", "date_of_birth": "1979-03-01",
        "smartcard_subject": null})).await).await;
    assert_eq!(updated["last_name"], "Evans-Price");
    assert_eq!(updated["first_name"], "Gwen");
    assert_eq!(updated["date_of_birth"], "1979-03-01");
    assert!(updated["smartcard_subject"].is_null());
    let events = audit_of(app, &root, "type=admin.person.updated").await;
    assert_eq!(
        events[0]["details"]["fields"],
        json!([
            "last_name",
            "work_email",
            "date_of_birth",
            "smartcard_subject"
        ])
    );
    assert!(
        !events[0].to_string().contains("gwen.price"),
        "no personal data in the audit details"
    );
    let res = patch(
        app,
        &format!("/v1/admin/people/{}", uuid::Uuid::new_v4()),
        &root,
        json!({"first_name": "X"}),
    )
    .await;
    assert_eq!(code_of(res).await, (404, "person-not-found".into()));
}

async fn bad_people_input_is_refused_whole(app: &TestApp) {
    let root = admin_key(app, "root", "all", "write");
    let before = ok_json(get(app, "/v1/admin/people?limit=100", &root).await).await;
    let res = post(
        app,
        "/v1/admin/people",
        &root,
        json!({
        "organisation_code": "777", "employee_number": "12 34", "first_name": "",
        "last_name": "Smith", "date_of_birth": "1985-02-30", "work_email": "not-an-email",
        "smartcard_subject": "has space", "language": "fr"}),
    )
    .await;
    let body = problem(res).await;
    assert_eq!(body["status"], 400);
    let fields: Vec<&str> = body["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["field"].as_str().unwrap())
        .collect();
    for f in [
        "organisation_code",
        "employee_number",
        "first_name",
        "date_of_birth",
        "work_email",
        "smartcard_subject",
        "language",
    ] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    let jane = ok_json(get(app, "/v1/admin/accounts/999JSMITH01", &root).await).await;
    let path = format!("/v1/admin/people/{}", jane["person_id"].as_str().unwrap());
    let res = patch(
        app,
        &path,
        &root,
        json!({"first_name": "Janet", "work_email": "nope"}),
    )
    .await;
    assert_eq!(problem(res).await["violations"][0]["field"], "work_email");
    // Characters that make a name display as something else, in an email or a screen.
    for spoof in [
        "Jane\u{202E}gnp.exe",
        "\u{2066}Jane",
        "Ja\u{200B}ne",
        "Jane\u{0007}",
    ] {
        let res = patch(app, &path, &root, json!({"first_name": spoof})).await;
        let body = problem(res).await;
        assert_eq!(body["violations"][0]["code"], "invalid-name", "{spoof:?}");
    }
    let res = post(
        app,
        "/v1/admin/organisations",
        &root,
        json!({
        "code": "778", "name": "Evil \u{202E}tsurT SHN", "internet_access_approval": "manual"}),
    )
    .await;
    assert_eq!(code_of(res).await.0, 400, "organisation names too");
    let res = patch(app, &path, &root, json!({"password": "Let me in please"})).await;
    assert_eq!(
        code_of(res).await,
        (400, "invalid-request-body".into()),
        "no password field anywhere"
    );
    let after = ok_json(get(app, "/v1/admin/people?limit=100", &root).await).await;
    assert_eq!(before, after, "nothing changed");
    for q in [
        "email=x",
        "employee_number=%20%20",
        "cursor=zzz",
        "limit=101",
    ] {
        assert_eq!(
            code_of(get(app, &format!("/v1/admin/people?{q}"), &root).await)
                .await
                .0,
            400,
            "{q}"
        );
    }
}

/// `If-Match` with the `ETag` of a read: the change goes ahead only while the record is still
/// as read; a change from a stale read (another administrator, or the HR feed, wrote in
/// between) is refused and changes nothing. Organisations the same.
async fn a_change_from_a_stale_read_is_refused(app: &TestApp) {
    let root = admin_key(app, "stale", "all", "write");
    let people = ok_json(get(app, "/v1/admin/people?organisation=999", &root).await).await;
    let id = people["items"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/admin/people/{id}");
    let read = get(app, &path, &root).await;
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "a strong tag: {etag}"
    );
    let before = ok_json(read).await;

    let send = |tag: &str, body: Value| {
        let request = app
            .client
            .patch(format!("{}{path}", app.address))
            .bearer_auth(&root)
            .header("if-match", tag)
            .json(&body);
        async move { request.send().await.unwrap() }
    };
    // The first change, from the read: made, with the new version.
    let first = send(&etag, json!({"first_name": "Janet"})).await;
    assert_eq!(first.status(), 200);
    let newer = first.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(newer, etag);
    // The second, from the same (now stale) read: refused, nothing changed.
    let res = send(&etag, json!({"last_name": "Jones"})).await;
    assert_eq!(code_of(res).await, (412, "precondition-failed".into()));
    let now = ok_json(get(app, &path, &root).await).await;
    assert_eq!(now["first_name"], "Janet");
    assert_eq!(now["last_name"], before["last_name"]);
    // A weak tag never matches; `*` and the current one do; no If-Match changes anyway.
    let res = send(&format!("W/{newer}"), json!({"last_name": "Jones"})).await;
    assert_eq!(res.status(), 412);
    assert_eq!(
        send("*", json!({"first_name": before["first_name"]}))
            .await
            .status(),
        200
    );
    let res = patch(app, &path, &root, json!({"first_name": "Jane"})).await;
    assert_eq!(res.status(), 200);

    // An organisation.
    let read = get(app, "/v1/admin/organisations/999", &root).await;
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    let change = |tag: String, days: u32| {
        let request = app
            .client
            .patch(format!("{}/v1/admin/organisations/999", app.address))
            .bearer_auth(&root)
            .header("if-match", tag)
            .json(&json!({"inactivity_limit_days": days}));
        async move { request.send().await.unwrap() }
    };
    assert_eq!(change(etag.clone(), 400).await.status(), 200);
    let res = change(etag, 500).await;
    assert_eq!(code_of(res).await, (412, "precondition-failed".into()));
    let org = ok_json(get(app, "/v1/admin/organisations/999", &root).await).await;
    assert_eq!(org["inactivity_limit_days"], 400);
}

/// From a person to their account and back, and from an account id (as audit events and
/// outbox messages carry it) to the account and its events.
async fn a_person_and_their_account_lead_to_each_other(app: &TestApp) {
    let root = admin_key(app, "links", "all", "write");
    let people = ok_json(
        get(
            app,
            "/v1/admin/people?email=jane.smith%40demo.example.org",
            &root,
        )
        .await,
    )
    .await;
    let jane = people["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["organisation_code"] == "999")
        .unwrap()
        .clone();
    assert_eq!(
        jane["username"], "999JSMITH01",
        "the person names their account"
    );
    let person = ok_json(
        get(
            app,
            &format!("/v1/admin/people/{}", jane["id"].as_str().unwrap()),
            &root,
        )
        .await,
    )
    .await;
    assert_eq!(person["username"], "999JSMITH01");

    let accounts = ok_json(
        get(
            app,
            &format!(
                "/v1/admin/accounts?person_id={}",
                jane["id"].as_str().unwrap()
            ),
            &root,
        )
        .await,
    )
    .await;
    let items = accounts["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["username"], "999JSMITH01");
    assert_eq!(items[0]["person_id"], jane["id"]);
    let account_id = items[0]["id"].as_str().unwrap().to_owned();

    let by_id =
        ok_json(get(app, &format!("/v1/admin/accounts?id={account_id}"), &root).await).await;
    assert_eq!(by_id["items"][0]["username"], "999JSMITH01");
    // Audit events by account id are those by username.
    app.login("999JSMITH01", "not her password").await;
    let by_name = audit_of(app, &root, "account=999JSMITH01").await;
    let by_account_id = audit_of(app, &root, &format!("account={account_id}")).await;
    assert!(!by_name.is_empty());
    assert_eq!(by_name, by_account_id);
    // Another organisation's key finds nothing by id either.
    let other = admin_key(app, "links-998", "998", "read");
    let hidden =
        ok_json(get(app, &format!("/v1/admin/accounts?id={account_id}"), &other).await).await;
    assert_eq!(hidden["items"].as_array().map(Vec::len), Some(0));
    for q in ["person_id=not-an-id", "id=999JSMITH01"] {
        let res = get(app, &format!("/v1/admin/accounts?{q}"), &root).await;
        assert_eq!(code_of(res).await.0, 400, "{q}");
    }
}

/// `updated_since` on people and accounts: a sync reads only what changed since its last run;
/// the audit events it can meet are a declared catalogue.
async fn a_sync_reads_what_changed_since_its_last_run(app: &TestApp) {
    let root = admin_key(app, "sync", "all", "write");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let encoded = since.replace('+', "%2B");
    let people = ok_json(
        get(
            app,
            &format!("/v1/admin/people?updated_since={encoded}"),
            &root,
        )
        .await,
    )
    .await;
    assert_eq!(
        people["items"].as_array().map(Vec::len),
        Some(0),
        "nothing changed yet"
    );
    let accounts = ok_json(
        get(
            app,
            &format!("/v1/admin/accounts?updated_since={encoded}"),
            &root,
        )
        .await,
    )
    .await;
    assert_eq!(accounts["items"].as_array().map(Vec::len), Some(0));

    // Jane's record changes, and her account with a login.
    let all = ok_json(get(app, "/v1/admin/people?organisation=999", &root).await).await;
    let jane = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["username"] == "999JSMITH01")
        .unwrap()
        .clone();
    let path = format!("/v1/admin/people/{}", jane["id"].as_str().unwrap());
    assert_eq!(
        patch(app, &path, &root, json!({"first_name": "Janet"}))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.login("999JSMITH01", crate::auth::JANE_PASSWORD)
            .await
            .status(),
        200
    );
    let people = ok_json(
        get(
            app,
            &format!("/v1/admin/people?updated_since={encoded}"),
            &root,
        )
        .await,
    )
    .await;
    let changed: Vec<&str> = people["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(changed, [jane["id"].as_str().unwrap()]);
    let accounts = ok_json(
        get(
            app,
            &format!("/v1/admin/accounts?updated_since={encoded}"),
            &root,
        )
        .await,
    )
    .await;
    assert_eq!(accounts["items"][0]["username"], "999JSMITH01");
    assert_eq!(accounts["items"].as_array().map(Vec::len), Some(1));
    for q in ["updated_since=yesterday", "updated_since=2026-12-07"] {
        let res = get(app, &format!("/v1/admin/people?{q}"), &root).await;
        assert_eq!(code_of(res).await.0, 400, "{q}");
    }

    // Every event type the trail shows is in the declared catalogue.
    let doc: Value = serde_json::from_str(&esr_api::openapi::document_json()).unwrap();
    let catalogue =
        doc["components"]["schemas"]["AuditEventBody"]["properties"]["event_type"]["enum"]
            .as_array()
            .expect("event_type is an enum")
            .clone();
    let events = audit_of(app, &root, "limit=100").await;
    assert!(!events.is_empty());
    for event in events {
        assert!(
            catalogue.contains(&event["event_type"]),
            "{} is declared",
            event["event_type"]
        );
    }
}
