//! Answers in the asker's language: `Accept-Language: cy` gives the Welsh words of a problem
//! with `Content-Language: cy`; `en`, another language or no header give English; the code
//! never changes. An answer whose words are not all in the catalogue yet says `en`.

use serde_json::{Value, json};

use crate::auth::JANE;
use crate::helpers::{TestApp, TestBackend, spawn_app};

/// What a request was answered: its status, its `Content-Language` and `Vary` values and its
/// body.
struct Answer {
    status: u16,
    content_language: Vec<String>,
    vary: Vec<String>,
    body: Value,
}

/// Sends `req` asking for `language` (no `Accept-Language` when `None`).
async fn ask(req: reqwest::RequestBuilder, language: Option<&str>) -> Answer {
    let req = match language {
        Some(language) => req.header("accept-language", language),
        None => req,
    };
    let res = req.send().await.expect("request sent");
    let header = |name: &str| -> Vec<String> {
        res.headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    };
    Answer {
        status: res.status().as_u16(),
        content_language: header("content-language"),
        vary: header("vary"),
        body: res.json().await.expect("a JSON body"),
    }
}

/// `POST /v1/auth/login` with `body`, asking for `language`.
async fn login(app: &TestApp, language: Option<&str>, body: &Value) -> Answer {
    let req = app
        .client
        .post(format!("{}/v1/auth/login", app.address))
        .json(body);
    ask(req, language).await
}

/// A problem's detail.
fn detail(body: &Value) -> &str {
    body["detail"].as_str().expect("a detail")
}

async fn a_failed_login_is_told_in_welsh_when_asked(app: &TestApp) {
    let wrong = json!({"username": JANE, "password": "not the password at all"});
    let mut answers = Vec::new();
    for (asked, answered) in [
        (Some("cy"), "cy"),
        (Some("cy-GB, en;q=0.8"), "cy"),
        (Some("en"), "en"),
        (Some("fr"), "en"),
        (None, "en"),
    ] {
        let answer = login(app, asked, &wrong).await;
        assert_eq!(answer.status, 401, "{asked:?}");
        assert_eq!(answer.content_language, [answered], "{asked:?}");
        assert!(
            answer
                .vary
                .iter()
                .any(|v| v.to_ascii_lowercase().contains("accept-language")),
            "{asked:?}: {:?}",
            answer.vary
        );
        answers.push((answered, answer.body));
    }
    let (_, welsh) = &answers[0];
    assert_eq!(welsh["code"], "invalid-credentials");
    assert_eq!(welsh["title"], "Methodd y mewngofnodi");
    assert!(
        detail(welsh).contains("Wedi Anghofio | Gofyn am Enw Defnyddiwr/Cyfrinair"),
        "{welsh}"
    );
    for (language, body) in &answers {
        assert_eq!(
            body["code"], welsh["code"],
            "the code is the same in {language}"
        );
        assert_eq!(body["type"], welsh["type"]);
        if *language == "en" {
            assert_eq!(body["title"], "Login failed");
            assert!(
                detail(body).contains("Forgotten | Request Username/Password"),
                "{body}"
            );
        }
    }
}

/// A refresh token that is not one: the same problem in Welsh.
async fn a_refused_refresh_token_is_told_in_welsh(app: &TestApp) {
    let req = app
        .client
        .post(format!("{}/v1/auth/refresh", app.address))
        .json(&json!({"refresh_token": "not-a-refresh-token"}));
    let answer = ask(req, Some("cy")).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.content_language, ["cy"]);
    assert_eq!(answer.body["code"], "invalid-refresh-token");
    assert!(
        detail(&answer.body).contains("Mewngofnodwch eto"),
        "{}",
        answer.body
    );
}

