//! Choosing a new password for a signed-in account: the one path shared by the password
//! change (`POST /v1/me/password`, current password required) and the workplace password set
//! (`PUT /v1/me/internet-access/password`, the smartcard is the proof).
//!
//! The full policy applies: static rules with the person's context words (username, names,
//! work email, organisation, date of birth), then the history (verifying against the last
//! hashes), then hashing, all on the bounded hashing pool.

use actix_web::http::StatusCode;
use esr_domain::{NewPassword, Password, PolicyContext, Violation};

use crate::breached::BreachOutcome;
use esr_persistence::accounts::{self, AccountProfile};

use crate::hashing::HashSlot;
use crate::problem::ProblemSpec;
use crate::routes::password_policy::violation_body;
use crate::state::{AppState, StorageError};

/// What checking a new password concluded.
pub enum Verdict {
    /// The current password (when one was asked for) is wrong.
    WrongCurrent,
    /// The new password breaks the policy; every violation.
    Policy(Vec<Violation>),
    /// Accepted: the PHC hash to store.
    Hashed(String),
}

impl std::fmt::Debug for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::WrongCurrent => "WrongCurrent",
            Self::Policy(_) => "Policy",
            Self::Hashed(_) => "Hashed",
        })
    }
}

/// A password change that failed for reasons other than the password itself.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The account behind the session is gone.
    #[error("account not found")]
    AccountGone,
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Hashing failed unexpectedly.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The typed passwords.
pub struct NewPasswordForm {
    /// The password in use now, when the path asks for it.
    pub current: Option<Password>,
    /// The new password.
    pub new: Password,
    /// The new password again.
    pub confirm: Password,
}

/// Loads the account and its history and checks `form` against the whole policy, spending
/// `slot` on the hashing work. Returns the profile read and the verdict.
pub async fn check_new_password(
    state: &AppState,
    slot: HashSlot,
    account_id: String,
    form: NewPasswordForm,
) -> Result<(AccountProfile, Verdict), PrepareError> {
    let depth = state.config.password_policy.history_depth;
    let (profile, history) = state
        .db(move |c| {
            let profile = accounts::profile(c, &account_id)?;
            let history = accounts::password_history(c, &account_id, depth)?;
            Ok((profile, history))
        })
        .await?;
    let profile = profile.ok_or(PrepareError::AccountGone)?;
    let current_hash = profile.account.password_hash.clone();

    // Static rules first: cheap, and every violation is reported together.
    let policy = state.config.password_policy.clone();
    let checked = policy.check(
        &form.new,
        Some(&form.confirm),
        &PolicyContext {
            username: Some(profile.account.username.as_str()),
            first_name: Some(&profile.person.first_name),
            last_name: Some(&profile.person.last_name),
            email: Some(&profile.person.work_email),
            organisation_name: Some(&profile.organisation_name),
            date_of_birth: Some(profile.person.date_of_birth),
            other_words: &[],
        },
    );
    // The breached-password look-up, when on, adds its violation to the others.
    let checked = match (&state.breached, checked) {
        (Some(breached), checked) if policy.breached_check => {
            let found = breached.check(&form.new.normalised()).await;
            merge_breach(state, found, checked)
        }
        (_, checked) => checked,
    };
    let current = form.current;
    let hasher = state.hasher.clone();
    let verdict = state
        .hashing
        .run(slot, move || -> Result<Verdict, String> {
            if let Some(current) = &current {
                let current_ok = current_hash
                    .as_deref()
                    .is_some_and(|phc| hasher.verify(current, phc));
                if !current_ok {
                    return Ok(Verdict::WrongCurrent);
                }
            }
            let new = match checked {
                Ok(new) => new,
                Err(violations) => return Ok(Verdict::Policy(violations)),
            };
            let recent: Vec<&str> = history.iter().map(String::as_str).collect();
            if let Err(v) = policy.check_history(&new, &recent, &hasher) {
                return Ok(Verdict::Policy(vec![v]));
            }
            hasher
                .hash(&new, &mut rand::rng())
                .map(|h| Verdict::Hashed(h.into_string()))
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| PrepareError::Internal(e.to_string()))?
        .map_err(PrepareError::Internal)?;
    Ok((profile, verdict))
}

/// Adds [`Violation::Breached`] to a static verdict when the look-up found the password;
/// an unavailable API leaves the verdict as it was (fail-open), logged and counted.
fn merge_breach(
    state: &AppState,
    found: BreachOutcome,
    checked: Result<NewPassword, Vec<Violation>>,
) -> Result<NewPassword, Vec<Violation>> {
    match found {
        BreachOutcome::Breached(_) => {
            state.metrics.security_event("password.breached");
            match checked {
                Ok(_) => Err(vec![Violation::Breached]),
                Err(mut violations) => {
                    violations.push(Violation::Breached);
                    Err(violations)
                }
            }
        }
        BreachOutcome::NotFound => checked,
        BreachOutcome::Unavailable(reason) => {
            state.metrics.security_event("breached_check.unavailable");
            tracing::warn!(
                %reason,
                "breached-password check unavailable; the password was not checked against it (fail-open)"
            );
            checked
        }
    }
}

/// The `400 password-policy` problem listing every violation.
pub fn policy_problem(violations: &[Violation]) -> ProblemSpec {
    ProblemSpec::new(
        StatusCode::BAD_REQUEST,
        "password-policy",
        "Password not accepted",
        "The new password does not meet the password policy; see violations.",
    )
    .with_violations(violations.iter().map(violation_body).collect())
}

/// The `503 busy` problem of a full hashing pool.
pub fn busy_problem() -> ProblemSpec {
    ProblemSpec::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "busy",
        "Service Unavailable",
        "The service is busy. Please try again in a moment.",
    )
    .with_retry_after(1)
}
