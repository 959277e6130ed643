//! Configuration: `ESR_*` environment variables (or the matching `--flags`), resolved into a
//! validated [`Config`]. Production refuses to start with a dev-only or missing setting, and
//! names every one at once.

use std::net::SocketAddr;
use std::time::Duration;

use clap::ValueEnum;
use esr_domain::PasswordPolicy;
use esr_persistence::{Backend, DatabaseUrl};
use url::Url;

/// Which defaults apply and how strict start-up is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Local development: SQLite under `./var/`, migrations applied and demo data seeded on start.
    Dev,
    /// Production: every setting explicit, no demo data, no dev endpoints.
    Production,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable, coloured when on a terminal (dev default).
    Pretty,
    /// One JSON object per line (production default).
    Json,
}

/// The raw settings as given on the command line or in the environment.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// `dev` (default) or `production`.
    #[arg(long, env = "ESR_MODE", value_enum, default_value_t = Mode::Dev, global = true)]
    pub mode: Mode,

    /// Address and port to listen on.
    #[arg(
        long,
        env = "ESR_LISTEN_ADDR",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen_addr: SocketAddr,

    /// Let dev mode listen on an address other than loopback. Dev mode serves the dev identity
    /// provider (anyone can sign in as anyone with a "smartcard") and the dev mailbox (every
    /// reset link), so by default it refuses to be reachable from other machines.
    #[arg(long, env = "ESR_DEV_ALLOW_REMOTE", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub dev_allow_remote: bool,

    /// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST:PORT/DB`. Dev default: `sqlite://./var/esr.db`.
    #[arg(long, env = "ESR_DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// File holding the database URL (for secrets mounted as files); used when `ESR_DATABASE_URL` is unset.
    #[arg(long, env = "ESR_DATABASE_URL_FILE", global = true)]
    pub database_url_file: Option<std::path::PathBuf>,

    /// Maximum open database connections per instance.
    #[arg(
        long,
        env = "ESR_DATABASE_POOL_SIZE",
        default_value_t = 10,
        global = true
    )]
    pub database_pool_size: u32,

    /// How long a request waits for a database connection before getting 503 (milliseconds).
    #[arg(
        long,
        env = "ESR_DATABASE_TIMEOUT_MS",
        default_value_t = 2_000,
        global = true
    )]
    pub database_timeout_ms: u64,

    /// Allow a SQLite database in production (single instance only).
    #[arg(
        long,
        env = "ESR_ALLOW_SQLITE_IN_PRODUCTION",
        default_value_t = false,
        global = true
    )]
    pub allow_sqlite_in_production: bool,

    /// Apply pending migrations on start. Default: on in dev, off in production (run `esr-api migrate`).
    #[arg(long, env = "ESR_AUTO_MIGRATE", global = true)]
    pub auto_migrate: Option<bool>,

    /// Public base URL of this API, e.g. `https://access.esr.example.nhs.uk`. Dev default: `http://LISTEN_ADDR`.
    #[arg(long, env = "ESR_PUBLIC_BASE_URL", global = true)]
    pub public_base_url: Option<Url>,

    /// `pretty` or `json`. Default: pretty in dev, json in production.
    #[arg(long, env = "ESR_LOG_FORMAT", value_enum, global = true)]
    pub log_format: Option<LogFormat>,

    /// Log filter in `tracing` syntax, e.g. `info` or `esr_api=debug,info`.
    #[arg(long, env = "ESR_LOG", default_value = "info", global = true)]
    pub log_filter: String,

    /// HTTP worker threads. Default: one per core.
    #[arg(long, env = "ESR_WORKERS", global = true)]
    pub workers: Option<usize>,

    /// Fewest characters a password may have (ESR rule 12; NIST SP 800-63B rev 4 asks 15 for single-factor).
    #[arg(
        long,
        env = "ESR_PASSWORD_MIN_LENGTH",
        default_value_t = 12,
        global = true
    )]
    pub password_min_length: usize,

    /// Most characters a password may have (at least 64).
    #[arg(
        long,
        env = "ESR_PASSWORD_MAX_LENGTH",
        default_value_t = 128,
        global = true
    )]
    pub password_max_length: usize,

    /// How many previous passwords may not be reused.
    #[arg(long, env = "ESR_PASSWORD_HISTORY", default_value_t = 4, global = true)]
    pub password_history: usize,

    /// Base URL of a Have I Been Pwned-compatible range API (e.g.
    /// `https://api.pwnedpasswords.com/`): turns on the breached-password check. Only the first
    /// five hex digits of the password's SHA-1 are sent. Off when unset.
    #[arg(long, env = "ESR_BREACHED_PASSWORD_API_URL", global = true)]
    pub breached_password_api_url: Option<String>,

    /// Connect and total timeout of a breached-password look-up (milliseconds); when it runs
    /// out the check is skipped with a warning (fail-open).
    #[arg(
        long,
        env = "ESR_BREACHED_PASSWORD_TIMEOUT_MS",
        default_value_t = 1_500,
        global = true
    )]
    pub breached_password_timeout_ms: u64,

    /// PKCS#8 PEM file with the Ed25519 key that signs access tokens (required in production;
    /// dev mode generates one and keeps it in the database).
    #[arg(long, env = "ESR_SIGNING_KEY_FILE", global = true)]
    pub signing_key_file: Option<std::path::PathBuf>,

    /// File with at least 32 bytes of secret that keys the audit trail's digests of unmatched
    /// emails, usernames and smartcard subjects (the same on every instance). Default: derived
    /// from ESR_SIGNING_KEY_FILE (dev: a fixed development key).
    #[arg(long, env = "ESR_AUDIT_KEY_FILE", global = true)]
    pub audit_key_file: Option<std::path::PathBuf>,

    /// `aud` of access tokens.
    #[arg(
        long,
        env = "ESR_TOKEN_AUDIENCE",
        default_value = "esr-access",
        global = true
    )]
    pub token_audience: String,

    /// Access-token lifetime in seconds.
    #[arg(
        long,
        env = "ESR_ACCESS_TOKEN_TTL_SECS",
        default_value_t = 900,
        global = true
    )]
    pub access_token_ttl_secs: u64,

    /// Refresh-token lifetime in hours (a session idle longer than this ends).
    #[arg(
        long,
        env = "ESR_REFRESH_TOKEN_TTL_HOURS",
        default_value_t = 336,
        global = true
    )]
    pub refresh_token_ttl_hours: u64,

    /// Longest a password session lasts, however often it is refreshed, in hours.
    #[arg(
        long,
        env = "ESR_SESSION_MAX_HOURS",
        default_value_t = 720,
        global = true
    )]
    pub session_max_hours: u64,

    /// Consecutive failed logins that lock an account.
    #[arg(
        long,
        env = "ESR_LOCKOUT_THRESHOLD",
        default_value_t = 5,
        global = true
    )]
    pub lockout_threshold: u32,

    /// argon2id memory in KiB (OWASP: 19456).
    #[arg(
        long,
        env = "ESR_ARGON2_MEMORY_KIB",
        default_value_t = 19_456,
        global = true
    )]
    pub argon2_memory_kib: u32,

    /// argon2id iterations (OWASP: 2).
    #[arg(
        long,
        env = "ESR_ARGON2_ITERATIONS",
        default_value_t = 2,
        global = true
    )]
    pub argon2_iterations: u32,

    /// argon2id parallelism (OWASP: 1).
    #[arg(
        long,
        env = "ESR_ARGON2_PARALLELISM",
        default_value_t = 1,
        global = true
    )]
    pub argon2_parallelism: u32,

    /// Password-hashing threads. Default: one per core.
    #[arg(long, env = "ESR_HASH_WORKERS", global = true)]
    pub hash_workers: Option<usize>,

    /// Hashing jobs that may wait for a thread; beyond workers + queue, requests get 503.
    #[arg(long, env = "ESR_HASH_QUEUE", global = true)]
    pub hash_queue: Option<usize>,

    /// Proxies (IPs or CIDRs, comma-separated) whose `X-Forwarded-For` is believed.
    #[arg(
        long,
        env = "ESR_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = parse_ip_or_net,
        global = true
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Login attempts per minute per client IP (0 = unlimited). Hospitals share egress IPs: keep it generous.
    #[arg(
        long,
        env = "ESR_RATE_LOGIN_PER_IP",
        default_value_t = 300,
        global = true
    )]
    pub rate_login_per_ip: u32,

    /// Login attempts per minute per username (0 = unlimited).
    #[arg(
        long,
        env = "ESR_RATE_LOGIN_PER_USERNAME",
        default_value_t = 10,
        global = true
    )]
    pub rate_login_per_username: u32,

    /// Base URL of the self-service web pages that email links open (reset, unlock, login),
    /// e.g. `https://my.esr.nhs.uk`. Links are built from it, never from the request's Host.
    /// Dev default: this server's `/self-service`.
    #[arg(long, env = "ESR_WEB_BASE_URL", global = true)]
    pub web_base_url: Option<Url>,

    /// How emails leave: `file` (dev: files + `GET /v1/dev/mailbox`), `smtp` or `notify` (GOV.UK Notify).
    #[arg(long, env = "ESR_EMAIL_TRANSPORT", value_enum, global = true)]
    pub email_transport: Option<EmailTransportKind>,

    /// Sender of emails, e.g. `ESR Access <no-reply@esr.nhs.uk>`.
    #[arg(
        long,
        env = "ESR_EMAIL_FROM",
        default_value = "ESR Access <no-reply@esr-access.invalid>",
        global = true
    )]
    pub email_from: String,

    /// Where the `file` transport writes messages.
    #[arg(
        long,
        env = "ESR_MAILBOX_DIR",
        default_value = "./var/mailbox",
        global = true
    )]
    pub mailbox_dir: std::path::PathBuf,

    /// SMTP relay host (e.g. an NHSmail relay).
    #[arg(long, env = "ESR_SMTP_HOST", global = true)]
    pub smtp_host: Option<String>,

    /// SMTP port.
    #[arg(long, env = "ESR_SMTP_PORT", default_value_t = 587, global = true)]
    pub smtp_port: u16,

    /// `starttls` (default), `tls` (implicit, port 465) or `none` (dev and tests only).
    #[arg(long, env = "ESR_SMTP_TLS", value_enum, default_value_t = SmtpTls::Starttls, global = true)]
    pub smtp_tls: SmtpTls,

    /// SMTP user name, if the relay needs authentication.
    #[arg(long, env = "ESR_SMTP_USERNAME", global = true)]
    pub smtp_username: Option<String>,

    /// File holding the SMTP password.
    #[arg(long, env = "ESR_SMTP_PASSWORD_FILE", global = true)]
    pub smtp_password_file: Option<std::path::PathBuf>,

    /// PEM file of extra root certificates trusted for the relay's TLS certificate (a relay
    /// behind an organisation's own certificate authority), on top of the public roots.
    #[arg(long, env = "ESR_SMTP_CA_FILE", global = true)]
    pub smtp_ca_file: Option<std::path::PathBuf>,

    /// File holding the GOV.UK Notify API key (`name-serviceid-secret`).
    #[arg(long, env = "ESR_NOTIFY_API_KEY_FILE", global = true)]
    pub notify_api_key_file: Option<std::path::PathBuf>,

    /// GOV.UK Notify API base URL.
    #[arg(
        long,
        env = "ESR_NOTIFY_BASE_URL",
        default_value = "https://api.notifications.service.gov.uk",
        global = true
    )]
    pub notify_base_url: Url,

    /// Notify template with `((subject))` and `((body))` placeholders that every email uses.
    #[arg(long, env = "ESR_NOTIFY_TEMPLATE_ID", global = true)]
    pub notify_template_id: Option<String>,

    /// Timeout of one email send (SMTP or Notify), in milliseconds.
    #[arg(
        long,
        env = "ESR_EMAIL_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub email_timeout_ms: u64,

    /// How long reset and unlock links work, in minutes (the user guide says 4 hours).
    #[arg(
        long,
        env = "ESR_LINK_TTL_MINUTES",
        default_value_t = 240,
        global = true
    )]
    pub link_ttl_minutes: u64,

    /// Hours after a change of a person's work email or smartcard during which no recovery
    /// email is sent and no password is set at work (0: no hold). Whoever changed the contact
    /// detail cannot use it at once, and the notice to the old address has time to be read.
    #[arg(
        long,
        env = "ESR_CONTACT_CHANGE_HOLD_HOURS",
        default_value_t = 24,
        global = true
    )]
    pub contact_change_hold_hours: u64,

    /// Run the delivery worker in this instance (matches recovery requests, sends email).
    /// Turn off to run API-only instances beside dedicated workers.
    #[arg(long, env = "ESR_DELIVERY_WORKER", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub delivery_worker: bool,

    /// How often the delivery worker looks for due emails and requests, in milliseconds.
    #[arg(
        long,
        env = "ESR_OUTBOX_POLL_MS",
        default_value_t = 1_000,
        global = true
    )]
    pub outbox_poll_ms: u64,

    /// Emails a worker claims at a time.
    #[arg(long, env = "ESR_OUTBOX_BATCH", default_value_t = 20, global = true)]
    pub outbox_batch: u32,

    /// How long a claim lasts before another worker may take the email over, in seconds.
    #[arg(
        long,
        env = "ESR_OUTBOX_LEASE_SECS",
        default_value_t = 60,
        global = true
    )]
    pub outbox_lease_secs: u64,

    /// Attempts before an email is `dead` (visible in the admin API and metrics, retryable).
    #[arg(
        long,
        env = "ESR_OUTBOX_MAX_ATTEMPTS",
        default_value_t = 8,
        global = true
    )]
    pub outbox_max_attempts: u32,

    /// First retry delay in milliseconds; doubles each attempt (with ±20 % jitter).
    #[arg(
        long,
        env = "ESR_OUTBOX_RETRY_BASE_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub outbox_retry_base_ms: u64,

    /// Longest retry delay, in seconds.
    #[arg(
        long,
        env = "ESR_OUTBOX_RETRY_MAX_SECS",
        default_value_t = 3_600,
        global = true
    )]
    pub outbox_retry_max_secs: u64,

    /// Recovery and unlock requests per minute per client IP (0 = off).
    #[arg(
        long,
        env = "ESR_RATE_RECOVERY_PER_IP",
        default_value_t = 30,
        global = true
    )]
    pub rate_recovery_per_ip: u32,

    /// Recovery and unlock requests per hour per email address typed (0 = off).
    #[arg(
        long,
        env = "ESR_RATE_RECOVERY_PER_EMAIL",
        default_value_t = 5,
        global = true
    )]
    pub rate_recovery_per_email: u32,

    /// Emails per hour to one address, across instances (0 = off); protects mailboxes.
    #[arg(
        long,
        env = "ESR_EMAILS_PER_ADDRESS_PER_HOUR",
        default_value_t = 10,
        global = true
    )]
    pub emails_per_address_per_hour: u32,
    /// Turn smartcard sign-in off. Production needs either this or a complete `ESR_OIDC_*`
    /// configuration.
    #[arg(
        long,
        env = "ESR_SMARTCARD_DISABLED",
        default_value_t = false,
        global = true
    )]
    pub smartcard_disabled: bool,

    /// Issuer of the smartcard identity provider (NHS CIS2); its discovery document is at
    /// `{issuer}/.well-known/openid-configuration`. Dev default: this server's `/dev-idp`.
    /// Kept exactly as written (CIS2's issuer includes `:443`), because ID tokens must name it
    /// exactly.
    #[arg(long, env = "ESR_OIDC_ISSUER", global = true)]
    pub oidc_issuer: Option<String>,

    /// Our client id at the identity provider. Dev default: `esr-access-dev`.
    #[arg(long, env = "ESR_OIDC_CLIENT_ID", global = true)]
    pub oidc_client_id: Option<String>,

    /// RSA private key (PKCS#8 or PKCS#1 PEM, at least 2048 bits) for `private_key_jwt` client
    /// authentication; its public part is published at `/.well-known/oidc-client-jwks.json`.
    /// Dev default: a key generated on first use.
    #[arg(long, env = "ESR_OIDC_CLIENT_KEY_FILE", global = true)]
    pub oidc_client_key_file: Option<std::path::PathBuf>,

    /// Algorithm of our `private_key_jwt` client assertions: RS256, RS384 or RS512.
    #[arg(
        long,
        env = "ESR_OIDC_CLIENT_ASSERTION_ALG",
        default_value = "RS512",
        global = true
    )]
    pub oidc_client_assertion_alg: String,

    /// File holding a client secret, for `client_secret_post` instead of `private_key_jwt`.
    #[arg(long, env = "ESR_OIDC_CLIENT_SECRET_FILE", global = true)]
    pub oidc_client_secret_file: Option<std::path::PathBuf>,

    /// Comma-separated redirect URIs a front end may ask the provider to return to (exact
    /// match). Dev default: `http://localhost:3000/smartcard/callback`.
    #[arg(
        long,
        env = "ESR_OIDC_REDIRECT_URIS",
        value_delimiter = ',',
        global = true
    )]
    pub oidc_redirect_uris: Vec<Url>,

    /// Scopes requested (space-separated).
    #[arg(
        long,
        env = "ESR_OIDC_SCOPES",
        default_value = "openid profile",
        global = true
    )]
    pub oidc_scopes: String,

    /// `acr_values` sent with the authorization request.
    #[arg(
        long,
        env = "ESR_OIDC_ACR_VALUES",
        default_value = "AAL3_ANY",
        global = true
    )]
    pub oidc_acr_values: String,

    /// Lowest authentication assurance level accepted (`acr` / `authentication_assurance_level`), 1–3.
    #[arg(
        long,
        env = "ESR_OIDC_MIN_ASSURANCE",
        default_value_t = 3,
        global = true
    )]
    pub oidc_min_assurance: u8,

    /// ID-token claim holding the smartcard identity that links to a person (`smartcard_subject`).
    #[arg(
        long,
        env = "ESR_OIDC_SUBJECT_CLAIM",
        default_value = "uid",
        global = true
    )]
    pub oidc_subject_claim: String,

    /// ID-token signing algorithms accepted (comma-separated; RSA only: RS256/384/512, PS256/384/512).
    #[arg(
        long,
        env = "ESR_OIDC_ALGORITHMS",
        value_delimiter = ',',
        default_value = "RS256",
        global = true
    )]
    pub oidc_algorithms: Vec<String>,

    /// Connect and total timeout of each call to the identity provider (milliseconds).
    #[arg(
        long,
        env = "ESR_OIDC_TIMEOUT_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub oidc_timeout_ms: u64,

    /// How long the provider's discovery document and keys are cached (seconds).
    #[arg(
        long,
        env = "ESR_OIDC_JWKS_TTL_SECS",
        default_value_t = 3_600,
        global = true
    )]
    pub oidc_jwks_ttl_secs: u64,

    /// Least time between two key refreshes caused by an unknown `kid` (seconds).
    #[arg(
        long,
        env = "ESR_OIDC_JWKS_MIN_REFRESH_SECS",
        default_value_t = 30,
        global = true
    )]
    pub oidc_jwks_min_refresh_secs: u64,

    /// How long a started smartcard sign-in may take before its callback (seconds).
    #[arg(
        long,
        env = "ESR_OIDC_FLOW_TTL_SECS",
        default_value_t = 600,
        global = true
    )]
    pub oidc_flow_ttl_secs: u64,

    /// Longest a workplace (smartcard) session lasts, in hours.
    #[arg(
        long,
        env = "ESR_WORKPLACE_SESSION_HOURS",
        default_value_t = 8,
        global = true
    )]
    pub workplace_session_hours: u64,

    /// Seconds to let in-flight requests finish after SIGTERM/SIGINT.
    #[arg(
        long,
        env = "ESR_SHUTDOWN_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub shutdown_timeout_secs: u64,

    /// Largest CSV body `POST /v1/admin/people/import` accepts, in MiB (streamed: memory use
    /// does not grow with it). JSON routes keep their 16 KiB limit.
    #[arg(
        long,
        env = "ESR_IMPORT_BODY_LIMIT_MIB",
        default_value_t = 512,
        value_parser = clap::value_parser!(u64).range(1..=65_536),
        global = true
    )]
    pub import_body_limit_mib: u64,
}

