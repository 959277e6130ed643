//! One-time recovery codes, stored only as keyed digests (the caller keys them). A code is
//! spent by a conditional `UPDATE`, so two concurrent uses of one code cannot both succeed.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use esr_domain::AccountId;

use crate::connection::DbConnection;
use crate::error::RepoError;
use crate::schema::recovery_codes as r;

/// Replaces the account's codes with a new set (the old set stops working).
pub fn replace_set(
    conn: &mut DbConnection,
    account_id: &AccountId,
    digests: &[String],
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    remove_all(conn, account_id)?;
    let at = now.naive_utc();
    // One row at a time: diesel's multi-backend connection has no batch insert.
    for digest in digests {
        diesel::insert_into(r::table)
            .values((
                r::code_digest.eq(digest.as_str()),
                r::account_id.eq(account_id.as_str()),
                r::created_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Spends the account's unused code with this digest. Returns whether there was one.
pub fn spend(
    conn: &mut DbConnection,
    account_id: &AccountId,
    digest: &str,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let n = diesel::update(
        r::table
            .filter(r::code_digest.eq(digest))
            .filter(r::account_id.eq(account_id.as_str()))
            .filter(r::used_at.is_null()),
    )
    .set(r::used_at.eq(Some(now.naive_utc())))
    .execute(conn)?;
    Ok(n == 1)
}

/// How many of the account's codes are unused.
pub fn count_unused(conn: &mut DbConnection, account_id: &AccountId) -> Result<i64, RepoError> {
    Ok(r::table
        .filter(r::account_id.eq(account_id.as_str()))
        .filter(r::used_at.is_null())
        .count()
        .get_result(conn)?)
}

/// Removes the account's codes.
pub fn remove_all(conn: &mut DbConnection, account_id: &AccountId) -> Result<(), RepoError> {
    diesel::delete(r::table.filter(r::account_id.eq(account_id.as_str()))).execute(conn)?;
    Ok(())
}
