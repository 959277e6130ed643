//! The consequence table of account events (SPEC §2, docs/ARCHITECTURE.md), checked row by
//! row through HTTP: for each event, on a fresh server, whether an outstanding link still
//! works, which sessions survive, which emails were queued to whom, and what was audited.

use std::collections::BTreeMap;

use esr_domain::Username;
use esr_persistence::outbox;
use serde_json::json;

use crate::auth::{JANE, JANE_PASSWORD};
use crate::helpers::{TestApp, TestBackend, spawn_app};
use crate::second_factor::enrol_with;
use crate::smartcard::smartcard_tokens;

const JANE_EMAIL: &str = "jane.smith@demo.example.org";
const JANE_NEW_EMAIL: &str = "jane.new@example.org";
const OLIVER: &str = "998OBROWN01";
const NEW_PASSWORD: &str = "Wandering heron at dusk";

/// What happens to the account.
#[derive(Debug, Clone, Copy)]
enum Event {
    PasswordChangedAtHome,
    PasswordResetByLink,
    PasswordSetAtWork,
    WorkEmailChanged,
    SmartcardChanged,
    Suspended,
    AccessRejected,
    AccessRevoked,
    Locked,
    FactorAdded,
    FactorRemoved,
    FactorsReset,
}

/// One row of the table.
struct Row {
    event: Event,
    /// An unlock link sent before the event no longer works.
    links_cancelled: bool,
    /// The password session from home survives (`None`: the account has none).
    password_session_survives: Option<bool>,
    /// The workplace (smartcard) session survives.
    workplace_session_survives: bool,
    /// The emails queued by the event: (kind, recipient).
    emails: &'static [(&'static str, &'static str)],
    /// The audit event it writes.
    audit: &'static str,
}

const TABLE: &[Row] = &[
    Row {
        event: Event::PasswordChangedAtHome,
        links_cancelled: true,
        password_session_survives: Some(true),
        workplace_session_survives: false,
        emails: &[("password_changed", JANE_EMAIL)],
        audit: "password.changed",
    },
    Row {
        event: Event::PasswordResetByLink,
        links_cancelled: true,
        password_session_survives: Some(false),
        workplace_session_survives: false,
        emails: &[("password_changed", JANE_EMAIL)],
        audit: "password.reset",
    },
    Row {
        event: Event::PasswordSetAtWork,
        links_cancelled: true,
        password_session_survives: Some(false),
        workplace_session_survives: true,
        emails: &[("password_changed", JANE_EMAIL)],
        audit: "password.set",
    },
    Row {
        event: Event::WorkEmailChanged,
        links_cancelled: true,
        password_session_survives: Some(true),
        workplace_session_survives: true,
        emails: &[
            ("work_email_changed", JANE_EMAIL),
            ("work_email_changed", JANE_NEW_EMAIL),
        ],
        audit: "person.work_email_changed",
    },
    Row {
        event: Event::SmartcardChanged,
        links_cancelled: true,
        password_session_survives: Some(true),
        workplace_session_survives: false,
        emails: &[("smartcard_changed", JANE_EMAIL)],
        audit: "person.smartcard_changed",
    },
    Row {
        event: Event::Suspended,
        links_cancelled: true,
        password_session_survives: Some(false),
        workplace_session_survives: false,
        emails: &[],
        audit: "admin.account.suspended",
    },
    Row {
        event: Event::AccessRejected,
        links_cancelled: true,
        password_session_survives: None,
        workplace_session_survives: false,
        emails: &[],
        audit: "admin.internet_access.rejected",
    },
    Row {
        event: Event::AccessRevoked,
        links_cancelled: true,
        password_session_survives: Some(false),
        workplace_session_survives: false,
        emails: &[],
        audit: "admin.internet_access.revoked",
    },
    Row {
        event: Event::Locked,
        links_cancelled: false,
        password_session_survives: Some(false),
        workplace_session_survives: false,
        emails: &[("account_locked", JANE_EMAIL)],
        audit: "account.locked",
    },
    Row {
        event: Event::FactorAdded,
        links_cancelled: false,
        password_session_survives: Some(false),
        workplace_session_survives: true,
        emails: &[("factor_added", JANE_EMAIL)],
        audit: "mfa.factor_added",
    },
    Row {
        event: Event::FactorRemoved,
        links_cancelled: false,
        password_session_survives: Some(false),
        workplace_session_survives: true,
        emails: &[("factor_removed", JANE_EMAIL)],
        audit: "mfa.factor_removed",
    },
    Row {
        event: Event::FactorsReset,
        links_cancelled: false,
        password_session_survives: Some(false),
        workplace_session_survives: false,
        emails: &[("factors_reset", JANE_EMAIL)],
        audit: "admin.account.factors_reset",
    },
];

