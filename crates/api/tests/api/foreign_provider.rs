//! Smartcard sign-in against a foreign identity provider played by a local mock HTTP server
//! (wiremock) with keys the test controls: every refusal rule of ID-token verification, key
//! rotation, client authentication, and a provider that is down or slow.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use base64ct::{Base64UrlUnpadded, Encoding};
use esr_api::oidc::RsaKey;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::both_backends_owned;
use crate::helpers::{TestApp, TestBackend, problem, spawn_app_with_args};
use crate::smartcard::{REDIRECT, internet_access_page, published_client_jwks};

both_backends_owned!(
    foreign_id_tokens_are_verified_strictly,
    provider_key_rotation_is_picked_up,
    provider_down_or_slow_answers_503_within_the_timeout,
    client_secret_post_is_supported,
    configured_subject_claim_acr_values_and_minimum_assurance_apply,
    provider_keys_are_fetched_again_after_their_ttl,
);

const CLIENT_ID: &str = "esr-test-client";
/// Jane Smith (999JSMITH01).
const JANE_CARD: &str = "555000000001";

/// A change to the claims of a good ID token.
type Change = Box<dyn Fn(&mut Value)>;

static KEY_A: LazyLock<RsaKey> = LazyLock::new(|| RsaKey::generate().unwrap());
static KEY_B: LazyLock<RsaKey> = LazyLock::new(|| RsaKey::generate().unwrap());

/// A provider serving discovery and the given keys.
async fn provider(keys: &[&RsaKey]) -> MockServer {
    let server = MockServer::start().await;
    serve_metadata(&server, keys).await;
    server
}

async fn serve_metadata(server: &MockServer, keys: &[&RsaKey]) {
    let uri = server.uri();
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": uri,
            "authorization_endpoint": format!("{uri}/authorize"),
            "token_endpoint": format!("{uri}/token"),
            "jwks_uri": format!("{uri}/jwks"),
        })))
        .mount(server)
        .await;
    let jwks: Vec<Value> = keys
        .iter()
        .map(|k| serde_json::to_value(k.jwk(Algorithm::RS256)).unwrap())
        .collect();
    Mock::given(method("GET"))
        .and(path("/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": jwks})))
        .mount(server)
        .await;
}

async fn app_for(backend: TestBackend, server: &MockServer, extra: &[&str]) -> Option<TestApp> {
    let uri = server.uri();
    let mut args = vec!["--oidc-issuer", uri.as_str(), "--oidc-client-id", CLIENT_ID];
    args.extend_from_slice(extra);
    spawn_app_with_args(backend, &args).await
}

/// Starts a flow; returns it and the nonce the provider would put in the ID token.
async fn start(app: &TestApp) -> (crate::smartcard::Flow, String) {
    let (url, state) = crate::smartcard::start(app).await;
    let nonce = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "nonce")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    (state, nonce)
}

/// The provider answers the next token request with `body` and `status`.
async fn token_answer(server: &MockServer, status: u16, body: Value) {
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .up_to_n_times(1)
        .mount(server)
        .await;
}

fn claims(server: &MockServer, nonce: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "iss": server.uri(),
        "sub": JANE_CARD,
        "aud": CLIENT_ID,
        "uid": JANE_CARD,
        "nonce": nonce,
        "acr": "AAL3_ANY",
        "authentication_assurance_level": "3",
        "amr": ["N3_SMARTCARD"],
        "iat": now,
        "exp": now + 300,
    })
}

fn signed(key: &RsaKey, claims: &Value) -> String {
    key.sign(Algorithm::RS256, "JWT", claims).unwrap()
}

fn unsigned_with(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        Base64UrlUnpadded::encode_string(header.to_string().as_bytes()),
        Base64UrlUnpadded::encode_string(claims.to_string().as_bytes())
    )
}

/// One callback whose ID token is `make(nonce)`; returns the response.
async fn sign_in_with(
    app: &TestApp,
    server: &MockServer,
    make: impl FnOnce(&str) -> String,
) -> reqwest::Response {
    let (state, nonce) = start(app).await;
    token_answer(
        server,
        200,
        json!({"id_token": make(&nonce), "token_type": "Bearer"}),
    )
    .await;
    app.post_json(
        "/v1/auth/smartcard/callback",
        &state.callback_body("code-from-the-provider"),
        None,
    )
    .await
}

