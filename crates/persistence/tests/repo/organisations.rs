//! The organisations repository, and the schema's own guard on what a row may hold.

use chrono::{DateTime, Duration, TimeZone, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use esr_domain::{ApprovalMode, OrganisationCode};
use esr_persistence::organisations::{self, NewOrganisation, Organisation};
use esr_persistence::schema::organisations as table;
use esr_persistence::{DbConnection, RepoError};

use crate::both_backends;
use crate::helpers::TestDb;

both_backends!(
    upsert_creates_then_updates,
    find_by_code_and_none_when_unknown,
    list_pages_in_code_order_with_a_cursor,
    list_edge_cases,
    timestamps_round_trip_as_utc,
    schema_rejects_unknown_approval_modes,
    schema_rejects_codes_of_wrong_length_or_case,
    schema_enforces_name_length,
    malformed_code_row_is_reported_corrupt,
    unknown_approval_mode_row_is_reported_corrupt,
);

fn at(hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, hour, minute, 0).unwrap()
}

fn code(s: &str) -> OrganisationCode {
    OrganisationCode::parse(s).expect("valid organisation code")
}

fn upsert(
    conn: &mut DbConnection,
    code: &OrganisationCode,
    name: &str,
    mode: ApprovalMode,
    now: DateTime<Utc>,
) -> Result<Organisation, RepoError> {
    organisations::upsert(
        conn,
        &NewOrganisation {
            code,
            name,
            internet_access_approval: mode,
        },
        now,
    )
}

/// Inserts a row directly, bypassing the repository (and the domain types).
fn insert_raw(conn: &mut DbConnection, code: &str, name: &str, mode: &str) -> QueryResult<usize> {
    let now = at(9, 0).naive_utc();
    diesel::insert_into(table::table)
        .values((
            table::code.eq(code),
            table::name.eq(name),
            table::internet_access_approval.eq(mode),
            table::created_at.eq(now),
            table::updated_at.eq(now),
        ))
        .execute(conn)
}

fn assert_check_violation(result: QueryResult<usize>, what: &str) {
    match result {
        Err(DieselError::DatabaseError(DatabaseErrorKind::CheckViolation, _)) => {}
        other => panic!("{what}: expected a CHECK violation, got {other:?}"),
    }
}

fn codes(items: &[Organisation]) -> Vec<&str> {
    items.iter().map(|o| o.code.as_str()).collect()
}

fn upsert_creates_then_updates(db: &TestDb) {
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    let r1a = code("R1A");

    let created = upsert(&mut conn, &r1a, "Leeds", ApprovalMode::Automatic, at(10, 0)).unwrap();
    assert_eq!(created.code, r1a);
    assert_eq!(created.name, "Leeds");
    assert_eq!(created.internet_access_approval, ApprovalMode::Automatic);
    assert_eq!(created.created_at, at(10, 0));
    assert_eq!(created.updated_at, at(10, 0));
    assert_eq!(organisations::find(&mut conn, &r1a).unwrap(), Some(created));

    let updated = upsert(
        &mut conn,
        &r1a,
        "Leeds Community Healthcare NHS Trust",
        ApprovalMode::Manual,
        at(11, 30),
    )
    .unwrap();
    assert_eq!(updated.code, r1a);
    assert_eq!(updated.name, "Leeds Community Healthcare NHS Trust");
    assert_eq!(updated.internet_access_approval, ApprovalMode::Manual);
    assert_eq!(updated.created_at, at(10, 0), "created_at is kept");
    assert_eq!(updated.updated_at, at(11, 30), "updated_at moves");
    assert_eq!(
        organisations::find(&mut conn, &r1a).unwrap(),
        Some(updated),
        "the returned row is the stored row"
    );
    let all = organisations::list(&mut conn, None, 10).unwrap();
    assert_eq!(all.items.len(), 1, "an update does not add a row");
}

