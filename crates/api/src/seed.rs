//! Demo data for development: the demo organisation (and, as features land, demo people).

use chrono::{DateTime, Utc};
use esr_domain::{ApprovalMode, OrganisationCode};
use esr_persistence::organisations::{self, NewOrganisation};
use esr_persistence::{DbConnection, RepoError};

/// What the seed created or refreshed, for printing.
#[derive(Debug, Default)]
pub struct SeedReport {
    /// Organisations upserted, as `CODE Name`.
    pub organisations: Vec<String>,
}

/// The demo organisations: code, name, approval mode.
const DEMO_ORGANISATIONS: &[(&str, &str, ApprovalMode)] =
    &[("999", "Demo NHS Trust", ApprovalMode::Automatic)];

/// Creates or refreshes the demo data. Idempotent.
pub fn seed_demo(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<SeedReport, RepoError> {
    conn.write_transaction(|conn| {
        let mut report = SeedReport::default();
        for (code, name, mode) in DEMO_ORGANISATIONS {
            let code = OrganisationCode::parse(code)
                .map_err(|_| RepoError::Corrupt(format!("demo organisation code {code}")))?;
            let org = organisations::upsert(
                conn,
                &NewOrganisation {
                    code: &code,
                    name,
                    internet_access_approval: *mode,
                },
                now,
            )?;
            report
                .organisations
                .push(format!("{} {}", org.code, org.name));
        }
        Ok(report)
    })
}
