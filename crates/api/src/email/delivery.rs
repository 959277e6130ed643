//! The delivery worker that runs in every instance: it matches queued recovery and unlock
//! requests (so the API's answer never depends on a match), then claims due outbox rows,
//! renders and sends them, and records the outcome. Retries back off exponentially with
//! jitter; after the configured attempts a message is `dead`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use esr_domain::AccountId;
use esr_persistence::audit::{self, Actor, EventType, NewAuditEvent};
use esr_persistence::outbox::{self, OutboxMessage};
use esr_persistence::{DbConnection, DbPool, RepoError};
use serde_json::json;
use tokio::sync::{Notify, watch};

use super::error::SendError;
use super::notify_fields::{self, NotifyMessage};
use super::templates::{self, LinkBase};
use super::transport::Transport;
use crate::config::{Config, EmailConfig};
use crate::metrics::Metrics;

/// Everything the worker needs.
pub struct Delivery {
    /// This worker's id (recorded on its claims).
    pub worker_id: String,
    /// Database.
    pub pool: DbPool,
    /// How emails leave.
    pub transport: Arc<Transport>,
    /// Settings.
    pub config: Arc<Config>,
    /// Metrics.
    pub metrics: Metrics,
    /// Woken when something is queued, so it need not wait for the next poll.
    pub wake: Arc<Notify>,
    /// Matches a batch of queued recovery and unlock requests, in the caller's transaction.
    pub match_requests: MatchRequests,
}

/// Takes a batch of queued recovery and unlock requests, queues their emails and returns how
/// many requests it took and how many emails it queued: the recovery use case, handed to the
/// worker by whoever starts it.
pub type MatchRequests =
    fn(&mut DbConnection, &Config, DateTime<Utc>) -> Result<(usize, usize), RepoError>;

/// A running worker.
#[derive(Debug)]
pub struct DeliveryHandle {
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl DeliveryHandle {
    /// Asks the worker to stop after the message in hand, release its other claims and exit.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "delivery worker ended abnormally");
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum WorkerError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error("blocking task failed: {0}")]
    Join(String),
}

impl Delivery {
    /// Starts the worker on the current runtime.
    pub fn spawn(self) -> DeliveryHandle {
        let (shutdown, rx) = watch::channel(false);
        let task = tokio::spawn(self.run(rx));
        DeliveryHandle { shutdown, task }
    }

