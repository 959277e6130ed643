//! Operations endpoints: liveness, readiness and metrics (no `/v1` prefix).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::problem::{AsProblem, ProblemSpec};
use crate::state::AppState;

/// Registers the operations routes.
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(live).service(ready).service(jwks);
}

/// Registers the operator listener's routes: the metrics, which never go on the public
/// listener (their counters can tell whether a recovery request matched someone), and the
/// health checks, so a scraper or an orchestrator needs this address only.
pub fn configure_operator(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.service(metrics).service(live).service(ready);
}

/// Liveness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Live {
    /// Always `ok` while the process serves requests.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up and serving HTTP.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "The process is serving requests.", body = Live)),
)]
#[get("/health/live")]
pub async fn live() -> web::Json<Live> {
    web::Json(Live { status: "ok" })
}

/// Readiness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// `ready`.
    #[schema(example = "ready")]
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    #[schema(example = "sqlite")]
    pub database: &'static str,
    /// `current` when every migration embedded in this binary is applied.
    #[schema(example = "current")]
    pub migrations: &'static str,
}

/// Why the instance is not ready.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    /// No connection or the query failed.
    #[error("database unreachable: {0}")]
    Database(String),
    /// The schema is behind this binary.
    #[error("{0} migration(s) pending")]
    Pending(usize),
}

impl AsProblem for NotReady {
    fn problem(&self) -> ProblemSpec {
        tracing::warn!(reason = %self, "not ready");
        self.spec()
    }
}
crate::problem_response!(NotReady);

impl crate::problem::ProblemCatalogue for NotReady {
    fn examples() -> Vec<ProblemSpec> {
        vec![Self::Pending(1).spec()]
    }
}

impl NotReady {
    /// The problem, without the log line.
    fn spec(&self) -> ProblemSpec {
        let detail = match self {
            Self::Database(_) => "The database is unreachable.".to_owned(),
            Self::Pending(n) => {
                format!("{n} database migration(s) are pending; run `esr-api migrate`.")
            }
        };
        ProblemSpec::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not-ready",
            "Service Unavailable",
            detail,
        )
        .with_retry_after(5)
    }
}

/// The instance can serve traffic: the database answers and its schema is current.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready for traffic.", body = Ready),
        NotReady,
    ),
)]
#[get("/health/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<web::Json<Ready>, NotReady> {
    let database = state.pool.backend().as_str();
    let pending = state
        .db(|conn| {
            conn.ping()?;
            esr_persistence::migrations::pending(conn)
        })
        .await
        .map_err(|e| NotReady::Database(e.to_string()))?;
    if !pending.is_empty() {
        return Err(NotReady::Pending(pending.len()));
    }
    Ok(web::Json(Ready {
        status: "ready",
        database,
        migrations: "current",
    }))
}

/// Prometheus metrics in the text exposition format (operator listener only).
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let (connections, idle) = state.pool.state();
    state.metrics.set_pool_state(connections, idle);
    state
        .metrics
        .set_hashing_in_flight(state.hashing.in_flight());
    let read = state
        .db(|c| {
            let outbox = esr_persistence::outbox::stats(c)?;
            Ok((outbox, esr_persistence::accounts::count_locked(c)?))
        })
        .await;
    match read {
        Ok((outbox, locked)) => {
            state.metrics.set_outbox(&outbox, chrono::Utc::now());
            state.metrics.set_accounts_locked(locked);
        }
        Err(e) => tracing::warn!(error = %e, "database figures unavailable for this scrape"),
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}

/// The public keys that verify access tokens (JWK Set, RFC 7517). Keys rotate: fetch again
/// when a token names a `kid` you do not have.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Ed25519 (OKP) public keys.", body = crate::tokens::JwkSet, content_type = "application/jwk-set+json")),
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .insert_header((
            actix_web::http::header::CACHE_CONTROL,
            "public, max-age=300",
        ))
        .json(state.tokens.jwks())
}
