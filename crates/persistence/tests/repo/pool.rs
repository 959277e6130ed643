//! `DbPool`: start-up errors in the driver's words, and a busy pool answering "unavailable".

use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::Integer;
use esr_persistence::{
    ConnectError, DatabaseUrl, DbConnection, DbPool, PoolOptions, RepoError, organisations,
};

use crate::helpers::TestDb;
use crate::{both_backends, postgres_only, sqlite_only};

both_backends!(exhausted_pool_answers_unavailable);
sqlite_only!(missing_sqlite_directories_are_created);
postgres_only!(
    unknown_database_is_reported,
    terminated_connection_is_unavailable_and_replaced,
);

fn connect_err(url: &str) -> ConnectError {
    let url = DatabaseUrl::parse(url).expect("well-formed URL");
    DbPool::connect(&url, PoolOptions::default()).expect_err("connect must fail")
}

/// Nothing listens on port 1: the operator sees libpq's reason, never the password.
#[test]
fn refused_postgres_connection_names_the_cause_not_the_password() {
    let err = connect_err("postgres://esr:hunter2@127.0.0.1:1/esr");
    let text = err.to_string();
    assert!(matches!(err, ConnectError::Connect { .. }), "{err:?}");
    assert!(text.contains("Connection refused"), "{text}");
    assert!(text.contains("127.0.0.1"), "names the server: {text}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
}

/// A SQLite path that is a directory cannot be opened: the error says so with SQLite's words.
#[test]
fn unopenable_sqlite_file_names_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let err = connect_err(&format!("sqlite://{}", dir.path().display()));
    let text = err.to_string();
    assert!(
        matches!(
            err,
            ConnectError::Connect { .. } | ConnectError::Setup { .. }
        ),
        "{err:?}"
    );
    assert!(
        text.to_lowercase()
            .contains("unable to open the database file"),
        "{text}"
    );
    assert!(text.contains(&dir.path().display().to_string()), "{text}");
}

fn unknown_database_is_reported(db: &TestDb) {
    let mut url = url::Url::parse(db.url().expose()).unwrap();
    url.set_path("esr_no_such_database");
    let err = connect_err(url.as_str());
    let text = err.to_string();
    assert!(matches!(err, ConnectError::Connect { .. }), "{err:?}");
    assert!(text.contains("does not exist"), "{text}");
    assert!(text.contains("esr_no_such_database"), "{text}");
}

/// A server restart or an operator's `pg_terminate_backend` kills pooled connections. One that
/// worked a moment ago is handed out without a check, so its next call reads as "unavailable"
/// (503, retry); after that it is checked before its next use, found dead and replaced.
fn terminated_connection_is_unavailable_and_replaced(db: &TestDb) {
    let pool = db.pool_with(PoolOptions {
        max_size: 1,
        ..PoolOptions::default()
    });
    esr_persistence::migrations::run_pending(&mut pool.get().unwrap()).unwrap();
    let backend_pid = |c: &mut DbConnection| {
        diesel::select(diesel::dsl::sql::<Integer>("pg_backend_pid()"))
            .get_result::<i32>(c)
            .map_err(RepoError::from)
    };
    let victim = pool.run(backend_pid).unwrap();
    let mut killer = esr_persistence::connection::establish(db.url(), Default::default()).unwrap();
    diesel::sql_query(format!("SELECT pg_terminate_backend({victim})"))
        .execute(&mut killer)
        .unwrap();

    let err = pool
        .run(|c| organisations::list(c, None, 10))
        .expect_err("the backend is gone");
    assert!(err.is_unavailable(), "{err:?}");

    let replacement = pool.run(backend_pid).expect("a live connection");
    assert_ne!(replacement, victim);
    assert!(pool.run(|c| organisations::list(c, None, 10)).is_ok());
}

fn missing_sqlite_directories_are_created(db: &TestDb) {
    let path = db.sqlite_dir().join("var").join("lib").join("esr.db");
    let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display())).unwrap();
    let pool = DbPool::connect(&url, PoolOptions::default()).expect("pool");
    pool.get().unwrap().ping().unwrap();
    assert!(path.is_file(), "{} created", path.display());
}

fn exhausted_pool_answers_unavailable(db: &TestDb) {
    let pool = db.pool_with(PoolOptions {
        max_size: 1,
        connection_timeout: Duration::from_millis(200),
        ..PoolOptions::default()
    });
    assert_eq!(pool.backend(), db.backend());
    let mut held = pool.get().expect("the only connection");
    held.ping().unwrap();
    assert_eq!(pool.state(), (1, 0), "one open, none idle");

    let started = Instant::now();
    let err = pool.get().map(drop).expect_err("no connection is free");
    // Generous: only that it gives up rather than waiting indefinitely.
    assert!(started.elapsed() < Duration::from_secs(5), "gave up");
    assert!(matches!(err, RepoError::Unavailable(_)), "{err:?}");
    assert!(err.is_unavailable());

    drop(held);
    assert_eq!(pool.state(), (1, 1), "returned and idle");
    pool.get().expect("free again").ping().unwrap();
}

/// `ConnectError::Pool` exists for pool settings r2d2 refuses, but r2d2 asserts (panics) on a
/// zero size or timeout and `DbPool::connect` passes them straight through.
#[test]
fn zero_pool_size_or_timeout_is_an_error_not_a_panic() {
    let db = TestDb::sqlite();
    let mut panicked = Vec::new();
    for options in [
        PoolOptions {
            max_size: 0,
            ..PoolOptions::default()
        },
        PoolOptions {
            connection_timeout: Duration::ZERO,
            ..PoolOptions::default()
        },
    ] {
        match std::panic::catch_unwind(|| DbPool::connect(db.url(), options).map(drop)) {
            Ok(Err(_)) => {}
            Ok(Ok(())) => panic!("{options:?} accepted"),
            Err(_) => panicked.push(options),
        }
    }
    assert!(
        panicked.is_empty(),
        "DbPool::connect panicked on {panicked:#?}"
    );
}
