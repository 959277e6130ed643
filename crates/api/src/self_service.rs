//! Reference self-service web pages at `/self-service/`: log in, Forgotten | Request
//! Username/Password, Unlock Account, and the pages that email links open. Plain HTML, CSS
//! and JavaScript embedded in the binary (no build step), using only the public JSON API.
//! Served with a Content-Security-Policy that forbids inline scripts and other origins.
//!
//! These are not API routes, so they are not in the OpenAPI document.

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpRequest, HttpResponse, web};

/// `form-action 'none'`: the forms are only ever sent by the script. Without it (script
/// blocked, slow to load) the browser would submit them itself, putting the password or date
/// of birth in a URL: browser history on shared ward PCs and proxy logs. With it, and
/// `method="post"` on every form as a second guard, nothing leaves.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// Page name (the path after `/self-service/`) → HTML.
const PAGES: &[(&str, &str)] = &[
    ("", include_str!("../assets/self-service/index.html")),
    (
        "forgotten",
        include_str!("../assets/self-service/forgotten.html"),
    ),
    ("unlock", include_str!("../assets/self-service/unlock.html")),
    (
        "reset-password",
        include_str!("../assets/self-service/reset-password.html"),
    ),
    (
        "unlock-account",
        include_str!("../assets/self-service/unlock-account.html"),
    ),
    (
        "internet-access",
        include_str!("../assets/self-service/internet-access.html"),
    ),
    (
        "smartcard-callback",
        include_str!("../assets/self-service/smartcard-callback.html"),
    ),
    (
        "add-sign-in-method",
        include_str!("../assets/self-service/add-sign-in-method.html"),
    ),
];

/// Asset name → (content type, body).
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../assets/self-service/style.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/self-service/app.js"),
    ),
];

/// Registers the pages (outside the documented API). Every answer under `/self-service/`,
/// errors included, carries the security headers: they are added by the scope, not by the
/// handlers.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // The service's own address opens the pages: a person who types it lands somewhere.
    cfg.service(web::resource("/").route(web::get().to(redirect_to_pages)))
        .service(web::resource("/self-service").route(web::get().to(redirect_to_slash)))
        .service(
            web::scope("/self-service")
                .wrap(
                    DefaultHeaders::new()
                        .add((header::CONTENT_SECURITY_POLICY, CSP))
                        .add((header::X_FRAME_OPTIONS, "DENY"))
                        .add((header::CACHE_CONTROL, "no-store")),
                )
                .service(web::resource("/assets/{file}").route(web::get().to(asset)))
                .service(web::resource("/{page:.*}").route(web::get().to(page))),
        );
}

/// `302`, not permanent: what the root shows may change.
async fn redirect_to_pages() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, "/self-service/"))
        .finish()
}

async fn redirect_to_slash() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/self-service/"))
        .finish()
}

fn not_found() -> HttpResponse {
    crate::problem::ProblemSpec::for_status(actix_web::http::StatusCode::NOT_FOUND).into_response()
}

async fn page(req: HttpRequest) -> HttpResponse {
    let name = req.match_info().get("page").unwrap_or_default();
    match PAGES.iter().find(|(n, _)| *n == name) {
        Some((_, html)) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(*html),
        None => not_found(),
    }
}

async fn asset(req: HttpRequest) -> HttpResponse {
    let name = req.match_info().get("file").unwrap_or_default();
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => HttpResponse::Ok().content_type(*content_type).body(*body),
        None => not_found(),
    }
}
