//! `DbConnection::write_transaction`: commit, rollback, nesting, panics and concurrent writers.

use std::panic::AssertUnwindSafe;
use std::sync::Barrier;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use esr_persistence::connection::SqliteOptions;
use esr_persistence::{Backend, DbConnection, DbPool, PoolOptions, RepoError};

use crate::helpers::TestDb;
use crate::{both_backends, sqlite_only};

both_backends!(
    commits_on_ok,
    rolls_back_on_err,
    nested_transaction_is_a_savepoint,
    panic_inside_does_not_leak_the_transaction,
    concurrent_read_modify_write_increments_are_serialised,
    concurrent_atomic_increments_are_all_counted,
    nested_write_transaction_joins_the_outer_one,
);
sqlite_only!(waiting_writer_times_out_as_unavailable);

// A scratch table, created by each test; both dialects accept the same DDL.
diesel::table! {
    counter (id) {
        id -> Integer,
        v -> Integer,
    }
}

const THREADS: usize = 8;
const INCREMENTS: usize = 25;

fn create_counter(conn: &mut DbConnection) {
    conn.batch_execute(
        "CREATE TABLE counter (id INTEGER PRIMARY KEY, v INTEGER NOT NULL);
         INSERT INTO counter (id, v) VALUES (1, 0);",
    )
    .expect("counter table");
}

fn value(conn: &mut DbConnection) -> i32 {
    counter::table
        .find(1)
        .select(counter::v)
        .first(conn)
        .expect("counter value")
}

fn set(conn: &mut DbConnection, v: i32) -> QueryResult<usize> {
    diesel::update(counter::table.find(1))
        .set(counter::v.eq(v))
        .execute(conn)
}

fn pool_for(db: &TestDb, max_size: u32) -> DbPool {
    db.pool_with(PoolOptions {
        max_size,
        connection_timeout: Duration::from_secs(30),
        ..PoolOptions::default()
    })
}

fn commits_on_ok(db: &TestDb) {
    let pool = pool_for(db, 2);
    let mut conn = pool.get().unwrap();
    create_counter(&mut conn);

    let out = conn
        .write_transaction(|c| -> Result<&str, RepoError> {
            set(c, 7)?;
            Ok("done")
        })
        .unwrap();
    assert_eq!(out, "done", "the closure's value is returned");
    // Seen from another connection: committed, not merely visible inside.
    let mut other = pool.get().unwrap();
    assert_eq!(value(&mut other), 7);
    assert_eq!(value(&mut conn), 7);
}

fn rolls_back_on_err(db: &TestDb) {
    let pool = pool_for(db, 2);
    let mut conn = pool.get().unwrap();
    create_counter(&mut conn);

    let err = conn
        .write_transaction(|c| -> Result<(), RepoError> {
            set(c, 7)?;
            assert_eq!(value(c), 7, "the write is visible inside");
            Err(RepoError::Corrupt("refused by the closure".into()))
        })
        .unwrap_err();
    assert!(
        matches!(&err, RepoError::Corrupt(m) if m == "refused by the closure"),
        "the closure's own error comes back: {err:?}"
    );
    assert_eq!(value(&mut conn), 0, "rolled back");
    assert_eq!(value(&mut pool.get().unwrap()), 0);

    // The connection is out of the transaction and takes the next one normally.
    conn.write_transaction(|c| set(c, 3).map_err(RepoError::from))
        .unwrap();
    assert_eq!(value(&mut pool.get().unwrap()), 3);

    // A failing statement inside rolls back the earlier writes too.
    let err = conn
        .write_transaction(|c| -> Result<(), RepoError> {
            set(c, 9)?;
            c.batch_execute("INSERT INTO counter (id, v) VALUES (1, 0)")?; // duplicate key
            Ok(())
        })
        .unwrap_err();
    assert!(matches!(err, RepoError::Query(_)), "{err:?}");
    assert_eq!(value(&mut conn), 3);
}

fn nested_transaction_is_a_savepoint(db: &TestDb) {
    let pool = pool_for(db, 2);
    let mut conn = pool.get().unwrap();
    create_counter(&mut conn);

    conn.write_transaction(|c| -> Result<(), RepoError> {
        set(c, 1)?;
        let inner = c.transaction(|c| -> Result<(), RepoError> {
            set(c, 2)?;
            Err(RepoError::Corrupt("inner refused".into()))
        });
        assert!(inner.is_err());
        assert_eq!(value(c), 1, "only the inner part rolled back");
        c.transaction(|c| {
            let v = value(c);
            set(c, v + 10)
        })?;
        Ok(())
    })
    .unwrap();
    assert_eq!(value(&mut pool.get().unwrap()), 11);
}

/// A panic inside the closure must not hand the open transaction (and on SQLite the database's
/// write lock) to the pool's next user.
fn panic_inside_does_not_leak_the_transaction(db: &TestDb) {
    let pool = db.pool_with(PoolOptions {
        max_size: 2,
        connection_timeout: Duration::from_secs(30),
        // A leaked SQLite write lock shows as "database is locked" after 1 s, not 5 s.
        sqlite: SqliteOptions {
            busy_timeout_ms: 1_000,
        },
    });
    create_counter(&mut pool.get().unwrap());

    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let mut conn = pool.get().unwrap();
        conn.write_transaction(|c| -> Result<(), RepoError> {
            set(c, 42)?;
            panic!("closure panicked mid-transaction");
        })
    }));
    assert!(outcome.is_err(), "the panic propagates");

    // Whatever the pool hands out next (both slots) writes normally, and the 42 never landed.
    let mut a = pool.get().unwrap();
    let mut b = pool.get().unwrap();
    for conn in [&mut a, &mut b] {
        if conn.backend() == Backend::Postgres {
            // A leaked row lock would otherwise block forever.
            conn.batch_execute("SET lock_timeout = '2s'").unwrap();
        }
        conn.write_transaction(|c| {
            diesel::update(counter::table.find(1))
                .set(counter::v.eq(counter::v + 1))
                .execute(c)
                .map_err(RepoError::from)
        })
        .unwrap_or_else(|e| panic!("write after a panic: {e:?}"));
    }
    assert_eq!(value(&mut a), 2, "the panicked write was not committed");
}

