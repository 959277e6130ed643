//! Retention: `esr-api purge` removes each class of data once it is past its retention and
//! nothing younger, counts the same with `--dry-run` (deleting nothing), audits what went, and
//! leaves the audit chain verifiable and live sessions working. On PostgreSQL a purge while
//! another instance holds the purge lock does nothing.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use esr_domain::Username;
use esr_persistence::schema::{mfa_tokens, one_time_tokens, outbox, password_history, sessions};
use serde_json::Value;

use crate::admin::esr_api;
use crate::helpers::{TestApp, TestBackend};

crate::both_backends!(
    purge_removes_each_class_past_its_retention_and_nothing_younger,
    a_purge_waits_its_turn_behind_another_instance,
    the_audit_trail_forgets_personal_fields_and_still_verifies
);

const JANE: &str = "999JSMITH01";
const JANE_PASSWORD: &str = "Bluebell harbour lantern";

/// Runs `esr-api purge --json` (with `extra` arguments) against the app's database.
fn purge(app: &TestApp, extra: &[&str]) -> Value {
    let out = esr_api(app)
        .args(["purge", "--json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn jane_id(app: &TestApp) -> String {
    esr_persistence::accounts::find_by_username(&mut app.db(), &Username::parse(JANE).unwrap())
        .unwrap()
        .unwrap()
        .id
        .as_str()
        .to_owned()
}

/// Opens a session for Jane and returns its id and access token.
async fn session(app: &TestApp) -> (String, String) {
    let res = app.login(JANE, JANE_PASSWORD).await;
    assert_eq!(res.status(), 200);
    let access = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mine = app
        .get_auth("/v1/me/sessions", &access)
        .await
        .json::<Value>()
        .await
        .unwrap();
    let current = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap_or_else(|| panic!("{mine}"));
    (current["id"].as_str().unwrap().to_owned(), access)
}

/// Marks a session as ended (signed out) `days_ago`.
fn end_session(app: &TestApp, id: &str, days_ago: i64) {
    let at = (Utc::now() - Duration::days(days_ago)).naive_utc();
    diesel::update(sessions::table.filter(sessions::id.eq(id)))
        .set((
            sessions::revoked_at.eq(Some(at)),
            sessions::revoked_reason.eq(Some("logout")),
        ))
        .execute(&mut app.db())
        .unwrap();
}

fn add_link(app: &TestApp, account: &str, name: &str, expired_days_ago: i64) {
    let expires = (Utc::now() - Duration::days(expired_days_ago)).naive_utc();
    diesel::insert_into(one_time_tokens::table)
        .values((
            one_time_tokens::token_hash.eq(format!("link-{name}")),
            one_time_tokens::account_id.eq(account),
            one_time_tokens::purpose.eq("password_reset"),
            one_time_tokens::created_at.eq(expires - Duration::hours(4)),
            one_time_tokens::expires_at.eq(expires),
            one_time_tokens::wrong_username_attempts.eq(0),
        ))
        .execute(&mut app.db())
        .unwrap();
    diesel::insert_into(mfa_tokens::table)
        .values((
            mfa_tokens::token_hash.eq(format!("challenge-{name}")),
            mfa_tokens::account_id.eq(account),
            mfa_tokens::purpose.eq("sign_in"),
            mfa_tokens::created_at.eq(expires - Duration::minutes(5)),
            mfa_tokens::expires_at.eq(expires),
        ))
        .execute(&mut app.db())
        .unwrap();
}

fn add_email(app: &TestApp, status: &str, days_ago: i64) {
    let at = (Utc::now() - Duration::days(days_ago)).naive_utc();
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(uuid::Uuid::new_v4().to_string()),
            outbox::kind.eq("password_changed"),
            outbox::recipient.eq("jane.smith@demo.example.org"),
            outbox::language.eq("en"),
            outbox::payload.eq("{}"),
            outbox::status.eq(status),
            outbox::attempts.eq(1),
            // A pending one is not due: the delivery worker leaves it alone.
            outbox::next_attempt_at.eq(if status == "pending" {
                (Utc::now() + Duration::days(365)).naive_utc()
            } else {
                at
            }),
            outbox::created_at.eq(at),
            outbox::sent_at.eq((status == "sent").then_some(at)),
        ))
        .execute(&mut app.db())
        .unwrap();
}

