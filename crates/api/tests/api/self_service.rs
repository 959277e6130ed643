//! The self-service pages' HTTP contract: every page and asset, and every error under
//! `/self-service/`, carries a strict Content-Security-Policy (no inline script), `no-store`
//! and the framing and sniffing protections; the pages need nothing the policy forbids.

use reqwest::Response;

use crate::helpers::{TestApp, TestBackend, spawn_app, spawn_production_app};

/// Every page: the path after `/self-service/`.
const PAGES: &[&str] = &[
    "",
    "forgotten",
    "unlock",
    "reset-password",
    "unlock-account",
    "internet-access",
    "smartcard-callback",
    "add-sign-in-method",
];

/// The policy's directives, name → sources.
fn directives(csp: &str) -> Vec<(String, Vec<String>)> {
    csp.split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            let mut parts = d.split_whitespace().map(str::to_owned);
            let name = parts.next().unwrap_or_default();
            (name, parts.collect())
        })
        .collect()
}

fn header<'a>(res: &'a Response, name: &str) -> Option<&'a str> {
    res.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The headers every answer under `/self-service/` carries, success or error.
fn assert_secured(res: &Response, what: &str) {
    let csp = header(res, "content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"));
    let directives = directives(csp);
    let sources = |name: &str| {
        directives
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| panic!("{what}: no {name} in {csp}"))
    };
    assert_eq!(sources("default-src"), ["'none'"], "{what}: {csp}");
    let script = sources("script-src");
    assert_eq!(
        script,
        ["'self'"],
        "{what}: scripts only from this origin: {csp}"
    );
    for (name, sources) in &directives {
        for forbidden in ["'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:"] {
            assert!(
                !sources.iter().any(|s| s == forbidden),
                "{what}: {name} allows {forbidden}: {csp}"
            );
        }
    }
    assert_eq!(sources("frame-ancestors"), ["'none'"], "{what}: {csp}");
    assert_eq!(sources("base-uri"), ["'none'"], "{what}: {csp}");
    assert_eq!(
        header(res, "cache-control"),
        Some("no-store"),
        "{what}: Cache-Control"
    );
    assert_eq!(
        header(res, "x-frame-options"),
        Some("DENY"),
        "{what}: X-Frame-Options"
    );
    assert_eq!(
        header(res, "x-content-type-options"),
        Some("nosniff"),
        "{what}: X-Content-Type-Options"
    );
}

/// The `assets/…` files a page refers to (`href="assets/…"`, `src="assets/…"`).
fn referenced_assets(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["href=\"assets/", "src=\"assets/"] {
        for (at, _) in html.match_indices(attribute) {
            let rest = &html[at + attribute.len()..];
            let end = rest.find('"').expect("closing quote");
            found.push(rest[..end].to_owned());
        }
    }
    found
}

/// What the policy would block, found in a page's markup: inline scripts, event-handler
/// attributes, inline styles, `javascript:` links.
fn inline_code(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut found = Vec::new();
    for (at, _) in lower.match_indices("<script") {
        let tag_end = lower[at..].find('>').map_or(lower.len(), |e| at + e);
        let tag = &lower[at..tag_end];
        if !tag.contains(" src=") || !lower[tag_end..].starts_with("></script>") {
            found.push(format!("inline script: {}", &html[at..tag_end + 1]));
        }
    }
    for needle in ["<style", " style=", "javascript:"] {
        if lower.contains(needle) {
            found.push(needle.trim().to_owned());
        }
    }
    for (at, _) in lower.match_indices(" on") {
        let name: String = lower[at + 1..]
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect();
        if name.len() > 2 && lower[at + 1 + name.len()..].starts_with('=') {
            found.push(format!("event handler attribute {name}"));
        }
    }
    found
}

