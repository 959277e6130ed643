//! Passkeys and security keys (WebAuthn), with this service as the relying party: its id is
//! the host of `ESR_WEB_BASE_URL` (the pages people use), and answers are accepted from that
//! origin and from the My ESR Android app's signing certificates. The ceremonies themselves
//! are webauthn-rs's; this module only says who the relying party is.

use std::sync::Arc;

use url::Url;
use webauthn_rs::prelude::{Uuid, Webauthn, WebauthnBuilder};

/// The relying party, built once from the configuration.
#[derive(Clone)]
pub struct RelyingParty {
    webauthn: Arc<Webauthn>,
    origin: Url,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty")
            .field("origin", &self.origin.as_str())
            .finish_non_exhaustive()
    }
}

/// Why passkeys cannot be offered with this configuration.
#[derive(Debug, thiserror::Error)]
pub enum RelyingPartyError {
    /// The pages' address has no domain name (a non-loopback IP address).
    #[error("ESR_WEB_BASE_URL has no domain name for passkeys: {0}")]
    NoDomain(String),
    /// The library refused the relying party or an app origin.
    #[error("passkeys cannot be set up for {0}")]
    Refused(String),
}

impl RelyingParty {
    /// The relying party of the pages at `web_base_url`, also accepting the Android app whose
    /// signing certificates have the SHA-256 `android_fingerprints` (`AA:BB:…`).
    ///
    /// A loopback address (dev: `http://127.0.0.1:8080/…`) has no domain, which WebAuthn needs:
    /// it is served as `http://localhost` on the same port, which browsers treat as secure.
    pub fn for_pages(
        web_base_url: &Url,
        android_fingerprints: &[String],
    ) -> Result<Self, RelyingPartyError> {
        let origin = page_origin(web_base_url)?;
        let rp_id = origin.domain().unwrap_or_default().to_owned();
        let mut builder = WebauthnBuilder::new(&rp_id, &origin)
            .map_err(|_| RelyingPartyError::Refused(origin.to_string()))?
            .rp_name("NHS Electronic Staff Record");
        for fingerprint in android_fingerprints {
            let app = android_origin(fingerprint)
                .ok_or_else(|| RelyingPartyError::Refused(fingerprint.clone()))?;
            builder = builder.append_allowed_origin(&app);
        }
        let webauthn = builder
            .build()
            .map_err(|_| RelyingPartyError::Refused(origin.to_string()))?;
        Ok(Self {
            webauthn: Arc::new(webauthn),
            origin,
        })
    }

    /// The library's relying party.
    pub fn webauthn(&self) -> &Webauthn {
        &self.webauthn
    }

    /// The origin of the pages (where a browser's answer comes from).
    pub fn origin(&self) -> &Url {
        &self.origin
    }
}

/// The WebAuthn user handle of an account: its id, a UUID (a stable one derived from it when
/// it is not one). Never the username or any other personal detail.
pub fn user_handle(account_id: &str) -> Uuid {
    Uuid::parse_str(account_id).unwrap_or_else(|_| {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(account_id.as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        Uuid::from_bytes(bytes)
    })
}

fn page_origin(web_base_url: &Url) -> Result<Url, RelyingPartyError> {
    let mut origin = web_base_url.clone();
    origin.set_path("");
    origin.set_query(None);
    origin.set_fragment(None);
    if origin.domain().is_some() {
        return Ok(origin);
    }
    let loopback = match origin.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    };
    if loopback && origin.set_host(Some("localhost")).is_ok() {
        return Ok(origin);
    }
    Err(RelyingPartyError::NoDomain(web_base_url.to_string()))
}

/// `android:apk-key-hash:<base64url of the certificate's SHA-256>`, the origin Android's
/// Credential Manager gives answers from the app signed with that certificate.
fn android_origin(fingerprint: &str) -> Option<Url> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let bytes = fingerprint
        .split(':')
        .map(|pair| u8::from_str_radix(pair, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    Url::parse(&format!(
        "android:apk-key-hash:{}",
        Base64UrlUnpadded::encode_string(&bytes)
    ))
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_pages_host() {
        let rp = RelyingParty::for_pages(
            &Url::parse("https://my.esr.example.org/self-service/").unwrap(),
            &[],
        )
        .unwrap();
        assert_eq!(rp.origin().as_str(), "https://my.esr.example.org/");
    }

    #[test]
    fn a_loopback_address_is_served_as_localhost() {
        let rp = RelyingParty::for_pages(
            &Url::parse("http://127.0.0.1:8080/self-service").unwrap(),
            &[],
        )
        .unwrap();
        assert_eq!(rp.origin().as_str(), "http://localhost:8080/");
    }

    #[test]
    fn another_ip_address_cannot_have_passkeys() {
        assert!(
            RelyingParty::for_pages(&Url::parse("http://10.0.0.5/self-service").unwrap(), &[])
                .is_err()
        );
    }

    #[test]
    fn the_android_app_is_an_allowed_origin() {
        let fingerprint = ["AB"; 32].join(":");
        let origin = android_origin(&fingerprint).unwrap();
        assert!(
            origin.as_str().starts_with("android:apk-key-hash:q6ur"),
            "{origin}"
        );
    }

    #[test]
    fn a_user_handle_is_the_account_id() {
        let id = "6f1c1a8e-9a57-4c1d-8b8e-2c4a4f2e9a57";
        assert_eq!(user_handle(id).to_string(), id);
    }
}
