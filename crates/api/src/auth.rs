//! The bearer-token extractor: a request with a valid access token of a live session.

use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::{DateTime, Utc};
use esr_persistence::sessions::{self, Session};
use futures_util::future::LocalBoxFuture;

use crate::problem::{AsProblem, ProblemCatalogue, ProblemSpec};
use crate::state::{AppState, StorageError};
use crate::tokens::{AccessClaims, TokenRejection};

/// An authenticated request: verified access-token claims and the live session they name.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The verified claims (`sub` is the account id, `sid` the session id).
    pub claims: AccessClaims,
    /// The session, active at the time of the request.
    pub session: Session,
}

/// Why a request is not authenticated.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer …` header.
    #[error("no bearer token")]
    Missing,
    /// The token does not verify.
    #[error("invalid access token: {}", .0.reason())]
    Invalid(TokenRejection),
    /// The token verifies but its session was revoked or has ended (why, when known).
    #[error("session ended")]
    SessionEnded(Option<&'static str>),
    /// The session may only enrol a second factor (its organisation requires one and the
    /// account has none yet).
    #[error("second factor enrolment required")]
    EnrolmentRequired,
    /// The session could not be looked up.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

const CHALLENGE: &str = "Bearer realm=\"esr-access\"";
const CHALLENGE_INVALID: &str = "Bearer realm=\"esr-access\", error=\"invalid_token\"";

impl AsProblem for AuthError {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::Missing => ProblemSpec::from_catalogue(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "problem-unauthenticated",
                Vec::new(),
            )
            .with_www_authenticate(CHALLENGE),
            Self::Invalid(_) | Self::SessionEnded(_) => {
                tracing::info!(reason = %self, "access token refused");
                let ended = match self {
                    Self::SessionEnded(why) => *why,
                    _ => None,
                };
                invalid_token_problem(ended)
            }
            Self::EnrolmentRequired => ProblemSpec::from_catalogue(
                StatusCode::FORBIDDEN,
                "mfa-enrolment-required",
                "problem-mfa-enrolment-required",
                Vec::new(),
            ),
            Self::Storage(e) => e.problem(),
        }
    }
}
crate::problem_response!(AuthError);

impl ProblemCatalogue for AuthError {
    fn examples() -> Vec<ProblemSpec> {
        let mut examples = vec![
            Self::Missing.problem(),
            invalid_token_problem(Some("password_changed")),
            Self::EnrolmentRequired.problem(),
        ];
        examples.extend(StorageError::examples());
        examples
    }
}

/// The `401 invalid-token` problem, saying why the session ended when known.
pub(crate) fn invalid_token_problem(ended: Option<&'static str>) -> ProblemSpec {
    ProblemSpec::from_catalogue(
        StatusCode::UNAUTHORIZED,
        "invalid-token",
        "problem-invalid-token",
        Vec::new(),
    )
    .with_www_authenticate(CHALLENGE_INVALID)
    .with_session_ended(ended)
}

/// Reloads verification keys from the database at most this often (an unknown `kid` may be a
/// key another instance just registered).
const KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(10);

async fn reload_keys(state: &AppState) -> bool {
    {
        let Ok(mut last) = state.keys_reloaded.lock() else {
            return false;
        };
        if last.elapsed() < KEY_RELOAD_INTERVAL {
            return false;
        }
        *last = Instant::now();
    }
    let grace = state.config.access_token_ttl;
    match state
        .db(move |c| {
            crate::keys::verification_keys(c, Utc::now(), grace)
                .map_err(|e| esr_persistence::RepoError::Corrupt(e.to_string()))
        })
        .await
    {
        Ok(keys) => {
            state.tokens.replace_verification_keys(keys);
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot reload verification keys");
            false
        }
    }
}

/// The token of an `Authorization: Bearer …` header.
fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// A request whose bearer token verifies (signature, algorithm, issuer, audience, times), its
/// session not yet looked up. Routes that read the session together with other rows in one
/// query take this and finish with [`AccessToken::with_session`]; the rest take
/// [`Authenticated`].
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The verified claims.
    pub claims: AccessClaims,
    /// When the token was verified; the session must be active at this instant.
    pub verified_at: DateTime<Utc>,
}

impl AccessToken {
    /// Completes authentication with the session the token names (`None` when it does not
    /// exist): refused unless the session is active, belongs to the token's account and is
    /// not limited to enrolling a second factor.
    pub fn with_session(self, session: Option<Session>) -> Result<Authenticated, AuthError> {
        let auth = self.with_any_session(session)?;
        if auth.session.enrolment_only {
            return Err(AuthError::EnrolmentRequired);
        }
        Ok(auth)
    }

    /// Like [`AccessToken::with_session`], but a session limited to enrolment is accepted:
    /// for the routes such a session exists for (the profile, factors, sessions, logout).
    pub fn with_any_session(self, session: Option<Session>) -> Result<Authenticated, AuthError> {
        match session {
            Some(session) if session.account_id.as_str() != self.claims.sub => {
                Err(AuthError::SessionEnded(None))
            }
            Some(session) if session.is_active(self.verified_at) => Ok(Authenticated {
                claims: self.claims,
                session,
            }),
            Some(session) => Err(AuthError::SessionEnded(
                session.end_reason(self.verified_at),
            )),
            None => Err(AuthError::SessionEnded(None)),
        }
    }
}

impl FromRequest for AccessToken {
    type Error = AuthError;
    type Future = LocalBoxFuture<'static, Result<Self, AuthError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let token = token.ok_or(AuthError::Missing)?;
            let state = state.ok_or(AuthError::Missing)?;
            let now = Utc::now();
            let claims = match state.tokens.verify(&token, now) {
                Ok(claims) => claims,
                Err(TokenRejection::UnknownKey) if reload_keys(&state).await => state
                    .tokens
                    .verify(&token, now)
                    .map_err(AuthError::Invalid)?,
                Err(e) => return Err(AuthError::Invalid(e)),
            };
            Ok(Self {
                claims,
                verified_at: now,
            })
        })
    }
}

/// Reads the session the access token names.
async fn session_of(
    state: Option<web::Data<AppState>>,
    token: &AccessToken,
) -> Result<Option<Session>, AuthError> {
    let state = state.ok_or(AuthError::Missing)?;
    let sid = esr_domain::SessionId::from_stored(token.claims.sid.clone());
    Ok(state.db(move |c| sessions::find(c, &sid)).await?)
}

impl FromRequest for Authenticated {
    type Error = AuthError;
    type Future = LocalBoxFuture<'static, Result<Self, AuthError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = AccessToken::from_request(req, payload);
        Box::pin(async move {
            let token = token.await?;
            let session = session_of(state, &token).await?;
            token.with_session(session)
        })
    }
}

/// An authenticated request whose session may be limited to enrolling a second factor: the
/// routes that such a session exists for take this instead of [`Authenticated`].
#[derive(Debug, Clone)]
pub struct AnySession(pub Authenticated);

impl FromRequest for AnySession {
    type Error = AuthError;
    type Future = LocalBoxFuture<'static, Result<Self, AuthError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = AccessToken::from_request(req, payload);
        Box::pin(async move {
            let token = token.await?;
            let session = session_of(state, &token).await?;
            token.with_any_session(session).map(Self)
        })
    }
}
