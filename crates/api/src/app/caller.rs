//! Who is calling: what the audit trail and the rate limits know of the client.

use std::net::IpAddr;

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
}

impl Caller {
    /// The caller of work that no request started (the CLI, the delivery worker).
    pub fn internal() -> Self {
        Self {
            ip: IpAddr::from([0, 0, 0, 0]),
            user_agent: None,
            request_id: String::new(),
        }
    }

    /// The IP as text, for the audit trail and the rate-limit keys.
    pub fn ip_text(&self) -> String {
        self.ip.to_string()
    }
}
