//! Runs every `sh` block of the README's "For integrators" section, in order, in one bash
//! session against a live server (the `esr-api` binary on `PATH`, pointed at the server's
//! database), then checks that what the cookbook says it does happened. The same for the
//! "Try it" walk-throughs: the My ESR app, the smartcard journey and the recovery by email.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::admin::admin_key;
use crate::both_backends;
use crate::helpers::TestApp;

both_backends!(
    readme_integrator_cookbook_runs_green,
    readme_try_it_walk_throughs_run_green,
    readme_authenticator_app_walk_through_runs_green
);

/// The `sh` blocks of one README section.
fn section_blocks(readme: &str, heading: &str) -> Vec<String> {
    let start = readme
        .find(heading)
        .unwrap_or_else(|| panic!("README has {heading}"));
    let rest = &readme[start + heading.len()..];
    let section = rest.find("\n## ").map_or(rest, |end| &rest[..end]);
    let mut blocks = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "```sh" {
            let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            blocks.push(block.join("\n"));
        }
    }
    blocks
}

async fn readme_integrator_cookbook_runs_green(app: &TestApp) {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let blocks = section_blocks(&readme, "## For integrators");
    assert!(
        blocks.len() >= 6,
        "the cookbook has its blocks: {}",
        blocks.len()
    );
    assert!(
        blocks
            .iter()
            .all(|b| b.contains("curl") || b.contains("esr-api")),
        "every block does something"
    );

    // Something for the cookbook's unlock loop to find.
    for _ in 0..5 {
        app.login("999APATEL01", "a wrong password guess").await;
    }

    let bin_dir = Path::new(env!("CARGO_BIN_EXE_esr-api"))
        .parent()
        .unwrap()
        .to_owned();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let url = app.settings_database_url();
    let dir = tempfile::tempdir().unwrap();
    let mut script = String::from("set -euo pipefail\n");
    for (i, block) in blocks.iter().enumerate() {
        script.push_str(&format!("echo '--- block {}' >&2\n{block}\necho\n", i + 1));
    }
    let mut cmd = Command::new("bash");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ESR_") {
            cmd.env_remove(key);
        }
    }
    cmd.arg("-c")
        .arg(script)
        .current_dir(dir.path())
        .env("PATH", path)
        .env("ESR", &app.address)
        .env("ESR_DATABASE_URL", url)
        .env("ESR_LOG", "error");
    // Blocking, but on its own thread: the server runs on this test's runtime.
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the cookbook failed:\n--- stderr\n{stderr}\n--- stdout\n{stdout}"
    );
    assert!(
        !stdout.contains("\"status\":4"),
        "no problem answers: {stdout}"
    );

    // It did what it says.
    let root = admin_key(app, "checker", "all", "read");
    let get = |path: &'static str| {
        let root = root.clone();
        async move {
            let res = app.get_auth(path, &root).await;
            assert_eq!(res.status(), 200, "{path}");
            res.json::<Value>().await.unwrap()
        }
    };
    let org = get("/v1/admin/organisations/241").await;
    assert_eq!(org["inactivity_limit_days"], 183);
    let people = get("/v1/admin/people?organisation=241").await;
    let numbers: Vec<&str> = people["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["employee_number"].as_str())
        .collect();
    // Created one by one, and by the CSV import (whose second line has a bad date).
    assert_eq!(numbers, ["24100017", "24100018"], "{people}");
    assert_eq!(
        get("/v1/admin/accounts/998OBROWN01").await["internet_access"],
        "approved"
    );
    let priya = get("/v1/admin/accounts/999APATEL01").await;
    assert_eq!(
        priya["status"], "active",
        "unlocked, suspended, reactivated"
    );
    app.wait_for_mail("jane.smith@demo.example.org", 1).await;
    let events = get("/v1/admin/audit-events?limit=100").await;
    let by_cookbook: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "api-key:hr-feed")
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    for expected in [
        "admin.organisation.created",
        "admin.person.created",
        "admin.internet_access.approved",
        "admin.account.unlocked",
        "admin.recovery_email.requested",
        "admin.account.suspended",
        "admin.api_key.revoked",
    ] {
        assert!(
            by_cookbook.contains(&expected),
            "{expected} in {by_cookbook:?}"
        );
    }
}

