//! Login with a second factor: `POST /v1/auth/login` (argon2id, then a challenge) and
//! `POST /v1/auth/login/mfa` with the authenticator app's current code, as one login, at the
//! same client count as the password-only phase. Compared with the raw argon2id verification
//! rate measured around it in the same run: the second step should cost next to nothing
//! beside the hash (target ≥ 0.9 ×).
//!
//! Each TOTP time step is accepted once per factor, so every login uses an account of its own:
//! the bench gives `ESR_BENCH_MFA_ACCOUNTS` (default 3,000) staff of organisation 999 the same
//! password hash and an authenticator app each, straight into the database, sealed with the
//! server's MFA key.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{NaiveDate, Utc};
use esr_api::mfa::{MfaKey, TotpSecret};
use esr_domain::{
    Argon2Params, InternetAccessStatus, OrganisationCode, Password, PasswordHasher, PasswordPolicy,
    PolicyContext,
};
use esr_persistence::people::{self, NewPerson};
use esr_persistence::{DatabaseUrl, accounts, second_factors};
use hyper::Method;
use hyper::body::Bytes;

use crate::client::{connect, exchange, request};
use crate::knobs::{Knobs, env_usize};
use crate::record::Record;
use crate::server::{CpuMeter, CpuShare, ServerProcess, TICKS, postgres_cpu};

/// The password every bench account has.
const PASSWORD: &str = "Kingfisher over the quiet canal";

/// One bench account: its username and its authenticator app.
struct Account {
    username: String,
    secret: TotpSecret,
}

/// Gives `n` new staff the same password and an authenticator app each.
fn prepare_accounts(url: &str, key: &MfaKey, n: usize) -> Result<Vec<Account>> {
    let url = DatabaseUrl::parse(url)?;
    let mut conn = esr_persistence::connection::establish(&url, Default::default())?;
    let hasher = PasswordHasher::new(Argon2Params::default())?;
    let new = PasswordPolicy::default()
        .check(&Password::new(PASSWORD), None, &PolicyContext::default())
        .map_err(|v| anyhow::anyhow!("bench password refused: {v:?}"))?;
    let phc = hasher.hash(&new, &mut rand::rng())?.into_string();
    let org = OrganisationCode::parse("999")?;
    let dob = NaiveDate::from_ymd_opt(1990, 1, 2).context("date")?;
    let now = Utc::now();
    let old_step = now.timestamp() / 30 - 10;
    conn.write_transaction(|c| {
        (0..n)
            .map(|i| {
                let letters: String = [i / 676, (i / 26) % 26, i % 26]
                    .iter()
                    .map(|d| char::from(b'a' + u8::try_from(*d).unwrap_or(0)))
                    .collect();
                let person = people::insert(
                    c,
                    &NewPerson {
                        organisation_code: &org,
                        employee_number: &format!("8{i:06}"),
                        first_name: "Mfa",
                        last_name: &format!("Bench{letters}"),
                        date_of_birth: dob,
                        work_email: &format!("mfa.bench.{i}@example.org"),
                        smartcard_subject: None,
                        language: "en",
                    },
                    now,
                )?;
                let account = accounts::find_or_create_for_person(
                    c,
                    &person,
                    InternetAccessStatus::Approved,
                    now,
                )?
                .map_err(|e| esr_persistence::RepoError::Corrupt(format!("no username: {e}")))?;
                accounts::set_password(c, &account.id, &phc, false, now)?;
                let secret = TotpSecret::generate();
                let id = second_factors::new_id();
                let sealed = key.seal(secret.as_bytes(), &id, account.id.as_str());
                // The bench's own enrolment: the factor is confirmed straight away below.
                let enrolling = esr_domain::SessionId::from_stored("bench".to_owned());
                let new = second_factors::NewTotp {
                    id: &id,
                    account_id: &account.id,
                    name: "Bench phone",
                    sealed_secret: &sealed,
                    enrolling_session_id: &enrolling,
                };
                second_factors::add_pending_totp(c, &new, now)?;
                second_factors::accept_step(c, &id, old_step, now)?;
                Ok(Account {
                    username: account.username.as_str().to_owned(),
                    secret,
                })
            })
            .collect::<Result<Vec<_>, esr_persistence::RepoError>>()
    })
    .map_err(Into::into)
}

