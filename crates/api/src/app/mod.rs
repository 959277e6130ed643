//! The application layer: every use case that reads or changes an account, one function each.
//!
//! A use case takes domain values (already parsed), the [`Caller`] and `now`, does its reads,
//! its hashing and its calls to the identity provider, then makes its change in **one write
//! transaction** and returns a typed outcome. Route handlers only extract, call and map; the
//! CLI and the delivery worker call the same functions.
//!
//! What an account event does to links, sessions, emails and the audit trail is written once,
//! in [`consequences`] (SPEC §2 "Consequences of account events"); use cases call it and never
//! repeat any of it.

pub mod administration;
pub mod api_keys;
pub mod audit;
pub mod caller;
pub mod challenge;
pub mod consequences;
pub mod factors;
pub mod failure;
pub mod import;
pub mod internet_access;
pub mod lockout;
pub mod organisations;
pub mod passwords;
pub mod people;
pub mod recovery;
pub mod second_step;
pub mod sessions;
pub mod smartcard;

pub use caller::Caller;
pub use failure::Failure;

/// How long a change of work email or smartcard holds recovery and setting a password at work.
pub fn contact_change_hold(config: &crate::config::Config) -> chrono::Duration {
    chrono::Duration::from_std(config.contact_change_hold).unwrap_or(chrono::Duration::zero())
}
