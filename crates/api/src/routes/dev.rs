//! Development-only routes (never registered in production mode).

use actix_web::http::StatusCode;
use actix_web::{get, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::config::EmailConfig;
use crate::email::transport::{MailboxMessage, read_mailbox};
use crate::problem::{AsProblem, ProblemSpec, internal_error};
use crate::state::AppState;

/// Registers the dev routes (under `/v1`).
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(mailbox);
}

/// Mailbox filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MailboxQuery {
    /// Only messages to this address.
    pub to: Option<String>,
    /// Most messages to return (default 50, at most 500).
    pub limit: Option<usize>,
}

/// Errors of the mailbox.
#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    /// Email does not go to files in this configuration.
    #[error("the file transport is not in use")]
    NotFileTransport,
    /// The directory could not be read.
    #[error("cannot read the mailbox: {0}")]
    Io(#[from] std::io::Error),
}

impl AsProblem for MailboxError {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::NotFileTransport => ProblemSpec::from_catalogue(
                StatusCode::NOT_FOUND,
                "mailbox-unavailable",
                "problem-mailbox-unavailable",
                Vec::new(),
            ),
            Self::Io(_) => internal_error(self),
        }
    }
}
crate::problem_response!(MailboxError);

impl crate::problem::ProblemCatalogue for MailboxError {
    fn examples() -> Vec<ProblemSpec> {
        vec![Self::NotFileTransport.problem(), ProblemSpec::internal()]
    }
}

/// Dev mode only: the emails the `file` transport has "sent", newest first, with their links,
/// so the recovery journey can be followed without a mail server.
#[utoipa::path(
    tag = "dev",
    params(MailboxQuery),
    responses(
        (status = 200, description = "Messages, newest first.", body = Vec<MailboxMessage>),
        MailboxError,
    ),
)]
#[get("/dev/mailbox")]
pub async fn mailbox(
    state: web::Data<AppState>,
    query: web::Query<MailboxQuery>,
) -> Result<web::Json<Vec<MailboxMessage>>, MailboxError> {
    let EmailConfig::File { dir } = &state.config.email else {
        return Err(MailboxError::NotFileTransport);
    };
    let dir = dir.clone();
    let MailboxQuery { to, limit } = query.into_inner();
    let limit = limit.unwrap_or(50).clamp(1, 500);
    let messages = web::block(move || read_mailbox(&dir, to.as_deref(), limit))
        .await
        .map_err(|e| MailboxError::Io(std::io::Error::other(e.to_string())))??;
    Ok(web::Json(messages))
}
