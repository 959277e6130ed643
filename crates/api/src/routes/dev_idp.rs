//! The dev identity provider (dev mode only; not registered in production, so its routes
//! answer 404 there): a stand-in for NHS CIS2 under `/dev-idp/`, so the smartcard flow runs
//! through the real relying-party code (discovery, keys, code exchange with
//! `private_key_jwt`, ID-token verification) with nothing else installed.
//!
//! `authorize` signs in the demo person named by `login_hint` (employee number or smartcard
//! subject; an unknown value signs in as that subject, to try an unlinked card), and
//! redirects to the redirect URI with a code. `token` checks the code (single use, 2
//! minutes), the redirect URI, the PKCE verifier (S256) and our client assertion against our
//! client key, then answers an ID token signed with its own RSA key (generated on first use,
//! kept in memory: codes and keys do not survive a restart, which dev mode does not need).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Utc;
use jsonwebtoken::{Algorithm, Validation};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::config::ClientAuth;
use crate::oidc::dev_provider::{CodeUse, DevIdp, PendingCode};
use crate::oidc::id_token::pkce_challenge;
use crate::oidc::{OidcClient, RsaJwkSet};
use crate::problem::{AsProblem, ProblemSpec, internal_error};
use crate::state::{AppState, StorageError};

/// Lifetime of issued ID tokens.
const ID_TOKEN_TTL_SECS: i64 = 300;

/// Registers the dev identity provider's routes (dev mode only).
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(
        utoipa_actix_web::scope("/dev-idp")
            .service(index)
            .service(discovery)
            .service(jwks)
            .service(authorize)
            .service(token),
    );
}

