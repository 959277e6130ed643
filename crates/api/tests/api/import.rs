//! The people import: `esr-api import FILE` and `esr-api generate-people` (the HTTP endpoint's
//! tests are below them), on both backends.

use std::process::Command;

use diesel::prelude::*;
use esr_domain::OrganisationCode;
use esr_persistence::people;

use crate::helpers::{TestApp, TestBackend, spawn_app};

const HEADER: &str = "organisation_code,employee_number,first_name,last_name,date_of_birth,work_email,smartcard_subject\n";

/// A feed with one of every bad-line case between valid ones. Line numbers in comments.
pub fn mixed_feed() -> Vec<u8> {
    let mut f = HEADER.as_bytes().to_vec();
    let mut line = |s: &[u8]| {
        f.extend_from_slice(s);
        f.push(b'\n');
    };
    line(b"999,30000001,Ann,Able,1980-01-02,Ann.Able@Demo.Example.ORG,777000000001"); // 2 created
    line(b"999,30000002,Bob,Bad,1980-13-40,bob.bad@demo.example.org,"); // 3 bad date
    line(b"999,30000003,Cy,Bad,1980-01-02,not-an-email,"); // 4 bad email
    line(b"999,30000001,Ann,Again,1980-01-02,ann.again@demo.example.org,"); // 5 duplicate of 2
    line(b"123,30000004,Dee,Unknown,1980-01-02,dee@demo.example.org,"); // 6 unknown organisation
    line(b"999,30000005,\xff\xfeJo,Latin,1980-01-02,jo@demo.example.org,"); // 7 not UTF-8
    let huge = format!(
        "999,30000006,Huge,{},1980-01-02,huge@demo.example.org,",
        "x".repeat(5000)
    );
    line(huge.as_bytes()); // 8 longer than 4 KiB
    line(b"999,30000007,\"Eve, Jr\",Fine,1990-05-06,eve.fine@demo.example.org,"); // 9 created
    line(b"999,30000008,Sub,Taken,1980-01-02,sub@demo.example.org,555000000001"); // 10 Jane's smartcard
    line(b"999,30000009,Few,Fields"); // 11 wrong field count
    line(b"999,30000010,Two,Errors,1980-02-30,also bad,"); // 12 bad date and email
    line(b"999,30000011,Carol,Subject,1970-07-07,carol@demo.example.org,777000000001"); // 13 subject of line 2
    f
}

/// The line errors `mixed_feed` must produce, as (line, field, code).
pub fn mixed_feed_errors() -> Vec<(u64, Option<&'static str>, &'static str)> {
    vec![
        (3, Some("date_of_birth"), "invalid-date-of-birth"),
        (4, Some("work_email"), "invalid-email"),
        (5, Some("employee_number"), "duplicate-employee-number"),
        (6, Some("organisation_code"), "unknown-organisation"),
        (7, Some("first_name"), "invalid-utf8"),
        (8, None, "line-too-long"),
        (10, Some("smartcard_subject"), "smartcard-subject-taken"),
        (11, None, "wrong-field-count"),
        (12, Some("date_of_birth"), "invalid-date-of-birth"),
        (12, Some("work_email"), "invalid-email"),
        (13, Some("smartcard_subject"), "duplicate-smartcard-subject"),
    ]
}

