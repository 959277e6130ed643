//! Accounts: list and get (never a password or its hash), and the administrator's actions:
//! unlock, suspend (ends every session), reactivate, internet access approve / reject /
//! revoke (revoke ends every session), and send the self-service recovery email.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use esr_domain::{AccountId, AccountStatus, InternetAccessStatus, PersonId, Username};
use esr_persistence::accounts::{self, Account, AccountFilter};
use esr_persistence::second_factors::{self, StoredFactor};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{AdminError, ListProblems, access_conflict, account_conflict, bad_cursor, page_limit};
use crate::admin_auth::{AdminKey, WriteKey};
use crate::app::Caller;
use crate::app::administration::{self, AccountAction, AdminActionError, visible_account};
use crate::problem::ProblemSpec;
use crate::routes::factors::FactorBody;
use crate::state::AppState;

/// Registers the account routes.
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(list_accounts)
        .service(get_account)
        .service(unlock_account)
        .service(suspend_account)
        .service(reactivate_account)
        .service(approve_internet_access)
        .service(reject_internet_access)
        .service(revoke_internet_access)
        .service(send_recovery_email)
        .service(reset_factors);
}

/// An account as administrators see it: status, never the password.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "3d6f0f3e-8c1e-4a53-a2f1-5b7f2b8d9c10",
    "username": "999JSMITH01",
    "organisation_code": "999",
    "person_id": "a4b1c2d3-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
    "status": "active",
    "internet_access": "approved",
    "internet_access_changed_at": "2026-11-20T10:00:00.000000Z",
    "password_set": true,
    "password_changed_at": "2026-11-20T10:12:00.000000Z",
    "failed_login_count": 0,
    "locked_at": null,
    "last_login_at": "2026-11-25T08:55:00.000000Z",
    "created_at": "2026-11-20T10:00:00.000000Z",
    "updated_at": "2026-11-25T08:55:00.000000Z",
    "factors": [{"id": "0193a5c2-7d1e-7c4b-9a8e-3f2d1c0b9a87", "kind": "totp", "name": "Work phone", "confirmed": true, "created_at": "2026-12-07T09:00:00.000000Z", "last_used_at": "2026-12-07T17:45:12.000000Z"}]
}))]
pub struct AdminAccount {
    /// Identifier.
    #[schema(format = "uuid")]
    pub id: String,
    /// ESR username.
    pub username: String,
    /// Employing organisation.
    pub organisation_code: String,
    /// The person holding it (`/v1/admin/people/{id}`).
    #[schema(format = "uuid")]
    pub person_id: String,
    /// `active`, `locked`, `suspended` or `disabled`.
    #[schema(schema_with = crate::routes::closed_sets::account_status)]
    pub status: String,
    /// `not_requested`, `pending`, `approved`, `rejected` or `revoked`.
    #[schema(schema_with = crate::routes::closed_sets::internet_access)]
    pub internet_access: String,
    /// When internet access last changed.
    #[serde(serialize_with = "crate::timestamps::micros_opt")]
    pub internet_access_changed_at: Option<DateTime<Utc>>,
    /// Whether a password is set (never the password or its hash).
    pub password_set: bool,
    /// When the password was last set.
    #[serde(serialize_with = "crate::timestamps::micros_opt")]
    pub password_changed_at: Option<DateTime<Utc>>,
    /// Consecutive failed logins.
    pub failed_login_count: u32,
    /// When it was locked.
    #[serde(serialize_with = "crate::timestamps::micros_opt")]
    pub locked_at: Option<DateTime<Utc>>,
    /// Last successful login.
    #[serde(serialize_with = "crate::timestamps::micros_opt")]
    pub last_login_at: Option<DateTime<Utc>>,
    /// Created.
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub created_at: DateTime<Utc>,
    /// Last changed.
    #[serde(serialize_with = "crate::timestamps::micros")]
    pub updated_at: DateTime<Utc>,
    /// Second factors (kind, name, dates; never a secret). Shown on a single account, not
    /// in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub factors: Option<Vec<FactorBody>>,
}

