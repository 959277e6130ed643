//! Table definitions shared by both backends. Timestamps are `TIMESTAMP` columns holding UTC
//! (the one timestamp type diesel's multi-backend connection maps on SQLite and PostgreSQL).

diesel::table! {
    /// Employing organisations (NHS trusts), keyed by their three-character ESR code.
    organisations (code) {
        code -> Text,
        name -> Text,
        internet_access_approval -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}
