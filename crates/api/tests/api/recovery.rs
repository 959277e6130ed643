//! Forgotten | Request Username/Password | Unlock Account, through HTTP and the dev mailbox.

use std::collections::BTreeMap;

use diesel::connection::SimpleConnection;
use serde_json::{Value, json};

use crate::auth::{JANE, JANE_PASSWORD};
use crate::helpers::{TestApp, TestBackend, problem, spawn_app_with};

const JANE_EMAIL: &str = "jane.smith@demo.example.org";
const JANE_DOB: &str = "1985-04-12";
const CONFIRMATION: &str = "Your request to retrieve your username has been submitted. An email will be sent shortly. Please contact the System Administrator if you do not receive an email within the next 10-15 minutes.";

pub async fn request_recovery(
    app: &TestApp,
    email: &str,
    dob: &str,
    username: Option<&str>,
) -> reqwest::Response {
    let mut body = json!({"work_email": email, "date_of_birth": dob});
    if let Some(u) = username {
        body["username"] = json!(u);
    }
    app.post_json("/v1/recovery-requests", &body, None).await
}

/// Asks for an unlock link (`POST /v1/unlock-requests`).
pub async fn request_unlock(
    app: &TestApp,
    email: &str,
    dob: &str,
    username: &str,
) -> reqwest::Response {
    let body = json!({"work_email": email, "date_of_birth": dob, "username": username});
    app.post_json("/v1/unlock-requests", &body, None).await
}

/// The token of the `purpose` link of `username` in a message.
pub fn token_for(message: &Value, purpose: &str, username: &str) -> String {
    let text = message["text"].as_str().unwrap();
    let block = text
        .split("Username: ")
        .find(|b| b.starts_with(username))
        .unwrap_or_else(|| panic!("{username} in {text}"));
    let marker = match purpose {
        "reset" => "/reset-password#token=",
        _ => "/unlock-account#token=",
    };
    let start = block
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {block}"))
        + marker.len();
    block[start..].split_whitespace().next().unwrap().to_owned()
}

async fn reset(app: &TestApp, token: &str, username: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/v1/password-resets",
        &json!({"token": token, "username": username, "new_password": password, "confirm_password": password}),
        None,
    )
    .await
}

crate::both_backends!(
    the_whole_recovery_journey,
    username_narrows_the_email_to_one_account,
    unlock_link_unlocks_without_changing_the_password,
    links_are_single_use_bound_and_expire,
    unmatched_requests_send_nothing_and_audit_only_a_digest,
    accounts_that_cannot_log_in_from_home_get_no_links,
    a_welsh_speaker_gets_the_email_in_welsh,
    bad_forms_are_problems,
);

/// Siân's preferred language (`people.language`, set by the ESR import or the admin API) is
/// Welsh: her email is in Welsh, text and HTML, and the HTML says so (`<html lang="cy">`).
async fn a_welsh_speaker_gets_the_email_in_welsh(app: &TestApp) {
    let sian = "sian.jones@demo.example.org";
    // Her internet access is approved (the demo has her not yet asked).
    app.db()
        .batch_execute(
            "UPDATE accounts SET internet_access = 'approved' WHERE username = '999SJONES01'",
        )
        .unwrap();
    assert_eq!(
        request_recovery(app, sian, "1992-07-21", None)
            .await
            .status(),
        202
    );
    let email = app.wait_for_mail(sian, 1).await.remove(0);
    assert_eq!(
        email["subject"],
        "Eich enw defnyddiwr ESR ac ailosod eich cyfrinair"
    );
    let text = email["text"].as_str().unwrap();
    assert!(text.contains("Enw defnyddiwr: 999SJONES01"), "{text}");
    let html = email["html"].as_str().unwrap();
    assert!(html.contains("<html lang=\"cy\">"), "{html}");
    assert!(
        html.contains("999SJONES01") && !html.contains("Username:"),
        "{html}"
    );
}

