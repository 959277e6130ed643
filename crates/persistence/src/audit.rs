//! The audit trail: append-only (database triggers refuse updates and deletes) and
//! hash-chained: each row stores the SHA-256 of the previous row's hash and its own content,
//! so an edited, inserted or deleted row breaks every later link.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::prelude::*;
use esr_domain::{AccountId, SessionId, TokenPurpose, Username};

use crate::connection::DbConnection;
use crate::error::RepoError;
use crate::schema::{audit_events, audit_head};

/// The hash before the first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The kind of a security event: the `event_type` column, and the catalogue of what the
/// audit trail can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// A password login opened a session. (`login.succeeded`)
    LoginSucceeded,
    /// A password login was refused (details say why). (`login.failed`)
    LoginFailed,
    /// A session was ended by its holder. (`logout`)
    Logout,
    /// A spent refresh token was presented again; its session was ended. (`refresh_token.reused`)
    RefreshTokenReused,
    /// An account (username) was created. (`account.created`)
    AccountCreated,
    /// Consecutive failures locked the account. (`account.locked`)
    AccountLocked,
    /// An unlock link unlocked the account. (`account.unlocked`)
    AccountUnlocked,
    /// The account was disabled. (`account.disabled`)
    AccountDisabled,
    /// The password was changed at home (current password given). (`password.changed`)
    PasswordChanged,
    /// A password change gave a wrong current password. (`password.change_failed`)
    PasswordChangeFailed,
    /// The password was reset with an emailed link. (`password.reset`)
    PasswordReset,
    /// The password was set at work with a smartcard. (`password.set`)
    PasswordSet,
    /// The stored hash was upgraded to the current parameters. (`password.rehashed`)
    PasswordRehashed,
    /// A reset link was used with another account's username. (`password_reset.username_mismatch`)
    PasswordResetUsernameMismatch,
    /// Internet access was requested at work. (`internet_access.requested`)
    InternetAccessRequested,
    /// Internet access lapsed after the organisation's inactivity limit. (`internet_access.lapsed`)
    InternetAccessLapsed,
    /// A smartcard sign-in opened a workplace session. (`smartcard.login_succeeded`)
    SmartcardLoginSucceeded,
    /// A smartcard sign-in was refused (details say why). (`smartcard.login_failed`)
    SmartcardLoginFailed,
    /// A Forgotten request matched no account. (`recovery_request.unmatched`)
    RecoveryRequestUnmatched,
    /// An Unlock Account request matched no account. (`unlock_request.unmatched`)
    UnlockRequestUnmatched,
    /// A matching Forgotten request was not emailed (mailbox limit). (`recovery_request.suppressed`)
    RecoveryRequestSuppressed,
    /// A matching Unlock Account request was not emailed (mailbox limit). (`unlock_request.suppressed`)
    UnlockRequestSuppressed,
    /// A password-reset link was issued. (`password_reset_link.issued`)
    PasswordResetLinkIssued,
    /// An unlock link was issued. (`account_unlock_link.issued`)
    AccountUnlockLinkIssued,
    /// An email left through the transport. (`email.sent`)
    EmailSent,
    /// An email was given up after its attempts. (`email.dead`)
    EmailDead,
    /// An HR feed was imported. (`people.imported`)
    PeopleImported,
    /// An administrator unlocked the account. (`admin.account.unlocked`)
    AdminAccountUnlocked,
    /// An administrator suspended the account. (`admin.account.suspended`)
    AdminAccountSuspended,
    /// An administrator reactivated the account. (`admin.account.reactivated`)
    AdminAccountReactivated,
    /// An administrator approved internet access. (`admin.internet_access.approved`)
    AdminInternetAccessApproved,
    /// An administrator rejected internet access. (`admin.internet_access.rejected`)
    AdminInternetAccessRejected,
    /// An administrator revoked internet access. (`admin.internet_access.revoked`)
    AdminInternetAccessRevoked,
    /// An administrator sent the recovery email. (`admin.recovery_email.requested`)
    AdminRecoveryEmailRequested,
    /// An administrator created a person. (`admin.person.created`)
    AdminPersonCreated,
    /// An administrator changed a person. (`admin.person.updated`)
    AdminPersonUpdated,
    /// An administrator created an organisation. (`admin.organisation.created`)
    AdminOrganisationCreated,
    /// An administrator changed an organisation. (`admin.organisation.updated`)
    AdminOrganisationUpdated,
    /// An API key was created. (`admin.api_key.created`)
    AdminApiKeyCreated,
    /// An API key was revoked. (`admin.api_key.revoked`)
    AdminApiKeyRevoked,
    /// An administrator retried a dead email. (`admin.outbox.retried`)
    AdminOutboxRetried,
    /// A person's work email changed (admin API or import). (`person.work_email_changed`)
    WorkEmailChanged,
    /// The smartcard linked to a person changed. (`person.smartcard_changed`)
    SmartcardSubjectChanged,
    /// A correct password was answered with a request for a second factor. (`login.second_factor_required`)
    LoginSecondFactorRequired,
    /// A second factor was wrong, replayed or already used. (`login.second_factor_failed`)
    LoginSecondFactorFailed,
    /// A second factor was confirmed and added. (`mfa.factor_added`)
    FactorAdded,
    /// A wrong code was given to confirm a pending authenticator app. (`mfa.factor_confirmation_failed`)
    FactorConfirmationFailed,
    /// The holder removed a second factor. (`mfa.factor_removed`)
    FactorRemoved,
    /// A new set of recovery codes was issued (the old set is void). (`mfa.recovery_codes_issued`)
    RecoveryCodesIssued,
    /// A link to enrol a first second factor was emailed. (`mfa.enrolment_link_issued`)
    EnrolmentLinkIssued,
    /// The holder ended one of their sessions from another. (`session.ended_by_owner`)
    SessionEndedByOwner,
    /// An administrator reset the account's second factors. (`admin.account.factors_reset`)
    AdminFactorsReset,
    /// Data past its retention was deleted (details: rows per class). (`retention.purged`)
    RetentionPurged,
    /// Everything held about a person was exported for them (details: their ids). (`subject_access.exported`)
    SubjectAccessExported,
    /// A person and their accounts were anonymised. (`person.erased`)
    PersonErased,
    /// A person left the organisation; their accounts were disabled. (`person.left`)
    PersonLeft,
}

