//! How emails leave: files (dev), an SMTP relay, or GOV.UK Notify.

use std::path::PathBuf;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use super::error::SendError;
use super::notify::NotifyTransport;
use super::notify_fields::NotifyMessage;
use super::templates::{Link, Rendered};
use crate::config::{EmailConfig, SmtpTls};

/// A configured transport.
pub enum Transport {
    /// Writes each message as JSON into a directory (dev mailbox).
    File(PathBuf),
    /// SMTP relay.
    Smtp {
        /// lettre's pooled async transport (replaced by [`Transport::discard_connections`]).
        transport: std::sync::Mutex<AsyncSmtpTransport<Tokio1Executor>>,
        /// How to build it again.
        builder: AsyncSmtpTransportBuilder,
        /// Sender.
        from: Mailbox,
    },
    /// GOV.UK Notify.
    Notify(NotifyTransport),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(dir) => write!(f, "File({})", dir.display()),
            Self::Smtp { from, .. } => write!(f, "Smtp(from {from})"),
            Self::Notify(_) => f.write_str("Notify"),
        }
    }
}

/// A message as stored by the file transport and listed by the dev mailbox.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MailboxMessage {
    /// Outbox id.
    pub id: String,
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// Links in the message (`login`, `reset`, `unlock`).
    pub links: Vec<MailboxLink>,
    /// When it was written.
    pub sent_at: chrono::DateTime<chrono::Utc>,
}

/// A link in a mailbox message.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MailboxLink {
    /// `login`, `reset` or `unlock`.
    pub purpose: String,
    /// The URL (tokens are in the fragment).
    pub url: String,
}

impl From<&Link> for MailboxLink {
    fn from(l: &Link) -> Self {
        Self {
            purpose: l.purpose.to_owned(),
            url: l.url.clone(),
        }
    }
}

/// TLS settings for `host` trusting the public roots and every certificate in `pem`.
fn smtp_tls_parameters(
    host: &str,
    pem: &[u8],
) -> Result<TlsParameters, lettre::transport::smtp::Error> {
    TlsParameters::builder(host.to_owned())
        .add_root_certificate(Certificate::from_pem(pem)?)
        .build_rustls()
}

impl Transport {
    /// Builds the configured transport.
    pub fn from_config(config: &EmailConfig) -> Result<Self, String> {
        Ok(match config {
            EmailConfig::File { dir } => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                Self::File(dir.clone())
            }
            EmailConfig::Smtp {
                host,
                port,
                tls,
                credentials,
                ca_pem,
                from,
                timeout,
            } => {
                let builder = match (tls, ca_pem) {
                    (SmtpTls::None, _) => Ok(
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
                    ),
                    (SmtpTls::Starttls, None) => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                    }
                    (SmtpTls::Tls, None) => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
                    // The public roots plus the organisation's own certificate authority.
                    (tls, Some(pem)) => smtp_tls_parameters(host, pem).map(|params| {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).tls(
                            if *tls == SmtpTls::Tls {
                                Tls::Wrapper(params)
                            } else {
                                Tls::Required(params)
                            },
                        )
                    }),
                }
                .map_err(|e| format!("SMTP relay {host}: {e}"))?;
                let mut builder = builder.port(*port).timeout(Some(*timeout));
                if let Some((user, password)) = credentials {
                    builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
                }
                Self::Smtp {
                    transport: std::sync::Mutex::new(builder.clone().build()),
                    builder,
                    from: from.parse().map_err(|e| format!("ESR_EMAIL_FROM: {e}"))?,
                }
            }
            EmailConfig::Notify {
                base_url,
                api_key,
                templates,
                timeout,
            } => Self::Notify(NotifyTransport::new(
                base_url, api_key, templates, *timeout,
            )?),
        })
    }

    /// Drops the SMTP connections kept for reuse and starts a new pool. Called after a send
    /// was cut off by the delivery deadline: lettre returns such a connection to its pool as
    /// if it were healthy, though it may be stuck mid-dialogue (the next send on it would wait
    /// for the same silent relay, or read a late reply meant for the abandoned message).
    pub fn discard_connections(&self) {
        if let Self::Smtp {
            transport, builder, ..
        } = self
        {
            *transport
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = builder.clone().build();
        }
    }

    /// Sends one message (`notify`: what Notify gets instead of its text); `reference` is its
    /// outbox id.
    pub async fn send(
        &self,
        message: &Rendered,
        notify: &NotifyMessage,
        reference: &str,
    ) -> Result<(), SendError> {
        match self {
            Self::File(dir) => write_file(dir, message, reference).await,
            Self::Smtp {
                transport, from, ..
            } => {
                let to: Mailbox = message.to.parse().map_err(|e| {
                    SendError::Permanent(format!("recipient is not an address: {e}"))
                })?;
                let email = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(&message.subject)
                    .multipart(MultiPart::alternative_plain_html(
                        message.text.clone(),
                        message.html.clone(),
                    ))
                    .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))?;
                let transport = transport
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone();
                transport
                    .send(email)
                    .await
                    .map(drop)
                    .map_err(|e| SendError::from_smtp(&e))
            }
            Self::Notify(transport) => transport.send(&message.to, notify, reference).await,
        }
    }
}

