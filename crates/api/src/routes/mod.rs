//! HTTP resources. Every route is registered here through `utoipa_actix_web`, whose
//! `service()` only accepts handlers carrying `#[utoipa::path]`: a route cannot be served
//! without being documented.

use utoipa_actix_web::service_config::ServiceConfig;

pub mod auth;
pub mod me;
pub mod operations;
pub mod organisations;
pub mod password_policy;

/// Registers every documented route.
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    operations::configure(cfg);
    cfg.service(
        utoipa_actix_web::scope("/v1")
            .configure(auth::configure)
            .configure(me::configure)
            .configure(organisations::configure)
            .configure(password_policy::configure),
    );
}
