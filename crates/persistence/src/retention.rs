//! Letting go of what is no longer needed: ended sessions with their refresh tokens, spent
//! links and challenges, password hashes older than the reuse check reads, and sent and dead
//! emails; and, in the audit trail, which must stay whole, the personal fields of old events
//! (blanked, the chain covering their digest). Each class is counted (for a dry run) and
//! removed in batches, each batch a short transaction of its own, so a purge never holds a
//! lock for long.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::connection::MultiBackend;
use crate::schema::{
    mfa_tokens, one_time_tokens, outbox, password_history, people, refresh_tokens, sessions,
};
use crate::{DbConnection, RepoError, audit};

/// A kind of row with a retention of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// Sessions that ended (signed out, revoked or expired), with their refresh tokens.
    EndedSessions,
    /// Reset and unlock links and login challenges and enrolment links, after they expired.
    SpentTokens,
    /// An account's password hashes beyond the ones the reuse check reads.
    PasswordHistory,
    /// Emails sent.
    SentEmails,
    /// Emails that could not be delivered.
    DeadEmails,
    /// The personal fields of audit events that concern no account (blanked, not deleted).
    AnonymousEvents,
    /// The personal fields of every audit event (blanked, not deleted: the chain stays).
    AuditPersonal,
    /// The work email a person had before a change, once the hold that copies notices to
    /// it has ended (cleared, not deleted).
    PreviousEmails,
}

impl Class {
    /// Every class, in the order a purge takes them.
    pub const ALL: [Self; 8] = [
        Self::EndedSessions,
        Self::SpentTokens,
        Self::PasswordHistory,
        Self::SentEmails,
        Self::DeadEmails,
        Self::AnonymousEvents,
        Self::AuditPersonal,
        Self::PreviousEmails,
    ];

    /// The name reports and the audit event use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EndedSessions => "ended_sessions",
            Self::SpentTokens => "spent_tokens",
            Self::PasswordHistory => "password_history",
            Self::SentEmails => "sent_emails",
            Self::DeadEmails => "dead_emails",
            Self::AnonymousEvents => "anonymous_events",
            Self::AuditPersonal => "audit_personal",
            Self::PreviousEmails => "previous_emails",
        }
    }
}

/// What each class keeps: rows older than its cutoff go (a session by when it ended, a token
/// by when it expired, an email by when it was sent or queued); of password hashes, the
/// newest `password_history_depth` of each account stay.
#[derive(Debug, Clone, Copy)]
pub struct Cutoffs {
    /// Sessions that ended before this.
    pub ended_sessions: DateTime<Utc>,
    /// Tokens that expired before this.
    pub spent_tokens: DateTime<Utc>,
    /// Hashes kept per account (the current password's included).
    pub password_history_depth: i64,
    /// Emails sent before this.
    pub sent_emails: DateTime<Utc>,
    /// Dead emails queued before this.
    pub dead_emails: DateTime<Utc>,
    /// Audit events about no account recorded before this.
    pub anonymous_events: DateTime<Utc>,
    /// Audit events recorded before this.
    pub audit_personal: DateTime<Utc>,
    /// Previous work emails whose hold ended before this (now).
    pub previous_emails: DateTime<Utc>,
}

/// How many rows of `class` the cutoffs would remove (refresh tokens go with their sessions
/// and are not counted apart).
pub fn count(conn: &mut DbConnection, class: Class, cutoffs: &Cutoffs) -> Result<i64, RepoError> {
    Ok(match class {
        Class::EndedSessions => sessions::table
            .filter(ended_before(cutoffs.ended_sessions))
            .count()
            .get_result(conn)?,
        Class::SpentTokens => {
            let before = cutoffs.spent_tokens.naive_utc();
            let links: i64 = one_time_tokens::table
                .filter(one_time_tokens::expires_at.lt(before))
                .count()
                .get_result(conn)?;
            let challenges: i64 = mfa_tokens::table
                .filter(mfa_tokens::expires_at.lt(before))
                .count()
                .get_result(conn)?;
            links + challenges
        }
        Class::PasswordHistory => {
            let mut beyond = 0;
            for (_, held) in accounts_beyond_depth(conn, cutoffs.password_history_depth, i64::MAX)?
            {
                beyond += held - cutoffs.password_history_depth;
            }
            beyond
        }
        Class::SentEmails | Class::DeadEmails => {
            past_emails(class, cutoffs).count().get_result(conn)?
        }
        Class::AnonymousEvents | Class::AuditPersonal => {
            audit::count_blankable(conn, blanking(class, cutoffs))?
        }
        Class::PreviousEmails => held_emails_ended(cutoffs.previous_emails)
            .count()
            .get_result(conn)?,
    })
}

