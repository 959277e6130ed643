//! `spawn_app()` and friends.

use std::sync::Once;

use esr_api::config::{Config, Settings};
use esr_api::startup::Application;
use esr_persistence::{DatabaseUrl, DbConnection};

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

pub use esr_test_support::scratch_pg::PG_ENV;
use esr_test_support::scratch_pg::ScratchPg;

/// A running server and what it needs to be cleaned up.
pub struct TestApp {
    pub address: String,
    /// The operator listener (metrics, health checks).
    pub operator_address: String,
    pub mailbox: std::path::PathBuf,
    pub client: reqwest::Client,
    pub backend: TestBackend,
    pub database_url: DatabaseUrl,
    /// The key of this server's audit chain (from its configuration).
    pub audit_chain: esr_persistence::audit::ChainKey,
    /// The key this server seals smartcard flows into their `state` with.
    pub smartcard_flow_key: esr_api::smartcard_flow::FlowSealKey,
    handle: actix_web::dev::ServerHandle,
    _db: TestDb,
    _mailbox_dir: tempfile::TempDir,
    _dir: Option<tempfile::TempDir>,
}

/// A throw-away database: a temporary directory, or a PostgreSQL database dropped afterwards.
enum TestDb {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] ScratchPg),
    /// Owned by another instance.
    Shared,
}

fn init_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            esr_api::telemetry::init(esr_api::config::LogFormat::Pretty, "debug");
        }
    });
}

/// Creates a fresh database for one test. `None` (with a printed line) when the backend is
/// PostgreSQL and `ESR_TEST_DATABASE_URL` is not set.
fn fresh_database(backend: TestBackend) -> Option<(String, TestDb)> {
    match backend {
        TestBackend::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let url = format!("sqlite://{}", dir.path().join("esr.db").display());
            Some((url, TestDb::Sqlite(dir)))
        }
        TestBackend::Postgres => {
            let db = ScratchPg::create("esr_test", "PostgreSQL variant")?;
            Some((db.url.clone(), TestDb::Postgres(db)))
        }
    }
}

/// Settings for a test server: dev mode, random port, one worker, the given database, a fast
/// delivery worker. Each server gets its own mailbox directory when it starts.
pub fn test_config(database_url: &str) -> Config {
    test_config_with_args(database_url, &[])
}

/// Like [`test_config`], with more command-line settings (later ones win).
pub fn test_config_with_args(database_url: &str, extra: &[&str]) -> Config {
    let mut args = vec![
        "esr-api",
        "--outbox-poll-ms",
        "100",
        "--outbox-retry-base-ms",
        "200",
        "--mode",
        "dev",
        "--listen-addr",
        "127.0.0.1:0",
        "--operator-listen-addr",
        "127.0.0.1:0",
        "--workers",
        "1",
        "--database-pool-size",
        "4",
        // Generous: the whole suite shares two cores; tests of pool exhaustion set their own.
        "--database-timeout-ms",
        "10000",
        "--shutdown-timeout-secs",
        "1",
        "--database-url",
        database_url,
    ];
    args.extend_from_slice(extra);
    Settings::parse_from(args)
        .expect("test settings parse")
        .resolve()
        .expect("test settings are valid")
}

/// Starts a server on a fresh database with extra settings; `None` if the backend is not
/// configured.
pub async fn spawn_app_with_args(backend: TestBackend, extra: &[&str]) -> Option<TestApp> {
    init_logs();
    let (url, db) = fresh_database(backend)?;
    let config = test_config_with_args(&url, extra);
    Some(start(config, backend, db).await)
}

