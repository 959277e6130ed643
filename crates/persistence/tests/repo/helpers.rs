//! Fresh databases per test and the macros that run a test on each backend.

use esr_persistence::connection::establish;
use esr_persistence::{Backend, DatabaseUrl, DbConnection, DbPool, PoolOptions, migrations};

use esr_test_support::scratch_pg::ScratchPg;

/// A throw-away database: a file in a temporary directory, or a PostgreSQL database that is
/// dropped (with `FORCE`, so leftover connections do not keep it alive) when this goes.
pub struct TestDb {
    url: DatabaseUrl,
    guard: Guard,
}

enum Guard {
    Sqlite(tempfile::TempDir),
    Postgres(#[allow(dead_code)] ScratchPg),
}

impl TestDb {
    /// A fresh, empty SQLite database in its own temporary directory.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("esr.db").display());
        Self {
            url: DatabaseUrl::parse(&url).expect("SQLite test URL"),
            guard: Guard::Sqlite(dir),
        }
    }

    /// A fresh, empty PostgreSQL database; `None` (with a printed line) when
    /// `ESR_TEST_DATABASE_URL` is not set.
    pub fn postgres() -> Option<Self> {
        let db = ScratchPg::create("esr_test", "PostgreSQL variant")?;
        Some(Self {
            url: DatabaseUrl::parse(&db.url).expect("PostgreSQL test URL"),
            guard: Guard::Postgres(db),
        })
    }

    /// The database's URL.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Which backend this database is on.
    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// The directory holding the SQLite file (SQLite only).
    pub fn sqlite_dir(&self) -> &std::path::Path {
        match &self.guard {
            Guard::Sqlite(dir) => dir.path(),
            Guard::Postgres { .. } => panic!("not a SQLite test database"),
        }
    }

    /// A pool with the default options.
    pub fn pool(&self) -> DbPool {
        self.pool_with(PoolOptions::default())
    }

    /// A pool with the given options.
    pub fn pool_with(&self, options: PoolOptions) -> DbPool {
        DbPool::connect(&self.url, options).expect("pool connects to the test database")
    }

    /// A pool over a database with every migration applied.
    pub fn migrated_pool(&self) -> DbPool {
        let pool = self.pool();
        migrations::run_pending(&mut pool.get().expect("connection")).expect("migrations apply");
        pool
    }

    /// One connection outside any pool, opened like the pool opens them.
    pub fn connect(&self) -> DbConnection {
        establish(&self.url, Default::default()).expect("direct connection")
    }
}

/// Declares each named `fn(&TestDb)` as two tests, `NAME::sqlite` and `NAME::postgres`; any
/// attributes before a name (e.g. `#[ignore = "…"]`) go on both.
#[macro_export]
macro_rules! both_backends {
    ($($(#[$attr:meta])* $name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            $(#[$attr])*
            fn sqlite() {
                super::$name(&$crate::helpers::TestDb::sqlite());
            }

            #[test]
            $(#[$attr])*
            fn postgres() {
                let Some(db) = $crate::helpers::TestDb::postgres() else {
                    return;
                };
                super::$name(&db);
            }
        }
    )*};
}

/// Declares each named `fn(&TestDb)` as one test, `NAME::sqlite`, for SQLite-only behaviour.
#[macro_export]
macro_rules! sqlite_only {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(&$crate::helpers::TestDb::sqlite());
            }
        }
    )*};
}

/// Declares each named `fn(&TestDb)` as one test, `NAME::postgres`, for PostgreSQL-only
/// behaviour; skipped (and passing) without `ESR_TEST_DATABASE_URL`.
#[macro_export]
macro_rules! postgres_only {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn postgres() {
                let Some(db) = $crate::helpers::TestDb::postgres() else {
                    return;
                };
                super::$name(&db);
            }
        }
    )*};
}
