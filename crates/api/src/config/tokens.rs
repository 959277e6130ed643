//! The access-token signing key, the audit digest key derived beside it, and token and
//! session lifetimes.

use std::time::Duration;

use crate::audit::DigestKey;
use crate::mfa::MfaKey;

/// Signing and audit keys, token audience and lifetimes.
#[derive(Debug, Clone, clap::Args)]
pub struct AccessTokenSettings {
    /// PKCS#8 PEM file with the Ed25519 key that signs access tokens (required in production;
    /// dev mode generates one and keeps it in the database).
    #[arg(long, env = "ESR_SIGNING_KEY_FILE", global = true)]
    pub signing_key_file: Option<std::path::PathBuf>,

    /// File with at least 32 bytes of secret that keys the audit trail's digests of unmatched
    /// emails, usernames and smartcard subjects (the same on every instance). Default: derived
    /// from ESR_SIGNING_KEY_FILE (dev: a fixed development key).
    #[arg(long, env = "ESR_AUDIT_KEY_FILE", global = true)]
    pub audit_key_file: Option<std::path::PathBuf>,

    /// File with at least 32 bytes of secret that seals authenticator-app secrets and keys
    /// recovery-code digests (the same on every instance; required in production). Dev: a
    /// key generated once beside the SQLite database (`mfa.key`), or per process otherwise.
    #[arg(long, env = "ESR_MFA_KEY_FILE", global = true)]
    pub mfa_key_file: Option<std::path::PathBuf>,

    /// `aud` of access tokens.
    #[arg(
        long,
        env = "ESR_TOKEN_AUDIENCE",
        default_value = "esr-access",
        global = true
    )]
    pub token_audience: String,

    /// Access-token lifetime in seconds.
    #[arg(
        long,
        env = "ESR_ACCESS_TOKEN_TTL_SECS",
        default_value_t = 900,
        global = true
    )]
    pub access_token_ttl_secs: u64,

    /// Refresh-token lifetime in hours (a session idle longer than this ends).
    #[arg(
        long,
        env = "ESR_REFRESH_TOKEN_TTL_HOURS",
        default_value_t = 336,
        global = true
    )]
    pub refresh_token_ttl_hours: u64,

    /// Seconds after a refresh during which the refresh token it spent still answers, with the
    /// same new refresh token (a lost response, two app threads refreshing at once); after
    /// them a spent token ends its session. 0 turns the grace off; at most 300.
    #[arg(
        long,
        env = "ESR_REFRESH_GRACE_SECS",
        default_value_t = 30,
        global = true
    )]
    pub refresh_grace_secs: u64,

    /// Longest a password session lasts, however often it is refreshed, in hours.
    #[arg(
        long,
        env = "ESR_SESSION_MAX_HOURS",
        default_value_t = 720,
        global = true
    )]
    pub session_max_hours: u64,
}

/// The tokens section, resolved.
pub(super) struct Tokens {
    pub(super) signing_key_file: Option<std::path::PathBuf>,
    pub(super) audit_digest_key: DigestKey,
    /// `None` in dev without a key file: generated beside the database.
    pub(super) mfa_key: Option<MfaKey>,
    pub(super) audience: String,
    pub(super) access_ttl: Duration,
    pub(super) refresh_ttl: Duration,
    pub(super) refresh_grace: Duration,
    pub(super) session_max: Duration,
}

impl AccessTokenSettings {
    /// The tokens section; what is wrong is added to `problems`. The signing key file is
    /// required only where `key_required` (a production instance that serves requests).
    pub(super) fn resolve(self, key_required: bool, problems: &mut Vec<String>) -> Tokens {
        match (&self.signing_key_file, key_required) {
            (None, true) => problems.push(
                "ESR_SIGNING_KEY_FILE is required (an Ed25519 PKCS#8 PEM file, e.g. from `openssl genpkey -algorithm ed25519`)"
                    .into(),
            ),
            (Some(path), _) if !path.is_file() => problems.push(format!(
                "ESR_SIGNING_KEY_FILE: {} is not a readable file",
                path.display()
            )),
            _ => {}
        }
        let audit_digest_key = match (&self.audit_key_file, &self.signing_key_file) {
            (Some(path), _) => {
                DigestKey::from_secret(&read_key_file(path, "ESR_AUDIT_KEY_FILE", problems))
            }
            // Unreadable signing key files are reported above.
            (None, Some(path)) => DigestKey::from_secret(&std::fs::read(path).unwrap_or_default()),
            (None, None) => DigestKey::from_secret(b"esr-access development"),
        };
        let mfa_key = match (&self.mfa_key_file, key_required) {
            (Some(path), _) => Some(MfaKey::from_secret(&read_key_file(
                path,
                "ESR_MFA_KEY_FILE",
                problems,
            ))),
            (None, true) => {
                problems.push(
                    "ESR_MFA_KEY_FILE is required (at least 32 random bytes, e.g. from `openssl rand -out mfa.key 32`)"
                        .into(),
                );
                None
            }
            (None, false) => None,
        };
        if !(60..=3600).contains(&self.access_token_ttl_secs) {
            problems.push("ESR_ACCESS_TOKEN_TTL_SECS must be between 60 and 3600".into());
        }
        if self.refresh_grace_secs > 300 {
            problems.push("ESR_REFRESH_GRACE_SECS must be at most 300".into());
        }
        if self.refresh_token_ttl_hours == 0 || self.session_max_hours == 0 {
            problems.push(
                "ESR_REFRESH_TOKEN_TTL_HOURS and ESR_SESSION_MAX_HOURS must be at least 1".into(),
            );
        }
        Tokens {
            signing_key_file: self.signing_key_file,
            audit_digest_key,
            mfa_key,
            audience: self.token_audience,
            access_ttl: Duration::from_secs(self.access_token_ttl_secs),
            refresh_ttl: Duration::from_secs(self.refresh_token_ttl_hours * 3600),
            refresh_grace: Duration::from_secs(self.refresh_grace_secs),
            session_max: Duration::from_secs(self.session_max_hours * 3600),
        }
    }
}

