//! Requests that concern no account cost an attacker nothing: a flood of them, from as many
//! addresses as a proxy chain can claim, must leave storage bounded. Unmatched recovery
//! requests are audited at most once per typed email and `ESR_ANONYMOUS_AUDITS_PER_HOUR` in
//! all; smartcard starts are not audited and store nothing (the flow travels sealed in its
//! state), so no number of them crowds out a real sign-in.

use serde_json::json;

use crate::both_backends_owned;
use crate::helpers::{TestApp, TestBackend, spawn_app_with};

both_backends_owned!(a_flood_of_anonymous_requests_leaves_storage_bounded);

fn count(app: &TestApp, event_type: &str) -> usize {
    esr_persistence::audit::recent(&mut app.db(), None, 10_000)
        .unwrap()
        .iter()
        .filter(|e| e.event_type == event_type)
        .count()
}

async fn a_flood_of_anonymous_requests_leaves_storage_bounded(backend: TestBackend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.anonymous_audits_per_hour = 10;
        c.rate_recovery_per_ip = 0;
        c.rate_recovery_per_email = 0;
        c.rate_login_per_ip = 0;
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await
    else {
        return;
    };
    // First 30 junk smartcard callbacks: they spend their own allowance, not recovery's.
    for i in 0..30u32 {
        let res = app
            .client
            .post(format!("{}/v1/auth/smartcard/callback", app.address))
            .header("x-forwarded-for", format!("192.0.2.{i}"))
            .json(&json!({"code": "c", "state": format!("junk-{i}"), "browser_binding": "b"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    assert_eq!(count(&app, "smartcard.login_failed"), 10);

    // 120 Forgotten requests, each from its own forwarded address, for addresses nobody has,
    // and the same one again and again.
    for i in 0..120u32 {
        let email = if i % 2 == 0 {
            format!("nobody{i}@example.org")
        } else {
            "same.nobody@example.org".to_owned()
        };
        let res = app
            .client
            .post(format!("{}/v1/recovery-requests", app.address))
            .header("x-forwarded-for", format!("198.51.{}.{}", i / 250, i % 250))
            .json(&json!({"work_email": email, "date_of_birth": "1980-01-01"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202, "the answer never changes");
    }
    crate::recovery::wait_until_matched(&app).await;
    let unmatched = count(&app, "recovery_request.unmatched");
    assert!(
        (1..=10).contains(&unmatched),
        "{unmatched} audit rows for 120 anonymous requests"
    );

    // 300 smartcard starts from as many forwarded addresses: each answered, none stored, and
    // made-up states brought back to the callback store nothing either.
    let mut last = None;
    for i in 0..300u32 {
        let res = app
            .client
            .post(format!("{}/v1/auth/smartcard/start", app.address))
            .header("x-forwarded-for", format!("203.0.{}.{}", i / 250, i % 250))
            .json(&json!({"redirect_uri": crate::smartcard::REDIRECT}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "start {i}");
        last = Some(res.json::<serde_json::Value>().await.unwrap());
    }
    let last = last.unwrap();
    let made_up = json!({"code": "c", "state": format!("{}x", last["state"].as_str().unwrap()),
        "browser_binding": last["browser_binding"]});
    let res = app
        .post_json("/v1/auth/smartcard/callback", &made_up, None)
        .await;
    assert_eq!(res.status(), 401);
    let spent = esr_persistence::spent_smartcard_states::count(&mut app.db()).unwrap();
    assert_eq!(spent, 0, "nothing is stored for a start or a made-up state");
    assert_eq!(count(&app, "smartcard.started"), 0);
    app.stop().await;
}
