//! API keys: authentication (one answer for every kind of missing or bad key), read-only
//! keys, organisation scope, revocation, `esr-api create-api-key`, and the API key scheme on
//! every documented admin operation.

use serde_json::{Value, json};

use super::{OLIVER, admin_key, audit_of, code_of, esr_api, get, ok_json, patch, post};
use crate::auth::{JANE, JANE_PASSWORD};
use crate::both_backends;
use crate::helpers::{TestApp, problem};

both_backends!(
    keys_authenticate_list_and_revoke,
    read_only_keys_are_refused_on_every_change,
    organisation_keys_see_only_their_organisation,
    create_api_key_prints_a_working_key_once,
);

async fn keys_authenticate_list_and_revoke(app: &TestApp) {
    // No key, another scheme, a malformed key, an unknown key: one answer.
    let res = app.get("/v1/admin/organisations").await;
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer realm=\"esr-access-admin\""
    );
    assert_eq!(code_of(res).await, (401, "invalid-api-key".into()));
    let unknown = format!("esr_{}", "A".repeat(43));
    for key in ["esr_short", unknown.as_str(), "not-a-key"] {
        let res = get(app, "/v1/admin/organisations", key).await;
        assert_eq!(code_of(res).await, (401, "invalid-api-key".into()), "{key}");
    }
    // An access token of a member of staff is not an API key.
    let tokens = app.tokens(JANE, JANE_PASSWORD).await;
    let res = get(
        app,
        "/v1/admin/organisations",
        tokens["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(code_of(res).await.0, 401);

    let root = admin_key(app, "root", "all", "write");
    let created = post(
        app,
        "/v1/admin/api-keys",
        &root,
        json!({"name": "service-desk", "scope": "998", "access": "read"}),
    )
    .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let desk = created["key"].as_str().unwrap().to_owned();
    assert!(desk.starts_with("esr_") && desk.len() == 47, "{desk}");
    assert_eq!(created["api_key"]["prefix"], desk[..12]);
    assert_eq!(created["api_key"]["scope"], "998");
    assert_eq!(
        ok_json(get(app, "/v1/admin/organisations", &desk).await).await["items"][0]["code"],
        "998"
    );

    // Taken names, bad fields (all listed), unknown organisations.
    let res = post(
        app,
        "/v1/admin/api-keys",
        &root,
        json!({"name": "service-desk", "scope": "all", "access": "read"}),
    )
    .await;
    assert_eq!(code_of(res).await, (409, "api-key-name-taken".into()));
    let res = post(
        app,
        "/v1/admin/api-keys",
        &root,
        json!({"name": "a b", "scope": "9999", "access": "admin"}),
    )
    .await;
    let body = problem(res).await;
    let fields: Vec<&str> = body["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "scope", "access"], "{body}");
    let res = post(
        app,
        "/v1/admin/api-keys",
        &root,
        json!({"name": "ghost", "scope": "777", "access": "read"}),
    )
    .await;
    assert_eq!(
        problem(res).await["violations"][0]["code"],
        "organisation-not-found"
    );

    // The list shows names and prefixes, never a key or its hash.
    let list = ok_json(get(app, "/v1/admin/api-keys?limit=1", &root).await).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["name"], "root");
    let next = list["next_cursor"].as_str().unwrap();
    let list2 = ok_json(
        get(
            app,
            &format!("/v1/admin/api-keys?limit=1&cursor={next}"),
            &root,
        )
        .await,
    )
    .await;
    assert_eq!(list2["items"][0]["name"], "service-desk");
    assert!(list2.get("next_cursor").is_none());
    let text = list2.to_string();
    assert!(!text.contains(&desk) && !text.contains(&esr_domain::sha256_hex(desk.as_bytes())));
    assert!(
        list2["items"][0]["last_used_at"].is_string(),
        "last use recorded"
    );

    // Any key may ask what it is: read-only and scoped as it is, never the key itself.
    let current = ok_json(get(app, "/v1/admin/api-keys/current", &desk).await).await;
    assert_eq!(current["id"], list2["items"][0]["id"]);
    assert_eq!(current["name"], "service-desk");
    assert_eq!(current["access"], "read");
    assert!(!current.to_string().contains(&desk));
    let res = app.get("/v1/admin/api-keys/current").await;
    assert_eq!(code_of(res).await, (401, "invalid-api-key".into()));

    // Revoked: refused at once; revoking again is harmless.
    let id = list2["items"][0]["id"].as_str().unwrap();
    let revoked = ok_json(
        post(
            app,
            &format!("/v1/admin/api-keys/{id}/revoke"),
            &root,
            json!({}),
        )
        .await,
    )
    .await;
    assert!(revoked["revoked_at"].is_string());
    let res = get(app, "/v1/admin/organisations", &desk).await;
    assert_eq!(code_of(res).await, (401, "invalid-api-key".into()));
    let res = get(app, "/v1/admin/api-keys/current", &desk).await;
    assert_eq!(code_of(res).await, (401, "invalid-api-key".into()));
    assert_eq!(
        post(
            app,
            &format!("/v1/admin/api-keys/{id}/revoke"),
            &root,
            json!({})
        )
        .await
        .status(),
        200
    );
    let res = post(app, "/v1/admin/api-keys/nope/revoke", &root, json!({})).await;
    assert_eq!(code_of(res).await, (404, "api-key-not-found".into()));

    // Every change is audited with the acting key's name.
    let events = audit_of(app, &root, "type=admin.api_key.revoked").await;
    assert_eq!(events.len(), 1, "revoking twice audits once");
    assert_eq!(events[0]["actor"], "api-key:root");
    assert_eq!(events[0]["details"]["api_key"], "service-desk");
    // The root key came from the command line (actor `cli`); the desk key from root.
    let events = audit_of(app, &root, "type=admin.api_key.created").await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["actor"], "cli");
    assert_eq!(events[1]["actor"], "api-key:root");
    assert_eq!(
        events[1]["details"],
        json!({"api_key": "service-desk", "scope": "998", "access": "read", "sees_clients": false})
    );
}