/// Deletes up to `batch` rows of `class` past their cutoff; call inside a transaction, and
/// again while it returns `batch`.
pub fn delete_batch(
    conn: &mut DbConnection,
    class: Class,
    cutoffs: &Cutoffs,
    batch: i64,
) -> Result<usize, RepoError> {
    match class {
        Class::EndedSessions => {
            let ids: Vec<String> = sessions::table
                .filter(ended_before(cutoffs.ended_sessions))
                .select(sessions::id)
                .limit(batch)
                .load(conn)?;
            diesel::delete(refresh_tokens::table.filter(refresh_tokens::session_id.eq_any(&ids)))
                .execute(conn)?;
            Ok(diesel::delete(sessions::table.filter(sessions::id.eq_any(&ids))).execute(conn)?)
        }
        Class::SpentTokens => {
            let before = cutoffs.spent_tokens.naive_utc();
            let links: Vec<String> = one_time_tokens::table
                .filter(one_time_tokens::expires_at.lt(before))
                .select(one_time_tokens::token_hash)
                .limit(batch)
                .load(conn)?;
            let mut deleted = diesel::delete(
                one_time_tokens::table.filter(one_time_tokens::token_hash.eq_any(&links)),
            )
            .execute(conn)?;
            let room = batch - i64::try_from(deleted).unwrap_or(batch);
            if room > 0 {
                let challenges: Vec<String> = mfa_tokens::table
                    .filter(mfa_tokens::expires_at.lt(before))
                    .select(mfa_tokens::token_hash)
                    .limit(room)
                    .load(conn)?;
                deleted += diesel::delete(
                    mfa_tokens::table.filter(mfa_tokens::token_hash.eq_any(&challenges)),
                )
                .execute(conn)?;
            }
            Ok(deleted)
        }
        Class::PasswordHistory => {
            let depth = cutoffs.password_history_depth;
            let mut deleted = 0;
            for (account_id, _) in accounts_beyond_depth(conn, depth, batch)? {
                let older: Vec<i64> = password_history::table
                    .filter(password_history::account_id.eq(&account_id))
                    .order((
                        password_history::created_at.desc(),
                        password_history::id.desc(),
                    ))
                    .select(password_history::id)
                    .offset(depth)
                    .limit(batch)
                    .load(conn)?;
                deleted += diesel::delete(
                    password_history::table.filter(password_history::id.eq_any(&older)),
                )
                .execute(conn)?;
            }
            Ok(deleted)
        }
        Class::SentEmails | Class::DeadEmails => {
            let ids: Vec<String> = past_emails(class, cutoffs)
                .select(outbox::id)
                .limit(batch)
                .load(conn)?;
            Ok(diesel::delete(outbox::table.filter(outbox::id.eq_any(&ids))).execute(conn)?)
        }
        Class::AnonymousEvents | Class::AuditPersonal => {
            audit::blank_personal(conn, blanking(class, cutoffs), batch, Utc::now())
        }
        Class::PreviousEmails => {
            let ids: Vec<String> = held_emails_ended(cutoffs.previous_emails)
                .select(people::id)
                .limit(batch)
                .load(conn)?;
            Ok(
                diesel::update(people::table.filter(people::id.eq_any(&ids)))
                    .set((
                        people::previous_work_email.eq(None::<String>),
                        people::previous_email_until.eq(None::<chrono::NaiveDateTime>),
                    ))
                    .execute(conn)?,
            )
        }
    }
}

