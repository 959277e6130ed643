//! Forgotten | Request Username/Password | Unlock Account, and the pages their emails open.
//!
//! The request endpoints validate the form's shape, queue the request and answer `202` with
//! the user guide's confirmation: the same status, body and headers whether or not anything
//! matches, because matching happens later in the delivery worker. The handler's work is one
//! `INSERT` either way.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Utc};
use esr_domain::{Coded, DateOfBirth, Password, TokenError, Username, WorkEmail};
use esr_persistence::recovery_requests::RequestKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::passwords::{self, ResetError};
use crate::app::recovery::{self, LinkError, RecoveryForm, SubmitError, UseLinkError};
use crate::app::{Caller, Failure};
use crate::problem::{AsProblem, ProblemCatalogue, ProblemSpec, Violation, policy_problem};
use crate::rate_limit::Limited;
use crate::state::AppState;

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
#[schema(example = json!({"work_email": "jane.smith@demo.example.org", "date_of_birth": "1985-04-12", "username": "999JSMITH01"}))]
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
#[schema(example = json!({"work_email": "jane.smith@demo.example.org", "date_of_birth": "1985-04-12", "username": "999JSMITH01"}))]
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
    /// Storage, capacity or the unexpected.
    #[error(transparent)]
    Failure(#[from] Failure),
}

impl From<SubmitError> for RecoveryError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::RateLimited(l) => Self::RateLimited(l),
            SubmitError::Failure(f) => Self::Failure(f),
        }
    }
}

impl From<UseLinkError> for RecoveryError {
    fn from(e: UseLinkError) -> Self {
        match e {
            UseLinkError::RateLimited(l) => Self::RateLimited(l),
            UseLinkError::Link(LinkError::Invalid(e)) => Self::InvalidLink(e),
            UseLinkError::Link(LinkError::Failure(f)) => Self::Failure(f),
        }
    }
}

impl From<ResetError> for RecoveryError {
    fn from(e: ResetError) -> Self {
        match e {
            ResetError::RateLimited(l) => Self::RateLimited(l),
            ResetError::InvalidLink(e) => Self::InvalidLink(e),
            ResetError::UsernameMismatch => Self::UsernameMismatch,
            ResetError::Policy(v) => Self::Policy(v),
            ResetError::Failure(f) => Self::Failure(f),
        }
    }
}

impl AsProblem for RecoveryError {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::InvalidForm(violations) => ProblemSpec::from_catalogue(
                StatusCode::BAD_REQUEST,
                "invalid-form",
                "problem-invalid-form",
                Vec::new(),
            )
            .with_violations(violations.clone()),
            Self::RateLimited(l) => ProblemSpec::from_catalogue(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "problem-too-many-requests--recovery",
                Vec::new(),
            )
            .with_retry_after(l.retry_after_secs),
            Self::InvalidLink(_) => ProblemSpec::from_catalogue(
                StatusCode::BAD_REQUEST,
                "invalid-link",
                "problem-invalid-link",
                Vec::new(),
            ),
            Self::UsernameMismatch => ProblemSpec::from_catalogue(
                StatusCode::BAD_REQUEST,
                "username-mismatch",
                "problem-username-mismatch",
                Vec::new(),
            )
            .with_violations(vec![Violation {
                code: "username-mismatch".into(),
                field: Some("username".into()),
                message: TokenError::UsernameMismatch.message(),
                words: crate::problem::violation_words("username-mismatch"),
            }]),
            Self::Policy(violations) => policy_problem(violations),
            Self::Failure(f) => f.problem(),
        }
    }
}
crate::problem_response!(RecoveryError);

/// Resetting a password can give every problem of the recovery journeys but the form's.
impl ProblemCatalogue for RecoveryError {
    fn examples() -> Vec<ProblemSpec> {
        let mut examples: Vec<ProblemSpec> = [
            Self::InvalidLink(TokenError::Used),
            Self::UsernameMismatch,
            rate_limited(),
        ]
        .iter()
        .map(AsProblem::problem)
        .collect();
        examples.push(crate::problem::policy_problem_example());
        examples.extend(Failure::examples());
        examples
    }
}

/// An example of a refused form: an email address that is not one.
fn invalid_form() -> RecoveryError {
    let e = WorkEmail::parse("jane.smith").expect_err("not an email address");
    RecoveryError::InvalidForm(vec![violation("work_email", &e)])
}

fn rate_limited() -> RecoveryError {
    RecoveryError::RateLimited(Limited {
        retry_after_secs: 60,
    })
}