/// Checks a report (CLI `--json` or HTTP body) of the first import of `mixed_feed`.
pub fn assert_mixed_report(report: &serde_json::Value, created: u64, unchanged: u64) {
    assert_eq!(report["created"], created, "{report}");
    assert_eq!(report["updated"], 0, "{report}");
    assert_eq!(report["unchanged"], unchanged, "{report}");
    assert_eq!(report["rejected"], 10, "{report}");
    assert_eq!(report["truncated"], false, "{report}");
    let got: Vec<(u64, Option<&str>, &str)> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
            (
                e["line"].as_u64().unwrap(),
                e["field"].as_str(),
                e["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, mixed_feed_errors(), "{report}");
    let duplicate = &report["errors"][2]["message"];
    assert!(
        duplicate.as_str().unwrap().contains("line 2"),
        "{duplicate}"
    );
}

/// Nothing of a refused line is stored; the valid ones are, normalised.
pub fn assert_mixed_stored(app: &TestApp) {
    let mut conn = app.db();
    let org = OrganisationCode::parse("999").unwrap();
    let ann = people::find_by_employee_number(&mut conn, &org, "30000001")
        .unwrap()
        .expect("line 2 stored");
    assert_eq!(
        (ann.first_name.as_str(), ann.last_name.as_str()),
        ("Ann", "Able")
    );
    assert_eq!(ann.work_email, "ann.able@demo.example.org");
    assert_eq!(ann.smartcard_subject.as_deref(), Some("777000000001"));
    let eve = people::find_by_employee_number(&mut conn, &org, "30000007")
        .unwrap()
        .expect("line 9 stored");
    assert_eq!(eve.first_name, "Eve, Jr");
    assert_eq!(eve.smartcard_subject, None);
    for refused in [
        "30000002", "30000003", "30000005", "30000006", "30000008", "30000009", "30000010",
        "30000011",
    ] {
        assert!(
            people::find_by_employee_number(&mut conn, &org, refused)
                .unwrap()
                .is_none(),
            "{refused} must not be stored"
        );
    }
    let unknown = OrganisationCode::parse("123").unwrap();
    assert!(
        people::find_by_employee_number(&mut conn, &unknown, "30000004")
            .unwrap()
            .is_none()
    );
    // Jane Smith keeps her smartcard.
    let jane = people::find_by_employee_number(&mut conn, &org, "100001")
        .unwrap()
        .unwrap();
    assert_eq!(jane.smartcard_subject.as_deref(), Some("555000000001"));
}

pub fn people_count(app: &TestApp) -> i64 {
    use esr_persistence::schema::people::dsl;
    let mut conn = app.db();
    dsl::people.count().get_result(&mut conn).unwrap()
}

fn esr_api(app: &TestApp) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_esr-api"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ESR_") {
            cmd.env_remove(key);
        }
    }
    let url = app.settings_database_url();
    cmd.env("ESR_DATABASE_URL", url).env("ESR_LOG", "warn");
    cmd
}