fn json_body(value: &serde_json::Value) -> Bytes {
    Bytes::from(value.to_string())
}

/// One complete login (password, then the current code) on an open connection; the status of
/// the step that ended it.
async fn login_with_code(conn: &mut crate::client::Sender, account: &Account) -> Result<u16> {
    let body = json_body(&serde_json::json!({"username": account.username, "password": PASSWORD}));
    let (status, answer) = exchange(
        conn,
        request(Method::POST, "/v1/auth/login", None, Some(body)),
    )
    .await?;
    if status != 200 {
        return Ok(status);
    }
    let answer: serde_json::Value = serde_json::from_slice(&answer)?;
    let Some(mfa_token) = answer["mfa_token"].as_str() else {
        bail!("no challenge for {}: {answer}", account.username);
    };
    let code = account
        .secret
        .code_at(u64::try_from(Utc::now().timestamp()).unwrap_or(0));
    let body = json_body(&serde_json::json!({"mfa_token": mfa_token, "totp_code": code}));
    let (status, _) = exchange(
        conn,
        request(Method::POST, "/v1/auth/login/mfa", None, Some(body)),
    )
    .await?;
    Ok(status)
}

/// `clients` clients logging in with a code until `deadline`, each login with the next unused
/// account.
async fn run(
    addr: SocketAddr,
    clients: usize,
    duration: Duration,
    accounts: Arc<Vec<Account>>,
) -> Record {
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (accounts, next) = (Arc::clone(&accounts), Arc::clone(&next));
            tokio::spawn(async move {
                let mut record = Record::default();
                let start = Instant::now();
                let Ok(mut conn) = connect(addr).await else {
                    record.errors += 1;
                    return record;
                };
                while Instant::now() < deadline {
                    let Some(account) = accounts.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        break;
                    };
                    let t0 = Instant::now();
                    match login_with_code(&mut conn, account).await {
                        Ok(status) => record.add(status, t0.elapsed()),
                        Err(_) => record.errors += 1,
                    }
                }
                record.elapsed = start.elapsed();
                record
            })
        })
        .collect();
    let mut all = Record::default();
    for t in tasks {
        all.merge(t.await.expect("client task"));
    }
    all
}

/// The MFA login phase on one backend: its record (statuses of completed logins).
pub async fn measure(
    knobs: &Knobs,
    cores: usize,
    dir: &tempfile::TempDir,
    backend: &str,
    url: &str,
) -> Result<Record> {
    let key_text = esr_domain::hex_lower(&rand::random::<[u8; 32]>());
    let key_path = dir.path().join(format!("mfa-{backend}.key"));
    std::fs::write(&key_path, &key_text)?;
    let key_arg = key_path.display().to_string();
    let hash_workers = cores.to_string();
    let hash_queue = knobs.login_clients.saturating_sub(cores).max(1).to_string();
    let extra = [
        "--hash-workers",
        hash_workers.as_str(),
        "--hash-queue",
        hash_queue.as_str(),
        "--mfa-key-file",
        key_arg.as_str(),
        "--lockout-threshold",
        "100",
    ];
    let server = ServerProcess::start(url, dir.path(), &format!("mfa-{backend}"), &extra).await?;
    let key = MfaKey::from_secret(key_text.as_bytes());
    let n = env_usize("ESR_BENCH_MFA_ACCOUNTS", 3_000);
    let url = url.to_owned();
    let accounts = tokio::task::spawn_blocking(move || prepare_accounts(&url, &key, n)).await??;
    println!(
        "{backend}: {} accounts with an authenticator app",
        accounts.len()
    );
    // Warm-up: a few logins, not counted.
    let accounts = Arc::new(accounts);
    let warm = run(server.addr, 2, knobs.warmup, Arc::clone(&accounts)).await;
    let used = warm.total() + usize::try_from(warm.errors).unwrap_or(0);
    let rest: Vec<Account> = match Arc::try_unwrap(accounts) {
        Ok(all) => all.into_iter().skip(used + 2).collect(),
        Err(_) => bail!("accounts still shared"),
    };
    let meter = CpuMeter::start(server.child.id());
    let postgres_before = postgres_cpu();
    let record = run(server.addr, knobs.login_clients, knobs.secs, Arc::new(rest)).await;
    let cpu = meter.stop();
    let postgres = postgres_cpu().saturating_sub(postgres_before);
    println!(
        "{backend}: {}",
        cpu_per_login(&cpu, postgres, record.count(200))
    );
    server.stop();
    Ok(record)
}

