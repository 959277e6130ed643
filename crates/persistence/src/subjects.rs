//! A person as a data subject: everything held about them (for a subject access request) and
//! the erasure that anonymises it, leaving the audit trail whole.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use esr_domain::{AccountId, PersonId};

use crate::audit::{self, AuditEvent, Blanking};
use crate::schema::{
    accounts, audit_events, mfa_tokens, one_time_tokens, outbox, password_history, people,
    recovery_codes, refresh_tokens, second_factors, sessions, webauthn_ceremonies,
};
use crate::sessions::{Session, SessionRow};
use crate::{DbConnection, RepoError};

/// Every session the account has had that is still stored, newest first.
pub fn sessions_of(
    conn: &mut DbConnection,
    account_id: &AccountId,
) -> Result<Vec<Session>, RepoError> {
    sessions::table
        .filter(sessions::account_id.eq(account_id.as_str()))
        .order((sessions::created_at.desc(), sessions::id.asc()))
        .select(SessionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Session::try_from)
        .collect()
}

/// The audit events about the account, in chain order.
pub fn audit_of_account(
    conn: &mut DbConnection,
    account_id: &AccountId,
) -> Result<Vec<AuditEvent>, RepoError> {
    Ok(audit_events::table
        .filter(audit_events::account_id.eq(account_id.as_str()))
        .order(audit_events::seq.asc())
        .select(AuditEvent::as_select())
        .load(conn)?)
}

/// The audit events about no account whose details hold any of `needles` (a person's id, the
/// keyed digest of what they typed), in chain order.
pub fn audit_mentioning(
    conn: &mut DbConnection,
    needles: &[String],
) -> Result<Vec<AuditEvent>, RepoError> {
    let mut found = Vec::new();
    for needle in needles {
        let rows: Vec<AuditEvent> = audit_events::table
            .filter(audit_events::account_id.is_null())
            .filter(audit_events::details.like(format!("%{needle}%")))
            .select(AuditEvent::as_select())
            .load(conn)?;
        found.extend(rows);
    }
    found.sort_by_key(|e| e.seq);
    found.dedup_by_key(|e| e.seq);
    Ok(found)
}

/// One email as the subject access export shows it: never its content.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct EmailRecord {
    /// Identifier.
    pub id: String,
    /// Template.
    pub kind: String,
    /// Destination.
    pub recipient: String,
    /// `pending`, `sending`, `sent` or `dead`.
    pub status: String,
    /// Queued.
    pub created_at: chrono::NaiveDateTime,
    /// Sent.
    pub sent_at: Option<chrono::NaiveDateTime>,
}

/// The emails about these accounts or to these addresses, oldest first.
pub fn emails_of(
    conn: &mut DbConnection,
    account_ids: &[String],
    addresses: &[String],
) -> Result<Vec<EmailRecord>, RepoError> {
    Ok(outbox::table
        .filter(
            outbox::account_id
                .eq_any(account_ids)
                .or(outbox::recipient.eq_any(addresses)),
        )
        .order(outbox::created_at.asc())
        .select(EmailRecord::as_select())
        .load(conn)?)
}

/// How many password hashes the account's history holds.
pub fn password_history_len(
    conn: &mut DbConnection,
    account_id: &AccountId,
) -> Result<i64, RepoError> {
    Ok(password_history::table
        .filter(password_history::account_id.eq(account_id.as_str()))
        .count()
        .get_result(conn)?)
}

/// What an erasure did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Erased {
    /// Accounts anonymised.
    pub accounts: usize,
    /// Audit events whose personal fields were blanked.
    pub audit_events: usize,
    /// Emails deleted.
    pub emails: usize,
}

