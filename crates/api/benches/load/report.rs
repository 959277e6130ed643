//! The final report: a line per measured phase as it finishes, then the Markdown for
//! `docs/BENCHMARKS.md` (table of phases, verdicts against the targets, CPU, memory).

use crate::knobs::Knobs;
use crate::record::{Record, fmt_ms, pct_ms};
use crate::server::CpuShare;
use crate::verify::Verify;

/// A row of the final table.
pub struct Row {
    pub phase: String,
    pub clients: usize,
    pub record: Record,
    /// The statuses that count as "served" for rps and latency.
    pub ok: Vec<u16>,
    pub note: String,
    pub cpu: Option<CpuShare>,
}

impl Row {
    pub fn served(&self) -> Vec<u32> {
        self.record.latencies(&self.ok)
    }

    pub fn print_line(&self) {
        let ok = self.served();
        println!(
            "  {:<44} c={:<3} {:>8.1}/s p50 {:>5} ms p99 {:>5} ms max {:>5} ms [{}] {}",
            self.phase,
            self.clients,
            ok.len() as f64 / self.record.elapsed.as_secs_f64(),
            fmt_ms(pct_ms(&ok, 50.0)),
            fmt_ms(pct_ms(&ok, 99.0)),
            fmt_ms(ok.last().map_or(f64::NAN, |m| f64::from(*m) / 1000.0)),
            self.record.counts(),
            self.note,
        );
        if let Some(cpu) = &self.cpu {
            println!("      cpu: {}", cpu.describe());
        }
    }

    pub fn markdown(&self) -> String {
        let ok = self.served();
        format!(
            "| {} | {} | {:.0} | {} | {} | {} | {} |",
            self.phase,
            self.clients,
            ok.len() as f64 / self.record.elapsed.as_secs_f64(),
            fmt_ms(pct_ms(&ok, 50.0)),
            fmt_ms(pct_ms(&ok, 99.0)),
            self.record.counts(),
            self.note,
        )
    }
}

pub struct Verdict {
    pub what: String,
    pub measured: String,
    pub target: &'static str,
    pub pass: Option<bool>,
}

/// Everything measured, for the final report.
#[derive(Default)]
pub struct Report {
    pub rows: Vec<Row>,
    /// Backend, offered rate and sorted latencies of the 80 %-of-capacity login phases.
    pub steady: Vec<(&'static str, f64, Vec<u32>)>,
    pub verdicts: Vec<Verdict>,
    pub memory: Vec<String>,
    pub wrk: Vec<(String, f64)>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn push(&mut self, row: Row) {
        row.print_line();
        self.rows.push(row);
    }

    pub fn verdict(
        &mut self,
        what: String,
        measured: String,
        target: &'static str,
        pass: Option<bool>,
    ) {
        self.verdicts.push(Verdict {
            what,
            measured,
            target,
            pass,
        });
    }

    pub fn markdown(&self, raw: &[(&str, &Verify)], knobs: &Knobs) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for (when, v) in raw {
            let _ = writeln!(
                out,
                "- Raw argon2id verify, 2 threads, {when}: **{:.1}/s** (p50 {} ms, p99 {} ms, {} verifications).",
                v.rate,
                fmt_ms(pct_ms(&v.latencies, 50.0)),
                fmt_ms(pct_ms(&v.latencies, 99.0)),
                v.latencies.len()
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| phase | clients | served/s | p50 ms | p99 ms | answers by status | note |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|");
        for row in &self.rows {
            let _ = writeln!(out, "{}", row.markdown());
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "| target | measured | target | verdict |");
        let _ = writeln!(out, "|---|---|---|---|");
        for v in &self.verdicts {
            let mark = match v.pass {
                Some(true) => "PASS",
                Some(false) => "MISS",
                None => "–",
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {mark} |",
                v.what, v.measured, v.target
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "CPU per phase (cores used on average; server threads by name):"
        );
        let _ = writeln!(out);
        for row in &self.rows {
            if let Some(cpu) = &row.cpu {
                let _ = writeln!(out, "- {}: {}", row.phase, cpu.describe());
            }
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "Memory of the server process:");
        let _ = writeln!(out);
        for line in &self.memory {
            let _ = writeln!(out, "- {line}");
        }
        if !self.wrk.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "Cross-check with wrk (-t1 -c{}, {} s):",
                knobs.me_clients,
                (knobs.secs.as_secs() / 2).max(1)
            );
            let _ = writeln!(out);
            for (what, r) in &self.wrk {
                let _ = writeln!(out, "- {what}: {r:.0} req/s");
            }
        }
        for note in &self.notes {
            let _ = writeln!(out);
            let _ = writeln!(out, "{note}");
        }
        out
    }
}
