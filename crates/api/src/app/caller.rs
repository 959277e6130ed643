//! Who is calling: what the audit trail and the rate limits know of the client.

use std::net::IpAddr;

use esr_persistence::audit::ChainKey;

/// The client of a request (its address as resolved through trusted proxies, its user agent
/// and the request id), or nobody in particular for the CLI and background work.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The client's IP address (`0.0.0.0` when there is none: the CLI, a worker).
    pub ip: IpAddr,
    /// The `User-Agent`, truncated.
    pub user_agent: Option<String>,
    /// The request id (empty outside a request).
    pub request_id: String,
    /// The key of the audit chain the events this caller causes are written into (from the
    /// instance's configuration, never from the database).
    pub audit_chain: ChainKey,
}

impl Caller {
    /// The caller of work that no request started (the CLI, the delivery worker).
    pub fn internal(audit_chain: ChainKey) -> Self {
        Self {
            ip: IpAddr::from([0, 0, 0, 0]),
            user_agent: None,
            request_id: String::new(),
            audit_chain,
        }
    }

    /// The IP as text, for the audit trail.
    pub fn ip_text(&self) -> String {
        self.ip.to_string()
    }

    /// The key the per-client rate limits count under: the IPv4 address, or the /64 network
    /// of an IPv6 one. One subscriber or host is given a whole /64 (2^64 addresses), so keying
    /// on the full IPv6 address would give an attacker a fresh allowance per request.
    pub fn limit_key(&self) -> String {
        match self.ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", std::net::Ipv6Addr::from(network))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(ip: &str) -> Caller {
        Caller {
            ip: ip.parse().unwrap(),
            ..Caller::internal(ChainKey::from_bytes([7; 32]))
        }
    }

    #[test]
    fn ipv6_clients_are_limited_per_64_and_ipv4_per_address() {
        assert_eq!(caller("203.0.113.9").limit_key(), "203.0.113.9");
        assert_eq!(
            caller("2001:db8:1:2:aaaa::1").limit_key(),
            caller("2001:db8:1:2:ffff:ffff:ffff:fffe").limit_key()
        );
        assert_eq!(caller("2001:db8:1:2::1").limit_key(), "2001:db8:1:2::/64");
        assert_ne!(
            caller("2001:db8:1:2::1").limit_key(),
            caller("2001:db8:1:3::1").limit_key()
        );
    }
}
