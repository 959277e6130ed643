//! Smartcard sign-in at work through NHS CIS2 (OpenID Connect authorization code flow with
//! PKCE): [`start`] makes the provider's authorization URL, [`complete`] exchanges the code
//! and opens a workplace session (`amr` `smartcard`, shorter lifetime).
//!
//! `state`, `nonce` and the PKCE verifier are made here and kept in the database (the state
//! and nonce only as SHA-256), so any instance finishes a flow another started; a state works
//! once, for `ESR_OIDC_FLOW_TTL_SECS`, and only from the browser that started it. Every
//! outcome of a callback is audited, without codes, tokens, nonces or states (refusals that
//! concern no account within the anonymous allowance); a start, which anyone can make, is only
//! counted in the metrics.

use chrono::{DateTime, Duration, Utc};
use esr_domain::{AccountId, AccountStatus, InternetAccessStatus, TokenDigest, UsernameError};
use esr_persistence::audit::{Actor, EventType};
use esr_persistence::oidc_flows::{self, FlowUse, NewFlow};
use esr_persistence::sessions::SessionKind;
use esr_persistence::{DbConnection, RepoError, accounts, people};
use serde_json::{Value, json};

use super::sessions::{IssuedSession, Proof, Tokens, open_session, sign};
use super::{Caller, Failure, audit};
use crate::config::Config;
use crate::oidc::id_token::pkce_challenge;
use crate::oidc::{IdTokenRejection, OidcClient, ProviderError};
use crate::rate_limit::Limited;
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
    /// As many sign-ins are open as the service keeps; the oldest end within this many seconds.
    #[error("too many sign-ins open")]
    TooManyOpen(u64),
    /// Storage or the unexpected.
    #[error(transparent)]
    Failure(#[from] Failure),
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
    now: DateTime<Utc>,
) -> Result<Started, SmartcardError> {
    let checked = rate_limit(app, caller).await.and_then(|()| {
        let oidc = provider(app)?;
        url::Url::parse(redirect_uri.trim())
            .ok()
            .filter(|uri| oidc.config().redirect_uris.contains(uri))
            .map(|allowed| (oidc, allowed))
            .ok_or(SmartcardError::RedirectUriNotAllowed)
    });
    let (oidc, allowed) = match checked {
        Ok(checked) => checked,
        Err(e) => return Err(refuse(app, caller, "start", e, now).await),
    };
    let mut rng = rand::rng();
    let flow_state = esr_domain::random_token(&mut rng, 32);
    let nonce = esr_domain::random_token(&mut rng, 32);
    // 43 base64url characters: within RFC 7636's 43–128 unreserved characters.
    let verifier = esr_domain::random_token(&mut rng, 32);
    let browser_binding = esr_domain::random_token(&mut rng, 32);
    let authorization_url = match oidc
        .authorization_url(
            &flow_state,
            &nonce,
            &pkce_challenge(&verifier),
            allowed.as_str(),
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
    let ttl = Duration::from_std(oidc.config().flow_ttl).unwrap_or(Duration::minutes(10));
    let expires_at = now + ttl;
    let state_hash = flow_key(&flow_state, &browser_binding);
    let nonce_hash = TokenDigest::of(&nonce);
    let redirect_uri = allowed.to_string();
    let most_open = u64::from(app.config.open_smartcard_flows_max);
    let opened = app
        .db(move |c| {
            c.write_transaction(|c| {
                // A flow is kept one lifetime past its expiry, so a late replay is still told
                // from a made-up state; after that it is of no use.
                oidc_flows::delete_expired(c, now - ttl)?;
                // Each start holds a row until it expires: a flood of starts is refused here
                // rather than grow the table.
                if oidc_flows::count_open(c, now)? >= most_open {
                    return Ok(false);
                }
                let flow = NewFlow {
                    state_hash: &state_hash,
                    nonce_hash: &nonce_hash,
                    code_verifier: &verifier,
                    redirect_uri: &redirect_uri,
                    expires_at,
                };
                oidc_flows::create(c, &flow, now)?;
                Ok(true)
            })
        })
        .await
        .map_err(Failure::from)?;
    if !opened {
        app.metrics.security_event("smartcard.flows_full");
        let ttl_secs = u64::try_from(ttl.num_seconds()).unwrap_or(600);
        return Err(SmartcardError::TooManyOpen(ttl_secs));
    }
    app.metrics.security_event("smartcard.started");
    Ok(Started {
        authorization_url: authorization_url.to_string(),
        state: flow_state,
        browser_binding,
        expires_at,
    })
}

/// The key of a flow: both the `state` the provider carries and the binding that never
/// leaves the browser which started the sign-in. A code and state lifted from one browser
/// and replayed from another (login cross-site request forgery: signing a victim's browser
/// in as the attacker) find no flow.
fn flow_key(state: &str, browser_binding: &str) -> TokenDigest {
    TokenDigest::of(&format!("{state}.{browser_binding}"))
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
        let sent = [code, state, browser_binding];
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
        Ok(oidc)
    });
    let oidc = match checked {
        Ok(oidc) => oidc,
        Err(e) => return Err(refuse(app, caller, "callback", e, now).await),
    };
    let state_hash = flow_key(state, browser_binding);
    let used = app
        .db(move |c| c.write_transaction(|c| oidc_flows::use_flow(c, &state_hash, now)))
        .await
        .map_err(Failure::from)?;
    let flow = match used {
        FlowUse::Used(flow) => flow,
        refused => {
            let reason = match refused {
                FlowUse::AlreadyUsed => "state_reused",
                FlowUse::Expired => "state_expired",
                _ => "state_unknown",
            };
            if reason == "state_reused" {
                app.metrics.security_event("smartcard.state_reused");
            }
            let details = json!({"step": "callback", "reason": reason});
            let error = SmartcardError::InvalidState(reason);
            return Err(fail(app, caller, None, details, error, now).await);
        }
    };
    let verified = match oidc
        .exchange_code(code, &flow.code_verifier, &flow.redirect_uri)
        .await
    {
        Ok(id_token) => oidc.verify(&id_token, &flow.nonce_hash).await,
        Err(e) => Err(e),
    };
    let verified = match verified {
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
            c.write_transaction(|c| sign_in(c, &config, &in_txn, &subject, verified.assurance, now))
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
                let about_no_account = account_id.is_none();
                if about_no_account && !audit::anonymous_allowed(c, per_hour, None, now)? {
                    return Ok(());
                }
                audit::record(
                    c,
                    &caller,
                    EventType::SmartcardLoginFailed,
                    account_id.as_ref(),
                    &Actor::Anonymous,
                    &details,
                    now,
                )
            })
        })
        .await;
    if let Err(e) = recorded {
        tracing::error!(error = %e, "cannot audit a failed smartcard sign-in");
    }
    app.metrics.security_event("smartcard.login_failed");
    error
}

