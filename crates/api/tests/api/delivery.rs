//! The outbox and its delivery worker: SMTP and GOV.UK Notify transports, retries, dead
//! messages, crash recovery through leases, and two workers sharing one database.

use std::collections::BTreeSet;
use std::time::Duration;

use esr_persistence::outbox::{self, NewMessage};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestBackend, spawn_app_with, spawn_second_instance};
use crate::recovery::{request_recovery, token_for};
use crate::smtp_server;

const JANE_EMAIL: &str = "jane.smith@demo.example.org";

fn notice() -> Value {
    json!({"username": "999JSMITH01", "organisation_code": "999", "organisation_name": "Demo NHS Trust", "at": "2026-11-25T10:00:00Z"})
}

fn enqueue(app: &TestApp, n: usize) -> Vec<String> {
    let mut conn = app.db();
    (0..n)
        .map(|i| {
            outbox::enqueue(
                &mut conn,
                &NewMessage {
                    kind: outbox::EmailKind::PasswordChanged,
                    recipient: &format!("staff{i}@demo.example.org"),
                    language: "en",
                    account_id: None,
                    payload: &notice(),
                },
                chrono::Utc::now(),
            )
            .unwrap()
        })
        .collect()
}

async fn wait_for_status(app: &TestApp, status: &str, count: i64) -> outbox::OutboxStats {
    for _ in 0..300 {
        let stats = outbox::stats(&mut app.db()).unwrap();
        let n = match status {
            "sent" => stats.sent,
            "dead" => stats.dead,
            _ => stats.pending,
        };
        if n >= count {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "outbox did not reach {count} {status} in 30 s: {:?}",
        outbox::stats(&mut app.db()).unwrap()
    );
}

fn mailbox_ids(app: &TestApp) -> Vec<String> {
    let messages = esr_api::email::transport::read_mailbox(&app.mailbox, None, 10_000).unwrap();
    messages.into_iter().map(|m| m.id).collect()
}

/// SMTP relay down: the email is retried with backoff and delivered once it is back.
#[tokio::test]
async fn smtp_relay_down_then_back_delivers_the_email() {
    for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
        let port = smtp_server::free_port();
        let Some(app) = spawn_app_with(backend, |c| {
            c.email = smtp_server::plain_config(port, Duration::from_secs(2));
        })
        .await
        else {
            continue;
        };
        assert_eq!(
            request_recovery(&app, JANE_EMAIL, "1985-04-12", Some("999JSMITH01"))
                .await
                .status(),
            202
        );
        // Attempts fail while nothing listens.
        let mut failed = false;
        for _ in 0..100 {
            let pending = outbox::list(&mut app.db(), Some("pending"), 10).unwrap();
            if pending
                .iter()
                .any(|m| m.attempts >= 1 && m.last_error.is_some())
            {
                failed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            failed,
            "a failed attempt is recorded and the message stays pending"
        );
        let metrics = app.metrics().await;
        assert!(
            metrics.contains(r#"esr_outbox_deliveries_total{result="failed"}"#),
            "{metrics}"
        );

        let server = smtp_server::start(port).await;
        wait_for_status(&app, "sent", 1).await;
        let received = server.received.lock().unwrap().clone();
        assert_eq!(received.len(), 1);
        let data = &received[0];
        assert!(
            data.contains("Subject: Your ESR username and password reset"),
            "{data}"
        );
        assert!(data.contains("To: jane.smith@demo.example.org"), "{data}");
        assert!(data.contains("999JSMITH01"), "{data}");
        assert!(data.contains("text/html"), "multipart alternative: {data}");
        let sent = outbox::list(&mut app.db(), Some("sent"), 10).unwrap();
        assert_eq!(sent[0].payload, "{}", "the link is not kept once sent");
        let metrics = app.metrics().await;
        assert!(
            metrics.contains(r#"esr_outbox_messages{status="sent"} 1"#),
            "{metrics}"
        );
        app.stop().await;
    }
}

/// A relay that takes one message's content and then never answers: that send is cut off at
/// the per-send deadline and retried, and the connection it was stuck on is not reused (lettre
/// would hand it back to its pool as healthy), so the next message still goes out.
#[tokio::test]
async fn a_relay_stalled_mid_send_does_not_hold_up_the_next_message() {
    for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
        let port = smtp_server::free_port();
        let server = smtp_server::start_stalling_once(port).await;
        let Some(app) = spawn_app_with(backend, |c| {
            c.email = smtp_server::plain_config(port, Duration::from_secs(1));
        })
        .await
        else {
            continue;
        };
        enqueue(&app, 3);
        let stats = wait_for_status(&app, "sent", 3).await;
        assert_eq!((stats.sent, stats.dead), (3, 0), "{stats:?}");
        assert_eq!(server.received.lock().unwrap().len(), 3);
        let retried = outbox::list(&mut app.db(), Some("sent"), 10)
            .unwrap()
            .into_iter()
            .filter(|m| m.attempts == 2)
            .count();
        assert_eq!(
            retried, 1,
            "only the stalled message needed a second attempt"
        );
        app.stop().await;
    }
}

const NOTIFY_KEY: &str =
    "esr_test-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0";

fn notify_config(server: &wiremock::MockServer) -> esr_api::config::EmailConfig {
    esr_api::config::EmailConfig::Notify {
        base_url: url::Url::parse(&server.uri()).unwrap(),
        api_key: NOTIFY_KEY.into(),
        templates: notify_template_ids(),
        timeout: Duration::from_secs(2),
    }
}

/// The id of the English password-changed template in [`notify_template_ids`].
const PASSWORD_CHANGED_EN: &str = "f33517ff-2a88-4f6e-b855-c550268ce08a";

/// An id for every Notify template in both languages.
fn notify_template_ids() -> esr_api::config::NotifyTemplateIds {
    let names = esr_api::email::notify_fields::template_names();
    let mut ids = esr_api::config::NotifyTemplateIds::new();
    for (i, name) in names.into_iter().enumerate() {
        for (j, language) in ["en", "cy"].into_iter().enumerate() {
            let id = if (name, language) == ("password_changed", "en") {
                PASSWORD_CHANGED_EN.to_owned()
            } else {
                format!("00000000-0000-4000-8000-{:012}", i * 2 + j)
            };
            ids.entry(name.to_owned())
                .or_default()
                .insert(language.to_owned(), id);
        }
    }
    ids
}

/// GOV.UK Notify gets a valid HS256 token, the email's own template, only the fields that fill
/// it (never the whole text) and the outbox id.
#[tokio::test]
async fn notify_receives_a_signed_request_with_the_outbox_reference() {
    use wiremock::matchers::{method, path};
    for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(method("POST"))
            .and(path("/v2/notifications/email"))
            .respond_with(
                wiremock::ResponseTemplate::new(201)
                    .set_body_json(json!({"id": "740e5834-3a29-46b4-9a6f-16142fde533a"})),
            )
            .mount(&server)
            .await;
        let Some(app) = spawn_app_with(backend, |c| c.email = notify_config(&server)).await else {
            continue;
        };
        let ids = enqueue(&app, 1);
        wait_for_status(&app, "sent", 1).await;
        let requests = server.received_requests().await.unwrap();
        assert_eq!(requests.len(), 1);
        let req = &requests[0];
        let bearer = req
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap()
            .strip_prefix("Bearer ")
            .unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_required_spec_claims(&["iss"]);
        validation.set_issuer(&["26785a09-ab16-4eb0-8407-a37497a57506"]);
        validation.validate_exp = false;
        jsonwebtoken::decode::<Value>(
            bearer,
            &jsonwebtoken::DecodingKey::from_secret(b"3d844edf-8d35-48ac-975b-e847b4f122b0"),
            &validation,
        )
        .expect("the token verifies with the key's secret");
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(body["email_address"], "staff0@demo.example.org");
        assert_eq!(body["template_id"], PASSWORD_CHANGED_EN);
        assert_eq!(body["reference"], ids[0].as_str());
        let fields = body["personalisation"].as_object().unwrap();
        let names: Vec<&str> = fields.keys().map(String::as_str).collect();
        assert_eq!(names, ["account", "login_link", "when"]);
        assert_eq!(fields["account"], "999JSMITH01 (999 Demo NHS Trust)");
        assert_eq!(fields["when"], "25 November 2026 at 10:00 UTC");
        assert!(fields["login_link"].as_str().unwrap().ends_with('/'));
        app.stop().await;
    }
}

crate::both_backends_owned!(
    refused_messages_end_dead_and_can_be_retried,
    shutdown_releases_unsent_claims,
    pending_count_and_oldest_age_are_metrics,
);

/// The value of the sample `name` (with its labels) on `/metrics`.
async fn metric(app: &TestApp, name: &str) -> f64 {
    let metrics = app.metrics().await;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} in {metrics}"))
        .trim()
        .parse()
        .unwrap()
}

