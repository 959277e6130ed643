//! ESR Access domain rules: credentials, usernames, tokens and account states.
//!
//! Pure code only: no I/O, no async, no database, no HTTP. Time (`now: DateTime<Utc>`,
//! `today: NaiveDate`) and randomness (`&mut impl CryptoRng`, from the re-exported
//! [`rand_core`] 0.10) are passed in, so every rule is tested without clocks or mocks.
//!
//! The crate follows "parse, don't validate": every value with a rule is a newtype built
//! by `parse`, returning a typed error. Once you hold an [`OrganisationCode`], a
//! [`Username`], a [`WorkEmail`], a [`DateOfBirth`], a [`PersonName`], an
//! [`EmployeeNumber`] or a [`NewPassword`], it is valid. Every error and policy violation
//! implements [`Coded`]: a stable kebab-case `code` for programs and a `message` for staff,
//! worded after the ESR user guide where the guide has wording.
//!
//! Map of the crate:
//! - [`OrganisationCode`], [`Username`] (+ [`generate_username`]), [`WorkEmail`],
//!   [`DateOfBirth`], [`PersonName`], [`EmployeeNumber`]: identifiers and personal data.
//! - [`PasswordPolicy`], [`PolicyContext`], [`Violation`], [`Password`], [`NewPassword`]:
//!   the one password policy used by every path that sets a password
//!   (see `docs/PASSWORD-POLICY.md`).
//! - [`PasswordHasher`], [`Argon2Params`], [`PasswordHash`]: argon2id PHC hashing.
//! - [`OneTimeToken`], [`PlainToken`], [`TokenDigest`], [`TokenState`]: reset/unlock tokens
//!   and the random-token helpers used for refresh tokens and session ids.
//! - [`AccountStatus`], [`InternetAccessStatus`], [`ApprovalMode`], [`LockoutPolicy`],
//!   [`decide_login`]: the account state machine and the login decision.
//!
//! ```
//! use esr_domain::*;
//!
//! let policy = PasswordPolicy::default();
//! let ctx = PolicyContext { username: Some("999JSMITH01"), ..PolicyContext::default() };
//! let refused = policy.check(&Password::new("999JSMITH01abc"), None, &ctx).unwrap_err();
//! assert_eq!(refused[0].code(), "password-contains-context");
//!
//! let typed = Password::new("correct horse battery");
//! let new = policy.check(&typed, Some(&typed), &ctx).unwrap();
//! // Tiny parameters for the example; production uses `Argon2Params::default()`.
//! let hasher = PasswordHasher::new(Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 })?;
//! let stored = hasher.hash(&new, &mut rand::rng())?;
//! assert!(hasher.verify(&Password::new("correct horse battery"), stored.as_str()));
//! # Ok::<(), HashError>(())
//! ```

mod api_key;
mod coded;
mod date_of_birth;
mod email;
mod hashing;
mod ids;
mod login;
mod organisation;
mod password;
mod person;
mod second_factor;
mod status;
mod token;
mod username;

pub use rand_core;

pub use api_key::{
    API_KEY_BYTES, API_KEY_PREFIX, API_KEY_VISIBLE, ApiKeyAccess, ApiKeyAccessError, ApiKeyName,
    ApiKeyNameError, ApiKeyScope, ApiKeyScopeError, ApiKeySecret,
};
pub use coded::Coded;
pub use date_of_birth::{DateOfBirth, DateOfBirthError, MAX_AGE_YEARS, MIN_AGE_YEARS};
pub use email::{EmailError, MAX_EMAIL_LENGTH, WorkEmail};
pub use hashing::{
    Argon2Params, HashError, PasswordHash, PasswordHasher, keep_hash_memory_on_this_thread,
};
pub use ids::{AccountId, PersonId, SessionId};
pub use login::{LoginAttempt, LoginError, LoginOutcome, decide_login};
pub use organisation::{OrganisationCode, OrganisationCodeError};
pub use password::{
    CONTEXT_WORD_MIN_LENGTH, ContextKind, NewPassword, Password, PasswordPolicy, PolicyContext,
    PolicyDescription, PolicyRule, Violation, common_password_count, is_common_password,
};
pub use person::{
    EmployeeNumber, EmployeeNumberError, PersonName, PersonNameError, SmartcardSubject,
    SmartcardSubjectError, hides_text,
};
pub use second_factor::{
    AfterPassword, MfaPolicy, RECOVERY_CODES_PER_SET, RecoveryCode, SecondFactorInputError,
    TOTP_DIGITS, TotpCode,
};
pub use status::{
    AccountAction, AccountStatus, ApprovalMode, InactivityPolicy, InternetAccessAction,
    InternetAccessStatus, LockoutPolicy, TransitionError, UnknownValueError,
};
pub use token::{
    DEFAULT_TOKEN_TTL, MAX_WRONG_USERNAME_ATTEMPTS, OneTimeToken, PLAIN_TOKEN_LENGTH, PlainToken,
    TOKEN_BYTES, TokenDigest, TokenError, TokenPurpose, TokenState, hex_lower, random_token,
    sha256_hex,
};
pub use username::{
    Username, UsernameError, generate_username, generate_username_avoiding, username_stem,
};
