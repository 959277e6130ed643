//! Writing audit events from request handlers.

use chrono::{DateTime, Utc};
use esr_persistence::audit::{self, NewAuditEvent};
use esr_persistence::{DbConnection, RepoError};

use crate::client::Client;

/// Appends one audit event with the caller's IP, user agent and request id. Call it inside
/// the transaction of the change it records.
pub fn record(
    conn: &mut DbConnection,
    client: &Client,
    event_type: &str,
    account_id: Option<&str>,
    actor: &str,
    details: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let ip = client.ip_text();
    audit::append(
        conn,
        &NewAuditEvent {
            event_type,
            account_id,
            actor,
            ip: Some(&ip),
            user_agent: client.user_agent.as_deref(),
            request_id: Some(&client.request_id),
            details,
        },
        now,
    )?;
    Ok(())
}

/// The actor name of an account holder.
pub fn account_actor(username: &str) -> String {
    format!("account:{username}")
}

/// A one-way digest of personal data that did not match anything, so the audit trail can
/// correlate attempts without storing what was typed.
pub fn digest(value: &str) -> String {
    esr_domain::sha256_hex(value.trim().to_lowercase().as_bytes())
}
