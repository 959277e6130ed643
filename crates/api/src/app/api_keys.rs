//! API keys of administrators and integrators: created (the secret shown once, only its
//! SHA-256 kept) and revoked, from the admin API or the command line.

use chrono::{DateTime, Utc};
use esr_domain::{ApiKeyAccess, ApiKeyName, ApiKeyScope, ApiKeySecret};
use esr_persistence::api_keys::{self, ApiKey, NewApiKey};
use esr_persistence::audit::{Actor, EventType};
use esr_persistence::{DbConnection, RepoError, organisations};
use serde_json::json;

use super::{Caller, Failure, audit};

/// A key to create.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// Its unique name.
    pub name: ApiKeyName,
    /// The organisations it covers.
    pub scope: ApiKeyScope,
    /// Read only or read-write.
    pub access: ApiKeyAccess,
    /// A read-only key granted the clients (IP, user agent) behind audit events.
    pub sees_clients: bool,
}

/// Why a key was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateKeyError {
    /// The name is taken.
    #[error("an API key named {0} exists already")]
    NameTaken(ApiKeyName),
    /// The scope names an organisation that does not exist.
    #[error("no organisation has the code {0}")]
    UnknownOrganisation(String),
    /// Storage or the unexpected.
    #[error(transparent)]
    Failure(#[from] Failure),
}

impl From<RepoError> for CreateKeyError {
    fn from(e: RepoError) -> Self {
        Self::Failure(e.into())
    }
}

/// Creates a key in one transaction with its audit event (`actor` is who asked: an API key,
/// or the command line); returns the plain secret, which is never stored.
pub fn create(
    conn: &mut DbConnection,
    caller: &Caller,
    actor: &Actor,
    new: &NewKey,
    now: DateTime<Utc>,
) -> Result<(ApiKeySecret, ApiKey), CreateKeyError> {
    let secret = ApiKeySecret::generate(&mut rand::rng());
    conn.write_transaction(|c| {
        if let ApiKeyScope::Organisation(code) = &new.scope
            && organisations::find(c, code)?.is_none()
        {
            return Err(CreateKeyError::UnknownOrganisation(code.to_string()));
        }
        let stored = api_keys::insert(
            c,
            &NewApiKey {
                name: &new.name,
                prefix: &secret.visible_prefix(),
                key_hash: &secret.digest(),
                scope: &new.scope,
                access: new.access,
                sees_clients: new.sees_clients,
            },
            now,
        )?
        .ok_or_else(|| CreateKeyError::NameTaken(new.name.clone()))?;
        audit::record(
            c,
            caller,
            EventType::AdminApiKeyCreated,
            None,
            actor,
            &json!({
                "api_key": stored.name.as_str(),
                "scope": stored.scope.as_str(),
                "access": stored.access.as_str(),
                "sees_clients": stored.sees_clients,
            }),
            now,
        )?;
        Ok((secret, stored))
    })
}

/// Revokes the key with `id` (refused at once from then on; revoking twice is harmless).
/// `Ok(None)` when there is no such key.
pub fn revoke(
    conn: &mut DbConnection,
    caller: &Caller,
    actor: &Actor,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<ApiKey>, RepoError> {
    conn.write_transaction(|c| {
        let Some(target) = api_keys::find(c, id)? else {
            return Ok(None);
        };
        if api_keys::revoke(c, id, now)? {
            audit::record(
                c,
                caller,
                EventType::AdminApiKeyRevoked,
                None,
                actor,
                &json!({"api_key": target.name.as_str()}),
                now,
            )?;
        }
        api_keys::find(c, id)
    })
}
