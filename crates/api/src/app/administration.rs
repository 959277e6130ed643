//! Account administration through the admin API: the administrator's key, the status and
//! internet-access decisions on an account, and sending the account holder the recovery
//! email. Administrators never see or set a password.

use chrono::{DateTime, Utc};
use esr_domain::{
    AccountStatus, ApiKeyAccess, ApiKeyName, ApiKeyScope, InternetAccessStatus, OrganisationCode,
    TransitionError, Username,
};
use esr_persistence::accounts::{self, Account};
use esr_persistence::audit::{Actor, EventType};
use esr_persistence::recovery_requests::{self, NewRecoveryRequest, RequestKind};
use esr_persistence::{DbConnection, RepoError, people};
use serde_json::json;

use super::consequences::{self, Withdrawal};
use super::{Caller, Failure, audit};
use crate::state::AppState;

/// The administrator or integrator behind a request: a live API key.
#[derive(Debug, Clone)]
pub struct AdminKey {
    /// The key's id.
    pub id: String,
    /// The key's name (the audit actor is `api-key:{name}`).
    pub name: ApiKeyName,
    /// Which organisations it covers.
    pub scope: ApiKeyScope,
    /// Read only or read-write.
    pub access: ApiKeyAccess,
    /// A read-only key granted the clients behind audit events.
    pub sees_clients: bool,
}

impl AdminKey {
    /// The audit actor: `api-key:{name}`.
    pub fn actor(&self) -> Actor {
        Actor::ApiKey(self.name.to_string())
    }

    /// Whether the key may see `organisation`'s data; when not, answer as for a miss.
    pub fn can_see(&self, organisation: &OrganisationCode) -> bool {
        self.scope.covers(organisation)
    }

    /// Whether the key sees the personal details kept as proof of identity (a date of birth,
    /// a smartcard's identity). A read-only key serves a service desk, which does not need
    /// them: a date of birth and a work email are what the recovery form asks for. Read-write
    /// keys belong to the HR feeds that supply them in the first place.
    pub fn sees_proofs(&self) -> bool {
        self.access == ApiKeyAccess::Write
    }

    /// Whether the key sees the clients behind audit events (IP, user agent such as
    /// `Jane-Smith-iPhone`): read-write keys, and read-only keys granted them for an
    /// investigation (`--sees-clients`).
    pub fn sees_clients(&self) -> bool {
        self.access == ApiKeyAccess::Write || self.sees_clients
    }

    /// The one organisation the key is limited to, if any (for list filters).
    pub fn organisation(&self) -> Option<&OrganisationCode> {
        match &self.scope {
            ApiKeyScope::All => None,
            ApiKeyScope::Organisation(code) => Some(code),
        }
    }
}

/// A search of the audit trail, its parameters already parsed.
#[derive(Debug)]
pub struct AuditSearch {
    /// Only this account's events.
    pub account: Option<AccountRef>,
    /// Only events of this type, as the caller spelled it.
    pub event_type: Option<String>,
    /// Only events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only events before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only events after this sequence number (the cursor).
    pub after: Option<i64>,
    /// Page size.
    pub limit: u32,
}

/// An account as an administrator names it: by username or by id.
#[derive(Debug, Clone)]
pub enum AccountRef {
    /// Its username, e.g. `999JSMITH01`.
    Username(Username),
    /// Its id (the `account_id` of audit events and outbox messages).
    Id(esr_domain::AccountId),
}

impl AccountRef {
    /// A username, or else an account id (a UUID); `None` when it is neither.
    pub fn parse(text: &str) -> Option<Self> {
        if let Ok(username) = Username::parse(text) {
            return Some(Self::Username(username));
        }
        uuid::Uuid::parse_str(text)
            .ok()
            .map(|id| Self::Id(esr_domain::AccountId::from_stored(id.to_string())))
    }

    fn find(&self, conn: &mut DbConnection) -> Result<Option<Account>, RepoError> {
        match self {
            Self::Username(username) => accounts::find_by_username(conn, username),
            Self::Id(id) => accounts::find(conn, id),
        }
    }
}