/// The blocks of "Try it", in order, in one bash session (as a reader pastes them): the My ESR
/// app's journey, the smartcard journey at work, recovery by email, and the error examples.
async fn readme_try_it_walk_throughs_run_green(app: &TestApp) {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let blocks = section_blocks(&readme, "## Try it");
    assert!(blocks.len() >= 3, "the walk-throughs: {}", blocks.len());
    for (i, needle) in [
        "/v1/auth/refresh",
        "/v1/auth/smartcard/callback",
        "/v1/password-resets",
    ]
    .iter()
    .enumerate()
    {
        assert!(blocks[i].contains(needle), "block {} is {needle}", i + 1);
    }

    let dir = tempfile::tempdir().unwrap();
    let mut script = String::from("set -euo pipefail\n");
    for (i, block) in blocks.iter().enumerate() {
        script.push_str(&format!("echo '--- block {}' >&2\n{block}\necho\n", i + 1));
    }
    // Bounded: the recovery block polls the mailbox until the email arrives.
    let mut cmd = Command::new("timeout");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ESR_") {
            cmd.env_remove(key);
        }
    }
    cmd.args(["120", "bash", "-c"])
        .arg(script)
        .current_dir(dir.path())
        .env("B", &app.address);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report = format!("--- stderr\n{stderr}\n--- stdout\n{stdout}");
    assert!(out.status.success(), "the walk-throughs failed:\n{report}");

    // Each block's answers are the ones the README shows in its comments.
    for expected in [
        // My ESR app: ready, me, logout 204, then the spent token.
        "\"status\":\"ready\"",
        "\"username\":\"999JSMITH01\"",
        "\"code\":\"invalid-token\"",
        // Smartcard journey: not requested, approved, password1 refused with every rule.
        "\"status\":\"not_requested\"",
        "\"status\":\"approved\"",
        "\"type\":\"/problems/password-policy\"",
        "\"code\":\"password-too-short\"",
        "\"code\":\"password-common\"",
        // Recovery: the request's answer and the link's organisation.
        "Your request to retrieve your username has been submitted.",
        "\"organisation_code\":\"999\"",
        // Errors.
        "\"code\":\"invalid-credentials\"",
        "HTTP/1.1 405",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected} in the output:\n{report}"
        );
    }
    // logout, Reset Password at work, password reset by link.
    assert!(
        stdout.matches("HTTP/1.1 204").count() >= 3,
        "three 204 answers:\n{report}"
    );
    assert_eq!(
        stdout.matches("\"code\":\"invalid-token\"").count(),
        1,
        "only the logged-out token is refused:\n{report}"
    );

    // It did what it says: both new passwords log in (the last login of each block, too).
    assert!(
        stdout.matches("\"access_token\"").count() >= 2,
        "the smartcard and recovery blocks end logged in:\n{report}"
    );
    for username in ["999SJONES01", "999JSMITH01"] {
        assert_eq!(
            app.login(username, "Wandering heron at dusk")
                .await
                .status(),
            200,
            "{username}:\n{report}"
        );
    }
}

/// The authenticator-app walk-through, twice in a row (it ends by removing the app, so it can
/// be pasted again). It needs `oathtool`, as the README says; without it the test says so and
/// passes, unless `ESR_REQUIRE_OATHTOOL=1` (CI, which installs it).
async fn readme_authenticator_app_walk_through_runs_green(app: &TestApp) {
    let have_oathtool = Command::new("oathtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_oathtool {
        assert!(
            std::env::var("ESR_REQUIRE_OATHTOOL").as_deref() != Ok("1"),
            "oathtool is required (ESR_REQUIRE_OATHTOOL=1) but not installed"
        );
        eprintln!("skipped: oathtool is not installed (apt install oathtool)");
        return;
    }
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let blocks = section_blocks(&readme, "## Sign in with an authenticator app");
    assert_eq!(blocks.len(), 1, "one walk-through");
    let script = format!("set -euo pipefail\n{0}\necho '--- again'\n{0}\n", blocks[0]);
    let mut cmd = Command::new("timeout");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ESR_") {
            cmd.env_remove(key);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    cmd.args(["150", "bash", "-c"])
        .arg(script)
        .current_dir(dir.path())
        .env("B", &app.address);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = format!(
        "--- stderr\n{}\n--- stdout\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the walk-through failed:\n{report}");
    for expected in [
        "\"recovery_codes\":[",
        "\"mfa_required\":true",
        "\"session\":{\"amr\":[\"pwd\",\"otp\"]",
        "\"current\":true",
    ] {
        assert_eq!(
            stdout.matches(expected).count(),
            2,
            "{expected} once per run:\n{report}"
        );
    }
    assert_eq!(stdout.matches("202\n").count(), 2, "{report}");
    assert_eq!(stdout.matches("204\n").count(), 2, "{report}");
}
