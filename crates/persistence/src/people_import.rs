//! Bulk upsert of people from an HR feed, one batch per write transaction.
//!
//! The caller parses and validates rows (domain newtypes) and hands them over in batches of a
//! few thousand; [`ImportSession::apply_batch`] decides, for each row, created / updated /
//! unchanged / rejected, and writes only created and changed rows. Memory stays bounded by the
//! batch: the keys already seen in this import (to reject a duplicate of an earlier line) are
//! kept in a connection-local temporary table, not in the process.
//!
//! Identity is `(organisation_code, employee_number)`: an update never touches `id`,
//! `created_at`, `language` or the person's accounts, so sessions, usernames and references
//! stay valid. Accounts are not created here: a username is made when the person first signs
//! in with their smartcard (SPEC §1.1, step 3).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::upsert::excluded;

use esr_domain::PersonId;

use crate::connection::DbConnection;
use crate::error::RepoError;
use crate::schema::people;

diesel::table! {
    /// Connection-local (TEMPORARY) table of the keys an import has accepted so far, with the
    /// line each came from. Created by [`ImportSession::begin`], dropped when it ends.
    import_seen (organisation_code, employee_number) {
        organisation_code -> Text,
        employee_number -> Text,
        line -> BigInt,
    }
}

diesel::table! {
    /// PostgreSQL only: connection-local (TEMPORARY, emptied at every commit) staging table
    /// that a batch is `COPY`ed into, so the checks and the upsert run as a few set-based
    /// statements instead of statements with tens of thousands of bound values.
    import_batch (line) {
        line -> BigInt,
        id -> Text,
        organisation_code -> Text,
        employee_number -> Text,
        first_name -> Text,
        last_name -> Text,
        date_of_birth -> Date,
        work_email -> Text,
        smartcard_subject -> Nullable<Text>,
    }
}

/// Most rows one `INSERT` carries: 10 bound values a row stays far below SQLite's 32,766 and
/// PostgreSQL's 65,535 parameter limits.
const ROWS_PER_STATEMENT: usize = 2_000;

/// SQLite: WAL pages after which a commit of the import's connection copies the WAL back into
/// the database, instead of SQLite's 1,000. A feed's writes land on scattered pages of the
/// (work email, date of birth) index, and each batch rewrites many of the pages the previous
/// batches wrote; checkpointing every 1,000 pages copied those pages into the database file (and
/// synced it) again and again. Measured on a first load of 2 million people, batches of 5,000:
/// 48,600 rows/s with 1,000 pages, 58,600 with 10,000, 62,100 with 25,000, 60,900 with 50,000.
/// The WAL grows to at most about 100 MiB (4 KiB pages) during an import; the connection goes
/// back to [`SQLITE_WAL_AUTOCHECKPOINT_PAGES`] when the import ends.
const IMPORT_WAL_AUTOCHECKPOINT_PAGES: u32 = 25_000;

/// SQLite's default WAL checkpoint interval, which every other use of a connection keeps.
const SQLITE_WAL_AUTOCHECKPOINT_PAGES: u32 = 1_000;

/// One valid row of the feed, already parsed and normalised by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// Line of the file it came from (1 is the header).
    pub line: u64,
    /// Canonical organisation code; the caller checked that the organisation exists.
    pub organisation_code: String,
    /// Employee number as given (trimmed).
    pub employee_number: String,
    /// First name (trimmed, NFC).
    pub first_name: String,
    /// Surname (trimmed, NFC).
    pub last_name: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Canonical (lower-case) work email.
    pub work_email: String,
    /// Smartcard subject; `None` clears a linked one (the feed is the record).
    pub smartcard_subject: Option<String>,
}

/// Why the storage refused an otherwise valid row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowRejection {
    /// The same organisation and employee number appeared earlier in this import.
    DuplicateKey {
        /// The line of the first occurrence.
        first_line: u64,
    },
    /// Another row of the organisation earlier in this import carries the same smartcard
    /// subject.
    DuplicateSmartcardSubject {
        /// The line of the first occurrence.
        first_line: u64,
    },
    /// The smartcard subject is linked to another person of the organisation already.
    SmartcardSubjectTaken,
}

