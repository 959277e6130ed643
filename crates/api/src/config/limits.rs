//! Rate limits and the largest request body.

/// Rate limits per client, username and address, and the people-import body limit.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitSettings {
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

    /// Recovery and unlock requests per minute per client IP (0 = off).
    #[arg(
        long,
        env = "ESR_RATE_RECOVERY_PER_IP",
        default_value_t = 30,
        global = true
    )]
    pub rate_recovery_per_ip: u32,

    /// Recovery and unlock requests per hour per email address and date of birth typed
    /// together (0 = off).
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

    /// Seconds a request has to send its headers, and a JSON body to arrive whole; the people
    /// import's CSV body may instead pause this long between chunks. A client trickling bytes
    /// (slowloris) holds a connection for this long at most, then gets `408 request-timeout`.
    #[arg(
        long,
        env = "ESR_BODY_TIMEOUT_SECS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=300),
        global = true
    )]
    pub body_timeout_secs: u64,

    /// Open connections one instance accepts at most (shared among its worker threads);
    /// further connections wait in the listen backlog instead of using memory and file handles.
    #[arg(
        long,
        env = "ESR_MAX_CONNECTIONS",
        default_value_t = 10_000,
        value_parser = clap::value_parser!(u64).range(1..=1_000_000),
        global = true
    )]
    pub max_connections: u64,

    /// Audit rows an hour for requests that concern no account (unmatched or suppressed
    /// recovery and unlock requests): at most one per typed email an hour, and this many in
    /// all; beyond, they are only counted in the metrics. Anonymous floods cannot grow the
    /// permanent audit trail without bound.
    #[arg(
        long,
        env = "ESR_ANONYMOUS_AUDITS_PER_HOUR",
        default_value_t = 1_000,
        global = true
    )]
    pub anonymous_audits_per_hour: u32,
}

/// The limits section, resolved.
pub(super) struct Limits {
    pub(super) rate_login_per_ip: u32,
    pub(super) rate_login_per_username: u32,
    pub(super) rate_recovery_per_ip: u32,
    pub(super) rate_recovery_per_email: u32,
    pub(super) emails_per_address_per_hour: u32,
    pub(super) import_body_limit: u64,
    pub(super) body_timeout: std::time::Duration,
    pub(super) max_connections: usize,
    pub(super) anonymous_audits_per_hour: u32,
}

impl LimitSettings {
    /// The limits section. Every value is allowed (0 turns a rate limit off; clap bounds the
    /// body limit), so there is nothing to report.
    pub(super) fn resolve(self) -> Limits {
        Limits {
            rate_login_per_ip: self.rate_login_per_ip,
            rate_login_per_username: self.rate_login_per_username,
            rate_recovery_per_ip: self.rate_recovery_per_ip,
            rate_recovery_per_email: self.rate_recovery_per_email,
            emails_per_address_per_hour: self.emails_per_address_per_hour,
            import_body_limit: self.import_body_limit_mib * 1024 * 1024,
            body_timeout: std::time::Duration::from_secs(self.body_timeout_secs),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
            anonymous_audits_per_hour: self.anonymous_audits_per_hour,
        }
    }
}