async fn the_whole_recovery_journey(app: &TestApp) {
    // Jane is logged in on her phone, then someone locks her account.
    let phone = app.tokens(JANE, JANE_PASSWORD).await;
    for _ in 0..5 {
        app.login(JANE, "a wrong password guess").await;
    }
    assert_eq!(app.login(JANE, JANE_PASSWORD).await.status(), 401, "locked");
    let locked = app.wait_for_mail(JANE_EMAIL, 1).await;
    assert_eq!(locked[0]["subject"], "Your ESR account has been locked");

    let res = request_recovery(app, "  Jane.Smith@Demo.Example.ORG ", JANE_DOB, None).await;
    assert_eq!(res.status(), 202);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({"message": CONFIRMATION}));

    let messages = app.wait_for_mail(JANE_EMAIL, 2).await;
    let email = &messages[0];
    assert_eq!(email["subject"], "Your ESR username and password reset");
    let text = email["text"].as_str().unwrap();
    assert!(
        text.contains("The following user accounts are associated with your email address:"),
        "{text}"
    );
    assert!(
        text.contains("Organisation: 999 Demo NHS Trust\nUsername: 999JSMITH01"),
        "{text}"
    );
    assert!(
        text.contains("Organisation: 998 Demo Manual Approval NHS Trust\nUsername: 998JSMITH01"),
        "{text}"
    );
    assert!(text.contains("The password reset link is only active for 4 hours."));
    // Links come from configuration (dev default: this server's /self-service), token in the fragment.
    let links: Vec<&str> = email["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["url"].as_str().unwrap())
        .collect();
    let base = format!("{}/self-service/", app.address);
    assert!(links.iter().all(|l| l.starts_with(&base)), "{links:?}");
    let token = token_for(email, "reset", JANE);
    let other_account_token = token_for(email, "reset", "998JSMITH01");

    // She also asked for an unlock link for the same account; the reset must end it too.
    let res = request_unlock(app, JANE_EMAIL, JANE_DOB, JANE).await;
    assert_eq!(res.status(), 202);
    let messages = app.wait_for_mail(JANE_EMAIL, 3).await;
    assert_eq!(messages[0]["subject"], "Unlock your ESR account");
    let unlock_token = token_for(&messages[0], "unlock", JANE);
    let jane = || {
        esr_persistence::accounts::find_by_username(
            &mut app.db(),
            &esr_domain::Username::parse(JANE).unwrap(),
        )
        .unwrap()
        .unwrap()
    };
    assert!(jane().failed_login_count >= 5, "locked by failed logins");

    let res = app
        .post_json(
            "/v1/password-resets/validate",
            &json!({"token": token}),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    let info: Value = res.json().await.unwrap();
    assert_eq!(info["organisation_name"], "Demo NHS Trust");
    assert!(info["expires_at"].is_string());

    let new = "Wandering heron at dusk";
    let res = reset(app, &token, "999jsmith01", new).await;
    assert_eq!(res.status(), 204, "no automatic login");
    assert!(res.bytes().await.unwrap().is_empty());
    let after = jane();
    assert_eq!(after.failed_login_count, 0, "failed-login count cleared");
    assert_eq!(after.status, esr_domain::AccountStatus::Active, "unlocked");

    assert_eq!(
        app.login(JANE, JANE_PASSWORD).await.status(),
        401,
        "old password refused"
    );
    assert_eq!(
        app.login(JANE, new).await.status(),
        200,
        "new password works, account unlocked"
    );
    let res = app
        .post_json(
            "/v1/auth/refresh",
            &json!({"refresh_token": phone["refresh_token"]}),
            None,
        )
        .await;
    assert_eq!(res.status(), 401, "the phone's session ended");
    assert_eq!(
        app.get_auth("/v1/me", phone["access_token"].as_str().unwrap())
            .await
            .status(),
        401
    );

    let res = reset(app, &token, JANE, "Another fresh passphrase").await;
    assert_eq!(problem(res).await["code"], "invalid-link", "single use");
    let res = app
        .post_json("/v1/account-unlocks", &json!({"token": unlock_token}), None)
        .await;
    assert_eq!(
        problem(res).await["code"],
        "invalid-link",
        "the account's unlock link died with the reset"
    );
    // Only this account's links were invalidated.
    let res = app
        .post_json(
            "/v1/password-resets/validate",
            &json!({"token": other_account_token}),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);

    let messages = app.wait_for_mail(JANE_EMAIL, 4).await;
    assert_eq!(messages[0]["subject"], "Your ESR password was changed");

    // The outbox keeps no links once sent, and the audit trail holds the journey, intact.
    let mut conn = app.db();
    let sent = esr_persistence::outbox::list(&mut conn, Some("sent"), 10).unwrap();
    assert!(sent.len() >= 3 && sent.iter().all(|m| m.payload == "{}"));
    let events: Vec<String> = esr_persistence::audit::recent(&mut conn, None, 200)
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    for expected in [
        "account.locked",
        "password_reset_link.issued",
        "password.reset",
        "email.sent",
    ] {
        assert!(
            events.iter().any(|e| e == expected),
            "{expected} in {events:?}"
        );
    }
    assert_eq!(
        esr_persistence::audit::verify_chain(&mut conn, &app.audit_chain)
            .unwrap()
            .first_broken,
        None
    );
}

async fn username_narrows_the_email_to_one_account(app: &TestApp) {
    assert_eq!(
        request_recovery(app, JANE_EMAIL, JANE_DOB, Some("998jsmith01"))
            .await
            .status(),
        202
    );
    let messages = app.wait_for_mail(JANE_EMAIL, 1).await;
    let text = messages[0]["text"].as_str().unwrap();
    assert!(text.contains("The following user account is associated with your email address:"));
    assert!(
        text.contains("998JSMITH01") && !text.contains("999JSMITH01"),
        "{text}"
    );
}

async fn unlock_link_unlocks_without_changing_the_password(app: &TestApp) {
    for _ in 0..5 {
        app.login(JANE, "a wrong password guess").await;
    }
    let res = request_unlock(app, JANE_EMAIL, JANE_DOB, JANE).await;
    assert_eq!(res.status(), 202);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"message": CONFIRMATION})
    );
    let messages = app.wait_for_mail(JANE_EMAIL, 2).await;
    let email = messages
        .iter()
        .find(|m| m["subject"] == "Unlock your ESR account")
        .expect("unlock email");
    let token = token_for(email, "unlock", JANE);
    let res = app
        .post_json("/v1/account-unlocks", &json!({"token": token}), None)
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        app.login(JANE, JANE_PASSWORD).await.status(),
        200,
        "same password, unlocked"
    );
    let res = app
        .post_json("/v1/account-unlocks", &json!({"token": token}), None)
        .await;
    assert_eq!(problem(res).await["code"], "invalid-link");
    // An unlock link is not a reset link.
    let res = app
        .post_json(
            "/v1/password-resets/validate",
            &json!({"token": token}),
            None,
        )
        .await;
    assert_eq!(problem(res).await["code"], "invalid-link");

    // Asking to unlock an account that is not locked sends a reset link instead.
    request_unlock(app, JANE_EMAIL, JANE_DOB, JANE).await;
    let messages = app.wait_for_mail(JANE_EMAIL, 3).await;
    let text = messages[0]["text"].as_str().unwrap();
    assert!(
        text.contains("but it is not locked") && text.contains("/reset-password#token="),
        "{text}"
    );
}