/// Where and how long to look passwords up in a breached-password corpus.
#[derive(Debug, Clone)]
pub struct BreachedPasswordsConfig {
    /// Base URL of the range API (ends with `/`; `range/{prefix}` is appended).
    pub base_url: Url,
    /// Connect and total timeout of one look-up.
    pub timeout: Duration,
}

/// A validated configuration: every value concrete, every rule of the mode checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// Dev or production.
    pub mode: Mode,
    /// Listen address (port 0 picks a free port).
    pub listen_addr: SocketAddr,
    /// Database location.
    pub database_url: DatabaseUrl,
    /// Pool size.
    pub database_pool_size: u32,
    /// Pool checkout timeout.
    pub database_timeout: Duration,
    /// Apply migrations on start.
    pub auto_migrate: bool,
    /// Seed the demo organisation (and, later, demo people) on start.
    pub seed_demo: bool,
    /// Public base URL of the API (for absolute links and token issuer).
    pub public_base_url: Url,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter.
    pub log_filter: String,
    /// Worker threads.
    pub workers: usize,
    /// Graceful shutdown deadline.
    pub shutdown_timeout: Duration,
    /// The one password policy.
    pub password_policy: PasswordPolicy,
    /// The breached-password range API, when the check is on.
    pub breached_passwords: Option<BreachedPasswordsConfig>,
    /// Where the production signing key is (dev: none, generated and stored).
    pub signing_key_file: Option<std::path::PathBuf>,
    /// Key of the audit trail's digests of personal data that matched nothing.
    pub audit_digest_key: crate::audit::DigestKey,
    /// Token issuer (`iss`): the public base URL.
    pub token_issuer: String,
    /// Token audience (`aud`).
    pub token_audience: String,
    /// Access-token lifetime.
    pub access_token_ttl: Duration,
    /// Refresh-token lifetime.
    pub refresh_token_ttl: Duration,
    /// Absolute password-session lifetime.
    pub session_max: Duration,
    /// Lockout threshold.
    pub lockout: esr_domain::LockoutPolicy,
    /// argon2id parameters.
    pub argon2: esr_domain::Argon2Params,
    /// Hashing threads.
    pub hash_workers: usize,
    /// Hashing queue length.
    pub hash_queue: usize,
    /// Trusted proxies.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Login attempts per minute per IP.
    pub rate_login_per_ip: u32,
    /// Login attempts per minute per username.
    pub rate_login_per_username: u32,
    /// Base URL of the pages email links open.
    pub web_base_url: Url,
    /// Email transport.
    pub email: EmailConfig,
    /// Lifetime of reset and unlock links.
    pub link_ttl: Duration,
    /// How long a change of work email or smartcard holds recovery and setting a password at
    /// work (zero: no hold).
    pub contact_change_hold: Duration,
    /// Delivery worker settings.
    pub outbox: OutboxConfig,
    /// Recovery/unlock requests per minute per IP.
    pub rate_recovery_per_ip: u32,
    /// Recovery/unlock requests per hour per email typed.
    pub rate_recovery_per_email: u32,
    /// Emails per hour per destination address.
    pub emails_per_address_per_hour: u32,
    /// Smartcard sign-in through OpenID Connect; `None` when disabled.
    pub smartcard: Option<OidcConfig>,
    /// Absolute workplace (smartcard) session lifetime.
    pub workplace_session: Duration,
    /// Largest people-import body, in bytes.
    pub import_body_limit: u64,
}

