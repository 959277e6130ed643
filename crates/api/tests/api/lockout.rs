//! Lockout under parallel attack, enumeration resistance, rate limits and load shedding.

use std::collections::BTreeMap;

use esr_domain::Username;
use esr_persistence::accounts;
use serde_json::Value;

use crate::auth::{JANE, JANE_PASSWORD};
use crate::helpers::{TestApp, TestBackend, problem, spawn_app_with};

/// A server whose limits let 50 parallel attempts through to the lockout logic.
async fn wide_open(backend: TestBackend) -> Option<TestApp> {
    spawn_app_with(backend, |c| {
        c.hash_queue = 64;
        c.rate_login_per_ip = 0;
        c.rate_login_per_username = 0;
    })
    .await
}

fn jane(app: &TestApp) -> accounts::Account {
    accounts::find_by_username(&mut app.db(), &Username::parse(JANE).unwrap())
        .unwrap()
        .unwrap()
}

async fn fifty_parallel_wrong_attempts_lock_at_exactly_five(app: &TestApp) {
    let attempts = (0..50).map(|i| {
        let client = app.client.clone();
        let url = format!("{}/v1/auth/login", app.address);
        async move {
            client
                .post(url)
                .json(&serde_json::json!({"username": JANE, "password": format!("wrong guess number {i}")}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");

    let account = jane(app);
    assert_eq!(
        account.failed_login_count, 5,
        "the counter never passes the threshold"
    );
    assert_eq!(account.status, esr_domain::AccountStatus::Locked);
    assert!(account.locked_at.is_some());

    // No success after the lock, even with the right password; the answer is the same 401.
    let res = app.login(JANE, JANE_PASSWORD).await;
    assert_eq!(res.status(), 401);
    assert_eq!(problem(res).await["code"], "invalid-credentials");

    let events = esr_persistence::audit::recent(&mut app.db(), Some(&account.id), 200).unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type == "account.locked")
            .count(),
        1,
        "locked once"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type == "login.failed")
            .count(),
        51
    );
    assert_eq!(
        esr_persistence::audit::verify_chain(&mut app.db(), &app.audit_chain)
            .unwrap()
            .first_broken,
        None
    );
}

async fn success_resets_the_counter(app: &TestApp) {
    for _ in 0..4 {
        assert_eq!(
            app.login(JANE, "not my password at all").await.status(),
            401
        );
    }
    assert_eq!(jane(app).failed_login_count, 4);
    assert_eq!(app.login(JANE, JANE_PASSWORD).await.status(), 200);
    assert_eq!(jane(app).failed_login_count, 0);
    for _ in 0..4 {
        assert_eq!(
            app.login(JANE, "not my password at all").await.status(),
            401
        );
    }
    assert_eq!(
        jane(app).status,
        esr_domain::AccountStatus::Active,
        "4 + 4 is not 5 consecutive"
    );
}

/// Status, body (but the request id) and headers (but date and request id) of a response.
async fn shape(res: reqwest::Response) -> (u16, BTreeMap<String, String>, Value) {
    let status = res.status().as_u16();
    let headers = res
        .headers()
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "date" | "x-request-id"))
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    let mut body: Value = res.json().await.unwrap();
    body["request_id"] = Value::Null;
    (status, headers, body)
}

async fn unknown_wrong_and_locked_look_identical(app: &TestApp) {
    let unknown = shape(app.login("999NOBODY01", "some password here").await).await;
    let malformed = shape(app.login("not a username!", "some password here").await).await;
    let wrong = shape(app.login(JANE, "some password here").await).await;
    for _ in 0..4 {
        app.login(JANE, "some password here").await;
    }
    let locked_right_password = shape(app.login(JANE, JANE_PASSWORD).await).await;
    assert_eq!(unknown.0, 401);
    assert_eq!(unknown, wrong);
    assert_eq!(unknown, malformed);
    assert_eq!(unknown, locked_right_password);
    let detail = unknown.2["detail"].as_str().unwrap();
    assert!(
        detail.contains("Forgotten | Request Username/Password")
            && detail.contains("Unlock Account"),
        "{detail}"
    );
}

crate::both_backends_with!(
    wide_open,
    fifty_parallel_wrong_attempts_lock_at_exactly_five,
    success_resets_the_counter,
    unknown_wrong_and_locked_look_identical,
    a_password_change_racing_the_lock_never_lands_after_it
);

