//! The key of the audit trail's digests of personal data, and of its hash chain.

/// The key of the audit trail's digests of personal data that matched nothing (an email
/// address, a username, a smartcard subject typed or presented). Keyed, so that someone who
/// reads the audit trail cannot test guesses (a list of staff email addresses, say) against
/// the digests; the same key on every instance, so attempts still correlate across them.
#[derive(Clone, PartialEq, Eq)]
pub struct DigestKey([u8; 32]);

impl std::fmt::Debug for DigestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DigestKey(****)")
    }
}

impl DigestKey {
    /// The key derived from secret material (`ESR_AUDIT_KEY_FILE`'s contents, or the signing
    /// key file's), domain-separated so it is never the material itself.
    pub fn from_secret(material: &[u8]) -> Self {
        use sha2::Digest as _;
        let mut hasher = sha2::Sha256::new();
        hasher.update(b"esr-access audit digest v1\0");
        hasher.update(material);
        Self(hasher.finalize().into())
    }

    /// The key of the audit chain, derived from this one (domain-separated, so neither key
    /// reveals the other): the same secret, kept outside the database, protects both.
    pub fn chain_key(&self) -> esr_persistence::audit::ChainKey {
        use hmac::{KeyInit, Mac};
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.0)
            .expect("HMAC takes a key of any length");
        mac.update(b"esr-access audit chain v1");
        esr_persistence::audit::ChainKey::from_bytes(mac.finalize().into_bytes().into())
    }

    /// A key for another purpose, derived from this one (domain-separated by `purpose`, so
    /// neither reveals the other): the same secret outside the database protects both.
    pub fn subkey(&self, purpose: &str) -> [u8; 32] {
        use hmac::{KeyInit, Mac};
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.0)
            .expect("HMAC takes a key of any length");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// HMAC-SHA-256 (hex) of the trimmed, lower-cased value.
    pub fn digest(&self, value: &str) -> String {
        use hmac::{KeyInit, Mac};
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.0)
            .expect("HMAC takes a key of any length");
        mac.update(value.trim().to_lowercase().as_bytes());
        esr_domain::hex_lower(&mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::DigestKey;

    #[test]
    fn digests_are_keyed_stable_and_case_insensitive() {
        let key = DigestKey::from_secret(b"one secret");
        let other = DigestKey::from_secret(b"another secret");
        let email = "Jane.Smith@demo.example.org ";
        assert_eq!(key.digest(email), key.digest("jane.smith@demo.example.org"));
        assert_eq!(key.digest(email).len(), 64);
        assert_ne!(key.digest(email), other.digest(email));
        assert_ne!(
            key.digest(email),
            esr_domain::sha256_hex(b"jane.smith@demo.example.org"),
            "not the unkeyed hash anyone can recompute"
        );
        assert_eq!(format!("{key:?}"), "DigestKey(****)");
    }

    /// RFC 4231 test case 2, through the same HMAC construction.
    #[test]
    fn hmac_matches_rfc_4231() {
        use hmac::{KeyInit, Mac};
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let hex = esr_domain::hex_lower(&mac.finalize().into_bytes());
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
