//! Organisations: creating one and changing its settings, each with its audit row.

use chrono::{DateTime, Utc};
use esr_domain::{MfaPolicy, OrganisationCode};
use esr_persistence::audit::{Actor, EventType};
use esr_persistence::organisations::{
    self, Organisation, OrganisationChanges, OrganisationSettings,
};
use esr_persistence::{DbConnection, RepoError};
use serde_json::json;

use super::versions::{self, Stale};
use super::{Caller, audit};

/// Creates the organisation; `None` when one with this code exists already.
pub fn create(
    conn: &mut DbConnection,
    caller: &Caller,
    actor: &Actor,
    code: &OrganisationCode,
    settings: &OrganisationSettings<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Organisation>, RepoError> {
    conn.write_transaction(|c| {
        let created = organisations::create(c, code, settings, now)?;
        if let Some(o) = &created {
            let details = settings_details(o, json!({}));
            audit::record(
                c,
                caller,
                EventType::AdminOrganisationCreated,
                None,
                actor,
                &details,
                now,
            )?;
        }
        Ok(created)
    })
}

/// Applies `changes`; the organisation as it now is, or `None` when no such code exists.
/// With `if_match` (an `If-Match` header), only while the organisation is still at that
/// version ([`versions`]), its row held meanwhile.
pub fn update(
    conn: &mut DbConnection,
    caller: &Caller,
    actor: &Actor,
    code: &OrganisationCode,
    changes: &OrganisationChanges<'_>,
    if_match: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Result<Option<Organisation>, Stale>, RepoError> {
    conn.write_transaction(|c| {
        let current = organisations::find_for_update(c, code)?;
        if let (Some(expected), Some(current)) = (if_match, &current)
            && !versions::if_match_allows(expected, &versions::tag(current.updated_at))
        {
            return Ok(Err(Stale));
        }
        let before = current.map(|o| o.mfa_policy);
        let updated = organisations::update(c, code, changes, now)?;
        if let Some(o) = &updated {
            let sessions_ended = policy_changed(c, o, before, now)?;
            let details = settings_details(
                o,
                json!({"name_changed": changes.name.is_some(), "password_only_sessions_ended": sessions_ended}),
            );
            audit::record(
                c,
                caller,
                EventType::AdminOrganisationUpdated,
                None,
                actor,
                &details,
                now,
            )?;
        }
        Ok(Ok(updated))
    })
}

/// A change of multi-factor policy (to `optional` or `required`) ends every session of the
/// organisation opened with a password alone: each signs in again under the new policy,
/// which may ask for a factor, or allow only enrolment, where the old one did not.
fn policy_changed(
    conn: &mut DbConnection,
    organisation: &Organisation,
    before: Option<MfaPolicy>,
    now: DateTime<Utc>,
) -> Result<usize, RepoError> {
    if before == Some(organisation.mfa_policy) || organisation.mfa_policy == MfaPolicy::Off {
        return Ok(0);
    }
    esr_persistence::sessions::revoke_password_only_for_organisation(conn, &organisation.code, now)
}

/// The audit details of an organisation's settings (never its name: it is not needed to
/// follow a change, and the organisation code identifies it), with `extra` merged in.
fn settings_details(o: &Organisation, mut extra: serde_json::Value) -> serde_json::Value {
    let settings = json!({
        "organisation": o.code.as_str(),
        "internet_access_approval": o.internet_access_approval.as_str(),
        "inactivity_limit_days": o.inactivity_limit_days,
        "password_expiry_days": o.password_expiry_days,
        "mfa_policy": o.mfa_policy.as_str(),
    });
    if let (Some(all), serde_json::Value::Object(s)) = (extra.as_object_mut(), settings) {
        all.extend(s);
    }
    extra
}
