//! Faults around one real `esr-api` process: its database cut off and given back, its SMTP
//! relay down, a slow identity provider, a full disk under SQLite, and SIGTERM with a request
//! in flight. The database cut needs PostgreSQL; the SMTP outage runs on both backends; the
//! rest run on SQLite everywhere.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use esr_persistence::outbox;
use serde_json::{Value, json};

use crate::harness::{
    Instance, InstanceBuilder, JANE, JANE_PASSWORD, PgDb, client, db_conn, enqueue_notices,
    free_port, problem, wait_until,
};
use crate::idp::SlowIdp;
use crate::proxy::Proxy;
use crate::sink::Sink;

/// A SQLite database in a directory of its own.
fn sqlite_db() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("esr.db").display());
    (dir, url)
}

/// What one request of the background traffic saw.
#[derive(Debug)]
struct Seen {
    what: &'static str,
    /// `None`: no answer (connection error or the client's 30 s timeout).
    status: Option<u16>,
    problem_json: bool,
    retry_after: bool,
    elapsed: Duration,
    refresh_token: Option<String>,
}

async fn observe(what: &'static str, request: reqwest::RequestBuilder) -> Seen {
    let start = Instant::now();
    match request.send().await {
        Err(_) => Seen {
            what,
            status: None,
            problem_json: false,
            retry_after: false,
            elapsed: start.elapsed(),
            refresh_token: None,
        },
        Ok(res) => {
            let status = res.status().as_u16();
            let problem_json = res
                .headers()
                .get("content-type")
                .is_some_and(|v| v == "application/problem+json");
            let retry_after = res.headers().contains_key("retry-after");
            let body: Value = res.json().await.unwrap_or(Value::Null);
            Seen {
                what,
                status: Some(status),
                problem_json,
                retry_after,
                elapsed: start.elapsed(),
                refresh_token: body["refresh_token"].as_str().map(str::to_owned),
            }
        }
    }
}