/// The account an event happens to, with what it holds before: sessions and a link.
struct Subject {
    username: &'static str,
    password_access: Option<String>,
    workplace_access: String,
    unlock_link: String,
    factor_id: Option<String>,
}

impl Subject {
    fn factor_id(&self) -> &str {
        self.factor_id.as_deref().expect("a factor was prepared")
    }
}

async fn subject_for(app: &TestApp, event: Event) -> Subject {
    let (username, card) = match event {
        // Rejection needs a pending request: Oliver Brown's (organisation 998, manual approval).
        Event::AccessRejected => (OLIVER, "200001"),
        _ => (JANE, "100001"),
    };
    let password_access = if username == JANE {
        let tokens = app.tokens(JANE, JANE_PASSWORD).await;
        Some(tokens["access_token"].as_str().unwrap().to_owned())
    } else {
        None
    };
    let workplace = smartcard_tokens(app, card).await;
    Subject {
        username,
        password_access,
        workplace_access: workplace["access_token"].as_str().unwrap().to_owned(),
        unlock_link: issue_link(app, username, esr_domain::TokenPurpose::AccountUnlock),
        factor_id: None,
    }
}

/// A link of `purpose` for `username`, issued straight into the database (as the worker would).
fn issue_link(app: &TestApp, username: &str, purpose: esr_domain::TokenPurpose) -> String {
    let mut conn = app.db();
    let account = account_of(app, username);
    let (plain, digest) = esr_domain::OneTimeToken::generate(&mut rand::rng());
    let now = chrono::Utc::now();
    esr_persistence::one_time_tokens::issue(
        &mut conn,
        &digest,
        &account.id,
        purpose,
        now + chrono::Duration::hours(4),
        now,
    )
    .unwrap();
    plain.expose_secret().to_owned()
}

fn account_of(app: &TestApp, username: &str) -> esr_persistence::accounts::Account {
    esr_persistence::accounts::find_by_username(&mut app.db(), &Username::parse(username).unwrap())
        .unwrap()
        .unwrap()
}

/// A read-write key for all organisations, made as the CLI makes one.
pub fn write_key(app: &TestApp) -> String {
    let new = esr_api::app::api_keys::NewKey {
        name: esr_domain::ApiKeyName::parse(&format!("test-{}", rand::random::<u32>())).unwrap(),
        scope: esr_domain::ApiKeyScope::All,
        access: esr_domain::ApiKeyAccess::Write,
        sees_clients: false,
    };
    let (secret, _) = esr_api::app::api_keys::create(
        &mut app.db(),
        &esr_api::app::Caller::internal(app.audit_chain.clone()),
        &esr_persistence::audit::Actor::Cli,
        &new,
        chrono::Utc::now(),
    )
    .unwrap();
    secret.expose_secret().to_owned()
}

/// Queued emails by (kind, recipient), whatever their status.
fn outbox_counts(app: &TestApp) -> BTreeMap<(String, String), usize> {
    let mut counts = BTreeMap::new();
    for message in outbox::list(&mut app.db(), None, 1_000).unwrap() {
        *counts.entry((message.kind, message.recipient)).or_default() += 1;
    }
    counts
}

