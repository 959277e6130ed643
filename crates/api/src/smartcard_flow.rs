//! A smartcard sign-in's flow (NHS CIS2, see [`crate::oidc`]), kept by the browser instead of
//! the database: `state` is the
//! flow itself (nonce, PKCE verifier, redirect URI, expiry), sealed with XChaCha20-Poly1305
//! under a key derived from the audit key and bound to the starting browser's secret.
//!
//! Starting a sign-in therefore stores nothing, so no number of anonymous starts, from however
//! many addresses, can fill a table or crowd out real sign-ins. Only a callback that brings a
//! genuine, unexpired state writes a row: the mark that the state is spent.

use base64ct::{Base64UrlUnpadded, Encoding};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::audit::DigestKey;

/// Bytes of an XChaCha20 nonce (random per seal).
const NONCE_BYTES: usize = 24;

/// What the callback needs of the flow its `start` began.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowTicket {
    /// The nonce the ID token must carry.
    #[serde(rename = "n")]
    pub nonce: String,
    /// The PKCE code verifier, sent to the token endpoint with the code.
    #[serde(rename = "v")]
    pub code_verifier: String,
    /// The redirect URI the provider was given, sent again with the code.
    #[serde(rename = "r")]
    pub redirect_uri: String,
    /// When the flow stops being usable.
    #[serde(rename = "e", with = "chrono::serde::ts_seconds")]
    pub expires_at: DateTime<Utc>,
    /// The organisation chosen to sign in to, for a smartcard linked in several.
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
}

impl std::fmt::Debug for FlowTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowTicket")
            .field("redirect_uri", &self.redirect_uri)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The key flow tickets are sealed with; every instance derives the same one.
#[derive(Clone)]
pub struct FlowSealKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for FlowSealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FlowSealKey(****)")
    }
}

impl FlowSealKey {
    /// The key derived, domain-separated, from the audit key.
    pub fn derive(from: &DigestKey) -> Self {
        Self(Zeroizing::new(from.subkey("esr-access smartcard flow v1")))
    }

    /// The `state` for `ticket`: base64url of nonce and ciphertext, opening only together
    /// with `browser_binding`.
    pub fn seal(&self, ticket: &FlowTicket, browser_binding: &str) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::Rng::fill_bytes(&mut rand::rng(), &mut nonce);
        let plain = Zeroizing::new(serde_json::to_vec(ticket).expect("a ticket serialises"));
        let sealed = self
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &plain,
                    aad: &associated_data(browser_binding),
                },
            )
            .expect("XChaCha20-Poly1305 seals any message under 256 GiB");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Base64UrlUnpadded::encode_string(&out)
    }

    /// The ticket `state` seals, if it was sealed with this key for `browser_binding`
    /// (expired or not: the caller tells an expired flow from a made-up one).
    pub fn open(&self, state: &str, browser_binding: &str) -> Option<FlowTicket> {
        let bytes = Base64UrlUnpadded::decode_vec(state).ok()?;
        if bytes.len() <= NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
        let plain = self
            .cipher()
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &associated_data(browser_binding),
                },
            )
            .ok()
            .map(Zeroizing::new)?;
        serde_json::from_slice(&plain).ok()
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&(*self.0).into())
    }
}

fn associated_data(browser_binding: &str) -> Vec<u8> {
    format!("esr-access smartcard flow\0{browser_binding}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket() -> FlowTicket {
        FlowTicket {
            nonce: "nonce-1".into(),
            code_verifier: "verifier-1".into(),
            redirect_uri: "https://my.esr.example/smartcard/callback".into(),
            expires_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            organisation: Some("999".into()),
        }
    }

    #[test]
    fn a_ticket_opens_only_with_its_binding_and_key() {
        let key = FlowSealKey::derive(&DigestKey::from_secret(b"one"));
        let state = key.seal(&ticket(), "binding-1");
        assert!(!state.contains("verifier") && !state.contains("nonce"));
        assert!(
            state
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "safe in a URL as it is: {state}"
        );
        assert_eq!(key.open(&state, "binding-1"), Some(ticket()));
        assert_eq!(key.open(&state, "binding-2"), None);
        let other = FlowSealKey::derive(&DigestKey::from_secret(b"two"));
        assert_eq!(other.open(&state, "binding-1"), None);
        let mut altered = state.clone().into_bytes();
        altered[40] = if altered[40] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            key.open(&String::from_utf8(altered).unwrap(), "binding-1"),
            None
        );
        assert_eq!(key.open("", "binding-1"), None);
        assert_eq!(key.open("not base64!", "binding-1"), None);
        assert_ne!(
            state,
            key.seal(&ticket(), "binding-1"),
            "a fresh nonce each time"
        );
        assert_eq!(format!("{key:?}"), "FlowSealKey(****)");
        assert!(!format!("{:?}", ticket()).contains("verifier-1"));
    }
}
