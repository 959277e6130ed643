//! Configuration: `ESR_*` environment variables (or the matching `--flags`), resolved into a
//! validated [`Config`]. Production refuses to start with a dev-only or missing setting, and
//! names every one at once.
//!
//! Each section (server, database, passwords, tokens, email, smartcard, limits) holds its own
//! flags and resolves them on its own, adding what is wrong to one shared list of problems so
//! that start-up still reports every problem together.

mod database;
mod email;
mod limits;
mod mobile_apps;
mod passwords;
mod retention;
mod server;
mod smartcard;
mod tokens;

use std::net::SocketAddr;
use std::time::Duration;

use clap::ValueEnum;
use esr_domain::PasswordPolicy;
use esr_persistence::DatabaseUrl;
use url::Url;

pub use database::DatabaseSettings;
#[cfg(test)]
pub(crate) use email::tests::RELAY_CA_PEM;
pub use email::{
    EmailConfig, EmailSettings, EmailTransportKind, NotifyKey, NotifyTemplateIds, OutboxConfig,
    SmtpTls,
};
pub use limits::LimitSettings;
pub use mobile_apps::{AndroidApp, MobileAppSettings, MobileApps};
pub use passwords::{BreachedPasswordsConfig, PasswordSettings};
pub use retention::{Retention, RetentionSettings};
pub use server::{LogFormat, ServerSettings};
pub use smartcard::{ClientAuth, ClientSecret, Issuer, OidcConfig, SmartcardSettings};
pub use tokens::AccessTokenSettings;

/// Which defaults apply and how strict start-up is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Local development: SQLite under `./var/`, migrations applied and demo data seeded on start.
    Dev,
    /// Production: every setting explicit, no demo data, no dev endpoints.
    Production,
}

/// The raw settings as given on the command line or in the environment.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// `dev` (default) or `production`.
    #[arg(long, env = "ESR_MODE", value_enum, default_value_t = Mode::Dev, global = true)]
    pub mode: Mode,

    #[command(flatten)]
    pub server: ServerSettings,
    #[command(flatten)]
    pub database: DatabaseSettings,
    #[command(flatten)]
    pub passwords: PasswordSettings,
    #[command(flatten)]
    pub tokens: AccessTokenSettings,
    #[command(flatten)]
    pub email: EmailSettings,
    #[command(flatten)]
    pub smartcard: SmartcardSettings,
    #[command(flatten)]
    pub limits: LimitSettings,
    #[command(flatten)]
    pub mobile_apps: MobileAppSettings,
    #[command(flatten)]
    pub retention: RetentionSettings,
}

/// A validated configuration: every value concrete, every rule of the mode checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// The My ESR app's association with this domain (`/.well-known/` files).
    pub mobile_apps: MobileApps,
    /// Dev or production.
    pub mode: Mode,
    /// Listen address (port 0 picks a free port).
    pub listen_addr: SocketAddr,
    /// The operator listener's address: metrics and health checks (port 0 picks a free port).
    pub operator_listen_addr: SocketAddr,
    /// Whether Swagger UI is served.
    pub swagger_ui: bool,
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
    /// The key of the audit chain, derived once from the audit key (see
    /// [`crate::audit::DigestKey::chain_key`]).
    pub audit_chain: esr_persistence::audit::ChainKey,
    /// Seals smartcard sign-in flows into their `state`, derived once from the audit key.
    pub smartcard_flow_key: crate::smartcard_flow::FlowSealKey,
    /// Seals authenticator-app secrets and passkey credentials, and keys recovery-code digests.
    pub mfa_key: crate::mfa::MfaKey,
    /// The WebAuthn relying party (the host of `ESR_WEB_BASE_URL`); `None` when that address has
    /// no domain name (dev on a non-loopback IP address), and then passkeys are not offered.
    pub passkeys: Option<crate::mfa::passkey::RelyingParty>,
    /// Token issuer (`iss`): the public base URL.
    pub token_issuer: String,
    /// Token audience (`aud`).
    pub token_audience: String,
    /// Access-token lifetime.
    pub access_token_ttl: Duration,
    /// Refresh-token lifetime.
    pub refresh_token_ttl: Duration,
    /// How long a just-spent refresh token still answers with the same successor.
    pub refresh_grace: Duration,
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
    /// How long headers and a JSON body may take to arrive, and a CSV body may pause.
    pub body_timeout: Duration,
    /// Open connections accepted at most.
    pub max_connections: usize,
    /// Audit rows an hour for requests that concern no account.
    pub anonymous_audits_per_hour: u32,
    /// How long each class of data is kept, and how often this instance purges.
    pub retention: Retention,
}

