//! The relying-party side of the authorization code flow: discovery, the provider's keys
//! (cached, refreshed on an unknown `kid` at most every `ESR_OIDC_JWKS_MIN_REFRESH_SECS`), the
//! code exchange with `private_key_jwt` or `client_secret_post`, and ID-token verification.
//!
//! Every call to the provider has a connect and a total timeout, so an unreachable or slow
//! provider answers [`ProviderError::Unavailable`] within `ESR_OIDC_TIMEOUT_MS`, never a hang.
//! Connections are not pooled: the client is shared by every actix worker (each its own
//! runtime) and provider calls are rare, so a fresh connection per call is simplest and safe.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::Utc;
use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::OnceCell;
use url::Url;

use super::id_token::{self, Expectations, IdTokenRejection, ProviderKeys, VerifiedIdToken};
use super::rsa_key::{RsaJwkSet, RsaKey};
use crate::config::{ClientAuth, OidcConfig};

/// Largest provider answer read (discovery, keys, token response).
const MAX_RESPONSE_BYTES: usize = 256 * 1024;
/// Lifetime of our client assertions.
const ASSERTION_TTL_SECS: i64 = 300;

/// Why a provider call failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Unreachable, timed out, a 5xx, or an answer we cannot read: retry later.
    #[error("identity provider unavailable: {0}")]
    Unavailable(String),
    /// The token endpoint refused the code (used, expired, wrong verifier or client).
    #[error("the identity provider refused the authorization code: {0}")]
    CodeRejected(String),
    /// The ID token failed verification.
    #[error("invalid ID token: {0}")]
    InvalidToken(#[from] IdTokenRejection),
    /// Our own client key could not be loaded or generated.
    #[error("client key: {0}")]
    ClientKey(String),
}

/// The endpoints of the provider's discovery document we use.
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderMetadata {
    /// Must equal the configured issuer exactly.
    pub issuer: String,
    /// Where the browser is sent.
    pub authorization_endpoint: Url,
    /// Where the code is exchanged.
    pub token_endpoint: Url,
    /// The provider's signing keys.
    pub jwks_uri: Url,
}

struct Cached<T> {
    value: Arc<T>,
    fetched_at: Instant,
}

/// The relying party of one instance. Shared by all workers.
pub struct OidcClient {
    config: OidcConfig,
    issuer: String,
    http: reqwest::Client,
    client_key: OnceCell<Arc<RsaKey>>,
    metadata: Mutex<Option<Cached<ProviderMetadata>>>,
    keys: Mutex<Option<Cached<ProviderKeys>>>,
}

impl std::fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcClient")
            .field("issuer", &self.issuer)
            .field("client_id", &self.config.client_id)
            .finish_non_exhaustive()
    }
}

fn unavailable(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Unavailable(e.to_string())
}

