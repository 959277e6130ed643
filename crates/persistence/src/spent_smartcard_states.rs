//! Smartcard sign-in states already brought back to the callback. A state carries its own flow
//! (sealed, see the api crate's `smartcard_flow`), so this table is the only thing that
//! makes it single use: one insert per callback, and of two callbacks racing with the same
//! state exactly one inserts. Rows go once their state has expired, when it is refused anyway.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use esr_domain::TokenDigest;

use crate::connection::DbConnection;
use crate::error::RepoError;
use crate::schema::spent_smartcard_states;

/// Marks the state with digest `state` spent until `expires_at`. `false` when it was spent
/// already (a replay).
pub fn spend(
    conn: &mut DbConnection,
    state: &TokenDigest,
    expires_at: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let values = (
        spent_smartcard_states::state_digest.eq(state.as_str()),
        spent_smartcard_states::expires_at.eq(expires_at.naive_utc()),
    );
    let inserted =
        crate::per_backend!(conn, |c| diesel::insert_into(spent_smartcard_states::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(c))?;
    Ok(inserted == 1)
}

/// Forgets the states that expired before `now`. Returns how many.
pub fn delete_expired(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<usize, RepoError> {
    Ok(diesel::delete(
        spent_smartcard_states::table
            .filter(spent_smartcard_states::expires_at.lt(now.naive_utc())),
    )
    .execute(conn)?)
}

/// How many spent states are remembered (for tests and the soak check).
pub fn count(conn: &mut DbConnection) -> Result<i64, RepoError> {
    Ok(spent_smartcard_states::table.count().get_result(conn)?)
}
