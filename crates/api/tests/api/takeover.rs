//! The takeover an organisation's write key could make silently: point a person's work email or
//! smartcard at the attacker, then recover or set the password. Replayed through HTTP: both
//! addresses hear of the change at once, old links stop working, workplace sessions of the old
//! card end, and for `ESR_CONTACT_CHANGE_HOLD_HOURS` neither recovery nor setting a password at
//! work goes on. The HR import applies the same consequences as the admin API.

use serde_json::{Value, json};

use crate::admin::admin_key;
use crate::auth::{JANE, JANE_PASSWORD};
use crate::both_backends_owned;
use crate::helpers::{TestApp, TestBackend, problem, spawn_app, spawn_app_with_args};
use crate::recovery::request_recovery;
use crate::smartcard::smartcard_tokens;

both_backends_owned!(
    a_new_work_email_cannot_be_used_to_recover_at_once_and_both_addresses_are_told,
    a_new_smartcard_cannot_set_the_password_at_once_and_old_card_sessions_end,
    the_import_changing_a_work_email_has_the_same_consequences,
    with_the_hold_off_recovery_goes_to_the_new_address,
    a_locked_account_gives_no_password_oracle_to_a_later_session,
    an_admin_unlock_spends_outstanding_unlock_links,
    a_suspended_account_counts_wrong_passwords_and_then_hides_the_right_one,
    a_person_with_no_account_is_told_of_contact_changes_too,
    a_new_card_cannot_change_sign_in_methods_during_the_hold,
    another_organisation_linking_a_card_tells_its_holder,
    administrators_cannot_spend_a_mailbox_share,
    the_address_before_a_change_hears_of_what_follows_during_the_hold,
);

const JANE_EMAIL: &str = "jane.smith@demo.example.org";
const JANE_DOB: &str = "1985-04-12";
const ATTACKER_EMAIL: &str = "mallory@attacker.example";
const ATTACKER_CARD: &str = "555777777777";

async fn jane_person_path(app: &TestApp, key: &str) -> String {
    let res = app
        .client
        .get(format!("{}/v1/admin/accounts/{JANE}", app.address))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let account: Value = res.json().await.unwrap();
    format!(
        "/v1/admin/people/{}",
        account["person_id"].as_str().unwrap()
    )
}