/// A page of the audit trail as `key` may see it, and the cursor of the next page. An
/// account the key cannot see, or an event type that does not exist, gives an empty page
/// (the same answer as an account with no events, so the filter cannot probe for accounts).
pub fn audit_page(
    conn: &mut DbConnection,
    key: &AdminKey,
    search: &AuditSearch,
) -> Result<(Vec<esr_persistence::audit::AuditEvent>, Option<i64>), RepoError> {
    let nothing = Ok((Vec::new(), None));
    let account_id = match &search.account {
        Some(account) => match account
            .find(conn)?
            .filter(|a| key.can_see(&a.organisation_code))
        {
            Some(account) => Some(account.id),
            None => return nothing,
        },
        None => None,
    };
    let event_type = match search.event_type.as_deref().map(EventType::parse) {
        Some(None) => return nothing,
        Some(known) => known,
        None => None,
    };
    let filter = esr_persistence::audit::AuditFilter {
        account_id,
        event_type,
        since: search.since,
        until: search.until,
        organisation: key.organisation().cloned(),
    };
    esr_persistence::audit::list(conn, &filter, search.after, search.limit)
}

/// The account named by `username` if the key may see it.
pub fn visible_account(
    conn: &mut DbConnection,
    key: &AdminKey,
    username: &str,
) -> Result<Option<Account>, RepoError> {
    let Ok(username) = Username::parse(username) else {
        return Ok(None);
    };
    Ok(accounts::find_by_username(conn, &username)?.filter(|a| key.can_see(&a.organisation_code)))
}

/// [`visible_account`], read again and held for update: two changes to it at once take turns.
fn held_visible_account(
    conn: &mut DbConnection,
    key: &AdminKey,
    username: &str,
) -> Result<Option<Account>, RepoError> {
    let Some(seen) = visible_account(conn, key, username)? else {
        return Ok(None);
    };
    accounts::find_for_update(conn, &seen.id)?
        .ok_or_else(|| RepoError::Corrupt("account vanished".into()))
        .map(Some)
}

/// An administrator's decision about an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountAction {
    /// Unlock a locked account (the password is unchanged).
    Unlock,
    /// Suspend: every session and link ends; login answers `account-suspended`.
    Suspend,
    /// Reactivate a suspended account.
    Reactivate,
    /// Approve a pending request for internet access.
    ApproveAccess,
    /// Reject a pending request for internet access.
    RejectAccess,
    /// Revoke approved internet access: every session and link ends.
    RevokeAccess,
}

impl AccountAction {
    fn event(self) -> EventType {
        match self {
            Self::Unlock => EventType::AdminAccountUnlocked,
            Self::Suspend => EventType::AdminAccountSuspended,
            Self::Reactivate => EventType::AdminAccountReactivated,
            Self::ApproveAccess => EventType::AdminInternetAccessApproved,
            Self::RejectAccess => EventType::AdminInternetAccessRejected,
            Self::RevokeAccess => EventType::AdminInternetAccessRevoked,
        }
    }

    /// The withdrawal this decision is, if it takes the account away from its holder.
    fn withdrawal(self) -> Option<Withdrawal> {
        match self {
            Self::Suspend => Some(Withdrawal::Suspended),
            Self::RejectAccess => Some(Withdrawal::AccessRejected),
            Self::RevokeAccess => Some(Withdrawal::AccessRevoked),
            Self::Unlock | Self::Reactivate | Self::ApproveAccess => None,
        }
    }

    /// Whether the account is already as the decision would leave it (suspending a suspended
    /// account): a retried request then answers with the account, changing nothing.
    fn already_done(self, account: &Account) -> bool {
        match self {
            Self::Unlock | Self::Reactivate => account.status == AccountStatus::Active,
            Self::Suspend => account.status == AccountStatus::Suspended,
            Self::ApproveAccess => account.internet_access == InternetAccessStatus::Approved,
            Self::RejectAccess => account.internet_access == InternetAccessStatus::Rejected,
            Self::RevokeAccess => account.internet_access == InternetAccessStatus::Revoked,
        }
    }