async fn read_only_keys_are_refused_on_every_change(app: &TestApp) {
    let reader = admin_key(app, "auditor", "all", "read");
    assert_eq!(get(app, "/v1/admin/accounts", &reader).await.status(), 200);
    assert_eq!(
        get(app, "/v1/admin/audit-events", &reader).await.status(),
        200
    );
    let changes: [(&str, Value); 8] = [
        (
            "/v1/admin/organisations",
            json!({"code": "241", "name": "Bolton", "internet_access_approval": "manual"}),
        ),
        (
            "/v1/admin/api-keys",
            json!({"name": "x", "scope": "all", "access": "write"}),
        ),
        ("/v1/admin/accounts/999JSMITH01/suspend", json!({})),
        (
            "/v1/admin/accounts/999JSMITH01/internet-access/revoke",
            json!({}),
        ),
        (
            "/v1/admin/accounts/999JSMITH01/send-recovery-email",
            json!({}),
        ),
        ("/v1/admin/accounts/999JSMITH01/unlock", json!({})),
        ("/v1/admin/people", json!({})),
        // Refused before the body is read: even a malformed body gets the 403.
        ("/v1/admin/outbox/x/retry", json!({})),
    ];
    for (path, body) in changes {
        let res = post(app, path, &reader, body).await;
        assert_eq!(
            code_of(res).await,
            (403, "api-key-read-only".into()),
            "{path}"
        );
    }
    let res = patch(
        app,
        "/v1/admin/organisations/999",
        &reader,
        json!({"name": "Renamed"}),
    )
    .await;
    assert_eq!(code_of(res).await, (403, "api-key-read-only".into()));
    // Nothing changed.
    let account = ok_json(get(app, "/v1/admin/accounts/999JSMITH01", &reader).await).await;
    assert_eq!(
        (
            account["status"].as_str(),
            account["internet_access"].as_str()
        ),
        (Some("active"), Some("approved"))
    );
    let org = ok_json(get(app, "/v1/admin/organisations/999", &reader).await).await;
    assert_eq!(org["name"], "Demo NHS Trust");
    assert_eq!(
        get(app, "/v1/admin/organisations/241", &reader)
            .await
            .status(),
        404
    );
    assert!(
        audit_of(app, &reader, "type=admin.account.suspended")
            .await
            .is_empty()
    );
}

