//! The administrator API: API keys (authentication, read-only, scope isolation, revocation),
//! organisations and the limits enforced at login, accounts and their actions, people, the
//! audit trail (and `esr-api audit verify` against a tampered row), the outbox.

use std::process::Command;

use diesel::connection::SimpleConnection;
use esr_domain::{ApiKeyAccess, ApiKeyName, ApiKeyScope};
use serde_json::{Value, json};

use crate::auth::{JANE, JANE_PASSWORD};
use crate::both_backends;
use crate::helpers::{TestApp, TestBackend, problem};

const PRIYA: &str = "999APATEL01";
const PRIYA_PASSWORD: &str = "Copper kettle meadow 42";
const OLIVER: &str = "998OBROWN01";
const JANE_EMAIL: &str = "jane.smith@demo.nhs.uk";

both_backends!(
    keys_authenticate_list_and_revoke,
    read_only_keys_are_refused_on_every_change,
    organisation_keys_see_only_their_organisation,
    organisations_are_created_listed_and_updated,
    inactivity_limit_lapses_internet_access_only_after_a_correct_password,
    password_expiry_is_revealed_only_after_a_correct_password,
    suspend_ends_every_session_until_reactivated,
    revoking_internet_access_ends_every_session,
    pending_requests_are_approved_or_rejected,
    unlock_unlocks_a_locked_account,
    send_recovery_email_sends_the_self_service_email,
    people_are_created_listed_and_updated,
    bad_people_input_is_refused_whole,
    audit_events_filter_and_page,
    dead_outbox_messages_are_listed_and_retried,
    no_admin_answer_carries_a_password_hash,
);

/// Creates a key through the same code as `esr-api create-api-key`; returns the plain key.
pub fn admin_key(app: &TestApp, name: &str, scope: &str, access: &str) -> String {
    let new = esr_api::app::api_keys::NewKey {
        name: ApiKeyName::parse(name).unwrap(),
        scope: ApiKeyScope::parse(scope).unwrap(),
        access: ApiKeyAccess::parse(access).unwrap(),
    };
    let (secret, _) = esr_api::app::api_keys::create(
        &mut app.db(),
        &esr_api::app::Caller::internal(app.audit_chain.clone()),
        &esr_persistence::audit::Actor::Cli,
        &new,
        chrono::Utc::now(),
    )
    .unwrap();
    secret.expose_secret().to_owned()
}

async fn get(app: &TestApp, path: &str, key: &str) -> reqwest::Response {
    app.get_auth(path, key).await
}

async fn post(app: &TestApp, path: &str, key: &str, body: Value) -> reqwest::Response {
    app.post_json(path, &body, Some(key)).await
}

