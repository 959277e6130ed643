//! `POST /v1/admin/people/import`: the HR feed of staff records as a streamed CSV body.
//!
//! The body is never held whole: chunks go from the request (`web::Payload`) through a
//! bounded channel to a blocking task that reads them as a `Read` and imports batch by batch
//! ([`crate::app::import`]). The channel's bound is the back-pressure: a slow database slows the
//! upload instead of buffering it.

use std::io::{self, Read};

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, post, web};
use futures_util::StreamExt;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::admin_auth::WriteKey;
use crate::app::Caller;
use crate::app::import::{Feed, FullFeed, ImportError, ImportLimits, ImportReport, Quiet, Scope};
use crate::problem::{AsProblem, ProblemCatalogue, ProblemSpec};
use crate::state::{AppState, StorageError};

/// Registers the import route (under `/v1`).
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(import_people);
}

/// Chunks in flight between the request and the importer (each at most actix's read size).
const CHANNEL_CHUNKS: usize = 16;

/// Errors of the import endpoint.
#[derive(Debug, thiserror::Error)]
pub enum ImportHttpError {
    /// The body is not `text/csv`.
    #[error("the body must be text/csv")]
    UnsupportedMediaType,
    /// The body is larger than `ESR_IMPORT_BODY_LIMIT_MIB`.
    #[error("the body is larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
        /// Whether some batches were stored before the limit was reached.
        partly_imported: bool,
    },
    /// The body paused for longer than `ESR_BODY_TIMEOUT_SECS` between chunks.
    #[error("the body stalled for {secs} s")]
    Stalled {
        /// The pause allowed, in seconds.
        secs: u64,
        /// Whether some batches were stored before it stalled.
        partly_imported: bool,
    },
    /// The whole file was refused, or the body could not be read.
    #[error(transparent)]
    Import(ImportError),
    /// A query parameter is malformed, or names an organisation the key does not cover.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// The database or the blocking pool failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl AsProblem for ImportHttpError {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::UnsupportedMediaType => ProblemSpec::from_catalogue(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "problem-unsupported-media-type--csv",
                Vec::new(),
            ),
            Self::TooLarge {
                limit,
                partly_imported,
            } => ProblemSpec::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload Too Large",
                if *partly_imported {
                    format!(
                        "The body is larger than the limit of {limit} bytes. Lines before the limit may have been stored; the import is idempotent, so split the file and import each part."
                    )
                } else {
                    format!(
                        "The body is larger than the limit of {limit} bytes; nothing was imported. Split the file and import each part."
                    )
                },
            ),
            Self::Stalled {
                secs,
                partly_imported,
            } => ProblemSpec::new(
                StatusCode::REQUEST_TIMEOUT,
                "request-timeout",
                "Request Timeout",
                if *partly_imported {
                    format!(
                        "The body paused for more than {secs} seconds. The batches stored before the pause are kept; send the whole file again (the import is idempotent)."
                    )
                } else {
                    format!("The body paused for more than {secs} seconds.")
                },
            ),
            Self::Import(ImportError::Empty) => ProblemSpec::new(
                StatusCode::BAD_REQUEST,
                "empty-import",
                "Empty file",
                ImportError::Empty.to_string(),
            ),
            Self::Import(e @ ImportError::Header { .. }) => ProblemSpec::new(
                StatusCode::BAD_REQUEST,
                "invalid-import-header",
                "Wrong header line",
                format!("{e}. Nothing was imported."),
            ),
            Self::Import(ImportError::Read(e)) => ProblemSpec::new(
                StatusCode::BAD_REQUEST,
                "bad-request",
                "Bad Request",
                format!("The request body could not be read: {e}."),
            ),
            Self::Import(ImportError::Storage(_, e)) if e.is_unavailable() => {
                tracing::warn!(error = %e, "database unavailable during an import");
                import_interrupted()
            }
            Self::Import(e @ ImportError::Storage(..)) => crate::problem::internal_error(e),
            Self::InvalidParameter(detail) => ProblemSpec::new(
                StatusCode::BAD_REQUEST,
                "invalid-query-parameter",
                "Invalid query parameter",
                detail.clone(),
            ),
            Self::Storage(e) => e.problem(),
        }
    }
}
crate::problem_response!(ImportHttpError);

impl ProblemCatalogue for ImportHttpError {
    fn examples() -> Vec<ProblemSpec> {
        let mut examples: Vec<ProblemSpec> = [
            Self::UnsupportedMediaType,
            Self::TooLarge {
                limit: 64 * 1024 * 1024,
                partly_imported: true,
            },
            Self::Stalled {
                secs: 10,
                partly_imported: true,
            },
            Self::Import(ImportError::Empty),
            Self::Import(ImportError::Header {
                found: "name,email".into(),
            }),
            Self::InvalidParameter("full_feed must be an organisation this key covers".into()),
        ]
        .iter()
        .map(AsProblem::problem)
        .collect();
        examples.push(import_interrupted());
        examples.push(crate::admin_auth::AdminAuthError::InvalidKey.problem());
        examples.extend(StorageError::examples());
        examples
    }
}

