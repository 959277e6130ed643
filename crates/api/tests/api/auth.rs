//! Password login, refresh rotation, logout, the bearer extractor and token verification.

use diesel::connection::SimpleConnection;
use esr_api::tokens::{SigningKey, TokenService, TokenSettings};
use esr_persistence::signing_keys;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{TestApp, TestBackend, problem, spawn_app_with};

pub const JANE: &str = "999JSMITH01";
pub const JANE_PASSWORD: &str = "Bluebell harbour lantern";

both_backends!(
    login_returns_eddsa_tokens_that_open_me,
    refresh_rotates_and_reuse_revokes_the_session,
    a_refresh_retried_within_the_grace_gets_the_same_pair,
    the_app_is_told_why_a_session_ended,
    logout_ends_access_and_refresh,
    forged_expired_and_misaddressed_tokens_are_refused,
    a_key_registered_by_another_instance_is_picked_up,
    login_problems_for_bad_input,
);

/// Part `n` of a compact JWT (0 header, 1 claims), decoded.
pub fn jwt_part(token: &str, n: usize) -> Value {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let part = token.split('.').nth(n).expect("three parts");
    serde_json::from_slice(&Base64UrlUnpadded::decode_vec(part).expect("base64url")).expect("json")
}

async fn login_returns_eddsa_tokens_that_open_me(app: &TestApp) {
    let res = app.login("  999jsmith01 ", JANE_PASSWORD).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let tokens: Value = res.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert!((899..=900).contains(&tokens["expires_in"].as_u64().unwrap()));
    let access = tokens["access_token"].as_str().unwrap();
    let header = jwt_part(access, 0);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "at+jwt");
    let claims = jwt_part(access, 1);
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["aud"], "esr-access");
    assert_eq!(claims["iss"], app.address.as_str());
    for claim in ["sub", "sid", "jti", "iat", "exp"] {
        assert!(!claims[claim].is_null(), "{claim} present");
    }
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    assert_eq!(
        tokens["refresh_token"].as_str().unwrap().len(),
        43,
        "256-bit base64url"
    );

    let jwks: Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(
        kids.contains(&header["kid"].as_str().unwrap()),
        "signing key is published"
    );

    let res = app.get_auth("/v1/me", access).await;
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["username"], JANE);
    assert_eq!(
        me["organisation"],
        json!({"code": "999", "name": "Demo NHS Trust"})
    );
    assert_eq!(me["first_name"], "Jane");
    assert_eq!(me["account_status"], "active");
    assert_eq!(me["internet_access"], "approved");
    assert_eq!(me["password_set"], true);
    assert!(me.get("password_hash").is_none() && !me.to_string().contains("argon2"));
    assert_eq!(me["session"]["amr"], json!(["pwd"]));

    // The refresh token is stored only as its SHA-256.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let stored: Vec<String> = {
        use diesel::{QueryDsl, RunQueryDsl};
        esr_persistence::schema::refresh_tokens::table
            .select(esr_persistence::schema::refresh_tokens::token_hash)
            .load(&mut app.db())
            .unwrap()
    };
    assert!(!stored.iter().any(|h| h == refresh));
    assert!(stored.contains(&esr_domain::TokenDigest::of(refresh).as_str().to_owned()));
}