impl EventType {
    /// Every event type, in catalogue order.
    pub const ALL: &'static [Self] = &[
        Self::LoginSucceeded,
        Self::LoginFailed,
        Self::Logout,
        Self::RefreshTokenReused,
        Self::AccountCreated,
        Self::AccountLocked,
        Self::AccountUnlocked,
        Self::AccountDisabled,
        Self::PasswordChanged,
        Self::PasswordChangeFailed,
        Self::PasswordReset,
        Self::PasswordSet,
        Self::PasswordRehashed,
        Self::PasswordResetUsernameMismatch,
        Self::InternetAccessRequested,
        Self::InternetAccessLapsed,
        Self::SmartcardLoginSucceeded,
        Self::SmartcardLoginFailed,
        Self::RecoveryRequestUnmatched,
        Self::UnlockRequestUnmatched,
        Self::RecoveryRequestSuppressed,
        Self::UnlockRequestSuppressed,
        Self::PasswordResetLinkIssued,
        Self::AccountUnlockLinkIssued,
        Self::EmailSent,
        Self::EmailDead,
        Self::PeopleImported,
        Self::AdminAccountUnlocked,
        Self::AdminAccountSuspended,
        Self::AdminAccountReactivated,
        Self::AdminInternetAccessApproved,
        Self::AdminInternetAccessRejected,
        Self::AdminInternetAccessRevoked,
        Self::AdminRecoveryEmailRequested,
        Self::AdminPersonCreated,
        Self::AdminPersonUpdated,
        Self::AdminOrganisationCreated,
        Self::AdminOrganisationUpdated,
        Self::AdminApiKeyCreated,
        Self::AdminApiKeyRevoked,
        Self::AdminOutboxRetried,
        Self::WorkEmailChanged,
        Self::SmartcardSubjectChanged,
        Self::LoginSecondFactorRequired,
        Self::LoginSecondFactorFailed,
        Self::FactorAdded,
        Self::FactorConfirmationFailed,
        Self::FactorRemoved,
        Self::RecoveryCodesIssued,
        Self::EnrolmentLinkIssued,
        Self::SessionEndedByOwner,
        Self::AdminFactorsReset,
        Self::RetentionPurged,
        Self::SubjectAccessExported,
        Self::PersonErased,
        Self::PersonLeft,
    ];

    /// The dotted name stored and shown, e.g. `login.failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login.succeeded",
            Self::LoginFailed => "login.failed",
            Self::Logout => "logout",
            Self::RefreshTokenReused => "refresh_token.reused",
            Self::AccountCreated => "account.created",
            Self::AccountLocked => "account.locked",
            Self::AccountUnlocked => "account.unlocked",
            Self::AccountDisabled => "account.disabled",
            Self::PasswordChanged => "password.changed",
            Self::PasswordChangeFailed => "password.change_failed",
            Self::PasswordReset => "password.reset",
            Self::PasswordSet => "password.set",
            Self::PasswordRehashed => "password.rehashed",
            Self::PasswordResetUsernameMismatch => "password_reset.username_mismatch",
            Self::InternetAccessRequested => "internet_access.requested",
            Self::InternetAccessLapsed => "internet_access.lapsed",
            Self::SmartcardLoginSucceeded => "smartcard.login_succeeded",
            Self::SmartcardLoginFailed => "smartcard.login_failed",
            Self::RecoveryRequestUnmatched => "recovery_request.unmatched",
            Self::UnlockRequestUnmatched => "unlock_request.unmatched",
            Self::RecoveryRequestSuppressed => "recovery_request.suppressed",
            Self::UnlockRequestSuppressed => "unlock_request.suppressed",
            Self::PasswordResetLinkIssued => "password_reset_link.issued",
            Self::AccountUnlockLinkIssued => "account_unlock_link.issued",
            Self::EmailSent => "email.sent",
            Self::EmailDead => "email.dead",
            Self::PeopleImported => "people.imported",
            Self::AdminAccountUnlocked => "admin.account.unlocked",
            Self::AdminAccountSuspended => "admin.account.suspended",
            Self::AdminAccountReactivated => "admin.account.reactivated",
            Self::AdminInternetAccessApproved => "admin.internet_access.approved",
            Self::AdminInternetAccessRejected => "admin.internet_access.rejected",
            Self::AdminInternetAccessRevoked => "admin.internet_access.revoked",
            Self::AdminRecoveryEmailRequested => "admin.recovery_email.requested",
            Self::AdminPersonCreated => "admin.person.created",
            Self::AdminPersonUpdated => "admin.person.updated",
            Self::AdminOrganisationCreated => "admin.organisation.created",
            Self::AdminOrganisationUpdated => "admin.organisation.updated",
            Self::AdminApiKeyCreated => "admin.api_key.created",
            Self::AdminApiKeyRevoked => "admin.api_key.revoked",
            Self::AdminOutboxRetried => "admin.outbox.retried",
            Self::WorkEmailChanged => "person.work_email_changed",
            Self::SmartcardSubjectChanged => "person.smartcard_changed",
            Self::LoginSecondFactorRequired => "login.second_factor_required",
            Self::LoginSecondFactorFailed => "login.second_factor_failed",
            Self::FactorAdded => "mfa.factor_added",
            Self::FactorConfirmationFailed => "mfa.factor_confirmation_failed",
            Self::FactorRemoved => "mfa.factor_removed",
            Self::RecoveryCodesIssued => "mfa.recovery_codes_issued",
            Self::EnrolmentLinkIssued => "mfa.enrolment_link_issued",
            Self::SessionEndedByOwner => "session.ended_by_owner",
            Self::AdminFactorsReset => "admin.account.factors_reset",
            Self::RetentionPurged => "retention.purged",
            Self::SubjectAccessExported => "subject_access.exported",
            Self::PersonErased => "person.erased",
            Self::PersonLeft => "person.left",
        }
    }

    /// The event of a dotted name, for filters typed by a caller.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.as_str() == text)
    }

    /// The link-issued event of a token purpose.
    pub fn link_issued(purpose: TokenPurpose) -> Self {
        match purpose {
            TokenPurpose::PasswordReset => Self::PasswordResetLinkIssued,
            TokenPurpose::AccountUnlock => Self::AccountUnlockLinkIssued,
        }
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who acted: the `actor` column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The holder of an account (signed in, or using one of its links).
    Account(Username),
    /// The holder of a session, named by the session (logout).
    Session(SessionId),
    /// An administrator or integrator, by API key name.
    ApiKey(String),
    /// The command-line tool on the server.
    Cli,
    /// The service itself (a lock, an email sent, a lapse).
    System,
    /// Someone not (yet) known: a form from home, a link before its username is checked.
    Anonymous,
}

