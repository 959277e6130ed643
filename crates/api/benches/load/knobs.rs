//! The bench's settings from the environment, and the demo accounts it logs in as.

use std::time::Duration;

/// Demo accounts created by dev mode's seed, with their published demo passwords.
pub const DEMO_LOGINS: &[(&str, &str)] = &[
    ("999JSMITH01", "Bluebell harbour lantern"),
    ("999APATEL01", "Copper kettle meadow 42"),
    ("998JSMITH01", "Juniper lighthouse orchard"),
];

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub struct Knobs {
    pub secs: Duration,
    pub warmup: Duration,
    pub login_clients: usize,
    pub me_clients: usize,
    pub flood_clients: usize,
    pub flood_me_clients: usize,
    pub pg_admin_url: Option<String>,
    pub wrk: bool,
    /// Experiment: renice the flood server's hashing threads to this niceness.
    pub renice_hash: Option<String>,
    /// Experiment: extra flags for the flood server (e.g. `--hash-workers 1`).
    pub flood_args: Vec<String>,
    /// Experiment: run only the overload phase.
    pub flood_only: bool,
}

impl Knobs {
    pub fn from_env() -> Self {
        let secs = Duration::from_secs(env_usize("ESR_BENCH_SECS", 10).max(1) as u64);
        Self {
            secs,
            warmup: (secs / 10).min(Duration::from_secs(1)),
            login_clients: env_usize("ESR_BENCH_LOGIN_CLIENTS", 8).max(1),
            me_clients: env_usize("ESR_BENCH_ME_CLIENTS", 16).max(1),
            flood_clients: env_usize("ESR_BENCH_FLOOD_CLIENTS", 64).max(1),
            flood_me_clients: env_usize("ESR_BENCH_FLOOD_ME_CLIENTS", 4).max(1),
            pg_admin_url: std::env::var("ESR_BENCH_DATABASE_URL")
                .or_else(|_| std::env::var("ESR_TEST_DATABASE_URL"))
                .ok()
                .filter(|u| !u.is_empty()),
            wrk: std::env::var("ESR_BENCH_WRK").map_or(true, |v| v != "0"),
            renice_hash: std::env::var("ESR_BENCH_RENICE_HASH")
                .ok()
                .filter(|v| !v.is_empty()),
            flood_args: std::env::var("ESR_BENCH_FLOOD_ARGS")
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            flood_only: std::env::var("ESR_BENCH_FLOOD_ONLY").is_ok_and(|v| v == "1"),
        }
    }
}
