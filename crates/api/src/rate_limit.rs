//! Rate limits per key (client, username, email address), answered with 429 and
//! `Retry-After`.
//!
//! On PostgreSQL, where several instances serve one database, the counters are kept in the
//! database (one atomic upsert per key and fixed window), so a limit is the same however many
//! instances a client's requests are spread over. On SQLite (one instance) they are kept in
//! memory (GCRA via `governor`). Either way the lockout counter that protects accounts lives
//! in the database.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use esr_domain::TokenDigest;
use esr_persistence::DbPool;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// Checks between two sweeps of forgotten keys (memory) or ended windows (database).
const SWEEP_EVERY: u64 = 4096;

/// Keys one in-memory limit holds at most (a few MiB). A flood from more distinct addresses or
/// emails than this within a window starts the limit afresh instead of growing memory: each of
/// those keys is being used once anyway, so nothing a per-key limit would stop is let through.
const MEMORY_KEYS_MAX: usize = 100_000;

type Keyed = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>;

/// One keyed limit, e.g. "10 login attempts per minute per username".
#[derive(Debug)]
pub struct KeyedLimit {
    /// Tells this limit's keys from another's in the shared table.
    name: &'static str,
    allowed: u32,
    window: Duration,
    store: Store,
    checks: AtomicU64,
}

#[derive(Debug)]
enum Store {
    /// The limit is switched off (0).
    Off,
    /// This instance's own counters, and how many keys they may hold.
    Memory {
        limiter: std::sync::RwLock<Box<Keyed>>,
        quota: Quota,
        most_keys: usize,
    },
    /// Counters in the database, shared by every instance.
    Shared(DbPool),
}

/// The limit was reached; retry after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// Seconds until the next attempt is allowed (at least 1).
    pub retry_after_secs: u64,
}

impl std::fmt::Display for Limited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rate limited; retry after {} s", self.retry_after_secs)
    }
}

impl KeyedLimit {
    /// `per_minute` requests a minute per key, all of them allowed in a burst; 0 disables.
    pub fn per_minute(name: &'static str, per_minute: u32) -> Self {
        Self::new(name, per_minute, Duration::from_secs(60), Quota::per_minute)
    }

    /// `per_hour` requests an hour per key, all of them allowed in a burst; 0 disables.
    pub fn per_hour(name: &'static str, per_hour: u32) -> Self {
        Self::new(name, per_hour, Duration::from_secs(3600), Quota::per_hour)
    }

    fn new(
        name: &'static str,
        allowed: u32,
        window: Duration,
        quota: fn(NonZeroU32) -> Quota,
    ) -> Self {
        let store = NonZeroU32::new(allowed).map_or(Store::Off, |n| {
            let quota = quota(n).allow_burst(n);
            Store::Memory {
                limiter: std::sync::RwLock::new(Box::new(RateLimiter::keyed(quota))),
                quota,
                most_keys: MEMORY_KEYS_MAX,
            }
        });
        Self {
            name,
            allowed,
            window,
            store,
            checks: AtomicU64::new(0),
        }
    }

    /// The same limit counted in the database of `pool`, shared by every instance on it.
    pub fn shared(mut self, pool: DbPool) -> Self {
        if !matches!(self.store, Store::Off) {
            self.store = Store::Shared(pool);
        }
        self
    }

    /// Counts one request for `key`.
    pub async fn check(&self, key: &str) -> Result<(), Limited> {
        let sweep = self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1;
        match &self.store {
            Store::Off => Ok(()),
            Store::Memory {
                limiter,
                quota,
                most_keys,
            } => {
                let limited = {
                    let limiter = limiter
                        .read()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    // Forget keys that are back to a full allowance now and then.
                    if sweep {
                        limiter.retain_recent();
                    }
                    let limited = limiter.check_key(&key.to_owned());
                    (limited, limiter.len() > *most_keys)
                };
                if limited.1 {
                    let mut limiter = limiter
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    limiter.retain_recent();
                    if limiter.len() > *most_keys {
                        **limiter = RateLimiter::keyed(*quota);
                    }
                }
                limited.0.map_err(|not_until| {
                    let wait: Duration = not_until.wait_time_from(DefaultClock::default().now());
                    Limited {
                        retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
                    }
                })
            }
            Store::Shared(pool) => self.check_shared(pool, key, sweep).await,
        }
    }