impl From<Account> for AdminAccount {
    fn from(a: Account) -> Self {
        Self {
            id: a.id.into_string(),
            username: a.username.as_str().to_owned(),
            organisation_code: a.organisation_code.as_str().to_owned(),
            person_id: a.person_id.into_string(),
            status: a.status.as_str().to_owned(),
            internet_access: a.internet_access.as_str().to_owned(),
            internet_access_changed_at: a.internet_access_changed_at,
            password_set: a.password_hash.is_some(),
            password_changed_at: a.password_changed_at,
            failed_login_count: a.failed_login_count,
            locked_at: a.locked_at,
            last_login_at: a.last_login_at,
            created_at: a.created_at,
            updated_at: a.updated_at,
            factors: None,
        }
    }
}

impl AdminAccount {
    /// The account with its second factors.
    fn with_factors(account: Account, factors: Vec<StoredFactor>) -> Self {
        Self {
            factors: Some(factors.into_iter().map(Into::into).collect()),
            ..account.into()
        }
    }
}

/// A page of accounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminAccountPage {
    /// Accounts by username.
    pub items: Vec<AdminAccount>,
    /// Cursor of the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Filters and paging of the account list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccountQuery {
    /// Only this organisation's accounts.
    #[param(example = "999")]
    pub organisation: Option<String>,
    /// Only accounts with this status (`active`, `locked`, `suspended`, `disabled`).
    #[param(example = "locked")]
    pub status: Option<String>,
    /// Only accounts with this internet-access status (`not_requested`, `pending`,
    /// `approved`, `rejected`, `revoked`).
    #[param(example = "pending")]
    pub internet_access: Option<String>,
    /// Only the account of this person (the `id` of `GET /v1/admin/people`).
    #[param(example = "01938f2e-8c1a-7b3d-9e4f-5a6b7c8d9e0f")]
    pub person_id: Option<String>,
    /// Only the account with this id (the `account_id` of audit events and outbox messages).
    #[param(example = "6f1c1a8e-9a57-4c1d-8b8e-2c4a4f2e9a57")]
    pub id: Option<String>,
    /// Only those changed at or after this time (RFC 3339), e.g. the start of your last
    /// sync. What changed and why is in the audit trail (`GET /v1/admin/audit-events`).
    #[param(example = "2026-12-07T09:00:00.000000Z")]
    pub updated_since: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100, example = 50)]
    pub limit: Option<u32>,
}

fn not_found() -> AdminError {
    AdminError::NotFound {
        code: "account-not-found",
        what: "Account",
    }
}

