//! Where the token signing key comes from, and rotation.
//!
//! Dev mode: a key generated on first start and kept (private part included) in the
//! database, so tokens survive restarts. Production: the PKCS#8 PEM file named by
//! `ESR_SIGNING_KEY_FILE`; only its public part is stored. Every instance registers the
//! public part of the key it signs with, and verifies with every stored key that is active
//! or was retired less than one access-token lifetime ago.

use chrono::{DateTime, Utc};
use esr_persistence::{DbConnection, RepoError, signing_keys};

use crate::config::Config;
use crate::tokens::{KeyError, PublicKey, SigningKey};

/// Why the signing key could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    /// The key file could not be read.
    #[error("cannot read the signing key file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The key is not an Ed25519 PKCS#8 key.
    #[error("the signing key is not usable: {0}")]
    Key(#[from] KeyError),
    /// Storage failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

fn from_file(path: &std::path::Path) -> Result<SigningKey, SigningKeyError> {
    let pem = std::fs::read_to_string(path).map_err(|source| SigningKeyError::Read {
        path: path.display().to_string(),
        source,
    })?;
    Ok(SigningKey::from_pkcs8_pem(&pem)?)
}

/// The key this instance signs with, registered in the database.
pub fn load_signing_key(
    conn: &mut DbConnection,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<SigningKey, SigningKeyError> {
    if let Some(path) = &config.signing_key_file {
        let key = from_file(path)?;
        signing_keys::register(conn, key.kid(), key.public_key().x(), None, now)?;
        return Ok(key);
    }
    if let Some(stored) = signing_keys::newest_dev_key(conn)?
        && let Some(pem) = &stored.private_key_pem
    {
        return Ok(SigningKey::from_pkcs8_pem(pem)?);
    }
    generate_dev_key(conn, now)
}

fn generate_dev_key(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
) -> Result<SigningKey, SigningKeyError> {
    let key = SigningKey::generate(&mut rand::rng());
    let pem = key.to_pkcs8_pem();
    signing_keys::register(
        conn,
        key.kid(),
        key.public_key().x(),
        Some(pem.as_str()),
        now,
    )?;
    Ok(key)
}

/// Every key that verifies at `now` (active, or retired within `grace`).
pub fn verification_keys(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    grace: std::time::Duration,
) -> Result<Vec<PublicKey>, SigningKeyError> {
    let grace = chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::hours(1));
    signing_keys::verifying(conn, now, grace)?
        .iter()
        .map(|k| PublicKey::from_x(&k.public_key).map_err(SigningKeyError::from))
        .collect()
}

/// Makes a key the only active one: the configured file's key, or (without a file) a newly
/// generated dev key. Older keys are retired and keep verifying for one access-token
/// lifetime. Returns the active kid and how many keys were retired.
pub fn rotate(
    conn: &mut DbConnection,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<(String, usize), SigningKeyError> {
    conn.write_transaction(|conn| {
        let key = match &config.signing_key_file {
            Some(path) => {
                let key = from_file(path)?;
                signing_keys::register(conn, key.kid(), key.public_key().x(), None, now)?;
                key
            }
            None => generate_dev_key(conn, now)?,
        };
        let retired = signing_keys::retire_all_except(conn, key.kid(), now)?;
        Ok((key.kid().to_owned(), retired))
    })
}