/// Errors of the dev identity provider (OAuth error names, as problem codes).
#[derive(Debug, thiserror::Error)]
pub enum DevIdpError {
    /// Smartcard sign-in is disabled, so there is no client to serve.
    #[error("smartcard sign-in is disabled")]
    Disabled,
    /// A parameter is missing or wrong.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The code is unknown, used, expired, or does not match.
    #[error("invalid grant: {0}")]
    InvalidGrant(&'static str),
    /// Client authentication failed.
    #[error("invalid client: {0}")]
    InvalidClient(&'static str),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Something that should not fail did.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AsProblem for DevIdpError {
    fn problem(&self) -> ProblemSpec {
        match self {
            Self::Disabled => ProblemSpec::from_catalogue(
                StatusCode::NOT_FOUND,
                "smartcard-login-disabled",
                "problem-smartcard-login-disabled--dev-idp",
                Vec::new(),
            ),
            Self::InvalidRequest(detail) => ProblemSpec::new(
                StatusCode::BAD_REQUEST,
                "invalid-request",
                "Invalid authorization request",
                detail.clone(),
            ),
            Self::InvalidGrant(detail) => ProblemSpec::new(
                StatusCode::BAD_REQUEST,
                "invalid-grant",
                "Invalid grant",
                *detail,
            ),
            Self::InvalidClient(detail) => ProblemSpec::new(
                StatusCode::UNAUTHORIZED,
                "invalid-client",
                "Invalid client",
                *detail,
            ),
            Self::Storage(e) => e.problem(),
            Self::Internal(_) => internal_error(self),
        }
    }
}
crate::problem_response!(DevIdpError);

/// The token endpoint's problems (it can give them all).
impl crate::problem::ProblemCatalogue for DevIdpError {
    fn examples() -> Vec<ProblemSpec> {
        let mut examples: Vec<ProblemSpec> = [
            Self::Disabled,
            Self::InvalidRequest("grant_type must be authorization_code".into()),
            Self::InvalidGrant("the code is unknown, used or expired"),
            Self::InvalidClient("the client assertion does not verify"),
        ]
        .iter()
        .map(AsProblem::problem)
        .collect();
        // The token endpoint's form extractor refuses another content type.
        examples.push(ProblemSpec::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        examples.extend(<StorageError as crate::problem::ProblemCatalogue>::examples());
        examples
    }
}

crate::operation_problems!(
    /// The problems of the provider's metadata and keys.
    MetadataProblems: StorageError => [DevIdpError::Disabled]
);

crate::operation_problems!(
    /// The problems of the authorization endpoint.
    AuthorizeProblems: StorageError => [
        DevIdpError::Disabled,
        DevIdpError::InvalidRequest("code_challenge_method must be S256".into()),
    ]
);

fn parts(state: &AppState) -> Result<(&DevIdp, &OidcClient), DevIdpError> {
    match (state.dev_idp.as_deref(), state.oidc.as_deref()) {
        (Some(idp), Some(oidc)) => Ok((idp, oidc)),
        _ => Err(DevIdpError::Disabled),
    }
}

/// OpenID Provider metadata (the part the relying party uses).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "issuer": "http://127.0.0.1:8080/dev-idp",
    "authorization_endpoint": "http://127.0.0.1:8080/dev-idp/authorize",
    "token_endpoint": "http://127.0.0.1:8080/dev-idp/token",
    "jwks_uri": "http://127.0.0.1:8080/dev-idp/jwks.json",
    "response_types_supported": ["code"],
    "grant_types_supported": ["authorization_code"],
    "subject_types_supported": ["public"],
    "id_token_signing_alg_values_supported": ["RS256"],
    "token_endpoint_auth_methods_supported": ["private_key_jwt"],
    "code_challenge_methods_supported": ["S256"],
    "acr_values_supported": ["AAL3_ANY"],
    "claims_supported": ["sub", "uid", "nonce", "acr", "amr", "authentication_assurance_level", "id_assurance_level", "name"]
}))]
pub struct DevIdpMetadata {
    /// `{public_base_url}/dev-idp`.
    pub issuer: String,
    /// The sign-in page.
    pub authorization_endpoint: String,
    /// The code exchange.
    pub token_endpoint: String,
    /// The provider's signing keys.
    pub jwks_uri: String,
    /// `["code"]`.
    pub response_types_supported: Vec<&'static str>,
    /// `["authorization_code"]`.
    pub grant_types_supported: Vec<&'static str>,
    /// `["public"]`.
    pub subject_types_supported: Vec<&'static str>,
    /// The algorithm ID tokens are signed with.
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// `private_key_jwt` or `client_secret_post`, as configured.
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// `["S256"]`.
    pub code_challenge_methods_supported: Vec<&'static str>,
    /// `["AAL3_ANY"]`.
    pub acr_values_supported: Vec<&'static str>,
    /// Claims in its ID tokens.
    pub claims_supported: Vec<&'static str>,
}

/// What the dev identity provider is, for whoever opens the address the start-up banner
/// prints: plain HTML, no script.
const INDEX: &str = r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Dev identity provider - ESR Access</title></head>
<body>
<h1>Dev identity provider</h1>
<p>In dev mode this stands in for NHS CIS2: the service signs staff in at work through it over
HTTP exactly as it would through CIS2. It does not exist in production.</p>
<ul>
<li><a href="/self-service/internet-access">Manage Internet Access</a>: sign in with a demo
smartcard (a list of the demo people is shown) and set a password.</li>
<li><a href="/dev-idp/.well-known/openid-configuration">Discovery document</a> and
<a href="/dev-idp/jwks.json">signing keys</a>.</li>
<li>With curl: README, "Registering for remote access at work" (<code>login_hint</code> is the
employee number or the smartcard number).</li>
</ul>
</body>
</html>
"#;

/// Dev identity provider: what it is, and where to start (dev mode only; 404 in production).
#[utoipa::path(
    operation_id = "dev_idp_index",
    tag = "dev",
    responses(
        (status = 200, description = "A page saying what the dev identity provider is.", content_type = "text/html"),
    ),
)]
#[get("/")]
pub async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(INDEX)
}

