//! Building and running the server: database first, then the HTTP app.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;
use esr_domain::PasswordHasher;
use esr_persistence::{DbPool, PoolOptions, migrations};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::{Config, Mode};
use crate::email::delivery::{Delivery, DeliveryHandle};
use crate::email::transport::Transport;
use crate::hashing::HashingPool;
use crate::metrics::Metrics;
use crate::openapi::OPENAPI_PATH;
use crate::problem::{json_config, json_objects_only, path_config, query_config, render_problems};
use crate::rate_limit::{KeyedLimit, RateLimits};
use crate::request_context::request_context;
use crate::state::AppState;
use crate::tokens::{TokenService, TokenSettings};

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
    operator_port: u16,
    operator: Server,
    seeded: Option<crate::seed::SeedReport>,
    delivery: Option<DeliveryHandle>,
    purge: Option<tokio::task::JoinHandle<()>>,
    shutdown_timeout: std::time::Duration,
}

impl Application {
    /// Connects to the database (migrating and seeding as configured) and binds the listener.
    pub async fn build(mut config: Config) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.listen_addr)
            .with_context(|| format!("cannot listen on {}", config.listen_addr))?;
        let port = listener.local_addr()?.port();
        let operator_listener =
            TcpListener::bind(config.operator_listen_addr).with_context(|| {
                format!(
                    "cannot listen on {} (ESR_OPERATOR_LISTEN_ADDR)",
                    config.operator_listen_addr
                )
            })?;
        let operator_port = operator_listener.local_addr()?.port();
        // Dev default base URLs name the port actually bound (e.g. when asked for port 0).
        if config.web_base_url.port() == Some(0) {
            let _ = config.web_base_url.set_port(Some(port));
            config.passkeys =
                crate::config::passkey_relying_party(&config.web_base_url, &config.mobile_apps)
                    .ok();
        }
        if let Some(oidc) = &mut config.smartcard {
            for uri in &mut oidc.redirect_uris {
                if uri.port() == Some(0) {
                    let _ = uri.set_port(Some(port));
                }
            }
        }
        if config.public_base_url.port() == Some(0) {
            let _ = config.public_base_url.set_port(Some(port));
            config.token_issuer = config
                .public_base_url
                .as_str()
                .trim_end_matches('/')
                .to_owned();
        }
        let params = config.argon2;
        let hashing = HashingPool::new(config.hash_workers, config.hash_queue)
            .context("cannot start the hashing threads")?;
        // Every argon2id run of the process happens on the pool's threads, which keep their
        // working memory: hashing anywhere else would leave another 19 MiB block behind in the
        // allocator (see `keep_hash_memory_on_this_thread`). First the dummy hash (one run).
        let hasher = on_hashing_pool(&hashing, move || PasswordHasher::new(params))
            .await?
            .context("argon2 parameters refused")?;
        let hasher = Arc::new(hasher);
        // Migrations and the demo seed (which hashes the demo passwords) there too.
        let (pool, tokens, seeded) = {
            let config = config.clone();
            let hasher = Arc::clone(&hasher);
            on_hashing_pool(&hashing, move || prepare_database(&config, &hasher)).await??
        };
        let workers = config.workers;
        let shutdown = config.shutdown_timeout.as_secs();
        // Several instances serve one PostgreSQL database: their limits are counted there.
        let shared = (config.database_url.backend() == esr_persistence::Backend::Postgres)
            .then(|| pool.clone());
        let limit = |limit: KeyedLimit| match &shared {
            Some(pool) => limit.shared(pool.clone()),
            None => limit,
        };
        let limits = Arc::new(RateLimits {
            login_per_ip: limit(KeyedLimit::per_minute("login_ip", config.rate_login_per_ip)),
            login_per_username: limit(KeyedLimit::per_minute(
                "login_username",
                config.rate_login_per_username,
            )),
            recovery_per_ip: limit(KeyedLimit::per_minute(
                "recovery_ip",
                config.rate_recovery_per_ip,
            )),
            recovery_per_email: limit(KeyedLimit::per_hour(
                "recovery_email",
                config.rate_recovery_per_email,
            )),
            links_per_ip: limit(KeyedLimit::per_minute(
                "links_ip",
                config.rate_recovery_per_ip,
            )),
            refusal_audits_per_ip: limit(KeyedLimit::per_minute("refusal_audit_ip", 1)),
        });
        let transport = Arc::new(
            Transport::from_config(&config.email)
                .map_err(|e| anyhow::anyhow!("email transport: {e}"))?,
        );
        let delivery_wake = Arc::new(tokio::sync::Notify::new());
        let shutdown_timeout = config.shutdown_timeout;
        let (oidc, dev_idp) = smartcard_parts(&config)?;
        let breached = config
            .breached_passwords
            .as_ref()
            .map(crate::breached::BreachedPasswords::new)
            .transpose()
            .map_err(|e| anyhow::anyhow!("breached-password client: {e}"))?
            .map(Arc::new);
        let state = web::Data::new(AppState {
            config: Arc::new(config),
            pool,
            metrics: Metrics::new(),
            tokens: Arc::new(tokens),
            hasher,
            hashing,
            limits,
            keys_reloaded: Arc::new(Mutex::new(Instant::now())),
            delivery_wake: Arc::clone(&delivery_wake),
            oidc,
            dev_idp,
            breached,
        });
        let delivery = state.config.outbox.worker.then(|| {
            Delivery {
                worker_id: format!("{}-{}", gethostname(), uuid::Uuid::new_v4().simple()),
                pool: state.pool.clone(),
                transport,
                config: Arc::clone(&state.config),
                metrics: state.metrics.clone(),
                wake: delivery_wake,
                match_requests: crate::app::recovery::match_queued_requests,
            }
            .spawn()
        });
        let purge = state.config.retention.purge_interval.map(|every| {
            tokio::spawn(crate::app::retention::purge_periodically(
                state.get_ref().clone(),
                every,
            ))
        });
        let document = crate::openapi::served_document(state.config.mode == Mode::Dev);
        let operator_state = state.clone();
        let body_timeout = state.config.body_timeout;
        let per_worker = state.config.max_connections.div_ceil(workers).max(1);
        let server = HttpServer::new(move || build_app(state.clone(), document.clone()))
            .workers(workers)
            .max_connections(per_worker)
            .client_request_timeout(body_timeout)
            .shutdown_timeout(shutdown)
            .listen(listener)?
            .run();
        // Signals are the public server's: it drains its requests, then stops this one.
        let operator = HttpServer::new(move || build_operator_app(operator_state.clone()))
            .workers(1)
            .disable_signals()
            .shutdown_timeout(shutdown)
            .listen(operator_listener)?
            .run();
        Ok(Self {
            port,
            server,
            operator_port,
            operator,
            seeded,
            delivery,
            purge,
            shutdown_timeout,
        })
    }

    /// The port actually bound (useful when the configuration asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The operator listener's port (metrics and health checks).
    pub fn operator_port(&self) -> u16 {
        self.operator_port
    }

    /// Serves until SIGINT/SIGTERM (or [`ServerHandle::stop`](actix_web::dev::ServerHandle::stop)),
    /// drains in-flight requests within the shutdown timeout, then stops the delivery worker,
    /// which finishes the email in hand and releases its other claims.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let operator = self.operator.handle();
        let operator_served = tokio::spawn(self.operator);
        let served = self.server.await;
        // Scrapes go on until the public listener has drained, then stop with it.
        operator.stop(true).await;
        let _ = operator_served.await;
        // A purge cut off between batches leaves nothing half done: each batch commits alone.
        if let Some(purge) = self.purge {
            purge.abort();
        }
        if let Some(delivery) = self.delivery
            && tokio::time::timeout(self.shutdown_timeout, delivery.stop())
                .await
                .is_err()
        {
            tracing::warn!(
                "delivery worker did not stop in time; its claims lapse with their lease"
            );
        }
        served
    }

    /// The demo data seeded on start (dev mode), for printing.
    pub fn seeded(&self) -> Option<&crate::seed::SeedReport> {
        self.seeded.as_ref()
    }

    /// A handle to stop the server from elsewhere (tests, background tasks).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}

