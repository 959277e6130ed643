//! What each account event does, written once (SPEC §2 "Consequences of account events", kept
//! as a table in docs/ARCHITECTURE.md). Each function is one row of that table: it applies
//! every consequence of its event, in the caller's write transaction, so an event can never
//! happen without its consequences or with only some of them.
//!
//! | event | links | sessions | emails | audit |
//! |---|---|---|---|---|
//! | [`password_set`] | cancelled | others revoked (all for a reset) | "password changed" | `password.changed` / `.reset` / `.set` |
//! | [`work_email_changed`] | cancelled | – | notice to the old and the new address (with no account: about the record) | old/new digests, account ids |
//! | [`smartcard_changed`] | cancelled | workplace sessions revoked | notice to the work email, and the old one if replaced too (with no account: about the record); other organisations' records of the card told | old/new digests, account ids |
//! | [`access_withdrawn`] | cancelled | all revoked | – | actor, reason |
//! | [`account_locked`] | – | all revoked | "account locked" | `account.locked` |
//! | [`unlocked_by_administrator`] | unlock links cancelled | – | – | the caller's `admin.account.unlocked` |
//! | [`factor_added`] | – | password-only sessions revoked (the first factor) | "sign-in method added" | `mfa.factor_added` |
//! | [`factor_removed`] | – | others revoked | "sign-in method removed" | `mfa.factor_removed` |
//! | [`factors_reset`] | second-step tokens cancelled | all revoked | "sign-in methods reset" | `admin.account.factors_reset` |
//!
//! "Links" here means reset and unlock links and, beside them, second-factor challenges and
//! enrolment links (locking cancels the challenges only).
//!
//! Callers check first that the event may happen (on a row they hold, see
//! `accounts::find_for_update`); these functions do not decide, they apply.

use chrono::{DateTime, SecondsFormat, Utc};
use esr_domain::SessionId;
use esr_persistence::accounts::{self, Account, AccountProfile};
use esr_persistence::audit::{Actor, EventType};
use esr_persistence::outbox::{self, EmailKind, NewMessage};
use esr_persistence::people::Person;
use esr_persistence::second_factors;
use esr_persistence::sessions::{self, RevokeReason, SessionKind};
use esr_persistence::{
    DbConnection, RepoError, mfa_tokens, one_time_tokens, organisations, people, recovery_codes,
};
use serde_json::{Value, json};

use super::{Caller, audit};
use crate::audit::DigestKey;

/// How a new password came to be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordPath {
    /// Changed at home or in the app, with the current password.
    ChangedAtHome,
    /// Reset with the link of a recovery email.
    ResetByLink,
    /// Set at work in Manage Internet Access, the smartcard being the proof.
    SetAtWork,
}

impl PasswordPath {
    fn event(self) -> EventType {
        match self {
            Self::ChangedAtHome => EventType::PasswordChanged,
            Self::ResetByLink => EventType::PasswordReset,
            Self::SetAtWork => EventType::PasswordSet,
        }
    }

    fn revoke_reason(self) -> RevokeReason {
        match self {
            Self::ChangedAtHome => RevokeReason::PasswordChanged,
            Self::ResetByLink => RevokeReason::PasswordReset,
            Self::SetAtWork => RevokeReason::PasswordSet,
        }
    }

    /// The old password stops mattering, so neither does a lock earned by guessing it.
    fn unlocks(self) -> bool {
        self != Self::ChangedAtHome
    }

    fn via(self) -> &'static str {
        match self {
            Self::ChangedAtHome => "me",
            Self::ResetByLink => "email_link",
            Self::SetAtWork => "smartcard",
        }
    }
}

/// A new password, hashed and checked against the policy, for an account whose state the
/// caller has just re-checked.
#[derive(Debug, Clone, Copy)]
pub struct PasswordSet<'a> {
    /// The account as it was when re-checked (inside this transaction).
    pub account: &'a Account,
    /// The PHC hash of the new password.
    pub new_hash: &'a str,
    /// How it was set.
    pub path: PasswordPath,
    /// The session that set it, which continues (a reset by link has none).
    pub keep_session: Option<&'a SessionId>,
}

/// What setting a password ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordSetEffects {
    /// Sessions revoked.
    pub sessions_ended: usize,
    /// Reset and unlock links cancelled.
    pub links_cancelled: usize,
}