/// Dev identity provider: discovery document (dev mode only; 404 in production).
#[utoipa::path(
    operation_id = "dev_idp_discovery",
    tag = "dev",
    responses(
        (status = 200, description = "OpenID Provider metadata.", body = DevIdpMetadata),
        MetadataProblems,
    ),
)]
#[get("/.well-known/openid-configuration")]
pub async fn discovery(
    state: web::Data<AppState>,
) -> Result<web::Json<DevIdpMetadata>, DevIdpError> {
    let (idp, oidc) = parts(&state)?;
    let auth_method = match oidc.config().client_auth {
        ClientAuth::PrivateKeyJwt { .. } => "private_key_jwt",
        ClientAuth::ClientSecretPost(_) => "client_secret_post",
    };
    Ok(web::Json(DevIdpMetadata {
        issuer: idp.issuer().to_owned(),
        authorization_endpoint: idp.endpoint("authorize"),
        token_endpoint: idp.endpoint("token"),
        jwks_uri: idp.endpoint("jwks.json"),
        response_types_supported: vec!["code"],
        grant_types_supported: vec!["authorization_code"],
        subject_types_supported: vec!["public"],
        id_token_signing_alg_values_supported: vec![format!("{:?}", signing_alg(oidc))],
        token_endpoint_auth_methods_supported: vec![auth_method],
        code_challenge_methods_supported: vec!["S256"],
        acr_values_supported: vec!["AAL3_ANY"],
        claims_supported: vec![
            "sub",
            "uid",
            "nonce",
            "acr",
            "amr",
            "authentication_assurance_level",
            "id_assurance_level",
            "name",
        ],
    }))
}

/// The algorithm the relying party accepts first: the dev provider signs with it.
fn signing_alg(oidc: &OidcClient) -> Algorithm {
    oidc.config()
        .algorithms
        .first()
        .copied()
        .unwrap_or(Algorithm::RS256)
}

/// Dev identity provider: its public signing key (dev mode only; 404 in production).
#[utoipa::path(
    operation_id = "dev_idp_jwks",
    tag = "dev",
    responses(
        (status = 200, description = "The dev provider's RSA public key.", body = RsaJwkSet),
        MetadataProblems,
    ),
)]
#[get("/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> Result<web::Json<RsaJwkSet>, DevIdpError> {
    let (idp, oidc) = parts(&state)?;
    let key = idp.key().await.map_err(DevIdpError::Internal)?;
    Ok(web::Json(RsaJwkSet {
        keys: vec![key.jwk(signing_alg(oidc))],
    }))
}

/// An authorization request (OpenID Connect Core §3.1.2.1), as the relying party builds it.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeQuery {
    /// Must be `code`.
    pub response_type: Option<String>,
    /// Our client id.
    pub client_id: Option<String>,
    /// One of the configured redirect URIs.
    pub redirect_uri: Option<String>,
    /// Space-separated, must include `openid`.
    pub scope: Option<String>,
    /// Returned with the code.
    pub state: Option<String>,
    /// Copied into the ID token.
    pub nonce: Option<String>,
    /// PKCE challenge.
    pub code_challenge: Option<String>,
    /// Must be `S256`.
    pub code_challenge_method: Option<String>,
    /// Requested assurance (the dev provider always signs in at `AAL3_ANY`).
    pub acr_values: Option<String>,
    /// Who signs in: an employee number (e.g. `100003`) or a smartcard subject (e.g.
    /// `555000000003`). Without it, a page lists the demo people.
    pub login_hint: Option<String>,
}

fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, DevIdpError> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| DevIdpError::InvalidRequest(format!("{name} is required")))
}

