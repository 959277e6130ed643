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
//! Other knobs: `ESR_BENCH_LOGIN_CLIENTS` (8), `ESR_BENCH_ME_CLIENTS` (16),
//! `ESR_BENCH_FLOOD_CLIENTS` (64), `ESR_BENCH_FLOOD_ME_CLIENTS` (4), `ESR_BENCH_SERVER`
//! (path of another `esr-api` binary to measure instead of the one Cargo built). Experiments:
//! `ESR_BENCH_SERVER_ENV="K=V …"` adds environment to the server processes (e.g.
//! `MALLOC_MMAP_THRESHOLD_=131072`), `ESR_BENCH_RENICE_HASH=N` renices the flood server's
//! `esr-hash-*` threads, `ESR_BENCH_FLOOD_ARGS="--hash-workers 1"` adds flags to the flood
//! server, `ESR_BENCH_FLOOD_ONLY=1` runs the overload phase alone.

mod common;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use esr_domain::{Argon2Params, Password, PasswordHasher, PasswordPolicy, PolicyContext};
use esr_test_support::scratch_pg::ScratchPg;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;

/// The server under test, built by Cargo alongside this bench (same release profile).
const ESR_API: &str = env!("CARGO_BIN_EXE_esr-api");

/// The `esr-api` binary to run: `ESR_BENCH_SERVER` if set (another build), else Cargo's.
fn server_binary() -> String {
    std::env::var("ESR_BENCH_SERVER").unwrap_or_else(|_| ESR_API.to_owned())
}

/// Demo accounts created by dev mode's seed, with their published demo passwords.
const DEMO_LOGINS: &[(&str, &str)] = &[
    ("999JSMITH01", "Bluebell harbour lantern"),
    ("999APATEL01", "Copper kettle meadow 42"),
    ("998JSMITH01", "Juniper lighthouse orchard"),
];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Knobs {
    secs: Duration,
    warmup: Duration,
    login_clients: usize,
    me_clients: usize,
    flood_clients: usize,
    flood_me_clients: usize,
    pg_admin_url: Option<String>,
    wrk: bool,
    /// Experiment: renice the flood server's hashing threads to this niceness.
    renice_hash: Option<String>,
    /// Experiment: extra flags for the flood server (e.g. `--hash-workers 1`).
    flood_args: Vec<String>,
    /// Experiment: run only the overload phase.
    flood_only: bool,
}

impl Knobs {
    fn from_env() -> Self {
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

// ---------------------------------------------------------------------------------------
// Latency bookkeeping

/// Latencies (µs) of completed requests by status, plus transport errors.
#[derive(Debug, Default)]
struct Record {
    by_status: BTreeMap<u16, Vec<u32>>,
    errors: u64,
    elapsed: Duration,
}

impl Record {
    fn add(&mut self, status: u16, latency: Duration) {
        let micros = u32::try_from(latency.as_micros()).unwrap_or(u32::MAX);
        self.by_status.entry(status).or_default().push(micros);
    }

    fn merge(&mut self, other: Record) {
        for (status, mut v) in other.by_status {
            self.by_status.entry(status).or_default().append(&mut v);
        }
        self.errors += other.errors;
        self.elapsed = self.elapsed.max(other.elapsed);
    }

    fn count(&self, status: u16) -> usize {
        self.by_status.get(&status).map_or(0, Vec::len)
    }

    fn total(&self) -> usize {
        self.by_status.values().map(Vec::len).sum()
    }

    /// Latencies of the given statuses together, sorted.
    fn latencies(&self, statuses: &[u16]) -> Vec<u32> {
        let mut all: Vec<u32> = statuses
            .iter()
            .filter_map(|s| self.by_status.get(s))
            .flatten()
            .copied()
            .collect();
        all.sort_unstable();
        all
    }

    fn rps(&self, status: u16) -> f64 {
        self.count(status) as f64 / self.elapsed.as_secs_f64()
    }

    fn counts(&self) -> String {
        let mut parts: Vec<String> = self
            .by_status
            .iter()
            .map(|(s, v)| format!("{s}: {}", v.len()))
            .collect();
        if self.errors > 0 {
            parts.push(format!("errors: {}", self.errors));
        }
        parts.join(", ")
    }
}

/// Nearest-rank percentile of sorted microseconds, in milliseconds.
fn pct_ms(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q / 100.0) * sorted.len() as f64).ceil() as usize;
    f64::from(sorted[rank.clamp(1, sorted.len()) - 1]) / 1000.0
}

