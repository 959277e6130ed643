//! Issuing and verifying access tokens, with the cache of verified tokens.

use std::fmt;
use std::sync::{Arc, Once, PoisonError, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::compact::{parse_header, split_compact};
use super::keys::{Jwk, JwkSet, KeyRing, PublicKey, SigningKey, VerificationKey, key_ring};
use super::rejection::TokenRejection;

/// The JOSE `typ` of our access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// Successful verifications remembered by default (about 1 KiB each).
pub const DEFAULT_VERIFY_CACHE_CAPACITY: usize = 10_000;
/// Longer token texts are refused before any parsing; ours are about 500 characters.
pub const MAX_TOKEN_LENGTH: usize = 8 * 1024;

/// Issuer, audience and lifetimes of access tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSettings {
    /// `iss` of issued tokens, and the only one accepted.
    pub issuer: String,
    /// `aud` of issued tokens, and the only one accepted.
    pub audience: String,
    /// Lifetime of an access token (15 minutes by the spec).
    pub access_ttl: Duration,
    /// Clock skew tolerated on `exp` and `iat`.
    pub leeway: Duration,
}

/// Claims of our access tokens (RFC 9068 shape).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// Issuer.
    pub iss: String,
    /// Audience (a single string).
    pub aud: String,
    /// Subject: the account id.
    pub sub: String,
    /// Session id, checked by the caller for revocation.
    pub sid: String,
    /// Authentication methods: `["pwd"]` or `["smartcard"]`.
    pub amr: Vec<String>,
    /// Issued at, seconds since the Unix epoch.
    pub iat: i64,
    /// Expires at, seconds since the Unix epoch.
    pub exp: i64,
    /// Unique token id (UUID v4).
    pub jti: String,
}

/// A freshly signed access token. `Debug` leaves the token text out.
pub struct IssuedAccessToken {
    /// The compact JWT, for the response body. Never log it.
    pub token: String,
    /// Its `jti`.
    pub jti: String,
    /// Its `exp`.
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for IssuedAccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedAccessToken")
            .field("token", &"****")
            .field("jti", &self.jti)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A token could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Signing failed (should not happen with a key that loaded).
    #[error("could not sign the access token")]
    Signing(#[source] jsonwebtoken::errors::Error),
    /// A claim that must not be empty was empty (`sub`, `sid` or `amr`).
    #[error("the `{0}` claim of an access token must not be empty")]
    EmptyClaim(&'static str),
    /// `now + access_ttl` is outside the representable time range.
    #[error("the access token expiry is out of range")]
    TimeOutOfRange,
}

/// What the cache remembers of a verified token.
struct Verified {
    claims: AccessClaims,
    kid: String,
}

/// Signs and verifies access tokens. Shared by all workers (Send + Sync, behind Arc).
pub struct TokenService {
    settings: TokenSettings,
    ttl_secs: i64,
    leeway_secs: i64,
    signing: SigningKey,
    validation: Validation,
    keys: RwLock<Arc<KeyRing>>,
    cache: quick_cache::sync::Cache<[u8; 32], Arc<Verified>>,
}

impl fmt::Debug for TokenService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenService")
            .field("settings", &self.settings)
            .field("signing_kid", &self.signing.kid())
            .finish_non_exhaustive()
    }
}

impl TokenService {
    /// A service signing with `signing` and verifying with `verification_keys` plus the
    /// signing key's public part (always accepted). Remembers
    /// [`DEFAULT_VERIFY_CACHE_CAPACITY`] verified tokens.
    pub fn new(
        settings: TokenSettings,
        signing: SigningKey,
        verification_keys: Vec<PublicKey>,
    ) -> Self {
        Self::with_cache_capacity(
            settings,
            signing,
            verification_keys,
            DEFAULT_VERIFY_CACHE_CAPACITY,
        )
    }

    /// As [`TokenService::new`], remembering at most `cache_capacity` verified tokens
    /// (0 turns the cache off).
    pub fn with_cache_capacity(
        settings: TokenSettings,
        signing: SigningKey,
        verification_keys: Vec<PublicKey>,
        cache_capacity: usize,
    ) -> Self {
        install_crypto_provider();
        // Only EdDSA; `exp`/`nbf` are checked here against the `now` argument, not by
        // jsonwebtoken against the system clock. `iss`/`aud` are checked by both.
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        let keys = key_ring(&signing, verification_keys);
        Self {
            ttl_secs: duration_secs(settings.access_ttl),
            leeway_secs: duration_secs(settings.leeway),
            settings,
            signing,
            validation,
            keys: RwLock::new(Arc::new(keys)),
            cache: quick_cache::sync::Cache::new(cache_capacity),
        }
    }