/// Row "password set": stores the hash (unlocking for a reset or a set at work), cancels every
/// outstanding link, revokes every other session, queues "your password was changed", audits.
pub fn password_set(
    conn: &mut DbConnection,
    caller: &Caller,
    set: &PasswordSet<'_>,
    now: DateTime<Utc>,
) -> Result<PasswordSetEffects, RepoError> {
    let account = set.account;
    accounts::set_password(conn, &account.id, set.new_hash, set.path.unlocks(), now)?;
    let links_cancelled = cancel_links(conn, &account.id, now)?;
    let sessions_ended = sessions::revoke_all_for_account(
        conn,
        &account.id,
        set.keep_session,
        set.path.revoke_reason(),
        now,
    )?;
    notify_holder(conn, account, EmailKind::PasswordChanged, now)?;
    let ended_key = if set.keep_session.is_some() {
        "other_sessions_ended"
    } else {
        "sessions_ended"
    };
    let mut details = json!({
        "via": set.path.via(),
        ended_key: sessions_ended,
        "links_cancelled": links_cancelled,
    });
    if set.path == PasswordPath::SetAtWork {
        details["unlocked"] = json!(account.status == esr_domain::AccountStatus::Locked);
    }
    audit::record(
        conn,
        caller,
        set.path.event(),
        Some(&account.id),
        &Actor::Account(account.username.clone()),
        &details,
        now,
    )?;
    Ok(PasswordSetEffects {
        sessions_ended,
        links_cancelled,
    })
}

/// Row "locked": the fifth consecutive failure ends every session and tells the holder how
/// to unlock. Links stay: an unlock or reset link is the way back in.
pub fn account_locked(
    conn: &mut DbConnection,
    caller: &Caller,
    account: &Account,
    failed_logins: u32,
    now: DateTime<Utc>,
) -> Result<usize, RepoError> {
    let ended = sessions::revoke_all_for_account(
        conn,
        &account.id,
        None,
        RevokeReason::AccountLocked,
        now,
    )?;
    // A second-factor challenge earned before the lock must not finish a login after it.
    mfa_tokens::void_all(conn, &account.id, now)?;
    audit::record(
        conn,
        caller,
        EventType::AccountLocked,
        Some(&account.id),
        &Actor::System,
        &json!({"failed_logins": failed_logins, "sessions_ended": ended}),
        now,
    )?;
    notify_holder(conn, account, EmailKind::AccountLocked, now)?;
    Ok(ended)
}

/// Row "unlocked by an administrator": an unlock link still in the mailbox has done its work;
/// left alive it would lift the next lock (one earned by guessing) without anyone noticing.
/// Reset links stay: the holder may still have forgotten the password.
pub fn unlocked_by_administrator(
    conn: &mut DbConnection,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<usize, RepoError> {
    one_time_tokens::invalidate_purpose(
        conn,
        &account.id,
        esr_domain::TokenPurpose::AccountUnlock,
        now,
    )
}

/// Why an account may no longer be used from home.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withdrawal {
    /// An administrator suspended the account.
    Suspended,
    /// The account was disabled.
    Disabled,
    /// An administrator rejected the request for internet access.
    AccessRejected,
    /// An administrator revoked internet access.
    AccessRevoked,
    /// No login for longer than the organisation's inactivity limit.
    AccessLapsed,
}

impl Withdrawal {
    fn event(self) -> EventType {
        match self {
            Self::Suspended => EventType::AdminAccountSuspended,
            Self::Disabled => EventType::AccountDisabled,
            Self::AccessRejected => EventType::AdminInternetAccessRejected,
            Self::AccessRevoked => EventType::AdminInternetAccessRevoked,
            Self::AccessLapsed => EventType::InternetAccessLapsed,
        }
    }

    fn revoke_reason(self) -> RevokeReason {
        match self {
            Self::Suspended => RevokeReason::AccountSuspended,
            Self::Disabled => RevokeReason::AccountDisabled,
            Self::AccessRejected => RevokeReason::InternetAccessRejected,
            Self::AccessRevoked => RevokeReason::InternetAccessRevoked,
            Self::AccessLapsed => RevokeReason::InternetAccessLapsed,
        }
    }
}

/// Row "suspended, disabled, internet access rejected or revoked": every link is cancelled
/// (a link sent before must not work after, nor after a reactivation) and every session
/// ends. `details` (an object) is what the caller records of the change; the effects are
/// added to it.
pub fn access_withdrawn(
    conn: &mut DbConnection,
    caller: &Caller,
    actor: &Actor,
    account: &Account,
    withdrawal: Withdrawal,
    mut details: Value,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let links_cancelled = cancel_links(conn, &account.id, now)?;
    let sessions_ended =
        sessions::revoke_all_for_account(conn, &account.id, None, withdrawal.revoke_reason(), now)?;
    details["links_cancelled"] = json!(links_cancelled);
    details["sessions_ended"] = json!(sessions_ended);
    audit::record(
        conn,
        caller,
        withdrawal.event(),
        Some(&account.id),
        actor,
        &details,
        now,
    )
}