/// Five wrong current passwords lock the account and end every session; a correct change sent
/// on the same session at the same moment must either land before the lock or not at all,
/// never on the session the lock has just ended. Raced over several rounds: the change
/// re-checks session, status and hash inside its write transaction.
async fn a_password_change_racing_the_lock_never_lands_after_it(app: &TestApp) {
    let key = crate::consequences::write_key(app);
    let mut current = JANE_PASSWORD.to_owned();
    for round in 0..6 {
        let tokens = app.tokens(JANE, &current).await;
        let access = tokens["access_token"].as_str().unwrap().to_owned();
        let new = format!("Round {round} kingfisher meadow");
        let change = |current: String, new: String| {
            let client = app.client.clone();
            let url = format!("{}/v1/me/password", app.address);
            let access = access.clone();
            async move {
                let body = serde_json::json!({"current_password": current, "new_password": new, "confirm_password": new});
                let res = client
                    .post(url)
                    .bearer_auth(access)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                res.status().as_u16()
            }
        };
        let mut attempts: Vec<_> = (0..5)
            .map(|i| change(format!("wrong current {i}"), new.clone()))
            .collect();
        attempts.insert(round % 6, change(current.clone(), new.clone()));
        let statuses = futures_util::future::join_all(attempts).await;

        let account = jane(app);
        let changed = account.password_changed_at;
        let session_ended: Option<chrono::DateTime<chrono::Utc>> = {
            use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
            use esr_persistence::schema::sessions;
            let claims = crate::auth::jwt_part(&access, 1);
            sessions::table
                .filter(sessions::id.eq(claims["sid"].as_str().unwrap()))
                .select(sessions::revoked_at)
                .first::<Option<chrono::NaiveDateTime>>(&mut app.db())
                .unwrap()
                .map(|t| t.and_utc())
        };
        let landed = statuses.contains(&200);
        if landed {
            current = new;
        }
        if let (true, Some(changed), Some(ended)) = (landed, changed, session_ended) {
            assert!(
                changed <= ended,
                "round {round}: the change landed at {changed} on a session ended at {ended} ({statuses:?})"
            );
        }
        // Start the next round unlocked.
        if account.status == esr_domain::AccountStatus::Locked {
            let res = app
                .post_json(
                    &format!("/v1/admin/accounts/{JANE}/unlock"),
                    &serde_json::json!({}),
                    Some(&key),
                )
                .await;
            assert_eq!(res.status(), 200);
        }
    }
}

