//! `GET /v1/me` and `POST /v1/me/password`.

use serde_json::{Value, json};

use crate::auth::{JANE, JANE_PASSWORD};
use crate::both_backends;
use crate::helpers::{TestApp, problem};

both_backends!(
    password_change_applies_the_whole_policy_and_ends_other_sessions,
    the_last_four_passwords_cannot_be_reused,
    wrong_current_password_counts_towards_the_lockout,
);

async fn change(
    app: &TestApp,
    token: &str,
    current: &str,
    new: &str,
    confirm: &str,
) -> reqwest::Response {
    app.post_json(
        "/v1/me/password",
        &json!({"current_password": current, "new_password": new, "confirm_password": confirm}),
        Some(token),
    )
    .await
}

/// The violation codes of a problem.
pub fn codes(body: &Value) -> Vec<String> {
    body["violations"]
        .as_array()
        .map(|v| {
            v.iter()
                .map(|v| v["code"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn password_change_applies_the_whole_policy_and_ends_other_sessions(app: &TestApp) {
    let mine = app.tokens(JANE, JANE_PASSWORD).await;
    let phone = app.tokens(JANE, JANE_PASSWORD).await;
    let token = mine["access_token"].as_str().unwrap();

    let res = change(app, token, JANE_PASSWORD, "password1", "password2").await;
    assert_eq!(res.status(), 400);
    let body = problem(res).await;
    assert_eq!(body["code"], "password-policy");
    let found = codes(&body);
    for code in [
        "password-too-short",
        "password-common",
        "password-confirmation-mismatch",
    ] {
        assert!(found.iter().any(|c| c == code), "{code} in {found:?}");
    }

    let res = change(
        app,
        token,
        JANE_PASSWORD,
        "Smith and Jones forever",
        "Smith and Jones forever",
    )
    .await;
    let body = problem(res).await;
    assert!(
        codes(&body).contains(&"password-contains-context".to_owned()),
        "{body}"
    );
    let res = change(
        app,
        token,
        JANE_PASSWORD,
        "jane.smith@demo.example.org!",
        "jane.smith@demo.example.org!",
    )
    .await;
    assert!(codes(&problem(res).await).contains(&"password-contains-context".to_owned()));

    let new = "Wandering heron at dusk";
    let res = change(app, token, JANE_PASSWORD, new, new).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["other_sessions_ended"], 1);

    assert_eq!(
        app.get_auth("/v1/me", token).await.status(),
        200,
        "this session continues"
    );
    assert_eq!(
        app.get_auth("/v1/me", phone["access_token"].as_str().unwrap())
            .await
            .status(),
        401
    );
    let res = app
        .post_json(
            "/v1/auth/refresh",
            &json!({"refresh_token": phone["refresh_token"]}),
            None,
        )
        .await;
    assert_eq!(
        res.status(),
        401,
        "the other session's refresh token is spent too"
    );
    assert_eq!(app.login(JANE, JANE_PASSWORD).await.status(), 401);
    assert_eq!(app.login(JANE, new).await.status(), 200);

    let me: Value = app.get_auth("/v1/me", token).await.json().await.unwrap();
    assert!(me["password_changed_at"].is_string());
    let events = esr_persistence::audit::recent(&mut app.db(), None, 20).unwrap();
    let changed = events
        .iter()
        .find(|e| e.event_type == "password.changed")
        .expect("audited");
    assert!(!changed.details.contains(new) && !changed.details.contains("argon2"));
}

async fn the_last_four_passwords_cannot_be_reused(app: &TestApp) {
    let token = app.tokens(JANE, JANE_PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let sequence = [
        "Quiet lantern harbour one",
        "Velvet orchard morning two",
        "Granite meadow whistle six",
    ];
    let mut current = JANE_PASSWORD.to_owned();
    for next in sequence {
        let res = change(app, &token, &current, next, next).await;
        assert_eq!(res.status(), 200, "{next}");
        current = next.to_owned();
    }
    // History now: current + the three before it (the original included): all refused.
    for reused in [JANE_PASSWORD, sequence[0], sequence[2]] {
        let res = change(app, &token, &current, reused, reused).await;
        assert_eq!(res.status(), 400, "{reused}");
        let body = problem(res).await;
        assert_eq!(codes(&body), ["password-reused"], "{reused}");
        assert!(
            body["violations"][0]["message"]
                .as_str()
                .unwrap()
                .contains("previous 4 passwords")
        );
    }
    // A fifth change pushes the original out of the last four.
    let res = change(
        app,
        &token,
        &current,
        "Amber river crossing ten",
        "Amber river crossing ten",
    )
    .await;
    assert_eq!(res.status(), 200);
    let res = change(
        app,
        &token,
        "Amber river crossing ten",
        JANE_PASSWORD,
        JANE_PASSWORD,
    )
    .await;
    assert_eq!(res.status(), 200, "five passwords ago is allowed again");
}

async fn wrong_current_password_counts_towards_the_lockout(app: &TestApp) {
    let token = app.tokens(JANE, JANE_PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for n in 1..=5 {
        let res = change(
            app,
            &token,
            "not the current one",
            "Wandering heron at dusk",
            "Wandering heron at dusk",
        )
        .await;
        if n < 5 {
            assert_eq!(res.status(), 400);
            assert_eq!(problem(res).await["code"], "current-password-incorrect");
        } else {
            // The fifth locks the account and ends its sessions, this one included.
            assert!(matches!(res.status().as_u16(), 400 | 401));
        }
    }
    assert_eq!(app.get_auth("/v1/me", &token).await.status(), 401);
    assert_eq!(app.login(JANE, JANE_PASSWORD).await.status(), 401, "locked");
}

crate::both_backends!(every_timestamp_has_one_precision);

/// Every timestamp string in a JSON value.
fn timestamps(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s)
            if s.len() >= 20 && s.as_bytes()[4] == b'-' && s.as_bytes()[10] == b'T' =>
        {
            out.push(s.clone());
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| timestamps(v, out)),
        serde_json::Value::Object(fields) => fields.values().for_each(|v| timestamps(v, out)),
        _ => {}
    }
}

/// Timestamps are RFC 3339 in UTC with exactly six fractional digits everywhere, whatever
/// precision a value was stored with (Swift's ISO 8601 decoder takes one format at a time).
async fn every_timestamp_has_one_precision(app: &crate::helpers::TestApp) {
    let tokens: serde_json::Value = app
        .login("999JSMITH01", "Bluebell harbour lantern")
        .await
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let key = crate::admin::admin_key(app, "timestamps", "all", "write");
    let mut found = Vec::new();
    timestamps(&tokens, &mut found);
    for (path, bearer) in [
        ("/v1/me", &access),
        ("/v1/me/sessions", &access),
        ("/v1/me/internet-access", &access),
        ("/v1/admin/people?organisation=999", &key),
        ("/v1/admin/accounts?organisation=999", &key),
        ("/v1/admin/audit-events?limit=50", &key),
        ("/v1/admin/organisations", &key),
        ("/v1/admin/api-keys", &key),
    ] {
        let res = app.get_auth(path, bearer).await;
        assert_eq!(res.status(), 200, "{path}");
        timestamps(&res.json().await.unwrap(), &mut found);
    }
    assert!(found.len() > 30, "{found:?}");
    for at in &found {
        let b = at.as_bytes();
        assert!(
            at.len() == 27
                && b[19] == b'.'
                && at.ends_with('Z')
                && b[20..26].iter().all(u8::is_ascii_digit),
            "{at} is not …:SS.ffffffZ"
        );
    }
}