/// The smartcard relying party (when enabled) and, in dev mode, the dev identity provider.
#[allow(clippy::type_complexity)]
fn smartcard_parts(
    config: &Config,
) -> anyhow::Result<(
    Option<Arc<crate::oidc::OidcClient>>,
    Option<Arc<crate::oidc::dev_provider::DevIdp>>,
)> {
    let dev = config.mode == crate::config::Mode::Dev;
    let dev_issuer = format!("{}/dev-idp", config.token_issuer);
    let dev_idp = dev.then(|| Arc::new(crate::oidc::dev_provider::DevIdp::new(dev_issuer.clone())));
    let Some(oidc) = &config.smartcard else {
        return Ok((None, dev_idp));
    };
    let issuer = match &oidc.issuer {
        crate::config::Issuer::DevIdp => dev_issuer,
        crate::config::Issuer::External(issuer) => issuer.clone(),
    };
    tracing::info!(
        issuer,
        client_id = oidc.client_id,
        "smartcard sign-in enabled"
    );
    let client = crate::oidc::OidcClient::new(oidc.clone(), issuer, !dev)
        .context("smartcard sign-in cannot be set up")?;
    Ok((Some(Arc::new(client)), dev_idp))
}

/// Opens the pool, applies migrations when configured, seeds demo data in dev mode and sets
/// up the token signing key. Blocking: the caller runs it on a hashing thread, since the seed
/// hashes the demo passwords.
pub fn prepare_database(
    config: &Config,
    hasher: &PasswordHasher,
) -> anyhow::Result<(DbPool, TokenService, Option<crate::seed::SeedReport>)> {
    let options = PoolOptions {
        max_size: config.database_pool_size,
        connection_timeout: config.database_timeout,
        ..PoolOptions::default()
    };
    let pool = DbPool::connect(&config.database_url, options)?;
    let mut conn = pool.get()?;
    if config.auto_migrate {
        let applied = migrations::run_pending(&mut conn)?;
        if !applied.is_empty() {
            tracing::info!(versions = ?applied, "migrations applied");
        }
    }
    let mut seeded = None;
    if config.seed_demo {
        let report = crate::seed::seed_demo(&mut conn, hasher, chrono::Utc::now())?;
        tracing::info!(organisations = ?report.organisations, accounts = report.accounts.len(), "demo data seeded");
        seeded = Some(report);
    }
    let now = chrono::Utc::now();
    let signing = crate::keys::load_signing_key(&mut conn, config, now)?;
    let verifying = crate::keys::verification_keys(&mut conn, now, config.access_token_ttl)?;
    tracing::info!(
        kid = signing.kid(),
        verification_keys = verifying.len(),
        "token signing key ready"
    );
    let tokens = TokenService::new(
        TokenSettings {
            issuer: config.token_issuer.clone(),
            audience: config.token_audience.clone(),
            access_ttl: config.access_token_ttl,
            leeway: std::time::Duration::from_secs(5),
        },
        signing,
        verifying,
    );
    drop(conn);
    Ok((pool, tokens, seeded))
}