/// The database went away during an import.
fn import_interrupted() -> ProblemSpec {
    ProblemSpec::from_catalogue(
        StatusCode::SERVICE_UNAVAILABLE,
        "database-unavailable",
        "problem-database-unavailable--import-interrupted",
        Vec::new(),
    )
    .with_retry_after(5)
}

/// Reads the chunks the request handler forwards; an `Err` item ends the input with it.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

/// Marks the read error that the body limit produced.
#[derive(Debug)]
struct BodyTooLarge;
impl std::fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the body is larger than the limit")
    }
}
impl std::error::Error for BodyTooLarge {}

/// `text/csv`, with no charset or UTF-8.
fn is_csv(req: &HttpRequest) -> bool {
    let Some(value) = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut parts = value.split(';').map(str::trim);
    let essence_ok = parts
        .next()
        .is_some_and(|m| m.eq_ignore_ascii_case("text/csv"));
    essence_ok
        && parts.all(|p| match p.split_once('=') {
            Some((name, v)) if name.trim().eq_ignore_ascii_case("charset") => {
                v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
            }
            _ => true,
        })
}

/// Streams a people CSV into the database.
pub(crate) async fn run_import(
    state: &AppState,
    req: &HttpRequest,
    caller: Caller,
    actor: esr_persistence::audit::Actor,
    feed: Feed,
    payload: web::Payload,
) -> Result<ImportReport, ImportHttpError> {
    if !is_csv(req) {
        return Err(ImportHttpError::UnsupportedMediaType);
    }
    let limit = state.config.import_body_limit;
    if declared_length(req).is_some_and(|len| len > limit) {
        return Err(ImportHttpError::TooLarge {
            limit,
            partly_imported: false,
        });
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(CHANNEL_CHUNKS);
    let job = start_import(state, caller, actor, feed, rx);
    let idle = state.config.body_timeout;
    let ended = pump_body(payload, tx, limit, idle).await;
    match job.await.map_err(|_| StorageError::Shutdown)? {
        Ok(report) => Ok(report),
        Err(ImportError::Read(_)) if ended == BodyEnd::TooLarge => Err(ImportHttpError::TooLarge {
            limit,
            partly_imported: true,
        }),
        Err(ImportError::Read(_)) if ended == BodyEnd::Stalled => Err(ImportHttpError::Stalled {
            secs: idle.as_secs(),
            partly_imported: true,
        }),
        Err(e) => Err(ImportHttpError::Import(e)),
    }
}

fn declared_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// Runs the import on a blocking thread, reading the body from `rx` as it arrives, and
/// records its audit row when it ends.
fn start_import(
    state: &AppState,
    caller: Caller,
    actor: esr_persistence::audit::Actor,
    feed: Feed,
    rx: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
) -> impl Future<Output = Result<Result<ImportReport, ImportError>, actix_web::error::BlockingError>>
{
    let pool = state.pool.clone();
    let config = state.config.clone();
    let span = tracing::Span::current();
    actix_web::web::block(move || {
        span.in_scope(|| {
            let mut conn = pool.get().map_err(|e| ImportError::Storage(0, e))?;
            let now = chrono::Utc::now();
            let reader = ChannelReader {
                rx,
                current: Bytes::new(),
            };
            let importer = crate::app::import::Importer {
                caller: &caller,
                actor: &actor,
                digests: &config.audit_digest_key,
                contact_change_hold: crate::app::contact_change_hold(&config),
            };
            let report = crate::app::import::import(
                &mut conn,
                reader,
                &feed,
                ImportLimits::default(),
                importer,
                now,
                &mut Quiet,
            )?;
            crate::app::import::record_audit(&mut conn, &caller, &actor, &report, now)
                .map_err(|e| ImportError::Storage(0, e))?;
            Ok::<_, ImportError>(report)
        })
    })
}

/// How the body's reading ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyEnd {
    /// Read to its end, or the importer stopped reading.
    Done,
    /// It passed the size limit.
    TooLarge,
    /// No byte came for longer than the pause allowed.
    Stalled,
}

/// Passes the request body to the importer chunk by chunk until it ends, fails, passes
/// `limit` bytes, pauses longer than `idle` or the importer stops reading.
async fn pump_body(
    mut payload: web::Payload,
    tx: tokio::sync::mpsc::Sender<io::Result<Bytes>>,
    limit: u64,
    idle: std::time::Duration,
) -> BodyEnd {
    let mut received: u64 = 0;
    let mut ended = BodyEnd::Done;
    loop {
        let chunk = match tokio::time::timeout(idle, payload.next()).await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(_) => {
                ended = BodyEnd::Stalled;
                let _ = tx.send(Err(io::Error::from(io::ErrorKind::TimedOut))).await;
                break;
            }
        };
        let item = match chunk {
            Ok(bytes) => {
                received += bytes.len() as u64;
                if received > limit {
                    ended = BodyEnd::TooLarge;
                    Err(io::Error::other(BodyTooLarge))
                } else {
                    Ok(bytes)
                }
            }
            Err(e) => Err(io::Error::other(e.to_string())),
        };
        let stop = item.is_err();
        // A closed channel means the importer has finished early (a refused header): the
        // rest of the body is not needed.
        if tx.send(item).await.is_err() || stop {
            break;
        }
    }
    ended
}