fn count_rows(app: &TestApp) -> [i64; 5] {
    let mut c = app.db();
    [
        sessions::table.count().get_result(&mut c).unwrap(),
        one_time_tokens::table.count().get_result(&mut c).unwrap(),
        mfa_tokens::table.count().get_result(&mut c).unwrap(),
        password_history::table.count().get_result(&mut c).unwrap(),
        outbox::table.count().get_result(&mut c).unwrap(),
    ]
}

async fn purge_removes_each_class_past_its_retention_and_nothing_younger(app: &TestApp) {
    let jane = jane_id(app);
    // Sessions: ended 100 days ago (past the default 90), ended 10 days ago, never revoked
    // but expired 100 days ago, and one live.
    let (old, _) = session(app).await;
    end_session(app, &old, 100);
    let (recent, _) = session(app).await;
    end_session(app, &recent, 10);
    let (expired, _) = session(app).await;
    let long_ago = (Utc::now() - Duration::days(100)).naive_utc();
    diesel::update(sessions::table.filter(sessions::id.eq(&expired)))
        .set(sessions::expires_at.eq(long_ago))
        .execute(&mut app.db())
        .unwrap();
    // Never refreshed: its last refresh token expired 100 days ago, long before its absolute
    // end; it ended then.
    let (idle, _) = session(app).await;
    {
        use esr_persistence::schema::refresh_tokens;
        let long_ago = (Utc::now() - Duration::days(100)).naive_utc();
        diesel::update(refresh_tokens::table.filter(refresh_tokens::session_id.eq(&idle)))
            .set(refresh_tokens::expires_at.eq(long_ago))
            .execute(&mut app.db())
            .unwrap();
        diesel::update(sessions::table.filter(sessions::id.eq(&idle)))
            .set(sessions::created_at.eq(long_ago - Duration::days(1)))
            .execute(&mut app.db())
            .unwrap();
    }
    let (_, live_access) = session(app).await;
    // Links and challenges: expired 40 days ago (past 30) and 10 days ago.
    add_link(app, &jane, "old", 40);
    add_link(app, &jane, "recent", 10);
    // Five older password hashes besides the current one: four are kept in all.
    for n in 1..=5 {
        diesel::insert_into(password_history::table)
            .values((
                password_history::account_id.eq(&jane),
                password_history::password_hash.eq(format!("$argon2id$old-{n}")),
                password_history::created_at.eq((Utc::now() - Duration::days(400 + n)).naive_utc()),
            ))
            .execute(&mut app.db())
            .unwrap();
    }
    // Emails: sent 40 and 10 days ago, dead 40 and 10 days ago, pending for 40 (never purged).
    for (status, days) in [
        ("sent", 40),
        ("sent", 10),
        ("dead", 40),
        ("dead", 10),
        ("pending", 40),
    ] {
        add_email(app, status, days);
    }
    // A previous work email whose hold ended yesterday goes; one still held stays.
    for (employee, ended) in [("100001", -1), ("100002", 1)] {
        use esr_persistence::schema::people;
        diesel::update(people::table.filter(people::employee_number.eq(employee)))
            .set((
                people::previous_work_email.eq(Some("old.address@example.org")),
                people::previous_email_until
                    .eq(Some((Utc::now() + Duration::days(ended)).naive_utc())),
            ))
            .execute(&mut app.db())
            .unwrap();
    }
    let before = count_rows(app);

    let expected = serde_json::json!({
        "ended_sessions": 3, "spent_tokens": 2, "password_history": 2,
        "sent_emails": 1, "dead_emails": 1, "anonymous_events": 0, "audit_personal": 0,
        "previous_emails": 1, "leavers_erased": 0
    });
    let dry = purge(app, &["--dry-run"]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["removed"], expected, "{dry}");
    assert_eq!(count_rows(app), before, "a dry run deletes nothing");

    let done = purge(app, &[]);
    assert_eq!(done["removed"], expected, "{done}");
    assert_eq!(done["skipped"], false);
    let after = count_rows(app);
    assert_eq!(
        after,
        [
            before[0] - 3,
            before[1] - 1,
            before[2] - 1,
            before[3] - 2,
            before[4] - 2
        ]
    );
    let mut c = app.db();
    let left: Vec<String> = sessions::table.select(sessions::id).load(&mut c).unwrap();
    assert!(
        !left.contains(&old) && !left.contains(&expired) && !left.contains(&idle),
        "{left:?}"
    );
    assert!(left.contains(&recent), "ended 10 days ago: kept");
    let hashes: Vec<String> = password_history::table
        .filter(password_history::account_id.eq(&jane))
        .select(password_history::password_hash)
        .load(&mut c)
        .unwrap();
    assert_eq!(hashes.len(), 4);
    assert!(
        !hashes
            .iter()
            .any(|h| h.ends_with("old-5") || h.ends_with("old-4")),
        "the oldest went: {hashes:?}"
    );
    let previous: Vec<Option<String>> = esr_persistence::schema::people::table
        .filter(esr_persistence::schema::people::organisation_code.eq("999"))
        .order(esr_persistence::schema::people::employee_number.asc())
        .select(esr_persistence::schema::people::previous_work_email)
        .load(&mut c)
        .unwrap();
    assert_eq!(previous[0], None, "the hold ended: cleared");
    assert_eq!(
        previous[1].as_deref(),
        Some("old.address@example.org"),
        "still held"
    );
    let statuses: Vec<String> = outbox::table.select(outbox::status).load(&mut c).unwrap();
    assert!(
        statuses.contains(&"pending".to_owned()),
        "pending emails stay"
    );

    // Jane's live session and current password still work.
    assert_eq!(app.get_auth("/v1/me", &live_access).await.status(), 200);
    assert_eq!(app.login(JANE, JANE_PASSWORD).await.status(), 200);

    // Audited once; a second purge finds nothing and records nothing.
    let again = purge(app, &[]);
    assert_eq!(again["removed"]["ended_sessions"], 0, "{again}");
    let events = esr_persistence::audit::recent(&mut c, None, 200).unwrap();
    let purged: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == "retention.purged")
        .collect();
    assert_eq!(purged.len(), 1, "{again} {purged:?}");
    let details: Value = serde_json::from_str(&purged[0].details).unwrap();
    assert_eq!(details["removed"], expected);
    assert_eq!(details["retention_days"]["ended_sessions"], 90);
    let chain = esr_persistence::audit::verify_chain(&mut c, &app.audit_chain).unwrap();
    assert!(chain.first_broken.is_none(), "{:?}", chain.first_broken);
}

