//! The application layer: every use case that reads or changes an account, one function each.
//!
//! A use case takes domain values (already parsed), the [`Caller`] and `now`, does its reads,
//! its hashing and its calls to the identity provider, then makes its change in **one write
//! transaction** and returns a typed outcome. Route handlers only extract, call and map; the
//! CLI and the delivery worker call the same functions.
//!
//! What an account event does to links, sessions, emails and the audit trail is written once,
//! in [`consequences`] (SPEC §2 "Consequences of account events"); use cases call it and never
//! repeat any of it.

pub mod administration;
pub mod api_keys;
pub mod audit;
pub mod caller;
pub mod challenge;
pub mod consequences;
pub mod factors;
pub mod failure;
pub mod import;
pub mod internet_access;
pub mod leavers;
pub mod lockout;
pub mod organisations;
pub mod passkey_sign_in;
pub mod passkeys;
pub mod passwords;
pub mod people;
pub mod recovery;
pub mod retention;
pub mod second_step;
pub mod sessions;
pub mod smartcard;
pub mod subject_rights;
pub mod versions;

pub use caller::Caller;
pub use failure::Failure;

/// How long a change of work email or smartcard holds recovery and setting a password at work.
pub fn contact_change_hold(config: &crate::config::Config) -> chrono::Duration {
    chrono::Duration::from_std(config.contact_change_hold).unwrap_or(chrono::Duration::zero())
}

/// When the contact-change hold binds `session`, its end: a workplace session that showed no
/// second factor, of a person whose work email or smartcard changed within the hold. Changing
/// a card ends the old card's workplace sessions, so such a session was opened with the card
/// just linked, perhaps by whoever wants the account: until the hold ends it may look at
/// Manage Internet Access but not act on the account or its other sessions.
pub fn workplace_session_held(
    conn: &mut esr_persistence::DbConnection,
    session: &esr_persistence::sessions::Session,
    hold: chrono::Duration,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, esr_persistence::RepoError> {
    use esr_persistence::sessions::SessionKind;
    if session.kind != SessionKind::Smartcard || session.second_factor.is_some() {
        return Ok(None);
    }
    let Some(account) = esr_persistence::accounts::find(conn, &session.account_id)? else {
        return Ok(None);
    };
    Ok(esr_persistence::people::find(conn, &account.person_id)?
        .and_then(|person| person.contact_hold_until(hold, now)))
}