/// Anonymises a person and their accounts (call inside a write transaction): names, date of
/// birth, email, employee number and smartcard replaced or cleared; each account disabled,
/// renamed and stripped of its password, sessions, sign-in methods and links; their emails
/// deleted; their audit events' personal fields blanked (the chain still verifies). The rows
/// stay, so the audit trail's `account_id`s still point somewhere. `None`: no such person.
pub fn erase(
    conn: &mut DbConnection,
    person_id: &PersonId,
    now: DateTime<Utc>,
) -> Result<Option<Erased>, RepoError> {
    let Some(person) = crate::people::find(conn, person_id)? else {
        return Ok(None);
    };
    let mut erased = Erased::default();
    let account_ids: Vec<String> = accounts::table
        .filter(accounts::person_id.eq(person_id.as_str()))
        .select(accounts::id)
        .load(conn)?;
    // Emails about these accounts, and those about no account to the person's addresses
    // (current and previous) unless another current record shares the address: a recovery
    // email listing several employments belongs to them too.
    erased.emails = diesel::delete(outbox::table.filter(outbox::account_id.eq_any(&account_ids)))
        .execute(conn)?;
    for address in std::iter::once(&person.work_email).chain(person.previous_work_email.as_ref()) {
        let shared: i64 = people::table
            .filter(people::work_email.eq(address))
            .filter(people::id.ne(person_id.as_str()))
            .filter(people::erased_at.is_null())
            .count()
            .get_result(conn)?;
        if shared == 0 {
            erased.emails += diesel::delete(
                outbox::table
                    .filter(outbox::account_id.is_null())
                    .filter(outbox::recipient.eq(address)),
            )
            .execute(conn)?;
        }
    }
    for id in &account_ids {
        erase_account(
            conn,
            &AccountId::from_stored(id.clone()),
            person.organisation_code.as_str(),
            now,
        )?;
        erased.accounts += 1;
        loop {
            let blanked = audit::blank_personal(
                conn,
                Blanking::OfAccount(&AccountId::from_stored(id.clone())),
                1_000,
                now,
            )?;
            erased.audit_events += blanked;
            if blanked < 1_000 {
                break;
            }
        }
    }
    let anonymous = anonymous_name(person_id.as_str());
    diesel::update(people::table.find(person_id.as_str()))
        .set((
            people::employee_number.eq(format!("ERASED-{}", person_id.as_str())),
            people::first_name.eq("Erased"),
            people::last_name.eq("Erased"),
            people::date_of_birth.eq(NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default()),
            people::work_email.eq(format!("{anonymous}@erased.invalid")),
            people::smartcard_subject.eq(None::<String>),
            people::previous_work_email.eq(None::<String>),
            people::previous_email_until.eq(None::<chrono::NaiveDateTime>),
            people::contact_changed_at.eq(None::<chrono::NaiveDateTime>),
            people::erased_at.eq(Some(now.naive_utc())),
            // Erased is gone for good: no longer staff, whatever a feed says.
            people::left_at.eq(Some(person.left_at.unwrap_or(now).naive_utc())),
            people::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(Some(erased))
}

fn erase_account(
    conn: &mut DbConnection,
    id: &AccountId,
    organisation: &str,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let id = id.as_str();
    let session_ids: Vec<String> = sessions::table
        .filter(sessions::account_id.eq(id))
        .select(sessions::id)
        .load(conn)?;
    diesel::delete(refresh_tokens::table.filter(refresh_tokens::session_id.eq_any(&session_ids)))
        .execute(conn)?;
    diesel::delete(sessions::table.filter(sessions::account_id.eq(id))).execute(conn)?;
    diesel::delete(second_factors::table.filter(second_factors::account_id.eq(id)))
        .execute(conn)?;
    diesel::delete(recovery_codes::table.filter(recovery_codes::account_id.eq(id)))
        .execute(conn)?;
    diesel::delete(one_time_tokens::table.filter(one_time_tokens::account_id.eq(id)))
        .execute(conn)?;
    diesel::delete(mfa_tokens::table.filter(mfa_tokens::account_id.eq(id))).execute(conn)?;
    diesel::delete(webauthn_ceremonies::table.filter(webauthn_ceremonies::account_id.eq(id)))
        .execute(conn)?;
    diesel::delete(password_history::table.filter(password_history::account_id.eq(id)))
        .execute(conn)?;
    diesel::update(accounts::table.find(id))
        .set((
            accounts::username.eq(format!(
                "{organisation}{}00",
                anonymous_name(id).to_ascii_uppercase()
            )),
            accounts::status.eq("disabled"),
            accounts::internet_access.eq("revoked"),
            accounts::internet_access_changed_at.eq(Some(now.naive_utc())),
            accounts::password_hash.eq(None::<String>),
            accounts::password_changed_at.eq(None::<chrono::NaiveDateTime>),
            accounts::failed_login_count.eq(0),
            accounts::locked_at.eq(None::<chrono::NaiveDateTime>),
            accounts::last_login_at.eq(None::<chrono::NaiveDateTime>),
            accounts::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Eleven letters made from an id (its hex digits as `a` to `p`): a stand-in name that keeps
/// the row unique and means nothing.
fn anonymous_name(id: &str) -> String {
    id.chars()
        .filter_map(|c| c.to_digit(16))
        .map(|d| char::from(b'a' + u8::try_from(d).unwrap_or(0)))
        .take(11)
        .collect()
}
