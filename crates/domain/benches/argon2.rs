//! argon2id cost with the configured (default OWASP) parameters on this machine.
//!
//! Run: `cargo bench -p esr-domain --bench argon2` (release profile). Plain std timing, no
//! harness. Prints time per hash and per verify, and throughput on 1 and 2 threads, which
//! is what sizing the API's bounded hashing pool needs. Optional environment overrides:
//! `ESR_BENCH_OPS` (operations per thread, default 40), `ESR_BENCH_M_KIB`, `ESR_BENCH_T`,
//! `ESR_BENCH_P`.

#[path = "../../api/benches/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use esr_domain::{Argon2Params, Password, PasswordHasher, PasswordPolicy, PolicyContext};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn env_u32(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Prints one line and returns its Markdown table row.
fn report(label: &str, threads: usize, ops: usize, elapsed: Duration) -> String {
    let total = threads * ops;
    let per_op_ms = elapsed.as_secs_f64() * 1000.0 * threads as f64 / total as f64;
    let ops_per_s = total as f64 / elapsed.as_secs_f64();
    println!(
        "{label:<7} threads={threads} ops={total:<4} wall={:>7.2} s  per-op latency={per_op_ms:>6.1} ms  throughput={ops_per_s:>6.1} ops/s",
        elapsed.as_secs_f64()
    );
    format!("| {label} | {threads} | {per_op_ms:.1} ms | {ops_per_s:.1} ops/s |")
}

fn main() {
    let defaults = Argon2Params::default();
    let params = Argon2Params {
        memory_kib: env_u32("ESR_BENCH_M_KIB", defaults.memory_kib),
        iterations: env_u32("ESR_BENCH_T", defaults.iterations),
        parallelism: env_u32("ESR_BENCH_P", defaults.parallelism),
    };
    let ops = env_u32("ESR_BENCH_OPS", 40) as usize;
    let hasher = PasswordHasher::new(params).expect("valid parameters");
    let new = PasswordPolicy::default()
        .check(
            &Password::new("correct horse battery staple"),
            None,
            &PolicyContext::default(),
        )
        .expect("passes the policy");
    let phc = hasher
        .hash(&new, &mut StdRng::seed_from_u64(1))
        .expect("hash")
        .into_string();
    let login = Password::new("correct horse battery staple");
    assert!(hasher.verify(&login, &phc));

    println!(
        "argon2id m={} KiB t={} p={}; available parallelism: {}",
        params.memory_kib,
        params.iterations,
        params.parallelism,
        thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("{}", &phc[..phc.rfind('$').unwrap_or(phc.len())]);

    // Warm-up (page faults for the first 19 MiB allocation, CPU frequency).
    for _ in 0..3 {
        black_box(hasher.verify(&login, &phc));
    }

    let mut rows = Vec::new();
    for threads in [1usize, 2] {
        let start = Instant::now();
        thread::scope(|s| {
            for t in 0..threads {
                let (hasher, new) = (&hasher, &new);
                s.spawn(move || {
                    let mut rng = StdRng::seed_from_u64(t as u64 + 10);
                    for _ in 0..ops {
                        black_box(hasher.hash(new, &mut rng).expect("hash"));
                    }
                });
            }
        });
        rows.push(report("hash", threads, ops, start.elapsed()));

        let start = Instant::now();
        thread::scope(|s| {
            for _ in 0..threads {
                let (hasher, login, phc) = (&hasher, &login, phc.as_str());
                s.spawn(move || {
                    for _ in 0..ops {
                        assert!(black_box(hasher.verify(login, phc)));
                    }
                });
            }
        });
        rows.push(report("verify", threads, ops, start.elapsed()));

        // As the API's hashing pool threads run it: argon2 memory kept between calls.
        let start = Instant::now();
        thread::scope(|s| {
            for _ in 0..threads {
                let (hasher, login, phc) = (&hasher, &login, phc.as_str());
                s.spawn(move || {
                    esr_domain::keep_hash_memory_on_this_thread();
                    for _ in 0..ops {
                        assert!(black_box(hasher.verify(login, phc)));
                    }
                });
            }
        });
        rows.push(report(
            "verify, memory kept (pool threads)",
            threads,
            ops,
            start.elapsed(),
        ));
    }

    // An unknown-user login verifies against the dummy hash: it should cost the same.
    let start = Instant::now();
    for _ in 0..ops {
        assert!(!black_box(hasher.verify(&login, hasher.dummy_hash())));
    }
    rows.push(report(
        "verify against the dummy hash",
        1,
        ops,
        start.elapsed(),
    ));

    let markdown = format!(
        "Run of {} UTC: argon2id m = {} KiB, t = {}, p = {}; {ops} operations per thread; {} cores.\n\n\
         | operation | threads | latency per op | throughput |\n|---|---|---|---|\n{}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M"),
        params.memory_kib,
        params.iterations,
        params.parallelism,
        thread::available_parallelism().map_or(0, |n| n.get()),
        rows.join("\n")
    );
    if let Err(e) = common::publish("argon2", &markdown) {
        eprintln!("cannot write the report: {e}");
        std::process::exit(1);
    }
}