    async fn db<T, F>(&self, f: F) -> Result<T, WorkerError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, RepoError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || pool.run(f))
            .await
            .map_err(|e| WorkerError::Join(e.to_string()))?
            .map_err(WorkerError::from)
    }

    async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(worker = %self.worker_id, transport = ?self.transport, "delivery worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let worked = match self.tick(&shutdown).await {
                Ok(n) => n > 0,
                Err(e) => {
                    tracing::warn!(error = %e, "delivery worker pass failed; will retry");
                    false
                }
            };
            if !worked {
                tokio::select! {
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(self.config.outbox.poll) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        let worker = self.worker_id.clone();
        match self.db(move |c| outbox::release(c, &worker)).await {
            Ok(n) if n > 0 => tracing::info!(released = n, "delivery worker released its claims"),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not release claims; they lapse with their lease")
            }
        }
        tracing::info!(worker = %self.worker_id, "delivery worker stopped");
    }

    /// One pass: match requests, then send one batch. Returns how much work it did.
    async fn tick(&self, shutdown: &watch::Receiver<bool>) -> Result<usize, WorkerError> {
        let matched = self.match_requests().await?;
        let sent = self.deliver_batch(shutdown).await?;
        Ok(matched + sent)
    }

    async fn match_requests(&self) -> Result<usize, WorkerError> {
        let config = Arc::clone(&self.config);
        let match_requests = self.match_requests;
        let (processed, queued) = self
            .db(move |c| c.write_transaction(|c| match_requests(c, &config, Utc::now())))
            .await?;
        if queued > 0 {
            self.wake.notify_one();
        }
        Ok(processed)
    }

    async fn deliver_batch(&self, shutdown: &watch::Receiver<bool>) -> Result<usize, WorkerError> {
        let worker = self.worker_id.clone();
        let batch = i64::from(self.config.outbox.batch);
        let lease = chrono::Duration::from_std(self.config.outbox.lease)
            .unwrap_or(chrono::Duration::seconds(60));
        let claimed = self
            .db(move |c| outbox::claim(c, &worker, batch, lease, Utc::now()))
            .await?;
        let n = claimed.len();
        let links = LinkBase {
            web_base_url: self.config.web_base_url.clone(),
            link_ttl_hours: self.config.link_ttl.as_secs().div_ceil(3600),
        };
        for message in claimed {
            if *shutdown.borrow() {
                // Unsent claims are released on the way out.
                break;
            }
            // The batch is sent one by one: re-check the claim (and extend it) before each
            // send, so a message whose lease lapsed while earlier ones were slow is left to the
            // worker that takes it over instead of being sent twice.
            let (id, worker) = (message.id.clone(), self.worker_id.clone());
            if !self
                .db(move |c| outbox::renew(c, &id, &worker, lease, Utc::now()))
                .await?
            {
                tracing::warn!(outbox_id = %message.id, "claim lapsed before sending; left to the worker that takes it over");
                self.metrics.outbox_delivery("lapsed");
                continue;
            }
            self.deliver(message, &links).await?;
        }
        Ok(n)
    }

    /// Sends with the configured per-send timeout as a deadline on the whole send. lettre's
    /// SMTP timeout bounds connecting only (its async transport sets no read timeout), so a
    /// relay that takes the content and never answers would otherwise hold the message, its
    /// lease and a graceful shutdown forever. A send cut off here may still have reached the
    /// relay: it is retried like any temporary failure (a duplicate bounded to this message).
    async fn send_within_deadline(
        &self,
        rendered: &templates::Rendered,
        notify: &NotifyMessage,
        reference: &str,
    ) -> Result<(), SendError> {
        let send = self.transport.send(rendered, notify, reference);
        let limit = match &self.config.email {
            EmailConfig::Smtp { timeout, .. } | EmailConfig::Notify { timeout, .. } => *timeout,
            EmailConfig::File { .. } => return send.await,
        };
        match tokio::time::timeout(limit, send).await {
            Ok(result) => result,
            Err(_) => {
                // The abandoned connection must not serve the next message.
                self.transport.discard_connections();
                Err(SendError::Temporary(format!(
                    "no answer within {} ms",
                    limit.as_millis()
                )))
            }
        }
    }

    async fn deliver(&self, message: OutboxMessage, links: &LinkBase) -> Result<(), WorkerError> {
        let prepared = templates::render(
            &message.kind,
            &message.language,
            &message.recipient,
            &message.payload,
            links,
        )
        .and_then(|rendered| {
            let notify =
                notify_fields::message(&message.kind, &message.language, &message.payload, links)?;
            Ok((rendered, notify))
        });
        let outcome = match prepared {
            Ok((rendered, notify)) => {
                self.send_within_deadline(&rendered, &notify, &message.id)
                    .await
            }
            Err(e) => Err(SendError::Permanent(e.to_string())),
        };
        let attempts = u32::try_from(message.attempts).unwrap_or(u32::MAX);
        let worker = self.worker_id.clone();
        let now = Utc::now();
        match outcome {
            Ok(()) => {
                let id = message.id.clone();
                let chain = self.config.audit_chain.clone();
                self.db(move |c| {
                    c.write_transaction(|c| {
                        if outbox::mark_sent(c, &id, &worker, now)? {
                            system_event(
                                c,
                                &chain,
                                EventType::EmailSent,
                                message.account_id.as_deref(),
                                &json!({"outbox_id": id, "kind": message.kind}),
                                now,
                            )?;
                        }
                        Ok(())
                    })
                })
                .await?;
                self.metrics.outbox_delivery("sent");
            }
            Err(SendError::Temporary(error)) if attempts < self.config.outbox.max_attempts => {
                let retry_at = now + backoff(&self.config, attempts);
                tracing::warn!(outbox_id = %message.id, attempts, %error, %retry_at, "email not sent; will retry");
                let id = message.id.clone();
                self.db(move |c| outbox::mark_failed(c, &id, &worker, &error, Some(retry_at)))
                    .await?;
                self.metrics.outbox_delivery("failed");
            }
            Err(e) => {
                tracing::error!(outbox_id = %message.id, attempts, error = %e, "email dead: not retried automatically");
                let id = message.id.clone();
                let error = e.to_string();
                let chain = self.config.audit_chain.clone();
                self.db(move |c| {
                    c.write_transaction(|c| {
                        if outbox::mark_failed(c, &id, &worker, &error, None)? {
                            system_event(c, &chain, EventType::EmailDead, message.account_id.as_deref(), &json!({"outbox_id": id, "kind": message.kind, "attempts": attempts}), now)?;
                        }
                        Ok(())
                    })
                })
                .await?;
                self.metrics.outbox_delivery("dead");
            }
        }
        Ok(())
    }
}

