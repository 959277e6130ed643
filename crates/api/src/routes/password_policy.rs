//! The password policy, for forms: the rules to show, and a live check of a candidate.

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use esr_domain::{Password, PolicyContext};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::i18n::Language;
use crate::problem::Violation;
use crate::problem::{violation_body, violations_in};
use crate::state::AppState;

/// Registers the policy routes (under `/v1`).
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(get_policy).service(check_password);
}

/// One rule of the policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyRuleBody {
    /// Code of the violation this rule produces.
    #[schema(example = "password-too-short")]
    pub code: &'static str,
    /// The rule in the user guide's words.
    #[schema(example = "Password must be a minimum of 12 characters")]
    pub description: String,
}

/// The password policy every password-setting path applies.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordPolicyBody {
    /// Fewest characters (Unicode code points after NFKC normalisation).
    #[schema(example = 12)]
    pub min_length: usize,
    /// Most characters.
    #[schema(example = 128)]
    pub max_length: usize,
    /// How many previous passwords may not be reused.
    #[schema(example = 4)]
    pub history_depth: usize,
    /// Commonly used passwords are refused.
    pub common_list: bool,
    /// Passwords found in known data breaches are refused.
    pub breached_check: bool,
    /// The rules to show beside a password form.
    pub rules: Vec<PolicyRuleBody>,
}

/// The password rules, in the words of the ESR user guide, for display beside password forms.
#[utoipa::path(
    tag = "password-policy",
    responses((status = 200, description = "The policy.", body = PasswordPolicyBody)),
)]
#[get("/password-policy")]
pub async fn get_policy(state: web::Data<AppState>) -> web::Json<PasswordPolicyBody> {
    let d = state.config.password_policy.describe();
    web::Json(PasswordPolicyBody {
        min_length: d.min_length,
        max_length: d.max_length,
        history_depth: d.history_depth,
        common_list: d.common_list,
        breached_check: d.breached_check,
        rules: d
            .rules
            .into_iter()
            .map(|r| PolicyRuleBody {
                code: r.code,
                description: r.description,
            })
            .collect(),
    })
}

/// A candidate password to check while the person types.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"new_password": "correct horse battery", "confirm_password": "correct horse battery", "username": "999JSMITH01"}))]
pub struct PasswordCheckRequest {
    /// The candidate password.
    #[schema(value_type = String, format = Password)]
    pub new_password: Password,
    /// The retyped password, when the form has it.
    #[schema(value_type = Option<String>, format = Password)]
    pub confirm_password: Option<Password>,
    /// The ESR username the password is for, when known (passwords containing it are refused).
    #[schema(example = "999JSMITH01")]
    pub username: Option<String>,
}

/// The result of a check.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordCheckResult {
    /// True when no static rule is broken. History (and the breached check, where enabled) is
    /// checked only when the password is actually set.
    pub acceptable: bool,
    /// Every rule the candidate breaks, to show together.
    pub violations: Vec<Violation>,
}

/// Check a candidate password against the static rules (length, common passwords, username,
/// repeats, confirmation) for live feedback. Nothing is stored or logged.
#[utoipa::path(
    tag = "password-policy",
    request_body = PasswordCheckRequest,
    responses(
        (status = 200, description = "The candidate's violations (possibly none), their messages in the language `Accept-Language` prefers (`cy` or `en`).", body = PasswordCheckResult,
            headers(("Content-Language" = String, description = "The language of the messages: `cy` when `Accept-Language` prefers Welsh, otherwise `en`."))),
    ),
)]
#[post("/password-policy/check")]
pub async fn check_password(
    state: web::Data<AppState>,
    language: Language,
    body: web::Json<PasswordCheckRequest>,
) -> HttpResponse {
    let body = body.into_inner();
    let ctx = PolicyContext {
        username: body
            .username
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty()),
        ..PolicyContext::default()
    };
    let violations: Vec<Violation> = match state.config.password_policy.check(
        &body.new_password,
        body.confirm_password.as_ref(),
        &ctx,
    ) {
        Ok(_) => Vec::new(),
        Err(violations) => violations.iter().map(violation_body).collect(),
    };
    let (violations, answered_in) = in_language(violations, language);
    HttpResponse::Ok()
        .insert_header((header::CONTENT_LANGUAGE, answered_in.tag()))
        .insert_header((header::VARY, "Accept-Language"))
        .json(PasswordCheckResult {
            acceptable: violations.is_empty(),
            violations,
        })
}

/// The messages of `violations` in `language`, and the language they are then in (English
/// unless every one has words in `language`).
fn in_language(violations: Vec<Violation>, language: Language) -> (Vec<Violation>, Language) {
    match violations_in(&violations, language) {
        Some(translated) => (translated, language),
        None => (violations, Language::En),
    }
}
