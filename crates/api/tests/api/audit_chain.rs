//! The audit chain against someone who can write to the database but not read the instances'
//! configuration: recomputing the chain after an edit is caught (the chain is keyed with a
//! secret kept outside the database), and so are rows removed from the end once an anchor
//! (`esr-api audit head`) has been kept elsewhere.

use diesel::connection::SimpleConnection;
use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use esr_persistence::schema::{audit_events, audit_head};

use crate::admin::esr_api;
use crate::auth::JANE;
use crate::both_backends;
use crate::helpers::{TestApp, TestBackend};

both_backends!(
    a_chain_recomputed_without_the_key_is_caught,
    rows_removed_from_the_end_are_caught_by_the_anchor,
);

/// Lets the test change audit rows as a database administrator could.
fn drop_append_only_triggers(app: &TestApp) {
    let sql = match app.backend {
        TestBackend::Sqlite => {
            "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;"
        }
        TestBackend::Postgres => {
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete;"
        }
    };
    app.db().batch_execute(sql).unwrap();
}

async fn some_events(app: &TestApp, n: usize) {
    for _ in 0..n {
        app.login(JANE, "not the password").await;
    }
}

fn verify(app: &TestApp, extra: &[&str]) -> (bool, String) {
    let out = esr_api(app)
        .args(["audit", "verify"])
        .args(extra)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The unkeyed link anyone who reads the code could compute.
fn sha256_link(prev: &str, row: &esr_persistence::audit::AuditEvent) -> String {
    let content = serde_json::json!([
        row.seq,
        row.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        row.event_type,
        row.account_id,
        row.actor,
        row.ip,
        row.user_agent,
        row.request_id,
        row.details,
    ]);
    esr_domain::sha256_hex(format!("{prev}|{content}").as_bytes())
}

async fn a_chain_recomputed_without_the_key_is_caught(app: &TestApp) {
    some_events(app, 4).await;
    assert!(verify(app, &[]).0, "intact to begin with");
    drop_append_only_triggers(app);

    // Edit event 2, then rewrite every link from it on, and the head, so each row's
    // previous-hash matches the row before it.
    let mut conn = app.db();
    diesel::update(audit_events::table.filter(audit_events::seq.eq(2)))
        .set(audit_events::ip.eq(Some("10.9.9.9")))
        .execute(&mut conn)
        .unwrap();
    let rows = esr_persistence::audit::recent(&mut conn, None, 1_000).unwrap();
    let mut rows: Vec<_> = rows.into_iter().rev().collect();
    let mut prev = rows[0].hash.clone();
    for row in rows.iter_mut().skip(1) {
        let hash = sha256_link(&prev, row);
        diesel::update(audit_events::table.filter(audit_events::seq.eq(row.seq)))
            .set((
                audit_events::prev_hash.eq(&prev),
                audit_events::hash.eq(&hash),
            ))
            .execute(&mut conn)
            .unwrap();
        prev = hash;
    }
    diesel::update(audit_head::table)
        .set(audit_head::hash.eq(&prev))
        .execute(&mut conn)
        .unwrap();

    let (ok, text) = verify(app, &[]);
    assert!(!ok, "a recomputed chain is caught: {text}");
    assert!(text.contains("audit chain broken at event 2"), "{text}");
}

async fn rows_removed_from_the_end_are_caught_by_the_anchor(app: &TestApp) {
    some_events(app, 3).await;
    let out = esr_api(app).args(["audit", "head"]).output().unwrap();
    assert!(out.status.success());
    let head: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let anchored_seq = head["seq"].as_i64().unwrap();
    assert!(anchored_seq >= 3, "{head}");
    let dir = tempfile::tempdir().unwrap();
    let anchor = dir.path().join("anchor.json");
    std::fs::write(&anchor, &out.stdout).unwrap();
    let anchor = anchor.to_str().unwrap();
    some_events(app, 2).await;
    let (ok, text) = verify(app, &["--anchor", anchor]);
    assert!(ok, "later events do not disturb the anchor: {text}");
    assert!(text.contains("still holds the anchor"), "{text}");

    // Remove the anchored event and everything after it, and make the head agree: every
    // remaining link still holds.
    drop_append_only_triggers(app);
    let mut conn = app.db();
    diesel::delete(audit_events::table.filter(audit_events::seq.ge(anchored_seq)))
        .execute(&mut conn)
        .unwrap();
    let (last_seq, last_hash): (i64, String) = audit_events::table
        .order(audit_events::seq.desc())
        .select((audit_events::seq, audit_events::hash))
        .first(&mut conn)
        .unwrap();
    diesel::update(audit_head::table)
        .set((
            audit_head::seq.eq(last_seq),
            audit_head::hash.eq(&last_hash),
        ))
        .execute(&mut conn)
        .unwrap();
    assert!(
        verify(app, &[]).0,
        "without the anchor the shorter chain looks whole"
    );
    let (ok, text) = verify(app, &["--anchor", anchor]);
    assert!(!ok, "the anchor catches it: {text}");
    assert!(text.contains("the anchor's event is gone"), "{text}");
}