/// The secret in a key file: at least 32 bytes, or a problem named after `setting` and an
/// empty secret. Surrounding whitespace (a text key's final line break) is trimmed, unless
/// that leaves fewer than 32 bytes: raw random bytes (`openssl rand -out mfa.key 32`) may
/// begin or end with a byte that reads as whitespace, and are the secret as they are.
fn read_key_file(path: &std::path::Path, setting: &str, problems: &mut Vec<String>) -> Vec<u8> {
    match std::fs::read(path) {
        Ok(secret) if secret.trim_ascii().len() >= 32 => secret.trim_ascii().to_vec(),
        Ok(secret) if secret.len() >= 32 => secret,
        Ok(_) => {
            problems.push(format!(
                "{setting}: {} must hold at least 32 bytes of secret",
                path.display()
            ));
            Vec::new()
        }
        Err(e) => {
            problems.push(format!("{setting}: cannot read {}: {e}", path.display()));
            Vec::new()
        }
    }
}

/// The dev MFA key when no file is given: generated once into `mfa.key` beside a SQLite
/// database file (so enrolled authenticator apps survive a restart), else per process.
pub(super) fn dev_mfa_key(database: &esr_persistence::DatabaseUrl) -> MfaKey {
    let beside_database = (database.backend() == esr_persistence::Backend::Sqlite)
        .then(|| database.expose())
        .filter(|path| !path.contains(":memory:"))
        .and_then(|path| std::path::Path::new(path).parent())
        .map(|dir| dir.join("mfa.key"));
    let generated = || {
        let mut secret = vec![0u8; 32];
        rand::Rng::fill_bytes(&mut rand::rng(), &mut secret);
        secret
    };
    let Some(path) = beside_database else {
        return MfaKey::from_secret(&generated());
    };
    if let Ok(secret) = std::fs::read(&path)
        && secret.len() >= 32
    {
        return MfaKey::from_secret(&secret);
    }
    let secret = generated();
    if let Err(e) = write_private(&path, &secret) {
        tracing::warn!(path = %path.display(), error = %e, "cannot keep the dev MFA key; enrolled authenticator apps stop working at restart");
    }
    MfaKey::from_secret(&secret)
}

fn write_private(path: &std::path::Path, secret: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(secret)
}

#[cfg(test)]
mod tests {
    use super::super::tests::settings;

    #[test]
    fn audit_digest_key_comes_from_its_file_or_the_signing_key() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("audit.key");
        std::fs::write(&secret, "0123456789abcdef0123456789abcdef\n").unwrap();
        let short = dir.path().join("short.key");
        std::fs::write(&short, "too short").unwrap();
        let signing = dir.path().join("signing.pem");
        std::fs::write(&signing, "-----BEGIN PRIVATE KEY-----\n...").unwrap();
        let key = |args: &[&str]| settings(args).resolve().map(|c| c.audit_digest_key);

        let from_file = key(&["--audit-key-file", secret.to_str().unwrap()]).unwrap();
        assert_eq!(
            from_file,
            crate::audit::DigestKey::from_secret(b"0123456789abcdef0123456789abcdef")
        );
        let from_signing = key(&["--signing-key-file", signing.to_str().unwrap()]).unwrap();
        let dev = key(&[]).unwrap();
        assert!(from_file != from_signing && from_signing != dev && dev != from_file);
        // The file wins over the signing key, so rotating the signing key keeps digests.
        let both = key(&[
            "--audit-key-file",
            secret.to_str().unwrap(),
            "--signing-key-file",
            signing.to_str().unwrap(),
        ])
        .unwrap();
        assert_eq!(both, from_file);

        // Raw random bytes that happen to end in a "whitespace" byte are a key as they are.
        let raw = dir.path().join("raw.key");
        let mut bytes = [7u8; 32];
        bytes[31] = b'\n';
        std::fs::write(&raw, bytes).unwrap();
        assert_eq!(
            key(&["--audit-key-file", raw.to_str().unwrap()]).unwrap(),
            crate::audit::DigestKey::from_secret(&bytes)
        );

        let text = key(&["--audit-key-file", short.to_str().unwrap()])
            .expect_err("refused")
            .to_string();
        assert!(text.contains("at least 32 bytes"), "{text}");
        let text = key(&["--audit-key-file", "/nonexistent/audit.key"])
            .expect_err("refused")
            .to_string();
        assert!(text.contains("ESR_AUDIT_KEY_FILE: cannot read"), "{text}");
    }
}
