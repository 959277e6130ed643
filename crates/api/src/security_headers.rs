//! Response headers that protect browsers, beyond the ones every answer carries: a
//! Content-Security-Policy for whatever sets none of its own, frame protection, and HSTS when
//! the service is reached over TLS.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use crate::state::AppState;

/// JSON answers and the dev provider's plain page load nothing and are framed by nobody.
const DEFAULT_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Swagger UI: its own scripts and styles only (it sets styles inline, and draws icons as
/// `data:` images), requests to this service only ("Try it out"), never framed.
const SWAGGER_UI_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// A year, the preload list's minimum; the service's own host only (other hosts of the
/// domain are not ours to pin).
const HSTS: &str = "max-age=31536000";

/// Middleware: adds the headers a response has not set itself.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let swagger_ui = req.path().starts_with("/swagger-ui");
    // Only when the public address is https: HSTS over plain http is ignored by browsers, and
    // in dev it would pin localhost to https for a year.
    let over_tls = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.config.public_base_url.scheme() == "https");
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    let csp = if swagger_ui {
        SWAGGER_UI_CSP
    } else {
        DEFAULT_CSP
    };
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        );
    }
    if !headers.contains_key(header::X_FRAME_OPTIONS) {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if over_tls {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    Ok(res)
}
