//! SPEC §2 / checklist 18: passwords, tokens and keys never reach the logs. The real binary
//! runs with the most verbose logging of our own code (`trace`) and debug for every library,
//! a member of staff walks every journey that carries a secret (login, wrong password,
//! profile, refresh, password change, forgotten password with its emailed link, reset,
//! logout), and then the whole log is searched for each secret that crossed the wire.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{InstanceBuilder, client, wait_until};

const JANE: &str = "999JSMITH01";
const JANE_PASSWORD: &str = "Bluebell harbour lantern";
const WRONG: &str = "Wrong but secret 123";
const CHANGED: &str = "Marigold canal whistle 58";
const RESET: &str = "Saffron kite meadow 73";

#[tokio::test]
async fn no_password_or_token_reaches_the_log_even_at_trace_level() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("logs.db").display());
    let api = InstanceBuilder::new("log-secrets", &url)
        .env(
            "ESR_LOG",
            "debug,esr_api=trace,esr_persistence=trace,esr_domain=trace",
        )
        .env("ESR_LOG_FORMAT", "json")
        .spawn()
        .await;
    let http = client();
    let post = |path: &str, body: Value, bearer: Option<String>| {
        let mut req = http.post(api.url(path)).json(&body);
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        async move { req.send().await.expect("POST") }
    };
    let mut secrets: Vec<String> = [JANE_PASSWORD, WRONG, CHANGED, RESET]
        .map(str::to_owned)
        .to_vec();

    // A wrong password, then the right one.
    assert_eq!(api.login(JANE, WRONG).await.status(), 401);
    let res = api.login(JANE, JANE_PASSWORD).await;
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    secrets.extend([access.clone(), refresh.clone()]);

    assert_eq!(api.get_auth("/v1/me", &access).await.status(), 200);
    let res = api.refresh(&refresh).await;
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh2 = tokens["refresh_token"].as_str().unwrap().to_owned();
    secrets.extend([access.clone(), refresh2.clone()]);
    // A retry within the grace (the same successor again), then the successor used, then the
    // spent token reused (audited, session revoked): none of it logs a token either.
    assert_eq!(api.refresh(&refresh).await.status(), 200);
    let res = api.refresh(&refresh2).await;
    assert_eq!(res.status(), 200);
    let successor = res.json::<Value>().await.unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    secrets.push(successor);
    assert_eq!(api.refresh(&refresh).await.status(), 401);

    let login = api.login(JANE, JANE_PASSWORD).await;
    let access = login.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    secrets.push(access.clone());
    let res = post(
        "/v1/me/password",
        json!({"current_password": JANE_PASSWORD, "new_password": CHANGED, "confirm_password": CHANGED}),
        Some(access.clone()),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    // Forgotten password: the emailed link's token, validated and spent.
    let res = post(
        "/v1/recovery-requests",
        json!({"work_email": "jane.smith@demo.example.org", "date_of_birth": "1985-04-12", "username": JANE}),
        None,
    )
    .await;
    assert_eq!(res.status(), 202);
    let link = wait_until("the recovery email", Duration::from_secs(30), || async {
        api.mailbox()
            .into_iter()
            .flat_map(|m| m.links)
            .find(|l| l.purpose == "reset")
    })
    .await;
    let token = link.url.split("#token=").nth(1).unwrap().to_owned();
    secrets.push(token.clone());
    let res = post(
        "/v1/password-resets/validate",
        json!({"token": token}),
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    let res = post(
        "/v1/password-resets",
        json!({"token": token, "username": JANE, "new_password": RESET, "confirm_password": RESET}),
        None,
    )
    .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());

    let res = api.login(JANE, RESET).await;
    let body: Value = res.json().await.unwrap();
    let access = body["access_token"].as_str().unwrap().to_owned();
    let refresh3 = body["refresh_token"].as_str().unwrap().to_owned();
    secrets.extend([access.clone(), refresh3.clone()]);
    let res = post(
        "/v1/auth/logout",
        json!({"refresh_token": refresh3}),
        Some(access.clone()),
    )
    .await;
    assert!(res.status().is_success(), "{}", res.status());

    // Let the delivery worker log its last lines, then search everything.
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Dev mode prints its demo accounts and their published demo passwords once at start-up
    // (on purpose: that is how a developer learns them); everything else is searched.
    let log: String = api
        .log()
        .lines()
        .filter(|l| !(l.starts_with("  ") && l.contains(" password: ")))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        log.contains("/v1/auth/login") && log.contains("/v1/password-resets"),
        "the log records the requests:\n{log}"
    );
    assert!(log.lines().count() > 20, "verbose logging is on:\n{log}");
    for secret in &secrets {
        // A token is long and random; a fragment of it is as good as the whole for search.
        let probe = if secret.len() > 40 {
            &secret[secret.len() - 32..]
        } else {
            secret.as_str()
        };
        assert!(
            !log.contains(probe),
            "a secret ({}…) reached the log:\n{}",
            &secret[..secret.len().min(6)],
            log.lines()
                .filter(|l| l.contains(probe))
                .take(3)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