async fn refused(res: reqwest::Response, status: u16, code: &str, case: &str) {
    assert_eq!(res.status(), status, "{case}");
    assert_eq!(problem(res).await["code"], code, "{case}");
}

async fn foreign_id_tokens_are_verified_strictly(backend: TestBackend) {
    let server = provider(&[&KEY_A]).await;
    let Some(app) = app_for(backend, &server, &[]).await else {
        return;
    };

    // A good token: a workplace session for Jane.
    let (state, nonce) = start(&app).await;
    token_answer(
        &server,
        200,
        json!({"id_token": signed(&KEY_A, &claims(&server, &nonce))}),
    )
    .await;
    let res = app
        .post_json(
            "/v1/auth/smartcard/callback",
            &state.callback_body("the-code"),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.unwrap();
    let me: Value = internet_access_page(&app, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(me["username"], "999JSMITH01");

    // The token request: code, PKCE verifier, redirect URI, and a private_key_jwt assertion
    // that verifies with the key we publish.
    let requests = server.received_requests().await.unwrap();
    let token_request = requests
        .iter()
        .find(|r| r.url.path() == "/token")
        .expect("token request");
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&token_request.body)
            .into_owned()
            .collect();
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "the-code");
    assert_eq!(form["redirect_uri"], REDIRECT);
    assert_eq!(form["client_id"], CLIENT_ID);
    assert!(form["code_verifier"].len() >= 43);
    assert!(!form.contains_key("client_secret"));
    assert_eq!(
        form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    let published: Value = published_client_jwks(&app).await;
    let jwk = &published["keys"][0];
    let public = jsonwebtoken::DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap(),
        jwk["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(Algorithm::RS512);
    validation.set_audience(&[format!("{}/token", server.uri())]);
    validation.set_issuer(&[CLIENT_ID]);
    validation.sub = Some(CLIENT_ID.to_owned());
    let assertion = jsonwebtoken::decode::<Value>(&form["client_assertion"], &public, &validation)
        .expect("the client assertion verifies with the published key");
    assert_eq!(assertion.header.kid.as_deref(), jwk["kid"].as_str());

    // The same state again (a replayed callback).
    let res = app
        .post_json(
            "/v1/auth/smartcard/callback",
            &state.callback_body("the-code"),
            None,
        )
        .await;
    refused(res, 401, "smartcard-state-invalid", "reused state").await;

    let now = chrono::Utc::now().timestamp();
    let cases: Vec<(&str, Change, u16, &str)> = vec![
        (
            "expired",
            Box::new(move |c| {
                c["iat"] = json!(now - 4000);
                c["exp"] = json!(now - 3600);
            }),
            401,
            "smartcard-token-invalid",
        ),
        (
            "issued in the future",
            Box::new(move |c| c["iat"] = json!(now + 3600)),
            401,
            "smartcard-token-invalid",
        ),
        (
            "not valid before an hour from now",
            Box::new(move |c| c["nbf"] = json!(now + 3600)),
            401,
            "smartcard-token-invalid",
        ),
        (
            "issued two hours ago, still unexpired",
            Box::new(move |c| c["iat"] = json!(now - 7200)),
            401,
            "smartcard-token-invalid",
        ),
        (
            "valid for ten years",
            Box::new(move |c| c["exp"] = json!(now + 10 * 365 * 24 * 3600)),
            401,
            "smartcard-token-invalid",
        ),
        (
            "wrong aud",
            Box::new(|c| c["aud"] = json!("another-client")),
            401,
            "smartcard-token-invalid",
        ),
        (
            "several aud, no azp",
            Box::new(|c| c["aud"] = json!([CLIENT_ID, "another-client"])),
            401,
            "smartcard-token-invalid",
        ),
        (
            "wrong azp",
            Box::new(|c| c["azp"] = json!("another-client")),
            401,
            "smartcard-token-invalid",
        ),
        (
            "wrong iss",
            Box::new(|c| c["iss"] = json!("https://evil.example")),
            401,
            "smartcard-token-invalid",
        ),
        (
            "wrong nonce",
            Box::new(|c| c["nonce"] = json!("not-the-nonce")),
            401,
            "smartcard-token-invalid",
        ),
        (
            "no nonce",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("nonce");
            }),
            401,
            "smartcard-token-invalid",
        ),
        (
            "no uid",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("uid");
            }),
            401,
            "smartcard-token-invalid",
        ),
        (
            "low assurance",
            Box::new(|c| {
                c["acr"] = json!("AAL2_OR_ABOVE");
                c["authentication_assurance_level"] = json!("2");
            }),
            403,
            "smartcard-assurance-too-low",
        ),
        (
            "acr says 3 but the level says 1",
            Box::new(|c| c["authentication_assurance_level"] = json!("1")),
            403,
            "smartcard-assurance-too-low",
        ),
        (
            "no assurance claims",
            Box::new(|c| {
                let o = c.as_object_mut().unwrap();
                o.remove("acr");
                o.remove("authentication_assurance_level");
            }),
            403,
            "smartcard-assurance-too-low",
        ),
        (
            "unknown subject",
            Box::new(|c| c["uid"] = json!("555999999999")),
            403,
            "no-esr-record",
        ),
    ];
    for (case, change, status, code) in cases {
        let res = sign_in_with(&app, &server, |nonce| {
            let mut c = claims(&server, nonce);
            change(&mut c);
            signed(&KEY_A, &c)
        })
        .await;
        refused(res, status, code, case).await;
    }

    // Header attacks: `none`, HS256 keyed with the provider's public key, an unknown key,
    // a tampered payload.
    let public_pem = {
        use rsa::pkcs8::EncodePublicKey;
        let jwk = KEY_A.jwk(Algorithm::RS256);
        let n = rsa::BigUint::from_bytes_be(&Base64UrlUnpadded::decode_vec(&jwk.n).unwrap());
        let e = rsa::BigUint::from_bytes_be(&Base64UrlUnpadded::decode_vec(&jwk.e).unwrap());
        rsa::RsaPublicKey::new(n, e)
            .unwrap()
            .to_public_key_pem(Default::default())
            .unwrap()
    };
    let res = sign_in_with(&app, &server, |nonce| {
        let header = json!({"alg": "none", "typ": "JWT", "kid": KEY_A.kid()});
        format!("{}.", unsigned_with(&header, &claims(&server, nonce)))
    })
    .await;
    refused(res, 401, "smartcard-token-invalid", "alg none").await;
    let res = sign_in_with(&app, &server, |nonce| {
        let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
        header.kid = Some(KEY_A.kid().to_owned());
        jsonwebtoken::encode(
            &header,
            &claims(&server, nonce),
            &jsonwebtoken::EncodingKey::from_secret(public_pem.as_bytes()),
        )
        .unwrap()
    })
    .await;
    refused(
        res,
        401,
        "smartcard-token-invalid",
        "HS256 with the public key",
    )
    .await;
    let res = sign_in_with(&app, &server, |nonce| {
        signed(&KEY_B, &claims(&server, nonce))
    })
    .await;
    refused(res, 401, "smartcard-token-invalid", "unknown key").await;
    let res = sign_in_with(&app, &server, |nonce| {
        let token = signed(&KEY_A, &claims(&server, nonce));
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut forged = claims(&server, nonce);
        forged["uid"] = json!("555000000002");
        parts[1] = Base64UrlUnpadded::encode_string(forged.to_string().as_bytes());
        parts.join(".")
    })
    .await;
    refused(res, 401, "smartcard-token-invalid", "tampered payload").await;

    // The unknown key caused no refetch: the keys were fetched within the last 30 s.
    let jwks_fetches = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/jwks")
        .count();
    assert_eq!(
        jwks_fetches, 1,
        "key refresh on an unknown kid is rate-limited"
    );

    // A code the provider no longer accepts (used already), and a provider error.
    let (state, _) = start(&app).await;
    token_answer(
        &server,
        400,
        json!({"error": "invalid_grant", "error_description": "used"}),
    )
    .await;
    let res = app
        .post_json(
            "/v1/auth/smartcard/callback",
            &state.callback_body("the-code"),
            None,
        )
        .await;
    refused(res, 401, "smartcard-code-rejected", "reused code").await;
    let (state, _) = start(&app).await;
    token_answer(&server, 500, json!({})).await;
    let res = app
        .post_json(
            "/v1/auth/smartcard/callback",
            &state.callback_body("x"),
            None,
        )
        .await;
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(problem(res).await["code"], "identity-provider-unavailable");

    // Every outcome audited, with reasons and without the tokens.
    let events = esr_persistence::audit::recent(&mut app.db(), None, 200).unwrap();
    let failures: Vec<&str> = events
        .iter()
        .filter(|e| e.event_type == "smartcard.login_failed")
        .map(|e| e.details.as_str())
        .collect();
    assert!(failures.len() >= 20, "{failures:?}");
    for reason in [
        "id_token_expired",
        "id_token_wrong_audience",
        "id_token_wrong_issuer",
        "id_token_wrong_nonce",
        "id_token_wrong_algorithm",
        "id_token_unknown_key",
        "id_token_bad_signature",
        "assurance_too_low",
        "unknown_subject",
        "state_reused",
        "code_rejected",
        "provider_unavailable",
    ] {
        assert!(
            failures.iter().any(|d| d.contains(reason)),
            "{reason} in {failures:?}"
        );
    }
    for event in &events {
        assert!(
            !event.details.contains("eyJ"),
            "no JWT in {}",
            event.details
        );
        assert!(!event.details.contains("the-code"));
    }
    app.stop().await;
}

