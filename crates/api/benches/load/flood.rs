//! Phase 4, overload: a fresh server with the default hashing pool flooded with logins while
//! a few clients call `GET /v1/me`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use hyper::Method;

use crate::client::{
    get_requests, login_requests, login_token, once, request, run_clients, run_paced,
};
use crate::knobs::Knobs;
use crate::record::{fmt_ms, pct_ms};
use crate::report::{Report, Row};
use crate::server::{CpuMeter, ServerProcess, mib, proc_status};

/// Both overload phases: the closed-loop worst case and an open-loop 10 × capacity.
pub async fn flood_phases(
    knobs: &Knobs,
    dir: &tempfile::TempDir,
    report: &mut Report,
    capacity: f64,
) -> Result<()> {
    flood_phase(
        knobs,
        dir,
        report,
        Flood::Open {
            connections: knobs.flood_clients,
            rate: 10.0 * capacity,
        },
    )
    .await?;
    flood_phase(
        knobs,
        dir,
        report,
        Flood::Closed {
            clients: knobs.flood_clients,
        },
    )
    .await
}

/// How the overload phase offers its logins.
#[derive(Debug, Clone, Copy)]
pub enum Flood {
    /// `clients` closed-loop clients, each sending its next login as soon as the last is
    /// answered: a refusal takes well under a millisecond, so this offers far more than 10 ×
    /// capacity (the worst case: clients that ignore `Retry-After`).
    Closed { clients: usize },
    /// `rate` logins per second offered open-loop over `connections` connections.
    Open { connections: usize, rate: f64 },
}

impl Flood {
    pub fn label(self) -> String {
        match self {
            Self::Closed { clients } => format!("{clients} closed-loop clients"),
            Self::Open { connections, rate } => {
                format!("{rate:.0}/s open-loop, at most {connections} connections")
            }
        }
    }

    pub fn connections(self) -> usize {
        match self {
            Self::Closed { clients } => clients,
            Self::Open { connections, .. } => connections,
        }
    }
}

