//! Organisations repository.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use esr_domain::{ApprovalMode, MfaPolicy, OrganisationCode};

use crate::connection::DbConnection;
use crate::error::RepoError;
use crate::schema::organisations;

/// An organisation as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = organisations)]
struct OrganisationRow {
    code: String,
    name: String,
    internet_access_approval: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    inactivity_limit_days: Option<i32>,
    password_expiry_days: Option<i32>,
    mfa_policy: String,
}

/// An employing organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// Three-character ESR organisation code, e.g. `999`.
    pub code: OrganisationCode,
    /// Display name, e.g. `Demo NHS Trust`.
    pub name: String,
    /// How internet-access requests are approved.
    pub internet_access_approval: ApprovalMode,
    /// When the row was created (UTC).
    pub created_at: DateTime<Utc>,
    /// When the row last changed (UTC).
    pub updated_at: DateTime<Utc>,
    /// Days without a login after which internet access lapses (`None`: no limit).
    pub inactivity_limit_days: Option<u32>,
    /// Days after which a password expires (`None`: never, the default).
    pub password_expiry_days: Option<u32>,
    /// Whether staff sign in from home with a second factor.
    pub mfa_policy: MfaPolicy,
}

impl TryFrom<OrganisationRow> for Organisation {
    type Error = RepoError;

    fn try_from(r: OrganisationRow) -> Result<Self, RepoError> {
        Ok(Self {
            code: OrganisationCode::parse(&r.code)
                .map_err(|_| RepoError::Corrupt(format!("organisation code {:?}", r.code)))?,
            name: r.name,
            internet_access_approval: ApprovalMode::parse(&r.internet_access_approval).map_err(
                |_| RepoError::Corrupt(format!("approval mode {:?}", r.internet_access_approval)),
            )?,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            inactivity_limit_days: days(r.inactivity_limit_days)?,
            password_expiry_days: days(r.password_expiry_days)?,
            mfa_policy: MfaPolicy::parse(&r.mfa_policy)
                .map_err(|_| RepoError::Corrupt(format!("mfa policy {:?}", r.mfa_policy)))?,
        })
    }
}

fn days(v: Option<i32>) -> Result<Option<u32>, RepoError> {
    v.map(|d| u32::try_from(d).map_err(|_| RepoError::Corrupt(format!("days {d}"))))
        .transpose()
}

/// Fields to create or replace an organisation with.
#[derive(Debug, Clone)]
pub struct NewOrganisation<'a> {
    /// Organisation code.
    pub code: &'a OrganisationCode,
    /// Display name.
    pub name: &'a str,
    /// How internet-access requests are approved.
    pub internet_access_approval: ApprovalMode,
}

/// One page of a list, ordered by key, with the cursor of the next page if there is one.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass back as `cursor` to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Finds one organisation by its canonical code.
pub fn find(
    conn: &mut DbConnection,
    code: &OrganisationCode,
) -> Result<Option<Organisation>, RepoError> {
    organisations::table
        .find(code.as_str())
        .select(OrganisationRow::as_select())
        .get_result(conn)
        .optional()?
        .map(Organisation::try_from)
        .transpose()
}

/// Finds an organisation by code and holds its row until the transaction ends (PostgreSQL:
/// `FOR UPDATE`; SQLite's write transaction holds the whole database already).
pub fn find_for_update(
    conn: &mut DbConnection,
    code: &OrganisationCode,
) -> Result<Option<Organisation>, RepoError> {
    let row = match conn {
        DbConnection::Postgresql(c) => organisations::table
            .find(code.as_str())
            .select(OrganisationRow::as_select())
            .for_update()
            .get_result(c)
            .optional()?,
        DbConnection::Sqlite(c) => organisations::table
            .find(code.as_str())
            .select(OrganisationRow::as_select())
            .get_result(c)
            .optional()?,
    };
    row.map(Organisation::try_from).transpose()
}

/// Lists organisations ordered by code, `limit` at a time, starting after `cursor`.
pub fn list(
    conn: &mut DbConnection,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Page<Organisation>, RepoError> {
    let mut query = organisations::table
        .select(OrganisationRow::as_select())
        .order(organisations::code.asc())
        .limit(i64::from(limit) + 1)
        .into_boxed();
    if let Some(after) = cursor {
        query = query.filter(organisations::code.gt(after.to_owned()));
    }
    let mut rows = query
        .load(conn)?
        .into_iter()
        .map(Organisation::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|o| o.code.as_str().to_owned())
    } else {
        None
    };
    Ok(Page {
        items: rows,
        next_cursor,
    })
}

