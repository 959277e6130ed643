//! Administrator API keys on `/v1/admin/**`: `Authorization: Bearer esr_…`.
//!
//! Handlers take [`AdminKey`] (any live key) or [`WriteKey`] (a read-write key; a read-only
//! one gets `403 api-key-read-only` before the body is looked at). Organisation-scoped keys
//! see only their organisation: handlers ask [`AdminKey::can_see`] and answer 404 for
//! everything else, exactly as for something that does not exist.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::Utc;
use esr_domain::{ApiKeyAccess, ApiKeyScope, ApiKeySecret};
use esr_persistence::api_keys;
use futures_util::future::LocalBoxFuture;

use crate::problem::{AsProblem, ProblemCatalogue, ProblemSpec};
use crate::state::{AppState, StorageError};

pub use crate::app::administration::AdminKey;

impl AdminKey {
    /// Refuses a read-only key (`403 api-key-read-only`).
    pub fn require_write(&self) -> Result<(), AdminAuthError> {
        match self.access {
            ApiKeyAccess::Write => Ok(()),
            ApiKeyAccess::Read => Err(AdminAuthError::ReadOnly),
        }
    }

    /// Refuses a key scoped to one organisation (`403 api-key-scope`): for operations on the
    /// service itself (keys, creating organisations), not on an organisation's data.
    pub fn require_all_organisations(&self) -> Result<(), AdminAuthError> {
        match self.scope {
            ApiKeyScope::All => Ok(()),
            ApiKeyScope::Organisation(_) => Err(AdminAuthError::ScopeTooNarrow),
        }
    }
}

/// A request made with a live read-write API key.
#[derive(Debug, Clone)]
pub struct WriteKey(pub AdminKey);

impl std::ops::Deref for WriteKey {
    type Target = AdminKey;

    fn deref(&self) -> &AdminKey {
        &self.0
    }
}

/// Why an admin request is refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminAuthError {
    /// No key, a malformed key, an unknown key or a revoked key: one answer.
    #[error("missing, unknown or revoked API key")]
    InvalidKey,
    /// A read-only key on a change.
    #[error("read-only API key")]
    ReadOnly,
    /// An organisation-scoped key on a service-wide operation.
    #[error("API key scoped to one organisation")]
    ScopeTooNarrow,
    /// The key could not be looked up.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

const CHALLENGE: &str = "Bearer realm=\"esr-access-admin\"";

impl AsProblem for AdminAuthError {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::InvalidKey => ProblemSpec::from_catalogue(
                StatusCode::UNAUTHORIZED,
                "invalid-api-key",
                "problem-invalid-api-key",
                Vec::new(),
            )
            .with_www_authenticate(CHALLENGE),
            Self::ReadOnly => ProblemSpec::from_catalogue(
                StatusCode::FORBIDDEN,
                "api-key-read-only",
                "problem-api-key-read-only",
                Vec::new(),
            ),
            Self::ScopeTooNarrow => ProblemSpec::from_catalogue(
                StatusCode::FORBIDDEN,
                "api-key-scope",
                "problem-api-key-scope",
                Vec::new(),
            ),
            Self::Storage(e) => e.problem(),
        }
    }
}
crate::problem_response!(AdminAuthError);

impl ProblemCatalogue for AdminAuthError {
    fn examples() -> Vec<ProblemSpec> {
        let mut examples: Vec<ProblemSpec> =
            [Self::InvalidKey, Self::ReadOnly, Self::ScopeTooNarrow]
                .iter()
                .map(AsProblem::problem)
                .collect();
        examples.extend(StorageError::examples());
        examples
    }
}

fn presented_key(req: &HttpRequest) -> Option<ApiKeySecret> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    ApiKeySecret::parse(token.trim())
}

async fn authenticate(
    state: Option<web::Data<AppState>>,
    key: Option<ApiKeySecret>,
) -> Result<AdminKey, AdminAuthError> {
    let (state, key) = state.zip(key).ok_or(AdminAuthError::InvalidKey)?;
    let digest = key.digest();
    let found = state
        .db(move |c| {
            let found = api_keys::find_live_by_hash(c, &digest)?;
            if let Some(key) = &found {
                api_keys::touch(c, &key.id, Utc::now())?;
            }
            Ok(found)
        })
        .await?;
    let Some(key) = found else {
        state.metrics.security_event("admin.invalid_key");
        return Err(AdminAuthError::InvalidKey);
    };
    Ok(AdminKey {
        id: key.id,
        name: key.name,
        scope: key.scope,
        access: key.access,
        sees_clients: key.sees_clients,
    })
}

impl FromRequest for AdminKey {
    type Error = AdminAuthError;
    type Future = LocalBoxFuture<'static, Result<Self, AdminAuthError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let key = presented_key(req);
        Box::pin(authenticate(state, key))
    }
}

impl FromRequest for WriteKey {
    type Error = AdminAuthError;
    type Future = LocalBoxFuture<'static, Result<Self, AdminAuthError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let key = presented_key(req);
        Box::pin(async move {
            let key = authenticate(state, key).await?;
            key.require_write()?;
            Ok(Self(key))
        })
    }
}
