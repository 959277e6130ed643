//! People import figures: 2,000,000 synthetic people into SQLite and PostgreSQL.
//!
//! Run: `cargo bench -p esr-api --bench import` (release profile). Not a test: it prints
//! figures and a Markdown table for `docs/BENCHMARKS.md`, asserting nothing about time.
//!
//! 1. `esr-api generate-people` writes 200,000 and 2,000,000 rows (organisation 999).
//! 2. For each backend and size: a fresh database, `esr-api seed-demo` (creates 999), then
//!    `esr-api import FILE --json` as its own process, which reports its rows/s and its peak
//!    RSS (`VmHWM`), so 200k vs 2M shows whether memory is flat. The 2M file is then imported
//!    a second time (every row unchanged).
//! 3. PostgreSQL only, in the same database and run: a raw `COPY … FROM STDIN (FORMAT csv)` of
//!    the same 2M file into a plain table with the same columns and no constraints or
//!    indexes, and into a table shaped exactly like `people` (keys, indexes, foreign key,
//!    time-ordered ids), for the ratios import rows/s ÷ COPY rows/s.
//!
//! PostgreSQL runs when `ESR_BENCH_DATABASE_URL` (or `ESR_TEST_DATABASE_URL`) names a server
//! the bench may create and drop databases on (`esr_bench_import_…`, one per file size). Knobs: `ESR_BENCH_ROWS`
//! (2000000), `ESR_BENCH_SMALL_ROWS` (200000), `ESR_BENCH_DIR` (a temporary directory),
//! `ESR_BENCH_BACKENDS` (`sqlite,postgres`).

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::prelude::ExecuteCopyFromDsl;
use esr_test_support::scratch_pg::ScratchPg;

const ESR_API: &str = env!("CARGO_BIN_EXE_esr-api");

diesel::table! {
    /// The second baseline: the same columns with `people`'s keys and indexes.
    people_copy_indexed (employee_number) {
        organisation_code -> Text,
        employee_number -> Text,
        first_name -> Text,
        last_name -> Text,
        date_of_birth -> Date,
        work_email -> Text,
        smartcard_subject -> Nullable<Text>,
    }
}

