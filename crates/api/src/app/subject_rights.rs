//! A person's rights over their data (UK GDPR articles 15 and 17): everything held about them,
//! exported as JSON, and erasure, which anonymises them and leaves the audit trail verifiable.
//! Both are run by an operator with the CLI, and both are audited.

use chrono::{DateTime, NaiveDate, Utc};
use esr_domain::{PersonId, WorkEmail};
use esr_persistence::audit::{Actor, AuditEvent, EventType};
use esr_persistence::people::Person;
use esr_persistence::subjects::{self, Erased};
use esr_persistence::{DbConnection, RepoError, accounts, people, recovery_codes, second_factors};
use serde_json::{Value, json};

use super::{Caller, audit};
use crate::config::Config;
use crate::timestamps;

/// Everything held about the person with this work email and date of birth (every employment
/// that matches), as one JSON document; the export is audited by the people's ids only.
pub fn subject_access(
    conn: &mut DbConnection,
    config: &Config,
    email: &WorkEmail,
    date_of_birth: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Value, RepoError> {
    conn.write_transaction(|conn| {
        let found = people::find_by_email_and_dob(conn, email.as_str(), date_of_birth)?;
        let mut records = Vec::new();
        let mut account_ids = Vec::new();
        let mut needles = vec![config.audit_digest_key.digest(email.as_str())];
        for person in &found {
            needles.push(person.id.as_str().to_owned());
            let (record, ids, usernames) = person_record(conn, person)?;
            records.push(record);
            account_ids.extend(ids);
            for username in usernames {
                needles.push(config.audit_digest_key.digest(&username));
                needles.push(config.audit_digest_key.digest(&username.to_lowercase()));
            }
        }
        // Only for someone the email and date of birth identify: an address alone is not a
        // person (staff can share one), so a wrong date of birth exports nothing about it.
        let (mentioning, emails) = if found.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            (
                subjects::audit_mentioning(conn, &needles)?,
                subjects::emails_of(conn, &account_ids, &[email.as_str().to_owned()])?,
            )
        };
        let ids: Vec<&str> = found.iter().map(|p| p.id.as_str()).collect();
        audit::record(
            conn,
            &Caller::internal(config.audit_chain.clone()),
            EventType::SubjectAccessExported,
            None,
            &Actor::Cli,
            &json!({"people": ids}),
            now,
        )?;
        Ok(json!({
            "generated_at": timestamps::text(now),
            "query": {"work_email": email.as_str(), "date_of_birth": date_of_birth.to_string()},
            "people": records,
            // Anyone may type an address into the Forgotten form: who typed it (their IP and
            // user agent) is that person's data, not the subject's.
            "audit_events_about_no_account": mentioning.iter().map(|e| {
                let mut shown = event(e);
                shown["ip"] = Value::Null;
                shown["user_agent"] = Value::Null;
                shown
            }).collect::<Vec<_>>(),
            "emails": emails.iter().map(|m| json!({
                "id": m.id,
                "kind": m.kind,
                "recipient": m.recipient,
                "status": m.status,
                "created_at": timestamps::text(m.created_at.and_utc()),
                "sent_at": m.sent_at.map(|t| timestamps::text(t.and_utc())),
            })).collect::<Vec<_>>(),
            "not_included": "Password hashes, sign-in method secrets and recovery codes are held only in forms no one can read back (hashes and sealed secrets); their existence and dates are listed.",
        }))
    })
}

