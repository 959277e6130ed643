//! Single-use tokens of the second step: the `mfa_token` a correct password earns, and the
//! emailed link that lets a password session enrol a first factor. SHA-256 at rest, bound to
//! one account and one purpose, spent by a conditional `UPDATE`.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use esr_domain::{AccountId, TokenDigest};

use crate::connection::DbConnection;
use crate::error::RepoError;
use crate::schema::mfa_tokens as t;

/// What the token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaTokenPurpose {
    /// Completes a password login with a second factor.
    SignIn,
    /// Lets a password session enrol a first factor.
    Enrolment,
}

impl MfaTokenPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::Enrolment => "enrolment",
        }
    }
}

/// Stores a new token. A new enrolment link voids the account's earlier ones (only the newest
/// works); sign-in challenges stand side by side, so a login elsewhere with the password
/// cannot cancel the holder's code step (each expires within minutes, and wrong codes count
/// towards one lockout whichever challenge they answer).
pub fn issue(
    conn: &mut DbConnection,
    digest: &TokenDigest,
    account_id: &AccountId,
    purpose: MfaTokenPurpose,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let at = now.naive_utc();
    if purpose == MfaTokenPurpose::Enrolment {
        diesel::update(
            t::table
                .filter(t::account_id.eq(account_id.as_str()))
                .filter(t::purpose.eq(purpose.as_str()))
                .filter(t::used_at.is_null()),
        )
        .set(t::used_at.eq(Some(at)))
        .execute(conn)?;
    }
    diesel::insert_into(t::table)
        .values((
            t::token_hash.eq(digest.as_str()),
            t::account_id.eq(account_id.as_str()),
            t::purpose.eq(purpose.as_str()),
            t::created_at.eq(at),
            t::expires_at.eq(expires_at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The account of an unused, unexpired token of this purpose.
pub fn find_usable(
    conn: &mut DbConnection,
    digest: &TokenDigest,
    purpose: MfaTokenPurpose,
    now: DateTime<Utc>,
) -> Result<Option<AccountId>, RepoError> {
    let account: Option<String> = t::table
        .filter(t::token_hash.eq(digest.as_str()))
        .filter(t::purpose.eq(purpose.as_str()))
        .filter(t::used_at.is_null())
        .filter(t::expires_at.gt(now.naive_utc()))
        .select(t::account_id)
        .get_result(conn)
        .optional()?;
    Ok(account.map(AccountId::from_stored))
}

/// Spends the token if it is still usable for `account_id`. Returns whether it was.
pub fn spend(
    conn: &mut DbConnection,
    digest: &TokenDigest,
    account_id: &AccountId,
    purpose: MfaTokenPurpose,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let at: NaiveDateTime = now.naive_utc();
    let n = diesel::update(
        t::table
            .filter(t::token_hash.eq(digest.as_str()))
            .filter(t::account_id.eq(account_id.as_str()))
            .filter(t::purpose.eq(purpose.as_str()))
            .filter(t::used_at.is_null())
            .filter(t::expires_at.gt(at)),
    )
    .set(t::used_at.eq(Some(at)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Voids every unused token of the account (its password, status or factors changed).
/// Returns how many there were.
pub fn void_all(
    conn: &mut DbConnection,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> Result<usize, RepoError> {
    Ok(diesel::update(
        t::table
            .filter(t::account_id.eq(account_id.as_str()))
            .filter(t::used_at.is_null()),
    )
    .set(t::used_at.eq(Some(now.naive_utc())))
    .execute(conn)?)
}
