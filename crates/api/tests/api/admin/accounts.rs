//! Accounts and their actions: suspend and reactivate, internet access, pending requests,
//! unlock, the recovery email; and no answer carrying a password hash.

use diesel::connection::SimpleConnection;
use serde_json::{Value, json};

use super::{OLIVER, PRIYA, PRIYA_PASSWORD, admin_key, audit_of, code_of, get, ok_json, post};
use crate::auth::{JANE, JANE_PASSWORD};
use crate::both_backends;
use crate::helpers::TestApp;

const JANE_EMAIL: &str = "jane.smith@demo.example.org";

both_backends!(
    suspend_ends_every_session_until_reactivated,
    revoking_internet_access_ends_every_session,
    pending_requests_are_approved_or_rejected,
    unlock_unlocks_a_locked_account,
    send_recovery_email_sends_the_self_service_email,
    no_admin_answer_carries_a_password_hash,
);

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
    // A retried suspension answers with the account as it is, and changes nothing.
    let again = ok_json(
        post(
            app,
            "/v1/admin/accounts/999JSMITH01/suspend",
            &root,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(again["status"], "suspended");
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
    let again = ok_json(
        post(
            app,
            "/v1/admin/accounts/999JSMITH01/reactivate",
            &root,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(again["status"], "active");
    assert_eq!(
        audit_of(
            app,
            &root,
            "account=999JSMITH01&type=admin.account.reactivated"
        )
        .await
        .len(),
        1,
        "a retried decision is not audited twice"
    );
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
    let again = ok_json(
        post(
            app,
            "/v1/admin/accounts/999APATEL01/internet-access/revoke",
            &root,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(
        again["internet_access"], "revoked",
        "a retry answers with the state"
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
    // Unlocking an active account changes nothing; a suspended one cannot be unlocked.
    let res = post(
        app,
        "/v1/admin/accounts/999APATEL01/unlock",
        &root,
        json!({}),
    )
    .await;
    assert_eq!(ok_json(res).await["status"], "active");
    post(
        app,
        "/v1/admin/accounts/999APATEL01/suspend",
        &root,
        json!({}),
    )
    .await;
    let res = post(
        app,
        "/v1/admin/accounts/999APATEL01/unlock",
        &root,
        json!({}),
    )
    .await;
    assert_eq!(code_of(res).await, (409, "account-status-conflict".into()));
    post(
        app,
        "/v1/admin/accounts/999APATEL01/reactivate",
        &root,
        json!({}),
    )
    .await;
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
