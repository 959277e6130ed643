//! A relay's refusal quotes the recipient (`550 5.1.1 <jane.smith@…>: User unknown`). What is
//! logged and stored of a failed delivery is the outbox id and the reply's codes: no address
//! reaches the log, at any level, or the outbox row that operators and the admin API read.

use std::time::Duration;

use esr_persistence::outbox;

use crate::harness::{InstanceBuilder, db_conn, enqueue_notices, free_port, wait_until};
use crate::sink::Sink;

mod a_refused_recipient_leaves_no_address_in_the_log_or_the_outbox {
    #[tokio::test]
    async fn sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("refused.db").display());
        super::a_refused_recipient_leaves_no_address_in_the_log_or_the_outbox(&url).await;
    }

    #[tokio::test]
    async fn postgres() {
        let Some(db) = crate::harness::PgDb::fresh() else {
            return;
        };
        super::a_refused_recipient_leaves_no_address_in_the_log_or_the_outbox(db.url()).await;
    }
}

async fn a_refused_recipient_leaves_no_address_in_the_log_or_the_outbox(url: &str) {
    let port = free_port();
    let sink = Sink::start(port).await;
    // First a temporary refusal (retried, logged at WARN), then a permanent one (dead,
    // logged at ERROR).
    sink.set_refuse_recipients(Some(450));
    let instance = InstanceBuilder::new("inst-refused", url)
        .smtp(port)
        .env("ESR_LOG", "debug,esr_api=trace,esr_persistence=trace")
        .env("ESR_LOG_FORMAT", "json")
        .env("ESR_OUTBOX_RETRY_BASE_MS", "300")
        .env("ESR_OUTBOX_MAX_ATTEMPTS", "5")
        .spawn()
        .await;
    let mut conn = db_conn(url);
    let recipient = "refused.person@example.org";
    enqueue_notices(&mut conn, &[recipient.to_owned()]);
    let first = wait_until("a temporary refusal", Duration::from_secs(20), || async {
        outbox::list(&mut db_conn(url), None, 10)
            .unwrap()
            .into_iter()
            .find(|m| m.last_error.is_some())
    })
    .await;
    assert_eq!(first.status, "pending", "{first:?}");
    assert_eq!(first.last_error.as_deref(), Some("SMTP 450 4.1.1"));

    sink.set_refuse_recipients(Some(550));
    let dead = wait_until("a permanent refusal", Duration::from_secs(20), || async {
        outbox::list(&mut db_conn(url), Some("dead"), 10)
            .unwrap()
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(
        dead.last_error.as_deref(),
        Some("permanent: SMTP 550 5.1.1")
    );
    assert!(sink.accepted().is_empty());

    let log = instance.log();
    assert!(log.contains("email dead"), "the failure is logged: {log}");
    assert!(log.contains(&dead.id), "with the outbox id");
    for part in [recipient, "refused.person"] {
        assert!(!log.contains(part), "{part} is in the log:\n{log}");
    }
}
