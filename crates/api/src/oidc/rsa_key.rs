//! RSA keys for OpenID Connect: our `private_key_jwt` client key and the dev identity
//! provider's signing key. Key ids are RFC 7638 thumbprints, like our access-token keys.

use std::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// Smallest RSA modulus accepted or generated (NCSC and NHS CIS2 ask for 2048 bits or more).
pub const MIN_RSA_BITS: usize = 2048;

/// An RSA key could not be read, generated or used.
#[derive(Debug, thiserror::Error)]
pub enum RsaKeyError {
    /// The PEM text is neither PKCS#8 nor PKCS#1 RSA.
    #[error(
        "not an RSA private key (\"-----BEGIN PRIVATE KEY-----\" or \"-----BEGIN RSA PRIVATE KEY-----\")"
    )]
    NotRsa,
    /// The modulus is too short.
    #[error("the RSA key has {0} bits; at least {MIN_RSA_BITS} are required")]
    TooShort(usize),
    /// Generation or encoding failed.
    #[error("RSA key error: {0}")]
    Rsa(String),
}

/// An RSA private key with its key id, ready to sign JWTs.
pub struct RsaKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
    n: String,
    e: String,
    kid: String,
}

impl RsaKey {
    /// A new random 2048-bit key (CPU-heavy: call it off the async workers).
    pub fn generate() -> Result<Self, RsaKeyError> {
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, MIN_RSA_BITS)
            .map_err(|e| RsaKeyError::Rsa(e.to_string()))?;
        Self::from_private(&key)
    }

    /// Reads a PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`) PEM key.
    pub fn from_pem(pem: &str) -> Result<Self, RsaKeyError> {
        let pem = pem.trim();
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(pem))
            .map_err(|_| RsaKeyError::NotRsa)?;
        Self::from_private(&key)
    }

    fn from_private(key: &rsa::RsaPrivateKey) -> Result<Self, RsaKeyError> {
        let bits = key.size() * 8;
        if bits < MIN_RSA_BITS {
            return Err(RsaKeyError::TooShort(bits));
        }
        let der = key
            .to_pkcs1_der()
            .map_err(|e| RsaKeyError::Rsa(e.to_string()))?;
        let n = Base64UrlUnpadded::encode_string(&key.n().to_bytes_be());
        let e = Base64UrlUnpadded::encode_string(&key.e().to_bytes_be());
        let decoding = DecodingKey::from_rsa_components(&n, &e)
            .map_err(|e| RsaKeyError::Rsa(e.to_string()))?;
        Ok(Self {
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            decoding,
            kid: rsa_thumbprint(&n, &e),
            n,
            e,
        })
    }

    /// The key id: the RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK advertising `alg`.
    pub fn jwk(&self, alg: Algorithm) -> RsaJwk {
        RsaJwk {
            kty: "RSA".to_owned(),
            n: self.n.clone(),
            e: self.e.clone(),
            kid: self.kid.clone(),
            key_use: "sig".to_owned(),
            alg: format!("{alg:?}"),
        }
    }

    /// The public key for verifying what this key signed.
    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    /// Signs `claims` as a compact JWS with `alg`, this key's `kid` and `typ`.
    pub fn sign(
        &self,
        alg: Algorithm,
        typ: &str,
        claims: &impl Serialize,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(alg);
        header.typ = Some(typ.to_owned());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
    }
}

impl fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// RFC 7638 thumbprint of an RSA public key: base64url(SHA-256(`{"e":…,"kty":"RSA","n":…}`)).
pub fn rsa_thumbprint(n: &str, e: &str) -> String {
    // Required members only, lexicographic order, no white space; base64url needs no escaping.
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    Base64UrlUnpadded::encode_string(&Sha256::digest(canonical.as_bytes()))
}

/// One RSA public key of a JWK set (RFC 7517, RFC 7518 §6.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "kty": "RSA",
    "n": "u1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0_IzW7yWR7QkrmBL7jTKEn5u-qKhbwKfBstIs-bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW_VDL5AaWTg0nLVkjRo9z-40RQzuVaE8AkAFmxZzow3x-VJYKdjykkJ0iT9wCS0DRTXu269V264Vf_3jvredZiKRkgwlL9xNAwxXFg0x_XFw005UWVRIkdgcKWTjpBP2dPwVZ4WWC-9aGVd-Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbcmw",
    "e": "AQAB",
    "kid": "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
    "use": "sig",
    "alg": "RS512"
}))]
pub struct RsaJwk {
    /// Key type: always `RSA`.
    pub kty: String,
    /// Modulus, base64url without padding.
    pub n: String,
    /// Public exponent, base64url without padding.
    pub e: String,
    /// Key id: the RFC 7638 thumbprint, as in the `kid` header of what it signed.
    pub kid: String,
    /// Public key use: always `sig`.
    #[serde(rename = "use")]
    pub key_use: String,
    /// The algorithm it signs with (`RS256`, `RS512`, …).
    pub alg: String,
}

/// A set of RSA public keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"keys": [{
    "kty": "RSA",
    "n": "u1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0_IzW7yWR7QkrmBL7jTKEn5u-qKhbwKfBstIs-bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW_VDL5AaWTg0nLVkjRo9z-40RQzuVaE8AkAFmxZzow3x-VJYKdjykkJ0iT9wCS0DRTXu269V264Vf_3jvredZiKRkgwlL9xNAwxXFg0x_XFw005UWVRIkdgcKWTjpBP2dPwVZ4WWC-9aGVd-Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbcmw",
    "e": "AQAB",
    "kid": "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
    "use": "sig",
    "alg": "RS512"
}]}))]
pub struct RsaJwkSet {
    /// The keys (empty when the service authenticates to the provider with a client secret,
    /// or smartcard sign-in is off).
    pub keys: Vec<RsaJwk>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_example_thumbprint() {
        // RFC 7638 §3.1.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(
            rsa_thumbprint(n, "AQAB"),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn generated_keys_sign_what_their_public_part_verifies_and_reload_from_pem() {
        let key = RsaKey::generate().expect("generates");
        let token = key
            .sign(Algorithm::RS256, "JWT", &serde_json::json!({"sub": "x"}))
            .expect("signs");
        let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let jwk = key.jwk(Algorithm::RS256);
        let public = DecodingKey::from_rsa_components(&jwk.n, &jwk.e).expect("public key");
        assert!(jsonwebtoken::decode::<serde_json::Value>(&token, &public, &validation).is_ok());
        assert_eq!(rsa_thumbprint(&jwk.n, &jwk.e), key.kid());
        assert!(!format!("{key:?}").contains(&jwk.n));

        assert!(matches!(RsaKey::from_pem("nope"), Err(RsaKeyError::NotRsa)));
    }
}
