//! How emails leave (a mailbox directory, an SMTP relay or GOV.UK Notify), how long their
//! links work, and the delivery worker's outbox.

use std::time::Duration;

use clap::ValueEnum;
use url::Url;

/// Email transport, links and the outbox.
#[derive(Debug, Clone, clap::Args)]
pub struct EmailSettings {
    /// How emails leave: `file` (dev: files + `GET /v1/dev/mailbox`), `smtp` or `notify` (GOV.UK Notify).
    #[arg(long, env = "ESR_EMAIL_TRANSPORT", value_enum, global = true)]
    pub email_transport: Option<EmailTransportKind>,

    /// Sender of emails, e.g. `ESR Access <no-reply@esr.example.org>`.
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

    /// JSON file naming the id of each Notify template in each language:
    /// `{"password_changed": {"en": "…", "cy": "…"}, …}`; `esr-api notify-templates` prints
    /// the templates to create.
    #[arg(long, env = "ESR_NOTIFY_TEMPLATES_FILE", global = true)]
    pub notify_templates_file: Option<std::path::PathBuf>,

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
        /// The id of each template (by name, then language).
        templates: NotifyTemplateIds,
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

/// The id of each GOV.UK Notify template, by the template's name and then its language.
pub type NotifyTemplateIds =
    std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>;

/// Reads `ESR_NOTIFY_TEMPLATES_FILE`; every id must be a UUID (Notify's template ids are).
/// Whether every template is named is checked where the templates are known, by the Notify
/// transport.
fn read_notify_templates(
    path: &std::path::Path,
    problems: &mut Vec<String>,
) -> Option<NotifyTemplateIds> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| problems.push(format!("ESR_NOTIFY_TEMPLATES_FILE {}: {e}", path.display())))
        .ok()?;
    let ids: NotifyTemplateIds = serde_json::from_str(&text)
        .map_err(|e| {
            problems.push(format!(
                "ESR_NOTIFY_TEMPLATES_FILE is not a JSON object of template names, each with \
                 an id per language ({{\"password_changed\": {{\"en\": \"…\", \"cy\": \"…\"}}}}): {e}"
            ));
        })
        .ok()?;
    let not_ids: Vec<String> = ids
        .iter()
        .flat_map(|(name, by_language)| {
            by_language
                .iter()
                .filter(|(_, id)| uuid::Uuid::parse_str(id).is_err())
                .map(move |(language, _)| format!("{name}.{language}"))
        })
        .collect();
    if !not_ids.is_empty() {
        problems.push(format!(
            "ESR_NOTIFY_TEMPLATES_FILE: not a template id (a UUID): {}",
            not_ids.join(", ")
        ));
        return None;
    }
    Some(ids)
}

/// A Notify API key: `{key name}-{service id}-{secret}` (both UUIDs, 36 characters).
///
/// It lives with the settings so that resolving `ESR_NOTIFY_API_KEY_FILE` can check the key's
/// shape without the configuration depending on the email transports, which depend on it.
#[derive(Clone)]
pub struct NotifyKey {
    service_id: String,
    secret: String,
}

impl std::fmt::Debug for NotifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NotifyKey(service {}, secret ****)", self.service_id)
    }
}

impl NotifyKey {
    /// Splits an API key; `None` if it is not of that shape.
    pub fn parse(key: &str) -> Option<Self> {
        let key = key.trim();
        if key.len() < 74 || !key.is_ascii() {
            return None;
        }
        let secret = &key[key.len() - 36..];
        let service_id = &key[key.len() - 73..key.len() - 37];
        let uuid = |s: &str| uuid::Uuid::parse_str(s).is_ok();
        (uuid(secret) && uuid(service_id) && key.as_bytes()[key.len() - 37] == b'-').then(|| Self {
            service_id: service_id.to_owned(),
            secret: secret.to_owned(),
        })
    }

    /// The bearer token for one request.
    pub fn bearer(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        #[derive(serde::Serialize)]
        struct Claims<'a> {
            iss: &'a str,
            iat: i64,
        }
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &Claims {
                iss: &self.service_id,
                iat: now.timestamp(),
            },
            &jsonwebtoken::EncodingKey::from_secret(self.secret.as_bytes()),
        )
    }
}

/// The email section, resolved.
pub(super) struct Email {
    pub(super) transport: EmailConfig,
    pub(super) link_ttl: Duration,
    pub(super) contact_change_hold: Duration,
    pub(super) outbox: OutboxConfig,
}

