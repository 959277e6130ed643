//! Forgotten | Request Username/Password | Unlock Account, and the pages their emails open.
//!
//! The request endpoints validate the form's shape, queue the request and answer `202` with
//! the user guide's confirmation: the same status, body and headers whether or not anything
//! matches, because matching happens later in the delivery worker. The handler's work is one
//! `INSERT` either way.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Utc};
use esr_domain::{
    Coded, DateOfBirth, Password, PlainToken, TokenError, TokenPurpose, Username, WorkEmail,
};
use esr_persistence::recovery_requests::{self, NewRecoveryRequest, RequestKind};
use esr_persistence::{RepoError, accounts, one_time_tokens, sessions};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::audit::{self, account_actor};
use crate::client::Client;
use crate::password_change::{
    NewPasswordForm, PrepareError, Verdict, busy_problem, check_new_password, policy_problem,
};
use crate::problem::{AsProblem, Problem, ProblemSpec, Violation, internal_error};
use crate::rate_limit::Limited;
use crate::state::{AppState, StorageError};

/// Registers the recovery routes (under `/v1`).
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(request_recovery)
        .service(request_unlock)
        .service(validate_reset)
        .service(reset_password)
        .service(unlock_account);
}

/// The user guide's confirmation, whatever matched.
pub const CONFIRMATION: &str = "Your request to retrieve your username has been submitted. An email will be sent shortly. Please contact the System Administrator if you do not receive an email within the next 10-15 minutes.";

/// The Forgotten | Request Username/Password form.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"work_email": "jane.smith@demo.nhs.uk", "date_of_birth": "1985-04-12", "username": "999JSMITH01"}))]
pub struct RecoveryRequestBody {
    /// The email address associated with the account (Example: first.last@domain.com).
    #[schema(format = Email, max_length = 254)]
    pub work_email: String,
    /// Date of birth, `YYYY-MM-DD` (an age between 14 and 120).
    #[schema(format = Date)]
    pub date_of_birth: String,
    /// If known, the username: the email then covers that account only. Empty (the form's
    /// field left blank) is the same as leaving it out.
    #[schema(pattern = "^([0-9A-Za-z]{3}[A-Za-z]{1,11}[0-9]{2})?$")]
    pub username: Option<String>,
}

/// The Unlock Account form.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"work_email": "jane.smith@demo.nhs.uk", "date_of_birth": "1985-04-12", "username": "999JSMITH01"}))]
pub struct UnlockRequestBody {
    /// The email address associated with the account.
    #[schema(format = Email, max_length = 254)]
    pub work_email: String,
    /// Date of birth, `YYYY-MM-DD` (an age between 14 and 120).
    #[schema(format = Date)]
    pub date_of_birth: String,
    /// The username of the locked account.
    #[schema(pattern = "^[0-9A-Za-z]{3}[A-Za-z]{1,11}[0-9]{2}$")]
    pub username: String,
}

/// The answer to every well-formed request.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"message": CONFIRMATION}))]
pub struct Submitted {
    /// The confirmation to show.
    pub message: &'static str,
}

/// Errors of the recovery routes.
#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    /// The form has fields that are not of the right form.
    #[error("invalid form")]
    InvalidForm(Vec<Violation>),
    /// Too many requests.
    #[error("rate limited")]
    RateLimited(Limited),
    /// The link is unknown, used, expired, replaced or burned: one answer for all.
    #[error("invalid link: {0}")]
    InvalidLink(TokenError),
    /// The username is not the link's account.
    #[error("username does not match the link")]
    UsernameMismatch,
    /// The new password breaks the policy.
    #[error("password policy")]
    Policy(Vec<esr_domain::Violation>),
    /// Hashing at capacity.
    #[error("overloaded")]
    Overloaded,
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Something that should not fail did.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AsProblem for RecoveryError {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::InvalidForm(violations) => ProblemSpec::new(
                StatusCode::BAD_REQUEST,
                "invalid-form",
                "Check your details",
                "Some of the details entered are not valid; see violations.",
            )
            .with_violations(violations.clone()),
            Self::RateLimited(l) => ProblemSpec::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too Many Requests",
                "Too many requests. Please wait before trying again.",
            )
            .with_retry_after(l.retry_after_secs),
            Self::InvalidLink(_) => ProblemSpec::new(
                StatusCode::BAD_REQUEST,
                "invalid-link",
                "Link not valid",
                "This link is not valid: it may have expired (links are active for 4 hours), been used already, or been replaced by a newer email. Please use Forgotten | Request Username/Password to get a new one.",
            ),
            Self::UsernameMismatch => ProblemSpec::new(
                StatusCode::BAD_REQUEST,
                "username-mismatch",
                "Username does not match",
                TokenError::UsernameMismatch.message(),
            )
            .with_violations(vec![Violation {
                code: "username-mismatch".into(),
                field: Some("username".into()),
                message: TokenError::UsernameMismatch.message(),
            }]),
            Self::Policy(violations) => policy_problem(violations),
            Self::Overloaded => busy_problem(),
            Self::Storage(e) => e.problem(),
            Self::Internal(_) => internal_error(self),
        }
    }
}
crate::problem_response!(RecoveryError);

