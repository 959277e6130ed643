use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Coded, OrganisationCode, PersonName};

/// Longest username accepted by [`Username::parse`].
const MAX_USERNAME_LENGTH: usize = 16;
/// Most surname letters used by [`generate_username`] (SPEC: "name part at most 8 letters";
/// read as the surname letters, which gives the SPEC's own `999ZOBRIENNU01` example).
const MAX_SURNAME_LETTERS: usize = 8;
/// Highest collision suffix; `01` is the first.
const MAX_SUFFIX: u32 = 99;

/// An ESR username such as `999JSMITH01`: organisation code, letters, two digits.
///
/// Input is trimmed and matched case-insensitively, so the canonical form is upper case:
/// `parse(" 999jsmith01 ")` equals `parse("999JSMITH01")`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

/// Why a string is not a username, or why none could be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    /// Nothing was entered.
    #[error("username is empty")]
    Empty,
    /// Longer than any ESR username.
    #[error("username is too long")]
    TooLong,
    /// Not `{3 letters or digits}{letters}{2 digits}`.
    #[error("username does not have the ESR shape")]
    Malformed,
    /// The names hold no letter usable in a username (after folding diacritics).
    #[error("names contain no usable letters")]
    NoUsableLetters,
    /// Suffixes 01 to 99 are all taken for this name part.
    #[error("all username suffixes are taken")]
    Exhausted,
}

impl Coded for UsernameError {
    fn code(&self) -> &'static str {
        match self {
            Self::Empty => "username-required",
            Self::TooLong | Self::Malformed => "invalid-username",
            Self::NoUsableLetters => "username-no-usable-letters",
            Self::Exhausted => "username-exhausted",
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Empty => "Enter your ESR username (Example: 999JSMITH01)".to_owned(),
            Self::TooLong | Self::Malformed => {
                "Enter a valid ESR username (Example: 999JSMITH01)".to_owned()
            }
            Self::NoUsableLetters => "A username cannot be created from this person's names: \
                 they contain no letters A to Z. Please contact the System Administrator."
                .to_owned(),
            Self::Exhausted => "Every username for this name is already in use. \
                 Please contact the System Administrator."
                .to_owned(),
        }
    }
}

impl Username {
    /// Parses a username: trimmed, upper-cased, then checked for the shape
    /// `{3 letters or digits}{1 or more letters}{2 digits}`, at most 16 characters.
    ///
    /// Accepts every username [`generate_username`] produces.
    pub fn parse(input: &str) -> Result<Self, UsernameError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(UsernameError::Empty);
        }
        if trimmed.chars().count() > MAX_USERNAME_LENGTH {
            return Err(UsernameError::TooLong);
        }
        if !trimmed.is_ascii() {
            return Err(UsernameError::Malformed);
        }
        let upper = trimmed.to_ascii_uppercase();
        let bytes = upper.as_bytes();
        let n = bytes.len();
        let shape_ok = n >= 6
            && bytes[..3].iter().all(u8::is_ascii_alphanumeric)
            && bytes[3..n - 2].iter().all(u8::is_ascii_uppercase)
            && bytes[n - 2..].iter().all(u8::is_ascii_digit);
        if shape_ok {
            Ok(Self(upper))
        } else {
            Err(UsernameError::Malformed)
        }
    }

    /// The canonical (upper-case) username.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The organisation code the username starts with.
    pub fn organisation_code(&self) -> OrganisationCode {
        OrganisationCode::parse(&self.0[..3]).expect("a parsed username starts with a valid code")
    }

    /// The letters between the organisation code and the two-digit suffix (e.g. `JSMITH`).
    pub fn name_part(&self) -> &str {
        &self.0[3..self.0.len() - 2]
    }
}

/// Builds `{org}{first initial}{surname letters}{NN}` for a new account.
///
/// Names are folded to ASCII (diacritics removed, e.g. "Núñez" → "NUNEZ"), every character
/// that is not a letter is dropped, and at most 8 surname letters are kept. If the first name
/// has no usable letter the initial is left out; if neither name has one the result is
/// [`UsernameError::NoUsableLetters`]. `taken` is asked about each candidate in canonical
/// upper case, `01` first, and must answer case-insensitively (compare canonical forms);
/// when `01` to `99` are all taken the result is [`UsernameError::Exhausted`].
///
/// Holding the existing names as a list or set? Use [`generate_username_avoiding`], which
/// canonicalises them first, so a lower-case `999jsmith01` still counts as taken.
pub fn generate_username(
    org: &OrganisationCode,
    first: &PersonName,
    last: &PersonName,
    taken: impl Fn(&str) -> bool,
) -> Result<Username, UsernameError> {
    let stem = username_stem(org, first, last)?;
    for suffix in 1..=MAX_SUFFIX {
        let candidate = format!("{stem}{suffix:02}");
        if !taken(&candidate) {
            return Username::parse(&candidate);
        }
    }
    Err(UsernameError::Exhausted)
}

