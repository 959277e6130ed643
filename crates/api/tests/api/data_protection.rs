//! The data-protection inventory (docs/DATA-PROTECTION.md) names every table and column of a
//! freshly migrated database: a migration that adds personal data cannot go unrecorded.

use diesel::RunQueryDsl;
use diesel::sql_types::Text;

use crate::helpers::{TestBackend, spawn_app};

#[derive(diesel::QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

/// The text of the inventory's section about `table` (from its `### table` heading to the next).
fn section<'a>(inventory: &'a str, table: &str) -> Option<&'a str> {
    let heading = format!("\n### {table}\n");
    let start = inventory.find(&heading)? + heading.len();
    let end = inventory[start..]
        .find("\n### ")
        .or_else(|| inventory[start..].find("\n## "))
        .map_or(inventory.len(), |e| start + e);
    Some(&inventory[start..end])
}

#[tokio::test]
async fn every_column_is_in_the_inventory() {
    let app = spawn_app(TestBackend::Sqlite).await.unwrap();
    let mut conn = app.db();
    let esr_persistence::DbConnection::Sqlite(sqlite) = &mut conn else {
        panic!("the SQLite app has a SQLite database");
    };
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT m.name AS table_name, p.name AS column_name \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
         AND m.name != '__diesel_schema_migrations' ORDER BY m.name, p.cid",
    )
    .load(sqlite)
    .unwrap();
    assert!(columns.len() > 100, "{} columns read", columns.len());
    let inventory = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/DATA-PROTECTION.md"),
    )
    .unwrap();
    let mut missing = Vec::new();
    for Column {
        table_name,
        column_name,
    } in &columns
    {
        match section(&inventory, table_name) {
            None => missing.push(format!("table {table_name}")),
            Some(text) if !text.contains(&format!("`{column_name}`")) => {
                missing.push(format!("{table_name}.{column_name}"));
            }
            Some(_) => {}
        }
    }
    missing.dedup();
    assert!(
        missing.is_empty(),
        "docs/DATA-PROTECTION.md does not name: {}",
        missing.join(", ")
    );
    app.stop().await;
}

crate::both_backends!(read_only_keys_see_no_date_of_birth_card_identity_or_client);

/// A read-only key (a service desk) sees whether a smartcard is linked, never the card's
/// identity or a date of birth (what the recovery form asks for), and no IP or user agent in
/// the audit trail. A read-write key (the HR feed that supplies them) sees all of it.
async fn read_only_keys_see_no_date_of_birth_card_identity_or_client(
    app: &crate::helpers::TestApp,
) {
    use serde_json::Value;
    let desk = crate::admin::admin_key(app, "service-desk", "999", "read");
    let feed = crate::admin::admin_key(app, "hr-feed", "all", "write");
    // An audit event with a client behind it.
    assert_eq!(
        app.login("999JSMITH01", "not her password").await.status(),
        401
    );
    let get = |path: String, key: String| async move {
        let res = app.get_auth(&path, &key).await;
        assert_eq!(res.status(), 200, "{path}");
        res.json::<Value>().await.unwrap()
    };
    let jane = "/v1/admin/people?organisation=999&email=jane.smith@demo.example.org";
    let seen = get(jane.into(), desk.clone()).await;
    let person = &seen["items"][0];
    assert_eq!(person["employee_number"], "100001", "{seen}");
    assert_eq!(person["date_of_birth"], Value::Null);
    assert_eq!(person["smartcard_subject"], Value::Null);
    assert_eq!(person["smartcard_linked"], true);
    assert!(!seen.to_string().contains("1985-04-12"), "{seen}");
    let id = person["id"].as_str().unwrap().to_owned();
    let one = get(format!("/v1/admin/people/{id}"), desk.clone()).await;
    assert_eq!(one["date_of_birth"], Value::Null);
    assert_eq!(one["smartcard_subject"], Value::Null);

    let full = get(format!("/v1/admin/people/{id}"), feed.clone()).await;
    assert_eq!(full["date_of_birth"], "1985-04-12");
    assert!(full["smartcard_subject"].is_string(), "{full}");
    assert_eq!(full["smartcard_linked"], true);

    let audit = "/v1/admin/audit-events?type=login.failed".to_owned();
    let by_desk = get(audit.clone(), desk).await;
    let event = &by_desk["items"][0];
    assert_eq!(event["event_type"], "login.failed", "{by_desk}");
    assert_eq!(event["ip"], Value::Null);
    assert_eq!(event["user_agent"], Value::Null);
    let by_feed = get(audit.clone(), feed).await;
    assert!(by_feed["items"][0]["ip"].is_string(), "{by_feed}");

    // A read-only key granted the clients (an investigation's) sees them, not the proofs.
    let investigator = crate::admin::key_with_grants(app, "investigation", "999", "read", true);
    let by_investigator = get(audit, investigator.clone()).await;
    assert!(
        by_investigator["items"][0]["ip"].is_string(),
        "{by_investigator}"
    );
    let person = get(format!("/v1/admin/people/{id}"), investigator.clone()).await;
    assert_eq!(person["date_of_birth"], Value::Null);
    let current = get("/v1/admin/api-keys/current".into(), investigator).await;
    assert_eq!(current["sees_clients"], true, "{current}");
}

