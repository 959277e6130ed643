//! Smartcard sign-in through the dev identity provider (the real relying-party code end to
//! end: discovery, keys, code exchange with `private_key_jwt`, ID-token verification), and
//! Manage Internet Access: request access, set the password used from home.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use esr_domain::OrganisationCode;
use esr_persistence::people::{self, NewPerson};
use serde_json::{Value, json};

use crate::auth::jwt_part;
use crate::both_backends;
use crate::both_backends_owned;
use crate::helpers::{TestApp, TestBackend, problem, spawn_production_app};
use crate::me::codes;

both_backends!(
    smartcard_journey_sets_the_password_used_from_home,
    manual_approval_leaves_the_request_pending,
    smartcard_sign_in_problems,
    same_name_people_signing_in_at_once_get_distinct_usernames,
    dev_idp_token_refuses_a_missing_or_forged_client_assertion,
    a_sign_in_finishes_only_in_the_browser_that_started_it,
    a_card_linked_in_two_organisations_signs_in_to_the_one_chosen,
);
both_backends_owned!(dev_idp_routes_do_not_exist_in_production);

/// The dev default redirect URI (on the allow-list).
pub const REDIRECT: &str = "http://localhost:3000/smartcard/callback";

fn query(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .expect("URL")
        .query_pairs()
        .into_owned()
        .collect()
}

/// A started sign-in: the `state` the provider sends back and the binding the starting
/// browser keeps.
#[derive(Debug, Clone)]
pub struct Flow {
    pub state: String,
    pub binding: String,
}

impl Flow {
    /// What the service sealed into the state (only the service, never an attacker, can open
    /// it).
    pub fn ticket(&self, app: &TestApp) -> esr_api::smartcard_flow::FlowTicket {
        app.smartcard_flow_key
            .open(&self.state, &self.binding)
            .expect("a state this server sealed for this browser")
    }

    /// The callback's body for `code`, as the starting browser sends it.
    pub fn callback_body(&self, code: &str) -> Value {
        json!({"code": code, "state": self.state, "browser_binding": self.binding})
    }
}

/// `POST /v1/auth/smartcard/start`; returns the authorization URL and the flow.
pub async fn start(app: &TestApp) -> (String, Flow) {
    start_with(app, json!({"redirect_uri": REDIRECT})).await
}

/// `POST /v1/auth/smartcard/start` with `body`.
async fn start_with(app: &TestApp, body: Value) -> (String, Flow) {
    let res = app.post_json("/v1/auth/smartcard/start", &body, None).await;
    assert_eq!(res.status(), 200, "start");
    let body: Value = res.json().await.unwrap();
    (
        body["authorization_url"].as_str().unwrap().to_owned(),
        Flow {
            state: body["state"].as_str().unwrap().to_owned(),
            binding: body["browser_binding"].as_str().unwrap().to_owned(),
        },
    )
}

/// Start, then "sign in" at the dev provider as `login_hint`; returns the code of the
/// redirect and the flow.
pub async fn authorize(app: &TestApp, login_hint: &str) -> (String, Flow) {
    authorize_with(app, login_hint, json!({"redirect_uri": REDIRECT})).await
}

/// [`authorize`], starting with `start_body`.
async fn authorize_with(app: &TestApp, login_hint: &str, start_body: Value) -> (String, Flow) {
    let (url, flow) = start_with(app, start_body).await;
    let res = app
        .client
        .get(format!("{url}&login_hint={login_hint}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302, "dev provider redirects");
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT), "{location}");
    let back = query(&location);
    assert_eq!(back["state"], flow.state, "state comes back unchanged");
    (back["code"].clone(), flow)
}

pub async fn callback(app: &TestApp, code: &str, flow: &Flow) -> reqwest::Response {
    app.post_json(
        "/v1/auth/smartcard/callback",
        &flow.callback_body(code),
        None,
    )
    .await
}

/// Signs in with the smartcard of `login_hint`; returns the workplace session's tokens.
pub async fn smartcard_tokens(app: &TestApp, login_hint: &str) -> Value {
    let (code, state) = authorize(app, login_hint).await;
    let res = callback(app, &code, &state).await;
    assert_eq!(res.status(), 200, "smartcard sign-in of {login_hint}");
    res.json().await.unwrap()
}