async fn refresh_rotates_and_reuse_revokes_the_session(app: &TestApp) {
    let first = app.tokens(JANE, JANE_PASSWORD).await;
    let r1 = first["refresh_token"].as_str().unwrap();
    let res = app
        .post_json("/v1/auth/refresh", &json!({"refresh_token": r1}), None)
        .await;
    assert_eq!(res.status(), 200);
    let second: Value = res.json().await.unwrap();
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2, "rotated");
    let a2 = second["access_token"].as_str().unwrap();
    assert_eq!(app.get_auth("/v1/me", a2).await.status(), 200);

    // r2 is used, then r1 comes again: someone has a copy. The whole session ends, including
    // r3 and every access token.
    let res = app
        .post_json("/v1/auth/refresh", &json!({"refresh_token": r2}), None)
        .await;
    assert_eq!(res.status(), 200);
    let third: Value = res.json().await.unwrap();
    let r3 = third["refresh_token"].as_str().unwrap();
    let res = app
        .post_json("/v1/auth/refresh", &json!({"refresh_token": r1}), None)
        .await;
    assert_eq!(res.status(), 401);
    assert_eq!(problem(res).await["code"], "invalid-refresh-token");
    assert_eq!(app.get_auth("/v1/me", a2).await.status(), 401);
    let res = app
        .post_json("/v1/auth/refresh", &json!({"refresh_token": r3}), None)
        .await;
    assert_eq!(res.status(), 401, "the newest token dies with the session");
    assert_eq!(
        app.get_auth("/v1/me", first["access_token"].as_str().unwrap())
            .await
            .status(),
        401
    );
    let res = app
        .post_json("/v1/auth/refresh", &json!({"refresh_token": r2}), None)
        .await;
    assert_eq!(res.status(), 401);

    let events = esr_persistence::audit::recent(&mut app.db(), None, 50).unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.event_type == "refresh_token.reused"),
        "reuse audited"
    );
    let report = esr_persistence::audit::verify_chain(&mut app.db(), &app.audit_chain).unwrap();
    assert_eq!(report.first_broken, None);

    // Unknown and malformed tokens.
    for bad in ["", "nope", &"A".repeat(43), &"x".repeat(500)] {
        let res = app
            .post_json("/v1/auth/refresh", &json!({"refresh_token": bad}), None)
            .await;
        assert_eq!(res.status(), 401, "{bad}");
    }
}

