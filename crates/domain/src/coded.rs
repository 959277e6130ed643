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
