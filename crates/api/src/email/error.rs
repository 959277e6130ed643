//! How a send fails, whichever transport made it: the delivery worker retries or gives up by
//! this alone.
//!
//! The text is logged and stored on the outbox row, where operators and the admin API read
//! it, so it carries what a failure was (status codes, the kind of fault) and never an
//! address: relays quote the recipient in their refusals (`550 5.1.1 <jane.smith@…>: User
//! unknown`).

/// Why a send failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// Worth retrying (connection refused, timeout, 4xx SMTP, 5xx/429 Notify).
    #[error("temporary: {0}")]
    Temporary(String),
    /// Will fail again (bad address, refused by policy): the message is dead at once.
    #[error("permanent: {0}")]
    Permanent(String),
}

impl SendError {
    /// An SMTP relay's refusal as its reply code and enhanced status code only (`SMTP 550
    /// 5.1.1`); a fault before any reply (connection, TLS, timeout) as lettre describes it.
    pub fn from_smtp(e: &lettre::transport::smtp::Error) -> Self {
        let text = match e.status() {
            Some(code) => {
                let reply = std::error::Error::source(e).map(ToString::to_string);
                match reply.as_deref().and_then(enhanced_status) {
                    Some(enhanced) => format!("SMTP {code} {enhanced}"),
                    None => format!("SMTP {code}"),
                }
            }
            None => without_addresses(&e.to_string()),
        };
        if e.is_permanent() {
            Self::Permanent(text)
        } else {
            Self::Temporary(text)
        }
    }
}

/// The RFC 3463 enhanced status code a reply starts with (`5.1.1`), if it has one.
fn enhanced_status(reply: &str) -> Option<&str> {
    let first = reply.split_whitespace().next()?;
    let parts: Vec<&str> = first.split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit());
    (parts.len() == 3 && parts.iter().all(numeric)).then_some(first)
}

/// `text` with every word that holds an `@` replaced, so no address can ride along in a
/// message written by someone else (a library, a relay, an HTTP service).
pub fn without_addresses(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            if word.contains('@') {
                "[address]"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enhanced_status_codes_are_recognised_and_nothing_else() {
        assert_eq!(
            enhanced_status("5.1.1 <jane.smith@example.org>: User unknown"),
            Some("5.1.1")
        );
        assert_eq!(enhanced_status("<jane.smith@example.org> unknown"), None);
        assert_eq!(enhanced_status("5.1 user"), None);
        assert_eq!(enhanced_status(""), None);
    }

    #[test]
    fn addresses_are_dropped_from_free_text() {
        assert_eq!(
            without_addresses("relay refused <jane.smith@example.org>: no such user"),
            "relay refused [address] no such user"
        );
        assert_eq!(
            without_addresses("Connection refused"),
            "Connection refused"
        );
    }
}
