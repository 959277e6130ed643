//! ESR Access HTTP API: configuration, routes, OpenAPI document, middleware and CLI.

pub mod admin_auth;
pub mod app;
pub mod audit;
pub mod auth;
pub mod breached;
pub mod cli;
pub mod client;
pub mod config;
pub mod email;
pub mod hashing;
pub mod keys;
pub mod metrics;
pub mod oidc;
pub mod openapi;
pub mod outbound;
pub mod problem;
pub mod rate_limit;
pub mod request_context;
pub mod routes;
pub mod security_headers;
pub mod seed;
pub mod self_service;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tokens;