/// Instances sharing PostgreSQL take turns: while one holds the purge lock, another's purge
/// does nothing and says so. On SQLite the database's own write lock serialises purges.
async fn a_purge_waits_its_turn_behind_another_instance(app: &TestApp) {
    add_email(app, "sent", 400);
    if app.backend == TestBackend::Postgres {
        let mut holder = app.db();
        let esr_persistence::DbConnection::Postgresql(pg) = &mut holder else {
            panic!("a PostgreSQL app has a PostgreSQL database");
        };
        diesel::sql_query("SELECT pg_advisory_lock(4995426916666328901)")
            .execute(pg)
            .unwrap();
        let skipped = purge(app, &[]);
        assert_eq!(skipped["skipped"], true, "{skipped}");
        assert_eq!(count_rows(app)[4], 1, "nothing deleted meanwhile");
        diesel::sql_query("SELECT pg_advisory_unlock(4995426916666328901)")
            .execute(pg)
            .unwrap();
    }
    let done = purge(app, &[]);
    assert_eq!(done["skipped"], false);
    assert_eq!(done["removed"]["sent_emails"], 1, "{done}");
}

/// Purges as the app's own configuration would, `days` from now.
pub fn purge_later(app: &TestApp, days: i64) -> esr_api::app::retention::PurgeReport {
    let url = app.settings_database_url();
    let mut config = crate::helpers::test_config(&url);
    config.audit_chain = app.audit_chain.clone();
    esr_api::app::retention::purge(
        &mut app.db(),
        &config,
        Utc::now() + Duration::days(days),
        false,
    )
    .unwrap()
}

