use chrono::NaiveDate;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use super::context::{ContextKind, find_context};
use super::{NewPassword, Password, common, patterns};
use crate::{Coded, PasswordHasher};

/// The password policy: one instance, used by every path that sets a password
/// (internet-access password, reset link, change from the app).
///
/// Defaults are the ESR rules: 12 to 128 characters, not one of the last 4, common list on,
/// breached check off. Deserialises from configuration with missing fields defaulted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordPolicy {
    /// Fewest characters (Unicode code points after NFKC). ESR rule: 12.
    pub min_length: usize,
    /// Most characters. 128.
    pub max_length: usize,
    /// How many previous passwords may not be reused (the current one included). 4.
    pub history_depth: usize,
    /// Refuse passwords on (or built on) the bundled common-password list.
    pub common_list: bool,
    /// Whether the caller runs the breached-password (HIBP) check; this crate does no I/O,
    /// it only describes the rule and supplies [`Violation::Breached`].
    pub breached_check: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 12,
            max_length: 128,
            history_depth: 4,
            common_list: true,
            breached_check: false,
        }
    }
}

/// What is known about the person, so passwords built from it can be refused.
///
/// Every field is optional: fill in what the calling path knows (the live-feedback
/// endpoint may know nothing). Borrowed, so building one costs nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicyContext<'a> {
    /// ESR username, e.g. `999JSMITH01` (its name part `JSMITH`/`SMITH` is also refused).
    pub username: Option<&'a str>,
    /// First name.
    pub first_name: Option<&'a str>,
    /// Surname.
    pub last_name: Option<&'a str>,
    /// Work email address (the local part and its pieces are used).
    pub email: Option<&'a str>,
    /// Employing organisation's name (generic words like "NHS" and "Trust" are skipped).
    pub organisation_name: Option<&'a str>,
    /// Date of birth (6- and 8-digit forms are refused).
    pub date_of_birth: Option<NaiveDate>,
    /// Anything else personal the caller wants refused (e.g. a preferred name).
    pub other_words: &'a [&'a str],
}

/// One way a candidate password breaks the policy. Never carries the password itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// Fewer than `min` characters.
    #[error("password is shorter than {min} characters")]
    TooShort {
        /// The policy minimum.
        min: usize,
    },
    /// More than `max` characters.
    #[error("password is longer than {max} characters")]
    TooLong {
        /// The policy maximum.
        max: usize,
    },
    /// Contains control characters (line breaks, tabs, NUL…); printable characters and
    /// spaces are all allowed.
    #[error("password contains control characters")]
    InvalidCharacters,
    /// On, or built on, the common-password list.
    #[error("password is commonly used")]
    Common,
    /// Contains a detail about the person.
    #[error("password contains the person's {}", kind.as_str())]
    ContainsContext {
        /// Which kind of detail (never the detail itself).
        kind: ContextKind,
    },
    /// Mostly repeated characters, repeated chunks or sequences.
    #[error("password is mostly repeats or sequences")]
    Repetitive,
    /// The confirmation differs from the new password.
    #[error("password confirmation does not match")]
    ConfirmationMismatch,
    /// Same as one of the last `depth` passwords.
    #[error("password was used recently")]
    Reused {
        /// The policy's history depth.
        depth: usize,
    },
    /// Found in a breached-password corpus (reported by the caller's HIBP check).
    #[error("password appears in a data breach")]
    Breached,
}

impl Coded for Violation {
    fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "password-too-short",
            Self::TooLong { .. } => "password-too-long",
            Self::InvalidCharacters => "password-invalid-characters",
            Self::Common => "password-common",
            Self::ContainsContext { .. } => "password-contains-context",
            Self::Repetitive => "password-repetitive",
            Self::ConfirmationMismatch => "password-confirmation-mismatch",
            Self::Reused { .. } => "password-reused",
            Self::Breached => "password-breached",
        }
    }

    fn message(&self) -> String {
        match self {
            Self::TooShort { min } => format!("Password must be a minimum of {min} characters"),
            Self::TooLong { max } => format!("Password must be a maximum of {max} characters"),
            Self::InvalidCharacters => {
                "Password must not contain line breaks, tabs or other control characters".to_owned()
            }
            Self::Common => {
                "Commonly used passwords, like \"password1\" are not allowed".to_owned()
            }
            Self::ContainsContext { kind } => {
                format!("Passwords must not contain {}", kind.phrase())
            }
            Self::Repetitive => "Passwords must not be mostly repeated characters or sequences, \
                 like \"aaaaaaaaaaaa\" or \"123456789012\""
                .to_owned(),
            Self::ConfirmationMismatch => "Password and Confirm Password must match".to_owned(),
            Self::Reused { depth } => reuse_message(*depth),
            Self::Breached => "This password has appeared in a data breach and cannot be used. \
                 Please choose a different password"
                .to_owned(),
        }
    }
}

fn reuse_message(depth: usize) -> String {
    if depth == 1 {
        "Passwords must not be the same as the previous password".to_owned()
    } else {
        format!("Passwords must not be the same as any previous {depth} passwords")
    }
}

/// `{"code": …, "message": …}`, plus `"context"` (the kind, e.g. `"username"`) for
/// [`Violation::ContainsContext`]: the shape of an entry in a problem's `violations[]`.
impl Serialize for Violation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let context = match self {
            Self::ContainsContext { kind } => Some(kind.as_str()),
            _ => None,
        };
        let mut s = serializer.serialize_struct("Violation", 2 + usize::from(context.is_some()))?;
        s.serialize_field("code", self.code())?;
        s.serialize_field("message", &self.message())?;
        if let Some(context) = context {
            s.serialize_field("context", context)?;
        }
        s.end()
    }
}

