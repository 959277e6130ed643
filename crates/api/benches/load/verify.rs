//! Phase 1: the raw argon2id verification rate, nothing else running, which the login rate
//! is compared with.

use std::hint::black_box;
use std::time::{Duration, Instant};

use esr_domain::{Argon2Params, Password, PasswordHasher, PasswordPolicy, PolicyContext};

use crate::knobs::DEMO_LOGINS;

pub struct Verify {
    pub rate: f64,
    pub latencies: Vec<u32>,
}

/// Raw argon2id verifications on `threads` threads for `duration`.
pub fn raw_verify(threads: usize, duration: Duration) -> Verify {
    let hasher = PasswordHasher::new(Argon2Params::default()).expect("default parameters");
    let (_, typed) = DEMO_LOGINS[0];
    let new = PasswordPolicy::default()
        .check(&Password::new(typed), None, &PolicyContext::default())
        .expect("demo password passes the policy");
    let phc = hasher
        .hash(&new, &mut rand::rng())
        .expect("hash")
        .into_string();
    let login = Password::new(typed);
    assert!(hasher.verify(&login, &phc), "known password verifies");
    let start = Instant::now();
    let deadline = start + duration;
    let mut latencies: Vec<u32> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (hasher, login, phc) = (&hasher, &login, &phc);
                s.spawn(move || {
                    let mut v = Vec::new();
                    while Instant::now() < deadline {
                        let t0 = Instant::now();
                        black_box(hasher.verify(black_box(login), phc));
                        v.push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
                    }
                    v
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("verify thread"))
            .collect()
    });
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    Verify {
        rate: latencies.len() as f64 / elapsed.as_secs_f64(),
        latencies,
    }
}
