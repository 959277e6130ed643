//! Demo data for development: two organisations and a handful of staff covering the
//! journeys (approved with a password, not yet requested, pending manual approval, and one
//! person employed by both organisations). Passwords are printed by `esr-api seed-demo`.

use chrono::{DateTime, NaiveDate, Utc};
use esr_domain::{
    ApprovalMode, InternetAccessStatus, OrganisationCode, Password, PasswordHasher, PasswordPolicy,
    PolicyContext,
};
use esr_persistence::accounts;
use esr_persistence::organisations::{self, NewOrganisation};
use esr_persistence::people::{self, NewPerson};
use esr_persistence::{DbConnection, RepoError};

/// What the seed created or found, for printing.
#[derive(Debug, Default)]
pub struct SeedReport {
    /// Organisations, as `CODE Name`.
    pub organisations: Vec<String>,
    /// Demo accounts.
    pub accounts: Vec<DemoAccount>,
}

/// One demo account and how to use it.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    /// ESR username.
    pub username: String,
    /// Display name.
    pub name: String,
    /// Internet-access status.
    pub internet_access: &'static str,
    /// The demo password, if the account has one.
    pub password: Option<&'static str>,
    /// Employee number (the dev identity provider signs in by it).
    pub employee_number: &'static str,
    /// Work email (for the recovery journey).
    pub work_email: &'static str,
    /// Date of birth (for the recovery journey).
    pub date_of_birth: &'static str,
}

/// The demo organisations: code, name, approval mode.
const DEMO_ORGANISATIONS: &[(&str, &str, ApprovalMode)] = &[
    ("999", "Demo NHS Trust", ApprovalMode::Automatic),
    (
        "998",
        "Demo Manual Approval NHS Trust",
        ApprovalMode::Manual,
    ),
];

struct DemoPerson {
    org: &'static str,
    employee_number: &'static str,
    first: &'static str,
    last: &'static str,
    dob: &'static str,
    email: &'static str,
    smartcard: &'static str,
    language: &'static str,
    access: InternetAccessStatus,
    password: Option<&'static str>,
}

const DEMO_PEOPLE: &[DemoPerson] = &[
    DemoPerson {
        org: "999",
        employee_number: "100001",
        first: "Jane",
        last: "Smith",
        dob: "1985-04-12",
        email: "jane.smith@demo.example.org",
        smartcard: "555000000001",
        language: "en",
        access: InternetAccessStatus::Approved,
        password: Some("Bluebell harbour lantern"),
    },
    DemoPerson {
        org: "999",
        employee_number: "100002",
        first: "Amir",
        last: "Patel",
        dob: "1979-11-03",
        email: "amir.patel@demo.example.org",
        smartcard: "555000000002",
        language: "en",
        access: InternetAccessStatus::Approved,
        password: Some("Copper kettle meadow 42"),
    },
    DemoPerson {
        org: "999",
        employee_number: "100003",
        first: "Siân",
        last: "Jones",
        dob: "1992-07-21",
        email: "sian.jones@demo.example.org",
        smartcard: "555000000003",
        language: "cy",
        access: InternetAccessStatus::NotRequested,
        password: None,
    },
    DemoPerson {
        org: "998",
        employee_number: "200001",
        first: "Oliver",
        last: "Brown",
        dob: "1988-02-14",
        email: "oliver.brown@demo.example.org",
        smartcard: "555000000004",
        language: "en",
        access: InternetAccessStatus::Pending,
        password: None,
    },
    DemoPerson {
        org: "998",
        employee_number: "200002",
        first: "Jane",
        last: "Smith",
        dob: "1985-04-12",
        email: "jane.smith@demo.example.org",
        smartcard: "555000000005",
        language: "en",
        access: InternetAccessStatus::Approved,
        password: Some("Juniper lighthouse orchard"),
    },
];

fn corrupt(what: impl Into<String>) -> RepoError {
    RepoError::Corrupt(what.into())
}

/// Creates the demo data where missing (idempotent: existing people and accounts are left as
/// they are, so a developer's changes survive restarts).
pub fn seed_demo(
    conn: &mut DbConnection,
    hasher: &PasswordHasher,
    now: DateTime<Utc>,
) -> Result<SeedReport, RepoError> {
    conn.write_transaction(|conn| {
        let mut report = SeedReport::default();
        for (code, name, mode) in DEMO_ORGANISATIONS {
            let code = OrganisationCode::parse(code)
                .map_err(|_| corrupt(format!("demo organisation code {code}")))?;
            let org = match organisations::find(conn, &code)? {
                Some(org) => org,
                None => organisations::upsert(
                    conn,
                    &NewOrganisation {
                        code: &code,
                        name,
                        internet_access_approval: *mode,
                    },
                    now,
                )?,
            };
            report
                .organisations
                .push(format!("{} {}", org.code, org.name));
        }
        for demo in DEMO_PEOPLE {
            report.accounts.push(seed_person(conn, hasher, demo, now)?);
        }
        Ok(report)
    })
}

fn seed_person(
    conn: &mut DbConnection,
    hasher: &PasswordHasher,
    demo: &DemoPerson,
    now: DateTime<Utc>,
) -> Result<DemoAccount, RepoError> {
    let org = OrganisationCode::parse(demo.org).map_err(|_| corrupt("demo org"))?;
    let dob = NaiveDate::parse_from_str(demo.dob, "%Y-%m-%d").map_err(|_| corrupt("demo dob"))?;
    let person = match people::find_by_employee_number(conn, &org, demo.employee_number)? {
        Some(p) => p,
        None => people::insert(
            conn,
            &NewPerson {
                organisation_code: &org,
                employee_number: demo.employee_number,
                first_name: demo.first,
                last_name: demo.last,
                date_of_birth: dob,
                work_email: demo.email,
                smartcard_subject: Some(demo.smartcard),
                language: demo.language,
            },
            now,
        )?,
    };
    let username = match accounts::for_person(conn, &person.id)?.into_iter().next() {
        Some(existing) => existing.username,
        None => {
            let account = accounts::find_or_create_for_person(conn, &person, demo.access, now)?
                .map_err(|e| corrupt(format!("demo username: {e}")))?;
            let username = account.username.clone();
            if let Some(password) = demo.password {
                let checked = PasswordPolicy::default()
                    .check(
                        &Password::new(password),
                        None,
                        &PolicyContext {
                            username: Some(username.as_str()),
                            first_name: Some(demo.first),
                            last_name: Some(demo.last),
                            email: Some(demo.email),
                            date_of_birth: Some(dob),
                            ..PolicyContext::default()
                        },
                    )
                    .map_err(|v| {
                        corrupt(format!(
                            "demo password for {username} breaks the policy: {v:?}"
                        ))
                    })?;
                let hash = hasher
                    .hash(&checked, &mut rand::rng())
                    .map_err(|e| corrupt(e.to_string()))?;
                accounts::set_password(conn, &account.id, hash.as_str(), false, now)?;
            }
            username
        }
    };
    Ok(DemoAccount {
        username: username.as_str().to_owned(),
        name: format!("{} {}", demo.first, demo.last),
        internet_access: demo.access.as_str(),
        password: demo.password,
        employee_number: demo.employee_number,
        work_email: demo.email,
        date_of_birth: demo.dob,
    })
}
