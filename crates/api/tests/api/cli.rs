//! The `esr-api` binary: `openapi`, production start-up checks, `migrate`, `--help`.

use std::process::Command;

fn esr_api() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_esr-api"));
    // Start from a clean slate: nothing from the developer's or CI's environment.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ESR_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

#[test]
fn openapi_command_prints_the_document() {
    let out = esr_api().arg("openapi").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        esr_api::openapi::document_json()
    );
}

#[test]
fn production_without_settings_exits_naming_each_missing_one() {
    let out = esr_api()
        .env("ESR_MODE", "production")
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    for name in [
        "ESR_DATABASE_URL",
        "ESR_PUBLIC_BASE_URL",
        "ESR_SIGNING_KEY_FILE",
        "ESR_MFA_KEY_FILE",
        "ESR_OIDC_ISSUER",
        "ESR_OIDC_CLIENT_ID",
    ] {
        assert!(stderr.contains(name), "{name} named in:\n{stderr}");
    }
}

#[test]
fn production_refuses_sqlite_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("p.db").display());
    let out = esr_api()
        .env("ESR_MODE", "production")
        .env("ESR_DATABASE_URL", &url)
        .env("ESR_PUBLIC_BASE_URL", "https://esr.example.org")
        .arg("migrate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("SQLite is for development")
    );

    let out = esr_api()
        .env("ESR_MODE", "production")
        .env("ESR_DATABASE_URL", &url)
        .env("ESR_PUBLIC_BASE_URL", "https://esr.example.org")
        .env("ESR_ALLOW_SQLITE_IN_PRODUCTION", "true")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8(out.stdout).unwrap().contains("Applied "));
}

/// Demo accounts have published passwords: `seed-demo` refuses a production database, and
/// nothing of it is written.
#[test]
fn seed_demo_refuses_production() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let out = esr_api()
        .env("ESR_MODE", "production")
        .env("ESR_DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("ESR_PUBLIC_BASE_URL", "https://esr.example.org")
        .env("ESR_ALLOW_SQLITE_IN_PRODUCTION", "true")
        .arg("seed-demo")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("seed-demo refuses a production database"),
        "{stderr}"
    );
    assert!(!db.exists(), "nothing was created");
}

/// Dev mode lets anyone be anyone (the dev identity provider) and reads every link (the dev
/// mailbox): it will not listen beyond loopback unless told to.
#[test]
fn dev_mode_refuses_a_non_loopback_address_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("d.db").display());
    for addr in ["0.0.0.0:0", "[::]:0"] {
        let out = esr_api()
            .env("ESR_DATABASE_URL", &url)
            .env("ESR_LISTEN_ADDR", addr)
            .arg("serve")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{addr}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains("ESR_DEV_ALLOW_REMOTE"), "{addr}: {stderr}");
    }
}

/// `esr-api migrate` against a PostgreSQL URL the server refuses: exits 1 with the driver's
/// own words (never the pool's generic "invalid connection url"); returns its stderr.
fn migrate_refused(url: &str) -> String {
    let out = esr_api()
        .env("ESR_DATABASE_URL", url)
        .arg("migrate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        !stderr.contains("Invalid connection url for multiconnection"),
        "{stderr}"
    );
    stderr
}

/// The PostgreSQL server the tests may use, or `None` with a printed `skipped:` line.
fn test_postgres_server() -> Option<url::Url> {
    let Ok(admin) = std::env::var(crate::helpers::PG_ENV) else {
        esr_test_support::scratch_pg::print_skipped("PostgreSQL variant");
        return None;
    };
    Some(url::Url::parse(&admin).unwrap())
}

#[test]
fn refused_postgres_connection_names_the_real_cause_without_the_password() {
    let stderr = migrate_refused("postgres://esr:hunter2@127.0.0.1:1/esr");
    assert!(
        stderr.contains("Connection refused") || stderr.contains("connection refused"),
        "{stderr}"
    );
    assert!(stderr.contains("127.0.0.1"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "password leaked: {stderr}");
}

#[test]
fn unknown_postgres_database_is_named() {
    let Some(mut url) = test_postgres_server() else {
        return;
    };
    url.set_path("esr_no_such_database");
    let stderr = migrate_refused(url.as_str());
    assert!(
        stderr.contains("esr_no_such_database") && stderr.contains("does not exist"),
        "{stderr}"
    );
}

/// A role the server does not know, with a password: the operator reads PostgreSQL's own
/// words (the role is named), never the driver's generic "invalid connection url", and the
/// password is not printed.
#[test]
fn refused_postgres_login_is_named_without_the_password() {
    let Some(mut url) = test_postgres_server() else {
        return;
    };
    url.set_username("esr_no_such_role").unwrap();
    url.set_password(Some("hunter2-not-printed")).unwrap();
    let stderr = migrate_refused(url.as_str());
    assert!(
        stderr.contains("esr_no_such_role")
            && (stderr.contains("does not exist") || stderr.contains("authentication failed")),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2-not-printed"), "{stderr}");
}

#[test]
fn help_documents_every_command() {
    let out = esr_api().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for command in [
        "serve",
        "migrate",
        "openapi",
        "seed-demo",
        "rotate-signing-key",
    ] {
        assert!(help.contains(command), "{command} in --help:\n{help}");
    }
    assert!(help.contains("ESR_DATABASE_URL"), "{help}");
}

#[test]
fn migrate_and_seed_demo_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cli.db").display());
    for _ in 0..2 {
        let out = esr_api()
            .env("ESR_DATABASE_URL", &url)
            .arg("migrate")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = esr_api()
            .env("ESR_DATABASE_URL", &url)
            .arg("seed-demo")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8(out.stdout)
                .unwrap()
                .contains("999 Demo NHS Trust")
        );
    }
}

