//! Passkeys through HTTP, with a software authenticator standing where the browser's or the
//! phone's would: registration with the enrolment proof, a login answered with the passkey
//! (`amr` `["pwd","hwk"]`), an answer replayed for another login, a cloned key caught by its
//! signature counter, a lockout counted with wrong passwords, and signing in with the passkey
//! alone.

use serde_json::{Value, json};
use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softtoken::SoftToken;

use crate::auth::{JANE, JANE_PASSWORD, jwt_part};
use crate::both_backends;
use crate::helpers::{TestApp, problem};
use crate::smartcard::smartcard_tokens;

const JANE_CARD: &str = "555000000001";

both_backends!(
    a_passkey_is_added_and_then_answers_each_login,
    a_passkey_needs_the_enrolment_proof_and_its_own_session,
    an_answer_works_for_its_own_login_only,
    a_cloned_passkey_is_refused_by_its_counter,
    wrong_passkey_answers_count_towards_the_lockout,
    a_passkey_alone_signs_in_once_per_ceremony,
    an_answer_made_inside_another_sites_frame_is_refused,
    a_credential_is_registered_once_across_accounts,
);

/// The origin the pages are served from in tests (the loopback address as `localhost`).
fn origin(app: &TestApp) -> Url {
    let mut url = Url::parse(&app.address).unwrap();
    url.set_host(Some("localhost")).unwrap();
    url
}

/// An authenticator that verifies its user (as a phone's or laptop's passkey does).
fn authenticator() -> SoftToken {
    SoftToken::new(true).unwrap().0
}

/// A copy of the authenticator as it is now: its keys and its signature counter.
fn clone_of(token: &SoftToken) -> SoftToken {
    SoftToken::from_cbor(&token.to_cbor().unwrap()).unwrap()
}

fn bearer(tokens: &Value) -> String {
    tokens["access_token"].as_str().unwrap().to_owned()
}