async fn links_are_single_use_bound_and_expire(app: &TestApp) {
    request_recovery(app, JANE_EMAIL, JANE_DOB, None).await;
    let email = app.wait_for_mail(JANE_EMAIL, 1).await.remove(0);
    let token = token_for(&email, "reset", JANE);
    let other = token_for(&email, "reset", "998JSMITH01");

    // A token bound to another account: the username must match; five wrong ones burn it.
    for n in 1..=5 {
        let res = reset(app, &other, JANE, "Wandering heron at dusk").await;
        let body = problem(res).await;
        let expected = if n < 5 {
            "username-mismatch"
        } else {
            "invalid-link"
        };
        assert_eq!(body["code"], expected, "attempt {n}");
    }
    let res = reset(app, &other, "998JSMITH01", "Wandering heron at dusk").await;
    assert_eq!(
        problem(res).await["code"],
        "invalid-link",
        "burned even with the right username"
    );

    // The policy and history apply: the current password is one of the last four.
    let res = reset(app, &token, JANE, JANE_PASSWORD).await;
    let body = problem(res).await;
    assert_eq!(body["code"], "password-policy");
    assert_eq!(body["violations"][0]["code"], "password-reused");
    let res = reset(app, &token, JANE, "password1").await;
    assert_eq!(problem(res).await["code"], "password-policy");

    // A newer email replaces the older link.
    request_recovery(app, JANE_EMAIL, JANE_DOB, Some(JANE)).await;
    let newer = app.wait_for_mail(JANE_EMAIL, 2).await.remove(0);
    let newer_token = token_for(&newer, "reset", JANE);
    assert_eq!(
        problem(reset(app, &token, JANE, "Wandering heron at dusk").await).await["code"],
        "invalid-link"
    );

    // Expiry (time injected through the stored expiry).
    let hash = esr_domain::TokenDigest::of(&newer_token);
    let past = match app.backend {
        TestBackend::Sqlite => "datetime('now', '-1 minute')",
        TestBackend::Postgres => "(now() at time zone 'utc') - interval '1 minute'",
    };
    app.db()
        .batch_execute(&format!(
            "UPDATE one_time_tokens SET expires_at = {past} WHERE token_hash = '{}'",
            hash.as_str()
        ))
        .unwrap();
    let res = app
        .post_json(
            "/v1/password-resets/validate",
            &json!({"token": newer_token}),
            None,
        )
        .await;
    assert_eq!(problem(res).await["code"], "invalid-link");
    for junk in ["", "abc", &"A".repeat(43), &"x".repeat(5000)] {
        let res = app
            .post_json(
                "/v1/password-resets/validate",
                &json!({"token": junk}),
                None,
            )
            .await;
        assert_eq!(problem(res).await["code"], "invalid-link");
    }
}

