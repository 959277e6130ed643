//! The people import: a CSV feed of staff records upserted on (organisation, employee
//! number), shared by `esr-api import FILE` and `POST /v1/admin/people/import`.
//!
//! Streamed: the input is read one capped line at a time and written in batches of
//! [`ImportLimits::batch_rows`] rows, one write transaction each, so memory is bounded by the
//! batch whatever the file size. A bad line is reported (line, field, code, message) and
//! skipped; it never aborts the others and never leaves anything behind. Only a missing or
//! wrong header (or an empty input) refuses the whole file, before anything is written.

pub mod generate;
pub mod records;

use std::io::{BufRead, BufReader, Read};

use chrono::{DateTime, Utc};
use esr_domain::{
    Coded, DateOfBirth, EmployeeNumber, OrganisationCode, PersonName, SmartcardSubject, WorkEmail,
};
use esr_persistence::people_import::{ContactChange, ImportRow, ImportSession, RowRejection};
use esr_persistence::{DbConnection, RepoError, organisations};
use serde::Serialize;
use utoipa::ToSchema;

use records::{Record, RecordReader};

/// The header every feed starts with, in this order.
pub const COLUMNS: [&str; 7] = [
    "organisation_code",
    "employee_number",
    "first_name",
    "last_name",
    "date_of_birth",
    "work_email",
    "smartcard_subject",
];

/// Bounds of one import.
#[derive(Debug, Clone, Copy)]
pub struct ImportLimits {
    /// Rows written per transaction.
    pub batch_rows: usize,
    /// Longest record accepted, in bytes; longer records are rejected (`line-too-long`).
    pub max_record_bytes: usize,
    /// Line errors kept in the report; further ones are only counted.
    pub max_errors: usize,
}

impl Default for ImportLimits {
    fn default() -> Self {
        Self {
            batch_rows: 5_000,
            max_record_bytes: 4_096,
            max_errors: 1_000,
        }
    }
}

/// One refused line (a line may have several, one per bad field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"line": 7, "field": "work_email", "code": "invalid-email", "message": "Enter a valid work email address (Example: first.last@domain.com)"}))]
pub struct LineError {
    /// Line number in the file; the header is line 1.
    pub line: u64,
    /// The column at fault, or `null` when the whole line is (too long, wrong number of
    /// fields, malformed).
    pub field: Option<&'static str>,
    /// Stable code, e.g. `invalid-email`, `duplicate-employee-number`, `unknown-organisation`.
    pub code: &'static str,
    /// What is wrong, for the person fixing the file.
    pub message: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"created": 1998, "updated": 1, "unchanged": 0, "rejected": 1, "errors": [{"line": 7, "field": "work_email", "code": "invalid-email", "message": "Enter a valid work email address (Example: first.last@domain.com)"}], "truncated": false}))]
pub struct ImportReport {
    /// People added.
    pub created: u64,
    /// People whose stored details changed.
    pub updated: u64,
    /// People already stored exactly as in the file.
    pub unchanged: u64,
    /// Lines refused (each has at least one entry in `errors`, up to the cap).
    pub rejected: u64,
    /// The first line errors, in line order.
    pub errors: Vec<LineError>,
    /// True when more errors occurred than `errors` holds.
    pub truncated: bool,
    /// A full feed: the organisation's staff missing from the file, who left (their accounts
    /// disabled). Always 0 for an ordinary import.
    #[serde(default)]
    pub leavers: u64,
    /// A full feed whose absences were not applied, and why (refused lines, or more leavers
    /// than the run allows: a truncated file, most likely). Absent when they were applied, or
    /// for an ordinary import.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leavers_withheld: Option<String>,
}

/// Progress, reported after every batch.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// Bytes of input consumed.
    pub bytes: u64,
    /// Data lines processed (header excluded).
    pub rows: u64,
}