impl Actor {
    /// The stored text: `account:{username}`, `session:{id}`, `api-key:{name}`, `cli`,
    /// `system` or `anonymous`.
    pub fn to_text(&self) -> String {
        match self {
            Self::Account(username) => format!("account:{username}"),
            Self::Session(id) => format!("session:{id}"),
            Self::ApiKey(name) => format!("api-key:{name}"),
            Self::Cli => "cli".into(),
            Self::System => "system".into(),
            Self::Anonymous => "anonymous".into(),
        }
    }
}

/// A security event to record.
#[derive(Debug, Clone)]
pub struct NewAuditEvent<'a> {
    /// What happened.
    pub event_type: EventType,
    /// The account concerned, if any.
    pub account_id: Option<&'a AccountId>,
    /// Who acted.
    pub actor: &'a Actor,
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
    /// Keyed digest of the personal fields (actor, IP, user agent, details), which this row's
    /// link covers instead of the values; `None` on rows chained before it existed, whose
    /// link covers the values themselves.
    pub personal_digest: Option<String>,
    /// When the personal fields were blanked (retention or erasure).
    pub personal_blanked_at: Option<NaiveDateTime>,
}

/// The key the chain is computed with (HMAC-SHA-256). It is kept outside the database (the
/// instances' configuration), so someone who can write to the database, but not read that
/// configuration, cannot recompute the chain after editing, inserting or deleting rows.
#[derive(Clone, PartialEq, Eq)]
pub struct ChainKey([u8; 32]);