/// Runs blocking set-up work on a hashing thread (the pool is idle at start-up, so a slot is
/// free) and waits for it.
async fn on_hashing_pool<T, F>(hashing: &HashingPool, f: F) -> anyhow::Result<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let slot = hashing
        .try_reserve()
        .map_err(|e| anyhow::anyhow!("hashing pool: {e}"))?;
    hashing
        .run(slot, f)
        .await
        .map_err(|e| anyhow::anyhow!("hashing pool: {e}"))
}

/// The application: middleware, extractor settings, documented routes, Swagger UI.
pub fn build_app(
    state: web::Data<AppState>,
    document: utoipa::openapi::OpenApi,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let dev = state.config.mode == crate::config::Mode::Dev;
    let swagger_ui = state.config.swagger_ui;
    let problems = web::Data::new(crate::problem::ProblemIndex::of(&document));
    App::new()
        .into_utoipa_app()
        .app_data(state)
        .app_data(problems)
        .app_data(json_config())
        .app_data(path_config())
        .app_data(query_config())
        .configure(|cfg| crate::routes::configure(cfg, dev))
        .into_app()
        .configure(|cfg| serve_document(cfg, swagger_ui, document))
        .configure(crate::self_service::configure)
        .default_service(web::to(crate::openapi::no_route))
        .wrap(from_fn(json_objects_only))
        .wrap(from_fn(render_problems))
        .wrap(from_fn(crate::security_headers::security_headers))
        .wrap(
            DefaultHeaders::new()
                .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .add((header::REFERRER_POLICY, "no-referrer"))
                .add((header::CACHE_CONTROL, "no-store")),
        )
        .wrap(from_fn(request_context))
}

/// The OpenAPI document at [`OPENAPI_PATH`], with Swagger UI over it unless switched off.
fn serve_document(
    cfg: &mut web::ServiceConfig,
    swagger_ui: bool,
    document: utoipa::openapi::OpenApi,
) {
    if swagger_ui {
        // Swagger UI's address typed without its slash: part of Swagger UI, not an operation.
        let to_slash = web::get().to(|| async {
            HttpResponse::MovedPermanently()
                .insert_header((header::LOCATION, "/swagger-ui/"))
                .finish()
        });
        cfg.route("/swagger-ui", to_slash)
            .service(SwaggerUi::new("/swagger-ui/{_:.*}").url(OPENAPI_PATH, document));
    } else {
        cfg.app_data(web::Data::new(document))
            .route(OPENAPI_PATH, web::get().to(openapi_document));
    }
}

async fn openapi_document(
    document: web::Data<utoipa::openapi::OpenApi>,
) -> web::Json<utoipa::openapi::OpenApi> {
    web::Json(document.get_ref().clone())
}

/// The operator listener's application: metrics and health checks, nothing else.
pub fn build_operator_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(state)
        .configure(crate::routes::operations::configure_operator)
        .default_service(web::to(crate::openapi::no_route))
        .wrap(from_fn(render_problems))
        .wrap(DefaultHeaders::new().add((header::CACHE_CONTROL, "no-store")))
        .wrap(from_fn(request_context))
}

fn gethostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "esr".to_owned())
}
