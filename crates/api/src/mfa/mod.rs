//! The cryptography of multi-factor sign-in: the key that seals TOTP secrets and keys the
//! recovery-code digests, and authenticator-app secrets, codes and QR codes.

mod key;
mod totp;

pub use key::{MfaKey, SealError};
pub use totp::{Enrolment, TotpSecret};