/// Import people from CSV (streamed; idempotent upsert on organisation + employee number).
///
/// The body is the HR feed: a header line
/// `organisation_code,employee_number,first_name,last_name,date_of_birth,work_email,smartcard_subject`
/// then one person per record (UTF-8, RFC 4180: a quoted field may span lines; `\n` or
/// `\r\n`; errors name the line a record starts on). Rows are created, or
/// updated in place when the organisation + employee number exists (the person keeps their
/// id, accounts and username), or left alone when unchanged. A bad line is refused with its
/// line number, field and a message, and the other lines are still imported; nothing of a
/// refused line is stored. Refused: bad values (date of birth `YYYY-MM-DD`, email, names,
/// employee number, smartcard subject), an organisation that does not exist (or that an
/// organisation-scoped key does not cover), a repeat of an earlier line's organisation +
/// employee number or smartcard subject, a smartcard subject linked to another person,
/// non-UTF-8 text, a wrong number of fields, a record over 4 KiB. Only a wrong header or an
/// empty body refuse the whole file. Accounts are not created: a username is made when the
/// person first signs in with their smartcard.
///
/// With `full_feed=ORG` the file is that organisation's whole staff list: after the import,
/// its people missing from the file leave (their accounts disabled, sessions ended, links
/// cancelled, internet access revoked; `leavers` counts them). No one leaves when a line was
/// refused, or when more than `max_leavers_percent` (default 5) of the staff are missing, as a
/// file cut short would make them: `leavers_withheld` says why.
///
/// Rows are written in transactions of 5,000. At most 1,000 errors are listed (`truncated`
/// says when there were more; `rejected` counts every refused line). The body may be up to
/// `ESR_IMPORT_BODY_LIMIT_MIB` (default 512 MiB) and is streamed, so memory use does not
/// depend on its size. Importing the same file again changes nothing.
#[utoipa::path(
    tag = "admin",
    request_body(
        content = String,
        content_type = "text/csv",
        description = "The people file: the header line, then one person per record.",
        example = json!("organisation_code,employee_number,first_name,last_name,date_of_birth,work_email,smartcard_subject\n999,20000001,Amelia,Hughes,1990-02-14,amelia.hughes@demo.example.org,555000100001\n999,20000002,Rhys,Evans,1979-11-30,rhys.evans@demo.example.org,\n")
    ),
    params(ImportQuery),
    responses(
        (status = 200, description = "The import ran: totals and the refused lines.", body = ImportReport),
        ImportHttpError,
    ),
    security(("apiKey" = [])),
)]
#[post("/admin/people/import")]
pub async fn import_people(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: WriteKey,
    caller: Caller,
    query: web::Query<ImportQuery>,
    payload: web::Payload,
) -> Result<web::Json<ImportReport>, ImportHttpError> {
    let feed = query.into_inner().feed_for(&key)?;
    let report = run_import(&state, &req, caller, key.actor(), feed, payload).await?;
    Ok(web::Json(report))
}

/// How to read the file.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The organisation whose whole staff the file lists: its people missing from the file
    /// leave.
    #[param(example = "241", pattern = "^[0-9A-Za-z]{3}$")]
    pub full_feed: Option<String>,
    /// With `full_feed`: the largest share of the organisation's staff that may leave in one
    /// run, in percent (1 to 100, default 5).
    #[param(minimum = 1, maximum = 100)]
    pub max_leavers_percent: Option<u8>,
}

impl ImportQuery {
    fn feed_for(self, key: &WriteKey) -> Result<Feed, ImportHttpError> {
        let bad = |what: &str| ImportHttpError::InvalidParameter(what.to_owned());
        let Some(org) = self.full_feed else {
            if self.max_leavers_percent.is_some() {
                return Err(bad("max_leavers_percent needs full_feed"));
            }
            return Ok(Feed::Rows(match key.organisation() {
                None => Scope::All,
                Some(code) => Scope::Organisation(code.clone()),
            }));
        };
        let organisation = esr_domain::OrganisationCode::parse(&org)
            .ok()
            .filter(|code| key.can_see(code))
            .ok_or_else(|| bad("full_feed must be an organisation this key covers"))?;
        let max_leavers_percent = self.max_leavers_percent.unwrap_or(5);
        if !(1..=100).contains(&max_leavers_percent) {
            return Err(bad("max_leavers_percent is 1 to 100"));
        }
        Ok(Feed::Full(FullFeed {
            organisation,
            max_leavers_percent,
        }))
    }
}