async fn unmatched_requests_send_nothing_and_audit_only_a_digest(app: &TestApp) {
    let nobody = "no.one@nowhere.invalid";
    assert_eq!(
        request_recovery(app, nobody, "1970-01-01", None)
            .await
            .status(),
        202
    );
    // Wrong date of birth for a real email: nothing either.
    assert_eq!(
        request_recovery(app, JANE_EMAIL, "1985-04-13", None)
            .await
            .status(),
        202
    );
    wait_until_matched(app).await;
    assert!(app.mailbox(nobody).await.is_empty());
    assert!(app.mailbox(JANE_EMAIL).await.is_empty());
    let events = esr_persistence::audit::recent(&mut app.db(), None, 20).unwrap();
    let unmatched: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == "recovery_request.unmatched")
        .collect();
    assert_eq!(unmatched.len(), 2);
    for e in &unmatched {
        assert!(
            !e.details.contains("nowhere")
                && !e.details.contains("jane")
                && !e.details.contains("1985"),
            "{}",
            e.details
        );
        assert!(e.details.contains("email_digest"));
        // Keyed (HMAC): not the plain SHA-256 that anyone with a list of addresses could
        // recompute and compare.
        for email in [nobody, JANE_EMAIL] {
            let unkeyed = esr_domain::sha256_hex(email.as_bytes());
            assert!(!e.details.contains(&unkeyed), "{}", e.details);
        }
    }
    // The test servers run in dev mode without a signing key file: the development key.
    let key = esr_api::audit::DigestKey::from_secret(b"esr-access development");
    for email in [nobody, JANE_EMAIL] {
        let digest = key.digest(email);
        assert!(
            unmatched.iter().any(|e| e.details.contains(&digest)),
            "{email}: no audit row carries its keyed digest"
        );
    }
}