/// Row "work email changed" (admin API or HR import): links sent to the old address stop
/// working, and both addresses are told, so a takeover by changing the address is never
/// silent.
pub fn work_email_changed(
    conn: &mut DbConnection,
    caller: &Caller,
    actor: &Actor,
    digests: &DigestKey,
    person: &Person,
    old_email: &str,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let held = accounts::for_person(conn, &person.id)?;
    let mut links_cancelled = 0;
    for account in &held {
        links_cancelled += cancel_links(conn, &account.id, now)?;
        let profile = profile_of(conn, account)?;
        for address in told_of_contact_change(person, Some(old_email), now) {
            queue_notice(conn, &profile, address, EmailKind::WorkEmailChanged, now)?;
        }
    }
    if held.is_empty() {
        // Whoever registers for remote access later would do so with the new address.
        for address in told_of_contact_change(person, Some(old_email), now) {
            queue_record_notice(conn, person, address, EmailKind::WorkEmailChanged, now)?;
        }
    }
    audit::record(
        conn,
        caller,
        EventType::WorkEmailChanged,
        single_account(&held),
        actor,
        &json!({
            "person_id": person.id,
            "account_ids": held.iter().map(|a| &a.id).collect::<Vec<_>>(),
            "old_email_digest": digests.digest(old_email),
            "new_email_digest": digests.digest(&person.work_email),
            "links_cancelled": links_cancelled,
        }),
        now,
    )
}

/// Row "smartcard subject changed": links are cancelled, workplace sessions opened with the
/// old card end (a card is proof enough to set a password at work), and the holder is told
/// (at the old address too when the same change replaced the work email). The card's
/// holder's records at other organisations are told that it was linked here.
pub fn smartcard_changed(
    conn: &mut DbConnection,
    caller: &Caller,
    actor: &Actor,
    digests: &DigestKey,
    change: &CardChange<'_>,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let CardChange {
        person,
        old_subject,
        old_email,
    } = *change;
    let held = accounts::for_person(conn, &person.id)?;
    let mut links_cancelled = 0;
    let mut sessions_ended = 0;
    for account in &held {
        links_cancelled += cancel_links(conn, &account.id, now)?;
        sessions_ended += sessions::revoke_kind_for_account(
            conn,
            &account.id,
            SessionKind::Smartcard,
            None,
            RevokeReason::SmartcardChanged,
            now,
        )?;
        let profile = profile_of(conn, account)?;
        for address in told_of_contact_change(person, old_email, now) {
            queue_notice(conn, &profile, address, EmailKind::SmartcardChanged, now)?;
        }
    }
    if held.is_empty() {
        // The new card could register for remote access in this person's name.
        for address in told_of_contact_change(person, old_email, now) {
            queue_record_notice(conn, person, address, EmailKind::SmartcardChanged, now)?;
        }
    }
    smartcard_linked(conn, person, now)?;
    let digest = |subject: Option<&str>| subject.map(|s| digests.digest(s));
    audit::record(
        conn,
        caller,
        EventType::SmartcardSubjectChanged,
        single_account(&held),
        actor,
        &json!({
            "person_id": person.id,
            "account_ids": held.iter().map(|a| &a.id).collect::<Vec<_>>(),
            "old_subject_digest": digest(old_subject),
            "new_subject_digest": digest(person.smartcard_subject.as_deref()),
            "links_cancelled": links_cancelled,
            "sessions_ended": sessions_ended,
        }),
        now,
    )
}

/// Who hears of a change of contact details, each address once: the work email on record,
/// the one the same change replaced (if it did), and the one on record before an earlier
/// change whose hold still runs (a second change must not silence the first).
fn told_of_contact_change<'a>(
    person: &'a Person,
    replaced_email: Option<&'a str>,
    now: DateTime<Utc>,
) -> Vec<&'a str> {
    let mut told = vec![person.work_email.as_str()];
    for address in replaced_email
        .into_iter()
        .chain(person.previous_email_to_tell(now))
    {
        if !told.contains(&address) {
            told.push(address);
        }
    }
    told
}

