//! The closed sets of values some answers' fields hold, declared as enums in the OpenAPI
//! document (`#[schema(schema_with = …)]`) so generated clients get them as types. Each set
//! comes from the type that holds it in the code, so the document cannot fall behind.

use esr_domain::{AccountStatus, ApiKeyAccess, InternetAccessStatus};
use esr_persistence::outbox::{EmailKind, status};
use utoipa::openapi::{Object, ObjectBuilder, Type};

fn one_of(description: &str, values: impl IntoIterator<Item = &'static str>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values))
        .build()
}

/// An account's status.
pub fn account_status() -> Object {
    let all = [
        AccountStatus::Active,
        AccountStatus::Locked,
        AccountStatus::Suspended,
        AccountStatus::Disabled,
    ];
    one_of(
        "`active`, `locked` (too many failed logins), `suspended` (by an administrator) or `disabled` (for example a leaver).",
        all.map(AccountStatus::as_str),
    )
}

/// An account's internet-access status.
pub fn internet_access() -> Object {
    let all = [
        InternetAccessStatus::NotRequested,
        InternetAccessStatus::Pending,
        InternetAccessStatus::Approved,
        InternetAccessStatus::Rejected,
        InternetAccessStatus::Revoked,
    ];
    one_of(
        "Internet access: `not_requested`, `pending` (manual approval), `approved`, `rejected` or `revoked`.",
        all.map(InternetAccessStatus::as_str),
    )
}

/// An API key's access.
pub fn key_access() -> Object {
    one_of(
        "`read` (GET only) or `write`.",
        [ApiKeyAccess::Read, ApiKeyAccess::Write].map(ApiKeyAccess::as_str),
    )
}

/// The language of a person's emails.
pub fn language() -> Object {
    one_of("`en` or `cy`: the language of emails.", ["en", "cy"])
}

/// An outbox message's status.
pub fn outbox_status() -> Object {
    one_of(
        "`pending`, `sending`, `sent` or `dead`.",
        [status::PENDING, status::SENDING, status::SENT, status::DEAD],
    )
}

/// An outbox message's template.
pub fn email_kind() -> Object {
    one_of(
        "The email's template.",
        EmailKind::ALL.map(EmailKind::as_str),
    )
}
