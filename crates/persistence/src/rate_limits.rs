//! Rate-limit counters kept in the database, so a limit holds across every instance: one row
//! per key and fixed window, counted by one atomic upsert.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use esr_domain::TokenDigest;

use crate::connection::DbConnection;
use crate::error::RepoError;
use crate::schema::rate_limit_windows;

/// Counts one hit for `key` in the window that starts at `window_start`; returns the hits of
/// that window so far, this one included. Concurrent hits from any instance are all counted.
pub fn hit(
    conn: &mut DbConnection,
    key: &TokenDigest,
    window_start: DateTime<Utc>,
) -> Result<u32, RepoError> {
    let start = window_start.naive_utc();
    let hits: i32 = crate::per_backend!(conn, |c| diesel::insert_into(rate_limit_windows::table)
        .values((
            rate_limit_windows::key_digest.eq(key.as_str()),
            rate_limit_windows::window_start.eq(start),
            rate_limit_windows::hits.eq(1),
        ))
        .on_conflict((
            rate_limit_windows::key_digest,
            rate_limit_windows::window_start
        ))
        .do_update()
        .set(rate_limit_windows::hits.eq(rate_limit_windows::hits + 1))
        .returning(rate_limit_windows::hits)
        .get_result(c))?;
    Ok(u32::try_from(hits).unwrap_or(0))
}

/// Removes the windows that started before `before`; returns how many.
pub fn sweep(conn: &mut DbConnection, before: DateTime<Utc>) -> Result<usize, RepoError> {
    Ok(diesel::delete(
        rate_limit_windows::table.filter(rate_limit_windows::window_start.lt(before.naive_utc())),
    )
    .execute(conn)?)
}