async fn logout_ends_access_and_refresh(app: &TestApp) {
    let tokens = app.tokens(JANE, JANE_PASSWORD).await;
    let other = app.tokens(JANE, JANE_PASSWORD).await;
    let access = tokens["access_token"].as_str().unwrap();
    let res = app
        .post_json("/v1/auth/logout", &json!({}), Some(access))
        .await;
    assert_eq!(res.status(), 204);
    let res = app.get_auth("/v1/me", access).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer realm=\"esr-access\", error=\"invalid_token\""
    );
    let res = app
        .post_json(
            "/v1/auth/refresh",
            &json!({"refresh_token": tokens["refresh_token"]}),
            None,
        )
        .await;
    assert_eq!(res.status(), 401);
    // Only that session ended.
    assert_eq!(
        app.get_auth("/v1/me", other["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
    // Logging out twice is fine (RFC 7009): the session is ended either way.
    assert_eq!(
        app.post_json("/v1/auth/logout", &json!({}), Some(access))
            .await
            .status(),
        204
    );
    // An app whose access token has expired logs out with the refresh token alone.
    let res = app
        .post_json(
            "/v1/auth/logout",
            &json!({"refresh_token": other["refresh_token"]}),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    let res = app
        .get_auth("/v1/me", other["access_token"].as_str().unwrap())
        .await;
    assert_eq!(problem(res).await["session_ended"], "logout");
    for again in [other["refresh_token"].as_str().unwrap(), "never-issued"] {
        let res = app
            .post_json("/v1/auth/logout", &json!({"refresh_token": again}), None)
            .await;
        assert_eq!(res.status(), 204, "{again}");
    }
    for bad in [
        json!({"refresh": "typo"}),
        json!({"refresh_token": "x".repeat(129)}),
    ] {
        let res = app.post_json("/v1/auth/logout", &bad, Some(access)).await;
        assert_eq!(problem(res).await["code"], "invalid-request-body", "{bad}");
    }
    let events = esr_persistence::audit::recent(&mut app.db(), None, 100).unwrap();
    assert_eq!(
        events.iter().filter(|e| e.event_type == "logout").count(),
        2,
        "each session's logout audited once"
    );
    // Without any token: who is logging out?
    let res = app.post_json("/v1/auth/logout", &json!({}), None).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer realm=\"esr-access\""
    );
    assert_eq!(problem(res).await["code"], "unauthenticated");
}

/// The dev signing key, read from the database as an attacker with a stolen key would hold it.
fn server_key(app: &TestApp) -> SigningKey {
    let key = signing_keys::newest_dev_key(&mut app.db())
        .unwrap()
        .expect("dev key stored");
    SigningKey::from_pkcs8_pem(key.private_key_pem.as_deref().unwrap()).unwrap()
}

fn minter(app: &TestApp, key: SigningKey, issuer: &str, audience: &str) -> TokenService {
    let _ = app;
    TokenService::new(
        TokenSettings {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            access_ttl: std::time::Duration::from_secs(900),
            leeway: std::time::Duration::from_secs(5),
        },
        key,
        vec![],
    )
}

async fn forged_expired_and_misaddressed_tokens_are_refused(app: &TestApp) {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let tokens = app.tokens(JANE, JANE_PASSWORD).await;
    let good = tokens["access_token"].as_str().unwrap().to_owned();
    let claims = jwt_part(&good, 1);
    let (sub, sid) = (
        claims["sub"].as_str().unwrap(),
        claims["sid"].as_str().unwrap(),
    );
    let now = chrono::Utc::now();

    let ours = minter(app, server_key(app), &app.address, "esr-access");
    // Control: a token minted with the real key and claims is accepted.
    let control = ours.issue(sub, sid, &["pwd"], now).unwrap().token;
    assert_eq!(app.get_auth("/v1/me", &control).await.status(), 200);

    let expired = ours
        .issue(sub, sid, &["pwd"], now - chrono::Duration::hours(1))
        .unwrap()
        .token;
    let wrong_aud = minter(app, server_key(app), &app.address, "someone-else")
        .issue(sub, sid, &["pwd"], now)
        .unwrap()
        .token;
    let wrong_iss = minter(app, server_key(app), "https://evil.example", "esr-access")
        .issue(sub, sid, &["pwd"], now)
        .unwrap()
        .token;
    let stranger = minter(
        app,
        SigningKey::generate(&mut rand::rng()),
        &app.address,
        "esr-access",
    )
    .issue(sub, sid, &["pwd"], now)
    .unwrap()
    .token;
    let other_session = ours
        .issue(sub, "no-such-session", &["pwd"], now)
        .unwrap()
        .token;

    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let mut tampered_claims = claims.clone();
    tampered_claims["sub"] = json!("someone-else");
    parts[1] = Base64UrlUnpadded::encode_string(tampered_claims.to_string().as_bytes());
    let tampered = parts.join(".");
    let header = jwt_part(&good, 0);
    let none_header = json!({"alg": "none", "typ": "at+jwt", "kid": header["kid"]});
    let alg_none = format!(
        "{}.{}.",
        Base64UrlUnpadded::encode_string(none_header.to_string().as_bytes()),
        good.split('.').nth(1).unwrap()
    );
    // HS256 "signed" with the public key as the HMAC secret (key confusion).
    let jwks: Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let x = jwks["keys"][0]["x"].as_str().unwrap();
    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            alg: jsonwebtoken::Algorithm::HS256,
            typ: Some("at+jwt".into()),
            kid: header["kid"].as_str().map(str::to_owned),
            ..Default::default()
        },
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(x.as_bytes()),
    )
    .unwrap();

    for (name, token) in [
        ("expired", expired),
        ("wrong audience", wrong_aud),
        ("wrong issuer", wrong_iss),
        ("unknown key", stranger),
        ("unknown session", other_session),
        ("tampered", tampered),
        ("alg none", alg_none),
        ("HS256 with the public key", hs256),
        ("garbage", "not.a.jwt".to_owned()),
        ("api key shape", "esr_abcdef".to_owned()),
    ] {
        let res = app.get_auth("/v1/me", &token).await;
        assert_eq!(res.status(), 401, "{name}");
        assert!(res.headers().contains_key("www-authenticate"), "{name}");
        assert_eq!(problem(res).await["code"], "invalid-token", "{name}");
    }
    // The genuine token still works afterwards.
    assert_eq!(app.get_auth("/v1/me", &good).await.status(), 200);
}

