//! The `esr-api` command line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, Mode, Settings};
use crate::startup::Application;

/// ESR Access: the service that owns NHS staff ESR usernames and passwords.
///
/// Every option can also be set with the environment variable shown beside it; see the
/// configuration table in README.md.
#[derive(Debug, Parser)]
#[command(name = "esr-api", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (the default when no command is given).
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Print the OpenAPI document (JSON), or write it to a file with --output.
    Openapi {
        /// File to write instead of standard output (e.g. openapi/openapi.json).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Print the GOV.UK Notify templates to create (subject and body with `((fields))`, one per
    /// email and language), whose ids ESR_NOTIFY_TEMPLATES_FILE then names.
    NotifyTemplates {
        /// Print them as JSON (name, language, subject, body) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Create the demo organisations and staff (printing their demo passwords) where missing.
    SeedDemo,
    /// Make a new token signing key the only active one; older keys keep verifying for one
    /// access-token lifetime. With ESR_SIGNING_KEY_FILE: that file's key (restart instances
    /// with the new file too). Without (dev): a newly generated key.
    RotateSigningKey,
    /// Import people from a CSV file (header: organisation_code,employee_number,first_name,
    /// last_name,date_of_birth,work_email,smartcard_subject): created, updated, unchanged and
    /// rejected rows, with every refused line. Exit code 3 when some lines were refused.
    Import {
        /// The CSV file (`-` for standard input).
        file: PathBuf,
        /// Rows written per transaction.
        #[arg(long, default_value_t = 5_000,
              value_parser = clap::value_parser!(u64).range(1..=50_000))]
        batch_rows: u64,
        /// Print the result as JSON on standard output (with `elapsed_ms`, `rows_per_second`
        /// and, on Linux, `peak_rss_kib`) instead of text.
        #[arg(long)]
        json: bool,
        /// The file is this organisation's full staff list: its people missing from the file
        /// leave (accounts disabled), unless a line is refused or they are too many.
        #[arg(long, value_name = "ORG")]
        full_feed: Option<String>,
        /// With --full-feed: the largest share of the organisation's staff that may leave in
        /// one run, in percent; beyond it no one leaves.
        #[arg(long, default_value_t = 5,
              value_parser = clap::value_parser!(u8).range(1..=100))]
        max_leavers_percent: u8,
    },
    /// Write a CSV file of synthetic, valid people for load tests (deterministic per seed).
    GeneratePeople {
        /// How many people.
        #[arg(long)]
        count: u64,
        /// Their organisation (it must exist to import them: `esr-api seed-demo` makes 999).
        #[arg(long, default_value = "999")]
        org: String,
        /// Seed of the pseudo-random names and dates.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output file (`-` for standard output).
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Create an administrator API key and print it (once: only its SHA-256 is stored).
    CreateApiKey {
        /// Unique name, written into the audit trail of everything the key does
        /// (1-64 letters, digits, '.', '_', '-').
        #[arg(long)]
        name: String,
        /// `all`, or one organisation code: the key then sees only that organisation.
        #[arg(long)]
        scope: String,
        /// `read` (GET only) or `write`.
        #[arg(long)]
        access: String,
        /// A read-only key that also sees the IP and user agent of audit events (for an
        /// investigation); read-write keys always do.
        #[arg(long)]
        sees_clients: bool,
    },
    /// Delete what is past its retention (ended sessions, expired links and challenges,
    /// password hashes beyond the reuse check, sent and dead emails; the ESR_RETAIN_* settings)
    /// and print how many rows of each went. Running instances do the same every
    /// ESR_PURGE_INTERVAL_SECS.
    Purge {
        /// Only count what would go; delete nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the counts as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print as JSON everything held about the person with this work email and date of birth
    /// (each employment, its accounts, sessions, sign-in methods, audit events and emails),
    /// for a subject access request. Audited.
    SubjectAccess {
        /// Their work email.
        #[arg(long)]
        email: String,
        /// Their date of birth, `YYYY-MM-DD`.
        #[arg(long)]
        date_of_birth: String,
    },
    /// Anonymise a person (by id) and their accounts: names, date of birth, email, employee
    /// number and smartcard replaced; accounts disabled and stripped of passwords, sessions,
    /// sign-in methods and links; emails deleted; their audit events' personal fields
    /// blanked (the chain still verifies). Irreversible: needs --yes. Audited.
    Erase {
        /// The person's id (`GET /v1/admin/people`, or `subject-access`).
        person_id: String,
        /// Confirms the erasure.
        #[arg(long)]
        yes: bool,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

/// Audit-trail commands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the keyed hash chain; report the first broken link and exit 1 if there is
    /// one. With `--anchor FILE` (a head printed earlier by `audit head`), also check that the
    /// chain still holds that event unchanged, which catches rows removed from the end.
    Verify {
        /// A file holding the JSON printed by `esr-api audit head`.
        #[arg(long)]
        anchor: Option<std::path::PathBuf>,
    },
    /// Print the chain's head (`{"seq":…,"hash":"…"}`) to keep outside the database as an
    /// anchor for `audit verify --anchor`.
    Head,
}

/// Runs the command line; the exit code is 2 for configuration errors, 1 for failures.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi { output } => openapi(output),
        Command::NotifyTemplates { json } => notify_templates(json),
        Command::GeneratePeople {
            count,
            org,
            seed,
            output,
        } => generate_people(count, &org, seed, &output),
        command => {
            let resolved = match command {
                Command::Serve => cli.settings.resolve(),
                _ => cli.settings.resolve_for_maintenance(),
            };
            let config = match resolved {
                Ok(config) => config,
                Err(e) => {
                    eprintln!("esr-api: {e}");
                    return ExitCode::from(2);
                }
            };
            crate::telemetry::init(config.log_format, &config.log_filter);
            let result = match command {
                Command::Serve => serve(config).map(|()| Outcome::Done),
                Command::Migrate => migrate(&config).map(|()| Outcome::Done),
                Command::SeedDemo => seed_demo(&config).map(|()| Outcome::Done),
                Command::RotateSigningKey => rotate_signing_key(&config).map(|()| Outcome::Done),
                Command::CreateApiKey {
                    name,
                    scope,
                    access,
                    sees_clients,
                } => create_api_key(&config, &name, &scope, &access, sees_clients)
                    .map(|()| Outcome::Done),
                Command::SubjectAccess {
                    email,
                    date_of_birth,
                } => subject_access(&config, &email, &date_of_birth).map(|()| Outcome::Done),
                Command::Erase { person_id, yes } => {
                    erase(&config, &person_id, yes).map(|()| Outcome::Done)
                }
                Command::Purge { dry_run, json } => {
                    purge(&config, dry_run, json).map(|()| Outcome::Done)
                }
                Command::Audit {
                    command: AuditCommand::Verify { anchor },
                } => audit_verify(&config, anchor.as_deref()).map(|()| Outcome::Done),
                Command::Audit {
                    command: AuditCommand::Head,
                } => audit_head(&config).map(|()| Outcome::Done),
                Command::Import {
                    file,
                    batch_rows,
                    json,
                    full_feed,
                    max_leavers_percent,
                } => match full_feed
                    .map(|org| full_feed_of(&org, max_leavers_percent))
                    .transpose()
                {
                    Ok(feed) => import(&config, &file, batch_rows, json, feed),
                    Err(e) => Err(e),
                },
                Command::Openapi { .. }
                | Command::NotifyTemplates { .. }
                | Command::GeneratePeople { .. } => {
                    unreachable!("handled above")
                }
            };
            match result {
                Ok(Outcome::Done) => ExitCode::SUCCESS,
                Ok(Outcome::SomeLinesRefused) => ExitCode::from(3),
                Err(e) => {
                    tracing::error!(error = format!("{e:#}"), "esr-api failed");
                    eprintln!("esr-api: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// How a command that ran to its end went.
enum Outcome {
    Done,
    /// An import finished but refused some lines (exit code 3).
    SomeLinesRefused,
}

fn generate_people(count: u64, org: &str, seed: u64, output: &std::path::Path) -> ExitCode {
    let org = match esr_domain::OrganisationCode::parse(org) {
        Ok(org) => org,
        Err(e) => {
            eprintln!("esr-api: --org: {e}");
            return ExitCode::from(2);
        }
    };
    let written = if output.as_os_str() == "-" {
        crate::app::import::generate::write_people(std::io::stdout().lock(), count, &org, seed)
    } else {
        std::fs::File::create(output).and_then(|f| {
            crate::app::import::generate::write_people(
                std::io::BufWriter::with_capacity(1 << 20, f),
                count,
                &org,
                seed,
            )
        })
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("esr-api: cannot write {}: {e}", output.display());
            ExitCode::FAILURE
        }
    }
}

/// Prints line errors as they come and draws a progress bar over the input's bytes.
struct CliObserver {
    bar: indicatif::ProgressBar,
    print_errors: bool,
}

impl crate::app::import::ImportObserver for CliObserver {
    fn line_error(&mut self, e: &crate::app::import::LineError) {
        if self.print_errors {
            let field = e.field.unwrap_or("-");
            self.bar.suspend(|| {
                eprintln!("line {}: {} [{}] {}", e.line, field, e.code, e.message);
            });
        }
    }

    fn progress(&mut self, p: crate::app::import::Progress) {
        self.bar.set_position(p.bytes);
        self.bar.set_message(format!("{} rows", p.rows));
    }
}

fn full_feed_of(
    org: &str,
    max_leavers_percent: u8,
) -> anyhow::Result<crate::app::import::FullFeed> {
    let organisation = esr_domain::OrganisationCode::parse(org)
        .map_err(|_| anyhow::anyhow!("--full-feed: {org:?} is not an organisation code"))?;
    Ok(crate::app::import::FullFeed {
        organisation,
        max_leavers_percent,
    })
}

fn import(
    config: &Config,
    file: &std::path::Path,
    batch_rows: u64,
    json: bool,
    feed: Option<crate::app::import::FullFeed>,
) -> anyhow::Result<Outcome> {
    use crate::app::import::{Feed, ImportLimits, Scope};
    use anyhow::Context as _;

    let (input, length): (Box<dyn std::io::Read + Send>, Option<u64>) = if file.as_os_str() == "-" {
        (Box::new(std::io::stdin()), None)
    } else {
        let f =
            std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
        let length = f.metadata().ok().map(|m| m.len());
        (Box::new(f), length)
    };
    let bar = match length {
        Some(len) if !json => indicatif::ProgressBar::new(len).with_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {msg} ({elapsed}, {eta} left)",
            )
            .expect("valid progress template"),
        ),
        _ if !json => indicatif::ProgressBar::new_spinner(),
        _ => indicatif::ProgressBar::hidden(),
    };
    let mut observer = CliObserver {
        bar,
        print_errors: !json,
    };

    let mut conn = connect(config)?;
    if config.auto_migrate {
        esr_persistence::migrations::run_pending(&mut conn)?;
    }
    let limits = ImportLimits {
        batch_rows: usize::try_from(batch_rows).unwrap_or(usize::MAX),
        ..ImportLimits::default()
    };
    let started = std::time::Instant::now();
    let caller = crate::app::Caller::internal(config.audit_chain.clone());
    let importer = crate::app::import::Importer {
        caller: &caller,
        actor: &esr_persistence::audit::Actor::Cli,
        digests: &config.audit_digest_key,
        contact_change_hold: crate::app::contact_change_hold(config),
    };
    let full = feed.is_some();
    let feed = feed.map_or(Feed::Rows(Scope::All), Feed::Full);
    let now = chrono::Utc::now();
    let report = crate::app::import::import(
        &mut conn,
        input,
        &feed,
        limits,
        importer,
        now,
        &mut observer,
    )
    .with_context(|| format!("import of {} refused", file.display()))?;
    observer.bar.finish_and_clear();
    let elapsed = started.elapsed();
    let rows = report.created + report.updated + report.unchanged + report.rejected;
    let rows_per_second = rows as f64 / elapsed.as_secs_f64().max(1e-9);
    crate::app::import::record_audit(
        &mut conn,
        &caller,
        &esr_persistence::audit::Actor::System,
        &report,
        chrono::Utc::now(),
    )?;
    if json {
        let mut value = serde_json::to_value(&report)?;
        value["elapsed_ms"] = serde_json::json!(elapsed.as_millis() as u64);
        value["rows_per_second"] = serde_json::json!(rows_per_second.round());
        value["peak_rss_kib"] = serde_json::json!(peak_rss_kib());
        println!("{value}");
    } else {
        println!(
            "Imported {}: {} created, {} updated, {} unchanged, {} rejected ({} lines in {:.1} s, {:.0} rows/s).",
            file.display(),
            report.created,
            report.updated,
            report.unchanged,
            report.rejected,
            rows,
            elapsed.as_secs_f64(),
            rows_per_second
        );
        if full {
            match &report.leavers_withheld {
                Some(why) => println!("No one left: {why}"),
                None => println!("Leavers (missing from the full feed): {}.", report.leavers),
            }
        }
    }
    Ok(if report.rejected > 0 {
        Outcome::SomeLinesRefused
    } else {
        Outcome::Done
    })
}

/// This process's peak resident set size (Linux `VmHWM`), for benchmark reports.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn openapi(output: Option<PathBuf>) -> ExitCode {
    let json = crate::openapi::document_json();
    let written = match output {
        Some(path) => std::fs::write(&path, json),
        None => std::io::stdout().write_all(json.as_bytes()),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("esr-api: cannot write the OpenAPI document: {e}");
            ExitCode::FAILURE
        }
    }
}

fn notify_templates(json: bool) -> ExitCode {
    let templates = crate::email::notify_fields::templates();
    let text = if json {
        serde_json::to_string_pretty(&templates).expect("templates serialise") + "\n"
    } else {
        templates
            .iter()
            .map(|t| {
                format!(
                    "== {} ({})\nSubject: {}\n\n{}\n\n",
                    t.name, t.language, t.subject, t.body
                )
            })
            .collect()
    };
    match std::io::stdout().write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("esr-api: cannot write the templates: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let dev = config.mode == Mode::Dev;
        let dev_idp = dev && config.smartcard.is_some();
        let base = config.public_base_url.clone();
        let operator_ip = config.operator_listen_addr.ip();
        let app = Application::build(config).await?;
        tracing::info!(
            port = app.port(),
            operator_port = app.operator_port(),
            "listening"
        );
        if dev {
            let base = base.as_str().trim_end_matches('/');
            println!(
                "ESR Access (dev mode) is listening on port {} (ESR_LISTEN_ADDR).",
                app.port()
            );
            println!("  API:        {base}/v1/");
            println!("  Swagger UI: {base}/swagger-ui/");
            println!("  OpenAPI:    {base}/api-docs/openapi.json");
            println!("  Ready:      {base}/health/ready");
            println!(
                "  Metrics:    http://{}/metrics (operator listener, ESR_OPERATOR_LISTEN_ADDR)",
                std::net::SocketAddr::new(operator_ip, app.operator_port())
            );
            if dev_idp {
                println!(
                    "  Smartcard:  {base}/dev-idp/ (dev identity provider standing in for NHS CIS2)"
                );
            }
            if let Some(report) = app.seeded() {
                println!("Demo data (dev only):");
                print_seed(report);
            }
        }
        app.run_until_stopped().await?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// One connection for a command (its pool lives as long as the connection does).
fn connect(config: &Config) -> anyhow::Result<esr_persistence::PooledConnection> {
    let pool = esr_persistence::DbPool::connect(
        &config.database_url,
        esr_persistence::PoolOptions::default(),
    )?;
    Ok(pool.get()?)
}

fn subject_access(config: &Config, email: &str, date_of_birth: &str) -> anyhow::Result<()> {
    let email = esr_domain::WorkEmail::parse(email)
        .map_err(|e| anyhow::anyhow!("--email: {}", esr_domain::Coded::message(&e)))?;
    let date_of_birth = chrono::NaiveDate::parse_from_str(date_of_birth, "%Y-%m-%d")
        .map_err(|_| anyhow::anyhow!("--date-of-birth: expected YYYY-MM-DD"))?;
    let mut conn = connect(config)?;
    let export = crate::app::subject_rights::subject_access(
        &mut conn,
        config,
        &email,
        date_of_birth,
        chrono::Utc::now(),
    )?;
    println!("{}", serde_json::to_string_pretty(&export)?);
    Ok(())
}

fn erase(config: &Config, person_id: &str, yes: bool) -> anyhow::Result<()> {
    let id = esr_domain::PersonId::parse(person_id)
        .ok_or_else(|| anyhow::anyhow!("{person_id} is not a person id"))?;
    if !yes {
        anyhow::bail!("erasing {person_id} cannot be undone: run again with --yes");
    }
    let mut conn = connect(config)?;
    let Some(erased) = crate::app::subject_rights::erase(
        &mut conn,
        config,
        &esr_persistence::audit::Actor::Cli,
        &id,
        chrono::Utc::now(),
    )?
    else {
        anyhow::bail!("no person has the id {person_id}");
    };
    println!(
        "Erased {person_id}: {} account(s) anonymised, {} audit event(s) blanked, {} email(s) deleted.",
        erased.accounts, erased.audit_events, erased.emails
    );
    Ok(())
}

fn purge(config: &Config, dry_run: bool, json: bool) -> anyhow::Result<()> {
    let mut conn = connect(config)?;
    let report = crate::app::retention::purge(&mut conn, config, chrono::Utc::now(), dry_run)?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    if report.skipped {
        println!("Another instance is purging now; nothing was done.");
        return Ok(());
    }
    let verb = if dry_run { "Would remove" } else { "Removed" };
    for (class, rows) in &report.removed {
        println!("{verb} {rows} {}", class.replace('_', " "));
    }
    Ok(())
}

fn migrate(config: &Config) -> anyhow::Result<()> {
    let mut conn = connect(config)?;
    let applied = esr_persistence::migrations::run_pending(&mut conn)?;
    if applied.is_empty() {
        println!("Database {} is up to date.", config.database_url);
    } else {
        println!(
            "Applied {} migration(s) to {}:",
            applied.len(),
            config.database_url
        );
        for version in applied {
            println!("  {version}");
        }
    }
    Ok(())
}

fn create_api_key(
    config: &Config,
    name: &str,
    scope: &str,
    access: &str,
    sees_clients: bool,
) -> anyhow::Result<()> {
    let name = esr_domain::ApiKeyName::parse(name).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
    let scope =
        esr_domain::ApiKeyScope::parse(scope).map_err(|e| anyhow::anyhow!("--scope: {e}"))?;
    let access =
        esr_domain::ApiKeyAccess::parse(access).map_err(|e| anyhow::anyhow!("--access: {e}"))?;
    let mut conn = connect(config)?;
    if config.auto_migrate {
        esr_persistence::migrations::run_pending(&mut conn)?;
    }
    let new = crate::app::api_keys::NewKey {
        name,
        scope,
        access,
        sees_clients,
    };
    let (secret, stored) = crate::app::api_keys::create(
        &mut conn,
        &crate::app::Caller::internal(config.audit_chain.clone()),
        &esr_persistence::audit::Actor::Cli,
        &new,
        chrono::Utc::now(),
    )?;
    eprintln!(
        "Created API key {} (scope {}, access {}, prefix {}). It is shown once; store it now:",
        stored.name, stored.scope, stored.access, stored.prefix
    );
    println!("{}", secret.expose_secret());
    Ok(())
}

fn audit_verify(config: &Config, anchor: Option<&std::path::Path>) -> anyhow::Result<()> {
    let anchor = anchor
        .map(
            |path| -> anyhow::Result<esr_persistence::audit::ChainHead> {
                use anyhow::Context as _;
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the anchor {}", path.display()))?;
                serde_json::from_str(&text).with_context(|| {
                    format!(
                        "{} is not an anchor written by `esr-api audit head`",
                        path.display()
                    )
                })
            },
        )
        .transpose()?;
    let mut conn = connect(config)?;
    let chain = &config.audit_chain;
    let report = esr_persistence::audit::verify_chain(&mut conn, chain)?;
    let broken = match (&report.first_broken, &anchor) {
        (Some(broken), _) => Some(broken.clone()),
        (None, Some(anchor)) => esr_persistence::audit::check_anchor(&mut conn, anchor)?,
        (None, None) => None,
    };
    match broken {
        None => {
            let anchored = anchor.map_or(String::new(), |a| {
                format!(" It still holds the anchor (event {}).", a.seq)
            });
            println!(
                "Audit chain intact: {} event(s) verified in {}.{anchored}",
                report.checked, config.database_url
            );
            Ok(())
        }
        Some(broken) => anyhow::bail!(
            "audit chain broken at event {}: {} ({} event(s) before it verified)",
            broken.seq,
            broken.reason,
            report.checked
        ),
    }
}

/// Prints the chain's head as JSON: keep it somewhere the database's administrators cannot
/// write (a ticket, a log shipped elsewhere), then `audit verify --anchor FILE` proves the
/// chain still holds it.
fn audit_head(config: &Config) -> anyhow::Result<()> {
    let mut conn = connect(config)?;
    let head = esr_persistence::audit::head(&mut conn)?;
    println!("{}", serde_json::to_string(&head)?);
    Ok(())
}

fn rotate_signing_key(config: &Config) -> anyhow::Result<()> {
    if config.mode == Mode::Production && config.signing_key_file.is_none() {
        anyhow::bail!(
            "production keys come from a file: set ESR_SIGNING_KEY_FILE to the new key (a generated key would store its private part in the database)"
        );
    }
    let mut conn = connect(config)?;
    let (kid, retired) = crate::keys::rotate(&mut conn, config, chrono::Utc::now())?;
    println!("Signing key {kid} is now the only active key.");
    println!(
        "{retired} older key(s) retired; they keep verifying for {} s (one access-token lifetime).",
        config.access_token_ttl.as_secs()
    );
    println!("Restart every instance so it signs with the new key.");
    Ok(())
}

fn seed_demo(config: &Config) -> anyhow::Result<()> {
    // The demo passwords are published in README: in a production database they would be
    // accounts anyone can log in to.
    anyhow::ensure!(
        config.mode != crate::config::Mode::Production,
        "seed-demo refuses a production database (ESR_MODE=production): its accounts have published passwords"
    );
    let mut conn = connect(config)?;
    esr_persistence::migrations::run_pending(&mut conn)?;
    let hasher = esr_domain::PasswordHasher::new(config.argon2)?;
    let report = crate::seed::seed_demo(&mut conn, &hasher, chrono::Utc::now())?;
    println!("Demo data in {}:", config.database_url);
    print_seed(&report);
    Ok(())
}

/// Prints the demo organisations and accounts (dev only: the passwords are public demo data).
fn print_seed(report: &crate::seed::SeedReport) {
    for org in &report.organisations {
        println!("  organisation {org}");
    }
    for a in &report.accounts {
        println!(
            "  {:<14} {:<12} {:<13} password: {:<28} (employee {}, {}, born {})",
            a.username,
            a.name,
            a.internet_access,
            a.password.unwrap_or("-"),
            a.employee_number,
            a.work_email,
            a.date_of_birth
        );
    }
}
