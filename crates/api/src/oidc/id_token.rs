//! ID-token verification (OpenID Connect Core §3.1.3.7), written to refuse first:
//!
//! 1. The header's `alg` must be one of the configured algorithms *before* any key is looked
//!    at (RFC 8725 §3.1): `none`, HS256 with the provider's public key as the secret, and any
//!    algorithm the operator did not choose are refused here.
//! 2. The key is the provider's JWK named by `kid`; a JWK that states its own `alg` must
//!    state this one.
//! 3. Signature, then `iss` (exactly the configured issuer), `aud` (contains our client id;
//!    with several audiences `azp` must be our client id, and a present `azp` always must be),
//!    `exp` and `iat` against the `now` passed in with a small leeway, and `nonce` (its SHA-256
//!    must equal the one stored with the flow).
//! 4. The assurance level: the lower of `authentication_assurance_level` and `acr` (CIS2
//!    writes `"3"` and `"AAL3_ANY"`), at least the configured minimum.
//! 5. The configured subject claim (CIS2 `uid`) names the smartcard identity.

use std::collections::HashMap;

use base64ct::{Base64UrlUnpadded, Encoding};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use super::rsa_key::MIN_RSA_BITS;
use crate::tokens::{parse_header, split_compact};

/// Longest ID token looked at.
pub const MAX_ID_TOKEN_LENGTH: usize = 16 * 1024;

/// Why an ID token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenRejection {
    /// Not a compact JWS with JSON parts.
    #[error("the ID token is malformed")]
    Malformed,
    /// The header's `alg` is not one we accept (including `none` and HS*).
    #[error("the ID token's algorithm is not accepted")]
    WrongAlgorithm,
    /// No provider key has the header's `kid` (after a refresh, where one was allowed).
    #[error("the ID token's signing key is unknown")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the ID token's signature is invalid")]
    BadSignature,
    /// `iss` is not the configured issuer.
    #[error("the ID token's issuer is not accepted")]
    WrongIssuer,
    /// `aud` does not contain our client id.
    #[error("the ID token is addressed to another client")]
    WrongAudience,
    /// `azp` is missing with several audiences, or is not our client id.
    #[error("the ID token's authorised party is not this client")]
    WrongAuthorizedParty,
    /// `exp` has passed (beyond the leeway).
    #[error("the ID token has expired")]
    Expired,
    /// `iat` or `nbf` is in the future (beyond the leeway).
    #[error("the ID token is not valid yet")]
    NotYetValid,
    /// `iat` is older than an ID token fresh from the token endpoint can be.
    #[error("the ID token was issued too long ago")]
    IssuedTooLongAgo,
    /// `exp` lies further ahead than any ID token needs.
    #[error("the ID token's lifetime is too long")]
    LifetimeTooLong,
    /// `nonce` is missing or is not the one of this flow.
    #[error("the ID token's nonce does not match")]
    WrongNonce,
    /// A required claim is missing or empty.
    #[error("the ID token lacks the `{0}` claim")]
    MissingClaim(&'static str),
    /// The assurance level is below the minimum.
    #[error("the authentication assurance level {level} is below the minimum")]
    AssuranceTooLow {
        /// The level found (0 when none was stated).
        level: u8,
    },
}

impl IdTokenRejection {
    /// A stable snake_case reason for logs, metrics and the audit trail.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::WrongAlgorithm => "wrong_algorithm",
            Self::UnknownKey => "unknown_key",
            Self::BadSignature => "bad_signature",
            Self::WrongIssuer => "wrong_issuer",
            Self::WrongAudience => "wrong_audience",
            Self::WrongAuthorizedParty => "wrong_authorized_party",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::IssuedTooLongAgo => "issued_too_long_ago",
            Self::LifetimeTooLong => "lifetime_too_long",
            Self::WrongNonce => "wrong_nonce",
            Self::MissingClaim(_) => "missing_claim",
            Self::AssuranceTooLow { .. } => "assurance_too_low",
        }
    }
}

/// One usable key of the provider's JWK set.
#[derive(Clone)]
pub struct ProviderKey {
    decoding: DecodingKey,
    alg: Option<String>,
}

/// The provider's signing keys by `kid`.
#[derive(Clone, Default)]
pub struct ProviderKeys {
    keys: HashMap<String, ProviderKey>,
}

impl std::fmt::Debug for ProviderKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.keys.keys()).finish()
    }
}

