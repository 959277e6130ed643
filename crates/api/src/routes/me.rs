//! The signed-in member of staff: profile for the My ESR home page, and password change.

use actix_web::http::StatusCode;
use actix_web::{get, post, web};
use chrono::{DateTime, Utc};
use esr_domain::Password;
use esr_persistence::accounts::{self, AccountProfile};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::Caller;
use crate::app::Failure;
use crate::app::passwords::{self, ChangeError, NewPasswordForm};
use crate::auth::{AccessToken, AuthError, Authenticated};
use crate::problem::{AsProblem, ProblemCatalogue, ProblemSpec, policy_problem};
use crate::routes::organisations::MfaPolicyBody;
use crate::state::{AppState, StorageError};

/// Registers the `/me` routes (under `/v1`).
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(get_me).service(change_password);
}

/// An organisation as shown to its staff.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationRef {
    /// Organisation code, e.g. `999`.
    pub code: String,
    /// Organisation name.
    pub name: String,
}

/// The current session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    /// How the session was authenticated: `pwd` (username and password) or `smartcard`,
    /// then `otp` (authenticator app or recovery code) or `hwk` (passkey) when a second
    /// factor followed the password.
    pub amr: Vec<String>,
    /// The session can only add a sign-in method (the organisation requires one and the
    /// account has none): every other route answers `403 mfa-enrolment-required`.
    pub enrolment_only: bool,
    /// When the session started.
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub created_at: DateTime<Utc>,
    /// When it ends at the latest.
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub expires_at: DateTime<Utc>,
}

/// The signed-in member of staff and their account: the My ESR home page data.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "username": "999JSMITH01",
    "organisation": {"code": "999", "name": "Demo NHS Trust"},
    "first_name": "Jane",
    "last_name": "Smith",
    "work_email": "jane.smith@demo.example.org",
    "account_status": "active",
    "internet_access": "approved",
    "password_set": true,
    "password_changed_at": "2026-11-20T10:12:00.000000Z",
    "last_login_at": "2026-11-25T08:59:58.000000Z",
    "mfa_policy": "optional",
    "session": {"amr": ["pwd", "otp"], "enrolment_only": false, "created_at": "2026-11-25T09:00:00.000000Z", "expires_at": "2026-12-25T09:00:00.000000Z"}
}))]
pub struct Me {
    /// ESR username.
    pub username: String,
    /// Employing organisation.
    pub organisation: OrganisationRef,
    /// First name.
    pub first_name: String,
    /// Surname.
    pub last_name: String,
    /// Work email address (where recovery emails go).
    pub work_email: String,
    /// `active`, `locked`, `suspended` or `disabled`.
    pub account_status: String,
    /// `not_requested`, `pending`, `approved`, `rejected` or `revoked`.
    #[schema(schema_with = crate::routes::closed_sets::internet_access)]
    pub internet_access: String,
    /// Whether a password is set (never the password itself).
    pub password_set: bool,
    /// When the password was last set.
    #[serde(serialize_with = "crate::timestamps::micros_opt")]
    pub password_changed_at: Option<DateTime<Utc>>,
    /// Previous successful password login.
    #[serde(serialize_with = "crate::timestamps::micros_opt")]
    pub last_login_at: Option<DateTime<Utc>>,
    /// The organisation's multi-factor policy: `off`, `optional` or `required`.
    pub mfa_policy: MfaPolicyBody,
    /// This session.
    pub session: SessionInfo,
}

/// Errors of reading the profile.
#[derive(Debug, thiserror::Error)]
pub enum MeError {
    /// The account behind the session is gone (should not happen).
    #[error("account not found")]
    AccountGone,
    /// Not authenticated (no valid token, or its session ended).
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl AsProblem for MeError {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::AccountGone => ProblemSpec::from_catalogue(
                StatusCode::UNAUTHORIZED,
                "invalid-token",
                "problem-invalid-token--account-gone",
                Vec::new(),
            ),
            Self::Auth(e) => e.problem(),
            Self::Storage(e) => e.problem(),
        }
    }
}
crate::problem_response!(MeError);

impl ProblemCatalogue for MeError {
    fn examples() -> Vec<ProblemSpec> {
        let mut examples = vec![Self::AccountGone.problem()];
        examples.extend(StorageError::examples());
        examples
    }
}

