//! Two `esr-api` processes on one PostgreSQL database, both running the delivery worker: what
//! each guarantee of SPEC §5 ("lockout counters, sessions, tokens and the outbox stay
//! consistent across instances") looks like from outside.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use esr_domain::{AccountStatus, InternetAccessStatus, OrganisationCode, Username};
use esr_persistence::outbox;
use esr_persistence::people::{self, NewPerson};
use esr_persistence::{accounts, audit};
use serde_json::{Value, json};

use crate::harness::{
    Instance, InstanceBuilder, JANE, JANE_PASSWORD, PgDb, enqueue_notices, free_port, problem,
    wait_until,
};
use crate::sink::Sink;

const JANE_EMAIL: &str = "jane.smith@demo.example.org";

/// Starts A, then B (after A has migrated and seeded), on `db` with `adjust` applied to both.
/// Like instances behind one load balancer, they share one public base URL, which is the
/// access tokens' `iss` (the dev default, `http://LISTEN_ADDR`, would differ per instance).
const BASE: &str = "http://esr-access.invalid";

async fn pair(
    db: &PgDb,
    adjust: impl Fn(InstanceBuilder) -> InstanceBuilder,
) -> (Instance, Instance) {
    let a = adjust(InstanceBuilder::new("inst-a", db.url()).env("ESR_PUBLIC_BASE_URL", BASE))
        .spawn()
        .await;
    let b = adjust(InstanceBuilder::new("inst-b", db.url()).env("ESR_PUBLIC_BASE_URL", BASE))
        .spawn()
        .await;
    (a, b)
}

