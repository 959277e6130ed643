//! Ed25519 signing keys (PKCS#8 PEM files as OpenSSL writes them), their public parts with
//! RFC 7638 key ids, the published JWK set, and the ring of keys that verify tokens across a
//! rotation.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use ed25519_dalek::pkcs8::DecodePrivateKey;
use esr_domain::rand_core::CryptoRng;
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use zeroize::Zeroizing;

/// DER prefix of a PKCS#8 v1 `PrivateKeyInfo` for an Ed25519 key (RFC 8410 §7); the 32-byte
/// seed follows. This is exactly what `openssl genpkey -algorithm ed25519` writes.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
const PKCS8_ED25519_LENGTH: usize = PKCS8_ED25519_PREFIX.len() + 32;

/// A key could not be read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The PEM text is not an Ed25519 PKCS#8 private key.
    #[error("not an Ed25519 PKCS#8 private key (\"-----BEGIN PRIVATE KEY-----\")")]
    InvalidPrivateKey(#[source] ed25519_dalek::pkcs8::Error),
    /// The public key is unusable; the text says why.
    #[error("invalid Ed25519 public key: {0}")]
    InvalidPublicKey(&'static str),
}

/// An Ed25519 private signing key with its key id.
pub struct SigningKey {
    secret: ed25519_dalek::SigningKey,
    pub(super) encoding: EncodingKey,
    public: PublicKey,
}

impl SigningKey {
    /// A new random key: 32 bytes from `rng` as the seed.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut_slice());
        Self::from_secret(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// Reads a `-----BEGIN PRIVATE KEY-----` Ed25519 PKCS#8 key (v1 as OpenSSL writes it,
    /// or v2 with the public key, which must then match).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        ed25519_dalek::SigningKey::from_pkcs8_pem(pem.trim())
            .map(Self::from_secret)
            .map_err(KeyError::InvalidPrivateKey)
    }

    /// The key as PKCS#8 v1 PEM, byte for byte what OpenSSL writes for the same key.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        let der = pkcs8_der(&self.secret);
        let mut pem = Zeroizing::new(String::with_capacity(100));
        pem.push_str("-----BEGIN PRIVATE KEY-----\n");
        // 48 bytes are 64 base64 characters: one full PEM line, no padding.
        let body = Zeroizing::new(Base64::encode_string(der.as_slice()));
        pem.push_str(&body);
        pem.push_str("\n-----END PRIVATE KEY-----\n");
        pem
    }

    /// The key id: the RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        self.public.kid()
    }

    /// The public (verification) part.
    pub fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    /// The private key, for tests that sign what we never would.
    #[cfg(test)]
    pub(super) fn secret(&self) -> &ed25519_dalek::SigningKey {
        &self.secret
    }

    fn from_secret(secret: ed25519_dalek::SigningKey) -> Self {
        let public = PublicKey::from_bytes(secret.verifying_key().to_bytes());
        let encoding = EncodingKey::from_ed_der(pkcs8_der(&secret).as_slice());
        Self {
            secret,
            encoding,
            public,
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.public.kid)
            .finish_non_exhaustive()
    }
}

fn pkcs8_der(secret: &ed25519_dalek::SigningKey) -> Zeroizing<[u8; PKCS8_ED25519_LENGTH]> {
    let mut der = Zeroizing::new([0u8; PKCS8_ED25519_LENGTH]);
    let (prefix, seed) = der.split_at_mut(PKCS8_ED25519_PREFIX.len());
    prefix.copy_from_slice(&PKCS8_ED25519_PREFIX);
    seed.copy_from_slice(secret.as_bytes());
    der
}

/// A verification key (public part) as stored and published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    bytes: [u8; 32],
    x: String,
    kid: String,
}

impl PublicKey {
    /// Reads the JWK `x` member: base64url (no padding) of the raw 32-byte public key.
    pub fn from_x(x: &str) -> Result<Self, KeyError> {
        let mut bytes = [0u8; 32];
        // Strict decoding: one text per key, so the thumbprint (kid) is unambiguous.
        let decoded = Base64UrlUnpadded::decode(x, &mut bytes)
            .map_err(|_| KeyError::InvalidPublicKey("x is not 32 bytes of unpadded base64url"))?;
        if decoded.len() != 32 {
            return Err(KeyError::InvalidPublicKey(
                "x is not 32 bytes of unpadded base64url",
            ));
        }
        let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map_err(|_| KeyError::InvalidPublicKey("x is not a point on Ed25519"))?;
        if key.is_weak() {
            return Err(KeyError::InvalidPublicKey("x is a small-order (weak) key"));
        }
        Ok(Self::from_bytes(bytes))
    }

    /// The key id: RFC 7638 thumbprint, base64url(SHA-256(`{"crv":"Ed25519","kty":"OKP","x":…}`)).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWK `x` member: base64url of the raw public key.
    pub fn x(&self) -> &str {
        &self.x
    }

    /// The key as a JWK for the published set.
    pub fn to_jwk(&self) -> Jwk {
        Jwk {
            kty: "OKP".to_owned(),
            crv: "Ed25519".to_owned(),
            x: self.x.clone(),
            kid: self.kid.clone(),
            key_use: "sig".to_owned(),
            alg: "EdDSA".to_owned(),
        }
    }

    fn from_bytes(bytes: [u8; 32]) -> Self {
        let x = Base64UrlUnpadded::encode_string(&bytes);
        // RFC 7638 §3: required members only, lexicographic order, no white space. `x` is
        // base64url, so it needs no JSON escaping.
        let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        let kid = Base64UrlUnpadded::encode_string(&Sha256::digest(canonical.as_bytes()));
        Self { bytes, x, kid }
    }