diesel::table! {
    /// The raw-COPY baseline: the feed's columns, no constraints, no indexes.
    people_copy (employee_number) {
        organisation_code -> Text,
        employee_number -> Text,
        first_name -> Text,
        last_name -> Text,
        date_of_birth -> Date,
        work_email -> Text,
        smartcard_subject -> Nullable<Text>,
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn esr_api(database_url: &str) -> Command {
    let mut cmd = Command::new(ESR_API);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ESR_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("ESR_DATABASE_URL", database_url)
        .env("ESR_LOG", "warn");
    cmd
}

fn run(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().context("run esr-api")?;
    if !out.status.success() {
        bail!(
            "{:?} failed ({}): {}",
            cmd,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// One `esr-api import --json` run.
#[derive(Debug, Clone)]
struct ImportRun {
    rows: u64,
    created: u64,
    unchanged: u64,
    rejected: u64,
    seconds: f64,
    rows_per_second: f64,
    peak_rss_mib: f64,
}

fn import(database_url: &str, file: &Path) -> Result<ImportRun> {
    let out = run(esr_api(database_url).arg("import").arg(file).arg("--json"))?;
    let v: serde_json::Value = serde_json::from_str(out.trim())?;
    let n = |k: &str| v[k].as_u64().unwrap_or(0);
    let rows = n("created") + n("updated") + n("unchanged") + n("rejected");
    let seconds = n("elapsed_ms") as f64 / 1000.0;
    Ok(ImportRun {
        rows,
        created: n("created"),
        unchanged: n("unchanged"),
        rejected: n("rejected"),
        seconds,
        rows_per_second: rows as f64 / seconds.max(1e-9),
        peak_rss_mib: n("peak_rss_kib") as f64 / 1024.0,
    })
}

/// The body of a `COPY … FROM STDIN`: the whole file at `path`.
fn feed(path: &Path) -> impl Fn(&mut dyn Write) -> diesel::QueryResult<()> + '_ {
    move |w| {
        let mut f = std::fs::File::open(path)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        std::io::copy(&mut f, w)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        Ok(())
    }
}

fn report(label: &str, r: &ImportRun) {
    println!(
        "{label:<34} {:>9} rows  {:>7.1} s  {:>9.0} rows/s  peak RSS {:>6.1} MiB  (created {}, unchanged {}, rejected {})",
        r.rows, r.seconds, r.rows_per_second, r.peak_rss_mib, r.created, r.unchanged, r.rejected
    );
}

fn main() -> Result<()> {
    let rows = env_u64("ESR_BENCH_ROWS", 2_000_000);
    let small_rows = env_u64("ESR_BENCH_SMALL_ROWS", 200_000);
    let backends = std::env::var("ESR_BENCH_BACKENDS").unwrap_or("sqlite,postgres".into());
    let tmp = tempfile::tempdir()?;
    let dir = std::env::var("ESR_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| tmp.path().to_owned());
    std::fs::create_dir_all(&dir)?;

    let big = dir.join(format!("people-{rows}.csv"));
    let small = dir.join(format!("people-{small_rows}.csv"));
    for (count, path) in [(rows, &big), (small_rows, &small)] {
        let started = Instant::now();
        run(Command::new(ESR_API)
            .args(["generate-people", "--org", "999", "--seed", "1", "--count"])
            .arg(count.to_string())
            .arg("-o")
            .arg(path))?;
        println!(
            "generated {count} rows ({:.0} MiB) in {:.1} s",
            std::fs::metadata(path)?.len() as f64 / (1024.0 * 1024.0),
            started.elapsed().as_secs_f64()
        );
    }
    let mut table = Vec::new();

    if backends.contains("sqlite") {
        for (label, path) in [("small", &small), ("big", &big)] {
            let db = dir.join(format!("bench-{label}.db"));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
            let url = format!("sqlite://{}", db.display());
            run(esr_api(&url).arg("seed-demo"))?;
            let first = import(&url, path)?;
            report(&format!("SQLite import {label}"), &first);
            table.push(("SQLite", first.clone(), "first import"));
            if label == "big" {
                let again = import(&url, path)?;
                report("SQLite re-import big (unchanged)", &again);
                table.push(("SQLite", again, "same file again"));
            }
        }
    }

    let pg_admin = std::env::var("ESR_BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("ESR_TEST_DATABASE_URL"))
        .ok();
    let mut copy_ratio = None;
    let mut indexed_copy = None;
    match (backends.contains("postgres"), pg_admin) {
        (true, Some(admin_url)) => {
            let mut big_import = None;
            for (label, path) in [("small", &small), ("big", &big)] {
                // A fresh database for each size, dropped when `db` goes.
                let db = ScratchPg::on_server(&admin_url, "esr_bench_import")
                    .map_err(anyhow::Error::msg)?;
                run(esr_api(&db.url).arg("seed-demo"))?;
                let first = import(&db.url, path)?;
                report(&format!("PostgreSQL import {label}"), &first);
                table.push(("PostgreSQL", first.clone(), "first import"));
                if label == "big" {
                    let again = import(&db.url, path)?;
                    report("PostgreSQL re-import big (unchanged)", &again);
                    table.push(("PostgreSQL", again, "same file again"));
                    big_import = Some((first, db));
                }
            }
            let (first, db) = big_import.context("the big file was imported")?;
            // Raw COPY of the same file, same database, same run.
            let mut conn = diesel::PgConnection::establish(&db.url)?;
            conn.batch_execute(
                "CREATE TABLE people_copy (
                    organisation_code TEXT NOT NULL, employee_number TEXT NOT NULL,
                    first_name TEXT NOT NULL, last_name TEXT NOT NULL, date_of_birth DATE NOT NULL,
                    work_email TEXT NOT NULL, smartcard_subject TEXT)",
            )?;
            let started = Instant::now();
            let copied = diesel::copy_from(people_copy::table)
                .from_raw_data(people_copy::table, feed(&big))
                .with_format(diesel::pg::CopyFormat::Csv)
                .with_header(diesel::pg::CopyHeader::Set(true))
                .execute(&mut conn)?;
            let secs = started.elapsed().as_secs_f64();
            let copy_rate = copied as f64 / secs;
            println!(
                "PostgreSQL raw COPY big            {copied:>9} rows  {secs:>7.1} s  {copy_rate:>9.0} rows/s"
            );
            // The same COPY into a table shaped exactly like `people` (its columns, defaults,
            // checks, keys and indexes, copied by `LIKE … INCLUDING ALL`, and its foreign key)
            // with time-ordered ids as the import makes: the floor any load into `people` pays,
            // since every row must enter four B-trees and pass the foreign-key check.
            conn.batch_execute(
                "CREATE TABLE people_copy_indexed (LIKE people INCLUDING ALL);
                 ALTER TABLE people_copy_indexed
                     ADD FOREIGN KEY (organisation_code) REFERENCES organisations (code),
                     ALTER COLUMN created_at SET DEFAULT now(),
                     ALTER COLUMN updated_at SET DEFAULT now(),
                     -- UUID version 7 layout: 48 bits of Unix milliseconds, then random bits.
                     ALTER COLUMN id SET DEFAULT encode(overlay(uuid_send(gen_random_uuid())
                         PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp())
                             * 1000)::bigint) FROM 3) FROM 1 FOR 6), 'hex')::uuid::text;",
            )?;
            let started = Instant::now();
            let copied_indexed = diesel::copy_from(people_copy_indexed::table)
                .from_raw_data(people_copy_indexed::table, feed(&big))
                .with_format(diesel::pg::CopyFormat::Csv)
                .with_header(diesel::pg::CopyHeader::Set(true))
                .execute(&mut conn)?;
            let secs_indexed = started.elapsed().as_secs_f64();
            println!(
                "PostgreSQL raw COPY big, as people {copied_indexed:>9} rows  {secs_indexed:>7.1} s  {:>9.0} rows/s",
                copied_indexed as f64 / secs_indexed
            );
            let ratio = first.rows_per_second / copy_rate;
            let indexed_ratio = first.rows_per_second * secs_indexed / copied_indexed as f64;
            println!(
                "import ÷ raw COPY: {ratio:.2} (plain table), {indexed_ratio:.2} (shaped like people)"
            );
            copy_ratio = Some((copied, secs, copy_rate, ratio));
            indexed_copy = Some((copied_indexed, secs_indexed, indexed_ratio));
            drop(conn);
            drop(db);
        }
        (true, None) => {
            println!("skipped: PostgreSQL (set ESR_BENCH_DATABASE_URL or ESR_TEST_DATABASE_URL)")
        }
        _ => {}
    }

    use std::fmt::Write as _;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "Run of {} UTC, release build, organisation 999, files of {small_rows} and {rows} rows.\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M")
    );
    let _ = writeln!(md, "| backend | rows | run | time | rows/s | peak RSS |");
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for (backend, r, what) in &table {
        let _ = writeln!(
            md,
            "| {backend} | {} | {what} | {:.1} s | {:.0} | {:.1} MiB |",
            r.rows, r.seconds, r.rows_per_second, r.peak_rss_mib
        );
    }
    if let Some((copied, secs, rate, _)) = copy_ratio {
        let _ = writeln!(
            md,
            "| PostgreSQL | {copied} | raw `COPY` into a plain table | {secs:.1} s | {rate:.0} | – |"
        );
        if let Some((n, secs, _)) = indexed_copy {
            let _ = writeln!(
                md,
                "| PostgreSQL | {n} | raw `COPY` into a table shaped like `people` (keys, indexes, foreign key, time-ordered ids) | {secs:.1} s | {:.0} | – |",
                n as f64 / secs
            );
        }
    }
    let _ = writeln!(md);
    let _ = writeln!(md, "| target | measured | target | verdict |");
    let _ = writeln!(md, "|---|---|---|---|");
    let verdict = |pass: bool| if pass { "PASS" } else { "MISS" };
    for (backend, r, what) in &table {
        if *what == "first import" && r.rows == rows {
            let _ = writeln!(
                md,
                "| first import of {rows} rows, {backend} | {:.0} rows/s | ≥ 50,000 rows/s | {} |",
                r.rows_per_second,
                verdict(r.rows_per_second >= 50_000.0)
            );
        }
    }
    if let Some((_, _, rate, ratio)) = copy_ratio {
        let _ = writeln!(
            md,
            "| import ÷ raw `COPY` into a plain table, PostgreSQL | {ratio:.2} (raw {rate:.0} rows/s) | ≥ 0.5 | {} |",
            verdict(ratio >= 0.5)
        );
    }
    if let Some((n, secs, ratio)) = indexed_copy {
        let _ = writeln!(
            md,
            "| import ÷ raw `COPY` into a table shaped like `people`, PostgreSQL | {ratio:.2} (raw {:.0} rows/s) | ≥ 0.5 | {} |",
            n as f64 / secs,
            verdict(ratio >= 0.5)
        );
    }
    let peaks: Vec<f64> = table.iter().map(|(_, r, _)| r.peak_rss_mib).collect();
    if let (Some(lo), Some(hi)) = (
        peaks.iter().copied().reduce(f64::min),
        peaks.iter().copied().reduce(f64::max),
    ) {
        let _ = writeln!(
            md,
            "| peak RSS, {small_rows} vs {rows} rows, every run | {lo:.1} – {hi:.1} MiB | flat | {} |",
            verdict(hi < 2.0 * lo)
        );
    }
    common::publish("import", &md)?;
    Ok(())
}