/// What one batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// People inserted.
    pub created: u64,
    /// People whose stored fields changed.
    pub updated: u64,
    /// People already stored exactly so.
    pub unchanged: u64,
    /// Refused rows, by line, in line order.
    pub rejected: Vec<(u64, RowRejection)>,
    /// Updated people whose work email or smartcard subject changed, with the old values.
    pub contact_changes: Vec<ContactChange>,
}

/// What an import does, inside a batch's transaction, with the contact changes of the batch.
pub type OnContactChanges<'a> =
    dyn FnMut(&mut DbConnection, &[ContactChange]) -> Result<(), RepoError> + 'a;

/// A stored person whose work email or smartcard subject the feed changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactChange {
    /// The person.
    pub person_id: PersonId,
    /// The work email before the change.
    pub old_email: String,
    /// The smartcard subject before the change.
    pub old_subject: Option<String>,
    /// Whether the work email changed (else only the subject did).
    pub email_changed: bool,
    /// Whether the smartcard subject changed.
    pub subject_changed: bool,
    /// The person is new, created with a smartcard that a record of another organisation
    /// carries too (nothing changed; the other records are to be told of the link).
    pub created_with_card_held_elsewhere: bool,
}

/// An import in progress on one connection (which it borrows for its whole duration, since
/// the seen-keys table lives in that connection).
pub struct ImportSession<'c> {
    conn: &'c mut DbConnection,
}

impl std::fmt::Debug for ImportSession<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportSession").finish_non_exhaustive()
    }
}

impl<'c> ImportSession<'c> {
    /// Prepares the connection: a fresh temporary seen-keys table.
    pub fn begin(conn: &'c mut DbConnection) -> Result<Self, RepoError> {
        conn.batch_execute(
            "DROP TABLE IF EXISTS import_seen;
             CREATE TEMPORARY TABLE import_seen (
                 organisation_code TEXT NOT NULL,
                 employee_number TEXT NOT NULL,
                 line BIGINT NOT NULL,
                 PRIMARY KEY (organisation_code, employee_number)
             );",
        )?;
        if let DbConnection::Sqlite(c) = &mut *conn {
            c.batch_execute(&format!(
                "PRAGMA wal_autocheckpoint = {IMPORT_WAL_AUTOCHECKPOINT_PAGES}"
            ))?;
        }
        if let DbConnection::Postgresql(pg) = &mut *conn {
            pg.batch_execute(
                "DROP TABLE IF EXISTS import_batch;
                 CREATE TEMPORARY TABLE import_batch (
                     line BIGINT PRIMARY KEY,
                     id TEXT NOT NULL,
                     organisation_code TEXT NOT NULL,
                     employee_number TEXT NOT NULL,
                     first_name TEXT NOT NULL,
                     last_name TEXT NOT NULL,
                     date_of_birth DATE NOT NULL,
                     work_email TEXT NOT NULL,
                     smartcard_subject TEXT
                 ) ON COMMIT DELETE ROWS;",
            )?;
        }
        Ok(Self { conn })
    }

    /// Applies one batch in one write transaction: nothing of it is stored if it fails.
    /// Rows must be in line order. `on_contact_changes` runs in the same transaction, after
    /// the writes, with the people whose work email or smartcard subject changed (and whose
    /// `contact_changed_at` is now `now`), so their consequences commit with the change.
    pub fn apply_batch(
        &mut self,
        rows: Vec<ImportRow>,
        now: DateTime<Utc>,
        on_contact_changes: &mut OnContactChanges<'_>,
    ) -> Result<BatchOutcome, RepoError> {
        if rows.is_empty() {
            return Ok(BatchOutcome::default());
        }
        self.conn.write_transaction(|conn| {
            let outcome = apply_batch(conn, rows, now)?;
            if !outcome.contact_changes.is_empty() {
                on_contact_changes(conn, &outcome.contact_changes)?;
            }
            Ok(outcome)
        })
    }
}