/// Logins and reads against `address` until `stop`.
fn traffic(address: String, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<Vec<Seen>> {
    tokio::spawn(async move {
        let http = client();
        let mut seen = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            seen.push(
                observe(
                    "login",
                    http.post(format!("{address}/v1/auth/login"))
                        .json(&json!({"username": JANE, "password": JANE_PASSWORD})),
                )
                .await,
            );
            seen.push(
                observe(
                    "organisation",
                    http.get(format!("{address}/v1/organisations/999")),
                )
                .await,
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        seen
    })
}

/// The database goes away under traffic and comes back. PostgreSQL is reached through a
/// proxy the test cuts, so the shared server keeps running.
#[tokio::test]
async fn database_cut_under_traffic_answers_503_fast_and_recovers_without_losing_data() {
    let Some(db) = PgDb::fresh() else { return };
    let proxy = Proxy::start(db.server_addr()).await;
    let pool_timeout = Duration::from_millis(1000);
    let mut instance = InstanceBuilder::new("inst-db", &db.url_via(proxy.port))
        .unlimited()
        .env(
            "ESR_DATABASE_TIMEOUT_MS",
            pool_timeout.as_millis().to_string(),
        )
        .spawn()
        .await;

    let stop = Arc::new(AtomicBool::new(false));
    let background = traffic(instance.address.clone(), Arc::clone(&stop));
    tokio::time::sleep(Duration::from_secs(1)).await;

    proxy.cut();
    let res = wait_until("ready → 503", Duration::from_secs(10), || async {
        let res = instance.get("/health/ready").await;
        (res.status() == 503).then_some(res)
    })
    .await;
    problem(res).await;
    // Requests fail fast: a 503 problem within the pool timeout (plus the work around it).
    for _ in 0..3 {
        let start = Instant::now();
        let res = instance.login(JANE, JANE_PASSWORD).await;
        let elapsed = start.elapsed();
        assert_eq!(res.status(), 503);
        assert!(res.headers().contains_key("retry-after"));
        assert_eq!(problem(res).await["code"], "database-unavailable");
        assert!(
            elapsed < pool_timeout + Duration::from_secs(3),
            "answered in {elapsed:?}"
        );
        let res = instance.get("/v1/organisations/999").await;
        assert_eq!(res.status(), 503);
        problem(res).await;
    }
    assert_eq!(instance.get("/health/live").await.status(), 200);
    tokio::time::sleep(Duration::from_secs(1)).await;

    proxy.restore();
    wait_until("ready → 200", Duration::from_secs(20), || async {
        (instance.get("/health/ready").await.status() == 200).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::SeqCst);
    let seen = background.await.unwrap();

    assert!(instance.alive(), "the process survived");
    assert!(!instance.log().contains("panicked"), "no panic");
    let unanswered: Vec<_> = seen.iter().filter(|s| s.status.is_none()).collect();
    assert!(
        unanswered.is_empty(),
        "no hang, no dropped connection: {unanswered:?}"
    );
    let odd: Vec<_> = seen
        .iter()
        .filter(|s| !matches!(s.status, Some(200 | 503)))
        .collect();
    assert!(odd.is_empty(), "only 200 or 503: {odd:?}");
    let bad_503: Vec<_> = seen
        .iter()
        .filter(|s| s.status == Some(503) && !(s.problem_json && s.retry_after))
        .collect();
    assert!(
        bad_503.is_empty(),
        "503s are problems with Retry-After: {bad_503:?}"
    );
    let slow: Vec<_> = seen
        .iter()
        .filter(|s| s.elapsed > pool_timeout + Duration::from_secs(3))
        .collect();
    assert!(slow.is_empty(), "every answer came fast: {slow:?}");
    assert!(
        seen.iter().any(|s| s.status == Some(503)),
        "the traffic saw the outage"
    );
    assert!(
        seen.iter().filter(|s| s.what == "login").count() >= 2,
        "{seen:?}"
    );

    // No data lost: every session the service confirmed (200) before, during or after the
    // outage is still there and its refresh token works.
    let confirmed: Vec<&str> = seen
        .iter()
        .filter_map(|s| s.refresh_token.as_deref())
        .collect();
    assert!(!confirmed.is_empty());
    for token in confirmed {
        assert_eq!(instance.refresh(token).await.status(), 200);
    }
}

/// The SMTP relay is down for a while: each attempt fails, is retried with exponential
/// backoff, and the email is delivered once the relay is back.
mod smtp_down_for_a_while_is_retried_with_backoff_and_delivered_after_recovery {
    #[tokio::test]
    async fn sqlite() {
        let (_dir, url) = super::sqlite_db();
        super::smtp_down_for_a_while_is_retried_with_backoff_and_delivered_after_recovery(&url)
            .await;
    }

    #[tokio::test]
    async fn postgres() {
        let Some(db) = super::PgDb::fresh() else {
            return;
        };
        super::smtp_down_for_a_while_is_retried_with_backoff_and_delivered_after_recovery(db.url())
            .await;
    }
}

async fn smtp_down_for_a_while_is_retried_with_backoff_and_delivered_after_recovery(url: &str) {
    let url = url.to_owned();
    let port = free_port();
    let instance = InstanceBuilder::new("inst-smtp", &url)
        .smtp(port)
        .env("ESR_OUTBOX_RETRY_BASE_MS", "300")
        .env("ESR_OUTBOX_MAX_ATTEMPTS", "12")
        .env("ESR_EMAIL_TIMEOUT_MS", "2000")
        .spawn()
        .await;
    let res = instance
        .post_json(
            "/v1/recovery-requests",
            &json!({"work_email": "jane.smith@demo.example.org", "date_of_birth": "1985-04-12", "username": JANE}),
        )
        .await;
    assert_eq!(res.status(), 202);

    // The time each failed attempt schedules the next one for, by attempt number.
    let mut next_at = std::collections::BTreeMap::new();
    let started = Instant::now();
    while !(next_at.len() >= 3 && next_at.keys().any(|a| *a >= 3)) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "three failed attempts within 30 s: {next_at:?}"
        );
        let mut conn = db_conn(&url);
        if let Some(m) = outbox::list(&mut conn, Some("pending"), 10)
            .unwrap()
            .into_iter()
            .find(|m| m.last_error.is_some())
        {
            next_at.entry(m.attempts).or_insert(m.next_attempt_at);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let times: Vec<_> = next_at.values().copied().collect();
    let gaps: Vec<_> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.windows(2).all(|g| g[1] > g[0]),
        "the delay grows with each attempt: {gaps:?}"
    );

    let sink = Sink::start(port).await;
    wait_until(
        "delivered after recovery",
        Duration::from_secs(30),
        || async { (!sink.accepted().is_empty()).then_some(()) },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(sink.accepted()[0].data.contains("999JSMITH01"));
    assert_eq!(
        sink.accepted_per_recipient()
            .get("jane.smith@demo.example.org")
            .copied(),
        Some(1),
        "delivered exactly once"
    );
    let stats = outbox::stats(&mut db_conn(&url)).unwrap();
    assert_eq!((stats.sent, stats.pending, stats.dead), (1, 0, 0));
}

/// An identity provider slower than `ESR_OIDC_TIMEOUT_MS`: the smartcard start answers 503
/// within the timeout; the rest of the service keeps answering meanwhile.
#[tokio::test]
async fn slow_identity_provider_times_out_with_503_and_blocks_nothing_else() {
    let (_dir, url) = sqlite_db();
    let idp = SlowIdp::start(Duration::from_secs(30)).await;
    let instance = InstanceBuilder::new("inst-idp", &url)
        .env("ESR_OIDC_ISSUER", idp.issuer.clone())
        .env("ESR_OIDC_TIMEOUT_MS", "1000")
        .env("ESR_WORKERS", "1")
        .spawn()
        .await;
    let start_body = json!({"redirect_uri": "http://localhost:3000/smartcard/callback"});
    let smartcard = async {
        let start = Instant::now();
        let res = instance
            .post_json("/v1/auth/smartcard/start", &start_body)
            .await;
        (res, start.elapsed())
    };
    // Meanwhile, on the same single worker, other requests are served.
    let others = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let start = Instant::now();
        let live = instance.get("/health/live").await.status().as_u16();
        let org = instance
            .get("/v1/organisations/999")
            .await
            .status()
            .as_u16();
        (live, org, start.elapsed())
    };
    let ((res, elapsed), (live, org, others_elapsed)) = tokio::join!(smartcard, others);
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(problem(res).await["code"], "identity-provider-unavailable");
    assert!(elapsed < Duration::from_secs(5), "timed out in {elapsed:?}");
    assert_eq!((live, org), (200, 200));
    assert!(
        others_elapsed < Duration::from_secs(1),
        "not blocked behind the provider: {others_elapsed:?}"
    );
    assert!(idp.requests() >= 1, "the provider was really called");
    // A failure is not cached: the next start tries again (and times out again).
    let res = instance
        .post_json("/v1/auth/smartcard/start", &start_body)
        .await;
    assert_eq!(res.status(), 503);
    assert!(idp.requests() >= 2);
    // Each outage leaves a warning in the log (JSON lines) for the operator, with its cause.
    let log = instance.log();
    let warnings: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| {
            l["level"] == "WARN"
                && l["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("identity provider unavailable"))
        })
        .collect();
    assert!(
        warnings.len() >= 2 && warnings.iter().all(|w| w["error"].is_string()),
        "a warning per outage: {warnings:?}\n{log}"
    );
}

fn prlimit_fsize(instance: &Instance, soft: &str) {
    let ok = std::process::Command::new("prlimit")
        .arg("--pid")
        .arg(instance.pid().to_string())
        .arg(format!("--fsize={soft}:"))
        .status()
        .expect("prlimit(1) runs")
        .success();
    assert!(ok, "prlimit --fsize={soft}");
}

/// The disk fills up under a SQLite instance that also logs to a file on it: a file-size
/// limit (RLIMIT_FSIZE, with SIGXFSZ ignored) makes every write to the database files and to
/// the log fail, as `ENOSPC` would. Writes answer 503 problems (not dropped connections: a
/// failed log line once panicked the request), reads keep working, and writes work again once
/// there is room.
#[tokio::test]
async fn disk_full_on_sqlite_answers_writes_503_and_recovers() {
    if std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("skipped: prlimit(1) (util-linux) is not installed");
        return;
    }
    let (_dir, url) = sqlite_db();
    let mut instance = InstanceBuilder::new("inst-disk", &url)
        .unlimited()
        .env("ESR_DELIVERY_WORKER", "false")
        .ignore_sigxfsz()
        .log_to_file()
        .spawn()
        .await;
    assert_eq!(instance.login(JANE, JANE_PASSWORD).await.status(), 200);

    // Below the size of every file already written (database, WAL, log).
    prlimit_fsize(&instance, "1024");
    for (what, res) in [
        ("login", instance.login(JANE, JANE_PASSWORD).await),
        (
            "failed login",
            instance.login(JANE, "not the password at all").await,
        ),
        (
            "recovery request",
            instance
                .post_json(
                    "/v1/recovery-requests",
                    &json!({"work_email": "jane.smith@demo.example.org", "date_of_birth": "1985-04-12"}),
                )
                .await,
        ),
    ] {
        assert_eq!(res.status(), 503, "{what}");
        assert!(res.headers().contains_key("retry-after"), "{what}");
        assert_eq!(problem(res).await["code"], "database-unavailable", "{what}");
    }
    assert_eq!(instance.get("/v1/organisations/999").await.status(), 200);
    assert_eq!(instance.get("/health/live").await.status(), 200);

    prlimit_fsize(&instance, "unlimited");
    let res = instance.login(JANE, JANE_PASSWORD).await;
    assert_eq!(res.status(), 200, "writes work again once there is room");
    assert!(instance.alive());
    // Log lines written while the disk was full are lost; those written after are not.
    let log = instance.log();
    assert!(!log.contains("panicked"), "no panic");
}

/// SIGTERM with a login in flight (slow argon2): the login completes normally, new
/// connections are refused at once, and the process exits 0 within the shutdown timeout.
#[tokio::test]
async fn sigterm_drains_the_request_in_flight_and_exits_zero() {
    let (_dir, url) = sqlite_db();
    let mut instance = InstanceBuilder::new("inst-term", &url)
        .env("ESR_ARGON2_ITERATIONS", "40")
        .env("ESR_SHUTDOWN_TIMEOUT_SECS", "20")
        .spawn()
        .await;
    let login = {
        let http = client();
        let url = instance.url("/v1/auth/login");
        tokio::spawn(async move {
            let res = http
                .post(url)
                .json(&json!({"username": JANE, "password": JANE_PASSWORD}))
                .send()
                .await
                .expect("the request in flight is answered");
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            (status, body)
        })
    };
    // Wait until the login is hashing (so it is surely in flight), then SIGTERM.
    wait_until("login in flight", Duration::from_secs(10), || async {
        let metrics = instance.metrics().await;
        metrics
            .lines()
            .filter(|l| !l.starts_with('#') && l.contains("hashing_in_flight"))
            .any(|l| l.split_whitespace().last() != Some("0"))
            .then_some(())
    })
    .await;
    let signalled = Instant::now();
    instance.signal("TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = std::net::TcpStream::connect(("127.0.0.1", instance.port));
    let (status, body) = login.await.unwrap();
    assert_eq!(status, 200, "the request in flight completed: {body}");
    assert!(body["access_token"].is_string());
    assert!(
        refused.is_err(),
        "new connections are refused once SIGTERM arrived"
    );
    let exit = instance.wait_exit(Duration::from_secs(25)).await;
    assert!(exit.success(), "exit status {exit}");
    assert!(signalled.elapsed() < Duration::from_secs(20));
    assert!(!instance.log().contains("panicked"));
}

mod sigterm_with_a_send_stuck_at_the_relay_finishes_it_and_releases_the_rest {
    #[tokio::test]
    async fn sqlite() {
        let (_dir, url) = super::sqlite_db();
        super::sigterm_with_a_send_stuck_at_the_relay_finishes_it_and_releases_the_rest(&url).await;
    }

    #[tokio::test]
    async fn postgres() {
        let Some(db) = super::PgDb::fresh() else {
            return;
        };
        super::sigterm_with_a_send_stuck_at_the_relay_finishes_it_and_releases_the_rest(db.url())
            .await;
    }
}

/// SIGTERM while the delivery worker holds a batch whose first send hangs at the relay: the
/// process exits 0; the message in flight ends its attempt (here: the relay's timeout, recorded
/// as a failed attempt to retry), and the rest of the batch is released at once — pending, no
/// claim, no attempt counted — instead of waiting out a lease.
async fn sigterm_with_a_send_stuck_at_the_relay_finishes_it_and_releases_the_rest(url: &str) {
    let port = free_port();
    let sink = Sink::start(port).await;
    sink.set_stall(true);
    let mut instance = InstanceBuilder::new("inst-drain", url)
        .smtp(port)
        .env("ESR_EMAIL_TIMEOUT_MS", "2000")
        .env("ESR_OUTBOX_LEASE_SECS", "60")
        .env("ESR_OUTBOX_BATCH", "20")
        .env("ESR_SHUTDOWN_TIMEOUT_SECS", "10")
        .spawn()
        .await;
    let mut conn = db_conn(url);
    let recipients: Vec<String> = (0..5)
        .map(|i| format!("drain.{i}@demo.example.org"))
        .collect();
    enqueue_notices(&mut conn, &recipients);
    sink.wait_until_stuck().await;
    let claimed = outbox::list(&mut conn, Some("sending"), 100).unwrap();
    assert_eq!(claimed.len(), 5, "the worker holds the whole batch");
    assert!(claimed.iter().all(|m| m.attempts == 1));

    instance.signal("TERM");
    let exit = instance.wait_exit(Duration::from_secs(20)).await;
    assert!(exit.success(), "exit status {exit}");

    let in_flight = sink.cut_off()[0].to.clone();
    let all = outbox::list(&mut conn, None, 100).unwrap();
    assert_eq!(all.len(), 5);
    for m in &all {
        assert_eq!(m.status, "pending", "{m:?}");
        assert!(
            m.claimed_by.is_none() && m.lease_until.is_none(),
            "no claim left: {m:?}"
        );
        if m.recipient == in_flight {
            assert_eq!(m.attempts, 1, "the attempt in flight counts: {m:?}");
            assert!(m.last_error.is_some(), "{m:?}");
        } else {
            assert_eq!(m.attempts, 0, "released unsent, no attempt: {m:?}");
            assert!(m.last_error.is_none(), "{m:?}");
        }
    }
    assert_eq!(sink.cut_off().len(), 1, "nothing else was started");
    assert!(sink.accepted().is_empty());
    let log = instance.log();
    assert!(log.contains("delivery worker released its claims"), "{log}");
    assert!(!log.contains("panicked"));
}