/// The passkey relying party of the pages at `web_base_url`, also accepting the Android app.
/// Production needs one; dev goes without when the address has no domain name.
pub fn passkey_relying_party(
    web_base_url: &Url,
    apps: &MobileApps,
) -> Result<crate::mfa::passkey::RelyingParty, crate::mfa::passkey::RelyingPartyError> {
    let fingerprints = apps
        .android
        .as_ref()
        .map(|a| a.fingerprints.clone())
        .unwrap_or_default();
    crate::mfa::passkey::RelyingParty::for_pages(web_base_url, &fingerprints)
}

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

    fn resolve_for(self, serving: bool) -> Result<Config, ConfigError> {
        let production = self.mode == Mode::Production;
        let mut problems = Vec::new();
        let listen_addr = self.server.listen_addr;
        let server = self.server.resolve(production, serving, &mut problems);
        let database = self.database.resolve(production, &mut problems);
        let passwords = self.passwords.resolve(production, &mut problems);
        let tokens = self.tokens.resolve(production && serving, &mut problems);
        let email = self.email.resolve(production && serving, &mut problems);
        let smartcard = self
            .smartcard
            .resolve(production, serving, listen_addr, &mut problems);
        let limits = self.limits.resolve();
        let mobile_apps = self.mobile_apps.resolve(&mut problems);
        let passkeys = server.as_ref().and_then(|server| {
            match passkey_relying_party(&server.web_base_url, &mobile_apps) {
                Ok(rp) => Some(rp),
                Err(e) if production => {
                    problems.push(e.to_string());
                    None
                }
                Err(_) => None,
            }
        });

        match (problems.is_empty(), server, database, email) {
            (true, Some(server), Some(database), Some(email)) => Ok(Config {
                mfa_key: tokens
                    .mfa_key
                    .unwrap_or_else(|| tokens::dev_mfa_key(&database.url)),
                mode: self.mode,
                mobile_apps,
                passkeys,
                listen_addr: server.listen_addr,
                operator_listen_addr: server.operator_listen_addr,
                swagger_ui: server.swagger_ui,
                database_url: database.url,
                database_pool_size: database.pool_size,
                database_timeout: database.timeout,
                auto_migrate: database.auto_migrate,
                seed_demo: !production,
                log_format: server.log_format,
                log_filter: server.log_filter,
                workers: server.workers,
                shutdown_timeout: server.shutdown_timeout,
                signing_key_file: tokens.signing_key_file,
                audit_chain: tokens.audit_digest_key.chain_key(),
                smartcard_flow_key: crate::smartcard_flow::FlowSealKey::derive(
                    &tokens.audit_digest_key,
                ),
                audit_digest_key: tokens.audit_digest_key,
                token_issuer: server
                    .public_base_url
                    .as_str()
                    .trim_end_matches('/')
                    .to_owned(),
                public_base_url: server.public_base_url,
                token_audience: tokens.audience,
                access_token_ttl: tokens.access_ttl,
                refresh_token_ttl: tokens.refresh_ttl,
                refresh_grace: tokens.refresh_grace,
                session_max: tokens.session_max,
                lockout: passwords.lockout,
                argon2: passwords.argon2,
                hash_workers: passwords.hash_workers,
                hash_queue: passwords.hash_queue,
                trusted_proxies: server.trusted_proxies,
                rate_login_per_ip: limits.rate_login_per_ip,
                rate_login_per_username: limits.rate_login_per_username,
                web_base_url: server.web_base_url,
                email: email.transport,
                link_ttl: email.link_ttl,
                contact_change_hold: email.contact_change_hold,
                outbox: email.outbox,
                rate_recovery_per_ip: limits.rate_recovery_per_ip,
                rate_recovery_per_email: limits.rate_recovery_per_email,
                emails_per_address_per_hour: limits.emails_per_address_per_hour,
                smartcard: smartcard.oidc,
                workplace_session: smartcard.workplace_session,
                import_body_limit: limits.import_body_limit,
                body_timeout: limits.body_timeout,
                max_connections: limits.max_connections,
                anonymous_audits_per_hour: limits.anonymous_audits_per_hour,
                retention: self.retention.resolve(),
                password_policy: passwords.policy,
                breached_passwords: passwords.breached,
            }),
            _ => Err(ConfigError::Invalid {
                mode: if production { "production" } else { "dev" },
                problems,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings parsed from `args` after the program name.
    pub(super) fn settings(args: &[&str]) -> Settings {
        let mut argv = vec!["esr-api"];
        argv.extend_from_slice(args);
        Settings::parse_from(argv).expect("arguments parse")
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
}
