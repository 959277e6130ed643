//! Phases 2, 3 and 5: on each backend (SQLite, and PostgreSQL when configured), a server
//! whose hashing pool admits every login client, measured on `POST /v1/auth/login` (closed
//! loop, then 80 % of that capacity open-loop) and on `GET /v1/me` against the bare endpoint;
//! the second raw verify and the bare endpoint are measured once, after the first login phase.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Result;
use esr_test_support::scratch_pg::ScratchPg;

use crate::bare::start_bare;
use crate::client::{
    MakeRequest, get_requests, login_requests, login_token, run_clients, run_paced,
};
use crate::knobs::Knobs;
use crate::record::{Record, fmt_ms, pct_ms};
use crate::report::{Report, Row};
use crate::server::{CpuMeter, CpuShare, ServerProcess, TICKS, mib};
use crate::verify::{Verify, raw_verify};
use crate::wrk::{wrk, wrk_installed};

/// What the backend phases measured, for the verdicts.
pub struct Measured {
    pub raw_after: Option<Verify>,
    pub login_rates: Vec<(&'static str, f64)>,
    pub me_rates: Vec<(&'static str, f64)>,
    pub bare_rps: Option<f64>,
}

/// Measures `clients` clients for the phase length after a short unrecorded warm-up, with
/// the server's and the generator's CPU time.
pub async fn measure(
    knobs: &Knobs,
    server_pid: Option<u32>,
    addr: SocketAddr,
    clients: usize,
    secs: Duration,
    make: impl Fn(usize) -> MakeRequest + Copy,
) -> (Record, Option<CpuShare>) {
    let _ = run_clients(addr, clients, knobs.warmup, make).await;
    let meter = server_pid.map(CpuMeter::start);
    let record = run_clients(addr, clients, secs, make).await;
    (record, meter.map(CpuMeter::stop))
}

/// Runs the phases on every backend; `threads` is the thread count of the raw verify.
pub async fn login_and_me(
    knobs: &Knobs,
    cores: usize,
    dir: &tempfile::TempDir,
    report: &mut Report,
    raw_before: &Verify,
    threads: usize,
) -> Result<Measured> {
    let secs = knobs.secs;
    let short = (secs / 2).max(Duration::from_secs(1));
    let sqlite_url = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
    let mut raw_after: Option<Verify> = None;

    // 2 + 3. A server per backend whose hashing pool admits every login client.
    let hash_workers = cores.to_string();
    let hash_queue = knobs.login_clients.saturating_sub(cores).max(1).to_string();
    let admit_all = [
        "--hash-workers",
        hash_workers.as_str(),
        "--hash-queue",
        hash_queue.as_str(),
    ];
    let mut backends: Vec<(&str, String, Option<ScratchPg>)> =
        vec![("SQLite", sqlite_url("main.db"), None)];
    match &knobs.pg_admin_url {
        Some(admin) => match ScratchPg::on_server(admin, "esr_bench") {
            Ok(db) => {
                let url = db.url.clone();
                backends.push(("PostgreSQL", url, Some(db)));
            }
            Err(e) => println!("PostgreSQL skipped: {e}"),
        },
        None => println!(
            "PostgreSQL skipped (set ESR_BENCH_DATABASE_URL or ESR_TEST_DATABASE_URL to include it)"
        ),
    }
    let use_wrk = knobs.wrk && wrk_installed();
    let mut login_rates: Vec<(&str, f64)> = Vec::new();
    let mut me_rates: Vec<(&str, f64)> = Vec::new();
    let mut bare_rps: Option<f64> = None;

    for (backend, url, pg) in backends {
        let server = ServerProcess::start(&url, dir.path(), backend, &admit_all).await?;
        let pid = Some(server.child.id());
        println!("{backend}: esr-api ready on {}", server.addr);

        let (record, cpu) = measure(
            knobs,
            pid,
            server.addr,
            knobs.login_clients,
            secs,
            login_requests,
        )
        .await;
        let rate = record.rps(200);
        login_rates.push((backend, rate));
        report.push(Row {
            phase: format!("POST /v1/auth/login ({backend})"),
            clients: knobs.login_clients,
            note: format!("{:.2} × raw verify (before)", rate / raw_before.rate),
            record,
            ok: vec![200],
            cpu,
        });
        report.memory.push(format!(
            "{backend} server after the login phase: VmHWM {}, {} threads",
            mib(server.proc_status("VmHWM")),
            server.proc_status("Threads").unwrap_or(0)
        ));
        // Latency under a steady 80 % of that capacity, offered open-loop.
        let steady = 0.8 * rate;
        let cpu_meter = pid.map(CpuMeter::start);
        let record = run_paced(
            server.addr,
            knobs.login_clients,
            steady,
            secs,
            login_requests,
        )
        .await;
        let cpu = cpu_meter.map(CpuMeter::stop);
        let served = record.rps(200);
        report
            .steady
            .push((backend, steady, record.latencies(&[200])));
        report.push(Row {
            phase: format!("POST /v1/auth/login at 80 % of capacity, open-loop ({backend})"),
            clients: knobs.login_clients,
            note: format!("{steady:.1}/s offered, {served:.1}/s served"),
            record,
            ok: vec![200],
            cpu,
        });

        if raw_after.is_none() {
            let v = tokio::task::spawn_blocking(move || raw_verify(threads, secs)).await?;
            println!(
                "raw argon2id verify again ({threads} threads): {:.1}/s, p50 {} ms, p99 {} ms",
                v.rate,
                fmt_ms(pct_ms(&v.latencies, 50.0)),
                fmt_ms(pct_ms(&v.latencies, 99.0)),
            );
            raw_after = Some(v);
        }

        if bare_rps.is_none() {
            let bare = start_bare(cores)?;
            let make = |_| get_requests("/", None);
            let meter = CpuMeter::start(std::process::id());
            let (record, _) = measure(knobs, None, bare.addr, knobs.me_clients, secs, make).await;
            let cpu = meter.stop();
            bare_rps = Some(record.rps(200));
            report.push(Row {
                phase: "GET / bare actix-web JSON (in the bench)".to_owned(),
                clients: knobs.me_clients,
                note: format!("{cores} actix workers"),
                record,
                ok: vec![200],
                cpu: None,
            });
            println!(
                "      cpu: bench process (bare server + load generator) {:.2} cores",
                cpu.generator as f64 / TICKS / cpu.wall.as_secs_f64()
            );
            if use_wrk {
                let url = format!("http://{}/", bare.addr);
                if let Some(r) = wrk(&url, knobs.me_clients, short.as_secs(), None) {
                    println!("  wrk: bare {r:.0} req/s");
                    report.wrk.push(("GET / bare actix-web JSON".to_owned(), r));
                }
            }
            bare.handle.stop(false).await;
            let _ = tokio::task::spawn_blocking(move || bare.thread.join()).await;
        }
        let bare = bare_rps.unwrap_or(f64::NAN);

        let token = login_token(server.addr).await?;
        let make = |_| get_requests("/v1/me", Some(token.clone()));
        let (record, cpu) = measure(knobs, pid, server.addr, knobs.me_clients, secs, make).await;
        let rate = record.rps(200);
        me_rates.push((backend, rate));
        report.push(Row {
            phase: format!("GET /v1/me ({backend})"),
            clients: knobs.me_clients,
            note: format!("{:.3} × bare", rate / bare),
            record,
            ok: vec![200],
            cpu,
        });
        if use_wrk {
            let url = format!("http://{}/v1/me", server.addr);
            if let Some(r) = wrk(&url, knobs.me_clients, short.as_secs(), Some(&token)) {
                println!("  wrk: /v1/me ({backend}) {r:.0} req/s");
                report.wrk.push((format!("GET /v1/me ({backend})"), r));
            }
        }

        // Where /v1/me's time goes: the same stack without the database, and with one
        // database call instead of two (session lookup + profile).
        for (path, what) in [
            ("/health/live", "no database"),
            ("/v1/organisations/999", "one database call"),
        ] {
            let make = |_| get_requests(path, None);
            let (record, cpu) =
                measure(knobs, pid, server.addr, knobs.me_clients, short, make).await;
            let rate = record.rps(200);
            report.push(Row {
                phase: format!("GET {path} ({backend})"),
                clients: knobs.me_clients,
                note: format!("{what}; {:.3} × bare", rate / bare),
                record,
                ok: vec![200],
                cpu,
            });
        }
        server.stop();
        drop(pg);
    }
    Ok(Measured {
        raw_after,
        login_rates,
        me_rates,
        bare_rps,
    })
}