/// [`generate_username`] avoiding every name in `existing`, compared case-insensitively:
/// each is trimmed and upper-cased as [`Username::parse`] would, so the caller may pass
/// [`Username`]s, stored text or user input in any case.
///
/// ```
/// use esr_domain::*;
///
/// let (org, first, last) = (
///     OrganisationCode::parse("999").unwrap(),
///     PersonName::parse("John").unwrap(),
///     PersonName::parse("Smith").unwrap(),
/// );
/// let existing = ["999jsmith01", "999JSmith02"];
/// let u = generate_username_avoiding(&org, &first, &last, existing).unwrap();
/// assert_eq!(u.as_str(), "999JSMITH03");
/// ```
pub fn generate_username_avoiding<S: AsRef<str>>(
    org: &OrganisationCode,
    first: &PersonName,
    last: &PersonName,
    existing: impl IntoIterator<Item = S>,
) -> Result<Username, UsernameError> {
    let taken: HashSet<String> = existing
        .into_iter()
        .map(|name| name.as_ref().trim().to_ascii_uppercase())
        .collect();
    generate_username(org, first, last, |candidate| taken.contains(candidate))
}

/// `{org}{first initial}{surname letters}`: every username [`generate_username`] can produce
/// for these names starts with it, so callers can load the taken ones by prefix.
pub fn username_stem(
    org: &OrganisationCode,
    first: &PersonName,
    last: &PersonName,
) -> Result<String, UsernameError> {
    let initial = ascii_letters(first.as_str()).chars().next();
    let surname: String = ascii_letters(last.as_str())
        .chars()
        .take(MAX_SURNAME_LETTERS)
        .collect();
    let mut name_part = String::new();
    name_part.extend(initial);
    name_part.push_str(&surname);
    if name_part.is_empty() {
        return Err(UsernameError::NoUsableLetters);
    }
    Ok(format!("{}{name_part}", org.as_str()))
}

/// Folds a name to upper-case ASCII letters only ("Zoë O'Brien-Núñez" → "ZOEOBRIENNUNEZ").
fn ascii_letters(name: &str) -> String {
    deunicode::deunicode_with_tofu(name, "")
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Username({})", self.0)
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = UsernameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> Self {
        value.0
    }
}

impl std::str::FromStr for Username {
    type Err = UsernameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn org(s: &str) -> OrganisationCode {
        OrganisationCode::parse(s).unwrap()
    }
    fn name(s: &str) -> PersonName {
        PersonName::parse(s).unwrap()
    }

    #[test]
    fn parses_guide_examples_case_insensitively() {
        let u = Username::parse("999JSMITH01").unwrap();
        assert_eq!(u.as_str(), "999JSMITH01");
        assert_eq!(Username::parse("  999jsmith01\t").unwrap(), u);
        assert_eq!(u.organisation_code().as_str(), "999");
        assert_eq!(u.name_part(), "JSMITH");
        assert_eq!(
            Username::parse("241JSMITH01").unwrap().to_string(),
            "241JSMITH01"
        );
    }

    #[test]
    fn refuses_bad_shapes() {
        assert_eq!(Username::parse("   ").unwrap_err(), UsernameError::Empty);
        assert_eq!(
            Username::parse("999ABCDEFGHIJKLM01").unwrap_err(),
            UsernameError::TooLong
        );
        for bad in [
            "999JSMITH1",
            "999JSMITH001",
            "999J5MITH01",
            "99-SMITH01",
            "999JSMITH0A",
            "99901",
            "999_SMITH01",
            "999 JSMITH01",
            "999JSMÏTH01",
            "j.smith@x.net",
        ] {
            assert_eq!(
                Username::parse(bad).unwrap_err(),
                UsernameError::Malformed,
                "{bad}"
            );
        }
        assert_eq!(UsernameError::Malformed.code(), "invalid-username");
    }

    #[test]
    fn generates_the_spec_example() {
        let u = generate_username(&org("999"), &name("John"), &name("Smith"), |_| false).unwrap();
        assert_eq!(u.as_str(), "999JSMITH01");
    }

    #[test]
    fn folds_diacritics_drops_punctuation_and_caps_surname_letters() {
        let u = generate_username(&org("999"), &name("Zoë"), &name("O'Brien-Núñez"), |_| {
            false
        })
        .unwrap();
        assert_eq!(u.as_str(), "999ZOBRIENNU01");
        let u = generate_username(&org("241"), &name("Łukasz"), &name("Żółć"), |_| false).unwrap();
        assert_eq!(u.as_str(), "241LZOLC01");
        let u = generate_username(&org("241"), &name("Ann"), &name("Strauß"), |_| false).unwrap();
        assert_eq!(u.as_str(), "241ASTRAUSS01");
    }

