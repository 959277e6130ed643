//! Who is calling, as the HTTP request tells: the client IP (see [`crate::client_address`]),
//! the user agent and the request id, extracted as a [`Caller`].

use std::future::{Ready, ready};
use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use crate::app::Caller;
use crate::client_address::{client_ip, forwarded_for};
use crate::request_context::RequestId;
use crate::state::AppState;

/// Longest user agent kept (the rest is cut, so a header flood cannot bloat the audit trail).
const USER_AGENT_MAX: usize = 256;

impl FromRequest for Caller {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>() else {
            return ready(Err(actix_web::error::ErrorInternalServerError(
                "the application state is not registered",
            )));
        };
        let trusted = state.config.trusted_proxies.as_slice();
        let forwarded = forwarded_for(req.headers());
        let ip = client_ip(
            req.peer_addr().map(|a| a.ip()),
            forwarded.as_deref(),
            trusted,
        )
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let user_agent = req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(USER_AGENT_MAX).collect());
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map_or_else(String::new, |id| id.as_str().to_owned());
        ready(Ok(Self {
            ip,
            user_agent,
            request_id,
            audit_chain: state.config.audit_chain.clone(),
        }))
    }
}
