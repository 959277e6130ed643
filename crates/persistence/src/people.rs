//! People: members of staff, one row per employment.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use esr_domain::{OrganisationCode, PersonId};

use crate::connection::DbConnection;
use crate::error::RepoError;
use crate::schema::people;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = people)]
pub(crate) struct PersonRow {
    id: String,
    organisation_code: String,
    employee_number: String,
    first_name: String,
    last_name: String,
    date_of_birth: NaiveDate,
    work_email: String,
    smartcard_subject: Option<String>,
    language: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    contact_changed_at: Option<NaiveDateTime>,
    previous_work_email: Option<String>,
    previous_email_until: Option<NaiveDateTime>,
    left_at: Option<NaiveDateTime>,
    erased_at: Option<NaiveDateTime>,
}

/// A member of staff in one employing organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Random identifier.
    pub id: PersonId,
    /// Employing organisation.
    pub organisation_code: OrganisationCode,
    /// Employee number within the organisation.
    pub employee_number: String,
    /// First name.
    pub first_name: String,
    /// Surname.
    pub last_name: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Work email, canonical (lower case).
    pub work_email: String,
    /// Subject of their NHS smartcard identity (CIS2 `uid`), when linked.
    pub smartcard_subject: Option<String>,
    /// `en` or `cy`: the language of emails.
    pub language: String,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
    /// When the work email or smartcard subject last changed after creation, if ever.
    pub contact_changed_at: Option<DateTime<Utc>>,
    /// The work email on record before the current contact-change hold began.
    pub previous_work_email: Option<String>,
    /// Until when notices are copied to [`Person::previous_work_email`].
    pub previous_email_until: Option<DateTime<Utc>>,
    /// When they left the organisation (their accounts were disabled then).
    pub left_at: Option<DateTime<Utc>>,
    /// When they were anonymised.
    pub erased_at: Option<DateTime<Utc>>,
}

impl Person {
    /// The address notices are copied to at `now`: the one on record before the current
    /// contact-change hold began, while the hold runs and if it differs from today's.
    pub fn previous_email_to_tell(&self, now: DateTime<Utc>) -> Option<&str> {
        self.previous_work_email
            .as_deref()
            .filter(|previous| *previous != self.work_email)
            .filter(|_| self.previous_email_until.is_some_and(|until| until > now))
    }

    /// Until when a recent change of work email or smartcard holds recovery and setting a
    /// password at work, if it still does at `now`.
    pub fn contact_hold_until(
        &self,
        hold: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        self.contact_changed_at
            .map(|changed| changed + hold)
            .filter(|until| *until > now)
    }
}

impl TryFrom<PersonRow> for Person {
    type Error = RepoError;

    fn try_from(r: PersonRow) -> Result<Self, RepoError> {
        Ok(Self {
            id: PersonId::from_stored(r.id),
            organisation_code: OrganisationCode::parse(&r.organisation_code).map_err(|_| {
                RepoError::Corrupt(format!("person organisation {:?}", r.organisation_code))
            })?,
            employee_number: r.employee_number,
            first_name: r.first_name,
            last_name: r.last_name,
            date_of_birth: r.date_of_birth,
            work_email: r.work_email,
            smartcard_subject: r.smartcard_subject,
            language: r.language,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            contact_changed_at: r.contact_changed_at.map(|t| t.and_utc()),
            previous_work_email: r.previous_work_email,
            previous_email_until: r.previous_email_until.map(|t| t.and_utc()),
            left_at: r.left_at.map(|t| t.and_utc()),
            erased_at: r.erased_at.map(|t| t.and_utc()),
        })
    }
}

/// Fields of a new person.
#[derive(Debug, Clone)]
pub struct NewPerson<'a> {
    /// Employing organisation.
    pub organisation_code: &'a OrganisationCode,
    /// Employee number within the organisation.
    pub employee_number: &'a str,
    /// First name.
    pub first_name: &'a str,
    /// Surname.
    pub last_name: &'a str,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Canonical work email.
    pub work_email: &'a str,
    /// Smartcard subject, if known.
    pub smartcard_subject: Option<&'a str>,
    /// `en` or `cy`.
    pub language: &'a str,
}

/// Inserts a person with a fresh random id.
pub fn insert(
    conn: &mut DbConnection,
    new: &NewPerson<'_>,
    now: DateTime<Utc>,
) -> Result<Person, RepoError> {
    let now = now.naive_utc();
    let id = uuid::Uuid::now_v7().to_string();
    let row: PersonRow = crate::per_backend!(conn, |c| diesel::insert_into(people::table)
        .values((
            people::id.eq(&id),
            people::organisation_code.eq(new.organisation_code.as_str()),
            people::employee_number.eq(new.employee_number),
            people::first_name.eq(new.first_name),
            people::last_name.eq(new.last_name),
            people::date_of_birth.eq(new.date_of_birth),
            people::work_email.eq(new.work_email),
            people::smartcard_subject.eq(new.smartcard_subject),
            people::language.eq(new.language),
            people::created_at.eq(now),
            people::updated_at.eq(now),
        ))
        .returning(PersonRow::as_returning())
        .get_result(c))?;
    row.try_into()
}

