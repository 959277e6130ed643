//! Who is calling, as the HTTP request tells: the client IP (the peer, unless the peer is a
//! configured trusted proxy), the user agent and the request id, extracted as a [`Caller`].

use std::future::{Ready, ready};
use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use ipnet::IpNet;

use crate::app::Caller;
use crate::request_context::RequestId;
use crate::state::AppState;

/// Longest user agent kept (the rest is cut, so a header flood cannot bloat the audit trail).
const USER_AGENT_MAX: usize = 256;

/// Resolves the client IP: the peer address, unless the peer is a trusted proxy; then the
/// rightmost `X-Forwarded-For` entry that is not itself a trusted proxy. Entries left of that
/// are client-controlled and ignored.
pub fn client_ip(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let Some(header) = forwarded_for else {
        return Some(peer);
    };
    let mut last = peer;
    for hop in header.rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if is_trusted(&ip) => last = ip,
            Ok(ip) => return Some(ip),
            // A malformed hop: stop at the last address we could trust.
            Err(_) => return Some(last),
        }
    }
    Some(last)
}

impl FromRequest for Caller {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let trusted: &[IpNet] = req
            .app_data::<web::Data<AppState>>()
            .map_or(&[], |s| s.config.trusted_proxies.as_slice());
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        let ip = client_ip(req.peer_addr().map(|a| a.ip()), forwarded, trusted)
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
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().expect("cidr")).collect()
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_the_header_says() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(Some(ip("203.0.113.9")), Some("1.2.3.4"), &trusted),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn trusted_proxy_chain_yields_the_rightmost_untrusted_hop() {
        let trusted = nets(&["10.0.0.0/8", "192.168.1.1/32"]);
        // client spoofs 6.6.6.6; real client 203.0.113.9 reached proxy 192.168.1.1, then LB 10.0.0.5
        let header = "6.6.6.6, 203.0.113.9, 192.168.1.1";
        assert_eq!(
            client_ip(Some(ip("10.0.0.5")), Some(header), &trusted),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn trusted_peer_without_header_or_with_garbage_falls_back_safely() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(Some(ip("10.0.0.5")), None, &trusted),
            Some(ip("10.0.0.5"))
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.5")), Some("not-an-ip"), &trusted),
            Some(ip("10.0.0.5"))
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.5")), Some("10.1.1.1, junk"), &trusted),
            Some(ip("10.0.0.5"))
        );
    }
}