/// Watches an import as it runs (the CLI prints; the HTTP handler needs nothing).
pub trait ImportObserver {
    /// Called for every line error, in line order, including those beyond the report's cap.
    fn line_error(&mut self, _error: &LineError) {}
    /// Called after every batch.
    fn progress(&mut self, _progress: Progress) {}
}

/// An observer that does nothing.
#[derive(Debug, Default)]
pub struct Quiet;
impl ImportObserver for Quiet {}

/// Why a whole file was refused or the import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Nothing at all, not even a header.
    #[error("the file is empty: it must start with the header line {}", COLUMNS.join(","))]
    Empty,
    /// The first line is not the expected header.
    #[error("the first line must be the header {}; found {found:?}", COLUMNS.join(","))]
    Header {
        /// What the first line held (shortened).
        found: String,
    },
    /// The input could not be read (a client that went away, a disk error).
    #[error("cannot read the input")]
    Read(#[source] std::io::Error),
    /// A database call failed; batches committed before it stay.
    #[error("the import failed after {0} data lines")]
    Storage(u64, #[source] RepoError),
}

/// Which organisations' rows the caller may import.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Every organisation (CLI, all-organisations API keys).
    All,
    /// Only this one; rows of others are refused as unknown organisations.
    Organisation(OrganisationCode),
}

/// A parsed batch on its way from the reading thread to the writing one.
struct Parsed {
    /// Valid rows, in line order.
    rows: Vec<ImportRow>,
    /// Errors of the lines refused while parsing this batch.
    errors: Vec<LineError>,
    /// Lines refused while parsing this batch.
    rejected: u64,
    /// Data lines read so far (for progress).
    lines: u64,
    /// Input bytes read so far (for progress).
    bytes: u64,
}

/// Who runs an import: the consequences of the contact changes it makes are recorded as theirs.
#[derive(Debug, Clone, Copy)]
pub struct Importer<'a> {
    /// The client (the admin API's caller, or the CLI).
    pub caller: &'a crate::app::Caller,
    /// The audit actor.
    pub actor: &'a esr_persistence::audit::Actor,
    /// The key of the audit's digests of old and new contact details.
    pub digests: &'a crate::audit::DigestKey,
    /// How long a contact change holds recovery (and copies notices to the old address).
    pub contact_change_hold: chrono::Duration,
}

impl Importer<'_> {
    /// Applies the consequences of each changed work email or smartcard subject (links
    /// cancelled, notices, workplace sessions ended), in the batch's transaction.
    fn apply(
        &self,
        conn: &mut DbConnection,
        changes: &[ContactChange],
        now: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        use crate::app::consequences;
        for change in changes {
            if change.email_changed || change.subject_changed {
                let old_email = change.email_changed.then_some(change.old_email.as_str());
                let until = now + self.contact_change_hold;
                esr_persistence::people::remember_previous_email(
                    conn,
                    &change.person_id,
                    old_email,
                    until,
                    now,
                )?;
            }
            let person = esr_persistence::people::find(conn, &change.person_id)?
                .ok_or_else(|| RepoError::Corrupt("an imported person vanished".into()))?;
            let (caller, actor, digests) = (self.caller, self.actor, self.digests);
            if change.created_with_card_held_elsewhere {
                consequences::smartcard_linked(conn, &person, now)?;
            }
            if change.email_changed {
                let old = &change.old_email;
                consequences::work_email_changed(conn, caller, actor, digests, &person, old, now)?;
            }
            if change.subject_changed {
                let change = consequences::CardChange {
                    person: &person,
                    old_subject: change.old_subject.as_deref(),
                    old_email: change.email_changed.then_some(change.old_email.as_str()),
                };
                consequences::smartcard_changed(conn, caller, actor, digests, &change, now)?;
            }
        }
        Ok(())
    }
}

