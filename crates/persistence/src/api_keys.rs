//! Administrator API keys. The table holds the SHA-256 of each key and a short visible
//! prefix; the key itself leaves the process once, when it is created.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use esr_domain::{ApiKeyAccess, ApiKeyName, ApiKeyScope, TokenDigest};

use crate::connection::DbConnection;
use crate::error::RepoError;
use crate::organisations::Page;
use crate::schema::api_keys as k;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = k)]
struct ApiKeyRow {
    id: String,
    name: String,
    prefix: String,
    scope: String,
    access: String,
    created_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
    last_used_at: Option<NaiveDateTime>,
    sees_clients: bool,
}

/// An API key as stored (without its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Random id.
    pub id: String,
    /// Unique name, written into the audit trail.
    pub name: ApiKeyName,
    /// The first characters of the key, e.g. `esr_Q2Vnc0dG`.
    pub prefix: String,
    /// Which organisations it covers.
    pub scope: ApiKeyScope,
    /// Read only or read-write.
    pub access: ApiKeyAccess,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Revoked (UTC), if revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Last used (UTC, to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// A read-only key granted the clients (IP, user agent) behind audit events.
    pub sees_clients: bool,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = RepoError;

    fn try_from(r: ApiKeyRow) -> Result<Self, RepoError> {
        let corrupt = |what: &str, v: &str| RepoError::Corrupt(format!("api key {what} {v:?}"));
        Ok(Self {
            name: ApiKeyName::parse(&r.name).map_err(|_| corrupt("name", &r.name))?,
            scope: ApiKeyScope::parse(&r.scope).map_err(|_| corrupt("scope", &r.scope))?,
            access: ApiKeyAccess::parse(&r.access).map_err(|_| corrupt("access", &r.access))?,
            id: r.id,
            prefix: r.prefix,
            created_at: r.created_at.and_utc(),
            revoked_at: r.revoked_at.map(|t| t.and_utc()),
            last_used_at: r.last_used_at.map(|t| t.and_utc()),
            sees_clients: r.sees_clients,
        })
    }
}

/// A key to store.
#[derive(Debug, Clone)]
pub struct NewApiKey<'a> {
    /// Unique name.
    pub name: &'a ApiKeyName,
    /// Visible prefix of the key.
    pub prefix: &'a str,
    /// SHA-256 (hex) of the key.
    pub key_hash: &'a TokenDigest,
    /// Scope.
    pub scope: &'a ApiKeyScope,
    /// Access.
    pub access: ApiKeyAccess,
    /// Granted the clients behind audit events (read-only keys; read-write keys see them).
    pub sees_clients: bool,
}

/// Stores a key. `Ok(None)` when the name is taken.
pub fn insert(
    conn: &mut DbConnection,
    new: &NewApiKey<'_>,
    now: DateTime<Utc>,
) -> Result<Option<ApiKey>, RepoError> {
    let id = uuid::Uuid::new_v4().to_string();
    let result = conn.write_transaction(|c| {
        diesel::insert_into(k::table)
            .values((
                k::id.eq(&id),
                k::name.eq(new.name.as_str()),
                k::prefix.eq(new.prefix),
                k::key_hash.eq(new.key_hash.as_str()),
                k::scope.eq(new.scope.as_str()),
                k::access.eq(new.access.as_str()),
                k::sees_clients.eq(new.sees_clients),
                k::created_at.eq(now.naive_utc()),
            ))
            .execute(c)?;
        Ok(())
    });
    match result {
        Ok(()) => find(conn, &id),
        Err(RepoError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ))) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Finds a key by id (revoked or not).
pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<ApiKey>, RepoError> {
    k::table
        .find(id)
        .select(ApiKeyRow::as_select())
        .get_result(conn)
        .optional()?
        .map(ApiKey::try_from)
        .transpose()
}

/// The live (not revoked) key with this SHA-256.
pub fn find_live_by_hash(
    conn: &mut DbConnection,
    key_hash: &TokenDigest,
) -> Result<Option<ApiKey>, RepoError> {
    k::table
        .filter(k::key_hash.eq(key_hash.as_str()))
        .filter(k::revoked_at.is_null())
        .select(ApiKeyRow::as_select())
        .get_result(conn)
        .optional()?
        .map(ApiKey::try_from)
        .transpose()
}

/// Stamps `last_used_at`, at most once a minute per key (so reads do not write every time).
pub fn touch(conn: &mut DbConnection, id: &str, now: DateTime<Utc>) -> Result<(), RepoError> {
    let at = now.naive_utc();
    let stale = (now - Duration::minutes(1)).naive_utc();
    diesel::update(
        k::table
            .filter(k::id.eq(id))
            .filter(k::last_used_at.is_null().or(k::last_used_at.lt(stale))),
    )
    .set(k::last_used_at.eq(Some(at)))
    .execute(conn)?;
    Ok(())
}

/// Lists keys by name, `limit` at a time after `cursor` (a name).
pub fn list(
    conn: &mut DbConnection,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Page<ApiKey>, RepoError> {
    let mut q = k::table
        .select(ApiKeyRow::as_select())
        .order(k::name.asc())
        .limit(i64::from(limit) + 1)
        .into_boxed();
    if let Some(after) = cursor {
        q = q.filter(k::name.gt(after.to_owned()));
    }
    let mut items = q
        .load(conn)?
        .into_iter()
        .map(ApiKey::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|key| key.name.as_str().to_owned())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// Revokes a key. Returns whether it was live.
pub fn revoke(conn: &mut DbConnection, id: &str, now: DateTime<Utc>) -> Result<bool, RepoError> {
    let n = diesel::update(
        k::table
            .filter(k::id.eq(id))
            .filter(k::revoked_at.is_null()),
    )
    .set(k::revoked_at.eq(Some(now.naive_utc())))
    .execute(conn)?;
    Ok(n == 1)
}