    /// Signs an access token for account `sub` in session `sid`, issued at `now`.
    pub fn issue(
        &self,
        sub: &str,
        sid: &str,
        amr: &[&str],
        now: DateTime<Utc>,
    ) -> Result<IssuedAccessToken, TokenError> {
        if sub.is_empty() {
            return Err(TokenError::EmptyClaim("sub"));
        }
        if sid.is_empty() {
            return Err(TokenError::EmptyClaim("sid"));
        }
        if amr.is_empty() || amr.iter().any(|m| m.is_empty()) {
            return Err(TokenError::EmptyClaim("amr"));
        }
        let iat = now.timestamp();
        let exp = iat
            .checked_add(self.ttl_secs)
            .ok_or(TokenError::TimeOutOfRange)?;
        let expires_at = DateTime::from_timestamp(exp, 0).ok_or(TokenError::TimeOutOfRange)?;
        let jti = uuid::Uuid::new_v4().to_string();
        let claims = AccessClaims {
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
            sub: sub.to_owned(),
            sid: sid.to_owned(),
            amr: amr.iter().map(|m| (*m).to_owned()).collect(),
            iat,
            exp,
            jti: jti.clone(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        header.kid = Some(self.signing.kid().to_owned());
        let token = jsonwebtoken::encode(&header, &claims, &self.signing.encoding)
            .map_err(TokenError::Signing)?;
        Ok(IssuedAccessToken {
            token,
            jti,
            expires_at,
        })
    }

    /// Verifies an access token at `now` and returns its claims. The caller still checks
    /// that the session `sid` is not revoked.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenRejection> {
        if token.len() > MAX_TOKEN_LENGTH {
            return Err(TokenRejection::Malformed);
        }
        let now = now.timestamp();
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(hit) = self.cache.get(&digest) {
            // The same text passed every check before; only time and key removal can have
            // changed the answer since (settings are fixed for the service's life).
            if !self.knows_kid(&hit.kid) {
                return Err(TokenRejection::UnknownKey);
            }
            self.check_times(&hit.claims, now)?;
            return Ok(hit.claims.clone());
        }

        let (header, _, _) = split_compact(token)?;
        let header = parse_header(header)?;
        // Pin the algorithm before looking at any key (RFC 8725 §3.1): `none`, HS256 with
        // our public key as the secret, RS256, ... are all refused here.
        if header.alg.as_deref() != Some("EdDSA") {
            return Err(TokenRejection::WrongAlgorithm);
        }
        // We understand no critical header extensions (RFC 7515 §4.1.11).
        if header.crit.is_some() {
            return Err(TokenRejection::Malformed);
        }
        let typ_ok = header.typ.as_deref().is_some_and(|typ| {
            typ.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE)
                || typ.eq_ignore_ascii_case("application/at+jwt")
        });
        if !typ_ok {
            return Err(TokenRejection::WrongType);
        }
        let kid = header.kid.ok_or(TokenRejection::UnknownKey)?;
        let key = self.key(&kid).ok_or(TokenRejection::UnknownKey)?;
        debug_assert_eq!(key.public.kid(), kid);

        let raw = jsonwebtoken::decode::<RawClaims>(token, &key.decoding, &self.validation)
            .map_err(|e| rejection_from(e.kind()))?
            .claims;
        let claims = raw.into_claims()?;
        if claims.iss != self.settings.issuer {
            return Err(TokenRejection::WrongIssuer);
        }
        if claims.aud != self.settings.audience {
            return Err(TokenRejection::WrongAudience);
        }
        self.check_times(&claims, now)?;
        self.cache.insert(
            digest,
            Arc::new(Verified {
                claims: claims.clone(),
                kid,
            }),
        );
        Ok(claims)
    }

    /// Replaces the verification keys (e.g. after a rotation); the signing key's public part
    /// stays accepted. Tokens signed by a removed key stop verifying at once, cached or not.
    pub fn replace_verification_keys(&self, keys: Vec<PublicKey>) {
        let ring = Arc::new(key_ring(&self.signing, keys));
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = ring;
    }

    /// Whether `kid` names a current verification key.
    pub fn knows_kid(&self, kid: &str) -> bool {
        self.key_ring().contains_key(kid)
    }

