//! Sessions and their rotating refresh tokens. State lives only here, so every instance
//! sees the same revocations and a refresh token spent on one is spent on all.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use esr_domain::{AccountId, SessionId, TokenDigest};

use crate::connection::DbConnection;
use crate::error::RepoError;
use crate::schema::{refresh_tokens, sessions};

/// How the session was authenticated (`amr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// Username and password (home, My ESR app).
    Password,
    /// NHS smartcard at work.
    Smartcard,
    /// A passkey alone, which verified its user (home, My ESR app): RFC 8176 `hwk`.
    Passkey,
}

impl SessionKind {
    /// The `amr` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "pwd",
            Self::Smartcard => "smartcard",
            Self::Passkey => "hwk",
        }
    }

    fn parse(s: &str) -> Result<Self, RepoError> {
        match s {
            "pwd" => Ok(Self::Password),
            "smartcard" => Ok(Self::Smartcard),
            "hwk" => Ok(Self::Passkey),
            other => Err(RepoError::Corrupt(format!("session amr {other:?}"))),
        }
    }
}

/// The second factor a password session was completed with (its extra `amr` value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    /// An authenticator-app code or a recovery code (RFC 8176 `otp`).
    Otp,
    /// A passkey or security key (RFC 8176 `hwk`).
    Hwk,
}

impl SecondFactor {
    /// The `amr` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Otp => "otp",
            Self::Hwk => "hwk",
        }
    }

    fn parse(s: &str) -> Result<Self, RepoError> {
        match s {
            "otp" => Ok(Self::Otp),
            "hwk" => Ok(Self::Hwk),
            other => Err(RepoError::Corrupt(format!(
                "session second factor {other:?}"
            ))),
        }
    }
}

/// Why a session ended before its time: stored with the revocation, so the audit trail and the
/// person's session list can say what ended it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RevokeReason {
    /// The person logged out.
    Logout,
    /// The password was changed at home (the session that changed it continues).
    PasswordChanged,
    /// The password was reset with an emailed link.
    PasswordReset,
    /// The password was set at work with a smartcard.
    PasswordSet,
    /// Too many wrong passwords locked the account.
    AccountLocked,
    /// An administrator suspended the account.
    AccountSuspended,
    /// The account was disabled.
    AccountDisabled,
    /// An administrator rejected the request for internet access.
    InternetAccessRejected,
    /// An administrator revoked internet access.
    InternetAccessRevoked,
    /// No login for longer than the organisation's inactivity limit.
    InternetAccessLapsed,
    /// A refresh found the account no longer allowed to continue.
    AccountNotActive,
    /// A spent refresh token was presented again: a copy is in someone else's hands.
    RefreshTokenReuse,
    /// The smartcard linked to the person changed.
    SmartcardChanged,
    /// The person removed one of their second factors (their other sessions end).
    FactorRemoved,
    /// An administrator reset the person's second factors.
    FactorsReset,
    /// The person ended this session from another one (their list of sessions).
    EndedByOwner,
    /// A password alone no longer opens this account: it has a second factor now, or its
    /// organisation's policy changed.
    SecondFactorRequired,
}

impl RevokeReason {
    const ALL: [Self; 17] = [
        Self::Logout,
        Self::PasswordChanged,
        Self::PasswordReset,
        Self::PasswordSet,
        Self::AccountLocked,
        Self::AccountSuspended,
        Self::AccountDisabled,
        Self::InternetAccessRejected,
        Self::InternetAccessRevoked,
        Self::InternetAccessLapsed,
        Self::AccountNotActive,
        Self::RefreshTokenReuse,
        Self::SmartcardChanged,
        Self::FactorRemoved,
        Self::FactorsReset,
        Self::EndedByOwner,
        Self::SecondFactorRequired,
    ];

    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::PasswordSet => "password_set",
            Self::AccountLocked => "account_locked",
            Self::AccountSuspended => "account_suspended",
            Self::AccountDisabled => "account_disabled",
            Self::InternetAccessRejected => "internet_access_rejected",
            Self::InternetAccessRevoked => "internet_access_revoked",
            Self::InternetAccessLapsed => "internet_access_lapsed",
            Self::AccountNotActive => "account_not_active",
            Self::RefreshTokenReuse => "refresh_token_reuse",
            Self::SmartcardChanged => "smartcard_changed",
            Self::FactorRemoved => "factor_removed",
            Self::FactorsReset => "factors_reset",
            Self::EndedByOwner => "ended_by_owner",
            Self::SecondFactorRequired => "second_factor_required",
        }
    }

    /// Reads the stored text.
    pub fn parse(text: &str) -> Result<Self, RepoError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| RepoError::Corrupt(format!("session revoke reason {text:?}")))
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub(crate) struct SessionRow {
    id: String,
    account_id: String,
    amr: String,
    created_at: NaiveDateTime,
    last_used_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
    revoked_reason: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    second_factor: Option<String>,
    enrolment_only: bool,
}

