//! Random tokens (reset/unlock links, refresh tokens, session ids) and the pure rules
//! that decide whether a one-time token may be used.
//!
//! The plain value leaves the service once (in an email link or a response); only its
//! SHA-256 digest is stored, as 64 lower-case hex characters (a TEXT column on both SQLite
//! and PostgreSQL). The digest is taken over the token's base64url text.

use std::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use chrono::{DateTime, TimeDelta, Utc};
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::Coded;

/// Random bytes in a one-time token: 256 bits.
pub const TOKEN_BYTES: usize = 32;
/// Length of a one-time token's base64url text (no padding).
pub const PLAIN_TOKEN_LENGTH: usize = 43;
/// How long a reset or unlock link stays usable ("The password reset link is only active
/// for 4 hours").
pub const DEFAULT_TOKEN_TTL: TimeDelta = TimeDelta::hours(4);
/// Wrong usernames entered with one token before it is burned.
pub const MAX_WRONG_USERNAME_ATTEMPTS: u32 = 5;

/// `bytes` random bytes from `rng`, as base64url without padding (refresh tokens, session
/// ids, API key secrets). Store [`TokenDigest::of`] the result, never the result itself.
pub fn random_token<R: CryptoRng + ?Sized>(rng: &mut R, bytes: usize) -> String {
    let mut buf = Zeroizing::new(vec![0u8; bytes]);
    rng.fill_bytes(&mut buf);
    Base64UrlUnpadded::encode_string(&buf)
}

/// Generator of one-time tokens (256-bit, base64url).
pub struct OneTimeToken;

impl OneTimeToken {
    /// A fresh token and the digest to store for it.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> (PlainToken, TokenDigest) {
        let mut bytes = [0u8; TOKEN_BYTES];
        rng.fill_bytes(&mut bytes);
        let plain = PlainToken(Zeroizing::new(Base64UrlUnpadded::encode_string(&bytes)));
        bytes.zeroize();
        let digest = plain.digest();
        (plain, digest)
    }
}

/// The secret text of a one-time (or refresh) token. Never printed: `Debug` shows
/// `PlainToken(****)`, and there is no `Display` or `Serialize`.
pub struct PlainToken(Zeroizing<String>);

impl PlainToken {
    /// Checks the shape of a token received from a user (43 base64url characters encoding
    /// 32 bytes; surrounding whitespace ignored). Shape only: whether it exists, has
    /// expired or was used is decided from the stored [`TokenState`].
    pub fn parse(input: &str) -> Result<Self, TokenError> {
        let trimmed = input.trim();
        if trimmed.len() != PLAIN_TOKEN_LENGTH {
            return Err(TokenError::Malformed);
        }
        let mut decoded = [0u8; TOKEN_BYTES];
        // Strict decoding: refuses characters outside the alphabet and non-canonical
        // trailing bits, so each token has exactly one text (and one digest).
        let ok =
            Base64UrlUnpadded::decode(trimmed, &mut decoded).is_ok_and(|d| d.len() == TOKEN_BYTES);
        decoded.zeroize();
        if ok {
            Ok(Self(Zeroizing::new(trimmed.to_owned())))
        } else {
            Err(TokenError::Malformed)
        }
    }

    /// The token text, for building a link or a response body. Never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The SHA-256 digest to look the token up by.
    pub fn digest(&self) -> TokenDigest {
        TokenDigest::of(&self.0)
    }
}

impl fmt::Debug for PlainToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainToken(****)")
    }
}

/// SHA-256 of any bytes as 64 lower-case hex characters (token digests, audit chain links).
pub fn sha256_hex(data: &[u8]) -> String {
    hex_lower(&Sha256::digest(data))
}

/// Bytes as lower-case hex, two characters each (digests, MACs).
pub fn hex_lower(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    hex
}

/// SHA-256 of a token, as 64 lower-case hex characters: what the database stores.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TokenDigest(String);

impl TokenDigest {
    /// SHA-256 of any token text (refresh tokens, session ids, API key secrets).
    pub fn of(token: &str) -> Self {
        Self(sha256_hex(token.as_bytes()))
    }

    /// Reads a stored digest (64 hex characters; upper case accepted, stored lower).
    pub fn from_hex(hex: &str) -> Result<Self, TokenError> {
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(hex.to_ascii_lowercase()))
        } else {
            Err(TokenError::Malformed)
        }
    }

    /// The lower-case hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenDigest({})", self.0)
    }
}