fn violation(field: &str, e: &impl Coded) -> Violation {
    Violation {
        code: e.code().to_owned(),
        field: Some(field.to_owned()),
        message: e.message(),
    }
}

/// Parses the shared fields of both forms, reporting every bad field at once.
fn parse_form(
    email: &str,
    dob: &str,
    username: Option<&str>,
    today: chrono::NaiveDate,
) -> Result<(WorkEmail, DateOfBirth, Option<Username>), RecoveryError> {
    let mut violations = Vec::new();
    let email = WorkEmail::parse(email)
        .map_err(|e| violations.push(violation("work_email", &e)))
        .ok();
    let dob = DateOfBirth::parse(dob, today)
        .map_err(|e| violations.push(violation("date_of_birth", &e)))
        .ok();
    let username = match username.map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => Username::parse(u)
            .map(Some)
            .map_err(|e| violations.push(violation("username", &e)))
            .unwrap_or(None),
        None => None,
    };
    match (email, dob) {
        (Some(email), Some(dob)) if violations.is_empty() => Ok((email, dob, username)),
        _ => Err(RecoveryError::InvalidForm(violations)),
    }
}

async fn submit(
    state: &AppState,
    client: Client,
    kind: RequestKind,
    email: WorkEmail,
    dob: DateOfBirth,
    username: Option<Username>,
) -> Result<HttpResponse, RecoveryError> {
    state
        .limits
        .recovery_per_ip
        .check(&client.ip_text())
        .and_then(|()| state.limits.recovery_per_email.check(email.as_str()))
        .map_err(|l| {
            state.metrics.security_event("recovery.rate_limited");
            RecoveryError::RateLimited(l)
        })?;
    state
        .db(move |c| {
            let ip = client.ip_text();
            recovery_requests::enqueue(
                c,
                &NewRecoveryRequest {
                    kind,
                    work_email: email.as_str(),
                    date_of_birth: dob.date(),
                    username: username.as_ref().map(Username::as_str),
                    ip: Some(&ip),
                    user_agent: client.user_agent.as_deref(),
                    request_id: Some(&client.request_id),
                },
                Utc::now(),
            )
        })
        .await?;
    state.delivery_wake.notify_one();
    state.metrics.security_event(match kind {
        RequestKind::Recovery => "recovery.requested",
        RequestKind::Unlock => "unlock.requested",
    });
    Ok(HttpResponse::Accepted().json(Submitted {
        message: CONFIRMATION,
    }))
}

/// Forgotten | Request Username/Password. Enter the email address associated with your
/// account and your date of birth; your login details will then be emailed to you. If
/// known, entering your username will send details for that account only. The answer is
/// the same whether or not anything matched.
#[utoipa::path(
    tag = "recovery",
    request_body = RecoveryRequestBody,
    responses(
        (status = 202, description = "Submitted (whatever matched).", body = Submitted),
        (status = 400, description = "`invalid-form`: a field is not of the right form (every one listed in violations).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this address or for this email.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/recovery-requests")]
pub async fn request_recovery(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<RecoveryRequestBody>,
) -> Result<HttpResponse, RecoveryError> {
    let (email, dob, username) = parse_form(
        &body.work_email,
        &body.date_of_birth,
        body.username.as_deref(),
        Utc::now().date_naive(),
    )?;
    submit(&state, client, RequestKind::Recovery, email, dob, username).await
}

/// Unlock Account: the same form with the username; the email carries an unlock link
/// (single use, 4 hours) that unlocks without changing the password. Same answer whatever
/// matched.
#[utoipa::path(
    tag = "recovery",
    request_body = UnlockRequestBody,
    responses(
        (status = 202, description = "Submitted (whatever matched).", body = Submitted),
        (status = 400, description = "`invalid-form`.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/unlock-requests")]
pub async fn request_unlock(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<UnlockRequestBody>,
) -> Result<HttpResponse, RecoveryError> {
    let (email, dob, username) = parse_form(
        &body.work_email,
        &body.date_of_birth,
        Some(&body.username),
        Utc::now().date_naive(),
    )?;
    if username.is_none() {
        return Err(RecoveryError::InvalidForm(vec![Violation {
            code: "username-required".into(),
            field: Some("username".into()),
            message: "Enter your ESR username (Example: 999JSMITH01)".into(),
        }]));
    }
    submit(&state, client, RequestKind::Unlock, email, dob, username).await
}