/// A login session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Random id (the `sid` claim).
    pub id: SessionId,
    /// The account.
    pub account_id: AccountId,
    /// How it was authenticated.
    pub kind: SessionKind,
    /// Started.
    pub created_at: DateTime<Utc>,
    /// Last refreshed.
    pub last_used_at: DateTime<Utc>,
    /// Absolute end.
    pub expires_at: DateTime<Utc>,
    /// Revoked at, if revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why it was revoked.
    pub revoked_reason: Option<RevokeReason>,
    /// Client IP at login.
    pub ip: Option<String>,
    /// User agent at login.
    pub user_agent: Option<String>,
    /// The second factor the password was followed by, if any.
    pub second_factor: Option<SecondFactor>,
    /// May only enrol a second factor: the account must have one and has none yet.
    pub enrolment_only: bool,
}

impl Session {
    /// Usable at `now`: not revoked and not past its absolute end.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }

    /// Why it is no longer usable at `now`: its revocation's reason, or `expired` past its
    /// absolute end; `None` while it is active.
    pub fn end_reason(&self, now: DateTime<Utc>) -> Option<&'static str> {
        match self.revoked_reason {
            Some(reason) => Some(reason.as_str()),
            None if self.revoked_at.is_some() => Some("revoked"),
            None if now >= self.expires_at => Some("expired"),
            None => None,
        }
    }

    /// The methods that authenticated it (the `amr` claim), first factor first.
    pub fn amr(&self) -> Vec<&'static str> {
        amr(self.kind, self.second_factor)
    }
}

/// The `amr` of a session of `kind` completed with `second_factor`.
pub fn amr(kind: SessionKind, second_factor: Option<SecondFactor>) -> Vec<&'static str> {
    std::iter::once(kind.as_str())
        .chain(second_factor.map(SecondFactor::as_str))
        .collect()
}

impl TryFrom<SessionRow> for Session {
    type Error = RepoError;

    fn try_from(r: SessionRow) -> Result<Self, RepoError> {
        Ok(Self {
            kind: SessionKind::parse(&r.amr)?,
            id: SessionId::from_stored(r.id),
            account_id: AccountId::from_stored(r.account_id),
            created_at: r.created_at.and_utc(),
            last_used_at: r.last_used_at.and_utc(),
            expires_at: r.expires_at.and_utc(),
            revoked_at: r.revoked_at.map(|t| t.and_utc()),
            revoked_reason: r
                .revoked_reason
                .as_deref()
                .map(RevokeReason::parse)
                .transpose()?,
            ip: r.ip,
            user_agent: r.user_agent,
            second_factor: r
                .second_factor
                .as_deref()
                .map(SecondFactor::parse)
                .transpose()?,
            enrolment_only: r.enrolment_only,
        })
    }
}

/// A new session.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// Random id.
    pub id: &'a SessionId,
    /// The account.
    pub account_id: &'a AccountId,
    /// How it was authenticated.
    pub kind: SessionKind,
    /// Absolute end.
    pub expires_at: DateTime<Utc>,
    /// Client IP at login.
    pub ip: Option<&'a str>,
    /// User agent at login (truncated by the caller).
    pub user_agent: Option<&'a str>,
    /// The second factor that followed the password, if any.
    pub second_factor: Option<SecondFactor>,
    /// May only enrol a second factor.
    pub enrolment_only: bool,
}