async fn patch(app: &TestApp, path: &str, key: &str, body: Value) -> reqwest::Response {
    app.client
        .patch(format!("{}{path}", app.address))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn ok_json(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    body
}

async fn code_of(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body = problem(res).await;
    (status, body["code"].as_str().unwrap().to_owned())
}

async fn audit_of(app: &TestApp, key: &str, query: &str) -> Vec<Value> {
    let body = ok_json(get(app, &format!("/v1/admin/audit-events?{query}"), key).await).await;
    body["items"].as_array().unwrap().clone()
}

async fn keys_authenticate_list_and_revoke(app: &TestApp) {
    // No key, another scheme, a malformed key, an unknown key: one answer.
    let res = app.get("/v1/admin/organisations").await;
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer realm=\"esr-access-admin\""
    );
    assert_eq!(code_of(res).await, (401, "invalid-api-key".into()));
    let unknown = format!("esr_{}", "A".repeat(43));
    for key in ["esr_short", unknown.as_str(), "not-a-key"] {
        let res = get(app, "/v1/admin/organisations", key).await;
        assert_eq!(code_of(res).await, (401, "invalid-api-key".into()), "{key}");
    }
    // An access token of a member of staff is not an API key.
    let tokens = app.tokens(JANE, JANE_PASSWORD).await;
    let res = get(
        app,
        "/v1/admin/organisations",
        tokens["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(code_of(res).await.0, 401);

    let root = admin_key(app, "root", "all", "write");
    let created = post(
        app,
        "/v1/admin/api-keys",
        &root,
        json!({"name": "service-desk", "scope": "998", "access": "read"}),
    )
    .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let desk = created["key"].as_str().unwrap().to_owned();
    assert!(desk.starts_with("esr_") && desk.len() == 47, "{desk}");
    assert_eq!(created["api_key"]["prefix"], desk[..12]);
    assert_eq!(created["api_key"]["scope"], "998");
    assert_eq!(
        ok_json(get(app, "/v1/admin/organisations", &desk).await).await["items"][0]["code"],
        "998"
    );

    // Taken names, bad fields (all listed), unknown organisations.
    let res = post(
        app,
        "/v1/admin/api-keys",
        &root,
        json!({"name": "service-desk", "scope": "all", "access": "read"}),
    )
    .await;
    assert_eq!(code_of(res).await, (409, "api-key-name-taken".into()));
    let res = post(
        app,
        "/v1/admin/api-keys",
        &root,
        json!({"name": "a b", "scope": "9999", "access": "admin"}),
    )
    .await;
    let body = problem(res).await;
    let fields: Vec<&str> = body["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "scope", "access"], "{body}");
    let res = post(
        app,
        "/v1/admin/api-keys",
        &root,
        json!({"name": "ghost", "scope": "777", "access": "read"}),
    )
    .await;
    assert_eq!(
        problem(res).await["violations"][0]["code"],
        "organisation-not-found"
    );

    // The list shows names and prefixes, never a key or its hash.
    let list = ok_json(get(app, "/v1/admin/api-keys?limit=1", &root).await).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["name"], "root");
    let next = list["next_cursor"].as_str().unwrap();
    let list2 = ok_json(
        get(
            app,
            &format!("/v1/admin/api-keys?limit=1&cursor={next}"),
            &root,
        )
        .await,
    )
    .await;
    assert_eq!(list2["items"][0]["name"], "service-desk");
    assert!(list2.get("next_cursor").is_none());
    let text = list2.to_string();
    assert!(!text.contains(&desk) && !text.contains(&esr_domain::sha256_hex(desk.as_bytes())));
    assert!(
        list2["items"][0]["last_used_at"].is_string(),
        "last use recorded"
    );

    // Revoked: refused at once; revoking again is harmless.
    let id = list2["items"][0]["id"].as_str().unwrap();
    let revoked = ok_json(
        post(
            app,
            &format!("/v1/admin/api-keys/{id}/revoke"),
            &root,
            json!({}),
        )
        .await,
    )
    .await;
    assert!(revoked["revoked_at"].is_string());
    let res = get(app, "/v1/admin/organisations", &desk).await;
    assert_eq!(code_of(res).await, (401, "invalid-api-key".into()));
    assert_eq!(
        post(
            app,
            &format!("/v1/admin/api-keys/{id}/revoke"),
            &root,
            json!({})
        )
        .await
        .status(),
        200
    );
    let res = post(app, "/v1/admin/api-keys/nope/revoke", &root, json!({})).await;
    assert_eq!(code_of(res).await, (404, "api-key-not-found".into()));

    // Every change is audited with the acting key's name.
    let events = audit_of(app, &root, "type=admin.api_key.revoked").await;
    assert_eq!(events.len(), 1, "revoking twice audits once");
    assert_eq!(events[0]["actor"], "api-key:root");
    assert_eq!(events[0]["details"]["api_key"], "service-desk");
    // The root key came from the command line (actor `cli`); the desk key from root.
    let events = audit_of(app, &root, "type=admin.api_key.created").await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["actor"], "cli");
    assert_eq!(events[1]["actor"], "api-key:root");
    assert_eq!(
        events[1]["details"],
        json!({"api_key": "service-desk", "scope": "998", "access": "read"})
    );
}

async fn read_only_keys_are_refused_on_every_change(app: &TestApp) {
    let reader = admin_key(app, "auditor", "all", "read");
    assert_eq!(get(app, "/v1/admin/accounts", &reader).await.status(), 200);
    assert_eq!(
        get(app, "/v1/admin/audit-events", &reader).await.status(),
        200
    );
    let changes: [(&str, Value); 8] = [
        (
            "/v1/admin/organisations",
            json!({"code": "241", "name": "Bolton", "internet_access_approval": "manual"}),
        ),
        (
            "/v1/admin/api-keys",
            json!({"name": "x", "scope": "all", "access": "write"}),
        ),
        ("/v1/admin/accounts/999JSMITH01/suspend", json!({})),
        (
            "/v1/admin/accounts/999JSMITH01/internet-access/revoke",
            json!({}),
        ),
        (
            "/v1/admin/accounts/999JSMITH01/send-recovery-email",
            json!({}),
        ),
        ("/v1/admin/accounts/999JSMITH01/unlock", json!({})),
        ("/v1/admin/people", json!({})),
        // Refused before the body is read: even a malformed body gets the 403.
        ("/v1/admin/outbox/x/retry", json!({})),
    ];
    for (path, body) in changes {
        let res = post(app, path, &reader, body).await;
        assert_eq!(
            code_of(res).await,
            (403, "api-key-read-only".into()),
            "{path}"
        );
    }
    let res = patch(
        app,
        "/v1/admin/organisations/999",
        &reader,
        json!({"name": "Renamed"}),
    )
    .await;
    assert_eq!(code_of(res).await, (403, "api-key-read-only".into()));
    // Nothing changed.
    let account = ok_json(get(app, "/v1/admin/accounts/999JSMITH01", &reader).await).await;
    assert_eq!(
        (
            account["status"].as_str(),
            account["internet_access"].as_str()
        ),
        (Some("active"), Some("approved"))
    );
    let org = ok_json(get(app, "/v1/admin/organisations/999", &reader).await).await;
    assert_eq!(org["name"], "Demo NHS Trust");
    assert_eq!(
        get(app, "/v1/admin/organisations/241", &reader)
            .await
            .status(),
        404
    );
    assert!(
        audit_of(app, &reader, "type=admin.account.suspended")
            .await
            .is_empty()
    );
}

async fn organisation_keys_see_only_their_organisation(app: &TestApp) {
    let root = admin_key(app, "root", "all", "write");
    let trust = admin_key(app, "trust-998", "998", "write");
    // Something of each organisation to find in the audit trail.
    app.login(JANE, "a wrong password").await;
    app.login("998JSMITH01", "a wrong password").await;
    let jane = ok_json(get(app, "/v1/admin/accounts/999JSMITH01", &root).await).await;

    // Another organisation's resources do not exist for this key: the same 404 as a
    // resource that does not exist at all.
    for (path, missing) in [
        (
            "/v1/admin/accounts/999JSMITH01".to_owned(),
            "/v1/admin/accounts/999NOBODY01".to_owned(),
        ),
        (
            "/v1/admin/organisations/999".to_owned(),
            "/v1/admin/organisations/777".to_owned(),
        ),
        (
            format!("/v1/admin/people/{}", jane["person_id"].as_str().unwrap()),
            format!("/v1/admin/people/{}", uuid::Uuid::new_v4()),
        ),
    ] {
        let (a, b) = (
            get(app, &path, &trust).await,
            get(app, &missing, &trust).await,
        );
        let (a, b) = (problem(a).await, problem(b).await);
        assert_eq!(
            (a["status"].clone(), a["code"].clone(), a["detail"].clone()),
            (b["status"].clone(), b["code"].clone(), b["detail"].clone()),
            "{path}"
        );
        assert_eq!(a["status"], 404);
    }
    for path in [
        "/v1/admin/accounts/999JSMITH01/unlock",
        "/v1/admin/accounts/999JSMITH01/suspend",
        "/v1/admin/accounts/999JSMITH01/internet-access/revoke",
        "/v1/admin/accounts/999JSMITH01/send-recovery-email",
    ] {
        let res = post(app, path, &trust, json!({})).await;
        assert_eq!(
            code_of(res).await,
            (404, "account-not-found".into()),
            "{path}"
        );
    }
    let res = patch(
        app,
        "/v1/admin/organisations/999",
        &trust,
        json!({"name": "Mine now"}),
    )
    .await;
    assert_eq!(code_of(res).await, (404, "organisation-not-found".into()));
    let res = patch(
        app,
        &format!("/v1/admin/people/{}", jane["person_id"].as_str().unwrap()),
        &trust,
        json!({"first_name": "Eve"}),
    )
    .await;
    assert_eq!(code_of(res).await, (404, "person-not-found".into()));
    let res = post(app, "/v1/admin/people", &trust, json!({
        "organisation_code": "999", "employee_number": "X1", "first_name": "Eve", "last_name": "Spy",
        "date_of_birth": "1990-01-01", "work_email": "eve@demo.nhs.uk"})).await;
    assert_eq!(
        problem(res).await["violations"][0]["code"],
        "organisation-not-found"
    );

    // Lists hold only the key's organisation, whatever the filter asks.
    let accounts = ok_json(get(app, "/v1/admin/accounts", &trust).await).await;
    let orgs: Vec<&str> = accounts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["organisation_code"].as_str().unwrap())
        .collect();
    assert!(
        !orgs.is_empty() && orgs.iter().all(|o| *o == "998"),
        "{orgs:?}"
    );
    for path in [
        "/v1/admin/accounts?organisation=999",
        "/v1/admin/people?organisation=999",
        "/v1/admin/audit-events?account=999JSMITH01",
    ] {
        let body = ok_json(get(app, path, &trust).await).await;
        assert!(
            body["items"].as_array().unwrap().is_empty(),
            "{path}: {body}"
        );
    }
    let people = ok_json(get(app, "/v1/admin/people", &trust).await).await;
    assert!(
        people["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["organisation_code"] == "998")
    );
    let organisations = ok_json(get(app, "/v1/admin/organisations", &trust).await).await;
    assert_eq!(organisations["items"].as_array().unwrap().len(), 1);
    assert_eq!(organisations["items"][0]["code"], "998");
    let events = ok_json(get(app, "/v1/admin/audit-events?limit=100", &trust).await).await;
    let all = ok_json(get(app, "/v1/admin/audit-events?limit=100", &root).await).await;
    assert!(
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["account_id"] == jane["id"])
    );
    let events = events["items"].as_array().unwrap();
    assert!(!events.is_empty());
    assert!(
        events
            .iter()
            .all(|e| e["account_id"] != jane["id"] && !e["account_id"].is_null())
    );

    // The key's own organisation works, and service-wide operations are not for it.
    let oliver = ok_json(get(app, "/v1/admin/accounts/998obrown01", &trust).await).await;
    assert_eq!(oliver["username"], OLIVER);
    for path in ["/v1/admin/api-keys", "/v1/admin/outbox"] {
        assert_eq!(
            code_of(get(app, path, &trust).await).await,
            (403, "api-key-scope".into()),
            "{path}"
        );
    }
    let res = post(
        app,
        "/v1/admin/organisations",
        &trust,
        json!({"code": "241", "name": "Bolton", "internet_access_approval": "manual"}),
    )
    .await;
    assert_eq!(code_of(res).await, (403, "api-key-scope".into()));
}