async fn provider_key_rotation_is_picked_up(backend: TestBackend) {
    let server = provider(&[&KEY_A]).await;
    let Some(app) = app_for(backend, &server, &["--oidc-jwks-min-refresh-secs", "0"]).await else {
        return;
    };
    let res = sign_in_with(&app, &server, |nonce| {
        signed(&KEY_A, &claims(&server, nonce))
    })
    .await;
    assert_eq!(res.status(), 200, "signed by the first key");

    // The provider rotates: key B replaces key A.
    server.reset().await;
    serve_metadata(&server, &[&KEY_B]).await;
    let res = sign_in_with(&app, &server, |nonce| {
        signed(&KEY_B, &claims(&server, nonce))
    })
    .await;
    assert_eq!(res.status(), 200, "the new kid is fetched and trusted");
    let res = sign_in_with(&app, &server, |nonce| {
        signed(&KEY_A, &claims(&server, nonce))
    })
    .await;
    refused(res, 401, "smartcard-token-invalid", "the retired key").await;
    app.stop().await;
}

async fn provider_down_or_slow_answers_503_within_the_timeout(backend: TestBackend) {
    // Nothing listens on the issuer's port.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let issuer = format!("http://127.0.0.1:{closed}");
    let Some(app) = spawn_app_with_args(
        backend,
        &["--oidc-issuer", &issuer, "--oidc-timeout-ms", "1000"],
    )
    .await
    else {
        return;
    };
    let res = app
        .post_json(
            "/v1/auth/smartcard/start",
            &json!({"redirect_uri": REDIRECT}),
            None,
        )
        .await;
    assert_eq!(res.status(), 503);
    assert_eq!(problem(res).await["code"], "identity-provider-unavailable");
    app.stop().await;

    // A provider that hangs on the token request: the callback gives up after 1 s.
    let server = provider(&[&KEY_A]).await;
    let Some(app) = app_for(backend, &server, &["--oidc-timeout-ms", "1000"]).await else {
        return;
    };
    let (state, _) = start(&app).await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(20)))
        .mount(&server)
        .await;
    let began = Instant::now();
    let res = app
        .post_json(
            "/v1/auth/smartcard/callback",
            &state.callback_body("x"),
            None,
        )
        .await;
    let took = began.elapsed();
    assert_eq!(res.status(), 503);
    assert_eq!(problem(res).await["code"], "identity-provider-unavailable");
    assert!(
        took < Duration::from_secs(10),
        "bounded by the timeout, not the provider: {took:?}"
    );
    app.stop().await;

    // A provider whose discovery document hangs: start gives up too.
    let slow = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(20)))
        .mount(&slow)
        .await;
    let Some(app) = app_for(backend, &slow, &["--oidc-timeout-ms", "1000"]).await else {
        return;
    };
    let began = Instant::now();
    let res = app
        .post_json(
            "/v1/auth/smartcard/start",
            &json!({"redirect_uri": REDIRECT}),
            None,
        )
        .await;
    assert_eq!(res.status(), 503);
    assert!(began.elapsed() < Duration::from_secs(10));
    app.stop().await;
}