async fn json_of(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let body = res.text().await.unwrap();
    assert_eq!(got, status, "{body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

/// Starts adding a passkey with `bearer`; the registration's answer.
async fn start(app: &TestApp, bearer: &str, body: Value) -> reqwest::Response {
    app.post_json("/v1/me/factors/passkey", &body, Some(bearer))
        .await
}

/// Makes the credential for a started registration and confirms it with `bearer`.
async fn confirm(
    app: &TestApp,
    key: &mut SoftToken,
    started: &Value,
    bearer: &str,
) -> reqwest::Response {
    let options = serde_json::from_value(started["options"].clone()).unwrap();
    let credential = key.do_registration(origin(app), options).unwrap();
    let id = started["ceremony_id"].as_str().unwrap();
    app.post_json(
        &format!("/v1/me/factors/passkey/{id}/confirm"),
        &json!({"credential": credential}),
        Some(bearer),
    )
    .await
}

/// Jane adds a passkey at work (a smartcard session is proof enough).
async fn add_passkey(app: &TestApp, key: &mut SoftToken) -> Value {
    let workplace = bearer(&smartcard_tokens(app, JANE_CARD).await);
    let started = json_of(start(app, &workplace, json!({"name": "Laptop"})).await, 201).await;
    json_of(confirm(app, key, &started, &workplace).await, 200).await
}

/// A passkey's answer to a sign-in with the passkey alone, as a phone's passkey gives it: the
/// software authenticator keeps no discoverable credentials, so it is told which one to use
/// (`credential_id`), and the answer carries Jane's user handle (her account id) as a phone's
/// would. Neither is signed: the service learns them from the answer.
fn discoverable_answer(
    app: &TestApp,
    key: &mut SoftToken,
    started: &Value,
    jane: &str,
    credential_id: &str,
) -> Value {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let mut options = started["options"].clone();
    assert_eq!(
        options["publicKey"]["allowCredentials"]
            .as_array()
            .map_or(0, Vec::len),
        0,
        "the service does not know who is signing in"
    );
    assert_eq!(options["publicKey"]["userVerification"], "required");
    options["publicKey"]["allowCredentials"] = json!([{"type": "public-key", "id": credential_id}]);
    let options = serde_json::from_value(options).unwrap();
    let mut credential =
        serde_json::to_value(key.do_authentication(origin(app), options).unwrap()).unwrap();
    let handle = uuid::Uuid::parse_str(jane).unwrap();
    credential["response"]["userHandle"] =
        json!(Base64UrlUnpadded::encode_string(handle.as_bytes()));
    credential
}

/// A password login that asks for the second factor.
async fn challenge(app: &TestApp) -> Value {
    let challenge = json_of(app.login(JANE, JANE_PASSWORD).await, 200).await;
    assert_eq!(challenge["mfa_required"], true, "{challenge}");
    challenge
}

/// The passkey's answer to a login's challenge.
fn answer(app: &TestApp, key: &mut SoftToken, challenge: &Value) -> Value {
    let options = serde_json::from_value(challenge["passkey"].clone()).unwrap();
    serde_json::to_value(key.do_authentication(origin(app), options).unwrap()).unwrap()
}

async fn second_step(app: &TestApp, challenge: &Value, passkey: &Value) -> reqwest::Response {
    app.post_json(
        "/v1/auth/login/mfa",
        &json!({"mfa_token": challenge["mfa_token"], "passkey": passkey}),
        None,
    )
    .await
}

async fn a_passkey_is_added_and_then_answers_each_login(app: &TestApp) {
    let mut key = authenticator();
    let added = add_passkey(app, &mut key).await;
    assert_eq!(added["factor"]["kind"], "passkey");
    assert_eq!(added["factor"]["name"], "Laptop");
    assert_eq!(added["factor"]["confirmed"], true);
    assert_eq!(
        added["recovery_codes"].as_array().map(Vec::len),
        Some(10),
        "the first factor comes with recovery codes"
    );

    for _ in 0..2 {
        let challenge = challenge(app).await;
        assert_eq!(challenge["methods"][0], "passkey", "{challenge}");
        let options = &challenge["passkey"]["publicKey"];
        assert_eq!(options["rpId"], "localhost");
        assert_eq!(options["userVerification"], "required");
        assert_eq!(
            options["allowCredentials"].as_array().map(Vec::len),
            Some(1)
        );
        assert!(challenge.get("access_token").is_none());

        let passkey = answer(app, &mut key, &challenge);
        let tokens = json_of(second_step(app, &challenge, &passkey).await, 200).await;
        let claims = jwt_part(tokens["access_token"].as_str().unwrap(), 1);
        assert_eq!(claims["amr"], json!(["pwd", "hwk"]));
        // The same answer again: the token is spent.
        let res = second_step(app, &challenge, &passkey).await;
        assert_eq!(res.status(), 401);
        assert_eq!(problem(res).await["code"], "invalid-mfa-token");
    }
    let factors = json_of(
        app.get_auth(
            "/v1/me/factors",
            &bearer(&smartcard_tokens(app, JANE_CARD).await),
        )
        .await,
        200,
    )
    .await;
    let passkey = &factors["factors"][0];
    assert_eq!(passkey["kind"], "passkey");
    assert!(passkey["last_used_at"].is_string(), "{factors}");
    assert!(
        !factors.to_string().contains("publicKey") && !factors.to_string().contains("cred"),
        "never the credential: {factors}"
    );
}

async fn a_passkey_needs_the_enrolment_proof_and_its_own_session(app: &TestApp) {
    let password_session = bearer(&app.tokens(JANE, JANE_PASSWORD).await);
    // A password alone adds no passkey.
    let res = start(app, &password_session, json!({})).await;
    assert_eq!(res.status(), 403);
    assert_eq!(problem(res).await["code"], "enrolment-proof-required");

    // A registration started at work is finished only by that session, once.
    let workplace = bearer(&smartcard_tokens(app, JANE_CARD).await);
    let started = json_of(start(app, &workplace, json!({"name": "Phone"})).await, 201).await;
    let mut key = authenticator();
    let res = confirm(app, &mut key, &started, &password_session).await;
    assert_eq!(res.status(), 404, "another session cannot finish it");
    assert_eq!(problem(res).await["code"], "factor-not-found");
    let res = confirm(app, &mut key, &started, &workplace).await;
    assert_eq!(res.status(), 200);
    let res = confirm(app, &mut key, &started, &workplace).await;
    assert_eq!(res.status(), 404, "a registration works once");

    // A credential made on another origin (a look-alike page) is refused.
    let started = json_of(start(app, &workplace, json!({})).await, 201).await;
    let options = serde_json::from_value(started["options"].clone()).unwrap();
    let mut look_alike = origin(app);
    look_alike.set_port(Some(1)).unwrap();
    let credential = authenticator()
        .do_registration(look_alike, options)
        .expect("the authenticator signs for any page on the relying party's host");
    let id = started["ceremony_id"].as_str().unwrap();
    let res = app
        .post_json(
            &format!("/v1/me/factors/passkey/{id}/confirm"),
            &json!({"credential": credential}),
            Some(&workplace),
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(problem(res).await["code"], "passkey-rejected");

    // Not JSON of a credential: refused before anything is looked at.
    let started = json_of(start(app, &workplace, json!({})).await, 201).await;
    let id = started["ceremony_id"].as_str().unwrap();
    let res = app
        .post_json(
            &format!("/v1/me/factors/passkey/{id}/confirm"),
            &json!({"credential": {"id": "x"}}),
            Some(&workplace),
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(problem(res).await["code"], "invalid-request-body");
}

async fn an_answer_works_for_its_own_login_only(app: &TestApp) {
    let mut key = authenticator();
    add_passkey(app, &mut key).await;
    let first = challenge(app).await;
    let answer_to_first = answer(app, &mut key, &first);
    // A new login voids the first challenge; the first answer does not open the second.
    let second = challenge(app).await;
    let res = second_step(app, &second, &answer_to_first).await;
    assert_eq!(res.status(), 401);
    assert_eq!(problem(res).await["code"], "invalid-second-factor");
    // An answer whose user handle names another user is refused, though the handle is not
    // signed and the rest of the answer is good: a passkey answers for its own user only.
    use base64ct::{Base64UrlUnpadded, Encoding};
    let mut for_someone_else = answer(app, &mut key, &second);
    for_someone_else["response"]["userHandle"] = json!(Base64UrlUnpadded::encode_string(
        uuid::Uuid::new_v4().as_bytes()
    ));
    let res = second_step(app, &second, &for_someone_else).await;
    assert_eq!(res.status(), 401);
    assert_eq!(problem(res).await["code"], "invalid-second-factor");
    let passkey = answer(app, &mut key, &second);
    json_of(second_step(app, &second, &passkey).await, 200).await;

    // Exactly one answer per second step.
    let third = challenge(app).await;
    let res = app
        .post_json(
            "/v1/auth/login/mfa",
            &json!({"mfa_token": third["mfa_token"], "passkey": passkey, "totp_code": "123456"}),
            None,
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(problem(res).await["code"], "invalid-request-body");
}

async fn a_cloned_passkey_is_refused_by_its_counter(app: &TestApp) {
    let mut key = authenticator();
    add_passkey(app, &mut key).await;
    let mut copy = clone_of(&key);
    for _ in 0..2 {
        let challenge = challenge(app).await;
        let passkey = answer(app, &mut key, &challenge);
        json_of(second_step(app, &challenge, &passkey).await, 200).await;
    }
    // The copy's counter is behind the original's: the service has seen a later one.
    let challenge = challenge(app).await;
    let cloned = answer(app, &mut copy, &challenge);
    let res = second_step(app, &challenge, &cloned).await;
    assert_eq!(res.status(), 401);
    assert_eq!(problem(res).await["code"], "invalid-second-factor");
    // The original still signs in.
    let passkey = answer(app, &mut key, &challenge);
    json_of(second_step(app, &challenge, &passkey).await, 200).await;
}

async fn wrong_passkey_answers_count_towards_the_lockout(app: &TestApp) {
    let mut key = authenticator();
    add_passkey(app, &mut key).await;
    // Four wrong passwords, then a correct one and an answer whose signature is not the
    // passkey's: the fifth failure locks the account.
    for _ in 0..4 {
        assert_eq!(app.login(JANE, "not her password").await.status(), 401);
    }
    let challenge = challenge(app).await;
    let mut wrong = answer(app, &mut key, &challenge);
    wrong["response"]["signature"] = json!(
        "MEUCIQDo9AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    );
    let res = second_step(app, &challenge, &wrong).await;
    assert_eq!(res.status(), 401);
    assert_eq!(problem(res).await["code"], "invalid-second-factor");
    let res = app.login(JANE, JANE_PASSWORD).await;
    assert_eq!(res.status(), 401, "locked after five failures");
    assert_eq!(problem(res).await["code"], "invalid-credentials");
}

async fn passkey_sign_in(app: &TestApp, ceremony: &Value, credential: &Value) -> reqwest::Response {
    app.post_json(
        "/v1/auth/passkey/finish",
        &json!({"ceremony": ceremony, "credential": credential}),
        None,
    )
    .await
}

async fn a_passkey_alone_signs_in_once_per_ceremony(app: &TestApp) {
    let mut key = authenticator();
    add_passkey(app, &mut key).await;
    // The credential's id, as a phone would find it (the software one keeps none itself).
    let id = {
        let challenge = challenge(app).await;
        let id = challenge["passkey"]["publicKey"]["allowCredentials"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let passkey = answer(app, &mut key, &challenge);
        let tokens = json_of(second_step(app, &challenge, &passkey).await, 200).await;
        (id, tokens)
    };
    let (credential_id, tokens) = id;
    let jane = jwt_part(tokens["access_token"].as_str().unwrap(), 1)["sub"]
        .as_str()
        .unwrap()
        .to_owned();

    let started = json_of(
        app.post_json("/v1/auth/passkey/start", &json!({}), None)
            .await,
        200,
    )
    .await;
    assert!(started["expires_in"].as_u64().is_some_and(|s| s > 0));
    let credential = discoverable_answer(app, &mut key, &started, &jane, &credential_id);
    let signed_in = json_of(
        passkey_sign_in(app, &started["ceremony"], &credential).await,
        200,
    )
    .await;
    let claims = jwt_part(signed_in["access_token"].as_str().unwrap(), 1);
    assert_eq!(claims["amr"], json!(["hwk"]));
    assert_eq!(claims["sub"], jane);
    let me = json_of(app.get_auth("/v1/me", &bearer(&signed_in)).await, 200).await;
    assert_eq!(me["username"], JANE);
    // A session that showed a passkey may add another method without a link.
    let res = app
        .post_json("/v1/me/factors/totp", &json!({}), Some(&bearer(&signed_in)))
        .await;
    assert_eq!(res.status(), 201);

    // The same ceremony and answer again: refused, as is a ceremony not made by the service.
    let res = passkey_sign_in(app, &started["ceremony"], &credential).await;
    assert_eq!(res.status(), 401);
    assert_eq!(problem(res).await["code"], "passkey-sign-in-failed");
    // Nor does another spelling of it get past the spent mark.
    let ceremony = started["ceremony"].as_str().unwrap();
    for spelled in [
        format!(" {ceremony}"),
        format!("{ceremony} "),
        format!("\n{ceremony}"),
    ] {
        let res = passkey_sign_in(app, &json!(spelled), &credential).await;
        assert_eq!(res.status(), 401, "{spelled:?}");
    }
    let res = passkey_sign_in(app, &json!("bm90LW91cnM"), &credential).await;
    assert_eq!(res.status(), 401);
    assert_eq!(problem(res).await["code"], "passkey-sign-in-failed");

    // An answer naming another account (its user handle) opens nothing, and says nothing more.
    let started = json_of(
        app.post_json("/v1/auth/passkey/start", &json!({}), None)
            .await,
        200,
    )
    .await;
    let mut credential = discoverable_answer(app, &mut key, &started, &jane, &credential_id);
    credential["response"]["userHandle"] = json!("AAAAAAAAAAAAAAAAAAAAAA");
    let res = passkey_sign_in(app, &started["ceremony"], &credential).await;
    assert_eq!(res.status(), 401);
    assert_eq!(problem(res).await["code"], "passkey-sign-in-failed");

    // A suspended account is told so, only after a genuine answer.
    let key_name = format!("suspend-{}", rand::random::<u32>());
    let admin = crate::admin::admin_key(app, &key_name, "all", "write");
    let res = app
        .post_json(
            &format!("/v1/admin/accounts/{JANE}/suspend"),
            &json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), 200);
    let started = json_of(
        app.post_json("/v1/auth/passkey/start", &json!({}), None)
            .await,
        200,
    )
    .await;
    let credential = discoverable_answer(app, &mut key, &started, &jane, &credential_id);
    let res = passkey_sign_in(app, &started["ceremony"], &credential).await;
    assert_eq!(res.status(), 403);
    assert_eq!(problem(res).await["code"], "account-suspended");
}

/// An answer whose client data is written here (as a browser would write it for a page inside
/// a frame of `top`, or for our own page when `top` is `None`), signed by the authenticator.
fn answer_with_client_data(
    app: &TestApp,
    key: &mut SoftToken,
    options: &Value,
    top: Option<&str>,
) -> Value {
    use sha2::Digest;
    use webauthn_authenticator_rs::AuthenticatorBackendHashedClientData;
    let mut client_data = json!({
        "type": "webauthn.get",
        "challenge": options["publicKey"]["challenge"],
        "origin": origin(app).as_str().trim_end_matches('/'),
        "crossOrigin": top.is_some(),
    });
    if let Some(top) = top {
        client_data["topOrigin"] = json!(top);
    }
    let client_data = serde_json::to_vec(&client_data).unwrap();
    let request: webauthn_rs::prelude::RequestChallengeResponse =
        serde_json::from_value(options.clone()).unwrap();
    let mut credential = key
        .perform_auth(
            sha2::Sha256::digest(&client_data).to_vec(),
            request.public_key,
            60_000,
        )
        .unwrap();
    credential.response.client_data_json = client_data;
    serde_json::to_value(credential).unwrap()
}

async fn an_answer_made_inside_another_sites_frame_is_refused(app: &TestApp) {
    let mut key = authenticator();
    add_passkey(app, &mut key).await;
    let challenge = challenge(app).await;
    let framed = answer_with_client_data(
        app,
        &mut key,
        &challenge["passkey"],
        Some("https://evil.example"),
    );
    let res = second_step(app, &challenge, &framed).await;
    assert_eq!(res.status(), 401);
    assert_eq!(problem(res).await["code"], "invalid-second-factor");
    // The same construction on our own page is accepted: the frame is what was refused.
    let own = answer_with_client_data(app, &mut key, &challenge["passkey"], None);
    json_of(second_step(app, &challenge, &own).await, 200).await;
}

async fn a_credential_is_registered_once_across_accounts(app: &TestApp) {
    use diesel::RunQueryDsl;
    let mut key = authenticator();
    add_passkey(app, &mut key).await;
    let workplace = bearer(&smartcard_tokens(app, JANE_CARD).await);
    // A registration started and replaced by a newer one is gone.
    let replaced = json_of(start(app, &workplace, json!({})).await, 201).await;
    let started = json_of(start(app, &workplace, json!({})).await, 201).await;
    let mut other = authenticator();
    let res = confirm(app, &mut other, &replaced, &workplace).await;
    assert_eq!(
        res.status(),
        404,
        "a session keeps one registration under way"
    );
    // A credential whose id is registered already (here, made to look like the first
    // passkey's) is refused, whoever registered it.
    let options = serde_json::from_value(started["options"].clone()).unwrap();
    let credential = other.do_registration(origin(app), options).unwrap();
    diesel::sql_query(format!(
        "UPDATE second_factors SET credential_id = '{}' WHERE kind = 'passkey'",
        credential.id
    ))
    .execute(&mut app.db())
    .unwrap();
    let id = started["ceremony_id"].as_str().unwrap();
    let res = app
        .post_json(
            &format!("/v1/me/factors/passkey/{id}/confirm"),
            &json!({"credential": credential}),
            Some(&workplace),
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(problem(res).await["code"], "passkey-rejected");
}