async fn patch_jane(app: &TestApp, key: &str, body: Value) {
    let path = jane_person_path(app, key).await;
    let res = app
        .client
        .patch(format!("{}{path}", app.address))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

/// The kinds of the emails queued to `to`, whatever their delivery status.
fn kinds(app: &TestApp, to: &str) -> Vec<String> {
    esr_persistence::outbox::list(&mut app.db(), None, 1_000)
        .unwrap()
        .into_iter()
        .filter(|m| m.recipient == to)
        .map(|m| m.kind)
        .collect()
}

/// `POST /v1/admin/people/import` with `csv` and the key.
async fn import_csv(app: &TestApp, key: &str, csv: impl Into<String>) -> reqwest::Response {
    app.client
        .post(format!("{}/v1/admin/people/import", app.address))
        .header("content-type", "text/csv")
        .bearer_auth(key)
        .body(csv.into())
        .send()
        .await
        .unwrap()
}

async fn wait_for_kind(app: &TestApp, to: &str, kind: &str) {
    let what = format!("a {kind} email to {to}");
    esr_test_support::wait::wait_until(&what, std::time::Duration::from_secs(10), || async {
        kinds(app, to).iter().any(|k| k == kind).then_some(())
    })
    .await;
}

async fn a_new_work_email_cannot_be_used_to_recover_at_once_and_both_addresses_are_told(
    backend: TestBackend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let trust = admin_key(&app, "trust-999", "999", "write");
    // A reset link Jane asked for before the change.
    request_recovery(&app, JANE_EMAIL, JANE_DOB, None).await;
    app.wait_for_mail(JANE_EMAIL, 1).await;

    patch_jane(&app, &trust, json!({"work_email": ATTACKER_EMAIL})).await;
    wait_for_kind(&app, JANE_EMAIL, "work_email_changed").await;
    wait_for_kind(&app, ATTACKER_EMAIL, "work_email_changed").await;

    // The key's next step: have the recovery email sent to the new address. Held.
    let res = app
        .post_json(
            &format!("/v1/admin/accounts/{JANE}/send-recovery-email"),
            &json!({}),
            Some(&trust),
        )
        .await;
    assert_eq!(res.status(), 409);
    let body = problem(res).await;
    assert_eq!(body["code"], "contact-change-hold");

    // Nor does the public form send a link to the new address (its answer is the usual one).
    let res = request_recovery(&app, ATTACKER_EMAIL, JANE_DOB, None).await;
    assert_eq!(res.status(), 202);
    let what = "the held request's audit row";
    esr_test_support::wait::wait_until(what, std::time::Duration::from_secs(10), || async {
        let events = esr_persistence::audit::recent(&mut app.db(), None, 20).unwrap();
        events
            .iter()
            .any(|e| e.details.contains("contact_change_hold"))
            .then_some(())
    })
    .await;
    assert_eq!(
        kinds(&app, ATTACKER_EMAIL),
        vec!["work_email_changed"],
        "the new address got the notice and no link"
    );

    // The audit names the account and both addresses (as keyed digests, never in clear).
    let events = esr_persistence::audit::recent(&mut app.db(), None, 50).unwrap();
    let changed = events
        .iter()
        .find(|e| e.event_type == "person.work_email_changed")
        .expect("audited");
    assert!(changed.account_id.is_some(), "the row names the account");
    let details: Value = serde_json::from_str(&changed.details).unwrap();
    assert!(details["old_email_digest"].is_string() && details["new_email_digest"].is_string());
    assert!(!changed.details.contains(ATTACKER_EMAIL) && !changed.details.contains(JANE_EMAIL));
    app.stop().await;
}

async fn a_new_smartcard_cannot_set_the_password_at_once_and_old_card_sessions_end(
    backend: TestBackend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let trust = admin_key(&app, "trust-999", "999", "write");
    let jane_at_work = smartcard_tokens(&app, "100001").await;
    let jane_work_token = jane_at_work["access_token"].as_str().unwrap().to_owned();

    patch_jane(&app, &trust, json!({"smartcard_subject": ATTACKER_CARD})).await;
    wait_for_kind(&app, JANE_EMAIL, "smartcard_changed").await;
    let res = app.get_auth("/v1/me", &jane_work_token).await;
    assert_eq!(res.status(), 401, "the old card's workplace session ended");

    // The attacker signs in at work with their own card, now linked to Jane's record...
    let attacker = smartcard_tokens(&app, ATTACKER_CARD).await;
    let token = attacker["access_token"].as_str().unwrap();
    let new = "Attacker chosen passphrase 1";
    let res = app
        .put_json(
            "/v1/me/internet-access/password",
            &json!({"new_password": new, "confirm_password": new}),
            token,
        )
        .await;
    // ...but cannot choose Jane's password during the hold.
    assert_eq!(res.status(), 403);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(problem(res).await["code"], "contact-change-hold");
    assert_eq!(
        app.login(JANE, JANE_PASSWORD).await.status(),
        200,
        "unchanged"
    );
    app.stop().await;
}

async fn the_import_changing_a_work_email_has_the_same_consequences(backend: TestBackend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let root = admin_key(&app, "hr-feed", "all", "write");
    request_recovery(&app, JANE_EMAIL, JANE_DOB, None).await;
    let messages = app.wait_for_mail(JANE_EMAIL, 1).await;
    let link = crate::recovery::token_for(&messages[0], "reset", JANE);

    let csv = format!(
        "organisation_code,employee_number,first_name,last_name,date_of_birth,work_email,smartcard_subject\n\
         999,100001,Jane,Smith,{JANE_DOB},{ATTACKER_EMAIL},555000000001\n"
    );
    let res = import_csv(&app, &root, csv).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    wait_for_kind(&app, JANE_EMAIL, "work_email_changed").await;
    wait_for_kind(&app, ATTACKER_EMAIL, "work_email_changed").await;

    let new = "Attacker chosen passphrase 1";
    let res = app
        .post_json(
            "/v1/password-resets",
            &json!({"token": link, "username": JANE, "new_password": new, "confirm_password": new}),
            None,
        )
        .await;
    assert_eq!(res.status(), 400, "the link sent before the change is dead");
    let res = app
        .post_json(
            &format!("/v1/admin/accounts/{JANE}/send-recovery-email"),
            &json!({}),
            Some(&root),
        )
        .await;
    assert_eq!(problem(res).await["code"], "contact-change-hold");
    app.stop().await;
}

/// The hold is what stops the takeover: with it off, the same steps deliver a link to the new
/// address (still with both notices), which is why it is on by default.
async fn with_the_hold_off_recovery_goes_to_the_new_address(backend: TestBackend) {
    let Some(app) = spawn_app_with_args(backend, &["--contact-change-hold-hours", "0"]).await
    else {
        return;
    };
    let trust = admin_key(&app, "trust-999", "999", "write");
    patch_jane(&app, &trust, json!({"work_email": ATTACKER_EMAIL})).await;
    let res = app
        .post_json(
            &format!("/v1/admin/accounts/{JANE}/send-recovery-email"),
            &json!({}),
            Some(&trust),
        )
        .await;
    assert_eq!(res.status(), 202, "{}", res.text().await.unwrap());
    wait_for_kind(&app, ATTACKER_EMAIL, "recovery").await;
    wait_for_kind(&app, JANE_EMAIL, "work_email_changed").await;
    app.stop().await;
}

/// A smartcard session opened after a lock cannot use the change-at-home form to guess the
/// password: a locked account answers it the same whatever the current password given, and
/// nothing is checked, so the lockout cannot be bypassed there.
async fn a_locked_account_gives_no_password_oracle_to_a_later_session(backend: TestBackend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for i in 0..5 {
        app.login(JANE, &format!("not the password {i}")).await;
    }
    assert_eq!(app.login(JANE, JANE_PASSWORD).await.status(), 401, "locked");
    let work = smartcard_tokens(&app, "100001").await;
    let token = work["access_token"].as_str().unwrap();
    let mut answers = Vec::new();
    for current in ["a wrong guess here", JANE_PASSWORD] {
        let body =
            json!({"current_password": current, "new_password": "x", "confirm_password": "y"});
        let res = app.post_json("/v1/me/password", &body, Some(token)).await;
        let status = res.status().as_u16();
        answers.push((status, problem(res).await["code"].clone()));
    }
    assert_eq!(
        answers[0], answers[1],
        "wrong and right current password alike: {answers:?}"
    );
    assert_eq!(answers[0].0, 401);
    app.stop().await;
}

/// An administrator's unlock spends the unlock links still in the mailbox: one left alive
/// would silently lift the next lock, say one earned by guessing.
async fn an_admin_unlock_spends_outstanding_unlock_links(backend: TestBackend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let root = admin_key(&app, "desk", "all", "write");
    let lock = || async {
        for i in 0..5 {
            app.login(JANE, &format!("not the password {i}")).await;
        }
    };
    lock().await;
    crate::recovery::request_unlock(&app, JANE_EMAIL, JANE_DOB, JANE).await;
    let messages = app.wait_for_mail(JANE_EMAIL, 2).await;
    let message = messages
        .iter()
        .find(|m| {
            m["text"]
                .as_str()
                .unwrap_or_default()
                .contains("/unlock-account#token=")
        })
        .expect("an unlock email");
    let link = crate::recovery::token_for(message, "unlock", JANE);
    let res = app
        .post_json(
            &format!("/v1/admin/accounts/{JANE}/unlock"),
            &json!({}),
            Some(&root),
        )
        .await;
    assert_eq!(res.status(), 200);
    lock().await;
    let res = app
        .post_json("/v1/account-unlocks", &json!({"token": link}), None)
        .await;
    assert_eq!(
        res.status(),
        400,
        "the old link no longer lifts the new lock"
    );
    let jane = esr_persistence::accounts::find_by_username(
        &mut app.db(),
        &esr_domain::Username::parse(JANE).unwrap(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        jane.status,
        esr_domain::AccountStatus::Locked,
        "still locked"
    );
    app.stop().await;
}

/// A suspended account cannot be locked, but its wrong passwords count: once as many as lock
/// an active account have been tried, the right one no longer answers "suspended" (which
/// would single it out among unlimited guesses), however often it is tried.
async fn a_suspended_account_counts_wrong_passwords_and_then_hides_the_right_one(
    backend: TestBackend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let root = admin_key(&app, "desk", "all", "write");
    let res = app
        .post_json(
            &format!("/v1/admin/accounts/{JANE}/suspend"),
            &json!({}),
            Some(&root),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app.login(JANE, JANE_PASSWORD).await;
    assert_eq!(res.status(), 403, "the holder is told, before any guessing");
    for i in 0..5 {
        assert_eq!(
            app.login(JANE, &format!("guess number {i}")).await.status(),
            401
        );
    }
    for _ in 0..2 {
        let res = app.login(JANE, JANE_PASSWORD).await;
        assert_eq!(
            res.status(),
            401,
            "the right guess looks like the wrong ones"
        );
        assert_eq!(problem(res).await["code"], "invalid-credentials");
    }
    app.stop().await;
}

/// Before anyone has an account, pointing the record at an attacker's address or card would
/// set up a takeover of the account made later: the person hears of it at once.
async fn a_person_with_no_account_is_told_of_contact_changes_too(backend: TestBackend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let trust = admin_key(&app, "trust-999", "999", "write");
    let gwen_email = "gwen.evans@demo.example.org";
    let res = app
        .post_json(
            "/v1/admin/people",
            &json!({
                "organisation_code": "999", "employee_number": "300901", "first_name": "Gwen",
                "last_name": "Evans", "date_of_birth": "1979-02-28", "work_email": gwen_email,
                "language": "cy"}),
            Some(&trust),
        )
        .await;
    assert_eq!(res.status(), 201);
    let gwen: Value = res.json().await.unwrap();
    let path = format!(
        "{}/v1/admin/people/{}",
        app.address,
        gwen["id"].as_str().unwrap()
    );
    for change in [
        json!({"work_email": ATTACKER_EMAIL}),
        json!({"smartcard_subject": ATTACKER_CARD}),
    ] {
        let res = app
            .client
            .patch(&path)
            .bearer_auth(&trust)
            .json(&change)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }
    wait_for_kind(&app, gwen_email, "work_email_changed").await;
    wait_for_kind(&app, ATTACKER_EMAIL, "work_email_changed").await;
    wait_for_kind(&app, ATTACKER_EMAIL, "smartcard_changed").await;
    // Delivered in her language, naming the record (there is no username to name).
    let sent = app.wait_for_mail(gwen_email, 1).await;
    let text = sent[0]["text"].as_str().unwrap();
    assert!(text.contains("cofnod ESR (999 "), "{text}");
    app.stop().await;
}

/// With the card pointed at theirs, the attacker's workplace session must not add a sign-in
/// method of their own (which would shut the holder's password out) nor remove the holder's;
/// nor may the new address receive an enrolment link. The old address hears of the card
/// change as well as of the email change made with it.
async fn a_new_card_cannot_change_sign_in_methods_during_the_hold(backend: TestBackend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let trust = admin_key(&app, "trust-999", "999", "write");
    patch_jane(
        &app,
        &trust,
        json!({"work_email": ATTACKER_EMAIL, "smartcard_subject": ATTACKER_CARD}),
    )
    .await;
    wait_for_kind(&app, JANE_EMAIL, "work_email_changed").await;
    wait_for_kind(&app, JANE_EMAIL, "smartcard_changed").await;

    let attacker = smartcard_tokens(&app, ATTACKER_CARD).await;
    let token = attacker["access_token"].as_str().unwrap();
    let res = app
        .post_json("/v1/me/factors/totp", &json!({"name": "mine"}), Some(token))
        .await;
    assert_eq!(res.status(), 403);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(problem(res).await["code"], "contact-change-hold");
    let res = app
        .post_json("/v1/me/factors/recovery-codes", &json!({}), Some(token))
        .await;
    assert_eq!(problem(res).await["code"], "contact-change-hold");
    // Nor may it watch or end the holder's sessions, or try the current password.
    let res = app.get_auth("/v1/me/sessions", token).await;
    assert_eq!(problem(res).await["code"], "contact-change-hold");
    let res = app
        .client
        .delete(format!("{}/v1/me/sessions/any-session", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await["code"], "contact-change-hold");
    let body = json!({"current_password": JANE_PASSWORD, "new_password": "Attacker chosen passphrase 1",
        "confirm_password": "Attacker chosen passphrase 1"});
    let res = app.post_json("/v1/me/password", &body, Some(token)).await;
    assert_eq!(problem(res).await["code"], "contact-change-hold");

    // A password session asking for an enrolment link to the new address: held too.
    let login = app.login(JANE, JANE_PASSWORD).await;
    let password_token = login.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .post_json(
            "/v1/me/factors/enrolment-link",
            &json!({}),
            Some(&password_token),
        )
        .await;
    assert_eq!(problem(res).await["code"], "contact-change-hold");
    assert!(
        !kinds(&app, ATTACKER_EMAIL)
            .iter()
            .any(|k| k == "enrolment_link")
    );
    assert_eq!(app.login(JANE, JANE_PASSWORD).await.status(), 200);
    app.stop().await;
}

/// A card is unique within an organisation, not across them: another organisation may link
/// Jane's card to a record it controls (she might work there too). Jane hears of it at once,
/// whether the record is made through the admin API or the HR import.
async fn another_organisation_linking_a_card_tells_its_holder(backend: TestBackend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let other = admin_key(&app, "trust-998", "998", "write");
    let res = app
        .post_json(
            "/v1/admin/people",
            &json!({
                "organisation_code": "998", "employee_number": "700001", "first_name": "Jane",
                "last_name": "Smith", "date_of_birth": JANE_DOB, "work_email": ATTACKER_EMAIL,
                "smartcard_subject": "555000000001"}),
            Some(&other),
        )
        .await;
    assert_eq!(res.status(), 201);
    wait_for_kind(&app, JANE_EMAIL, "smartcard_linked_elsewhere").await;
    let sent = app.wait_for_mail(JANE_EMAIL, 1).await;
    let text = sent[0]["text"].as_str().unwrap();
    assert!(
        text.contains("998 Demo Manual Approval NHS Trust"),
        "{text}"
    );

    // Siân's card (her record is in 999) created with a new 998 record by the import.
    let csv = "organisation_code,employee_number,first_name,last_name,date_of_birth,work_email,smartcard_subject\n\
               998,700002,Sian,Jones,1992-07-21,decoy@attacker.example,555000000003\n";
    let res = import_csv(&app, &other, csv).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    wait_for_kind(
        &app,
        "sian.jones@demo.example.org",
        "smartcard_linked_elsewhere",
    )
    .await;
    // Imported again unchanged: nobody is told twice.
    let before = kinds(&app, "sian.jones@demo.example.org").len();
    let res = import_csv(&app, &other, csv).await;
    assert_eq!(res.status(), 200);
    assert_eq!(kinds(&app, "sian.jones@demo.example.org").len(), before);
    app.stop().await;
}

/// A record made with someone else's address (any organisation can make one) must not let
/// administrators' sends spend the share of that mailbox the person's own Forgotten requests
/// need: three a hour per account, and never past half the mailbox's share.
async fn administrators_cannot_spend_a_mailbox_share(backend: TestBackend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let trust = admin_key(&app, "trust-999", "999", "write");
    let path = format!("/v1/admin/accounts/{JANE}/send-recovery-email");
    for i in 0..3 {
        let res = app.post_json(&path, &json!({}), Some(&trust)).await;
        assert_eq!(res.status(), 202, "send {i}");
    }
    let res = app.post_json(&path, &json!({}), Some(&trust)).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(problem(res).await["code"], "too-many-emails");
    app.wait_for_mail(JANE_EMAIL, 3).await;
    // Jane's own request still gets through.
    request_recovery(&app, JANE_EMAIL, JANE_DOB, None).await;
    app.wait_for_mail(JANE_EMAIL, 4).await;
    app.stop().await;
}

/// Changing the address first and the card (or the sign-in methods) after must not leave the
/// holder's own address out: during the hold, notices are copied to the address on record
/// before it began, once each.
async fn the_address_before_a_change_hears_of_what_follows_during_the_hold(backend: TestBackend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let trust = admin_key(&app, "trust-999", "999", "write");
    let other_attacker_email = "mallory.two@attacker.example";
    patch_jane(&app, &trust, json!({"work_email": ATTACKER_EMAIL})).await;
    patch_jane(&app, &trust, json!({"smartcard_subject": ATTACKER_CARD})).await;
    patch_jane(&app, &trust, json!({"work_email": other_attacker_email})).await;
    let res = app
        .post_json(
            &format!("/v1/admin/accounts/{JANE}/factors/reset"),
            &json!({}),
            Some(&trust),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    wait_for_kind(&app, JANE_EMAIL, "factors_reset").await;
    let told = kinds(&app, JANE_EMAIL);
    for kind in ["work_email_changed", "smartcard_changed", "factors_reset"] {
        let times = told.iter().filter(|k| *k == kind).count();
        let expected = if kind == "work_email_changed" { 2 } else { 1 };
        assert_eq!(times, expected, "{kind} to Jane's own address: {told:?}");
    }
    app.stop().await;
}
