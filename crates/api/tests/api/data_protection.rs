//! The data-protection inventory (docs/DATA-PROTECTION.md) names every table and column of a
//! freshly migrated database: a migration that adds personal data cannot go unrecorded.

use diesel::RunQueryDsl;
use diesel::sql_types::Text;

use crate::helpers::{TestBackend, spawn_app};

#[derive(diesel::QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

/// The text of the inventory's section about `table` (from its `### table` heading to the next).
fn section<'a>(inventory: &'a str, table: &str) -> Option<&'a str> {
    let heading = format!("\n### {table}\n");
    let start = inventory.find(&heading)? + heading.len();
    let end = inventory[start..]
        .find("\n### ")
        .or_else(|| inventory[start..].find("\n## "))
        .map_or(inventory.len(), |e| start + e);
    Some(&inventory[start..end])
}

#[tokio::test]
async fn every_column_is_in_the_inventory() {
    let app = spawn_app(TestBackend::Sqlite).await.unwrap();
    let mut conn = app.db();
    let esr_persistence::DbConnection::Sqlite(sqlite) = &mut conn else {
        panic!("the SQLite app has a SQLite database");
    };
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT m.name AS table_name, p.name AS column_name \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
         AND m.name != '__diesel_schema_migrations' ORDER BY m.name, p.cid",
    )
    .load(sqlite)
    .unwrap();
    assert!(columns.len() > 100, "{} columns read", columns.len());
    let inventory = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/DATA-PROTECTION.md"),
    )
    .unwrap();
    let mut missing = Vec::new();
    for Column {
        table_name,
        column_name,
    } in &columns
    {
        match section(&inventory, table_name) {
            None => missing.push(format!("table {table_name}")),
            Some(text) if !text.contains(&format!("`{column_name}`")) => {
                missing.push(format!("{table_name}.{column_name}"));
            }
            Some(_) => {}
        }
    }
    missing.dedup();
    assert!(
        missing.is_empty(),
        "docs/DATA-PROTECTION.md does not name: {}",
        missing.join(", ")
    );
    app.stop().await;
}

crate::both_backends!(read_only_keys_see_no_date_of_birth_card_identity_or_client);

/// A read-only key (a service desk) sees whether a smartcard is linked, never the card's
/// identity or a date of birth (what the recovery form asks for), and no IP or user agent in
/// the audit trail. A read-write key (the HR feed that supplies them) sees all of it.
async fn read_only_keys_see_no_date_of_birth_card_identity_or_client(
    app: &crate::helpers::TestApp,
) {
    use serde_json::Value;
    let desk = crate::admin::admin_key(app, "service-desk", "999", "read");
    let feed = crate::admin::admin_key(app, "hr-feed", "all", "write");
    // An audit event with a client behind it.
    assert_eq!(
        app.login("999JSMITH01", "not her password").await.status(),
        401
    );
    let get = |path: String, key: String| async move {
        let res = app.get_auth(&path, &key).await;
        assert_eq!(res.status(), 200, "{path}");
        res.json::<Value>().await.unwrap()
    };
    let jane = "/v1/admin/people?organisation=999&email=jane.smith@demo.nhs.uk";
    let seen = get(jane.into(), desk.clone()).await;
    let person = &seen["items"][0];
    assert_eq!(person["employee_number"], "100001", "{seen}");
    assert_eq!(person["date_of_birth"], Value::Null);
    assert_eq!(person["smartcard_subject"], Value::Null);
    assert_eq!(person["smartcard_linked"], true);
    assert!(!seen.to_string().contains("1985-04-12"), "{seen}");
    let id = person["id"].as_str().unwrap().to_owned();
    let one = get(format!("/v1/admin/people/{id}"), desk.clone()).await;
    assert_eq!(one["date_of_birth"], Value::Null);
    assert_eq!(one["smartcard_subject"], Value::Null);

    let full = get(format!("/v1/admin/people/{id}"), feed.clone()).await;
    assert_eq!(full["date_of_birth"], "1985-04-12");
    assert!(full["smartcard_subject"].is_string(), "{full}");
    assert_eq!(full["smartcard_linked"], true);

    let audit = "/v1/admin/audit-events?type=login.failed".to_owned();
    let by_desk = get(audit.clone(), desk).await;
    let event = &by_desk["items"][0];
    assert_eq!(event["event_type"], "login.failed", "{by_desk}");
    assert_eq!(event["ip"], Value::Null);
    assert_eq!(event["user_agent"], Value::Null);
    let by_feed = get(audit, feed).await;
    assert!(by_feed["items"][0]["ip"].is_string(), "{by_feed}");
}