#[tokio::test]
async fn per_username_and_per_ip_rate_limits_answer_429() {
    let app = spawn_app_with(TestBackend::Sqlite, |c| {
        c.rate_login_per_username = 3;
        c.rate_login_per_ip = 5;
    })
    .await
    .unwrap();
    for _ in 0..3 {
        assert_eq!(
            app.login("999APATEL01", "wrong password here")
                .await
                .status(),
            401
        );
    }
    let res = app.login("999apatel01", "Copper kettle meadow 42").await;
    assert_eq!(res.status(), 429, "per username, whatever the case");
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(problem(res).await["code"], "too-many-requests");
    // Other usernames from the same address: the per-IP budget (5) is nearly spent.
    assert_eq!(app.login(JANE, JANE_PASSWORD).await.status(), 200);
    assert_eq!(app.login(JANE, JANE_PASSWORD).await.status(), 429);
    // Behind a proxy that is not trusted, X-Forwarded-For changes nothing.
    let res = app
        .client
        .post(format!("{}/v1/auth/login", app.address))
        .header("x-forwarded-for", "203.0.113.77")
        .json(&serde_json::json!({"username": JANE, "password": JANE_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    app.stop().await;
}

#[tokio::test]
async fn trusted_proxy_forwarded_address_is_the_rate_limit_key() {
    let app = spawn_app_with(TestBackend::Sqlite, |c| {
        c.rate_login_per_ip = 2;
        c.rate_login_per_username = 0;
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await
    .unwrap();
    let from = |ip: &'static str| {
        app.client
            .post(format!("{}/v1/auth/login", app.address))
            .header("x-forwarded-for", ip)
            .json(&serde_json::json!({"username": JANE, "password": "wrong password here"}))
            .send()
    };
    assert_eq!(from("203.0.113.1").await.unwrap().status(), 401);
    assert_eq!(from("203.0.113.1").await.unwrap().status(), 401);
    assert_eq!(from("203.0.113.1").await.unwrap().status(), 429);
    assert_eq!(
        from("203.0.113.2").await.unwrap().status(),
        401,
        "another client behind the proxy"
    );
    let events = esr_persistence::audit::recent(&mut app.db(), None, 10).unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.ip.as_deref() == Some("203.0.113.2")),
        "audit records the client"
    );
    app.stop().await;
}

/// The limits cannot be dodged by the shape of the address: a spoofed first
/// `X-Forwarded-For` line beside the proxy's own, fresh IPv6 addresses within one /64, or a
/// proxy seen as `::ffff:127.0.0.1` on a dual-stack listener.
#[tokio::test]
async fn forwarded_lines_and_ipv6_networks_do_not_escape_the_limit() {
    let app = spawn_app_with(TestBackend::Sqlite, |c| {
        c.rate_login_per_ip = 2;
        c.rate_login_per_username = 0;
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await
    .unwrap();
    let attempt = |lines: Vec<String>| {
        let mut req = app
            .client
            .post(format!("{}/v1/auth/login", app.address))
            .json(&serde_json::json!({"username": JANE, "password": "wrong password here"}));
        for line in lines {
            req = req.header("x-forwarded-for", line);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    // The client adds a line of its own each time; the proxy's line says who it is.
    let mut statuses = Vec::new();
    for i in 0..3 {
        statuses.push(attempt(vec![format!("198.51.100.{i}"), "203.0.113.50".into()]).await);
    }
    assert_eq!(statuses, [401, 401, 429], "spoofed first lines");

    // A new IPv6 address per attempt, all in one /64.
    let mut statuses = Vec::new();
    for i in 1..=3 {
        statuses.push(attempt(vec![format!("2001:db8:7:7::{i:x}")]).await);
    }
    assert_eq!(statuses, [401, 401, 429], "one IPv6 /64");
    assert_eq!(
        attempt(vec!["2001:db8:7:8::1".into()]).await,
        401,
        "the next /64 is another client"
    );
    app.stop().await;
}

#[tokio::test]
async fn hashing_overload_is_shed_with_503_not_queued() {
    let app = spawn_app_with(TestBackend::Sqlite, |c| {
        c.hash_workers = 1;
        c.hash_queue = 0;
        c.rate_login_per_ip = 0;
        c.rate_login_per_username = 0;
        // Slow hashes (~0.5 s) so the single slot is busy while the others arrive.
        c.argon2.iterations = 24;
    })
    .await
    .unwrap();
    let attempts = (0..8).map(|_| app.login("999APATEL01", "wrong password here"));
    let responses = futures_util::future::join_all(attempts).await;
    let mut shed = 0;
    for res in responses {
        match res.status().as_u16() {
            401 => {}
            503 => {
                assert_eq!(res.headers()["retry-after"], "1");
                assert_eq!(problem(res).await["code"], "busy");
                shed += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(shed >= 1, "excess logins are refused, not queued");
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"esr_security_events_total{event="hashing.rejected"}"#),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test]
async fn outdated_hash_parameters_are_upgraded_on_login() {
    let app = spawn_app_with(TestBackend::Sqlite, |_| {}).await.unwrap();
    let weak = esr_domain::PasswordHasher::new(esr_domain::Argon2Params {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    })
    .unwrap();
    let pw = esr_domain::PasswordPolicy::default()
        .check(
            &esr_domain::Password::new(JANE_PASSWORD),
            None,
            &Default::default(),
        )
        .unwrap();
    let old_hash = weak.hash(&pw, &mut rand::rng()).unwrap();
    let account = jane(&app);
    use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
    use esr_persistence::schema::accounts as a;
    diesel::update(a::table.filter(a::id.eq(account.id.as_str())))
        .set(a::password_hash.eq(old_hash.as_str()))
        .execute(&mut app.db())
        .unwrap();
    assert_eq!(app.login(JANE, JANE_PASSWORD).await.status(), 200);
    let upgraded = jane(&app).password_hash.unwrap();
    assert_ne!(upgraded, old_hash.as_str());
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{upgraded}"
    );
    assert_eq!(
        app.login(JANE, JANE_PASSWORD).await.status(),
        200,
        "still the same password"
    );
    app.stop().await;
}

/// Behind a load balancer, a client's requests land on every instance: on PostgreSQL the
/// limits are counted in the database, so two instances together allow what one does — per
/// client, per username and per mailbox.
#[tokio::test]
async fn limits_are_exact_across_two_instances_on_postgresql() {
    let Some(first) = spawn_app_with(TestBackend::Postgres, |c| {
        c.rate_login_per_ip = 3;
        c.rate_login_per_username = 0;
        c.rate_recovery_per_email = 2;
    })
    .await
    else {
        return;
    };
    let second = crate::helpers::spawn_second_instance(&first, |c| {
        c.rate_login_per_ip = 3;
        c.rate_login_per_username = 0;
        c.rate_recovery_per_email = 2;
    })
    .await;
    let mut statuses = Vec::new();
    for i in 0..4 {
        let app = if i % 2 == 0 { &first } else { &second };
        statuses.push(
            app.login(JANE, "wrong password here")
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(
        statuses,
        [401, 401, 401, 429],
        "three per client across both"
    );

    let mut statuses = Vec::new();
    for i in 0..3 {
        let app = if i % 2 == 0 { &second } else { &first };
        let res =
            crate::recovery::request_recovery(app, "someone@example.org", "1980-01-01", None).await;
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [202, 202, 429], "two per mailbox across both");

    // The shared table holds digests, never the address or email counted.
    let keys: Vec<String> = {
        use diesel::{QueryDsl, RunQueryDsl};
        esr_persistence::schema::rate_limit_windows::table
            .select(esr_persistence::schema::rate_limit_windows::key_digest)
            .load(&mut first.db())
            .unwrap()
    };
    assert!(!keys.is_empty());
    assert!(
        keys.iter()
            .all(|k| k.len() == 64 && !k.contains('@') && !k.contains('.'))
    );
    second.stop().await;
    first.stop().await;
}
