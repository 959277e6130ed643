//! Organisations: creating, listing and updating them, and the limits they set that are
//! enforced at login (inactivity, password expiry).

use diesel::connection::SimpleConnection;
use serde_json::{Value, json};

use super::{PRIYA, PRIYA_PASSWORD, admin_key, audit_of, code_of, get, ok_json, patch, post};
use crate::auth::{JANE, JANE_PASSWORD};
use crate::both_backends;
use crate::helpers::{TestApp, problem};

both_backends!(
    organisations_are_created_listed_and_updated,
    inactivity_limit_lapses_internet_access_only_after_a_correct_password,
    password_expiry_is_revealed_only_after_a_correct_password,
);

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