async fn set_password(app: &TestApp, token: &str, new: &str, confirm: &str) -> reqwest::Response {
    app.put_json(
        "/v1/me/internet-access/password",
        &json!({"new_password": new, "confirm_password": confirm}),
        token,
    )
    .await
}

/// Login cross-site request forgery: an attacker starts a sign-in, signs in with their own
/// card and plants the code and state on a victim's browser, which would then manage the
/// attacker's account. Without the starting browser's binding the callback is refused, and
/// the refusal does not spend the flow of the browser that did start it.
async fn a_sign_in_finishes_only_in_the_browser_that_started_it(app: &TestApp) {
    let (code, flow) = authorize(app, "100003").await;
    for (planted, case) in [
        (json!({"code": code, "state": flow.state}), "no binding"),
        (
            json!({"code": code, "state": flow.state, "browser_binding": ""}),
            "empty binding",
        ),
        (
            json!({"code": code, "state": flow.state, "browser_binding": "another-browsers-binding"}),
            "another browser's binding",
        ),
    ] {
        let res = app
            .post_json("/v1/auth/smartcard/callback", &planted, None)
            .await;
        assert!(
            [400, 401].contains(&res.status().as_u16()),
            "{case}: {}",
            res.status()
        );
        assert!(problem(res).await["code"].is_string(), "{case}");
    }
    let res = callback(app, &code, &flow).await;
    assert_eq!(res.status(), 200, "the starting browser still finishes");
}

