//! Retention: deleting what the service no longer needs, class by class, once it is older
//! than the class's setting (docs/DATA-PROTECTION.md says what each class is and why it is
//! kept that long). Every instance purges now and then; `esr-api purge` does the same on
//! demand, and `--dry-run` only counts.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use esr_persistence::audit::{Actor, EventType};
use esr_persistence::retention::{self, Class, Cutoffs};
use esr_persistence::{DbConnection, RepoError, people};
use serde_json::json;

use super::{Caller, audit};
use crate::config::Config;
use crate::state::AppState;

/// Rows deleted per transaction: small enough that no purge holds a lock for long.
const BATCH: i64 = 1_000;

/// What a purge removed (or, in a dry run, would remove).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PurgeReport {
    /// Only counted, nothing deleted.
    pub dry_run: bool,
    /// Another instance was purging at the time, so this one did nothing.
    pub skipped: bool,
    /// Rows per class: `ended_sessions`, `spent_tokens`, `password_history`, `sent_emails`,
    /// `dead_emails` deleted; `anonymous_events`, `audit_personal` audit events blanked;
    /// `leavers_erased` people anonymised.
    pub removed: BTreeMap<&'static str, i64>,
}

impl PurgeReport {
    /// Rows removed in all.
    pub fn total(&self) -> i64 {
        self.removed.values().sum()
    }
}

/// The report's name for leavers anonymised.
const LEAVERS: &str = "leavers_erased";

fn before(now: DateTime<Utc>, kept: Duration) -> DateTime<Utc> {
    now - chrono::Duration::from_std(kept).unwrap_or_default()
}

/// Where each class's retention ends at `now`.
pub fn cutoffs(config: &Config, now: DateTime<Utc>) -> Cutoffs {
    let before = |kept: Duration| before(now, kept);
    let retention = &config.retention;
    Cutoffs {
        ended_sessions: before(retention.ended_sessions),
        spent_tokens: before(retention.spent_tokens),
        password_history_depth: i64::try_from(config.password_policy.history_depth)
            .unwrap_or(i64::MAX)
            .max(1),
        sent_emails: before(retention.sent_emails),
        dead_emails: before(retention.dead_emails),
        anonymous_events: before(retention.anonymous_events),
        audit_personal: before(retention.audit_personal),
        previous_emails: now,
    }
}

/// Deletes (or with `dry_run` counts) everything past its retention, and audits what went.
pub fn purge(
    conn: &mut DbConnection,
    config: &Config,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<PurgeReport, RepoError> {
    let cutoffs = cutoffs(config, now);
    let left_before = before(now, config.retention.leavers);
    if dry_run {
        let mut removed = BTreeMap::new();
        for class in Class::ALL {
            removed.insert(class.as_str(), retention::count(conn, class, &cutoffs)?);
        }
        let leavers = people::leavers_before(conn, left_before, i64::MAX)?.len();
        removed.insert(LEAVERS, i64::try_from(leavers).unwrap_or(i64::MAX));
        return Ok(PurgeReport {
            dry_run,
            skipped: false,
            removed,
        });
    }
    let removed = retention::exclusively(conn, |conn| {
        let mut removed = BTreeMap::new();
        // Leavers first: erasing them blanks their audit events and deletes their rows, which
        // the classes after would otherwise count apart.
        removed.insert(LEAVERS, erase_leavers(conn, config, left_before, now)?);
        for class in Class::ALL {
            removed.insert(class.as_str(), delete_class(conn, class, &cutoffs)?);
        }
        if removed.values().any(|n| *n > 0) {
            conn.write_transaction(|c| record(c, config, &removed, now))?;
        }
        Ok(removed)
    })?;
    Ok(PurgeReport {
        dry_run,
        skipped: removed.is_none(),
        removed: removed.unwrap_or_default(),
    })
}

/// Deletes one class batch by batch, each batch its own transaction.
fn delete_class(
    conn: &mut DbConnection,
    class: Class,
    cutoffs: &Cutoffs,
) -> Result<i64, RepoError> {
    let mut total = 0;
    loop {
        let deleted =
            conn.write_transaction(|c| retention::delete_batch(c, class, cutoffs, BATCH))?;
        let deleted = i64::try_from(deleted).unwrap_or(i64::MAX);
        total += deleted;
        if deleted < BATCH {
            return Ok(total);
        }
    }
}

/// Anonymises every person who left before `left_before`, each in a transaction of their own
/// with its `person.erased` event ([`super::subject_rights::erase`]).
fn erase_leavers(
    conn: &mut DbConnection,
    config: &Config,
    left_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<i64, RepoError> {
    let mut erased = 0;
    loop {
        let leavers = people::leavers_before(conn, left_before, BATCH)?;
        for person in &leavers {
            if super::subject_rights::erase(conn, config, &Actor::System, person, now)?.is_some() {
                erased += 1;
            }
        }
        if i64::try_from(leavers.len()).unwrap_or(i64::MAX) < BATCH {
            return Ok(erased);
        }
    }
}

fn record(
    conn: &mut DbConnection,
    config: &Config,
    removed: &BTreeMap<&'static str, i64>,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let days = |kept: Duration| kept.as_secs() / 86_400;
    let retention = &config.retention;
    audit::record(
        conn,
        &Caller::internal(config.audit_chain.clone()),
        EventType::RetentionPurged,
        None,
        &Actor::System,
        &json!({
            "removed": removed,
            "retention_days": {
                "ended_sessions": days(retention.ended_sessions),
                "spent_tokens": days(retention.spent_tokens),
                "sent_emails": days(retention.sent_emails),
                "dead_emails": days(retention.dead_emails),
                "anonymous_events": days(retention.anonymous_events),
                "audit_personal": days(retention.audit_personal),
                "leavers": days(retention.leavers),
            },
            "password_history_depth": config.password_policy.history_depth,
        }),
        now,
    )
}

/// Purges every `interval` until the task is dropped, the first time after a random part of
/// the interval (instances started together do not all try at once). A failed purge is
/// logged and tried again at the next turn.
pub async fn purge_periodically(app: AppState, interval: Duration) {
    let first = interval.mul_f64(rand::random_range(0.05..1.0));
    tokio::time::sleep(first).await;
    loop {
        let config = std::sync::Arc::clone(&app.config);
        match app.db(move |c| purge(c, &config, Utc::now(), false)).await {
            Ok(report) if report.total() > 0 => {
                tracing::info!(removed = ?report.removed, "purged data past its retention");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purge failed; will try again"),
        }
        tokio::time::sleep(interval).await;
    }
}