    async fn check_shared(&self, pool: &DbPool, key: &str, sweep: bool) -> Result<(), Limited> {
        let now = Utc::now();
        let window_start = window_start(now, self.window);
        let digest = TokenDigest::of(&format!("{}\0{key}", self.name));
        let window = self.window;
        let pool = pool.clone();
        let counted = tokio::task::spawn_blocking(move || {
            pool.run(|conn| {
                if sweep {
                    let ended =
                        window_start - chrono::Duration::from_std(window * 2).unwrap_or_default();
                    esr_persistence::rate_limits::sweep(conn, ended)?;
                }
                esr_persistence::rate_limits::hit(conn, &digest, window_start)
            })
        })
        .await;
        match counted {
            Ok(Ok(hits)) if hits > self.allowed => {
                let ends =
                    window_start + chrono::Duration::from_std(self.window).unwrap_or_default();
                let wait = (ends - now).num_milliseconds().max(0) as u64;
                Err(Limited {
                    retry_after_secs: wait.div_ceil(1000).max(1),
                })
            }
            Ok(Ok(_)) => Ok(()),
            // A limit that cannot be counted lets the request through: the database is what
            // every request needs anyway, and the lockout still guards every account.
            Ok(Err(e)) => {
                tracing::warn!(limit = self.name, error = %e, "rate limit not counted");
                Ok(())
            }
            Err(e) => {
                tracing::warn!(limit = self.name, error = %e, "rate limit not counted");
                Ok(())
            }
        }
    }
}

/// The start of the fixed window of length `window` that holds `now`.
pub fn window_start(now: DateTime<Utc>, window: Duration) -> DateTime<Utc> {
    let length = i64::try_from(window.as_secs()).unwrap_or(i64::MAX).max(1);
    let start = now.timestamp() - now.timestamp().rem_euclid(length);
    DateTime::from_timestamp(start, 0).unwrap_or(now)
}

/// The limits of this instance.
#[derive(Debug)]
pub struct RateLimits {
    /// Login attempts per client.
    pub login_per_ip: KeyedLimit,
    /// Login attempts per username.
    pub login_per_username: KeyedLimit,
    /// Recovery and unlock requests per client.
    pub recovery_per_ip: KeyedLimit,
    /// Recovery and unlock requests per email address typed.
    pub recovery_per_email: KeyedLimit,
    /// Reset and unlock link use (validate, reset, unlock) per client.
    pub links_per_ip: KeyedLimit,
    /// Audit events of refused-by-rate-limit smartcard requests per client (one a minute:
    /// a flood of refusals must not become a flood of audit writes; the metric counts all).
    pub refusal_audits_per_ip: KeyedLimit,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn allows_the_burst_then_limits_per_key() {
        let limit = KeyedLimit::per_minute("test", 3);
        for _ in 0..3 {
            assert!(limit.check("a").await.is_ok());
        }
        let limited = limit.check("a").await.expect_err("fourth refused");
        assert!((1..=60).contains(&limited.retry_after_secs));
        assert!(limit.check("b").await.is_ok(), "other keys unaffected");
    }

    #[tokio::test]
    async fn zero_disables() {
        let limit = KeyedLimit::per_minute("test", 0);
        for _ in 0..1000 {
            assert!(limit.check("a").await.is_ok());
        }
    }

    #[tokio::test]
    async fn memory_stays_bounded_by_the_key_cap() {
        let mut limit = KeyedLimit::per_hour("test", 5);
        if let Store::Memory { most_keys, .. } = &mut limit.store {
            *most_keys = 1_000;
        }
        for i in 0..10_000 {
            assert!(limit.check(&format!("flood{i}")).await.is_ok());
        }
        let Store::Memory { limiter, .. } = &limit.store else {
            panic!("in memory");
        };
        let held = limiter.read().unwrap().len();
        assert!(held <= 1_001, "{held} keys held");
        // A key within the cap is still limited.
        for _ in 0..5 {
            assert!(limit.check("steady").await.is_ok());
        }
        assert!(limit.check("steady").await.is_err());
    }

    #[test]
    fn windows_start_on_their_boundary() {
        let at = DateTime::from_timestamp(1_700_000_123, 0).unwrap();
        assert_eq!(
            window_start(at, Duration::from_secs(60)).timestamp(),
            1_700_000_100
        );
        assert_eq!(
            window_start(at, Duration::from_secs(3600)).timestamp(),
            1_699_999_200
        );
    }
}
