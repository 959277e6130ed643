use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Coded;

/// An ESR organisation code: exactly 3 ASCII letters or digits, canonical upper case
/// (e.g. `241`, `999`). Every username starts with one.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrganisationCode(String);

/// Why a string is not an organisation code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrganisationCodeError {
    /// Not exactly 3 ASCII letters or digits.
    #[error("organisation code must be 3 letters or digits")]
    Invalid,
}

impl Coded for OrganisationCodeError {
    fn code(&self) -> &'static str {
        "invalid-organisation-code"
    }

    fn message(&self) -> String {
        "Organisation code must be 3 letters or digits, for example 241".to_owned()
    }
}

impl OrganisationCode {
    /// Parses a code; surrounding whitespace is ignored and letters are upper-cased.
    pub fn parse(input: &str) -> Result<Self, OrganisationCodeError> {
        let trimmed = input.trim();
        if trimmed.len() == 3 && trimmed.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(trimmed.to_ascii_uppercase()))
        } else {
            Err(OrganisationCodeError::Invalid)
        }
    }

    /// The canonical (upper-case) code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrganisationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for OrganisationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrganisationCode({})", self.0)
    }
}

impl AsRef<str> for OrganisationCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OrganisationCode {
    type Error = OrganisationCodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<OrganisationCode> for String {
    fn from(value: OrganisationCode) -> Self {
        value.0
    }
}

impl std::str::FromStr for OrganisationCode {
    type Err = OrganisationCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_digits_and_letters_and_upper_cases() {
        assert_eq!(OrganisationCode::parse("241").unwrap().as_str(), "241");
        assert_eq!(OrganisationCode::parse(" 999 ").unwrap().as_str(), "999");
        assert_eq!(OrganisationCode::parse("r0a").unwrap().as_str(), "R0A");
    }

    #[test]
    fn refuses_wrong_length_or_characters() {
        for bad in ["", "24", "2411", "24-", "2 4", "٢٤١", "ÄBC", "24\u{0}"] {
            let err = OrganisationCode::parse(bad).unwrap_err();
            assert_eq!(err.code(), "invalid-organisation-code", "{bad:?}");
        }
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let code: OrganisationCode = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"ABC\"");
        assert!(serde_json::from_str::<OrganisationCode>("\"ab\"").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(s in ".*") {
            if let Ok(code) = OrganisationCode::parse(&s) {
                prop_assert_eq!(OrganisationCode::parse(code.as_str()).unwrap(), code.clone());
                prop_assert_eq!(code.as_str().len(), 3);
            }
        }

        #[test]
        fn any_three_alphanumerics_parse(s in "[A-Za-z0-9]{3}") {
            let code = OrganisationCode::parse(&s).unwrap();
            prop_assert_eq!(code.as_str(), s.to_ascii_uppercase());
        }
    }
}
