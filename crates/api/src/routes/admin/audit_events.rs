//! The audit trail (read only, oldest first, so a script can follow it with the cursor) and
//! the email outbox (list by status, retry a dead message).

use actix_web::{get, post, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use esr_persistence::RepoError;
use esr_persistence::audit::AuditEvent;
use esr_persistence::audit::EventType;
use esr_persistence::outbox::{self, OutboxMessage};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{AdminError, ListProblems, ServiceListProblems, bad_cursor, page_limit};
use crate::admin_auth::{AdminAuthError, AdminKey, WriteKey};
use crate::app::Caller;
use crate::app::administration::{self, AccountRef, AuditSearch};
use crate::email::error::without_addresses;
use crate::state::AppState;

/// Registers the audit and outbox routes.
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(list_audit_events)
        .service(list_outbox)
        .service(retry_outbox_message);
}

/// One audit event.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "seq": 42,
    "at": "2026-11-25T09:00:00.123456Z",
    "event_type": "admin.account.unlocked",
    "account_id": "3d6f0f3e-8c1e-4a53-a2f1-5b7f2b8d9c10",
    "actor": "api-key:service-desk",
    "ip": "10.1.2.3",
    "user_agent": "curl/8.5.0",
    "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10",
    "details": {"username": "999JSMITH01", "status": "active", "internet_access": "approved"},
    "prev_hash": "9f2c…",
    "hash": "41ab…",
    "personal_data_blanked_at": null
}))]
pub struct AuditEventBody {
    /// Position in the chain (the cursor of the list).
    pub seq: i64,
    /// When (UTC).
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub at: DateTime<Utc>,
    /// Dotted type, e.g. `login.failed`, `admin.account.suspended`: one of the catalogue.
    #[schema(schema_with = event_types)]
    pub event_type: String,
    /// The account concerned.
    #[schema(format = "uuid")]
    pub account_id: Option<String>,
    /// Who acted: `account:{username}`, `api-key:{name}`, `system`, `anonymous`, `cli`.
    pub actor: String,
    /// Client IP; `null` for a read-only key not granted the clients (`sees_clients`).
    pub ip: Option<String>,
    /// Client user agent; `null` for a read-only key not granted the clients.
    pub user_agent: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
    /// Minimised details (never passwords or tokens).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// SHA-256 of the previous event (the chain).
    pub prev_hash: String,
    /// SHA-256 of this event's content and `prev_hash`.
    pub hash: String,
    /// When the event's personal fields were blanked after their retention (or at erasure):
    /// `actor` keeps only its kind (`account`, `api-key`, ...), `ip` and `user_agent` are
    /// `null`, `details` is `{}`.
    #[serde(serialize_with = "crate::timestamps::micros_opt")]
    pub personal_data_blanked_at: Option<DateTime<Utc>>,
}

/// The catalogue of event types, declared as the enum of `event_type`.
fn event_types() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .description(Some(
            "Dotted type, e.g. `login.failed`, `admin.account.suspended`: one of the catalogue.",
        ))
        .enum_values(Some(EventType::ALL.iter().map(|t| t.as_str())))
        .build()
}

impl From<AuditEvent> for AuditEventBody {
    fn from(e: AuditEvent) -> Self {
        Self {
            seq: e.seq,
            at: e.at.and_utc(),
            event_type: e.event_type,
            account_id: e.account_id,
            actor: e.actor,
            ip: e.ip,
            user_agent: e.user_agent,
            request_id: e.request_id,
            details: serde_json::from_str(&e.details).unwrap_or(serde_json::Value::Null),
            prev_hash: e.prev_hash,
            hash: e.hash,
            personal_data_blanked_at: e.personal_blanked_at.map(|t| t.and_utc()),
        }
    }
}

impl AuditEventBody {
    /// What `key` may see of the event: without [`AdminKey::sees_clients`], not the client
    /// behind it (IP and user agent, such as `Jane-Smith-iPhone`). The hash chain still
    /// verifies from the stored row, not from this view.
    fn seen_by(mut self, key: &AdminKey) -> Self {
        if !key.sees_clients() {
            self.ip = None;
            self.user_agent = None;
        }
        self
    }
}

/// A page of audit events.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventPage {
    /// Events in chain order, oldest first.
    pub items: Vec<AuditEventBody>,
    /// Cursor of the next page; absent on the last (keep the last `seq` to follow new events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Filters and paging of the audit list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only events of this account: its username, or its id (an event's `account_id`).
    #[param(example = "999JSMITH01")]
    pub account: Option<String>,
    /// Only events of this type.
    #[param(example = "login.failed")]
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    /// Only events at or after this time (RFC 3339).
    #[param(example = "2026-11-25T00:00:00.000000Z")]
    pub since: Option<String>,
    /// Only events before this time (RFC 3339).
    pub until: Option<String>,
    /// `next_cursor` of the previous page (or the `seq` of the last event seen).
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100, example = 50)]
    pub limit: Option<u32>,
}