impl EmailSettings {
    /// The email section, or `None` when no transport can be built (the reasons are in
    /// `problems`). `strict` (a production instance that serves requests) refuses the
    /// development transport and plain SMTP.
    pub(super) fn resolve(self, strict: bool, problems: &mut Vec<String>) -> Option<Email> {
        let transport = self.resolve_transport(strict, problems);
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
        Some(Email {
            transport: transport?,
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
        })
    }

    /// The transport, or `None` with the reasons added to `problems`.
    fn resolve_transport(
        &self,
        production: bool,
        problems: &mut Vec<String>,
    ) -> Option<EmailConfig> {
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
                let templates = match &self.notify_templates_file {
                    Some(path) => read_notify_templates(path, problems),
                    None => {
                        problems.push(
                            "ESR_NOTIFY_TEMPLATES_FILE is required with ESR_EMAIL_TRANSPORT=notify"
                                .into(),
                        );
                        None
                    }
                };
                if let Some(key) = &api_key
                    && NotifyKey::parse(key).is_none()
                {
                    problems.push("ESR_NOTIFY_API_KEY_FILE does not hold a Notify API key (name-serviceid-secret)".into());
                }
                Some(EmailConfig::Notify {
                    base_url: self.notify_base_url.clone(),
                    api_key: api_key?,
                    templates: templates?,
                    timeout,
                })
            }
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::tests::settings;
    use super::*;

    /// A self-signed certificate (CN and SAN `mail`), as an organisation's own relay has.
    pub(crate) const RELAY_CA_PEM: &str = "\
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

    #[test]
    fn notify_template_ids_are_read_and_must_be_uuids() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("notify.key");
        std::fs::write(
            &key,
            "esr_test-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0",
        )
        .unwrap();
        let notify = |templates: &str| {
            let file = dir.path().join("templates.json");
            std::fs::write(&file, templates).unwrap();
            settings(&[
                "--email-transport",
                "notify",
                "--notify-api-key-file",
                key.to_str().unwrap(),
                "--notify-templates-file",
                file.to_str().unwrap(),
            ])
            .resolve()
        };
        let good = r#"{"unlock": {"en": "f33517ff-2a88-4f6e-b855-c550268ce08a"}}"#;
        match notify(good).expect("UUIDs are accepted").email {
            EmailConfig::Notify { templates, .. } => {
                assert_eq!(
                    templates["unlock"]["en"],
                    "f33517ff-2a88-4f6e-b855-c550268ce08a"
                );
            }
            other => panic!("{other:?}"),
        }
        let text = notify(
            r#"{"unlock": {"en": "unlock-en", "cy": "f33517ff-2a88-4f6e-b855-c550268ce08a"}}"#,
        )
        .expect_err("refused")
        .to_string();
        assert!(
            text.contains("not a template id (a UUID): unlock.en"),
            "{text}"
        );
        let text = notify(r#"["f33517ff-2a88-4f6e-b855-c550268ce08a"]"#)
            .expect_err("refused")
            .to_string();
        assert!(
            text.contains("is not a JSON object of template names"),
            "{text}"
        );
    }

    #[test]
    fn smtp_ca_file_is_read_and_checked() {
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
        smtp(&good, "tls").expect("implicit TLS too");

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

    const KEY: &str =
        "esr_test-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0";

    #[test]
    fn api_key_is_split_into_service_and_secret() {
        let key = NotifyKey::parse(KEY).expect("key");
        assert_eq!(key.service_id, "26785a09-ab16-4eb0-8407-a37497a57506");
        assert_eq!(key.secret, "3d844edf-8d35-48ac-975b-e847b4f122b0");
        assert!(!format!("{key:?}").contains("3d844edf"));
        assert!(NotifyKey::parse("nonsense").is_none());
        assert!(NotifyKey::parse(&KEY.replace('-', "_")).is_none());
    }

    #[test]
    fn bearer_is_hs256_with_service_id_as_issuer() {
        let key = NotifyKey::parse(KEY).expect("key");
        let now = chrono::Utc::now();
        let token = key.bearer(now).expect("signed");
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_required_spec_claims(&["iss"]);
        validation.set_issuer(&["26785a09-ab16-4eb0-8407-a37497a57506"]);
        validation.validate_exp = false;
        let data = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &jsonwebtoken::DecodingKey::from_secret(b"3d844edf-8d35-48ac-975b-e847b4f122b0"),
            &validation,
        )
        .expect("verifies with the secret");
        assert_eq!(data.claims["iat"], now.timestamp());
    }
}
