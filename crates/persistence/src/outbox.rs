//! The transactional outbox: emails are rows written in the same transaction as the change
//! that causes them, then claimed, sent and marked by a delivery worker in any instance.
//!
//! A claim is a lease: a worker that dies mid-send leaves rows in `sending` whose lease runs
//! out, and any worker reclaims them. So nothing is lost when a process is killed, and a
//! duplicate can only come from a send that was cut off after the mail server accepted it.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::dsl::{count_star, min};
use diesel::prelude::*;
use esr_domain::AccountId;

use crate::connection::DbConnection;
use crate::error::RepoError;
use crate::schema::outbox as o;

/// Status values.
pub mod status {
    /// Waiting for its next attempt.
    pub const PENDING: &str = "pending";
    /// Claimed by a worker (until its lease runs out).
    pub const SENDING: &str = "sending";
    /// Accepted by the transport.
    pub const SENT: &str = "sent";
    /// Gave up after the configured attempts; retryable by an administrator.
    pub const DEAD: &str = "dead";
}

/// What an email says: the template it is rendered from (the `kind` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmailKind {
    /// Username(s) and reset links, from Forgotten | Request Username/Password.
    Recovery,
    /// Unlock link (or, when not locked, a reset link), from Unlock Account.
    Unlock,
    /// "Your ESR password was changed".
    PasswordChanged,
    /// "Your ESR account has been locked".
    AccountLocked,
    /// "The work email of your ESR account was changed", to the old and the new address.
    WorkEmailChanged,
    /// "The smartcard linked to your ESR account was changed".
    SmartcardChanged,
    /// "A sign-in method was added to your ESR account".
    FactorAdded,
    /// "A sign-in method was removed from your ESR account".
    FactorRemoved,
    /// "The sign-in methods of your ESR account were reset" (by an administrator).
    FactorsReset,
    /// The link that lets a password session enrol a first sign-in method.
    EnrolmentLink,
    /// "A recovery code was used to log in to your ESR account".
    RecoveryCodeUsed,
    /// "New recovery codes were made for your ESR account" (the old set no longer works).
    RecoveryCodesReplaced,
    /// "Your smartcard was also linked to an ESR record at another organisation", to the
    /// holder's records elsewhere.
    SmartcardLinkedElsewhere,
}

impl EmailKind {
    /// Every kind.
    pub const ALL: [Self; 13] = [
        Self::Recovery,
        Self::Unlock,
        Self::PasswordChanged,
        Self::AccountLocked,
        Self::WorkEmailChanged,
        Self::SmartcardChanged,
        Self::FactorAdded,
        Self::FactorRemoved,
        Self::FactorsReset,
        Self::EnrolmentLink,
        Self::RecoveryCodeUsed,
        Self::RecoveryCodesReplaced,
        Self::SmartcardLinkedElsewhere,
    ];

    /// The stored text (also the template name).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recovery => "recovery",
            Self::Unlock => "unlock",
            Self::PasswordChanged => "password_changed",
            Self::AccountLocked => "account_locked",
            Self::WorkEmailChanged => "work_email_changed",
            Self::SmartcardChanged => "smartcard_changed",
            Self::FactorAdded => "factor_added",
            Self::FactorRemoved => "factor_removed",
            Self::FactorsReset => "factors_reset",
            Self::EnrolmentLink => "enrolment_link",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::RecoveryCodesReplaced => "recovery_codes_replaced",
            Self::SmartcardLinkedElsewhere => "smartcard_linked_elsewhere",
        }
    }

    /// Reads the stored text.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl std::fmt::Display for EmailKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An email to queue.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// What it says.
    pub kind: EmailKind,
    /// Destination address.
    pub recipient: &'a str,
    /// `en` or `cy`.
    pub language: &'a str,
    /// The account it concerns, if any.
    pub account_id: Option<&'a AccountId>,
    /// Template data (may hold single-use links: scrubbed once sent).
    pub payload: &'a serde_json::Value,
}

