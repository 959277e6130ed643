//! Embedded migrations: what is pending, what is applied, and that each one reverts.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use esr_persistence::{Backend, DbConnection, migrations, schema::organisations};

use crate::both_backends;
use crate::helpers::TestDb;

// Our own copies of the embedded sets (the crate's are private), to revert with.
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

both_backends!(
    fresh_database_has_every_migration_pending,
    run_pending_applies_every_version_once,
    migrations_revert_and_reapply,
);

fn migrations_dir(backend: Backend) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(backend.as_str())
}

/// The migration folder names of one backend, sorted.
fn folder_names(backend: Backend) -> Vec<String> {
    let dir = migrations_dir(backend);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry"))
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// The versions diesel derives from the folder names (`2026-11-25-000001_x` → `20261125000001`),
/// oldest first.
fn expected_versions(backend: Backend) -> Vec<String> {
    folder_names(backend)
        .iter()
        .map(|name| name.split('_').next().unwrap_or_default().replace('-', ""))
        .collect()
}

fn fresh_database_has_every_migration_pending(db: &TestDb) {
    let mut conn = db.connect();
    let pending = migrations::pending(&mut conn).expect("pending migrations readable");
    assert!(
        !pending.is_empty(),
        "a fresh database has pending migrations"
    );
    assert_eq!(
        pending,
        expected_versions(db.backend()),
        "embedded migrations differ from the folders on disk; if a folder was just added, \
         esr-persistence was not rebuilt (embed_migrations! does not watch the directory)"
    );
}

fn run_pending_applies_every_version_once(db: &TestDb) {
    let mut conn = db.connect();
    let before = migrations::pending(&mut conn).expect("pending before");

    let applied = migrations::run_pending(&mut conn).expect("first run");
    assert_eq!(
        applied, before,
        "applies exactly what was pending, oldest first"
    );
    let mut sorted = applied.clone();
    sorted.sort();
    assert_eq!(applied, sorted, "oldest first");

    let again = migrations::run_pending(&mut conn).expect("second run");
    assert!(again.is_empty(), "second run applies nothing: {again:?}");
    assert!(
        migrations::pending(&mut conn)
            .expect("pending after")
            .is_empty(),
        "nothing pending after a run"
    );

    // A second connection (as a restarted server would open) agrees.
    let mut other = db.connect();
    assert!(migrations::pending(&mut other).expect("pending").is_empty());
    assert!(
        migrations::run_pending(&mut other)
            .expect("run on up-to-date db")
            .is_empty()
    );
}

fn migrations_revert_and_reapply(db: &TestDb) {
    let mut conn = db.connect();
    let all = migrations::run_pending(&mut conn).expect("migrations apply");
    let reverted = match &mut conn {
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE),
        DbConnection::Postgresql(c) => c.revert_all_migrations(POSTGRES),
    }
    .expect("every down.sql runs");
    let reverted: BTreeSet<String> = reverted.iter().map(ToString::to_string).collect();
    assert_eq!(reverted, all.iter().cloned().collect::<BTreeSet<_>>());
    assert_eq!(
        migrations::pending(&mut conn).expect("pending"),
        all,
        "all pending again after reverting"
    );
    assert!(
        organisations::table
            .count()
            .get_result::<i64>(&mut conn)
            .is_err(),
        "the organisations table is gone after reverting"
    );
    assert_eq!(
        migrations::run_pending(&mut conn).expect("re-apply"),
        all,
        "re-applying after a full revert works"
    );
    assert_eq!(
        organisations::table
            .count()
            .get_result::<i64>(&mut conn)
            .expect("table back"),
        0
    );
}

/// Both backends have the same versions, each with an `up.sql` and a `down.sql` (no database).
#[test]
fn backends_have_the_same_migration_versions() {
    let sqlite = folder_names(Backend::Sqlite);
    let postgres = folder_names(Backend::Postgres);
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite, postgres,
        "migrations/sqlite and migrations/postgres"
    );
    for backend in [Backend::Sqlite, Backend::Postgres] {
        for name in folder_names(backend) {
            for file in ["up.sql", "down.sql"] {
                let path = migrations_dir(backend).join(&name).join(file);
                assert!(path.is_file(), "missing {}", path.display());
            }
        }
    }
}
