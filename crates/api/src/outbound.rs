//! The HTTP clients this service calls out with (the identity provider, GOV.UK Notify, the
//! breached-password range API), built one way.
//!
//! Redirects are never followed: a redirect would carry the request, with its bearer token or
//! client assertion, to a host nobody configured, and maybe over plain HTTP. Every call has a
//! connect and a total timeout, so a slow service holds up only its own caller.

use std::time::Duration;

/// A client builder with this service's rules; callers add what is theirs (`https_only`, pool
/// settings) and build it.
pub fn client_builder(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(timeout)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("esr-access/", env!("CARGO_PKG_VERSION")))
}

/// Whether `url` may carry credentials: `https`, or plain `http` to this machine (a local test
/// double or sidecar), never plain `http` across a network.
pub fn carries_credentials_safely(url: &url::Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(url::Host::Domain(name)) => name == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_go_over_https_or_stay_on_this_machine() {
        for (url, safe) in [
            ("https://api.notifications.service.gov.uk/", true),
            ("http://api.notifications.service.gov.uk/", false),
            ("http://127.0.0.1:9000/", true),
            ("http://[::1]:9000/", true),
            ("http://localhost:9000/", true),
            ("http://10.0.0.5/", false),
            ("ftp://example.org/", false),
        ] {
            let url = url::Url::parse(url).unwrap();
            assert_eq!(carries_credentials_safely(&url), safe, "{url}");
        }
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut request = [0u8; 1024];
                let _ = stream.read(&mut request);
                let _ = stream.write_all(
                    b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://evil.example/steal\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        let client = client_builder(Duration::from_secs(5)).build().unwrap();
        let res = client
            .post(format!("http://{address}/v2/notifications/email"))
            .bearer_auth("secret")
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            307,
            "the redirect is the answer, not followed"
        );
    }
}
