use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::Coded;

const MAX_NAME_CHARS: usize = 100;
const MAX_EMPLOYEE_NUMBER_LENGTH: usize = 30;

/// A first name or surname: trimmed, NFC-normalised, 1 to 100 characters (code points),
/// no control characters and no [`hides_text`] characters. Any script is accepted; usernames fold it to ASCII separately.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

/// Why a string is not an acceptable name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonNameError {
    /// Nothing but whitespace.
    #[error("name is empty")]
    Empty,
    /// More than 100 characters.
    #[error("name is too long")]
    TooLong,
    /// Contains control characters (tabs, newlines, NUL…) or characters that reorder or hide
    /// text (bidi overrides, zero-width spaces).
    #[error("name contains control or invisible characters")]
    InvalidCharacters,
}

impl Coded for PersonNameError {
    fn code(&self) -> &'static str {
        match self {
            Self::Empty => "name-required",
            Self::TooLong => "name-too-long",
            Self::InvalidCharacters => "invalid-name",
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Empty => "Enter a name".to_owned(),
            Self::TooLong => format!("Name must be {MAX_NAME_CHARS} characters or fewer"),
            Self::InvalidCharacters => {
                "Name must not contain tabs, line breaks, or invisible or text-direction characters"
                    .to_owned()
            }
        }
    }
}

impl PersonName {
    /// Parses a name: trimmed and NFC-normalised, then checked.
    pub fn parse(input: &str) -> Result<Self, PersonNameError> {
        let composed: String = input.nfc().collect();
        let normalised = composed.trim();
        if normalised.is_empty() {
            return Err(PersonNameError::Empty);
        }
        if normalised.chars().any(|c| c.is_control() || hides_text(c)) {
            return Err(PersonNameError::InvalidCharacters);
        }
        if normalised.chars().count() > MAX_NAME_CHARS {
            return Err(PersonNameError::TooLong);
        }
        Ok(Self(normalised.to_owned()))
    }

    /// The name as entered (trimmed, NFC).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonName({:?})", self.0)
    }
}

impl AsRef<str> for PersonName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PersonName {
    type Error = PersonNameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PersonName> for String {
    fn from(value: PersonName) -> Self {
        value.0
    }
}

/// Whether `c` can make displayed text say something other than what it holds: the
/// bidirectional controls (U+202E turns `Jane\u{202E}gnp.exe` into `Janeexe.png` in an email
/// or an admin screen), invisible spaces and joiners that are not needed by any script
/// (zero-width space, word joiner, byte-order mark) and the line and paragraph separators.
/// The zero-width (non-)joiners U+200C/U+200D are kept: Persian, Arabic and Indic names need
/// them.
pub fn hides_text(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// An employee (assignment) number from the staff record: 1 to 30 of `A-Z a-z 0-9 -`,
/// trimmed, case kept as given (it is an identifier owned by the source system).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmployeeNumber(String);

/// Why a string is not an acceptable employee number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmployeeNumberError {
    /// Nothing but whitespace.
    #[error("employee number is empty")]
    Empty,
    /// More than 30 characters.
    #[error("employee number is too long")]
    TooLong,
    /// Characters other than letters, digits and hyphens.
    #[error("employee number contains invalid characters")]
    InvalidCharacters,
}

impl Coded for EmployeeNumberError {
    fn code(&self) -> &'static str {
        match self {
            Self::Empty => "employee-number-required",
            Self::TooLong => "employee-number-too-long",
            Self::InvalidCharacters => "invalid-employee-number",
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Empty => "Enter an employee number".to_owned(),
            Self::TooLong => {
                format!("Employee number must be {MAX_EMPLOYEE_NUMBER_LENGTH} characters or fewer")
            }
            Self::InvalidCharacters => {
                "Employee number must contain only letters, digits and hyphens".to_owned()
            }
        }
    }
}

impl EmployeeNumber {
    /// Parses an employee number (trimmed).
    pub fn parse(input: &str) -> Result<Self, EmployeeNumberError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(EmployeeNumberError::Empty);
        }
        if !trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(EmployeeNumberError::InvalidCharacters);
        }
        if trimmed.len() > MAX_EMPLOYEE_NUMBER_LENGTH {
            return Err(EmployeeNumberError::TooLong);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The number as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmployeeNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EmployeeNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmployeeNumber({})", self.0)
    }
}

impl AsRef<str> for EmployeeNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EmployeeNumber {
    type Error = EmployeeNumberError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EmployeeNumber> for String {
    fn from(value: EmployeeNumber) -> Self {
        value.0
    }
}

const MAX_SMARTCARD_SUBJECT_LENGTH: usize = 64;

/// The subject of a person's NHS smartcard identity (the CIS2 `uid` claim, a 12-digit
/// number in practice): 1 to 64 printable ASCII characters without spaces, trimmed.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SmartcardSubject(String);

/// Why a string is not an acceptable smartcard subject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmartcardSubjectError {
    /// Nothing but whitespace.
    #[error("smartcard subject is empty")]
    Empty,
    /// More than 64 characters.
    #[error("smartcard subject is too long")]
    TooLong,
    /// Spaces, control or non-ASCII characters.
    #[error("smartcard subject contains invalid characters")]
    InvalidCharacters,
}

