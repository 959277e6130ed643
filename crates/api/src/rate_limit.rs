//! Rate limits per key (client IP, username, email address), answered with 429 and
//! `Retry-After`. Counters are per instance (GCRA via `governor`); the lockout counter that
//! protects accounts lives in the database and is shared by all instances.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// One keyed limit, e.g. "10 login attempts per minute per username".
#[derive(Debug)]
pub struct KeyedLimit {
    limiter: Option<RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>>,
    clock: DefaultClock,
    checks: AtomicU64,
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
    pub fn per_minute(per_minute: u32) -> Self {
        Self::new(per_minute, Quota::per_minute)
    }

    /// `per_hour` requests an hour per key, all of them allowed in a burst; 0 disables.
    pub fn per_hour(per_hour: u32) -> Self {
        Self::new(per_hour, Quota::per_hour)
    }

    fn new(n: u32, quota: fn(NonZeroU32) -> Quota) -> Self {
        let limiter = NonZeroU32::new(n).map(|n| RateLimiter::keyed(quota(n).allow_burst(n)));
        Self {
            limiter,
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// Counts one request for `key`.
    pub fn check(&self, key: &str) -> Result<(), Limited> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        // Forget keys that are back to a full allowance now and then, so memory stays bounded.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            limiter.retain_recent();
        }
        limiter.check_key(&key.to_owned()).map_err(|not_until| {
            let wait: Duration = not_until.wait_time_from(self.clock.now());
            Limited {
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }
}

/// The limits of this instance.
#[derive(Debug)]
pub struct RateLimits {
    /// Login attempts per client IP.
    pub login_per_ip: KeyedLimit,
    /// Login attempts per username.
    pub login_per_username: KeyedLimit,
    /// Recovery and unlock requests per client IP.
    pub recovery_per_ip: KeyedLimit,
    /// Recovery and unlock requests per email address typed.
    pub recovery_per_email: KeyedLimit,
    /// Reset and unlock link use (validate, reset, unlock) per client IP.
    pub links_per_ip: KeyedLimit,
    /// Audit events of refused-by-rate-limit smartcard requests per client IP (one a minute:
    /// a flood of refusals must not become a flood of audit writes; the metric counts all).
    pub refusal_audits_per_ip: KeyedLimit,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_burst_then_limits_per_key() {
        let limit = KeyedLimit::per_minute(3);
        for _ in 0..3 {
            assert!(limit.check("a").is_ok());
        }
        let limited = limit.check("a").expect_err("fourth refused");
        assert!((1..=60).contains(&limited.retry_after_secs));
        assert!(limit.check("b").is_ok(), "other keys unaffected");
    }

    #[test]
    fn zero_disables() {
        let limit = KeyedLimit::per_minute(0);
        for _ in 0..1000 {
            assert!(limit.check("a").is_ok());
        }
    }
}