/// Which email transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmailTransportKind {
    /// Files under `ESR_MAILBOX_DIR`, listed by `GET /v1/dev/mailbox` (dev).
    File,
    /// An SMTP relay.
    Smtp,
    /// GOV.UK Notify.
    Notify,
}

/// TLS towards the SMTP relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required).
    Starttls,
    /// TLS from the first byte.
    Tls,
    /// No TLS (dev and tests only).
    None,
}

/// The resolved email transport.
#[derive(Clone)]
pub enum EmailConfig {
    /// Files in a directory.
    File {
        /// Where.
        dir: std::path::PathBuf,
    },
    /// SMTP.
    Smtp {
        /// Relay host.
        host: String,
        /// Port.
        port: u16,
        /// TLS mode.
        tls: SmtpTls,
        /// Credentials, if any.
        credentials: Option<(String, String)>,
        /// Extra trusted root certificates (PEM), from `ESR_SMTP_CA_FILE`.
        ca_pem: Option<Vec<u8>>,
        /// Sender.
        from: String,
        /// Per-send timeout.
        timeout: Duration,
    },
    /// GOV.UK Notify.
    Notify {
        /// API base URL.
        base_url: Url,
        /// The API key (`name-serviceid-secret`).
        api_key: String,
        /// The generic template id.
        template_id: String,
        /// Per-send timeout.
        timeout: Duration,
    },
}

impl std::fmt::Debug for EmailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File { dir } => write!(f, "File({})", dir.display()),
            Self::Smtp {
                host, port, tls, ..
            } => write!(f, "Smtp({host}:{port}, {tls:?})"),
            Self::Notify { base_url, .. } => write!(f, "Notify({base_url})"),
        }
    }
}

