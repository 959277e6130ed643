/// A domain error or policy violation with a stable machine code and a message for staff.
///
/// `code` is kebab-case and never changes once published (API clients switch on it);
/// `message` is plain English a member of staff understands, and never echoes secrets.
pub trait Coded {
    /// Stable kebab-case code, e.g. `password-too-short`.
    fn code(&self) -> &'static str;
    /// Human-readable message, e.g. "Password must be a minimum of 12 characters".
    fn message(&self) -> String;
}

/// The published codes, pinned: every variant of every [`Coded`] type, with the code API
/// clients already switch on. A failure here means a code changed: that is a breaking
/// change for every client, not a test to update lightly.
#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::fmt::Debug;

    use super::Coded;
    use crate::*;

    struct Row {
        owner: &'static str,
        variant: &'static str,
        expected: &'static str,
        code: &'static str,
        message: String,
        debug: String,
    }

    fn row<E: Coded + Debug>(
        owner: &'static str,
        variant: &'static str,
        value: E,
        expected: &'static str,
    ) -> Row {
        Row {
            owner,
            variant,
            expected,
            code: value.code(),
            message: value.message(),
            debug: format!("{value:?}"),
        }
    }

    /// Rows for one enum, each `Variant => "code"`, `Variant { field: value } => "code"` or
    /// `Variant(value) => "code"` (a variant may have several rows). Also expands to a match
    /// over the enum with one alternative per row and no wildcard, so a variant added to
    /// the enum without a row here does not compile.
    macro_rules! pinned {
        ($rows:ident, $ty:ident { $($body:tt)* }) => {{
            pinned!(@row $rows $ty [] $($body)*);
        }};
        (@row $rows:ident $ty:ident [$($pat:tt)*]
            $variant:ident => $code:literal $(, $($rest:tt)*)?) => {
            $rows.push(row(stringify!($ty), stringify!($variant), $ty::$variant, $code));
            pinned!(@row $rows $ty [$($pat)* | $ty::$variant] $($($rest)*)?);
        };
        (@row $rows:ident $ty:ident [$($pat:tt)*]
            $variant:ident { $($field:ident : $value:expr),* $(,)? } => $code:literal
            $(, $($rest:tt)*)?) => {
            $rows.push(row(
                stringify!($ty),
                stringify!($variant),
                $ty::$variant { $($field: $value),* },
                $code,
            ));
            pinned!(@row $rows $ty [$($pat)* | $ty::$variant { .. }] $($($rest)*)?);
        };
        (@row $rows:ident $ty:ident [$($pat:tt)*]
            $variant:ident ( $($value:expr),* $(,)? ) => $code:literal $(, $($rest:tt)*)?) => {
            $rows.push(row(
                stringify!($ty),
                stringify!($variant),
                $ty::$variant($($value),*),
                $code,
            ));
            pinned!(@row $rows $ty [$($pat)* | $ty::$variant(..)] $($($rest)*)?);
        };
        (@row $rows:ident $ty:ident [$($pat:tt)*]) => {
            #[allow(unreachable_patterns)]
            let _every_variant_has_a_row = |e: &$ty| match e {
                $($pat)* => (),
            };
        };
    }

    /// Codes deliberately shared by several variants of one type.
    const SHARED: &[(&str, &str)] = &[
        // Too long or the wrong shape: staff see one "enter a valid username" answer.
        ("UsernameError", "invalid-username"),
    ];

    fn table() -> Vec<Row> {
        let mut rows = Vec::new();
        pinned!(rows, OrganisationCodeError {
            Invalid => "invalid-organisation-code",
        });
        pinned!(rows, UsernameError {
            Empty => "username-required",
            TooLong => "invalid-username",
            Malformed => "invalid-username",
            NoUsableLetters => "username-no-usable-letters",
            Exhausted => "username-exhausted",
        });
        pinned!(rows, EmailError {
            Empty => "email-required",
            TooLong => "email-too-long",
            Malformed => "invalid-email",
        });
        pinned!(rows, DateOfBirthError {
            Malformed => "invalid-date-of-birth",
            InFuture => "date-of-birth-in-future",
            Implausible => "implausible-date-of-birth",
        });
        pinned!(rows, PersonNameError {
            Empty => "name-required",
            TooLong => "name-too-long",
            InvalidCharacters => "invalid-name",
        });
        pinned!(rows, EmployeeNumberError {
            Empty => "employee-number-required",
            TooLong => "employee-number-too-long",
            InvalidCharacters => "invalid-employee-number",
        });
        pinned!(rows, SmartcardSubjectError {
            Empty => "smartcard-subject-required",
            TooLong => "smartcard-subject-too-long",
            InvalidCharacters => "invalid-smartcard-subject",
        });
        pinned!(rows, Violation {
            TooShort { min: 12 } => "password-too-short",
            TooLong { max: 128 } => "password-too-long",
            InvalidCharacters => "password-invalid-characters",
            Common => "password-common",
            ContainsContext { kind: ContextKind::Name } => "password-contains-context",
            ContainsContext { kind: ContextKind::Username } => "password-contains-context",
            ContainsContext { kind: ContextKind::EmailAddress } => "password-contains-context",
            ContainsContext { kind: ContextKind::OrganisationName } => "password-contains-context",
            ContainsContext { kind: ContextKind::DateOfBirth } => "password-contains-context",
            ContainsContext { kind: ContextKind::PersonalDetail } => "password-contains-context",
            Repetitive => "password-repetitive",
            ConfirmationMismatch => "password-confirmation-mismatch",
            Reused { depth: 4 } => "password-reused",
            Reused { depth: 1 } => "password-reused",
            Breached => "password-breached",
        });
        pinned!(rows, HashError {
            InvalidParams("memory cost is too small".to_owned()) => "password-hash-invalid-params",
            Failed("out of memory".to_owned()) => "password-hash-failed",
        });
        pinned!(rows, TokenError {
            Malformed => "token-malformed",
            WrongPurpose => "token-wrong-purpose",
            Used => "token-used",
            Invalidated => "token-invalidated",
            Burned => "token-burned",
            Expired { purpose: TokenPurpose::PasswordReset } => "token-expired",
            Expired { purpose: TokenPurpose::AccountUnlock } => "token-expired",
            UsernameMismatch => "token-username-mismatch",
        });
        pinned!(rows, LoginError {
            InvalidCredentials => "invalid-credentials",
            InternetAccessNotApproved => "internet-access-not-approved",
            AccountSuspended => "account-suspended",
        });
        pinned!(rows, TransitionError {
            Account { action: AccountAction::Lock, from: AccountStatus::Locked }
                => "account-status-conflict",
            Account { action: AccountAction::Enable, from: AccountStatus::Active }
                => "account-status-conflict",
            InternetAccess {
                action: InternetAccessAction::Request,
                from: InternetAccessStatus::Pending,
            } => "internet-access-status-conflict",
            InternetAccess {
                action: InternetAccessAction::Approve,
                from: InternetAccessStatus::Revoked,
            } => "internet-access-status-conflict",
        });
        // Structs: one row per value their constructors produce.
        rows.push(row(
            "ApiKeyNameError",
            "ApiKeyNameError",
            ApiKeyName::parse("").unwrap_err(),
            "invalid-api-key-name",
        ));
        for (what, value, expected) in [
            (
                "account-status",
                AccountStatus::parse("x").unwrap_err(),
                "invalid-account-status",
            ),
            (
                "internet-access-status",
                InternetAccessStatus::parse("x").unwrap_err(),
                "invalid-internet-access-status",
            ),
            (
                "approval-mode",
                ApprovalMode::parse("x").unwrap_err(),
                "invalid-approval-mode",
            ),
            (
                "token-purpose",
                TokenPurpose::parse("x").unwrap_err(),
                "invalid-token-purpose",
            ),
            (
                "other",
                UnknownValueError::new("other-thing"),
                "invalid-value",
            ),
        ] {
            rows.push(row("UnknownValueError", what, value, expected));
        }
        rows
    }

    /// `^[a-z]+(-[a-z]+)*$`.
    fn is_kebab_case(code: &str) -> bool {
        code.split('-')
            .all(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase()))
    }

    /// Types named in `impl Coded for …` anywhere in this crate's sources.
    fn coded_types_in_sources() -> BTreeSet<String> {
        fn walk(dir: &std::path::Path, found: &mut BTreeSet<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for line in text.lines() {
                        let line = line.trim_start();
                        let rest = line
                            .strip_prefix("impl Coded for ")
                            .or_else(|| line.strip_prefix("impl crate::Coded for "));
                        if let Some(rest) = rest {
                            let name = rest.split(|c: char| !c.is_alphanumeric()).next();
                            found.insert(name.unwrap_or_default().to_owned());
                        }
                    }
                }
            }
        }
        let mut found = BTreeSet::new();
        walk(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
            &mut found,
        );
        found
    }

    #[test]
    fn every_error_code_is_pinned_kebab_case_and_unique() {
        let rows = table();

        let owners: BTreeSet<String> = rows.iter().map(|r| r.owner.to_owned()).collect();
        assert_eq!(
            owners,
            coded_types_in_sources(),
            "every type implementing Coded has rows in this table, and no other"
        );

        for r in &rows {
            assert_eq!(
                r.code, r.expected,
                "{}::{} ({})",
                r.owner, r.variant, r.debug
            );
            assert!(is_kebab_case(r.code), "{}: {:?}", r.debug, r.code);
            let message = r.message.as_str();
            assert!(
                message.trim() == message && message.starts_with(char::is_uppercase),
                "{}: message {message:?}",
                r.debug
            );
        }

        // A code names one type; within it, one variant unless the sharing is deliberate.
        let mut by_code: BTreeMap<&str, BTreeSet<(&str, &str)>> = BTreeMap::new();
        for r in &rows {
            by_code
                .entry(r.code)
                .or_default()
                .insert((r.owner, r.variant));
        }
        for (code, users) in by_code {
            let types: BTreeSet<&str> = users.iter().map(|(owner, _)| *owner).collect();
            assert_eq!(types.len(), 1, "{code} is used by {types:?}");
            let owner = types.into_iter().next().unwrap_or_default();
            assert!(
                users.len() == 1 || SHARED.contains(&(owner, code)),
                "{code} is shared by {users:?}"
            );
        }
    }

    #[test]
    fn kebab_case_check() {
        for good in ["token-used", "invalid-username", "x"] {
            assert!(is_kebab_case(good), "{good}");
        }
        for bad in [
            "",
            "-x",
            "x-",
            "a--b",
            "Token-used",
            "token_used",
            "token used",
            "v2",
        ] {
            assert!(!is_kebab_case(bad), "{bad}");
        }
    }
}
