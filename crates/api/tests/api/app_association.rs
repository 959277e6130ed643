//! The files phones fetch to let the My ESR app use the passwords and passkeys saved for this
//! domain: present, exact and fetched straight when configured; a problem 404 when not.

use esr_api::config::{AndroidApp, MobileApps};
use serde_json::{Value, json};

use crate::helpers::{TestBackend, problem, spawn_app, spawn_app_with};

const PRINT: &str = "14:6D:E9:83:C5:73:06:50:D8:EE:B9:95:2F:34:FC:64:16:A0:83:42:E6:1D:BE:A8:8A:04:96:B2:3F:CF:44:E5";
const FILES: [&str; 2] = [
    "/.well-known/assetlinks.json",
    "/.well-known/apple-app-site-association",
];

#[tokio::test]
async fn with_no_app_configured_there_is_no_association() {
    let app = spawn_app(TestBackend::Sqlite).await.expect("SQLite app");
    for path in FILES {
        let res = app.get(path).await;
        assert_eq!(res.status(), 404, "{path}");
        assert_eq!(problem(res).await["code"], "app-association-not-configured");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_configured_apps_may_use_the_saved_sign_in_details() {
    let app = spawn_app_with(TestBackend::Sqlite, |c| {
        c.mobile_apps = MobileApps {
            android: Some(AndroidApp {
                package: "uk.nhs.esr.myesr".into(),
                fingerprints: vec![PRINT.into()],
            }),
            ios_app_ids: vec!["ABCDE12345.uk.nhs.esr.myesr".into()],
        };
    })
    .await
    .expect("SQLite app");
    let mut bodies = Vec::new();
    for path in FILES {
        let res = app.get(path).await;
        assert_eq!(
            res.status(),
            200,
            "{path}: answered straight, never redirected"
        );
        assert_eq!(res.headers()["content-type"], "application/json", "{path}");
        bodies.push(res.json::<Value>().await.unwrap());
    }
    assert_eq!(
        bodies[0],
        json!([{
            "relation": ["delegate_permission/common.get_login_creds"],
            "target": {"namespace": "android_app", "package_name": "uk.nhs.esr.myesr",
                "sha256_cert_fingerprints": [PRINT]}
        }])
    );
    assert_eq!(
        bodies[1],
        json!({"webcredentials": {"apps": ["ABCDE12345.uk.nhs.esr.myesr"]}})
    );
    app.stop().await;
}