impl Drop for ImportSession<'_> {
    fn drop(&mut self) {
        // The connection goes back to the pool; it must not carry this import's keys into
        // the next one.
        if let Err(e) = self
            .conn
            .batch_execute("DROP TABLE IF EXISTS import_seen; DROP TABLE IF EXISTS import_batch")
        {
            tracing::warn!(error = %e, "cannot drop the import's temporary table");
        }
        if let DbConnection::Sqlite(c) = &mut *self.conn
            && let Err(e) = c.batch_execute(&format!(
                "PRAGMA wal_autocheckpoint = {SQLITE_WAL_AUTOCHECKPOINT_PAGES}"
            ))
        {
            tracing::warn!(error = %e, "cannot restore the connection's WAL checkpoint interval");
        }
    }
}

type Key = (String, String);

/// The stored fields an import compares, keyed by (organisation, employee number), and the
/// person's id.
type StoredFields = (
    String,
    String,
    String,
    String,
    NaiveDate,
    String,
    Option<String>,
    String,
);

/// Keeps the first row of each (organisation, employee number) in the batch and refuses the
/// repeats, pointing at the first occurrence.
fn drop_repeated_keys(
    rows: Vec<ImportRow>,
    rejected: &mut Vec<(u64, RowRejection)>,
) -> Vec<ImportRow> {
    let mut first_in_batch: HashMap<Key, u64> = HashMap::with_capacity(rows.len());
    let mut kept = Vec::with_capacity(rows.len());
    for row in rows {
        let key = (row.organisation_code.clone(), row.employee_number.clone());
        if let Some(&first_line) = first_in_batch.get(&key) {
            rejected.push((row.line, RowRejection::DuplicateKey { first_line }));
        } else {
            first_in_batch.insert(key, row.line);
            kept.push(row);
        }
    }
    kept
}