async fn organisations_are_created_listed_and_updated(app: &TestApp) {
    let root = admin_key(app, "root", "all", "write");
    let res = post(
        app,
        "/v1/admin/organisations",
        &root,
        json!({
        "code": "241", "name": "Bolton NHS Foundation Trust", "internet_access_approval": "manual",
        "inactivity_limit_days": 183}),
    )
    .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["inactivity_limit_days"], 183);
    assert!(created["password_expiry_days"].is_null());
    let res = post(
        app,
        "/v1/admin/organisations",
        &root,
        json!({"code": "241", "name": "Again", "internet_access_approval": "automatic"}),
    )
    .await;
    assert_eq!(code_of(res).await, (409, "organisation-exists".into()));
    // Every bad field at once, and nothing created.
    let res = post(app, "/v1/admin/organisations", &root, json!({
        "code": "24", "name": " ", "internet_access_approval": "manual", "inactivity_limit_days": 0, "password_expiry_days": 4000})).await;
    let body = problem(res).await;
    let fields: Vec<&str> = body["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "code",
            "name",
            "inactivity_limit_days",
            "password_expiry_days"
        ]
    );
    let res = post(
        app,
        "/v1/admin/organisations",
        &root,
        json!({"code": "242", "name": "X", "internet_access_approval": "sometimes"}),
    )
    .await;
    assert_eq!(code_of(res).await, (400, "invalid-request-body".into()));

    let list = ok_json(get(app, "/v1/admin/organisations?limit=2", &root).await).await;
    assert_eq!(list["items"][0]["code"], "241");
    let cursor = list["next_cursor"].as_str().unwrap();
    let rest = ok_json(
        get(
            app,
            &format!("/v1/admin/organisations?cursor={cursor}"),
            &root,
        )
        .await,
    )
    .await;
    assert_eq!(rest["items"][0]["code"], "999");

    let updated = ok_json(
        patch(
            app,
            "/v1/admin/organisations/241",
            &root,
            json!({"password_expiry_days": 365, "internet_access_approval": "automatic"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (
            updated["inactivity_limit_days"].clone(),
            updated["password_expiry_days"].clone(),
            updated["internet_access_approval"].clone()
        ),
        (json!(183), json!(365), json!("automatic"))
    );
    let cleared = ok_json(
        patch(
            app,
            "/v1/admin/organisations/241",
            &root,
            json!({"inactivity_limit_days": null}),
        )
        .await,
    )
    .await;
    assert!(cleared["inactivity_limit_days"].is_null());
    assert_eq!(cleared["password_expiry_days"], 365);
    assert_eq!(cleared["name"], "Bolton NHS Foundation Trust");
    let res = patch(
        app,
        "/v1/admin/organisations/241",
        &root,
        json!({"password_expiry_days": -1}),
    )
    .await;
    assert_eq!(code_of(res).await.0, 400);
    let res = patch(
        app,
        "/v1/admin/organisations/241",
        &root,
        json!({"colour": "blue"}),
    )
    .await;
    assert_eq!(code_of(res).await, (400, "invalid-request-body".into()));
    let res = patch(
        app,
        "/v1/admin/organisations/777",
        &root,
        json!({"name": "Nobody"}),
    )
    .await;
    assert_eq!(code_of(res).await, (404, "organisation-not-found".into()));
    // The public list sees the new organisation too.
    assert_eq!(app.get("/v1/organisations/241").await.status(), 200);
    let events = audit_of(app, &root, "type=admin.organisation.updated").await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["details"]["inactivity_limit_days"], Value::Null);
}

/// Moves an account's clock back: last login, access change and password change `days` ago.
fn age_account(app: &TestApp, username: &str, days: i64) {
    let at = (chrono::Utc::now() - chrono::Duration::days(days))
        .naive_utc()
        .format("%Y-%m-%d %H:%M:%S");
    app.db()
        .batch_execute(&format!(
            "UPDATE accounts SET last_login_at = '{at}', internet_access_changed_at = '{at}', password_changed_at = '{at}' WHERE username = '{username}'"
        ))
        .unwrap();
}

async fn inactivity_limit_lapses_internet_access_only_after_a_correct_password(app: &TestApp) {
    let root = admin_key(app, "root", "all", "write");
    ok_json(
        patch(
            app,
            "/v1/admin/organisations/999",
            &root,
            json!({"inactivity_limit_days": 30}),
        )
        .await,
    )
    .await;
    let phone = app.tokens(JANE, JANE_PASSWORD).await;
    age_account(app, JANE, 31);
    age_account(app, PRIYA, 29);

    // Nothing is revealed before the password is verified.
    let res = app.login(JANE, "not her password").await;
    assert_eq!(code_of(res).await, (401, "invalid-credentials".into()));
    let res = app.login(JANE, JANE_PASSWORD).await;
    let body = problem(res).await;
    assert_eq!(
        (body["status"].clone(), body["code"].clone()),
        (json!(403), json!("internet-access-lapsed"))
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("Manage Internet Access")
    );
    // Access is revoked (renewed at work), the failed attempt no longer counts, sessions end.
    let account = ok_json(get(app, "/v1/admin/accounts/999JSMITH01", &root).await).await;
    assert_eq!(account["internet_access"], "revoked");
    assert_eq!(account["failed_login_count"], 0);
    let res = app
        .post_json(
            "/v1/auth/refresh",
            &json!({"refresh_token": phone["refresh_token"]}),
            None,
        )
        .await;
    assert_eq!(res.status(), 401);
    let res = app.login(JANE, JANE_PASSWORD).await;
    assert_eq!(
        code_of(res).await,
        (403, "internet-access-not-approved".into())
    );
    assert_eq!(
        audit_of(app, &root, "type=internet_access.lapsed")
            .await
            .len(),
        1
    );
    // Within the limit: fine.
    assert_eq!(app.login(PRIYA, PRIYA_PASSWORD).await.status(), 200);
}

async fn password_expiry_is_revealed_only_after_a_correct_password(app: &TestApp) {
    let root = admin_key(app, "root", "all", "write");
    ok_json(
        patch(
            app,
            "/v1/admin/organisations/999",
            &root,
            json!({"password_expiry_days": 90}),
        )
        .await,
    )
    .await;
    age_account(app, JANE, 91);
    age_account(app, PRIYA, 89);
    let res = app.login(JANE, "not her password").await;
    assert_eq!(code_of(res).await, (401, "invalid-credentials".into()));
    let body = problem(app.login(JANE, JANE_PASSWORD).await).await;
    assert_eq!(
        (body["status"].clone(), body["code"].clone()),
        (json!(403), json!("password-expired"))
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("Forgotten | Request Username/Password")
    );
    // No session; access itself is untouched (a reset by email lets her in again).
    let account = ok_json(get(app, "/v1/admin/accounts/999JSMITH01", &root).await).await;
    assert_eq!(
        (
            account["internet_access"].as_str(),
            account["failed_login_count"].as_u64()
        ),
        (Some("approved"), Some(0))
    );
    assert_eq!(app.login(PRIYA, PRIYA_PASSWORD).await.status(), 200);
    // Expiry off again: her password works.
    ok_json(
        patch(
            app,
            "/v1/admin/organisations/999",
            &root,
            json!({"password_expiry_days": null}),
        )
        .await,
    )
    .await;
    assert_eq!(app.login(JANE, JANE_PASSWORD).await.status(), 200);
}

async fn suspend_ends_every_session_until_reactivated(app: &TestApp) {
    let root = admin_key(app, "service-desk", "all", "write");
    let phone = app.tokens(JANE, JANE_PASSWORD).await;
    let laptop = app.tokens(JANE, JANE_PASSWORD).await;
    let suspended = ok_json(
        post(
            app,
            "/v1/admin/accounts/999jsmith01/suspend",
            &root,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(suspended["status"], "suspended");
    for tokens in [&phone, &laptop] {
        let res = app
            .post_json(
                "/v1/auth/refresh",
                &json!({"refresh_token": tokens["refresh_token"]}),
                None,
            )
            .await;
        assert_eq!(code_of(res).await, (401, "invalid-refresh-token".into()));
        let res = app
            .get_auth("/v1/me", tokens["access_token"].as_str().unwrap())
            .await;
        assert_eq!(res.status(), 401);
    }
    assert_eq!(
        code_of(app.login(JANE, "wrong guess").await).await,
        (401, "invalid-credentials".into())
    );
    assert_eq!(
        code_of(app.login(JANE, JANE_PASSWORD).await).await,
        (403, "account-suspended".into())
    );
    let res = post(
        app,
        "/v1/admin/accounts/999JSMITH01/suspend",
        &root,
        json!({}),
    )
    .await;
    assert_eq!(code_of(res).await, (409, "account-status-conflict".into()));
    let active = ok_json(
        post(
            app,
            "/v1/admin/accounts/999JSMITH01/reactivate",
            &root,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(active["status"], "active");
    assert_eq!(app.login(JANE, JANE_PASSWORD).await.status(), 200);
    let res = post(
        app,
        "/v1/admin/accounts/999JSMITH01/reactivate",
        &root,
        json!({}),
    )
    .await;
    assert_eq!(code_of(res).await, (409, "account-status-conflict".into()));
    let events = audit_of(
        app,
        &root,
        "account=999JSMITH01&type=admin.account.suspended",
    )
    .await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["actor"], "api-key:service-desk");
    assert_eq!(events[0]["account_id"], suspended["id"]);
}

async fn revoking_internet_access_ends_every_session(app: &TestApp) {
    let root = admin_key(app, "root", "all", "write");
    let phone = app.tokens(PRIYA, PRIYA_PASSWORD).await;
    let account = ok_json(
        post(
            app,
            "/v1/admin/accounts/999APATEL01/internet-access/revoke",
            &root,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(account["internet_access"], "revoked");
    let res = app
        .post_json(
            "/v1/auth/refresh",
            &json!({"refresh_token": phone["refresh_token"]}),
            None,
        )
        .await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        app.get_auth("/v1/me", phone["access_token"].as_str().unwrap())
            .await
            .status(),
        401
    );
    assert_eq!(
        code_of(app.login(PRIYA, PRIYA_PASSWORD).await).await,
        (403, "internet-access-not-approved".into())
    );
    // Revoked access is renewed at work, not approved by an administrator.
    let res = post(
        app,
        "/v1/admin/accounts/999APATEL01/internet-access/approve",
        &root,
        json!({}),
    )
    .await;
    assert_eq!(
        code_of(res).await,
        (409, "internet-access-status-conflict".into())
    );
    let res = post(
        app,
        "/v1/admin/accounts/999APATEL01/internet-access/revoke",
        &root,
        json!({}),
    )
    .await;
    assert_eq!(
        code_of(res).await,
        (409, "internet-access-status-conflict".into())
    );
}

async fn pending_requests_are_approved_or_rejected(app: &TestApp) {
    let root = admin_key(app, "root", "all", "write");
    let pending =
        ok_json(get(app, "/v1/admin/accounts?internet_access=pending", &root).await).await;
    let names: Vec<&str> = pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, [OLIVER]);
    let res = post(
        app,
        "/v1/admin/accounts/998OBROWN01/internet-access/reject",
        &root,
        json!({}),
    )
    .await;
    assert_eq!(ok_json(res).await["internet_access"], "rejected");
    let res = post(
        app,
        "/v1/admin/accounts/998OBROWN01/internet-access/approve",
        &root,
        json!({}),
    )
    .await;
    assert_eq!(
        code_of(res).await,
        (409, "internet-access-status-conflict".into())
    );
    app.db()
        .batch_execute(
            "UPDATE accounts SET internet_access = 'pending' WHERE username = '998OBROWN01'",
        )
        .unwrap();
    let res = post(
        app,
        "/v1/admin/accounts/998OBROWN01/internet-access/approve",
        &root,
        json!({}),
    )
    .await;
    assert_eq!(ok_json(res).await["internet_access"], "approved");
    let events = audit_of(app, &root, "account=998OBROWN01").await;
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "admin.internet_access.rejected",
            "admin.internet_access.approved"
        ]
    );
    // Filters are checked.
    for q in [
        "status=frozen",
        "internet_access=maybe",
        "organisation=9999",
        "limit=0",
        "cursor=%20",
        "colour=red",
    ] {
        let res = get(app, &format!("/v1/admin/accounts?{q}"), &root).await;
        assert_eq!(code_of(res).await.0, 400, "{q}");
    }
}

async fn unlock_unlocks_a_locked_account(app: &TestApp) {
    let root = admin_key(app, "root", "all", "write");
    let res = post(
        app,
        "/v1/admin/accounts/999APATEL01/unlock",
        &root,
        json!({}),
    )
    .await;
    assert_eq!(code_of(res).await, (409, "account-status-conflict".into()));
    for _ in 0..5 {
        app.login(PRIYA, "a wrong password guess").await;
    }
    let locked = ok_json(get(app, "/v1/admin/accounts?status=locked", &root).await).await;
    assert_eq!(locked["items"][0]["username"], PRIYA);
    assert_eq!(locked["items"][0]["failed_login_count"], 5);
    let account = ok_json(
        post(
            app,
            "/v1/admin/accounts/999APATEL01/unlock",
            &root,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (
            account["status"].clone(),
            account["failed_login_count"].clone(),
            account["locked_at"].clone()
        ),
        (json!("active"), json!(0), Value::Null)
    );
    assert_eq!(
        app.login(PRIYA, PRIYA_PASSWORD).await.status(),
        200,
        "the password is unchanged"
    );
    let res = post(
        app,
        "/v1/admin/accounts/999NOBODY01/unlock",
        &root,
        json!({}),
    )
    .await;
    assert_eq!(code_of(res).await, (404, "account-not-found".into()));
}

async fn send_recovery_email_sends_the_self_service_email(app: &TestApp) {
    let root = admin_key(app, "root", "all", "write");
    let res = post(
        app,
        "/v1/admin/accounts/999JSMITH01/send-recovery-email",
        &root,
        json!({}),
    )
    .await;
    assert_eq!(res.status(), 202);
    let admin_sent = app.wait_for_mail(JANE_EMAIL, 1).await;
    // The administrator never saw the link; it works for Jane.
    let token = crate::recovery::token_for(&admin_sent[0], "reset", JANE);
    let res = app
        .post_json(
            "/v1/password-resets/validate",
            &json!({"token": token}),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    // The same request through the Forgotten form, for comparison.
    let res = app
        .post_json(
            "/v1/recovery-requests",
            &json!({"work_email": JANE_EMAIL, "date_of_birth": "1985-04-12", "username": JANE}),
            None,
        )
        .await;
    assert_eq!(res.status(), 202);
    let both = app.wait_for_mail(JANE_EMAIL, 2).await;
    let (self_service, admin) = (&both[0], &admin_sent[0]);
    assert_eq!(admin["subject"], self_service["subject"]);
    let strip = |m: &Value| {
        let text = m["text"].as_str().unwrap();
        let token = crate::recovery::token_for(m, "reset", JANE);
        text.replace(&token, "TOKEN")
    };
    assert_eq!(strip(admin), strip(self_service), "the same email");
    let events = audit_of(app, &root, "type=admin.recovery_email.requested").await;
    assert_eq!(events[0]["actor"], "api-key:root");
    assert!(!events[0].to_string().contains(&token));
    // Only for accounts that may log in from home.
    let res = post(
        app,
        "/v1/admin/accounts/998OBROWN01/send-recovery-email",
        &root,
        json!({}),
    )
    .await;
    assert_eq!(
        code_of(res).await,
        (409, "internet-access-not-approved".into())
    );
    // Nor for a suspended account (the worker would send nothing: say so now).
    let res = post(
        app,
        "/v1/admin/accounts/999APATEL01/suspend",
        &root,
        json!({}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let res = post(
        app,
        "/v1/admin/accounts/999APATEL01/send-recovery-email",
        &root,
        json!({}),
    )
    .await;
    assert_eq!(code_of(res).await, (409, "account-not-usable".into()));
}

async fn people_are_created_listed_and_updated(app: &TestApp) {
    let root = admin_key(app, "root", "all", "write");
    let new = json!({
        "organisation_code": "998", "employee_number": "300001", "first_name": "Gwen",
        "last_name": "Evans", "date_of_birth": "1979-02-28", "work_email": " Gwen.Evans@Demo.NHS.uk ",
        "smartcard_subject": "555000000301", "language": "cy"});
    let res = post(app, "/v1/admin/people", &root, new.clone()).await;
    assert_eq!(res.status(), 201);
    let gwen: Value = res.json().await.unwrap();
    assert_eq!(gwen["work_email"], "gwen.evans@demo.nhs.uk");
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
        "email=GWEN.EVANS@demo.nhs.uk",
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
        "last_name": "Evans-Price", "work_email": "gwen.price@demo.nhs.uk", "date_of_birth": "1979-03-01",
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

async fn audit_events_filter_and_page(app: &TestApp) {
    let root = admin_key(app, "root", "all", "read");
    let start = chrono::Utc::now() - chrono::Duration::seconds(1);
    for _ in 0..3 {
        app.login(JANE, "wrong").await;
    }
    app.login(PRIYA, "wrong").await;
    let failed = audit_of(app, &root, "type=login.failed&account=999jsmith01").await;
    assert_eq!(failed.len(), 3);
    let seqs: Vec<i64> = failed.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "oldest first");
    assert!(failed.iter().all(|e| e["actor"] == "account:999JSMITH01" && e["hash"].as_str().unwrap().len() == 64));
    // Cursor: two pages of two, then one.
    let page = ok_json(
        get(
            app,
            "/v1/admin/audit-events?type=login.failed&limit=2",
            &root,
        )
        .await,
    )
    .await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let page2 = ok_json(
        get(
            app,
            &format!("/v1/admin/audit-events?type=login.failed&limit=2&cursor={cursor}"),
            &root,
        )
        .await,
    )
    .await;
    assert_eq!(page2["items"].as_array().unwrap().len(), 2);
    assert!(page2.get("next_cursor").is_none());
    // Time window.
    let since = start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(
        audit_of(app, &root, &format!("type=login.failed&since={since}"))
            .await
            .len(),
        4
    );
    let until = since.clone();
    assert!(
        audit_of(app, &root, &format!("type=login.failed&until={until}"))
            .await
            .is_empty()
    );
    for q in [
        "since=yesterday",
        "until=2026-13-01T00:00:00Z",
        "cursor=abc",
        "account=not%20a%20name",
        "kind=x",
    ] {
        assert_eq!(
            code_of(get(app, &format!("/v1/admin/audit-events?{q}"), &root).await)
                .await
                .0,
            400,
            "{q}"
        );
    }
}

async fn dead_outbox_messages_are_listed_and_retried(app: &TestApp) {
    let root = admin_key(app, "root", "all", "write");
    // A message the relay refused for good (arranged directly: the worker does the same).
    app.db()
        .batch_execute(&format!(
            "INSERT INTO outbox (id, kind, recipient, language, payload, status, attempts, next_attempt_at, created_at, last_error) \
             VALUES ('{}', 'password_changed', 'x@demo.nhs.uk', 'en', '{{\"username\":\"999XSECRET01\",\"organisation_code\":\"999\",\"organisation_name\":\"Demo NHS Trust\",\"at\":\"2026-11-25T09:00:00Z\"}}', 'dead', 8, '2026-11-25 09:00:00', '2026-11-25 09:00:00', '550 no such mailbox')",
            uuid::Uuid::new_v4()
        ))
        .unwrap();
    let dead = ok_json(get(app, "/v1/admin/outbox?status=dead", &root).await).await;
    let items = dead["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["last_error"], "550 no such mailbox");
    assert!(
        items[0].get("payload").is_none() && !dead.to_string().contains("SECRET"),
        "no content"
    );
    let id = items[0]["id"].as_str().unwrap();
    let retried = ok_json(
        post(
            app,
            &format!("/v1/admin/outbox/{id}/retry"),
            &root,
            json!({}),
        )
        .await,
    )
    .await;
    assert!(["pending", "sending", "sent"].contains(&retried["status"].as_str().unwrap()));
    assert!(retried["attempts"].as_i64().unwrap() <= 1);
    let res = post(
        app,
        &format!("/v1/admin/outbox/{id}/retry"),
        &root,
        json!({}),
    )
    .await;
    assert_eq!(code_of(res).await, (409, "outbox-message-not-dead".into()));
    let res = post(
        app,
        &format!("/v1/admin/outbox/{}/retry", uuid::Uuid::new_v4()),
        &root,
        json!({}),
    )
    .await;
    assert_eq!(code_of(res).await, (404, "outbox-message-not-found".into()));
    assert_eq!(
        code_of(get(app, "/v1/admin/outbox?status=lost", &root).await)
            .await
            .0,
        400
    );
    assert_eq!(
        audit_of(app, &root, "type=admin.outbox.retried")
            .await
            .len(),
        1
    );
}

async fn no_admin_answer_carries_a_password_hash(app: &TestApp) {
    let root = admin_key(app, "root", "all", "write");
    let mut text = String::new();
    for path in [
        "/v1/admin/accounts?limit=100",
        "/v1/admin/accounts/999JSMITH01",
        "/v1/admin/people?limit=100",
        "/v1/admin/audit-events?limit=100",
    ] {
        text.push_str(&ok_json(get(app, path, &root).await).await.to_string());
    }
    assert!(!text.contains("$argon2"), "no hash");
    assert!(!text.contains("password_hash"));
    assert!(text.contains("\"password_set\":true"));
}

/// The `esr-api` binary pointed at `app`'s database, with nothing else from the environment.
pub fn esr_api(app: &TestApp) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_esr-api"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ESR_") {
            cmd.env_remove(key);
        }
    }
    let url = app.database_url.expose().to_owned();
    let url = match app.backend {
        TestBackend::Sqlite => format!("sqlite://{url}"),
        TestBackend::Postgres => url,
    };
    cmd.env("ESR_DATABASE_URL", url).env("ESR_LOG", "error");
    cmd
}

both_backends!(
    create_api_key_prints_a_working_key_once,
    audit_verify_finds_the_first_edited_row,
);

async fn create_api_key_prints_a_working_key_once(app: &TestApp) {
    let out = esr_api(app)
        .args([
            "create-api-key",
            "--name",
            "hr-feed",
            "--scope",
            "all",
            "--access",
            "write",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(key.starts_with("esr_") && key.len() == 47, "{key}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("shown once"));
    let orgs = ok_json(get(app, "/v1/admin/organisations", &key).await).await;
    assert_eq!(orgs["items"].as_array().unwrap().len(), 2);
    // Stored as SHA-256 and prefix only.
    let dump = ok_json(get(app, "/v1/admin/api-keys", &key).await).await;
    assert_eq!(dump["items"][0]["prefix"], key[..12]);
    let mut conn = app.db();
    use diesel::prelude::*;
    let stored: Vec<(String, String)> = esr_persistence::schema::api_keys::table
        .select((
            esr_persistence::schema::api_keys::prefix,
            esr_persistence::schema::api_keys::key_hash,
        ))
        .load(&mut conn)
        .unwrap();
    assert_eq!(
        stored,
        [(key[..12].to_owned(), esr_domain::sha256_hex(key.as_bytes()))]
    );
    let events = audit_of(app, &key, "type=admin.api_key.created").await;
    assert_eq!(events[0]["actor"], "cli");

    // Refusals name the problem and create nothing.
    for args in [
        ["--name", "hr-feed", "--scope", "all", "--access", "write"],
        ["--name", "x y", "--scope", "all", "--access", "write"],
        ["--name", "other", "--scope", "777", "--access", "write"],
        ["--name", "other", "--scope", "all", "--access", "root"],
    ] {
        let out = esr_api(app)
            .arg("create-api-key")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
        assert!(out.stdout.is_empty());
    }
    assert_eq!(
        ok_json(get(app, "/v1/admin/api-keys", &key).await).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

async fn audit_verify_finds_the_first_edited_row(app: &TestApp) {
    for _ in 0..3 {
        app.login(JANE, "wrong").await;
    }
    let out = esr_api(app).args(["audit", "verify"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Audit chain intact"));

    // Someone with database access quietly edits the second event: the append-only trigger
    // must be dropped first, and the chain still gives it away.
    let disable = match app.backend {
        TestBackend::Sqlite => "DROP TRIGGER audit_events_no_update;",
        TestBackend::Postgres => {
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete;"
        }
    };
    app.db()
        .batch_execute(&format!(
            "{disable} UPDATE audit_events SET ip = '10.9.9.9' WHERE seq = 2;"
        ))
        .unwrap();
    let out = esr_api(app).args(["audit", "verify"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("audit chain broken at event 2"), "{stderr}");
    assert!(stderr.contains("edited"), "{stderr}");
}

#[test]
fn admin_operations_are_documented_with_the_api_key_scheme() {
    let doc: Value = serde_json::from_str(&esr_api::openapi::document_json()).unwrap();
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/admin/") {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            count += 1;
            assert_eq!(op["tags"], json!(["admin"]), "{method} {path}");
            assert_eq!(op["security"], json!([{"apiKey": []}]), "{method} {path}");
            let responses = op["responses"].as_object().unwrap();
            for code in ["401", "403", "503"] {
                assert!(
                    responses.contains_key(code),
                    "{method} {path} documents {code}"
                );
            }
            if path.contains('{') {
                assert!(
                    responses.contains_key("404"),
                    "{method} {path} documents 404"
                );
            }
            if op["requestBody"]["content"]["application/json"].is_object() {
                let body = &op["requestBody"]["content"]["application/json"]["schema"]["$ref"];
                let name = body.as_str().unwrap().rsplit('/').next().unwrap();
                assert!(
                    doc["components"]["schemas"][name]["example"].is_object(),
                    "{method} {path}: request example"
                );
            }
        }
    }
    assert!(count >= 23, "{count} admin operations");
}
