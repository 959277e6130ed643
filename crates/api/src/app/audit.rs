//! Writing audit events inside the transaction of the change they record.

use chrono::{DateTime, Utc};
use esr_domain::AccountId;
use esr_persistence::audit::{self, Actor, EventType, NewAuditEvent};
use esr_persistence::{DbConnection, RepoError};

use super::Caller;

/// Appends one audit event with the caller's IP, user agent and request id.
pub fn record(
    conn: &mut DbConnection,
    caller: &Caller,
    event_type: EventType,
    account_id: Option<&AccountId>,
    actor: &Actor,
    details: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let ip = caller.ip_text();
    let internal = caller.request_id.is_empty();
    audit::append(
        conn,
        &caller.audit_chain,
        &NewAuditEvent {
            event_type,
            account_id,
            actor,
            ip: (!internal).then_some(ip.as_str()),
            user_agent: caller.user_agent.as_deref(),
            request_id: (!internal).then_some(caller.request_id.as_str()),
            details,
        },
        now,
    )?;
    Ok(())
}

/// Which allowance an anonymous audit row is counted in. Each has its own, so a flood of one
/// kind (junk smartcard callbacks, say) never silences the audit of another (recovery
/// probing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnonymousPool {
    /// Unmatched and suppressed recovery and unlock requests.
    Recovery,
    /// Refused smartcard sign-ins that concern no account.
    Smartcard,
}

impl AnonymousPool {
    fn key(self) -> &'static str {
        match self {
            Self::Recovery => "anonymous_audit",
            Self::Smartcard => "anonymous_audit:smartcard",
        }
    }
}

/// Whether an audit row that concerns no account (an unmatched request, a refused anonymous
/// sign-in) may still be written this hour: no more than `per_hour` in its pool, and, with a
/// `subject` (the event and what was typed, e.g. an email digest), only its first.
/// Anonymous requests cost nothing to send; without this bound a flood from many addresses
/// would grow the permanent, append-only trail without end.
pub fn anonymous_allowed(
    conn: &mut DbConnection,
    pool: AnonymousPool,
    per_hour: u32,
    subject: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    use esr_domain::TokenDigest;
    use esr_persistence::rate_limits;
    let hour = crate::rate_limit::window_start(now, std::time::Duration::from_secs(3600));
    if per_hour == 0 {
        return Ok(false);
    }
    if let Some(subject) = subject {
        let subject = TokenDigest::of(&format!("anonymous_audit:{subject}"));
        if rate_limits::hit(conn, &subject, hour)? > 1 {
            return Ok(false);
        }
    }
    let all = TokenDigest::of(pool.key());
    Ok(rate_limits::hit(conn, &all, hour)? <= per_hour)
}