fn find_by_code_and_none_when_unknown(db: &TestDb) {
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    upsert(
        &mut conn,
        &code("241"),
        "A",
        ApprovalMode::Manual,
        at(10, 0),
    )
    .unwrap();
    upsert(
        &mut conn,
        &code("R1A"),
        "B",
        ApprovalMode::Automatic,
        at(10, 0),
    )
    .unwrap();

    let found = organisations::find(&mut conn, &code("241"))
        .unwrap()
        .unwrap();
    assert_eq!((found.code.as_str(), found.name.as_str()), ("241", "A"));
    // The domain canonicalises the code, so a lower-case request finds the row.
    let found = organisations::find(&mut conn, &code("r1a"))
        .unwrap()
        .unwrap();
    assert_eq!(found.code.as_str(), "R1A");
    assert_eq!(organisations::find(&mut conn, &code("998")).unwrap(), None);
}

fn list_pages_in_code_order_with_a_cursor(db: &TestDb) {
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    // Inserted out of order; digits sort before letters.
    let inserted = ["R1A", "999", "0A1", "ZZZ", "241", "B12", "001"];
    for c in inserted {
        upsert(&mut conn, &code(c), c, ApprovalMode::Automatic, at(10, 0)).unwrap();
    }
    let mut expected: Vec<&str> = inserted.to_vec();
    expected.sort_unstable();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = organisations::list(&mut conn, cursor.as_deref(), 3).unwrap();
        pages += 1;
        assert!(
            page.items.len() <= 3,
            "limit respected: {}",
            page.items.len()
        );
        seen.extend(codes(&page.items).into_iter().map(str::to_owned));
        match page.next_cursor {
            Some(next) => {
                assert_eq!(page.items.len(), 3, "only the last page is short");
                assert_eq!(
                    Some(next.as_str()),
                    page.items.last().map(|o| o.code.as_str()),
                    "the cursor is the last code of the page"
                );
                cursor = Some(next);
            }
            None => break,
        }
        assert!(pages < 10, "pagination terminates");
    }
    assert_eq!(pages, 3, "7 rows at 3 a page");
    assert_eq!(seen, expected, "every row once, in code order");
}

fn list_edge_cases(db: &TestDb) {
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();

    let empty = organisations::list(&mut conn, None, 5).unwrap();
    assert!(empty.items.is_empty());
    assert_eq!(empty.next_cursor, None);

    for c in ["100", "200", "300", "400"] {
        upsert(&mut conn, &code(c), c, ApprovalMode::Manual, at(10, 0)).unwrap();
    }

    // An exact multiple of the limit: the second page is the last, with no empty third page.
    let first = organisations::list(&mut conn, None, 2).unwrap();
    assert_eq!(codes(&first.items), ["100", "200"]);
    assert_eq!(first.next_cursor.as_deref(), Some("200"));
    let second = organisations::list(&mut conn, first.next_cursor.as_deref(), 2).unwrap();
    assert_eq!(codes(&second.items), ["300", "400"]);
    assert_eq!(second.next_cursor, None);

    // A limit above the row count: one page.
    let all = organisations::list(&mut conn, None, 100).unwrap();
    assert_eq!(codes(&all.items), ["100", "200", "300", "400"]);
    assert_eq!(all.next_cursor, None);

    // A cursor need not be a stored code: the page starts after it.
    let mid = organisations::list(&mut conn, Some("250"), 100).unwrap();
    assert_eq!(codes(&mid.items), ["300", "400"]);

    // A cursor past the end: an empty last page.
    let past = organisations::list(&mut conn, Some("ZZZ"), 2).unwrap();
    assert!(past.items.is_empty());
    assert_eq!(past.next_cursor, None);
}

fn timestamps_round_trip_as_utc(db: &TestDb) {
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    // Sub-microsecond precision: PostgreSQL keeps microseconds, SQLite's text keeps more.
    let now = at(10, 0) + Duration::nanoseconds(123_456_789);
    let stored = upsert(&mut conn, &code("241"), "A", ApprovalMode::Manual, now).unwrap();
    let drift = (stored.created_at - now).abs();
    assert!(drift < Duration::microseconds(1), "{drift}");
    assert_eq!(stored.created_at, stored.updated_at);
    let found = organisations::find(&mut conn, &code("241"))
        .unwrap()
        .unwrap();
    assert_eq!(found, stored, "what upsert returns is what find reads");
}

