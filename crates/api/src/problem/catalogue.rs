//! What each error type can answer: one example of every problem it gives, made by the same
//! `problem()` that answers requests. The OpenAPI document's problem responses, the `code`
//! enum and the `/problems/{code}` pages are all built from these, so they cannot drift from
//! what the service sends.

use std::collections::BTreeMap;

use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

use super::{PROBLEM_JSON, ProblemSpec};
use crate::i18n::Language;

/// The request id shown in examples.
const EXAMPLE_REQUEST_ID: &str = "0b5f8d7e-2c4a-4f2e-9a57-3c1d2b8e6f10";

/// Implemented by every endpoint error type.
pub trait ProblemCatalogue {
    /// One example of every problem this type can answer with.
    fn examples() -> Vec<ProblemSpec>;
}

/// The OpenAPI responses of `problems`: one per status, whose description lists the codes and
/// whose content has an example body of each.
pub fn responses(problems: &[ProblemSpec]) -> BTreeMap<String, RefOr<Response>> {
    let mut responses = BTreeMap::new();
    merge_into(&mut responses, problems);
    responses
}

/// Adds `problems` to an operation's responses, beside the problems already listed there.
pub fn merge_into(responses: &mut BTreeMap<String, RefOr<Response>>, problems: &[ProblemSpec]) {
    for spec in problems {
        let status = spec.status().as_u16().to_string();
        let entry = responses
            .entry(status)
            .or_insert_with(|| RefOr::T(empty_problem_response()));
        if let RefOr::T(response) = entry {
            add_example(response, spec);
        }
    }
}

/// A problem response without examples yet.
fn empty_problem_response() -> Response {
    ResponseBuilder::new()
        .description("")
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// Adds one problem's example and description line, once per code.
fn add_example(response: &mut Response, spec: &ProblemSpec) {
    let content = response
        .content
        .entry(PROBLEM_JSON.to_owned())
        .or_insert_with(|| {
            RefOr::T(
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
        });
    let RefOr::T(content) = content else {
        return;
    };
    if content.examples.contains_key(spec.code()) {
        return;
    }
    let body = serde_json::to_value(spec.clone().into_body(EXAMPLE_REQUEST_ID.to_owned()))
        .unwrap_or_default();
    content.examples.insert(
        spec.code().to_owned(),
        RefOr::T(
            ExampleBuilder::new()
                .summary(spec.title())
                .value(Some(body))
                .build(),
        ),
    );
    if let (welsh, Language::Cy) = spec.clone().in_language(Language::Cy) {
        let body = serde_json::to_value(welsh.clone().into_body(EXAMPLE_REQUEST_ID.to_owned()))
            .unwrap_or_default();
        content.examples.insert(
            format!("{} (Cymraeg)", spec.code()),
            RefOr::T(
                ExampleBuilder::new()
                    .summary(format!("{} (Accept-Language: cy)", welsh.title()))
                    .value(Some(body))
                    .build(),
            ),
        );
    }
    let line = format!("- `{}`: {}", spec.code(), spec.detail());
    if response.description.is_empty() {
        response.description = line;
    } else {
        response.description.push('\n');
        response.description.push_str(&line);
    }
}

/// Every problem code of a document's responses, with its status, title and example
/// detail, and the operations that can answer with it.
#[derive(Debug, Clone, Default)]
pub struct ProblemIndex {
    entries: BTreeMap<String, IndexedProblem>,
}

/// One problem code in the [`ProblemIndex`].
#[derive(Debug, Clone, Default)]
pub struct IndexedProblem {
    /// The HTTP statuses it comes with (usually one).
    pub statuses: Vec<u16>,
    /// Its title.
    pub title: String,
    /// An example detail.
    pub detail: String,
    /// `METHOD /path` of each operation that can answer with it.
    pub operations: Vec<String>,
}

impl ProblemIndex {
    /// Collects the problems of every operation of `api`, and those any address can give.
    pub fn of(api: &utoipa::openapi::OpenApi) -> Self {
        let mut index = Self::default();
        for spec in super::unrouted_problems() {
            index.add(&spec_value(&spec), None);
        }
        for (path, item) in &api.paths.paths {
            for (method, op) in operations(item) {
                for response in op.responses.responses.values() {
                    let RefOr::T(response) = response else {
                        continue;
                    };
                    let Some(RefOr::T(content)) = response.content.get(PROBLEM_JSON) else {
                        continue;
                    };
                    for example in content.examples.values() {
                        if let RefOr::T(example) = example
                            && let Some(value) = &example.value
                        {
                            index.add(value, Some(format!("{method} {path}")));
                        }
                    }
                }
            }
        }
        index
    }

    fn add(&mut self, body: &serde_json::Value, operation: Option<String>) {
        let text = |key: &str| body[key].as_str().unwrap_or_default().to_owned();
        let code = text("code");
        if code.is_empty() {
            return;
        }
        let entry = self.entries.entry(code).or_insert_with(|| IndexedProblem {
            title: text("title"),
            detail: text("detail"),
            ..IndexedProblem::default()
        });
        if let Some(status) = body["status"].as_u64().and_then(|s| u16::try_from(s).ok())
            && !entry.statuses.contains(&status)
        {
            entry.statuses.push(status);
            entry.statuses.sort_unstable();
        }
        if let Some(operation) = operation
            && !entry.operations.contains(&operation)
        {
            entry.operations.push(operation);
        }
    }

    /// The problem of `code`, if any operation gives it.
    pub fn get(&self, code: &str) -> Option<&IndexedProblem> {
        self.entries.get(code)
    }

    /// Every code, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &IndexedProblem)> {
        self.entries.iter().map(|(code, p)| (code.as_str(), p))
    }

    /// Every code, in order.
    pub fn codes(&self) -> Vec<String> {
        self.entries.keys().cloned().collect()
    }
}

/// A problem's body as an example holds it.
fn spec_value(spec: &ProblemSpec) -> serde_json::Value {
    serde_json::to_value(spec.clone().into_body(EXAMPLE_REQUEST_ID.to_owned())).unwrap_or_default()
}

/// The operations of a path item with their methods.
pub(crate) fn operations(
    item: &utoipa::openapi::PathItem,
) -> impl Iterator<Item = (&'static str, &utoipa::openapi::path::Operation)> {
    [
        ("GET", &item.get),
        ("PUT", &item.put),
        ("POST", &item.post),
        ("DELETE", &item.delete),
        ("PATCH", &item.patch),
        ("HEAD", &item.head),
        ("OPTIONS", &item.options),
        ("TRACE", &item.trace),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.as_ref().map(|op| (method, op)))
}