/// The audit rows an audit class blanks.
fn blanking(class: Class, cutoffs: &Cutoffs) -> audit::Blanking<'static> {
    match class {
        Class::AnonymousEvents => audit::Blanking::AnonymousBefore(cutoffs.anonymous_events),
        _ => audit::Blanking::RecordedBefore(cutoffs.audit_personal),
    }
}

/// Sent emails sent, or dead emails queued, before their class's cutoff.
fn past_emails(class: Class, cutoffs: &Cutoffs) -> outbox::BoxedQuery<'static, MultiBackend> {
    use crate::outbox::status;
    let emails = outbox::table.into_boxed();
    if class == Class::DeadEmails {
        emails
            .filter(outbox::status.eq(status::DEAD))
            .filter(outbox::created_at.lt(cutoffs.dead_emails.naive_utc()))
    } else {
        emails
            .filter(outbox::status.eq(status::SENT))
            .filter(outbox::sent_at.lt(cutoffs.sent_emails.naive_utc()))
    }
}

/// People whose previous work email is still held though its hold ended before `before`.
fn held_emails_ended(before: DateTime<Utc>) -> people::BoxedQuery<'static, MultiBackend> {
    people::table
        .filter(people::previous_work_email.is_not_null())
        .filter(people::previous_email_until.lt(before.naive_utc()))
        .into_boxed()
}

type SessionFilter = Box<
    dyn BoxableExpression<
            sessions::table,
            MultiBackend,
            SqlType = diesel::sql_types::Nullable<diesel::sql_types::Bool>,
        >,
>;

/// A session that ended before `before`: revoked then, or, never revoked, past its absolute
/// end or its last refresh token then.
fn ended_before(before: DateTime<Utc>) -> SessionFilter {
    use diesel::dsl::{exists, not};
    let before = before.naive_utc();
    // A session nobody refreshed ends when its last refresh token expires, before its absolute
    // end: it has no token left that is usable after `before`.
    let refreshable_after = exists(
        refresh_tokens::table
            .filter(refresh_tokens::session_id.eq(sessions::id))
            .filter(refresh_tokens::expires_at.ge(before)),
    );
    Box::new(
        sessions::revoked_at
            .lt(before)
            .or(sessions::revoked_at.is_null().and(
                sessions::expires_at
                    .lt(before)
                    .or(sessions::created_at.lt(before).and(not(refreshable_after))),
            )),
    )
}

/// Up to `limit` accounts holding more than `depth` password hashes, with how many they hold.
fn accounts_beyond_depth(
    conn: &mut DbConnection,
    depth: i64,
    limit: i64,
) -> Result<Vec<(String, i64)>, RepoError> {
    use diesel::dsl::count_star;
    Ok(password_history::table
        .group_by(password_history::account_id)
        .having(count_star().gt(depth))
        .select((password_history::account_id, count_star()))
        .limit(limit)
        .load(conn)?)
}

/// The advisory lock a PostgreSQL purge holds, so instances sharing the database take turns.
const PURGE_LOCK: i64 = 0x4553_5250_5552_4745; // "ESRPURGE"

#[derive(diesel::QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

/// Runs `purge` while this connection holds the purge lock; `None` when another instance
/// holds it (that instance is purging: there is nothing to add). On SQLite every writer
/// already waits for the one before, so `purge` always runs.
pub fn exclusively<T>(
    conn: &mut DbConnection,
    purge: impl FnOnce(&mut DbConnection) -> Result<T, RepoError>,
) -> Result<Option<T>, RepoError> {
    let DbConnection::Postgresql(pg) = conn else {
        return purge(conn).map(Some);
    };
    let lock = format!("SELECT pg_try_advisory_lock({PURGE_LOCK}) AS locked");
    if !diesel::sql_query(lock).get_result::<Locked>(pg)?.locked {
        return Ok(None);
    }
    let purged = purge(conn);
    let unlock = format!("SELECT pg_advisory_unlock({PURGE_LOCK}) AS locked");
    if let DbConnection::Postgresql(pg) = conn
        && let Err(e) = diesel::sql_query(unlock).get_result::<Locked>(pg)
    {
        // The lock goes with the connection; a broken one is not returned to the pool.
        tracing::warn!(error = %e, "could not release the purge lock");
    }
    purged.map(Some)
}