/// A link token from an email (the part after `#token=`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkToken {
    /// The token.
    #[schema(format = Password, pattern = "^[A-Za-z0-9_-]{43}$", example = "Q2Vnc0dGV3h4bXNkZ1d0cE1jY2JpQ0lJb2h0b1Bkc0k")]
    pub token: String,
}

/// What the reset page may show before the form is submitted.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"organisation_code": "999", "organisation_name": "Demo NHS Trust", "expires_at": "2026-11-25T13:00:00Z"}))]
pub struct ResetLinkInfo {
    /// The account's organisation code.
    pub organisation_code: String,
    /// The account's organisation name.
    pub organisation_name: String,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

async fn usable_token(
    state: &AppState,
    raw: &str,
    purpose: TokenPurpose,
) -> Result<(PlainToken, one_time_tokens::StoredToken), RecoveryError> {
    let token = PlainToken::parse(raw).map_err(RecoveryError::InvalidLink)?;
    let hash = token.digest();
    let stored = state
        .db(move |c| one_time_tokens::find(c, hash.as_str()))
        .await?
        .ok_or(RecoveryError::InvalidLink(TokenError::Malformed))?;
    stored
        .state
        .check_usable(purpose, Utc::now())
        .map_err(RecoveryError::InvalidLink)?;
    Ok((token, stored))
}

/// Check a password-reset link before showing the Update Password form. Every unusable link
/// (unknown, used, expired, replaced, burned) gets the same `invalid-link` answer.
#[utoipa::path(
    tag = "recovery",
    request_body = LinkToken,
    responses(
        (status = 200, description = "The link works.", body = ResetLinkInfo),
        (status = 400, description = "`invalid-link`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/password-resets/validate")]
pub async fn validate_reset(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<LinkToken>,
) -> Result<web::Json<ResetLinkInfo>, RecoveryError> {
    rate_limit_links(&state, &client)?;
    let (_, stored) = usable_token(&state, &body.token, TokenPurpose::PasswordReset).await?;
    let account_id = stored.account_id.clone();
    let profile = state
        .db(move |c| accounts::profile(c, &account_id))
        .await?
        .ok_or(RecoveryError::InvalidLink(TokenError::Malformed))?;
    Ok(web::Json(ResetLinkInfo {
        organisation_code: profile.account.organisation_code.as_str().to_owned(),
        organisation_name: profile.organisation_name,
        expires_at: stored.state.expires_at,
    }))
}

fn rate_limit_links(state: &AppState, client: &Client) -> Result<(), RecoveryError> {
    state
        .limits
        .links_per_ip
        .check(&client.ip_text())
        .map_err(|l| {
            state.metrics.security_event("link.rate_limited");
            RecoveryError::RateLimited(l)
        })
}

/// The Update Password form opened from the email link.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "Q2Vnc0dGV3h4bXNkZ1d0cE1jY2JpQ0lJb2h0b1Bkc0k", "username": "999JSMITH01", "new_password": "Wandering heron at dusk", "confirm_password": "Wandering heron at dusk"}))]
pub struct ResetPasswordBody {
    /// The token from the link.
    #[schema(format = Password, pattern = "^[A-Za-z0-9_-]{43}$")]
    pub token: String,
    /// Your ESR username (it must be the link's account).
    #[schema(pattern = "^[0-9A-Za-z]{3}[A-Za-z]{1,11}[0-9]{2}$")]
    pub username: String,
    /// The new password.
    #[schema(value_type = String, format = Password)]
    pub new_password: Password,
    /// The new password again.
    #[schema(value_type = String, format = Password)]
    pub confirm_password: Password,
}

/// Set a new password with the link from the recovery email. The username must be the
/// link's account (five wrong usernames end the link). The whole policy applies, including
/// "not the same as any previous 4 passwords". On success the account is unlocked, every
/// session ends, every other link of the account stops working, and a "your password was
/// changed" email is sent. You are not logged in: log in with the new password.
#[utoipa::path(
    tag = "recovery",
    request_body = ResetPasswordBody,
    responses(
        (status = 204, description = "Password changed; log in with it."),
        (status = 400, description = "`invalid-link`, `username-mismatch`, or `password-policy` with every violation.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts.", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Busy.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/password-resets")]
pub async fn reset_password(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<ResetPasswordBody>,
) -> Result<HttpResponse, RecoveryError> {
    let ResetPasswordBody {
        token,
        username,
        new_password,
        confirm_password,
    } = body.into_inner();
    rate_limit_links(&state, &client)?;
    let (token, stored) = usable_token(&state, &token, TokenPurpose::PasswordReset).await?;
    let hash = token.digest().as_str().to_owned();
    let account_id = stored.account_id.clone();
    let profile = state
        .db(move |c| accounts::profile(c, &account_id))
        .await?
        .ok_or(RecoveryError::InvalidLink(TokenError::Malformed))?;

    let typed = Username::parse(&username).ok();
    if typed.as_ref() != Some(&profile.account.username) {
        let h = hash.clone();
        let account_id = profile.account.id.clone();
        let attempts = state
            .db(move |c| {
                c.write_transaction(|c| {
                    let n = one_time_tokens::record_wrong_username(c, &h)?;
                    audit::record(
                        c,
                        &client,
                        "password_reset.username_mismatch",
                        Some(&account_id),
                        "anonymous",
                        &json!({"attempts": n}),
                        Utc::now(),
                    )?;
                    Ok::<_, RepoError>(n)
                })
            })
            .await?;
        state
            .metrics
            .security_event("password_reset.username_mismatch");
        return Err(match attempts {
            Some(n) if n >= esr_domain::MAX_WRONG_USERNAME_ATTEMPTS => {
                RecoveryError::InvalidLink(TokenError::Burned)
            }
            _ => RecoveryError::UsernameMismatch,
        });
    }

    let slot = state.hashing.try_reserve().map_err(|_| {
        state.metrics.security_event("hashing.rejected");
        RecoveryError::Overloaded
    })?;
    let (_, verdict) = check_new_password(
        &state,
        slot,
        profile.account.id.clone(),
        NewPasswordForm {
            current: None,
            new: new_password,
            confirm: confirm_password,
        },
    )
    .await
    .map_err(|e| match e {
        PrepareError::AccountGone => RecoveryError::InvalidLink(TokenError::Malformed),
        PrepareError::Storage(e) => RecoveryError::Storage(e),
        PrepareError::Internal(e) => RecoveryError::Internal(e),
    })?;
    let new_hash = match verdict {
        Verdict::Hashed(h) => h,
        Verdict::Policy(v) => return Err(RecoveryError::Policy(v)),
        Verdict::WrongCurrent => {
            return Err(RecoveryError::Internal(
                "no current password was given".into(),
            ));
        }
    };
    let account = profile.account;
    let consumed = state
        .db(move |c| {
            c.write_transaction(|c| {
                let now = Utc::now();
                // Single use, decided here: a concurrent reset with the same link loses.
                if !one_time_tokens::consume(c, &hash, TokenPurpose::PasswordReset, now)? {
                    return Ok(false);
                }
                accounts::set_password(c, &account.id, &new_hash, true, now)?;
                let ended =
                    sessions::revoke_all_for_account(c, &account.id, None, "password_reset", now)?;
                one_time_tokens::invalidate_all(c, &account.id, now)?;
                audit::record(
                    c,
                    &client,
                    "password.reset",
                    Some(&account.id),
                    &account_actor(account.username.as_str()),
                    &json!({"via": "email_link", "sessions_ended": ended}),
                    now,
                )?;
                crate::email::queue_account_notice(
                    c,
                    &account.id,
                    crate::email::kind::PASSWORD_CHANGED,
                    now,
                )?;
                Ok::<_, RepoError>(true)
            })
        })
        .await?;
    if !consumed {
        return Err(RecoveryError::InvalidLink(TokenError::Used));
    }
    state.delivery_wake.notify_one();
    state.metrics.security_event("password.reset");
    Ok(HttpResponse::NoContent().finish())
}

/// Unlock the account with the link from the unlock email. The password stays the same.
#[utoipa::path(
    tag = "recovery",
    request_body = LinkToken,
    responses(
        (status = 204, description = "Unlocked (or was not locked); log in as usual."),
        (status = 400, description = "`invalid-link`.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts.", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/account-unlocks")]
pub async fn unlock_account(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<LinkToken>,
) -> Result<HttpResponse, RecoveryError> {
    rate_limit_links(&state, &client)?;
    let (token, stored) = usable_token(&state, &body.token, TokenPurpose::AccountUnlock).await?;
    let hash = token.digest().as_str().to_owned();
    let consumed = state
        .db(move |c| {
            c.write_transaction(|c| {
                let now = Utc::now();
                if !one_time_tokens::consume(c, &hash, TokenPurpose::AccountUnlock, now)? {
                    return Ok(false);
                }
                let was_locked = accounts::unlock(c, &stored.account_id, now)?;
                audit::record(
                    c,
                    &client,
                    "account.unlocked",
                    Some(&stored.account_id),
                    "anonymous",
                    &json!({"via": "email_link", "was_locked": was_locked}),
                    now,
                )?;
                Ok::<_, RepoError>(true)
            })
        })
        .await?;
    if !consumed {
        return Err(RecoveryError::InvalidLink(TokenError::Used));
    }
    state.metrics.security_event("account.unlocked");
    Ok(HttpResponse::NoContent().finish())
}