/// Dev identity provider: "sign in with a smartcard" as the demo person named by
/// `login_hint`, then redirect to `redirect_uri` with `code` and `state`. Without
/// `login_hint`, an HTML page lists the demo people to choose from. Dev mode only; 404 in
/// production.
#[utoipa::path(
    operation_id = "dev_idp_authorize",
    tag = "dev",
    params(AuthorizeQuery),
    responses(
        (status = 302, description = "Signed in: `Location` is the redirect URI with `code` and `state`."),
        (status = 200, description = "No `login_hint`: a page listing the demo people.", content_type = "text/html"),
        AuthorizeProblems,
    ),
)]
#[get("/authorize")]
pub async fn authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<AuthorizeQuery>,
) -> Result<HttpResponse, DevIdpError> {
    let (idp, oidc) = parts(&state)?;
    let q = query.into_inner();
    let request = AuthorizeRequest::check(&q, oidc.config())?;
    let Some(hint) = q
        .login_hint
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
    else {
        return chooser(&state, req.query_string()).await;
    };
    let uid = subject_for(&state, hint.to_owned()).await?;

    let code = idp
        .issue_code(PendingCode {
            client_id: oidc.config().client_id.clone(),
            redirect_uri: request.redirect_uri.to_string(),
            code_challenge: request.code_challenge,
            nonce: request.nonce,
            uid,
        })
        .ok_or_else(|| DevIdpError::InvalidRequest("too many sign-ins in progress".into()))?;
    let mut location = request.redirect_uri;
    location
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &request.state);
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, location.to_string()))
        .finish())
}

/// The parts of an authorisation request the provider keeps, once each parameter has been
/// checked against the registered client the way a real provider would.
struct AuthorizeRequest {
    redirect_uri: url::Url,
    code_challenge: String,
    state: String,
    nonce: String,
}

impl AuthorizeRequest {
    fn check(q: &AuthorizeQuery, client: &crate::config::OidcConfig) -> Result<Self, DevIdpError> {
        let invalid = |why: &str| Err(DevIdpError::InvalidRequest(why.into()));
        if required(&q.client_id, "client_id")? != client.client_id {
            return invalid("unknown client_id");
        }
        let redirect_uri = url::Url::parse(required(&q.redirect_uri, "redirect_uri")?)
            .ok()
            .filter(|uri| client.redirect_uris.contains(uri))
            .ok_or_else(|| DevIdpError::InvalidRequest("redirect_uri is not registered".into()))?;
        if required(&q.response_type, "response_type")? != "code" {
            return invalid("response_type must be code");
        }
        if !required(&q.scope, "scope")?
            .split(' ')
            .any(|s| s == "openid")
        {
            return invalid("scope must include openid");
        }
        if required(&q.code_challenge_method, "code_challenge_method")? != "S256" {
            return invalid("code_challenge_method must be S256");
        }
        Ok(Self {
            redirect_uri,
            code_challenge: required(&q.code_challenge, "code_challenge")?.to_owned(),
            state: required(&q.state, "state")?.to_owned(),
            nonce: required(&q.nonce, "nonce")?.to_owned(),
        })
    }
}

/// The smartcard subject `login_hint` names: a demo person's, by employee number; else the
/// hint itself (so an unlinked card can be tried).
async fn subject_for(state: &AppState, hint: String) -> Result<String, DevIdpError> {
    let lookup = hint.clone();
    let people = state
        .db(move |c| esr_persistence::people::find_by_employee_number_anywhere(c, &lookup, 2))
        .await?;
    match people.as_slice() {
        [] => Ok(hint),
        [person] => person.smartcard_subject.clone().ok_or_else(|| {
            DevIdpError::InvalidRequest(format!("employee {hint} has no smartcard linked"))
        }),
        _ => Err(DevIdpError::InvalidRequest(format!(
            "employee number {hint} exists in several organisations: use the smartcard subject"
        ))),
    }
}

