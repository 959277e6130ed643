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
        inactivity_limit_days -> Nullable<Integer>,
        password_expiry_days -> Nullable<Integer>,
        mfa_policy -> Text,
    }
}

diesel::table! {
    /// Members of staff, one row per employment (organisation + employee number).
    people (id) {
        id -> Text,
        organisation_code -> Text,
        employee_number -> Text,
        first_name -> Text,
        last_name -> Text,
        date_of_birth -> Date,
        work_email -> Text,
        smartcard_subject -> Nullable<Text>,
        language -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        contact_changed_at -> Nullable<Timestamp>,
        previous_work_email -> Nullable<Text>,
        previous_email_until -> Nullable<Timestamp>,
        left_at -> Nullable<Timestamp>,
        erased_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// ESR accounts: one username per person per employing organisation.
    accounts (id) {
        id -> Text,
        username -> Text,
        person_id -> Text,
        organisation_code -> Text,
        status -> Text,
        internet_access -> Text,
        internet_access_changed_at -> Nullable<Timestamp>,
        password_hash -> Nullable<Text>,
        password_changed_at -> Nullable<Timestamp>,
        failed_login_count -> Integer,
        locked_at -> Nullable<Timestamp>,
        last_login_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Hashes of an account's passwords, newest last (the current one included).
    password_history (id) {
        id -> BigInt,
        account_id -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Login sessions; the id is the `sid` claim of access tokens.
    sessions (id) {
        id -> Text,
        account_id -> Text,
        amr -> Text,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        second_factor -> Nullable<Text>,
        enrolment_only -> Bool,
    }
}

diesel::table! {
    /// Refresh tokens, stored only as SHA-256; a chain per session (parent → child).
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        parent_hash -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Token signing keys (public part always; private part only for keys generated in dev).
    signing_keys (kid) {
        kid -> Text,
        algorithm -> Text,
        public_key -> Text,
        private_key_pem -> Nullable<Text>,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Append-only, hash-chained security events.
    audit_events (seq) {
        seq -> BigInt,
        at -> Timestamp,
        event_type -> Text,
        account_id -> Nullable<Text>,
        actor -> Text,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        request_id -> Nullable<Text>,
        details -> Text,
        prev_hash -> Text,
        hash -> Text,
        personal_digest -> Nullable<Text>,
        personal_blanked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// The last sequence number and hash of the audit chain (one row).
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    /// Smartcard sign-in states already brought back once, kept until they expire.
    spent_smartcard_states (state_digest) {
        state_digest -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    /// Rate-limit counters shared by every instance: hits per key digest and fixed window.
    rate_limit_windows (key_digest, window_start) {
        key_digest -> Text,
        window_start -> Timestamp,
        hits -> Integer,
    }
}

diesel::joinable!(people -> organisations (organisation_code));
diesel::joinable!(accounts -> people (person_id));
diesel::joinable!(accounts -> organisations (organisation_code));
diesel::joinable!(password_history -> accounts (account_id));
diesel::joinable!(sessions -> accounts (account_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    people,
    accounts,
    password_history,
    sessions,
    refresh_tokens,
    signing_keys,
    audit_events,
    audit_head,
    one_time_tokens,
    recovery_requests,
    outbox,
    spent_smartcard_states,
    api_keys,
    rate_limit_windows,
    second_factors,
    recovery_codes,
    mfa_tokens,
    webauthn_ceremonies,
);

diesel::table! {
    /// Passkey ceremonies between their start and their finish.
    webauthn_ceremonies (id) {
        id -> Text,
        purpose -> Text,
        account_id -> Text,
        session_id -> Nullable<Text>,
        state -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    /// Authenticator apps (TOTP secrets sealed with the MFA key) and passkeys.
    second_factors (id) {
        id -> Text,
        account_id -> Text,
        kind -> Text,
        name -> Text,
        sealed_secret -> Nullable<Text>,
        last_step -> Nullable<BigInt>,
        enrolling_session_id -> Nullable<Text>,
        failed_confirmations -> Integer,
        created_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        credential_id -> Nullable<Text>,
    }
}

diesel::table! {
    /// One-time recovery codes, as keyed digests.
    recovery_codes (code_digest) {
        code_digest -> Text,
        account_id -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Single-use tokens of the second step (sign-in challenges, enrolment links), SHA-256 only.
    mfa_tokens (token_hash) {
        token_hash -> Text,
        account_id -> Text,
        purpose -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Password-reset and unlock tokens, stored only as SHA-256.
    one_time_tokens (token_hash) {
        token_hash -> Text,
        account_id -> Text,
        purpose -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        invalidated_at -> Nullable<Timestamp>,
        wrong_username_attempts -> Integer,
    }
}

diesel::table! {
    /// Recovery and unlock requests waiting to be matched.
    recovery_requests (id) {
        id -> Text,
        kind -> Text,
        work_email -> Text,
        date_of_birth -> Date,
        username -> Nullable<Text>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        request_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Emails to send, written in the transaction of their cause.
    outbox (id) {
        id -> Text,
        kind -> Text,
        recipient -> Text,
        language -> Text,
        account_id -> Nullable<Text>,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        claimed_by -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(one_time_tokens -> accounts (account_id));

diesel::table! {
    /// Administrator API keys, stored only as SHA-256 with a short visible prefix.
    api_keys (id) {
        id -> Text,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        scope -> Text,
        access -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        sees_clients -> Bool,
    }
}