    /// Every verification key (including the signing key's), sorted by `kid`.
    pub fn jwks(&self) -> JwkSet {
        let ring = self.key_ring();
        let mut keys: Vec<Jwk> = ring.values().map(|k| k.public.to_jwk()).collect();
        keys.sort_by(|a, b| a.kid.cmp(&b.kid));
        JwkSet { keys }
    }

    /// The key id new tokens are signed with.
    pub fn signing_kid(&self) -> &str {
        self.signing.kid()
    }

    fn key_ring(&self) -> Arc<KeyRing> {
        // A writer cannot leave the ring half-replaced (it swaps one Arc), so a poisoned
        // lock still holds a consistent value.
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn key(&self, kid: &str) -> Option<Arc<VerificationKey>> {
        self.key_ring().get(kid).cloned()
    }

    fn check_times(&self, claims: &AccessClaims, now: i64) -> Result<(), TokenRejection> {
        // RFC 7519 §4.1.4: the token must not be accepted on or after `exp`.
        if now >= claims.exp.saturating_add(self.leeway_secs) {
            return Err(TokenRejection::Expired);
        }
        if claims.iat > now.saturating_add(self.leeway_secs) {
            return Err(TokenRejection::NotYetValid);
        }
        Ok(())
    }
}

/// Installs jsonwebtoken's RustCrypto provider as the process default, once. jsonwebtoken
/// picks it by itself when only its `rust_crypto` feature is on, but panics if feature
/// unification ever also turns on `aws_lc_rs`; installing explicitly avoids that.
pub(crate) fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Err means a provider is already set (by us or the binary); keep that one.
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
    });
}

fn duration_secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// The claims as found, so that a missing one is named rather than a parse error.
#[derive(Deserialize)]
struct RawClaims {
    iss: Option<String>,
    aud: Option<String>,
    sub: Option<String>,
    sid: Option<String>,
    amr: Option<Vec<String>>,
    iat: Option<i64>,
    exp: Option<i64>,
    jti: Option<String>,
}

impl RawClaims {
    fn into_claims(self) -> Result<AccessClaims, TokenRejection> {
        fn text(value: Option<String>, name: &'static str) -> Result<String, TokenRejection> {
            value
                .filter(|v| !v.is_empty())
                .ok_or(TokenRejection::MissingClaim(name))
        }
        let amr = self
            .amr
            .filter(|amr| !amr.is_empty())
            .ok_or(TokenRejection::MissingClaim("amr"))?;
        Ok(AccessClaims {
            iss: text(self.iss, "iss")?,
            aud: text(self.aud, "aud")?,
            sub: text(self.sub, "sub")?,
            sid: text(self.sid, "sid")?,
            amr,
            iat: self.iat.ok_or(TokenRejection::MissingClaim("iat"))?,
            exp: self.exp.ok_or(TokenRejection::MissingClaim("exp"))?,
            jti: text(self.jti, "jti")?,
        })
    }
}