/// Creates the organisation, or updates its name and approval mode if the code exists.
/// Returns the stored row.
pub fn upsert(
    conn: &mut DbConnection,
    new: &NewOrganisation<'_>,
    now: DateTime<Utc>,
) -> Result<Organisation, RepoError> {
    let now = now.naive_utc();
    let row: OrganisationRow = per_backend!(conn, |c| diesel::insert_into(organisations::table)
        .values((
            organisations::code.eq(new.code.as_str()),
            organisations::name.eq(new.name),
            organisations::internet_access_approval.eq(new.internet_access_approval.as_str()),
            organisations::created_at.eq(now),
            organisations::updated_at.eq(now),
        ))
        .on_conflict(organisations::code)
        .do_update()
        .set((
            organisations::name.eq(new.name),
            organisations::internet_access_approval.eq(new.internet_access_approval.as_str()),
            organisations::updated_at.eq(now),
        ))
        .returning(OrganisationRow::as_returning())
        .get_result(c))?;
    row.try_into()
}

/// The settings an administrator gives a new organisation.
#[derive(Debug, Clone)]
pub struct OrganisationSettings<'a> {
    /// Display name.
    pub name: &'a str,
    /// How internet-access requests are approved.
    pub internet_access_approval: ApprovalMode,
    /// Days without a login after which internet access lapses.
    pub inactivity_limit_days: Option<u32>,
    /// Days after which a password expires.
    pub password_expiry_days: Option<u32>,
    /// Whether staff sign in from home with a second factor.
    pub mfa_policy: MfaPolicy,
}

fn days_column(d: Option<u32>) -> Option<i32> {
    d.map(|d| i32::try_from(d).unwrap_or(i32::MAX))
}

/// Creates an organisation. `Ok(None)` when the code is taken.
pub fn create(
    conn: &mut DbConnection,
    code: &OrganisationCode,
    settings: &OrganisationSettings<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Organisation>, RepoError> {
    let at = now.naive_utc();
    let inserted = conn.write_transaction(|c| {
        diesel::insert_into(organisations::table)
            .values((
                organisations::code.eq(code.as_str()),
                organisations::name.eq(settings.name),
                organisations::internet_access_approval
                    .eq(settings.internet_access_approval.as_str()),
                organisations::inactivity_limit_days
                    .eq(days_column(settings.inactivity_limit_days)),
                organisations::password_expiry_days.eq(days_column(settings.password_expiry_days)),
                organisations::mfa_policy.eq(settings.mfa_policy.as_str()),
                organisations::created_at.eq(at),
                organisations::updated_at.eq(at),
            ))
            .execute(c)
            .map_err(RepoError::from)
    });
    match inserted {
        Ok(_) => find(conn, code),
        Err(RepoError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ))) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A partial update: `None` leaves a field alone; `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct OrganisationChanges<'a> {
    /// New display name.
    pub name: Option<&'a str>,
    /// New approval mode.
    pub internet_access_approval: Option<ApprovalMode>,
    /// New inactivity limit (or none).
    pub inactivity_limit_days: Option<Option<u32>>,
    /// New password expiry (or none).
    pub password_expiry_days: Option<Option<u32>>,
    /// New multi-factor policy.
    pub mfa_policy: Option<MfaPolicy>,
}

/// Applies `changes`; returns the organisation as it now is (`None`: no such code).
pub fn update(
    conn: &mut DbConnection,
    code: &OrganisationCode,
    changes: &OrganisationChanges<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Organisation>, RepoError> {
    let Some(current) = find(conn, code)? else {
        return Ok(None);
    };
    let name = changes.name.unwrap_or(&current.name);
    let approval = changes
        .internet_access_approval
        .unwrap_or(current.internet_access_approval);
    let inactivity = changes
        .inactivity_limit_days
        .unwrap_or(current.inactivity_limit_days);
    let expiry = changes
        .password_expiry_days
        .unwrap_or(current.password_expiry_days);
    let mfa_policy = changes.mfa_policy.unwrap_or(current.mfa_policy);
    diesel::update(organisations::table.find(code.as_str()))
        .set((
            organisations::name.eq(name),
            organisations::internet_access_approval.eq(approval.as_str()),
            organisations::inactivity_limit_days.eq(days_column(inactivity)),
            organisations::password_expiry_days.eq(days_column(expiry)),
            organisations::mfa_policy.eq(mfa_policy.as_str()),
            organisations::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    find(conn, code)
}
