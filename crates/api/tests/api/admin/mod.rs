//! The administrator API: API keys (authentication, read-only, scope isolation, revocation),
//! organisations and the limits enforced at login, accounts and their actions, people, the
//! audit trail (and `esr-api audit verify` against a tampered row), the outbox.
//!
//! One file per resource; this module holds the helpers they share.

mod accounts;
mod audit_and_outbox;
mod keys;
mod organisations;
mod people;

use std::process::Command;

use esr_domain::{ApiKeyAccess, ApiKeyName, ApiKeyScope};
use serde_json::Value;

use crate::helpers::{TestApp, problem};

const PRIYA: &str = "999APATEL01";
const PRIYA_PASSWORD: &str = "Copper kettle meadow 42";
const OLIVER: &str = "998OBROWN01";

/// Creates a key through the same code as `esr-api create-api-key`; returns the plain key.
pub fn admin_key(app: &TestApp, name: &str, scope: &str, access: &str) -> String {
    key_with_grants(app, name, scope, access, false)
}

/// Like [`admin_key`], a read-only key granted the clients behind audit events or not.
pub fn key_with_grants(
    app: &TestApp,
    name: &str,
    scope: &str,
    access: &str,
    sees_clients: bool,
) -> String {
    let new = esr_api::app::api_keys::NewKey {
        name: ApiKeyName::parse(name).unwrap(),
        scope: ApiKeyScope::parse(scope).unwrap(),
        access: ApiKeyAccess::parse(access).unwrap(),
        sees_clients,
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

/// The id of the person with this employee number in organisation 999, read with `key`.
pub async fn demo_person_id(app: &TestApp, key: &str, employee_number: &str) -> String {
    let path = format!("/v1/admin/people?organisation=999&employee_number={employee_number}");
    let people: Value = app.get_auth(&path, key).await.json().await.unwrap();
    people["items"][0]["id"].as_str().unwrap().to_owned()
}

async fn get(app: &TestApp, path: &str, key: &str) -> reqwest::Response {
    app.get_auth(path, key).await
}

async fn post(app: &TestApp, path: &str, key: &str, body: Value) -> reqwest::Response {
    app.post_json(path, &body, Some(key)).await
}

async fn patch(app: &TestApp, path: &str, key: &str, body: Value) -> reqwest::Response {
    app.client
        .patch(format!("{}{path}", app.address))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn ok_json(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    body
}

async fn code_of(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body = problem(res).await;
    (status, body["code"].as_str().unwrap().to_owned())
}

async fn audit_of(app: &TestApp, key: &str, query: &str) -> Vec<Value> {
    let body = ok_json(get(app, &format!("/v1/admin/audit-events?{query}"), key).await).await;
    body["items"].as_array().unwrap().clone()
}

/// The `esr-api` binary pointed at `app`'s database, with nothing else from the environment.
pub fn esr_api(app: &TestApp) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_esr-api"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ESR_") {
            cmd.env_remove(key);
        }
    }
    let url = app.settings_database_url();
    cmd.env("ESR_DATABASE_URL", url).env("ESR_LOG", "error");
    cmd
}
