//! Login timing by outcome: an unknown username against a known one with a wrong password.
//! If the two took measurably different times, the answer's timing would tell an outsider
//! which usernames exist. Interleaved one after the other on one connection, so drift (CPU
//! frequency, other load, the database's caches) touches both alike; the first samples are
//! warm-up and dropped. Release binary, each backend.

use std::net::SocketAddr;
use std::time::Instant;

use anyhow::Result;
use esr_test_support::scratch_pg::ScratchPg;
use hyper::Method;
use hyper::body::Bytes;

use crate::client::{connect, exchange, request};
use crate::knobs::{DEMO_LOGINS, Knobs, env_usize};
use crate::server::ServerProcess;

/// One backend's medians and p90s, in milliseconds.
pub struct Timing {
    pub backend: &'static str,
    pub samples: usize,
    pub unknown: (f64, f64),
    pub wrong: (f64, f64),
}

fn login_body(username: &str, password: &str) -> Bytes {
    Bytes::from(serde_json::json!({"username": username, "password": password}).to_string())
}

fn median_and_p90(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.9))
}

/// `samples` of each outcome after `warmup` of each, interleaved.
async fn measure(
    addr: SocketAddr,
    samples: usize,
    warmup: usize,
) -> Result<((f64, f64), (f64, f64))> {
    let (known, password) = DEMO_LOGINS[0];
    let mut conn = connect(addr).await?;
    let mut unknown = Vec::with_capacity(samples);
    let mut wrong = Vec::with_capacity(samples);
    for i in 0..warmup + samples {
        // A correct login now and then keeps the wrong-password attempts from locking the
        // account (it resets the count); it is not measured.
        if i % 20 == 0 {
            let body = login_body(known, password);
            exchange(
                &mut conn,
                request(Method::POST, "/v1/auth/login", None, Some(body)),
            )
            .await?;
        }
        let unknown_body = login_body(&format!("999NOONE{:02}", i % 100), "a wrong password here");
        let started = Instant::now();
        let (status, _) = exchange(
            &mut conn,
            request(Method::POST, "/v1/auth/login", None, Some(unknown_body)),
        )
        .await?;
        let took = started.elapsed().as_secs_f64() * 1000.0;
        anyhow::ensure!(status == 401, "unknown username answered {status}");
        if i >= warmup {
            unknown.push(took);
        }
        let wrong_body = login_body(known, "a wrong password here");
        let started = Instant::now();
        let (status, _) = exchange(
            &mut conn,
            request(Method::POST, "/v1/auth/login", None, Some(wrong_body)),
        )
        .await?;
        let took = started.elapsed().as_secs_f64() * 1000.0;
        anyhow::ensure!(status == 401, "wrong password answered {status}");
        if i >= warmup {
            wrong.push(took);
        }
    }
    Ok((median_and_p90(unknown), median_and_p90(wrong)))
}

/// Runs the comparison on SQLite and, when configured, PostgreSQL.
pub async fn login_timing(knobs: &Knobs, dir: &tempfile::TempDir) -> Result<Vec<Timing>> {
    let samples = env_usize("ESR_BENCH_TIMING_SAMPLES", 500).max(10);
    let warmup = samples / 10;
    let mut databases: Vec<(&'static str, String, Option<ScratchPg>)> = vec![(
        "SQLite",
        format!("sqlite://{}", dir.path().join("timing.db").display()),
        None,
    )];
    if let Some(admin) = &knobs.pg_admin_url {
        match ScratchPg::on_server(admin, "esr_bench_timing") {
            Ok(db) => databases.push(("PostgreSQL", db.url.clone(), Some(db))),
            Err(e) => println!("PostgreSQL skipped: {e}"),
        }
    }
    let mut timings = Vec::new();
    for (backend, url, _pg) in databases {
        let server = ServerProcess::start(
            &url,
            dir.path(),
            &format!("timing-{backend}"),
            &["--lockout-threshold", "100"],
        )
        .await?;
        let (unknown, wrong) = measure(server.addr, samples, warmup).await?;
        server.stop();
        println!(
            "login timing, {backend}: unknown username median {:.2} ms p90 {:.2} ms; wrong password median {:.2} ms p90 {:.2} ms; Δ median {:+.2} ms ({samples} interleaved samples each)",
            unknown.0,
            unknown.1,
            wrong.0,
            wrong.1,
            wrong.0 - unknown.0
        );
        timings.push(Timing {
            backend,
            samples,
            unknown,
            wrong,
        });
    }
    Ok(timings)
}

/// The figures as a Markdown table for `docs/BENCHMARKS.md`.
pub fn markdown(timings: &[Timing]) -> String {
    let mut out = String::from(
        "| backend | samples each | unknown username median / p90 | wrong password median / p90 | Δ median |\n|---|---|---|---|---|\n",
    );
    for t in timings {
        out.push_str(&format!(
            "| {} | {} | {:.2} / {:.2} ms | {:.2} / {:.2} ms | {:+.2} ms |\n",
            t.backend,
            t.samples,
            t.unknown.0,
            t.unknown.1,
            t.wrong.0,
            t.wrong.1,
            t.wrong.0 - t.unknown.0
        ));
    }
    out
}
