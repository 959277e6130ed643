//! The dev identity provider's state (dev mode only): its RSA key, generated on first use,
//! and the authorization codes waiting to be exchanged, kept in memory. Its routes are
//! the dev identity provider routes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use super::RsaKey;

/// How long an authorization code may wait for its exchange.
const CODE_TTL: Duration = Duration::from_secs(120);
/// Most codes waiting at once (expired ones are dropped first).
const MAX_PENDING_CODES: usize = 10_000;

/// What a code was issued for, checked when it is exchanged.
#[derive(Debug, Clone)]
pub struct PendingCode {
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI of the authorization request.
    pub redirect_uri: String,
    /// The PKCE challenge (S256) of the authorization request.
    pub code_challenge: String,
    /// The nonce to put in the ID token.
    pub nonce: String,
    /// The smartcard identity signed in.
    pub uid: String,
}

struct Waiting {
    code: PendingCode,
    expires: Instant,
}

/// What presenting a code found.
#[derive(Debug)]
pub enum CodeUse {
    /// Valid: taken, it works no more.
    Taken(PendingCode),
    /// Known but past its two minutes (taken all the same).
    Expired,
    /// Never issued, or used already.
    Unknown,
}

/// The dev identity provider's state: its key and the codes waiting to be exchanged.
pub struct DevIdp {
    issuer: String,
    key: OnceCell<Arc<RsaKey>>,
    codes: Mutex<HashMap<String, Waiting>>,
}

impl std::fmt::Debug for DevIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIdp")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl DevIdp {
    /// A provider whose issuer is `issuer` (`{public_base_url}/dev-idp`).
    pub fn new(issuer: String) -> Self {
        Self {
            issuer,
            key: OnceCell::new(),
            codes: Mutex::new(HashMap::new()),
        }
    }

    /// The issuer (`iss`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The address of one of its endpoints.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}/{path}", self.issuer)
    }

    /// Its signing key, generated on first use.
    pub async fn key(&self) -> Result<Arc<RsaKey>, String> {
        self.key
            .get_or_try_init(|| async {
                tracing::info!("generating the dev identity provider's key");
                tokio::task::spawn_blocking(RsaKey::generate)
                    .await
                    .map_err(|e| e.to_string())?
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .await
            .cloned()
    }

    /// Issues a code for `pending`, valid once for two minutes; `None` when too many wait.
    pub fn issue_code(&self, pending: PendingCode) -> Option<String> {
        let code = esr_domain::random_token(&mut rand::rng(), 32);
        let mut codes = self.codes.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        codes.retain(|_, waiting| waiting.expires > now);
        if codes.len() >= MAX_PENDING_CODES {
            return None;
        }
        codes.insert(
            esr_domain::sha256_hex(code.as_bytes()),
            Waiting {
                code: pending,
                expires: now + CODE_TTL,
            },
        );
        Some(code)
    }

    /// Takes a code out, whatever happens next: a code works once.
    pub fn take_code(&self, code: &str) -> CodeUse {
        let taken = self
            .codes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&esr_domain::sha256_hex(code.as_bytes()));
        match taken {
            Some(waiting) if waiting.expires > Instant::now() => CodeUse::Taken(waiting.code),
            Some(_) => CodeUse::Expired,
            None => CodeUse::Unknown,
        }
    }
}