fn time(field: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, AdminError> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    AdminError::InvalidParameter(format!(
                        "{field} must be an RFC 3339 time, e.g. 2026-11-25T00:00:00Z"
                    ))
                })
        })
        .transpose()
}

/// List audit events, oldest first, filtered by account, type and time. An
/// organisation-scoped key sees the events of its organisation's accounts only.
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of events in chain order.", body = AuditEventPage),
        ListProblems,
    ),
)]
#[get("/admin/audit-events")]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    key: AdminKey,
    query: web::Query<AuditQuery>,
) -> Result<web::Json<AuditEventPage>, AdminError> {
    let search = query.into_inner().parse()?;
    let reader = key.clone();
    let (items, next) = state
        .db(move |c| administration::audit_page(c, &reader, &search))
        .await?;
    Ok(web::Json(AuditEventPage {
        items: items
            .into_iter()
            .map(|e| AuditEventBody::from(e).seen_by(&key))
            .collect(),
        next_cursor: next.map(|s| s.to_string()),
    }))
}

impl AuditQuery {
    /// The query's filters as typed values, or the first bad parameter.
    fn parse(self) -> Result<AuditSearch, AdminError> {
        if let Some(t) = &self.event_type
            && (t.is_empty() || t.len() > 100)
        {
            return Err(AdminError::InvalidParameter(
                "type is 1 to 100 characters".into(),
            ));
        }
        let account = self
            .account
            .map(|a| {
                AccountRef::parse(&a).ok_or_else(|| {
                    AdminError::InvalidParameter(
                        "account must be an ESR username or an account id".into(),
                    )
                })
            })
            .transpose()?;
        Ok(AuditSearch {
            account,
            event_type: self.event_type,
            since: time("since", self.since.as_deref())?,
            until: time("until", self.until.as_deref())?,
            after: self
                .cursor
                .map(|c| c.parse::<i64>().map_err(|_| bad_cursor()))
                .transpose()?,
            limit: page_limit(self.limit)?,
        })
    }
}

/// A queued email as administrators see it: never its content (it may hold a reset link).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "5e0c7d4a-1b2c-4d3e-8f9a-0b1c2d3e4f5a",
    "kind": "recovery",
    "recipient": "jane.smith@demo.example.org",
    "account_id": "3d6f0f3e-8c1e-4a53-a2f1-5b7f2b8d9c10",
    "status": "dead",
    "attempts": 8,
    "next_attempt_at": "2026-11-25T10:00:00.000000Z",
    "last_error": "permanent: SMTP 550 5.1.1",
    "created_at": "2026-11-25T09:00:00.000000Z",
    "sent_at": null
}))]
pub struct OutboxMessageBody {
    /// Identifier (also the provider reference).
    #[schema(format = "uuid")]
    pub id: String,
    /// Template: `recovery`, `unlock`, `password_changed`, `account_locked`.
    #[schema(schema_with = crate::routes::closed_sets::email_kind)]
    pub kind: String,
    /// Destination address.
    pub recipient: String,
    /// The account it concerns.
    #[schema(format = "uuid")]
    pub account_id: Option<String>,
    /// `pending`, `sending`, `sent` or `dead`.
    #[schema(schema_with = crate::routes::closed_sets::outbox_status)]
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// When it is next due.
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub next_attempt_at: DateTime<Utc>,
    /// The last failure: the reply's codes or the kind of fault, never an address.
    pub last_error: Option<String>,
    /// Queued.
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub created_at: DateTime<Utc>,
    /// Sent.
    #[serde(serialize_with = "crate::timestamps::micros_opt")]
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<OutboxMessage> for OutboxMessageBody {
    fn from(m: OutboxMessage) -> Self {
        Self {
            id: m.id,
            kind: m.kind,
            recipient: m.recipient,
            account_id: m.account_id,
            status: m.status,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at.and_utc(),
            // Rows written before delivery errors were kept free of addresses.
            last_error: m.last_error.as_deref().map(without_addresses),
            created_at: m.created_at.and_utc(),
            sent_at: m.sent_at.map(|t| t.and_utc()),
        }
    }
}

/// A page of outbox messages.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxPage {
    /// Messages, newest first.
    pub items: Vec<OutboxMessageBody>,
    /// Cursor of the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Filter and paging of the outbox list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// Only messages with this status: `pending`, `sending`, `sent` or `dead`.
    #[param(example = "dead")]
    pub status: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100, example = 50)]
    pub limit: Option<u32>,
}

fn encode_cursor((at, id): (NaiveDateTime, String)) -> String {
    format!("{}~{id}", at.and_utc().timestamp_micros())
}