/// Finds a person by id.
pub fn find(conn: &mut DbConnection, id: &PersonId) -> Result<Option<Person>, RepoError> {
    people::table
        .find(id.as_str())
        .select(PersonRow::as_select())
        .get_result(conn)
        .optional()?
        .map(Person::try_from)
        .transpose()
}

/// Finds a person and holds their row until the transaction ends (PostgreSQL: `FOR UPDATE`;
/// SQLite's write transaction holds the whole database already).
pub fn find_for_update(
    conn: &mut DbConnection,
    id: &PersonId,
) -> Result<Option<Person>, RepoError> {
    let row = match conn {
        DbConnection::Postgresql(c) => people::table
            .find(id.as_str())
            .select(PersonRow::as_select())
            .for_update()
            .get_result(c)
            .optional()?,
        DbConnection::Sqlite(c) => people::table
            .find(id.as_str())
            .select(PersonRow::as_select())
            .get_result(c)
            .optional()?,
    };
    row.map(Person::try_from).transpose()
}

/// Finds a person by organisation and employee number.
pub fn find_by_employee_number(
    conn: &mut DbConnection,
    organisation: &OrganisationCode,
    employee_number: &str,
) -> Result<Option<Person>, RepoError> {
    people::table
        .filter(people::organisation_code.eq(organisation.as_str()))
        .filter(people::employee_number.eq(employee_number))
        .select(PersonRow::as_select())
        .get_result(conn)
        .optional()?
        .map(Person::try_from)
        .transpose()
}

/// People with this (canonical) work email and date of birth: one per employment.
pub fn find_by_email_and_dob(
    conn: &mut DbConnection,
    work_email: &str,
    date_of_birth: NaiveDate,
) -> Result<Vec<Person>, RepoError> {
    people::table
        .filter(people::work_email.eq(work_email))
        .filter(people::date_of_birth.eq(date_of_birth))
        .order(people::organisation_code.asc())
        .select(PersonRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Person::try_from)
        .collect()
}

/// The people whose NHS smartcard identity (CIS2 `uid`) is `subject`, at most `limit`, by
/// organisation: one per organisation that employs its holder.
pub fn find_by_smartcard_subject(
    conn: &mut DbConnection,
    subject: &str,
    limit: i64,
) -> Result<Vec<Person>, RepoError> {
    people::table
        .filter(people::smartcard_subject.eq(subject))
        .order(people::organisation_code.asc())
        .limit(limit)
        .select(PersonRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Person::try_from)
        .collect()
}

/// People with this employee number in any organisation (the dev identity provider signs
/// in by employee number), at most `limit`.
pub fn find_by_employee_number_anywhere(
    conn: &mut DbConnection,
    employee_number: &str,
    limit: i64,
) -> Result<Vec<Person>, RepoError> {
    people::table
        .filter(people::employee_number.eq(employee_number))
        .order(people::organisation_code.asc())
        .limit(limit)
        .select(PersonRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Person::try_from)
        .collect()
}

/// People who have a smartcard linked, by organisation and employee number, at most `limit`
/// (the dev identity provider lists them).
pub fn with_smartcard(conn: &mut DbConnection, limit: i64) -> Result<Vec<Person>, RepoError> {
    people::table
        .filter(people::smartcard_subject.is_not_null())
        .order((
            people::organisation_code.asc(),
            people::employee_number.asc(),
        ))
        .limit(limit)
        .select(PersonRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Person::try_from)
        .collect()
}

/// Filters of the admin people list.
#[derive(Debug, Clone, Default)]
pub struct PersonFilter {
    /// Only this organisation's people.
    pub organisation: Option<OrganisationCode>,
    /// Only this employee number.
    pub employee_number: Option<String>,
    /// Only this (canonical) work email.
    pub work_email: Option<String>,
    /// Only people changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
}

