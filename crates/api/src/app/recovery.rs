//! Forgotten username or password, and Unlock Account, from home: the two request forms
//! (answered the same whatever matched; the delivery worker matches them later) and the
//! links their emails carry. The reset link's form itself is [`super::passwords::reset_by_link`].

use chrono::{DateTime, Duration, Utc};
use esr_domain::{
    AccountStatus, DateOfBirth, InternetAccessStatus, OneTimeToken, PlainToken, TokenError,
    TokenPurpose, Username, WorkEmail,
};
use esr_persistence::accounts::{self, Account};
use esr_persistence::audit::{Actor, EventType};
use esr_persistence::one_time_tokens::{self, StoredToken};
use esr_persistence::outbox::{self, EmailKind, NewMessage};
use esr_persistence::recovery_requests::{self, NewRecoveryRequest, RecoveryRequest, RequestKind};
use esr_persistence::{DbConnection, RepoError, organisations, people};
use serde_json::json;

use super::{Caller, Failure, audit};
use crate::config::Config;
use crate::email::templates::{RecoveryAccount, RecoveryPayload, UnlockPayload};
use crate::rate_limit::Limited;
use crate::state::AppState;

/// A Forgotten or Unlock Account form, parsed.
#[derive(Debug, Clone)]
pub struct RecoveryForm {
    /// Which form.
    pub kind: RequestKind,
    /// The work email typed.
    pub email: WorkEmail,
    /// The date of birth typed.
    pub date_of_birth: DateOfBirth,
    /// The username typed, if any (Unlock Account requires one).
    pub username: Option<Username>,
}

/// Why a request form was not taken.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Too many requests from this client or for this email.
    #[error("rate limited")]
    RateLimited(Limited),
    /// Storage or the unexpected.
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// Takes a request: stores it for the delivery worker and wakes it. Nothing here depends on
/// whether anything matches, so the answer cannot tell.
pub async fn submit_request(
    app: &AppState,
    caller: &Caller,
    form: RecoveryForm,
    now: DateTime<Utc>,
) -> Result<(), SubmitError> {
    // Keyed on the email and date of birth typed together: requests with a made-up date of
    // birth spend their own allowance, never the one the holder's own request needs. (The
    // mailbox's hourly share bounds what reaches the inbox whatever was typed.)
    let typed = format!("{}|{}", form.email.as_str(), form.date_of_birth.date());
    let limited = match app.limits.recovery_per_ip.check(&caller.limit_key()).await {
        Ok(()) => app.limits.recovery_per_email.check(&typed).await,
        refused => refused,
    };
    limited.map_err(|limited| {
        app.metrics.security_event("recovery.rate_limited");
        SubmitError::RateLimited(limited)
    })?;
    let caller = caller.clone();
    let kind = form.kind;
    app.db(move |c| {
        let ip = caller.ip_text();
        recovery_requests::enqueue(
            c,
            &NewRecoveryRequest {
                kind: form.kind,
                work_email: form.email.as_str(),
                date_of_birth: form.date_of_birth.date(),
                username: form.username.as_ref().map(Username::as_str),
                ip: Some(&ip),
                user_agent: caller.user_agent.as_deref(),
                request_id: Some(&caller.request_id),
            },
            now,
        )
    })
    .await
    .map_err(Failure::from)?;
    app.delivery_wake.notify_one();
    app.metrics.security_event(match kind {
        RequestKind::Recovery => "recovery.requested",
        RequestKind::Unlock => "unlock.requested",
    });
    Ok(())
}

/// Why a link cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// Unknown, used, expired, replaced or burned.
    #[error("invalid link: {0}")]
    Invalid(TokenError),
    /// Storage or the unexpected.
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// The per-client limit on using links (each try is a guess at a token).
pub async fn rate_limit_links(app: &AppState, caller: &Caller) -> Result<(), Limited> {
    app.limits
        .links_per_ip
        .check(&caller.limit_key())
        .await
        .inspect_err(|_| app.metrics.security_event("link.rate_limited"))
}

