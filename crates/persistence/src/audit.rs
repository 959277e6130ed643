//! The audit trail: append-only (database triggers refuse updates and deletes) and
//! hash-chained: each row stores the SHA-256 of the previous row's hash and its own content,
//! so an edited, inserted or deleted row breaks every later link.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::RepoError;
use crate::schema::{audit_events, audit_head};

/// The hash before the first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A security event to record.
#[derive(Debug, Clone)]
pub struct NewAuditEvent<'a> {
    /// Dotted type, e.g. `login.failed`.
    pub event_type: &'a str,
    /// The account concerned, if any.
    pub account_id: Option<&'a str>,
    /// Who acted: `account:{username}`, `api-key:{name}`, `system`, `anonymous`.
    pub actor: &'a str,
    /// Client IP.
    pub ip: Option<&'a str>,
    /// Client user agent.
    pub user_agent: Option<&'a str>,
    /// Request id.
    pub request_id: Option<&'a str>,
    /// Minimised details (never passwords or tokens; hashes of unmatched personal data).
    pub details: &'a serde_json::Value,
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When (UTC, microseconds).
    pub at: NaiveDateTime,
    /// Dotted type.
    pub event_type: String,
    /// Account concerned.
    pub account_id: Option<String>,
    /// Actor.
    pub actor: String,
    /// Client IP.
    pub ip: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
    /// Details as JSON text.
    pub details: String,
    /// Hash of the previous row.
    pub prev_hash: String,
    /// Hash of this row.
    pub hash: String,
}

fn link(prev_hash: &str, seq: i64, at: NaiveDateTime, e: &EventContent<'_>) -> String {
    let content = serde_json::json!([
        seq,
        at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        e.event_type,
        e.account_id,
        e.actor,
        e.ip,
        e.user_agent,
        e.request_id,
        e.details,
    ]);
    esr_domain::sha256_hex(format!("{prev_hash}|{content}").as_bytes())
}

struct EventContent<'a> {
    event_type: &'a str,
    account_id: Option<&'a str>,
    actor: &'a str,
    ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    request_id: Option<&'a str>,
    details: &'a str,
}

/// Appends an event; call inside the transaction of the change it records. Returns its seq.
///
/// The first statement bumps the single chain-head row, which takes its row lock (PostgreSQL)
/// or the write lock (SQLite) until commit: appends from every instance are serialised and
/// the chain cannot fork.
pub fn append(
    conn: &mut DbConnection,
    event: &NewAuditEvent<'_>,
    now: DateTime<Utc>,
) -> Result<i64, RepoError> {
    let at = now.naive_utc().trunc_subsecs(6);
    let (seq, prev_hash): (i64, String) =
        diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
            .set(audit_head::seq.eq(audit_head::seq + 1))
            .returning((audit_head::seq, audit_head::hash))
            .get_result(conn)?;
    let details = event.details.to_string();
    let content = EventContent {
        event_type: event.event_type,
        account_id: event.account_id,
        actor: event.actor,
        ip: event.ip,
        user_agent: event.user_agent,
        request_id: event.request_id,
        details: &details,
    };
    let hash = link(&prev_hash, seq, at, &content);
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::seq.eq(seq),
            audit_events::at.eq(at),
            audit_events::event_type.eq(event.event_type),
            audit_events::account_id.eq(event.account_id),
            audit_events::actor.eq(event.actor),
            audit_events::ip.eq(event.ip),
            audit_events::user_agent.eq(event.user_agent),
            audit_events::request_id.eq(event.request_id),
            audit_events::details.eq(&details),
            audit_events::prev_hash.eq(&prev_hash),
            audit_events::hash.eq(&hash),
        ))
        .execute(conn)?;
    diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
        .set(audit_head::hash.eq(&hash))
        .execute(conn)?;
    Ok(seq)
}