/// Starts a production-mode server (migrations applied first, as `esr-api migrate` would)
/// on a fresh database, with the production settings a test can give: a signing key file, an
/// https base URL, and `extra`.
pub async fn spawn_production_app(backend: TestBackend, extra: &[&str]) -> Option<TestApp> {
    init_logs();
    let (url, db) = fresh_database(backend)?;
    let dir = tempfile::tempdir().expect("temporary directory");
    let key_path = dir.path().join("signing.pem");
    let key = esr_api::tokens::SigningKey::generate(&mut rand::rng());
    std::fs::write(&key_path, key.to_pkcs8_pem().as_str()).expect("key file");
    let key_path = key_path.display().to_string();
    let mfa_key_path = dir.path().join("mfa.key");
    std::fs::write(
        &mfa_key_path,
        esr_domain::random_token(&mut rand::rng(), 32),
    )
    .expect("mfa key");
    let mfa_key_path = mfa_key_path.display().to_string();
    let mut args = vec![
        "esr-api",
        "--mode",
        "production",
        "--listen-addr",
        "127.0.0.1:0",
        "--operator-listen-addr",
        "127.0.0.1:0",
        "--workers",
        "1",
        "--shutdown-timeout-secs",
        "1",
        "--database-url",
        &url,
        "--allow-sqlite-in-production",
        "--public-base-url",
        "https://esr.example.org",
        "--signing-key-file",
        &key_path,
        "--mfa-key-file",
        &mfa_key_path,
        "--web-base-url",
        "https://my.esr.example.org",
        "--email-transport",
        "smtp",
        "--smtp-host",
        "127.0.0.1",
    ];
    args.extend_from_slice(extra);
    let mut config = Settings::parse_from(args)
        .expect("production settings parse")
        .resolve()
        .expect("production settings are valid");
    config.auto_migrate = true;
    let mut app = start(config, backend, db).await;
    app._dir = Some(dir);
    Some(app)
}

/// Starts a server on a fresh database; `None` if the backend is not configured.
pub async fn spawn_app(backend: TestBackend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// Like [`spawn_app`], letting the test adjust the configuration first.
pub async fn spawn_app_with(
    backend: TestBackend,
    adjust: impl FnOnce(&mut Config),
) -> Option<TestApp> {
    init_logs();
    let (url, db) = fresh_database(backend)?;
    let mut config = test_config(&url);
    adjust(&mut config);
    Some(start(config, backend, db).await)
}

/// A second instance on the database of `first` (as in a scaled-out deployment).
pub async fn spawn_second_instance(first: &TestApp, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let url = first.database_url.expose().to_owned();
    let url = match first.backend {
        TestBackend::Sqlite => format!("sqlite://{url}"),
        TestBackend::Postgres => url,
    };
    let mut config = test_config(&url);
    adjust(&mut config);
    start(config, first.backend, TestDb::Shared).await
}

/// Builds and starts the server. A `file` email transport writes to a mailbox directory of
/// this server's own.
async fn start(mut config: Config, backend: TestBackend, db: TestDb) -> TestApp {
    let mailbox_dir = tempfile::tempdir().expect("mailbox directory");
    if let esr_api::config::EmailConfig::File { dir } = &mut config.email {
        *dir = mailbox_dir.path().to_owned();
    }
    let database_url = config.database_url.clone();
    let audit_chain = config.audit_chain.clone();
    let smartcard_flow_key = config.smartcard_flow_key.clone();
    let app = Application::build(config)
        .await
        .expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let operator_address = format!("http://127.0.0.1:{}", app.operator_port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    TestApp {
        address,
        operator_address,
        mailbox: mailbox_dir.path().to_owned(),
        _mailbox_dir: mailbox_dir,
        client,
        backend,
        database_url,
        audit_chain,
        smartcard_flow_key,
        handle,
        _db: db,
        _dir: None,
    }
}

impl TestApp {
    /// The database URL as the binary and `Settings` read it (`sqlite://…` or `postgres://…`).
    pub fn settings_database_url(&self) -> String {
        let url = self.database_url.expose();
        match self.backend {
            TestBackend::Sqlite => format!("sqlite://{url}"),
            TestBackend::Postgres => url.to_owned(),
        }
    }

    /// `GET {address}{path}`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request sent")
    }

    /// `POST {address}{path}` with a JSON body and, optionally, a bearer token.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
        bearer: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(format!("{}{path}", self.address))
            .json(body);
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        req.send().await.expect("request sent")
    }

    /// `PUT {address}{path}` with a JSON body and a bearer token.
    pub async fn put_json(
        &self,
        path: &str,
        body: &serde_json::Value,
        bearer: &str,
    ) -> reqwest::Response {
        self.client
            .put(format!("{}{path}", self.address))
            .json(body)
            .bearer_auth(bearer)
            .send()
            .await
            .expect("request sent")
    }

    /// `GET {address}{path}` with a bearer token.
    pub async fn get_auth(&self, path: &str, bearer: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .bearer_auth(bearer)
            .send()
            .await
            .expect("request sent")
    }

    /// `POST /v1/auth/login`.
    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/v1/auth/login",
            &serde_json::json!({"username": username, "password": password}),
            None,
        )
        .await
    }

    /// Logs in and returns the token response (panics unless 200).
    pub async fn tokens(&self, username: &str, password: &str) -> serde_json::Value {
        let res = self.login(username, password).await;
        assert_eq!(res.status(), 200, "login of {username} succeeds");
        res.json().await.expect("token response")
    }

    /// A direct database connection, for arranging and inspecting state the API does not expose.
    pub fn db(&self) -> DbConnection {
        esr_persistence::connection::establish(&self.database_url, Default::default())
            .expect("direct database connection")
    }

    /// The Prometheus metrics, from the operator listener.
    pub async fn metrics(&self) -> String {
        let res = self
            .client
            .get(format!("{}/metrics", self.operator_address))
            .send()
            .await
            .expect("metrics scraped");
        assert_eq!(res.status(), 200, "metrics on the operator listener");
        res.text().await.expect("metrics text")
    }

    /// The dev mailbox (`GET /v1/dev/mailbox?to=…`), newest first.
    pub async fn mailbox(&self, to: &str) -> Vec<serde_json::Value> {
        let res = self
            .client
            .get(format!("{}/v1/dev/mailbox", self.address))
            .query(&[("to", to)])
            .send()
            .await
            .expect("request sent");
        assert_eq!(res.status(), 200, "mailbox readable");
        res.json().await.expect("mailbox JSON")
    }

    /// Waits (up to 10 s) until `to` has at least `count` messages; returns them, newest first.
    pub async fn wait_for_mail(&self, to: &str, count: usize) -> Vec<serde_json::Value> {
        for _ in 0..100 {
            let messages = self.mailbox(to).await;
            if messages.len() >= count {
                return messages;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("{to} did not receive {count} message(s) within 10 s");
    }

    /// Stops the server (gracefully, within the short test shutdown timeout).
    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

/// Reads a problem+json response, checking the media type and the request id.
pub async fn problem(response: reqwest::Response) -> serde_json::Value {
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        content_type, "application/problem+json",
        "problem media type"
    );
    let header_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status, "status in body matches: {body}");
    assert_eq!(
        body["request_id"],
        header_id.as_str(),
        "request id in body matches header"
    );
    let code = body["code"].as_str().expect("problem has a code");
    assert_eq!(body["type"], format!("/problems/{code}"));
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    body
}