/// One person's record with their accounts; also their account ids and usernames.
fn person_record(
    conn: &mut DbConnection,
    person: &Person,
) -> Result<(Value, Vec<String>, Vec<String>), RepoError> {
    let mut accounts_json = Vec::new();
    let mut ids = Vec::new();
    let mut usernames = Vec::new();
    for account in accounts::for_person(conn, &person.id)? {
        ids.push(account.id.as_str().to_owned());
        usernames.push(account.username.as_str().to_owned());
        let sessions = subjects::sessions_of(conn, &account.id)?;
        let methods = second_factors::list_for_account(conn, &account.id)?;
        accounts_json.push(json!({
            "id": account.id.as_str(),
            "username": account.username.as_str(),
            "organisation_code": account.organisation_code.as_str(),
            "status": account.status.as_str(),
            "internet_access": account.internet_access.as_str(),
            "internet_access_changed_at": account.internet_access_changed_at.map(timestamps::text),
            "password_set": account.password_hash.is_some(),
            "password_changed_at": account.password_changed_at.map(timestamps::text),
            "password_history_entries": subjects::password_history_len(conn, &account.id)?,
            "failed_login_count": account.failed_login_count,
            "locked_at": account.locked_at.map(timestamps::text),
            "last_login_at": account.last_login_at.map(timestamps::text),
            "created_at": timestamps::text(account.created_at),
            "sign_in_methods": methods.iter().map(|f| json!({
                "kind": f.kind.as_str(),
                "name": f.name,
                "created_at": timestamps::text(f.created_at),
                "confirmed_at": f.confirmed_at.map(timestamps::text),
                "last_used_at": f.last_used_at.map(timestamps::text),
            })).collect::<Vec<_>>(),
            "unused_recovery_codes": recovery_codes::count_unused(conn, &account.id)?,
            "sessions": sessions.iter().map(|s| json!({
                "id": s.id.as_str(),
                "kind": s.kind.as_str(),
                "created_at": timestamps::text(s.created_at),
                "last_used_at": timestamps::text(s.last_used_at),
                "expires_at": timestamps::text(s.expires_at),
                "ended_at": s.revoked_at.map(timestamps::text),
                "ended_because": s.revoked_reason.map(|r| r.as_str()),
                "ip": s.ip,
                "user_agent": s.user_agent,
            })).collect::<Vec<_>>(),
            "audit_events": subjects::audit_of_account(conn, &account.id)?.iter().map(event).collect::<Vec<_>>(),
        }));
    }
    let record = json!({
        "id": person.id.as_str(),
        "organisation_code": person.organisation_code.as_str(),
        "employee_number": person.employee_number,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "date_of_birth": person.date_of_birth.to_string(),
        "work_email": person.work_email,
        "smartcard_subject": person.smartcard_subject,
        "language": person.language,
        "previous_work_email": person.previous_work_email,
        "created_at": timestamps::text(person.created_at),
        "updated_at": timestamps::text(person.updated_at),
        "accounts": accounts_json,
    });
    Ok((record, ids, usernames))
}

fn event(e: &AuditEvent) -> Value {
    json!({
        "seq": e.seq,
        "at": timestamps::text(e.at.and_utc()),
        "event_type": e.event_type,
        "actor": e.actor,
        "ip": e.ip,
        "user_agent": e.user_agent,
        "details": serde_json::from_str::<Value>(&e.details).unwrap_or(Value::Null),
    })
}

/// Anonymises the person and their accounts in one transaction (see
/// [`subjects::erase`]) and audits it as `actor`'s (the CLI's, or the system's when the purge
/// erases a leaver); `None` when there is no such person.
pub fn erase(
    conn: &mut DbConnection,
    config: &Config,
    actor: &Actor,
    person_id: &PersonId,
    now: DateTime<Utc>,
) -> Result<Option<Erased>, RepoError> {
    conn.write_transaction(|conn| {
        let Some(erased) = subjects::erase(conn, person_id, now)? else {
            return Ok(None);
        };
        audit::record(
            conn,
            &Caller::internal(config.audit_chain.clone()),
            EventType::PersonErased,
            None,
            actor,
            &json!({
                "person_id": person_id.as_str(),
                "accounts": erased.accounts,
                "audit_events_blanked": erased.audit_events,
                "emails_deleted": erased.emails,
            }),
            now,
        )?;
        Ok(Some(erased))
    })
}
