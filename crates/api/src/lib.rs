//! ESR Access HTTP API: configuration, routes, OpenAPI document, middleware and CLI.

pub mod cli;
pub mod config;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod request_context;
pub mod routes;
pub mod seed;
pub mod startup;
pub mod state;
pub mod telemetry;