/// The page listing the demo people, each a link that signs them in.
async fn chooser(state: &AppState, query: &str) -> Result<HttpResponse, DevIdpError> {
    let people = state
        .db(|c| esr_persistence::people::with_smartcard(c, 50))
        .await?;
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Dev identity provider</title></head>\
         <body><h1>Dev identity provider</h1><p>Sign in with the smartcard of:</p><ul>",
    );
    for p in &people {
        let subject = p.smartcard_subject.as_deref().unwrap_or_default();
        let mut link = url::form_urlencoded::Serializer::new(String::new());
        link.append_pair("login_hint", subject);
        html.push_str(&format!(
            "<li><a href=\"/dev-idp/authorize?{}&amp;{}\">{} {}</a> ({} employee {}, smartcard {})</li>",
            escape(query),
            link.finish(),
            escape(&p.first_name),
            escape(&p.last_name),
            p.organisation_code,
            escape(&p.employee_number),
            escape(subject),
        ));
    }
    html.push_str(
        "</ul><p>Dev mode only: this page does not exist in production.</p></body></html>",
    );
    Ok(HttpResponse::Ok()
        .content_type(ContentType::html())
        .body(html))
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// A token request (RFC 6749 §4.1.3 with RFC 7636 and RFC 7523 client authentication).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "grant_type": "authorization_code",
    "code": "NFV6fVWiTMG0-6zyDMgy2l0O5kFSugwIQG9BPbOEwRM",
    "redirect_uri": "http://localhost:3000/smartcard/callback",
    "code_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    "client_id": "esr-access-dev",
    "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    "client_assertion": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzUxMiIsImtpZCI6Ii4uLiJ9.eyJpc3MiOiJlc3ItYWNjZXNzLWRldiIsIi4uLiI6Ii4uLiJ9.c2lnbmF0dXJl"
}))]
pub struct TokenForm {
    /// Must be `authorization_code`.
    pub grant_type: Option<String>,
    /// The code from the redirect.
    pub code: Option<String>,
    /// The redirect URI of the authorization request.
    pub redirect_uri: Option<String>,
    /// The PKCE verifier.
    pub code_verifier: Option<String>,
    /// Our client id.
    pub client_id: Option<String>,
    /// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer` for `private_key_jwt`.
    pub client_assertion_type: Option<String>,
    /// The signed client assertion.
    pub client_assertion: Option<String>,
    /// The client secret, for `client_secret_post`.
    pub client_secret: Option<String>,
}

/// The token response.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "q7bLr0cQk8bP3a2mYwZ1xTn5vE9uJd4sHf6gKl0oRi8",
    "token_type": "Bearer",
    "expires_in": 300,
    "id_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6Ii4uLiJ9.eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xOjgwODAvZGV2LWlkcCIsInVpZCI6IjU1NTAwMDAwMDAwMyJ9.c2lnbmF0dXJl"
}))]
pub struct DevTokenResponse {
    /// An opaque access token (unused by this service).
    pub access_token: String,
    /// `Bearer`.
    pub token_type: &'static str,
    /// Seconds.
    pub expires_in: i64,
    /// The signed ID token.
    pub id_token: String,
}

