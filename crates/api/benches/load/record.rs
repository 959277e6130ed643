//! Latency bookkeeping: latencies by status, percentiles and their formatting.

use std::collections::BTreeMap;
use std::time::Duration;

/// Latencies (µs) of completed requests by status, plus transport errors.
#[derive(Debug, Default)]
pub struct Record {
    pub by_status: BTreeMap<u16, Vec<u32>>,
    pub errors: u64,
    pub elapsed: Duration,
}

impl Record {
    pub fn add(&mut self, status: u16, latency: Duration) {
        let micros = u32::try_from(latency.as_micros()).unwrap_or(u32::MAX);
        self.by_status.entry(status).or_default().push(micros);
    }

    pub fn merge(&mut self, other: Record) {
        for (status, mut v) in other.by_status {
            self.by_status.entry(status).or_default().append(&mut v);
        }
        self.errors += other.errors;
        self.elapsed = self.elapsed.max(other.elapsed);
    }

    pub fn count(&self, status: u16) -> usize {
        self.by_status.get(&status).map_or(0, Vec::len)
    }

    pub fn total(&self) -> usize {
        self.by_status.values().map(Vec::len).sum()
    }

    /// Latencies of the given statuses together, sorted.
    pub fn latencies(&self, statuses: &[u16]) -> Vec<u32> {
        let mut all: Vec<u32> = statuses
            .iter()
            .filter_map(|s| self.by_status.get(s))
            .flatten()
            .copied()
            .collect();
        all.sort_unstable();
        all
    }

    pub fn rps(&self, status: u16) -> f64 {
        self.count(status) as f64 / self.elapsed.as_secs_f64()
    }

    pub fn counts(&self) -> String {
        let mut parts: Vec<String> = self
            .by_status
            .iter()
            .map(|(s, v)| format!("{s}: {}", v.len()))
            .collect();
        if self.errors > 0 {
            parts.push(format!("errors: {}", self.errors));
        }
        parts.join(", ")
    }
}

/// Nearest-rank percentile of sorted microseconds, in milliseconds.
pub fn pct_ms(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q / 100.0) * sorted.len() as f64).ceil() as usize;
    f64::from(sorted[rank.clamp(1, sorted.len()) - 1]) / 1000.0
}

pub fn fmt_ms(ms: f64) -> String {
    if ms.is_nan() {
        "–".to_owned()
    } else if ms < 1.0 {
        format!("{ms:.2}")
    } else if ms < 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}
