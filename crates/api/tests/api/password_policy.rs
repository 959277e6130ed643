//! `GET /v1/password-policy` and `POST /v1/password-policy/check`.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestBackend, spawn_app};

async fn check(app: &TestApp, body: Value) -> Value {
    let res = app
        .client
        .post(format!("{}/v1/password-policy/check", app.address))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn codes(result: &Value) -> Vec<&str> {
    result["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn policy_is_described_in_the_guides_words() {
    let app = spawn_app(TestBackend::Sqlite).await.unwrap();
    let res = app.get("/v1/password-policy").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["min_length"], 12);
    assert_eq!(body["max_length"], 128);
    assert_eq!(body["history_depth"], 4);
    assert_eq!(body["common_list"], true);
    let rules: Vec<&str> = body["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["description"].as_str().unwrap())
        .collect();
    for seed_rule in [
        "Password must be a minimum of 12 characters",
        "Commonly used passwords, like \"password1\" are not allowed",
        "Passwords must not be the same as any previous 4 passwords",
    ] {
        assert!(rules.contains(&seed_rule), "{seed_rule} in {rules:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn check_reports_every_violation_at_once() {
    let app = spawn_app(TestBackend::Sqlite).await.unwrap();
    let result = check(
        &app,
        json!({"new_password": "password1", "confirm_password": "password2"}),
    )
    .await;
    assert_eq!(result["acceptable"], false);
    let found = codes(&result);
    for code in [
        "password-too-short",
        "password-common",
        "password-confirmation-mismatch",
    ] {
        assert!(found.contains(&code), "{code} in {found:?}");
    }
    let mismatch = result["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["code"] == "password-confirmation-mismatch")
        .unwrap();
    assert_eq!(mismatch["field"], "confirm_password");

    for common in ["Password1234", "PASSWORD12345!", "Password123!"] {
        let result = check(&app, json!({"new_password": common})).await;
        assert!(
            codes(&result).contains(&"password-common"),
            "{common}: {result}"
        );
    }

    let result = check(
        &app,
        json!({"new_password": "999JSMITH01abc", "username": "999jsmith01"}),
    )
    .await;
    assert!(
        codes(&result).contains(&"password-contains-context"),
        "{result}"
    );

    let ok = check(&app, json!({"new_password": "correct horse battery", "confirm_password": "correct horse battery", "username": "999JSMITH01"})).await;
    assert_eq!(ok, json!({"acceptable": true, "violations": []}));
    app.stop().await;
}

#[tokio::test]
async fn eleven_characters_are_refused_and_twelve_accepted() {
    let app = spawn_app(TestBackend::Sqlite).await.unwrap();
    let result = check(
        &app,
        json!({"new_password": "tulip violet"[..11].to_owned()}),
    )
    .await;
    assert_eq!(codes(&result), ["password-too-short"]);
    let result = check(&app, json!({"new_password": "tulip violet"})).await;
    assert_eq!(result["acceptable"], true, "{result}");
    app.stop().await;
}
