//! Administrator API keys: `esr_` followed by 256 random bits in base64url, shown once and
//! stored only as SHA-256 with a short visible prefix (for people to tell keys apart).

use std::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::{Coded, OrganisationCode};

/// What every key starts with, so scanners and people recognise one.
pub const API_KEY_PREFIX: &str = "esr_";
/// Random bytes in a key (256 bits).
pub const API_KEY_BYTES: usize = 32;
/// Characters of a key shown in lists (`esr_` and 8 more): enough to tell keys apart, far
/// too few to guess the rest.
pub const API_KEY_VISIBLE: usize = 12;
const ENCODED_LENGTH: usize = 43;

/// A key in plain text: the CLI prints it once; requests present it. Never Debug-printed.
pub struct ApiKeySecret(Zeroizing<String>);

impl ApiKeySecret {
    /// A new random key.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = Zeroizing::new([0u8; API_KEY_BYTES]);
        rng.fill_bytes(&mut *bytes);
        Self(Zeroizing::new(format!(
            "{API_KEY_PREFIX}{}",
            Base64UrlUnpadded::encode_string(&*bytes)
        )))
    }

    /// Checks the shape of a presented key (`esr_` + 43 base64url characters). Shape only:
    /// whether it exists or was revoked is decided by looking its digest up.
    pub fn parse(input: &str) -> Option<Self> {
        let rest = input.strip_prefix(API_KEY_PREFIX)?;
        if rest.len() != ENCODED_LENGTH {
            return None;
        }
        let mut buf = [0u8; API_KEY_BYTES];
        let decoded = Base64UrlUnpadded::decode(rest.as_bytes(), &mut buf).ok()?;
        (decoded.len() == API_KEY_BYTES).then(|| Self(Zeroizing::new(input.to_owned())))
    }

    /// The key itself: only for printing it once.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The SHA-256 (hex) the key is stored and looked up by.
    pub fn digest(&self) -> crate::TokenDigest {
        crate::TokenDigest::of(&self.0)
    }

    /// The visible prefix stored beside the digest, e.g. `esr_Q2Vnc0dG`.
    pub fn visible_prefix(&self) -> String {
        self.0.chars().take(API_KEY_VISIBLE).collect()
    }
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeySecret(***)")
    }
}

/// A key's name, unique, written into every audit event the key causes: 1–64 characters of
/// letters, digits, `.`, `_` and `-` (e.g. `hr-feed`, `service-desk.alice`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ApiKeyName(String);

/// Why a key name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an API key name is 1 to 64 letters, digits, '.', '_' or '-'")]
pub struct ApiKeyNameError;

impl Coded for ApiKeyNameError {
    fn code(&self) -> &'static str {
        "invalid-api-key-name"
    }

    fn message(&self) -> String {
        "An API key name is 1 to 64 letters, digits, '.', '_' or '-'".to_owned()
    }
}

impl ApiKeyName {
    /// Parses a name (surrounding whitespace trimmed).
    pub fn parse(input: &str) -> Result<Self, ApiKeyNameError> {
        let name = input.trim();
        let ok = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(Self(name.to_owned()))
        } else {
            Err(ApiKeyNameError)
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ApiKeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ApiKeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeyName({})", self.0)
    }
}

/// Which organisations' data a key may see and change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ApiKeyScope {
    /// Every organisation (and the administration of keys and organisations themselves).
    All,
    /// One organisation: everything else does not exist for this key.
    Organisation(OrganisationCode),
}

/// Why a scope was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the scope is `all` or an organisation code (3 letters or digits)")]
pub struct ApiKeyScopeError;

impl ApiKeyScope {
    /// `all` (any case) or an organisation code.
    pub fn parse(input: &str) -> Result<Self, ApiKeyScopeError> {
        let s = input.trim();
        if s.eq_ignore_ascii_case("all") {
            return Ok(Self::All);
        }
        OrganisationCode::parse(s)
            .map(Self::Organisation)
            .map_err(|_| ApiKeyScopeError)
    }

    /// `all` or the organisation code (the stored form).
    pub fn as_str(&self) -> &str {
        match self {
            Self::All => "all",
            Self::Organisation(code) => code.as_str(),
        }
    }

    /// Whether the key may see `organisation`'s data.
    pub fn covers(&self, organisation: &OrganisationCode) -> bool {
        match self {
            Self::All => true,
            Self::Organisation(own) => own == organisation,
        }
    }
}

impl fmt::Display for ApiKeyScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a key may change things or only read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiKeyAccess {
    /// `GET` only.
    Read,
    /// Reads and changes.
    Write,
}

/// Why an access level was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the access is `read` or `write`")]
pub struct ApiKeyAccessError;

impl ApiKeyAccess {
    /// `read` or `write` (any case).
    pub fn parse(input: &str) -> Result<Self, ApiKeyAccessError> {
        match input.trim().to_ascii_lowercase().as_str() {
            "read" => Ok(Self::Read),
            "write" => Ok(Self::Write),
            _ => Err(ApiKeyAccessError),
        }
    }

    /// `read` or `write`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }
}

impl fmt::Display for ApiKeyAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn generated_keys_have_the_prefix_256_bits_and_parse_back() {
        let mut rng = rand::rng();
        let key = ApiKeySecret::generate(&mut rng);
        let text = key.expose_secret();
        assert!(text.starts_with("esr_"));
        assert_eq!(text.len(), 4 + 43);
        let again = ApiKeySecret::parse(text).unwrap();
        assert_eq!(again.digest(), key.digest());
        assert_eq!(key.digest().as_str().len(), 64);
        assert_eq!(key.visible_prefix(), text[..12]);
        assert_ne!(
            ApiKeySecret::generate(&mut rng).digest(),
            key.digest(),
            "random"
        );
    }

    #[test]
    fn malformed_keys_are_refused() {
        let good = ApiKeySecret::generate(&mut rand::rng());
        let text = good.expose_secret();
        let bad: [String; 7] = [
            String::new(),
            "esr_".to_owned(),
            text[4..].to_owned(),
            format!("esx_{}", &text[4..]),
            text[..text.len() - 1].to_owned(),
            format!("{text}A"),
            format!("{}+", &text[..text.len() - 1]),
        ];
        for bad in &bad {
            assert!(ApiKeySecret::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn secrets_never_debug_print() {
        let key = ApiKeySecret::generate(&mut rand::rng());
        assert_eq!(format!("{key:?}"), "ApiKeySecret(***)");
    }

    #[test]
    fn names_scopes_and_access() {
        assert_eq!(ApiKeyName::parse(" hr-feed ").unwrap().as_str(), "hr-feed");
        let long = "x".repeat(65);
        for bad in ["", "a b", long.as_str(), "naïve", "a/b"] {
            assert!(ApiKeyName::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(ApiKeyScope::parse("ALL").unwrap(), ApiKeyScope::All);
        let own = ApiKeyScope::parse("r1a").unwrap();
        assert_eq!(own.as_str(), "R1A");
        assert!(own.covers(&OrganisationCode::parse("R1A").unwrap()));
        assert!(!own.covers(&OrganisationCode::parse("999").unwrap()));
        assert!(ApiKeyScope::All.covers(&OrganisationCode::parse("999").unwrap()));
        assert!(ApiKeyScope::parse("9999").is_err());
        assert_eq!(ApiKeyAccess::parse("Write").unwrap(), ApiKeyAccess::Write);
        assert!(ApiKeyAccess::parse("admin").is_err());
    }
}
