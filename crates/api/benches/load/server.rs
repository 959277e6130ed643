//! The server under test: the release `esr-api` binary as its own process, and what it uses
//! of memory and CPU (from `/proc`).

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hyper::Method;

use crate::client::{once, request};

/// The server under test, built by Cargo alongside this bench (same release profile).
pub const ESR_API: &str = env!("CARGO_BIN_EXE_esr-api");

/// The `esr-api` binary to run: `ESR_BENCH_SERVER` if set (another build), else Cargo's.
pub fn server_binary() -> String {
    std::env::var("ESR_BENCH_SERVER").unwrap_or_else(|_| ESR_API.to_owned())
}

pub struct ServerProcess {
    pub child: Child,
    pub addr: SocketAddr,
    /// The operator listener (metrics).
    pub operator_addr: SocketAddr,
    pub log: PathBuf,
}

/// Extra environment for the server process from `ESR_BENCH_SERVER_ENV` ("K=V K2=V2"), for
/// experiments such as `MALLOC_MMAP_THRESHOLD_=131072`.
pub fn server_env() -> Vec<(String, String)> {
    std::env::var("ESR_BENCH_SERVER_ENV")
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl ServerProcess {
    /// Starts `esr-api serve` in dev mode (migrations + demo seed) and waits until ready.
    pub async fn start(database_url: &str, dir: &Path, name: &str, extra: &[&str]) -> Result<Self> {
        let port = free_port()?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let operator_addr: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log)?;
        let binary = server_binary();
        let mut cmd = Command::new(&binary);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("ESR_") {
                cmd.env_remove(key);
            }
        }
        cmd.args(["--mode", "dev", "--listen-addr", &addr.to_string()])
            .args(["--operator-listen-addr", &operator_addr.to_string()])
            .args(["--database-url", database_url])
            .args(["--log-filter", "warn", "--log-format", "json"])
            .args(["--rate-login-per-ip", "0", "--rate-login-per-username", "0"])
            .args(["--shutdown-timeout-secs", "1"])
            .args(extra)
            .arg("serve")
            .envs(server_env())
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {binary}"))?;
        let mut server = Self {
            child,
            addr,
            operator_addr,
            log,
        };
        let started = Instant::now();
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "esr-api exited ({status}) before ready:\n{}",
                    server.log_tail()
                );
            }
            if let Ok((200, _)) =
                once(addr, request(Method::GET, "/health/ready", None, None)).await
            {
                return Ok(server);
            }
            if started.elapsed() > Duration::from_secs(120) {
                bail!("esr-api not ready after 120 s:\n{}", server.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Experiment: lowers the priority of the `esr-hash-*` threads (as `renice` would).
    pub fn renice_hash_threads(&self, nice: &str) -> Result<usize> {
        let mut tids = Vec::new();
        for task in std::fs::read_dir(format!("/proc/{}/task", self.child.id()))?.flatten() {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if comm.starts_with("esr-hash") {
                tids.push(task.file_name().to_string_lossy().into_owned());
            }
        }
        let status = Command::new("renice")
            .args(["-n", nice, "-p"])
            .args(&tids)
            .stdout(Stdio::null())
            .status()?;
        if !status.success() {
            bail!("renice failed: {status}");
        }
        Ok(tids.len())
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// A field of `/proc/<pid>/status` in kB (VmHWM, VmRSS) or a count (Threads).
    pub fn proc_status(&self, field: &str) -> Option<u64> {
        proc_status(self.child.id(), field)
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn proc_status(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// CPU time (clock ticks) of a process's threads, grouped by thread name without its number.
pub fn thread_cpu(pid: u32) -> BTreeMap<String, u64> {
    let mut groups = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return groups;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // "tid (comm) state ppid … utime stime …": comm may contain spaces, so split at ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let ticks: u64 = [11, 12]
            .iter()
            .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
            .sum();
        let group = match comm.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-') {
            "" => "other".to_owned(),
            g if g.starts_with("esr-api") => "main".to_owned(),
            g => g.to_owned(),
        };
        *groups.entry(group).or_insert(0) += ticks;
    }
    groups
}

/// CPU time (clock ticks) of a whole process, including threads that have exited.
pub fn process_cpu(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    let Some(close) = stat.rfind(')') else {
        return 0;
    };
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum()
}

/// CPU time (clock ticks) of every live PostgreSQL server process on this machine (the
/// backends serving the bench's connections among them).
pub fn postgres_cpu() -> u64 {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return 0;
    };
    procs
        .flatten()
        .filter_map(|p| p.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == "postgres")
        })
        .map(process_cpu)
        .sum()
}

/// Ticks per second of `/proc/*/stat` times (USER_HZ; 100 on every mainstream Linux build).
pub const TICKS: f64 = 100.0;

/// CPU used by the server (per thread group) and by this process over one phase.
pub struct CpuShare {
    /// Whole server process.
    pub server_total: u64,
    /// Live server threads by name (threads that exited during the phase are only in the total).
    pub server: BTreeMap<String, u64>,
    pub generator: u64,
    pub wall: Duration,
}

pub struct CpuMeter {
    pub pid: u32,
    pub server_total: u64,
    pub server: BTreeMap<String, u64>,
    pub generator: u64,
    pub start: Instant,
}

impl CpuMeter {
    pub fn start(pid: u32) -> Self {
        Self {
            pid,
            server_total: process_cpu(pid),
            server: thread_cpu(pid),
            generator: process_cpu(std::process::id()),
            start: Instant::now(),
        }
    }

    pub fn stop(self) -> CpuShare {
        let now = thread_cpu(self.pid);
        let server = now
            .into_iter()
            .map(|(g, t)| {
                let before = self.server.get(&g).copied().unwrap_or(0);
                (g, t.saturating_sub(before))
            })
            .filter(|(_, t)| *t > 0)
            .collect();
        CpuShare {
            server_total: process_cpu(self.pid).saturating_sub(self.server_total),
            server,
            generator: process_cpu(std::process::id()).saturating_sub(self.generator),
            wall: self.start.elapsed(),
        }
    }
}

impl CpuShare {
    /// "server 1.62 cores (esr-hash 1.10, actix-rt|system 0.40, …), load generator 0.31 cores"
    pub fn describe(&self) -> String {
        let wall = self.wall.as_secs_f64();
        let cores = |ticks: u64| ticks as f64 / TICKS / wall;
        let total = self.server_total;
        let mut groups: Vec<(&String, &u64)> = self.server.iter().collect();
        groups.sort_by(|a, b| b.1.cmp(a.1));
        let parts: Vec<String> = groups
            .iter()
            .map(|(g, t)| format!("{g} {:.2}", cores(**t)))
            .collect();
        format!(
            "server {:.2} cores ({}), load generator {:.2} cores",
            cores(total),
            parts.join(", "),
            cores(self.generator)
        )
    }
}

pub fn mib(kb: Option<u64>) -> String {
    kb.map_or("?".to_owned(), |kb| {
        format!("{:.0} MiB", kb as f64 / 1024.0)
    })
}
