//! Multi-factor sign-in through HTTP: enrolment and its proofs, the second step of a login,
//! replay and single use, the lockout shared with passwords, the `required` and `off`
//! policies, removal and an administrator's reset, and the person's list of sessions.

use chrono::Utc;
use esr_domain::Username;
use esr_persistence::accounts;
use serde_json::{Value, json};

use crate::admin::admin_key;
use crate::auth::{JANE, JANE_PASSWORD, jwt_part};
use crate::helpers::{TestApp, TestBackend, problem, spawn_app_with};
use crate::smartcard::smartcard_tokens;
use crate::{both_backends, both_backends_owned};

const JANE_EMAIL: &str = "jane.smith@demo.example.org";
const JANE_CARD: &str = "555000000001";

both_backends!(
    enrolment_needs_a_strong_proof_and_login_then_asks_for_a_code,
    recovery_codes_work_once_and_a_new_set_voids_the_old,
    an_expired_or_foreign_mfa_token_is_refused,
    required_policy_limits_a_factorless_session_to_enrolment,
    removing_a_factor_ends_the_other_sessions,
    a_reset_by_email_keeps_the_factors_and_voids_the_challenge,
    an_administrator_resets_factors,
    policy_off_asks_for_nothing_and_enrols_nothing,
    my_sessions_are_listed_and_ended,
    second_step_bad_input,
    a_password_alone_cannot_take_over_an_enrolment,
);
both_backends_owned!(
    wrong_codes_and_passwords_share_one_lockout_under_parallel_attack,
    enrolment_links_keep_to_their_own_limit
);

/// The authenticator app's code at `offset_steps` steps from now.
pub fn code(secret_base32: &str, offset_steps: i64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).unwrap();
    let totp = totp_rs::Builder::new()
        .with_secret(secret)
        .build_noncompliant();
    let at = Utc::now().timestamp() + offset_steps * 30;
    totp.generate(u64::try_from(at).unwrap()).to_string()
}

/// Waits until the current 30-second step has at least ten seconds left, so a test's codes
/// (each one step after the last) all stay within the server's one-step window.
pub async fn fresh_step() {
    let into_step = Utc::now().timestamp() % 30;
    if into_step >= 20 {
        tokio::time::sleep(std::time::Duration::from_secs(
            u64::try_from(31 - into_step).unwrap(),
        ))
        .await;
    }
}

fn bearer(tokens: &Value) -> String {
    tokens["access_token"].as_str().unwrap().to_owned()
}

async fn json_of(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let body = res.text().await.unwrap();
    assert_eq!(got, status, "{body}");
    if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body).unwrap()
    }
}

async fn delete(app: &TestApp, path: &str, bearer: &str) -> reqwest::Response {
    app.client
        .delete(format!("{}{path}", app.address))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
}

async fn patch_org(app: &TestApp, body: Value) {
    let key = admin_key(
        app,
        &format!("policy-{}", rand::random::<u32>()),
        "all",
        "write",
    );
    let res = app
        .client
        .patch(format!("{}/v1/admin/organisations/999", app.address))
        .bearer_auth(&key)
        .json(&body)
        .send()
        .await
        .unwrap();
    json_of(res, 200).await;
}