impl EmailConfig {
    /// `file`, `smtp` or `notify`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::File { .. } => "file",
            Self::Smtp { .. } => "smtp",
            Self::Notify { .. } => "notify",
        }
    }
}

/// Delivery worker settings.
#[derive(Debug, Clone, Copy)]
pub struct OutboxConfig {
    /// Whether this instance runs the worker.
    pub worker: bool,
    /// Poll interval.
    pub poll: Duration,
    /// Claim batch size.
    pub batch: u32,
    /// Claim lease.
    pub lease: Duration,
    /// Attempts before dead.
    pub max_attempts: u32,
    /// First retry delay.
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
}

/// Where the identity provider is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Issuer {
    /// The built-in dev identity provider at `{public_base_url}/dev-idp` (dev mode only).
    DevIdp,
    /// A real provider (NHS CIS2), or a mock in tests: the issuer string exactly as configured.
    External(String),
}

/// How we authenticate to the provider's token endpoint.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// `private_key_jwt`: a client assertion signed with our RSA key.
    PrivateKeyJwt {
        /// The key file; `None` in dev mode: a key generated on first use.
        key_file: Option<std::path::PathBuf>,
        /// RS256, RS384 or RS512.
        algorithm: jsonwebtoken::Algorithm,
    },
    /// `client_secret_post`: the secret in the form body.
    ClientSecretPost(ClientSecret),
}

/// A client secret; `Debug` never shows it.
#[derive(Clone)]
pub struct ClientSecret(zeroize::Zeroizing<String>);

impl ClientSecret {
    /// The secret, for the token request only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(****)")
    }
}

/// The OpenID Connect relying-party settings of smartcard sign-in.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The provider.
    pub issuer: Issuer,
    /// Our client id.
    pub client_id: String,
    /// Token-endpoint authentication.
    pub client_auth: ClientAuth,
    /// Redirect URIs front ends may use (exact match).
    pub redirect_uris: Vec<Url>,
    /// Scopes, space-separated.
    pub scopes: String,
    /// `acr_values` of the authorization request.
    pub acr_values: String,
    /// Lowest assurance level accepted.
    pub min_assurance: u8,
    /// The claim linking to `people.smartcard_subject`.
    pub subject_claim: String,
    /// ID-token algorithms accepted (pinned before any key is looked at).
    pub algorithms: Vec<jsonwebtoken::Algorithm>,
    /// Connect and total timeout of each provider call.
    pub timeout: Duration,
    /// Cache lifetime of discovery and keys.
    pub jwks_ttl: Duration,
    /// Least time between refreshes caused by an unknown `kid`.
    pub jwks_min_refresh: Duration,
    /// Lifetime of a started sign-in.
    pub flow_ttl: Duration,
    /// Clock skew tolerated on `exp` and `iat`.
    pub leeway: Duration,
}

/// ID-token algorithms we can verify (RSA keys from the provider's JWKS).
const ID_TOKEN_ALGORITHMS: &[&str] = &["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// One or more settings are missing or not allowed in this mode.
    #[error("{mode} mode cannot start:\n{}", .problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// `dev` or `production`.
        mode: &'static str,
        /// One line per setting, each naming its environment variable.
        problems: Vec<String>,
    },
}

/// Parses settings alone (no subcommand), for tests and tools that build a server in-process.
#[derive(Debug, clap::Parser)]
struct SettingsOnly {
    #[command(flatten)]
    settings: Settings,
}

