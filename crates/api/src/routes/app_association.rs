//! The files that associate the My ESR app with this domain, so the phone offers the
//! passwords (and passkeys) people saved for the site in the app too: Android's Digital Asset
//! Links and Apple's app-site association. Each exists only when its apps are configured.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::problem::{AsProblem, ProblemSpec};
use crate::state::AppState;

/// Registers the association files.
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(assetlinks).service(apple_app_site_association);
}

/// No app of that platform is configured.
#[derive(Debug, thiserror::Error)]
#[error("no app configured")]
pub struct NoAppConfigured;

impl AsProblem for NoAppConfigured {
    fn problem(&self) -> ProblemSpec {
        ProblemSpec::from_catalogue(
            StatusCode::NOT_FOUND,
            "app-association-not-configured",
            "problem-app-association-not-configured",
            Vec::new(),
        )
    }
}
crate::problem_response!(NoAppConfigured);

impl crate::problem::ProblemCatalogue for NoAppConfigured {
    fn examples() -> Vec<ProblemSpec> {
        vec![Self.problem()]
    }
}

/// One Digital Asset Links statement.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetLinkStatement {
    /// `delegate_permission/common.get_login_creds`: the app may use the sign-in details saved
    /// for this site.
    pub relation: Vec<&'static str>,
    /// The app.
    pub target: AndroidTarget,
}

/// The Android app a statement is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct AndroidTarget {
    /// Always `android_app`.
    pub namespace: &'static str,
    /// Its package name.
    pub package_name: String,
    /// Its signing certificates' SHA-256 fingerprints.
    pub sha256_cert_fingerprints: Vec<String>,
}

/// Android's Digital Asset Links for this domain: the My ESR app (`ESR_ANDROID_APP_PACKAGE`,
/// signed with `ESR_ANDROID_CERT_FINGERPRINTS`) may use the passwords and passkeys saved for
/// this site.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "The statements.", body = Vec<AssetLinkStatement>, example = json!([{
            "relation": ["delegate_permission/common.get_login_creds"],
            "target": {"namespace": "android_app", "package_name": "uk.nhs.esr.myesr",
                "sha256_cert_fingerprints": ["14:6D:E9:83:C5:73:06:50:D8:EE:B9:95:2F:34:FC:64:16:A0:83:42:E6:1D:BE:A8:8A:04:96:B2:3F:CF:44:E5"]}
        }])),
        NoAppConfigured,
    ),
)]
#[get("/.well-known/assetlinks.json")]
pub async fn assetlinks(state: web::Data<AppState>) -> Result<HttpResponse, NoAppConfigured> {
    let android = state
        .config
        .mobile_apps
        .android
        .as_ref()
        .ok_or(NoAppConfigured)?;
    let statements = vec![AssetLinkStatement {
        relation: vec!["delegate_permission/common.get_login_creds"],
        target: AndroidTarget {
            namespace: "android_app",
            package_name: android.package.clone(),
            sha256_cert_fingerprints: android.fingerprints.clone(),
        },
    }];
    Ok(association(json!(statements)))
}

/// Apple's app-site association for this domain: the listed apps (`ESR_IOS_APP_IDS`) may use
/// the passwords and passkeys saved for this site (`webcredentials`).
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "The association.", content_type = "application/json", example = json!({
            "webcredentials": {"apps": ["ABCDE12345.uk.nhs.esr.myesr"]}
        })),
        NoAppConfigured,
    ),
)]
#[get("/.well-known/apple-app-site-association")]
pub async fn apple_app_site_association(
    state: web::Data<AppState>,
) -> Result<HttpResponse, NoAppConfigured> {
    let apps = &state.config.mobile_apps.ios_app_ids;
    if apps.is_empty() {
        return Err(NoAppConfigured);
    }
    Ok(association(json!({"webcredentials": {"apps": apps}})))
}

/// The file as the platforms fetch it: JSON, straight (they follow no redirect), cacheable
/// for an hour.
fn association(body: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            actix_web::http::header::CACHE_CONTROL,
            "public, max-age=3600",
        ))
        .json(body)
}
