//! Recovery and unlock requests queued by the API and matched by the delivery worker, so
//! the API's answer never depends on whether anything matched.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::RepoError;
use crate::schema::recovery_requests as r;

/// Which form was submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// Forgotten | Request Username/Password.
    Recovery,
    /// Unlock Account.
    Unlock,
}

impl RequestKind {
    /// Column value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recovery => "recovery",
            Self::Unlock => "unlock",
        }
    }

    /// Reads the column value.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Recovery, Self::Unlock]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// A queued request.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = r)]
pub struct RecoveryRequest {
    /// Random id.
    pub id: String,
    /// `recovery` or `unlock`.
    pub kind: String,
    /// Canonical (lower-case) work email as typed.
    pub work_email: String,
    /// Date of birth as typed.
    pub date_of_birth: NaiveDate,
    /// Canonical username, if given.
    pub username: Option<String>,
    /// Client IP.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Request id of the submission.
    pub request_id: Option<String>,
    /// When it was submitted.
    pub created_at: NaiveDateTime,
}

/// A request to queue.
#[derive(Debug, Clone)]
pub struct NewRecoveryRequest<'a> {
    /// Which form.
    pub kind: RequestKind,
    /// Canonical email.
    pub work_email: &'a str,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Canonical username, if given.
    pub username: Option<&'a str>,
    /// Client IP.
    pub ip: Option<&'a str>,
    /// Client user agent.
    pub user_agent: Option<&'a str>,
    /// Request id.
    pub request_id: Option<&'a str>,
}

/// Queues a request (one `INSERT`, whatever it will match).
pub fn enqueue(
    conn: &mut DbConnection,
    new: &NewRecoveryRequest<'_>,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    diesel::insert_into(r::table)
        .values((
            r::id.eq(uuid::Uuid::new_v4().to_string()),
            r::kind.eq(new.kind.as_str()),
            r::work_email.eq(new.work_email),
            r::date_of_birth.eq(new.date_of_birth),
            r::username.eq(new.username),
            r::ip.eq(new.ip),
            r::user_agent.eq(new.user_agent),
            r::request_id.eq(new.request_id),
            r::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Takes up to `limit` requests, oldest first, deleting them; call inside the transaction
/// that acts on them, so a crash puts them back. On PostgreSQL rows another instance is
/// taking are skipped (`FOR UPDATE SKIP LOCKED`); SQLite has a single writer.
pub fn take(conn: &mut DbConnection, limit: i64) -> Result<Vec<RecoveryRequest>, RepoError> {
    let rows: Vec<RecoveryRequest> = match conn {
        DbConnection::Postgresql(c) => r::table
            .order(r::created_at.asc())
            .limit(limit)
            .for_update()
            .skip_locked()
            .select(RecoveryRequest::as_select())
            .load(c)?,
        DbConnection::Sqlite(c) => r::table
            .order(r::created_at.asc())
            .limit(limit)
            .select(RecoveryRequest::as_select())
            .load(c)?,
    };
    if !rows.is_empty() {
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        diesel::delete(r::table.filter(r::id.eq_any(ids))).execute(conn)?;
    }
    Ok(rows)
}
