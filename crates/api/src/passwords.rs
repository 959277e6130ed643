//! Setting a new password, the one path every password-setting route takes (change from
//! the app, reset link, internet-access password): static policy with the person's context,
//! history, and hashing, all on the bounded hashing pool.

use esr_domain::{Password, PolicyContext, Violation};
use esr_persistence::accounts::AccountProfile;

use crate::hashing::HashSlot;
use crate::state::AppState;

/// The outcome of vetting a new password.
pub enum Verdict {
    /// The current password given does not match.
    WrongCurrent,
    /// The new password breaks the policy (every violation).
    Policy(Vec<Violation>),
    /// Accepted: the argon2id PHC string to store.
    Hashed(String),
}

impl std::fmt::Debug for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::WrongCurrent => f.write_str("WrongCurrent"),
            Self::Policy(v) => write!(f, "Policy({v:?})"),
            Self::Hashed(_) => f.write_str("Hashed(****)"),
        }
    }
}

/// What a new password is checked against.
pub struct Candidate {
    /// The new password.
    pub new: Password,
    /// Its confirmation.
    pub confirm: Password,
    /// The current password and the stored hash to check it against, when the route needs
    /// it (change from the app); `None` when another proof was given (reset link, smartcard).
    pub current: Option<(Password, Option<String>)>,
}

/// Vets and hashes a new password for an account: current password (if required), every
/// static rule with the person's context, then the last `history_depth` passwords, then a
/// fresh hash. Runs on the hashing pool in the admitted `slot`.
pub async fn vet(
    state: &AppState,
    slot: HashSlot,
    profile: &AccountProfile,
    history: Vec<String>,
    candidate: Candidate,
) -> Result<Verdict, String> {
    let policy = state.config.password_policy.clone();
    let hasher = state.hasher.clone();
    let username = profile.account.username.as_str().to_owned();
    let first = profile.person.first_name.clone();
    let last = profile.person.last_name.clone();
    let email = profile.person.work_email.clone();
    let organisation = profile.organisation_name.clone();
    let dob = profile.person.date_of_birth;
    state
        .hashing
        .run(slot, move || -> Result<Verdict, String> {
            if let Some((current, stored)) = &candidate.current
                && !stored
                    .as_deref()
                    .is_some_and(|phc| hasher.verify(current, phc))
            {
                return Ok(Verdict::WrongCurrent);
            }
            let context = PolicyContext {
                username: Some(&username),
                first_name: Some(&first),
                last_name: Some(&last),
                email: Some(&email),
                organisation_name: Some(&organisation),
                date_of_birth: Some(dob),
                other_words: &[],
            };
            let new = match policy.check(&candidate.new, Some(&candidate.confirm), &context) {
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
        .map_err(|e| e.to_string())?
}