/// Runs an import on `conn` (borrowed for the whole run).
///
/// Two threads: this one writes batch *n* while a scoped reader thread parses and validates
/// batch *n + 1*, handing batches over through a channel of one, so at most three batches exist
/// at a time (memory stays bounded) and reading overlaps the database's work.
pub fn import_people(
    conn: &mut DbConnection,
    input: impl Read + Send,
    scope: &Scope,
    limits: ImportLimits,
    importer: Importer<'_>,
    now: DateTime<Utc>,
    observer: &mut dyn ImportObserver,
) -> Result<ImportReport, ImportError> {
    run_import(conn, input, scope, limits, importer, now, observer, None)
}

/// What a file is: some people to add or update, or one organisation's full staff list.
#[derive(Debug, Clone)]
pub enum Feed {
    /// Rows to create or update; the people not in it are left as they are.
    Rows(Scope),
    /// One organisation's whole staff; those missing from it leave.
    Full(FullFeed),
}

/// Imports `input` as `feed` says ([`import_people`] or [`import_full_feed`]).
pub fn import(
    conn: &mut DbConnection,
    input: impl Read + Send,
    feed: &Feed,
    limits: ImportLimits,
    importer: Importer<'_>,
    now: DateTime<Utc>,
    observer: &mut dyn ImportObserver,
) -> Result<ImportReport, ImportError> {
    match feed {
        Feed::Rows(scope) => import_people(conn, input, scope, limits, importer, now, observer),
        Feed::Full(full) => import_full_feed(conn, input, full, limits, importer, now, observer),
    }
}

/// A full feed of one organisation: the file lists all its current staff.
#[derive(Debug, Clone)]
pub struct FullFeed {
    /// The organisation (rows of any other are refused).
    pub organisation: OrganisationCode,
    /// Largest share of the staff that may leave in one run, in percent; beyond it no one
    /// leaves (a file cut short would otherwise disable everyone after the cut).
    pub max_leavers_percent: u8,
}

/// Imports a full feed like [`import_people`]; then the organisation's current staff the file
/// does not list become leavers ([`super::leavers::leave`]), unless a line was refused (the
/// file cannot be trusted to be whole) or they are more than the feed's share.
pub fn import_full_feed(
    conn: &mut DbConnection,
    input: impl Read + Send,
    feed: &FullFeed,
    limits: ImportLimits,
    importer: Importer<'_>,
    now: DateTime<Utc>,
    observer: &mut dyn ImportObserver,
) -> Result<ImportReport, ImportError> {
    let scope = Scope::Organisation(feed.organisation.clone());
    let mut listed = std::collections::HashSet::new();
    let mut report = run_import(
        conn,
        input,
        &scope,
        limits,
        importer,
        now,
        observer,
        Some(&mut listed),
    )?;
    let lines = report.created + report.updated + report.unchanged + report.rejected;
    if report.rejected > 0 {
        report.leavers_withheld = Some(format!(
            "{} line(s) were refused: fix them and import the whole file again",
            report.rejected
        ));
        return Ok(report);
    }
    let absent = super::leavers::absent_from_feed(
        conn,
        &feed.organisation,
        &listed,
        usize::try_from(report.created).unwrap_or(usize::MAX),
        feed.max_leavers_percent,
    )
    .map_err(|e| ImportError::Storage(lines, e))?;
    match absent {
        super::leavers::Absent::TooMany { absent, staff } => {
            report.leavers_withheld = Some(format!(
                "{absent} of {staff} staff are missing from the file, more than {}%: is it whole?",
                feed.max_leavers_percent
            ));
        }
        super::leavers::Absent::Leave(people) => {
            for person in people {
                let left = conn
                    .write_transaction(|c| {
                        super::leavers::leave(c, importer.caller, importer.actor, &person, now)
                    })
                    .map_err(|e| ImportError::Storage(lines, e))?;
                report.leavers += u64::from(left);
            }
        }
    }
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
fn run_import(
    conn: &mut DbConnection,
    input: impl Read + Send,
    scope: &Scope,
    limits: ImportLimits,
    importer: Importer<'_>,
    now: DateTime<Utc>,
    observer: &mut dyn ImportObserver,
    mut listed: Option<&mut std::collections::HashSet<String>>,
) -> Result<ImportReport, ImportError> {
    let mut reader = RecordReader::new(
        BufReader::with_capacity(64 * 1024, input),
        limits.max_record_bytes,
        COLUMNS.len(),
    );
    check_header(&mut reader)?;

    let known = known_organisations(conn, scope).map_err(|e| ImportError::Storage(0, e))?;
    let mut session = ImportSession::begin(conn).map_err(|e| ImportError::Storage(0, e))?;
    let mut run = Run {
        report: ImportReport::default(),
        limits,
        pending_errors: Vec::new(),
        rows: 0,
    };
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Parsed, ImportError>>(1);
        let known = &known;
        scope.spawn(move || parse_batches(reader, known, limits, now, &tx));
        // Dropping `rx` (on return, also after an error) ends the reader at its next send.
        for parsed in rx {
            let parsed = parsed?;
            run.rows = parsed.lines;
            run.report.rejected += parsed.rejected;
            run.pending_errors.extend(parsed.errors);
            if let Some(listed) = listed.as_deref_mut() {
                listed.extend(parsed.rows.iter().map(|r| r.employee_number.clone()));
            }
            run.flush(&mut session, parsed.rows, importer, now, observer)?;
            observer.progress(Progress {
                bytes: parsed.bytes,
                rows: parsed.lines,
            });
        }
        Ok::<_, ImportError>(())
    })?;
    drop(session);
    Ok(run.report)
}