fn apply_batch(
    conn: &mut DbConnection,
    rows: Vec<ImportRow>,
    now: DateTime<Utc>,
) -> Result<BatchOutcome, RepoError> {
    // 1. Duplicate keys: within the batch first (both backends), then against earlier batches.
    let mut outcome = BatchOutcome::default();
    let rows_left = drop_repeated_keys(rows, &mut outcome.rejected);
    if let DbConnection::Postgresql(pg) = conn {
        return postgres::apply_batch(pg, rows_left, outcome, now);
    }
    let mut newly_seen: HashSet<Key> = HashSet::with_capacity(rows_left.len());
    for chunk in rows_left.chunks(ROWS_PER_STATEMENT * 3) {
        let values: Vec<_> = chunk
            .iter()
            .map(|r| {
                (
                    import_seen::organisation_code.eq(r.organisation_code.as_str()),
                    import_seen::employee_number.eq(r.employee_number.as_str()),
                    import_seen::line.eq(r.line as i64),
                )
            })
            .collect();
        let inserted: Vec<Key> =
            per_backend!(&mut *conn, |c| diesel::insert_into(import_seen::table)
                .values(&values)
                .on_conflict_do_nothing()
                .returning((import_seen::organisation_code, import_seen::employee_number))
                .get_results(c))?;
        newly_seen.extend(inserted);
    }
    let mut rows_new = Vec::with_capacity(rows_left.len());
    for row in rows_left {
        if newly_seen.contains(&(row.organisation_code.clone(), row.employee_number.clone())) {
            rows_new.push(row);
        } else {
            let first_line: i64 = import_seen::table
                .filter(import_seen::organisation_code.eq(&row.organisation_code))
                .filter(import_seen::employee_number.eq(&row.employee_number))
                .select(import_seen::line)
                .get_result(conn)?;
            outcome.rejected.push((
                row.line,
                RowRejection::DuplicateKey {
                    first_line: first_line as u64,
                },
            ));
        }
    }

    // 2. A smartcard subject is unique within an organisation: refuse one held by someone
    //    else there (or by an earlier row of the batch) rather than let the UNIQUE constraint
    //    fail the batch. Other organisations' people are never looked at.
    let subjects: Vec<&str> = rows_new
        .iter()
        .filter_map(|r| r.smartcard_subject.as_deref())
        .collect();
    let mut holders: HashMap<(String, String), String> = HashMap::new();
    let mut held_in: HashMap<String, HashSet<String>> = HashMap::new();
    for chunk in subjects.chunks(ROWS_PER_STATEMENT) {
        let found: Vec<(Option<String>, String, String)> = per_backend!(&mut *conn, |c| {
            people::table
                .filter(people::smartcard_subject.eq_any(chunk.to_vec()))
                .select((
                    people::smartcard_subject,
                    people::organisation_code,
                    people::employee_number,
                ))
                .load(c)
        })?;
        for (subject, org, emp) in found {
            let Some(subject) = subject else { continue };
            held_in
                .entry(subject.clone())
                .or_default()
                .insert(org.clone());
            holders.insert((org, subject), emp);
        }
    }
    let mut subject_in_batch: HashMap<(String, String), u64> = HashMap::new();
    let mut rows_ok = Vec::with_capacity(rows_new.len());
    for row in rows_new {
        if let Some(subject) = &row.smartcard_subject {
            let key = (row.organisation_code.clone(), subject.clone());
            if let Some(&first_line) = subject_in_batch.get(&key) {
                outcome.rejected.push((
                    row.line,
                    RowRejection::DuplicateSmartcardSubject { first_line },
                ));
                continue;
            }
            if holders
                .get(&key)
                .is_some_and(|emp| emp != &row.employee_number)
            {
                outcome
                    .rejected
                    .push((row.line, RowRejection::SmartcardSubjectTaken));
                continue;
            }
            subject_in_batch.insert(key, row.line);
        }
        rows_ok.push(row);
    }

    // 3. Compare with what is stored; write only what is new or changed.
    let mut stored: HashMap<Key, StoredFields> = HashMap::with_capacity(rows_ok.len());
    for chunk in rows_ok.chunks(ROWS_PER_STATEMENT) {
        let orgs: Vec<&str> = {
            let mut o: Vec<&str> = chunk.iter().map(|r| r.organisation_code.as_str()).collect();
            o.sort_unstable();
            o.dedup();
            o
        };
        let emps: Vec<&str> = chunk.iter().map(|r| r.employee_number.as_str()).collect();
        let found: Vec<StoredFields> = per_backend!(&mut *conn, |c| {
            people::table
                .filter(people::organisation_code.eq_any(orgs.clone()))
                .filter(people::employee_number.eq_any(emps.clone()))
                .select((
                    people::organisation_code,
                    people::employee_number,
                    people::first_name,
                    people::last_name,
                    people::date_of_birth,
                    people::work_email,
                    people::smartcard_subject,
                    people::id,
                ))
                .load(c)
        })?;
        for f in found {
            stored.insert((f.0.clone(), f.1.clone()), f);
        }
    }
    let mut to_write = Vec::with_capacity(rows_ok.len());
    let mut new_with_card_held_elsewhere: Vec<Key> = Vec::new();
    for row in rows_ok {
        match stored.get(&(row.organisation_code.clone(), row.employee_number.clone())) {
            None => {
                outcome.created += 1;
                let held_elsewhere = row.smartcard_subject.as_ref().is_some_and(|subject| {
                    held_in
                        .get(subject)
                        .is_some_and(|orgs| orgs.iter().any(|o| o != &row.organisation_code))
                });
                if held_elsewhere {
                    new_with_card_held_elsewhere
                        .push((row.organisation_code.clone(), row.employee_number.clone()));
                }
                to_write.push(row);
            }
            Some(s) => {
                let email_changed = s.5 != row.work_email;
                let subject_changed = s.6 != row.smartcard_subject;
                let same = s.2 == row.first_name
                    && s.3 == row.last_name
                    && s.4 == row.date_of_birth
                    && !email_changed
                    && !subject_changed;
                if email_changed || subject_changed {
                    outcome.contact_changes.push(ContactChange {
                        person_id: PersonId::from_stored(s.7.clone()),
                        old_email: s.5.clone(),
                        old_subject: s.6.clone(),
                        email_changed,
                        subject_changed,
                        created_with_card_held_elsewhere: false,
                    });
                }
                if same {
                    outcome.unchanged += 1;
                } else {
                    outcome.updated += 1;
                    to_write.push(row);
                }
            }
        }
    }
    let now = now.naive_utc();
    for chunk in to_write.chunks(ROWS_PER_STATEMENT) {
        let values: Vec<_> = chunk
            .iter()
            .map(|r| {
                (
                    people::id.eq(uuid::Uuid::now_v7().to_string()),
                    people::organisation_code.eq(r.organisation_code.as_str()),
                    people::employee_number.eq(r.employee_number.as_str()),
                    people::first_name.eq(r.first_name.as_str()),
                    people::last_name.eq(r.last_name.as_str()),
                    people::date_of_birth.eq(r.date_of_birth),
                    people::work_email.eq(r.work_email.as_str()),
                    people::smartcard_subject.eq(r.smartcard_subject.as_deref()),
                    people::created_at.eq(now),
                    people::updated_at.eq(now),
                )
            })
            .collect();
        // The conflict branch keeps id, created_at and language: an update is the same person.
        per_backend!(&mut *conn, |c| diesel::insert_into(people::table)
            .values(&values)
            .on_conflict((people::organisation_code, people::employee_number))
            .do_update()
            .set((
                people::first_name.eq(excluded(people::first_name)),
                people::last_name.eq(excluded(people::last_name)),
                people::date_of_birth.eq(excluded(people::date_of_birth)),
                people::work_email.eq(excluded(people::work_email)),
                people::smartcard_subject.eq(excluded(people::smartcard_subject)),
                people::updated_at.eq(excluded(people::updated_at)),
            ))
            .execute(c))?;
    }
    let changed: Vec<&str> = outcome
        .contact_changes
        .iter()
        .map(|c| c.person_id.as_str())
        .collect();
    for chunk in changed.chunks(ROWS_PER_STATEMENT) {
        diesel::update(people::table.filter(people::id.eq_any(chunk)))
            .set(people::contact_changed_at.eq(Some(now)))
            .execute(conn)?;
    }
    for (org, emp) in new_with_card_held_elsewhere {
        let (id, email): (String, String) = people::table
            .filter(people::organisation_code.eq(&org))
            .filter(people::employee_number.eq(&emp))
            .select((people::id, people::work_email))
            .get_result(conn)?;
        outcome.contact_changes.push(ContactChange {
            person_id: PersonId::from_stored(id),
            old_email: email,
            old_subject: None,
            email_changed: false,
            subject_changed: false,
            created_with_card_held_elsewhere: true,
        });
    }
    outcome.rejected.sort_by_key(|(line, _)| *line);
    Ok(outcome)
}