async fn organisation_keys_see_only_their_organisation(app: &TestApp) {
    let root = admin_key(app, "root", "all", "write");
    let trust = admin_key(app, "trust-998", "998", "write");
    // Something of each organisation to find in the audit trail.
    app.login(JANE, "a wrong password").await;
    app.login("998JSMITH01", "a wrong password").await;
    let jane = ok_json(get(app, "/v1/admin/accounts/999JSMITH01", &root).await).await;

    // Another organisation's resources do not exist for this key: the same 404 as a
    // resource that does not exist at all.
    for (path, missing) in [
        (
            "/v1/admin/accounts/999JSMITH01".to_owned(),
            "/v1/admin/accounts/999NOBODY01".to_owned(),
        ),
        (
            "/v1/admin/organisations/999".to_owned(),
            "/v1/admin/organisations/777".to_owned(),
        ),
        (
            format!("/v1/admin/people/{}", jane["person_id"].as_str().unwrap()),
            format!("/v1/admin/people/{}", uuid::Uuid::new_v4()),
        ),
    ] {
        let (a, b) = (
            get(app, &path, &trust).await,
            get(app, &missing, &trust).await,
        );
        let (a, b) = (problem(a).await, problem(b).await);
        assert_eq!(
            (a["status"].clone(), a["code"].clone(), a["detail"].clone()),
            (b["status"].clone(), b["code"].clone(), b["detail"].clone()),
            "{path}"
        );
        assert_eq!(a["status"], 404);
    }
    for path in [
        "/v1/admin/accounts/999JSMITH01/unlock",
        "/v1/admin/accounts/999JSMITH01/suspend",
        "/v1/admin/accounts/999JSMITH01/internet-access/revoke",
        "/v1/admin/accounts/999JSMITH01/send-recovery-email",
    ] {
        let res = post(app, path, &trust, json!({})).await;
        assert_eq!(
            code_of(res).await,
            (404, "account-not-found".into()),
            "{path}"
        );
    }
    let res = patch(
        app,
        "/v1/admin/organisations/999",
        &trust,
        json!({"name": "Mine now"}),
    )
    .await;
    assert_eq!(code_of(res).await, (404, "organisation-not-found".into()));
    let res = patch(
        app,
        &format!("/v1/admin/people/{}", jane["person_id"].as_str().unwrap()),
        &trust,
        json!({"first_name": "Eve"}),
    )
    .await;
    assert_eq!(code_of(res).await, (404, "person-not-found".into()));
    let res = post(app, "/v1/admin/people", &trust, json!({
        "organisation_code": "999", "employee_number": "X1", "first_name": "Eve", "last_name": "Spy",
        "date_of_birth": "1990-01-01", "work_email": "eve@demo.example.org"})).await;
    assert_eq!(
        problem(res).await["violations"][0]["code"],
        "organisation-not-found"
    );

    // Lists hold only the key's organisation, whatever the filter asks.
    let accounts = ok_json(get(app, "/v1/admin/accounts", &trust).await).await;
    let orgs: Vec<&str> = accounts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["organisation_code"].as_str().unwrap())
        .collect();
    assert!(
        !orgs.is_empty() && orgs.iter().all(|o| *o == "998"),
        "{orgs:?}"
    );
    for path in [
        "/v1/admin/accounts?organisation=999",
        "/v1/admin/people?organisation=999",
        "/v1/admin/audit-events?account=999JSMITH01",
    ] {
        let body = ok_json(get(app, path, &trust).await).await;
        assert!(
            body["items"].as_array().unwrap().is_empty(),
            "{path}: {body}"
        );
    }
    let people = ok_json(get(app, "/v1/admin/people", &trust).await).await;
    assert!(
        people["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["organisation_code"] == "998")
    );
    let organisations = ok_json(get(app, "/v1/admin/organisations", &trust).await).await;
    assert_eq!(organisations["items"].as_array().unwrap().len(), 1);
    assert_eq!(organisations["items"][0]["code"], "998");
    let events = ok_json(get(app, "/v1/admin/audit-events?limit=100", &trust).await).await;
    let all = ok_json(get(app, "/v1/admin/audit-events?limit=100", &root).await).await;
    assert!(
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["account_id"] == jane["id"])
    );
    let events = events["items"].as_array().unwrap();
    assert!(!events.is_empty());
    assert!(
        events
            .iter()
            .all(|e| e["account_id"] != jane["id"] && !e["account_id"].is_null())
    );

    // The key's own organisation works, and service-wide operations are not for it.
    let oliver = ok_json(get(app, "/v1/admin/accounts/998obrown01", &trust).await).await;
    assert_eq!(oliver["username"], OLIVER);
    for path in ["/v1/admin/api-keys", "/v1/admin/outbox"] {
        assert_eq!(
            code_of(get(app, path, &trust).await).await,
            (403, "api-key-scope".into()),
            "{path}"
        );
    }
    let res = post(
        app,
        "/v1/admin/organisations",
        &trust,
        json!({"code": "241", "name": "Bolton", "internet_access_approval": "manual"}),
    )
    .await;
    assert_eq!(code_of(res).await, (403, "api-key-scope".into()));
}