async fn write_file(
    dir: &std::path::Path,
    message: &Rendered,
    reference: &str,
) -> Result<(), SendError> {
    let now = chrono::Utc::now();
    let stored = MailboxMessage {
        id: reference.to_owned(),
        to: message.to.clone(),
        subject: message.subject.clone(),
        text: message.text.clone(),
        html: message.html.clone(),
        links: message.links.iter().map(MailboxLink::from).collect(),
        sent_at: now,
    };
    let json =
        serde_json::to_vec_pretty(&stored).map_err(|e| SendError::Permanent(e.to_string()))?;
    // Write then rename, so a reader never sees half a message.
    let name = format!("{}-{reference}.json", now.format("%Y%m%dT%H%M%S%.6fZ"));
    let tmp = dir.join(format!(".{name}.tmp"));
    tokio::fs::write(&tmp, json)
        .await
        .map_err(|e| SendError::Temporary(format!("cannot write {}: {e}", tmp.display())))?;
    tokio::fs::rename(&tmp, dir.join(&name))
        .await
        .map_err(|e| SendError::Temporary(format!("cannot rename into {}: {e}", dir.display())))
}

/// Reads the file mailbox, newest first, optionally only messages to `to`.
pub fn read_mailbox(
    dir: &std::path::Path,
    to: Option<&str>,
    limit: usize,
) -> std::io::Result<Vec<MailboxMessage>> {
    let mut names: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    names.sort();
    names.reverse();
    let to = to.map(str::to_lowercase);
    let mut out = Vec::new();
    for path in names {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Ok(message) = serde_json::from_slice::<MailboxMessage>(&bytes) else {
            continue;
        };
        if to.as_deref().is_none_or(|t| message.to.to_lowercase() == t) {
            out.push(message);
            if out.len() >= limit {
                break;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (A runtime: lettre's connection pool starts with the transport.)
    #[actix_web::test]
    async fn an_smtp_ca_file_is_used_for_the_relay_tls() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("relay-ca.pem");
        std::fs::write(&ca, crate::config::RELAY_CA_PEM).unwrap();
        for tls in ["starttls", "tls"] {
            let config = crate::config::Settings::parse_from([
                "esr-api",
                "--email-transport",
                "smtp",
                "--smtp-host",
                "mail",
                "--smtp-tls",
                tls,
                "--smtp-ca-file",
                ca.to_str().unwrap(),
            ])
            .expect("arguments parse")
            .resolve()
            .expect("a PEM certificate is accepted");
            Transport::from_config(&config.email)
                .expect("TLS parameters with the extra root build");
        }
    }
}
