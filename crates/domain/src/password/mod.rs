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

/// NFKC into a zeroizing buffer. Sized for the usual case (NFKC rarely grows text); the
/// rare expansion (up to 18 times, U+FDFA) goes through [`push_secret`], so it leaves no
/// unwiped copy behind either.
pub(crate) fn normalise(secret: &str) -> Zeroizing<String> {
    secret_string(secret.len() + 16, secret.nfkc())
}

/// Appends `piece` to a secret buffer without leaving an unwiped copy of it in freed memory.
///
/// `String::push_str` on a full buffer lets the allocator move the bytes and free the old
/// block as it is. Here, when `piece` does not fit, the contents move to a new zeroizing
/// buffer (at least twice the size) and the old one is wiped as it is dropped.
pub(crate) fn push_secret(buf: &mut Zeroizing<String>, piece: &str) {
    let needed = buf.len() + piece.len();
    if needed > buf.capacity() {
        let mut bigger = Zeroizing::new(String::with_capacity(needed.max(buf.capacity() * 2)));
        bigger.push_str(buf);
        *buf = bigger;
    }
    buf.push_str(piece);
}

/// Collects characters derived from a secret into a zeroizing buffer of `capacity` bytes,
/// growing it with [`push_secret`] if it turns out too small.
pub(crate) fn secret_string(
    capacity: usize,
    chars: impl IntoIterator<Item = char>,
) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(capacity));
    let mut utf8 = Zeroizing::new([0u8; 4]);
    for c in chars {
        push_secret(&mut out, c.encode_utf8(&mut utf8[..]));
    }
    out
}

/// Lower case, character by character, into a zeroizing buffer (`str::to_lowercase` grows
/// its own buffer when lower case is longer, e.g. `İ`). Unlike `str::to_lowercase` it always
/// lowers `Σ` to `σ` (no word-final `ς`), which is all the content rules need.
pub(crate) fn lowercase_secret(secret: &str) -> Zeroizing<String> {
    secret_string(secret.len(), secret.chars().flat_map(char::to_lowercase))
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
    fn nfkc_expansion_is_complete() {
        // U+FDFA is 3 bytes and becomes 18 characters (33 bytes): far past the initial
        // capacity, so the buffer must grow (through `push_secret`) without losing text.
        let input = "\u{fdfa}".repeat(40);
        let expected: String = input.nfkc().collect();
        assert_eq!(expected.chars().count(), 18 * 40);
        assert_eq!(*normalise(&input), expected);
        let mixed = format!("a{}b\u{fdfa}", "\u{fb01}".repeat(30));
        assert_eq!(*normalise(&mixed), mixed.nfkc().collect::<String>());
    }

    #[test]
    fn push_secret_grows_and_keeps_the_contents() {
        let mut buf = Zeroizing::new(String::with_capacity(2));
        for piece in ["ab", "cde", "", "fghijklmnop", "q"] {
            push_secret(&mut buf, piece);
        }
        assert_eq!(buf.as_str(), "abcdefghijklmnopq");
        assert!(buf.capacity() >= buf.len());
        assert_eq!(*lowercase_secret("PASSWORD İ Σ"), "password i\u{307} σ");
    }

    #[test]
    fn nfkc_normalisation() {
        // Full-width letters, a ligature and a composed/decomposed pair.
        assert_eq!(&*normalise("ｐａｓｓ"), "pass");
        assert_eq!(&*normalise("\u{fb01}ne"), "fine");
        assert_eq!(&*normalise("Zoe\u{308}"), "Zo\u{eb}");
    }
}
