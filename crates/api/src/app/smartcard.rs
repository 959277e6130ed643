//! Smartcard sign-in at work through NHS CIS2 (OpenID Connect authorization code flow with
//! PKCE): [`start`] makes the provider's authorization URL, [`complete`] exchanges the code
//! and opens a workplace session (`amr` `smartcard`, shorter lifetime).
//!
//! `state`, `nonce` and the PKCE verifier are made here and travel sealed in `state` (see
//! [`crate::smartcard_flow`]), so starting stores nothing and any instance finishes a flow
//! another started; a state works once (the callback marks it spent), for
//! `ESR_OIDC_FLOW_TTL_SECS`, and only from the browser that started it. Every
//! outcome of a callback is audited, without codes, tokens, nonces or states (refusals that
//! concern no account within the anonymous allowance); a start, which anyone can make, is only
//! counted in the metrics.

use chrono::{DateTime, Duration, Utc};
use esr_domain::{
    AccountId, AccountStatus, InternetAccessStatus, OrganisationCode, TokenDigest, UsernameError,
};
use esr_persistence::accounts::Account;
use esr_persistence::audit::{Actor, EventType};
use esr_persistence::people::Person;
use esr_persistence::sessions::SessionKind;
use esr_persistence::{
    DbConnection, RepoError, accounts, organisations, people, spent_smartcard_states,
};
use serde_json::{Value, json};

use super::audit::AnonymousPool;
use super::sessions::{IssuedSession, Proof, Tokens, open_session, sign};
use super::{Caller, Failure, audit};
use crate::config::Config;
use crate::oidc::id_token::pkce_challenge;
use crate::oidc::{IdTokenRejection, OidcClient, ProviderError, VerifiedIdToken};
use crate::rate_limit::Limited;
use crate::smartcard_flow::FlowTicket;
use crate::state::AppState;

/// Longest code or state looked at.
const MAX_PARAMETER: usize = 2048;