/// Runs `increment` `INCREMENTS` times on each of `THREADS` pooled connections at once, each in
/// its own `write_transaction`; returns the counter's final value and every error met.
fn hammer(
    db: &TestDb,
    increment: fn(&mut DbConnection) -> Result<(), RepoError>,
) -> (i32, Vec<String>) {
    let pool = pool_for(db, THREADS as u32);
    create_counter(&mut pool.get().unwrap());
    let start = Barrier::new(THREADS);
    let errors: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    let mut conn = pool.get().expect("one connection per thread");
                    start.wait();
                    (0..INCREMENTS)
                        .filter_map(|_| {
                            conn.write_transaction(increment)
                                .err()
                                .map(|e| format!("{e}: {e:?}"))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker thread"))
            .collect()
    });
    (value(&mut pool.get().unwrap()), errors)
}

/// Read the value, then write value + 1: a lost-update race unless writers are serialised.
/// SQLite: `BEGIN IMMEDIATE` takes the write lock before the read, so a plain SELECT is safe
/// and the other writers queue on the busy timeout instead of failing with "database is
/// locked". PostgreSQL: `write_transaction` is an ordinary READ COMMITTED transaction, so the
/// read must lock the row (`SELECT … FOR UPDATE`) — that is what callers have to write there.
fn concurrent_read_modify_write_increments_are_serialised(db: &TestDb) {
    fn read_then_write(conn: &mut DbConnection) -> Result<(), RepoError> {
        let read = counter::table.find(1).select(counter::v);
        let v: i32 = match conn {
            DbConnection::Sqlite(c) => read.first(c)?,
            DbConnection::Postgresql(c) => read.for_update().first(c)?,
        };
        // Widen the window between the read and the write.
        std::thread::yield_now();
        set(conn, v + 1)?;
        Ok(())
    }
    let (total, errors) = hammer(db, read_then_write);
    assert!(errors.is_empty(), "{} failed: {errors:#?}", errors.len());
    assert_eq!(total, (THREADS * INCREMENTS) as i32, "no increment lost");
}

/// `UPDATE … SET v = v + 1` inside `write_transaction`: atomic on both backends.
fn concurrent_atomic_increments_are_all_counted(db: &TestDb) {
    fn atomic(conn: &mut DbConnection) -> Result<(), RepoError> {
        diesel::update(counter::table.find(1))
            .set(counter::v.eq(counter::v + 1))
            .execute(conn)?;
        Ok(())
    }
    let (total, errors) = hammer(db, atomic);
    assert!(errors.is_empty(), "{} failed: {errors:#?}", errors.len());
    assert_eq!(total, (THREADS * INCREMENTS) as i32);
}

/// A writer that cannot get the lock within the busy timeout gets "database is locked", which
/// callers must treat as unavailable (503, retry) rather than as a failed query.
fn waiting_writer_times_out_as_unavailable(db: &TestDb) {
    let pool = db.pool_with(PoolOptions {
        max_size: 2,
        sqlite: SqliteOptions {
            busy_timeout_ms: 100,
        },
        ..PoolOptions::default()
    });
    let mut holder = pool.get().unwrap();
    let mut waiter = pool.get().unwrap();
    create_counter(&mut holder);

    holder
        .write_transaction(|h| -> Result<(), RepoError> {
            set(h, 5)?;
            let err = waiter
                .write_transaction(|w| set(w, 6).map_err(RepoError::from))
                .unwrap_err();
            assert!(err.is_unavailable(), "{err:?}");
            let RepoError::Query(cause) = &err else {
                panic!("expected a query error, got {err:?}");
            };
            assert!(cause.to_string().contains("database is locked"), "{cause}");
            // Readers are not blocked by the writer (WAL) and see the last commit.
            assert_eq!(value(&mut waiter), 0);
            Ok(())
        })
        .unwrap();

    // Once the holder commits, the waiter writes normally.
    waiter
        .write_transaction(|w| set(w, 6).map_err(RepoError::from))
        .unwrap();
    assert_eq!(value(&mut holder), 6);
}

/// Repository functions that open their own `write_transaction` must compose inside a caller's
/// (a multi-step change in one transaction): the inner one joins the outer as a savepoint.
fn nested_write_transaction_joins_the_outer_one(db: &TestDb) {
    let pool = pool_for(db, 2);
    let mut conn = pool.get().unwrap();
    create_counter(&mut conn);
    let outcome = conn.write_transaction(|c| -> Result<(), RepoError> {
        set(c, 1)?;
        c.write_transaction(|c| set(c, 2).map_err(RepoError::from))?;
        Ok(())
    });
    assert!(outcome.is_ok(), "nested write_transaction: {outcome:?}");
    assert_eq!(value(&mut pool.get().unwrap()), 2);
}
