//! A throw-away PostgreSQL database for one test, shared by the test crates of this workspace
//! (`crates/persistence/tests/repo`, `crates/api/tests/api`, `crates/api/tests/instances`) and
//! by the load and import benches (`crates/api/benches/`).

use diesel::Connection;
use diesel::connection::SimpleConnection;

/// The environment variable that turns on the PostgreSQL tests: a server URL on which the
/// tests may create and drop databases.
pub const PG_ENV: &str = "ESR_TEST_DATABASE_URL";

/// A database of its own (`{prefix}_{random}`), dropped with `FORCE` (so leftover connections
/// do not keep it alive) when this value goes.
pub struct ScratchPg {
    /// Its URL.
    pub url: String,
    admin_url: String,
    name: String,
}

impl ScratchPg {
    /// Creates one, or prints `skipped: {test} {what} (set ESR_TEST_DATABASE_URL to run it)`
    /// and returns `None` when the variable is unset. Panics when it is set but unusable.
    pub fn create(prefix: &str, what: &str) -> Option<Self> {
        let Ok(admin_url) = std::env::var(PG_ENV) else {
            print_skipped(what);
            return None;
        };
        Some(
            Self::on_server(&admin_url, prefix)
                .unwrap_or_else(|e| panic!("{PG_ENV} is set but unusable: {e}")),
        )
    }

    /// Creates `{prefix}_{random}` on the server at `admin_url`, which must allow creating
    /// databases (also used by the load bench, whose URL comes from its own variable).
    pub fn on_server(admin_url: &str, prefix: &str) -> Result<Self, String> {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(admin_url)
            .map_err(|e| format!("PostgreSQL refused the connection: {e}"))?;
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .map_err(|e| format!("cannot create database {name}: {e}"))?;
        let mut url =
            url::Url::parse(admin_url).map_err(|e| format!("not a PostgreSQL URL: {e}"))?;
        url.set_path(&name);
        Ok(Self {
            url: url.to_string(),
            admin_url: admin_url.to_owned(),
            name,
        })
    }
}

/// Says on standard error that a test's PostgreSQL run was skipped. Written to the stream
/// itself, not through `eprintln!`, which the test harness captures and hides for passing
/// tests: the line shows in every `cargo test` run, next to the test's `ok`.
pub fn print_skipped(what: &str) {
    use std::io::Write;
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(
        std::io::stderr().lock(),
        "skipped: {test}: {what} (set {PG_ENV} to run it)"
    );
}

impl Drop for ScratchPg {
    fn drop(&mut self) {
        if let Ok(mut conn) = diesel::PgConnection::establish(&self.admin_url) {
            let _ = conn.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}