impl From<AdminActionError> for AdminError {
    fn from(e: AdminActionError) -> Self {
        match e {
            AdminActionError::NotFound => not_found(),
            AdminActionError::Refused(refused) => refused.into(),
            AdminActionError::AccessNotApproved => Self::Conflict {
                code: "internet-access-not-approved",
                detail: "Internet access is not approved for this account, so it has no password login to recover; approve it first.".into(),
            },
            AdminActionError::AccountNotUsable => Self::Conflict {
                code: "account-not-usable",
                detail: "The account is suspended or disabled, so no recovery email is sent; reactivate it first.".into(),
            },
            AdminActionError::ContactChangeHold(until) => Self::Conflict {
                code: "contact-change-hold",
                detail: format!(
                    "The work email or smartcard of this person changed recently, so no recovery email is sent until {}. The old and the new address have been told of the change.",
                    until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            },
            AdminActionError::TooManyEmails => Self::Body(Box::new(
                ProblemSpec::new(
                    actix_web::http::StatusCode::TOO_MANY_REQUESTS,
                    "too-many-emails",
                    "Too many emails",
                    "Administrators have asked for three recovery emails to this account in the last hour, or for half of what its mailbox may receive in an hour. Try again later.",
                )
                .with_retry_after(3600),
            )),
            AdminActionError::Failure(f) => Self::Failure(f),
        }
    }
}

crate::operation_problems!(
    /// The problems of reading an account.
    AccountProblems: AdminError => [not_found()]
);

crate::operation_problems!(
    /// The problems of unlocking an account.
    UnlockProblems: AdminError => [
        not_found(),
        account_conflict(esr_domain::AccountAction::Unlock, AccountStatus::Suspended),
    ]
);

crate::operation_problems!(
    /// The problems of suspending an account.
    SuspendProblems: AdminError => [
        not_found(),
        account_conflict(esr_domain::AccountAction::Suspend, AccountStatus::Disabled),
    ]
);

crate::operation_problems!(
    /// The problems of reactivating an account.
    ReactivateProblems: AdminError => [
        not_found(),
        account_conflict(esr_domain::AccountAction::Reactivate, AccountStatus::Locked),
    ]
);

crate::operation_problems!(
    /// The problems of deciding a pending request for internet access.
    DecideAccessProblems: AdminError => [
        not_found(),
        access_conflict(
            esr_domain::InternetAccessAction::Approve,
            InternetAccessStatus::Revoked,
        ),
    ]
);

crate::operation_problems!(
    /// The problems of revoking internet access.
    RevokeAccessProblems: AdminError => [
        not_found(),
        access_conflict(
            esr_domain::InternetAccessAction::Revoke,
            InternetAccessStatus::NotRequested,
        ),
    ]
);

crate::operation_problems!(
    /// The problems of sending a recovery email.
    RecoveryEmailProblems: AdminError => [
        not_found(),
        AdminError::from(AdminActionError::AccessNotApproved),
        AdminError::from(AdminActionError::AccountNotUsable),
        AdminError::from(AdminActionError::ContactChangeHold(crate::problem::example_hold_end())),
        AdminError::from(AdminActionError::TooManyEmails),
    ]
);

/// List accounts, filtered by organisation, status, internet access, person or account id.
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    params(AccountQuery),
    responses(
        (status = 200, description = "A page of accounts by username.", body = AdminAccountPage),
        ListProblems,
    ),
)]
#[get("/admin/accounts")]
pub async fn list_accounts(
    state: web::Data<AppState>,
    key: AdminKey,
    query: web::Query<AccountQuery>,
) -> Result<web::Json<AdminAccountPage>, AdminError> {
    let q = query.into_inner();
    let limit = page_limit(q.limit)?;
    let bad = |what: &str| AdminError::InvalidParameter(format!("unknown {what}"));
    let mut filter = AccountFilter {
        organisation: q
            .organisation
            .as_deref()
            .map(esr_domain::OrganisationCode::parse)
            .transpose()
            .map_err(|_| bad("organisation code"))?,
        status: q
            .status
            .as_deref()
            .map(AccountStatus::parse)
            .transpose()
            .map_err(|_| bad("status"))?,
        internet_access: q
            .internet_access
            .as_deref()
            .map(InternetAccessStatus::parse)
            .transpose()
            .map_err(|_| bad("internet access status"))?,
        person_id: q
            .person_id
            .as_deref()
            .map(|id| PersonId::parse(id).ok_or_else(|| bad("person_id")))
            .transpose()?,
        id: q
            .id
            .as_deref()
            .map(|id| {
                uuid::Uuid::parse_str(id)
                    .map(|_| AccountId::from_stored(id.to_ascii_lowercase()))
                    .map_err(|_| bad("id"))
            })
            .transpose()?,
        updated_since: super::updated_since(q.updated_since.as_deref())?,
    };
    if let Some(own) = key.organisation() {
        match &filter.organisation {
            // Another organisation is as empty as one that does not exist.
            Some(asked) if asked != own => {
                return Ok(web::Json(AdminAccountPage {
                    items: Vec::new(),
                    next_cursor: None,
                }));
            }
            _ => filter.organisation = Some(own.clone()),
        }
    }
    let cursor = q
        .cursor
        .map(|c| Username::parse(&c).map_err(|_| bad_cursor()))
        .transpose()?;
    let page = state
        .db(move |c| accounts::list(c, &filter, cursor.as_ref(), limit))
        .await?;
    Ok(web::Json(AdminAccountPage {
        items: page.items.into_iter().map(AdminAccount::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Get an account by username.
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    params(("username" = String, Path, description = "ESR username (case-insensitive).", example = "999JSMITH01")),
    responses(
        (status = 200, description = "The account.", body = AdminAccount),
        AccountProblems,
    ),
)]
#[get("/admin/accounts/{username}")]
pub async fn get_account(
    state: web::Data<AppState>,
    key: AdminKey,
    username: web::Path<String>,
) -> Result<web::Json<AdminAccount>, AdminError> {
    let username = username.into_inner();
    state
        .db(move |c| {
            let Some(account) = visible_account(c, &key, &username)? else {
                return Ok(None);
            };
            let factors = second_factors::list_for_account(c, &account.id)?;
            Ok(Some(AdminAccount::with_factors(account, factors)))
        })
        .await?
        .map(web::Json)
        .ok_or_else(not_found)
}

/// Applies an administrator's decision and answers with the account as it now is.
async fn act(
    state: &AppState,
    key: WriteKey,
    caller: Caller,
    username: String,
    action: AccountAction,
) -> Result<web::Json<AdminAccount>, AdminError> {
    let account =
        administration::decide(state, &caller, &key, username, action, Utc::now()).await?;
    Ok(web::Json(account.into()))
}

/// Unlock a locked account (clears the failed-login count; the password is unchanged).
#[utoipa::path(
    tag = "admin",
    operation_id = "admin_unlock_account",
    security(("apiKey" = [])),
    params(("username" = String, Path, description = "ESR username.", example = "999JSMITH01")),
    responses(
        (status = 200, description = "The account, now active (also when it was already: a retry changes nothing).", body = AdminAccount),
        UnlockProblems,
    ),
)]
#[post("/admin/accounts/{username}/unlock")]
pub async fn unlock_account(
    state: web::Data<AppState>,
    key: WriteKey,
    caller: Caller,
    username: web::Path<String>,
) -> Result<web::Json<AdminAccount>, AdminError> {
    act(
        &state,
        key,
        caller,
        username.into_inner(),
        AccountAction::Unlock,
    )
    .await
}

/// Suspend an account: every session and refresh token ends at once; login answers
/// `account-suspended` (after a correct password) until reactivated.
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    params(("username" = String, Path, description = "ESR username.", example = "999JSMITH01")),
    responses(
        (status = 200, description = "The account, now suspended (also when it was already: a retry changes nothing).", body = AdminAccount),
        SuspendProblems,
    ),
)]
#[post("/admin/accounts/{username}/suspend")]
pub async fn suspend_account(
    state: web::Data<AppState>,
    key: WriteKey,
    caller: Caller,
    username: web::Path<String>,
) -> Result<web::Json<AdminAccount>, AdminError> {
    act(
        &state,
        key,
        caller,
        username.into_inner(),
        AccountAction::Suspend,
    )
    .await
}