/// Why a smartcard sign-in did not go on.
#[derive(Debug, thiserror::Error)]
pub enum SmartcardError {
    /// Smartcard sign-in is switched off on this service.
    #[error("smartcard sign-in disabled")]
    Disabled,
    /// The redirect URI is not on the allow-list.
    #[error("redirect URI not allowed")]
    RedirectUriNotAllowed,
    /// Empty or absurdly long input.
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    /// Unknown, expired or already used state.
    #[error("invalid state ({0})")]
    InvalidState(&'static str),
    /// The token endpoint refused the code.
    #[error("code rejected: {0}")]
    CodeRejected(String),
    /// The ID token failed verification.
    #[error("invalid ID token: {0}")]
    InvalidIdToken(IdTokenRejection),
    /// The assurance level is too low.
    #[error("assurance level {0} too low")]
    AssuranceTooLow(u8),
    /// No person has this smartcard identity.
    #[error("no ESR record linked to this smartcard")]
    NoEsrRecord,
    /// The smartcard is linked in several organisations: start again choosing one.
    #[error("organisation choice required")]
    OrganisationChoiceRequired(Vec<Employer>),
    /// The account is suspended or disabled.
    #[error("account {}", .0.as_str())]
    AccountUnusable(AccountStatus),
    /// The person's names yield no username.
    #[error("no username: {0}")]
    NoUsername(UsernameError),
    /// The provider is unreachable, slow or broken.
    #[error("identity provider unavailable: {0}")]
    ProviderUnavailable(String),
    /// Too many attempts from this client.
    #[error("rate limited")]
    RateLimited(Limited),
    /// Storage or the unexpected.
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// An organisation that has linked the card to one of its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Employer {
    /// The organisation's code.
    pub code: OrganisationCode,
    /// Its name.
    pub name: String,
}

/// Where to send the browser to sign in.
#[derive(Debug)]
pub struct Started {
    /// The provider's authorization endpoint with `state`, `nonce`, PKCE and `acr_values`.
    pub authorization_url: String,
    /// The `state` the provider will return with the code.
    pub state: String,
    /// The secret the starting browser keeps and sends back with the code.
    pub browser_binding: String,
    /// The sign-in must be completed before this time.
    pub expires_at: DateTime<Utc>,
}

fn provider(app: &AppState) -> Result<&OidcClient, SmartcardError> {
    app.oidc.as_deref().ok_or(SmartcardError::Disabled)
}

async fn rate_limit(app: &AppState, caller: &Caller) -> Result<(), SmartcardError> {
    app.limits
        .login_per_ip
        .check(&format!("smartcard:{}", caller.limit_key()))
        .await
        .map_err(|limited| {
            app.metrics.security_event("smartcard.rate_limited");
            SmartcardError::RateLimited(limited)
        })
}

/// Starts a sign-in for the front end's callback page `redirect_uri` (which must be on the
/// allow-list, exactly).
pub async fn start(
    app: &AppState,
    caller: &Caller,
    redirect_uri: &str,
    organisation: Option<OrganisationCode>,
    now: DateTime<Utc>,
) -> Result<Started, SmartcardError> {
    let checked = rate_limit(app, caller).await.and_then(|()| {
        let oidc = provider(app)?;
        // The text as registered, not a URL that normalises to it: what is checked is
        // exactly what the provider is given.
        oidc.config()
            .redirect_uris
            .iter()
            .find(|allowed| allowed.as_str() == redirect_uri)
            .map(|allowed| (oidc, allowed.clone()))
            .ok_or(SmartcardError::RedirectUriNotAllowed)
    });
    let (oidc, allowed) = match checked {
        Ok(checked) => checked,
        Err(e) => return Err(refuse(app, caller, "start", e, now).await),
    };
    let (mut ticket, browser_binding) = new_flow(oidc, &allowed, now);
    ticket.organisation = organisation.map(|code| code.as_str().to_owned());
    let state = app
        .config
        .smartcard_flow_key
        .seal(&ticket, &browser_binding);
    let authorization_url = match oidc
        .authorization_url(
            &state,
            &ticket.nonce,
            &pkce_challenge(&ticket.code_verifier),
            &ticket.redirect_uri,
        )
        .await
    {
        Ok(url) => url,
        Err(e) => {
            tracing::warn!(error = %e, "smartcard start: identity provider unavailable");
            let details = json!({"step": "start", "reason": "provider_unavailable"});
            let error = SmartcardError::ProviderUnavailable(e.to_string());
            return Err(fail(app, caller, None, details, error, now).await);
        }
    };
    app.metrics.security_event("smartcard.started");
    Ok(Started {
        authorization_url: authorization_url.to_string(),
        state,
        browser_binding,
        expires_at: ticket.expires_at,
    })
}

/// A new flow for `redirect_uri`, and the secret that binds it to the starting browser: a
/// code and state lifted from one browser and replayed from another (login cross-site request
/// forgery: signing a victim's browser in as the attacker) do not open without it.
fn new_flow(
    oidc: &OidcClient,
    redirect_uri: &url::Url,
    now: DateTime<Utc>,
) -> (FlowTicket, String) {
    let mut rng = rand::rng();
    let lifetime = Duration::from_std(oidc.config().flow_ttl).unwrap_or(Duration::minutes(10));
    let ticket = FlowTicket {
        nonce: esr_domain::random_token(&mut rng, 32),
        // 43 base64url characters: within RFC 7636's 43–128 unreserved characters.
        code_verifier: esr_domain::random_token(&mut rng, 32),
        redirect_uri: redirect_uri.to_string(),
        expires_at: now + lifetime,
        organisation: None,
    };
    (ticket, esr_domain::random_token(&mut rng, 32))
}

/// Finishes a sign-in: uses the flow of `state` once, exchanges `code` at the provider's
/// token endpoint, verifies the ID token, links the smartcard identity to its person (and
/// account, created now when the person has none) and opens a workplace session.
pub async fn complete(
    app: &AppState,
    caller: &Caller,
    code: &str,
    state: &str,
    browser_binding: &str,
    now: DateTime<Utc>,
) -> Result<Tokens, SmartcardError> {
    let checked = rate_limit(app, caller).await.and_then(|()| {
        let oidc = provider(app)?;
        check_callback_input([code, state, browser_binding])?;
        Ok(oidc)
    });
    let oidc = match checked {
        Ok(oidc) => oidc,
        Err(e) => return Err(refuse(app, caller, "callback", e, now).await),
    };
    let flow = match spend_flow(app, state, browser_binding, now).await? {
        Ok(flow) => flow,
        Err(reason) => {
            if reason == "state_reused" {
                app.metrics.security_event("smartcard.state_reused");
            }
            let details = json!({"step": "callback", "reason": reason});
            let error = SmartcardError::InvalidState(reason);
            return Err(fail(app, caller, None, details, error, now).await);
        }
    };
    let verified = match redeem_code(oidc, code, &flow).await {
        Ok(verified) => verified,
        Err(e) => {
            let (reason, error) = provider_refusal(e);
            let details = json!({"step": "callback", "reason": reason});
            return Err(fail(app, caller, None, details, error, now).await);
        }
    };
    let config = app.config.clone();
    let in_txn = caller.clone();
    let subject = verified.subject.clone();
    let outcome = app
        .db(move |c| {
            c.write_transaction(|c| {
                let card = VerifiedCard {
                    subject: &subject,
                    assurance: verified.assurance,
                    organisation: flow.organisation.as_deref(),
                };
                sign_in(c, &config, &in_txn, &card, now)
            })
        })
        .await
        .map_err(Failure::from)?;
    match outcome {
        Ok(issued) => {
            app.metrics.security_event("smartcard.login_succeeded");
            Ok(sign(app, issued, now)?)
        }
        Err(e) => {
            app.metrics.security_event("smartcard.login_failed");
            Err(e)
        }
    }
}

/// Refuses an empty or absurdly long code, state or binding before anything is looked up.
fn check_callback_input(sent: [&str; 3]) -> Result<(), SmartcardError> {
    if sent.iter().any(|p| p.is_empty()) {
        return Err(SmartcardError::InvalidRequest(
            "Send code, state and browser_binding.",
        ));
    }
    if sent.iter().any(|p| p.len() > MAX_PARAMETER) {
        return Err(SmartcardError::InvalidRequest(
            "code, state or browser_binding is too long.",
        ));
    }
    Ok(())
}

/// Exchanges `code` at the provider's token endpoint with the flow's PKCE verifier and
/// verifies the ID token it answers against the flow's nonce.
async fn redeem_code(
    oidc: &OidcClient,
    code: &str,
    flow: &FlowTicket,
) -> Result<VerifiedIdToken, ProviderError> {
    let id_token = oidc
        .exchange_code(code, &flow.code_verifier, &flow.redirect_uri)
        .await?;
    let nonce_hash = TokenDigest::of(&flow.nonce);
    oidc.verify(&id_token, nonce_hash.as_str()).await
}

/// Opens the flow `state` seals for this browser and spends it, once: the flow, or why not
/// (`state_unknown`: not ours or not this browser's; `state_expired`; `state_reused`).
async fn spend_flow(
    app: &AppState,
    state: &str,
    browser_binding: &str,
    now: DateTime<Utc>,
) -> Result<Result<FlowTicket, &'static str>, Failure> {
    let Some(flow) = app.config.smartcard_flow_key.open(state, browser_binding) else {
        return Ok(Err("state_unknown"));
    };
    if flow.expires_at <= now {
        return Ok(Err("state_expired"));
    }
    let digest = TokenDigest::of(state);
    let expires_at = flow.expires_at;
    let spent = app
        .db(move |c| {
            c.write_transaction(|c| {
                spent_smartcard_states::delete_expired(c, now)?;
                spent_smartcard_states::spend(c, &digest, expires_at)
            })
        })
        .await?;
    Ok(if spent { Ok(flow) } else { Err("state_reused") })
}