async fn create_api_key_prints_a_working_key_once(app: &TestApp) {
    let out = esr_api(app)
        .args([
            "create-api-key",
            "--name",
            "hr-feed",
            "--scope",
            "all",
            "--access",
            "write",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(key.starts_with("esr_") && key.len() == 47, "{key}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("shown once"));
    let orgs = ok_json(get(app, "/v1/admin/organisations", &key).await).await;
    assert_eq!(orgs["items"].as_array().unwrap().len(), 2);
    // Stored as SHA-256 and prefix only.
    let dump = ok_json(get(app, "/v1/admin/api-keys", &key).await).await;
    assert_eq!(dump["items"][0]["prefix"], key[..12]);
    let mut conn = app.db();
    use diesel::prelude::*;
    let stored: Vec<(String, String)> = esr_persistence::schema::api_keys::table
        .select((
            esr_persistence::schema::api_keys::prefix,
            esr_persistence::schema::api_keys::key_hash,
        ))
        .load(&mut conn)
        .unwrap();
    assert_eq!(
        stored,
        [(key[..12].to_owned(), esr_domain::sha256_hex(key.as_bytes()))]
    );
    let events = audit_of(app, &key, "type=admin.api_key.created").await;
    assert_eq!(events[0]["actor"], "cli");

    // Refusals name the problem and create nothing.
    for args in [
        ["--name", "hr-feed", "--scope", "all", "--access", "write"],
        ["--name", "x y", "--scope", "all", "--access", "write"],
        ["--name", "other", "--scope", "777", "--access", "write"],
        ["--name", "other", "--scope", "all", "--access", "root"],
    ] {
        let out = esr_api(app)
            .arg("create-api-key")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
        assert!(out.stdout.is_empty());
    }
    assert_eq!(
        ok_json(get(app, "/v1/admin/api-keys", &key).await).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn admin_operations_are_documented_with_the_api_key_scheme() {
    let doc: Value = serde_json::from_str(&esr_api::openapi::document_json()).unwrap();
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/admin/") {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            count += 1;
            assert_eq!(op["tags"], json!(["admin"]), "{method} {path}");
            assert_eq!(op["security"], json!([{"apiKey": []}]), "{method} {path}");
            let responses = op["responses"].as_object().unwrap();
            for code in ["401", "503"] {
                assert!(
                    responses.contains_key(code),
                    "{method} {path} documents {code}"
                );
            }
            let forbidden = serde_json::to_string(&responses.get("403")).unwrap();
            if method != "get" {
                assert!(
                    forbidden.contains("api-key-read-only"),
                    "{method} {path} documents a read-only key's 403"
                );
            }
            let service_wide = (path.starts_with("/v1/admin/api-keys")
                && path != "/v1/admin/api-keys/current")
                || path.starts_with("/v1/admin/outbox")
                || (path == "/v1/admin/organisations" && method == "post");
            assert_eq!(
                forbidden.contains("api-key-scope"),
                service_wide,
                "{method} {path} documents an organisation-scoped key's 403 exactly when it is refused"
            );
            if path.contains('{') {
                assert!(
                    responses.contains_key("404"),
                    "{method} {path} documents 404"
                );
            }
            if op["requestBody"]["content"]["application/json"].is_object() {
                let body = &op["requestBody"]["content"]["application/json"]["schema"]["$ref"];
                let name = body.as_str().unwrap().rsplit('/').next().unwrap();
                assert!(
                    doc["components"]["schemas"][name]["example"].is_object(),
                    "{method} {path}: request example"
                );
            }
        }
    }
    assert!(count >= 23, "{count} admin operations");
}