/// With no worker to send them, queued emails show on `/metrics` as pending, with the age of
/// the oldest: what an operator alerts on when delivery stalls.
async fn pending_count_and_oldest_age_are_metrics(backend: TestBackend) {
    let Some(app) = spawn_app_with(backend, |c| c.outbox.worker = false).await else {
        return;
    };
    let pending = r#"esr_outbox_messages{status="pending"}"#;
    let oldest = "esr_outbox_oldest_pending_age_seconds";
    assert_eq!(metric(&app, pending).await, 0.0);
    assert_eq!(metric(&app, oldest).await, 0.0, "0 when none is pending");
    let mut conn = app.db();
    for minutes_ago in [5, 2, 0] {
        outbox::enqueue(
            &mut conn,
            &NewMessage {
                kind: outbox::EmailKind::PasswordChanged,
                recipient: "staff@demo.example.org",
                language: "en",
                account_id: None,
                payload: &notice(),
            },
            chrono::Utc::now() - chrono::Duration::minutes(minutes_ago),
        )
        .unwrap();
    }
    assert_eq!(metric(&app, pending).await, 3.0);
    let age = metric(&app, oldest).await;
    assert!(
        (300.0..360.0).contains(&age),
        "the oldest is 5 minutes old: {age}"
    );
    assert_eq!(
        metric(&app, r#"esr_outbox_messages{status="sent"}"#).await,
        0.0
    );
    app.stop().await;
}

/// A permanent refusal makes the message dead at once (visible in metrics, retryable);
/// temporary ones are retried up to the limit.
async fn refused_messages_end_dead_and_can_be_retried(backend: TestBackend) {
    use wiremock::matchers::method;
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(400).set_body_json(json!({"errors": [{"error": "BadRequestError", "message": "Can't send to this recipient"}]})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    wiremock::Mock::given(method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let Some(app) = spawn_app_with(backend, |c| {
        c.email = notify_config(&server);
        c.outbox.max_attempts = 3;
    })
    .await
    else {
        return;
    };
    let ids = enqueue(&app, 2);
    wait_for_status(&app, "dead", 2).await;
    let dead = outbox::list(&mut app.db(), Some("dead"), 10).unwrap();
    let attempts: BTreeSet<i32> = dead.iter().map(|m| m.attempts).collect();
    assert_eq!(
        attempts,
        BTreeSet::from([1, 3]),
        "permanent: 1 attempt; temporary: all 3"
    );
    assert!(dead.iter().all(|m| {
        m.last_error
            .as_deref()
            .is_some_and(|e| e.contains("Notify answered"))
    }));
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"esr_outbox_messages{status="dead"} 2"#),
        "{metrics}"
    );
    let events = esr_persistence::audit::recent(&mut app.db(), None, 20).unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type == "email.dead")
            .count(),
        2
    );

    server.reset().await;
    wiremock::Mock::given(method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(201))
        .mount(&server)
        .await;
    assert!(outbox::retry(&mut app.db(), &ids[0], chrono::Utc::now()).unwrap());
    wait_for_status(&app, "sent", 1).await;
    app.stop().await;
}

