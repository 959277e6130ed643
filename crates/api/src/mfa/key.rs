//! The MFA key (`ESR_MFA_KEY_FILE`): seals TOTP secrets with XChaCha20-Poly1305, each bound
//! to its factor and account, and keys the digests of recovery codes. Both keys are derived
//! from the file's secret, domain-separated, so a copy of the database alone reveals neither
//! a secret nor a code.

use base64ct::{Base64, Encoding};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use esr_domain::RecoveryCode;
use hmac::Mac;
use zeroize::Zeroizing;

/// Bytes of an XChaCha20 nonce (random per seal: 192 bits never repeat by chance).
const NONCE_BYTES: usize = 24;

/// The two keys derived from the MFA key file.
#[derive(Clone, PartialEq, Eq)]
pub struct MfaKey {
    seal: Zeroizing<[u8; 32]>,
    codes: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for MfaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MfaKey(****)")
    }
}

/// A sealed secret that does not open: wrong key, or moved to another factor or account.
#[derive(Debug, thiserror::Error)]
#[error("a sealed second-factor secret does not open with this key")]
pub struct SealError;

fn derive(material: &[u8], purpose: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(material)
        .expect("HMAC takes a key of any length");
    mac.update(purpose);
    Zeroizing::new(mac.finalize().into_bytes().into())
}

impl MfaKey {
    /// The keys derived from secret material (the key file's contents).
    pub fn from_secret(material: &[u8]) -> Self {
        Self {
            seal: derive(material, b"esr-access mfa seal v1"),
            codes: derive(material, b"esr-access recovery codes v1"),
        }
    }

    /// Seals `secret` for the factor `factor_id` of `account_id`: base64 of nonce and
    /// ciphertext. The ids are authenticated, so a sealed secret copied to another row
    /// does not open.
    pub fn seal(&self, secret: &[u8], factor_id: &str, account_id: &str) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::Rng::fill_bytes(&mut rand::rng(), &mut nonce);
        let aad = associated_data(factor_id, account_id);
        let sealed = self
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: secret,
                    aad: &aad,
                },
            )
            .expect("XChaCha20-Poly1305 seals any message under 256 GiB");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Base64::encode_string(&out)
    }

    /// Opens what [`MfaKey::seal`] sealed for the same factor and account.
    pub fn open(
        &self,
        sealed: &str,
        factor_id: &str,
        account_id: &str,
    ) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let bytes = Base64::decode_vec(sealed).map_err(|_| SealError)?;
        if bytes.len() <= NONCE_BYTES {
            return Err(SealError);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| SealError)?;
        let aad = associated_data(factor_id, account_id);
        self.cipher()
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SealError)
    }

    /// The stored digest of a recovery code: HMAC-SHA-256 under the codes key, hex.
    pub fn recovery_code_digest(&self, code: &RecoveryCode) -> String {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(self.codes.as_slice())
            .expect("HMAC takes a key of any length");
        mac.update(code.canonical().as_bytes());
        esr_domain::hex_lower(&mac.finalize().into_bytes())
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&(*self.seal).into())
    }
}

fn associated_data(factor_id: &str, account_id: &str) -> Vec<u8> {
    format!("esr-access totp\0{factor_id}\0{account_id}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_for_their_factor_and_key() {
        let key = MfaKey::from_secret(b"0123456789abcdef0123456789abcdef");
        let sealed = key.seal(b"twenty bytes secret!", "factor-1", "account-1");
        assert!(!sealed.contains("twenty"));
        assert_eq!(
            key.open(&sealed, "factor-1", "account-1")
                .unwrap()
                .as_slice(),
            b"twenty bytes secret!"
        );
        assert!(key.open(&sealed, "factor-2", "account-1").is_err());
        assert!(key.open(&sealed, "factor-1", "account-2").is_err());
        let other = MfaKey::from_secret(b"another secret of thirty-two byt");
        assert!(other.open(&sealed, "factor-1", "account-1").is_err());
        assert!(key.open("not base64!", "factor-1", "account-1").is_err());
        assert!(key.open("AAAA", "factor-1", "account-1").is_err());
        assert_ne!(
            sealed,
            key.seal(b"twenty bytes secret!", "factor-1", "account-1")
        );
        assert_eq!(format!("{key:?}"), "MfaKey(****)");
    }

    #[test]
    fn recovery_code_digests_are_keyed_and_spelling_blind() {
        let key = MfaKey::from_secret(b"one");
        let code = RecoveryCode::parse("ABCD-EFGH-JKMN").unwrap();
        let typed = RecoveryCode::parse("abcd efgh jkmn").unwrap();
        assert_eq!(
            key.recovery_code_digest(&code),
            key.recovery_code_digest(&typed)
        );
        assert_ne!(
            key.recovery_code_digest(&code),
            MfaKey::from_secret(b"two").recovery_code_digest(&code)
        );
    }
}
