//! Smartcard sign-in: this service as the OpenID Connect relying party (confidential client)
//! of NHS CIS2, and the RSA keys involved.

pub mod client;
pub mod dev_provider;
pub mod id_token;
pub mod rsa_key;

pub use client::{OidcClient, ProviderError};
pub use id_token::{IdTokenRejection, VerifiedIdToken};
pub use rsa_key::{RsaJwk, RsaJwkSet, RsaKey};