impl ChainKey {
    /// A key from 32 secret bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(****)")
    }
}

fn link(
    key: &ChainKey,
    prev_hash: &str,
    seq: i64,
    at: NaiveDateTime,
    e: &EventContent<'_>,
) -> String {
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
    keyed_hex(key, &format!("{prev_hash}|{content}"))
}

/// The link of a row whose personal fields are covered by their digest: what it covers can
/// stay while the fields themselves are blanked.
fn link_over_digest(
    key: &ChainKey,
    prev_hash: &str,
    seq: i64,
    at: NaiveDateTime,
    e: &EventContent<'_>,
    personal_digest: &str,
) -> String {
    let content = serde_json::json!([
        "personal-digest",
        seq,
        at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        e.event_type,
        e.account_id,
        e.request_id,
        personal_digest,
    ]);
    keyed_hex(key, &format!("{prev_hash}|{content}"))
}

/// The keyed digest of a row's personal fields, domain-separated from the links.
fn personal_digest(key: &ChainKey, seq: i64, e: &EventContent<'_>) -> String {
    let content = serde_json::json!([seq, e.actor, e.ip, e.user_agent, e.details]);
    keyed_hex(key, &format!("personal|{content}"))
}

/// HMAC-SHA-256 of `message` with the chain's key, as lower-case hex.
fn keyed_hex(key: &ChainKey, message: &str) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(&key.0).expect("HMAC takes a key of any length");
    mac.update(message.as_bytes());
    esr_domain::hex_lower(&mac.finalize().into_bytes())
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
    key: &ChainKey,
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
    let actor = event.actor.to_text();
    let content = EventContent {
        event_type: event.event_type.as_str(),
        account_id: event.account_id.map(AccountId::as_str),
        actor: &actor,
        ip: event.ip,
        user_agent: event.user_agent,
        request_id: event.request_id,
        details: &details,
    };
    let personal = personal_digest(key, seq, &content);
    let hash = link_over_digest(key, &prev_hash, seq, at, &content, &personal);
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::seq.eq(seq),
            audit_events::at.eq(at),
            audit_events::event_type.eq(event.event_type.as_str()),
            audit_events::account_id.eq(event.account_id.map(AccountId::as_str)),
            audit_events::actor.eq(&actor),
            audit_events::ip.eq(event.ip),
            audit_events::user_agent.eq(event.user_agent),
            audit_events::request_id.eq(event.request_id),
            audit_events::details.eq(&details),
            audit_events::prev_hash.eq(&prev_hash),
            audit_events::hash.eq(&hash),
            audit_events::personal_digest.eq(Some(&personal)),
        ))
        .execute(conn)?;
    diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
        .set(audit_head::hash.eq(&hash))
        .execute(conn)?;
    Ok(seq)
}