/// Overload: a fresh server with the default hashing pool (workers = cores, queue = 2 ×
/// workers), flooded with logins as `mode` says, a few `/v1/me` clients alongside.
#[allow(clippy::too_many_lines)]
pub async fn flood_phase(
    knobs: &Knobs,
    dir: &tempfile::TempDir,
    report: &mut Report,
    mode: Flood,
) -> Result<()> {
    let secs = knobs.secs;
    let tag = match mode {
        Flood::Closed { .. } => "closed",
        Flood::Open { .. } => "open",
    };
    let url = format!(
        "sqlite://{}",
        dir.path().join(format!("flood-{tag}.db")).display()
    );
    let extra: Vec<&str> = knobs.flood_args.iter().map(String::as_str).collect();
    if !extra.is_empty() {
        report.notes.push(format!(
            "Experiment: the flood server ran with `{}`.",
            extra.join(" ")
        ));
    }
    let server = ServerProcess::start(&url, dir.path(), &format!("flood-{tag}"), &extra).await?;
    println!("flood: esr-api ready on {}", server.addr);
    if let Some(nice) = &knobs.renice_hash {
        let tids = server.renice_hash_threads(nice)?;
        report.notes.push(format!(
            "Experiment: the flood server's hashing threads were reniced to {nice} ({tids} threads)."
        ));
    }
    let token = login_token(server.addr).await?;
    let pid = server.child.id();
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = Arc::clone(&sampling);
        tokio::spawn(async move {
            let (mut rss, mut threads) = (0u64, 0u64);
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                rss = rss.max(proc_status(pid, "VmRSS").unwrap_or(0));
                threads = threads.max(proc_status(pid, "Threads").unwrap_or(0));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (rss, threads)
        })
    };
    let hwm_before = server.proc_status("VmHWM");
    let meter = CpuMeter::start(pid);
    let flood = {
        let addr = server.addr;
        tokio::spawn(async move {
            match mode {
                Flood::Closed { clients } => run_clients(addr, clients, secs, login_requests).await,
                Flood::Open { connections, rate } => {
                    run_paced(addr, connections, rate, secs, login_requests).await
                }
            }
        })
    };
    let me = run_clients(server.addr, knobs.flood_me_clients, secs, |_| {
        get_requests("/v1/me", Some(token.clone()))
    })
    .await;
    let flood = flood.await?;
    let cpu = meter.stop();
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let (sampled_rss, sampled_threads) = sampler.await?;
    let hwm = server.proc_status("VmHWM");
    let metrics = once(
        server.operator_addr,
        request(Method::GET, "/metrics", None, None),
    )
    .await
    .map(|(_, body)| String::from_utf8_lossy(&body).into_owned())
    .unwrap_or_default();
    server.stop();

    let admitted = flood.latencies(&[200]);
    let refused = flood.latencies(&[503, 429]);
    let me_lat = me.latencies(&[200]);
    let other: usize = flood
        .by_status
        .iter()
        .filter(|(s, _)| !matches!(**s, 200 | 503 | 429))
        .map(|(_, v)| v.len())
        .sum();
    let flood_total = flood.total();
    let refused_rate = refused.len() as f64 / flood.elapsed.as_secs_f64();
    report.push(Row {
        phase: format!(
            "flood ({}): POST /v1/auth/login, admitted (200)",
            mode.label()
        ),
        clients: mode.connections(),
        note: format!(
            "refused 503/429: {refused_rate:.0}/s, p50 {} ms, p99 {} ms",
            fmt_ms(pct_ms(&refused, 50.0)),
            fmt_ms(pct_ms(&refused, 99.0))
        ),
        record: flood,
        ok: vec![200],
        cpu: Some(cpu),
    });
    let me_non_200 = me.total() - me.count(200) + usize::try_from(me.errors).unwrap_or(0);
    report.push(Row {
        phase: format!("flood ({}): GET /v1/me alongside", mode.label()),
        clients: knobs.flood_me_clients,
        note: String::new(),
        record: me,
        ok: vec![200],
        cpu: None,
    });
    report.memory.push(format!(
        "flood server ({}, default hashing pool) before the flood: VmHWM {}",
        mode.label(),
        mib(hwm_before)
    ));
    report.memory.push(format!(
        "flood server ({}) after the flood: VmHWM {}, sampled VmRSS max {}, {} threads at most",
        mode.label(),
        mib(hwm),
        mib(Some(sampled_rss)),
        sampled_threads
    ));
    let hwm_mib = hwm.map_or(f64::NAN, |kb| kb as f64 / 1024.0);
    report.verdict(
        format!("peak RSS (VmHWM) of the server, {}", mode.label()),
        format!("{hwm_mib:.0} MiB"),
        "< 128 MiB",
        Some(hwm_mib < 128.0),
    );
    let p99_admitted = pct_ms(&admitted, 99.0);
    report.verdict(
        format!("p99 of admitted logins, {}", mode.label()),
        format!(
            "{} ms ({} admitted, p50 {} ms)",
            fmt_ms(p99_admitted),
            admitted.len(),
            fmt_ms(pct_ms(&admitted, 50.0))
        ),
        "< 250 ms",
        Some(p99_admitted < 250.0),
    );
    let p99_refused = pct_ms(&refused, 99.0);
    report.verdict(
        format!("excess answered 503/429, {}", mode.label()),
        format!(
            "p50 {} ms, p99 {} ms ({} of {flood_total} answers; {other} other)",
            fmt_ms(pct_ms(&refused, 50.0)),
            fmt_ms(p99_refused),
            refused.len()
        ),
        "< 5 ms",
        Some(p99_refused < 5.0),
    );
    let p99_me = pct_ms(&me_lat, 99.0);
    report.verdict(
        format!("GET /v1/me p99 during the flood, {}", mode.label()),
        format!(
            "{} ms (p50 {} ms, {} answers, {me_non_200} not 200)",
            fmt_ms(p99_me),
            fmt_ms(pct_ms(&me_lat, 50.0)),
            me_lat.len()
        ),
        "< 20 ms",
        Some(p99_me < 20.0 && me_non_200 == 0),
    );
    // The server's own view of the refusals: its request-duration histogram for the login
    // route (admitted logins take ≥ one argon2 run, so the fast buckets are the refusals).
    let bucket = |le: &str| -> Option<f64> {
        metrics
            .lines()
            .find(|l| {
                l.starts_with("esr_http_request_duration_seconds_bucket")
                    && l.contains("route=\"/v1/auth/login\"")
                    && l.contains(&format!("le=\"{le}\""))
            })?
            .rsplit(' ')
            .next()?
            .parse()
            .ok()
    };
    if let (Some(b1), Some(b5)) = (bucket("0.001"), bucket("0.005")) {
        let n = refused.len() as f64;
        report.notes.push(format!(
            "Server-side handling time of the refusals (its own histogram): {:.1} % within 1 ms, \
             {:.1} % within 5 ms ({}).",
            100.0 * b1 / n,
            100.0 * b5 / n,
            mode.label(),
        ));
    }
    let counters: Vec<&str> = metrics
        .lines()
        .filter(|l| !l.starts_with('#') && (l.contains("hashing") || l.contains("security")))
        .collect();
    if !counters.is_empty() {
        report.notes.push(format!(
            "Flood server metrics after {}:\n\n    {}",
            mode.label(),
            counters.join("\n    ")
        ));
    }

    Ok(())
}
