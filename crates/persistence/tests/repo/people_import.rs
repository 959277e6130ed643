//! The import's effect on the pooled connection it borrows: settings it changes for its own
//! batches must not leak into the requests that use the connection next.

use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use esr_domain::{ApprovalMode, OrganisationCode};
use esr_persistence::DbConnection;
use esr_persistence::organisations::{self, NewOrganisation};
use esr_persistence::people_import::{ImportRow, ImportSession};

use crate::helpers::TestDb;
use crate::postgres_only;

postgres_only!(batches_join_by_nested_loops_only_inside_their_transaction);

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

fn setting(conn: &mut DbConnection, name: &str) -> String {
    let DbConnection::Postgresql(pg) = conn else {
        panic!("not a PostgreSQL connection");
    };
    diesel::sql_query(format!("SELECT current_setting('{name}') AS value"))
        .get_result::<Setting>(pg)
        .expect("current_setting")
        .value
}

fn row(line: u64, employee_number: &str, subject: &str) -> ImportRow {
    ImportRow {
        line,
        organisation_code: "R1A".into(),
        employee_number: employee_number.into(),
        first_name: "Jane".into(),
        last_name: "Smith".into(),
        date_of_birth: NaiveDate::from_ymd_opt(1985, 4, 12).expect("date"),
        work_email: format!("jane.smith.{employee_number}@example.org"),
        smartcard_subject: Some(subject.into()),
    }
}

/// The smartcard and seen-key look-ups are planned with hash and merge joins switched off
/// (`SET LOCAL`), which must end with the batch's transaction: a pooled connection that kept
/// them off would slow every later query that needs a hash join.
fn batches_join_by_nested_loops_only_inside_their_transaction(db: &TestDb) {
    let pool = db.migrated_pool();
    let mut conn = pool.get().expect("connection");
    organisations::upsert(
        &mut conn,
        &NewOrganisation {
            code: &OrganisationCode::parse("R1A").expect("code"),
            name: "Leeds Teaching Hospitals",
            internet_access_approval: ApprovalMode::Automatic,
        },
        Utc::now(),
    )
    .expect("organisation");
    {
        let mut session = ImportSession::begin(&mut conn).expect("begin");
        let first = session
            .apply_batch(
                vec![row(2, "100", "S100"), row(3, "101", "S101")],
                Utc::now(),
                &mut |_, _| Ok(()),
            )
            .expect("first batch");
        assert_eq!(first.created, 2);
        // The second batch runs both look-ups against rows the first one wrote.
        let second = session
            .apply_batch(
                vec![row(4, "100", "S102"), row(5, "102", "S101")],
                Utc::now(),
                &mut |_, _| Ok(()),
            )
            .expect("second batch");
        assert_eq!(second.created, 0);
        assert_eq!(second.rejected.len(), 2, "{second:?}");
    }
    assert_eq!(setting(&mut conn, "enable_hashjoin"), "on");
    assert_eq!(setting(&mut conn, "enable_mergejoin"), "on");
}