crate::both_backends!(a_subject_access_export_holds_both_employments_and_erasure_keeps_the_chain);

/// Jane Smith works for two organisations under one work email and date of birth. Her subject
/// access export holds both records, their accounts, sessions, audit events (hers and the
/// anonymous ones that name her only by a keyed digest) and the emails sent to her; no
/// password hash. Erasing one employment anonymises it and its account, blanks its audit
/// events, leaves the other employment working and `esr-api audit verify` passing.
async fn a_subject_access_export_holds_both_employments_and_erasure_keeps_the_chain(
    app: &crate::helpers::TestApp,
) {
    use serde_json::Value;
    let email = "jane.smith@demo.example.org";
    let res = app.login("999JSMITH01", "Bluebell harbour lantern").await;
    assert_eq!(res.status(), 200);
    let access = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.login("998JSMITH01", "not her password").await.status(),
        401
    );
    // A Forgotten request that matches (an email is sent), and one with a wrong date of birth
    // (audited against a digest of the email, matching no one).
    crate::recovery::request_recovery(app, email, "1985-04-12", None).await;
    crate::recovery::request_recovery(app, email, "1985-04-13", None).await;
    app.wait_for_mail(email, 1).await;
    let unmatched = async {
        for _ in 0..100 {
            let events = esr_persistence::audit::recent(&mut app.db(), None, 100).unwrap();
            if events
                .iter()
                .any(|e| e.event_type == "recovery_request.unmatched")
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the unmatched request was never audited");
    };
    unmatched.await;

    let run = |args: Vec<String>| {
        let out = crate::admin::esr_api(app).args(&args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, stdout, stderr) = run(vec![
        "subject-access".into(),
        "--email".into(),
        "Jane.Smith@demo.example.org".into(),
        "--date-of-birth".into(),
        "1985-04-12".into(),
    ]);
    assert!(ok, "{stderr}");
    assert!(
        !stdout.contains("$argon2"),
        "no password hash in the export"
    );
    let export: Value = serde_json::from_str(&stdout).unwrap();
    let people = export["people"].as_array().unwrap();
    let orgs: Vec<&str> = people
        .iter()
        .map(|p| p["organisation_code"].as_str().unwrap())
        .collect();
    assert_eq!(orgs, ["998", "999"], "{export}");
    let account = |org: &str| {
        people
            .iter()
            .find(|p| p["organisation_code"] == org)
            .unwrap()["accounts"][0]
            .clone()
    };
    let in_999 = account("999");
    assert_eq!(in_999["username"], "999JSMITH01");
    assert_eq!(in_999["password_set"], true);
    assert!(
        in_999["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["ip"].is_string()),
        "{in_999}"
    );
    let types = |account: &Value| -> Vec<String> {
        account["audit_events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_type"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(types(&in_999).contains(&"login.succeeded".to_owned()));
    assert!(types(&account("998")).contains(&"login.failed".to_owned()));
    let anonymous = export["audit_events_about_no_account"].as_array().unwrap();
    assert!(
        anonymous
            .iter()
            .any(|e| e["event_type"] == "recovery_request.unmatched"),
        "{export}"
    );
    assert!(
        anonymous
            .iter()
            .all(|e| e["ip"].is_null() && e["user_agent"].is_null()),
        "whoever typed the address is not the subject: {export}"
    );
    // The address with a date of birth that matches no one exports nothing about it.
    let (ok, stdout, _) = run(vec![
        "subject-access".into(),
        "--email".into(),
        email.into(),
        "--date-of-birth".into(),
        "2001-01-01".into(),
    ]);
    assert!(ok);
    let nobody: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(nobody["people"], serde_json::json!([]));
    assert_eq!(nobody["emails"], serde_json::json!([]), "{nobody}");
    assert_eq!(
        nobody["audit_events_about_no_account"],
        serde_json::json!([])
    );
    assert!(
        export["emails"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["recipient"] == email),
        "{export}"
    );
    let person_999 = people
        .iter()
        .find(|p| p["organisation_code"] == "999")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Erasure needs --yes, and then anonymises that employment only.
    let (ok, _, stderr) = run(vec!["erase".into(), person_999.clone()]);
    assert!(!ok && stderr.contains("--yes"), "{stderr}");
    assert_eq!(
        app.get_auth("/v1/me", &access).await.status(),
        200,
        "nothing changed yet"
    );
    let (ok, stdout, stderr) = run(vec!["erase".into(), person_999.clone(), "--yes".into()]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("1 account(s) anonymised"), "{stdout}");

    assert_eq!(
        app.get_auth("/v1/me", &access).await.status(),
        401,
        "her session ended"
    );
    assert_eq!(
        app.login("999JSMITH01", "Bluebell harbour lantern")
            .await
            .status(),
        401
    );
    assert_eq!(
        app.login("998JSMITH01", "Juniper lighthouse orchard")
            .await
            .status(),
        200,
        "the other employment is untouched"
    );
    let feed = crate::admin::admin_key(app, "dpo", "all", "write");
    let person: Value = app
        .get_auth(&format!("/v1/admin/people/{person_999}"), &feed)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(person["first_name"], "Erased", "{person}");
    assert_eq!(person["date_of_birth"], "1900-01-01");
    assert_eq!(person["smartcard_linked"], false);
    assert!(!person.to_string().contains("jane"), "{person}");
    let account_id = in_999["id"].as_str().unwrap();
    let events = esr_persistence::subjects::audit_of_account(
        &mut app.db(),
        &esr_domain::AccountId::from_stored(account_id.to_owned()),
    )
    .unwrap();
    assert!(!events.is_empty());
    for e in &events {
        assert!(e.personal_blanked_at.is_some(), "{e:?}");
        assert!(!e.actor.contains("JSMITH") && e.ip.is_none(), "{e:?}");
    }
    let (ok, stdout, stderr) = run(vec!["audit".into(), "verify".into()]);
    assert!(ok, "{stdout}{stderr}");

    // The export now finds only the other employment; both commands were audited.
    let (_, stdout, _) = run(vec![
        "subject-access".into(),
        "--email".into(),
        email.into(),
        "--date-of-birth".into(),
        "1985-04-12".into(),
    ]);
    let again: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(again["people"].as_array().unwrap().len(), 1);
    let all = esr_persistence::audit::recent(&mut app.db(), None, 500).unwrap();
    assert_eq!(
        all.iter()
            .filter(|e| e.event_type == "subject_access.exported")
            .count(),
        3
    );
    assert!(all.iter().any(|e| e.event_type == "person.erased"));
}

crate::both_backends!(a_version_check_tells_a_scoped_key_nothing_of_another_organisation);

/// A key of organisation 998 changing a person of 999 with a stale `If-Match` gets the same
/// `404` as for an id that does not exist, not `412`: a version refusal would confirm the id.
async fn a_version_check_tells_a_scoped_key_nothing_of_another_organisation(
    app: &crate::helpers::TestApp,
) {
    let all = crate::admin::admin_key(app, "all", "all", "write");
    let other = crate::admin::admin_key(app, "other-trust", "998", "write");
    let id = crate::admin::demo_person_id(app, &all, "100001").await;
    for path in [
        format!("/v1/admin/people/{id}"),
        format!("/v1/admin/people/{}", uuid::Uuid::new_v4()),
    ] {
        let res = app
            .client
            .patch(format!("{}{path}", app.address))
            .bearer_auth(&other)
            .header("if-match", "\"stale\"")
            .json(&serde_json::json!({"first_name": "Janet"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
}