/// Only accounts that could log in from home get links: internet access approved, and not
/// suspended or disabled by an administrator. Anything else is treated as no match.
async fn accounts_that_cannot_log_in_from_home_get_no_links(app: &TestApp) {
    // Oliver's internet access is only pending: neither form sends him anything.
    let oliver = "oliver.brown@demo.example.org";
    assert_eq!(
        request_recovery(app, oliver, "1988-02-14", None)
            .await
            .status(),
        202
    );
    let res = request_unlock(app, oliver, "1988-02-14", "998OBROWN01").await;
    assert_eq!(res.status(), 202);

    // Jane's 999 account is suspended: only her 998 account is listed.
    app.db()
        .batch_execute("UPDATE accounts SET status = 'suspended' WHERE username = '999JSMITH01'")
        .unwrap();
    request_recovery(app, JANE_EMAIL, JANE_DOB, None).await;
    let email = app.wait_for_mail(JANE_EMAIL, 1).await.remove(0);
    let text = email["text"].as_str().unwrap();
    assert!(
        text.contains("998JSMITH01") && !text.contains("999JSMITH01"),
        "{text}"
    );
    // Once the other is disabled, nothing is left to send.
    app.db()
        .batch_execute("UPDATE accounts SET status = 'disabled' WHERE username = '998JSMITH01'")
        .unwrap();
    request_recovery(app, JANE_EMAIL, JANE_DOB, None).await;
    let res = request_unlock(app, JANE_EMAIL, JANE_DOB, JANE).await;
    assert_eq!(res.status(), 202);
    wait_until_matched(app).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app.mailbox(oliver).await.is_empty(), "nothing for Oliver");
    assert_eq!(
        app.mailbox(JANE_EMAIL).await.len(),
        1,
        "nothing more for Jane"
    );

    let events = esr_persistence::audit::recent(&mut app.db(), None, 50).unwrap();
    let count = |t: &str| events.iter().filter(|e| e.event_type == t).count();
    assert_eq!(count("recovery_request.unmatched"), 2, "Oliver, then Jane");
    assert_eq!(count("unlock_request.unmatched"), 2, "Oliver, then Jane");
    for e in events
        .iter()
        .filter(|e| e.event_type.ends_with(".unmatched"))
    {
        assert!(
            e.account_id.is_none() && !e.details.contains("oliver") && !e.details.contains("jane"),
            "{e:?}"
        );
    }
    let issued: Vec<_> = events
        .iter()
        .filter(|e| e.event_type.ends_with("_link.issued"))
        .collect();
    assert_eq!(issued.len(), 1, "one link, for 998JSMITH01: {issued:?}");
}

pub async fn wait_until_matched(app: &TestApp) {
    use diesel::{QueryDsl, RunQueryDsl};
    for _ in 0..100 {
        let left: i64 = esr_persistence::schema::recovery_requests::table
            .count()
            .get_result(&mut app.db())
            .unwrap();
        if left == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("requests were not matched within 10 s");
}

async fn bad_forms_are_problems(app: &TestApp) {
    let res = request_recovery(app, "not-an-email", "12/04/1985", Some("bad username!")).await;
    assert_eq!(res.status(), 400);
    let body = problem(res).await;
    assert_eq!(body["code"], "invalid-form");
    let fields: Vec<&str> = body["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["work_email", "date_of_birth", "username"]);
    let res = request_recovery(app, JANE_EMAIL, "2999-01-01", None).await;
    assert_eq!(
        problem(res).await["violations"][0]["field"],
        "date_of_birth"
    );
    let res = request_unlock(app, JANE_EMAIL, JANE_DOB, "").await;
    assert_eq!(
        problem(res).await["violations"][0]["code"],
        "username-required"
    );
    let res = app
        .post_json(
            "/v1/recovery-requests",
            &json!({"work_email": JANE_EMAIL}),
            None,
        )
        .await;
    assert_eq!(problem(res).await["code"], "invalid-request-body");
}

/// Status, headers (but date and request id) and body of a response.
async fn shape(res: reqwest::Response) -> (u16, BTreeMap<String, String>, Value) {
    let status = res.status().as_u16();
    let headers = res
        .headers()
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "date" | "x-request-id"))
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    (status, headers, res.json().await.unwrap())
}

