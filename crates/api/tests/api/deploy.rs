//! The operator's Grafana dashboard and Prometheus alert rules (deploy/) name only metrics the
//! service really exports, and only security events it really counts: a renamed metric would
//! otherwise leave an alert that can never fire.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::helpers::{TestBackend, spawn_app};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every PromQL expression of the dashboard and the rules.
fn expressions() -> Vec<String> {
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("deploy/grafana/esr-access.json")).unwrap(),
    )
    .unwrap();
    let mut exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap().iter())
        .map(|t| t["expr"].as_str().unwrap().to_owned())
        .collect();
    let rules =
        std::fs::read_to_string(root().join("deploy/prometheus/esr-access.rules.yml")).unwrap();
    exprs.extend(
        rules
            .lines()
            .filter_map(|l| l.trim().strip_prefix("expr:"))
            .map(|e| e.trim().to_owned()),
    );
    assert!(exprs.len() >= 15, "{exprs:?}");
    exprs
}

/// The `esr_…` names an expression uses.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("esr_") {
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[at + name.len()..];
        names.push(name);
    }
    names
}

/// The values an expression gives the `event` label.
fn events(expr: &str) -> Vec<String> {
    expr.split("event=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .collect()
}

fn source_text(dir: &Path, out: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_text(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(path).unwrap());
        }
    }
}

#[tokio::test]
async fn the_dashboard_and_alert_rules_name_only_what_the_service_exports() {
    let app = spawn_app(TestBackend::Sqlite).await.unwrap();
    // Labelled metrics appear once something is counted: a failed login, an email sent.
    assert_eq!(
        app.login("999JSMITH01", "not her password").await.status(),
        401
    );
    crate::recovery::request_recovery(&app, "jane.smith@demo.example.org", "1985-04-12", None)
        .await;
    app.wait_for_mail("jane.smith@demo.example.org", 1).await;
    for _ in 0..5 {
        app.login("999APATEL01", "a wrong guess").await;
    }
    let exposition = app.metrics().await;
    assert!(
        exposition.contains("\nesr_accounts_locked 1\n"),
        "the locked account is counted: {exposition}"
    );
    let mut exported = BTreeSet::new();
    for line in exposition.lines() {
        if let Some(declared) = line.strip_prefix("# TYPE ") {
            let mut parts = declared.split_whitespace();
            let (name, kind) = (parts.next().unwrap(), parts.next().unwrap());
            exported.insert(name.to_owned());
            if kind == "histogram" {
                for suffix in ["_bucket", "_sum", "_count"] {
                    exported.insert(format!("{name}{suffix}"));
                }
            }
        }
    }
    let mut source = String::new();
    source_text(&root().join("crates/api/src"), &mut source);
    let mut used = BTreeSet::new();
    for expr in expressions() {
        for name in metric_names(&expr) {
            assert!(
                exported.contains(&name),
                "{name} (in `{expr}`) is not exported; exported: {exported:?}"
            );
            used.insert(name);
        }
        for event in events(&expr) {
            assert!(
                source.contains(&format!("\"{event}\"")),
                "no security event {event} is counted (in `{expr}`)"
            );
        }
    }
    for needed in [
        "esr_security_events_total",
        "esr_accounts_locked",
        "esr_hashing_in_flight",
        "esr_outbox_oldest_pending_age_seconds",
        "esr_outbox_deliveries_total",
        "esr_db_unavailable_total",
        "esr_db_pool_connections",
    ] {
        assert!(used.contains(needed), "nothing watches {needed}");
    }
    app.stop().await;
}
