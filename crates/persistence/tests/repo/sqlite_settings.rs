//! Per-connection SQLite settings, as the pool hands connections out.

use diesel::prelude::*;
use diesel::sql_types::Text;
use esr_persistence::DbConnection;

use crate::helpers::TestDb;
use crate::sqlite_only;

sqlite_only!(pooled_connections_use_wal_foreign_keys_and_busy_timeout);

#[derive(QueryableByName)]
struct Value {
    #[diesel(sql_type = Text)]
    value: String,
}

/// Reads a pragma through its table-valued function (`pragma_busy_timeout` has a `timeout`
/// column, the others one named after the pragma).
fn pragma(conn: &mut DbConnection, name: &str, column: &str) -> String {
    let DbConnection::Sqlite(c) = conn else {
        panic!("not a SQLite connection");
    };
    diesel::sql_query(format!(
        "SELECT CAST({column} AS TEXT) AS value FROM pragma_{name}()"
    ))
    .get_result::<Value>(c)
    .unwrap_or_else(|e| panic!("PRAGMA {name}: {e}"))
    .value
}

fn pooled_connections_use_wal_foreign_keys_and_busy_timeout(db: &TestDb) {
    let pool = db.pool();
    // Held at once, so each is a different connection, not the first one reused.
    let mut held: Vec<_> = (0..3).map(|_| pool.get().expect("connection")).collect();
    assert_eq!(pool.state().0, 3, "three connections open");
    for conn in &mut held {
        assert_eq!(pragma(conn, "journal_mode", "journal_mode"), "wal");
        assert_eq!(pragma(conn, "foreign_keys", "foreign_keys"), "1");
        assert_eq!(pragma(conn, "busy_timeout", "timeout"), "5000");
        assert_eq!(pragma(conn, "synchronous", "synchronous"), "1", "NORMAL");
    }
}

sqlite_only!(an_import_checkpoints_less_often_and_restores_the_interval);

/// The import stretches the connection's WAL checkpoint interval while it runs (fewer
/// rewrites of the same index pages) and hands the connection back to the pool as it found it.
fn an_import_checkpoints_less_often_and_restores_the_interval(db: &TestDb) {
    let pool = db.pool();
    let mut conn = pool.get().expect("connection");
    assert_eq!(wal_autocheckpoint(&mut conn), 1000);
    {
        let mut session =
            esr_persistence::people_import::ImportSession::begin(&mut conn).expect("begin");
        let outcome = session
            .apply_batch(Vec::new(), chrono::Utc::now(), &mut |_, _| Ok(()))
            .expect("an empty batch");
        assert_eq!(outcome.created, 0);
    }
    assert_eq!(
        wal_autocheckpoint(&mut conn),
        1000,
        "restored when the import ends"
    );
}

#[derive(QueryableByName)]
struct Checkpoint {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    wal_autocheckpoint: i32,
}

/// `PRAGMA wal_autocheckpoint` has no table-valued form (reading it is not side-effect free).
fn wal_autocheckpoint(conn: &mut DbConnection) -> i32 {
    let DbConnection::Sqlite(c) = conn else {
        panic!("not a SQLite connection");
    };
    diesel::sql_query("PRAGMA wal_autocheckpoint")
        .get_result::<Checkpoint>(c)
        .expect("PRAGMA wal_autocheckpoint")
        .wal_autocheckpoint
}