/// A link's token as typed or pasted: checked against the per-client limit first (every try
/// is a guess, a malformed one too), then parsed.
pub async fn guessed_token(
    app: &AppState,
    caller: &Caller,
    raw: &str,
) -> Result<PlainToken, UseLinkError> {
    rate_limit_links(app, caller)
        .await
        .map_err(UseLinkError::RateLimited)?;
    PlainToken::parse(raw).map_err(|e| LinkError::Invalid(e).into())
}

/// The stored token of a link, if it may still be used for `purpose` at `now`.
pub async fn usable_link(
    app: &AppState,
    token: &PlainToken,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> Result<StoredToken, LinkError> {
    let digest = token.digest();
    let stored = app
        .db(move |c| one_time_tokens::find(c, &digest))
        .await
        .map_err(Failure::from)?
        .ok_or(LinkError::Invalid(TokenError::Malformed))?;
    stored
        .state
        .check_usable(purpose, now)
        .map_err(LinkError::Invalid)?;
    Ok(stored)
}

/// What the reset page may show before its form is submitted.
#[derive(Debug, Clone)]
pub struct ResetLinkInfo {
    /// The account's organisation code.
    pub organisation_code: String,
    /// The account's organisation name.
    pub organisation_name: String,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

/// Why a link was not checked or used.
#[derive(Debug, thiserror::Error)]
pub enum UseLinkError {
    /// Too many attempts from this client.
    #[error("rate limited")]
    RateLimited(Limited),
    /// The link cannot be used.
    #[error(transparent)]
    Link(#[from] LinkError),
}

impl From<Failure> for UseLinkError {
    fn from(f: Failure) -> Self {
        Self::Link(LinkError::Failure(f))
    }
}

/// Checks a reset link before the Update Password form is shown.
pub async fn validate_reset_link(
    app: &AppState,
    caller: &Caller,
    raw_token: &str,
    now: DateTime<Utc>,
) -> Result<ResetLinkInfo, UseLinkError> {
    let token = guessed_token(app, caller, raw_token).await?;
    let stored = usable_link(app, &token, TokenPurpose::PasswordReset, now).await?;
    let account_id = stored.account_id.clone();
    let profile = app
        .db(move |c| accounts::profile(c, &account_id))
        .await
        .map_err(Failure::from)?
        .ok_or(LinkError::Invalid(TokenError::Malformed))?;
    Ok(ResetLinkInfo {
        organisation_code: profile.account.organisation_code.as_str().to_owned(),
        organisation_name: profile.organisation_name,
        expires_at: stored.state.expires_at,
    })
}

/// Unlocks the account of an unlock link; the password stays the same.
pub async fn unlock_by_link(
    app: &AppState,
    caller: &Caller,
    raw_token: &str,
    now: DateTime<Utc>,
) -> Result<(), UseLinkError> {
    let token = guessed_token(app, caller, raw_token).await?;
    let stored = usable_link(app, &token, TokenPurpose::AccountUnlock, now).await?;
    let digest = token.digest();
    let caller = caller.clone();
    let consumed = app
        .db(move |c| {
            c.write_transaction(|c| {
                if !one_time_tokens::consume(c, &digest, TokenPurpose::AccountUnlock, now)? {
                    return Ok(false);
                }
                let was_locked = accounts::unlock(c, &stored.account_id, now)?;
                audit::record(
                    c,
                    &caller,
                    EventType::AccountUnlocked,
                    Some(&stored.account_id),
                    &Actor::Anonymous,
                    &json!({"via": "email_link", "was_locked": was_locked}),
                    now,
                )?;
                Ok::<_, RepoError>(true)
            })
        })
        .await
        .map_err(Failure::from)?;
    if !consumed {
        return Err(LinkError::Invalid(TokenError::Used).into());
    }
    app.metrics.security_event("account.unlocked");
    Ok(())
}

/// Takes a batch of queued Forgotten and Unlock Account requests and matches each (the
/// delivery worker runs this, so no answer to the forms depends on a match); returns how
/// many requests it took and how many emails it queued. Call in a write transaction.
pub fn match_queued_requests(
    conn: &mut DbConnection,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<(usize, usize), RepoError> {
    let requests = recovery_requests::take(conn, i64::from(config.outbox.batch))?;
    let mut queued = 0;
    for request in &requests {
        queued += match_one(conn, config, request, now)?;
    }
    Ok((requests.len(), queued))
}

/// Only accounts that can log in from home once they have the link: internet access approved
/// (not pending, rejected or revoked) and not suspended or disabled by an administrator
/// (password login needs `active` + `approved`; a reset only lifts a lock). The same rule for
/// Unlock Account, which names one account.
fn may_recover(account: &Account) -> bool {
    account.internet_access == InternetAccessStatus::Approved
        && matches!(
            account.status,
            AccountStatus::Active | AccountStatus::Locked
        )
}

/// Matches one request and queues at most one email listing every matching account, with a
/// fresh link each (the newest replacing older ones). Returns how many were queued (0 or 1).
fn match_one(
    conn: &mut DbConnection,
    config: &Config,
    request: &RecoveryRequest,
    now: DateTime<Utc>,
) -> Result<usize, RepoError> {
    let kind = RequestKind::parse(&request.kind)
        .ok_or_else(|| RepoError::Corrupt(format!("request kind {:?}", request.kind)))?;
    let caller = requester(request, config);
    let digest = config.audit_digest_key.digest(&request.work_email);
    let hold = super::contact_change_hold(config);
    let (matches, held) = matching_accounts(conn, request, hold, now)?;
    let Some((first_person, _)) = matches.first() else {
        // Held: the contact detail that would receive the link has only just been set.
        let (event, details) = if held {
            let reason = json!({"email_digest": digest, "reason": "contact_change_hold"});
            (suppressed_event(kind), reason)
        } else {
            let details =
                json!({"email_digest": digest, "username_given": request.username.is_some()});
            (unmatched_event(kind), details)
        };
        audit_unsent(conn, config, &caller, event, &digest, &details, now)?;
        return Ok(0);
    };
    let recipient = first_person.work_email.clone();
    let language = first_person.language.clone();
    if mailbox_is_full(conn, config, &recipient, now)? {
        let details = json!({"email_digest": digest, "reason": "mailbox_rate_limit"});
        let event = suppressed_event(kind);
        audit_unsent(conn, config, &caller, event, &digest, &details, now)?;
        return Ok(0);
    }
    let listed = issue_links(conn, config, &caller, kind, &matches, now)?;
    let (email_kind, payload, account_id) = match kind {
        RequestKind::Unlock => {
            let (account, locked) = listed
                .into_iter()
                .next()
                .ok_or_else(|| RepoError::Corrupt("an unlock request matched no account".into()))?;
            (
                EmailKind::Unlock,
                serde_json::to_value(UnlockPayload { account, locked }),
                matches.first().map(|(_, a)| a.id.clone()),
            )
        }
        RequestKind::Recovery => (
            EmailKind::Recovery,
            serde_json::to_value(RecoveryPayload {
                accounts: listed.into_iter().map(|(a, _)| a).collect(),
            }),
            (matches.len() == 1).then(|| matches[0].1.id.clone()),
        ),
    };
    let payload = payload.map_err(|e| RepoError::Corrupt(e.to_string()))?;
    let message = NewMessage {
        kind: email_kind,
        recipient: &recipient,
        language: &language,
        account_id: account_id.as_ref(),
        payload: &payload,
    };
    outbox::enqueue(conn, &message, now)?;
    Ok(1)
}

/// The client that made the request, as recorded with it (the worker audits on its behalf).
fn requester(request: &RecoveryRequest, config: &Config) -> Caller {
    Caller {
        ip: request
            .ip
            .as_deref()
            .and_then(|ip| ip.parse().ok())
            .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0])),
        user_agent: request.user_agent.clone(),
        request_id: request.request_id.clone().unwrap_or_default(),
        audit_chain: config.audit_chain.clone(),
    }
}

/// The recoverable accounts of the people the request names, and whether any other account
/// matched but was left out because its person's contact details changed within `hold`.
fn matching_accounts(
    conn: &mut DbConnection,
    request: &RecoveryRequest,
    hold: Duration,
    now: DateTime<Utc>,
) -> Result<(Vec<(people::Person, Account)>, bool), RepoError> {
    let mut matches = Vec::new();
    let mut held = false;
    for person in people::find_by_email_and_dob(conn, &request.work_email, request.date_of_birth)? {
        let on_hold = person.contact_hold_until(hold, now).is_some();
        for account in accounts::for_person(conn, &person.id)? {
            let wanted = request
                .username
                .as_deref()
                .is_none_or(|u| u == account.username.as_str());
            if wanted && may_recover(&account) {
                if on_hold {
                    held = true;
                } else {
                    matches.push((person.clone(), account));
                }
            }
        }
    }
    Ok((matches, held))
}

/// Audits a request that sent nothing, within the anonymous allowance: once per event and
/// typed email an hour (see [`audit::anonymous_allowed`]).
fn audit_unsent(
    conn: &mut DbConnection,
    config: &Config,
    caller: &Caller,
    event: EventType,
    email_digest: &str,
    details: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let subject = format!("{event}:{email_digest}");
    if audit::anonymous_allowed(
        conn,
        audit::AnonymousPool::Recovery,
        config.anonymous_audits_per_hour,
        Some(&subject),
        now,
    )? {
        audit::record(conn, caller, event, None, &Actor::Anonymous, details, now)?;
    }
    Ok(())
}

fn unmatched_event(kind: RequestKind) -> EventType {
    match kind {
        RequestKind::Recovery => EventType::RecoveryRequestUnmatched,
        RequestKind::Unlock => EventType::UnlockRequestUnmatched,
    }
}

fn suppressed_event(kind: RequestKind) -> EventType {
    match kind {
        RequestKind::Recovery => EventType::RecoveryRequestSuppressed,
        RequestKind::Unlock => EventType::UnlockRequestSuppressed,
    }
}

/// Whether the mailbox has had its hourly share of emails already.
pub(super) fn mailbox_is_full(
    conn: &mut DbConnection,
    config: &Config,
    recipient: &str,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    Ok(config.emails_per_address_per_hour > 0
        && outbox::queued_to_since(conn, recipient, now - Duration::hours(1))?
            >= i64::from(config.emails_per_address_per_hour))
}

/// Issues a fresh link for each matched account (an unlock link for a locked account asked
/// for by Unlock Account, else a reset link), audited; returns what the email lists and
/// whether each account is locked.
fn issue_links(
    conn: &mut DbConnection,
    config: &Config,
    caller: &Caller,
    kind: RequestKind,
    matches: &[(people::Person, Account)],
    now: DateTime<Utc>,
) -> Result<Vec<(RecoveryAccount, bool)>, RepoError> {
    let ttl = Duration::from_std(config.link_ttl).unwrap_or(Duration::hours(4));
    let mut listed = Vec::with_capacity(matches.len());
    for (_, account) in matches {
        let locked = account.status == AccountStatus::Locked;
        let purpose = if kind == RequestKind::Unlock && locked {
            TokenPurpose::AccountUnlock
        } else {
            TokenPurpose::PasswordReset
        };
        let (plain, hash) = OneTimeToken::generate(&mut rand::rng());
        one_time_tokens::issue(conn, &hash, &account.id, purpose, now + ttl, now)?;
        let organisation_name = organisations::find(conn, &account.organisation_code)?
            .map(|o| o.name)
            .unwrap_or_default();
        let event = EventType::link_issued(purpose);
        let details = json!({"via": kind.as_str()});
        audit::record(
            conn,
            caller,
            event,
            Some(&account.id),
            &Actor::Anonymous,
            &details,
            now,
        )?;
        let entry = RecoveryAccount {
            organisation_code: account.organisation_code.as_str().to_owned(),
            organisation_name,
            username: account.username.as_str().to_owned(),
            token: plain.expose_secret().to_owned(),
        };
        listed.push((entry, locked));
    }
    Ok(listed)
}