/// Dev identity provider: exchange a code for an ID token, checking the code (single use),
/// redirect URI, PKCE verifier and the client's `private_key_jwt` assertion (or secret).
/// Dev mode only; 404 in production.
#[utoipa::path(
    operation_id = "dev_idp_token",
    tag = "dev",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The ID token.", body = DevTokenResponse),
        DevIdpError,
    ),
)]
#[post("/token")]
pub async fn token(
    state: web::Data<AppState>,
    form: web::Form<TokenForm>,
) -> Result<web::Json<DevTokenResponse>, DevIdpError> {
    let (idp, oidc) = parts(&state)?;
    let form = form.into_inner();
    if required(&form.grant_type, "grant_type")? != "authorization_code" {
        return Err(DevIdpError::InvalidRequest(
            "grant_type must be authorization_code".into(),
        ));
    }
    let code = required(&form.code, "code")?;
    // Taken out whatever happens next: a code works once.
    let pending = match idp.take_code(code) {
        CodeUse::Taken(pending) => pending,
        CodeUse::Expired => return Err(DevIdpError::InvalidGrant("the code has expired")),
        CodeUse::Unknown => {
            return Err(DevIdpError::InvalidGrant(
                "the code is unknown or already used",
            ));
        }
    };
    if form.redirect_uri.as_deref() != Some(pending.redirect_uri.as_str()) {
        return Err(DevIdpError::InvalidGrant("redirect_uri does not match"));
    }
    let verifier = required(&form.code_verifier, "code_verifier")?;
    if pkce_challenge(verifier) != pending.code_challenge {
        return Err(DevIdpError::InvalidGrant(
            "the PKCE code_verifier does not match",
        ));
    }
    authenticate_client(idp, oidc, &form, &pending.client_id).await?;

    let key = idp.key().await.map_err(DevIdpError::Internal)?;
    let now = Utc::now().timestamp();
    let claims = json!({
        "iss": idp.issuer(),
        "sub": pending.uid,
        "aud": pending.client_id,
        "azp": pending.client_id,
        "uid": pending.uid,
        "nonce": pending.nonce,
        "acr": "AAL3_ANY",
        "amr": ["N3_SMARTCARD"],
        "authentication_assurance_level": "3",
        "id_assurance_level": "3",
        "auth_time": now,
        "iat": now,
        "exp": now + ID_TOKEN_TTL_SECS,
    });
    let id_token = key
        .sign(signing_alg(oidc), "JWT", &claims)
        .map_err(|e| DevIdpError::Internal(e.to_string()))?;
    Ok(web::Json(DevTokenResponse {
        access_token: esr_domain::random_token(&mut rand::rng(), 32),
        token_type: "Bearer",
        expires_in: ID_TOKEN_TTL_SECS,
        id_token,
    }))
}

/// Checks the client's `private_key_jwt` assertion against its key (or its secret).
async fn authenticate_client(
    idp: &DevIdp,
    oidc: &OidcClient,
    form: &TokenForm,
    client_id: &str,
) -> Result<(), DevIdpError> {
    if form.client_id.as_deref().is_some_and(|id| id != client_id) {
        return Err(DevIdpError::InvalidClient(
            "client_id does not match the code",
        ));
    }
    match &oidc.config().client_auth {
        ClientAuth::ClientSecretPost(secret) => {
            let given = form.client_secret.as_deref().unwrap_or_default();
            if esr_domain::sha256_hex(given.as_bytes())
                != esr_domain::sha256_hex(secret.expose().as_bytes())
            {
                return Err(DevIdpError::InvalidClient("wrong client secret"));
            }
            Ok(())
        }
        ClientAuth::PrivateKeyJwt { .. } => {
            if form.client_assertion_type.as_deref()
                != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            {
                return Err(DevIdpError::InvalidClient(
                    "a jwt-bearer client assertion is required",
                ));
            }
            let assertion = form
                .client_assertion
                .as_deref()
                .ok_or(DevIdpError::InvalidClient("client_assertion is missing"))?;
            let key = oidc
                .client_key()
                .await
                .map_err(|e| DevIdpError::Internal(e.to_string()))?
                .ok_or(DevIdpError::InvalidClient("no client key"))?;
            let header = jsonwebtoken::decode_header(assertion)
                .map_err(|_| DevIdpError::InvalidClient("the client assertion is malformed"))?;
            if !matches!(
                header.alg,
                Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512
            ) || header.kid.as_deref() != Some(key.kid())
            {
                return Err(DevIdpError::InvalidClient(
                    "the client assertion's key or algorithm is not the client's",
                ));
            }
            let mut validation = Validation::new(header.alg);
            validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            validation.set_issuer(&[client_id]);
            validation.set_audience(&[idp.endpoint("token")]);
            validation.sub = Some(client_id.to_owned());
            jsonwebtoken::decode::<serde_json::Value>(assertion, key.decoding_key(), &validation)
                .map_err(|_| DevIdpError::InvalidClient("the client assertion does not verify"))?;
            Ok(())
        }
    }
}
