//! Child `esr-api` processes, throw-away PostgreSQL databases, bounded waits.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use esr_persistence::{DatabaseUrl, DbConnection};
use serde_json::{Value, json};

use esr_test_support::scratch_pg::ScratchPg;
pub use esr_test_support::wait::wait_until;

/// Demo accounts (crates/api/src/seed.rs).
pub const JANE: &str = "999JSMITH01";
pub const JANE_PASSWORD: &str = "Bluebell harbour lantern";

/// A PostgreSQL database of this test's own, dropped (connections and all) afterwards.
pub struct PgDb(ScratchPg);

impl PgDb {
    /// A fresh database, or `None` (with a printed line) when `ESR_TEST_DATABASE_URL` is unset.
    pub fn fresh() -> Option<Self> {
        ScratchPg::create("esr_inst", "PostgreSQL only").map(Self)
    }

    /// Its URL.
    pub fn url(&self) -> &str {
        &self.0.url
    }

    /// The server's address (`host:port`), for a proxy in front of it.
    pub fn server_addr(&self) -> String {
        let url = url::Url::parse(self.url()).unwrap();
        format!(
            "{}:{}",
            url.host_str().unwrap_or("127.0.0.1"),
            url.port().unwrap_or(5432)
        )
    }

    /// This database's URL through another `port` on 127.0.0.1.
    pub fn url_via(&self, port: u16) -> String {
        let mut url = url::Url::parse(self.url()).unwrap();
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(port)).unwrap();
        url.to_string()
    }

    /// A direct connection, for arranging and inspecting state.
    pub fn conn(&self) -> DbConnection {
        db_conn(self.url())
    }
}

/// A direct connection to `url` (`postgres://…` or `sqlite://…`).
pub fn db_conn(url: &str) -> DbConnection {
    let url = DatabaseUrl::parse(url).expect("database URL");
    esr_persistence::connection::establish(&url, Default::default()).expect("database connection")
}

/// A port nothing listens on (yet).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Queues a "your password was changed" notice to each recipient in one transaction, so the
/// first worker to claim takes them all in one batch.
pub fn enqueue_notices(conn: &mut DbConnection, recipients: &[String]) {
    conn.write_transaction(|c| {
        for to in recipients {
            esr_persistence::outbox::enqueue(
                c,
                &esr_persistence::outbox::NewMessage {
                    kind: esr_persistence::outbox::EmailKind::PasswordChanged,
                    recipient: to,
                    language: "en",
                    account_id: None,
                    payload: &json!({"username": "999JSMITH01", "organisation_code": "999", "organisation_name": "Demo NHS Trust", "at": "2026-11-25T10:00:00Z"}),
                },
                chrono::Utc::now(),
            )?;
        }
        Ok::<(), esr_persistence::RepoError>(())
    })
    .unwrap();
}

/// How to start one `esr-api serve`.
pub struct InstanceBuilder {
    name: String,
    env: Vec<(String, String)>,
    ignore_sigxfsz: bool,
    log_to_file: bool,
}