/// The reading thread: parses and validates records into batches of `limits.batch_rows` rows.
fn parse_batches<R: Read>(
    mut reader: RecordReader<BufReader<R>>,
    known: &[OrganisationCode],
    limits: ImportLimits,
    now: DateTime<Utc>,
    tx: &std::sync::mpsc::SyncSender<Result<Parsed, ImportError>>,
) {
    let today = now.date_naive();
    let mut records = 0u64;
    let fresh = || Parsed {
        rows: Vec::with_capacity(limits.batch_rows),
        errors: Vec::new(),
        rejected: 0,
        lines: 0,
        bytes: 0,
    };
    let mut batch = fresh();
    loop {
        let (line, record) = match reader.next_record() {
            Ok(Some(next)) => next,
            Ok(None) => break,
            Err(e) => {
                let _ = tx.send(Err(ImportError::Read(e)));
                return;
            }
        };
        if record == Record::Fields && is_blank(&reader) {
            continue; // a line of spaces (e.g. at the end of a hand-edited file) carries nothing
        }
        records += 1;
        match parse_record(&reader, record, line, limits, today, known) {
            Ok(row) => batch.rows.push(row),
            Err(errors) => {
                batch.rejected += 1;
                batch.errors.extend(errors);
            }
        }
        if batch.rows.len() >= limits.batch_rows {
            batch.lines = records;
            batch.bytes = reader.bytes_read();
            if tx.send(Ok(std::mem::replace(&mut batch, fresh()))).is_err() {
                return; // the writer stopped (an error): nothing more to do
            }
        }
    }
    batch.lines = records;
    batch.bytes = reader.bytes_read();
    let _ = tx.send(Ok(batch));
}

fn is_blank<R: BufRead>(reader: &RecordReader<R>) -> bool {
    reader.len() == 1 && reader.field(0).iter().all(u8::is_ascii_whitespace)
}

struct Run {
    report: ImportReport,
    limits: ImportLimits,
    /// Parse errors of the current batch, emitted with the batch's storage refusals so the
    /// observer sees every error in line order.
    pending_errors: Vec<LineError>,
    rows: u64,
}

