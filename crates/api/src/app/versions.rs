//! Versions of the records an administrator changes (organisations, people), for `ETag` and
//! `If-Match`: a change made from a stale read is refused instead of overwriting what another
//! administrator or the HR feed wrote in between. A version is the record's `updated_at`,
//! opaque to clients.

use chrono::{DateTime, Utc};

/// The strong entity tag of a record last changed at `updated_at` (quotes included).
pub fn tag(updated_at: DateTime<Utc>) -> String {
    format!("\"{:x}\"", updated_at.timestamp_micros())
}

/// Whether an `If-Match` header value lets a change to a record of entity tag `current` go
/// ahead: `*`, or one of its comma-separated tags equal to it (strong comparison, so a weak
/// `W/` tag never matches).
pub fn if_match_allows(if_match: &str, current: &str) -> bool {
    if_match
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag == current)
}

/// The change was asked for with an `If-Match` that is not the record's current version.
#[derive(Debug, thiserror::Error)]
#[error("the record changed since it was read")]
pub struct Stale;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_matches_itself_any_and_lists_but_not_weak_or_others() {
        let now = Utc::now();
        let current = tag(now);
        assert!(if_match_allows(&current, &current));
        assert!(if_match_allows("*", &current));
        assert!(if_match_allows(&format!("\"0\", {current}"), &current));
        assert!(!if_match_allows(&format!("W/{current}"), &current));
        assert!(!if_match_allows(
            &tag(now + chrono::Duration::microseconds(1)),
            &current
        ));
    }
}
