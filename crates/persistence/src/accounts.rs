//! Accounts: ESR usernames, their status, password and lockout counter.
//!
//! Every change that must not race (failed-login counting, locking, recording a login) is a
//! single conditional `UPDATE`, so concurrent requests on any number of instances can never
//! push the counter past the threshold or log in to an account locked in between.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use esr_domain::{
    AccountId, AccountStatus, InternetAccessStatus, OrganisationCode, PersonId, PersonName,
    SessionId, Username, UsernameError, generate_username_avoiding, username_stem,
};

use crate::connection::DbConnection;
use crate::error::RepoError;
use crate::schema::{accounts, organisations, password_history, people};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub(crate) struct AccountRow {
    id: String,
    username: String,
    person_id: String,
    organisation_code: String,
    status: String,
    internet_access: String,
    internet_access_changed_at: Option<NaiveDateTime>,
    password_hash: Option<String>,
    password_changed_at: Option<NaiveDateTime>,
    failed_login_count: i32,
    locked_at: Option<NaiveDateTime>,
    last_login_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// An ESR account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Random identifier (the `sub` of access tokens).
    pub id: AccountId,
    /// ESR username, canonical upper case.
    pub username: Username,
    /// The person holding it.
    pub person_id: PersonId,
    /// Employing organisation.
    pub organisation_code: OrganisationCode,
    /// Account status.
    pub status: AccountStatus,
    /// Internet-access status.
    pub internet_access: InternetAccessStatus,
    /// When internet access last changed.
    pub internet_access_changed_at: Option<DateTime<Utc>>,
    /// argon2id PHC string, if a password is set.
    pub password_hash: Option<String>,
    /// When the password was last set.
    pub password_changed_at: Option<DateTime<Utc>>,
    /// Consecutive failed logins.
    pub failed_login_count: u32,
    /// When the account was locked.
    pub locked_at: Option<DateTime<Utc>>,
    /// Last successful login.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

fn corrupt(what: &str, value: &str) -> RepoError {
    RepoError::Corrupt(format!("account {what} {value:?}"))
}

impl TryFrom<AccountRow> for Account {
    type Error = RepoError;

    fn try_from(r: AccountRow) -> Result<Self, RepoError> {
        Ok(Self {
            username: Username::parse(&r.username).map_err(|_| corrupt("username", &r.username))?,
            organisation_code: OrganisationCode::parse(&r.organisation_code)
                .map_err(|_| corrupt("organisation", &r.organisation_code))?,
            status: AccountStatus::parse(&r.status).map_err(|_| corrupt("status", &r.status))?,
            internet_access: InternetAccessStatus::parse(&r.internet_access)
                .map_err(|_| corrupt("internet access", &r.internet_access))?,
            failed_login_count: u32::try_from(r.failed_login_count)
                .map_err(|_| corrupt("failed count", &r.failed_login_count.to_string()))?,
            id: AccountId::from_stored(r.id),
            person_id: PersonId::from_stored(r.person_id),
            internet_access_changed_at: r.internet_access_changed_at.map(|t| t.and_utc()),
            password_hash: r.password_hash,
            password_changed_at: r.password_changed_at.map(|t| t.and_utc()),
            locked_at: r.locked_at.map(|t| t.and_utc()),
            last_login_at: r.last_login_at.map(|t| t.and_utc()),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// Fields of a new account.
#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    /// The generated username.
    pub username: &'a Username,
    /// The person holding it.
    pub person_id: &'a PersonId,
    /// Employing organisation.
    pub organisation_code: &'a OrganisationCode,
    /// Initial internet-access status.
    pub internet_access: InternetAccessStatus,
}

/// Inserts an active account with no password.
pub fn insert(
    conn: &mut DbConnection,
    new: &NewAccount<'_>,
    now: DateTime<Utc>,
) -> Result<Account, RepoError> {
    let now = now.naive_utc();
    let row: AccountRow = crate::per_backend!(conn, |c| diesel::insert_into(accounts::table)
        .values((
            accounts::id.eq(uuid::Uuid::new_v4().to_string()),
            accounts::username.eq(new.username.as_str()),
            accounts::person_id.eq(new.person_id.as_str()),
            accounts::organisation_code.eq(new.organisation_code.as_str()),
            accounts::status.eq(AccountStatus::Active.as_str()),
            accounts::internet_access.eq(new.internet_access.as_str()),
            accounts::internet_access_changed_at.eq(Some(now)),
            accounts::failed_login_count.eq(0),
            accounts::created_at.eq(now),
            accounts::updated_at.eq(now),
        ))
        .returning(AccountRow::as_returning())
        .get_result(c))?;
    row.try_into()
}

/// Most attempts at a username before giving up: each failed attempt means another
/// transaction took the candidate in between, so this only runs out under absurd contention.
const USERNAME_ATTEMPTS: usize = 20;

/// The person's account, created with a newly generated username when they have none.
///
/// Usernames stay unique under concurrency without locks: the candidate is chosen from the
/// names taken now, and inserted in a savepoint; when a concurrent transaction took the same
/// name first, the `UNIQUE` constraint refuses ours, the savepoint is rolled back (so a
/// PostgreSQL transaction stays usable) and the next free name is tried. A person who gained
/// an account concurrently (the `UNIQUE (person_id, organisation_code)` constraint) gets that
/// one. `Ok(Err(_))` when the names yield no username (no usable letters, or suffixes 01–99
/// all taken).
pub fn find_or_create_for_person(
    conn: &mut DbConnection,
    person: &crate::people::Person,
    internet_access: InternetAccessStatus,
    now: DateTime<Utc>,
) -> Result<Result<Account, UsernameError>, RepoError> {
    let corrupt_name = |name: &str| RepoError::Corrupt(format!("person name {name:?}"));
    let first =
        PersonName::parse(&person.first_name).map_err(|_| corrupt_name(&person.first_name))?;
    let last = PersonName::parse(&person.last_name).map_err(|_| corrupt_name(&person.last_name))?;
    let org = &person.organisation_code;
    let stem = match username_stem(org, &first, &last) {
        Ok(stem) => stem,
        Err(e) => return Ok(Err(e)),
    };
    for _ in 0..USERNAME_ATTEMPTS {
        if let Some(existing) = for_person(conn, &person.id)?
            .into_iter()
            .find(|a| &a.organisation_code == org)
        {
            return Ok(Ok(existing));
        }
        let taken = usernames_starting_with(conn, &stem)?;
        let username = match generate_username_avoiding(org, &first, &last, &taken) {
            Ok(username) => username,
            Err(e) => return Ok(Err(e)),
        };
        // Nested in the caller's transaction, this is a savepoint.
        let attempt = conn.write_transaction(|c| {
            insert(
                c,
                &NewAccount {
                    username: &username,
                    person_id: &person.id,
                    organisation_code: org,
                    internet_access,
                },
                now,
            )
        });
        match attempt {
            Ok(account) => return Ok(Ok(account)),
            Err(RepoError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ))) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(RepoError::Corrupt(format!(
        "no free username for {stem} after {USERNAME_ATTEMPTS} attempts"
    )))
}

/// Finds an account by id.
pub fn find(conn: &mut DbConnection, id: &AccountId) -> Result<Option<Account>, RepoError> {
    accounts::table
        .find(id.as_str())
        .select(AccountRow::as_select())
        .get_result(conn)
        .optional()?
        .map(Account::try_from)
        .transpose()
}

/// Finds an account and holds its row until the transaction ends (PostgreSQL
/// `FOR UPDATE`; a SQLite write transaction holds the whole database already), so a decision
/// taken on what it returns cannot be overtaken by a concurrent lock, suspension or password
/// change. Call inside a write transaction.
pub fn find_for_update(
    conn: &mut DbConnection,
    id: &AccountId,
) -> Result<Option<Account>, RepoError> {
    let row = match conn {
        DbConnection::Postgresql(c) => accounts::table
            .find(id.as_str())
            .select(AccountRow::as_select())
            .for_update()
            .get_result(c)
            .optional()?,
        DbConnection::Sqlite(c) => accounts::table
            .find(id.as_str())
            .select(AccountRow::as_select())
            .get_result(c)
            .optional()?,
    };
    row.map(Account::try_from).transpose()
}

/// Finds an account by its (canonical) username.
pub fn find_by_username(
    conn: &mut DbConnection,
    username: &Username,
) -> Result<Option<Account>, RepoError> {
    accounts::table
        .filter(accounts::username.eq(username.as_str()))
        .select(AccountRow::as_select())
        .get_result(conn)
        .optional()?
        .map(Account::try_from)
        .transpose()
}

/// The accounts of a person.
pub fn for_person(
    conn: &mut DbConnection,
    person_id: &PersonId,
) -> Result<Vec<Account>, RepoError> {
    accounts::table
        .filter(accounts::person_id.eq(person_id.as_str()))
        .order(accounts::username.asc())
        .select(AccountRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Account::try_from)
        .collect()
}

/// Usernames starting with `prefix` (for choosing the next free `NN` suffix).
pub fn usernames_starting_with(
    conn: &mut DbConnection,
    prefix: &str,
) -> Result<Vec<String>, RepoError> {
    // Usernames are upper-case ASCII letters and digits, so LIKE needs no escaping.
    Ok(accounts::table
        .filter(accounts::username.like(format!("{prefix}%")))
        .select(accounts::username)
        .load(conn)?)
}

/// An account with the person and organisation it belongs to.
#[derive(Debug, Clone)]
pub struct AccountProfile {
    /// The account.
    pub account: Account,
    /// The person.
    pub person: crate::people::Person,
    /// The organisation's name.
    pub organisation_name: String,
    /// The organisation's multi-factor policy.
    pub mfa_policy: esr_domain::MfaPolicy,
}

impl AccountProfile {
    /// From the joined rows (account, person, organisation name and policy) of a profile
    /// query.
    fn from_rows(
        (account, person, (organisation_name, mfa_policy)): (
            AccountRow,
            crate::people::PersonRow,
            (String, String),
        ),
    ) -> Result<Self, RepoError> {
        Ok(Self {
            account: account.try_into()?,
            person: person.try_into()?,
            organisation_name,
            mfa_policy: esr_domain::MfaPolicy::parse(&mfa_policy)
                .map_err(|_| corrupt("organisation mfa policy", &mfa_policy))?,
        })
    }
}

/// Loads an account with its person and organisation name.
pub fn profile(
    conn: &mut DbConnection,
    id: &AccountId,
) -> Result<Option<AccountProfile>, RepoError> {
    let row = accounts::table
        .inner_join(people::table)
        .inner_join(organisations::table)
        .filter(accounts::id.eq(id.as_str()))
        .select((
            AccountRow::as_select(),
            crate::people::PersonRow::as_select(),
            (organisations::name, organisations::mfa_policy),
        ))
        .get_result::<(AccountRow, crate::people::PersonRow, (String, String))>(conn)
        .optional()?;
    row.map(AccountProfile::from_rows).transpose()
}

/// Loads a session together with its account, person and organisation name in one query:
/// the hot path of `GET /v1/me`, which needs the session (for revocation and expiry) and the
/// profile on every request.
pub fn session_profile(
    conn: &mut DbConnection,
    session_id: &SessionId,
) -> Result<Option<(crate::sessions::Session, AccountProfile)>, RepoError> {
    use crate::schema::sessions;
    type Row = (
        crate::sessions::SessionRow,
        AccountRow,
        crate::people::PersonRow,
        (String, String),
    );
    // Run on the concrete connection: through the multi-connection wrapper diesel rebuilds the
    // SQL text at every execution, even when the prepared statement is cached.
    let row: Option<Row> = per_backend!(conn, |c| sessions::table
        .inner_join(
            accounts::table
                .inner_join(people::table)
                .inner_join(organisations::table),
        )
        .filter(sessions::id.eq(session_id.as_str()))
        .select((
            crate::sessions::SessionRow::as_select(),
            AccountRow::as_select(),
            crate::people::PersonRow::as_select(),
            (organisations::name, organisations::mfa_policy),
        ))
        .get_result::<Row>(c)
        .optional())?;
    row.map(|(s, a, p, organisation)| {
        Ok((
            s.try_into()?,
            AccountProfile::from_rows((a, p, organisation))?,
        ))
    })
    .transpose()
}

/// Counts a failed login in one atomic `UPDATE` on an active or suspended account and returns
/// the consecutive-failure count it reached. `None` when the account is locked or disabled:
/// nothing is counted, so an active account's counter can never pass the threshold however
/// many attempts race (a suspended one keeps counting: it cannot be locked, and its count
/// decides whether a right password still says "suspended"). The row stays locked until the transaction ends, so the caller
/// decides the lock ([`esr_domain::LockoutPolicy::should_lock`]) on an exact count and applies
/// it with [`lock`] before any concurrent attempt is counted.
pub fn record_failed_login(
    conn: &mut DbConnection,
    id: &AccountId,
    now: DateTime<Utc>,
) -> Result<Option<u32>, RepoError> {
    let count: Option<i32> =
        diesel::update(accounts::table.filter(accounts::id.eq(id.as_str())).filter(
            accounts::status.eq_any([
                AccountStatus::Active.as_str(),
                AccountStatus::Suspended.as_str(),
            ]),
        ))
        .set((
            accounts::failed_login_count.eq(accounts::failed_login_count + 1),
            accounts::updated_at.eq(now.naive_utc()),
        ))
        .returning(accounts::failed_login_count)
        .get_result(conn)
        .optional()?;
    Ok(count.map(|c| u32::try_from(c).unwrap_or(0)))
}

/// Locks an active account. Returns whether it was active (and is now locked).
pub fn lock(
    conn: &mut DbConnection,
    id: &AccountId,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let at = now.naive_utc();
    let n = diesel::update(
        accounts::table
            .filter(accounts::id.eq(id.as_str()))
            .filter(accounts::status.eq(AccountStatus::Active.as_str())),
    )
    .set((
        accounts::status.eq(AccountStatus::Locked.as_str()),
        accounts::locked_at.eq(Some(at)),
        accounts::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Whether the account is still active and approved with the password hash that was just
/// verified (a reset, lock or suspension committed since the account was read says no).
pub fn still_signs_in_with(
    conn: &mut DbConnection,
    id: &AccountId,
    verified_hash: &str,
) -> Result<bool, RepoError> {
    let n: i64 = accounts::table
        .filter(accounts::id.eq(id.as_str()))
        .filter(accounts::status.eq(AccountStatus::Active.as_str()))
        .filter(accounts::internet_access.eq(InternetAccessStatus::Approved.as_str()))
        .filter(accounts::password_hash.eq(verified_hash))
        .count()
        .get_result(conn)?;
    Ok(n == 1)
}

/// Records a successful login: clears the failure counter and stamps `last_login_at`, but
/// only if the account is still active and approved and its password hash is still the one
/// that was verified (a reset or lock in between wins). Returns whether it applied.
pub fn record_successful_login(
    conn: &mut DbConnection,
    id: &AccountId,
    verified_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let now = now.naive_utc();
    let n = diesel::update(
        accounts::table
            .filter(accounts::id.eq(id.as_str()))
            .filter(accounts::status.eq(AccountStatus::Active.as_str()))
            .filter(accounts::internet_access.eq(InternetAccessStatus::Approved.as_str()))
            .filter(accounts::password_hash.eq(verified_hash)),
    )
    .set((
        accounts::failed_login_count.eq(0),
        accounts::last_login_at.eq(Some(now)),
        accounts::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Records a sign-in with a passkey alone, only while the account is active with approved
/// internet access: the failure count clears and the last login moves. Returns whether it
/// was recorded.
pub fn record_passkey_login(
    conn: &mut DbConnection,
    id: &AccountId,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let now = now.naive_utc();
    let n = diesel::update(
        accounts::table
            .filter(accounts::id.eq(id.as_str()))
            .filter(accounts::status.eq(AccountStatus::Active.as_str()))
            .filter(accounts::internet_access.eq(InternetAccessStatus::Approved.as_str())),
    )
    .set((
        accounts::failed_login_count.eq(0),
        accounts::last_login_at.eq(Some(now)),
        accounts::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Clears the failure counter of an active account after a correct password that did not
/// lead to a session (suspended, not approved): the password was right, so earlier guesses
/// no longer count towards a lock.
pub fn reset_failed_logins(
    conn: &mut DbConnection,
    id: &AccountId,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    diesel::update(
        accounts::table
            .filter(accounts::id.eq(id.as_str()))
            .filter(accounts::failed_login_count.gt(0)),
    )
    .set((
        accounts::failed_login_count.eq(0),
        accounts::updated_at.eq(now.naive_utc()),
    ))
    .execute(conn)?;
    Ok(())
}

/// Replaces the stored hash with an upgraded one for the same password (new argon2
/// parameters), only if the hash is unchanged since it was verified.
pub fn upgrade_password_hash(
    conn: &mut DbConnection,
    id: &AccountId,
    verified_hash: &str,
    new_hash: &str,
) -> Result<bool, RepoError> {
    let n = diesel::update(
        accounts::table
            .filter(accounts::id.eq(id.as_str()))
            .filter(accounts::password_hash.eq(verified_hash)),
    )
    .set(accounts::password_hash.eq(new_hash))
    .execute(conn)?;
    if n == 1 {
        // Keep the history entry of the current password in step.
        diesel::update(
            password_history::table
                .filter(password_history::account_id.eq(id.as_str()))
                .filter(password_history::password_hash.eq(verified_hash)),
        )
        .set(password_history::password_hash.eq(new_hash))
        .execute(conn)?;
    }
    Ok(n == 1)
}

/// Sets a new password: stores the hash, appends it to the history, clears the failure
/// counter. `unlock` also unlocks a locked account (a reset, or the password set at work); a
/// change by the logged-in person leaves the status alone. The caller holds the account row
/// ([`find_for_update`]) and has checked, on what that returned, that the change is still
/// allowed: a lock or suspension that committed after an earlier read must win.
pub fn set_password(
    conn: &mut DbConnection,
    id: &AccountId,
    new_hash: &str,
    unlock: bool,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let at = now.naive_utc();
    diesel::update(accounts::table.filter(accounts::id.eq(id.as_str())))
        .set((
            accounts::password_hash.eq(Some(new_hash)),
            accounts::password_changed_at.eq(Some(at)),
            accounts::failed_login_count.eq(0),
            accounts::updated_at.eq(at),
        ))
        .execute(conn)?;
    if unlock {
        unlock_account_row(conn, id, at)?;
    }
    diesel::insert_into(password_history::table)
        .values((
            password_history::account_id.eq(id.as_str()),
            password_history::password_hash.eq(new_hash),
            password_history::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

fn unlock_account_row(
    conn: &mut DbConnection,
    id: &AccountId,
    at: NaiveDateTime,
) -> Result<bool, RepoError> {
    let n = diesel::update(
        accounts::table
            .filter(accounts::id.eq(id.as_str()))
            .filter(accounts::status.eq(AccountStatus::Locked.as_str())),
    )
    .set((
        accounts::status.eq(AccountStatus::Active.as_str()),
        accounts::locked_at.eq(None::<NaiveDateTime>),
        accounts::failed_login_count.eq(0),
        accounts::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// The most recent `limit` password hashes of an account, newest first (the current one
/// included).
pub fn password_history(
    conn: &mut DbConnection,
    id: &AccountId,
    limit: usize,
) -> Result<Vec<String>, RepoError> {
    Ok(password_history::table
        .filter(password_history::account_id.eq(id.as_str()))
        .order(password_history::id.desc())
        .limit(i64::try_from(limit).unwrap_or(i64::MAX))
        .select(password_history::password_hash)
        .load(conn)?)
}

/// Changes the internet-access status from `from` to `to` in one conditional `UPDATE`;
/// `false` when the status was no longer `from` (a concurrent change won).
pub fn transition_internet_access(
    conn: &mut DbConnection,
    id: &AccountId,
    from: InternetAccessStatus,
    to: InternetAccessStatus,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let now = now.naive_utc();
    let n = diesel::update(
        accounts::table
            .filter(accounts::id.eq(id.as_str()))
            .filter(accounts::internet_access.eq(from.as_str())),
    )
    .set((
        accounts::internet_access.eq(to.as_str()),
        accounts::internet_access_changed_at.eq(Some(now)),
        accounts::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Sets the internet-access status.
pub fn set_internet_access(
    conn: &mut DbConnection,
    id: &AccountId,
    status: InternetAccessStatus,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let now = now.naive_utc();
    diesel::update(accounts::table.filter(accounts::id.eq(id.as_str())))
        .set((
            accounts::internet_access.eq(status.as_str()),
            accounts::internet_access_changed_at.eq(Some(now)),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Unlocks a locked account and clears its failure counter. Returns whether it was locked.
pub fn unlock(
    conn: &mut DbConnection,
    id: &AccountId,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    unlock_account_row(conn, id, now.naive_utc())
}

/// Filters of the admin account list.
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    /// Only this organisation's accounts.
    pub organisation: Option<OrganisationCode>,
    /// Only accounts with this status.
    pub status: Option<AccountStatus>,
    /// Only accounts with this internet-access status.
    pub internet_access: Option<InternetAccessStatus>,
    /// Only this person's accounts.
    pub person_id: Option<PersonId>,
    /// Only the account with this id.
    pub id: Option<AccountId>,
    /// Only accounts changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
}

/// The usernames of these people's accounts (a person has at most one), by person id.
pub fn usernames_of(
    conn: &mut DbConnection,
    people: &[PersonId],
) -> Result<std::collections::HashMap<String, String>, RepoError> {
    let ids: Vec<&str> = people.iter().map(PersonId::as_str).collect();
    let rows: Vec<(String, String)> = accounts::table
        .filter(accounts::person_id.eq_any(ids))
        .select((accounts::person_id, accounts::username))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Lists accounts by username, `limit` at a time after `cursor` (a username).
pub fn list(
    conn: &mut DbConnection,
    filter: &AccountFilter,
    cursor: Option<&Username>,
    limit: u32,
) -> Result<crate::organisations::Page<Account>, RepoError> {
    let mut q = accounts::table
        .select(AccountRow::as_select())
        .order(accounts::username.asc())
        .limit(i64::from(limit) + 1)
        .into_boxed();
    if let Some(org) = &filter.organisation {
        q = q.filter(accounts::organisation_code.eq(org.as_str().to_owned()));
    }
    if let Some(status) = filter.status {
        q = q.filter(accounts::status.eq(status.as_str()));
    }
    if let Some(access) = filter.internet_access {
        q = q.filter(accounts::internet_access.eq(access.as_str()));
    }
    if let Some(id) = &filter.id {
        q = q.filter(accounts::id.eq(id.as_str().to_owned()));
    }
    if let Some(since) = filter.updated_since {
        q = q.filter(accounts::updated_at.ge(since.naive_utc()));
    }
    if let Some(person) = &filter.person_id {
        q = q.filter(accounts::person_id.eq(person.as_str().to_owned()));
    }
    if let Some(after) = cursor {
        q = q.filter(accounts::username.gt(after.as_str().to_owned()));
    }
    let mut items = q
        .load(conn)?
        .into_iter()
        .map(Account::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|a| a.username.as_str().to_owned())
    } else {
        None
    };
    Ok(crate::organisations::Page { items, next_cursor })
}

/// Changes the account status from `from` to `to` in one conditional `UPDATE`; `false` when
/// the status was no longer `from`. Leaving `locked` clears the lock and the failure counter.
pub fn transition_status(
    conn: &mut DbConnection,
    id: &AccountId,
    from: AccountStatus,
    to: AccountStatus,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let at = now.naive_utc();
    let target = accounts::table
        .filter(accounts::id.eq(id.as_str()))
        .filter(accounts::status.eq(from.as_str()));
    let n = if from == AccountStatus::Locked {
        diesel::update(target)
            .set((
                accounts::status.eq(to.as_str()),
                accounts::locked_at.eq(None::<NaiveDateTime>),
                accounts::failed_login_count.eq(0),
                accounts::updated_at.eq(at),
            ))
            .execute(conn)?
    } else {
        diesel::update(target)
            .set((
                accounts::status.eq(to.as_str()),
                accounts::updated_at.eq(at),
            ))
            .execute(conn)?
    };
    Ok(n == 1)
}

/// How many accounts are locked (an index of locked accounts keeps this cheap).
pub fn count_locked(conn: &mut DbConnection) -> Result<i64, RepoError> {
    Ok(accounts::table
        .filter(accounts::status.eq(AccountStatus::Locked.as_str()))
        .count()
        .get_result(conn)?)
}
