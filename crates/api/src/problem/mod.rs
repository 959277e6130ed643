//! RFC 9457 problem details: the one error format of the API.
//!
//! Handlers and extractors return errors that describe their problem ([`ProblemSpec`]); the
//! [`render_problems`] middleware turns every error response, including those actix makes
//! itself (unknown route, wrong method, oversized body), into `application/problem+json`
//! carrying the request id.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use std::borrow::Cow;

use crate::i18n::{Arg, Language, Message};
use crate::request_context::RequestId;

mod catalogue;
mod common;
pub use catalogue::{ProblemCatalogue, ProblemIndex, merge_into, responses};
pub use common::{
    busy_problem, contact_change_hold_problem, database_unavailable_problem, example_hold_end,
    policy_problem, policy_problem_example, violation_body,
};

/// Media type of problem responses.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error response body (RFC 9457) with the stable `code` clients switch on.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/not-found",
    "title": "Not Found",
    "status": 404,
    "detail": "There is nothing at /v1/nothing-here.",
    "code": "not-found",
    "request_id": "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10"
}))]
pub struct Problem {
    /// URI reference identifying the problem type: `/problems/{code}`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short, stable summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this case, for a person to read.
    pub detail: String,
    /// Stable machine-readable code, e.g. `invalid-credentials`.
    pub code: String,
    /// Identifies this request in the service's logs (also in the `X-Request-Id` header).
    pub request_id: String,
    /// Every rule the input broke, for forms that show all errors at once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<Violation>,
    /// Why the session of the token ended, when it did (`invalid-token`,
    /// `invalid-refresh-token`): `expired` (its absolute end), `idle_timeout` (its refresh
    /// token unused too long), `logout`, `ended_by_owner`, `password_changed`,
    /// `password_reset`, `password_set`, `account_locked`, `account_suspended`,
    /// `account_disabled`, `internet_access_rejected`, `internet_access_revoked`,
    /// `internet_access_lapsed`, `account_not_active`, `refresh_token_reuse`,
    /// `smartcard_changed`, `factor_removed`, `factors_reset` or `second_factor_required`.
    /// Stable values: the app can say "you signed out elsewhere" or "your password was
    /// changed" instead of a bare "log in again".
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "password_changed")]
    pub session_ended: Option<String>,
    /// The organisations to choose from (`organisation-choice-required`: the smartcard is
    /// linked to an ESR record in each); start again with one's `organisation_code`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub organisations: Vec<OrganisationChoice>,
}

/// An organisation a smartcard sign-in can be made to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganisationChoice {
    /// The ESR organisation code, e.g. `999`.
    pub code: String,
    /// Its name, e.g. `Demo NHS Trust`.
    pub name: String,
}

/// One broken rule.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Violation {
    /// Stable code of the rule, e.g. `password-too-short`.
    pub code: String,
    /// The request field it concerns, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What to do about it, for a person to read.
    pub message: String,
    /// The catalogue message of `message`, when it comes from the catalogue.
    #[serde(skip)]
    pub words: Option<Message>,
}

/// The catalogue message of a rule without values (`violation-{code}`), if the catalogue has
/// one. A message that needs values it is not given does not format, so its problem stays in
/// English rather than show a Welsh text with a hole in it.
pub fn violation_words(code: &str) -> Option<Message> {
    let id = format!("violation-{code}");
    Language::En
        .catalogue()
        .has(&id)
        .then(|| Message::new(id, Vec::new()))
}

/// Every one of `violations` with its message in `language`, or `None` when one of them has
/// no words in it (the caller then keeps them all in English).
pub fn violations_in(violations: &[Violation], language: Language) -> Option<Vec<Violation>> {
    violations.iter().map(|v| v.in_language(language)).collect()
}

impl Violation {
    /// `message` in `language`, when its words are in the catalogue.
    fn in_language(&self, language: Language) -> Option<Self> {
        let message = self.words.as_ref()?.text(language)?;
        Some(Self {
            message,
            ..self.clone()
        })
    }
}

/// A problem before the request id is attached; what error types produce.
#[derive(Debug, Clone)]
pub struct ProblemSpec {
    status: StatusCode,
    code: &'static str,
    title: Cow<'static, str>,
    detail: String,
    /// The catalogue messages of the title and detail, when they come from the catalogue.
    words: Option<Words>,
    violations: Vec<Violation>,
    retry_after_secs: Option<u64>,
    www_authenticate: Option<&'static str>,
    session_ended: Option<&'static str>,
    organisations: Vec<OrganisationChoice>,
}

