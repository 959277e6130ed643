//! The password policy, the breached-password check, lockout, and password hashing.

use std::time::Duration;

use esr_domain::PasswordPolicy;
use url::Url;

use super::server::{check_http_url, cores};

/// Password rules, breached-password look-ups, lockout and argon2id.
#[derive(Debug, Clone, clap::Args)]
pub struct PasswordSettings {
    /// Fewest characters a password may have (ESR rule 12; NIST SP 800-63B rev 4 asks 15 for single-factor).
    #[arg(
        long,
        env = "ESR_PASSWORD_MIN_LENGTH",
        default_value_t = 12,
        global = true
    )]
    pub password_min_length: usize,

    /// Most characters a password may have (at least 64).
    #[arg(
        long,
        env = "ESR_PASSWORD_MAX_LENGTH",
        default_value_t = 128,
        global = true
    )]
    pub password_max_length: usize,

    /// How many previous passwords may not be reused.
    #[arg(long, env = "ESR_PASSWORD_HISTORY", default_value_t = 4, global = true)]
    pub password_history: usize,

    /// Base URL of a Have I Been Pwned-compatible range API (e.g.
    /// `https://api.pwnedpasswords.com/`): turns on the breached-password check. Only the first
    /// five hex digits of the password's SHA-1 are sent. Off when unset.
    #[arg(long, env = "ESR_BREACHED_PASSWORD_API_URL", global = true)]
    pub breached_password_api_url: Option<String>,

    /// Connect and total timeout of a breached-password look-up (milliseconds); when it runs
    /// out the check is skipped with a warning (fail-open).
    #[arg(
        long,
        env = "ESR_BREACHED_PASSWORD_TIMEOUT_MS",
        default_value_t = 1_500,
        global = true
    )]
    pub breached_password_timeout_ms: u64,

    /// Consecutive failed logins that lock an account.
    #[arg(
        long,
        env = "ESR_LOCKOUT_THRESHOLD",
        default_value_t = 5,
        global = true
    )]
    pub lockout_threshold: u32,

    /// argon2id memory in KiB (OWASP: 19456).
    #[arg(
        long,
        env = "ESR_ARGON2_MEMORY_KIB",
        default_value_t = 19_456,
        global = true
    )]
    pub argon2_memory_kib: u32,

    /// argon2id iterations (OWASP: 2).
    #[arg(
        long,
        env = "ESR_ARGON2_ITERATIONS",
        default_value_t = 2,
        global = true
    )]
    pub argon2_iterations: u32,

    /// argon2id parallelism (OWASP: 1).
    #[arg(
        long,
        env = "ESR_ARGON2_PARALLELISM",
        default_value_t = 1,
        global = true
    )]
    pub argon2_parallelism: u32,

    /// Password-hashing threads. Default: one per core.
    #[arg(long, env = "ESR_HASH_WORKERS", global = true)]
    pub hash_workers: Option<usize>,

    /// Hashing jobs that may wait for a thread; beyond workers + queue, requests get 503.
    #[arg(long, env = "ESR_HASH_QUEUE", global = true)]
    pub hash_queue: Option<usize>,
}

/// Where and how long to look passwords up in a breached-password corpus.
#[derive(Debug, Clone)]
pub struct BreachedPasswordsConfig {
    /// Base URL of the range API (ends with `/`; `range/{prefix}` is appended).
    pub base_url: Url,
    /// Connect and total timeout of one look-up.
    pub timeout: Duration,
}

/// The passwords section, resolved.
pub(super) struct Passwords {
    pub(super) policy: PasswordPolicy,
    pub(super) breached: Option<BreachedPasswordsConfig>,
    pub(super) lockout: esr_domain::LockoutPolicy,
    pub(super) argon2: esr_domain::Argon2Params,
    pub(super) hash_workers: usize,
    pub(super) hash_queue: usize,
}

