//! The optional breached-password check against a Have I Been Pwned-compatible range API,
//! played by a local mock HTTP server: a breached password is refused with the other
//! violations, only a five-digit prefix of its SHA-1 leaves the service, padding entries
//! (count 0) are not breaches, and an API that is down lets the password through (fail-open)
//! with a counted warning.

use esr_api::breached::sha1_hex_upper;
use serde_json::json;
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::auth::{JANE, JANE_PASSWORD};
use crate::both_backends_owned;
use crate::helpers::{TestApp, TestBackend, problem, spawn_app_with_args};
use crate::me::codes;

both_backends_owned!(
    breached_passwords_are_refused_and_only_a_hash_prefix_is_sent,
    breached_check_fails_open_when_the_api_is_down,
);

/// In the mock corpus, seen 3 times.
const BREACHED: &str = "Lavender tractor sunrise 7";
/// Listed only as padding (count 0): not breached.
const PADDING_ONLY: &str = "Quiet walnut harbour 19";

async fn change(app: &TestApp, token: &str, current: &str, new: &str) -> reqwest::Response {
    app.post_json(
        "/v1/me/password",
        &json!({"current_password": current, "new_password": new, "confirm_password": new}),
        Some(token),
    )
    .await
}

async fn security_event(app: &TestApp, event: &str) -> u64 {
    let text = app.metrics().await;
    text.lines()
        .find(|l| l.contains("security_events_total") && l.contains(&format!("event=\"{event}\"")))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

async fn breached_passwords_are_refused_and_only_a_hash_prefix_is_sent(backend: TestBackend) {
    let corpus = MockServer::start().await;
    let breached = sha1_hex_upper(BREACHED);
    let padding = sha1_hex_upper(PADDING_ONLY);
    for hex in [&breached, &padding] {
        let (prefix, _) = hex.split_at(5);
        let body = format!(
            "{}:3\r\n{}:0\r\n0018A45C4D1DEF81644B54AB7F969B88D65:12\r\n",
            &breached[5..],
            &padding[5..]
        );
        Mock::given(method("GET"))
            .and(path(format!("/pwned/range/{prefix}")))
            .and(header("add-padding", "true"))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .mount(&corpus)
            .await;
    }
    Mock::given(method("GET"))
        .and(path_regex("^/pwned/range/[0-9A-F]{5}$"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string("0018A45C4D1DEF81644B54AB7F969B88D65:0\r\n"),
        )
        .mount(&corpus)
        .await;
    // A base URL without the trailing slash still gets `/range/…` under it.
    let base = format!("{}/pwned", corpus.uri());
    let Some(app) =
        spawn_app_with_args(backend, &["--breached-password-api-url", base.as_str()]).await
    else {
        return;
    };

    let policy: serde_json::Value = app.get("/v1/password-policy").await.json().await.unwrap();
    assert_eq!(policy["breached_check"], true, "{policy}");

    let tokens = app.tokens(JANE, JANE_PASSWORD).await;
    let token = tokens["access_token"].as_str().unwrap();

    // Breached: refused with its own violation.
    let res = change(&app, token, JANE_PASSWORD, BREACHED).await;
    assert_eq!(res.status(), 400);
    let body = problem(res).await;
    assert_eq!(body["code"], "password-policy");
    assert_eq!(codes(&body), ["password-breached"], "{body}");
    assert_eq!(security_event(&app, "password.breached").await, 1);

    // Breached and also too short and common: every violation at once.
    let res = change(&app, token, JANE_PASSWORD, "password1").await;
    let found = codes(&problem(res).await);
    for code in ["password-too-short", "password-common"] {
        assert!(found.iter().any(|c| c == code), "{code} in {found:?}");
    }

    // Listed only as padding: accepted, and the new password works.
    let res = change(&app, token, JANE_PASSWORD, PADDING_ONLY).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(app.login(JANE, PADDING_ONLY).await.status(), 200);

    // What left the service: five hex digits per look-up, never the password or its hash.
    let requests = corpus.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3, "one look-up per candidate");
    for r in &requests {
        let p = r.url.path();
        let prefix = p.strip_prefix("/pwned/range/").expect("range path");
        assert_eq!(prefix.len(), 5, "{p}");
        assert!(prefix.chars().all(|c| c.is_ascii_hexdigit()), "{p}");
        assert!(r.url.query().is_none(), "{}", r.url);
        let raw = format!("{:?} {:?}", r.url, r.body);
        for secret in [BREACHED, PADDING_ONLY, &breached, &padding] {
            assert!(!raw.contains(secret), "{secret} leaked in {raw}");
        }
    }
    app.stop().await;
}

async fn breached_check_fails_open_when_the_api_is_down(backend: TestBackend) {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let Some(app) = spawn_app_with_args(
        backend,
        &[
            "--breached-password-api-url",
            base.as_str(),
            "--breached-password-timeout-ms",
            "500",
        ],
    )
    .await
    else {
        return;
    };
    let tokens = app.tokens(JANE, JANE_PASSWORD).await;
    let token = tokens["access_token"].as_str().unwrap();
    let started = std::time::Instant::now();
    let res = change(&app, token, JANE_PASSWORD, BREACHED).await;
    assert_eq!(
        res.status(),
        200,
        "fail-open: {}",
        res.text().await.unwrap()
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(security_event(&app, "breached_check.unavailable").await, 1);
    assert_eq!(app.login(JANE, BREACHED).await.status(), 200);
    app.stop().await;
}