fn decode_cursor(c: &str) -> Option<(NaiveDateTime, String)> {
    let (micros, id) = c.split_once('~')?;
    let at = DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
    uuid::Uuid::parse_str(id).ok()?;
    Some((at, id.to_owned()))
}

/// List outbox messages, newest first (key for all organisations: the outbox is
/// service-wide).
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    params(OutboxQuery),
    responses(
        (status = 200, description = "A page of messages.", body = OutboxPage),
        ServiceListProblems,
    ),
)]
#[get("/admin/outbox")]
pub async fn list_outbox(
    state: web::Data<AppState>,
    key: AdminKey,
    query: web::Query<OutboxQuery>,
) -> Result<web::Json<OutboxPage>, AdminError> {
    key.require_all_organisations()?;
    let q = query.into_inner();
    let limit = page_limit(q.limit)?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s @ ("pending" | "sending" | "sent" | "dead")) => Some(s.to_owned()),
        Some(_) => {
            return Err(AdminError::InvalidParameter(
                "status is pending, sending, sent or dead".into(),
            ));
        }
    };
    let cursor = q
        .cursor
        .map(|c| decode_cursor(&c).ok_or_else(bad_cursor))
        .transpose()?;
    let (items, next) = state
        .db(move |c| outbox::page(c, status.as_deref(), cursor, limit))
        .await?;
    Ok(web::Json(OutboxPage {
        items: items.into_iter().map(OutboxMessageBody::from).collect(),
        next_cursor: next.map(encode_cursor),
    }))
}

/// Retry a dead message: pending again with a fresh attempt budget.
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    params(("id" = String, Path, description = "The message id.")),
    responses(
        (status = 200, description = "The message, pending again.", body = OutboxMessageBody),
        RetryMessageProblems,
    ),
)]
#[post("/admin/outbox/{id}/retry")]
pub async fn retry_outbox_message(
    state: web::Data<AppState>,
    key: WriteKey,
    caller: Caller,
    id: web::Path<String>,
) -> Result<web::Json<OutboxMessageBody>, AdminError> {
    key.require_all_organisations()?;
    let id = id.into_inner();
    let key = key.0;
    let outcome = state
        .db(move |c| {
            c.write_transaction(|c| {
                let now = Utc::now();
                let Some(message) = outbox::find(c, &id)? else {
                    return Ok(Err(message_not_found()));
                };
                if addressed_to_an_old_email(c, &message)? {
                    return Ok(Err(recipient_changed()));
                }
                if !outbox::retry(c, &id, now)? {
                    return Ok(Err(message_not_dead(&message.status)));
                }
                super::audit(
                    c,
                    &caller,
                    &key,
                    EventType::AdminOutboxRetried,
                    message
                        .account_id
                        .clone()
                        .map(esr_domain::AccountId::from_stored)
                        .as_ref(),
                    &json!({"message_id": message.id, "kind": message.kind}),
                    now,
                )?;
                outbox::find(c, &id)?
                    .map(Ok)
                    .ok_or_else(|| RepoError::Corrupt("message vanished".into()))
            })
        })
        .await??;
    state.delivery_wake.notify_one();
    Ok(web::Json(outcome.into()))
}

fn message_not_found() -> AdminError {
    AdminError::NotFound {
        code: "outbox-message-not-found",
        what: "Outbox message",
    }
}

/// Whether the message is about an account whose person's work email is no longer its
/// recipient: the address changed after it was queued (perhaps by someone taking the account
/// over), and a retry must not send the username, or a link, to the old one.
fn addressed_to_an_old_email(
    conn: &mut esr_persistence::DbConnection,
    message: &OutboxMessage,
) -> Result<bool, RepoError> {
    let Some(account_id) = &message.account_id else {
        return Ok(false);
    };
    let id = esr_domain::AccountId::from_stored(account_id.clone());
    let Some(account) = esr_persistence::accounts::find(conn, &id)? else {
        return Ok(false);
    };
    Ok(esr_persistence::people::find(conn, &account.person_id)?
        .is_some_and(|person| person.work_email != message.recipient))
}

fn recipient_changed() -> AdminError {
    AdminError::Conflict {
        code: "outbox-recipient-changed",
        detail: "The work email on record has changed since this message was queued, so it is not sent to the old address. The person can ask for a new one (Forgotten), or send the recovery email to the address on record.".into(),
    }
}

fn message_not_dead(status: &str) -> AdminError {
    AdminError::Conflict {
        code: "outbox-message-not-dead",
        detail: format!("Only dead messages are retried; this one is {status}."),
    }
}

crate::operation_problems!(
    /// The problems of retrying an outbox message.
    RetryMessageProblems: AdminError => [
        AdminAuthError::ScopeTooNarrow,
        message_not_found(),
        message_not_dead("sent"),
        recipient_changed(),
    ]
);
