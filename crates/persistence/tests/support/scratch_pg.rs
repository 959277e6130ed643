//! A throw-away PostgreSQL database for one test, shared by the test crates of this workspace
//! (`crates/persistence/tests/repo`, `crates/api/tests/api`, `crates/api/tests/instances`, each
//! including this file with `#[path]`).

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
    /// Creates one, or prints `skipped: {what} (set ESR_TEST_DATABASE_URL to run it)` and
    /// returns `None` when the variable is unset. Panics when it is set but unusable.
    pub fn create(prefix: &str, what: &str) -> Option<Self> {
        let Ok(admin_url) = std::env::var(PG_ENV) else {
            println!("skipped: {what} (set {PG_ENV} to run it)");
            return None;
        };
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("{PG_ENV} is set but PostgreSQL refused: {e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .expect("create test database");
        let mut url = url::Url::parse(&admin_url).expect("valid ESR_TEST_DATABASE_URL");
        url.set_path(&name);
        Some(Self {
            url: url.to_string(),
            admin_url,
            name,
        })
    }
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
