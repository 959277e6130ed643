//! The client's address as the request tells it: the peer, unless the peer is a configured
//! trusted proxy, then the forwarded address that proxy vouches for; always in canonical form.

use std::net::IpAddr;

use ipnet::IpNet;

/// An address in one form whatever the listener: an IPv4 client reaching a dual-stack
/// listener arrives as `::ffff:a.b.c.d`, which would miss an IPv4 trusted-proxy range and
/// count apart from the same client reaching an IPv4 listener.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The address of one forwarded hop: a bare address, or one with a port as some proxies write
/// it (`10.0.0.5:1234`, `[2001:db8::3]:443`). Anything else is not an address.
fn hop_address(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
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
        match hop_address(hop.trim()).map(canonical) {
            Some(ip) if is_trusted(&ip) => last = ip,
            Some(ip) => return Some(ip),
            // A malformed hop: stop at the last address we could trust.
            None => return Some(last),
        }
    }
    Some(last)
}

/// Every `X-Forwarded-For` line, in order, as one list (`None` when there is none, or a line
/// is not text: then no forwarded address is believed).
pub fn forwarded_for(headers: &actix_web::http::header::HeaderMap) -> Option<String> {
    let lines: Option<Vec<&str>> = headers
        .get_all("x-forwarded-for")
        .map(|v| v.to_str().ok())
        .collect();
    lines.filter(|l| !l.is_empty()).map(|l| l.join(","))
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
    fn forwarded_addresses_with_ports_are_the_client_not_the_proxy() {
        let trusted = nets(&["10.0.0.0/8"]);
        for (hop, client) in [
            ("203.0.113.9:51234", "203.0.113.9"),
            ("[2001:db8::3]:443", "2001:db8::3"),
            ("[::ffff:198.51.100.7]:80", "198.51.100.7"),
        ] {
            assert_eq!(
                client_ip(Some(ip("10.0.0.5")), Some(hop), &trusted),
                Some(ip(client)),
                "{hop}"
            );
        }
        assert_eq!(
            client_ip(Some(ip("10.0.0.5")), Some("unknown"), &trusted),
            Some(ip("10.0.0.5")),
            "not an address: the proxy, as before"
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