/// `retry_base × 2^(attempts-1)`, capped, with ±20 % jitter so instances do not retry in step.
fn backoff(config: &Config, attempts: u32) -> chrono::Duration {
    let base = config.outbox.retry_base.as_secs_f64();
    let exp = base * 2f64.powi(i32::try_from(attempts.saturating_sub(1).min(30)).unwrap_or(30));
    let capped = exp.min(config.outbox.retry_max.as_secs_f64());
    let jittered = capped * rand::random_range(0.8..1.2);
    chrono::Duration::milliseconds((jittered * 1000.0) as i64)
}

fn system_event(
    conn: &mut DbConnection,
    chain: &esr_persistence::audit::ChainKey,
    event_type: EventType,
    account_id: Option<&str>,
    details: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    let account_id = account_id.map(AccountId::from_stored);
    audit::append(
        conn,
        chain,
        &NewAuditEvent {
            event_type,
            account_id: account_id.as_ref(),
            actor: &Actor::System,
            ip: None,
            user_agent: None,
            request_id: None,
            details,
        },
        now,
    )
    .map(drop)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::backoff;

    fn config(base: Duration, max: Duration) -> crate::config::Config {
        let mut config = crate::config::Settings::parse_from(["esr-api"])
            .expect("arguments")
            .resolve()
            .expect("dev config");
        config.outbox.retry_base = base;
        config.outbox.retry_max = max;
        config
    }

    /// Doubling from the base, capped, each delay within ±20 % and spread out (so instances
    /// that failed together do not all retry in the same instant).
    #[test]
    fn backoff_doubles_is_capped_and_jittered() {
        let config = config(Duration::from_secs(5), Duration::from_secs(3600));
        for (attempts, centre) in [(1, 5.0), (2, 10.0), (4, 40.0), (30, 3600.0)] {
            let delays: Vec<f64> = (0..400)
                .map(|_| backoff(&config, attempts).as_seconds_f64())
                .collect();
            let (low, high) = delays
                .iter()
                .fold((f64::MAX, f64::MIN), |(l, h), d| (l.min(*d), h.max(*d)));
            assert!(
                low >= centre * 0.8 - 0.001 && high <= centre * 1.2 + 0.001,
                "attempt {attempts}: {low}..{high} outside ±20 % of {centre}"
            );
            // 400 uniform draws over ±20 % all land within a 10 % band with odds far
            // below 1 in 10^100: a spread this narrow means the jitter is gone.
            assert!(
                high - low > centre * 0.2,
                "attempt {attempts}: no jitter ({low}..{high})"
            );
        }
    }
}
