//! Second factors: authenticator apps (TOTP, the secret stored sealed by the caller) and, in
//! the same table, passkeys. Each TOTP time step is accepted once, by a conditional `UPDATE`
//! that two concurrent presentations of one code cannot both pass.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use esr_domain::{AccountId, SessionId};

use crate::connection::DbConnection;
use crate::error::RepoError;
use crate::schema::second_factors as f;

/// What kind of factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorKind {
    /// Authenticator app (RFC 6238).
    Totp,
    /// Passkey or security key (WebAuthn).
    Passkey,
}

impl FactorKind {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Passkey => "passkey",
        }
    }

    fn parse(s: &str) -> Result<Self, RepoError> {
        match s {
            "totp" => Ok(Self::Totp),
            "passkey" => Ok(Self::Passkey),
            other => Err(RepoError::Corrupt(format!("factor kind {other:?}"))),
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = f)]
struct Row {
    id: String,
    account_id: String,
    kind: String,
    name: String,
    sealed_secret: Option<String>,
    last_step: Option<i64>,
    enrolling_session_id: Option<String>,
    failed_confirmations: i32,
    created_at: NaiveDateTime,
    confirmed_at: Option<NaiveDateTime>,
    last_used_at: Option<NaiveDateTime>,
}

/// A stored factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFactor {
    /// Random id.
    pub id: String,
    /// Whose.
    pub account_id: AccountId,
    /// Authenticator app or passkey.
    pub kind: FactorKind,
    /// The name the person gave it.
    pub name: String,
    /// TOTP: the secret, sealed with the MFA key (never leaves the service).
    pub sealed_secret: Option<String>,
    /// TOTP: the last time step accepted.
    pub last_step: Option<i64>,
    /// Pending: the session that started it, the only one that may confirm it.
    pub enrolling_session_id: Option<SessionId>,
    /// Pending: wrong codes given to confirm it.
    pub failed_confirmations: u32,
    /// Added.
    pub created_at: DateTime<Utc>,
    /// Confirmed by a first valid code (`None`: still pending).
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Last used to sign in.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl StoredFactor {
    /// Confirmed, so usable to sign in.
    pub fn is_confirmed(&self) -> bool {
        self.confirmed_at.is_some()
    }
}

impl TryFrom<Row> for StoredFactor {
    type Error = RepoError;

    fn try_from(r: Row) -> Result<Self, RepoError> {
        Ok(Self {
            kind: FactorKind::parse(&r.kind)?,
            id: r.id,
            account_id: AccountId::from_stored(r.account_id),
            name: r.name,
            sealed_secret: r.sealed_secret,
            last_step: r.last_step,
            enrolling_session_id: r.enrolling_session_id.map(SessionId::from_stored),
            failed_confirmations: u32::try_from(r.failed_confirmations).unwrap_or(0),
            created_at: r.created_at.and_utc(),
            confirmed_at: r.confirmed_at.map(|t| t.and_utc()),
            last_used_at: r.last_used_at.map(|t| t.and_utc()),
        })
    }
}

/// A new id for a factor (the sealed secret is bound to it, so it is chosen first).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A pending authenticator app: its id, whose, its name, its sealed secret, and the session
/// enrolling it.
#[derive(Debug, Clone, Copy)]
pub struct NewTotp<'a> {
    /// Chosen first (the sealed secret is bound to it).
    pub id: &'a str,
    /// Whose.
    pub account_id: &'a AccountId,
    /// The name given.
    pub name: &'a str,
    /// The secret sealed with the MFA key.
    pub sealed_secret: &'a str,
    /// The session that may confirm it.
    pub enrolling_session_id: &'a SessionId,
}

