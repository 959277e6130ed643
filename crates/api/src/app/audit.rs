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