async fn a_key_registered_by_another_instance_is_picked_up(app: &TestApp) {
    let tokens = app.tokens(JANE, JANE_PASSWORD).await;
    let claims = jwt_part(tokens["access_token"].as_str().unwrap(), 1);
    // Another instance starts with a new key and registers its public part.
    let other = SigningKey::generate(&mut rand::rng());
    signing_keys::register(
        &mut app.db(),
        other.kid(),
        other.public_key().x(),
        None,
        chrono::Utc::now(),
    )
    .unwrap();
    let token = minter(app, other, &app.address, "esr-access")
        .issue(
            claims["sub"].as_str().unwrap(),
            claims["sid"].as_str().unwrap(),
            &["pwd"],
            chrono::Utc::now(),
        )
        .unwrap()
        .token;
    // Our instance does not know the kid yet; it reloads the keys (at most every 10 s) once.
    tokio::time::sleep(std::time::Duration::from_secs(11)).await;
    assert_eq!(app.get_auth("/v1/me", &token).await.status(), 200);
    let jwks: Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        jwks["keys"].as_array().unwrap().len(),
        2,
        "both keys published"
    );
}

async fn login_problems_for_bad_input(app: &TestApp) {
    for body in [
        json!({"username": "", "password": "x"}),
        json!({"username": JANE, "password": ""}),
        json!({"username": "x".repeat(65), "password": "x"}),
    ] {
        let res = app.post_json("/v1/auth/login", &body, None).await;
        assert_eq!(res.status(), 400, "{body}");
        assert_eq!(problem(res).await["code"], "invalid-request-body");
    }
    for body in [
        json!({"username": JANE}),
        json!({"username": JANE, "password": 1}),
        json!({"username": JANE, "password": "p", "remember": true}),
    ] {
        let res = app.post_json("/v1/auth/login", &body, None).await;
        assert_eq!(res.status(), 400, "{body}");
    }
}

#[tokio::test]
async fn unauthenticated_me_gets_a_bearer_challenge() {
    let app = crate::helpers::spawn_app(TestBackend::Sqlite)
        .await
        .unwrap();
    let res = app.get("/v1/me").await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer realm=\"esr-access\""
    );
    let res = app
        .client
        .get(format!("{}/v1/me", app.address))
        .header("authorization", "Basic OTk5SlNNSVRIMDE6eA==")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    app.stop().await;
}

/// Suspended and not-approved accounts are revealed only after a correct password.
#[tokio::test]
async fn status_is_revealed_only_after_a_correct_password() {
    for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
        let Some(app) = spawn_app_with(backend, |_| {}).await else {
            continue;
        };
        app.db()
            .batch_execute(
                "UPDATE accounts SET status = 'suspended' WHERE username = '999JSMITH01'",
            )
            .unwrap();
        let res = app.login(JANE, "wrong password here").await;
        assert_eq!(res.status(), 401);
        assert_eq!(problem(res).await["code"], "invalid-credentials");
        let res = app.login(JANE, JANE_PASSWORD).await;
        assert_eq!(res.status(), 403);
        assert_eq!(problem(res).await["code"], "account-suspended");

        app.db()
            .batch_execute(
                "UPDATE accounts SET internet_access = 'pending' WHERE username = '999APATEL01'",
            )
            .unwrap();
        let res = app.login("999APATEL01", "wrong password here").await;
        assert_eq!(problem(res).await["code"], "invalid-credentials");
        let res = app.login("999APATEL01", "Copper kettle meadow 42").await;
        assert_eq!(res.status(), 403);
        let body = problem(res).await;
        assert_eq!(body["code"], "internet-access-not-approved");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("Manage Internet Access")
        );
        app.stop().await;
    }
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/v1/auth/refresh", &json!({"refresh_token": token}), None)
        .await
}