/// How many events of `event_type` about the account were recorded at or after `since`.
pub fn count_since(
    conn: &mut DbConnection,
    account_id: &AccountId,
    event_type: EventType,
    since: DateTime<Utc>,
) -> Result<i64, RepoError> {
    Ok(audit_events::table
        .filter(audit_events::account_id.eq(account_id.as_str()))
        .filter(audit_events::event_type.eq(event_type.as_str()))
        .filter(audit_events::at.ge(since.naive_utc()))
        .count()
        .get_result(conn)?)
}

/// Events of an account (or all), newest first, for tests and the admin API.
pub fn recent(
    conn: &mut DbConnection,
    account_id: Option<&AccountId>,
    limit: i64,
) -> Result<Vec<AuditEvent>, RepoError> {
    let mut query = audit_events::table
        .order(audit_events::seq.desc())
        .limit(limit)
        .select(AuditEvent::as_select())
        .into_boxed();
    if let Some(id) = account_id {
        query = query.filter(audit_events::account_id.eq(id.as_str().to_owned()));
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

/// Recomputes the whole chain in order with `key`, a batch at a time.
pub fn verify_chain(conn: &mut DbConnection, key: &ChainKey) -> Result<ChainReport, RepoError> {
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
            if let Err(reason) = check_link(key, &row, &content) {
                return Ok(broken(reason.into()));
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

/// Whether `row`'s hash is its link: over its personal digest (which, until the fields are
/// blanked, must also be theirs), or, on a row chained before digests, over the values.
fn check_link(
    key: &ChainKey,
    row: &AuditEvent,
    content: &EventContent<'_>,
) -> Result<(), &'static str> {
    let hash = match &row.personal_digest {
        None => link(key, &row.prev_hash, row.seq, row.at, content),
        Some(digest) => {
            if row.personal_blanked_at.is_none()
                && personal_digest(key, row.seq, content) != *digest
            {
                return Err("its personal fields do not match their digest (edited)");
            }
            link_over_digest(key, &row.prev_hash, row.seq, row.at, content, digest)
        }
    };
    if hash == row.hash {
        Ok(())
    } else {
        Err("its content does not match its hash (edited)")
    }
}

/// The last event of the chain: what an operator keeps outside the database (an anchor), so a
/// later check can tell that the chain still holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChainHead {
    /// The last event's seq (0: no events yet).
    pub seq: i64,
    /// Its hash.
    pub hash: String,
}

/// The chain's head as recorded in the database.
pub fn head(conn: &mut DbConnection) -> Result<ChainHead, RepoError> {
    let (seq, hash) = audit_head::table
        .filter(audit_head::id.eq(1))
        .select((audit_head::seq, audit_head::hash))
        .get_result(conn)?;
    Ok(ChainHead { seq, hash })
}

/// Whether the chain still holds `anchor`, a head exported earlier: its event must exist with
/// the same hash. Rows removed from the end (with the head row rewritten to match) or a chain
/// recomputed from before the anchor are caught here even though each link still holds.
pub fn check_anchor(
    conn: &mut DbConnection,
    anchor: &ChainHead,
) -> Result<Option<BrokenLink>, RepoError> {
    if anchor.seq == 0 {
        return Ok(None);
    }
    let stored: Option<String> = audit_events::table
        .filter(audit_events::seq.eq(anchor.seq))
        .select(audit_events::hash)
        .first(conn)
        .optional()?;
    Ok(match stored {
        Some(hash) if hash == anchor.hash => None,
        Some(_) => Some(BrokenLink {
            seq: anchor.seq,
            reason: "its hash is not the anchor's (the chain was rewritten)".into(),
        }),
        None => Some(BrokenLink {
            seq: anchor.seq,
            reason: "the anchor's event is gone (rows removed from the end)".into(),
        }),
    })
}

/// Filters of the admin audit list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only events of this account.
    pub account_id: Option<AccountId>,
    /// Only events of this type.
    pub event_type: Option<EventType>,
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
        q = q.filter(audit_events::account_id.eq(id.as_str().to_owned()));
    }
    if let Some(t) = filter.event_type {
        q = q.filter(audit_events::event_type.eq(t.as_str()));
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

/// Which rows' personal fields to blank.
#[derive(Debug, Clone, Copy)]
pub enum Blanking<'a> {
    /// Rows recorded before this time (the retention of personal fields in the trail).
    RecordedBefore(DateTime<Utc>),
    /// Rows of anonymous callers about no account (unmatched requests, unknown usernames,
    /// refused smartcard sign-ins) recorded before this time.
    AnonymousBefore(DateTime<Utc>),
    /// Every row about this account (erasure).
    OfAccount(&'a AccountId),
}

/// Rows that `which` selects and that can still be blanked: chained over their digest, not
/// blanked yet.
fn blankable<'a>(
    which: Blanking<'a>,
) -> audit_events::BoxedQuery<'a, crate::connection::MultiBackend> {
    let rows = audit_events::table
        .filter(audit_events::personal_digest.is_not_null())
        .filter(audit_events::personal_blanked_at.is_null())
        .into_boxed();
    match which {
        Blanking::RecordedBefore(before) => rows.filter(audit_events::at.lt(before.naive_utc())),
        Blanking::AnonymousBefore(before) => rows
            .filter(audit_events::account_id.is_null())
            .filter(audit_events::actor.eq("anonymous"))
            .filter(audit_events::at.lt(before.naive_utc())),
        Blanking::OfAccount(id) => rows.filter(audit_events::account_id.eq(id.as_str())),
    }
}