impl Settings {
    /// Parses settings from arguments (`argv[0]` first) and the `ESR_*` environment.
    pub fn parse_from<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::Parser;
        SettingsOnly::try_parse_from(args).map(|s| s.settings)
    }

    /// Applies the mode's defaults and checks its rules for serving, reporting every problem
    /// at once.
    pub fn resolve(self) -> Result<Config, ConfigError> {
        self.resolve_for(true)
    }

    /// Like [`resolve`](Self::resolve) for commands that do not serve requests (`migrate`,
    /// `seed-demo`): serving-only settings such as the signing key are not required.
    pub fn resolve_for_maintenance(self) -> Result<Config, ConfigError> {
        self.resolve_for(false)
    }

    fn resolve_email(&self, production: bool, problems: &mut Vec<String>) -> Option<EmailConfig> {
        let read_secret = |path: &std::path::Path, name: &str, problems: &mut Vec<String>| {
            match std::fs::read_to_string(path) {
                Ok(s) => Some(s.trim().to_owned()),
                Err(e) => {
                    problems.push(format!("{name}: cannot read {}: {e}", path.display()));
                    None
                }
            }
        };
        let timeout = Duration::from_millis(self.email_timeout_ms.max(1));
        match self.email_transport {
            None if production => {
                problems.push("ESR_EMAIL_TRANSPORT is required: smtp or notify".into());
                None
            }
            None | Some(EmailTransportKind::File) => {
                if production {
                    problems.push(
                        "ESR_EMAIL_TRANSPORT=file is for development; use smtp or notify".into(),
                    );
                    return None;
                }
                Some(EmailConfig::File {
                    dir: self.mailbox_dir.clone(),
                })
            }
            Some(EmailTransportKind::Smtp) => {
                let Some(host) = self.smtp_host.clone() else {
                    problems.push("ESR_SMTP_HOST is required with ESR_EMAIL_TRANSPORT=smtp".into());
                    return None;
                };
                if production && self.smtp_tls == SmtpTls::None {
                    problems.push("ESR_SMTP_TLS=none is not allowed in production".into());
                }
                if self.email_from.parse::<lettre::message::Mailbox>().is_err() {
                    problems.push(format!(
                        "ESR_EMAIL_FROM is not an address: {}",
                        self.email_from
                    ));
                }
                let credentials = match (&self.smtp_username, &self.smtp_password_file) {
                    (Some(user), Some(path)) => {
                        read_secret(path, "ESR_SMTP_PASSWORD_FILE", problems)
                            .map(|p| (user.clone(), p))
                    }
                    (None, None) => None,
                    _ => {
                        problems.push(
                            "ESR_SMTP_USERNAME and ESR_SMTP_PASSWORD_FILE go together".into(),
                        );
                        None
                    }
                };
                let ca_pem = match &self.smtp_ca_file {
                    None => None,
                    Some(_) if self.smtp_tls == SmtpTls::None => {
                        problems.push("ESR_SMTP_CA_FILE needs ESR_SMTP_TLS=starttls or tls".into());
                        None
                    }
                    Some(path) => match std::fs::read(path) {
                        Ok(pem)
                            if pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----")
                                && lettre::transport::smtp::client::Certificate::from_pem(&pem)
                                    .is_ok() =>
                        {
                            Some(pem)
                        }
                        Ok(_) => {
                            problems.push(format!(
                                "ESR_SMTP_CA_FILE: {} holds no PEM certificate",
                                path.display()
                            ));
                            None
                        }
                        Err(e) => {
                            problems.push(format!(
                                "ESR_SMTP_CA_FILE: cannot read {}: {e}",
                                path.display()
                            ));
                            None
                        }
                    },
                };
                Some(EmailConfig::Smtp {
                    host,
                    port: self.smtp_port,
                    tls: self.smtp_tls,
                    credentials,
                    ca_pem,
                    from: self.email_from.clone(),
                    timeout,
                })
            }
            Some(EmailTransportKind::Notify) => {
                let api_key = match &self.notify_api_key_file {
                    Some(path) => read_secret(path, "ESR_NOTIFY_API_KEY_FILE", problems),
                    None => {
                        problems.push(
                            "ESR_NOTIFY_API_KEY_FILE is required with ESR_EMAIL_TRANSPORT=notify"
                                .into(),
                        );
                        None
                    }
                };
                let template_id = self.notify_template_id.clone();
                if template_id.is_none() {
                    problems.push(
                        "ESR_NOTIFY_TEMPLATE_ID is required with ESR_EMAIL_TRANSPORT=notify".into(),
                    );
                }
                if let Some(key) = &api_key
                    && crate::email::notify::NotifyKey::parse(key).is_none()
                {
                    problems.push("ESR_NOTIFY_API_KEY_FILE does not hold a Notify API key (name-serviceid-secret)".into());
                }
                Some(EmailConfig::Notify {
                    base_url: self.notify_base_url.clone(),
                    api_key: api_key?,
                    template_id: template_id?,
                    timeout,
                })
            }
        }
    }

    /// The breached-password check's settings, when `ESR_BREACHED_PASSWORD_API_URL` is set.
    fn resolve_breached(
        &self,
        production: bool,
        problems: &mut Vec<String>,
    ) -> Option<BreachedPasswordsConfig> {
        let raw = self
            .breached_password_api_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())?;
        if !(100..=30_000).contains(&self.breached_password_timeout_ms) {
            problems.push("ESR_BREACHED_PASSWORD_TIMEOUT_MS must be between 100 and 30000".into());
        }
        const NAME: &str = "ESR_BREACHED_PASSWORD_API_URL";
        let Ok(mut url) = Url::parse(raw) else {
            problems.push(format!("{NAME} must be an http(s) URL, not {raw:?}"));
            return None;
        };
        if !check_http_url(NAME, &url, production, problems) {
            return None;
        }
        // `range/ABCDE` is joined onto it: keep the path a directory.
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Some(BreachedPasswordsConfig {
            base_url: url,
            timeout: Duration::from_millis(self.breached_password_timeout_ms),
        })
    }

    /// The smartcard settings, or `None` with the reasons added to `problems`.
    fn resolve_oidc(&self, production: bool, problems: &mut Vec<String>) -> Option<OidcConfig> {
        let before = problems.len();
        let disable_hint = " (or set ESR_SMARTCARD_DISABLED=true)";
        let issuer = match (&self.oidc_issuer, production) {
            (Some(raw), _) => {
                let raw = raw.trim();
                let ok = Url::parse(raw).is_ok_and(|url| {
                    url.host_str().is_some()
                        && (url.scheme() == "https" || (!production && url.scheme() == "http"))
                });
                if !ok {
                    problems.push(format!(
                        "ESR_OIDC_ISSUER must be an https URL (http allowed in dev), not {raw:?}"
                    ));
                }
                Issuer::External(raw.to_owned())
            }
            (None, true) => {
                problems.push(format!(
                    "ESR_OIDC_ISSUER is required: the NHS CIS2 issuer URL{disable_hint}"
                ));
                Issuer::DevIdp
            }
            (None, false) => Issuer::DevIdp,
        };
        let client_id = match (&self.oidc_client_id, production) {
            (Some(id), _) if !id.trim().is_empty() => id.trim().to_owned(),
            (_, true) => {
                problems.push(format!(
                    "ESR_OIDC_CLIENT_ID is required: our client id at CIS2{disable_hint}"
                ));
                String::new()
            }
            (_, false) => "esr-access-dev".to_owned(),
        };
        let assertion_alg = match self.oidc_client_assertion_alg.trim() {
            "RS256" => jsonwebtoken::Algorithm::RS256,
            "RS384" => jsonwebtoken::Algorithm::RS384,
            "RS512" => jsonwebtoken::Algorithm::RS512,
            other => {
                problems.push(format!(
                    "ESR_OIDC_CLIENT_ASSERTION_ALG must be RS256, RS384 or RS512, not {other:?}"
                ));
                jsonwebtoken::Algorithm::RS512
            }
        };
        let client_auth = match (&self.oidc_client_key_file, &self.oidc_client_secret_file) {
            (Some(_), Some(_)) => {
                problems.push(
                    "ESR_OIDC_CLIENT_KEY_FILE and ESR_OIDC_CLIENT_SECRET_FILE are both set: choose private_key_jwt or client_secret_post"
                        .into(),
                );
                None
            }
            (Some(path), None) => {
                if !path.is_file() {
                    problems.push(format!(
                        "ESR_OIDC_CLIENT_KEY_FILE: {} is not a readable file",
                        path.display()
                    ));
                }
                Some(ClientAuth::PrivateKeyJwt {
                    key_file: Some(path.clone()),
                    algorithm: assertion_alg,
                })
            }
            (None, Some(path)) => match std::fs::read_to_string(path) {
                Ok(secret) if !secret.trim().is_empty() => Some(ClientAuth::ClientSecretPost(
                    ClientSecret(zeroize::Zeroizing::new(secret.trim().to_owned())),
                )),
                Ok(_) => {
                    problems.push(format!(
                        "ESR_OIDC_CLIENT_SECRET_FILE: {} is empty",
                        path.display()
                    ));
                    None
                }
                Err(e) => {
                    problems.push(format!(
                        "ESR_OIDC_CLIENT_SECRET_FILE: cannot read {}: {e}",
                        path.display()
                    ));
                    None
                }
            },
            (None, None) if production => {
                problems.push(format!(
                    "ESR_OIDC_CLIENT_KEY_FILE (private_key_jwt) or ESR_OIDC_CLIENT_SECRET_FILE is required{disable_hint}"
                ));
                None
            }
            (None, None) => Some(ClientAuth::PrivateKeyJwt {
                key_file: None,
                algorithm: assertion_alg,
            }),
        };
        let redirect_uris = if self.oidc_redirect_uris.is_empty() && !production {
            // A front end on localhost:3000, and this server's own reference pages.
            let own = format!(
                "http://{}/self-service/smartcard-callback",
                self.listen_addr
            );
            ["http://localhost:3000/smartcard/callback", own.as_str()]
                .iter()
                .filter_map(|u| Url::parse(u).ok())
                .collect()
        } else {
            self.oidc_redirect_uris.clone()
        };
        if redirect_uris.is_empty() {
            problems.push(format!(
                "ESR_OIDC_REDIRECT_URIS is required: the front end's smartcard callback address(es){disable_hint}"
            ));
        }
        for uri in &redirect_uris {
            if uri.fragment().is_some() || !matches!(uri.scheme(), "https" | "http") {
                problems.push(format!(
                    "ESR_OIDC_REDIRECT_URIS: {uri} must be an http(s) URL without a fragment"
                ));
            } else if production && uri.scheme() != "https" {
                problems.push(format!(
                    "ESR_OIDC_REDIRECT_URIS: {uri} must use https in production"
                ));
            }
        }
        let mut algorithms = Vec::new();
        for name in &self.oidc_algorithms {
            let name = name.trim();
            match name.parse::<jsonwebtoken::Algorithm>() {
                Ok(alg) if ID_TOKEN_ALGORITHMS.contains(&name) => algorithms.push(alg),
                _ => problems.push(format!(
                    "ESR_OIDC_ALGORITHMS: {name:?} is not accepted; use RSA signatures ({}). \
                     Never `none` or HS*: a symmetric algorithm would accept tokens signed with \
                     the provider's public key",
                    ID_TOKEN_ALGORITHMS.join(", ")
                )),
            }
        }
        if algorithms.is_empty() && self.oidc_algorithms.is_empty() {
            problems.push("ESR_OIDC_ALGORITHMS must name at least one algorithm".into());
        }
        if !(1..=3).contains(&self.oidc_min_assurance) {
            problems.push("ESR_OIDC_MIN_ASSURANCE must be 1, 2 or 3 (AAL3 for smartcards)".into());
        }
        if self.oidc_subject_claim.trim().is_empty() {
            problems.push("ESR_OIDC_SUBJECT_CLAIM must name a claim (CIS2: uid)".into());
        }
        if !(100..=60_000).contains(&self.oidc_timeout_ms) {
            problems.push("ESR_OIDC_TIMEOUT_MS must be between 100 and 60000".into());
        }
        if !(60..=3_600).contains(&self.oidc_flow_ttl_secs) {
            problems.push("ESR_OIDC_FLOW_TTL_SECS must be between 60 and 3600".into());
        }
        if !self.oidc_scopes.split_whitespace().any(|s| s == "openid") {
            problems.push("ESR_OIDC_SCOPES must include openid".into());
        }
        match client_auth {
            Some(client_auth) if problems.len() == before => Some(OidcConfig {
                issuer,
                client_id,
                client_auth,
                redirect_uris,
                scopes: self
                    .oidc_scopes
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
                acr_values: self.oidc_acr_values.trim().to_owned(),
                min_assurance: self.oidc_min_assurance,
                subject_claim: self.oidc_subject_claim.trim().to_owned(),
                algorithms,
                timeout: Duration::from_millis(self.oidc_timeout_ms),
                jwks_ttl: Duration::from_secs(self.oidc_jwks_ttl_secs),
                jwks_min_refresh: Duration::from_secs(self.oidc_jwks_min_refresh_secs),
                flow_ttl: Duration::from_secs(self.oidc_flow_ttl_secs),
                leeway: Duration::from_secs(60),
            }),
            _ => None,
        }
    }

    fn resolve_for(self, serving: bool) -> Result<Config, ConfigError> {
        let production = self.mode == Mode::Production;
        let mut problems = Vec::new();
        if serving && !production && !self.listen_addr.ip().is_loopback() && !self.dev_allow_remote
        {
            problems.push(format!(
                "ESR_LISTEN_ADDR={} is not a loopback address, and dev mode serves the dev identity provider and mailbox: listen on 127.0.0.1, run with ESR_MODE=production, or set ESR_DEV_ALLOW_REMOTE=true on a closed network",
                self.listen_addr
            ));
        }

        let raw_url = match (&self.database_url, &self.database_url_file) {
            (Some(url), _) => Some(url.clone()),
            (None, Some(path)) => match std::fs::read_to_string(path) {
                Ok(s) => Some(s.trim().to_owned()),
                Err(e) => {
                    problems.push(format!(
                        "ESR_DATABASE_URL_FILE: cannot read {}: {e}",
                        path.display()
                    ));
                    None
                }
            },
            (None, None) if production => {
                problems.push(
                    "ESR_DATABASE_URL is required (postgres://USER:PASSWORD@HOST:PORT/DB)".into(),
                );
                None
            }
            (None, None) => Some("sqlite://./var/esr.db".to_owned()),
        };
        let database_url = raw_url.and_then(|raw| match DatabaseUrl::parse(&raw) {
            Ok(url) => Some(url),
            Err(e) => {
                problems.push(format!("ESR_DATABASE_URL: {e}"));
                None
            }
        });
        if production
            && !self.allow_sqlite_in_production
            && database_url
                .as_ref()
                .is_some_and(|u| u.backend() == Backend::Sqlite)
        {
            problems.push(
                "ESR_DATABASE_URL: SQLite is for development; use PostgreSQL in production \
                 or set ESR_ALLOW_SQLITE_IN_PRODUCTION=true for a single instance"
                    .into(),
            );
        }

        let public_base_url = match (&self.public_base_url, production) {
            (Some(url), _) => Some(url.clone()),
            (None, true) => {
                problems.push(
                    "ESR_PUBLIC_BASE_URL is required (the https:// address clients use to reach this API)"
                        .into(),
                );
                None
            }
            (None, false) => Url::parse(&format!("http://{}", self.listen_addr)).ok(),
        };
        if let Some(url) = &public_base_url {
            check_http_url("ESR_PUBLIC_BASE_URL", url, production, &mut problems);
        }

        if self.database_pool_size == 0 {
            problems.push("ESR_DATABASE_POOL_SIZE must be at least 1".into());
        }
        if self.database_timeout_ms == 0 {
            problems.push("ESR_DATABASE_TIMEOUT_MS must be at least 1".into());
        }
        if self.password_min_length < 8 {
            problems.push("ESR_PASSWORD_MIN_LENGTH must be at least 8 (NIST SP 800-63B)".into());
        }
        if self.password_max_length < 64 || self.password_max_length < self.password_min_length {
            problems.push(
                "ESR_PASSWORD_MAX_LENGTH must be at least 64 and at least ESR_PASSWORD_MIN_LENGTH"
                    .into(),
            );
        }
        if self.password_max_length > 1024 {
            problems.push("ESR_PASSWORD_MAX_LENGTH must be at most 1024".into());
        }
        match (&self.signing_key_file, production && serving) {
            (None, true) => problems.push(
                "ESR_SIGNING_KEY_FILE is required (an Ed25519 PKCS#8 PEM file, e.g. from `openssl genpkey -algorithm ed25519`)"
                    .into(),
            ),
            (Some(path), _) if !path.is_file() => problems.push(format!(
                "ESR_SIGNING_KEY_FILE: {} is not a readable file",
                path.display()
            )),
            _ => {}
        }
        let audit_digest_key = match (&self.audit_key_file, &self.signing_key_file) {
            (Some(path), _) => match std::fs::read(path) {
                Ok(secret) if secret.trim_ascii().len() >= 32 => {
                    crate::audit::DigestKey::from_secret(secret.trim_ascii())
                }
                Ok(_) => {
                    problems.push(format!(
                        "ESR_AUDIT_KEY_FILE: {} must hold at least 32 bytes of secret",
                        path.display()
                    ));
                    crate::audit::DigestKey::from_secret(b"")
                }
                Err(e) => {
                    problems.push(format!(
                        "ESR_AUDIT_KEY_FILE: cannot read {}: {e}",
                        path.display()
                    ));
                    crate::audit::DigestKey::from_secret(b"")
                }
            },
            // Unreadable signing key files are reported above.
            (None, Some(path)) => {
                crate::audit::DigestKey::from_secret(&std::fs::read(path).unwrap_or_default())
            }
            (None, None) => crate::audit::DigestKey::from_secret(b"esr-access development"),
        };
        if !(1..=100).contains(&self.lockout_threshold) {
            problems.push("ESR_LOCKOUT_THRESHOLD must be between 1 and 100".into());
        }
        if !(60..=3600).contains(&self.access_token_ttl_secs) {
            problems.push("ESR_ACCESS_TOKEN_TTL_SECS must be between 60 and 3600".into());
        }
        if self.refresh_token_ttl_hours == 0 || self.session_max_hours == 0 {
            problems.push(
                "ESR_REFRESH_TOKEN_TTL_HOURS and ESR_SESSION_MAX_HOURS must be at least 1".into(),
            );
        }
        if self.argon2_memory_kib < 8 * self.argon2_parallelism.max(1)
            || self.argon2_iterations == 0
            || self.argon2_parallelism == 0
        {
            problems.push(
                "ESR_ARGON2_*: memory ≥ 8 KiB × parallelism, iterations and parallelism ≥ 1".into(),
            );
        } else if production && (self.argon2_memory_kib < 19_456 || self.argon2_iterations < 2) {
            problems.push(
                "ESR_ARGON2_*: production needs at least the OWASP parameters (m = 19456 KiB, t = 2)".into(),
            );
        }
        if self.hash_workers == Some(0) {
            problems.push("ESR_HASH_WORKERS must be at least 1".into());
        }
        let web_base_url = match (&self.web_base_url, production && serving, &public_base_url) {
            (Some(url), _, _) => Some(url.clone()),
            (None, true, _) => {
                problems.push(
                    "ESR_WEB_BASE_URL is required (the https:// address of the pages that email links open)".into(),
                );
                None
            }
            (None, false, Some(public)) => public.join("self-service").ok(),
            (None, false, None) => None,
        };
        if let Some(url) = &web_base_url
            && production
            && url.scheme() != "https"
        {
            problems.push(format!(
                "ESR_WEB_BASE_URL must use https in production, not {url}"
            ));
        }
        let email = self.resolve_email(production && serving, &mut problems);
        if !(1..=7 * 24 * 60).contains(&self.link_ttl_minutes) {
            problems.push("ESR_LINK_TTL_MINUTES must be between 1 and 10080".into());
        }
        if self.contact_change_hold_hours > 30 * 24 {
            problems.push("ESR_CONTACT_CHANGE_HOLD_HOURS must be between 0 and 720".into());
        }
        if self.outbox_poll_ms == 0
            || self.outbox_batch == 0
            || self.outbox_lease_secs == 0
            || self.outbox_max_attempts == 0
        {
            problems.push(
                "ESR_OUTBOX_POLL_MS, _BATCH, _LEASE_SECS and _MAX_ATTEMPTS must be at least 1"
                    .into(),
            );
        }
        if self.email_timeout_ms >= self.outbox_lease_secs.saturating_mul(1000) {
            // A send that outlives its lease may be taken over and sent again by another
            // instance while the first is still waiting for the relay.
            problems.push(
                "ESR_EMAIL_TIMEOUT_MS must be shorter than ESR_OUTBOX_LEASE_SECS (a send that outlives its lease can be duplicated)"
                    .into(),
            );
        }
        if self.workers == Some(0) {
            problems.push("ESR_WORKERS must be at least 1".into());
        }

        if self.workplace_session_hours == 0 || self.workplace_session_hours > 24 {
            problems.push("ESR_WORKPLACE_SESSION_HOURS must be between 1 and 24".into());
        }
        // Like the signing key, the provider settings matter only to a serving instance.
        let smartcard = if self.smartcard_disabled || !serving {
            None
        } else {
            self.resolve_oidc(production, &mut problems)
        };

        let breached_passwords = self.resolve_breached(production, &mut problems);

        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        match (
            problems.is_empty(),
            database_url,
            public_base_url,
            web_base_url,
            email,
        ) {
            (true, Some(database_url), Some(public_base_url), Some(web_base_url), Some(email)) => {
                Ok(Config {
                    mode: self.mode,
                    listen_addr: self.listen_addr,
                    database_url,
                    database_pool_size: self.database_pool_size,
                    database_timeout: Duration::from_millis(self.database_timeout_ms),
                    auto_migrate: self.auto_migrate.unwrap_or(!production),
                    seed_demo: !production,
                    log_format: self.log_format.unwrap_or(if production {
                        LogFormat::Json
                    } else {
                        LogFormat::Pretty
                    }),
                    log_filter: self.log_filter,
                    workers: self.workers.unwrap_or(cores),
                    shutdown_timeout: Duration::from_secs(self.shutdown_timeout_secs),
                    signing_key_file: self.signing_key_file,
                    audit_digest_key,
                    token_issuer: public_base_url.as_str().trim_end_matches('/').to_owned(),
                    public_base_url,
                    token_audience: self.token_audience,
                    access_token_ttl: Duration::from_secs(self.access_token_ttl_secs),
                    refresh_token_ttl: Duration::from_secs(self.refresh_token_ttl_hours * 3600),
                    session_max: Duration::from_secs(self.session_max_hours * 3600),
                    lockout: esr_domain::LockoutPolicy {
                        threshold: self.lockout_threshold,
                    },
                    argon2: esr_domain::Argon2Params {
                        memory_kib: self.argon2_memory_kib,
                        iterations: self.argon2_iterations,
                        parallelism: self.argon2_parallelism,
                    },
                    hash_workers: self.hash_workers.unwrap_or(cores),
                    hash_queue: self
                        .hash_queue
                        .unwrap_or(2 * self.hash_workers.unwrap_or(cores)),
                    trusted_proxies: self.trusted_proxies,
                    rate_login_per_ip: self.rate_login_per_ip,
                    rate_login_per_username: self.rate_login_per_username,
                    web_base_url,
                    email,
                    link_ttl: Duration::from_secs(self.link_ttl_minutes * 60),
                    contact_change_hold: Duration::from_secs(self.contact_change_hold_hours * 3600),
                    outbox: OutboxConfig {
                        worker: self.delivery_worker,
                        poll: Duration::from_millis(self.outbox_poll_ms),
                        batch: self.outbox_batch,
                        lease: Duration::from_secs(self.outbox_lease_secs),
                        max_attempts: self.outbox_max_attempts,
                        retry_base: Duration::from_millis(self.outbox_retry_base_ms),
                        retry_max: Duration::from_secs(self.outbox_retry_max_secs),
                    },
                    rate_recovery_per_ip: self.rate_recovery_per_ip,
                    rate_recovery_per_email: self.rate_recovery_per_email,
                    emails_per_address_per_hour: self.emails_per_address_per_hour,
                    smartcard,
                    workplace_session: Duration::from_secs(self.workplace_session_hours * 3600),
                    import_body_limit: self.import_body_limit_mib * 1024 * 1024,
                    password_policy: PasswordPolicy {
                        min_length: self.password_min_length,
                        max_length: self.password_max_length,
                        history_depth: self.password_history,
                        breached_check: breached_passwords.is_some(),
                        ..PasswordPolicy::default()
                    },
                    breached_passwords,
                })
            }
            _ => Err(ConfigError::Invalid {
                mode: if production { "production" } else { "dev" },
                problems,
            }),
        }
    }
}