/// A smartcard subject changing, as [`smartcard_changed`] applies it.
#[derive(Debug, Clone, Copy)]
pub struct CardChange<'a> {
    /// The person after the change.
    pub person: &'a Person,
    /// The subject before it (`None`: no card was linked).
    pub old_subject: Option<&'a str>,
    /// The work email before it, when the same change replaced the email too.
    pub old_email: Option<&'a str>,
}

/// A card was linked to `person` (created with it, or changed to it): the holder's records at
/// other organisations that carry the same card are told, so an organisation that links
/// someone else's card to a record it controls is never silent. (A card is unique within an
/// organisation, not across them: one member of staff may work for several.)
pub fn smartcard_linked(
    conn: &mut DbConnection,
    person: &Person,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let Some(subject) = person.smartcard_subject.as_deref() else {
        return Ok(());
    };
    let here = organisation_of(conn, person)?;
    let elsewhere = people::find_by_smartcard_subject(conn, subject, MOST_RECORDS_TOLD)?;
    for other in elsewhere
        .iter()
        .filter(|p| p.organisation_code != person.organisation_code)
    {
        let theirs = organisation_of(conn, other)?;
        let payload = json!({
            "organisation_code": theirs.code.as_str(),
            "organisation_name": theirs.name,
            "other_organisation_code": here.code.as_str(),
            "other_organisation_name": here.name,
            "at": now.to_rfc3339_opts(SecondsFormat::Secs, true),
        });
        outbox::enqueue(
            conn,
            &NewMessage {
                kind: EmailKind::SmartcardLinkedElsewhere,
                recipient: &other.work_email,
                language: &other.language,
                account_id: None,
                payload: &payload,
            },
            now,
        )?;
    }
    Ok(())
}

/// Most of a card holder's other records told of a new link.
const MOST_RECORDS_TOLD: i64 = 20;

/// Every outstanding link and second-step token of the account: reset and unlock links,
/// second-factor challenges and enrolment links. Returns how many there were.
fn cancel_links(
    conn: &mut DbConnection,
    account_id: &esr_domain::AccountId,
    now: DateTime<Utc>,
) -> Result<usize, RepoError> {
    Ok(one_time_tokens::invalidate_all(conn, account_id, now)?
        + mfa_tokens::void_all(conn, account_id, now)?)
}

/// Row "second factor added": with the account's first factor, a password alone no longer
/// opens it, so every other session opened with a password alone ends (one may be whoever
/// learnt the password); the holder is told at the work email, and it is audited.
pub fn factor_added(
    conn: &mut DbConnection,
    caller: &Caller,
    account: &Account,
    factor: &second_factors::StoredFactor,
    confirmed_by: &SessionId,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let sessions_ended =
        sessions::revoke_password_only_for_account(conn, &account.id, confirmed_by, now)?;
    notify_holder(conn, account, EmailKind::FactorAdded, now)?;
    audit::record(
        conn,
        caller,
        EventType::FactorAdded,
        Some(&account.id),
        &Actor::Account(account.username.clone()),
        &json!({
            "factor_id": factor.id,
            "kind": factor.kind.as_str(),
            "password_only_sessions_ended": sessions_ended,
        }),
        now,
    )
}

/// Row "second factor removed by the holder": every other session ends (one may have been
/// opened with the factor now gone), the last factor takes the recovery codes with it,
/// and the holder is told.
pub fn factor_removed(
    conn: &mut DbConnection,
    caller: &Caller,
    account: &Account,
    factor: &second_factors::StoredFactor,
    keep_session: &SessionId,
    now: DateTime<Utc>,
) -> Result<usize, RepoError> {
    // A pending factor never opened a session: removing it ends none.
    let sessions_ended = if factor.is_confirmed() {
        sessions::revoke_all_for_account(
            conn,
            &account.id,
            Some(keep_session),
            RevokeReason::FactorRemoved,
            now,
        )?
    } else {
        0
    };
    let last = factor.is_confirmed() && second_factors::count_confirmed(conn, &account.id)? == 0;
    if last {
        recovery_codes::remove_all(conn, &account.id)?;
    }
    if factor.is_confirmed() {
        notify_holder(conn, account, EmailKind::FactorRemoved, now)?;
    }
    audit::record(
        conn,
        caller,
        EventType::FactorRemoved,
        Some(&account.id),
        &Actor::Account(account.username.clone()),
        &json!({
            "factor_id": factor.id,
            "kind": factor.kind.as_str(),
            "was_confirmed": factor.is_confirmed(),
            "other_sessions_ended": sessions_ended,
            "recovery_codes_removed": last,
        }),
        now,
    )?;
    Ok(sessions_ended)
}