impl ProblemSpec {
    /// A problem with its status, stable code, title and detail.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            title: Cow::Borrowed(title),
            detail: detail.into(),
            words: None,
            violations: Vec::new(),
            retry_after_secs: None,
            www_authenticate: None,
            session_ended: None,
            organisations: Vec::new(),
        }
    }

    /// A problem whose words are the catalogue's: the detail `detail_id` with `args`, and the
    /// title of its case (`{detail_id}-title`) where it has its own, else of its code.
    pub fn from_catalogue(
        status: StatusCode,
        code: &'static str,
        detail_id: &'static str,
        args: Vec<(&'static str, Arg)>,
    ) -> Self {
        let case_title = format!("{detail_id}-title");
        let title_id = if Language::En.catalogue().has(&case_title) {
            case_title
        } else {
            format!("problem-{code}-title")
        };
        let status_code = ("status_code", Arg::Number(i64::from(status.as_u16())));
        let words = Words {
            title: Message::new(title_id, vec![status_code]),
            detail: Message::new(detail_id, args),
        };
        let english = |message: &Message| {
            message.text(Language::En).unwrap_or_else(|| {
                tracing::error!(id = message.id(), "no such message in the catalogue");
                message.id().to_owned()
            })
        };
        Self {
            title: Cow::Owned(english(&words.title)),
            words: Some(words.clone()),
            ..Self::new(status, code, "", english(&words.detail))
        }
    }

    /// This problem in `language`, and the language it is then in: English where some of its
    /// words have no translation (so `Content-Language` never claims what the body is not).
    fn in_language(mut self, language: Language) -> (Self, Language) {
        if language == Language::En {
            return (self, Language::En);
        }
        let Some(words) = &self.words else {
            return (self, Language::En);
        };
        let violations = violations_in(&self.violations, language);
        match (
            words.title.text(language),
            words.detail.text(language),
            violations,
        ) {
            (Some(title), Some(detail), Some(violations)) => {
                self.title = Cow::Owned(title);
                self.detail = detail;
                self.violations = violations;
                (self, language)
            }
            _ => (self, Language::En),
        }
    }

    /// Adds why the token's session ended (see [`Problem::session_ended`]).
    #[must_use]
    pub fn with_session_ended(mut self, why: Option<&'static str>) -> Self {
        self.session_ended = why;
        self
    }

    /// Adds the rules the input broke.
    #[must_use]
    pub fn with_violations(mut self, violations: Vec<Violation>) -> Self {
        self.violations = violations;
        self
    }

    /// Adds the organisations to choose from (see [`Problem::organisations`]).
    #[must_use]
    pub fn with_organisations(mut self, organisations: Vec<OrganisationChoice>) -> Self {
        self.organisations = organisations;
        self
    }

    /// Adds `Retry-After` (for 429 and 503).
    #[must_use]
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    /// Adds a `WWW-Authenticate` challenge (for 401).
    #[must_use]
    pub fn with_www_authenticate(mut self, challenge: &'static str) -> Self {
        self.www_authenticate = Some(challenge);
        self
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The detail.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The problem for a status when nothing more specific is known.
    pub fn for_status(status: StatusCode) -> Self {
        let (code, detail_id) = match status {
            StatusCode::BAD_REQUEST => ("bad-request", "problem-bad-request"),
            StatusCode::UNAUTHORIZED => ("unauthorized", "problem-unauthorized"),
            StatusCode::FORBIDDEN => ("forbidden", "problem-forbidden"),
            StatusCode::NOT_FOUND => ("not-found", "problem-not-found"),
            StatusCode::METHOD_NOT_ALLOWED => ("method-not-allowed", "problem-method-not-allowed"),
            StatusCode::PAYLOAD_TOO_LARGE => ("payload-too-large", "problem-payload-too-large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ("unsupported-media-type", "problem-unsupported-media-type")
            }
            StatusCode::TOO_MANY_REQUESTS => ("too-many-requests", "problem-too-many-requests"),
            StatusCode::SERVICE_UNAVAILABLE => {
                ("service-unavailable", "problem-service-unavailable")
            }
            s if s.is_server_error() => ("internal-error", "problem-internal-error"),
            _ => ("http-error", "problem-http-error"),
        };
        Self::from_catalogue(status, code, detail_id, Vec::new())
    }

    /// An opaque 500; the cause goes to the log, never to the client.
    pub fn internal() -> Self {
        Self::for_status(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The response for this problem. The body is written by [`render_problems`] once the
    /// request id is known.
    pub fn into_response(self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after_secs {
            builder.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let Some(challenge) = self.www_authenticate {
            builder.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        let mut res = builder.finish();
        res.extensions_mut().insert(self);
        res
    }

    /// The body clients receive (with their request's id).
    pub(crate) fn into_body(self, request_id: String) -> Problem {
        Problem {
            problem_type: format!("/problems/{}", self.code),
            title: self.title.into_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code.to_owned(),
            request_id,
            violations: self.violations,
            session_ended: self.session_ended.map(str::to_owned),
            organisations: self.organisations,
        }
    }
}

/// Where a problem's title and detail come from in the catalogue, so that they can be given
/// in the asker's language.
#[derive(Debug, Clone)]
struct Words {
    title: Message,
    detail: Message,
}

/// Implemented by every endpoint error: the problem it answers with.
pub trait AsProblem: std::fmt::Debug + std::fmt::Display {
    /// The problem for this error. Internal errors log their cause chain here.
    fn problem(&self) -> ProblemSpec;
}

/// Implements [`ResponseError`] for an error type through its [`AsProblem`], and its
/// OpenAPI responses (`responses(…, ThisError)` in `#[utoipa::path]`) through its
/// [`ProblemCatalogue`].
#[macro_export]
macro_rules! problem_response {
    ($ty:ty) => {
        impl actix_web::ResponseError for $ty {
            fn status_code(&self) -> actix_web::http::StatusCode {
                $crate::problem::AsProblem::problem(self).status()
            }
            fn error_response(&self) -> actix_web::HttpResponse {
                $crate::problem::AsProblem::problem(self).into_response()
            }
        }
        impl utoipa::IntoResponses for $ty {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
            > {
                $crate::problem::responses(&<$ty as $crate::problem::ProblemCatalogue>::examples())
            }
        }
    };
}

/// Declares the problems of one operation whose error type is shared with others: the
/// shared type's own problems and the operation's own, each made by `problem()` from a value
/// of the error type. Use the declared type in the operation's `responses(…)`.
#[macro_export]
macro_rules! operation_problems {
    ($(#[$doc:meta])* $name:ident: $base:ty => [$($extra:expr),* $(,)?]) => {
        $(#[$doc])*
        pub struct $name;
        impl $crate::problem::ProblemCatalogue for $name {
            fn examples() -> Vec<$crate::problem::ProblemSpec> {
                let mut examples = <$base as $crate::problem::ProblemCatalogue>::examples();
                $(examples.push($crate::problem::AsProblem::problem(&$extra));)*
                examples
            }
        }
        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
            > {
                $crate::problem::responses(
                    &<$name as $crate::problem::ProblemCatalogue>::examples(),
                )
            }
        }
    };
}

/// The problems any address can answer with, whatever its operation: no such address, a
/// method it does not take, and the opaque 500.
pub fn unrouted_problems() -> Vec<ProblemSpec> {
    vec![
        no_route_problem(),
        ProblemSpec::for_status(StatusCode::METHOD_NOT_ALLOWED),
        ProblemSpec::internal(),
    ]
}

/// The `404 not-found` of an address that does not exist.
pub fn no_route_problem() -> ProblemSpec {
    ProblemSpec::from_catalogue(
        StatusCode::NOT_FOUND,
        "not-found",
        "problem-not-found--no-route",
        Vec::new(),
    )
}

/// Logs an unexpected error with its whole cause chain and returns the opaque 500.
pub fn internal_error(error: &(dyn std::error::Error + 'static)) -> ProblemSpec {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    tracing::error!(error.chain = %chain, "internal error");
    ProblemSpec::internal()
}

/// Middleware: renders every error response as problem+json with the request id.
pub async fn render_problems(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // Read before routing: the request must not be cloned while the router still needs it.
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map_or_else(String::new, |id| id.as_str().to_owned());
    let language = crate::i18n::negotiate(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let res = match next.call(req).await {
        Ok(res) => res.map_into_boxed_body(),
        Err(e) => {
            // Only a middleware failing can land here (handler errors are responses by now).
            let spec = e
                .error_response()
                .extensions()
                .get::<ProblemSpec>()
                .cloned()
                .unwrap_or_else(|| ProblemSpec::for_status(e.as_response_error().status_code()));
            let response = render(e.error_response(), spec, request_id, language);
            return Err(
                actix_web::error::InternalError::from_response(e.to_string(), response).into(),
            );
        }
    };
    if res.status().as_u16() < 400 {
        return Ok(res);
    }
    let spec = res.response().extensions().get::<ProblemSpec>().cloned();
    let already_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if spec.is_none() && already_problem {
        return Ok(res);
    }
    let spec = spec.unwrap_or_else(|| {
        if res.status().is_server_error()
            && let Some(err) = res.response().error()
        {
            tracing::error!(error = ?err, "request failed");
        }
        ProblemSpec::for_status(res.status())
    });
    let (req, response) = res.into_parts();
    Ok(ServiceResponse::new(
        req,
        render(response, spec, request_id, language),
    ))
}

/// Replaces the body of an error response with the problem document, in the asker's language
/// where it has the words for it.
fn render(
    response: HttpResponse,
    spec: ProblemSpec,
    request_id: String,
    language: Language,
) -> HttpResponse {
    let (spec, answered_in) = spec.in_language(language);
    let body = serde_json::to_vec(&spec.into_body(request_id)).unwrap_or_default();
    let mut response = response.set_body(BoxBody::new(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    headers.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(answered_in.tag()),
    );
    headers.append(header::VARY, HeaderValue::from_static("Accept-Language"));
    response.headers_mut().remove(header::CONTENT_LENGTH);
    response
}

/// Errors of request parsing (body, path, query), shared by every route.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The body is not JSON at all.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// The body is JSON but not of the expected shape (unknown field, wrong type, missing field).
    #[error("invalid request body: {0}")]
    InvalidBody(String),
    /// The body is a JSON array or scalar where an object is expected.
    #[error("the request body is not a JSON object")]
    NotAnObject,
    /// The body is larger than the route accepts.
    #[error("request body larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Not `application/json`.
    #[error("unsupported content type")]
    UnsupportedMediaType,
    /// The body could not be read.
    #[error("request body could not be read: {0}")]
    Payload(String),
    /// The body did not arrive in time.
    #[error("request body not received within {secs} s")]
    BodyTimeout {
        /// The deadline, in seconds.
        secs: u64,
    },
    /// A path segment is not of the expected form.
    #[error("invalid path parameter: {0}")]
    InvalidPath(String),
    /// A query parameter is not of the expected form.
    #[error("invalid query parameter: {0}")]
    InvalidQuery(String),
}

impl AsProblem for RequestError {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::MalformedJson(detail) => ProblemSpec::from_catalogue(
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "problem-malformed-json",
                vec![("reason", Arg::Text(detail.clone()))],
            ),
            Self::InvalidBody(detail) => ProblemSpec::from_catalogue(
                StatusCode::BAD_REQUEST,
                "invalid-request-body",
                "problem-invalid-request-body",
                vec![("reason", Arg::Text(detail.clone()))],
            ),
            Self::NotAnObject => ProblemSpec::from_catalogue(
                StatusCode::BAD_REQUEST,
                "invalid-request-body",
                "problem-invalid-request-body--not-an-object",
                Vec::new(),
            ),
            Self::TooLarge { limit } => ProblemSpec::from_catalogue(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "problem-payload-too-large--limit",
                vec![("limit", Arg::Text(limit.to_string()))],
            ),
            Self::UnsupportedMediaType => ProblemSpec::from_catalogue(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "problem-unsupported-media-type--json",
                Vec::new(),
            ),
            Self::Payload(detail) => ProblemSpec::from_catalogue(
                StatusCode::BAD_REQUEST,
                "bad-request",
                "problem-bad-request--unreadable-body",
                vec![("reason", Arg::Text(detail.clone()))],
            ),
            Self::BodyTimeout { secs } => ProblemSpec::from_catalogue(
                StatusCode::REQUEST_TIMEOUT,
                "request-timeout",
                "problem-request-timeout",
                vec![("seconds", Arg::Text(secs.to_string()))],
            ),
            Self::InvalidPath(detail) => ProblemSpec::new(
                StatusCode::BAD_REQUEST,
                "invalid-path-parameter",
                "Invalid path parameter",
                detail.clone(),
            ),
            Self::InvalidQuery(detail) => ProblemSpec::new(
                StatusCode::BAD_REQUEST,
                "invalid-query-parameter",
                "Invalid query parameter",
                detail.clone(),
            ),
        }
    }
}
crate::problem_response!(RequestError);

impl ProblemCatalogue for RequestError {
    fn examples() -> Vec<ProblemSpec> {
        [
            Self::MalformedJson("expected value at line 1 column 1".into()),
            Self::InvalidBody("missing field `username` at line 1 column 28".into()),
            Self::TooLarge {
                limit: JSON_BODY_LIMIT,
            },
            Self::UnsupportedMediaType,
            Self::Payload("the connection closed before the body ended".into()),
            Self::BodyTimeout { secs: 10 },
        ]
        .iter()
        .map(AsProblem::problem)
        .collect()
    }
}

impl RequestError {
    /// The problems of malformed path or query parameters.
    pub fn parameter_examples() -> Vec<ProblemSpec> {
        [
            Self::InvalidPath("can not parse \"x\" to a u64".into()),
            Self::InvalidQuery("unknown field `sort`, expected `cursor` or `limit`".into()),
        ]
        .iter()
        .map(AsProblem::problem)
        .collect()
    }
}

/// Largest JSON body any route accepts.
pub const JSON_BODY_LIMIT: usize = 16 * 1024;

/// Extractor settings that turn parse failures into [`RequestError`] problems.
pub fn json_config() -> actix_web::web::JsonConfig {
    use actix_web::error::JsonPayloadError;
    actix_web::web::JsonConfig::default()
        .limit(JSON_BODY_LIMIT)
        .content_type_required(true)
        .error_handler(|err, _req| {
            let e = match err {
                JsonPayloadError::ContentType => RequestError::UnsupportedMediaType,
                JsonPayloadError::Overflow { .. }
                | JsonPayloadError::OverflowKnownLength { .. } => RequestError::TooLarge {
                    limit: JSON_BODY_LIMIT,
                },
                JsonPayloadError::Deserialize(e) | JsonPayloadError::Serialize(e) => {
                    if e.is_data() {
                        RequestError::InvalidBody(e.to_string())
                    } else {
                        RequestError::MalformedJson(e.to_string())
                    }
                }
                other => RequestError::Payload(other.to_string()),
            };
            e.into()
        })
}

/// Middleware: a JSON request body must not be an array. serde's derived `Deserialize` also
/// accepts a struct written as an array of its fields in order (`["999JSMITH01", "…"]` would
/// log in), which no client should rely on and the OpenAPI document does not allow (every
/// body is an object; other non-objects already fail to deserialise); such bodies get
/// `400 invalid-request-body` here, before any handler. The body (at most
/// [`JSON_BODY_LIMIT`]; larger ones get 413 as from the extractor) is handed on unchanged.
/// Other content types (the CSV import) pass through untouched.
pub async fn json_objects_only(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    use futures_util::StreamExt;
    let is_json = req.mime_type().ok().flatten().is_some_and(|m| {
        m.subtype() == actix_web::mime::JSON || m.suffix() == Some(actix_web::mime::JSON)
    });
    if !is_json {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    // The whole body within the deadline: a client trickling bytes gives up its connection.
    let deadline = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .map_or(std::time::Duration::from_secs(10), |s| {
            s.config.body_timeout
        });
    let mut payload = req.take_payload();
    let read = async {
        let mut body = actix_web::web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| RequestError::Payload(e.to_string()))?;
            if body.len() + chunk.len() > JSON_BODY_LIMIT {
                return Err(RequestError::TooLarge {
                    limit: JSON_BODY_LIMIT,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    let refused = match tokio::time::timeout(deadline, read).await {
        Ok(Ok(body)) if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') => {
            RequestError::NotAnObject
        }
        Ok(Ok(body)) => {
            req.set_payload(actix_web::dev::Payload::from(body.freeze()));
            return Ok(next.call(req).await?.map_into_boxed_body());
        }
        Ok(Err(refused)) => refused,
        Err(_) => RequestError::BodyTimeout {
            secs: deadline.as_secs(),
        },
    };
    // Answered here, as a response rather than an error, so the middleware around (security
    // headers, the problem body) treats it like any other answer.
    let response = actix_web::ResponseError::error_response(&refused);
    Ok(req.into_response(response))
}

/// Path extractor settings.
pub fn path_config() -> actix_web::web::PathConfig {
    actix_web::web::PathConfig::default()
        .error_handler(|err, _req| RequestError::InvalidPath(err.to_string()).into())
}

/// Query extractor settings.
pub fn query_config() -> actix_web::web::QueryConfig {
    actix_web::web::QueryConfig::default()
        .error_handler(|err, _req| RequestError::InvalidQuery(err.to_string()).into())
}