/// The audit reason and the answer of a provider refusal.
fn provider_refusal(e: ProviderError) -> (String, SmartcardError) {
    match e {
        ProviderError::Unavailable(cause) => {
            tracing::warn!(error = %cause, "smartcard callback: identity provider unavailable");
            (
                "provider_unavailable".to_owned(),
                SmartcardError::ProviderUnavailable(cause),
            )
        }
        ProviderError::CodeRejected(cause) => {
            tracing::info!(error = %cause, "smartcard callback: code rejected");
            (
                "code_rejected".to_owned(),
                SmartcardError::CodeRejected(cause),
            )
        }
        ProviderError::InvalidToken(IdTokenRejection::AssuranceTooLow { level }) => {
            tracing::info!(level, "smartcard callback: assurance too low");
            (
                "assurance_too_low".to_owned(),
                SmartcardError::AssuranceTooLow(level),
            )
        }
        ProviderError::InvalidToken(rejection) => {
            tracing::info!(
                reason = rejection.reason(),
                "smartcard callback: ID token refused"
            );
            (
                format!("id_token_{}", rejection.reason()),
                SmartcardError::InvalidIdToken(rejection),
            )
        }
        ProviderError::ClientKey(cause) => (
            "client_key".to_owned(),
            SmartcardError::Failure(Failure::Unexpected(cause)),
        ),
    }
}

