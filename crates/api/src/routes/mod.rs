//! HTTP resources. Every route is registered here through `utoipa_actix_web`, whose
//! `service()` only accepts handlers carrying `#[utoipa::path]`: a route cannot be served
//! without being documented.

use utoipa_actix_web::service_config::ServiceConfig;

pub mod admin;
pub mod app_association;
pub mod auth;
pub mod closed_sets;
pub mod dev;
pub mod dev_idp;
pub mod factors;
pub mod internet_access;
pub mod me;
pub mod my_sessions;
pub mod operations;
pub mod organisations;
pub mod passkey_sign_in;
pub mod password_policy;
pub mod problems;
pub mod recovery;
pub mod smartcard;

/// Registers every documented route; dev-only routes (the dev identity provider, the dev
/// mailbox) only when `dev` (dev mode). The OpenAPI document is built with `dev` on, so it is
/// the same whatever the mode, and marks those routes as dev-only.
pub fn configure(cfg: &mut ServiceConfig<'_>, dev: bool) {
    operations::configure(cfg);
    smartcard::configure_well_known(cfg);
    app_association::configure(cfg);
    problems::configure(cfg);
    cfg.service(
        utoipa_actix_web::scope("/v1")
            // The app's hot paths first: a request is matched against the resources in this
            // order, and every templated path before its own costs a regex run.
            .configure(auth::configure)
            .configure(passkey_sign_in::configure)
            .configure(me::configure)
            .configure(factors::configure)
            .configure(my_sessions::configure)
            .configure(admin::configure)
            .configure(smartcard::configure)
            .configure(internet_access::configure)
            .configure(organisations::configure)
            .configure(password_policy::configure)
            .configure(recovery::configure)
            .configure(|cfg| {
                if dev {
                    dev::configure(cfg);
                }
            }),
    );
    if dev {
        dev_idp::configure(cfg);
    }
}