/// A recovery code signed someone in: the holder is told, since a code taken from where it
/// was kept would otherwise open the account unnoticed.
pub fn recovery_code_used(
    conn: &mut DbConnection,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    notify_holder(conn, account, EmailKind::RecoveryCodeUsed, now)
}

/// A new set of recovery codes replaced the old: the holder is told.
pub fn recovery_codes_replaced(
    conn: &mut DbConnection,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    notify_holder(conn, account, EmailKind::RecoveryCodesReplaced, now)
}

/// Row "second factors reset by an administrator": every factor and recovery code goes,
/// second-step tokens are cancelled, every session ends, and the holder is told.
pub fn factors_reset(
    conn: &mut DbConnection,
    caller: &Caller,
    actor: &Actor,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let factors_removed = second_factors::remove_all(conn, &account.id)?;
    recovery_codes::remove_all(conn, &account.id)?;
    let tokens_cancelled = mfa_tokens::void_all(conn, &account.id, now)?;
    let sessions_ended =
        sessions::revoke_all_for_account(conn, &account.id, None, RevokeReason::FactorsReset, now)?;
    notify_holder(conn, account, EmailKind::FactorsReset, now)?;
    audit::record(
        conn,
        caller,
        EventType::AdminFactorsReset,
        Some(&account.id),
        actor,
        &json!({
            "factors_removed": factors_removed,
            "tokens_cancelled": tokens_cancelled,
            "sessions_ended": sessions_ended,
        }),
        now,
    )
}

/// The audit row's account when the event concerns exactly one.
fn single_account(held: &[Account]) -> Option<&esr_domain::AccountId> {
    match held {
        [only] => Some(&only.id),
        _ => None,
    }
}

/// The account with its person and organisation name (every account has them).
pub(super) fn profile_of(
    conn: &mut DbConnection,
    account: &Account,
) -> Result<AccountProfile, RepoError> {
    accounts::profile(conn, &account.id)?
        .ok_or_else(|| RepoError::Corrupt(format!("account {} has no profile", account.id)))
}

/// Queues a notice about the account to its holder's work email, and, during a contact-change
/// hold, to the address on record before it: whoever changed the address must not be the only
/// one to hear what happens next.
fn notify_holder(
    conn: &mut DbConnection,
    account: &Account,
    kind: EmailKind,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let profile = profile_of(conn, account)?;
    let addresses: Vec<String> = std::iter::once(profile.person.work_email.clone())
        .chain(
            profile
                .person
                .previous_email_to_tell(now)
                .map(str::to_owned),
        )
        .collect();
    for address in &addresses {
        queue_notice(conn, &profile, address, kind, now)?;
    }
    Ok(())
}

/// The person's organisation (every person has one).
fn organisation_of(
    conn: &mut DbConnection,
    person: &Person,
) -> Result<organisations::Organisation, RepoError> {
    organisations::find(conn, &person.organisation_code)?
        .ok_or_else(|| RepoError::Corrupt(format!("person {} has no organisation", person.id)))
}

/// Queues a notice about the staff record of a person who has no account yet, so a change
/// of their contact details is never silent either.
fn queue_record_notice(
    conn: &mut DbConnection,
    person: &Person,
    address: &str,
    kind: EmailKind,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let organisation = organisation_of(conn, person)?;
    let payload = json!({
        "organisation_code": organisation.code.as_str(),
        "organisation_name": organisation.name,
        "at": now.to_rfc3339_opts(SecondsFormat::Secs, true),
    });
    outbox::enqueue(
        conn,
        &NewMessage {
            kind,
            recipient: address,
            language: &person.language,
            account_id: None,
            payload: &payload,
        },
        now,
    )?;
    Ok(())
}

fn queue_notice(
    conn: &mut DbConnection,
    profile: &AccountProfile,
    address: &str,
    kind: EmailKind,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let payload = json!({
        "username": profile.account.username.as_str(),
        "organisation_code": profile.account.organisation_code.as_str(),
        "organisation_name": profile.organisation_name,
        "at": now.to_rfc3339_opts(SecondsFormat::Secs, true),
    });
    outbox::enqueue(
        conn,
        &NewMessage {
            kind,
            recipient: address,
            language: &profile.person.language,
            account_id: Some(&profile.account.id),
            payload: &payload,
        },
        now,
    )?;
    Ok(())
}