impl PasswordSettings {
    /// The passwords section; what is wrong is added to `problems`.
    pub(super) fn resolve(self, production: bool, problems: &mut Vec<String>) -> Passwords {
        if self.password_min_length < 8 {
            problems.push("ESR_PASSWORD_MIN_LENGTH must be at least 8 (NIST SP 800-63B)".into());
        }
        if self.password_max_length < 64 || self.password_max_length < self.password_min_length {
            problems.push(
                "ESR_PASSWORD_MAX_LENGTH must be at least 64 and at least ESR_PASSWORD_MIN_LENGTH"
                    .into(),
            );
        }
        if self.password_max_length > 1024 {
            problems.push("ESR_PASSWORD_MAX_LENGTH must be at most 1024".into());
        }
        if !(1..=100).contains(&self.lockout_threshold) {
            problems.push("ESR_LOCKOUT_THRESHOLD must be between 1 and 100".into());
        }
        if self.argon2_memory_kib < 8 * self.argon2_parallelism.max(1)
            || self.argon2_iterations == 0
            || self.argon2_parallelism == 0
        {
            problems.push(
                "ESR_ARGON2_*: memory ≥ 8 KiB × parallelism, iterations and parallelism ≥ 1".into(),
            );
        } else if production && (self.argon2_memory_kib < 19_456 || self.argon2_iterations < 2) {
            problems.push(
                "ESR_ARGON2_*: production needs at least the OWASP parameters (m = 19456 KiB, t = 2)".into(),
            );
        }
        if self.hash_workers == Some(0) {
            problems.push("ESR_HASH_WORKERS must be at least 1".into());
        }
        let breached = self.resolve_breached(production, problems);

        let hash_workers = self.hash_workers.unwrap_or_else(cores);
        Passwords {
            policy: PasswordPolicy {
                min_length: self.password_min_length,
                max_length: self.password_max_length,
                history_depth: self.password_history,
                breached_check: breached.is_some(),
                ..PasswordPolicy::default()
            },
            breached,
            lockout: esr_domain::LockoutPolicy {
                threshold: self.lockout_threshold,
            },
            argon2: esr_domain::Argon2Params {
                memory_kib: self.argon2_memory_kib,
                iterations: self.argon2_iterations,
                parallelism: self.argon2_parallelism,
            },
            hash_workers,
            hash_queue: self.hash_queue.unwrap_or(2 * hash_workers),
        }
    }

    /// The breached-password check's settings, when `ESR_BREACHED_PASSWORD_API_URL` is set.
    fn resolve_breached(
        &self,
        production: bool,
        problems: &mut Vec<String>,
    ) -> Option<BreachedPasswordsConfig> {
        let raw = self
            .breached_password_api_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())?;
        if !(100..=30_000).contains(&self.breached_password_timeout_ms) {
            problems.push("ESR_BREACHED_PASSWORD_TIMEOUT_MS must be between 100 and 30000".into());
        }
        const NAME: &str = "ESR_BREACHED_PASSWORD_API_URL";
        let Ok(mut url) = Url::parse(raw) else {
            problems.push(format!("{NAME} must be an http(s) URL, not {raw:?}"));
            return None;
        };
        if !check_http_url(NAME, &url, production, problems) {
            return None;
        }
        // `range/ABCDE` is joined onto it: keep the path a directory.
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Some(BreachedPasswordsConfig {
            base_url: url,
            timeout: Duration::from_millis(self.breached_password_timeout_ms),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::settings;
    use super::*;

    #[test]
    fn breached_password_api_is_off_by_default_and_validated_when_set() {
        let config = settings(&["--mode", "dev"]).resolve().expect("dev config");
        assert!(config.breached_passwords.is_none());
        assert!(!config.password_policy.breached_check);

        let config = settings(&[
            "--mode",
            "dev",
            "--breached-password-api-url",
            "https://api.pwnedpasswords.com",
        ])
        .resolve()
        .expect("dev config");
        let breached = config.breached_passwords.expect("on");
        assert_eq!(
            breached.base_url.as_str(),
            "https://api.pwnedpasswords.com/"
        );
        assert_eq!(breached.timeout, Duration::from_millis(1_500));
        assert!(config.password_policy.breached_check);

        for (args, expected) in [
            (
                vec!["--breached-password-api-url", "ftp://example.org/"],
                "ESR_BREACHED_PASSWORD_API_URL must be an http(s) URL",
            ),
            (
                vec!["--breached-password-api-url", "not a url"],
                "ESR_BREACHED_PASSWORD_API_URL must be an http(s) URL",
            ),
            (
                vec![
                    "--breached-password-api-url",
                    "https://example.org/",
                    "--breached-password-timeout-ms",
                    "10",
                ],
                "ESR_BREACHED_PASSWORD_TIMEOUT_MS",
            ),
        ] {
            let mut argv = vec!["--mode", "dev"];
            argv.extend(args);
            let text = settings(&argv).resolve().expect_err("refused").to_string();
            assert!(text.contains(expected), "{text}");
        }
        let text = settings(&[
            "--mode",
            "production",
            "--breached-password-api-url",
            "http://pwned.internal/",
        ])
        .resolve()
        .expect_err("refused")
        .to_string();
        assert!(
            text.contains("ESR_BREACHED_PASSWORD_API_URL must use https in production"),
            "{text}"
        );
    }
}
