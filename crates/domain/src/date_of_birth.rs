use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Serialize, Serializer};

use crate::Coded;

/// Youngest plausible member of staff, in whole years (work experience placements start at 14).
pub const MIN_AGE_YEARS: u32 = 14;
/// Oldest plausible member of staff, in whole years.
pub const MAX_AGE_YEARS: u32 = 120;

/// A date of birth entered as `YYYY-MM-DD`, not in the future, giving an age of 14 to 120.
///
/// Parsing needs `today`, so there is no `Deserialize`: parse request fields explicitly.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DateOfBirth(NaiveDate);

/// Why a string is not an acceptable date of birth.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateOfBirthError {
    /// Not a real calendar date written `YYYY-MM-DD`.
    #[error("date of birth is not in YYYY-MM-DD form")]
    Malformed,
    /// After today.
    #[error("date of birth is in the future")]
    InFuture,
    /// A real date, but the age it gives is under 14 or over 120.
    #[error("date of birth gives an implausible age")]
    Implausible,
}

impl Coded for DateOfBirthError {
    fn code(&self) -> &'static str {
        match self {
            Self::Malformed => "invalid-date-of-birth",
            Self::InFuture => "date-of-birth-in-future",
            Self::Implausible => "implausible-date-of-birth",
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Malformed => {
                "Enter your date of birth as year-month-day, for example 1984-03-17".to_owned()
            }
            Self::InFuture => "Date of birth must be in the past".to_owned(),
            Self::Implausible => format!(
                "Date of birth must give an age between {MIN_AGE_YEARS} and {MAX_AGE_YEARS} years"
            ),
        }
    }
}

impl DateOfBirth {
    /// Parses strict `YYYY-MM-DD` (surrounding whitespace ignored) and checks it against `today`.
    pub fn parse(input: &str, today: NaiveDate) -> Result<Self, DateOfBirthError> {
        let s = input.trim();
        let b = s.as_bytes();
        let shape_ok = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shape_ok {
            return Err(DateOfBirthError::Malformed);
        }
        let year: i32 = s[0..4].parse().map_err(|_| DateOfBirthError::Malformed)?;
        let month: u32 = s[5..7].parse().map_err(|_| DateOfBirthError::Malformed)?;
        let day: u32 = s[8..10].parse().map_err(|_| DateOfBirthError::Malformed)?;
        let date = NaiveDate::from_ymd_opt(year, month, day).ok_or(DateOfBirthError::Malformed)?;
        Self::from_date(date, today)
    }

    /// Checks an already-typed date (e.g. from a CSV import) against `today`.
    pub fn from_date(date: NaiveDate, today: NaiveDate) -> Result<Self, DateOfBirthError> {
        if date > today {
            return Err(DateOfBirthError::InFuture);
        }
        let age = today.years_since(date).unwrap_or(0);
        if (MIN_AGE_YEARS..=MAX_AGE_YEARS).contains(&age) {
            Ok(Self(date))
        } else {
            Err(DateOfBirthError::Implausible)
        }
    }

    /// The date.
    pub fn date(&self) -> NaiveDate {
        self.0
    }

    /// Age in whole years on `today`.
    pub fn age_on(&self, today: NaiveDate) -> u32 {
        today.years_since(self.0).unwrap_or(0)
    }

    /// Year, for callers that need the parts.
    pub fn year(&self) -> i32 {
        self.0.year()
    }
}

impl From<DateOfBirth> for NaiveDate {
    fn from(value: DateOfBirth) -> Self {
        value.0
    }
}

impl fmt::Display for DateOfBirth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl fmt::Debug for DateOfBirth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DateOfBirth({self})")
    }
}

impl Serialize for DateOfBirth {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 15).unwrap()
    }

    #[test]
    fn parses_strict_iso_dates() {
        let d = DateOfBirth::parse("1984-03-17", today()).unwrap();
        assert_eq!(d.date(), NaiveDate::from_ymd_opt(1984, 3, 17).unwrap());
        assert_eq!(d.to_string(), "1984-03-17");
        assert_eq!(d.age_on(today()), 41);
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"1984-03-17\"");
        assert_eq!(DateOfBirth::parse(" 1984-03-17 ", today()).unwrap(), d);
    }

    #[test]
    fn malformed() {
        for bad in [
            "",
            "1984-3-17",
            "17/03/1984",
            "1984/03/17",
            "19840317",
            "1984-02-30",
            "1984-13-01",
            "1984-00-10",
            "+984-03-17",
            "1984-03-17T00:00:00",
            "１９８４-03-17",
            "1984 03 17",
        ] {
            assert_eq!(
                DateOfBirth::parse(bad, today()).unwrap_err(),
                DateOfBirthError::Malformed,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn future_and_implausible() {
        assert_eq!(
            DateOfBirth::parse("2025-06-16", today()).unwrap_err(),
            DateOfBirthError::InFuture
        );
        // Born today: not in the future, but age 0.
        assert_eq!(
            DateOfBirth::parse("2025-06-15", today()).unwrap_err(),
            DateOfBirthError::Implausible
        );
        // 14th birthday today: accepted; one day short: refused.
        assert!(DateOfBirth::parse("2011-06-15", today()).is_ok());
        assert_eq!(
            DateOfBirth::parse("2011-06-16", today()).unwrap_err(),
            DateOfBirthError::Implausible
        );
        // 120 accepted, 121 refused.
        assert!(DateOfBirth::parse("1905-06-15", today()).is_ok());
        assert!(DateOfBirth::parse("1904-06-16", today()).is_ok());
        assert_eq!(
            DateOfBirth::parse("1904-06-15", today()).unwrap_err(),
            DateOfBirthError::Implausible
        );
        assert_eq!(
            DateOfBirthError::Implausible.code(),
            "implausible-date-of-birth"
        );
    }

    #[test]
    fn leap_day_birthdays() {
        let leap_today = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert!(DateOfBirth::parse("2000-02-29", leap_today).is_ok());
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(s in ".{0,20}") {
            if let Ok(d) = DateOfBirth::parse(&s, today()) {
                prop_assert_eq!(DateOfBirth::parse(&d.to_string(), today()).unwrap(), d);
            }
        }

        #[test]
        fn digit_shaped_input_never_panics(s in "[0-9]{4}-[0-9]{2}-[0-9]{2}") {
            if let Ok(d) = DateOfBirth::parse(&s, today()) {
                prop_assert_eq!(d.to_string(), s);
                let age = d.age_on(today());
                prop_assert!((MIN_AGE_YEARS..=MAX_AGE_YEARS).contains(&age));
            }
        }
    }
}