async fn smartcard_journey_sets_the_password_used_from_home(app: &TestApp) {
    // Siân Jones (employee 100003) has a username but has never asked for internet access.
    let (url, _) = start(app).await;
    let params = query(&url);
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["acr_values"], "AAL3_ANY");
    assert_eq!(params["scope"], "openid profile");
    assert_eq!(params["redirect_uri"], REDIRECT);
    assert!(url.starts_with(&format!("{}/dev-idp/authorize?", app.address)));

    let (code, state) = authorize(app, "100003").await;
    let res = callback(app, &code, &state).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let tokens: Value = res.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt_part(&access, 1)["amr"], json!(["smartcard"]));
    let ends: DateTime<Utc> = tokens["session_expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let hours = (ends - Utc::now()).num_minutes() as f64 / 60.0;
    assert!(
        (7.9..=8.0).contains(&hours),
        "workplace session of 8 hours, not {hours}"
    );

    // The same state and code again: refused (the state is single use).
    let res = callback(app, &code, &state).await;
    assert_eq!(res.status(), 401);
    assert_eq!(problem(res).await["code"], "smartcard-state-invalid");

    let me: Value = app.get_auth("/v1/me", &access).await.json().await.unwrap();
    assert_eq!(me["session"]["amr"], json!(["smartcard"]));
    let page: Value = internet_access_page(app, &access).await;
    assert_eq!(page["username"], "999SJONES01");
    assert_eq!(page["status"], "not_requested");
    assert_eq!(page["password_set"], false);
    assert_eq!(
        page["organisation"],
        json!({"code": "999", "name": "Demo NHS Trust", "approval": "automatic"})
    );

    // No password before access is approved.
    let res = set_password(
        app,
        &access,
        "Wandering heron at dusk",
        "Wandering heron at dusk",
    )
    .await;
    assert_eq!(res.status(), 403);
    assert_eq!(problem(res).await["code"], "internet-access-not-approved");

    // Request Internet Access: automatic approval; asking again changes nothing.
    for _ in 0..2 {
        let res = app
            .post_json("/v1/me/internet-access", &json!({}), Some(&access))
            .await;
        assert_eq!(res.status(), 200);
        let page: Value = res.json().await.unwrap();
        assert_eq!(page["status"], "approved");
        assert!(page["status_changed_at"].is_string());
    }

    // Reset Password: the whole policy, every violation at once.
    let res = set_password(app, &access, "password1", "password1").await;
    assert_eq!(res.status(), 400);
    let body = problem(res).await;
    assert_eq!(body["code"], "password-policy");
    let found = codes(&body);
    for code in ["password-too-short", "password-common"] {
        assert!(found.iter().any(|c| c == code), "{code} in {found:?}");
    }
    let res = set_password(
        app,
        &access,
        "Sian Jones of Cardiff",
        "Sian Jones of Cardiff",
    )
    .await;
    assert!(codes(&problem(res).await).contains(&"password-contains-context".to_owned()));
    let res = set_password(
        app,
        &access,
        "Wandering heron at dusk",
        "Wandering heron at dawn",
    )
    .await;
    assert!(codes(&problem(res).await).contains(&"password-confirmation-mismatch".to_owned()));

    let new = "Wandering heron at dusk";
    let res = set_password(app, &access, new, new).await;
    assert_eq!(res.status(), 204);
    let page: Value = internet_access_page(app, &access).await;
    assert_eq!(page["password_set"], true);
    assert!(page["password_changed_at"].is_string());

    // The same password again is in the history.
    let res = set_password(app, &access, new, new).await;
    assert_eq!(codes(&problem(res).await), ["password-reused"]);

    // From home: the username and the new password log in; that password session may look
    // but not change anything that needs the smartcard.
    let home = app.tokens("999sjones01", new).await;
    let home_access = home["access_token"].as_str().unwrap();
    assert_eq!(jwt_part(home_access, 1)["amr"], json!(["pwd"]));
    let res = set_password(
        app,
        home_access,
        "Another good passphrase",
        "Another good passphrase",
    )
    .await;
    assert_eq!(res.status(), 403);
    assert_eq!(problem(res).await["code"], "smartcard-required");
    let res = app
        .post_json("/v1/me/internet-access", &json!({}), Some(home_access))
        .await;
    assert_eq!(problem(res).await["code"], "smartcard-required");
    assert_eq!(
        app.get_auth("/v1/me/internet-access", home_access)
            .await
            .status(),
        200
    );

    // Setting the password again at work ends the account's other sessions (the phone's) and
    // keeps this one.
    let newer = "Quiet lantern harbour one";
    assert_eq!(set_password(app, &access, newer, newer).await.status(), 204);
    assert_eq!(app.get_auth("/v1/me", home_access).await.status(), 401);
    assert_eq!(app.get_auth("/v1/me", &access).await.status(), 200);

    // Locked out from home (which ends every session), the person signs in at work again and
    // sets a password: that unlocks the account.
    for _ in 0..5 {
        assert_eq!(
            app.login("999SJONES01", "not the password").await.status(),
            401
        );
    }
    assert_eq!(
        app.login("999SJONES01", newer).await.status(),
        401,
        "locked"
    );
    let again = smartcard_tokens(app, "100003").await;
    let again = again["access_token"].as_str().unwrap();
    let newest = "Velvet orchard morning two";
    assert_eq!(set_password(app, again, newest, newest).await.status(), 204);
    assert_eq!(
        app.login("999SJONES01", newest).await.status(),
        200,
        "unlocked"
    );

    // Audited, with no code, state, token or password in the trail; the chain holds.
    let events = esr_persistence::audit::recent(&mut app.db(), None, 100).unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert!(
        !types.contains(&"smartcard.started"),
        "starting concerns no account: counted in the metrics, not audited"
    );
    for expected in [
        "smartcard.login_succeeded",
        "smartcard.login_failed",
        "password.set",
    ] {
        assert!(types.contains(&expected), "{expected} in {types:?}");
    }
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "internet_access.requested")
            .count(),
        1,
        "the second request changed nothing"
    );
    for event in &events {
        for secret in [
            code.as_str(),
            state.state.as_str(),
            state.binding.as_str(),
            new,
            access.as_str(),
        ] {
            assert!(
                !event.details.contains(secret),
                "{}: {}",
                event.event_type,
                event.details
            );
        }
    }
    let report = esr_persistence::audit::verify_chain(&mut app.db(), &app.audit_chain).unwrap();
    assert_eq!(report.first_broken, None);
}