/// Creates a session.
pub fn create(
    conn: &mut DbConnection,
    new: &NewSession<'_>,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let now = now.naive_utc();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(new.id.as_str()),
            sessions::account_id.eq(new.account_id.as_str()),
            sessions::amr.eq(new.kind.as_str()),
            sessions::created_at.eq(now),
            sessions::last_used_at.eq(now),
            sessions::expires_at.eq(new.expires_at.naive_utc()),
            sessions::ip.eq(new.ip),
            sessions::user_agent.eq(new.user_agent),
            sessions::second_factor.eq(new.second_factor.map(SecondFactor::as_str)),
            sessions::enrolment_only.eq(new.enrolment_only),
        ))
        .execute(conn)?;
    Ok(())
}

/// Finds a session by id (active or not).
pub fn find(conn: &mut DbConnection, id: &SessionId) -> Result<Option<Session>, RepoError> {
    sessions::table
        .find(id.as_str())
        .select(SessionRow::as_select())
        .get_result(conn)
        .optional()?
        .map(Session::try_from)
        .transpose()
}

/// Finds a session and holds its row until the transaction ends (PostgreSQL `FOR UPDATE`;
/// a SQLite write transaction holds the whole database already): a write that depends on the
/// session being live re-checks it here, and a concurrent revocation waits for it or wins.
pub fn find_for_update(
    conn: &mut DbConnection,
    id: &SessionId,
) -> Result<Option<Session>, RepoError> {
    let row = match conn {
        DbConnection::Postgresql(c) => sessions::table
            .find(id.as_str())
            .select(SessionRow::as_select())
            .for_update()
            .get_result(c)
            .optional()?,
        DbConnection::Sqlite(c) => sessions::table
            .find(id.as_str())
            .select(SessionRow::as_select())
            .get_result(c)
            .optional()?,
    };
    row.map(Session::try_from).transpose()
}

/// The account's sessions that are active at `now`, most recently used first.
pub fn list_active_for_account(
    conn: &mut DbConnection,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> Result<Vec<Session>, RepoError> {
    sessions::table
        .filter(sessions::account_id.eq(account_id.as_str()))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now.naive_utc()))
        .order((sessions::last_used_at.desc(), sessions::id.asc()))
        .select(SessionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Session::try_from)
        .collect()
}

/// Records that the session has shown a second factor: it is no longer limited to
/// enrolment, and its `amr` gains the factor (if it had none).
pub fn complete_with_second_factor(
    conn: &mut DbConnection,
    id: &SessionId,
    factor: SecondFactor,
) -> Result<(), RepoError> {
    diesel::update(
        sessions::table
            .filter(sessions::id.eq(id.as_str()))
            .filter(sessions::second_factor.is_null()),
    )
    .set(sessions::second_factor.eq(Some(factor.as_str())))
    .execute(conn)?;
    diesel::update(sessions::table.filter(sessions::id.eq(id.as_str())))
        .set(sessions::enrolment_only.eq(false))
        .execute(conn)?;
    Ok(())
}

/// Revokes one session and spends its refresh tokens. Returns whether it was active.
pub fn revoke(
    conn: &mut DbConnection,
    id: &SessionId,
    reason: RevokeReason,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let now = now.naive_utc();
    let n = diesel::update(
        sessions::table
            .filter(sessions::id.eq(id.as_str()))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(Some(now)),
        sessions::revoked_reason.eq(Some(reason.as_str())),
    ))
    .execute(conn)?;
    spend_all_tokens(conn, &[id.as_str().to_owned()], now)?;
    Ok(n == 1)
}

/// Revokes every active session of an account except `keep` (the caller's own, on a
/// password change), spending their refresh tokens. Returns how many were revoked.
pub fn revoke_all_for_account(
    conn: &mut DbConnection,
    account_id: &AccountId,
    keep: Option<&SessionId>,
    reason: RevokeReason,
    now: DateTime<Utc>,
) -> Result<usize, RepoError> {
    revoke_matching(conn, account_id, keep, None, reason, now)
}

