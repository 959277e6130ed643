//! Login, `GET /v1/me` and overload figures, measured in one run on loopback.
//!
//! Run: `cargo bench -p esr-api --bench load` (release profile). Not a test: nothing here
//! asserts on time; it prints figures and a Markdown table for `docs/BENCHMARKS.md`.
//!
//! Phases, each bounded by `ESR_BENCH_SECS` (default 10 s):
//! 1. raw argon2id verification rate on 2 threads (`PasswordHasher`, default parameters);
//! 2. `POST /v1/auth/login` at 8 concurrent clients against the release `esr-api` binary,
//!    run as a separate process on a temporary SQLite database (rate limits off, hashing
//!    queue sized so all 8 are admitted) → ratio to (1);
//! 3. a bare actix-web JSON endpoint built in this binary, then `GET /v1/me` with a valid
//!    bearer token, same client count → ratio;
//! 4. a fresh server with the default hashing pool, flooded by 64 login clients while a few
//!    other clients call `GET /v1/me`: peak RSS (VmHWM), p99 of admitted logins, latency of
//!    the refused ones (503/429), `/v1/me` p99 during the flood;
//! 5. phases 2 and 3 on PostgreSQL when `ESR_BENCH_DATABASE_URL` (or `ESR_TEST_DATABASE_URL`)
//!    names a server the bench may create a throw-away database on.
//!
//! The load generator (tokio + hyper's HTTP/1.1 connection API, keep-alive) shares the
//! machine's cores with the server, so every figure is compared as a ratio measured in the
//! same run. When `wrk` is installed, the bare and `/v1/me` endpoints are also measured with
//! it as a cross-check (`ESR_BENCH_WRK=0` skips that).
//!
//! `ESR_BENCH_MFA_ONLY=1` measures logins with an authenticator-app code instead (see
//! `mfa.rs`); `ESR_BENCH_TIMING_ONLY=1` the login timing by outcome (see `timing.rs`).
//!
//! Other knobs: `ESR_BENCH_LOGIN_CLIENTS` (8), `ESR_BENCH_ME_CLIENTS` (16),
//! `ESR_BENCH_FLOOD_CLIENTS` (64), `ESR_BENCH_FLOOD_ME_CLIENTS` (4), `ESR_BENCH_SERVER`
//! (path of another `esr-api` binary to measure instead of the one Cargo built). Experiments:
//! `ESR_BENCH_SERVER_ENV="K=V …"` adds environment to the server processes (e.g.
//! `MALLOC_MMAP_THRESHOLD_=131072`), `ESR_BENCH_RENICE_HASH=N` renices the flood server's
//! `esr-hash-*` threads, `ESR_BENCH_FLOOD_ARGS="--hash-workers 1"` adds flags to the flood
//! server, `ESR_BENCH_FLOOD_ONLY=1` runs the overload phase alone.

mod backends;
mod bare;
mod client;
// Shared with the import bench and with the domain crate's argon2 bench.
#[path = "../common/mod.rs"]
mod common;
mod flood;
mod knobs;
mod mfa;
mod record;
mod report;
mod server;
mod timing;
mod verify;
mod wrk;

use std::time::Instant;

use anyhow::Result;

use crate::flood::flood_phases;
use crate::knobs::Knobs;
use crate::record::{fmt_ms, pct_ms};
use crate::report::Report;
use crate::server::server_binary;
use crate::verify::raw_verify;

fn main() -> Result<()> {
    let knobs = Knobs::from_env();
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()?;
    runtime.block_on(run(knobs, cores))
}

#[allow(clippy::too_many_lines)]
async fn run(knobs: Knobs, cores: usize) -> Result<()> {
    let secs = knobs.secs;
    let started = Instant::now();
    let dir = tempfile::tempdir()?;
    println!(
        "ESR Access load bench: {cores} cores, {} s per phase, server {}",
        secs.as_secs(),
        server_binary()
    );
    let mut report = Report::default();

    if std::env::var("ESR_BENCH_MFA_ONLY").is_ok_and(|v| v == "1") {
        let table = mfa::mfa_phase(&knobs, cores, &dir).await?;
        println!("\n{table}");
        return Ok(());
    }

    if std::env::var("ESR_BENCH_TIMING_ONLY").is_ok_and(|v| v == "1") {
        let timings = timing::login_timing(&knobs, &dir).await?;
        println!("\n{}", timing::markdown(&timings));
        return Ok(());
    }

    if knobs.flood_only {
        let capacity = std::env::var("ESR_BENCH_LOGIN_CAPACITY")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(65.0);
        flood_phases(&knobs, &dir, &mut report, capacity).await?;
        println!("{}", report.markdown(&[], &knobs));
        return Ok(());
    }

    // 1. Raw argon2id verification rate, nothing else running.
    let threads = 2;
    let raw_before = tokio::task::spawn_blocking(move || raw_verify(threads, secs)).await?;
    println!(
        "raw argon2id verify ({threads} threads): {:.1}/s, p50 {} ms, p99 {} ms",
        raw_before.rate,
        fmt_ms(pct_ms(&raw_before.latencies, 50.0)),
        fmt_ms(pct_ms(&raw_before.latencies, 99.0)),
    );

    let backends::Measured {
        raw_after,
        login_rates,
        me_rates,
        bare_rps,
    } = backends::login_and_me(&knobs, cores, &dir, &mut report, &raw_before, threads).await?;

    let raw_after = raw_after.expect("measured after the first login phase");
    let raw_mean = f64::midpoint(raw_before.rate, raw_after.rate);
    for (backend, rate) in &login_rates {
        let ratio = rate / raw_mean;
        report.verdict(
            format!(
                "login at {} clients ÷ raw verify (2 threads, mean of before/after), {backend}",
                knobs.login_clients
            ),
            format!("{rate:.1} / {raw_mean:.1} = {ratio:.2}"),
            "≥ 0.9",
            Some(ratio >= 0.9),
        );
    }
    for (backend, offered, latencies) in &report.steady.clone() {
        report.verdict(
            format!("login latency at 80 % of capacity ({offered:.1}/s open-loop), {backend}"),
            format!(
                "p50 {} ms, p99 {} ms",
                fmt_ms(pct_ms(latencies, 50.0)),
                fmt_ms(pct_ms(latencies, 99.0))
            ),
            "recorded",
            None,
        );
    }
    let bare = bare_rps.unwrap_or(f64::NAN);
    for (backend, rate) in &me_rates {
        let ratio = rate / bare;
        let sqlite = *backend == "SQLite";
        report.verdict(
            format!("GET /v1/me ÷ bare JSON, {backend}"),
            format!("{rate:.0} / {bare:.0} = {ratio:.3}"),
            if sqlite { "≥ 0.25" } else { "recorded" },
            sqlite.then_some(ratio >= 0.25),
        );
    }

    // 4. Overload, against the login capacity measured on SQLite.
    let capacity = login_rates.first().map_or(65.0, |(_, rate)| *rate);
    flood_phases(&knobs, &dir, &mut report, capacity).await?;

    let markdown = format!(
        "Run of {} UTC: {cores} cores, {} s per phase, release build, whole run {:.0} s{}.\n\n{}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M"),
        secs.as_secs(),
        started.elapsed().as_secs_f64(),
        if login_rates.len() > 1 {
            ", SQLite and PostgreSQL"
        } else {
            ", SQLite only (PostgreSQL not configured)"
        },
        report.markdown(
            &[
                ("before the login phase", &raw_before),
                ("after the login phase", &raw_after),
            ],
            &knobs,
        )
    );
    common::publish("load", &markdown)?;
    Ok(())
}