/// Problems every address can give: an unknown address and a body that is not JSON.
async fn the_common_problems_are_told_in_welsh(app: &TestApp) {
    let url = |path: &str| format!("{}{path}", app.address);
    let answer = ask(app.client.get(url("/v1/nothing-here")), Some("cy")).await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.content_language, ["cy"]);
    assert_eq!(answer.body["code"], "not-found");
    assert!(
        detail(&answer.body).contains("/api-docs/openapi.json"),
        "{}",
        answer.body
    );
    assert_ne!(answer.body["title"], "Not Found");

    let not_json = app
        .client
        .post(url("/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{not json");
    let answer = ask(not_json, Some("cy")).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.content_language, ["cy"]);
    assert_eq!(answer.body["code"], "malformed-json");
    assert_ne!(answer.body["title"], "Malformed JSON");

    let answer = ask(app.client.get(url("/v1/me")), Some("cy")).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.content_language, ["cy"]);
    assert_eq!(answer.body["code"], "unauthenticated");
    assert!(
        detail(&answer.body).contains("Authorization: Bearer"),
        "{}",
        answer.body
    );
    assert_ne!(answer.body["title"], "Unauthorized");

    let empty = json!({"username": "", "password": ""});
    let answer = login(app, Some("cy"), &empty).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.content_language, ["cy"]);
    assert_eq!(answer.body["code"], "invalid-request-body");
    assert_ne!(answer.body["detail"], "Enter your username and password.");
}

/// A problem whose words are not in the catalogue yet answers in English and says so, rather
/// than claiming to be Welsh.
async fn an_answer_without_welsh_words_says_it_is_english(app: &TestApp) {
    let req = app
        .client
        .get(format!("{}/v1/organisations?limit=0", app.address));
    let answer = ask(req, Some("cy")).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.content_language, ["en"]);
    assert_eq!(answer.body["code"], "invalid-query-parameter");
    assert_eq!(answer.body["title"], "Invalid query parameter");
}

/// The live password check gives every violation's message in Welsh, with the same codes.
async fn the_password_check_speaks_welsh(app: &TestApp) {
    let candidate = json!({"new_password": "aaaa", "confirm_password": "bbbb"});
    let mut answers = Vec::new();
    for language in ["cy", "en"] {
        let req = app
            .client
            .post(format!("{}/v1/password-policy/check", app.address))
            .json(&candidate);
        let answer = ask(req, Some(language)).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.content_language, [language]);
        answers.push(answer.body);
    }
    let codes = |body: &Value| -> Vec<String> {
        body["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["code"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(codes(&answers[0]), codes(&answers[1]));
    assert!(codes(&answers[0]).contains(&"password-too-short".to_owned()));
    let welsh: Vec<&str> = answers[0]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["message"].as_str().unwrap())
        .collect();
    assert!(
        welsh.contains(&"Rhaid i'r cyfrinair fod yn 12 nod o leiaf"),
        "{welsh:?}"
    );
    assert!(
        answers[1]["violations"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Password must be a minimum of 12 characters"),
        "{}",
        answers[1]
    );
}

/// A refused new password: the problem and each of its violations in Welsh.
async fn a_refused_new_password_is_explained_in_welsh(app: &TestApp) {
    let tokens = app.tokens(JANE, crate::auth::JANE_PASSWORD).await;
    let access = tokens["access_token"].as_str().unwrap();
    let req = app
        .client
        .post(format!("{}/v1/me/password", app.address))
        .bearer_auth(access)
        .json(&json!({
            "current_password": crate::auth::JANE_PASSWORD,
            "new_password": "short",
            "confirm_password": "short",
        }));
    let answer = ask(req, Some("cy")).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.content_language, ["cy"]);
    let body = answer.body;
    assert_eq!(body["code"], "password-policy");
    assert_eq!(body["violations"][0]["code"], "password-too-short");
    assert_eq!(
        body["violations"][0]["message"],
        "Rhaid i'r cyfrinair fod yn 12 nod o leiaf"
    );
    assert_ne!(body["title"], "Password not accepted", "{body}");
}

#[tokio::test]
async fn problems_answer_in_the_language_asked_for() {
    for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
        let Some(app) = spawn_app(backend).await else {
            continue;
        };
        // Before the failed logins, which lock Jane's account.
        a_refused_new_password_is_explained_in_welsh(&app).await;
        a_failed_login_is_told_in_welsh_when_asked(&app).await;
        a_refused_refresh_token_is_told_in_welsh(&app).await;
        an_answer_without_welsh_words_says_it_is_english(&app).await;
        the_password_check_speaks_welsh(&app).await;
        the_common_problems_are_told_in_welsh(&app).await;
        app.stop().await;
    }
}