/// Audits a refusal made before the provider is asked (switched off, redirect URI not
/// allowed, malformed input, rate limited) and returns the error to answer. Other errors
/// pass through unaudited (their step audits them). The rate limit is checked before
/// anything else is, so these writes are bounded by it.
async fn refuse(
    app: &AppState,
    caller: &Caller,
    step: &'static str,
    error: SmartcardError,
    now: DateTime<Utc>,
) -> SmartcardError {
    let reason = match &error {
        SmartcardError::Disabled => "disabled",
        SmartcardError::RedirectUriNotAllowed => "redirect_uri_not_allowed",
        SmartcardError::InvalidRequest(_) => "invalid_request",
        SmartcardError::RateLimited(_) => {
            // At most one a minute per client IP (`refusal_audits_per_ip`).
            if app
                .limits
                .refusal_audits_per_ip
                .check(&format!("smartcard:{}", caller.limit_key()))
                .await
                .is_err()
            {
                return error;
            }
            "rate_limited"
        }
        _ => return error,
    };
    let details = json!({"step": step, "reason": reason});
    fail(app, caller, None, details, error, now).await
}

/// Records a failed smartcard step (its own transaction) and returns the error to answer.
async fn fail(
    app: &AppState,
    caller: &Caller,
    account_id: Option<AccountId>,
    details: Value,
    error: SmartcardError,
    now: DateTime<Utc>,
) -> SmartcardError {
    let caller = caller.clone();
    let per_hour = app.config.anonymous_audits_per_hour;
    let recorded = app
        .db(move |c| {
            c.write_transaction(|c| {
                record_failure(c, &caller, per_hour, account_id.as_ref(), &details, now)
            })
        })
        .await;
    if let Err(e) = recorded {
        tracing::error!(error = %e, "cannot audit a failed smartcard sign-in");
    }
    app.metrics.security_event("smartcard.login_failed");
    if matches!(error, SmartcardError::ProviderUnavailable(_)) {
        app.metrics.security_event("smartcard.provider_unavailable");
    }
    error
}

/// Audits a failed smartcard step; one that concerns no account only within the smartcard
/// share of the anonymous allowance.
fn record_failure(
    conn: &mut DbConnection,
    caller: &Caller,
    per_hour: u32,
    account_id: Option<&AccountId>,
    details: &Value,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    if account_id.is_none()
        && !audit::anonymous_allowed(conn, AnonymousPool::Smartcard, per_hour, None, now)?
    {
        return Ok(());
    }
    audit::record(
        conn,
        caller,
        EventType::SmartcardLoginFailed,
        account_id,
        &Actor::Anonymous,
        details,
        now,
    )
}

/// Links the verified smartcard identity to a person and account and opens the workplace
/// session, auditing the outcome, in one transaction.
fn sign_in(
    conn: &mut DbConnection,
    config: &Config,
    caller: &Caller,
    card: &VerifiedCard<'_>,
    now: DateTime<Utc>,
) -> Result<Result<IssuedSession, SmartcardError>, RepoError> {
    let refusal = match card_holder_account(conn, config, caller, card, now)? {
        // A lock (wrong passwords from home) does not stop the smartcard: setting a new
        // password at work is how a locked person gets back in.
        Ok(account)
            if !matches!(
                account.status,
                AccountStatus::Suspended | AccountStatus::Disabled
            ) =>
        {
            return open_workplace_session(conn, config, caller, &account, card, now).map(Ok);
        }
        Ok(account) => Refusal {
            account_id: Some(account.id),
            details: json!({"step": "callback", "reason": format!("account_{}", account.status.as_str())}),
            error: SmartcardError::AccountUnusable(account.status),
        },
        Err(refusal) => refusal,
    };
    let per_hour = config.anonymous_audits_per_hour;
    let account_id = refusal.account_id.as_ref();
    record_failure(conn, caller, per_hour, account_id, &refusal.details, now)?;
    Ok(Err(refusal.error))
}

/// A sign-in refused after the provider vouched for the card: what to audit and answer.
struct Refusal {
    account_id: Option<AccountId>,
    details: Value,
    error: SmartcardError,
}