impl Run {
    fn flush(
        &mut self,
        session: &mut ImportSession<'_>,
        batch: Vec<ImportRow>,
        importer: Importer<'_>,
        now: DateTime<Utc>,
        observer: &mut dyn ImportObserver,
    ) -> Result<(), ImportError> {
        let mut consequences =
            |c: &mut DbConnection, changes: &[ContactChange]| importer.apply(c, changes, now);
        let outcome = session
            .apply_batch(batch, now, &mut consequences)
            .map_err(|e| ImportError::Storage(self.rows, e))?;
        self.report.created += outcome.created;
        self.report.updated += outcome.updated;
        self.report.unchanged += outcome.unchanged;
        self.report.rejected += outcome.rejected.len() as u64;
        self.pending_errors
            .extend(outcome.rejected.into_iter().map(storage_error));
        self.pending_errors.sort_by_key(|e| e.line);
        for error in self.pending_errors.drain(..) {
            observer.line_error(&error);
            if self.report.errors.len() < self.limits.max_errors {
                self.report.errors.push(error);
            } else {
                self.report.truncated = true;
            }
        }
        Ok(())
    }
}

fn check_header<R: BufRead>(reader: &mut RecordReader<R>) -> Result<(), ImportError> {
    let header = reader.next_record().map_err(ImportError::Read)?;
    let Some((_, record)) = header else {
        return Err(ImportError::Empty);
    };
    if record != Record::Fields {
        return Err(ImportError::Header {
            found: "(a record longer than the limit)".into(),
        });
    }
    let names: Vec<&[u8]> = (0..reader.len()).map(|i| reader.field(i)).collect();
    let expected = names.len() == COLUMNS.len()
        && names
            .iter()
            .zip(COLUMNS)
            .enumerate()
            .all(|(i, (name, column))| {
                // Spreadsheet exports often start with a UTF-8 byte order mark.
                let name = if i == 0 {
                    name.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(name)
                } else {
                    name
                };
                name == column.as_bytes()
            });
    if expected {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&names.join(&b","[..])).into_owned();
    let found: String = text.chars().take(200).collect();
    Err(ImportError::Header { found })
}

fn known_organisations(
    conn: &mut DbConnection,
    scope: &Scope,
) -> Result<Vec<OrganisationCode>, RepoError> {
    if let Scope::Organisation(code) = scope {
        return Ok(organisations::find(conn, code)?
            .map(|o| vec![o.code])
            .unwrap_or_default());
    }
    let mut codes = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = organisations::list(conn, cursor.as_deref(), 1_000)?;
        codes.extend(page.items.into_iter().map(|o| o.code));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    codes.sort();
    Ok(codes)
}

fn whole_line(line: u64, code: &'static str, message: String) -> LineError {
    LineError {
        line,
        field: None,
        code,
        message,
    }
}

fn field_error(line: u64, field: &'static str, e: &impl Coded) -> LineError {
    LineError {
        line,
        field: Some(field),
        code: e.code(),
        message: e.message(),
    }
}

