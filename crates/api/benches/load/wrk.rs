//! `wrk` as a cross-check of the bench's own load generator, when it is installed.

use std::process::{Command, Stdio};

/// `wrk` against one URL; requests per second, if wrk is installed and answers.
pub fn wrk(url: &str, connections: usize, secs: u64, bearer: Option<&str>) -> Option<f64> {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t1", &format!("-c{connections}"), &format!("-d{secs}s")]);
    if let Some(token) = bearer {
        cmd.args(["-H", &format!("Authorization: Bearer {token}")]);
    }
    let out = cmd.arg(url).stderr(Stdio::null()).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("Non-2xx") {
        eprintln!("wrk saw non-2xx answers for {url}:\n{text}");
        return None;
    }
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
}

pub fn wrk_installed() -> bool {
    Command::new("wrk")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}