/// The policy as shown by `GET /v1/password-policy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyDescription {
    /// Fewest characters.
    pub min_length: usize,
    /// Most characters.
    pub max_length: usize,
    /// Previous passwords that may not be reused.
    pub history_depth: usize,
    /// Common passwords are refused.
    pub common_list: bool,
    /// Breached passwords are refused.
    pub breached_check: bool,
    /// The rules in the user guide's words, each with the code of the violation it causes.
    pub rules: Vec<PolicyRule>,
}

/// One rule of [`PolicyDescription`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyRule {
    /// The [`Violation`] code this rule produces.
    pub code: &'static str,
    /// The rule in plain English.
    pub description: String,
}

impl PasswordPolicy {
    /// Checks a candidate (and, when given, its confirmation) against every static rule and
    /// returns the NFKC-normalised password, or **every** violation found.
    ///
    /// This is [`NewPassword`]'s parser and its only public constructor, so outside this
    /// crate holding a `NewPassword` means the policy accepted it ("parse, don't
    /// validate"). (Inside, [`PasswordHasher::verify_and_upgrade`] wraps a password that
    /// already matched its stored hash, to rehash it, without checking it again.)
    ///
    /// `confirm` is the "Confirm Password" field: pass `Some` on every path where the person
    /// typed the password twice, and a difference (compared after NFKC, like the password)
    /// adds [`Violation::ConfirmationMismatch`] to the other violations. Pass `None` where
    /// there is no second field (the live-feedback check, imports, tests).
    ///
    /// History is a separate step ([`check_history`](Self::check_history)) because it needs
    /// the stored hashes; the breached check is the caller's (it needs the network).
    pub fn check(
        &self,
        candidate: &Password,
        confirm: Option<&Password>,
        ctx: &PolicyContext<'_>,
    ) -> Result<NewPassword, Vec<Violation>> {
        let normalised = candidate.normalised();
        let length = normalised.chars().count();
        let mut violations = Vec::new();

        if length < self.min_length {
            violations.push(Violation::TooShort {
                min: self.min_length,
            });
        }
        if length > self.max_length {
            violations.push(Violation::TooLong {
                max: self.max_length,
            });
        }
        if normalised.chars().any(char::is_control) {
            violations.push(Violation::InvalidCharacters);
        }
        // Content rules cost up to O(n²); a password over the maximum is refused anyway, so
        // it is not analysed further (request bodies are capped, but do not rely on it).
        if length <= self.max_length && length > 0 {
            if self.common_list && common::is_common_password(&normalised) {
                violations.push(Violation::Common);
            }
            violations.extend(
                find_context(&normalised, ctx)
                    .into_iter()
                    .map(|kind| Violation::ContainsContext { kind }),
            );
            if patterns::is_repetitive(&normalised) {
                violations.push(Violation::Repetitive);
            }
        }
        if let Some(confirm) = confirm
            && *confirm.normalised() != *normalised
        {
            violations.push(Violation::ConfirmationMismatch);
        }

        if violations.is_empty() {
            Ok(NewPassword(normalised))
        } else {
            Err(violations)
        }
    }

    /// Refuses a new password equal to any of the most recent `history_depth` passwords.
    ///
    /// `previous_hashes` are PHC strings, most recent first, starting with the current
    /// password's hash; entries beyond `history_depth` are ignored. Costs one argon2
    /// verification per hash checked, so call it off the async workers.
    pub fn check_history(
        &self,
        candidate: &NewPassword,
        previous_hashes: &[&str],
        hasher: &PasswordHasher,
    ) -> Result<(), Violation> {
        let reused = previous_hashes
            .iter()
            .take(self.history_depth)
            .any(|phc| hasher.verify_new(candidate, phc));
        if reused {
            Err(Violation::Reused {
                depth: self.history_depth,
            })
        } else {
            Ok(())
        }
    }

    /// The policy for display; rule wording follows the ESR user guide.
    pub fn describe(&self) -> PolicyDescription {
        let mut rules = vec![PolicyRule {
            code: "password-too-short",
            description: Violation::TooShort {
                min: self.min_length,
            }
            .message(),
        }];
        if self.common_list {
            rules.push(PolicyRule {
                code: "password-common",
                description: Violation::Common.message(),
            });
        }
        if self.history_depth > 0 {
            rules.push(PolicyRule {
                code: "password-reused",
                description: reuse_message(self.history_depth),
            });
        }
        rules.push(PolicyRule {
            code: "password-too-long",
            description: Violation::TooLong {
                max: self.max_length,
            }
            .message(),
        });
        rules.push(PolicyRule {
            code: "password-contains-context",
            description: "Passwords must not contain your username, your name, your email \
                          address, the name of your organisation or your date of birth"
                .to_owned(),
        });
        rules.push(PolicyRule {
            code: "password-repetitive",
            description: Violation::Repetitive.message(),
        });
        if self.breached_check {
            rules.push(PolicyRule {
                code: "password-breached",
                description: "Passwords that have appeared in a known data breach are not \
                              allowed"
                    .to_owned(),
            });
        }
        rules.push(PolicyRule {
            code: "password-invalid-characters",
            description: "Any letters, numbers, symbols and spaces may be used; there are no \
                          rules about which kinds of character to include"
                .to_owned(),
        });
        PolicyDescription {
            min_length: self.min_length,
            max_length: self.max_length,
            history_depth: self.history_depth,
            common_list: self.common_list,
            breached_check: self.breached_check,
            rules,
        }
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