/// A queued email as a worker sees it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = o)]
pub struct OutboxMessage {
    /// Random id (also the provider `reference`).
    pub id: String,
    /// Template name.
    pub kind: String,
    /// Destination address.
    pub recipient: String,
    /// `en` or `cy`.
    pub language: String,
    /// The account it concerns.
    pub account_id: Option<String>,
    /// Template data as JSON text.
    pub payload: String,
    /// `pending`, `sending`, `sent` or `dead`.
    pub status: String,
    /// Attempts so far (including the current one once claimed).
    pub attempts: i32,
    /// When it is next due.
    pub next_attempt_at: NaiveDateTime,
    /// While `sending`: when the claim lapses.
    pub lease_until: Option<NaiveDateTime>,
    /// The worker holding the claim.
    pub claimed_by: Option<String>,
    /// The last failure, for operators.
    pub last_error: Option<String>,
    /// Queued at.
    pub created_at: NaiveDateTime,
    /// Sent at.
    pub sent_at: Option<NaiveDateTime>,
}

/// Queues an email; returns its id.
pub fn enqueue(
    conn: &mut DbConnection,
    new: &NewMessage<'_>,
    now: DateTime<Utc>,
) -> Result<String, RepoError> {
    let id = uuid::Uuid::new_v4().to_string();
    let at = now.naive_utc();
    diesel::insert_into(o::table)
        .values((
            o::id.eq(&id),
            o::kind.eq(new.kind.as_str()),
            o::recipient.eq(new.recipient),
            o::language.eq(new.language),
            o::account_id.eq(new.account_id.map(AccountId::as_str)),
            o::payload.eq(new.payload.to_string()),
            o::status.eq(status::PENDING),
            o::attempts.eq(0),
            o::next_attempt_at.eq(at),
            o::created_at.eq(at),
        ))
        .execute(conn)?;
    QUEUED_HERE.set(true);
    Ok(id)
}

