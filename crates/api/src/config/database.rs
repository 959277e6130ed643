//! Which database, how many connections, and whether migrations run on start.

use std::time::Duration;

use esr_persistence::{Backend, DatabaseUrl};

/// The database and its connection pool.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST:PORT/DB`. Dev default: `sqlite://./var/esr.db`.
    #[arg(long, env = "ESR_DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// File holding the database URL (for secrets mounted as files); used when `ESR_DATABASE_URL` is unset.
    #[arg(long, env = "ESR_DATABASE_URL_FILE", global = true)]
    pub database_url_file: Option<std::path::PathBuf>,

    /// Maximum open database connections per instance.
    #[arg(
        long,
        env = "ESR_DATABASE_POOL_SIZE",
        default_value_t = 10,
        global = true
    )]
    pub database_pool_size: u32,

    /// How long a request waits for a database connection before getting 503 (milliseconds).
    #[arg(
        long,
        env = "ESR_DATABASE_TIMEOUT_MS",
        default_value_t = 2_000,
        global = true
    )]
    pub database_timeout_ms: u64,

    /// Allow a SQLite database in production (single instance only).
    #[arg(
        long,
        env = "ESR_ALLOW_SQLITE_IN_PRODUCTION",
        default_value_t = false,
        global = true
    )]
    pub allow_sqlite_in_production: bool,

    /// Apply pending migrations on start. Default: on in dev, off in production (run `esr-api migrate`).
    #[arg(long, env = "ESR_AUTO_MIGRATE", global = true)]
    pub auto_migrate: Option<bool>,
}

/// The database section, resolved.
pub(super) struct Database {
    pub(super) url: DatabaseUrl,
    pub(super) pool_size: u32,
    pub(super) timeout: Duration,
    pub(super) auto_migrate: bool,
}

impl DatabaseSettings {
    /// The database section, or `None` when there is no usable database URL (the reasons are
    /// in `problems`).
    pub(super) fn resolve(self, production: bool, problems: &mut Vec<String>) -> Option<Database> {
        let raw_url = match (&self.database_url, &self.database_url_file) {
            (Some(url), _) => Some(url.clone()),
            (None, Some(path)) => match std::fs::read_to_string(path) {
                Ok(s) => Some(s.trim().to_owned()),
                Err(e) => {
                    problems.push(format!(
                        "ESR_DATABASE_URL_FILE: cannot read {}: {e}",
                        path.display()
                    ));
                    None
                }
            },
            (None, None) if production => {
                problems.push(
                    "ESR_DATABASE_URL is required (postgres://USER:PASSWORD@HOST:PORT/DB)".into(),
                );
                None
            }
            (None, None) => Some("sqlite://./var/esr.db".to_owned()),
        };
        let url = raw_url.and_then(|raw| match DatabaseUrl::parse(&raw) {
            Ok(url) => Some(url),
            Err(e) => {
                problems.push(format!("ESR_DATABASE_URL: {e}"));
                None
            }
        });
        if production
            && !self.allow_sqlite_in_production
            && url.as_ref().is_some_and(|u| u.backend() == Backend::Sqlite)
        {
            problems.push(
                "ESR_DATABASE_URL: SQLite is for development; use PostgreSQL in production \
                 or set ESR_ALLOW_SQLITE_IN_PRODUCTION=true for a single instance"
                    .into(),
            );
        }
        if self.database_pool_size == 0 {
            problems.push("ESR_DATABASE_POOL_SIZE must be at least 1".into());
        }
        if self.database_timeout_ms == 0 {
            problems.push("ESR_DATABASE_TIMEOUT_MS must be at least 1".into());
        }
        Some(Database {
            url: url?,
            pool_size: self.database_pool_size,
            timeout: Duration::from_millis(self.database_timeout_ms),
            auto_migrate: self.auto_migrate.unwrap_or(!production),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::LogFormat;
    use super::super::tests::settings;
    use super::*;

    #[test]
    fn dev_defaults_need_nothing() {
        let config = settings(&["--mode", "dev"]).resolve().expect("dev config");
        assert_eq!(config.database_url.backend(), Backend::Sqlite);
        assert_eq!(config.database_url.expose(), "./var/esr.db");
        assert!(config.auto_migrate && config.seed_demo);
        assert_eq!(config.log_format, LogFormat::Pretty);
    }

    #[test]
    fn production_refuses_sqlite_and_plain_http() {
        let err = settings(&[
            "--mode",
            "production",
            "--database-url",
            "sqlite://./x.db",
            "--public-base-url",
            "http://esr.example",
        ])
        .resolve()
        .expect_err("refused");
        let text = err.to_string();
        assert!(text.contains("SQLite is for development"), "{text}");
        assert!(text.contains("must use https"), "{text}");
    }
}
