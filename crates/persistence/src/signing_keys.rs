//! Token signing keys. The public part of every key is stored so that all instances publish
//! and accept the same set; private parts are stored only for keys generated in dev mode
//! (production keys come from a file and never touch the database).

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::RepoError;
use crate::schema::signing_keys;

/// A stored key.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = signing_keys)]
pub struct StoredKey {
    /// Key id (RFC 7638 thumbprint).
    pub kid: String,
    /// Always `EdDSA`.
    pub algorithm: String,
    /// base64url of the raw Ed25519 public key.
    pub public_key: String,
    /// PKCS#8 PEM, for keys generated in dev mode only.
    pub private_key_pem: Option<String>,
    /// Registered.
    pub created_at: NaiveDateTime,
    /// Retired: no longer signs; verifies until `retired_at` + the access-token lifetime.
    pub retired_at: Option<NaiveDateTime>,
}

/// Registers a key (idempotent by kid; an existing key is left as it is).
pub fn register(
    conn: &mut DbConnection,
    kid: &str,
    public_key: &str,
    private_key_pem: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    per_backend!(conn, |c| diesel::insert_into(signing_keys::table)
        .values((
            signing_keys::kid.eq(kid),
            signing_keys::algorithm.eq("EdDSA"),
            signing_keys::public_key.eq(public_key),
            signing_keys::private_key_pem.eq(private_key_pem),
            signing_keys::created_at.eq(now.naive_utc()),
        ))
        .on_conflict(signing_keys::kid)
        .do_nothing()
        .execute(c))?;
    Ok(())
}

/// Keys that still verify at `now`: active ones, and retired ones within `grace` (the
/// access-token lifetime) of their retirement.
pub fn verifying(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    grace: Duration,
) -> Result<Vec<StoredKey>, RepoError> {
    let cutoff = (now - grace).naive_utc();
    Ok(signing_keys::table
        .filter(
            signing_keys::retired_at
                .is_null()
                .or(signing_keys::retired_at.gt(cutoff)),
        )
        .order(signing_keys::created_at.asc())
        .select(StoredKey::as_select())
        .load(conn)?)
}

/// The newest active key generated in dev mode (with its private part), if any.
pub fn newest_dev_key(conn: &mut DbConnection) -> Result<Option<StoredKey>, RepoError> {
    Ok(signing_keys::table
        .filter(signing_keys::retired_at.is_null())
        .filter(signing_keys::private_key_pem.is_not_null())
        .order(signing_keys::created_at.desc())
        .select(StoredKey::as_select())
        .first(conn)
        .optional()?)
}

/// Retires every active key but `kid`. Returns how many were retired.
pub fn retire_all_except(
    conn: &mut DbConnection,
    kid: &str,
    now: DateTime<Utc>,
) -> Result<usize, RepoError> {
    Ok(diesel::update(
        signing_keys::table
            .filter(signing_keys::kid.ne(kid))
            .filter(signing_keys::retired_at.is_null()),
    )
    .set(signing_keys::retired_at.eq(Some(now.naive_utc())))
    .execute(conn)?)
}