async fn manual_approval_leaves_the_request_pending(app: &TestApp) {
    // A person of the manual-approval organisation with no ESR username yet.
    let org = OrganisationCode::parse("998").unwrap();
    people::insert(
        &mut app.db(),
        &NewPerson {
            organisation_code: &org,
            employee_number: "200099",
            first_name: "Priya",
            last_name: "Shah",
            date_of_birth: chrono::NaiveDate::from_ymd_opt(1990, 1, 2).unwrap(),
            work_email: "priya.shah@demo.example.org",
            smartcard_subject: Some("555000000099"),
            language: "en",
        },
        Utc::now(),
    )
    .unwrap();
    let tokens = smartcard_tokens(app, "555000000099").await;
    let access = tokens["access_token"].as_str().unwrap();
    let page: Value = internet_access_page(app, access).await;
    assert_eq!(
        page["username"], "998PSHAH01",
        "username made at the first sign-in"
    );
    assert_eq!(page["status"], "not_requested");
    assert_eq!(page["organisation"]["approval"], "manual");
    for _ in 0..2 {
        let res = app
            .post_json("/v1/me/internet-access", &json!({}), Some(access))
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await.unwrap()["status"], "pending");
    }
    let res = set_password(
        app,
        access,
        "Wandering heron at dusk",
        "Wandering heron at dusk",
    )
    .await;
    assert_eq!(res.status(), 403);
    let body = problem(res).await;
    assert_eq!(body["code"], "internet-access-not-approved");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("waiting for approval")
    );

    // Oliver Brown (200001) was already pending: signing in keeps his username and status.
    let tokens = smartcard_tokens(app, "200001").await;
    let page: Value = internet_access_page(app, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(page["username"], "998OBROWN01");
    assert_eq!(page["status"], "pending");
}

async fn smartcard_sign_in_problems(app: &TestApp) {
    // Redirect URI not on the allow-list.
    for uri in [
        "https://evil.example/callback",
        "http://localhost:3000/smartcard/callback/x",
        "not a url",
        // The same page written differently is not the registered text: compared exactly.
        "HTTP://LOCALHOST:3000/smartcard/callback",
        "http://localhost:3000/smartcard/../smartcard/callback",
        " http://localhost:3000/smartcard/callback",
    ] {
        let res = app
            .post_json(
                "/v1/auth/smartcard/start",
                &json!({"redirect_uri": uri}),
                None,
            )
            .await;
        assert_eq!(res.status(), 400, "{uri}");
        assert_eq!(problem(res).await["code"], "redirect-uri-not-allowed");
    }
    let refusals = |reason: &'static str| {
        let events = esr_persistence::audit::recent(&mut app.db(), None, 100).unwrap();
        events
            .into_iter()
            .filter(|e| e.event_type == "smartcard.login_failed" && e.details.contains(reason))
            .map(|e| e.details)
            .collect::<Vec<_>>()
    };
    let refused = refusals("\"redirect_uri_not_allowed\"");
    assert_eq!(refused.len(), 6, "every refusal audited: {refused:?}");
    assert!(refused.iter().all(|d| d.contains("\"step\":\"start\"")));

    // A smartcard linked to no ESR record.
    let (code, state) = authorize(app, "555999999999").await;
    let res = callback(app, &code, &state).await;
    assert_eq!(res.status(), 403);
    let body = problem(res).await;
    assert_eq!(body["code"], "no-esr-record");
    assert_eq!(body["title"], "No ESR record linked to this smartcard");
    let events = esr_persistence::audit::recent(&mut app.db(), None, 5).unwrap();
    let failed = events
        .iter()
        .find(|e| e.event_type == "smartcard.login_failed")
        .expect("audited");
    assert!(
        failed.details.contains("unknown_subject"),
        "{}",
        failed.details
    );
    assert!(
        !failed.details.contains("555999999999"),
        "subject minimised: {}",
        failed.details
    );

    // Unknown state, empty fields, unknown fields.
    let made_up = Flow {
        state: "not-a-state-we-issued".into(),
        binding: "nor-a-binding".into(),
    };
    let res = callback(app, "some-code", &made_up).await;
    assert_eq!(res.status(), 401);
    assert_eq!(problem(res).await["code"], "smartcard-state-invalid");
    let empty = Flow {
        state: String::new(),
        binding: String::new(),
    };
    let res = callback(app, "", &empty).await;
    assert_eq!(res.status(), 400);
    let refused = refusals("\"invalid_request\"");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].contains("\"step\":\"callback\""));
    let res = app
        .post_json(
            "/v1/auth/smartcard/callback",
            &json!({"code": "a", "state": "b", "x": 1}),
            None,
        )
        .await;
    assert_eq!(problem(res).await["code"], "invalid-request-body");

    // An expired flow.
    let (code, state) = authorize(app, "100001").await;
    let mut ticket = state.ticket(app);
    ticket.expires_at = Utc::now() - chrono::Duration::minutes(1);
    let state = Flow {
        state: app.smartcard_flow_key.seal(&ticket, &state.binding),
        binding: state.binding,
    };
    let res = callback(app, &code, &state).await;
    assert_eq!(res.status(), 401);
    assert_eq!(problem(res).await["code"], "smartcard-state-invalid");

    // The provider checks PKCE, and a code works once: a stolen code redeemed elsewhere first
    // (here: with a wrong verifier, which burns it) is refused when the real callback comes.
    let (code, state) = authorize(app, "100001").await;
    let res = app
        .client
        .post(format!("{}/dev-idp/token", app.address))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            (
                "code_verifier",
                "an-attacker-does-not-have-the-verifier-0123456789",
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(problem(res).await["code"], "invalid-grant");
    let res = callback(app, &code, &state).await;
    assert_eq!(res.status(), 401);
    assert_eq!(problem(res).await["code"], "smartcard-code-rejected");

    // Our client assertion key is published, and the dev provider's page lists the demo people.
    let jwks: Value = published_client_jwks(app).await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    assert_eq!(jwks["keys"][0]["alg"], "RS512");
    let (url, _) = start(app).await;
    let res = app.client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Siân Jones") && html.contains("login_hint=555000000003"),
        "{html}"
    );
}

