//! "Manage Internet Access" (ESR user guide): what the member of staff sees of their access,
//! and their request for it, at work with a smartcard. Setting the password there is
//! [`super::passwords::set_at_work`].

use chrono::{DateTime, Utc};
use esr_domain::{AccountId, ApprovalMode};
use esr_persistence::accounts::{self, AccountProfile};
use esr_persistence::audit::{Actor, EventType};
use esr_persistence::sessions::{Session, SessionKind};
use esr_persistence::{DbConnection, RepoError, organisations};
use serde_json::json;

use super::{Caller, Failure, audit};
use crate::state::AppState;

/// The page: the account with its person and organisation, and how the organisation approves.
#[derive(Debug, Clone)]
pub struct AccessPage {
    /// The account, person and organisation name.
    pub profile: AccountProfile,
    /// The organisation's approval mode.
    pub approval: ApprovalMode,
}

/// Why the page or a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The account behind the session is gone.
    #[error("account not found")]
    AccountGone,
    /// A password session tried what needs the smartcard.
    #[error("smartcard session required")]
    SmartcardRequired,
    /// Storage or the unexpected.
    #[error(transparent)]
    Failure(#[from] Failure),
}

fn load(conn: &mut DbConnection, account_id: &AccountId) -> Result<Option<AccessPage>, RepoError> {
    let Some(profile) = accounts::profile(conn, account_id)? else {
        return Ok(None);
    };
    let approval = organisations::find(conn, &profile.account.organisation_code)?
        .map(|o| o.internet_access_approval)
        .ok_or_else(|| RepoError::Corrupt("account of a missing organisation".into()))?;
    Ok(Some(AccessPage { profile, approval }))
}

/// The page of the session's account. Any session.
pub async fn page(app: &AppState, session: &Session) -> Result<AccessPage, AccessError> {
    let account_id = session.account_id.clone();
    app.db(move |c| load(c, &account_id))
        .await
        .map_err(Failure::from)?
        .ok_or(AccessError::AccountGone)
}

/// Request Internet Access (workplace session). Organisations with `automatic` approval
/// approve at once; `manual` ones leave the request `pending` for an administrator. Asking
/// again while `pending` or `approved` changes nothing.
pub async fn request(
    app: &AppState,
    caller: &Caller,
    session: &Session,
    now: DateTime<Utc>,
) -> Result<AccessPage, AccessError> {
    if session.kind != SessionKind::Smartcard {
        return Err(AccessError::SmartcardRequired);
    }
    let account_id = session.account_id.clone();
    let caller = caller.clone();
    app.db(move |c| {
        c.write_transaction(|c| {
            let Some(account) = accounts::find_for_update(c, &account_id)? else {
                return Ok(None);
            };
            let mode = organisations::find(c, &account.organisation_code)?
                .map(|o| o.internet_access_approval)
                .ok_or_else(|| RepoError::Corrupt("account of a missing organisation".into()))?;
            if let Ok(next) = account.internet_access.request(mode)
                && accounts::transition_internet_access(
                    c,
                    &account.id,
                    account.internet_access,
                    next,
                    now,
                )?
            {
                audit::record(
                    c,
                    &caller,
                    EventType::InternetAccessRequested,
                    Some(&account.id),
                    &Actor::Account(account.username.clone()),
                    &json!({"from": account.internet_access.as_str(), "to": next.as_str(), "approval": mode.as_str()}),
                    now,
                )?;
            }
            load(c, &account.id)
        })
    })
    .await
    .map_err(Failure::from)?
    .ok_or(AccessError::AccountGone)
}
