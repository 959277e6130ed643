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