fn schema_rejects_unknown_approval_modes(db: &TestDb) {
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    for mode in ["sometimes", "", "MANUAL", " manual"] {
        assert_check_violation(insert_raw(&mut conn, "241", "A", mode), mode);
    }
    insert_raw(&mut conn, "241", "A", "manual").expect("a known mode is accepted");
}

fn schema_rejects_codes_of_wrong_length_or_case(db: &TestDb) {
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    for bad in ["r1a", "AB", "ABCD", ""] {
        assert_check_violation(insert_raw(&mut conn, bad, "A", "manual"), bad);
    }
    assert!(
        organisations::list(&mut conn, None, 10)
            .unwrap()
            .items
            .is_empty()
    );
}

fn schema_enforces_name_length(db: &TestDb) {
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    let c = code("241");

    match upsert(&mut conn, &c, "", ApprovalMode::Manual, at(10, 0)) {
        Err(
            e @ RepoError::Query(DieselError::DatabaseError(DatabaseErrorKind::CheckViolation, _)),
        ) => assert!(!e.is_unavailable(), "a bad row is not a 503"),
        other => panic!("empty name: expected a CHECK violation, got {other:?}"),
    }
    let too_long = "x".repeat(201);
    assert!(matches!(
        upsert(&mut conn, &c, &too_long, ApprovalMode::Manual, at(10, 0)),
        Err(RepoError::Query(DieselError::DatabaseError(
            DatabaseErrorKind::CheckViolation,
            _
        )))
    ));
    // The bound is in characters, not bytes, on both backends.
    let longest = "é".repeat(200);
    let stored = upsert(&mut conn, &c, &longest, ApprovalMode::Manual, at(10, 0)).unwrap();
    assert_eq!(stored.name, longest);
}

/// The CHECK on `code` matches the domain rule (3 ASCII upper-case letters or digits), so a
/// code like `1-2` is refused; with the constraint bypassed (a hand-edited database) the
/// repository refuses to hand such a row out as an organisation.
fn malformed_code_row_is_reported_corrupt(db: &TestDb) {
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    upsert(
        &mut conn,
        &code("241"),
        "Good",
        ApprovalMode::Manual,
        at(10, 0),
    )
    .unwrap();
    for bad in ["1-2", "é12", "ab1"] {
        assert!(
            insert_raw(&mut conn, bad, "Bad", "manual").is_err(),
            "the schema refuses {bad}"
        );
    }
    match &mut **conn {
        DbConnection::Sqlite(c) => c.batch_execute("PRAGMA ignore_check_constraints = ON"),
        DbConnection::Postgresql(c) => {
            c.batch_execute("ALTER TABLE organisations DROP CONSTRAINT organisations_code_check")
        }
    }
    .expect("constraint bypassed");
    insert_raw(&mut conn, "1-2", "Bad", "manual").expect("stored with the check bypassed");

    match organisations::list(&mut conn, None, 10) {
        Err(e @ RepoError::Corrupt(_)) => {
            assert!(e.to_string().contains("1-2"), "{e}");
            assert!(!e.is_unavailable());
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // Rows around it are still readable one by one.
    assert!(
        organisations::find(&mut conn, &code("241"))
            .unwrap()
            .is_some()
    );
}

/// The CHECK keeps unknown approval modes out; with it out of the way (a hand-edited database,
/// a future migration gone wrong) the repository reports the row as corrupt, not as a mode.
fn unknown_approval_mode_row_is_reported_corrupt(db: &TestDb) {
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    match &mut **conn {
        DbConnection::Sqlite(c) => c.batch_execute("PRAGMA ignore_check_constraints = ON"),
        DbConnection::Postgresql(c) => c.batch_execute(
            "ALTER TABLE organisations DROP CONSTRAINT organisations_internet_access_approval_check",
        ),
    }
    .expect("constraint bypassed");
    insert_raw(&mut conn, "241", "A", "sometimes").expect("bad row stored");

    match organisations::find(&mut conn, &code("241")) {
        Err(e @ RepoError::Corrupt(_)) => assert!(e.to_string().contains("sometimes"), "{e}"),
        other => panic!("find: expected Corrupt, got {other:?}"),
    }
    assert!(matches!(
        organisations::list(&mut conn, None, 10),
        Err(RepoError::Corrupt(_))
    ));
}
