//! Leavers: a person who no longer works for the organisation. Their accounts are disabled
//! (every session ended, every link cancelled, internet access revoked), whether the HR
//! feed stops listing them (a full feed import) or an administrator says so; after
//! `ESR_ERASE_LEAVERS_AFTER_DAYS` the purge anonymises them.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use esr_domain::{AccountStatus, InternetAccessStatus, OrganisationCode, PersonId};
use esr_persistence::audit::{Actor, EventType};
use esr_persistence::{DbConnection, RepoError, accounts, people};
use serde_json::json;

use super::consequences::{self, Withdrawal};
use super::{Caller, audit};

/// Marks the person as a leaver and disables each of their accounts with its consequences, in
/// the caller's transaction. `false` when they had left already (nothing is done again).
pub fn leave(
    conn: &mut DbConnection,
    caller: &Caller,
    actor: &Actor,
    person_id: &PersonId,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    if !people::mark_left(conn, person_id, now)? {
        return Ok(false);
    }
    let mut disabled = 0;
    for account in accounts::for_person(conn, person_id)? {
        if account.status != AccountStatus::Disabled
            && accounts::transition_status(
                conn,
                &account.id,
                account.status,
                AccountStatus::Disabled,
                now,
            )?
        {
            disabled += 1;
        }
        if account.internet_access != InternetAccessStatus::NotRequested {
            accounts::set_internet_access(conn, &account.id, InternetAccessStatus::Revoked, now)?;
        }
        let details = json!({"username": account.username.as_str(), "reason": "leaver"});
        consequences::access_withdrawn(
            conn,
            caller,
            actor,
            &account,
            Withdrawal::Disabled,
            details,
            now,
        )?;
    }
    audit::record(
        conn,
        caller,
        EventType::PersonLeft,
        None,
        actor,
        &json!({"person_id": person_id.as_str(), "accounts_disabled": disabled}),
        now,
    )?;
    Ok(true)
}

/// What a full feed's absences would make of the organisation's staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Absent {
    /// These people (the organisation's current staff missing from the file) leave.
    Leave(Vec<PersonId>),
    /// More would leave than the run allows: a truncated or wrong file, most likely. No one
    /// leaves; the count says how many would have.
    TooMany {
        /// People missing from the file.
        absent: usize,
        /// The organisation's current staff.
        staff: usize,
    },
}

/// The organisation's current staff whose employee numbers the feed did not list, unless
/// they are more than `max_percent` of the staff employed before this feed. `created` (the
/// people the feed itself added) do not count towards that staff: padding a file with new
/// rows must not make room for more leavers.
pub fn absent_from_feed(
    conn: &mut DbConnection,
    organisation: &OrganisationCode,
    listed: &HashSet<String>,
    created: usize,
    max_percent: u8,
) -> Result<Absent, RepoError> {
    let staff = people::current_staff(conn, organisation)?;
    let absent: Vec<PersonId> = staff
        .iter()
        .filter(|(_, number)| !listed.contains(number))
        .map(|(id, _)| PersonId::from_stored(id.clone()))
        .collect();
    let before = staff.len().saturating_sub(created);
    if absent.len() * 100 > before * usize::from(max_percent) {
        return Ok(Absent::TooMany {
            absent: absent.len(),
            staff: before,
        });
    }
    Ok(Absent::Leave(absent))
}

/// An administrator says the person has left: the same as their absence from a full feed.
/// `None` when the key cannot see such a person; a person who had left already is answered as
/// they are (nothing is done again).
pub async fn mark_leaver(
    app: &crate::state::AppState,
    caller: &Caller,
    key: &super::administration::AdminKey,
    person_id: PersonId,
    now: DateTime<Utc>,
) -> Result<Option<people::Person>, super::Failure> {
    let caller = caller.clone();
    let key = key.clone();
    Ok(app
        .db(move |c| {
            c.write_transaction(|c| {
                if super::people::visible_person(c, &key, &person_id)?.is_none() {
                    return Ok(None);
                }
                leave(c, &caller, &key.actor(), &person_id, now)?;
                people::find(c, &person_id)
            })
        })
        .await?)
}