#[tokio::test]
async fn lockout_is_exact_with_parallel_wrong_attempts_split_across_two_instances() {
    let Some(db) = PgDb::fresh() else { return };
    let (a, b) = pair(&db, InstanceBuilder::unlimited).await;

    let attempts = (0..30).map(|i| {
        let instance = if i % 2 == 0 { &a } else { &b };
        async move {
            instance
                .login(JANE, &format!("wrong guess number {i}"))
                .await
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");

    let mut conn = db.conn();
    let account = accounts::find_by_username(&mut conn, &Username::parse(JANE).unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(
        account.failed_login_count, 5,
        "exactly the threshold counted, whatever instance took the attempt"
    );
    assert_eq!(account.status, AccountStatus::Locked);

    let events = audit::recent(&mut conn, Some(&account.id), 500).unwrap();
    let count = |t: &str| events.iter().filter(|e| e.event_type == t).count();
    assert_eq!(count("account.locked"), 1, "locked exactly once");
    assert_eq!(count("login.failed"), 30, "every attempt audited once");
    // The instances run in dev mode without key files: the chain is keyed with the dev key.
    let dev_key = esr_api::audit::DigestKey::from_secret(b"esr-access development").chain_key();
    assert_eq!(
        audit::verify_chain(&mut conn, &dev_key)
            .unwrap()
            .first_broken,
        None
    );
    let lock_emails = outbox::list(&mut conn, None, 1000)
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == "account_locked" && m.recipient == JANE_EMAIL)
        .count();
    assert_eq!(lock_emails, 1, "one 'your account was locked' email");

    // The right password is now refused as locked, on both instances, with the same 401.
    for instance in [&a, &b] {
        let res = instance.login(JANE, JANE_PASSWORD).await;
        assert_eq!(res.status(), 401);
        assert_eq!(problem(res).await["code"], "invalid-credentials");
    }
}

#[tokio::test]
async fn refresh_token_spent_on_one_instance_is_refused_on_the_other_and_revokes_the_session() {
    let Some(db) = PgDb::fresh() else { return };
    let (a, b) = pair(&db, |i| i).await;

    let res = a.login(JANE, JANE_PASSWORD).await;
    assert_eq!(res.status(), 200);
    let first: Value = res.json().await.unwrap();
    let r1 = first["refresh_token"].as_str().unwrap();
    // Both instances verify each other's access tokens (one signing key in the database).
    let a1 = first["access_token"].as_str().unwrap();
    assert_eq!(b.get_auth("/v1/me", a1).await.status(), 200);

    let res = a.refresh(r1).await;
    assert_eq!(res.status(), 200);
    let second: Value = res.json().await.unwrap();
    let r2 = second["refresh_token"].as_str().unwrap();
    let a2 = second["access_token"].as_str().unwrap();
    assert_eq!(b.get_auth("/v1/me", a2).await.status(), 200);

    // r2 spent on A; then r1, spent on A before it, replayed on B: refused, and the whole
    // session ends.
    let res = a.refresh(r2).await;
    assert_eq!(res.status(), 200);
    let third: Value = res.json().await.unwrap();
    let r3 = third["refresh_token"].as_str().unwrap();
    let res = b.refresh(r1).await;
    assert_eq!(res.status(), 401);
    assert_eq!(problem(res).await["code"], "invalid-refresh-token");
    for instance in [&a, &b] {
        let res = instance.refresh(r3).await;
        assert_eq!(res.status(), 401, "the newer token dies with the session");
        assert_eq!(problem(res).await["code"], "invalid-refresh-token");
        assert_eq!(instance.get_auth("/v1/me", a2).await.status(), 401);
    }
    let events = audit::recent(&mut db.conn(), None, 100).unwrap();
    assert!(
        events
            .iter()
            .filter(|e| e.event_type == "refresh_token.reused")
            .count()
            >= 1,
        "reuse audited (and every later try with a token of the revoked session)"
    );
}

/// Inserts `n` approved staff of organisation 999 with their own work email each.
fn insert_staff(db: &PgDb, n: usize) -> Vec<(String, String)> {
    let mut conn = db.conn();
    let org = OrganisationCode::parse("999").unwrap();
    let dob = NaiveDate::from_ymd_opt(1990, 1, 2).unwrap();
    (0..n)
        .map(|i| {
            let letters: String = [i / 26, i % 26]
                .iter()
                .map(|d| char::from(b'a' + u8::try_from(*d).unwrap()))
                .collect();
            let last = format!("Load{letters}");
            let email = format!("staff.{i}@demo.example.org");
            let person = people::insert(
                &mut conn,
                &NewPerson {
                    organisation_code: &org,
                    employee_number: &format!("9{i:05}"),
                    first_name: "Sam",
                    last_name: &last,
                    date_of_birth: dob,
                    work_email: &email,
                    smartcard_subject: None,
                    language: "en",
                },
                Utc::now(),
            )
            .unwrap();
            let account = accounts::find_or_create_for_person(
                &mut conn,
                &person,
                InternetAccessStatus::Approved,
                Utc::now(),
            )
            .unwrap()
            .unwrap();
            (email, account.username.as_str().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn two_hundred_recovery_emails_are_each_delivered_exactly_once_by_two_workers() {
    let Some(db) = PgDb::fresh() else { return };
    // Small batches so both workers take part.
    let (a, b) = pair(&db, |i| i.unlimited().env("ESR_OUTBOX_BATCH", "5")).await;
    let staff = insert_staff(&db, 200);

    let requests = staff.iter().enumerate().map(|(i, (email, _))| {
        let instance = if i % 2 == 0 { &a } else { &b };
        async move {
            instance
                .post_json(
                    "/v1/recovery-requests",
                    &json!({"work_email": email, "date_of_birth": "1990-01-02"}),
                )
                .await
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == 202), "{statuses:?}");

    wait_until("200 emails sent", Duration::from_secs(120), || async {
        let stats = outbox::stats(&mut db.conn()).unwrap();
        (stats.sent >= 200).then_some(())
    })
    .await;
    // Let any straggling duplicate show itself before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (from_a, from_b) = (a.mailbox(), b.mailbox());
    let mut per_recipient: BTreeMap<String, usize> = BTreeMap::new();
    for m in from_a.iter().chain(&from_b) {
        *per_recipient.entry(m.to.clone()).or_insert(0) += 1;
    }
    assert_eq!(per_recipient.len(), 200, "every recipient got mail");
    let duplicated: Vec<_> = per_recipient.iter().filter(|(_, n)| **n != 1).collect();
    assert!(duplicated.is_empty(), "each exactly once: {duplicated:?}");
    for (email, username) in &staff {
        let m = from_a
            .iter()
            .chain(&from_b)
            .find(|m| &m.to == email)
            .unwrap();
        assert!(
            m.text.contains(username.as_str()),
            "{email} got its own username"
        );
    }
    assert!(
        !from_a.is_empty() && !from_b.is_empty(),
        "both workers delivered ({} by A, {} by B)",
        from_a.len(),
        from_b.len()
    );
    let stats = outbox::stats(&mut db.conn()).unwrap();
    assert_eq!(
        (stats.sent, stats.pending, stats.sending, stats.dead),
        (200, 0, 0, 0)
    );
}

/// One instance is SIGKILLed while its worker holds leased messages (one of them half sent: the
/// relay took the content and never acknowledged it). The survivor takes them over when the
/// lease runs out. Guarantee: nothing is lost; a message is duplicated only if it was cut off
/// after the relay received its content (here: exactly the one in flight).
#[tokio::test]
async fn sigkill_mid_delivery_loses_nothing_and_the_survivor_delivers_after_the_lease() {
    let Some(db) = PgDb::fresh() else { return };
    let port = free_port();
    let sink = Sink::start(port).await;
    sink.set_stall(true);
    let (mut a, mut b) = pair(&db, |i| {
        i.smtp(port)
            .env("ESR_OUTBOX_LEASE_SECS", "4")
            .env("ESR_EMAIL_TIMEOUT_MS", "3000")
            .env("ESR_OUTBOX_BATCH", "20")
    })
    .await;

    // Ten emails queued at once: whichever worker claims first takes all of them.
    let mut conn = db.conn();
    let recipients: Vec<String> = (0..10)
        .map(|i| format!("kill.{i}@demo.example.org"))
        .collect();
    enqueue_notices(&mut conn, &recipients);
    // The holder's first send is stuck at the relay.
    sink.wait_until_stuck().await;
    let claims = outbox::list(&mut conn, Some("sending"), 100).unwrap();
    let holder = claims[0].claimed_by.clone().unwrap();
    assert!(
        claims
            .iter()
            .all(|m| m.claimed_by.as_deref() == Some(&holder)),
        "one worker holds the batch"
    );
    let (victim, survivor) = if holder.starts_with("inst-a-") {
        (&mut a, &mut b)
    } else {
        (&mut b, &mut a)
    };
    victim.sigkill();
    sink.set_stall(false);

    wait_until(
        "the survivor delivers all ten",
        Duration::from_secs(60),
        || async {
            let stats = outbox::stats(&mut db.conn()).unwrap();
            (stats.sent == 10).then_some(())
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(survivor.alive());

    let accepted = sink.accepted_per_recipient();
    assert_eq!(accepted.len(), 10, "none lost: {accepted:?}");
    assert!(
        accepted.values().all(|n| *n == 1),
        "each acknowledged once: {accepted:?}"
    );
    let cut_off = sink.cut_off();
    assert_eq!(cut_off.len(), 1, "only the message in flight was cut off");
    assert!(recipients.contains(&cut_off[0].to));
    let sent = outbox::list(&mut db.conn(), Some("sent"), 100).unwrap();
    assert!(
        sent.iter()
            .all(|m| !m.claimed_by.as_deref().unwrap_or_default().is_empty()
                && m.claimed_by.as_deref() != Some(holder.as_str())),
        "all sent by the survivor"
    );
}
