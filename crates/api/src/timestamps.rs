//! One precision for every timestamp the API answers with: RFC 3339 in UTC with exactly six
//! fractional digits (`2026-11-25T09:00:00.000000Z`). Without it, chrono writes as many digits
//! as a value happens to have (none, three, six or nine), and clients such as Swift's
//! ISO 8601 decoder refuse some of them.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serializer;

/// A timestamp as the API writes it (`…T09:00:00.123456Z`), for JSON built by hand.
pub fn text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Serialises a timestamp with microseconds (`…T09:00:00.123456Z`).
pub fn micros<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&text(*at))
}

/// Like [`micros`], for an optional timestamp (`null` when absent).
pub fn micros_opt<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => micros(at, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Both {
        #[serde(serialize_with = "micros")]
        at: DateTime<Utc>,
        #[serde(serialize_with = "micros_opt")]
        maybe: Option<DateTime<Utc>>,
    }

    #[test]
    fn every_timestamp_has_six_fractional_digits() {
        let whole = DateTime::parse_from_rfc3339("2026-11-25T09:00:00Z")
            .unwrap()
            .to_utc();
        let nanos = DateTime::parse_from_rfc3339("2026-11-25T09:00:00.123456789Z")
            .unwrap()
            .to_utc();
        let json = serde_json::to_string(&Both {
            at: whole,
            maybe: Some(nanos),
        })
        .unwrap();
        assert_eq!(
            json,
            r#"{"at":"2026-11-25T09:00:00.000000Z","maybe":"2026-11-25T09:00:00.123456Z"}"#
        );
        let none = serde_json::to_string(&Both {
            at: whole,
            maybe: None,
        })
        .unwrap();
        assert!(none.ends_with(r#""maybe":null}"#), "{none}");
    }
}
