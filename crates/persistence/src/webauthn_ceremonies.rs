//! Passkey ceremonies between their start and their finish. The state (the challenge and the
//! credentials allowed, as the relying-party library serialises it) is not a secret, but it is
//! what makes an answer acceptable once: a finish deletes the row, and of two finishes racing
//! only the one whose delete removed it goes on.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use esr_domain::{AccountId, SessionId, TokenDigest};

use crate::connection::DbConnection;
use crate::error::RepoError;
use crate::schema::webauthn_ceremonies as w;

/// What a ceremony is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyPurpose {
    /// Adding a passkey, by the session that started it.
    Registration,
    /// Answering a login's challenge with a passkey (the id is the `mfa_token`'s digest).
    SecondFactor,
    /// A sign-in with a passkey alone, spent (the id is its sealed state's digest).
    SignIn,
}

impl CeremonyPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::SecondFactor => "second_factor",
            Self::SignIn => "sign_in",
        }
    }
}

/// A ceremony to remember.
#[derive(Debug, Clone, Copy)]
pub struct NewCeremony<'a> {
    /// Its id.
    pub id: &'a str,
    /// What it is for.
    pub purpose: CeremonyPurpose,
    /// Whose account.
    pub account_id: &'a AccountId,
    /// Registration: the session that may finish it.
    pub session_id: Option<&'a SessionId>,
    /// The relying-party library's state, serialised.
    pub state: &'a str,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// A ceremony started and not yet finished or expired.
#[derive(Debug, Clone)]
pub struct Ceremony {
    /// Its id.
    pub id: String,
    /// Whose account.
    pub account_id: AccountId,
    /// Registration: the session that may finish it.
    pub session_id: Option<SessionId>,
    /// The relying-party library's state, serialised.
    pub state: String,
}

/// Remembers a ceremony (replacing one of the same id), first forgetting those that expired.
pub fn start(
    conn: &mut DbConnection,
    new: &NewCeremony<'_>,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    diesel::delete(w::table.filter(w::expires_at.lt(now.naive_utc()))).execute(conn)?;
    diesel::delete(w::table.filter(w::id.eq(new.id))).execute(conn)?;
    diesel::insert_into(w::table)
        .values((
            w::id.eq(new.id),
            w::purpose.eq(new.purpose.as_str()),
            w::account_id.eq(new.account_id.as_str()),
            w::session_id.eq(new.session_id.map(SessionId::as_str)),
            w::state.eq(new.state),
            w::expires_at.eq(new.expires_at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The unexpired ceremony `id` for `purpose`, if any.
pub fn find(
    conn: &mut DbConnection,
    id: &str,
    purpose: CeremonyPurpose,
    now: DateTime<Utc>,
) -> Result<Option<Ceremony>, RepoError> {
    let row: Option<(String, String, Option<String>, String, NaiveDateTime)> = w::table
        .filter(w::id.eq(id))
        .filter(w::purpose.eq(purpose.as_str()))
        .filter(w::expires_at.gt(now.naive_utc()))
        .select((w::id, w::account_id, w::session_id, w::state, w::expires_at))
        .first(conn)
        .optional()?;
    Ok(row.map(|(id, account_id, session_id, state, _)| Ceremony {
        id,
        account_id: AccountId::from_stored(account_id),
        session_id: session_id.map(SessionId::from_stored),
        state,
    }))
}

/// Ends ceremony `id`: `true` for the one call that removed it.
pub fn finish(conn: &mut DbConnection, id: &str) -> Result<bool, RepoError> {
    Ok(diesel::delete(w::table.filter(w::id.eq(id))).execute(conn)? == 1)
}

/// Marks the sign-in whose sealed state has digest `spent` as used by the account until
/// `expires_at`: `false` when it was used already (a replay). Expired marks go first.
pub fn spend(
    conn: &mut DbConnection,
    spent: &TokenDigest,
    account_id: &AccountId,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    diesel::delete(w::table.filter(w::expires_at.lt(now.naive_utc()))).execute(conn)?;
    let values = (
        w::id.eq(spent.as_str()),
        w::purpose.eq(CeremonyPurpose::SignIn.as_str()),
        w::account_id.eq(account_id.as_str()),
        w::state.eq(""),
        w::expires_at.eq(expires_at.naive_utc()),
    );
    let inserted = crate::per_backend!(conn, |c| diesel::insert_into(w::table)
        .values(values)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

/// Ends the registrations a session has under way (a new one replaces them, so a session
/// keeps at most one).
pub fn end_registrations_of(
    conn: &mut DbConnection,
    session_id: &SessionId,
) -> Result<usize, RepoError> {
    Ok(diesel::delete(
        w::table
            .filter(w::session_id.eq(session_id.as_str()))
            .filter(w::purpose.eq(CeremonyPurpose::Registration.as_str())),
    )
    .execute(conn)?)
}