    fn decoding_key(&self) -> DecodingKey {
        // jsonwebtoken's Ed25519 verifier reads the raw 32-byte key from its "DER" slot; this
        // is what `DecodingKey::from_ed_components` builds from `x`, without re-decoding it.
        DecodingKey::from_ed_der(&self.bytes)
    }
}

/// One public key of the JWK set (RFC 7517, RFC 8037 `OKP` / `Ed25519`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    "kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
    "use": "sig",
    "alg": "EdDSA"
}))]
pub struct Jwk {
    /// Key type: always `OKP`.
    pub kty: String,
    /// Curve: always `Ed25519`.
    pub crv: String,
    /// The raw public key, base64url without padding.
    pub x: String,
    /// Key id: the RFC 7638 thumbprint, as in the `kid` header of tokens it signed.
    pub kid: String,
    /// Public key use: always `sig`.
    #[serde(rename = "use")]
    pub key_use: String,
    /// Algorithm: always `EdDSA`.
    pub alg: String,
}

/// The published JWK set: every key that currently verifies access tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JwkSet {
    /// The keys, sorted by `kid`.
    pub keys: Vec<Jwk>,
}

/// A verification key ready for use.
pub(super) struct VerificationKey {
    pub(super) public: PublicKey,
    pub(super) decoding: DecodingKey,
}

pub(super) type KeyRing = HashMap<String, Arc<VerificationKey>>;

/// The verification keys by `kid`: the signing key's public part and `keys`.
pub(super) fn key_ring(signing: &SigningKey, keys: Vec<PublicKey>) -> KeyRing {
    std::iter::once(signing.public_key())
        .chain(keys)
        .map(|public| {
            let key = VerificationKey {
                decoding: public.decoding_key(),
                public,
            };
            (key.public.kid.clone(), Arc::new(key))
        })
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Generated with `openssl genpkey -algorithm ed25519` (OpenSSL 3.0.19).
    pub(crate) const OPENSSL_PEM: &str = "-----BEGIN PRIVATE KEY-----\n\
        MC4CAQAwBQYDK2VwBCIEIO8hdv+k529nF8Q7/fPb6sy53k11EHOgONeAl943PoTg\n\
        -----END PRIVATE KEY-----\n";
    /// `openssl pkey -in key.pem -pubout -outform DER | tail -c 32 | basenc --base64url`
    const OPENSSL_X: &str = "rP7rny45bvtMQh-1SOzsELQIOzb_1Ln028Lo73rhW88";
    /// `printf '{"crv":"Ed25519","kty":"OKP","x":"<x>"}' | openssl dgst -sha256 -binary | basenc --base64url`
    pub(crate) const OPENSSL_KID: &str = "Dbxlrl_sEnco6hJhp_NYWVbVOPNZZ08rUCDuqkmCJZU";

    /// RFC 8037 Appendix A.1 / A.3.
    const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const RFC8037_KID: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

    fn pem_from_seed(seed: &[u8; 32]) -> String {
        let mut der = PKCS8_ED25519_PREFIX.to_vec();
        der.extend_from_slice(seed);
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            Base64::encode_string(&der)
        )
    }

    #[test]
    fn kid_is_the_rfc7638_thumbprint() {
        let public = PublicKey::from_x(RFC8037_X).expect("valid x");
        assert_eq!(public.kid(), RFC8037_KID);
        assert_eq!(public.x(), RFC8037_X);
        assert_eq!(
            public.to_jwk(),
            Jwk {
                kty: "OKP".to_owned(),
                crv: "Ed25519".to_owned(),
                x: RFC8037_X.to_owned(),
                kid: RFC8037_KID.to_owned(),
                key_use: "sig".to_owned(),
                alg: "EdDSA".to_owned(),
            }
        );

        // The RFC's private key derives the RFC's public key.
        let mut seed = [0u8; 32];
        Base64UrlUnpadded::decode(RFC8037_D, &mut seed).expect("d decodes");
        let signing = SigningKey::from_pkcs8_pem(&pem_from_seed(&seed)).expect("loads");
        assert_eq!(signing.public_key(), public);
        assert_eq!(signing.kid(), RFC8037_KID);
    }

    #[test]
    fn openssl_pem_loads_and_round_trips() {
        let key = SigningKey::from_pkcs8_pem(OPENSSL_PEM).expect("OpenSSL key loads");
        assert_eq!(key.public_key().x(), OPENSSL_X);
        assert_eq!(key.kid(), OPENSSL_KID);
        // We write what OpenSSL writes.
        assert_eq!(key.to_pkcs8_pem().as_str(), OPENSSL_PEM);
        // Without the trailing newline, or with CRLF, too.
        assert!(SigningKey::from_pkcs8_pem(OPENSSL_PEM.trim_end()).is_ok());
        assert!(SigningKey::from_pkcs8_pem(&OPENSSL_PEM.replace('\n', "\r\n")).is_ok());
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(matches!(
            SigningKey::from_pkcs8_pem("not a key"),
            Err(KeyError::InvalidPrivateKey(_))
        ));
        let public_pem = "-----BEGIN PUBLIC KEY-----\n\
            MCowBQYDK2VwAyEArP7rny45bvtMQh+1SOzsELQIOzb/1Ln028Lo73rhW88=\n\
            -----END PUBLIC KEY-----\n";
        assert!(SigningKey::from_pkcs8_pem(public_pem).is_err());
        for x in [
            "",
            "abc",
            "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
            "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo",
            "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURoAA",
            // The identity point: small order.
            "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(
                matches!(PublicKey::from_x(x), Err(KeyError::InvalidPublicKey(_))),
                "{x}"
            );
        }
    }
}