/// A worker killed after claiming loses nothing: its lease runs out and another instance
/// delivers every message.
#[tokio::test]
async fn a_crashed_workers_claims_are_delivered_by_another_instance() {
    for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
        let Some(first) = spawn_app_with(backend, |c| c.outbox.worker = false).await else {
            continue;
        };
        let ids = enqueue(&first, 5);
        // The "crashed" worker claims everything and never reports back.
        let claimed = outbox::claim(
            &mut first.db(),
            "crashed-worker",
            10,
            chrono::Duration::seconds(1),
            chrono::Utc::now(),
        )
        .unwrap();
        assert_eq!(claimed.len(), 5);
        let survivor = spawn_second_instance(&first, |_| {}).await;
        wait_for_status(&survivor, "sent", 5).await;
        let delivered: BTreeSet<String> = mailbox_ids(&survivor).into_iter().collect();
        assert_eq!(delivered, ids.into_iter().collect());
        survivor.stop().await;
        first.stop().await;
    }
}

/// Two instances' workers on one PostgreSQL database send each of 200 messages exactly once.
#[tokio::test]
async fn two_workers_never_send_the_same_message_twice() {
    let Some(first) = spawn_app_with(TestBackend::Postgres, |_| {}).await else {
        return;
    };
    let second = spawn_second_instance(&first, |_| {}).await;
    let ids = enqueue(&first, 200);
    wait_for_status(&first, "sent", 200).await;
    let mut all = mailbox_ids(&first);
    let from_second = mailbox_ids(&second);
    assert!(
        !all.is_empty() && !from_second.is_empty(),
        "both workers took part ({} / {})",
        all.len(),
        from_second.len()
    );
    all.extend(from_second);
    assert_eq!(all.len(), 200, "no duplicates");
    let unique: BTreeSet<String> = all.into_iter().collect();
    assert_eq!(unique, ids.into_iter().collect());
    second.stop().await;
    first.stop().await;
}

