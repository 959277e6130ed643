//! Smartcard (OIDC) sign-in flows between `start` and `callback`.
//!
//! The row is keyed by the SHA-256 of the `state` handed to the browser, so the database
//! never holds a value that could be replayed, and any instance can finish a flow another
//! started. A flow is used by one conditional `UPDATE`: of two callbacks racing with the same
//! `state`, exactly one gets the PKCE verifier.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use esr_domain::TokenDigest;

use crate::connection::DbConnection;
use crate::error::RepoError;
use crate::schema::oidc_flows;

/// A flow to remember at `start`.
#[derive(Debug, Clone)]
pub struct NewFlow<'a> {
    /// SHA-256 (hex) of the `state` parameter.
    pub state_hash: &'a TokenDigest,
    /// SHA-256 (hex) of the `nonce` parameter.
    pub nonce_hash: &'a TokenDigest,
    /// The PKCE code verifier (sent to the token endpoint at the callback).
    pub code_verifier: &'a str,
    /// The redirect URI the provider was given (sent again with the code).
    pub redirect_uri: &'a str,
    /// When the flow stops being usable.
    pub expires_at: DateTime<Utc>,
}

/// Stores a new flow.
pub fn create(
    conn: &mut DbConnection,
    new: &NewFlow<'_>,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    diesel::insert_into(oidc_flows::table)
        .values((
            oidc_flows::state_hash.eq(new.state_hash.as_str()),
            oidc_flows::nonce_hash.eq(new.nonce_hash.as_str()),
            oidc_flows::code_verifier.eq(new.code_verifier),
            oidc_flows::redirect_uri.eq(new.redirect_uri),
            oidc_flows::created_at.eq(now.naive_utc()),
            oidc_flows::expires_at.eq(new.expires_at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// What the callback needs of a flow it has just used.
#[derive(Clone, PartialEq, Eq)]
pub struct UsedFlow {
    /// SHA-256 (hex) of the nonce the ID token must carry.
    pub nonce_hash: String,
    /// The PKCE code verifier.
    pub code_verifier: String,
    /// The redirect URI of the authorization request.
    pub redirect_uri: String,
}

impl std::fmt::Debug for UsedFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsedFlow")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// The outcome of presenting a `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowUse {
    /// Valid and now used: go on with the code exchange.
    Used(UsedFlow),
    /// Already used by an earlier callback (a replay).
    AlreadyUsed,
    /// Past its expiry.
    Expired,
    /// Not a state we issued.
    Unknown,
}

/// Uses a flow in one conditional `UPDATE` (so a state works once however many callbacks
/// race), and classifies failures.
pub fn use_flow(
    conn: &mut DbConnection,
    state_hash: &TokenDigest,
    now: DateTime<Utc>,
) -> Result<FlowUse, RepoError> {
    let at = now.naive_utc();
    let used: Option<(String, String, String)> = diesel::update(
        oidc_flows::table
            .filter(oidc_flows::state_hash.eq(state_hash.as_str()))
            .filter(oidc_flows::used_at.is_null())
            .filter(oidc_flows::expires_at.gt(at)),
    )
    .set(oidc_flows::used_at.eq(Some(at)))
    .returning((
        oidc_flows::nonce_hash,
        oidc_flows::code_verifier,
        oidc_flows::redirect_uri,
    ))
    .get_result(conn)
    .optional()?;
    if let Some((nonce_hash, code_verifier, redirect_uri)) = used {
        return Ok(FlowUse::Used(UsedFlow {
            nonce_hash,
            code_verifier,
            redirect_uri,
        }));
    }
    let existing: Option<Option<NaiveDateTime>> = oidc_flows::table
        .find(state_hash.as_str())
        .select(oidc_flows::used_at)
        .get_result(conn)
        .optional()?;
    Ok(match existing {
        Some(Some(_)) => FlowUse::AlreadyUsed,
        Some(None) => FlowUse::Expired,
        None => FlowUse::Unknown,
    })
}

/// Deletes flows that expired before `before` (kept a while after expiry so a late replay is
/// still recognised as one). Returns how many were deleted.
pub fn delete_expired(conn: &mut DbConnection, before: DateTime<Utc>) -> Result<usize, RepoError> {
    Ok(
        diesel::delete(oidc_flows::table.filter(oidc_flows::expires_at.lt(before.naive_utc())))
            .execute(conn)?,
    )
}

/// Flows started and not yet expired at `now` (used or not).
pub fn count_open(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<u64, RepoError> {
    let open: i64 = oidc_flows::table
        .filter(oidc_flows::expires_at.gt(now.naive_utc()))
        .count()
        .get_result(conn)?;
    Ok(u64::try_from(open).unwrap_or(0))
}