impl ProviderKeys {
    /// Reads a JWK set, keeping the RSA signing keys that have a `kid` and skipping the rest
    /// (encryption keys, other key types, malformed entries, and moduli shorter than
    /// [`MIN_RSA_BITS`], which can be factored: a token signed with one is as good as forged).
    pub fn from_jwks(jwks: &Value) -> Self {
        let mut keys = HashMap::new();
        for jwk in jwks["keys"].as_array().into_iter().flatten() {
            let text = |name: &str| jwk.get(name).and_then(Value::as_str);
            if text("kty") != Some("RSA") || text("use").is_some_and(|u| u != "sig") {
                continue;
            }
            let (Some(kid), Some(n), Some(e)) = (text("kid"), text("n"), text("e")) else {
                continue;
            };
            let bits = modulus_bits(n);
            if bits < MIN_RSA_BITS {
                tracing::warn!(kid, bits, "identity provider key too short: ignored");
                continue;
            }
            if let Ok(decoding) = DecodingKey::from_rsa_components(n, e) {
                keys.insert(
                    kid.to_owned(),
                    ProviderKey {
                        decoding,
                        alg: text("alg").map(str::to_owned),
                    },
                );
            }
        }
        Self { keys }
    }

    /// The key with this `kid`.
    pub fn get(&self, kid: &str) -> Option<&ProviderKey> {
        self.keys.get(kid)
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The size in bits of a base64url RSA modulus (0 when it does not decode).
fn modulus_bits(n: &str) -> usize {
    let Ok(bytes) = Base64UrlUnpadded::decode_vec(n.trim_end_matches('=')) else {
        return 0;
    };
    let significant = bytes.iter().skip_while(|b| **b == 0).collect::<Vec<_>>();
    match significant.first() {
        Some(first) => significant.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    }
}

/// What the token must match.
#[derive(Debug, Clone)]
pub struct Expectations<'a> {
    /// The exact issuer string.
    pub issuer: &'a str,
    /// Our client id.
    pub client_id: &'a str,
    /// SHA-256 (hex) of the nonce sent with the authorization request.
    pub nonce_hash: &'a str,
    /// Lowest acceptable assurance level.
    pub min_assurance: u8,
    /// The claim naming the smartcard identity.
    pub subject_claim: &'a str,
    /// Clock skew tolerated on `exp` and `iat`, in seconds.
    pub leeway_secs: i64,
    /// Now, seconds since the Unix epoch.
    pub now: i64,
}

/// A verified ID token: who signed in, and how strongly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdToken {
    /// The subject claim's value (CIS2 `uid`).
    pub subject: String,
    /// The assurance level (1–3).
    pub assurance: u8,
}

/// The header facts decided on before any key is used: the (pinned) algorithm and `kid`.
pub fn pinned_header(
    token: &str,
    allowed: &[Algorithm],
) -> Result<(Algorithm, Option<String>), IdTokenRejection> {
    if token.len() > MAX_ID_TOKEN_LENGTH {
        return Err(IdTokenRejection::Malformed);
    }
    let (header, _, _) = split_compact(token).map_err(|_| IdTokenRejection::Malformed)?;
    let header = parse_header(header).map_err(|_| IdTokenRejection::Malformed)?;
    let alg = header
        .alg
        .as_deref()
        .and_then(|name| allowed.iter().copied().find(|a| format!("{a:?}") == name))
        .ok_or(IdTokenRejection::WrongAlgorithm)?;
    // We understand no critical header extensions (RFC 7515 §4.1.11).
    if header.crit.is_some() {
        return Err(IdTokenRejection::Malformed);
    }
    Ok((alg, header.kid))
}

/// Oldest `iat` accepted, in seconds. The token is fetched from the token endpoint during the
/// callback, moments after it was issued: an old one is a replay of a token kept from before.
const MAX_ID_TOKEN_AGE_SECS: i64 = 10 * 60;

/// Furthest `exp` accepted, in seconds from now. ID tokens live minutes (an hour at most at
/// the providers we know); a day leaves room for any of them while refusing one that a stolen
/// signing key made to last for years.
const MAX_ID_TOKEN_LIFETIME_SECS: i64 = 24 * 60 * 60;