async fn same_name_people_signing_in_at_once_get_distinct_usernames(app: &TestApp) {
    let org = OrganisationCode::parse("999").unwrap();
    const N: usize = 6;
    let mut flows = Vec::new();
    for n in 1..=N {
        let subject = format!("5551000000{n:02}");
        people::insert(
            &mut app.db(),
            &NewPerson {
                organisation_code: &org,
                employee_number: &format!("3000{n:02}"),
                first_name: "Alex",
                last_name: "Taylor",
                date_of_birth: chrono::NaiveDate::from_ymd_opt(1980 + n as i32, 3, 4).unwrap(),
                work_email: &format!("alex.taylor{n}@demo.example.org"),
                smartcard_subject: Some(&subject),
                language: "en",
            },
            Utc::now(),
        )
        .unwrap();
        flows.push(authorize(app, &subject).await);
    }
    // Every callback at once: each creates an account and a username.
    let mut calls = tokio::task::JoinSet::new();
    for (code, state) in flows {
        let client = app.client.clone();
        let url = format!("{}/v1/auth/smartcard/callback", app.address);
        calls.spawn(async move {
            let res = client
                .post(url)
                .json(&state.callback_body(&code))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            res.json::<Value>().await.unwrap()["access_token"]
                .as_str()
                .unwrap()
                .to_owned()
        });
    }
    let tokens: Vec<String> = calls.join_all().await;
    // And every request for access at once.
    let mut requests = tokio::task::JoinSet::new();
    for token in tokens {
        let client = app.client.clone();
        let url = format!("{}/v1/me/internet-access", app.address);
        requests.spawn(async move {
            let res = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            let page: Value = res.json().await.unwrap();
            assert_eq!(page["status"], "approved");
            page["username"].as_str().unwrap().to_owned()
        });
    }
    let usernames: BTreeSet<String> = requests.join_all().await.into_iter().collect();
    let expected: BTreeSet<String> = (1..=N).map(|n| format!("999ATAYLOR{n:02}")).collect();
    assert_eq!(usernames, expected);
}