/// Reactivate a suspended account.
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    params(("username" = String, Path, description = "ESR username.", example = "999JSMITH01")),
    responses(
        (status = 200, description = "The account, now active (also when it was already: a retry changes nothing).", body = AdminAccount),
        ReactivateProblems,
    ),
)]
#[post("/admin/accounts/{username}/reactivate")]
pub async fn reactivate_account(
    state: web::Data<AppState>,
    key: WriteKey,
    caller: Caller,
    username: web::Path<String>,
) -> Result<web::Json<AdminAccount>, AdminError> {
    act(
        &state,
        key,
        caller,
        username.into_inner(),
        AccountAction::Reactivate,
    )
    .await
}

/// Approve a pending request for internet access (organisations with manual approval).
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    params(("username" = String, Path, description = "ESR username.", example = "998OBROWN01")),
    responses(
        (status = 200, description = "The account, internet access approved (also when it was already).", body = AdminAccount),
        DecideAccessProblems,
    ),
)]
#[post("/admin/accounts/{username}/internet-access/approve")]
pub async fn approve_internet_access(
    state: web::Data<AppState>,
    key: WriteKey,
    caller: Caller,
    username: web::Path<String>,
) -> Result<web::Json<AdminAccount>, AdminError> {
    act(
        &state,
        key,
        caller,
        username.into_inner(),
        AccountAction::ApproveAccess,
    )
    .await
}