/// Declares each named `async fn(&TestApp)` as two tests, `NAME::sqlite` and `NAME::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let app = $crate::helpers::spawn_app($crate::helpers::TestBackend::Sqlite)
                    .await
                    .expect("SQLite is always available");
                super::$name(&app).await;
                app.stop().await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(app) = $crate::helpers::spawn_app($crate::helpers::TestBackend::Postgres).await else {
                    return;
                };
                super::$name(&app).await;
                app.stop().await;
            }
        }
    )*};
}

/// Declares each named `async fn(TestBackend)` (which spawns its own server, returning early
/// when the backend is not configured) as two tests, `NAME::sqlite` and `NAME::postgres`.
#[macro_export]
macro_rules! both_backends_owned {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::helpers::TestBackend::Sqlite).await;
            }

            #[tokio::test]
            async fn postgres() {
                super::$name($crate::helpers::TestBackend::Postgres).await;
            }
        }
    )*};
}

/// Like `both_backends!`, with a custom spawner `async fn(TestBackend) -> Option<TestApp>`.
#[macro_export]
macro_rules! both_backends_with {
    ($spawn:ident, $($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let app = super::$spawn($crate::helpers::TestBackend::Sqlite)
                    .await
                    .expect("SQLite is always available");
                super::$name(&app).await;
                app.stop().await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(app) = super::$spawn($crate::helpers::TestBackend::Postgres).await else {
                    return;
                };
                super::$name(&app).await;
                app.stop().await;
            }
        }
    )*};
}