/// The answer cannot reveal a match, and the handler does no matching work: with no worker
/// running, a matching request leaves only the queued row behind — no token, no email.
#[tokio::test]
async fn the_answer_is_identical_and_matching_happens_later() {
    for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
        let Some(app) = spawn_app_with(backend, |c| c.outbox.worker = false).await else {
            continue;
        };
        let matched = shape(request_recovery(&app, JANE_EMAIL, JANE_DOB, None).await).await;
        let unmatched =
            shape(request_recovery(&app, "no.one@nowhere.invalid", "1970-01-01", None).await).await;
        let wrong_dob =
            shape(request_recovery(&app, JANE_EMAIL, "1985-04-13", Some(JANE)).await).await;
        let unlock = shape(request_unlock(&app, JANE_EMAIL, JANE_DOB, JANE).await).await;
        assert_eq!(matched.0, 202);
        assert_eq!(matched, unmatched);
        assert_eq!(matched, wrong_dob);
        assert_eq!(matched, unlock);

        use diesel::{QueryDsl, RunQueryDsl};
        use esr_persistence::schema::{one_time_tokens, outbox, recovery_requests};
        let mut conn = app.db();
        assert_eq!(
            recovery_requests::table
                .count()
                .get_result::<i64>(&mut conn)
                .unwrap(),
            4
        );
        assert_eq!(
            one_time_tokens::table
                .count()
                .get_result::<i64>(&mut conn)
                .unwrap(),
            0
        );
        assert_eq!(
            outbox::table.count().get_result::<i64>(&mut conn).unwrap(),
            0
        );
        app.stop().await;
    }
}

crate::both_backends_owned!(
    host_header_cannot_poison_links,
    rate_limits_per_email_and_per_mailbox,
);

/// Links are built from configuration whatever Host or X-Forwarded-Host say.
async fn host_header_cannot_poison_links(backend: TestBackend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.web_base_url = url::Url::parse("https://my.esr.example/").unwrap();
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await
    else {
        return;
    };
    let res = app
        .client
        .post(format!("{}/v1/recovery-requests", app.address))
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .header("forwarded", "host=evil.example")
        .json(&json!({"work_email": JANE_EMAIL, "date_of_birth": JANE_DOB}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let email = app.wait_for_mail(JANE_EMAIL, 1).await.remove(0);
    let text = email["text"].as_str().unwrap();
    assert!(!text.contains("evil"), "{text}");
    assert!(
        text.contains("https://my.esr.example/reset-password#token="),
        "{text}"
    );
    app.stop().await;
}

async fn rate_limits_per_email_and_per_mailbox(backend: TestBackend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.rate_recovery_per_email = 3;
        c.emails_per_address_per_hour = 2;
    })
    .await
    else {
        return;
    };
    // A stranger who knows only the address spends an allowance of their own: the dates of
    // birth they make up are not Jane's.
    for _ in 0..4 {
        request_recovery(&app, JANE_EMAIL, "2001-02-03", None).await;
    }
    for _ in 0..3 {
        assert_eq!(
            request_recovery(&app, JANE_EMAIL, JANE_DOB, None)
                .await
                .status(),
            202
        );
    }
    let res = request_recovery(&app, "JANE.SMITH@demo.example.org", JANE_DOB, None).await;
    assert_eq!(
        res.status(),
        429,
        "per email and date of birth, whatever the case"
    );
    assert!(res.headers().contains_key("retry-after"));
    wait_until_matched(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        app.mailbox(JANE_EMAIL).await.len(),
        2,
        "at most 2 emails an hour to one mailbox"
    );
    let events = esr_persistence::audit::recent(&mut app.db(), None, 50).unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.event_type == "recovery_request.suppressed")
    );
    app.stop().await;
}

crate::both_backends_owned!(per_ip_limits_answer_429_and_change_nothing);

/// A token of `purpose` for `username`, issued straight into the database (as the worker would).
fn issue_token(app: &TestApp, username: &str, purpose: esr_domain::TokenPurpose) -> String {
    let mut conn = app.db();
    let account = esr_persistence::accounts::find_by_username(
        &mut conn,
        &esr_domain::Username::parse(username).unwrap(),
    )
    .unwrap()
    .unwrap();
    let (plain, hash) = esr_domain::OneTimeToken::generate(&mut rand::rng());
    let now = chrono::Utc::now();
    esr_persistence::one_time_tokens::issue(
        &mut conn,
        &hash,
        &account.id,
        purpose,
        now + chrono::Duration::hours(4),
        now,
    )
    .unwrap();
    plain.expose_secret().to_owned()
}

async fn assert_rate_limited(res: reqwest::Response, what: &str) {
    assert_eq!(res.status(), 429, "{what}");
    let retry_after: u64 = res
        .headers()
        .get("retry-after")
        .unwrap_or_else(|| panic!("Retry-After on {what}"))
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{what}: {retry_after}");
    assert_eq!(problem(res).await["code"], "too-many-requests", "{what}");
}

