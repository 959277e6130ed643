//! HTTP resources. Every route is registered here through `utoipa_actix_web`, whose
//! `service()` only accepts handlers carrying `#[utoipa::path]`: a route cannot be served
//! without being documented.

use utoipa_actix_web::service_config::ServiceConfig;

use crate::config::Mode;

pub mod auth;
pub mod dev;
pub mod me;
pub mod operations;
pub mod organisations;
pub mod password_policy;
pub mod recovery;

/// Registers every documented route for a mode; dev-only routes exist only in dev mode.
pub fn configure(mode: Mode) -> impl FnOnce(&mut ServiceConfig<'_>) {
    move |cfg| {
        operations::configure(cfg);
        cfg.service(
            utoipa_actix_web::scope("/v1")
                .configure(auth::configure)
                .configure(me::configure)
                .configure(organisations::configure)
                .configure(password_policy::configure)
                .configure(recovery::configure)
                .configure(|cfg| {
                    if mode == Mode::Dev {
                        dev::configure(cfg);
                    }
                }),
        );
    }
}