/// Lists people by id, `limit` at a time after `cursor` (an id). Ids are
/// UUID version 7, so id order is creation order.
pub fn list(
    conn: &mut DbConnection,
    filter: &PersonFilter,
    cursor: Option<&str>,
    limit: u32,
) -> Result<crate::organisations::Page<Person>, RepoError> {
    let mut q = people::table
        .select(PersonRow::as_select())
        .order(people::id.asc())
        .limit(i64::from(limit) + 1)
        .into_boxed();
    if let Some(org) = &filter.organisation {
        q = q.filter(people::organisation_code.eq(org.as_str().to_owned()));
    }
    if let Some(n) = &filter.employee_number {
        q = q.filter(people::employee_number.eq(n.clone()));
    }
    if let Some(e) = &filter.work_email {
        q = q.filter(people::work_email.eq(e.clone()));
    }
    if let Some(since) = filter.updated_since {
        q = q.filter(people::updated_at.ge(since.naive_utc()));
    }
    if let Some(after) = cursor {
        q = q.filter(people::id.gt(after.to_owned()));
    }
    let mut items = q
        .load(conn)?
        .into_iter()
        .map(Person::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|p| p.id.as_str().to_owned())
    } else {
        None
    };
    Ok(crate::organisations::Page { items, next_cursor })
}

/// A partial update of a person: `None` leaves a field alone; `Some(None)` clears the
/// smartcard subject.
#[derive(Debug, Clone, Default)]
pub struct PersonChanges<'a> {
    /// First name.
    pub first_name: Option<&'a str>,
    /// Surname.
    pub last_name: Option<&'a str>,
    /// Canonical work email.
    pub work_email: Option<&'a str>,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// Smartcard subject (or none).
    pub smartcard_subject: Option<Option<&'a str>>,
    /// `en` or `cy`.
    pub language: Option<&'a str>,
}

/// Remembers, after a change of contact details, the address to copy notices to until
/// `until`: the address before the change, unless one from before an earlier change is still
/// being told (a second change must not drop the first address on record).
pub fn remember_previous_email(
    conn: &mut DbConnection,
    person: &PersonId,
    old_email: Option<&str>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let Some(current) = find(conn, person)? else {
        return Ok(());
    };
    let still_told = current
        .previous_email_until
        .is_some_and(|u| u > now)
        .then_some(current.previous_work_email.as_deref())
        .flatten();
    let Some(previous) = still_told.or(old_email) else {
        return Ok(());
    };
    diesel::update(people::table.find(person.as_str()))
        .set((
            people::previous_work_email.eq(Some(previous)),
            people::previous_email_until.eq(Some(until.naive_utc())),
        ))
        .execute(conn)?;
    Ok(())
}

/// Applies `changes` to a person; returns them as they now are (`None`: no such id).
pub fn update(
    conn: &mut DbConnection,
    id: &PersonId,
    changes: &PersonChanges<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Person>, RepoError> {
    let Some(current) = find(conn, id)? else {
        return Ok(None);
    };
    diesel::update(people::table.find(id.as_str()))
        .set((
            people::first_name.eq(changes.first_name.unwrap_or(&current.first_name)),
            people::last_name.eq(changes.last_name.unwrap_or(&current.last_name)),
            people::work_email.eq(changes.work_email.unwrap_or(&current.work_email)),
            people::date_of_birth.eq(changes.date_of_birth.unwrap_or(current.date_of_birth)),
            people::smartcard_subject.eq(changes
                .smartcard_subject
                .unwrap_or(current.smartcard_subject.as_deref())),
            people::language.eq(changes.language.unwrap_or(&current.language)),
            people::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    let email_changed = changes
        .work_email
        .is_some_and(|email| email != current.work_email);
    let subject_changed = changes
        .smartcard_subject
        .is_some_and(|subject| subject != current.smartcard_subject.as_deref());
    if email_changed || subject_changed {
        diesel::update(people::table.find(id.as_str()))
            .set(people::contact_changed_at.eq(Some(now.naive_utc())))
            .execute(conn)?;
    }
    find(conn, id)
}

/// Marks the person as having left at `now`; `false` when they had left already.
pub fn mark_left(
    conn: &mut DbConnection,
    id: &PersonId,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let n = diesel::update(
        people::table
            .filter(people::id.eq(id.as_str()))
            .filter(people::left_at.is_null()),
    )
    .set((
        people::left_at.eq(Some(now.naive_utc())),
        people::updated_at.eq(now.naive_utc()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// The organisation's people still employed (not left), as (id, employee number).
pub fn current_staff(
    conn: &mut DbConnection,
    organisation: &OrganisationCode,
) -> Result<Vec<(String, String)>, RepoError> {
    Ok(people::table
        .filter(people::organisation_code.eq(organisation.as_str()))
        .filter(people::left_at.is_null())
        .select((people::id, people::employee_number))
        .load(conn)?)
}

/// Up to `limit` leavers who left before `before` and are not erased yet.
pub fn leavers_before(
    conn: &mut DbConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<PersonId>, RepoError> {
    let ids: Vec<String> = people::table
        .filter(people::left_at.lt(before.naive_utc()))
        .filter(people::erased_at.is_null())
        .order(people::left_at.asc())
        .select(people::id)
        .limit(limit)
        .load(conn)?;
    Ok(ids.into_iter().map(PersonId::from_stored).collect())
}
