//! The cryptography of multi-factor sign-in: the key that seals TOTP secrets and passkey
//! credentials and keys the recovery-code digests, authenticator-app secrets, codes and QR
//! codes, and the WebAuthn relying party.

mod key;
pub mod passkey;
mod totp;

pub use key::{MfaKey, SealError};
pub use totp::{Enrolment, TotpSecret};