    /// The account as it would be after the decision, or the domain's refusal.
    fn apply(self, account: &Account) -> Result<Change, TransitionError> {
        let status = |to| Change::Status {
            from: account.status,
            to,
        };
        let access = |to| Change::Access {
            from: account.internet_access,
            to,
        };
        Ok(match self {
            Self::Unlock => status(account.status.unlock()?),
            Self::Suspend => status(account.status.suspend()?),
            Self::Reactivate => status(account.status.reactivate()?),
            Self::ApproveAccess => access(account.internet_access.approve()?),
            Self::RejectAccess => access(account.internet_access.reject()?),
            Self::RevokeAccess => access(account.internet_access.revoke()?),
        })
    }
}

enum Change {
    Status {
        from: AccountStatus,
        to: AccountStatus,
    },
    Access {
        from: InternetAccessStatus,
        to: InternetAccessStatus,
    },
}

/// Why an administrator's request about an account was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminActionError {
    /// No such account, or one of an organisation the key does not cover.
    #[error("account not found")]
    NotFound,
    /// The account's state does not allow the decision.
    #[error(transparent)]
    Refused(#[from] TransitionError),
    /// The recovery email is only for accounts with internet access approved.
    #[error("internet access not approved")]
    AccessNotApproved,
    /// The recovery email is not sent to a suspended or disabled account.
    #[error("account not usable")]
    AccountNotUsable,
    /// The person's work email or smartcard changed recently; recovery waits until then.
    #[error("contact change hold until {0}")]
    ContactChangeHold(DateTime<Utc>),
    /// Administrators have asked for as many recovery emails to this account or its mailbox
    /// as they may this hour.
    #[error("too many recovery emails")]
    TooManyEmails,
    /// Storage or the unexpected.
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// Applies an administrator's decision to the account named `username`, with its audit event
/// and, for a suspension, rejection or revocation, the consequences of the withdrawal, in one
/// transaction on the held account row. Returns the account as it now is; one already as the
/// decision would leave it is returned unchanged, with no event (a retry is harmless).
pub async fn decide(
    app: &AppState,
    caller: &Caller,
    key: &AdminKey,
    username: String,
    action: AccountAction,
    now: DateTime<Utc>,
) -> Result<Account, AdminActionError> {
    let caller = caller.clone();
    let key = key.clone();
    app.db(move |c| {
        c.write_transaction(|c| decide_in_transaction(c, &caller, &key, &username, action, now))
    })
    .await
    .map_err(Failure::from)?
}

fn decide_in_transaction(
    conn: &mut DbConnection,
    caller: &Caller,
    key: &AdminKey,
    username: &str,
    action: AccountAction,
    now: DateTime<Utc>,
) -> Result<Result<Account, AdminActionError>, RepoError> {
    let Some(account) = held_visible_account(conn, key, username)? else {
        return Ok(Err(AdminActionError::NotFound));
    };
    if action.already_done(&account) {
        return Ok(Ok(account));
    }
    let change = match action.apply(&account) {
        Ok(change) => change,
        Err(refused) => return Ok(Err(refused.into())),
    };
    match change {
        Change::Status { from, to } => {
            accounts::transition_status(conn, &account.id, from, to, now)?
        }
        Change::Access { from, to } => {
            accounts::transition_internet_access(conn, &account.id, from, to, now)?
        }
    };
    if action == AccountAction::Unlock {
        consequences::unlocked_by_administrator(conn, &account, now)?;
    }
    let after = accounts::find(conn, &account.id)?
        .ok_or_else(|| RepoError::Corrupt("account vanished".into()))?;
    let details = json!({
        "username": after.username.as_str(),
        "status": after.status.as_str(),
        "internet_access": after.internet_access.as_str(),
    });
    match action.withdrawal() {
        Some(withdrawal) => consequences::access_withdrawn(
            conn,
            caller,
            &key.actor(),
            &after,
            withdrawal,
            details,
            now,
        )?,
        None => audit::record(
            conn,
            caller,
            action.event(),
            Some(&after.id),
            &key.actor(),
            &details,
            now,
        )?,
    }
    Ok(Ok(after))
}

/// Sends the account holder the self-service recovery email (username and a password-reset
/// link) by queueing the very request the Forgotten form makes; the administrator never sees
/// the link.
pub async fn send_recovery_email(
    app: &AppState,
    caller: &Caller,
    key: &AdminKey,
    username: String,
    now: DateTime<Utc>,
) -> Result<(), AdminActionError> {
    let caller = caller.clone();
    let key = key.clone();
    let hold = super::contact_change_hold(&app.config);
    let mailbox_share = app.config.emails_per_address_per_hour;
    app.db(move |c| {
        c.write_transaction(|c| {
            // Held, so two requests at once count each other.
            let Some(account) = held_visible_account(c, &key, &username)? else {
                return Ok(Err(AdminActionError::NotFound));
            };
            if account.internet_access != InternetAccessStatus::Approved {
                return Ok(Err(AdminActionError::AccessNotApproved));
            }
            if matches!(
                account.status,
                AccountStatus::Suspended | AccountStatus::Disabled
            ) {
                return Ok(Err(AdminActionError::AccountNotUsable));
            }
            let person = people::find(c, &account.person_id)?
                .ok_or_else(|| RepoError::Corrupt("account without person".into()))?;
            if let Some(until) = person.contact_hold_until(hold, now) {
                return Ok(Err(AdminActionError::ContactChangeHold(until)));
            }
            if administrators_sent_enough(c, &account.id, &person.work_email, mailbox_share, now)? {
                return Ok(Err(AdminActionError::TooManyEmails));
            }
            let ip = caller.ip_text();
            recovery_requests::enqueue(
                c,
                &NewRecoveryRequest {
                    kind: RequestKind::Recovery,
                    work_email: &person.work_email,
                    date_of_birth: person.date_of_birth,
                    username: Some(account.username.as_str()),
                    ip: Some(&ip),
                    user_agent: caller.user_agent.as_deref(),
                    request_id: Some(&caller.request_id),
                },
                now,
            )?;
            audit::record(
                c,
                &caller,
                EventType::AdminRecoveryEmailRequested,
                Some(&account.id),
                &key.actor(),
                &json!({"username": account.username.as_str()}),
                now,
            )?;
            Ok(Ok(()))
        })
    })
    .await
    .map_err(Failure::from)??;
    Ok(())
}

/// Recovery emails administrators may ask for about one account in an hour.
const ADMIN_RECOVERY_EMAILS_PER_ACCOUNT_HOUR: i64 = 3;

/// Whether administrators have asked for enough recovery emails: three about the account this
/// hour, or half the mailbox's hourly share spent already. A record an organisation makes with
/// someone else's address (any organisation can) must not spend the share that person's own
/// Forgotten requests need.
fn administrators_sent_enough(
    conn: &mut DbConnection,
    account_id: &esr_domain::AccountId,
    work_email: &str,
    mailbox_share: u32,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let hour_ago = now - chrono::Duration::hours(1);
    let asked = esr_persistence::audit::count_since(
        conn,
        account_id,
        EventType::AdminRecoveryEmailRequested,
        hour_ago,
    )?;
    if asked >= ADMIN_RECOVERY_EMAILS_PER_ACCOUNT_HOUR {
        return Ok(true);
    }
    let half_share = i64::from(mailbox_share / 2);
    Ok(mailbox_share > 0
        && esr_persistence::outbox::queued_to_since(conn, work_email, hour_ago)? >= half_share)
}

/// Resets the second factors of the account named `username` (a lost phone with no recovery
/// codes left): every factor and recovery code goes, every session ends, and the holder is
/// emailed. The next password login then asks for no factor, or, where the organisation
/// requires one, opens only enrolment.
pub async fn reset_factors(
    app: &AppState,
    caller: &Caller,
    key: &AdminKey,
    username: String,
    now: DateTime<Utc>,
) -> Result<Account, AdminActionError> {
    let caller = caller.clone();
    let key = key.clone();
    app.db(move |c| {
        c.write_transaction(|c| {
            let Some(account) = held_visible_account(c, &key, &username)? else {
                return Ok(Err(AdminActionError::NotFound));
            };
            consequences::factors_reset(c, &caller, &key.actor(), &account, now)?;
            Ok(Ok(account))
        })
    })
    .await
    .map_err(Failure::from)?
}