/// Revokes every active session of one kind of an account except `keep` (a change of
/// smartcard ends workplace sessions only). Returns how many were revoked.
pub fn revoke_kind_for_account(
    conn: &mut DbConnection,
    account_id: &AccountId,
    kind: SessionKind,
    keep: Option<&SessionId>,
    reason: RevokeReason,
    now: DateTime<Utc>,
) -> Result<usize, RepoError> {
    revoke_matching(conn, account_id, keep, Some(kind), reason, now)
}

/// Revokes the account's active sessions opened with a password alone (no second factor;
/// those limited to enrolment too) except `keep`: its first factor was just added. Returns
/// how many.
pub fn revoke_password_only_for_account(
    conn: &mut DbConnection,
    account_id: &AccountId,
    keep: &SessionId,
    now: DateTime<Utc>,
) -> Result<usize, RepoError> {
    let ids: Vec<String> = sessions::table
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::amr.eq(SessionKind::Password.as_str()))
        .filter(sessions::second_factor.is_null())
        .filter(sessions::account_id.eq(account_id.as_str()))
        .filter(sessions::id.ne(keep.as_str().to_owned()))
        .select(sessions::id)
        .load(conn)?;
    revoke_ids(conn, &ids, RevokeReason::SecondFactorRequired, now)
}

/// Revokes every active password-only session (no second factor) of the organisation's
/// accounts, those limited to enrolment included: its multi-factor policy changed, so each
/// must sign in again under the new one. Returns how many.
pub fn revoke_password_only_for_organisation(
    conn: &mut DbConnection,
    organisation: &esr_domain::OrganisationCode,
    now: DateTime<Utc>,
) -> Result<usize, RepoError> {
    use crate::schema::accounts;
    let ids: Vec<String> = sessions::table
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::amr.eq(SessionKind::Password.as_str()))
        .filter(sessions::second_factor.is_null())
        .filter(
            sessions::account_id.eq_any(
                accounts::table
                    .filter(accounts::organisation_code.eq(organisation.as_str()))
                    .select(accounts::id),
            ),
        )
        .select(sessions::id)
        .load(conn)?;
    revoke_ids(conn, &ids, RevokeReason::SecondFactorRequired, now)
}

fn revoke_ids(
    conn: &mut DbConnection,
    ids: &[String],
    reason: RevokeReason,
    now: DateTime<Utc>,
) -> Result<usize, RepoError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let now = now.naive_utc();
    diesel::update(sessions::table.filter(sessions::id.eq_any(ids)))
        .set((
            sessions::revoked_at.eq(Some(now)),
            sessions::revoked_reason.eq(Some(reason.as_str())),
        ))
        .execute(conn)?;
    spend_all_tokens(conn, ids, now)?;
    Ok(ids.len())
}

fn revoke_matching(
    conn: &mut DbConnection,
    account_id: &AccountId,
    keep: Option<&SessionId>,
    kind: Option<SessionKind>,
    reason: RevokeReason,
    now: DateTime<Utc>,
) -> Result<usize, RepoError> {
    let now = now.naive_utc();
    let mut query = sessions::table
        .filter(sessions::account_id.eq(account_id.as_str()))
        .filter(sessions::revoked_at.is_null())
        .select(sessions::id)
        .into_boxed();
    if let Some(keep) = keep {
        query = query.filter(sessions::id.ne(keep.as_str().to_owned()));
    }
    if let Some(kind) = kind {
        query = query.filter(sessions::amr.eq(kind.as_str()));
    }
    let ids: Vec<String> = query.load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::update(sessions::table.filter(sessions::id.eq_any(&ids)))
        .set((
            sessions::revoked_at.eq(Some(now)),
            sessions::revoked_reason.eq(Some(reason.as_str())),
        ))
        .execute(conn)?;
    spend_all_tokens(conn, &ids, now)?;
    Ok(ids.len())
}

fn spend_all_tokens(
    conn: &mut DbConnection,
    session_ids: &[String],
    now: NaiveDateTime,
) -> Result<(), RepoError> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::session_id.eq_any(session_ids))
            .filter(refresh_tokens::used_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(Some(now)))
    .execute(conn)?;
    Ok(())
}