/// Links the verified smartcard identity to a person and account and opens the workplace
/// session, auditing the outcome, in one transaction.
fn sign_in(
    conn: &mut DbConnection,
    config: &Config,
    caller: &Caller,
    subject: &str,
    assurance: u8,
    now: DateTime<Utc>,
) -> Result<Result<IssuedSession, SmartcardError>, RepoError> {
    let failed = |conn: &mut DbConnection, account_id: Option<&AccountId>, details| {
        audit::record(
            conn,
            caller,
            EventType::SmartcardLoginFailed,
            account_id,
            &Actor::Anonymous,
            &details,
            now,
        )
    };
    let Some(person) = people::find_by_smartcard_subject(conn, subject)? else {
        let digest = config.audit_digest_key.digest(subject);
        failed(
            conn,
            None,
            json!({"step": "callback", "reason": "unknown_subject", "subject_digest": digest}),
        )?;
        return Ok(Err(SmartcardError::NoEsrRecord));
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
            failed(
                conn,
                None,
                json!({"step": "callback", "reason": "no_username", "person_id": person.id}),
            )?;
            return Ok(Err(SmartcardError::NoUsername(e)));
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
    if matches!(
        account.status,
        AccountStatus::Suspended | AccountStatus::Disabled
    ) {
        failed(
            conn,
            Some(&account.id),
            json!({"step": "callback", "reason": format!("account_{}", account.status.as_str())}),
        )?;
        return Ok(Err(SmartcardError::AccountUnusable(account.status)));
    }
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
        &json!({"amr": "smartcard", "session_id": issued.session_id(), "assurance_level": assurance}),
        now,
    )?;
    Ok(Ok(issued))
}