/// Where a login's CPU went, in milliseconds: the hashing threads, the rest of the server,
/// PostgreSQL's processes and the load generator. On two cores shared by all of them, every
/// millisecond outside the hash is one the hash cannot have.
fn cpu_per_login(cpu: &CpuShare, postgres: u64, logins: usize) -> String {
    let ms = |ticks: u64| ticks as f64 / TICKS * 1000.0 / logins.max(1) as f64;
    let hashing = cpu.server.get("esr-hash").copied().unwrap_or(0);
    format!(
        "CPU per login: hashing {:.2} ms, rest of the server {:.2} ms, PostgreSQL {:.2} ms, \
         load generator {:.2} ms ({})",
        ms(hashing),
        ms(cpu.server_total.saturating_sub(hashing)),
        ms(postgres),
        ms(cpu.generator),
        cpu.describe()
    )
}

/// The whole MFA phase: raw verification before and after, the MFA login rate on each
/// backend, and their ratio, as a Markdown table.
pub async fn mfa_phase(knobs: &Knobs, cores: usize, dir: &tempfile::TempDir) -> Result<String> {
    use esr_test_support::scratch_pg::ScratchPg;
    let secs = knobs.secs;
    let before = tokio::task::spawn_blocking(move || crate::verify::raw_verify(2, secs)).await?;
    let mut backends = vec![(
        "SQLite",
        format!("sqlite://{}", dir.path().join("mfa.db").display()),
        None,
    )];
    if let Some(admin) = &knobs.pg_admin_url {
        let db = ScratchPg::on_server(admin, "esr_bench_mfa").map_err(anyhow::Error::msg)?;
        backends.push(("PostgreSQL", db.url.clone(), Some(db)));
    }
    let mut rows = Vec::new();
    for (backend, url, _db) in &backends {
        let record = measure(knobs, cores, dir, backend, url).await?;
        rows.push((*backend, record));
    }
    let after = tokio::task::spawn_blocking(move || crate::verify::raw_verify(2, secs)).await?;
    let raw = f64::midpoint(before.rate, after.rate);
    let mut table = format!(
        "Raw argon2id verify (2 threads): {:.1}/s before, {:.1}/s after, mean {raw:.1}/s.\n\n\
         | backend | logins with a code at {} clients | completed (200) | other answers | p50 | p99 | ÷ raw verify | target |\n\
         |---|---|---|---|---|---|---|---|\n",
        before.rate, after.rate, knobs.login_clients
    );
    for (backend, record) in &rows {
        let rate = record.rps(200);
        let latencies = record.latencies(&[200]);
        let others = record.total() - record.count(200);
        table.push_str(&format!(
            "| {backend} | {rate:.1}/s | {} | {others} (+{} errors) | {} ms | {} ms | {:.2} | ≥ 0.9 {} |\n",
            record.count(200),
            record.errors,
            crate::record::fmt_ms(crate::record::pct_ms(&latencies, 50.0)),
            crate::record::fmt_ms(crate::record::pct_ms(&latencies, 99.0)),
            rate / raw,
            if rate / raw >= 0.9 { "✓" } else { "✗" },
        ));
    }
    Ok(table)
}