/// Graceful shutdown releases claims the worker had not sent yet, so they are not stuck for
/// a lease.
async fn shutdown_releases_unsent_claims(backend: TestBackend) {
    let Some(app) = spawn_app_with(backend, |c| c.outbox.worker = false).await else {
        return;
    };
    enqueue(&app, 3);
    let mut conn = app.db();
    let claimed = outbox::claim(
        &mut conn,
        "w1",
        10,
        chrono::Duration::seconds(60),
        chrono::Utc::now(),
    )
    .unwrap();
    assert_eq!(claimed.len(), 3);
    assert_eq!(outbox::release(&mut conn, "w1").unwrap(), 3);
    let pending = outbox::list(&mut conn, Some("pending"), 10).unwrap();
    assert_eq!(pending.len(), 3);
    assert!(
        pending
            .iter()
            .all(|m| m.attempts == 0 && m.claimed_by.is_none()),
        "released claims do not count as attempts"
    );
    app.stop().await;
}

/// The reset link in a delivered email works exactly once even when two browsers race.
#[tokio::test]
async fn concurrent_resets_with_one_link_succeed_once() {
    for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
        let Some(app) = spawn_app_with(backend, |c| c.rate_recovery_per_ip = 0).await else {
            continue;
        };
        request_recovery(&app, JANE_EMAIL, "1985-04-12", Some("999JSMITH01")).await;
        let email = app.wait_for_mail(JANE_EMAIL, 1).await.remove(0);
        let token = token_for(&email, "reset", "999JSMITH01");
        let attempts = (0..6).map(|i| {
            let password = format!("Racing browsers number {i}");
            let body = json!({"token": token, "username": "999JSMITH01", "new_password": password, "confirm_password": password});
            let client = app.client.clone();
            let url = format!("{}/v1/password-resets", app.address);
            async move { client.post(url).json(&body).send().await.unwrap().status().as_u16() }
        });
        let statuses = futures_util::future::join_all(attempts).await;
        assert_eq!(
            statuses.iter().filter(|s| **s == 204).count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| matches!(s, 204 | 400)),
            "{statuses:?}"
        );
        app.stop().await;
    }
}

/// A worker still busy with earlier messages of its batch when the lease on a later one lapses
/// does not send that one: the claim is re-checked (and extended) just before each send, so a
/// slow batch is never sent by two live workers.
#[tokio::test]
async fn a_lapsed_claim_is_not_sent_by_the_worker_that_lost_it() {
    for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
        let Some(app) = spawn_app_with(backend, |c| c.outbox.worker = false).await else {
            continue;
        };
        let ids = enqueue(&app, 1);
        let mut conn = app.db();
        let lease = chrono::Duration::seconds(60);
        let t0 = chrono::Utc::now();
        assert_eq!(
            outbox::claim(&mut conn, "w1", 10, lease, t0).unwrap().len(),
            1
        );
        let t1 = t0 + chrono::Duration::seconds(30);
        assert!(
            outbox::renew(&mut conn, &ids[0], "w1", lease, t1).unwrap(),
            "held: renewed"
        );
        // w1 stays busy beyond the renewed lease; w2 takes the message over.
        let t2 = t1 + chrono::Duration::seconds(61);
        assert_eq!(
            outbox::claim(&mut conn, "w2", 10, lease, t2).unwrap().len(),
            1
        );
        assert!(
            !outbox::renew(&mut conn, &ids[0], "w1", lease, t2).unwrap(),
            "w1 lost the claim and must not send"
        );
        assert!(outbox::renew(&mut conn, &ids[0], "w2", lease, t2).unwrap());
        // A lapsed claim cannot be renewed even before anyone else takes it.
        let ids = enqueue(&app, 1);
        let t3 = t2 + chrono::Duration::seconds(1);
        assert_eq!(
            outbox::claim(&mut conn, "w3", 10, lease, t3).unwrap().len(),
            1
        );
        assert!(
            !outbox::renew(&mut conn, &ids[0], "w3", lease, t3 + lease).unwrap(),
            "expired"
        );
        app.stop().await;
    }
}