thread_local! {
    /// Whether this thread queued an email since [`take_queued_here`] last asked. A database
    /// call runs on one thread from start to commit, so its caller can tell afterwards whether
    /// the delivery worker has something new to send without asking the database.
    static QUEUED_HERE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether [`enqueue`] ran on this thread since the last call, which clears it. A queued
/// email whose transaction then rolled back still answers `true`: the worker, woken for
/// nothing, finds nothing to send.
pub fn take_queued_here() -> bool {
    QUEUED_HERE.replace(false)
}

/// Recovery and unlock emails queued for an address since `since` (any status): the
/// per-mailbox limit.
pub fn queued_to_since(
    conn: &mut DbConnection,
    recipient: &str,
    since: DateTime<Utc>,
) -> Result<i64, RepoError> {
    // Only the emails a stranger can cause count: notices of changes and enrolment links
    // follow something done with the password (bounded on their own), and must not spend the
    // mailbox's share and so block the holder's own recovery.
    let counted = [EmailKind::Recovery.as_str(), EmailKind::Unlock.as_str()];
    Ok(o::table
        .filter(o::recipient.eq(recipient))
        .filter(o::created_at.ge(since.naive_utc()))
        .filter(o::kind.eq_any(counted))
        .select(count_star())
        .get_result(conn)?)
}

/// How many emails of `kind` were queued about the account since `since`.
pub fn queued_about_since(
    conn: &mut DbConnection,
    account_id: &AccountId,
    kind: EmailKind,
    since: DateTime<Utc>,
) -> Result<i64, RepoError> {
    Ok(o::table
        .filter(o::account_id.eq(account_id.as_str()))
        .filter(o::kind.eq(kind.as_str()))
        .filter(o::created_at.ge(since.naive_utc()))
        .select(count_star())
        .get_result(conn)?)
}

/// Claims up to `limit` due messages for `worker` for `lease`: pending ones whose time has
/// come, and `sending` ones whose lease ran out (their worker died). Each claim counts as
/// an attempt. On PostgreSQL rows being claimed by another instance are skipped.
pub fn claim(
    conn: &mut DbConnection,
    worker: &str,
    limit: i64,
    lease: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<OutboxMessage>, RepoError> {
    let at = now.naive_utc();
    let due = o::status
        .eq(status::PENDING)
        .and(o::next_attempt_at.le(at))
        .or(o::status.eq(status::SENDING).and(o::lease_until.lt(at)));
    conn.write_transaction(|conn| {
        let ids: Vec<String> = match conn {
            DbConnection::Postgresql(c) => o::table
                .filter(due)
                .order(o::next_attempt_at.asc())
                .limit(limit)
                .for_update()
                .skip_locked()
                .select(o::id)
                .load(c)?,
            DbConnection::Sqlite(c) => o::table
                .filter(due)
                .order(o::next_attempt_at.asc())
                .limit(limit)
                .select(o::id)
                .load(c)?,
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(o::table.filter(o::id.eq_any(&ids)))
            .set((
                o::status.eq(status::SENDING),
                o::claimed_by.eq(Some(worker)),
                o::lease_until.eq(Some((now + lease).naive_utc())),
                o::attempts.eq(o::attempts + 1),
            ))
            .execute(conn)?;
        Ok(o::table
            .filter(o::id.eq_any(&ids))
            .order(o::next_attempt_at.asc())
            .select(OutboxMessage::as_select())
            .load(conn)?)
    })
}

/// Confirms that `worker` still holds the claim on `id` and extends its lease to
/// `now + lease`, just before the worker sends it. Returns false when the lease has lapsed
/// (another worker may have taken the message over, or will): the caller must not send.
///
/// A worker claims a batch and sends it one message at a time, so without this a batch that
/// takes longer than one lease (a slow relay) would be sent by two live workers at once.
pub fn renew(
    conn: &mut DbConnection,
    id: &str,
    worker: &str,
    lease: Duration,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let n = diesel::update(
        o::table
            .filter(o::id.eq(id))
            .filter(o::claimed_by.eq(worker))
            .filter(o::status.eq(status::SENDING))
            .filter(o::lease_until.gt(now.naive_utc())),
    )
    .set(o::lease_until.eq(Some((now + lease).naive_utc())))
    .execute(conn)?;
    Ok(n == 1)
}

/// Marks a claimed message sent and scrubs its payload (single-use links do not stay in the
/// database). Returns false if the claim was lost (lease expired and someone else took it).
pub fn mark_sent(
    conn: &mut DbConnection,
    id: &str,
    worker: &str,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let n = diesel::update(
        o::table
            .filter(o::id.eq(id))
            .filter(o::claimed_by.eq(worker))
            .filter(o::status.eq(status::SENDING)),
    )
    .set((
        o::status.eq(status::SENT),
        o::sent_at.eq(Some(now.naive_utc())),
        o::lease_until.eq(None::<NaiveDateTime>),
        o::payload.eq("{}"),
        o::last_error.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Records a failed attempt: back to `pending` until `retry_at`, or `dead` when `None`.
pub fn mark_failed(
    conn: &mut DbConnection,
    id: &str,
    worker: &str,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<bool, RepoError> {
    let error: String = error.chars().take(1000).collect();
    let target = o::table
        .filter(o::id.eq(id))
        .filter(o::claimed_by.eq(worker))
        .filter(o::status.eq(status::SENDING));
    let n = match retry_at {
        Some(at) => diesel::update(target)
            .set((
                o::status.eq(status::PENDING),
                o::next_attempt_at.eq(at.naive_utc()),
                o::lease_until.eq(None::<NaiveDateTime>),
                o::claimed_by.eq(None::<String>),
                o::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                o::status.eq(status::DEAD),
                o::lease_until.eq(None::<NaiveDateTime>),
                o::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
    };
    Ok(n == 1)
}

/// Gives back a worker's unfinished claims (graceful shutdown); the attempt does not count.
pub fn release(conn: &mut DbConnection, worker: &str) -> Result<usize, RepoError> {
    Ok(diesel::update(
        o::table
            .filter(o::claimed_by.eq(worker))
            .filter(o::status.eq(status::SENDING)),
    )
    .set((
        o::status.eq(status::PENDING),
        o::lease_until.eq(None::<NaiveDateTime>),
        o::claimed_by.eq(None::<String>),
        o::attempts.eq(o::attempts - 1),
    ))
    .execute(conn)?)
}

/// Makes a dead message pending again with a fresh attempt budget. Returns whether it was dead.
pub fn retry(conn: &mut DbConnection, id: &str, now: DateTime<Utc>) -> Result<bool, RepoError> {
    let n = diesel::update(
        o::table
            .filter(o::id.eq(id))
            .filter(o::status.eq(status::DEAD)),
    )
    .set((
        o::status.eq(status::PENDING),
        o::attempts.eq(0),
        o::next_attempt_at.eq(now.naive_utc()),
        o::claimed_by.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Counts by status and the oldest pending message, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Waiting.
    pub pending: i64,
    /// Claimed.
    pub sending: i64,
    /// Sent.
    pub sent: i64,
    /// Given up.
    pub dead: i64,
    /// Queue time of the oldest pending message.
    pub oldest_pending: Option<DateTime<Utc>>,
}

/// Current outbox statistics.
pub fn stats(conn: &mut DbConnection) -> Result<OutboxStats, RepoError> {
    let counts: Vec<(String, i64)> = o::table
        .group_by(o::status)
        .select((o::status, count_star()))
        .load(conn)?;
    let mut stats = OutboxStats::default();
    for (s, n) in counts {
        match s.as_str() {
            status::PENDING => stats.pending = n,
            status::SENDING => stats.sending = n,
            status::SENT => stats.sent = n,
            status::DEAD => stats.dead = n,
            _ => {}
        }
    }
    let oldest: Option<NaiveDateTime> = o::table
        .filter(o::status.eq(status::PENDING))
        .select(min(o::created_at))
        .get_result(conn)?;
    stats.oldest_pending = oldest.map(|t| t.and_utc());
    Ok(stats)
}

/// Finds one message.
pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<OutboxMessage>, RepoError> {
    Ok(o::table
        .find(id)
        .select(OutboxMessage::as_select())
        .get_result(conn)
        .optional()?)
}

/// Messages, newest first, optionally of one status.
pub fn list(
    conn: &mut DbConnection,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<OutboxMessage>, RepoError> {
    let mut q = o::table
        .order(o::created_at.desc())
        .limit(limit)
        .select(OutboxMessage::as_select())
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(o::status.eq(s.to_owned()));
    }
    Ok(q.load(conn)?)
}

/// Where an outbox page ends: the `(created_at, id)` of its last message.
pub type OutboxCursor = (NaiveDateTime, String);

/// Messages newest first, `limit` at a time after `cursor` (the `(created_at, id)` of the
/// last message of the previous page), optionally of one status. Returns the page and the
/// cursor of the next one.
pub fn page(
    conn: &mut DbConnection,
    status: Option<&str>,
    cursor: Option<OutboxCursor>,
    limit: u32,
) -> Result<(Vec<OutboxMessage>, Option<OutboxCursor>), RepoError> {
    let mut q = o::table
        .order((o::created_at.desc(), o::id.desc()))
        .limit(i64::from(limit) + 1)
        .select(OutboxMessage::as_select())
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(o::status.eq(s.to_owned()));
    }
    if let Some((at, id)) = cursor {
        q = q.filter(
            o::created_at
                .lt(at)
                .or(o::created_at.eq(at).and(o::id.lt(id))),
        );
    }
    let mut rows = q.load(conn)?;
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|m| (m.created_at, m.id.clone()))
    } else {
        None
    };
    Ok((rows, next))
}
