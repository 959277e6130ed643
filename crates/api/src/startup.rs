//! Building and running the server: database first, then the HTTP app.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use esr_persistence::{DbPool, PoolOptions, migrations};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::openapi::OPENAPI_PATH;
use crate::problem::{json_config, no_route, path_config, query_config, render_problems};
use crate::request_context::request_context;
use crate::state::AppState;

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Connects to the database (migrating and seeding as configured) and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = prepare_database(&config).await?;
        let listener = TcpListener::bind(config.listen_addr)
            .with_context(|| format!("cannot listen on {}", config.listen_addr))?;
        let port = listener.local_addr()?.port();
        let workers = config.workers;
        let shutdown = config.shutdown_timeout.as_secs();
        let state = web::Data::new(AppState {
            config: Arc::new(config),
            pool,
            metrics: Metrics::new(),
        });
        let document = crate::openapi::document();
        let server = HttpServer::new(move || build_app(state.clone(), document.clone()))
            .workers(workers)
            .shutdown_timeout(shutdown)
            .listen(listener)?
            .run();
        Ok(Self { port, server })
    }

    /// The port actually bound (useful when the configuration asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM, then drains in-flight requests within the shutdown timeout.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// A handle to stop the server from elsewhere (tests, background tasks).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}

/// Opens the pool, applies migrations when configured and seeds demo data in dev mode.
pub async fn prepare_database(config: &Config) -> anyhow::Result<DbPool> {
    let url = config.database_url.clone();
    let options = PoolOptions {
        max_size: config.database_pool_size,
        connection_timeout: config.database_timeout,
        ..PoolOptions::default()
    };
    let auto_migrate = config.auto_migrate;
    let seed = config.seed_demo;
    tokio::task::spawn_blocking(move || -> anyhow::Result<DbPool> {
        let pool = DbPool::connect(&url, options)?;
        let mut conn = pool.get()?;
        if auto_migrate {
            let applied = migrations::run_pending(&mut conn)?;
            if !applied.is_empty() {
                tracing::info!(versions = ?applied, "migrations applied");
            }
        }
        if seed {
            let report = crate::seed::seed_demo(&mut conn, chrono::Utc::now())?;
            tracing::info!(organisations = ?report.organisations, "demo data seeded");
        }
        drop(conn);
        Ok(pool)
    })
    .await
    .context("database preparation task failed")?
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
    App::new()
        .into_utoipa_app()
        .app_data(state)
        .app_data(json_config())
        .app_data(path_config())
        .app_data(query_config())
        .configure(crate::routes::configure)
        .into_app()
        .service(SwaggerUi::new("/swagger-ui/{_:.*}").url(OPENAPI_PATH, document))
        .default_service(web::to(no_route))
        .wrap(from_fn(render_problems))
        .wrap(
            DefaultHeaders::new()
                .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .add((header::REFERRER_POLICY, "no-referrer"))
                .add((header::CACHE_CONTROL, "no-store")),
        )
        .wrap(from_fn(request_context))
}
