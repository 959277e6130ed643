//! The problems of failures every use case shares (storage, a full hashing pool, the
//! unexpected, rate limits) and of the password policy, answered the same way everywhere.

use actix_web::http::StatusCode;
use esr_domain::Coded;

use super::{AsProblem, ProblemCatalogue, ProblemSpec, Violation, internal_error};
use crate::app::Failure;
use crate::i18n::{Arg, Language, Message};
use crate::rate_limit::Limited;
use crate::state::StorageError;

impl AsProblem for Failure {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::Storage(e) => e.problem(),
            Self::Overloaded => busy_problem(),
            Self::Unexpected(_) => internal_error(self),
        }
    }
}
crate::problem_response!(Failure);

impl ProblemCatalogue for Failure {
    fn examples() -> Vec<ProblemSpec> {
        vec![
            database_unavailable_problem(),
            busy_problem(),
            ProblemSpec::internal(),
        ]
    }
}

impl AsProblem for StorageError {
    fn problem(&self) -> ProblemSpec {
        if !self.is_unavailable() {
            return internal_error(self);
        }
        // The cause chain tells the operator why (connection refused, disk full, …).
        let mut chain = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        tracing::warn!(error.chain = %chain, "database unavailable");
        database_unavailable_problem()
    }
}
crate::problem_response!(StorageError);

impl ProblemCatalogue for StorageError {
    fn examples() -> Vec<ProblemSpec> {
        vec![database_unavailable_problem(), ProblemSpec::internal()]
    }
}

/// The `503 database-unavailable` problem.
pub fn database_unavailable_problem() -> ProblemSpec {
    ProblemSpec::from_catalogue(
        StatusCode::SERVICE_UNAVAILABLE,
        "database-unavailable",
        "problem-database-unavailable",
        Vec::new(),
    )
    .with_retry_after(1)
}

impl AsProblem for Limited {
    fn problem(&self) -> ProblemSpec {
        ProblemSpec::from_catalogue(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-requests",
            "problem-too-many-requests--attempts",
            Vec::new(),
        )
        .with_retry_after(self.retry_after_secs)
    }
}

impl ProblemCatalogue for Limited {
    fn examples() -> Vec<ProblemSpec> {
        vec![
            Self {
                retry_after_secs: 60,
            }
            .problem(),
        ]
    }
}

/// The `403 contact-change-hold` problem: the person's work email or smartcard changed
/// within the hold, which ends at `until` (`Retry-After`). `detail` says what waits.
pub fn contact_change_hold_problem(
    detail: &'static str,
    until: chrono::DateTime<chrono::Utc>,
) -> ProblemSpec {
    let seconds = u64::try_from((until - chrono::Utc::now()).num_seconds()).unwrap_or(0);
    ProblemSpec::new(
        StatusCode::FORBIDDEN,
        "contact-change-hold",
        "Recently changed details",
        detail,
    )
    .with_retry_after(seconds.max(1))
}

/// The `503 busy` problem of a full hashing pool.
pub fn busy_problem() -> ProblemSpec {
    ProblemSpec::from_catalogue(
        StatusCode::SERVICE_UNAVAILABLE,
        "busy",
        "problem-busy",
        Vec::new(),
    )
    .with_retry_after(1)
}

/// A policy violation as it appears in responses and problem `violations[]`.
pub fn violation_body(v: &esr_domain::Violation) -> Violation {
    let field = match v {
        esr_domain::Violation::ConfirmationMismatch => "confirm_password",
        _ => "new_password",
    };
    let words = policy_words(v);
    Violation {
        code: v.code().to_owned(),
        field: Some(field.to_owned()),
        message: words.text(Language::En).unwrap_or_else(|| v.message()),
        words: Some(words),
    }
}

/// The catalogue message of a password-policy violation, with its values.
fn policy_words(v: &esr_domain::Violation) -> Message {
    use esr_domain::Violation as Rule;
    let args = match v {
        Rule::TooShort { min } => vec![("min_length", Arg::Text(min.to_string()))],
        Rule::TooLong { max } => vec![("max_length", Arg::Text(max.to_string()))],
        Rule::ContainsContext { kind } => {
            vec![("context", Arg::Text(kind.as_str().to_owned()))]
        }
        Rule::Reused { depth } => vec![(
            "history_depth",
            Arg::Number(i64::try_from(*depth).unwrap_or(i64::MAX)),
        )],
        Rule::InvalidCharacters
        | Rule::Common
        | Rule::Repetitive
        | Rule::ConfirmationMismatch
        | Rule::Breached => Vec::new(),
    };
    Message::new(format!("violation-{}", v.code()), args)
}

/// The `400 password-policy` problem listing every violation.
pub fn policy_problem(violations: &[esr_domain::Violation]) -> ProblemSpec {
    ProblemSpec::from_catalogue(
        StatusCode::BAD_REQUEST,
        "password-policy",
        "problem-password-policy",
        Vec::new(),
    )
    .with_violations(violations.iter().map(violation_body).collect())
}

/// An example `400 password-policy` problem, for the catalogues.
pub fn policy_problem_example() -> ProblemSpec {
    policy_problem(&[
        esr_domain::Violation::TooShort { min: 12 },
        esr_domain::Violation::ConfirmationMismatch,
    ])
}

/// When an example contact-change hold ends (fixed, so the document is the same every build).
pub fn example_hold_end() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_795_856_400, 0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use esr_domain::{ContextKind, Violation as Rule};

    use super::*;

    /// Every password rule has its words in both languages, the English being the rule's own.
    #[test]
    fn every_password_rule_has_english_and_welsh_words() {
        let mut rules = vec![
            Rule::TooShort { min: 12 },
            Rule::TooLong { max: 128 },
            Rule::InvalidCharacters,
            Rule::Common,
            Rule::Repetitive,
            Rule::ConfirmationMismatch,
            Rule::Reused { depth: 1 },
            Rule::Reused { depth: 4 },
            Rule::Breached,
        ];
        rules.extend(
            [
                ContextKind::Name,
                ContextKind::Username,
                ContextKind::EmailAddress,
                ContextKind::OrganisationName,
                ContextKind::DateOfBirth,
                ContextKind::PersonalDetail,
            ]
            .map(|kind| Rule::ContainsContext { kind }),
        );
        for rule in rules {
            let words = policy_words(&rule);
            assert_eq!(words.text(Language::En), Some(rule.message()), "{rule:?}");
            let welsh = words.text(Language::Cy).expect("Welsh words");
            assert_ne!(welsh, rule.message(), "{rule:?}");
        }
    }
}