/// Reject a pending request for internet access (the person may ask again at work).
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    params(("username" = String, Path, description = "ESR username.", example = "998OBROWN01")),
    responses(
        (status = 200, description = "The account, internet access rejected (also when it was already).", body = AdminAccount),
        DecideAccessProblems,
    ),
)]
#[post("/admin/accounts/{username}/internet-access/reject")]
pub async fn reject_internet_access(
    state: web::Data<AppState>,
    key: WriteKey,
    caller: Caller,
    username: web::Path<String>,
) -> Result<web::Json<AdminAccount>, AdminError> {
    act(
        &state,
        key,
        caller,
        username.into_inner(),
        AccountAction::RejectAccess,
    )
    .await
}

/// Revoke approved internet access: every session ends at once; the person renews access at
/// work with a smartcard.
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    params(("username" = String, Path, description = "ESR username.", example = "999JSMITH01")),
    responses(
        (status = 200, description = "The account, internet access revoked (also when it was already).", body = AdminAccount),
        RevokeAccessProblems,
    ),
)]
#[post("/admin/accounts/{username}/internet-access/revoke")]
pub async fn revoke_internet_access(
    state: web::Data<AppState>,
    key: WriteKey,
    caller: Caller,
    username: web::Path<String>,
) -> Result<web::Json<AdminAccount>, AdminError> {
    act(
        &state,
        key,
        caller,
        username.into_inner(),
        AccountAction::RevokeAccess,
    )
    .await
}

/// The answer to a recovery email request.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"message": "The recovery email to the account holder's work email has been queued."}))]
pub struct Queued {
    /// What happens next.
    pub message: String,
}

/// Send the account holder the self-service recovery email (username and a password-reset
/// link, 4 hours, to their work email on record). The administrator never sees the link.
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    params(("username" = String, Path, description = "ESR username.", example = "999JSMITH01")),
    responses(
        (status = 202, description = "Queued: the delivery worker issues the link and sends the same email as Forgotten | Request Username/Password.", body = Queued),
        RecoveryEmailProblems,
    ),
)]
#[post("/admin/accounts/{username}/send-recovery-email")]
pub async fn send_recovery_email(
    state: web::Data<AppState>,
    key: WriteKey,
    caller: Caller,
    username: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    administration::send_recovery_email(&state, &caller, &key, username.into_inner(), Utc::now())
        .await?;
    Ok(HttpResponse::Accepted().json(Queued {
        message: "The recovery email to the account holder's work email has been queued.".into(),
    }))
}

/// Reset a person's second factors (a lost phone and no recovery codes left): every
/// authenticator app, passkey and recovery code of the account is removed, every session
/// ends, and the holder is emailed. Their next password login asks for no factor or, where the
/// organisation requires one, opens only enrolment (with its emailed link).
#[utoipa::path(
    tag = "admin",
    security(("apiKey" = [])),
    params(("username" = String, Path, description = "ESR username.", example = "999JSMITH01")),
    responses(
        (status = 200, description = "The account, with no factors left.", body = AdminAccount),
        AccountProblems,
    ),
)]
#[post("/admin/accounts/{username}/factors/reset")]
pub async fn reset_factors(
    state: web::Data<AppState>,
    key: WriteKey,
    caller: Caller,
    username: web::Path<String>,
) -> Result<web::Json<AdminAccount>, AdminError> {
    let account =
        administration::reset_factors(&state, &caller, &key, username.into_inner(), Utc::now())
            .await?;
    Ok(web::Json(AdminAccount::with_factors(account, Vec::new())))
}
