//! How long ended sessions, spent tokens and emails are kept, and how often each instance
//! purges what is past it (docs/DATA-PROTECTION.md lists every class).

use std::time::Duration;

const DAY: u64 = 24 * 60 * 60;

/// Retention per class of data, in days, and the purge interval.
#[derive(Debug, Clone, clap::Args)]
pub struct RetentionSettings {
    /// Days a session is kept after it ended (signed out, revoked or expired), with its
    /// refresh tokens, its IP address and its user agent.
    #[arg(long, env = "ESR_RETAIN_ENDED_SESSIONS_DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(u64).range(1..=3650), global = true)]
    pub retain_ended_sessions_days: u64,

    /// Days a reset or unlock link, login challenge or enrolment link is kept after it
    /// expired.
    #[arg(long, env = "ESR_RETAIN_SPENT_TOKENS_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3650), global = true)]
    pub retain_spent_tokens_days: u64,

    /// Days a sent email's row (recipient, kind, times) is kept after it was sent.
    #[arg(long, env = "ESR_RETAIN_SENT_EMAILS_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3650), global = true)]
    pub retain_sent_emails_days: u64,

    /// Days an email that could not be delivered (kept whole, so it can be retried) is kept
    /// after it was queued.
    #[arg(long, env = "ESR_RETAIN_DEAD_EMAILS_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3650), global = true)]
    pub retain_dead_emails_days: u64,

    /// Days the personal fields (IP, user agent, details) of an anonymous caller's audit event
    /// about no account (an unmatched request, an unknown username) are kept; then blanked.
    /// The event stays, and the chain still verifies.
    #[arg(long, env = "ESR_RETAIN_ANONYMOUS_EVENTS_DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(u64).range(1..=3650), global = true)]
    pub retain_anonymous_events_days: u64,

    /// Days the personal fields of every audit event are kept; then blanked as above. Set it
    /// to the trust's records-management policy for security logs.
    #[arg(long, env = "ESR_RETAIN_AUDIT_PERSONAL_DAYS", default_value_t = 730,
          value_parser = clap::value_parser!(u64).range(1..=3650), global = true)]
    pub retain_audit_personal_days: u64,

    /// Days after a person left (absent from a full HR feed, or marked by an administrator)
    /// until they and their accounts are anonymised, as `esr-api erase` does.
    #[arg(long, env = "ESR_ERASE_LEAVERS_AFTER_DAYS", default_value_t = 365,
          value_parser = clap::value_parser!(u64).range(1..=3650), global = true)]
    pub erase_leavers_after_days: u64,

    /// Seconds between two purges by this instance (0: never; run `esr-api purge` instead).
    /// Instances sharing a PostgreSQL database take turns.
    #[arg(
        long,
        env = "ESR_PURGE_INTERVAL_SECS",
        default_value_t = 3600,
        global = true
    )]
    pub purge_interval_secs: u64,
}

/// The retention section, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// How long an ended session is kept.
    pub ended_sessions: Duration,
    /// How long an expired token is kept.
    pub spent_tokens: Duration,
    /// How long a sent email's row is kept.
    pub sent_emails: Duration,
    /// How long a dead email is kept.
    pub dead_emails: Duration,
    /// How long an anonymous audit event keeps its personal fields.
    pub anonymous_events: Duration,
    /// How long any audit event keeps its personal fields.
    pub audit_personal: Duration,
    /// How long after leaving a person is anonymised.
    pub leavers: Duration,
    /// How often this instance purges; `None`: never.
    pub purge_interval: Option<Duration>,
}

impl RetentionSettings {
    /// The retention section; clap has bounded every value already.
    pub(super) fn resolve(&self) -> Retention {
        let days = |n: u64| Duration::from_secs(n * DAY);
        Retention {
            ended_sessions: days(self.retain_ended_sessions_days),
            spent_tokens: days(self.retain_spent_tokens_days),
            sent_emails: days(self.retain_sent_emails_days),
            dead_emails: days(self.retain_dead_emails_days),
            anonymous_events: days(self.retain_anonymous_events_days),
            audit_personal: days(self.retain_audit_personal_days),
            leavers: days(self.erase_leavers_after_days),
            purge_interval: (self.purge_interval_secs > 0)
                .then(|| Duration::from_secs(self.purge_interval_secs)),
        }
    }
}