crate::operation_problems!(
    /// The problems of the Forgotten and Unlock Account forms.
    FormProblems: Failure => [invalid_form(), rate_limited()]
);

crate::operation_problems!(
    /// The problems of checking a reset link.
    ValidateLinkProblems: Failure => [RecoveryError::InvalidLink(TokenError::Used)]
);

crate::operation_problems!(
    /// The problems of following an unlock link.
    UnlockLinkProblems: Failure => [RecoveryError::InvalidLink(TokenError::Used), rate_limited()]
);

fn violation(field: &str, e: &impl Coded) -> Violation {
    Violation {
        code: e.code().to_owned(),
        field: Some(field.to_owned()),
        message: e.message(),
        words: crate::problem::violation_words(e.code()),
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
    caller: &Caller,
    form: RecoveryForm,
) -> Result<HttpResponse, RecoveryError> {
    recovery::submit_request(state, caller, form, Utc::now()).await?;
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
        FormProblems,
    ),
)]
#[post("/recovery-requests")]
pub async fn request_recovery(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<RecoveryRequestBody>,
) -> Result<HttpResponse, RecoveryError> {
    let (email, date_of_birth, username) = parse_form(
        &body.work_email,
        &body.date_of_birth,
        body.username.as_deref(),
        Utc::now().date_naive(),
    )?;
    let form = RecoveryForm {
        kind: RequestKind::Recovery,
        email,
        date_of_birth,
        username,
    };
    submit(&state, &caller, form).await
}

/// Unlock Account: the same form with the username; the email carries an unlock link
/// (single use, 4 hours) that unlocks without changing the password. Same answer whatever
/// matched.
#[utoipa::path(
    tag = "recovery",
    request_body = UnlockRequestBody,
    responses(
        (status = 202, description = "Submitted (whatever matched).", body = Submitted),
        FormProblems,
    ),
)]
#[post("/unlock-requests")]
pub async fn request_unlock(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<UnlockRequestBody>,
) -> Result<HttpResponse, RecoveryError> {
    let (email, date_of_birth, username) = parse_form(
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
            words: crate::problem::violation_words("username-required"),
        }]));
    }
    let form = RecoveryForm {
        kind: RequestKind::Unlock,
        email,
        date_of_birth,
        username,
    };
    submit(&state, &caller, form).await
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
#[schema(example = json!({"organisation_code": "999", "organisation_name": "Demo NHS Trust", "expires_at": "2026-11-25T13:00:00.000000Z"}))]
pub struct ResetLinkInfo {
    /// The account's organisation code.
    pub organisation_code: String,
    /// The account's organisation name.
    pub organisation_name: String,
    /// When the link stops working.
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub expires_at: DateTime<Utc>,
}

/// Check a password-reset link before showing the Update Password form. Every unusable link
/// (unknown, used, expired, replaced, burned) gets the same `invalid-link` answer.
#[utoipa::path(
    tag = "recovery",
    request_body = LinkToken,
    responses(
        (status = 200, description = "The link works.", body = ResetLinkInfo),
        ValidateLinkProblems,
    ),
)]
#[post("/password-resets/validate")]
pub async fn validate_reset(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<LinkToken>,
) -> Result<web::Json<ResetLinkInfo>, RecoveryError> {
    let info = recovery::validate_reset_link(&state, &caller, &body.token, Utc::now()).await?;
    Ok(web::Json(ResetLinkInfo {
        organisation_code: info.organisation_code,
        organisation_name: info.organisation_name,
        expires_at: info.expires_at,
    }))
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
        RecoveryError,
    ),
)]
#[post("/password-resets")]
pub async fn reset_password(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ResetPasswordBody>,
) -> Result<HttpResponse, RecoveryError> {
    let ResetPasswordBody {
        token,
        username,
        new_password,
        confirm_password,
    } = body.into_inner();
    let username = Username::parse(&username).ok();
    passwords::reset_by_link(
        &state,
        &caller,
        &token,
        username,
        new_password,
        confirm_password,
        Utc::now(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Unlock the account with the link from the unlock email. The password stays the same.
#[utoipa::path(
    tag = "recovery",
    request_body = LinkToken,
    responses(
        (status = 204, description = "Unlocked (or was not locked); log in as usual."),
        UnlockLinkProblems,
    ),
)]
#[post("/account-unlocks")]
pub async fn unlock_account(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<LinkToken>,
) -> Result<HttpResponse, RecoveryError> {
    recovery::unlock_by_link(&state, &caller, &body.token, Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}
