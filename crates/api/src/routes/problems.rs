//! The pages a problem's `type` (`/problems/{code}`) points to: what the code means, its
//! status, an example, and the operations that can answer with it. Built from the same
//! catalogue as the OpenAPI document, so every code the service sends has a page.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::problem::{AsProblem, ProblemCatalogue, ProblemIndex, ProblemSpec};

/// Registers the pages (no prefix).
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(problem_list).service(problem_page);
}

/// Pages of plain HTML and the self-service stylesheet: nothing else may load.
const CSP: &str = "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// No problem has this code.
#[derive(Debug, thiserror::Error)]
#[error("unknown problem code")]
pub struct UnknownProblem;

impl AsProblem for UnknownProblem {
    fn problem(&self) -> ProblemSpec {
        ProblemSpec::from_catalogue(
            StatusCode::NOT_FOUND,
            "problem-type-not-found",
            "problem-problem-type-not-found",
            Vec::new(),
        )
    }
}
crate::problem_response!(UnknownProblem);

impl ProblemCatalogue for UnknownProblem {
    fn examples() -> Vec<ProblemSpec> {
        vec![Self.problem()]
    }
}

/// Every problem code of the API, with its status and title (an HTML page).
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "The list, as HTML.", content_type = "text/html"),
    ),
)]
#[get("/problems")]
pub async fn problem_list(index: web::Data<ProblemIndex>) -> HttpResponse {
    let rows: String = index
        .iter()
        .map(|(code, p)| {
            format!(
                "<tr><td><a href=\"/problems/{code}\"><code>{code}</code></a></td><td>{}</td><td>{}</td></tr>\n",
                statuses(&p.statuses),
                escape(&p.title)
            )
        })
        .collect();
    html(
        &format!(
            "<h1>Problems</h1>\n<p>Every error of the ESR Access API is an <code>application/problem+json</code> body whose <code>code</code> is one of these; its <code>type</code> is the address of the code's page.</p>\n<table>\n<thead><tr><th scope=\"col\">Code</th><th scope=\"col\">Status</th><th scope=\"col\">Title</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>"
        ),
        "Problems",
    )
}

/// What a problem code means: its status, an example detail, and the operations that can
/// answer with it (an HTML page; the `type` of every problem body points here).
#[utoipa::path(
    tag = "operations",
    params(("code" = String, Path, description = "A problem code.", example = "invalid-credentials")),
    responses(
        (status = 200, description = "The page, as HTML.", content_type = "text/html"),
        UnknownProblem,
    ),
)]
#[get("/problems/{code}")]
pub async fn problem_page(
    index: web::Data<ProblemIndex>,
    code: web::Path<String>,
) -> Result<HttpResponse, UnknownProblem> {
    let code = code.into_inner();
    let problem = index.get(&code).ok_or(UnknownProblem)?;
    let operations: String = if problem.operations.is_empty() {
        "<li>Any address (it does not depend on the operation).</li>".to_owned()
    } else {
        problem
            .operations
            .iter()
            .map(|op| format!("<li><code>{}</code></li>", escape(op)))
            .collect()
    };
    Ok(html(
        &format!(
            "<p><a href=\"/problems\">All problems</a></p>\n<h1><code>{code}</code>: {title}</h1>\n<dl>\n<dt>Status</dt><dd>{status}</dd>\n<dt>For example</dt><dd>{detail}</dd>\n</dl>\n<h2>Operations that can answer with it</h2>\n<ul>{operations}</ul>\n<p>The body is <code>application/problem+json</code> with <code>type</code> <code>/problems/{code}</code>, this <code>code</code>, a <code>detail</code> for a person to read and the <code>request_id</code> to quote to support. Switch on <code>code</code>, never on the text.</p>",
            code = escape(&code),
            title = escape(&problem.title),
            status = statuses(&problem.statuses),
            detail = escape(&problem.detail),
        ),
        &code,
    ))
}

fn statuses(statuses: &[u16]) -> String {
    statuses
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn html(body: &str, title: &str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .body(format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{} - ESR Access API</title>\n<link rel=\"stylesheet\" href=\"/self-service/assets/style.css\">\n</head>\n<body>\n<main id=\"main\">\n<div class=\"card\">\n{body}\n</div>\n</main>\n</body>\n</html>\n",
            escape(title)
        ))
}

/// HTML-escapes text (codes, titles and details hold no markup, but a page never trusts that).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