/// The account of the card holder's record (the only one, or the chosen organisation's),
/// created now, with its username, when the person has none.
fn card_holder_account(
    conn: &mut DbConnection,
    config: &Config,
    caller: &Caller,
    card: &VerifiedCard<'_>,
    now: DateTime<Utc>,
) -> Result<Result<Account, Refusal>, RepoError> {
    let unknown = |reason: &str, error| Refusal {
        account_id: None,
        details: json!({"step": "callback", "reason": reason,
            "subject_digest": config.audit_digest_key.digest(card.subject)}),
        error,
    };
    let person = match employment(conn, card)? {
        Employment::One(person) => *person,
        Employment::None => {
            return Ok(Err(unknown("unknown_subject", SmartcardError::NoEsrRecord)));
        }
        Employment::Several(choices) => {
            let error = SmartcardError::OrganisationChoiceRequired(choices);
            return Ok(Err(unknown("organisation_choice_required", error)));
        }
    };
    let existed = accounts::for_person(conn, &person.id)?
        .into_iter()
        .any(|a| a.organisation_code == person.organisation_code);
    let account = match accounts::find_or_create_for_person(
        conn,
        &person,
        InternetAccessStatus::NotRequested,
        now,
    )? {
        Ok(account) => account,
        Err(e) => {
            return Ok(Err(Refusal {
                account_id: None,
                details: json!({"step": "callback", "reason": "no_username", "person_id": person.id}),
                error: SmartcardError::NoUsername(e),
            }));
        }
    };
    if !existed {
        audit::record(
            conn,
            caller,
            EventType::AccountCreated,
            Some(&account.id),
            &Actor::System,
            &json!({"via": "smartcard", "username": account.username.as_str()}),
            now,
        )?;
    }
    Ok(Ok(account))
}

/// Opens the workplace session (`amr` `smartcard`) of `account`, audited.
fn open_workplace_session(
    conn: &mut DbConnection,
    config: &Config,
    caller: &Caller,
    account: &Account,
    card: &VerifiedCard<'_>,
    now: DateTime<Utc>,
) -> Result<IssuedSession, RepoError> {
    let issued = open_session(
        conn,
        config,
        caller,
        &account.id,
        Proof::single(SessionKind::Smartcard),
        now,
    )?;
    audit::record(
        conn,
        caller,
        EventType::SmartcardLoginSucceeded,
        Some(&account.id),
        &Actor::Account(account.username.clone()),
        &json!({"amr": "smartcard", "session_id": issued.session_id(), "assurance_level": card.assurance}),
        now,
    )?;
    Ok(issued)
}

/// The smartcard identity the provider vouched for, and the organisation the browser chose.
struct VerifiedCard<'a> {
    /// The CIS2 `uid`.
    subject: &'a str,
    /// The assurance level of the sign-in.
    assurance: u8,
    /// The organisation chosen at `start`, if one was.
    organisation: Option<&'a str>,
}

/// Most organisations one smartcard is looked up in (a member of staff with more employments
/// than this chooses among the first, by code).
const MOST_EMPLOYMENTS: i64 = 20;

/// Which of the card holder's ESR records a sign-in is for.
enum Employment {
    /// No record carries this card (in the chosen organisation, when one was chosen).
    None,
    /// Exactly one does.
    One(Box<Person>),
    /// Several organisations have linked the card and none was chosen.
    Several(Vec<Employer>),
}

/// The record of the card's holder to sign in to: the only one, or the one of the chosen
/// organisation. A card is unique within an organisation, not across them. A record of
/// someone who has left (or was erased) is no employment: signing in with it must not make an
/// account, nor open one disabled when they left.
fn employment(conn: &mut DbConnection, card: &VerifiedCard<'_>) -> Result<Employment, RepoError> {
    let mut held = people::find_by_smartcard_subject(conn, card.subject, MOST_EMPLOYMENTS)?;
    held.retain(|p| p.left_at.is_none() && p.erased_at.is_none());
    if let Some(chosen) = card.organisation {
        held.retain(|p| p.organisation_code.as_str() == chosen);
    }
    if held.len() <= 1 {
        return Ok(held
            .pop()
            .map_or(Employment::None, |p| Employment::One(Box::new(p))));
    }
    let mut choices = Vec::with_capacity(held.len());
    for person in &held {
        let name = organisations::find(conn, &person.organisation_code)?
            .map(|o| o.name)
            .unwrap_or_default();
        choices.push(Employer {
            code: person.organisation_code.clone(),
            name,
        });
    }
    Ok(Employment::Several(choices))
}
