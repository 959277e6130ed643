//! Password-reset and unlock tokens: SHA-256 at rest, bound to one account and one purpose,
//! single use by a conditional `UPDATE`.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use esr_domain::{AccountId, MAX_WRONG_USERNAME_ATTEMPTS, TokenDigest, TokenPurpose, TokenState};

use crate::connection::DbConnection;
use crate::error::RepoError;
use crate::schema::one_time_tokens as t;

/// A stored token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    /// The account it belongs to.
    pub account_id: AccountId,
    /// Its state (purpose, expiry, used, invalidated, wrong usernames).
    pub state: TokenState,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
struct Row {
    account_id: String,
    purpose: String,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
    invalidated_at: Option<NaiveDateTime>,
    wrong_username_attempts: i32,
}

/// Stores a new token for an account and purpose, invalidating that account's earlier
/// unused tokens of the same purpose (only the newest link works).
pub fn issue(
    conn: &mut DbConnection,
    token_hash: &TokenDigest,
    account_id: &AccountId,
    purpose: TokenPurpose,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let at = now.naive_utc();
    diesel::update(
        t::table
            .filter(t::account_id.eq(account_id.as_str()))
            .filter(t::purpose.eq(purpose.as_str()))
            .filter(t::used_at.is_null())
            .filter(t::invalidated_at.is_null()),
    )
    .set(t::invalidated_at.eq(Some(at)))
    .execute(conn)?;
    diesel::insert_into(t::table)
        .values((
            t::token_hash.eq(token_hash.as_str()),
            t::account_id.eq(account_id.as_str()),
            t::purpose.eq(purpose.as_str()),
            t::created_at.eq(at),
            t::expires_at.eq(expires_at.naive_utc()),
            t::wrong_username_attempts.eq(0),
        ))
        .execute(conn)?;
    Ok(())
}

/// Looks a token up by its hash.
pub fn find(
    conn: &mut DbConnection,
    token_hash: &TokenDigest,
) -> Result<Option<StoredToken>, RepoError> {
    let row: Option<Row> = t::table
        .find(token_hash.as_str())
        .select(Row::as_select())
        .get_result(conn)
        .optional()?;
    row.map(|r| {
        Ok(StoredToken {
            account_id: AccountId::from_stored(r.account_id),
            state: TokenState {
                purpose: TokenPurpose::parse(&r.purpose)
                    .map_err(|_| RepoError::Corrupt(format!("token purpose {:?}", r.purpose)))?,
                expires_at: r.expires_at.and_utc(),
                used_at: r.used_at.map(|t| t.and_utc()),
                invalidated_at: r.invalidated_at.map(|t| t.and_utc()),
                wrong_username_attempts: u32::try_from(r.wrong_username_attempts).unwrap_or(0),
            },
        })
    })
    .transpose()
}

/// Uses a token: succeeds for exactly one caller while it is unused, not invalidated, not
/// burned and not expired.
pub fn consume(
    conn: &mut DbConnection,
    token_hash: &TokenDigest,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let at = now.naive_utc();
    let burned = i32::try_from(MAX_WRONG_USERNAME_ATTEMPTS).unwrap_or(i32::MAX);
    let n = diesel::update(
        t::table
            .filter(t::token_hash.eq(token_hash.as_str()))
            .filter(t::purpose.eq(purpose.as_str()))
            .filter(t::used_at.is_null())
            .filter(t::invalidated_at.is_null())
            .filter(t::wrong_username_attempts.lt(burned))
            .filter(t::expires_at.gt(at)),
    )
    .set(t::used_at.eq(Some(at)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Counts a wrong username entered with a usable token; returns the count after it (the
/// fifth burns the token, which then fails every check).
pub fn record_wrong_username(
    conn: &mut DbConnection,
    token_hash: &TokenDigest,
) -> Result<Option<u32>, RepoError> {
    let count: Option<i32> = diesel::update(
        t::table
            .filter(t::token_hash.eq(token_hash.as_str()))
            .filter(t::used_at.is_null())
            .filter(t::invalidated_at.is_null()),
    )
    .set(t::wrong_username_attempts.eq(t::wrong_username_attempts + 1))
    .returning(t::wrong_username_attempts)
    .get_result(conn)
    .optional()?;
    Ok(count.map(|c| u32::try_from(c).unwrap_or(0)))
}

/// Invalidates the outstanding links of `purpose` of an account; returns how many.
pub fn invalidate_purpose(
    conn: &mut DbConnection,
    account_id: &AccountId,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> Result<usize, RepoError> {
    Ok(diesel::update(
        t::table
            .filter(t::account_id.eq(account_id.as_str()))
            .filter(t::purpose.eq(purpose.as_str()))
            .filter(t::used_at.is_null())
            .filter(t::invalidated_at.is_null()),
    )
    .set(t::invalidated_at.eq(Some(now.naive_utc())))
    .execute(conn)?)
}

/// Invalidates every outstanding token of an account (both purposes): after a password
/// reset or change, no older link works.
pub fn invalidate_all(
    conn: &mut DbConnection,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> Result<usize, RepoError> {
    Ok(diesel::update(
        t::table
            .filter(t::account_id.eq(account_id.as_str()))
            .filter(t::used_at.is_null())
            .filter(t::invalidated_at.is_null()),
    )
    .set(t::invalidated_at.eq(Some(now.naive_utc())))
    .execute(conn)?)
}
