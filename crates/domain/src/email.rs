use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Coded;

/// Longest email address accepted (RFC 5321 path limit less the angle brackets).
pub const MAX_EMAIL_LENGTH: usize = 254;
const MAX_LOCAL_PART_LENGTH: usize = 64;
const MAX_LABEL_LENGTH: usize = 63;

/// A work email address, trimmed and lower-cased.
///
/// Choice: the whole address is lower-cased and that single form is stored, compared and
/// used for sending. Strictly the local part is case-sensitive (RFC 5321), but NHSmail and
/// every mainstream provider treat it case-insensitively, and one canonical form means the
/// recovery form matches whatever case the staff record or the person used.
///
/// Syntax accepted: a dot-atom local part (letters, digits and ``!#$%&'*+/=?^_`{|}~-``,
/// dots not first, last or doubled; no quoted strings), `@`, and a domain of at least two
/// dot-separated labels of letters, digits and inner hyphens with a non-numeric top label.
/// ASCII only: international domains must be given in their `xn--` form.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WorkEmail(String);

/// Why a string is not an acceptable work email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Nothing was entered.
    #[error("email address is empty")]
    Empty,
    /// Longer than 254 characters.
    #[error("email address is too long")]
    TooLong,
    /// Not a plausible address.
    #[error("email address is not valid")]
    Malformed,
}

impl Coded for EmailError {
    fn code(&self) -> &'static str {
        match self {
            Self::Empty => "email-required",
            Self::TooLong => "email-too-long",
            Self::Malformed => "invalid-email",
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Empty => "Enter your work email address (Example: first.last@domain.com)",
            Self::TooLong => "Email address must be 254 characters or fewer",
            Self::Malformed => "Enter a valid work email address (Example: first.last@domain.com)",
        }
        .to_owned()
    }
}

impl WorkEmail {
    /// Parses an address: trimmed, checked, lower-cased.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.chars().count() > MAX_EMAIL_LENGTH {
            return Err(EmailError::TooLong);
        }
        let lower = trimmed.to_ascii_lowercase();
        let (local, domain) = lower.rsplit_once('@').ok_or(EmailError::Malformed)?;
        if valid_local_part(local) && valid_domain(domain) {
            Ok(Self(lower))
        } else {
            Err(EmailError::Malformed)
        }
    }

    /// The canonical (lower-case) address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(local, _)| local)
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

fn valid_local_part(local: &str) -> bool {
    const SPECIALS: &[u8] = b"!#$%&'*+/=?^_`{|}~-";
    !local.is_empty()
        && local.len() <= MAX_LOCAL_PART_LENGTH
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || SPECIALS.contains(&b))
        })
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= MAX_LABEL_LENGTH
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && labels
            .last()
            .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
}

impl fmt::Display for WorkEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for WorkEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WorkEmail({})", self.0)
    }
}

impl AsRef<str> for WorkEmail {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for WorkEmail {
    type Error = EmailError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<WorkEmail> for String {
    fn from(value: WorkEmail) -> Self {
        value.0
    }
}

impl std::str::FromStr for WorkEmail {
    type Err = EmailError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_work_addresses_and_lower_cases() {
        let e = WorkEmail::parse("  First.Last@Domain.com ").unwrap();
        assert_eq!(e.as_str(), "first.last@domain.com");
        assert_eq!(e.local_part(), "first.last");
        assert_eq!(e.domain(), "domain.com");
        for ok in [
            "john.smith@example.net",
            "j_smith-2+esr@boltonft.example.org",
            "o'brien@example.net",
            "a@b.co",
            "x@xn--bcher-kva.example",
        ] {
            assert!(WorkEmail::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            WorkEmail::parse("JOHN.SMITH@EXAMPLE.NET").unwrap(),
            WorkEmail::parse("john.smith@example.net").unwrap()
        );
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "john.smith",
            "@example.net",
            "john@",
            "john@nhs",
            "john@@example.net",
            "john@nhs..net",
            ".john@example.net",
            "john.@example.net",
            "jo..hn@example.net",
            "john smith@example.net",
            "john@-example.net",
            "john@nhs-.net",
            "john@nhs.123",
            "jöhn@example.net",
            "john@example.net\n",
            "\"john\"@example.net",
            "john@example.net.",
        ] {
            let err = WorkEmail::parse(bad);
            // A trailing newline is trimmed, so that one is valid.
            if bad == "john@example.net\n" {
                assert!(err.is_ok());
                continue;
            }
            assert_eq!(err.unwrap_err(), EmailError::Malformed, "{bad:?}");
        }
        assert_eq!(EmailError::Malformed.code(), "invalid-email");
    }

    #[test]
    fn empty_and_too_long() {
        assert_eq!(WorkEmail::parse(" \t").unwrap_err(), EmailError::Empty);
        let long = format!("{}@{}.com", "a".repeat(64), "b".repeat(186));
        assert_eq!(long.len(), 255);
        assert_eq!(WorkEmail::parse(&long).unwrap_err(), EmailError::TooLong);
        let local_too_long = format!("{}@example.net", "a".repeat(65));
        assert_eq!(
            WorkEmail::parse(&local_too_long).unwrap_err(),
            EmailError::Malformed
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(s in ".{0,300}") {
            if let Ok(e) = WorkEmail::parse(&s) {
                prop_assert_eq!(WorkEmail::parse(e.as_str()).unwrap(), e.clone());
                prop_assert!(e.as_str().len() <= MAX_EMAIL_LENGTH);
            }
        }

        #[test]
        fn plausible_addresses_parse(
            local in "[a-zA-Z0-9_+-]{1,20}(\\.[a-zA-Z0-9_+-]{1,10}){0,2}",
            domain in "[a-z0-9]{1,10}(\\.[a-z]{2,6}){1,3}",
        ) {
            let addr = format!("{local}@{domain}");
            let e = WorkEmail::parse(&addr).unwrap();
            prop_assert_eq!(e.as_str(), addr.to_ascii_lowercase());
        }
    }
}