fn rejection_from(kind: &ErrorKind) -> TokenRejection {
    match kind {
        ErrorKind::InvalidSignature => TokenRejection::BadSignature,
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => TokenRejection::WrongAlgorithm,
        ErrorKind::InvalidIssuer => TokenRejection::WrongIssuer,
        ErrorKind::InvalidAudience => TokenRejection::WrongAudience,
        ErrorKind::ExpiredSignature => TokenRejection::Expired,
        ErrorKind::ImmatureSignature => TokenRejection::NotYetValid,
        ErrorKind::MissingRequiredClaim(claim) => {
            TokenRejection::MissingClaim(match claim.as_str() {
                "iss" => "iss",
                "aud" => "aud",
                "sub" => "sub",
                "exp" => "exp",
                "nbf" => "nbf",
                _ => "claim",
            })
        }
        // Key errors cannot happen with keys that passed `PublicKey::from_x`.
        ErrorKind::InvalidEddsaKey | ErrorKind::InvalidKeyFormat => TokenRejection::UnknownKey,
        _ => TokenRejection::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use chrono::TimeDelta;
    use esr_domain::rand_core::{TryCryptoRng, TryRng};
    use jsonwebtoken::EncodingKey;
    use jsonwebtoken::dangerous::insecure_decode;

    use base64ct::{Base64, Base64UrlUnpadded, Encoding};

    use super::super::keys::tests::{OPENSSL_KID, OPENSSL_PEM};
    use super::*;

    /// Deterministic stand-in for a CSPRNG: SHA-256 in counter mode over a seed.
    struct TestRng {
        seed: u64,
        counter: u64,
    }

    impl TestRng {
        fn new(seed: u64) -> Self {
            Self { seed, counter: 0 }
        }
    }

    impl TryRng for TestRng {
        type Error = Infallible;

        fn try_next_u32(&mut self) -> Result<u32, Infallible> {
            let mut b = [0u8; 4];
            self.try_fill_bytes(&mut b)?;
            Ok(u32::from_le_bytes(b))
        }

        fn try_next_u64(&mut self) -> Result<u64, Infallible> {
            let mut b = [0u8; 8];
            self.try_fill_bytes(&mut b)?;
            Ok(u64::from_le_bytes(b))
        }

        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
            for chunk in dst.chunks_mut(32) {
                self.counter += 1;
                let mut hasher = Sha256::new();
                hasher.update(self.seed.to_le_bytes());
                hasher.update(self.counter.to_le_bytes());
                let block: [u8; 32] = hasher.finalize().into();
                chunk.copy_from_slice(&block[..chunk.len()]);
            }
            Ok(())
        }
    }

    impl TryCryptoRng for TestRng {}

    fn settings() -> TokenSettings {
        TokenSettings {
            issuer: "https://esr-access.example.org".to_owned(),
            audience: "esr-access-api".to_owned(),
            access_ttl: Duration::from_secs(15 * 60),
            leeway: Duration::from_secs(30),
        }
    }

    fn key(seed: u64) -> SigningKey {
        SigningKey::generate(&mut TestRng::new(seed))
    }

    fn service() -> TokenService {
        TokenService::new(settings(), key(1), Vec::new())
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("valid time")
    }

    fn issue(service: &TokenService, at: DateTime<Utc>) -> IssuedAccessToken {
        service
            .issue("acc-42", "sess-7", &["pwd"], at)
            .expect("token issued")
    }

    fn b64(json: &serde_json::Value) -> String {
        Base64UrlUnpadded::encode_string(json.to_string().as_bytes())
    }

    fn valid_claims(at: DateTime<Utc>) -> serde_json::Value {
        serde_json::json!({
            "iss": settings().issuer, "aud": settings().audience, "sub": "acc-42",
            "sid": "sess-7", "amr": ["pwd"], "iat": at.timestamp(),
            "exp": at.timestamp() + 900, "jti": "j-1",
        })
    }

    /// Signs arbitrary header and claims with `key`, as an attacker holding it could.
    fn sign_raw(
        key: &SigningKey,
        header: &serde_json::Value,
        claims: &serde_json::Value,
    ) -> String {
        use ed25519_dalek::Signer;
        let message = format!("{}.{}", b64(header), b64(claims));
        let signature = key.secret().sign(message.as_bytes());
        format!(
            "{message}.{}",
            Base64UrlUnpadded::encode_string(&signature.to_bytes())
        )
    }

    #[test]
    fn round_trip_returns_the_claims_as_issued() {
        let service = service();
        let issued = issue(&service, now());
        let claims = service.verify(&issued.token, now()).expect("verifies");
        assert_eq!(claims.iss, settings().issuer);
        assert_eq!(claims.aud, settings().audience);
        assert_eq!(claims.sub, "acc-42");
        assert_eq!(claims.sid, "sess-7");
        assert_eq!(claims.amr, vec!["pwd".to_owned()]);
        assert_eq!(claims.iat, now().timestamp());
        assert_eq!(claims.exp, now().timestamp() + 900);
        assert_eq!(claims.jti, issued.jti);
        assert!(uuid::Uuid::parse_str(&claims.jti).is_ok());
        assert_eq!(issued.expires_at, now() + TimeDelta::minutes(15));

        let header = jsonwebtoken::decode_header(&issued.token).expect("header");
        assert_eq!(header.alg, Algorithm::EdDSA);
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.kid.as_deref(), Some(service.signing_kid()));

        // Second time from the cache: same answer.
        assert_eq!(service.verify(&issued.token, now()), Ok(claims));
    }

    #[test]
    fn jti_is_unique_per_token() {
        let service = service();
        assert_ne!(issue(&service, now()).jti, issue(&service, now()).jti);
    }

    #[test]
    fn issue_refuses_empty_claims() {
        let service = service();
        assert!(matches!(
            service.issue("", "s", &["pwd"], now()),
            Err(TokenError::EmptyClaim("sub"))
        ));
        assert!(matches!(
            service.issue("a", "", &["pwd"], now()),
            Err(TokenError::EmptyClaim("sid"))
        ));
        assert!(matches!(
            service.issue("a", "s", &[], now()),
            Err(TokenError::EmptyClaim("amr"))
        ));
    }

    #[test]
    fn issued_token_debug_hides_the_token() {
        let issued = issue(&service(), now());
        let debug = format!("{issued:?}");
        assert!(!debug.contains(&issued.token));
        assert!(debug.contains(&issued.jti));
    }

    #[test]
    fn tampered_payload_is_a_bad_signature() {
        let service = service();
        let token = issue(&service, now()).token;
        let (header, _, signature) = split_compact(&token).expect("three parts");
        let mut claims = insecure_decode::<serde_json::Value>(&token)
            .expect("decodes")
            .claims;
        claims["sub"] = serde_json::json!("acc-1");
        let forged = format!("{header}.{}.{signature}", b64(&claims));
        assert_eq!(
            service.verify(&forged, now()),
            Err(TokenRejection::BadSignature)
        );
    }

    #[test]
    fn tampered_signature_is_a_bad_signature() {
        let service = service();
        let token = issue(&service, now()).token;
        let (header, payload, signature) = split_compact(&token).expect("three parts");
        let mut bytes = Base64UrlUnpadded::decode_vec(signature).expect("base64url");
        bytes[10] ^= 0x01;
        let forged = format!(
            "{header}.{payload}.{}",
            Base64UrlUnpadded::encode_string(&bytes)
        );
        assert_eq!(
            service.verify(&forged, now()),
            Err(TokenRejection::BadSignature)
        );
    }

    #[test]
    fn verified_then_tampered_is_still_refused() {
        // The cache is keyed by the whole text: a verified token does not vouch for a twin.
        let service = service();
        let token = issue(&service, now()).token;
        service.verify(&token, now()).expect("verifies");
        let (header, _, signature) = split_compact(&token).expect("three parts");
        let mut claims = insecure_decode::<serde_json::Value>(&token)
            .expect("decodes")
            .claims;
        claims["sid"] = serde_json::json!("other");
        let forged = format!("{header}.{}.{signature}", b64(&claims));
        assert_eq!(
            service.verify(&forged, now()),
            Err(TokenRejection::BadSignature)
        );
    }

    #[test]
    fn alg_none_is_refused() {
        let service = service();
        let header =
            serde_json::json!({"alg": "none", "typ": "at+jwt", "kid": service.signing_kid()});
        let token = format!("{}.{}.", b64(&header), b64(&valid_claims(now())));
        assert_eq!(
            service.verify(&token, now()),
            Err(TokenRejection::WrongAlgorithm)
        );
        let no_alg = serde_json::json!({"typ": "at+jwt", "kid": service.signing_kid()});
        let token = format!("{}.{}.", b64(&no_alg), b64(&valid_claims(now())));
        assert_eq!(
            service.verify(&token, now()),
            Err(TokenRejection::WrongAlgorithm)
        );
    }

    #[test]
    fn hs256_signed_with_our_public_key_is_refused() {
        // The key-confusion attack: HMAC "signed" with the published key as the secret.
        let service = service();
        let public = service.jwks().keys[0].clone();
        let raw = Base64UrlUnpadded::decode_vec(&public.x).expect("x decodes");
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some("at+jwt".to_owned());
        header.kid = Some(public.kid.clone());
        for secret in [raw.as_slice(), public.x.as_bytes()] {
            let token = jsonwebtoken::encode(
                &header,
                &valid_claims(now()),
                &EncodingKey::from_secret(secret),
            )
            .expect("hmac signs");
            assert_eq!(
                service.verify(&token, now()),
                Err(TokenRejection::WrongAlgorithm)
            );
        }
    }

    #[test]
    fn other_algorithms_are_refused() {
        let service = service();
        for alg in ["RS256", "ES256", "PS256", "HS512", "eddsa", "Ed25519"] {
            let header =
                serde_json::json!({"alg": alg, "typ": "at+jwt", "kid": service.signing_kid()});
            let token = format!(
                "{}.{}.{}",
                b64(&header),
                b64(&valid_claims(now())),
                Base64UrlUnpadded::encode_string(&[7u8; 64])
            );
            assert_eq!(
                service.verify(&token, now()),
                Err(TokenRejection::WrongAlgorithm),
                "{alg}"
            );
        }
    }

    #[test]
    fn wrong_issuer_and_audience_are_refused() {
        let signer = key(1);
        let service = TokenService::new(settings(), key(1), Vec::new());
        let header = serde_json::json!({"alg": "EdDSA", "typ": "at+jwt", "kid": signer.kid()});

        let mut claims = valid_claims(now());
        claims["iss"] = serde_json::json!("https://evil.example");
        let token = sign_raw(&signer, &header, &claims);
        assert_eq!(
            service.verify(&token, now()),
            Err(TokenRejection::WrongIssuer)
        );

        let mut claims = valid_claims(now());
        claims["aud"] = serde_json::json!("another-api");
        let token = sign_raw(&signer, &header, &claims);
        assert_eq!(
            service.verify(&token, now()),
            Err(TokenRejection::WrongAudience)
        );

        // A service with other settings refuses our tokens.
        let other = TokenService::new(
            TokenSettings {
                audience: "another-api".to_owned(),
                ..settings()
            },
            key(1),
            Vec::new(),
        );
        let token = issue(&service, now()).token;
        assert_eq!(
            other.verify(&token, now()),
            Err(TokenRejection::WrongAudience)
        );

        // The sanity case: the same signer with valid claims passes.
        let token = sign_raw(&signer, &header, &valid_claims(now()));
        assert!(service.verify(&token, now()).is_ok());
    }

    #[test]
    fn missing_or_empty_claims_are_named() {
        let signer = key(1);
        let service = TokenService::new(settings(), key(1), Vec::new());
        let header = serde_json::json!({"alg": "EdDSA", "typ": "at+jwt", "kid": signer.kid()});
        for claim in ["iss", "aud", "sub", "sid", "amr", "iat", "exp", "jti"] {
            let mut claims = valid_claims(now());
            claims
                .as_object_mut()
                .expect("object")
                .remove(claim)
                .expect("present");
            let token = sign_raw(&signer, &header, &claims);
            assert_eq!(
                service.verify(&token, now()),
                Err(TokenRejection::MissingClaim(claim)),
                "{claim}"
            );
        }
        for (claim, empty) in [
            ("sub", serde_json::json!("")),
            ("sid", serde_json::json!("")),
            ("jti", serde_json::json!("")),
            ("amr", serde_json::json!([])),
        ] {
            let mut claims = valid_claims(now());
            claims[claim] = empty;
            let token = sign_raw(&signer, &header, &claims);
            assert_eq!(
                service.verify(&token, now()),
                Err(TokenRejection::MissingClaim(claim)),
                "{claim}"
            );
        }
        // Wrong type: a number where a string belongs.
        let mut claims = valid_claims(now());
        claims["sub"] = serde_json::json!(42);
        let token = sign_raw(&signer, &header, &claims);
        assert_eq!(
            service.verify(&token, now()),
            Err(TokenRejection::Malformed)
        );
    }

    #[test]
    fn expired_tokens_are_refused() {
        let service = service();
        let token = issue(&service, now() - TimeDelta::hours(1)).token;
        assert_eq!(service.verify(&token, now()), Err(TokenRejection::Expired));
    }

    #[test]
    fn expiry_honours_the_leeway_exactly() {
        let service = service();
        let token = issue(&service, now()).token;
        let exp = now() + TimeDelta::minutes(15);
        assert!(service.verify(&token, exp + TimeDelta::seconds(29)).is_ok());
        assert_eq!(
            service.verify(&token, exp + TimeDelta::seconds(30)),
            Err(TokenRejection::Expired)
        );
    }

    #[test]
    fn cached_tokens_still_expire() {
        let service = service();
        let token = issue(&service, now()).token;
        service.verify(&token, now()).expect("verifies while valid");
        assert_eq!(
            service.verify(&token, now() + TimeDelta::hours(1)),
            Err(TokenRejection::Expired)
        );
    }

    #[test]
    fn tokens_from_the_future_are_refused() {
        let service = service();
        let token = issue(&service, now() + TimeDelta::minutes(5)).token;
        assert_eq!(
            service.verify(&token, now()),
            Err(TokenRejection::NotYetValid)
        );
        // Within the leeway is fine, and a cached verdict does not carry over to an earlier now.
        let token = issue(&service, now() + TimeDelta::seconds(20)).token;
        assert!(service.verify(&token, now()).is_ok());
        assert_eq!(
            service.verify(&token, now() - TimeDelta::minutes(1)),
            Err(TokenRejection::NotYetValid)
        );
    }

    #[test]
    fn unknown_or_missing_kid_is_refused() {
        let service = service();
        let stranger = TokenService::new(settings(), key(2), Vec::new());
        let token = issue(&stranger, now()).token;
        assert_eq!(
            service.verify(&token, now()),
            Err(TokenRejection::UnknownKey)
        );

        let signer = key(1);
        let header = serde_json::json!({"alg": "EdDSA", "typ": "at+jwt"});
        let token = sign_raw(&signer, &header, &valid_claims(now()));
        assert_eq!(
            service.verify(&token, now()),
            Err(TokenRejection::UnknownKey)
        );

        // A known kid with another key's signature is a bad signature, not a pass.
        let header =
            serde_json::json!({"alg": "EdDSA", "typ": "at+jwt", "kid": service.signing_kid()});
        let token = sign_raw(&key(2), &header, &valid_claims(now()));
        assert_eq!(
            service.verify(&token, now()),
            Err(TokenRejection::BadSignature)
        );
    }

    #[test]
    fn wrong_typ_is_refused() {
        let signer = key(1);
        let service = TokenService::new(settings(), key(1), Vec::new());
        for typ in [Some("JWT"), Some("id+jwt"), None] {
            let mut header = serde_json::json!({"alg": "EdDSA", "kid": signer.kid()});
            if let Some(typ) = typ {
                header["typ"] = serde_json::json!(typ);
            }
            let token = sign_raw(&signer, &header, &valid_claims(now()));
            assert_eq!(
                service.verify(&token, now()),
                Err(TokenRejection::WrongType),
                "{typ:?}"
            );
        }
        for typ in ["AT+JWT", "application/at+jwt"] {
            let header = serde_json::json!({"alg": "EdDSA", "typ": typ, "kid": signer.kid()});
            let token = sign_raw(&signer, &header, &valid_claims(now()));
            assert!(service.verify(&token, now()).is_ok(), "{typ}");
        }
    }

    #[test]
    fn crit_headers_are_refused() {
        let signer = key(1);
        let service = TokenService::new(settings(), key(1), Vec::new());
        let header = serde_json::json!({
            "alg": "EdDSA", "typ": "at+jwt", "kid": signer.kid(), "crit": ["exp"], "exp": 1
        });
        let token = sign_raw(&signer, &header, &valid_claims(now()));
        assert_eq!(
            service.verify(&token, now()),
            Err(TokenRejection::Malformed)
        );
    }

    #[test]
    fn garbage_is_malformed() {
        let service = service();
        let long = "a".repeat(MAX_TOKEN_LENGTH + 1);
        for token in ["", ".", "..", "a.b.c", "a.b.c.d", "Bearer x", long.as_str()] {
            assert_eq!(
                service.verify(token, now()),
                Err(TokenRejection::Malformed),
                "{token}"
            );
        }
        let token = issue(&service, now()).token;
        assert_eq!(
            service.verify(&format!("{token}.x"), now()),
            Err(TokenRejection::Malformed)
        );
    }

    #[test]
    fn rotation_keeps_old_tokens_until_their_key_is_removed() {
        let old = TokenService::new(settings(), key(1), Vec::new());
        let token = issue(&old, now()).token;

        let new = TokenService::new(settings(), key(2), vec![key(1).public_key()]);
        assert!(new.knows_kid(old.signing_kid()));
        assert_eq!(
            new.verify(&token, now()).expect("old key verifies").sub,
            "acc-42"
        );
        // New tokens are signed by the new key, and the old service does not know it.
        let fresh = issue(&new, now()).token;
        assert_eq!(old.verify(&fresh, now()), Err(TokenRejection::UnknownKey));

        new.replace_verification_keys(Vec::new());
        assert!(!new.knows_kid(old.signing_kid()));
        assert!(new.knows_kid(new.signing_kid()));
        assert_eq!(new.verify(&token, now()), Err(TokenRejection::UnknownKey));
        assert!(new.verify(&fresh, now()).is_ok());

        // Putting the key back makes it verify again.
        new.replace_verification_keys(vec![key(1).public_key()]);
        assert!(new.verify(&token, now()).is_ok());
    }

    #[test]
    fn jwks_lists_every_verification_key_sorted() {
        let service = TokenService::new(
            settings(),
            key(1),
            vec![
                key(2).public_key(),
                key(3).public_key(),
                key(1).public_key(),
            ],
        );
        let set = service.jwks();
        assert_eq!(set.keys.len(), 3);
        let kids: Vec<&str> = set.keys.iter().map(|k| k.kid.as_str()).collect();
        let mut sorted = kids.clone();
        sorted.sort_unstable();
        assert_eq!(kids, sorted);
        assert!(kids.contains(&service.signing_kid()));

        let text = serde_json::to_string(&set.keys[0]).expect("serialises");
        let jwk = &set.keys[0];
        assert_eq!(
            text,
            format!(
                r#"{{"kty":"OKP","crv":"Ed25519","x":"{}","kid":"{}","use":"sig","alg":"EdDSA"}}"#,
                jwk.x, jwk.kid
            )
        );
        let json = serde_json::to_value(&set).expect("serialises");
        assert_eq!(json["keys"].as_array().map(Vec::len), Some(3));
        let back: JwkSet = serde_json::from_value(json).expect("deserialises");
        assert_eq!(back, set);
        // Each published key reads back to the same key id.
        for jwk in &set.keys {
            assert_eq!(PublicKey::from_x(&jwk.x).expect("valid x").kid(), jwk.kid);
        }
    }

    #[test]
    fn generated_pem_round_trips() {
        let key = key(9);
        let pem = key.to_pkcs8_pem();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let back = SigningKey::from_pkcs8_pem(&pem).expect("reloads");
        assert_eq!(back.public_key(), key.public_key());
        // And tokens signed by the reloaded key verify with the original's public key.
        let service = TokenService::new(settings(), key, Vec::new());
        let reloaded = TokenService::new(settings(), back, Vec::new());
        assert!(
            service
                .verify(&issue(&reloaded, now()).token, now())
                .is_ok()
        );
    }

    #[test]
    fn debug_shows_no_key_material() {
        let key = SigningKey::from_pkcs8_pem(OPENSSL_PEM).expect("loads");
        let debug = format!("{key:?}");
        assert!(debug.contains(OPENSSL_KID), "{debug}");
        let seed = &key.secret().to_bytes();
        let hex = esr_domain::hex_lower(seed);
        let pem_body = OPENSSL_PEM.lines().nth(1).expect("body");
        for secret in [
            hex.as_str(),
            pem_body,
            &Base64::encode_string(seed),
            &Base64UrlUnpadded::encode_string(seed),
        ] {
            assert!(!debug.contains(secret), "{debug}");
        }
        let service_debug = format!("{:?}", TokenService::new(settings(), key, Vec::new()));
        assert!(!service_debug.contains(pem_body));
    }

    #[test]
    fn cache_can_be_turned_off() {
        let service = TokenService::with_cache_capacity(settings(), key(1), Vec::new(), 0);
        let token = issue(&service, now()).token;
        assert!(service.verify(&token, now()).is_ok());
        assert!(service.verify(&token, now()).is_ok());
        assert_eq!(
            service.verify(&token, now() + TimeDelta::hours(1)),
            Err(TokenRejection::Expired)
        );
    }

    #[test]
    fn service_is_shareable() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<TokenService>();
    }

    #[test]
    fn rejection_reasons_are_snake_case() {
        for rejection in [
            TokenRejection::Malformed,
            TokenRejection::WrongAlgorithm,
            TokenRejection::WrongType,
            TokenRejection::UnknownKey,
            TokenRejection::BadSignature,
            TokenRejection::WrongIssuer,
            TokenRejection::WrongAudience,
            TokenRejection::Expired,
            TokenRejection::NotYetValid,
            TokenRejection::MissingClaim("sid"),
        ] {
            let reason = rejection.reason();
            assert!(
                reason.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{reason}"
            );
        }
    }

    /// Rough timing, not a test: `cargo test --release -p esr-api --lib tokens::tests::verify_timing -- --ignored --nocapture`.
    #[test]
    #[ignore = "timing, run by hand in release"]
    fn verify_timing() {
        use std::time::Instant;
        const N: u32 = 2_000;
        let uncached = TokenService::with_cache_capacity(settings(), key(1), Vec::new(), 0);
        let cached = service();
        let token = issue(&cached, now()).token;
        let start = Instant::now();
        for _ in 0..N {
            assert!(uncached.verify(&token, now()).is_ok());
        }
        let full = start.elapsed() / N;
        let start = Instant::now();
        for _ in 0..N {
            assert!(cached.verify(&token, now()).is_ok());
        }
        let hit = start.elapsed() / N;
        let start = Instant::now();
        for _ in 0..N {
            assert!(cached.issue("acc-42", "sess-7", &["pwd"], now()).is_ok());
        }
        let sign = start.elapsed() / N;
        println!("verify uncached {full:?}, verify cached {hit:?}, issue {sign:?}");
    }
}