/// An authenticator app enrolled and confirmed with `bearer` (a session strong enough to
/// enrol); returns its id, base32 secret and the recovery codes. The confirming code is the
/// current step's.
pub async fn enrol_with(app: &TestApp, bearer: &str) -> (String, String, Vec<String>) {
    fresh_step().await;
    let pending = json_of(
        app.post_json(
            "/v1/me/factors/totp",
            &json!({"name": "Work phone"}),
            Some(bearer),
        )
        .await,
        201,
    )
    .await;
    let secret = pending["secret"].as_str().unwrap().to_owned();
    let id = pending["id"].as_str().unwrap().to_owned();
    let confirmed = json_of(
        app.post_json(
            &format!("/v1/me/factors/totp/{id}/confirm"),
            &json!({"code": code(&secret, 0)}),
            Some(bearer),
        )
        .await,
        200,
    )
    .await;
    let codes = confirmed["recovery_codes"]
        .as_array()
        .map(|codes| {
            codes
                .iter()
                .map(|c| c.as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    (id, secret, codes)
}

/// An authenticator app enrolled for Jane with her workplace session; returns its base32
/// secret and the recovery codes.
pub async fn enrol_at_work(app: &TestApp) -> (String, Vec<String>) {
    let workplace = bearer(&smartcard_tokens(app, JANE_CARD).await);
    let (_, secret, codes) = enrol_with(app, &workplace).await;
    (secret, codes)
}

/// Logs Jane in up to the second step; returns the challenge.
async fn challenge(app: &TestApp) -> Value {
    let body = json_of(app.login(JANE, JANE_PASSWORD).await, 200).await;
    assert_eq!(body["mfa_required"], true, "{body}");
    body
}

async fn second_step(app: &TestApp, mfa_token: &str, answer: Value) -> reqwest::Response {
    let mut body = answer;
    body["mfa_token"] = json!(mfa_token);
    app.post_json("/v1/auth/login/mfa", &body, None).await
}

fn token_in(mail: &Value, marker: &str) -> String {
    let text = mail["text"].as_str().unwrap();
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {text}"))
        + marker.len();
    text[start..].split_whitespace().next().unwrap().to_owned()
}

/// The newest message to Jane whose text holds `marker` (waiting up to 10 s for it).
async fn mail_with(app: &TestApp, marker: &str) -> Value {
    for _ in 0..100 {
        if let Some(m) = app
            .mailbox(JANE_EMAIL)
            .await
            .into_iter()
            .find(|m| m["text"].as_str().unwrap_or_default().contains(marker))
        {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no message to {JANE_EMAIL} with {marker}");
}

async fn enrolment_mail(app: &TestApp) -> Value {
    mail_with(app, "/add-sign-in-method#token=").await
}

async fn enrolment_needs_a_strong_proof_and_login_then_asks_for_a_code(app: &TestApp) {
    fresh_step().await;
    let password_session = bearer(&app.tokens(JANE, JANE_PASSWORD).await);
    let start = |body: Value| {
        let session = password_session.clone();
        async move {
            app.post_json("/v1/me/factors/totp", &body, Some(&session))
                .await
        }
    };

    // The password alone adds nothing, and a made-up link token is refused.
    let res = start(json!({})).await;
    assert_eq!(res.status(), 403);
    assert_eq!(problem(res).await["code"], "enrolment-proof-required");
    let res = start(json!({"enrolment_token": "not-a-real-token"})).await;
    assert_eq!(res.status(), 403);
    assert_eq!(problem(res).await["code"], "invalid-enrolment-token");

    // The emailed link is the proof, once.
    json_of(
        app.post_json(
            "/v1/me/factors/enrolment-link",
            &json!({}),
            Some(&password_session),
        )
        .await,
        202,
    )
    .await;
    let mail = enrolment_mail(app).await;
    let token = token_in(&mail, "/add-sign-in-method#token=");
    let pending = json_of(
        start(json!({"name": "Work phone", "enrolment_token": token})).await,
        201,
    )
    .await;
    let res = start(json!({"enrolment_token": token})).await;
    assert_eq!(
        problem(res).await["code"],
        "invalid-enrolment-token",
        "the link works once"
    );

    let secret = pending["secret"].as_str().unwrap().to_owned();
    assert!(
        pending["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/ESR:999JSMITH01?")
    );
    assert!(pending["qr_svg"].as_str().unwrap().contains("<svg"));
    let id = pending["id"].as_str().unwrap();
    let confirm_path = format!("/v1/me/factors/totp/{id}/confirm");

    // Pending: login does not ask for it yet; a wrong code does not confirm it.
    let res = app
        .post_json(
            &confirm_path,
            &json!({"code": "000000"}),
            Some(&password_session),
        )
        .await;
    if res.status() != 400 {
        panic!("a wrong code: {}", res.text().await.unwrap());
    }
    assert!(
        app.login(JANE, JANE_PASSWORD)
            .await
            .json::<Value>()
            .await
            .unwrap()["access_token"]
            .is_string()
    );
    // The confirming code is kept: sent again later, it must be refused whatever the clock.
    let confirming_code = code(&secret, 0);
    let confirmed = json_of(
        app.post_json(
            &confirm_path,
            &json!({"code": confirming_code}),
            Some(&password_session),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(confirmed["factor"]["confirmed"], true);
    assert_eq!(confirmed["recovery_codes"].as_array().unwrap().len(), 10);
    let res = app
        .post_json(
            &confirm_path,
            &json!({"code": code(&secret, 1)}),
            Some(&password_session),
        )
        .await;
    assert_eq!(problem(res).await["code"], "factor-already-confirmed");

    // The secret is never shown again, and is stored only sealed.
    let listed = app
        .get_auth("/v1/me/factors", &password_session)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !listed.contains(&secret) && listed.contains("Work phone"),
        "{listed}"
    );
    let sealed: Vec<Option<String>> = {
        use diesel::{QueryDsl, RunQueryDsl};
        use esr_persistence::schema::second_factors::dsl;
        dsl::second_factors
            .select(dsl::sealed_secret)
            .load(&mut app.db())
            .unwrap()
    };
    assert!(sealed.iter().flatten().all(|s| !s.contains(&secret)));

    // Login now stops at the second step.
    let challenge = challenge(app).await;
    assert!(challenge.get("access_token").is_none());
    assert_eq!(challenge["methods"], json!(["totp", "recovery_code"]));
    assert_eq!(challenge["expires_in"], 300);
    let mfa_token = challenge["mfa_token"].as_str().unwrap();

    // The step that confirmed the app is spent: its code is refused.
    let res = second_step(app, mfa_token, json!({"totp_code": confirming_code})).await;
    assert_eq!(res.status(), 401);
    assert_eq!(problem(res).await["code"], "invalid-second-factor");
    let tokens = json_of(
        second_step(app, mfa_token, json!({"totp_code": code(&secret, 1)})).await,
        200,
    )
    .await;
    assert_eq!(
        jwt_part(tokens["access_token"].as_str().unwrap(), 1)["amr"],
        json!(["pwd", "otp"])
    );
    let me = json_of(app.get_auth("/v1/me", &bearer(&tokens)).await, 200).await;
    assert_eq!(me["session"]["amr"], json!(["pwd", "otp"]));
    assert_eq!(me["mfa_policy"], "optional");
    assert_eq!(
        jane(app).failed_login_count,
        0,
        "a completed login clears the wrong code"
    );

    // The mfa_token is single use.
    let res = second_step(app, mfa_token, json!({"totp_code": code(&secret, 1)})).await;
    assert_eq!(problem(res).await["code"], "invalid-mfa-token");
    let subjects: Vec<String> = app
        .wait_for_mail(JANE_EMAIL, 2)
        .await
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        subjects.contains(&"A sign-in method was added to your ESR account".to_owned()),
        "{subjects:?}"
    );
}

fn jane(app: &TestApp) -> accounts::Account {
    accounts::find_by_username(&mut app.db(), &Username::parse(JANE).unwrap())
        .unwrap()
        .unwrap()
}

async fn recovery_codes_work_once_and_a_new_set_voids_the_old(app: &TestApp) {
    let (_, codes) = enrol_at_work(app).await;
    let typed = codes[0].to_lowercase().replace('-', " ");
    let tokens = json_of(
        second_step(
            app,
            challenge(app).await["mfa_token"].as_str().unwrap(),
            json!({"recovery_code": typed}),
        )
        .await,
        200,
    )
    .await;
    let session = bearer(&tokens);
    let res = second_step(
        app,
        challenge(app).await["mfa_token"].as_str().unwrap(),
        json!({"recovery_code": codes[0]}),
    )
    .await;
    assert_eq!(
        problem(res).await["code"],
        "invalid-second-factor",
        "a code works once"
    );
    let listed = json_of(app.get_auth("/v1/me/factors", &session).await, 200).await;
    assert_eq!(listed["recovery_codes_remaining"], 9);

    let fresh = json_of(
        app.post_json("/v1/me/factors/recovery-codes", &json!({}), Some(&session))
            .await,
        201,
    )
    .await;
    let fresh = fresh["recovery_codes"].as_array().unwrap();
    assert_eq!(fresh.len(), 10);
    let res = second_step(
        app,
        challenge(app).await["mfa_token"].as_str().unwrap(),
        json!({"recovery_code": codes[1]}),
    )
    .await;
    assert_eq!(
        problem(res).await["code"],
        "invalid-second-factor",
        "the old set is void"
    );
    json_of(
        second_step(
            app,
            challenge(app).await["mfa_token"].as_str().unwrap(),
            json!({"recovery_code": fresh[0]}),
        )
        .await,
        200,
    )
    .await;
    // The holder hears of each code used and of the new set.
    mail_with(app, "One of your recovery codes was used").await;
    mail_with(app, "New recovery codes were made").await;
}

async fn an_expired_or_foreign_mfa_token_is_refused(app: &TestApp) {
    let (secret, _) = enrol_at_work(app).await;
    let mfa_token = challenge(app).await["mfa_token"]
        .as_str()
        .unwrap()
        .to_owned();
    {
        use diesel::{ExpressionMethods, RunQueryDsl};
        use esr_persistence::schema::mfa_tokens::dsl;
        diesel::update(dsl::mfa_tokens)
            .set(dsl::expires_at.eq((Utc::now() - chrono::Duration::seconds(1)).naive_utc()))
            .execute(&mut app.db())
            .unwrap();
    }
    let res = second_step(app, &mfa_token, json!({"totp_code": code(&secret, 1)})).await;
    assert_eq!(
        problem(res).await["code"],
        "invalid-mfa-token",
        "five minutes only"
    );

    // A later login with the password does not cancel a code step in progress: each
    // challenge stands on its own, and each is spent by its own login.
    // One code for both: the second try must meet a step already accepted, whatever the clock.
    let next = code(&secret, 1);
    let first = challenge(app).await["mfa_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = challenge(app).await["mfa_token"]
        .as_str()
        .unwrap()
        .to_owned();
    json_of(
        second_step(app, &first, json!({"totp_code": next.as_str()})).await,
        200,
    )
    .await;
    let res = second_step(app, &first, json!({"totp_code": next.as_str()})).await;
    assert_eq!(problem(res).await["code"], "invalid-mfa-token", "spent");
    let res = second_step(app, &second, json!({"totp_code": next.as_str()})).await;
    assert_eq!(
        problem(res).await["code"],
        "invalid-second-factor",
        "the step is spent too"
    );
}

async fn wrong_codes_and_passwords_share_one_lockout_under_parallel_attack(backend: TestBackend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.hash_queue = 64;
        c.rate_login_per_ip = 0;
        c.rate_login_per_username = 0;
    })
    .await
    else {
        return;
    };
    let (secret, _) = enrol_at_work(&app).await;
    for _ in 0..2 {
        assert_eq!(app.login(JANE, "a wrong password").await.status(), 401);
    }
    // The right password between wrong guesses does not clear them.
    let mfa_token = challenge(&app).await["mfa_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(jane(&app).failed_login_count, 2);
    let attempts = (0..20).map(|i| {
        let app = &app;
        let mfa_token = mfa_token.clone();
        async move {
            second_step(
                app,
                &mfa_token,
                json!({"totp_code": format!("{:06}", 100_000 + i)}),
            )
            .await
            .status()
            .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");
    let account = jane(&app);
    assert_eq!(account.failed_login_count, 5, "never past the threshold");
    assert_eq!(account.status, esr_domain::AccountStatus::Locked);
    let events = esr_persistence::audit::recent(&mut app.db(), Some(&account.id), 200).unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type == "account.locked")
            .count(),
        1
    );

    // The lock voids the challenge: the right code no longer finishes the login.
    let res = second_step(&app, &mfa_token, json!({"totp_code": code(&secret, 1)})).await;
    assert_eq!(problem(res).await["code"], "invalid-mfa-token");
    app.stop().await;
}

async fn required_policy_limits_a_factorless_session_to_enrolment(app: &TestApp) {
    fresh_step().await;
    patch_org(app, json!({"mfa_policy": "required"})).await;
    let tokens = json_of(app.login(JANE, JANE_PASSWORD).await, 200).await;
    let limited = bearer(&tokens);
    let other_limited = bearer(&json_of(app.login(JANE, JANE_PASSWORD).await, 200).await);
    let me = json_of(app.get_auth("/v1/me", &limited).await, 200).await;
    assert_eq!(me["mfa_policy"], "required");
    assert_eq!(me["session"]["enrolment_only"], true);
    let res = app.get_auth("/v1/me/internet-access", &limited).await;
    assert_eq!(res.status(), 403);
    assert_eq!(problem(res).await["code"], "mfa-enrolment-required");
    let res = app
        .post_json(
            "/v1/me/password",
            &json!({"current_password": JANE_PASSWORD, "new_password": "Another long passphrase 9", "confirm_password": "Another long passphrase 9"}),
            Some(&limited),
        )
        .await;
    assert_eq!(problem(res).await["code"], "mfa-enrolment-required");
    let res = app.get_auth("/v1/me/sessions", &limited).await;
    assert_eq!(
        problem(res).await["code"],
        "mfa-enrolment-required",
        "not even the sessions"
    );

    // Enrol with the emailed link; the session that confirms is then a full one.
    json_of(
        app.post_json("/v1/me/factors/enrolment-link", &json!({}), Some(&limited))
            .await,
        202,
    )
    .await;
    let token = token_in(&enrolment_mail(app).await, "/add-sign-in-method#token=");
    let pending = json_of(
        app.post_json(
            "/v1/me/factors/totp",
            &json!({"enrolment_token": token}),
            Some(&limited),
        )
        .await,
        201,
    )
    .await;
    let secret = pending["secret"].as_str().unwrap();
    let id = pending["id"].as_str().unwrap();
    json_of(
        app.post_json(
            &format!("/v1/me/factors/totp/{id}/confirm"),
            &json!({"code": code(secret, 0)}),
            Some(&limited),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        app.get_auth("/v1/me/internet-access", &limited)
            .await
            .status(),
        200
    );
    // The other session the password alone opened ends with the first factor.
    let res = app.get_auth("/v1/me", &other_limited).await;
    assert_eq!(
        problem(res).await["session_ended"],
        "second_factor_required"
    );

    // The last factor cannot go while the policy requires one.
    let res = delete(app, &format!("/v1/me/factors/{id}"), &limited).await;
    assert_eq!(res.status(), 409);
    assert_eq!(problem(res).await["code"], "last-factor-required");
    patch_org(app, json!({"mfa_policy": "optional"})).await;
}

async fn removing_a_factor_ends_the_other_sessions(app: &TestApp) {
    let (secret, _) = enrol_at_work(app).await;
    let one = json_of(
        second_step(
            app,
            challenge(app).await["mfa_token"].as_str().unwrap(),
            json!({"totp_code": code(&secret, 1)}),
        )
        .await,
        200,
    )
    .await;
    let factors = json_of(app.get_auth("/v1/me/factors", &bearer(&one)).await, 200).await;
    let id = factors["factors"][0]["id"].as_str().unwrap().to_owned();
    let other = json_of(app.get_auth("/v1/me/sessions", &bearer(&one)).await, 200).await;
    assert!(other["items"].as_array().unwrap().len() >= 2, "{other}");

    assert_eq!(
        delete(app, &format!("/v1/me/factors/{id}"), &bearer(&one))
            .await
            .status(),
        204
    );
    let sessions = json_of(app.get_auth("/v1/me/sessions", &bearer(&one)).await, 200).await;
    assert_eq!(
        sessions["items"].as_array().unwrap().len(),
        1,
        "only this one is left: {sessions}"
    );
    assert_eq!(sessions["items"][0]["current"], true);
    let listed = json_of(app.get_auth("/v1/me/factors", &bearer(&one)).await, 200).await;
    assert_eq!(listed["factors"], json!([]));
    assert_eq!(
        listed["recovery_codes_remaining"], 0,
        "the codes go with the last factor"
    );
    // With no factor left, a password opens a session again (the policy is optional).
    assert!(json_of(app.login(JANE, JANE_PASSWORD).await, 200).await["access_token"].is_string());
    let subjects: Vec<String> = app
        .wait_for_mail(JANE_EMAIL, 2)
        .await
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        subjects.contains(&"A sign-in method was removed from your ESR account".to_owned()),
        "{subjects:?}"
    );
}

async fn a_reset_by_email_keeps_the_factors_and_voids_the_challenge(app: &TestApp) {
    let (secret, _) = enrol_at_work(app).await;
    let before = challenge(app).await["mfa_token"]
        .as_str()
        .unwrap()
        .to_owned();
    crate::recovery::request_recovery(app, JANE_EMAIL, "1985-04-12", Some(JANE)).await;
    let mail = mail_with(app, "/reset-password#token=").await;
    let token = crate::recovery::token_for(&mail, "reset", JANE);
    let new_password = "Lantern harbour bluebell 7";
    json_of(
        app.post_json(
            "/v1/password-resets",
            &json!({"token": token, "username": JANE, "new_password": new_password, "confirm_password": new_password}),
            None,
        )
        .await,
        204,
    )
    .await;
    let res = second_step(app, &before, json!({"totp_code": code(&secret, 1)})).await;
    assert_eq!(
        problem(res).await["code"],
        "invalid-mfa-token",
        "the reset voids the challenge"
    );
    let after = json_of(app.login(JANE, new_password).await, 200).await;
    assert_eq!(after["mfa_required"], true, "the factors stay: {after}");
}

async fn an_administrator_resets_factors(app: &TestApp) {
    let (secret, _) = enrol_at_work(app).await;
    let signed_in = json_of(
        second_step(
            app,
            challenge(app).await["mfa_token"].as_str().unwrap(),
            json!({"totp_code": code(&secret, 1)}),
        )
        .await,
        200,
    )
    .await;
    let key = admin_key(app, "helpdesk", "999", "write");
    let account = json_of(
        app.get_auth(&format!("/v1/admin/accounts/{JANE}"), &key)
            .await,
        200,
    )
    .await;
    assert_eq!(account["factors"][0]["kind"], "totp");
    assert_eq!(account["factors"][0]["name"], "Work phone");
    assert!(!account.to_string().contains(&secret));
    let reset = json_of(
        app.post_json(
            &format!("/v1/admin/accounts/{JANE}/factors/reset"),
            &json!({}),
            Some(&key),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(reset["factors"], json!([]));
    assert_eq!(
        app.get_auth("/v1/me", &bearer(&signed_in)).await.status(),
        401,
        "sessions end"
    );
    assert!(json_of(app.login(JANE, JANE_PASSWORD).await, 200).await["access_token"].is_string());
    let read_only = admin_key(app, "auditor", "999", "read");
    let res = app
        .post_json(
            &format!("/v1/admin/accounts/{JANE}/factors/reset"),
            &json!({}),
            Some(&read_only),
        )
        .await;
    assert_eq!(res.status(), 403);
    let other_org = admin_key(app, "other", "998", "write");
    let res = app
        .post_json(
            &format!("/v1/admin/accounts/{JANE}/factors/reset"),
            &json!({}),
            Some(&other_org),
        )
        .await;
    assert_eq!(res.status(), 404);
    let events = esr_persistence::audit::recent(&mut app.db(), Some(&jane(app).id), 100).unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type == "admin.account.factors_reset")
            .count(),
        1
    );
}

async fn policy_off_asks_for_nothing_and_enrols_nothing(app: &TestApp) {
    enrol_at_work(app).await;
    patch_org(app, json!({"mfa_policy": "off"})).await;
    let tokens = json_of(app.login(JANE, JANE_PASSWORD).await, 200).await;
    assert!(tokens["access_token"].is_string(), "{tokens}");
    let workplace = bearer(&smartcard_tokens(app, JANE_CARD).await);
    let res = app
        .post_json("/v1/me/factors/totp", &json!({}), Some(&workplace))
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(problem(res).await["code"], "mfa-off");
    patch_org(app, json!({"mfa_policy": "optional"})).await;
    assert_eq!(
        json_of(app.login(JANE, JANE_PASSWORD).await, 200).await["mfa_required"],
        true
    );
}

async fn my_sessions_are_listed_and_ended(app: &TestApp) {
    let phone = bearer(&app.tokens(JANE, JANE_PASSWORD).await);
    let laptop = bearer(&app.tokens(JANE, JANE_PASSWORD).await);
    let listed = json_of(app.get_auth("/v1/me/sessions", &phone).await, 200).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items.iter().filter(|s| s["current"] == true).count(), 1);
    let laptop_sid = jwt_part(&laptop, 1)["sid"].as_str().unwrap().to_owned();
    assert!(items.iter().any(|s| s["id"] == laptop_sid.as_str()));
    assert_eq!(items[0]["amr"], json!(["pwd"]));

    assert_eq!(
        delete(app, &format!("/v1/me/sessions/{laptop_sid}"), &phone)
            .await
            .status(),
        204
    );
    assert_eq!(app.get_auth("/v1/me", &laptop).await.status(), 401);
    let res = delete(app, &format!("/v1/me/sessions/{laptop_sid}"), &phone).await;
    assert_eq!(problem(res).await["code"], "session-not-found");
    // Another person's session is not found either.
    let priya = bearer(&app.tokens("999APATEL01", "Copper kettle meadow 42").await);
    let priya_sid = jwt_part(&priya, 1)["sid"].as_str().unwrap().to_owned();
    let res = delete(app, &format!("/v1/me/sessions/{priya_sid}"), &phone).await;
    assert_eq!(res.status(), 404);
    assert_eq!(app.get_auth("/v1/me", &priya).await.status(), 200);
}

async fn second_step_bad_input(app: &TestApp) {
    let (secret, _) = enrol_at_work(app).await;
    let mfa_token = challenge(app).await["mfa_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for body in [
        json!({}),
        json!({"totp_code": "123456", "recovery_code": "AAAA-BBBB-CCCC"}),
        json!({"totp_code": "12345"}),
        json!({"recovery_code": "not a code"}),
    ] {
        let res = second_step(app, &mfa_token, body.clone()).await;
        assert_eq!(res.status(), 400, "{body}");
        assert_eq!(problem(res).await["code"], "invalid-request-body");
    }
    let res = second_step(app, "unknown-token", json!({"totp_code": code(&secret, 1)})).await;
    assert_eq!(problem(res).await["code"], "invalid-mfa-token");
    assert_eq!(
        jane(app).failed_login_count,
        0,
        "refused input counts nothing"
    );
    json_of(
        second_step(app, &mfa_token, json!({"totp_code": code(&secret, 1)})).await,
        200,
    )
    .await;
}

async fn enrolment_links_keep_to_their_own_limit(backend: TestBackend) {
    let Some(app) = spawn_app_with(backend, |c| c.emails_per_address_per_hour = 3).await else {
        return;
    };
    let session = bearer(&app.tokens(JANE, JANE_PASSWORD).await);
    let empty = json!({});
    let ask = || app.post_json("/v1/me/factors/enrolment-link", &empty, Some(&session));
    for _ in 0..3 {
        assert_eq!(ask().await.status(), 202);
    }
    let res = ask().await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(problem(res).await["code"], "too-many-emails");
    // Nor do notices of changes made with the password: they do not use up the mailbox's
    // share, and the holder's own recovery email still goes.
    let mut current = JANE_PASSWORD.to_owned();
    for next in [
        "Amber lantern meadow 1",
        "Amber lantern meadow 2",
        "Amber lantern meadow 3",
    ] {
        let res = app
            .post_json(
                "/v1/me/password",
                &json!({"current_password": current, "new_password": next, "confirm_password": next}),
                Some(&session),
            )
            .await;
        assert_eq!(res.status(), 200);
        current = next.to_owned();
    }
    crate::recovery::request_recovery(&app, JANE_EMAIL, "1985-04-12", Some(JANE)).await;
    mail_with(&app, "/reset-password#token=").await;
    app.stop().await;
}

/// What the outside review broke: another password session finishing a pending enrolment,
/// an emailed link adding a factor beside an existing one, password-only sessions outliving
/// the first factor or a change of policy, and a pending factor removed by someone else.
async fn a_password_alone_cannot_take_over_an_enrolment(app: &TestApp) {
    fresh_step().await;
    // The victim starts an authenticator app at work; whoever has only the password has a
    // session too.
    let workplace = bearer(&smartcard_tokens(app, JANE_CARD).await);
    let intruder = bearer(&app.tokens(JANE, JANE_PASSWORD).await);
    let pending = json_of(
        app.post_json("/v1/me/factors/totp", &json!({}), Some(&workplace))
            .await,
        201,
    )
    .await;
    let id = pending["id"].as_str().unwrap();
    let secret = pending["secret"].as_str().unwrap();
    let confirm = format!("/v1/me/factors/totp/{id}/confirm");
    // Not even the right code lets another session confirm it, nor remove it.
    let res = app
        .post_json(&confirm, &json!({"code": code(secret, 0)}), Some(&intruder))
        .await;
    assert_eq!(problem(res).await["code"], "factor-not-found");
    let res = delete(app, &format!("/v1/me/factors/{id}"), &intruder).await;
    assert_eq!(problem(res).await["code"], "enrolment-proof-required");
    // Five wrong codes end the pending app, even for the session that started it.
    for _ in 0..5 {
        let res = app
            .post_json(&confirm, &json!({"code": "000000"}), Some(&workplace))
            .await;
        assert_eq!(problem(res).await["code"], "invalid-second-factor");
    }
    let res = app
        .post_json(
            &confirm,
            &json!({"code": code(secret, 0)}),
            Some(&workplace),
        )
        .await;
    assert_eq!(
        problem(res).await["code"],
        "factor-not-found",
        "ended by five wrong codes"
    );
    let events = esr_persistence::audit::recent(&mut app.db(), Some(&jane(app).id), 100).unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type == "mfa.factor_confirmation_failed")
            .count(),
        5
    );

    // The first factor ends every session opened with the password alone.
    let (_, secret, _) = enrol_with(app, &workplace).await;
    assert_eq!(app.get_auth("/v1/me", &intruder).await.status(), 401);
    // An emailed link adds only the first factor.
    let res = app
        .post_json(
            "/v1/me/factors/enrolment-link",
            &json!({}),
            Some(&workplace),
        )
        .await;
    assert_eq!(problem(res).await["code"], "enrolment-proof-required");

    // A change of policy ends the organisation's password-only sessions.
    let key = admin_key(app, "policy", "all", "write");
    let priya = bearer(&app.tokens("999APATEL01", "Copper kettle meadow 42").await);
    let res = app
        .client
        .patch(format!("{}/v1/admin/organisations/999", app.address))
        .bearer_auth(&key)
        .json(&json!({"mfa_policy": "required"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.get_auth("/v1/me", &priya).await.status(),
        401,
        "password-only, ended"
    );
    let limited = json_of(
        app.login("999APATEL01", "Copper kettle meadow 42").await,
        200,
    )
    .await;
    let me = json_of(app.get_auth("/v1/me", &bearer(&limited)).await, 200).await;
    assert_eq!(me["session"]["enrolment_only"], true);
    let lasts = chrono::DateTime::parse_from_rfc3339(me["session"]["expires_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
        - Utc::now();
    assert!(
        lasts <= chrono::Duration::hours(1),
        "an enrolment-only session is short: {lasts}"
    );
    // Jane's session with a factor is untouched.
    let signed_in = json_of(
        second_step(
            app,
            challenge(app).await["mfa_token"].as_str().unwrap(),
            json!({"totp_code": code(&secret, 1)}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        app.get_auth("/v1/me/internet-access", &bearer(&signed_in))
            .await
            .status(),
        200
    );
    patch_org(app, json!({"mfa_policy": "optional"})).await;
}
