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

/// An address in one form whatever the listener: an IPv4 client reaching a dual-stack
/// listener arrives as `::ffff:a.b.c.d`, which would miss an IPv4 trusted-proxy range and
/// count apart from the same client reaching an IPv4 listener.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Whether `peer` is one of the trusted proxies.
pub fn is_trusted_proxy(peer: Option<IpAddr>, trusted: &[IpNet]) -> bool {
    peer.map(canonical)
        .is_some_and(|ip| trusted.iter().any(|net| net.contains(&ip)))
}

/// Resolves the client IP: the peer address, unless the peer is a trusted proxy; then the
/// rightmost `X-Forwarded-For` entry that is not itself a trusted proxy. Entries left of that
/// are client-controlled and ignored. `forwarded_for` is every `X-Forwarded-For` line joined
/// with commas (RFC 9110 §5.3: several lines are one list), so a client cannot hide its own
/// address from the walk by sending a second line.
pub fn client_ip(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = canonical(peer?);
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let Some(header) = forwarded_for else {
        return Some(peer);
    };
    let mut last = peer;
    for hop in header.rsplit(',') {
        match hop.trim().parse::<IpAddr>().map(canonical) {
            Ok(ip) if is_trusted(&ip) => last = ip,
            Ok(ip) => return Some(ip),
            // A malformed hop: stop at the last address we could trust.
            Err(_) => return Some(last),
        }
    }
    Some(last)
}

/// Every `X-Forwarded-For` line, in order, as one list (`None` when there is none, or a line
/// is not text: then no forwarded address is believed).
fn forwarded_for(headers: &actix_web::http::header::HeaderMap) -> Option<String> {
    let lines: Option<Vec<&str>> = headers
        .get_all("x-forwarded-for")
        .map(|v| v.to_str().ok())
        .collect();
    lines.filter(|l| !l.is_empty()).map(|l| l.join(","))
}

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
            audit_chain: state.config.audit_digest_key.chain_key(),
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
    fn ipv4_mapped_addresses_are_canonical_for_trust_and_for_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        // An IPv4 proxy seen through a dual-stack listener is still the trusted proxy.
        assert_eq!(
            client_ip(Some(ip("::ffff:10.0.0.5")), Some("203.0.113.9"), &trusted),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_ip(Some(ip("::ffff:203.0.113.9")), None, &trusted),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.5")), Some("::ffff:198.51.100.7"), &trusted),
            Some(ip("198.51.100.7"))
        );
    }

    #[test]
    fn every_forwarded_line_is_read() {
        let mut headers = actix_web::http::header::HeaderMap::new();
        let name = actix_web::http::header::HeaderName::from_static("x-forwarded-for");
        headers.append(name.clone(), "6.6.6.6".parse().unwrap());
        headers.append(name, "203.0.113.9".parse().unwrap());
        let joined = forwarded_for(&headers).unwrap();
        assert_eq!(joined, "6.6.6.6,203.0.113.9");
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(Some(ip("10.0.0.5")), Some(&joined), &trusted),
            Some(ip("203.0.113.9")),
            "the proxy's appended line is the one that counts"
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
