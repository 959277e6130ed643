//! Leavers: a full HR feed disables the accounts of the organisation's staff missing from it
//! (sessions ended, internet access revoked, counted in the import's totals), unless a line
//! was refused or more would leave than the run allows; an administrator can mark one leaver;
//! the purge anonymises leavers after their period.

use serde_json::Value;

use crate::admin::admin_key;
use crate::helpers::TestApp;
use crate::retention::purge_later;

crate::both_backends!(
    a_full_feed_disables_the_staff_it_leaves_out_within_its_share,
    an_administrator_marks_a_leaver_and_the_purge_erases_them_later
);

const HEADER: &str = "organisation_code,employee_number,first_name,last_name,date_of_birth,work_email,smartcard_subject";
const JANE: &str = "999,100001,Jane,Smith,1985-04-12,jane.smith@demo.example.org,555000000001";
const SIAN: &str = "999,100003,Siân,Jones,1992-07-21,sian.jones@demo.example.org,555000000003";
const AMIR: &str = "999APATEL01";
const AMIR_PASSWORD: &str = "Copper kettle meadow 42";

async fn import(app: &TestApp, key: &str, query: &str, lines: &[&str]) -> (u16, Value) {
    let body = format!("{HEADER}\n{}\n", lines.join("\n"));
    let res = app
        .client
        .post(format!("{}/v1/admin/people/import{query}", app.address))
        .bearer_auth(key)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn access_token(app: &TestApp, username: &str, password: &str) -> String {
    let res = app.login(username, password).await;
    assert_eq!(res.status(), 200, "{username}");
    res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn a_full_feed_disables_the_staff_it_leaves_out_within_its_share(app: &TestApp) {
    let feed = admin_key(app, "hr-feed", "999", "write");
    let amir = access_token(app, AMIR, AMIR_PASSWORD).await;

    // Amir is missing: one of three staff, more than the default 5 %. No one leaves.
    let (status, report) = import(app, &feed, "?full_feed=999", &[JANE, SIAN]).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["leavers"], 0);
    assert!(
        report["leavers_withheld"]
            .as_str()
            .unwrap()
            .contains("1 of 3 staff"),
        "{report}"
    );
    assert_eq!(app.get_auth("/v1/me", &amir).await.status(), 200);

    // A refused line: the file cannot be trusted to be whole. No one leaves.
    let bad = "999,100009,Bad,Date,1985-02-30,bad.date@demo.example.org,";
    let query = "?full_feed=999&max_leavers_percent=50";
    let (_, report) = import(app, &feed, query, &[JANE, SIAN, bad]).await;
    assert_eq!(report["rejected"], 1);
    assert!(
        report["leavers_withheld"]
            .as_str()
            .unwrap()
            .contains("refused"),
        "{report}"
    );
    assert_eq!(app.get_auth("/v1/me", &amir).await.status(), 200);

    // New rows do not make room for more leavers: with 40 new people and a 5 % share, Amir
    // (one of the three staff employed before) still may not leave.
    let padding: Vec<String> = (0..40)
        .map(|i| format!("999,7{i:05},New,Starter,1990-01-01,new.starter{i}@demo.example.org,"))
        .collect();
    let mut padded = vec![JANE, SIAN];
    padded.extend(padding.iter().map(String::as_str));
    let (_, report) = import(app, &feed, "?full_feed=999", &padded).await;
    assert_eq!(report["created"], 40, "{report}");
    assert_eq!(report["leavers"], 0, "{report}");
    assert!(
        report["leavers_withheld"]
            .as_str()
            .unwrap()
            .contains("1 of 3 staff"),
        "{report}"
    );
    assert_eq!(app.get_auth("/v1/me", &amir).await.status(), 200);

    // Within a 50 % share: Amir leaves. His session ends, he cannot log in, his access is
    // revoked, and the others are untouched.
    // The new starters stay in every later feed, or they would be leavers too.
    let everyone = padded.clone();
    let (_, report) = import(app, &feed, query, &everyone).await;
    assert_eq!(report["leavers"], 1, "{report}");
    assert!(report.get("leavers_withheld").is_none(), "{report}");
    let res = app.get_auth("/v1/me", &amir).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap()["session_ended"],
        "account_disabled"
    );
    assert_eq!(app.login(AMIR, AMIR_PASSWORD).await.status(), 401);
    let account: Value = app
        .get_auth(&format!("/v1/admin/accounts/{AMIR}"), &feed)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(account["status"], "disabled", "{account}");
    assert_eq!(account["internet_access"], "revoked");
    access_token(app, "999JSMITH01", "Bluebell harbour lantern").await;

    // The same feed again: Amir has left already; no one else leaves.
    let (_, report) = import(app, &feed, query, &everyone).await;
    assert_eq!(report["leavers"], 0, "{report}");

    // A full feed of an organisation the key does not cover is refused, as is a bad share.
    let (status, problem) = import(app, &feed, "?full_feed=998", &[JANE]).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("invalid-query-parameter"))
    );
    let (status, _) = import(app, &feed, "?full_feed=999&max_leavers_percent=0", &[JANE]).await;
    assert_eq!(status, 400);
    let events = esr_persistence::audit::recent(&mut app.db(), None, 200).unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type == "person.left")
            .count(),
        1
    );
    assert!(events.iter().any(|e| e.event_type == "account.disabled"));
}