/// Parses and checks one record: every field problem is reported, not just the first.
fn parse_record<R: BufRead>(
    reader: &RecordReader<R>,
    record: Record,
    line: u64,
    limits: ImportLimits,
    today: chrono::NaiveDate,
    known: &[OrganisationCode],
) -> Result<ImportRow, Vec<LineError>> {
    match record {
        Record::Fields => {}
        Record::TooManyFields => return Err(vec![field_count(line, COLUMNS.len() + 1)]),
        Record::TooLong => {
            return Err(vec![whole_line(
                line,
                "line-too-long",
                format!(
                    "The record is longer than {} bytes and was skipped",
                    limits.max_record_bytes
                ),
            )]);
        }
    }
    if reader.len() != COLUMNS.len() {
        return Err(vec![field_count(line, reader.len())]);
    }
    let mut errors = Vec::new();
    let mut fields: [&str; 7] = [""; 7];
    for (i, name) in COLUMNS.iter().enumerate() {
        match std::str::from_utf8(reader.field(i)) {
            Ok(s) => fields[i] = s,
            Err(_) => errors.push(LineError {
                line,
                field: Some(*name),
                code: "invalid-utf8",
                message: "The value is not valid UTF-8 text; save the file as UTF-8".into(),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let [org, emp, first, last, dob, email, subject] = fields;

    let org = match OrganisationCode::parse(org) {
        Ok(code) if known.binary_search(&code).is_ok() => Some(code),
        Ok(code) => {
            // Also the answer for an organisation outside the caller's scope: the same
            // words, so a scoped key learns nothing about other organisations.
            errors.push(LineError {
                line,
                field: Some("organisation_code"),
                code: "unknown-organisation",
                message: format!("There is no organisation {code}"),
            });
            None
        }
        Err(e) => {
            errors.push(field_error(line, "organisation_code", &e));
            None
        }
    };
    let emp = EmployeeNumber::parse(emp)
        .map_err(|e| errors.push(field_error(line, "employee_number", &e)))
        .ok();
    let first = PersonName::parse(first)
        .map_err(|e| errors.push(field_error(line, "first_name", &e)))
        .ok();
    let last = PersonName::parse(last)
        .map_err(|e| errors.push(field_error(line, "last_name", &e)))
        .ok();
    let dob = DateOfBirth::parse(dob, today)
        .map_err(|e| errors.push(field_error(line, "date_of_birth", &e)))
        .ok();
    let email = WorkEmail::parse(email)
        .map_err(|e| errors.push(field_error(line, "work_email", &e)))
        .ok();
    let subject = if subject.trim().is_empty() {
        Some(None)
    } else {
        SmartcardSubject::parse(subject)
            .map_err(|e| errors.push(field_error(line, "smartcard_subject", &e)))
            .ok()
            .map(Some)
    };
    match (org, emp, first, last, dob, email, subject) {
        (Some(org), Some(emp), Some(first), Some(last), Some(dob), Some(email), Some(subject))
            if errors.is_empty() =>
        {
            Ok(ImportRow {
                line,
                organisation_code: org.as_str().to_owned(),
                employee_number: emp.as_str().to_owned(),
                first_name: first.as_str().to_owned(),
                last_name: last.as_str().to_owned(),
                date_of_birth: dob.date(),
                work_email: email.as_str().to_owned(),
                smartcard_subject: subject.map(String::from),
            })
        }
        _ => Err(errors),
    }
}

fn field_count(line: u64, found: usize) -> LineError {
    whole_line(
        line,
        "wrong-field-count",
        format!(
            "Expected {} fields ({}), found {}",
            COLUMNS.len(),
            COLUMNS.join(","),
            if found > COLUMNS.len() {
                "more".to_owned()
            } else {
                found.to_string()
            }
        ),
    )
}

fn storage_error((line, why): (u64, RowRejection)) -> LineError {
    match why {
        RowRejection::DuplicateKey { first_line } => LineError {
            line,
            field: Some("employee_number"),
            code: "duplicate-employee-number",
            message: format!(
                "This organisation and employee number already appear on line {first_line}; the first occurrence was kept"
            ),
        },
        RowRejection::DuplicateSmartcardSubject { first_line } => LineError {
            line,
            field: Some("smartcard_subject"),
            code: "duplicate-smartcard-subject",
            message: format!(
                "This smartcard subject already appears for the organisation on line {first_line}; the first occurrence was kept"
            ),
        },
        RowRejection::SmartcardSubjectTaken => LineError {
            line,
            field: Some("smartcard_subject"),
            code: "smartcard-subject-taken",
            message: "This smartcard subject is linked to another person of the organisation"
                .into(),
        },
    }
}

/// Audits a finished import (`people.imported`): who ran it and the totals, no personal data.
pub fn record_audit(
    conn: &mut DbConnection,
    caller: &crate::app::Caller,
    actor: &esr_persistence::audit::Actor,
    report: &ImportReport,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let details = serde_json::json!({
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": report.rejected,
    });
    conn.write_transaction(|c| {
        crate::app::audit::record(
            c,
            caller,
            esr_persistence::audit::EventType::PeopleImported,
            None,
            actor,
            &details,
            now,
        )
    })
}
