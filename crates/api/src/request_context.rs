//! Per-request context: the request id (`X-Request-Id`), the tracing span every log line of
//! the request carries, the access log line, and the HTTP metrics.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use tracing::Instrument;

use crate::state::AppState;

/// The request id header, accepted from a trusted front end when well formed, else generated.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request.
#[derive(Debug, Clone)]
pub struct RequestId(String);

impl RequestId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Uses the incoming id when a trusted proxy sent it and it is short and plain (so it is
    /// safe in logs), else a new UUID. From anyone else it is ignored: a client choosing the
    /// id of its requests could make its audit rows and log lines collide with someone else's.
    fn from_request(req: &ServiceRequest) -> Self {
        let trusted = req.app_data::<web::Data<AppState>>().is_some_and(|s| {
            crate::client_address::is_trusted_proxy(
                req.peer_addr().map(|a| a.ip()),
                &s.config.trusted_proxies,
            )
        });
        let incoming = req
            .headers()
            .get(&X_REQUEST_ID)
            .filter(|_| trusted)
            .and_then(|v| v.to_str().ok())
            .filter(|v| {
                (8..=64).contains(&v.len())
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
            });
        Self(incoming.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned))
    }
}

/// Routes that load balancers and scrapers call constantly: logged at debug, not info.
fn is_quiet(route: &str) -> bool {
    route.starts_with("/health/") || route == "/metrics"
}

/// Middleware: request id, span, access log and metrics. Outermost, so it sees the final status.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let id = RequestId::from_request(&req);
    req.extensions_mut().insert(id.clone());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().clone();
    let span = tracing::info_span!("request", request_id = %id.as_str(), method = %method, route = tracing::field::Empty);

    let res = match next.call(req).instrument(span.clone()).await {
        Ok(res) => res.map_into_boxed_body(),
        Err(e) => {
            // Only a failing middleware lands here; the problem renderer already shaped it.
            let mut response = e.error_response();
            if let Some(state) = &state {
                let status = response.status().as_u16();
                state.metrics.observe_request(
                    method.as_str(),
                    "unmatched",
                    status,
                    started.elapsed(),
                );
            }
            if let Ok(value) = HeaderValue::from_str(id.as_str()) {
                response.headers_mut().insert(X_REQUEST_ID.clone(), value);
            }
            return Err(
                actix_web::error::InternalError::from_response(e.to_string(), response).into(),
            );
        }
    };

    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    span.record("route", route.as_str());
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    if let Some(state) = &state {
        state
            .metrics
            .observe_request(method.as_str(), &route, status, elapsed);
    }
    let _entered = span.enter();
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::error!(status, latency_ms, "request failed");
    } else if is_quiet(&route) {
        tracing::debug!(status, latency_ms, "request completed");
    } else {
        tracing::info!(status, latency_ms, "request completed");
    }
    drop(_entered);

    let mut res = res;
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        res.headers_mut().insert(X_REQUEST_ID.clone(), value);
    }
    Ok(res)
}

/// The language a request asks for in `Accept-Language` (see [`crate::i18n::negotiate`]), for
/// handlers whose answers carry words.
impl actix_web::FromRequest for crate::i18n::Language {
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let header = req
            .headers()
            .get(actix_web::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        std::future::ready(Ok(crate::i18n::negotiate(header)))
    }
}