/// A lost response or two app threads refreshing at once: within the grace the spent token
/// answers with the same successor; after it, a spent token ends the session.
async fn a_refresh_retried_within_the_grace_gets_the_same_pair(app: &TestApp) {
    let r1 = app.tokens(JANE, JANE_PASSWORD).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let first: Value = refresh(app, &r1).await.json().await.unwrap();
    let again = refresh(app, &r1).await;
    assert_eq!(again.status(), 200, "the response was lost: retried");
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        again["refresh_token"], first["refresh_token"],
        "the same successor"
    );
    assert_eq!(
        app.get_auth("/v1/me", again["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );

    // Two threads at once with the successor: both get the same next token.
    let r2 = first["refresh_token"].as_str().unwrap().to_owned();
    let (a, b) = tokio::join!(refresh(app, &r2), refresh(app, &r2));
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_eq!(a["refresh_token"], b["refresh_token"]);
    let r3 = a["refresh_token"].as_str().unwrap().to_owned();

    // After the grace, the spent r2 means a copy: the session ends, r3 with it.
    {
        use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
        use esr_persistence::schema::refresh_tokens::dsl;
        diesel::update(dsl::refresh_tokens.filter(dsl::used_at.is_not_null()))
            .set(dsl::used_at.eq((chrono::Utc::now() - chrono::Duration::seconds(60)).naive_utc()))
            .execute(&mut app.db())
            .unwrap();
    }
    let res = refresh(app, &r2).await;
    assert_eq!(res.status(), 401);
    assert_eq!(refresh(app, &r3).await.status(), 401, "the session ended");
    assert_eq!(
        app.get_auth("/v1/me", a["access_token"].as_str().unwrap())
            .await
            .status(),
        401
    );
}

/// A refused token says why its session ended, so the app can tell "you logged out" from
/// "your password was changed" from "someone else used your session".
async fn the_app_is_told_why_a_session_ended(app: &TestApp) {
    let why = |body: Value| body["session_ended"].clone();
    // Logout: the access and the refresh token say so.
    let tokens = app.tokens(JANE, JANE_PASSWORD).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        app.post_json("/v1/auth/logout", &json!({}), Some(access))
            .await
            .status(),
        204
    );
    let res = app.get_auth("/v1/me", access).await;
    assert_eq!(why(problem(res).await), "logout");
    let res = refresh(app, tokens["refresh_token"].as_str().unwrap()).await;
    let body = problem(res).await;
    assert_eq!(body["code"], "invalid-refresh-token");
    assert_eq!(why(body), "logout");

    // The password changed in another session.
    let phone = app.tokens(JANE, JANE_PASSWORD).await;
    let laptop = app.tokens(JANE, JANE_PASSWORD).await;
    let new = "Wandering heron at dusk";
    let res = app
        .post_json(
            "/v1/me/password",
            &json!({"current_password": JANE_PASSWORD, "new_password": new, "confirm_password": new}),
            laptop["access_token"].as_str(),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .get_auth("/v1/me", phone["access_token"].as_str().unwrap())
        .await;
    assert_eq!(why(problem(res).await), "password_changed");

    // A copy of a refresh token was used: both holders are told.
    let r1 = laptop_refresh(app, new).await;
    let r2 = refresh(app, &r1).await.json::<Value>().await.unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r3 = refresh(app, &r2).await.json::<Value>().await.unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    {
        use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
        use esr_persistence::schema::refresh_tokens::dsl;
        diesel::update(dsl::refresh_tokens.filter(dsl::used_at.is_not_null()))
            .set(dsl::used_at.eq((chrono::Utc::now() - chrono::Duration::seconds(60)).naive_utc()))
            .execute(&mut app.db())
            .unwrap();
    }
    assert_eq!(
        why(problem(refresh(app, &r1).await).await),
        "refresh_token_reuse"
    );
    assert_eq!(
        why(problem(refresh(app, &r3).await).await),
        "refresh_token_reuse"
    );

    // A token that never was has no session to speak of.
    let body = problem(refresh(app, &"A".repeat(43)).await).await;
    assert!(body.get("session_ended").is_none(), "{body}");
}

async fn laptop_refresh(app: &TestApp, password: &str) -> String {
    app.tokens(JANE, password).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned()
}