impl AsProblem for ChangeError {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::SessionEnded => AuthError::SessionEnded(None).problem(),
            Self::WrongCurrentPassword => ProblemSpec::from_catalogue(
                StatusCode::BAD_REQUEST,
                "current-password-incorrect",
                "problem-current-password-incorrect",
                Vec::new(),
            )
            .with_violations(vec![crate::problem::Violation {
                code: "current-password-incorrect".into(),
                field: Some("current_password".into()),
                message: "The current password is not correct".into(),
                words: crate::problem::violation_words("current-password-incorrect"),
            }]),
            Self::Policy(violations) => policy_problem(violations),
            Self::ContactChangeHold(until) => crate::problem::contact_change_hold_problem(
                "Your work email or smartcard details were changed recently. For your security, a smartcard sign-in cannot change your password until the waiting time after the change has passed (see Retry-After). If you did not expect the change, contact your System Administrator.",
                *until,
            ),
            Self::Failure(f) => f.problem(),
        }
    }
}
crate::problem_response!(ChangeError);

impl ProblemCatalogue for ChangeError {
    fn examples() -> Vec<ProblemSpec> {
        let mut examples: Vec<ProblemSpec> = [
            Self::SessionEnded,
            Self::WrongCurrentPassword,
            Self::ContactChangeHold(crate::problem::example_hold_end()),
        ]
        .iter()
        .map(AsProblem::problem)
        .collect();
        examples.push(crate::problem::policy_problem_example());
        examples.push(AuthError::EnrolmentRequired.problem());
        examples.extend(Failure::examples());
        examples
    }
}

/// The signed-in member of staff: username, organisation, names, account and internet-access
/// status, and this session. What the My ESR app shows on its home page.
#[utoipa::path(
    tag = "self",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The profile.", body = Me),
        MeError,
    ),
)]
#[get("/me")]
pub async fn get_me(
    state: web::Data<AppState>,
    token: AccessToken,
) -> Result<web::Json<Me>, MeError> {
    // One query reads the session (revocation, expiry) with the profile: the hot path of the app.
    let sid = esr_domain::SessionId::from_stored(token.claims.sid.clone());
    let found = state
        .db_read(move |c| accounts::session_profile(c, &sid))
        .await?;
    let (session, profile) = found.map_or((None, None), |(s, p)| (Some(s), Some(p)));
    let auth = token.with_any_session(session)?;
    let profile = profile.ok_or(MeError::AccountGone)?;
    Ok(web::Json(me_body(profile, &auth)))
}

fn me_body(p: AccountProfile, auth: &Authenticated) -> Me {
    Me {
        username: p.account.username.as_str().to_owned(),
        organisation: OrganisationRef {
            code: p.account.organisation_code.as_str().to_owned(),
            name: p.organisation_name,
        },
        first_name: p.person.first_name,
        last_name: p.person.last_name,
        work_email: p.person.work_email,
        account_status: p.account.status.as_str().to_owned(),
        internet_access: p.account.internet_access.as_str().to_owned(),
        password_set: p.account.password_hash.is_some(),
        password_changed_at: p.account.password_changed_at,
        last_login_at: p.account.last_login_at,
        mfa_policy: p.mfa_policy.into(),
        session: SessionInfo {
            amr: auth.session.amr().into_iter().map(str::to_owned).collect(),
            enrolment_only: auth.session.enrolment_only,
            created_at: auth.session.created_at,
            expires_at: auth.session.expires_at,
        },
    }
}

/// Current password, new password and its confirmation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The password in use now.
    #[schema(value_type = String, format = Password)]
    pub current_password: Password,
    /// The new password.
    #[schema(value_type = String, format = Password)]
    pub new_password: Password,
    /// The new password again.
    #[schema(value_type = String, format = Password)]
    pub confirm_password: Password,
}

/// The password change took effect.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordChanged {
    /// When the new password was set.
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub password_changed_at: DateTime<Utc>,
    /// Other sessions of the account that were ended.
    pub other_sessions_ended: usize,
}

/// Change the password (current + new + confirm). The full policy applies, including "not
/// the same as any previous 4 passwords"; every other session of the account is ended. A wrong
/// current password counts towards the lockout.
#[utoipa::path(
    tag = "self",
    security(("bearerAuth" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "Password changed.", body = PasswordChanged),
        ChangeError,
    ),
)]
#[post("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    caller: Caller,
    auth: Authenticated,
    body: web::Json<ChangePasswordRequest>,
) -> Result<web::Json<PasswordChanged>, ChangeError> {
    let ChangePasswordRequest {
        current_password,
        new_password,
        confirm_password,
    } = body.into_inner();
    let form = NewPasswordForm {
        current: Some(current_password),
        new: new_password,
        confirm: confirm_password,
    };
    let changed =
        passwords::change_at_home(&state, &caller, &auth.session, form, Utc::now()).await?;
    Ok(web::Json(PasswordChanged {
        password_changed_at: changed.at,
        other_sessions_ended: changed.other_sessions_ended,
    }))
}