/// Every page and every asset the pages refer to: served, typed, secured, nothing inline.
async fn every_page_and_asset_is_served_under_the_strict_policy(app: &TestApp) {
    let mut assets = Vec::new();
    for page in PAGES {
        let path = format!("/self-service/{page}");
        let res = app.get(&path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(
            header(&res, "content-type"),
            Some("text/html; charset=utf-8"),
            "{path}"
        );
        assert_secured(&res, &path);
        let html = res.text().await.unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"), "{path}");
        assert!(html.contains("<html lang=\"en\">"), "{path}: a language");
        assert!(html.contains("<title>"), "{path}: a title");
        let inline = inline_code(&html);
        assert!(inline.is_empty(), "{path}: the CSP would block {inline:?}");
        let refs = referenced_assets(&html);
        assert!(
            refs.contains(&"style.css".to_owned()) && refs.contains(&"app.js".to_owned()),
            "{path}: {refs:?}"
        );
        assets.extend(refs);
    }
    assets.sort();
    assets.dedup();
    for asset in &assets {
        let path = format!("/self-service/assets/{asset}");
        let res = app.get(&path).await;
        assert_eq!(res.status(), 200, "{path}");
        let expected = if asset.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else {
            "text/css; charset=utf-8"
        };
        assert_eq!(header(&res, "content-type"), Some(expected), "{path}");
        assert_secured(&res, &path);
        let body = res.text().await.unwrap();
        assert!(!body.is_empty(), "{path}");
        if asset.ends_with(".js") {
            for forbidden in ["eval(", "new Function", "innerHTML", "document.write"] {
                assert!(!body.contains(forbidden), "{path} uses {forbidden}");
            }
        }
    }
    assert_eq!(assets, ["app.js", "style.css"]);
}

/// Errors under `/self-service/` are problems carrying the same headers as the pages.
async fn errors_under_self_service_carry_the_security_headers(app: &TestApp) {
    for path in [
        "/self-service/nope",
        "/self-service/forgotten/extra",
        "/self-service/assets/nope.js",
        "/self-service/assets/",
        "/self-service/assets/app.js/x",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 404, "{path}");
        assert_eq!(
            header(&res, "content-type"),
            Some("application/problem+json"),
            "{path}"
        );
        assert_secured(&res, path);
    }
    let res = app
        .client
        .post(format!("{}/self-service/forgotten", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405, "POST to a page");
    assert_secured(&res, "POST /self-service/forgotten");
    // The bare prefix redirects to the start page.
    let res = app.get("/self-service").await;
    assert_eq!(res.status(), 308);
    assert_eq!(header(&res, "location"), Some("/self-service/"));
    // So does the service's own address (not permanently: what it shows may change).
    let res = app.get("/").await;
    assert_eq!(res.status(), 302);
    assert_eq!(header(&res, "location"), Some("/self-service/"));
}

#[tokio::test]
async fn self_service_pages_and_assets_carry_a_strict_csp_and_no_store() {
    let app = spawn_app(TestBackend::Sqlite).await.unwrap();
    every_page_and_asset_is_served_under_the_strict_policy(&app).await;
    errors_under_self_service_carry_the_security_headers(&app).await;
    app.stop().await;
}

/// The internet-access page shows its hint about the dev identity provider only when the
/// provider's discovery document (public API, tag `dev`) answers: in dev mode, not in
/// production, where the pages are otherwise the same.
#[tokio::test]
async fn the_dev_identity_provider_the_pages_look_for_exists_only_in_dev_mode() {
    const DISCOVERY: &str = "/dev-idp/.well-known/openid-configuration";
    let dev = spawn_app(TestBackend::Sqlite).await.unwrap();
    assert_eq!(dev.get(DISCOVERY).await.status(), 200, "dev mode");
    // The address the start-up banner prints says what it is.
    let index = dev.get("/dev-idp/").await;
    assert_eq!(index.status(), 200);
    assert!(
        index
            .text()
            .await
            .unwrap()
            .contains("Dev identity provider")
    );
    let res = dev.get("/swagger-ui").await;
    assert_eq!(res.status(), 301);
    assert_eq!(header(&res, "location"), Some("/swagger-ui/"));
    dev.stop().await;

    let production = spawn_production_app(TestBackend::Sqlite, &["--smartcard-disabled"])
        .await
        .unwrap();
    assert_eq!(production.get(DISCOVERY).await.status(), 404, "production");
    every_page_and_asset_is_served_under_the_strict_policy(&production).await;
    errors_under_self_service_carry_the_security_headers(&production).await;
    production.stop().await;
}