impl fmt::Display for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for TokenDigest {
    type Error = TokenError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::from_hex(&value)
    }
}

impl From<TokenDigest> for String {
    fn from(value: TokenDigest) -> Self {
        value.0
    }
}

/// What a one-time token is for; a token works for its own purpose only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenPurpose {
    /// The link in the recovery email that sets a new password.
    PasswordReset,
    /// The link in the unlock email that unlocks without changing the password.
    AccountUnlock,
}

impl TokenPurpose {
    /// `password_reset` or `account_unlock`, for text columns.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::AccountUnlock => "account_unlock",
        }
    }

    /// Reads the `as_str` form.
    pub fn parse(s: &str) -> Result<Self, crate::UnknownValueError> {
        match s {
            "password_reset" => Ok(Self::PasswordReset),
            "account_unlock" => Ok(Self::AccountUnlock),
            _ => Err(crate::UnknownValueError::new("token-purpose")),
        }
    }
}

impl fmt::Display for TokenPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a token cannot be used.
///
/// The messages are specific; an endpoint may still answer all of them alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not the shape of a token (or no such token stored).
    #[error("token is malformed")]
    Malformed,
    /// A token for the other purpose.
    #[error("token is for another purpose")]
    WrongPurpose,
    /// Already used once.
    #[error("token has been used")]
    Used,
    /// Replaced by a newer token, or cancelled by a password change.
    #[error("token has been invalidated")]
    Invalidated,
    /// Too many wrong usernames were entered with it.
    #[error("token is burned after too many wrong usernames")]
    Burned,
    /// Older than its lifetime.
    #[error("{} token has expired", purpose.as_str())]
    Expired {
        /// What the expired token was for, so the message names the right link.
        purpose: TokenPurpose,
    },
    /// The username entered is not the token's account.
    #[error("username does not match the token")]
    UsernameMismatch,
}

impl Coded for TokenError {
    fn code(&self) -> &'static str {
        match self {
            Self::Malformed => "token-malformed",
            Self::WrongPurpose => "token-wrong-purpose",
            Self::Used => "token-used",
            Self::Invalidated => "token-invalidated",
            Self::Burned => "token-burned",
            Self::Expired { .. } => "token-expired",
            Self::UsernameMismatch => "token-username-mismatch",
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Malformed | Self::WrongPurpose => {
                "This link is not valid. Please check you copied the whole link from the email, \
                 or request a new one"
            }
            Self::Used => "This link has already been used. Please request a new one",
            Self::Invalidated => {
                "This link is no longer valid because a newer one was sent or your password \
                 was changed. Please use the most recent email, or request a new one"
            }
            Self::Burned => {
                "This link can no longer be used because the wrong username was entered too \
                 many times. Please request a new one"
            }
            // The lifetime is configuration the token does not carry, so it is not quoted:
            // the email that sent the link states it.
            Self::Expired {
                purpose: TokenPurpose::PasswordReset,
            } => "This password reset link has expired. Please request a new one",
            Self::Expired {
                purpose: TokenPurpose::AccountUnlock,
            } => "This unlock link has expired. Please request a new one",
            Self::UsernameMismatch => {
                "The username does not match this link. Enter the ESR username shown in the \
                 email (Example: 999JSMITH01)"
            }
        }
        .to_owned()
    }
}

/// The stored state of a one-time token, and the pure rules over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenState {
    /// What the token is for.
    pub purpose: TokenPurpose,
    /// First instant at which it is no longer usable.
    pub expires_at: DateTime<Utc>,
    /// When it was used, if it was.
    pub used_at: Option<DateTime<Utc>>,
    /// When it was invalidated (newer token, password changed), if it was.
    pub invalidated_at: Option<DateTime<Utc>>,
    /// Wrong usernames entered with it so far.
    pub wrong_username_attempts: u32,
}

impl TokenState {
    /// A fresh token issued at `now`, usable for `ttl` (normally [`DEFAULT_TOKEN_TTL`]).
    pub fn issue(purpose: TokenPurpose, now: DateTime<Utc>, ttl: TimeDelta) -> Self {
        Self {
            purpose,
            expires_at: now + ttl,
            used_at: None,
            invalidated_at: None,
            wrong_username_attempts: 0,
        }
    }