#[test]
fn rotate_signing_key_retires_the_old_key_after_a_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("keys.db").display());
    let out = esr_api()
        .env("ESR_DATABASE_URL", &url)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(out.status.success());
    let run = || {
        let out = esr_api()
            .env("ESR_DATABASE_URL", &url)
            .arg("rotate-signing-key")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let first = run();
    assert!(first.contains("0 older key(s) retired"), "{first}");
    let second = run();
    assert!(second.contains("1 older key(s) retired"), "{second}");

    let db = esr_persistence::DatabaseUrl::parse(&url).unwrap();
    let mut conn = esr_persistence::connection::establish(&db, Default::default()).unwrap();
    let now = chrono::Utc::now();
    let grace = std::time::Duration::from_secs(900);
    assert_eq!(
        esr_api::keys::verification_keys(&mut conn, now, grace)
            .unwrap()
            .len(),
        2,
        "old key still verifies"
    );
    let later = now + chrono::Duration::seconds(901);
    assert_eq!(
        esr_api::keys::verification_keys(&mut conn, later, grace)
            .unwrap()
            .len(),
        1,
        "then only the new one"
    );

    // Production never generates a key into the database.
    let out = esr_api()
        .env("ESR_MODE", "production")
        .env("ESR_DATABASE_URL", &url)
        .env("ESR_ALLOW_SQLITE_IN_PRODUCTION", "true")
        .env("ESR_PUBLIC_BASE_URL", "https://esr.example.org")
        .arg("rotate-signing-key")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("ESR_SIGNING_KEY_FILE")
    );
}

#[test]
fn production_serves_with_a_key_file_and_never_stores_its_private_part() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("prod.db").display());
    let key = esr_api::tokens::SigningKey::generate(&mut rand::rng());
    let key_path = dir.path().join("signing.pem");
    std::fs::write(&key_path, key.to_pkcs8_pem().as_str()).unwrap();
    let prod = |cmd: &str| {
        esr_api()
            .env("ESR_MODE", "production")
            .env("ESR_DATABASE_URL", &url)
            .env("ESR_ALLOW_SQLITE_IN_PRODUCTION", "true")
            .env("ESR_PUBLIC_BASE_URL", "https://esr.example.org")
            .env("ESR_SIGNING_KEY_FILE", &key_path)
            .arg(cmd)
            .output()
            .unwrap()
    };
    assert!(prod("migrate").status.success());
    let out = prod("rotate-signing-key");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8(out.stdout).unwrap().contains(key.kid()));
    let db = esr_persistence::DatabaseUrl::parse(&url).unwrap();
    let mut conn = esr_persistence::connection::establish(&db, Default::default()).unwrap();
    let stored = esr_persistence::signing_keys::verifying(
        &mut conn,
        chrono::Utc::now(),
        chrono::Duration::minutes(15),
    )
    .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].kid, key.kid());
    assert!(
        stored[0].private_key_pem.is_none(),
        "the private key stays in the file"
    );
}

/// Every `ESR_*` setting the binary reads has a row of its own name in README's configuration
/// table, and the table is one table (a blank line would end it and print the rest as text).
#[test]
fn readme_configuration_table_names_every_setting() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sections: Vec<_> = std::fs::read_dir(root.join("src/config"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    sections.sort();
    let config: String = sections
        .iter()
        .map(|path| std::fs::read_to_string(path).unwrap())
        .collect();
    let readme = std::fs::read_to_string(root.join("../../README.md")).unwrap();
    let settings: std::collections::BTreeSet<&str> = config
        .split("env = \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|name| name.starts_with("ESR_"))
        .collect();
    assert!(settings.len() > 50, "{settings:?}");
    let lines: Vec<&str> = readme.lines().collect();
    let first = lines
        .iter()
        .position(|l| l.starts_with("| `ESR_"))
        .expect("README has a configuration table");
    let table: Vec<&str> = lines[first..]
        .iter()
        .take_while(|l| l.starts_with('|'))
        .copied()
        .collect();
    let later_rows = lines[first + table.len()..]
        .iter()
        .filter(|l| l.starts_with("| `ESR_"))
        .count();
    assert_eq!(
        later_rows, 0,
        "the configuration table is broken by a non-table line"
    );
    let named: String = table
        .iter()
        .map(|row| row.split('|').nth(1).unwrap_or_default())
        .collect();
    let missing: Vec<&&str> = settings
        .iter()
        .filter(|name| {
            !named
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .any(|word| word == **name)
        })
        .collect();
    assert!(missing.is_empty(), "not in README's table: {missing:?}");
}
