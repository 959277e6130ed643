//! Identifiers of stored things. Each is its own type, so an account id cannot be passed where
//! a session id or a person id belongs; the text inside is opaque to every rule.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// An identifier as stored (ids are made by the storage layer, or read back from it).
            pub fn from_stored(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The identifier text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The identifier text, owned.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

identifier!(
    /// An ESR account (the `sub` of access tokens).
    AccountId
);
identifier!(
    /// A person record (one member of staff in one employing organisation).
    PersonId
);
identifier!(
    /// A login session (the `sid` of access tokens).
    SessionId
);

impl PersonId {
    /// A person id typed by a caller: a UUID in its hyphenated text form, or nothing (so a
    /// malformed id is a miss, never a database error).
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        let hyphen_at = [8, 13, 18, 23];
        let well_formed = bytes.len() == 36
            && bytes.iter().enumerate().all(|(i, b)| {
                if hyphen_at.contains(&i) {
                    *b == b'-'
                } else {
                    b.is_ascii_hexdigit()
                }
            });
        well_formed.then(|| Self(text.to_ascii_lowercase()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_ids_are_uuids_or_nothing() {
        let id = "0192F0A1-7C3B-7D4E-8F00-123456789ABC";
        assert_eq!(
            PersonId::parse(id).map(PersonId::into_string),
            Some(id.to_ascii_lowercase())
        );
        for bad in [
            "",
            "not-a-uuid",
            "0192f0a1-7c3b-7d4e-8f00-123456789ab",
            "0192f0a1x7c3b-7d4e-8f00-123456789abc",
        ] {
            assert_eq!(PersonId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn ids_show_their_kind_and_serialise_as_text() {
        let id = AccountId::from_stored("a1");
        assert_eq!(format!("{id:?}"), "AccountId(a1)");
        assert_eq!(id.to_string(), "a1");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"a1\"");
    }
}