/// An IP address (one host) or a CIDR network, e.g. `10.0.0.7` or `10.0.0.0/24`.
fn parse_ip_or_net(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is neither an IP address nor a CIDR network"))
}

/// Checks a setting's URL: http(s) with a host, and https in production. Records what is
/// wrong in `problems`; returns whether the URL is usable at all (an http URL in production is
/// reported but still usable, so every other problem is listed too).
fn check_http_url(name: &str, url: &Url, production: bool, problems: &mut Vec<String>) -> bool {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        problems.push(format!("{name} must be an http(s) URL, not {url}"));
        return false;
    }
    if production && url.scheme() != "https" {
        problems.push(format!("{name} must use https in production, not {url}"));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(args: &[&str]) -> Settings {
        let mut argv = vec!["esr-api"];
        argv.extend_from_slice(args);
        Settings::parse_from(argv).expect("arguments parse")
    }

    #[test]
    fn dev_defaults_need_nothing() {
        let config = settings(&["--mode", "dev"]).resolve().expect("dev config");
        assert_eq!(config.database_url.backend(), Backend::Sqlite);
        assert_eq!(config.database_url.expose(), "./var/esr.db");
        assert!(config.auto_migrate && config.seed_demo);
        assert_eq!(config.log_format, LogFormat::Pretty);
    }

    #[test]
    fn breached_password_api_is_off_by_default_and_validated_when_set() {
        let config = settings(&["--mode", "dev"]).resolve().expect("dev config");
        assert!(config.breached_passwords.is_none());
        assert!(!config.password_policy.breached_check);

        let config = settings(&[
            "--mode",
            "dev",
            "--breached-password-api-url",
            "https://api.pwnedpasswords.com",
        ])
        .resolve()
        .expect("dev config");
        let breached = config.breached_passwords.expect("on");
        assert_eq!(
            breached.base_url.as_str(),
            "https://api.pwnedpasswords.com/"
        );
        assert_eq!(breached.timeout, Duration::from_millis(1_500));
        assert!(config.password_policy.breached_check);

        for (args, expected) in [
            (
                vec!["--breached-password-api-url", "ftp://example.org/"],
                "ESR_BREACHED_PASSWORD_API_URL must be an http(s) URL",
            ),
            (
                vec!["--breached-password-api-url", "not a url"],
                "ESR_BREACHED_PASSWORD_API_URL must be an http(s) URL",
            ),
            (
                vec![
                    "--breached-password-api-url",
                    "https://example.org/",
                    "--breached-password-timeout-ms",
                    "10",
                ],
                "ESR_BREACHED_PASSWORD_TIMEOUT_MS",
            ),
        ] {
            let mut argv = vec!["--mode", "dev"];
            argv.extend(args);
            let text = settings(&argv).resolve().expect_err("refused").to_string();
            assert!(text.contains(expected), "{text}");
        }
        let text = settings(&[
            "--mode",
            "production",
            "--breached-password-api-url",
            "http://pwned.internal/",
        ])
        .resolve()
        .expect_err("refused")
        .to_string();
        assert!(
            text.contains("ESR_BREACHED_PASSWORD_API_URL must use https in production"),
            "{text}"
        );
    }

    #[test]
    fn production_names_every_missing_setting() {
        let err = settings(&["--mode", "production"])
            .resolve()
            .expect_err("refused");
        let text = err.to_string();
        assert!(text.contains("ESR_DATABASE_URL"), "{text}");
        assert!(text.contains("ESR_PUBLIC_BASE_URL"), "{text}");
        assert!(text.contains("ESR_SIGNING_KEY_FILE"), "{text}");
        assert!(text.contains("ESR_WEB_BASE_URL"), "{text}");
        assert!(text.contains("ESR_EMAIL_TRANSPORT"), "{text}");
    }

    #[test]
    fn production_refuses_sqlite_and_plain_http() {
        let err = settings(&[
            "--mode",
            "production",
            "--database-url",
            "sqlite://./x.db",
            "--public-base-url",
            "http://esr.example",
        ])
        .resolve()
        .expect_err("refused");
        let text = err.to_string();
        assert!(text.contains("SQLite is for development"), "{text}");
        assert!(text.contains("must use https"), "{text}");
    }

    #[test]
    fn production_with_everything_starts_strict() {
        let config = settings(&[
            "--mode",
            "production",
            "--database-url",
            "postgres://esr:pw@db/esr",
            "--public-base-url",
            "https://esr.example",
        ])
        .resolve_for_maintenance()
        .expect("production config");
        assert!(!config.auto_migrate && !config.seed_demo);
        assert_eq!(config.log_format, LogFormat::Json);
    }
    #[test]
    fn audit_digest_key_comes_from_its_file_or_the_signing_key() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("audit.key");
        std::fs::write(&secret, "0123456789abcdef0123456789abcdef\n").unwrap();
        let short = dir.path().join("short.key");
        std::fs::write(&short, "too short").unwrap();
        let signing = dir.path().join("signing.pem");
        std::fs::write(&signing, "-----BEGIN PRIVATE KEY-----\n...").unwrap();
        let key = |args: &[&str]| settings(args).resolve().map(|c| c.audit_digest_key);

        let from_file = key(&["--audit-key-file", secret.to_str().unwrap()]).unwrap();
        assert_eq!(
            from_file,
            crate::audit::DigestKey::from_secret(b"0123456789abcdef0123456789abcdef")
        );
        let from_signing = key(&["--signing-key-file", signing.to_str().unwrap()]).unwrap();
        let dev = key(&[]).unwrap();
        assert!(from_file != from_signing && from_signing != dev && dev != from_file);
        // The file wins over the signing key, so rotating the signing key keeps digests.
        let both = key(&[
            "--audit-key-file",
            secret.to_str().unwrap(),
            "--signing-key-file",
            signing.to_str().unwrap(),
        ])
        .unwrap();
        assert_eq!(both, from_file);

        let text = key(&["--audit-key-file", short.to_str().unwrap()])
            .expect_err("refused")
            .to_string();
        assert!(text.contains("at least 32 bytes"), "{text}");
        let text = key(&["--audit-key-file", "/nonexistent/audit.key"])
            .expect_err("refused")
            .to_string();
        assert!(text.contains("ESR_AUDIT_KEY_FILE: cannot read"), "{text}");
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let config = settings(&["--trusted-proxies", "172.28.0.10, 10.0.0.0/24,::1"])
            .resolve()
            .expect("dev config");
        let nets: Vec<String> = config
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(nets, ["172.28.0.10/32", "10.0.0.0/24", "::1/128"]);
        let err = Settings::parse_from(["esr-api", "--trusted-proxies", "nginx"])
            .expect_err("a name is refused")
            .to_string();
        assert!(
            err.contains("neither an IP address nor a CIDR network"),
            "{err}"
        );
    }

    /// A self-signed certificate (CN and SAN `mail`), as an organisation's own relay has.
    const RELAY_CA_PEM: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBhTCCASygAwIBAgIUB92+RdY88rymNEE5K9RklCh32LgwCgYIKoZIzj0EAwIw\n\