/// Requests (recovery and unlock together) and link use (validate, reset, unlock) are limited
/// per client IP, whatever email or token is sent: `429` with `Retry-After`, and nothing is
/// queued, consumed or changed.
async fn per_ip_limits_answer_429_and_change_nothing(backend: TestBackend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.rate_recovery_per_ip = 3;
        c.rate_recovery_per_email = 0;
        c.outbox.worker = false;
    })
    .await
    else {
        return;
    };
    use diesel::{QueryDsl, RunQueryDsl};
    use esr_persistence::schema::recovery_requests;
    let queued = |app: &TestApp| {
        recovery_requests::table
            .count()
            .get_result::<i64>(&mut app.db())
            .unwrap()
    };

    // Requests: three from this address, each for another email, then the fourth is refused,
    // whichever form it is.
    for i in 0..2 {
        let res = request_recovery(
            &app,
            &format!("someone.{i}@demo.example.org"),
            JANE_DOB,
            None,
        )
        .await;
        assert_eq!(res.status(), 202);
    }
    let unlock = |email: &'static str| {
        let body = json!({"work_email": email, "date_of_birth": JANE_DOB, "username": JANE});
        let app = &app;
        async move { app.post_json("/v1/unlock-requests", &body, None).await }
    };
    assert_eq!(unlock("someone.2@demo.example.org").await.status(), 202);
    assert_rate_limited(
        request_recovery(&app, JANE_EMAIL, JANE_DOB, None).await,
        "fourth recovery request",
    )
    .await;
    assert_rate_limited(unlock(JANE_EMAIL).await, "unlock request").await;
    assert_eq!(queued(&app), 3, "refused requests are not queued");

    // Links: Jane is locked out and holds a reset link and an unlock link.
    for _ in 0..5 {
        app.login(JANE, "a wrong password guess").await;
    }
    let reset_token = issue_token(&app, JANE, esr_domain::TokenPurpose::PasswordReset);
    let unlock_token = issue_token(&app, JANE, esr_domain::TokenPurpose::AccountUnlock);
    let account_before = esr_persistence::accounts::find_by_username(
        &mut app.db(),
        &esr_domain::Username::parse(JANE).unwrap(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(account_before.status, esr_domain::AccountStatus::Locked);
    let validate = || {
        let body = json!({"token": reset_token});
        let app = &app;
        async move {
            app.post_json("/v1/password-resets/validate", &body, None)
                .await
        }
    };
    for _ in 0..3 {
        assert_eq!(validate().await.status(), 200);
    }
    assert_rate_limited(validate().await, "validate").await;
    assert_rate_limited(
        reset(&app, &reset_token, JANE, "Wandering heron at dusk").await,
        "reset",
    )
    .await;
    assert_rate_limited(
        app.post_json("/v1/account-unlocks", &json!({"token": unlock_token}), None)
            .await,
        "account unlock",
    )
    .await;

    // Nothing changed: the account is as it was and both links are still unused.
    let mut conn = app.db();
    let account_after = esr_persistence::accounts::find(&mut conn, &account_before.id)
        .unwrap()
        .unwrap();
    assert_eq!(account_after.status, esr_domain::AccountStatus::Locked);
    assert_eq!(account_after.password_hash, account_before.password_hash);
    assert_eq!(
        account_after.failed_login_count,
        account_before.failed_login_count
    );
    for (token, purpose) in [
        (&reset_token, esr_domain::TokenPurpose::PasswordReset),
        (&unlock_token, esr_domain::TokenPurpose::AccountUnlock),
    ] {
        let stored =
            esr_persistence::one_time_tokens::find(&mut conn, &esr_domain::TokenDigest::of(token))
                .unwrap()
                .unwrap();
        assert!(
            stored
                .state
                .check_usable(purpose, chrono::Utc::now())
                .is_ok(),
            "{purpose} link untouched"
        );
        assert_eq!(stored.state.wrong_username_attempts, 0);
    }
    assert_eq!(queued(&app), 3);
    app.stop().await;
}