fn event(app: &TestApp, seq: i64) -> esr_persistence::audit::AuditEvent {
    esr_persistence::audit::recent(&mut app.db(), None, 500)
        .unwrap()
        .into_iter()
        .find(|e| e.seq == seq)
        .unwrap()
}

fn verifies(app: &TestApp) {
    let chain = esr_persistence::audit::verify_chain(&mut app.db(), &app.audit_chain).unwrap();
    assert!(chain.first_broken.is_none(), "{:?}", chain.first_broken);
}

/// Audit events keep their personal fields (actor's name, IP, user agent, details) for their
/// retention, anonymous ones for less; then the fields are blanked, the events stay, and the
/// chain still verifies. The database allows that one change and no other.
async fn the_audit_trail_forgets_personal_fields_and_still_verifies(app: &TestApp) {
    assert_eq!(
        app.login("999NOBODY99", "a guess at nothing")
            .await
            .status(),
        401
    );
    assert_eq!(app.login(JANE, "a wrong password").await.status(), 401);
    let events = esr_persistence::audit::recent(&mut app.db(), None, 50).unwrap();
    let failed: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == "login.failed")
        .collect();
    let anonymous = failed.iter().find(|e| e.account_id.is_none()).unwrap().seq;
    let janes = failed.iter().find(|e| e.account_id.is_some()).unwrap().seq;
    assert!(event(app, janes).ip.is_some() && event(app, janes).actor.contains(JANE));

    // After 100 days: anonymous events (90) are blanked, Jane's (730) are not.
    let report = purge_later(app, 100);
    assert!(report.removed["anonymous_events"] >= 1, "{report:?}");
    assert_eq!(report.removed["audit_personal"], 0);
    let blanked = event(app, anonymous);
    assert_eq!(blanked.actor, "anonymous");
    assert_eq!((blanked.ip, blanked.user_agent), (None, None));
    assert_eq!(blanked.details, "{}");
    assert!(blanked.personal_blanked_at.is_some());
    let kept = event(app, janes);
    assert!(
        kept.ip.is_some() && kept.details.contains("wrong_password"),
        "{kept:?}"
    );
    verifies(app);

    // After 800 days every event's personal fields are gone; Jane's actor keeps its kind.
    let report = purge_later(app, 800);
    assert!(report.removed["audit_personal"] >= 1, "{report:?}");
    let gone = event(app, janes);
    assert_eq!(gone.actor, "account");
    assert_eq!((gone.ip, gone.details.as_str()), (None, "{}"));
    assert_eq!(gone.account_id, kept.account_id, "whose event it was stays");
    verifies(app);

    // Nothing else can be changed: not a blanked row again, not a live row's fields.
    let edits = [
        format!("UPDATE audit_events SET ip = '10.9.9.9' WHERE seq = {janes}"),
        "UPDATE audit_events SET details = '{}', ip = NULL, user_agent = NULL WHERE seq = (SELECT MAX(seq) FROM audit_events)".to_owned(),
        format!("DELETE FROM audit_events WHERE seq = {anonymous}"),
    ];
    for edit in edits {
        use diesel::connection::SimpleConnection;
        let refused = app.db().batch_execute(&edit);
        assert!(refused.is_err(), "the database allowed: {edit}");
    }
    verifies(app);
}