async fn an_administrator_marks_a_leaver_and_the_purge_erases_them_later(app: &TestApp) {
    let feed = admin_key(app, "hr-feed", "all", "write");
    let desk = admin_key(app, "service-desk", "999", "read");
    let id = crate::admin::demo_person_id(app, &feed, "100002").await;
    let path = format!("/v1/admin/people/{id}/leave");
    let amir = access_token(app, AMIR, AMIR_PASSWORD).await;

    let res = app
        .post_json(&path, &serde_json::json!({}), Some(&desk))
        .await;
    assert_eq!(res.status(), 403, "a read-only key cannot");
    let unknown = format!("/v1/admin/people/{}/leave", uuid::Uuid::new_v4());
    assert_eq!(
        app.post_json(&unknown, &serde_json::json!({}), Some(&feed))
            .await
            .status(),
        404
    );

    let res = app
        .post_json(&path, &serde_json::json!({}), Some(&feed))
        .await;
    assert_eq!(res.status(), 200);
    let left: Value = res.json().await.unwrap();
    assert!(left["left_at"].is_string(), "{left}");
    assert_eq!(app.get_auth("/v1/me", &amir).await.status(), 401);
    assert_eq!(app.login(AMIR, AMIR_PASSWORD).await.status(), 401);
    // Again: the same answer, nothing done twice.
    let again: Value = app
        .post_json(&path, &serde_json::json!({}), Some(&feed))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["left_at"], left["left_at"]);

    // Siân has no account yet: once she has left, her smartcard makes none.
    let sian = crate::admin::demo_person_id(app, &feed, "100003").await;
    let path_sian = format!("/v1/admin/people/{sian}/leave");
    assert_eq!(
        app.post_json(&path_sian, &serde_json::json!({}), Some(&feed))
            .await
            .status(),
        200
    );
    let (code, flow) = crate::smartcard::authorize(app, "100003").await;
    let res = crate::smartcard::callback(app, &code, &flow).await;
    assert_eq!(res.status(), 403);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "no-esr-record");

    // Within the period the purge leaves Amir alone; after it, he is anonymised.
    assert_eq!(purge_later(app, 100).removed["leavers_erased"], 0);
    assert_eq!(purge_later(app, 400).removed["leavers_erased"], 2);
    let erased: Value = app
        .get_auth(&format!("/v1/admin/people/{id}"), &feed)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(erased["first_name"], "Erased", "{erased}");
    assert_eq!(
        purge_later(app, 500).removed["leavers_erased"],
        0,
        "erased once"
    );
    let chain = esr_persistence::audit::verify_chain(&mut app.db(), &app.audit_chain).unwrap();
    assert!(chain.first_broken.is_none(), "{:?}", chain.first_broken);
}
