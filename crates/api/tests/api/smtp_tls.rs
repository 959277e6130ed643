//! The SMTP transport against a relay that, like NHSmail's, takes mail only over STARTTLS and
//! after authentication: the relay's own certificate authority is trusted through
//! `ESR_SMTP_CA_FILE` and nothing else, and the credentials travel only inside TLS.

use std::time::Duration;

use esr_api::config::{EmailConfig, SmtpTls};
use esr_persistence::outbox;

use crate::helpers::{TestApp, TestBackend, spawn_app_with};
use crate::recovery::request_recovery;
use crate::smtp_server::{self, RELAY_CERT_PEM, Secured};
use esr_test_support::wait::wait_until;

const JANE_EMAIL: &str = "jane.smith@demo.example.org";
const USER: &str = "esr-relay";
const PASSWORD: &str = "relay secret 7";

fn relay(port: u16, ca_pem: Option<&str>, password: &str) -> EmailConfig {
    EmailConfig::Smtp {
        host: "127.0.0.1".into(),
        port,
        tls: SmtpTls::Starttls,
        credentials: Some((USER.into(), password.into())),
        ca_pem: ca_pem.map(|pem| pem.as_bytes().to_vec()),
        from: "ESR Access <no-reply@esr-access.invalid>".into(),
        timeout: Duration::from_secs(2),
    }
}

/// Waits for the first failed delivery attempt and returns the message's status and error.
async fn first_failure(app: &TestApp) -> (String, String) {
    wait_until(
        "a failed delivery attempt",
        Duration::from_secs(10),
        || async {
            outbox::list(&mut app.db(), None, 10)
                .unwrap()
                .into_iter()
                .find_map(|m| Some((m.status, m.last_error?)))
        },
    )
    .await
}

#[tokio::test]
async fn a_relay_requiring_starttls_and_auth_gets_the_email_with_its_own_ca_trusted() {
    for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
        let secured = || {
            Some(Secured {
                username: USER.into(),
                password: PASSWORD.into(),
            })
        };

        // Trusted through ESR_SMTP_CA_FILE, with the right credentials: delivered inside TLS.
        let port = smtp_server::free_port();
        let server = smtp_server::start_with(port, secured()).await;
        let Some(app) = spawn_app_with(backend, |c| {
            c.email = relay(port, Some(RELAY_CERT_PEM), PASSWORD);
        })
        .await
        else {
            continue;
        };
        let status = request_recovery(&app, JANE_EMAIL, "1985-04-12", Some("999JSMITH01"))
            .await
            .status();
        assert_eq!(status, 202);
        wait_until(
            "the relay to receive the email",
            Duration::from_secs(10),
            || async { (!server.received.lock().unwrap().is_empty()).then_some(()) },
        )
        .await;
        let sessions = server.sessions.lock().unwrap().clone();
        assert_eq!(
            sessions,
            [smtp_server::Session {
                tls: true,
                auth: Some((USER.into(), PASSWORD.into())),
            }]
        );
        let data = server.received.lock().unwrap()[0].clone();
        assert!(data.contains("To: jane.smith@demo.example.org"), "{data}");
        app.stop().await;

        // The same relay without its certificate authority: the self-signed certificate is
        // refused, no credentials are sent in the clear, the email waits for a retry.
        let port = smtp_server::free_port();
        let server = smtp_server::start_with(port, secured()).await;
        let app = spawn_app_with(backend, |c| c.email = relay(port, None, PASSWORD))
            .await
            .expect("backend available");
        request_recovery(&app, JANE_EMAIL, "1985-04-12", Some("999JSMITH01")).await;
        let (status, error) = first_failure(&app).await;
        assert_eq!(status, "pending", "retried later: {error}");
        assert!(error.contains("invalid peer certificate"), "{error}");
        assert!(*server.failed_handshakes.lock().unwrap() >= 1);
        assert!(server.received.lock().unwrap().is_empty());
        assert!(!error.contains(PASSWORD), "{error}");
        app.stop().await;

        // Trusted, but the wrong password: refused by the relay, nothing delivered.
        let port = smtp_server::free_port();
        let server = smtp_server::start_with(port, secured()).await;
        let app = spawn_app_with(backend, |c| {
            c.email = relay(port, Some(RELAY_CERT_PEM), "not the relay secret");
        })
        .await
        .expect("backend available");
        request_recovery(&app, JANE_EMAIL, "1985-04-12", Some("999JSMITH01")).await;
        // A permanent refusal (5xx): the message is dead at once, visible to operators.
        let (status, error) = first_failure(&app).await;
        assert_eq!(status, "dead", "{error}");
        assert!(error.contains("535"), "{error}");
        assert!(!error.contains("not the relay secret"), "{error}");
        assert!(server.received.lock().unwrap().is_empty());
        app.stop().await;
    }
}