/// Events of an account (or all), newest first, for tests and the admin API.
pub fn recent(
    conn: &mut DbConnection,
    account_id: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditEvent>, RepoError> {
    let mut query = audit_events::table
        .order(audit_events::seq.desc())
        .limit(limit)
        .select(AuditEvent::as_select())
        .into_boxed();
    if let Some(id) = account_id {
        query = query.filter(audit_events::account_id.eq(id.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// The outcome of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Rows checked.
    pub checked: u64,
    /// The first row whose link does not hold (`None`: the chain is intact).
    pub first_broken: Option<BrokenLink>,
}

/// Where and why the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    /// The row's seq (or the expected seq when a row is missing).
    pub seq: i64,
    /// What does not hold.
    pub reason: String,
}

/// Recomputes the whole chain in order, a batch at a time.
pub fn verify_chain(conn: &mut DbConnection) -> Result<ChainReport, RepoError> {
    const BATCH: i64 = 1_000;
    let mut expected_prev = GENESIS_HASH.to_owned();
    let mut expected_seq = 1_i64;
    let mut checked = 0_u64;
    loop {
        let rows: Vec<AuditEvent> = audit_events::table
            .filter(audit_events::seq.ge(expected_seq))
            .order(audit_events::seq.asc())
            .limit(BATCH)
            .select(AuditEvent::as_select())
            .load(conn)?;
        let done = rows.len() < usize::try_from(BATCH).unwrap_or(usize::MAX);
        for row in rows {
            let broken = |reason: String| ChainReport {
                checked,
                first_broken: Some(BrokenLink {
                    seq: row.seq,
                    reason,
                }),
            };
            if row.seq != expected_seq {
                return Ok(ChainReport {
                    checked,
                    first_broken: Some(BrokenLink {
                        seq: expected_seq,
                        reason: format!("row {expected_seq} is missing (next row is {})", row.seq),
                    }),
                });
            }
            if row.prev_hash != expected_prev {
                return Ok(broken(
                    "its previous-hash does not match the row before it".into(),
                ));
            }
            let content = EventContent {
                event_type: &row.event_type,
                account_id: row.account_id.as_deref(),
                actor: &row.actor,
                ip: row.ip.as_deref(),
                user_agent: row.user_agent.as_deref(),
                request_id: row.request_id.as_deref(),
                details: &row.details,
            };
            if link(&row.prev_hash, row.seq, row.at, &content) != row.hash {
                return Ok(broken(
                    "its content does not match its hash (edited)".into(),
                ));
            }
            expected_prev = row.hash;
            expected_seq += 1;
            checked += 1;
        }
        if done {
            break;
        }
    }
    let (head_seq, head_hash): (i64, String) = audit_head::table
        .filter(audit_head::id.eq(1))
        .select((audit_head::seq, audit_head::hash))
        .get_result(conn)?;
    if head_seq != expected_seq - 1 || head_hash != expected_prev {
        return Ok(ChainReport {
            checked,
            first_broken: Some(BrokenLink {
                seq: head_seq,
                reason: format!(
                    "the chain head says {head_seq} rows; {} found (rows removed from the end?)",
                    expected_seq - 1
                ),
            }),
        });
    }
    Ok(ChainReport {
        checked,
        first_broken: None,
    })
}

/// Filters of the admin audit list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only events of this account.
    pub account_id: Option<String>,
    /// Only events of this type (e.g. `login.failed`).
    pub event_type: Option<String>,
    /// Only events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only events before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only events about accounts of this organisation.
    pub organisation: Option<esr_domain::OrganisationCode>,
}

/// Events in chain order (oldest first), `limit` at a time after `after_seq`; the second value
/// is the seq to continue after when there are more.
pub fn list(
    conn: &mut DbConnection,
    filter: &AuditFilter,
    after_seq: Option<i64>,
    limit: u32,
) -> Result<(Vec<AuditEvent>, Option<i64>), RepoError> {
    use crate::schema::accounts;
    let mut q = audit_events::table
        .order(audit_events::seq.asc())
        .limit(i64::from(limit) + 1)
        .select(AuditEvent::as_select())
        .into_boxed();
    if let Some(id) = &filter.account_id {
        q = q.filter(audit_events::account_id.eq(id.clone()));
    }
    if let Some(t) = &filter.event_type {
        q = q.filter(audit_events::event_type.eq(t.clone()));
    }
    if let Some(since) = filter.since {
        q = q.filter(audit_events::at.ge(since.naive_utc()));
    }
    if let Some(until) = filter.until {
        q = q.filter(audit_events::at.lt(until.naive_utc()));
    }
    if let Some(org) = &filter.organisation {
        q = q.filter(
            audit_events::account_id.eq_any(
                accounts::table
                    .filter(accounts::organisation_code.eq(org.as_str().to_owned()))
                    .select(accounts::id.nullable()),
            ),
        );
    }
    if let Some(after) = after_seq {
        q = q.filter(audit_events::seq.gt(after));
    }
    let mut rows = q.load(conn)?;
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.seq)
    } else {
        None
    };
    Ok((rows, next))
}