/// How many rows [`blank_personal`] would blank.
pub fn count_blankable(conn: &mut DbConnection, which: Blanking<'_>) -> Result<i64, RepoError> {
    Ok(blankable(which).count().get_result(conn)?)
}

/// Blanks the personal fields (IP, user agent, details, and the actor down to its kind, such as
/// `account`) of up to `batch` rows that `which` selects; returns how many. Their links cover
/// the fields' keyed digest, which stays, so `verify_chain` still passes.
pub fn blank_personal(
    conn: &mut DbConnection,
    which: Blanking<'_>,
    batch: i64,
    now: DateTime<Utc>,
) -> Result<usize, RepoError> {
    let rows: Vec<(i64, String)> = blankable(which)
        .order(audit_events::seq.asc())
        .select((audit_events::seq, audit_events::actor))
        .limit(batch)
        .load(conn)?;
    let at = now.naive_utc().trunc_subsecs(6);
    for (seq, actor) in &rows {
        let kind = actor.split(':').next().unwrap_or(actor);
        diesel::update(audit_events::table.filter(audit_events::seq.eq(seq)))
            .set((
                audit_events::actor.eq(kind),
                audit_events::ip.eq(None::<String>),
                audit_events::user_agent.eq(None::<String>),
                audit_events::details.eq("{}"),
                audit_events::personal_blanked_at.eq(Some(at)),
            ))
            .execute(conn)?;
    }
    Ok(rows.len())
}
