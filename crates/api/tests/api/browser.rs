//! Real-browser tests (headless Chromium driven by playwright-core): the self-service
//! journeys, Manage Internet Access and Swagger UI. Where Chromium, node or the node modules
//! are missing they pass with a `skipped:` line written straight to stderr (so `cargo test`
//! shows it even for a passing test) — unless `ESR_REQUIRE_BROWSER=1`, which `.ci/run` sets
//! after installing both: then they fail.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::{TestBackend, spawn_app};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Why the browser tests cannot run here, if they cannot.
fn missing() -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!(
            "no Chromium at {chromium} (apt-get install chromium)"
        ));
    }
    if !repo()
        .join("tests/browser/node_modules/playwright-core")
        .exists()
    {
        return Some("tests/browser/node_modules missing (npm ci --prefix tests/browser)".into());
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node not found".into());
    }
    None
}

async fn run_script(script: &'static str) {
    run_script_with(script, |_| Vec::new()).await;
}

/// [`run_script`], with environment variables made from the running app (keys, say).
async fn run_script_with(
    script: &'static str,
    env: impl FnOnce(&crate::helpers::TestApp) -> Vec<(&'static str, String)>,
) {
    if let Some(why) = missing() {
        assert!(
            std::env::var("ESR_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "browser test {script} cannot run and ESR_REQUIRE_BROWSER=1: {why}"
        );
        // libtest captures `println!` and `eprintln!` of passing tests, not writes to the
        // stderr handle: this line is shown.
        let _ = writeln!(
            std::io::stderr().lock(),
            "skipped: browser test {script}: {why} (set ESR_REQUIRE_BROWSER=1 to fail instead)"
        );
        return;
    }
    let app = spawn_app(TestBackend::Sqlite).await.expect("SQLite app");
    let root = repo();
    let address = app.address.clone();
    let extra = env(&app);
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(root.join("tests/browser").join(script))
            .envs(extra)
            .env("BASE_URL", address)
            .env("SCREENSHOT_DIR", root.join("target/browser"))
            .current_dir(&root)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "{script} failed:\n{stdout}\n{stderr}"
    );
    app.stop().await;
}

#[tokio::test]
async fn self_service_recovery_journey_in_a_real_browser() {
    run_script("self-service.mjs").await;
}

#[tokio::test]
async fn self_service_unlock_journey_in_a_real_browser() {
    run_script("unlock.mjs").await;
}

#[tokio::test]
async fn swagger_ui_renders_every_tag_and_try_it_out_works() {
    run_script("swagger.mjs").await;
}

#[tokio::test]
async fn manage_internet_access_through_the_dev_identity_provider_in_a_real_browser() {
    // The second organisation's key links the same smartcard there, for the choice at sign-in.
    run_script_with("internet-access.mjs", |app| {
        let key = crate::admin::admin_key(app, "trust-998", "998", "write");
        vec![("ADMIN_KEY_998", key)]
    })
    .await;
}

#[tokio::test]
async fn pages_send_nothing_without_script_unlock_needs_a_press_and_callback_wording_is_ours() {
    run_script("hostile-pages.mjs").await;
}

#[tokio::test]
async fn authenticator_app_enrolment_and_code_login_in_a_real_browser() {
    run_script("second-factor.mjs").await;
}

#[tokio::test]
async fn passkey_enrolment_second_step_and_passkey_alone_in_a_real_browser() {
    run_script("passkeys.mjs").await;
}