    #[test]
    fn skips_taken_suffixes_case_insensitively() {
        let taken: HashSet<String> = ["999jsmith01", "999JSMITH02"]
            .iter()
            .map(|s| s.to_ascii_uppercase())
            .collect();
        let u = generate_username(&org("999"), &name("Jane"), &name("Smith"), |c| {
            taken.contains(c)
        })
        .unwrap();
        assert_eq!(u.as_str(), "999JSMITH03");
    }

    #[test]
    fn avoiding_a_set_with_lower_and_mixed_case_entries() {
        // Names as stored by hand or typed by people: the canonical comparison must catch
        // every one of them, whatever its case or surrounding whitespace.
        let taken: HashSet<&str> = [
            "999jsmith01",
            " 999JSmith02 ",
            "999JSMITH03",
            "999jsmith05",
            "888jsmith04",
        ]
        .into_iter()
        .collect();
        let u =
            generate_username_avoiding(&org("999"), &name("Jane"), &name("Smith"), &taken).unwrap();
        assert_eq!(u.as_str(), "999JSMITH04");

        let parsed: Vec<Username> = ["999jsmith01", "999JSMITH02"]
            .iter()
            .map(|s| Username::parse(s).unwrap())
            .collect();
        let u = generate_username_avoiding(&org("999"), &name("Jane"), &name("Smith"), &parsed)
            .unwrap();
        assert_eq!(u.as_str(), "999JSMITH03");

        let all: Vec<String> = (1..=99).map(|n| format!("999jsmith{n:02}")).collect();
        assert_eq!(
            generate_username_avoiding(&org("999"), &name("Jane"), &name("Smith"), all),
            Err(UsernameError::Exhausted)
        );
    }

    #[test]
    fn exhausted_after_99() {
        let err =
            generate_username(&org("999"), &name("Jane"), &name("Smith"), |_| true).unwrap_err();
        assert_eq!(err, UsernameError::Exhausted);
        assert_eq!(err.code(), "username-exhausted");
        let last = generate_username(&org("999"), &name("Jane"), &name("Smith"), |c| {
            c != "999JSMITH99"
        })
        .unwrap();
        assert_eq!(last.as_str(), "999JSMITH99");
    }

    #[test]
    fn names_without_letters() {
        let err = generate_username(&org("999"), &name("-"), &name("'"), |_| false).unwrap_err();
        assert_eq!(err, UsernameError::NoUsableLetters);
        // No usable first name: the initial is left out rather than failing.
        let u = generate_username(&org("999"), &name("."), &name("Smith"), |_| false).unwrap();
        assert_eq!(u.as_str(), "999SMITH01");
        // No usable surname: the initial alone is still a valid username.
        let u = generate_username(&org("999"), &name("Jo"), &name("42"), |_| false).unwrap();
        assert_eq!(u.as_str(), "999J01");
    }

    #[test]
    fn non_latin_scripts_are_transliterated() {
        let u =
            generate_username(&org("999"), &name("Дмитрий"), &name("Иванов"), |_| false).unwrap();
        assert_eq!(u.as_str(), "999DIVANOV01");
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(s in ".{0,40}") {
            if let Ok(u) = Username::parse(&s) {
                prop_assert_eq!(Username::parse(u.as_str()).unwrap(), u.clone());
                prop_assert_eq!(Username::parse(&u.as_str().to_lowercase()).unwrap(), u);
            }
        }

        #[test]
        fn generated_usernames_always_parse(
            code in "[A-Za-z0-9]{3}",
            first in "\\PC{1,30}",
            last in "\\PC{1,30}",
            taken_below in 0u32..99,
        ) {
            let (Ok(first), Ok(last)) = (PersonName::parse(&first), PersonName::parse(&last)) else {
                return Ok(());
            };
            let result = generate_username(&org(&code), &first, &last, |c| {
                c[c.len() - 2..].parse::<u32>().unwrap() <= taken_below
            });
            match result {
                Ok(u) => {
                    prop_assert_eq!(Username::parse(u.as_str()).unwrap(), u.clone());
                    prop_assert!(u.as_str().starts_with(&code.to_ascii_uppercase()));
                    prop_assert!(u.name_part().len() <= 1 + MAX_SURNAME_LETTERS);
                    let suffix: u32 = u.as_str()[u.as_str().len() - 2..].parse().unwrap();
                    prop_assert_eq!(suffix, taken_below + 1);
                }
                Err(e) => prop_assert_eq!(e, UsernameError::NoUsableLetters),
            }
        }
    }
}