async fn dev_idp_routes_do_not_exist_in_production(backend: TestBackend) {
    // Smartcard sign-in explicitly disabled.
    let Some(app) = spawn_production_app(backend, &["--smartcard-disabled"]).await else {
        return;
    };
    assert_dev_idp_absent(&app).await;
    let res = app
        .post_json(
            "/v1/auth/smartcard/start",
            &json!({"redirect_uri": REDIRECT}),
            None,
        )
        .await;
    assert_eq!(res.status(), 503);
    assert_eq!(problem(res).await["code"], "smartcard-login-disabled");
    let jwks: Value = published_client_jwks(&app).await;
    assert_eq!(jwks, json!({"keys": []}));
    app.stop().await;

    // Fully configured for CIS2 with private_key_jwt: the client key is published, and there
    // is still no dev provider.
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("client.pem");
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    {
        use rsa::pkcs8::EncodePrivateKey;
        std::fs::write(
            &key_path,
            key.to_pkcs8_pem(Default::default()).unwrap().as_bytes(),
        )
        .unwrap();
    }
    let key_path = key_path.display().to_string();
    let Some(app) = spawn_production_app(
        backend,
        &[
            "--oidc-issuer",
            "https://am.nhsidentity.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare",
            "--oidc-client-id",
            "esr-access",
            "--oidc-client-key-file",
            &key_path,
            "--oidc-redirect-uris",
            "https://portal.esr.example.org/smartcard/callback",
        ],
    )
    .await
    else {
        return;
    };
    assert_dev_idp_absent(&app).await;
    let jwks: Value = published_client_jwks(&app).await;
    let published =
        esr_api::oidc::RsaKey::from_pem(&std::fs::read_to_string(&key_path).unwrap()).unwrap();
    assert_eq!(jwks["keys"][0]["kid"], published.kid());
    assert!(
        jwks.to_string().find("\"d\"").is_none(),
        "no private part: {jwks}"
    );
    app.stop().await;
}

async fn assert_dev_idp_absent(app: &TestApp) {
    for path in [
        "/dev-idp/",
        "/dev-idp/.well-known/openid-configuration",
        "/dev-idp/jwks.json",
        "/dev-idp/authorize?login_hint=100001",
        // The file transport's mailbox is dev-only too.
        "/v1/dev/mailbox",
        "/v1/dev/mailbox?to=jane.smith@demo.example.org",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 404, "{path}");
        assert_eq!(problem(res).await["code"], "not-found");
    }
    let res = app
        .client
        .post(format!("{}/dev-idp/token", app.address))
        .form(&[("grant_type", "authorization_code")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

/// The PKCE verifier sealed in a flow's state (only the service, never an attacker, can
/// open it).
fn verifier_of(app: &TestApp, flow: &Flow) -> String {
    flow.ticket(app).code_verifier
}

/// `GET /v1/me/internet-access` with a bearer token: the Manage Internet Access page's data.
pub async fn internet_access_page(app: &TestApp, access_token: &str) -> Value {
    app.get_auth("/v1/me/internet-access", access_token)
        .await
        .json()
        .await
        .unwrap()
}

/// Our published client keys (`/.well-known/oidc-client-jwks.json`), which identity providers
/// verify our `private_key_jwt` assertions with.
pub async fn published_client_jwks(app: &TestApp) -> Value {
    app.get("/.well-known/oidc-client-jwks.json")
        .await
        .json()
        .await
        .unwrap()
}

async fn dev_idp_token_refuses_a_missing_or_forged_client_assertion(app: &TestApp) {
    let published: Value = published_client_jwks(app).await;
    let kid = published["keys"][0]["kid"].as_str().unwrap().to_owned();
    let token_url = format!("{}/dev-idp/token", app.address);
    let now = Utc::now().timestamp();
    // Right claims, our kid and algorithm, someone else's key.
    let forged = {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        let other = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        let der = other.to_pkcs1_der().unwrap();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS512);
        header.kid = Some(kid.clone());
        jsonwebtoken::encode(
            &header,
            &json!({
                "iss": "esr-access-dev",
                "sub": "esr-access-dev",
                "aud": token_url,
                "jti": "forged-1",
                "iat": now,
                "exp": now + 300,
            }),
            &jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes()),
        )
        .unwrap()
    };
    let jwt_bearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("no client authentication at all", vec![]),
        (
            "jwt-bearer without the assertion",
            vec![("client_assertion_type", jwt_bearer)],
        ),
        (
            "an assertion signed with another key",
            vec![
                ("client_assertion_type", jwt_bearer),
                ("client_assertion", forged.as_str()),
            ],
        ),
        (
            "a malformed assertion",
            vec![
                ("client_assertion_type", jwt_bearer),
                ("client_assertion", "not.a.jwt"),
            ],
        ),
    ];
    for (case, client_auth) in cases {
        // A genuine code with its genuine PKCE verifier: only the client authentication is wrong.
        let (code, state) = authorize(app, "100001").await;
        let verifier = verifier_of(app, &state);
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.as_str()),
            ("client_id", "esr-access-dev"),
        ];
        form.extend(client_auth);
        let res = app
            .client
            .post(&token_url)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{case}");
        assert_eq!(problem(res).await["code"], "invalid-client", "{case}");
        // The code is spent: the service's own callback with it is refused too.
        let res = callback(app, &code, &state).await;
        assert_eq!(res.status(), 401, "{case}");
        assert_eq!(
            problem(res).await["code"],
            "smartcard-code-rejected",
            "{case}"
        );
    }
}