/// `iat` neither in the future nor stale, `nbf` (when present) reached, `exp` not absurdly far.
fn check_times(
    claims: &Value,
    exp: i64,
    iat: i64,
    expect: &Expectations<'_>,
) -> Result<(), IdTokenRejection> {
    let latest_start = expect.now.saturating_add(expect.leeway_secs);
    if iat > latest_start {
        return Err(IdTokenRejection::NotYetValid);
    }
    if let Some(nbf) = claims.get("nbf") {
        let nbf = nbf.as_i64().ok_or(IdTokenRejection::Malformed)?;
        if nbf > latest_start {
            return Err(IdTokenRejection::NotYetValid);
        }
    }
    if iat < expect.now - MAX_ID_TOKEN_AGE_SECS - expect.leeway_secs {
        return Err(IdTokenRejection::IssuedTooLongAgo);
    }
    if exp > expect.now.saturating_add(MAX_ID_TOKEN_LIFETIME_SECS) {
        return Err(IdTokenRejection::LifetimeTooLong);
    }
    Ok(())
}

/// Verifies `token` (whose header passed [`pinned_header`] with `alg`) with `key`.
pub fn verify(
    token: &str,
    alg: Algorithm,
    key: &ProviderKey,
    expect: &Expectations<'_>,
) -> Result<VerifiedIdToken, IdTokenRejection> {
    if key.alg.as_deref().is_some_and(|a| a != format!("{alg:?}")) {
        return Err(IdTokenRejection::WrongAlgorithm);
    }
    let mut validation = Validation::new(alg);
    // Times are checked below against `now`; iss/aud by jsonwebtoken and again below.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.leeway = 0;
    validation.set_required_spec_claims(&["iss", "aud", "exp"]);
    validation.set_issuer(&[expect.issuer]);
    validation.set_audience(&[expect.client_id]);
    let claims = jsonwebtoken::decode::<Value>(token, &key.decoding, &validation)
        .map_err(|e| rejection_from(e.kind()))?
        .claims;

    if claims["iss"].as_str() != Some(expect.issuer) {
        return Err(IdTokenRejection::WrongIssuer);
    }
    let audiences: Vec<&str> = match &claims["aud"] {
        Value::String(aud) => vec![aud.as_str()],
        Value::Array(auds) => auds.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&expect.client_id) {
        return Err(IdTokenRejection::WrongAudience);
    }
    match claims.get("azp").map(Value::as_str) {
        Some(Some(azp)) if azp == expect.client_id => {}
        None if audiences.len() == 1 => {}
        _ => return Err(IdTokenRejection::WrongAuthorizedParty),
    }
    let exp = claims["exp"]
        .as_i64()
        .ok_or(IdTokenRejection::MissingClaim("exp"))?;
    if expect.now >= exp.saturating_add(expect.leeway_secs) {
        return Err(IdTokenRejection::Expired);
    }
    let iat = claims["iat"]
        .as_i64()
        .ok_or(IdTokenRejection::MissingClaim("iat"))?;
    check_times(&claims, exp, iat, expect)?;
    let nonce = claims["nonce"]
        .as_str()
        .ok_or(IdTokenRejection::WrongNonce)?;
    if esr_domain::sha256_hex(nonce.as_bytes()) != expect.nonce_hash {
        return Err(IdTokenRejection::WrongNonce);
    }
    let assurance = assurance_level(&claims);
    if assurance < expect.min_assurance {
        return Err(IdTokenRejection::AssuranceTooLow { level: assurance });
    }
    let subject = match &claims[expect.subject_claim] {
        Value::String(s) if !s.trim().is_empty() => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return Err(IdTokenRejection::MissingClaim("subject")),
    };
    Ok(VerifiedIdToken { subject, assurance })
}

/// The assurance level the token states: the lower of `authentication_assurance_level` and
/// `acr` where both are present (a provider contradicting itself gets the benefit of no
/// doubt), 0 when neither is.
pub fn assurance_level(claims: &Value) -> u8 {
    ["authentication_assurance_level", "acr"]
        .iter()
        .filter_map(|name| claims.get(*name).map(level_of))
        .min()
        .unwrap_or(0)
}

/// `3`, `"3"`, `"AAL3"`, `"AAL3_ANY"` → 3; anything unreadable → 0.
fn level_of(value: &Value) -> u8 {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_ascii_uppercase(),
        _ => return 0,
    };
    let digits = text.strip_prefix("AAL").unwrap_or(&text);
    digits
        .chars()
        .next()
        .filter(|c| c.is_ascii_digit() && digits[1..].chars().next().is_none_or(|c| c == '_'))
        .and_then(|c| c.to_digit(10))
        .and_then(|d| u8::try_from(d).ok())
        .unwrap_or(0)
}