impl OidcClient {
    /// A client for `issuer` (the configured one, or this server's `/dev-idp`). A configured
    /// client key file is read here, so a bad key stops start-up. `https_only` refuses plain
    /// HTTP endpoints (production).
    pub fn new(config: OidcConfig, issuer: String, https_only: bool) -> anyhow::Result<Self> {
        crate::tokens::install_crypto_provider();
        let http = crate::outbound::client_builder(config.timeout)
            .pool_max_idle_per_host(0)
            .https_only(https_only)
            .build()?;
        let client_key = OnceCell::new();
        if let ClientAuth::PrivateKeyJwt {
            key_file: Some(path),
            ..
        } = &config.client_auth
        {
            let pem = std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!(
                    "cannot read ESR_OIDC_CLIENT_KEY_FILE {}: {e}",
                    path.display()
                )
            })?;
            let key = RsaKey::from_pem(&pem)
                .map_err(|e| anyhow::anyhow!("ESR_OIDC_CLIENT_KEY_FILE {}: {e}", path.display()))?;
            let _ = client_key.set(Arc::new(key));
        }
        Ok(Self {
            config,
            issuer,
            http,
            client_key,
            metadata: Mutex::new(None),
            keys: Mutex::new(None),
        })
    }

    /// The settings.
    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// The issuer ID tokens must name.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Our `private_key_jwt` key (generated on first use in dev), or `None` with a client secret.
    pub async fn client_key(&self) -> Result<Option<Arc<RsaKey>>, ProviderError> {
        if !matches!(self.config.client_auth, ClientAuth::PrivateKeyJwt { .. }) {
            return Ok(None);
        }
        let key = self
            .client_key
            .get_or_try_init(|| async {
                tracing::info!("generating the dev OIDC client key");
                tokio::task::spawn_blocking(RsaKey::generate)
                    .await
                    .map_err(|e| ProviderError::ClientKey(e.to_string()))?
                    .map(Arc::new)
                    .map_err(|e| ProviderError::ClientKey(e.to_string()))
            })
            .await?;
        Ok(Some(Arc::clone(key)))
    }

    /// The public part of our client key, published for the provider.
    pub async fn client_jwks(&self) -> Result<RsaJwkSet, ProviderError> {
        let alg = self.assertion_algorithm();
        Ok(RsaJwkSet {
            keys: self
                .client_key()
                .await?
                .map(|k| k.jwk(alg))
                .into_iter()
                .collect(),
        })
    }

    fn assertion_algorithm(&self) -> Algorithm {
        match self.config.client_auth {
            ClientAuth::PrivateKeyJwt { algorithm, .. } => algorithm,
            ClientAuth::ClientSecretPost(_) => Algorithm::RS256,
        }
    }

    /// The discovery document (cached for `jwks_ttl`). Its `issuer` must be ours exactly.
    pub async fn metadata(&self) -> Result<Arc<ProviderMetadata>, ProviderError> {
        if let Some(cached) = fresh(&self.metadata, self.config.jwks_ttl) {
            return Ok(cached);
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let body = self.get_json(&url).await?;
        let metadata: ProviderMetadata = serde_json::from_value(body)
            .map_err(|e| unavailable(format!("discovery document unreadable: {e}")))?;
        if metadata.issuer != self.issuer {
            // OpenID Connect Discovery §4.3: a mismatch means the wrong provider (or an attack).
            return Err(unavailable(format!(
                "discovery document names issuer {:?}, configured {:?}",
                metadata.issuer, self.issuer
            )));
        }
        let metadata = Arc::new(metadata);
        store(&self.metadata, Arc::clone(&metadata));
        Ok(metadata)
    }

    /// The provider's keys; refetched when older than `jwks_ttl`, or when `refresh` and the
    /// last fetch is at least `jwks_min_refresh` old.
    async fn provider_keys(&self, refresh: bool) -> Result<Arc<ProviderKeys>, ProviderError> {
        let current = {
            let guard = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
            guard
                .as_ref()
                .map(|c| (Arc::clone(&c.value), c.fetched_at.elapsed()))
        };
        match current {
            Some((keys, age)) if age < self.config.jwks_ttl && !refresh => return Ok(keys),
            Some((keys, age)) if refresh && age < self.config.jwks_min_refresh => {
                return Ok(keys);
            }
            _ => {}
        }
        let metadata = self.metadata().await?;
        let body = self.get_json(metadata.jwks_uri.as_str()).await?;
        let keys = Arc::new(ProviderKeys::from_jwks(&body));
        if keys.is_empty() {
            return Err(unavailable(
                "the provider's JWK set has no usable RSA signing key",
            ));
        }
        tracing::info!(keys = keys.len(), "identity provider keys fetched");
        store(&self.keys, Arc::clone(&keys));
        Ok(keys)
    }

    /// The authorization request URL for the browser.
    pub async fn authorization_url(
        &self,
        state: &str,
        nonce: &str,
        code_challenge: &str,
        redirect_uri: &str,
    ) -> Result<Url, ProviderError> {
        let metadata = self.metadata().await?;
        let mut url = metadata.authorization_endpoint.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.config.client_id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("scope", &self.config.scopes)
                .append_pair("state", state)
                .append_pair("nonce", nonce)
                .append_pair("code_challenge", code_challenge)
                .append_pair("code_challenge_method", "S256");
            if !self.config.acr_values.is_empty() {
                query.append_pair("acr_values", &self.config.acr_values);
            }
        }
        Ok(url)
    }

    /// Exchanges the code at the token endpoint; returns the ID token.
    pub async fn exchange_code(
        &self,
        code: &str,
        code_verifier: &str,
        redirect_uri: &str,
    ) -> Result<String, ProviderError> {
        let metadata = self.metadata().await?;
        let mut form: Vec<(&str, String)> = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", redirect_uri.to_owned()),
            ("code_verifier", code_verifier.to_owned()),
            ("client_id", self.config.client_id.clone()),
        ];
        match &self.config.client_auth {
            ClientAuth::PrivateKeyJwt { algorithm, .. } => {
                let assertion = self
                    .client_assertion(*algorithm, metadata.token_endpoint.as_str())
                    .await?;
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
                ));
                form.push(("client_assertion", assertion));
            }
            ClientAuth::ClientSecretPost(secret) => {
                form.push(("client_secret", secret.expose().to_owned()));
            }
        }
        let response = self
            .http
            .post(metadata.token_endpoint.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(unavailable)?;
        let status = response.status();
        let body = read_limited(response).await?;
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if status.is_server_error() {
            return Err(unavailable(format!("token endpoint answered {status}")));
        }
        if !status.is_success() {
            // RFC 6749 §5.2 `error` (a short code; never the description, which may echo input).
            let error = json["error"]
                .as_str()
                .or_else(|| json["code"].as_str())
                .unwrap_or("unknown")
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
                .take(64)
                .collect::<String>();
            return Err(ProviderError::CodeRejected(format!("{status} {error}")));
        }
        json["id_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or(ProviderError::InvalidToken(IdTokenRejection::Malformed))
    }

    /// A `private_key_jwt` client assertion (RFC 7523 §3) for `audience` (the token endpoint).
    async fn client_assertion(
        &self,
        alg: Algorithm,
        audience: &str,
    ) -> Result<String, ProviderError> {
        let key = self
            .client_key()
            .await?
            .ok_or_else(|| ProviderError::ClientKey("no client key".into()))?;
        let now = Utc::now().timestamp();
        let claims = serde_json::json!({
            "iss": self.config.client_id,
            "sub": self.config.client_id,
            "aud": audience,
            "jti": uuid::Uuid::new_v4().to_string(),
            "iat": now,
            "exp": now + ASSERTION_TTL_SECS,
        });
        key.sign(alg, "JWT", &claims)
            .map_err(|e| ProviderError::ClientKey(e.to_string()))
    }

    /// Verifies an ID token for the flow whose nonce has SHA-256 `nonce_hash`.
    pub async fn verify(
        &self,
        id_token: &str,
        nonce_hash: &str,
    ) -> Result<VerifiedIdToken, ProviderError> {
        let (alg, kid) = id_token::pinned_header(id_token, &self.config.algorithms)?;
        let mut keys = self.provider_keys(false).await?;
        let pick = |keys: &ProviderKeys| match &kid {
            Some(kid) => keys.get(kid).cloned(),
            None => None,
        };
        let key = match pick(&keys) {
            Some(key) => key,
            None => {
                // Perhaps the provider rotated its keys: refetch (rate-limited) and look again.
                keys = self.provider_keys(true).await?;
                pick(&keys).ok_or(IdTokenRejection::UnknownKey)?
            }
        };
        let leeway = i64::try_from(self.config.leeway.as_secs()).unwrap_or(60);
        let verified = id_token::verify(
            id_token,
            alg,
            &key,
            &Expectations {
                issuer: &self.issuer,
                client_id: &self.config.client_id,
                nonce_hash,
                min_assurance: self.config.min_assurance,
                subject_claim: &self.config.subject_claim,
                leeway_secs: leeway,
                now: Utc::now().timestamp(),
            },
        )?;
        Ok(verified)
    }

    async fn get_json(&self, url: &str) -> Result<Value, ProviderError> {
        let response = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(unavailable)?;
        let status = response.status();
        if !status.is_success() {
            return Err(unavailable(format!("{url} answered {status}")));
        }
        let body = read_limited(response).await?;
        serde_json::from_slice(&body).map_err(|e| unavailable(format!("{url}: not JSON: {e}")))
    }
}

fn fresh<T>(slot: &Mutex<Option<Cached<T>>>, ttl: Duration) -> Option<Arc<T>> {
    let guard = slot.lock().unwrap_or_else(PoisonError::into_inner);
    guard
        .as_ref()
        .filter(|c| c.fetched_at.elapsed() < ttl)
        .map(|c| Arc::clone(&c.value))
}

fn store<T>(slot: &Mutex<Option<Cached<T>>>, value: Arc<T>) {
    *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(Cached {
        value,
        fetched_at: Instant::now(),
    });
}

/// Reads a response body, refusing one larger than [`MAX_RESPONSE_BYTES`].
async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, ProviderError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unavailable)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(unavailable("the provider's answer is too large"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
