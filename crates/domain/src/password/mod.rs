//! The password policy and the secret types it works on.
//!
//! Decisions and thresholds are documented in `docs/PASSWORD-POLICY.md`.

mod common;
mod context;
mod patterns;
mod policy;

use std::fmt;

use serde::{Deserialize, Deserializer};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

pub use common::{common_password_count, is_common_password};
pub use context::{CONTEXT_WORD_MIN_LENGTH, ContextKind};
pub use policy::{PasswordPolicy, PolicyContext, PolicyDescription, PolicyRule, Violation};

/// A password exactly as typed (login input, or a candidate before the policy has run).
///
/// Zeroed on drop, never printed: `Debug` shows `Password(****)` and there is no `Display`
/// or `Serialize`. `Deserialize` is provided so request bodies can hold it directly.
pub struct Password(Zeroizing<String>);

impl Password {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(Zeroizing::new(secret.into()))
    }

    /// The raw secret as typed. Use only to hand it to something that needs the bytes.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The NFKC form that policy checks and hashes use (so "ｐａｓｓ" and "pass" are one
    /// password, and a login typed on another keyboard still matches). Public for the
    /// breached-password check, which must look up exactly what would be hashed.
    pub fn normalised(&self) -> Zeroizing<String> {
        normalise(&self.0)
    }
}

/// NFKC into a zeroizing buffer, sized up front so the usual case never reallocates
/// (a reallocation would leave an unzeroed copy behind).
pub(crate) fn normalise(secret: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(secret.len() + 16));
    out.extend(secret.nfkc());
    out
}

impl From<String> for Password {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Password {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(****)")
    }
}

impl<'de> Deserialize<'de> for Password {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

/// A password that passed [`PasswordPolicy::check`], held in its NFKC-normalised form:
/// this is what gets hashed. Zeroed on drop; `Debug` shows `NewPassword(****)`.
pub struct NewPassword(pub(crate) Zeroizing<String>);

impl NewPassword {
    /// The normalised secret. Use only to hash it or to run the breached-password check.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Length in Unicode code points of the normalised form.
    pub fn char_count(&self) -> usize {
        self.0.chars().count()
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(****)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_secret() {
        let p = Password::new("correct horse battery");
        assert_eq!(format!("{p:?}"), "Password(****)");
        let n = NewPassword(normalise("correct horse battery"));
        assert_eq!(format!("{n:?}"), "NewPassword(****)");
        assert_eq!(format!("{:?}", Some(&p)), "Some(Password(****))");
    }

    #[test]
    fn deserializes_from_a_json_string() {
        let p: Password = serde_json::from_str("\"s3cret value\"").unwrap();
        assert_eq!(p.expose_secret(), "s3cret value");
    }

    #[test]
    fn nfkc_normalisation() {
        // Full-width letters, a ligature and a composed/decomposed pair.
        assert_eq!(&*normalise("ｐａｓｓ"), "pass");
        assert_eq!(&*normalise("\u{fb01}ne"), "fine");
        assert_eq!(&*normalise("Zoe\u{308}"), "Zo\u{eb}");
    }
}