DzENMAsGA1UEAwwEbWFpbDAgFw0yNjEyMDcwMTM3MzBaGA8yMTI2MTExMzAxMzcz\n\
MFowDzENMAsGA1UEAwwEbWFpbDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABByL\n\
C7FMLQp4bsq6nXNZ+N12NRyDN9i3QDsIaMGEWYxqCiRC6385W/9R2UoHVBPr7liJ\n\
xN/0OPKU1LXSM3rFXH2jZDBiMB0GA1UdDgQWBBT8moee/7cU6kK63yhTWvEt0dt8\n\
8zAfBgNVHSMEGDAWgBT8moee/7cU6kK63yhTWvEt0dt88zAPBgNVHRMBAf8EBTAD\n\
AQH/MA8GA1UdEQQIMAaCBG1haWwwCgYIKoZIzj0EAwIDRwAwRAIgXCsIsju3nnKL\n\
dP17dIxPlZ5J0aLUI6fRiKONxJfh+hYCIDw6Gmmxyg+xMRwyeiGc2oFdj3q6P6kN\n\
JvfjhjJRzg+b\n\
-----END CERTIFICATE-----\n\
";

    /// (A runtime: lettre's connection pool starts with the transport.)
    #[actix_web::test]
    async fn smtp_ca_file_is_read_checked_and_used() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("relay-ca.pem");
        std::fs::write(&good, RELAY_CA_PEM).unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let smtp = |ca: &std::path::Path, tls: &str| {
            settings(&[
                "--email-transport",
                "smtp",
                "--smtp-host",
                "mail",
                "--smtp-tls",
                tls,
                "--smtp-ca-file",
                ca.to_str().unwrap(),
            ])
            .resolve()
        };
        let config = smtp(&good, "starttls").expect("a PEM certificate is accepted");
        match &config.email {
            EmailConfig::Smtp { ca_pem, .. } => {
                assert_eq!(ca_pem.as_deref(), Some(RELAY_CA_PEM.as_bytes()));
            }
            other => panic!("{other:?}"),
        }
        crate::email::transport::Transport::from_config(&config.email)
            .expect("TLS parameters with the extra root build");
        let implicit = smtp(&good, "tls").expect("implicit TLS too");
        crate::email::transport::Transport::from_config(&implicit.email).expect("builds");

        let text = smtp(&junk, "starttls").expect_err("refused").to_string();
        assert!(
            text.contains("ESR_SMTP_CA_FILE") && text.contains("no PEM certificate"),
            "{text}"
        );
        let text = smtp(&dir.path().join("absent.pem"), "starttls")
            .expect_err("refused")
            .to_string();
        assert!(text.contains("ESR_SMTP_CA_FILE: cannot read"), "{text}");
        let text = smtp(&good, "none").expect_err("refused").to_string();
        assert!(
            text.contains("ESR_SMTP_CA_FILE needs ESR_SMTP_TLS"),
            "{text}"
        );
    }

    #[test]
    fn production_needs_smartcard_settings_or_an_explicit_disable() {
        let base = [
            "--mode",
            "production",
            "--database-url",
            "postgres://esr:pw@db/esr",
            "--public-base-url",
            "https://esr.example",
        ];
        let text = settings(&base).resolve().expect_err("refused").to_string();
        for name in [
            "ESR_OIDC_ISSUER",
            "ESR_OIDC_CLIENT_ID",
            "ESR_OIDC_CLIENT_KEY_FILE",
            "ESR_OIDC_REDIRECT_URIS",
            "ESR_SMARTCARD_DISABLED=true",
        ] {
            assert!(text.contains(name), "{name} in {text}");
        }
        let mut disabled = base.to_vec();
        disabled.push("--smartcard-disabled");
        let text = settings(&disabled)
            .resolve()
            .expect_err("no key")
            .to_string();
        assert!(!text.contains("ESR_OIDC"), "{text}");

        let mut plain = base.to_vec();
        plain.extend([
            "--oidc-issuer",
            "http://cis2.example",
            "--oidc-client-id",
            "esr",
            "--oidc-client-secret-file",
            "/nonexistent",
            "--oidc-redirect-uris",
            "http://portal.example/cb",
        ]);
        let text = settings(&plain).resolve().expect_err("refused").to_string();
        for expected in [
            "ESR_OIDC_ISSUER must be an https URL",
            "ESR_OIDC_CLIENT_SECRET_FILE: cannot read",
            "must use https in production",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
    }

    #[test]
    fn dev_defaults_to_the_dev_identity_provider() {
        let config = settings(&[]).resolve().expect("dev config");
        let oidc = config.smartcard.expect("enabled in dev");
        assert_eq!(oidc.issuer, Issuer::DevIdp);
        assert_eq!(oidc.client_id, "esr-access-dev");
        assert!(matches!(
            oidc.client_auth,
            ClientAuth::PrivateKeyJwt {
                key_file: None,
                algorithm: jsonwebtoken::Algorithm::RS512
            }
        ));
        assert_eq!(
            oidc.redirect_uris[0].as_str(),
            "http://localhost:3000/smartcard/callback"
        );
        assert_eq!(oidc.algorithms, [jsonwebtoken::Algorithm::RS256]);
        assert_eq!(
            (
                oidc.min_assurance,
                oidc.subject_claim.as_str(),
                oidc.acr_values.as_str()
            ),
            (3, "uid", "AAL3_ANY")
        );
        assert_eq!(config.workplace_session, Duration::from_secs(8 * 3600));
        // The issuer is kept exactly as written: CIS2's names port 443.
        let cis2 = "https://am.nhsidentity.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare";
        let config = settings(&["--oidc-issuer", cis2])
            .resolve()
            .expect("dev config");
        assert_eq!(
            config.smartcard.expect("enabled").issuer,
            Issuer::External(cis2.to_owned())
        );
    }

    #[test]
    fn an_email_send_must_not_outlive_its_outbox_lease() {
        let text = settings(&["--outbox-lease-secs", "5", "--email-timeout-ms", "5000"])
            .resolve()
            .expect_err("refused")
            .to_string();
        assert!(
            text.contains("ESR_EMAIL_TIMEOUT_MS must be shorter"),
            "{text}"
        );
        settings(&["--outbox-lease-secs", "5", "--email-timeout-ms", "4999"])
            .resolve()
            .expect("a send shorter than the lease");
    }

    #[test]
    fn id_token_algorithms_refuse_none_and_hmac() {
        for alg in ["none", "HS256", "HS512", "EdDSA", "ES256"] {
            let text = settings(&["--oidc-algorithms", alg])
                .resolve()
                .expect_err("refused")
                .to_string();
            assert!(text.contains("ESR_OIDC_ALGORITHMS"), "{alg}: {text}");
        }
        let config = settings(&["--oidc-algorithms", "RS256,PS256"])
            .resolve()
            .expect("RSA algorithms");
        assert_eq!(config.smartcard.expect("enabled").algorithms.len(), 2);
        let text = settings(&["--oidc-min-assurance", "4"])
            .resolve()
            .expect_err("refused")
            .to_string();
        assert!(text.contains("ESR_OIDC_MIN_ASSURANCE"), "{text}");
    }
}