/// Adds a pending authenticator app, replacing the account's other pending ones (only the
/// newest QR code can be confirmed).
pub fn add_pending_totp(
    conn: &mut DbConnection,
    new: &NewTotp<'_>,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let NewTotp {
        id,
        account_id,
        name,
        sealed_secret,
        enrolling_session_id,
    } = *new;
    diesel::delete(
        f::table
            .filter(f::account_id.eq(account_id.as_str()))
            .filter(f::kind.eq(FactorKind::Totp.as_str()))
            .filter(f::confirmed_at.is_null()),
    )
    .execute(conn)?;
    diesel::insert_into(f::table)
        .values((
            f::id.eq(id),
            f::account_id.eq(account_id.as_str()),
            f::kind.eq(FactorKind::Totp.as_str()),
            f::name.eq(name),
            f::sealed_secret.eq(sealed_secret),
            f::enrolling_session_id.eq(enrolling_session_id.as_str()),
            f::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// A passkey just registered: its id, whose, its name, and its credential (public key,
/// signature counter) sealed with the MFA key.
#[derive(Debug, Clone, Copy)]
pub struct NewPasskey<'a> {
    /// Chosen first (the sealed credential is bound to it).
    pub id: &'a str,
    /// Whose.
    pub account_id: &'a AccountId,
    /// The name given.
    pub name: &'a str,
    /// The credential, sealed.
    pub sealed_credential: &'a str,
    /// The credential's id (base64url), unique across every account.
    pub credential_id: &'a str,
}

/// Adds a passkey, confirmed: the registration ceremony was its proof.
pub fn add_passkey(
    conn: &mut DbConnection,
    new: &NewPasskey<'_>,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let at = now.naive_utc();
    diesel::insert_into(f::table)
        .values((
            f::id.eq(new.id),
            f::account_id.eq(new.account_id.as_str()),
            f::kind.eq(FactorKind::Passkey.as_str()),
            f::name.eq(new.name),
            f::sealed_secret.eq(new.sealed_credential),
            f::credential_id.eq(Some(new.credential_id)),
            f::created_at.eq(at),
            f::confirmed_at.eq(Some(at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Whether a passkey with this credential id is registered, to any account.
pub fn credential_registered(
    conn: &mut DbConnection,
    credential_id: &str,
) -> Result<bool, RepoError> {
    let n: i64 = f::table
        .filter(f::credential_id.eq(credential_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Records a sign-in with passkey `id`: its credential as it is now (the signature counter
/// moved on), only if it is still `was`, so of two sign-ins racing with one credential only
/// one counts. Returns whether it was recorded.
pub fn record_passkey_use(
    conn: &mut DbConnection,
    id: &str,
    was: &str,
    now_sealed: &str,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let n = diesel::update(
        f::table
            .filter(f::id.eq(id))
            .filter(f::sealed_secret.eq(was)),
    )
    .set((
        f::sealed_secret.eq(now_sealed),
        f::last_used_at.eq(Some(now.naive_utc())),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Every factor of the account, pending ones included, oldest first.
pub fn list_for_account(
    conn: &mut DbConnection,
    account_id: &AccountId,
) -> Result<Vec<StoredFactor>, RepoError> {
    f::table
        .filter(f::account_id.eq(account_id.as_str()))
        .order((f::created_at.asc(), f::id.asc()))
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(StoredFactor::try_from)
        .collect()
}

/// How many confirmed factors the account has.
pub fn count_confirmed(conn: &mut DbConnection, account_id: &AccountId) -> Result<i64, RepoError> {
    Ok(f::table
        .filter(f::account_id.eq(account_id.as_str()))
        .filter(f::confirmed_at.is_not_null())
        .count()
        .get_result(conn)?)
}

/// One factor of the account.
pub fn find(
    conn: &mut DbConnection,
    account_id: &AccountId,
    id: &str,
) -> Result<Option<StoredFactor>, RepoError> {
    f::table
        .filter(f::id.eq(id))
        .filter(f::account_id.eq(account_id.as_str()))
        .select(Row::as_select())
        .get_result(conn)
        .optional()?
        .map(StoredFactor::try_from)
        .transpose()
}

/// Accepts TOTP time `step` for the factor: only if no later or equal step was accepted
/// before, so a code works once. Confirms a pending factor. Returns whether it was accepted.
pub fn accept_step(
    conn: &mut DbConnection,
    id: &str,
    step: i64,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let at = now.naive_utc();
    let n = diesel::update(
        f::table
            .filter(f::id.eq(id))
            .filter(f::last_step.is_null().or(f::last_step.lt(step))),
    )
    .set((
        f::last_step.eq(Some(step)),
        f::last_used_at.eq(Some(at)),
        f::confirmed_at.eq(coalesce(f::confirmed_at, Some(at))),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

diesel::define_sql_function! {
    /// SQL `COALESCE` of two timestamps: the first that is not null.
    fn coalesce(
        first: diesel::sql_types::Nullable<diesel::sql_types::Timestamp>,
        second: diesel::sql_types::Nullable<diesel::sql_types::Timestamp>,
    ) -> diesel::sql_types::Nullable<diesel::sql_types::Timestamp>;
}

/// Counts a wrong code given to confirm the pending factor; returns the count now.
pub fn count_failed_confirmation(conn: &mut DbConnection, id: &str) -> Result<u32, RepoError> {
    diesel::update(
        f::table
            .filter(f::id.eq(id))
            .filter(f::confirmed_at.is_null()),
    )
    .set(f::failed_confirmations.eq(f::failed_confirmations + 1))
    .execute(conn)?;
    let count: Option<i32> = f::table
        .find(id)
        .select(f::failed_confirmations)
        .get_result(conn)
        .optional()?;
    Ok(count.map_or(0, |c| u32::try_from(c).unwrap_or(0)))
}

/// Removes one factor of the account. Returns whether it existed.
pub fn remove(
    conn: &mut DbConnection,
    account_id: &AccountId,
    id: &str,
) -> Result<bool, RepoError> {
    let n = diesel::delete(
        f::table
            .filter(f::id.eq(id))
            .filter(f::account_id.eq(account_id.as_str())),
    )
    .execute(conn)?;
    Ok(n == 1)
}

/// Removes every factor of the account (an administrator's reset). Returns how many
/// confirmed ones there were.
pub fn remove_all(conn: &mut DbConnection, account_id: &AccountId) -> Result<usize, RepoError> {
    let confirmed = usize::try_from(count_confirmed(conn, account_id)?).unwrap_or(usize::MAX);
    diesel::delete(f::table.filter(f::account_id.eq(account_id.as_str()))).execute(conn)?;
    Ok(confirmed)
}