async fn admin_patch_person(app: &TestApp, username: &str, body: serde_json::Value) {
    let key = write_key(app);
    let person = account_of(app, username).person_id;
    let res = app
        .client
        .patch(format!("{}/v1/admin/people/{person}", app.address))
        .bearer_auth(&key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

async fn admin_action(app: &TestApp, username: &str, action: &str) {
    let key = write_key(app);
    let res = app
        .post_json(
            &format!("/v1/admin/accounts/{username}/{action}"),
            &json!({}),
            Some(&key),
        )
        .await;
    assert_eq!(res.status(), 200, "{action}: {}", res.text().await.unwrap());
}

async fn happen(app: &TestApp, event: Event, subject: &Subject) {
    let password_body = json!({"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD});
    match event {
        Event::PasswordChangedAtHome => {
            let body = json!({"current_password": JANE_PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD});
            let res = app
                .post_json("/v1/me/password", &body, subject.password_access.as_deref())
                .await;
            assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        }
        Event::PasswordResetByLink => {
            let link = issue_link(app, JANE, esr_domain::TokenPurpose::PasswordReset);
            let mut body = password_body;
            body["token"] = json!(link);
            body["username"] = json!(JANE);
            let res = app.post_json("/v1/password-resets", &body, None).await;
            assert_eq!(res.status(), 204, "{}", res.text().await.unwrap());
        }
        Event::PasswordSetAtWork => {
            let res = app
                .put_json(
                    "/v1/me/internet-access/password",
                    &password_body,
                    &subject.workplace_access,
                )
                .await;
            assert_eq!(res.status(), 204, "{}", res.text().await.unwrap());
        }
        Event::WorkEmailChanged => {
            admin_patch_person(app, JANE, json!({"work_email": JANE_NEW_EMAIL})).await;
        }
        Event::SmartcardChanged => {
            admin_patch_person(app, JANE, json!({"smartcard_subject": "555000000099"})).await;
        }
        Event::Suspended => admin_action(app, JANE, "suspend").await,
        Event::AccessRejected => admin_action(app, OLIVER, "internet-access/reject").await,
        Event::AccessRevoked => admin_action(app, JANE, "internet-access/revoke").await,
        Event::Locked => {
            for _ in 0..5 {
                let res = app.login(JANE, "Not the right password").await;
                assert_eq!(res.status(), 401);
            }
        }
        Event::FactorAdded => {
            enrol_with(app, &subject.workplace_access).await;
        }
        Event::FactorRemoved => {
            let res = app
                .client
                .delete(format!(
                    "{}/v1/me/factors/{}",
                    app.address,
                    subject.factor_id()
                ))
                .bearer_auth(&subject.workplace_access)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 204, "{}", res.text().await.unwrap());
        }
        Event::FactorsReset => admin_action(app, JANE, "factors/reset").await,
    }
}

/// What must exist before the event: the factor that is removed or reset.
async fn prepare(app: &TestApp, event: Event, subject: &mut Subject) {
    if matches!(event, Event::FactorRemoved | Event::FactorsReset) {
        let (id, _, _) = enrol_with(app, &subject.workplace_access).await;
        subject.factor_id = Some(id);
    }
}

async fn session_survives(app: &TestApp, access_token: &str) -> bool {
    match app.get_auth("/v1/me", access_token).await.status().as_u16() {
        200 => true,
        401 => false,
        other => panic!("GET /v1/me answered {other}"),
    }
}

async fn link_works(app: &TestApp, link: &str) -> bool {
    let res = app
        .post_json("/v1/account-unlocks", &json!({"token": link}), None)
        .await;
    match res.status().as_u16() {
        204 => true,
        400 => false,
        other => panic!("POST /v1/account-unlocks answered {other}"),
    }
}

async fn check_row(backend: TestBackend, row: &Row) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mut subject = subject_for(&app, row.event).await;
    prepare(&app, row.event, &mut subject).await;
    let before = outbox_counts(&app);
    happen(&app, row.event, &subject).await;
    let event = row.event;

    let mut queued: Vec<(String, String)> = Vec::new();
    for (key, count) in outbox_counts(&app) {
        let new = count - before.get(&key).copied().unwrap_or(0);
        queued.extend(std::iter::repeat_n(key, new));
    }
    let mut expected: Vec<(String, String)> = row
        .emails
        .iter()
        .map(|(kind, to)| ((*kind).to_owned(), (*to).to_owned()))
        .collect();
    expected.sort();
    assert_eq!(queued, expected, "{event:?}: emails");

    if let Some(survives) = row.password_session_survives {
        let token = subject.password_access.as_deref().unwrap();
        assert_eq!(
            session_survives(&app, token).await,
            survives,
            "{event:?}: password session"
        );
    }
    assert_eq!(
        session_survives(&app, &subject.workplace_access).await,
        row.workplace_session_survives,
        "{event:?}: workplace session"
    );
    assert_eq!(
        link_works(&app, &subject.unlock_link).await,
        !row.links_cancelled,
        "{event:?}: a link sent before"
    );

    let account = account_of(&app, subject.username);
    let audited: Vec<String> =
        esr_persistence::audit::recent(&mut app.db(), Some(&account.id), 200)
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .collect();
    assert!(
        audited.iter().any(|t| t == row.audit),
        "{event:?}: {} in {audited:?}",
        row.audit
    );
    app.stop().await;
}

async fn every_row_of_the_consequence_table_holds(backend: TestBackend) {
    for row in TABLE {
        check_row(backend, row).await;
    }
}

crate::both_backends_owned!(every_row_of_the_consequence_table_holds);
