//! The shared rate-limit counters: hits counted per key and window, across connections at
//! once, and swept when their windows have ended.

use chrono::{Duration, TimeZone, Utc};
use esr_domain::TokenDigest;
use esr_persistence::rate_limits;

use crate::both_backends;
use crate::helpers::TestDb;

both_backends!(
    hits_count_per_key_and_window,
    concurrent_hits_are_all_counted,
    ended_windows_are_swept,
);

fn hits_count_per_key_and_window(db: &TestDb) {
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    let window = Utc.with_ymd_and_hms(2026, 12, 7, 11, 0, 0).unwrap();
    let a = TokenDigest::of("login_ip:203.0.113.9");
    let b = TokenDigest::of("login_ip:203.0.113.10");
    assert_eq!(rate_limits::hit(&mut conn, &a, window).unwrap(), 1);
    assert_eq!(rate_limits::hit(&mut conn, &a, window).unwrap(), 2);
    assert_eq!(
        rate_limits::hit(&mut conn, &b, window).unwrap(),
        1,
        "another key"
    );
    let next = window + Duration::minutes(1);
    assert_eq!(
        rate_limits::hit(&mut conn, &a, next).unwrap(),
        1,
        "a new window"
    );
}

fn concurrent_hits_are_all_counted(db: &TestDb) {
    let pool = db.migrated_pool();
    let window = Utc.with_ymd_and_hms(2026, 12, 7, 11, 0, 0).unwrap();
    let key = TokenDigest::of("recovery_email:someone@example.org");
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let pool = pool.clone();
            let key = key.clone();
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                (0..5)
                    .map(|_| rate_limits::hit(&mut conn, &key, window).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut counts: Vec<u32> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=40).collect::<Vec<_>>(),
        "each hit got its own count"
    );
}

fn ended_windows_are_swept(db: &TestDb) {
    let pool = db.migrated_pool();
    let mut conn = pool.get().unwrap();
    let old = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
    let current = Utc.with_ymd_and_hms(2026, 12, 7, 11, 0, 0).unwrap();
    let key = TokenDigest::of("links_ip:198.51.100.7");
    rate_limits::hit(&mut conn, &key, old).unwrap();
    rate_limits::hit(&mut conn, &key, current).unwrap();
    assert_eq!(
        rate_limits::sweep(&mut conn, current - Duration::minutes(2)).unwrap(),
        1
    );
    assert_eq!(
        rate_limits::hit(&mut conn, &key, current).unwrap(),
        2,
        "the current one stays"
    );
}