    /// Whether the token may be used for `expected` at `now`. Checked in the order
    /// purpose, used, invalidated, burned, expired.
    pub fn check_usable(
        &self,
        expected: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<(), TokenError> {
        if self.purpose != expected {
            Err(TokenError::WrongPurpose)
        } else if self.used_at.is_some() {
            Err(TokenError::Used)
        } else if self.invalidated_at.is_some() {
            Err(TokenError::Invalidated)
        } else if self.is_burned() {
            Err(TokenError::Burned)
        } else if now >= self.expires_at {
            Err(TokenError::Expired {
                purpose: self.purpose,
            })
        } else {
            Ok(())
        }
    }

    /// Whether [`MAX_WRONG_USERNAME_ATTEMPTS`] wrong usernames have been entered.
    pub fn is_burned(&self) -> bool {
        self.wrong_username_attempts >= MAX_WRONG_USERNAME_ATTEMPTS
    }

    /// The state after one more wrong username (the 5th burns the token).
    pub fn with_wrong_username(mut self) -> Self {
        self.wrong_username_attempts = self.wrong_username_attempts.saturating_add(1);
        self
    }

    /// Uses the token: it must be usable for `expected` at `now`.
    pub fn use_at(
        mut self,
        expected: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Self, TokenError> {
        self.check_usable(expected, now)?;
        self.used_at = Some(now);
        Ok(self)
    }

    /// Cancels the token (a newer one was issued, or the password changed). Idempotent:
    /// the first invalidation time is kept.
    pub fn invalidate(mut self, now: DateTime<Utc>) -> Self {
        self.invalidated_at.get_or_insert(now);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-06-15T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn generated_tokens_are_256_bit_base64url() {
        let mut rng = StdRng::seed_from_u64(1);
        let (plain, digest) = OneTimeToken::generate(&mut rng);
        let text = plain.expose_secret();
        assert_eq!(text.len(), PLAIN_TOKEN_LENGTH);
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(digest.as_str().len(), 64);
        assert_eq!(PlainToken::parse(text).unwrap().digest(), digest);
        let (other, other_digest) = OneTimeToken::generate(&mut rng);
        assert_ne!(other.expose_secret(), text);
        assert_ne!(other_digest, digest);
    }

    #[test]
    fn digest_is_sha256_hex_of_the_text() {
        // SHA-256("abc"), FIPS 180-2 test vector.
        assert_eq!(
            TokenDigest::of("abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let stored = TokenDigest::from_hex(
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
        )
        .unwrap();
        assert_eq!(stored, TokenDigest::of("abc"));
        assert!(TokenDigest::from_hex("abc").is_err());
        assert!(TokenDigest::from_hex(&"g".repeat(64)).is_err());
    }

    #[test]
    fn plain_tokens_never_debug_print() {
        let (plain, _) = OneTimeToken::generate(&mut StdRng::seed_from_u64(2));
        assert_eq!(format!("{plain:?}"), "PlainToken(****)");
    }

    #[test]
    fn parse_refuses_bad_shapes() {
        let good = "A".repeat(43);
        assert!(PlainToken::parse(&good).is_ok());
        assert!(PlainToken::parse(&format!("  {good}\n")).is_ok());
        for bad in [
            String::new(),
            "A".repeat(42),
            "A".repeat(44),
            format!("{}=", "A".repeat(42)),
            format!("{}+", "A".repeat(42)),
            format!("{}/", "A".repeat(42)),
            // Non-canonical: the last character carries bits beyond the 32 bytes.
            format!("{}B", "A".repeat(42)),
            format!("{}é", "A".repeat(41)),
        ] {
            assert_eq!(
                PlainToken::parse(&bad).unwrap_err(),
                TokenError::Malformed,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn random_token_helper() {
        let mut rng = StdRng::seed_from_u64(3);
        assert_eq!(random_token(&mut rng, 32).len(), 43);
        assert_eq!(random_token(&mut rng, 16).len(), 22);
        let refresh = random_token(&mut rng, 32);
        assert!(PlainToken::parse(&refresh).is_ok());
        assert_eq!(TokenDigest::of(&refresh).as_str().len(), 64);
    }

    #[test]
    fn fresh_token_is_usable_until_it_expires() {
        let state = TokenState::issue(TokenPurpose::PasswordReset, now(), DEFAULT_TOKEN_TTL);
        assert_eq!(state.expires_at, now() + TimeDelta::hours(4));
        let just_before = now() + TimeDelta::hours(4) - TimeDelta::seconds(1);
        assert!(
            state
                .check_usable(TokenPurpose::PasswordReset, just_before)
                .is_ok()
        );
        assert_eq!(
            state.check_usable(TokenPurpose::PasswordReset, now() + TimeDelta::hours(4)),
            Err(TokenError::Expired {
                purpose: TokenPurpose::PasswordReset
            })
        );
    }

    #[test]
    fn expiry_message_names_the_purpose_and_no_fixed_lifetime() {
        // An unlock link with a 30-minute lifetime: the message must not speak of a
        // password reset link or of 4 hours.
        let ttl = TimeDelta::minutes(30);
        let unlock = TokenState::issue(TokenPurpose::AccountUnlock, now(), ttl);
        let err = unlock
            .check_usable(TokenPurpose::AccountUnlock, now() + ttl)
            .unwrap_err();
        assert_eq!(err.code(), "token-expired");
        assert_eq!(
            err.message(),
            "This unlock link has expired. Please request a new one"
        );
        let reset = TokenState::issue(TokenPurpose::PasswordReset, now(), ttl);
        let err = reset
            .check_usable(TokenPurpose::PasswordReset, now() + ttl)
            .unwrap_err();
        assert_eq!(err.code(), "token-expired");
        assert_eq!(
            err.message(),
            "This password reset link has expired. Please request a new one"
        );
        for purpose in [TokenPurpose::PasswordReset, TokenPurpose::AccountUnlock] {
            let message = TokenError::Expired { purpose }.message();
            assert!(!message.contains("hours"), "{message}");
        }
    }

    #[test]
    fn wrong_purpose_used_invalidated() {
        let state = TokenState::issue(TokenPurpose::AccountUnlock, now(), DEFAULT_TOKEN_TTL);
        assert_eq!(
            state.check_usable(TokenPurpose::PasswordReset, now()),
            Err(TokenError::WrongPurpose)
        );
        let used = state
            .clone()
            .use_at(TokenPurpose::AccountUnlock, now())
            .unwrap();
        assert_eq!(used.used_at, Some(now()));
        assert_eq!(
            used.clone().use_at(TokenPurpose::AccountUnlock, now()),
            Err(TokenError::Used)
        );
        let invalidated = state
            .invalidate(now())
            .invalidate(now() + TimeDelta::hours(1));
        assert_eq!(invalidated.invalidated_at, Some(now()));
        assert_eq!(
            invalidated.check_usable(TokenPurpose::AccountUnlock, now()),
            Err(TokenError::Invalidated)
        );
    }

    #[test]
    fn five_wrong_usernames_burn_the_token() {
        let mut state = TokenState::issue(TokenPurpose::PasswordReset, now(), DEFAULT_TOKEN_TTL);
        for _ in 0..4 {
            state = state.with_wrong_username();
            assert!(
                state
                    .check_usable(TokenPurpose::PasswordReset, now())
                    .is_ok()
            );
        }
        state = state.with_wrong_username();
        assert!(state.is_burned());
        assert_eq!(
            state.check_usable(TokenPurpose::PasswordReset, now()),
            Err(TokenError::Burned)
        );
        assert_eq!(TokenError::Burned.code(), "token-burned");
    }

    #[test]
    fn purposes_round_trip() {
        for p in [TokenPurpose::PasswordReset, TokenPurpose::AccountUnlock] {
            assert_eq!(TokenPurpose::parse(p.as_str()).unwrap(), p);
            assert_eq!(
                serde_json::to_string(&p).unwrap(),
                format!("\"{}\"", p.as_str())
            );
        }
        assert!(TokenPurpose::parse("PASSWORD_RESET").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in ".{0,60}") {
            if let Ok(t) = PlainToken::parse(&s) {
                prop_assert_eq!(PlainToken::parse(t.expose_secret()).unwrap().digest(), t.digest());
            }
        }

        #[test]
        fn generated_tokens_always_parse(seed in any::<u64>()) {
            let (plain, digest) = OneTimeToken::generate(&mut StdRng::seed_from_u64(seed));
            prop_assert_eq!(PlainToken::parse(plain.expose_secret()).unwrap().digest(), digest);
        }
    }
}