/// Stores a refresh token (its SHA-256 only).
pub fn add_refresh_token(
    conn: &mut DbConnection,
    token_hash: &TokenDigest,
    session_id: &SessionId,
    parent_hash: Option<&TokenDigest>,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(token_hash.as_str()),
            refresh_tokens::session_id.eq(session_id.as_str()),
            refresh_tokens::parent_hash.eq(parent_hash.map(TokenDigest::as_str)),
            refresh_tokens::created_at.eq(now.naive_utc()),
            refresh_tokens::expires_at.eq(expires_at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshSpend {
    /// Valid and now spent: issue the next one for this session.
    Spent {
        /// The session it belongs to.
        session: Session,
    },
    /// Already spent: a copy is in someone else's hands, unless it was spent a moment ago
    /// (a lost response, a concurrent refresh). The caller decides.
    Reused {
        /// The session it belongs to.
        session_id: SessionId,
        /// When it was spent.
        used_at: DateTime<Utc>,
    },
    /// Past its expiry.
    Expired,
    /// Not a token we issued.
    Unknown,
}

/// Spends a refresh token in one conditional `UPDATE` (so two concurrent presentations cannot
/// both succeed), and classifies failures.
pub fn spend_refresh_token(
    conn: &mut DbConnection,
    token_hash: &TokenDigest,
    now: DateTime<Utc>,
) -> Result<RefreshSpend, RepoError> {
    let at = now.naive_utc();
    let spent: Option<String> = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(token_hash.as_str()))
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::expires_at.gt(at)),
    )
    .set(refresh_tokens::used_at.eq(Some(at)))
    .returning(refresh_tokens::session_id)
    .get_result(conn)
    .optional()?;
    if let Some(session_id) = spent {
        let session_id = SessionId::from_stored(session_id);
        let session = find(conn, &session_id)?.ok_or_else(|| {
            RepoError::Corrupt(format!("refresh token of missing session {session_id}"))
        })?;
        return Ok(RefreshSpend::Spent { session });
    }
    let existing: Option<(String, Option<NaiveDateTime>)> = refresh_tokens::table
        .find(token_hash.as_str())
        .select((refresh_tokens::session_id, refresh_tokens::used_at))
        .get_result(conn)
        .optional()?;
    Ok(match existing {
        Some((session_id, Some(used_at))) => RefreshSpend::Reused {
            session_id: SessionId::from_stored(session_id),
            used_at: used_at.and_utc(),
        },
        Some((_, None)) => RefreshSpend::Expired,
        None => RefreshSpend::Unknown,
    })
}

/// The session a refresh token belongs to, whatever the token's state.
pub fn session_of_refresh_token(
    conn: &mut DbConnection,
    token_hash: &TokenDigest,
) -> Result<Option<SessionId>, RepoError> {
    let found: Option<String> = refresh_tokens::table
        .find(token_hash.as_str())
        .select(refresh_tokens::session_id)
        .get_result(conn)
        .optional()?;
    Ok(found.map(SessionId::from_stored))
}

/// The session of an unused, unexpired refresh token and when it expires.
pub fn unused_refresh_token(
    conn: &mut DbConnection,
    token_hash: &TokenDigest,
    now: DateTime<Utc>,
) -> Result<Option<(SessionId, DateTime<Utc>)>, RepoError> {
    let found: Option<(String, NaiveDateTime)> = refresh_tokens::table
        .find(token_hash.as_str())
        .filter(refresh_tokens::used_at.is_null())
        .filter(refresh_tokens::expires_at.gt(now.naive_utc()))
        .select((refresh_tokens::session_id, refresh_tokens::expires_at))
        .get_result(conn)
        .optional()?;
    Ok(found.map(|(id, expires)| (SessionId::from_stored(id), expires.and_utc())))
}

/// Marks a session as used now.
pub fn touch(conn: &mut DbConnection, id: &SessionId, now: DateTime<Utc>) -> Result<(), RepoError> {
    diesel::update(sessions::table.filter(sessions::id.eq(id.as_str())))
        .set(sessions::last_used_at.eq(now.naive_utc()))
        .execute(conn)?;
    Ok(())
}
