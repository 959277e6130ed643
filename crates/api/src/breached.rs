//! The optional breached-password check (SPEC §2): a Have I Been Pwned-compatible
//! k-anonymity range API.
//!
//! Only the first five hex digits of the password's SHA-1 leave the service
//! (`GET {base}range/ABCDE`); the answer lists the 35-digit suffixes of every breached hash
//! with that prefix and how often each was seen, padded with zero-count decoys
//! (`Add-Padding: true`) so its size does not hint at the prefix either. The match is made
//! here. The check is off by default; when the API cannot be reached in time, answers
//! something other than 200 or an unreadable body, the password is *not* refused (fail-open):
//! a third party's outage must not stop staff from setting a password. That is logged as a
//! warning and counted (`esr_security_events_total{event="breached_check.unavailable"}`).

use sha1::{Digest, Sha1};
use url::Url;

use crate::config::BreachedPasswordsConfig;

/// Bigger answers are refused: a real range answer is 20 – 40 KiB.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What a look-up found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreachOutcome {
    /// The password's hash is in the corpus, seen this many times.
    Breached(u64),
    /// Not in the corpus.
    NotFound,
    /// The API could not answer; the reason (without the password or its hash).
    Unavailable(String),
}

/// Client of the range API.
#[derive(Debug, Clone)]
pub struct BreachedPasswords {
    http: reqwest::Client,
    base: Url,
}

impl BreachedPasswords {
    /// A client with the configured base URL and timeouts.
    pub fn new(config: &BreachedPasswordsConfig) -> reqwest::Result<Self> {
        let http = crate::outbound::client_builder(config.timeout).build()?;
        Ok(Self {
            http,
            base: config.base_url.clone(),
        })
    }

    /// Looks up a password (its NFKC-normalised form, exactly what would be hashed).
    pub async fn check(&self, normalised_password: &str) -> BreachOutcome {
        let hex = sha1_hex_upper(normalised_password);
        let (prefix, suffix) = hex.split_at(5);
        let url = match self.base.join(&format!("range/{prefix}")) {
            Ok(url) => url,
            Err(e) => return BreachOutcome::Unavailable(format!("bad URL: {e}")),
        };
        let response = match self
            .http
            .get(url)
            .header("Add-Padding", "true")
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return BreachOutcome::Unavailable(describe(e)),
        };
        if response.status() != reqwest::StatusCode::OK {
            return BreachOutcome::Unavailable(format!("answered {}", response.status()));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY_BYTES as u64)
        {
            return BreachOutcome::Unavailable("answer too large".into());
        }
        let body = match response.bytes().await {
            Ok(b) if b.len() <= MAX_BODY_BYTES => b,
            Ok(_) => return BreachOutcome::Unavailable("answer too large".into()),
            Err(e) => return BreachOutcome::Unavailable(describe(e)),
        };
        let Ok(text) = std::str::from_utf8(&body) else {
            return BreachOutcome::Unavailable("answer is not text".into());
        };
        find_suffix(text, suffix)
    }
}

/// The count of `suffix` in a range answer (`SUFFIX:COUNT` lines); padding lines have count 0.
fn find_suffix(text: &str, suffix: &str) -> BreachOutcome {
    for line in text.lines() {
        let Some((candidate, count)) = line.trim().split_once(':') else {
            continue;
        };
        if candidate.trim().eq_ignore_ascii_case(suffix) {
            return match count.trim().parse::<u64>() {
                Ok(0) => BreachOutcome::NotFound,
                Ok(n) => BreachOutcome::Breached(n),
                Err(_) => BreachOutcome::Unavailable("unreadable count".into()),
            };
        }
    }
    BreachOutcome::NotFound
}

fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        // Without the URL: it carries the hash prefix.
        e.without_url().to_string()
    }
}

/// Upper-case hex SHA-1, the corpus's notation.
pub fn sha1_hex_upper(text: &str) -> String {
    esr_domain::hex_lower(&Sha1::digest(text.as_bytes())).to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_matches_the_corpus_notation() {
        // SHA-1("password"), the corpus's best-known entry.
        assert_eq!(
            sha1_hex_upper("password"),
            "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8"
        );
    }

    #[test]
    fn range_answers_are_matched_on_the_suffix_only() {
        let text = "0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n\
                    1E4C9B93F3F0682250B6CF8331B7EE68FD8:9545824\r\n\
                    011053FD0102E94D6AE2F8B83D76FAF94F6:0\r\n";
        assert_eq!(
            find_suffix(text, "1E4C9B93F3F0682250B6CF8331B7EE68FD8"),
            BreachOutcome::Breached(9_545_824)
        );
        assert_eq!(
            find_suffix(text, "1e4c9b93f3f0682250b6cf8331b7ee68fd8"),
            BreachOutcome::Breached(9_545_824)
        );
        // A padding line (count 0) is not a breach.
        assert_eq!(
            find_suffix(text, "011053FD0102E94D6AE2F8B83D76FAF94F6"),
            BreachOutcome::NotFound
        );
        assert_eq!(
            find_suffix(text, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"),
            BreachOutcome::NotFound
        );
        assert!(matches!(
            find_suffix(
                "1E4C9B93F3F0682250B6CF8331B7EE68FD8:lots",
                "1E4C9B93F3F0682250B6CF8331B7EE68FD8"
            ),
            BreachOutcome::Unavailable(_)
        ));
    }
}
