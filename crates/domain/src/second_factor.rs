//! Multi-factor sign-in: an organisation's policy, and the shapes of what a person types as a
//! second factor (an authenticator-app code, a recovery code).

use std::fmt;

use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::UnknownValueError;

/// Whether an organisation's staff sign in from home with a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MfaPolicy {
    /// A password alone; no factor is enrolled or asked for.
    Off,
    /// Those who enrol a factor are asked for it at every password login.
    #[default]
    Optional,
    /// Everyone must have a factor: without one, a password opens only enrolment.
    Required,
}

impl MfaPolicy {
    /// `off`, `optional` or `required`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Optional => "optional",
            Self::Required => "required",
        }
    }

    /// Reads `off`/`optional`/`required` (trimmed, any case).
    pub fn parse(s: &str) -> Result<Self, UnknownValueError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "off" => Ok(Self::Off),
            "optional" => Ok(Self::Optional),
            "required" => Ok(Self::Required),
            _ => Err(UnknownValueError::new("mfa-policy")),
        }
    }

    /// What a correct password leads to for an account with `confirmed_factors` factors.
    pub fn after_password(self, confirmed_factors: usize) -> AfterPassword {
        match (self, confirmed_factors) {
            (Self::Off, _) => AfterPassword::Session,
            (_, 1..) => AfterPassword::SecondFactor,
            (Self::Optional, 0) => AfterPassword::Session,
            (Self::Required, 0) => AfterPassword::EnrolmentOnly,
        }
    }
}

impl fmt::Display for MfaPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a correct password opens, by policy and enrolled factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterPassword {
    /// A full session.
    Session,
    /// Nothing yet: a second factor must follow.
    SecondFactor,
    /// A session that may only enrol a factor.
    EnrolmentOnly,
}

/// Digits in an authenticator-app code.
pub const TOTP_DIGITS: usize = 6;
/// Recovery codes in a set.
pub const RECOVERY_CODES_PER_SET: usize = 10;
/// Characters of a recovery code, without its separator: 12 of a 32-letter alphabet, 60 bits.
const RECOVERY_CODE_CHARS: usize = 12;
/// Crockford's base32: no I, L, O or U, so nothing reads as another letter or digit.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Why a typed second factor was refused before it was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecondFactorInputError {
    /// Not six digits.
    #[error("an authenticator code is 6 digits")]
    TotpShape,
    /// Not a recovery code's shape.
    #[error("a recovery code is 12 letters and digits, as XXXX-XXXX-XXXX")]
    RecoveryCodeShape,
}

/// Six digits from an authenticator app (spaces allowed, as apps show `123 456`).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpCode(String);

impl TotpCode {
    /// Reads a code as typed.
    pub fn parse(input: &str) -> Result<Self, SecondFactorInputError> {
        let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() == TOTP_DIGITS && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(digits))
        } else {
            Err(SecondFactorInputError::TotpShape)
        }
    }

    /// The six digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TotpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpCode(****)")
    }
}

/// A one-time recovery code, `XXXX-XXXX-XXXX` in Crockford's base32. Typed input is read
/// forgivingly (any case, with or without dashes or spaces; O as 0, I and L as 1), and
/// [`RecoveryCode::canonical`] is what is digested, so every spelling finds the same code.
pub struct RecoveryCode(Zeroizing<String>);

impl RecoveryCode {
    /// A fresh random code.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut code = String::with_capacity(RECOVERY_CODE_CHARS);
        while code.len() < RECOVERY_CODE_CHARS {
            let mut byte = [0u8; 1];
            rng.fill_bytes(&mut byte);
            // 256 is a multiple of 32: every letter equally likely.
            code.push(char::from(RECOVERY_ALPHABET[usize::from(byte[0] % 32)]));
        }
        Self(Zeroizing::new(code))
    }

    /// Reads a code as typed.
    pub fn parse(input: &str) -> Result<Self, SecondFactorInputError> {
        let mut code = String::with_capacity(RECOVERY_CODE_CHARS);
        for c in input.chars().filter(|c| !matches!(c, '-' | ' ')) {
            let c = match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !c.is_ascii() || !RECOVERY_ALPHABET.contains(&(c as u8)) {
                return Err(SecondFactorInputError::RecoveryCodeShape);
            }
            code.push(c);
        }
        if code.len() == RECOVERY_CODE_CHARS {
            Ok(Self(Zeroizing::new(code)))
        } else {
            Err(SecondFactorInputError::RecoveryCodeShape)
        }
    }

    /// The twelve characters, upper case, no dashes: what is digested.
    pub fn canonical(&self) -> &str {
        &self.0
    }

    /// As shown to the person: `XXXX-XXXX-XXXX`.
    pub fn display(&self) -> String {
        let c = &self.0;
        format!("{}-{}-{}", &c[..4], &c[4..8], &c[8..])
    }
}

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode(****)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_decides_what_a_correct_password_opens() {
        use AfterPassword::*;
        assert_eq!(MfaPolicy::Off.after_password(2), Session);
        assert_eq!(MfaPolicy::Optional.after_password(0), Session);
        assert_eq!(MfaPolicy::Optional.after_password(1), SecondFactor);
        assert_eq!(MfaPolicy::Required.after_password(1), SecondFactor);
        assert_eq!(MfaPolicy::Required.after_password(0), EnrolmentOnly);
        for p in [MfaPolicy::Off, MfaPolicy::Optional, MfaPolicy::Required] {
            assert_eq!(MfaPolicy::parse(&p.as_str().to_uppercase()), Ok(p));
        }
        assert!(MfaPolicy::parse("sometimes").is_err());
        assert_eq!(MfaPolicy::default(), MfaPolicy::Optional);
    }

    #[test]
    fn totp_codes_are_six_digits_spaces_allowed() {
        assert_eq!(TotpCode::parse("123 456").unwrap().as_str(), "123456");
        for bad in ["12345", "1234567", "12345a", "", "１２３４５６"] {
            assert_eq!(
                TotpCode::parse(bad),
                Err(SecondFactorInputError::TotpShape),
                "{bad}"
            );
        }
        assert_eq!(
            format!("{:?}", TotpCode::parse("123456").unwrap()),
            "TotpCode(****)"
        );
    }

    #[test]
    fn recovery_codes_read_any_spelling_of_the_same_code() {
        let code = RecoveryCode::generate(&mut rand::rng());
        let shown = code.display();
        assert_eq!(shown.len(), 14);
        let again = RecoveryCode::parse(&shown.to_lowercase()).unwrap();
        assert_eq!(again.canonical(), code.canonical());
        let typed = RecoveryCode::parse("oil0 1111 2222").unwrap();
        assert_eq!(typed.canonical(), "011011112222");
        for bad in [
            "ABCD-EFGH-JKM",
            "ABCD-EFGH-JKMNP",
            "ABCD-EFGH-JKMU",
            "ÄBCD-EFGH-JKMN",
        ] {
            assert!(RecoveryCode::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(format!("{code:?}"), "RecoveryCode(****)");
    }

    #[test]
    fn recovery_codes_differ() {
        let mut rng = rand::rng();
        let codes: std::collections::HashSet<String> = (0..100)
            .map(|_| RecoveryCode::generate(&mut rng).canonical().to_owned())
            .collect();
        assert_eq!(codes.len(), 100);
    }
}