/// A smartcard identifies one member of staff, who may work for two organisations: each links
/// the card to its own record without learning of the other's (no conflict across them), and
/// the sign-in asks which organisation, then goes to the one chosen.
async fn a_card_linked_in_two_organisations_signs_in_to_the_one_chosen(app: &TestApp) {
    let jane_card = "555000000001";
    let other_trust = crate::admin::admin_key(app, "trust-998", "998", "write");
    let res = app
        .post_json(
            "/v1/admin/people",
            &json!({
                "organisation_code": "998", "employee_number": "800001", "first_name": "Jane",
                "last_name": "Smith", "date_of_birth": "1985-04-12",
                "work_email": "jane.smith@board.example", "smartcard_subject": jane_card}),
            Some(&other_trust),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());

    let (code, flow) = authorize(app, jane_card).await;
    let res = callback(app, &code, &flow).await;
    assert_eq!(res.status(), 409);
    let body = problem(res).await;
    assert_eq!(body["code"], "organisation-choice-required");
    let codes: Vec<&str> = body["organisations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["998", "999"]);
    assert!(
        body["organisations"][0]["name"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );

    for (chosen, username_starts) in [("998", "998"), ("999", "999")] {
        let start = json!({"redirect_uri": REDIRECT, "organisation_code": chosen});
        let (code, flow) = authorize_with(app, jane_card, start).await;
        let res = callback(app, &code, &flow).await;
        assert_eq!(res.status(), 200, "{chosen}");
        let tokens: Value = res.json().await.unwrap();
        let page = internet_access_page(app, tokens["access_token"].as_str().unwrap()).await;
        assert_eq!(page["organisation"]["code"], chosen);
        assert!(
            page["username"]
                .as_str()
                .unwrap()
                .starts_with(username_starts),
            "{page}"
        );
    }

    // An organisation the card is not linked in: no record there.
    let start = json!({"redirect_uri": REDIRECT, "organisation_code": "997"});
    let (code, flow) = authorize_with(app, jane_card, start).await;
    let res = callback(app, &code, &flow).await;
    assert_eq!(problem(res).await["code"], "no-esr-record");
    // A malformed code is refused before anything starts.
    let res = app
        .post_json(
            "/v1/auth/smartcard/start",
            &json!({"redirect_uri": REDIRECT, "organisation_code": "99"}),
            None,
        )
        .await;
    assert_eq!(problem(res).await["code"], "invalid-request-body");
}