async fn client_secret_post_is_supported(backend: TestBackend) {
    let server = provider(&[&KEY_A]).await;
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, "s3cret-from-the-provider\n").unwrap();
    let secret_path = secret_file.display().to_string();
    let Some(app) = app_for(
        backend,
        &server,
        &["--oidc-client-secret-file", &secret_path],
    )
    .await
    else {
        return;
    };
    let res = sign_in_with(&app, &server, |nonce| {
        signed(&KEY_A, &claims(&server, nonce))
    })
    .await;
    assert_eq!(res.status(), 200);
    let requests = server.received_requests().await.unwrap();
    let token_request = requests.iter().find(|r| r.url.path() == "/token").unwrap();
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&token_request.body)
            .into_owned()
            .collect();
    assert_eq!(form["client_secret"], "s3cret-from-the-provider");
    assert!(!form.contains_key("client_assertion"));
    let published: Value = published_client_jwks(&app).await;
    assert_eq!(published, json!({"keys": []}));
    app.stop().await;
}

async fn configured_subject_claim_acr_values_and_minimum_assurance_apply(backend: TestBackend) {
    let server = provider(&[&KEY_A]).await;
    let Some(app) = app_for(
        backend,
        &server,
        &[
            "--oidc-subject-claim",
            "sub",
            "--oidc-acr-values",
            "AAL2_OR_ABOVE",
            "--oidc-min-assurance",
            "2",
        ],
    )
    .await
    else {
        return;
    };
    // The authorization request asks for the configured acr_values.
    let (url, _) = crate::smartcard::start(&app).await;
    let acr: Vec<String> = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .filter(|(k, _)| k == "acr_values")
        .map(|(_, v)| v.into_owned())
        .collect();
    assert_eq!(acr, ["AAL2_OR_ABOVE"], "{url}");

    // A level-2 sign-in is enough; the person is the one named by `sub`, not by `uid` (here
    // another person's smartcard, Amir Patel's).
    let at_level_2 = |c: &mut Value| {
        c["acr"] = json!("AAL2_OR_ABOVE");
        c["authentication_assurance_level"] = json!("2");
        c["uid"] = json!("555000000002");
    };
    let res = sign_in_with(&app, &server, |nonce| {
        let mut c = claims(&server, nonce);
        at_level_2(&mut c);
        signed(&KEY_A, &c)
    })
    .await;
    assert_eq!(res.status(), 200, "level 2 accepted");
    let tokens: Value = res.json().await.unwrap();
    let page: Value = internet_access_page(&app, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(page["username"], "999JSMITH01", "looked up by sub");

    // Below the configured minimum, and a `sub` linked to nobody (with a known `uid`).
    let res = sign_in_with(&app, &server, |nonce| {
        let mut c = claims(&server, nonce);
        c["acr"] = json!("AAL1_USERPASS");
        c["authentication_assurance_level"] = json!("1");
        signed(&KEY_A, &c)
    })
    .await;
    refused(res, 403, "smartcard-assurance-too-low", "level 1").await;
    let res = sign_in_with(&app, &server, |nonce| {
        let mut c = claims(&server, nonce);
        at_level_2(&mut c);
        c["sub"] = json!("555999999999");
        signed(&KEY_A, &c)
    })
    .await;
    refused(res, 403, "no-esr-record", "sub linked to nobody").await;
    app.stop().await;
}

async fn provider_keys_are_fetched_again_after_their_ttl(backend: TestBackend) {
    let server = provider(&[&KEY_A]).await;
    let Some(app) = app_for(backend, &server, &["--oidc-jwks-ttl-secs", "1"]).await else {
        return;
    };
    let jwks_fetches = || async {
        server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path() == "/jwks")
            .count()
    };
    let sign_in = || async {
        let res = sign_in_with(&app, &server, |nonce| {
            signed(&KEY_A, &claims(&server, nonce))
        })
        .await;
        assert_eq!(res.status(), 200);
    };
    let began = Instant::now();
    sign_in().await;
    sign_in().await;
    // (On a very slow machine the second sign-in may already be past the TTL.)
    if began.elapsed() < Duration::from_millis(900) {
        assert_eq!(jwks_fetches().await, 1, "cached within the TTL");
    }
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let before = jwks_fetches().await;
    sign_in().await;
    assert_eq!(
        jwks_fetches().await,
        before + 1,
        "fetched again once the TTL passed"
    );
    app.stop().await;
}