impl Coded for SmartcardSubjectError {
    fn code(&self) -> &'static str {
        match self {
            Self::Empty => "smartcard-subject-required",
            Self::TooLong => "smartcard-subject-too-long",
            Self::InvalidCharacters => "invalid-smartcard-subject",
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Empty => "Enter the smartcard subject (the CIS2 uid)".to_owned(),
            Self::TooLong => format!(
                "Smartcard subject must be {MAX_SMARTCARD_SUBJECT_LENGTH} characters or fewer"
            ),
            Self::InvalidCharacters => {
                "Smartcard subject must contain only printable ASCII characters without spaces"
                    .to_owned()
            }
        }
    }
}

impl SmartcardSubject {
    /// Parses a subject (trimmed).
    pub fn parse(input: &str) -> Result<Self, SmartcardSubjectError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(SmartcardSubjectError::Empty);
        }
        if !trimmed.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(SmartcardSubjectError::InvalidCharacters);
        }
        if trimmed.len() > MAX_SMARTCARD_SUBJECT_LENGTH {
            return Err(SmartcardSubjectError::TooLong);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The subject as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SmartcardSubject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SmartcardSubject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmartcardSubject({})", self.0)
    }
}

impl TryFrom<String> for SmartcardSubject {
    type Error = SmartcardSubjectError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<SmartcardSubject> for String {
    fn from(value: SmartcardSubject) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names() {
        assert_eq!(PersonName::parse("  Zoë ").unwrap().as_str(), "Zoë");
        // Decomposed input is stored composed, so equal names compare equal.
        assert_eq!(
            PersonName::parse("Zoe\u{308}").unwrap(),
            PersonName::parse("Zo\u{eb}").unwrap()
        );
        assert_eq!(
            PersonName::parse("O'Brien-Núñez").unwrap().to_string(),
            "O'Brien-Núñez"
        );
        assert_eq!(PersonName::parse(" ").unwrap_err(), PersonNameError::Empty);
        assert_eq!(
            PersonName::parse("Jo\nhn").unwrap_err(),
            PersonNameError::InvalidCharacters
        );
        assert_eq!(
            PersonName::parse(&"é".repeat(101)).unwrap_err(),
            PersonNameError::TooLong
        );
        assert!(PersonName::parse(&"é".repeat(100)).is_ok());
        assert_eq!(PersonNameError::TooLong.code(), "name-too-long");
    }

    #[test]
    fn employee_numbers() {
        assert_eq!(
            EmployeeNumber::parse(" 12345678-2 ").unwrap().as_str(),
            "12345678-2"
        );
        assert!(EmployeeNumber::parse(&"9".repeat(30)).is_ok());
        assert_eq!(
            EmployeeNumber::parse(&"9".repeat(31)).unwrap_err(),
            EmployeeNumberError::TooLong
        );
        assert_eq!(
            EmployeeNumber::parse("").unwrap_err(),
            EmployeeNumberError::Empty
        );
        for bad in ["12 34", "12_34", "١٢٣", "12/34"] {
            assert_eq!(
                EmployeeNumber::parse(bad).unwrap_err(),
                EmployeeNumberError::InvalidCharacters
            );
        }
    }

    #[test]
    fn smartcard_subjects() {
        assert_eq!(
            SmartcardSubject::parse(" 555000000001 ").unwrap().as_str(),
            "555000000001"
        );
        assert_eq!(
            SmartcardSubject::parse("  ").unwrap_err(),
            SmartcardSubjectError::Empty
        );
        for bad in ["555 001", "55\u{7f}5", "5550\u{e9}"] {
            assert_eq!(
                SmartcardSubject::parse(bad).unwrap_err(),
                SmartcardSubjectError::InvalidCharacters
            );
        }
        assert!(SmartcardSubject::parse(&"7".repeat(64)).is_ok());
        assert_eq!(
            SmartcardSubject::parse(&"7".repeat(65)).unwrap_err(),
            SmartcardSubjectError::TooLong
        );
    }

    #[test]
    fn names_refuse_text_direction_and_invisible_characters() {
        for bad in [
            "Jane\u{202E}gnp.exe",
            "\u{2066}Smith",
            "Ja\u{200B}ne",
            "Jane\u{FEFF}",
            "Ja\u{2028}ne",
            "\u{200F}Jane",
        ] {
            assert_eq!(
                PersonName::parse(bad).unwrap_err(),
                PersonNameError::InvalidCharacters,
                "{bad:?}"
            );
        }
        // Joiners some scripts need, and ordinary accents and apostrophes, stay.
        for good in ["می\u{200C}خواهم", "Siân", "O'Brien", "Zoë-Ann"] {
            assert!(PersonName::parse(good).is_ok(), "{good:?}");
        }
    }

    proptest! {
        #[test]
        fn name_parse_never_panics_and_round_trips(s in ".{0,120}") {
            if let Ok(n) = PersonName::parse(&s) {
                prop_assert_eq!(PersonName::parse(n.as_str()).unwrap(), n.clone());
                prop_assert!(!n.as_str().chars().any(|c| c.is_control() || hides_text(c)));
                prop_assert!(n.as_str().chars().count() <= MAX_NAME_CHARS);
            }
        }

        #[test]
        fn employee_number_never_panics_and_round_trips(s in ".{0,40}") {
            if let Ok(n) = EmployeeNumber::parse(&s) {
                prop_assert_eq!(EmployeeNumber::parse(n.as_str()).unwrap(), n);
            }
        }
    }
}