/// The PostgreSQL batch: `COPY` into the staging table, then set-based statements. Decides
/// exactly what the portable path above decides, in the same order (key duplicates, then
/// smartcard subjects in line order, then created / updated / unchanged).
mod postgres {
    use std::collections::{HashMap, HashSet};

    use chrono::{DateTime, NaiveDate, Utc};
    use diesel::prelude::*;
    use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text, Timestamp};
    use esr_domain::PersonId;

    use super::{BatchOutcome, ContactChange, ImportRow, RowRejection, import_batch};
    use crate::error::RepoError;

    #[derive(Insertable)]
    #[diesel(table_name = import_batch)]
    #[diesel(treat_none_as_default_value = false)]
    struct Staged<'a> {
        line: i64,
        id: String,
        organisation_code: &'a str,
        employee_number: &'a str,
        first_name: &'a str,
        last_name: &'a str,
        date_of_birth: NaiveDate,
        work_email: &'a str,
        smartcard_subject: Option<&'a str>,
    }

    #[derive(QueryableByName)]
    struct SeenBefore {
        #[diesel(sql_type = BigInt)]
        line: i64,
        #[diesel(sql_type = BigInt)]
        first_line: i64,
    }

    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = BigInt)]
        line: i64,
    }

    #[derive(QueryableByName)]
    struct Contact {
        #[diesel(sql_type = Text)]
        id: String,
        #[diesel(sql_type = Text)]
        work_email: String,
        #[diesel(sql_type = Nullable<Text>)]
        smartcard_subject: Option<String>,
        #[diesel(sql_type = Bool)]
        email_changed: bool,
        #[diesel(sql_type = Bool)]
        subject_changed: bool,
    }

    #[derive(QueryableByName)]
    struct Written {
        #[diesel(sql_type = Bool)]
        inserted: bool,
        #[diesel(sql_type = Text)]
        id: String,
        #[diesel(sql_type = Text)]
        work_email: String,
        #[diesel(sql_type = Bool)]
        card_held_elsewhere: bool,
    }

    pub(super) fn apply_batch(
        conn: &mut PgConnection,
        rows_left: Vec<ImportRow>,
        mut outcome: BatchOutcome,
        now: DateTime<Utc>,
    ) -> Result<BatchOutcome, RepoError> {
        // 1. The caller dropped keys repeated within the batch (the staging table holds one
        //    row per key); `outcome` carries those refusals.
        let staged: Vec<Staged<'_>> = rows_left
            .iter()
            .map(|r| Staged {
                line: r.line as i64,
                // Time-ordered, so the primary-key index grows at its right edge.
                id: uuid::Uuid::now_v7().to_string(),
                organisation_code: &r.organisation_code,
                employee_number: &r.employee_number,
                first_name: &r.first_name,
                last_name: &r.last_name,
                date_of_birth: r.date_of_birth,
                work_email: &r.work_email,
                smartcard_subject: r.smartcard_subject.as_deref(),
            })
            .collect();
        diesel::copy_from(import_batch::table)
            .from_insertable(&staged)
            .execute(conn)?;
        drop(staged);

        // The two look-ups below probe `people` and the seen-keys table once per staged row
        // through their unique indexes. Costed with the default `random_page_cost`, the planner
        // prefers hashing the whole of `people` once it has a few hundred thousand rows: every
        // batch then reads the entire table, so a first load of 2 million people went quadratic
        // (with batches of 20,000 the subject check grew to 225 ms a batch, where index probes
        // take 14 ms whatever the size). This transaction therefore joins by nested loops only;
        // `SET LOCAL` ends with it, so the pooled connection keeps its defaults.
        diesel::sql_query("SET LOCAL enable_hashjoin = off").execute(conn)?;
        diesel::sql_query("SET LOCAL enable_mergejoin = off").execute(conn)?;

        // 2. Keys an earlier batch of this import already carried.
        let seen_before: HashMap<i64, i64> = diesel::sql_query(
            "SELECT b.line, s.line AS first_line
               FROM import_batch b
               JOIN import_seen s USING (organisation_code, employee_number)",
        )
        .load::<SeenBefore>(conn)?
        .into_iter()
        .map(|r| (r.line, r.first_line))
        .collect();

        // 3. Smartcard subjects already linked to someone else of the same organisation
        //    (other organisations' people are never compared with).
        let taken: HashSet<i64> = diesel::sql_query(
            "SELECT b.line
               FROM import_batch b
               JOIN people p ON p.organisation_code = b.organisation_code
                            AND p.smartcard_subject = b.smartcard_subject
              WHERE p.employee_number <> b.employee_number",
        )
        .load::<Line>(conn)?
        .into_iter()
        .map(|r| r.line)
        .collect();

        // In line order, as the portable path: a row refused for its key does not claim its
        // subject; the first row with a subject claims it for the batch.
        let mut subject_in_batch: HashMap<(&str, &str), u64> = HashMap::new();
        let mut refused: Vec<i64> = Vec::new();
        let mut accepted = 0u64;
        for row in &rows_left {
            let line = row.line as i64;
            if let Some(&first_line) = seen_before.get(&line) {
                outcome.rejected.push((
                    row.line,
                    RowRejection::DuplicateKey {
                        first_line: first_line as u64,
                    },
                ));
                refused.push(line);
                continue;
            }
            if let Some(subject) = row.smartcard_subject.as_deref() {
                if let Some(&first_line) =
                    subject_in_batch.get(&(row.organisation_code.as_str(), subject))
                {
                    outcome.rejected.push((
                        row.line,
                        RowRejection::DuplicateSmartcardSubject { first_line },
                    ));
                    refused.push(line);
                    continue;
                }
                if taken.contains(&line) {
                    outcome
                        .rejected
                        .push((row.line, RowRejection::SmartcardSubjectTaken));
                    refused.push(line);
                    continue;
                }
                subject_in_batch.insert((row.organisation_code.as_str(), subject), row.line);
            }
            accepted += 1;
        }
        if !refused.is_empty() {
            diesel::sql_query("DELETE FROM import_batch WHERE line = ANY($1)")
                .bind::<Array<BigInt>, _>(&refused)
                .execute(conn)?;
        }

        // 4. Every key accepted now counts as seen for the rest of the import.
        diesel::sql_query(
            "INSERT INTO import_seen (organisation_code, employee_number, line)
             SELECT organisation_code, employee_number, line FROM import_batch",
        )
        .execute(conn)?;

        // 5. The people whose contact details this batch changes, before it changes them.
        outcome.contact_changes = diesel::sql_query(
            "SELECT p.id, p.work_email, p.smartcard_subject,
                    p.work_email <> b.work_email AS email_changed,
                    p.smartcard_subject IS DISTINCT FROM b.smartcard_subject AS subject_changed
               FROM import_batch b
               JOIN people p USING (organisation_code, employee_number)
              WHERE p.work_email <> b.work_email
                 OR p.smartcard_subject IS DISTINCT FROM b.smartcard_subject",
        )
        .load::<Contact>(conn)?
        .into_iter()
        .map(|c| ContactChange {
            person_id: PersonId::from_stored(c.id),
            old_email: c.work_email,
            old_subject: c.smartcard_subject,
            email_changed: c.email_changed,
            subject_changed: c.subject_changed,
            created_with_card_held_elsewhere: false,
        })
        .collect();

        // 6. One upsert writes new and changed people and leaves identical ones alone; a
        //    row whose `xmax` is 0 was inserted, any other returned row was updated.
        let written = diesel::sql_query(
            "INSERT INTO people AS p (id, organisation_code, employee_number, first_name,
                                      last_name, date_of_birth, work_email, smartcard_subject,
                                      created_at, updated_at)
             SELECT id, organisation_code, employee_number, first_name, last_name,
                    date_of_birth, work_email, smartcard_subject, $1, $1
               FROM import_batch
              ORDER BY line
             ON CONFLICT (organisation_code, employee_number) DO UPDATE
                SET first_name = EXCLUDED.first_name,
                    last_name = EXCLUDED.last_name,
                    date_of_birth = EXCLUDED.date_of_birth,
                    work_email = EXCLUDED.work_email,
                    smartcard_subject = EXCLUDED.smartcard_subject,
                    updated_at = EXCLUDED.updated_at,
                    contact_changed_at = CASE
                        WHEN (p.work_email, p.smartcard_subject)
                             IS DISTINCT FROM (EXCLUDED.work_email, EXCLUDED.smartcard_subject)
                        THEN EXCLUDED.updated_at
                        ELSE p.contact_changed_at
                    END
              WHERE (p.first_name, p.last_name, p.date_of_birth, p.work_email, p.smartcard_subject)
                    IS DISTINCT FROM
                    (EXCLUDED.first_name, EXCLUDED.last_name, EXCLUDED.date_of_birth,
                     EXCLUDED.work_email, EXCLUDED.smartcard_subject)
             RETURNING (p.xmax = 0) AS inserted, p.id, p.work_email,
                       EXISTS (SELECT 1 FROM people o
                                WHERE o.smartcard_subject = p.smartcard_subject
                                  AND o.organisation_code <> p.organisation_code)
                           AS card_held_elsewhere",
        )
        .bind::<Timestamp, _>(now.naive_utc())
        .load::<Written>(conn)?;
        let created = written.iter().filter(|w| w.inserted).count() as u64;
        outcome.contact_changes.extend(
            written
                .iter()
                .filter(|w| w.inserted && w.card_held_elsewhere)
                .map(|w| ContactChange {
                    person_id: PersonId::from_stored(w.id.clone()),
                    old_email: w.work_email.clone(),
                    old_subject: None,
                    email_changed: false,
                    subject_changed: false,
                    created_with_card_held_elsewhere: true,
                }),
        );
        let updated = written.len() as u64 - created;
        outcome.created = created;
        outcome.updated = updated;
        outcome.unchanged = accepted - created - updated;
        outcome.rejected.sort_by_key(|(line, _)| *line);
        Ok(outcome)
    }
}