impl InstanceBuilder {
    /// An instance called `name` (also its `HOSTNAME`, so its delivery worker's claims show
    /// whose they are) on `database_url`, with test defaults: dev mode, fast delivery worker,
    /// file transport into a directory of its own.
    pub fn new(name: &str, database_url: &str) -> Self {
        let env = [
            ("ESR_MODE", "dev"),
            ("ESR_DATABASE_URL", database_url),
            ("ESR_WORKERS", "2"),
            ("ESR_DATABASE_POOL_SIZE", "4"),
            ("ESR_DATABASE_TIMEOUT_MS", "5000"),
            ("ESR_OUTBOX_POLL_MS", "100"),
            ("ESR_OUTBOX_RETRY_BASE_MS", "200"),
            ("ESR_SHUTDOWN_TIMEOUT_SECS", "5"),
            ("ESR_EMAIL_TRANSPORT", "file"),
            ("ESR_LOG", "info"),
            ("ESR_LOG_FORMAT", "json"),
            ("HOSTNAME", name),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        Self {
            name: name.to_owned(),
            env,
            ignore_sigxfsz: false,
            log_to_file: false,
        }
    }

    /// Sets (or overrides) an environment variable.
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.into()));
        self
    }

    /// Rate limits off and room in the hashing queue, for tests that fire many requests.
    pub fn unlimited(self) -> Self {
        self.env("ESR_RATE_LOGIN_PER_IP", "0")
            .env("ESR_RATE_LOGIN_PER_USERNAME", "0")
            .env("ESR_RATE_RECOVERY_PER_IP", "0")
            .env("ESR_RATE_RECOVERY_PER_EMAIL", "0")
            .env("ESR_EMAILS_PER_ADDRESS_PER_HOUR", "0")
            .env("ESR_HASH_QUEUE", "64")
    }

    /// Sends mail to the SMTP server on 127.0.0.1:`port` (no TLS).
    pub fn smtp(self, port: u16) -> Self {
        self.env("ESR_EMAIL_TRANSPORT", "smtp")
            .env("ESR_SMTP_HOST", "127.0.0.1")
            .env("ESR_SMTP_PORT", port.to_string())
            .env("ESR_SMTP_TLS", "none")
    }

    /// Starts the process with SIGXFSZ ignored (inherited through `exec`), so a file-size
    /// limit makes writes fail with `EFBIG` instead of killing it, as a full disk would.
    pub fn ignore_sigxfsz(mut self) -> Self {
        self.ignore_sigxfsz = true;
        self
    }

    /// Lets the process write its log straight into a file (as `esr-api 2>>file` would), so
    /// a file-size limit put on it applies to its log too. Default: a pipe the test copies.
    pub fn log_to_file(mut self) -> Self {
        self.log_to_file = true;
        self
    }

    /// Starts the process and waits (up to 90 s) until `/health/ready` answers 200.
    pub async fn spawn(self) -> Instance {
        let mut last = String::new();
        // The port is chosen before the child binds it; retry in the rare case of a race.
        for _ in 0..3 {
            match self.try_spawn().await {
                Ok(instance) => return instance,
                Err(log) => last = log,
            }
        }
        panic!("{} did not start:\n{last}", self.name);
    }

    async fn try_spawn(&self) -> Result<Instance, String> {
        let dir = tempfile::tempdir().expect("instance directory");
        let port = free_port();
        let operator_port = free_port();
        let log_path = dir.path().join("esr-api.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let mut cmd = if self.ignore_sigxfsz {
            let mut sh = Command::new("sh");
            sh.arg("-c")
                .arg("trap '' XFSZ; exec \"$0\" serve")
                .arg(env!("CARGO_BIN_EXE_esr-api"));
            sh
        } else {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_esr-api"));
            cmd.arg("serve");
            cmd
        };
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("ESR_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("ESR_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env(
                "ESR_OPERATOR_LISTEN_ADDR",
                format!("127.0.0.1:{operator_port}"),
            )
            .env("ESR_MAILBOX_DIR", dir.path().join("mailbox"))
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        let child = if self.log_to_file {
            cmd.stdout(log.try_clone().unwrap()).stderr(log);
            cmd.spawn().expect("esr-api starts")
        } else {
            // Pipes, copied into the log file by the test.
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            let mut child = cmd.spawn().expect("esr-api starts");
            let log = std::sync::Arc::new(std::sync::Mutex::new(log));
            copy_lines(child.stdout.take().unwrap(), std::sync::Arc::clone(&log));
            copy_lines(child.stderr.take().unwrap(), log);
            child
        };
        let mut instance = Instance {
            name: self.name.clone(),
            address: format!("http://127.0.0.1:{port}"),
            port,
            operator_port,
            mailbox: dir.path().join("mailbox"),
            log_path,
            child: Some(child),
            client: client(),
            _dir: dir,
        };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(90) {
            if let Some(status) = instance.try_exit_status() {
                let log = instance.log();
                instance.child = None;
                return Err(format!("exited with {status}:\n{log}"));
            }
            if let Ok(res) = instance
                .client
                .get(instance.url("/health/ready"))
                .send()
                .await
                && res.status() == 200
            {
                return Ok(instance);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("not ready within 90 s:\n{}", instance.log()))
    }
}

/// Copies a child's output into the shared log file, line by line, on a thread of its own.
fn copy_lines(
    from: impl std::io::Read + Send + 'static,
    to: std::sync::Arc<std::sync::Mutex<std::fs::File>>,
) {
    use std::io::{BufRead, Write};
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(from).lines() {
            let Ok(line) = line else { return };
            let _ = writeln!(to.lock().unwrap(), "{line}");
        }
    });
}

/// A client that never waits more than 30 s for an answer (a hang fails the test).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// A running `esr-api` child process; killed (SIGKILL) when dropped.
pub struct Instance {
    /// Name given by the test (and the instance's `HOSTNAME`).
    pub name: String,
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// Its port.
    pub port: u16,
    /// Its operator listener's port (metrics).
    pub operator_port: u16,
    /// Its `file` transport directory.
    pub mailbox: PathBuf,
    /// An HTTP client.
    pub client: reqwest::Client,
    log_path: PathBuf,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            eprintln!("--- last lines of {} ---", self.name);
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

impl Instance {
    /// `{address}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Everything it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The exit status if it has exited.
    pub fn try_exit_status(&mut self) -> Option<ExitStatus> {
        self.child.as_mut()?.try_wait().ok().flatten()
    }

    /// Waits (bounded) for the process to exit.
    pub async fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.try_exit_status() {
                return status;
            }
            assert!(
                start.elapsed() < limit,
                "{} still running after {limit:?}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// True while the process runs.
    pub fn alive(&mut self) -> bool {
        self.child.is_some() && self.try_exit_status().is_none()
    }

    /// Sends a signal by name (`TERM`, `KILL`, …) with kill(1).
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill(1) runs")
            .success();
        assert!(ok, "kill -{name} {}", self.pid());
    }

    /// SIGKILL, and reap it.
    pub fn sigkill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reaped");
        }
    }

    /// The Prometheus metrics, from the operator listener.
    pub async fn metrics(&self) -> String {
        let url = format!("http://127.0.0.1:{}/metrics", self.operator_port);
        let res = self.client.get(url).send().await.expect("metrics scraped");
        res.text().await.expect("metrics text")
    }

    /// `GET {path}`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// `GET {path}` with a bearer token.
    pub async fn get_auth(&self, path: &str, bearer: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(bearer)
            .send()
            .await
            .expect("GET")
    }

    /// `POST {path}` with a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    /// `POST /v1/auth/login`.
    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/v1/auth/login",
            &json!({"username": username, "password": password}),
        )
        .await
    }

    /// `POST /v1/auth/refresh`.
    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.post_json("/v1/auth/refresh", &json!({"refresh_token": refresh_token}))
            .await
    }

    /// Messages its `file` transport wrote.
    pub fn mailbox(&self) -> Vec<esr_api::email::transport::MailboxMessage> {
        esr_api::email::transport::read_mailbox(&self.mailbox, None, 100_000).unwrap()
    }
}

/// Reads a problem+json response: checks the media type and that `status` matches; returns
/// the body.
pub async fn problem(response: reqwest::Response) -> Value {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json", "status {status}");
    let body: Value = response.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status, "{body}");
    assert!(body["code"].is_string(), "{body}");
    body
}