struct CliRun {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn import_file(app: &TestApp, contents: &[u8], extra: &[&str]) -> CliRun {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.csv");
    std::fs::write(&path, contents).unwrap();
    let out = esr_api(app)
        .arg("import")
        .arg(&path)
        .args(extra)
        .output()
        .unwrap();
    CliRun {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn json(run: &CliRun) -> serde_json::Value {
    serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr))
}

async fn cli_reports_every_bad_line_and_stores_only_good_ones(backend: TestBackend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let before = people_count(&app);

    // Text mode: the totals, and each refused line on standard error.
    let run = import_file(&app, &mixed_feed(), &[]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(
        run.stdout
            .contains("2 created, 0 updated, 0 unchanged, 10 rejected"),
        "{}",
        run.stdout
    );
    for (line, field, code) in mixed_feed_errors() {
        let wanted = format!("line {line}: {} [{code}]", field.unwrap_or("-"));
        assert!(run.stderr.contains(&wanted), "{wanted} in:\n{}", run.stderr);
    }
    assert_eq!(people_count(&app), before + 2);
    assert_mixed_stored(&app);

    // The same file again: nothing changes.
    let again = json(&import_file(&app, &mixed_feed(), &["--json"]));
    assert_mixed_report(&again, 0, 2);
    assert_eq!(people_count(&app), before + 2);
    app.stop().await;
}

#[tokio::test]
async fn cli_reports_every_bad_line_and_stores_only_good_ones_sqlite() {
    cli_reports_every_bad_line_and_stores_only_good_ones(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn cli_reports_every_bad_line_and_stores_only_good_ones_postgres() {
    cli_reports_every_bad_line_and_stores_only_good_ones(TestBackend::Postgres).await;
}

async fn cli_update_changes_only_changed_rows_and_keeps_ids(backend: TestBackend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let org = OrganisationCode::parse("999").unwrap();
    let jane_before = people::find_by_employee_number(&mut app.db(), &org, "100001")
        .unwrap()
        .unwrap();

    // Small batches so the file spans several transactions.
    let mut feed = HEADER.to_owned();
    for i in 1..=25 {
        feed.push_str(&format!(
            "999,4000{i:04},First{i},Last,1981-03-04,p{i}@demo.example.org,\n"
        ));
    }
    let first = json(&import_file(
        &app,
        feed.as_bytes(),
        &["--json", "--batch-rows", "7"],
    ));
    assert_eq!(
        (&first["created"], &first["updated"], &first["unchanged"]),
        (&25.into(), &0.into(), &0.into()),
        "{first}"
    );
    let p7_before = people::find_by_employee_number(&mut app.db(), &org, "40000007")
        .unwrap()
        .unwrap();

    // Line 8 (employee 40000007) changes its email, and Jane Smith her surname; the
    // duplicate of 40000003 sits in a later batch than its first occurrence.
    let mut changed = feed.replace("p7@demo.example.org", "p7.new@demo.example.org");
    changed.push_str(
        "999,100001,Jane,Smith-Jones,1985-04-12,jane.smith@demo.example.org,555000000001\n",
    );
    changed.push_str("999,40000003,Dup,Later,1981-03-04,dup@demo.example.org,\n");
    let second = json(&import_file(
        &app,
        changed.as_bytes(),
        &["--json", "--batch-rows", "7"],
    ));
    assert_eq!(
        (
            &second["created"],
            &second["updated"],
            &second["unchanged"],
            &second["rejected"]
        ),
        (&0.into(), &2.into(), &24.into(), &1.into()),
        "{second}"
    );
    assert_eq!(second["errors"][0]["line"], 28, "{second}");
    assert_eq!(second["errors"][0]["code"], "duplicate-employee-number");
    assert!(
        second["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("line 4")
    );

    let mut conn = app.db();
    let p7 = people::find_by_employee_number(&mut conn, &org, "40000007")
        .unwrap()
        .unwrap();
    assert_eq!(p7.id, p7_before.id, "an update keeps the person's id");
    assert_eq!(p7.work_email, "p7.new@demo.example.org");
    assert!(p7.updated_at >= p7_before.updated_at);
    assert_eq!(p7.created_at, p7_before.created_at);
    let p6 = people::find_by_employee_number(&mut conn, &org, "40000006")
        .unwrap()
        .unwrap();
    assert_eq!(
        p6.updated_at, p6.created_at,
        "unchanged rows are not written"
    );
    let jane = people::find_by_employee_number(&mut conn, &org, "100001")
        .unwrap()
        .unwrap();
    assert_eq!(jane.id, jane_before.id);
    assert_eq!(jane.last_name, "Smith-Jones");
    assert_eq!(jane.language, jane_before.language);
    drop(conn);
    // Her account (and so her username and password) is untouched.
    app.tokens("999JSMITH01", "Bluebell harbour lantern").await;
    app.stop().await;
}

#[tokio::test]
async fn cli_update_changes_only_changed_rows_and_keeps_ids_sqlite() {
    cli_update_changes_only_changed_rows_and_keeps_ids(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn cli_update_changes_only_changed_rows_and_keeps_ids_postgres() {
    cli_update_changes_only_changed_rows_and_keeps_ids(TestBackend::Postgres).await;
}

#[tokio::test]
async fn cli_refuses_a_wrong_header_or_an_empty_file_and_writes_nothing() {
    let Some(app) = spawn_app(TestBackend::Sqlite).await else {
        return;
    };
    let before = people_count(&app);
    let swapped = mixed_feed()
        .strip_prefix(HEADER.as_bytes())
        .map(|rest| {
            let mut f =
                b"organisation_code,employee_number,last_name,first_name,date_of_birth,work_email,smartcard_subject\n"
                    .to_vec();
            f.extend_from_slice(rest);
            f
        })
        .unwrap();
    let run = import_file(&app, &swapped, &[]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("the first line must be the header"),
        "{}",
        run.stderr
    );
    let run = import_file(&app, b"", &[]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("the file is empty"), "{}", run.stderr);
    // A header alone is a valid, empty feed; so is a header with a byte order mark.
    let run = import_file(&app, format!("\u{feff}{HEADER}").as_bytes(), &["--json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(json(&run)["created"], 0);
    assert_eq!(people_count(&app), before);
    app.stop().await;
}

#[tokio::test]
async fn generated_people_import_cleanly_and_deterministically() {
    let Some(app) = spawn_app(TestBackend::Sqlite).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let generate = |name: &str, seed: &str| {
        let path = dir.path().join(name);
        let out = esr_api(&app)
            .args(["generate-people", "--count", "1200", "--org", "998"])
            .args(["--seed", seed, "-o"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read(path).unwrap()
    };
    let a = generate("a.csv", "5");
    assert_eq!(a, generate("b.csv", "5"), "same seed, same file");
    assert_ne!(a, generate("c.csv", "6"));
    let report = json(&import_file(&app, &a, &["--json", "--batch-rows", "500"]));
    assert_eq!(report["created"], 1200, "{report}");
    assert_eq!(report["rejected"], 0, "{report}");
    assert!(report["elapsed_ms"].is_u64() && report["rows_per_second"].is_number());
    let report = json(&import_file(&app, &a, &["--json"]));
    assert_eq!(report["unchanged"], 1200, "{report}");
    app.stop().await;
}

// ---- POST /v1/admin/people/import ----

async fn post_csv(app: &TestApp, key: Option<&str>, body: Vec<u8>) -> reqwest::Response {
    let mut req = app
        .client
        .post(format!("{}/v1/admin/people/import", app.address))
        .header("content-type", "text/csv")
        .body(body);
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    req.send().await.expect("request sent")
}

async fn http_import_reports_every_bad_line_and_is_idempotent(backend: TestBackend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = crate::admin::admin_key(&app, "hr-feed", "all", "write");
    let before = people_count(&app);
    let res = post_csv(&app, Some(&key), mixed_feed()).await;
    assert_eq!(res.status(), 200);
    let report: serde_json::Value = res.json().await.unwrap();
    assert_mixed_report(&report, 2, 0);
    assert_mixed_stored(&app);
    assert_eq!(people_count(&app), before + 2);

    let res = post_csv(&app, Some(&key), mixed_feed()).await;
    assert_eq!(res.status(), 200);
    let again: serde_json::Value = res.json().await.unwrap();
    assert_mixed_report(&again, 0, 2);
    assert_eq!(people_count(&app), before + 2);

    // Audited with the key's name and the totals only.
    let events = esr_persistence::audit::recent(&mut app.db(), None, 50).expect("audit events");
    let imports: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == "people.imported")
        .collect();
    assert_eq!(imports.len(), 2);
    assert_eq!(imports[0].actor, "api-key:hr-feed");
    assert!(
        !imports[0].details.contains("ann"),
        "{}",
        imports[0].details
    );
    app.stop().await;
}

#[tokio::test]
async fn http_import_reports_every_bad_line_and_is_idempotent_sqlite() {
    http_import_reports_every_bad_line_and_is_idempotent(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn http_import_reports_every_bad_line_and_is_idempotent_postgres() {
    http_import_reports_every_bad_line_and_is_idempotent(TestBackend::Postgres).await;
}

async fn http_import_refusals_leave_data_untouched(backend: TestBackend) {
    let Some(app) = crate::helpers::spawn_app_with(backend, |c| c.import_body_limit = 4_096).await
    else {
        return;
    };
    let write = crate::admin::admin_key(&app, "hr-feed", "all", "write");
    let read = crate::admin::admin_key(&app, "auditor", "all", "read");
    let small =
        format!("{HEADER}999,30000001,Ann,Able,1980-01-02,ann@demo.example.org,\n").into_bytes();
    let before = people_count(&app);

    let p = crate::helpers::problem(post_csv(&app, None, small.clone()).await).await;
    assert_eq!(p["status"], 401, "{p}");
    let p = crate::helpers::problem(post_csv(&app, Some(&read), small.clone()).await).await;
    assert_eq!(p["status"], 403, "{p}");

    let res = app
        .client
        .post(format!("{}/v1/admin/people/import", app.address))
        .bearer_auth(&write)
        .header("content-type", "application/json")
        .body(small.clone())
        .send()
        .await
        .unwrap();
    let p = crate::helpers::problem(res).await;
    assert_eq!(
        (p["status"].as_u64(), p["code"].as_str()),
        (Some(415), Some("unsupported-media-type"))
    );

    let wrong_header = String::from_utf8(small.clone())
        .unwrap()
        .replace("first_name,last_name", "last_name,first_name");
    let p = crate::helpers::problem(post_csv(&app, Some(&write), wrong_header.into_bytes()).await)
        .await;
    assert_eq!(
        (p["status"].as_u64(), p["code"].as_str()),
        (Some(400), Some("invalid-import-header")),
        "{p}"
    );

    let p = crate::helpers::problem(post_csv(&app, Some(&write), Vec::new()).await).await;
    assert_eq!(
        (p["status"].as_u64(), p["code"].as_str()),
        (Some(400), Some("empty-import")),
        "{p}"
    );

    // Over the (here 4 KiB) body limit, announced by Content-Length: nothing is read.
    let p = crate::helpers::problem(post_csv(&app, Some(&write), mixed_feed()).await).await;
    assert_eq!(
        (p["status"].as_u64(), p["code"].as_str()),
        (Some(413), Some("payload-too-large")),
        "{p}"
    );

    assert_eq!(people_count(&app), before);
    app.stop().await;
}

#[tokio::test]
async fn http_import_refusals_leave_data_untouched_sqlite() {
    http_import_refusals_leave_data_untouched(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn http_import_refusals_leave_data_untouched_postgres() {
    http_import_refusals_leave_data_untouched(TestBackend::Postgres).await;
}

async fn organisation_key_imports_only_its_organisation(backend: TestBackend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = crate::admin::admin_key(&app, "trust-998", "998", "write");
    let body = format!(
        "{HEADER}999,30000001,Ann,Able,1980-01-02,ann@demo.example.org,\n998,30000002,Bea,Bold,1981-02-03,bea@demo.example.org,\n"
    );
    let res = post_csv(&app, Some(&key), body.into_bytes()).await;
    assert_eq!(res.status(), 200);
    let report: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        (report["created"].as_u64(), report["rejected"].as_u64()),
        (Some(1), Some(1)),
        "{report}"
    );
    assert_eq!(report["errors"][0]["line"], 2);
    assert_eq!(report["errors"][0]["code"], "unknown-organisation");
    assert_eq!(
        report["errors"][0]["message"],
        "There is no organisation 999"
    );
    let mut conn = app.db();
    let org999 = OrganisationCode::parse("999").unwrap();
    let org998 = OrganisationCode::parse("998").unwrap();
    assert!(
        people::find_by_employee_number(&mut conn, &org999, "30000001")
            .unwrap()
            .is_none()
    );
    assert!(
        people::find_by_employee_number(&mut conn, &org998, "30000002")
            .unwrap()
            .is_some()
    );
    drop(conn);
    app.stop().await;
}

#[tokio::test]
async fn organisation_key_imports_only_its_organisation_sqlite() {
    organisation_key_imports_only_its_organisation(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn organisation_key_imports_only_its_organisation_postgres() {
    organisation_key_imports_only_its_organisation(TestBackend::Postgres).await;
}

/// RFC 4180 end to end: a quoted field may hold a comma, a doubled quote or a line break. A
/// line break makes the record span two lines: it is one record (refused once, for its name,
/// at the line it starts on), and the lines after it keep their numbers.
async fn quoted_line_breaks_make_one_record_named_by_its_first_line(backend: TestBackend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = crate::admin::admin_key(&app, "hr-feed", "all", "write");
    let feed = "organisation_code,employee_number,first_name,last_name,date_of_birth,work_email,smartcard_subject\n\
        999,700001,\"Ann, Marie\",\"O\"\"Neill\",1990-01-01,ann.oneill@example.org,\n\
        999,700002,\"Bea\ntrice\",Lee,1990-01-02,bea.lee@example.org,\n\
        999,700003,Cal,Ray,1990-01-03,cal.ray@example.org,\n";
    let res = post_csv(&app, Some(&key), feed.as_bytes().to_vec()).await;
    assert_eq!(res.status(), 200);
    let report: serde_json::Value = res.json().await.unwrap();
    assert_eq!(report["created"], 2, "{report}");
    assert_eq!(report["rejected"], 1, "{report}");
    assert_eq!(
        report["errors"],
        serde_json::json!([{"line": 3, "field": "first_name", "code": "invalid-name",
            "message": "Name must not contain tabs, line breaks, or invisible or text-direction characters"}]),
        "{report}"
    );
    let filter = people::PersonFilter {
        employee_number: Some("700001".into()),
        ..Default::default()
    };
    let people = people::list(&mut app.db(), &filter, None, 10).unwrap();
    assert!(
        people
            .items
            .iter()
            .any(|p| p.first_name == "Ann, Marie" && p.last_name == "O\"Neill"),
        "quoted comma and doubled quote kept"
    );
    app.stop().await;
}

crate::both_backends_owned!(quoted_line_breaks_make_one_record_named_by_its_first_line);

/// A CSV body that stops arriving (a stalled or trickling client) is given up after
/// `ESR_BODY_TIMEOUT_SECS` of silence with `408 request-timeout`.
#[tokio::test]
async fn a_stalled_import_body_is_given_up_with_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(app) = crate::helpers::spawn_app_with(TestBackend::Sqlite, |c| {
        c.body_timeout = std::time::Duration::from_secs(1);
    })
    .await
    else {
        return;
    };
    let key = crate::admin::admin_key(&app, "hr-feed", "all", "write");
    let header = "organisation_code,employee_number,first_name,last_name,date_of_birth,work_email,smartcard_subject\n";
    let mut stream = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    let request = format!(
        "POST /v1/admin/people/import HTTP/1.1\r\nHost: esr\r\nAuthorization: Bearer {key}\r\nContent-Type: text/csv\r\nContent-Length: 100000\r\n\r\n{header}"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("answered while the client is silent")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request-timeout"), "{answer}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "not waited out"
    );
    app.stop().await;
}