fn fmt_ms(ms: f64) -> String {
    if ms.is_nan() {
        "–".to_owned()
    } else if ms < 1.0 {
        format!("{ms:.2}")
    } else if ms < 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

// ---------------------------------------------------------------------------------------
// Load generator: one keep-alive HTTP/1.1 connection per client, requests back to back.

type Sender = SendRequest<Full<Bytes>>;

/// Builds the n-th request of a client.
type MakeRequest = Arc<dyn Fn(usize) -> Request<Full<Bytes>> + Send + Sync>;

async fn connect(addr: SocketAddr) -> Result<Sender> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

fn request(
    method: Method,
    path: &str,
    bearer: Option<&str>,
    body: Option<Bytes>,
) -> Request<Full<Bytes>> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(HOST, "127.0.0.1");
    if let Some(token) = bearer {
        builder = builder.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    if body.is_some() {
        builder = builder.header(CONTENT_TYPE, "application/json");
    }
    builder
        .body(Full::new(body.unwrap_or_default()))
        .expect("valid request")
}

fn login_body(n: usize) -> Bytes {
    let (username, password) = DEMO_LOGINS[n % DEMO_LOGINS.len()];
    Bytes::from(serde_json::json!({"username": username, "password": password}).to_string())
}

/// Logins rotating over the demo accounts, starting at a per-client offset.
fn login_requests(offset: usize) -> MakeRequest {
    let bodies: Vec<Bytes> = (0..DEMO_LOGINS.len()).map(login_body).collect();
    Arc::new(move |n| {
        request(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(bodies[(n + offset) % bodies.len()].clone()),
        )
    })
}

fn get_requests(path: &'static str, bearer: Option<String>) -> MakeRequest {
    Arc::new(move |_| request(Method::GET, path, bearer.as_deref(), None))
}

/// One client: sends requests back to back until `deadline`, reconnecting after errors.
async fn client(addr: SocketAddr, deadline: Instant, make: MakeRequest) -> Record {
    let start = Instant::now();
    let mut record = Record::default();
    let mut sender: Option<Sender> = None;
    let mut n = 0usize;
    while Instant::now() < deadline {
        let mut s = match sender.take() {
            Some(s) => s,
            None => match connect(addr).await {
                Ok(s) => s,
                Err(_) => {
                    record.errors += 1;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
            },
        };
        let req = make(n);
        n += 1;
        let t0 = Instant::now();
        let Ok((status, _)) = exchange(&mut s, req).await else {
            record.errors += 1;
            continue;
        };
        record.add(status, t0.elapsed());
        sender = Some(s);
    }
    record.elapsed = start.elapsed();
    record
}

/// `clients` clients of one kind for `duration`; all latencies merged.
async fn run_clients(
    addr: SocketAddr,
    clients: usize,
    duration: Duration,
    make: impl Fn(usize) -> MakeRequest,
) -> Record {
    let deadline = Instant::now() + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|i| tokio::spawn(client(addr, deadline, make(i))))
        .collect();
    let mut all = Record::default();
    for t in tasks {
        all.merge(t.await.expect("client task"));
    }
    all
}

/// An open-loop load: the n-th request is due at `start + n / rate` whether or not earlier
/// answers were quick, and goes out on an idle keep-alive connection (a new one when none is
/// idle, at most `connections` at once), so one slow answer never holds up the requests behind
/// it the way a single connection would. Latency is measured from the due time, so a stalled
/// server (or a full connection cap) shows up as latency instead of as fewer requests (no
/// coordinated omission).
async fn run_paced(
    addr: SocketAddr,
    connections: usize,
    rate: f64,
    duration: Duration,
    make: impl Fn(usize) -> MakeRequest,
) -> Record {
    let make = make(0);
    let start = Instant::now();
    let deadline = start + duration;
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let idle: Arc<std::sync::Mutex<Vec<Sender>>> = Arc::default();
    let cap = Arc::new(tokio::sync::Semaphore::new(connections.max(1)));
    let record: Arc<std::sync::Mutex<Record>> = Arc::default();
    let mut tasks = tokio::task::JoinSet::new();
    let mut n = 0usize;
    loop {
        let due = start + interval.mul_f64(n as f64);
        if due >= deadline {
            break;
        }
        tokio::time::sleep_until(due.into()).await;
        let req = make(n);
        n += 1;
        let (idle, cap, record) = (Arc::clone(&idle), Arc::clone(&cap), Arc::clone(&record));
        tasks.spawn(async move {
            let Ok(_permit) = cap.acquire_owned().await else {
                return;
            };
            let pooled = idle.lock().expect("idle connections").pop();
            let mut s = match pooled {
                Some(s) => s,
                None => match connect(addr).await {
                    Ok(s) => s,
                    Err(_) => {
                        record.lock().expect("record").errors += 1;
                        return;
                    }
                },
            };
            let Ok((status, _)) = exchange(&mut s, req).await else {
                record.lock().expect("record").errors += 1;
                return;
            };
            record.lock().expect("record").add(status, due.elapsed());
            idle.lock().expect("idle connections").push(s);
        });
    }
    while tasks.join_next().await.is_some() {}
    let mut all = std::mem::take(&mut *record.lock().expect("record"));
    all.elapsed = duration;
    all
}

/// One request on a fresh connection: status and body.
async fn once(addr: SocketAddr, req: Request<Full<Bytes>>) -> Result<(u16, Bytes)> {
    exchange(&mut connect(addr).await?, req).await
}

/// One request on an open connection, once it is ready: status and whole body.
async fn exchange(s: &mut Sender, req: Request<Full<Bytes>>) -> Result<(u16, Bytes)> {
    s.ready().await?;
    let resp = s.send_request(req).await?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

async fn login_token(addr: SocketAddr) -> Result<String> {
    let (status, body) = once(
        addr,
        request(Method::POST, "/v1/auth/login", None, Some(login_body(0))),
    )
    .await?;
    if status != 200 {
        bail!(
            "login answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let json: serde_json::Value = serde_json::from_slice(&body)?;
    json["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no access_token in {json}"))
}

// ---------------------------------------------------------------------------------------
// The server under test: the release `esr-api` binary as its own process.

struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

/// Extra environment for the server process from `ESR_BENCH_SERVER_ENV` ("K=V K2=V2"), for
/// experiments such as `MALLOC_MMAP_THRESHOLD_=131072`.
fn server_env() -> Vec<(String, String)> {
    std::env::var("ESR_BENCH_SERVER_ENV")
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl ServerProcess {
    /// Starts `esr-api serve` in dev mode (migrations + demo seed) and waits until ready.
    async fn start(database_url: &str, dir: &Path, name: &str, extra: &[&str]) -> Result<Self> {
        let port = free_port()?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
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
        let mut server = Self { child, addr, log };
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
    fn renice_hash_threads(&self, nice: &str) -> Result<usize> {
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

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// A field of `/proc/<pid>/status` in kB (VmHWM, VmRSS) or a count (Threads).
    fn proc_status(&self, field: &str) -> Option<u64> {
        proc_status(self.child.id(), field)
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn proc_status(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// CPU time (clock ticks) of a process's threads, grouped by thread name without its number.
fn thread_cpu(pid: u32) -> BTreeMap<String, u64> {
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
fn process_cpu(pid: u32) -> u64 {
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

/// Ticks per second of `/proc/*/stat` times (USER_HZ; 100 on every mainstream Linux build).
const TICKS: f64 = 100.0;

/// CPU used by the server (per thread group) and by this process over one phase.
struct CpuShare {
    /// Whole server process.
    server_total: u64,
    /// Live server threads by name (threads that exited during the phase are only in the total).
    server: BTreeMap<String, u64>,
    generator: u64,
    wall: Duration,
}

struct CpuMeter {
    pid: u32,
    server_total: u64,
    server: BTreeMap<String, u64>,
    generator: u64,
    start: Instant,
}

impl CpuMeter {
    fn start(pid: u32) -> Self {
        Self {
            pid,
            server_total: process_cpu(pid),
            server: thread_cpu(pid),
            generator: process_cpu(std::process::id()),
            start: Instant::now(),
        }
    }

    fn stop(self) -> CpuShare {
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
    fn describe(&self) -> String {
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

fn mib(kb: Option<u64>) -> String {
    kb.map_or("?".to_owned(), |kb| {
        format!("{:.0} MiB", kb as f64 / 1024.0)
    })
}

// ---------------------------------------------------------------------------------------
// The bare actix-web endpoint, in this process.

#[derive(serde::Serialize)]
struct Status {
    status: &'static str,
}

struct BareServer {
    addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    thread: std::thread::JoinHandle<std::io::Result<()>>,
}

fn start_bare(workers: usize) -> Result<BareServer> {
    use actix_web::{App, HttpServer, web};
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(|| {
                App::new().route(
                    "/",
                    web::get().to(|| async { web::Json(Status { status: "ok" }) }),
                )
            })
            .workers(workers)
            .listen(listener)?
            .run();
            let _ = tx.send(server.handle());
            server.await
        })
    });
    let handle = rx.recv().context("bare server did not start")?;
    Ok(BareServer {
        addr,
        handle,
        thread,
    })
}

// ---------------------------------------------------------------------------------------
// Phases

struct Verify {
    rate: f64,
    latencies: Vec<u32>,
}

/// Raw argon2id verifications on `threads` threads for `duration`.
fn raw_verify(threads: usize, duration: Duration) -> Verify {
    let hasher = PasswordHasher::new(Argon2Params::default()).expect("default parameters");
    let (_, typed) = DEMO_LOGINS[0];
    let new = PasswordPolicy::default()
        .check(&Password::new(typed), None, &PolicyContext::default())
        .expect("demo password passes the policy");
    let phc = hasher
        .hash(&new, &mut rand::rng())
        .expect("hash")
        .into_string();
    let login = Password::new(typed);
    assert!(hasher.verify(&login, &phc), "known password verifies");
    let start = Instant::now();
    let deadline = start + duration;
    let mut latencies: Vec<u32> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (hasher, login, phc) = (&hasher, &login, &phc);
                s.spawn(move || {
                    let mut v = Vec::new();
                    while Instant::now() < deadline {
                        let t0 = Instant::now();
                        black_box(hasher.verify(black_box(login), phc));
                        v.push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
                    }
                    v
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("verify thread"))
            .collect()
    });
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    Verify {
        rate: latencies.len() as f64 / elapsed.as_secs_f64(),
        latencies,
    }
}

/// A row of the final table.
struct Row {
    phase: String,
    clients: usize,
    record: Record,
    /// The statuses that count as "served" for rps and latency.
    ok: Vec<u16>,
    note: String,
    cpu: Option<CpuShare>,
}

impl Row {
    fn served(&self) -> Vec<u32> {
        self.record.latencies(&self.ok)
    }

    fn print_line(&self) {
        let ok = self.served();
        println!(
            "  {:<44} c={:<3} {:>8.1}/s p50 {:>5} ms p99 {:>5} ms max {:>5} ms [{}] {}",
            self.phase,
            self.clients,
            ok.len() as f64 / self.record.elapsed.as_secs_f64(),
            fmt_ms(pct_ms(&ok, 50.0)),
            fmt_ms(pct_ms(&ok, 99.0)),
            fmt_ms(ok.last().map_or(f64::NAN, |m| f64::from(*m) / 1000.0)),
            self.record.counts(),
            self.note,
        );
        if let Some(cpu) = &self.cpu {
            println!("      cpu: {}", cpu.describe());
        }
    }

    fn markdown(&self) -> String {
        let ok = self.served();
        format!(
            "| {} | {} | {:.0} | {} | {} | {} | {} |",
            self.phase,
            self.clients,
            ok.len() as f64 / self.record.elapsed.as_secs_f64(),
            fmt_ms(pct_ms(&ok, 50.0)),
            fmt_ms(pct_ms(&ok, 99.0)),
            self.record.counts(),
            self.note,
        )
    }
}

struct Verdict {
    what: String,
    measured: String,
    target: &'static str,
    pass: Option<bool>,
}

/// `wrk` against one URL; requests per second, if wrk is installed and answers.
fn wrk(url: &str, connections: usize, secs: u64, bearer: Option<&str>) -> Option<f64> {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t1", &format!("-c{connections}"), &format!("-d{secs}s")]);
    if let Some(token) = bearer {
        cmd.args(["-H", &format!("Authorization: Bearer {token}")]);
    }
    let out = cmd.arg(url).stderr(Stdio::null()).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("Non-2xx") {
        eprintln!("wrk saw non-2xx answers for {url}:\n{text}");
        return None;
    }
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
}

fn wrk_installed() -> bool {
    Command::new("wrk")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Everything measured, for the final report.
#[derive(Default)]
struct Report {
    rows: Vec<Row>,
    /// Backend, offered rate and sorted latencies of the 80 %-of-capacity login phases.
    steady: Vec<(&'static str, f64, Vec<u32>)>,
    verdicts: Vec<Verdict>,
    memory: Vec<String>,
    wrk: Vec<(String, f64)>,
    notes: Vec<String>,
}

impl Report {
    fn push(&mut self, row: Row) {
        row.print_line();
        self.rows.push(row);
    }

    fn verdict(
        &mut self,
        what: String,
        measured: String,
        target: &'static str,
        pass: Option<bool>,
    ) {
        self.verdicts.push(Verdict {
            what,
            measured,
            target,
            pass,
        });
    }

    fn markdown(&self, raw: &[(&str, &Verify)], knobs: &Knobs) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for (when, v) in raw {
            let _ = writeln!(
                out,
                "- Raw argon2id verify, 2 threads, {when}: **{:.1}/s** (p50 {} ms, p99 {} ms, {} verifications).",
                v.rate,
                fmt_ms(pct_ms(&v.latencies, 50.0)),
                fmt_ms(pct_ms(&v.latencies, 99.0)),
                v.latencies.len()
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| phase | clients | served/s | p50 ms | p99 ms | answers by status | note |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|");
        for row in &self.rows {
            let _ = writeln!(out, "{}", row.markdown());
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "| target | measured | target | verdict |");
        let _ = writeln!(out, "|---|---|---|---|");
        for v in &self.verdicts {
            let mark = match v.pass {
                Some(true) => "PASS",
                Some(false) => "MISS",
                None => "–",
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {mark} |",
                v.what, v.measured, v.target
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "CPU per phase (cores used on average; server threads by name):"
        );
        let _ = writeln!(out);
        for row in &self.rows {
            if let Some(cpu) = &row.cpu {
                let _ = writeln!(out, "- {}: {}", row.phase, cpu.describe());
            }
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "Memory of the server process:");
        let _ = writeln!(out);
        for line in &self.memory {
            let _ = writeln!(out, "- {line}");
        }
        if !self.wrk.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "Cross-check with wrk (-t1 -c{}, {} s):",
                knobs.me_clients,
                (knobs.secs.as_secs() / 2).max(1)
            );
            let _ = writeln!(out);
            for (what, r) in &self.wrk {
                let _ = writeln!(out, "- {what}: {r:.0} req/s");
            }
        }
        for note in &self.notes {
            let _ = writeln!(out);
            let _ = writeln!(out, "{note}");
        }
        out
    }
}

fn main() -> Result<()> {
    let knobs = Knobs::from_env();
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()?;
    runtime.block_on(run(knobs, cores))
}

/// Measures `clients` clients for the phase length after a short unrecorded warm-up, with
/// the server's and the generator's CPU time.
async fn measure(
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

#[allow(clippy::too_many_lines)]
async fn run(knobs: Knobs, cores: usize) -> Result<()> {
    let secs = knobs.secs;
    let short = (secs / 2).max(Duration::from_secs(1));
    let started = Instant::now();
    let dir = tempfile::tempdir()?;
    let sqlite_url = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
    println!(
        "ESR Access load bench: {cores} cores, {} s per phase, server {}",
        secs.as_secs(),
        server_binary()
    );
    let mut report = Report::default();

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
            &knobs,
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
            let (record, _) = measure(&knobs, None, bare.addr, knobs.me_clients, secs, make).await;
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
        let (record, cpu) = measure(&knobs, pid, server.addr, knobs.me_clients, secs, make).await;
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
                measure(&knobs, pid, server.addr, knobs.me_clients, short, make).await;
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

/// Both overload phases: the closed-loop worst case and an open-loop 10 × capacity.
async fn flood_phases(
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
enum Flood {
    /// `clients` closed-loop clients, each sending its next login as soon as the last is
    /// answered: a refusal takes well under a millisecond, so this offers far more than 10 ×
    /// capacity (the worst case: clients that ignore `Retry-After`).
    Closed { clients: usize },
    /// `rate` logins per second offered open-loop over `connections` connections.
    Open { connections: usize, rate: f64 },
}

impl Flood {
    fn label(self) -> String {
        match self {
            Self::Closed { clients } => format!("{clients} closed-loop clients"),
            Self::Open { connections, rate } => {
                format!("{rate:.0}/s open-loop, at most {connections} connections")
            }
        }
    }

    fn connections(self) -> usize {
        match self {
            Self::Closed { clients } => clients,
            Self::Open { connections, .. } => connections,
        }
    }
}

/// Overload: a fresh server with the default hashing pool (workers = cores, queue = 2 ×
/// workers), flooded with logins as `mode` says, a few `/v1/me` clients alongside.
#[allow(clippy::too_many_lines)]
async fn flood_phase(
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
    let metrics = once(server.addr, request(Method::GET, "/metrics", None, None))
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
