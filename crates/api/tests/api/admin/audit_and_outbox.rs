//! The audit trail (filters, paging, and `esr-api audit verify` against a tampered row) and
//! the outbox of dead messages.

use diesel::connection::SimpleConnection;
use serde_json::json;

use super::{PRIYA, admin_key, audit_of, code_of, esr_api, get, ok_json, post};
use crate::auth::JANE;
use crate::both_backends;
use crate::helpers::{TestApp, TestBackend};

both_backends!(
    audit_events_filter_and_page,
    dead_outbox_messages_are_listed_and_retried,
    audit_verify_finds_the_first_edited_row,
    a_dead_message_to_an_address_no_longer_on_record_is_not_retried,
);

/// A dead email about an account whose work email has changed since is not sent again to the
/// old address (a takeover changes the address first); one to the address on record is.
async fn a_dead_message_to_an_address_no_longer_on_record_is_not_retried(app: &TestApp) {
    let root = admin_key(app, "root", "all", "write");
    let jane = esr_persistence::accounts::find_by_username(
        &mut app.db(),
        &esr_domain::Username::parse(JANE).unwrap(),
    )
    .unwrap()
    .unwrap();
    let mut ids = Vec::new();
    for recipient in [
        "jane.old.address@example.org",
        "jane.smith@demo.example.org",
    ] {
        let id = uuid::Uuid::new_v4().to_string();
        app.db()
            .batch_execute(&format!(
                "INSERT INTO outbox (id, kind, recipient, language, account_id, payload, status, attempts, next_attempt_at, created_at) \
                 VALUES ('{id}', 'password_changed', '{recipient}', 'en', '{}', '{{\"username\":\"999JSMITH01\",\"organisation_code\":\"999\",\"organisation_name\":\"Demo NHS Trust\",\"at\":\"2026-11-25T09:00:00Z\"}}', 'dead', 8, '2026-11-25 09:00:00', '2026-11-25 09:00:00')",
                jane.id.as_str()
            ))
            .unwrap();
        ids.push(id);
    }
    let res = post(
        app,
        &format!("/v1/admin/outbox/{}/retry", ids[0]),
        &root,
        json!({}),
    )
    .await;
    assert_eq!(code_of(res).await, (409, "outbox-recipient-changed".into()));
    let dead = ok_json(get(app, "/v1/admin/outbox?status=dead", &root).await).await;
    assert_eq!(
        dead["items"].as_array().unwrap().len(),
        2,
        "nothing was requeued"
    );
    let res = post(
        app,
        &format!("/v1/admin/outbox/{}/retry", ids[1]),
        &root,
        json!({}),
    )
    .await;
    assert_eq!(res.status(), 200);
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
             VALUES ('{}', 'password_changed', 'x@demo.example.org', 'en', '{{\"username\":\"999XSECRET01\",\"organisation_code\":\"999\",\"organisation_name\":\"Demo NHS Trust\",\"at\":\"2026-11-25T09:00:00Z\"}}', 'dead', 8, '2026-11-25 09:00:00', '2026-11-25 09:00:00', '550 5.1.1 <x@demo.example.org> no such mailbox')",
            uuid::Uuid::new_v4()
        ))
        .unwrap();
    let dead = ok_json(get(app, "/v1/admin/outbox?status=dead", &root).await).await;
    let items = dead["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0]["last_error"],
        "550 5.1.1 [address] no such mailbox"
    );
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
