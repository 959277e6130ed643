//! Prometheus metrics, one registry per application instance.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// The metrics of one running instance.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    db_connections: IntGauge,
    db_idle_connections: IntGauge,
    security_events: IntCounterVec,
    hashing_in_flight: IntGauge,
    outbox_deliveries: IntCounterVec,
    outbox_messages: IntGaugeVec,
    outbox_oldest_pending: IntGauge,
    db_unavailable: prometheus::IntCounter,
    accounts_locked: IntGauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// Creates and registers every metric.
    ///
    /// # Panics
    /// Only if two metrics were given the same name, a programming error caught by every test.
    #[allow(clippy::expect_used)]
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("esr".into()), None).expect("valid prefix");
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by method, route pattern and status.",
            ),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from receiving a request to answering it, by method and route pattern.",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["method", "route"],
        )
        .expect("valid metric");
        let db_connections = IntGauge::new(
            "db_pool_connections",
            "Open database connections in the pool.",
        )
        .expect("valid metric");
        let db_idle_connections = IntGauge::new(
            "db_pool_idle_connections",
            "Idle database connections in the pool.",
        )
        .expect("valid metric");
        let security_events = IntCounterVec::new(
            Opts::new(
                "security_events_total",
                "Security-relevant outcomes: login.succeeded, login.failed, login.rate_limited, hashing.rejected, refresh_token.reused, password.changed, ….",
            ),
            &["event"],
        )
        .expect("valid metric");
        let hashing_in_flight = IntGauge::new(
            "hashing_in_flight",
            "Password-hashing jobs admitted (running or queued) at scrape time.",
        )
        .expect("valid metric");
        let outbox_deliveries = IntCounterVec::new(
            Opts::new(
                "outbox_deliveries_total",
                "Email send attempts by this instance's worker, by result: sent, failed (will retry), dead.",
            ),
            &["result"],
        )
        .expect("valid metric");
        let outbox_messages = IntGaugeVec::new(
            Opts::new(
                "outbox_messages",
                "Emails in the outbox by status (pending, sending, sent, dead), at scrape time.",
            ),
            &["status"],
        )
        .expect("valid metric");
        let outbox_oldest_pending = IntGauge::new(
            "outbox_oldest_pending_age_seconds",
            "Age of the oldest pending email (0 when none), at scrape time.",
        )
        .expect("valid metric");
        let db_unavailable = prometheus::IntCounter::new(
            "db_unavailable_total",
            "Database calls that got no connection within ESR_DATABASE_TIMEOUT_MS or found the database unreachable (answered 503).",
        )
        .expect("valid metric");
        let accounts_locked = IntGauge::new(
            "accounts_locked",
            "Accounts locked after failed logins, at scrape time (all instances see the same database).",
        )
        .expect("valid metric");
        for collector in [
            Box::new(outbox_deliveries.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(outbox_messages.clone()),
            Box::new(outbox_oldest_pending.clone()),
            Box::new(security_events.clone()),
            Box::new(hashing_in_flight.clone()),
            Box::new(http_requests.clone()),
            Box::new(http_duration.clone()),
            Box::new(db_connections.clone()),
            Box::new(db_idle_connections.clone()),
            Box::new(db_unavailable.clone()),
            Box::new(accounts_locked.clone()),
        ] {
            registry.register(collector).expect("unique metric names");
        }
        Self {
            registry,
            http_requests,
            http_duration,
            db_connections,
            db_idle_connections,
            security_events,
            hashing_in_flight,
            outbox_deliveries,
            outbox_messages,
            outbox_oldest_pending,
            db_unavailable,
            accounts_locked,
        }
    }

    /// Counts one database call that found no connection in time or no database.
    pub fn db_unavailable(&self) {
        self.db_unavailable.inc();
    }

    /// Sets the locked-accounts gauge (read at scrape time).
    pub fn set_accounts_locked(&self, n: i64) {
        self.accounts_locked.set(n);
    }

    /// Counts one delivery attempt by result.
    pub fn outbox_delivery(&self, result: &str) {
        self.outbox_deliveries.with_label_values(&[result]).inc();
    }

    /// Sets the outbox gauges (read at scrape time).
    pub fn set_outbox(
        &self,
        stats: &esr_persistence::outbox::OutboxStats,
        now: chrono::DateTime<chrono::Utc>,
    ) {
        for (status, n) in [
            ("pending", stats.pending),
            ("sending", stats.sending),
            ("sent", stats.sent),
            ("dead", stats.dead),
        ] {
            self.outbox_messages.with_label_values(&[status]).set(n);
        }
        self.outbox_oldest_pending.set(
            stats
                .oldest_pending
                .map_or(0, |t| (now - t).num_seconds().max(0)),
        );
    }

    /// Counts one security event (`login.failed`, `hashing.rejected`, …).
    pub fn security_event(&self, event: &str) {
        self.security_events.with_label_values(&[event]).inc();
    }

    /// Sets the hashing gauge (read at scrape time).
    pub fn set_hashing_in_flight(&self, n: usize) {
        self.hashing_in_flight
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// Records one answered request.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.http_requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.http_duration
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }

    /// Updates the pool gauges (read at scrape time).
    pub fn set_pool_state(&self, connections: u32, idle: u32) {
        self.db_connections.set(i64::from(connections));
        self.db_idle_connections.set(i64::from(idle));
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