fn rejection_from(kind: &ErrorKind) -> IdTokenRejection {
    match kind {
        ErrorKind::InvalidSignature => IdTokenRejection::BadSignature,
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
            IdTokenRejection::WrongAlgorithm
        }
        ErrorKind::InvalidIssuer => IdTokenRejection::WrongIssuer,
        ErrorKind::InvalidAudience => IdTokenRejection::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) => {
            IdTokenRejection::MissingClaim(match claim.as_str() {
                "iss" => "iss",
                "aud" => "aud",
                "exp" => "exp",
                _ => "claim",
            })
        }
        ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidKeyFormat => IdTokenRejection::UnknownKey,
        _ => IdTokenRejection::Malformed,
    }
}

/// The PKCE S256 code challenge of a verifier (RFC 7636 §4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    use sha2::{Digest, Sha256};
    Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jwk_with_modulus_bytes(len: usize) -> Value {
        let mut n = vec![0xC5u8; len];
        n[len - 1] |= 1;
        json!({"keys": [{
            "kty": "RSA", "use": "sig", "kid": "k", "alg": "RS256",
            "n": Base64UrlUnpadded::encode_string(&n), "e": "AQAB",
        }]})
    }

    #[test]
    fn provider_keys_shorter_than_2048_bits_are_ignored() {
        assert!(
            ProviderKeys::from_jwks(&jwk_with_modulus_bytes(128)).is_empty(),
            "1024 bits"
        );
        assert!(
            ProviderKeys::from_jwks(&jwk_with_modulus_bytes(255)).is_empty(),
            "2040 bits"
        );
        assert_eq!(
            ProviderKeys::from_jwks(&jwk_with_modulus_bytes(256)).len(),
            1,
            "2048 bits"
        );
        assert_eq!(modulus_bits("AQ"), 1);
        assert_eq!(modulus_bits("AAE"), 1, "leading zero bytes do not count");
        assert_eq!(modulus_bits("!!"), 0);
    }

    #[test]
    fn assurance_levels_of_cis2_values() {
        for (claims, level) in [
            (
                json!({"acr": "AAL3_ANY", "authentication_assurance_level": "3"}),
                3,
            ),
            (json!({"acr": "AAL3_ANY"}), 3),
            (json!({"authentication_assurance_level": 3}), 3),
            (
                json!({"acr": "AAL2_OR_ABOVE", "authentication_assurance_level": "2"}),
                2,
            ),
            (json!({"acr": "AAL1_USERPASS"}), 1),
            // Contradiction: the lower wins.
            (
                json!({"acr": "AAL3_ANY", "authentication_assurance_level": "1"}),
                1,
            ),
            (json!({"acr": "urn:something"}), 0),
            (json!({"acr": "AAL33"}), 0),
            (json!({}), 0),
        ] {
            assert_eq!(assurance_level(&claims), level, "{claims}");
        }
    }

    #[test]
    fn pkce_challenge_matches_rfc7636_appendix_b() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn algorithm_is_pinned_before_any_key() {
        let header = |h: Value| {
            format!(
                "{}.e30.sig",
                Base64UrlUnpadded::encode_string(h.to_string().as_bytes())
            )
        };
        let allowed = [Algorithm::RS256];
        for alg in ["none", "HS256", "RS512", "EdDSA", "rs256"] {
            assert_eq!(
                pinned_header(&header(json!({"alg": alg, "kid": "k"})), &allowed),
                Err(IdTokenRejection::WrongAlgorithm),
                "{alg}"
            );
        }
        assert_eq!(
            pinned_header(&header(json!({"kid": "k"})), &allowed),
            Err(IdTokenRejection::WrongAlgorithm)
        );
        assert_eq!(
            pinned_header(&header(json!({"alg": "RS256", "kid": "k"})), &allowed),
            Ok((Algorithm::RS256, Some("k".to_owned())))
        );
        assert_eq!(
            pinned_header(&header(json!({"alg": "RS256", "crit": ["x"]})), &allowed),
            Err(IdTokenRejection::Malformed)
        );
        assert_eq!(
            pinned_header("not a token", &allowed),
            Err(IdTokenRejection::Malformed)
        );
    }
}
