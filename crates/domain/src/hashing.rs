//! argon2id password hashing to PHC strings.
//!
//! Hashing is CPU- and memory-heavy by design (19 MiB and tens of milliseconds per call with
//! the defaults): callers run it off the async workers on a bounded pool.

use std::cell::RefCell;
use std::fmt;

use argon2::password_hash::phc;
use argon2::{Algorithm, Argon2, Version};
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::password::normalise;
use crate::{Coded, NewPassword, Password};

/// Salt length in bytes (RFC 9106 recommends 16).
const SALT_BYTES: usize = 16;
/// Tag length in bytes.
const OUTPUT_BYTES: usize = 32;
/// Fixed inputs of the dummy hash. Its salt need not be secret or unique: nobody's password
/// is hashed with it, it only makes unknown-user logins cost the same as real ones.
const DUMMY_SALT: &[u8; SALT_BYTES] = b"esr-access-dummy";
const DUMMY_PASSWORD: &[u8] = b"esr-access dummy password, never valid";

/// argon2id cost parameters. Defaults are OWASP's first recommendation:
/// m = 19456 KiB (19 MiB), t = 2, p = 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Argon2Params {
    /// Memory per hash, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes (degree of parallelism recorded in the hash; computed on one thread here).
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// A PHC string such as `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, as stored.
///
/// `Debug` shows only the algorithm and parameters, not the salt or hash.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// The PHC string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The PHC string, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl From<PasswordHash> for String {
    fn from(value: PasswordHash) -> Self {
        value.0
    }
}

impl AsRef<str> for PasswordHash {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // "$argon2id$v=19$m=…,t=…,p=…$salt$hash": keep the first three fields.
        let shown: Vec<&str> = self.0.split('$').take(4).collect();
        write!(f, "PasswordHash({}$…)", shown.join("$"))
    }
}

/// Hashing failed. Never carries the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// The configured parameters are outside what argon2 accepts.
    #[error("invalid argon2 parameters: {0}")]
    InvalidParams(String),
    /// The hash could not be computed (e.g. memory could not be allocated).
    #[error("password hashing failed: {0}")]
    Failed(String),
}

impl Coded for HashError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidParams(_) => "password-hash-invalid-params",
            Self::Failed(_) => "password-hash-failed",
        }
    }

    fn message(&self) -> String {
        "Your password could not be saved because of a system problem. Please try again later"
            .to_owned()
    }
}

/// argon2id hasher and verifier with the configured parameters.
///
/// Cheap to share (`Arc` it); every method takes `&self`.
#[derive(Clone)]
pub struct PasswordHasher {
    config: Argon2Params,
    params: argon2::Params,
    dummy: String,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.config)
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// Validates the parameters and computes the dummy hash once (one hash's worth of time).
    pub fn new(config: Argon2Params) -> Result<Self, HashError> {
        let params = argon2::Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            Some(OUTPUT_BYTES),
        )
        .map_err(|e| HashError::InvalidParams(e.to_string()))?;
        let dummy = hash_phc(&params, DUMMY_PASSWORD, DUMMY_SALT)?;
        Ok(Self {
            config,
            params,
            dummy,
        })
    }

    /// The configured parameters.
    pub fn params(&self) -> Argon2Params {
        self.config
    }

    /// Hashes a policy-checked password with a fresh 16-byte salt from `rng`.
    pub fn hash<R: CryptoRng + ?Sized>(
        &self,
        password: &NewPassword,
        rng: &mut R,
    ) -> Result<PasswordHash, HashError> {
        let mut salt = [0u8; SALT_BYTES];
        rng.fill_bytes(&mut salt);
        hash_phc(&self.params, password.expose_secret().as_bytes(), &salt).map(PasswordHash)
    }

    /// Whether a password typed at login matches a stored PHC string.
    ///
    /// The input is NFKC-normalised first, exactly as [`PasswordPolicy::check`]
    /// (crate::PasswordPolicy::check) normalised it before hashing. Any length is
    /// verified in full (no truncation). A malformed or foreign PHC string gives `false`.
    /// The parameters recorded in the PHC string are used, so old hashes still verify.
    pub fn verify(&self, password: &Password, phc: &str) -> bool {
        verify_bytes(normalise(password.expose_secret()).as_bytes(), phc)
    }

    /// Verifies a login password and, when it matches a hash with outdated parameters,
    /// returns a fresh hash of the same password with the configured ones (upgrade on login).
    pub fn verify_and_upgrade<R: CryptoRng + ?Sized>(
        &self,
        password: &Password,
        phc: &str,
        rng: &mut R,
    ) -> Result<(bool, Option<PasswordHash>), HashError> {
        let normalised = NewPassword(normalise(password.expose_secret()));
        if !verify_bytes(normalised.expose_secret().as_bytes(), phc) {
            return Ok((false, None));
        }
        if self.needs_rehash(phc) {
            return self.hash(&normalised, rng).map(|h| (true, Some(h)));
        }
        Ok((true, None))
    }

    /// Whether a new (already normalised) password matches a stored hash; used for history.
    pub fn verify_new(&self, password: &NewPassword, phc: &str) -> bool {
        verify_bytes(password.expose_secret().as_bytes(), phc)
    }

    /// Whether a stored hash should be replaced after the next successful login: not
    /// argon2id v19, or parameters (memory, iterations, lanes, tag length) differ from the
    /// configured ones, or not parseable.
    pub fn needs_rehash(&self, phc: &str) -> bool {
        let Ok(parsed) = phc::PasswordHash::new(phc) else {
            return true;
        };
        if parsed.algorithm.as_str() != argon2::ARGON2ID_IDENT.as_str()
            || parsed.version != Some(Version::V0x13.into())
        {
            return true;
        }
        let Ok(stored) = argon2::Params::try_from(&parsed) else {
            return true;
        };
        let output_len = parsed.hash.as_ref().map(phc::Output::len);
        stored.m_cost() != self.params.m_cost()
            || stored.t_cost() != self.params.t_cost()
            || stored.p_cost() != self.params.p_cost()
            || output_len != Some(OUTPUT_BYTES)
            || parsed.salt.as_ref().map(|s| s.len()) != Some(SALT_BYTES)
    }

    /// A PHC string with the configured parameters that no password matches: verify
    /// against it when the username is unknown, so the answer takes as long as for a
    /// real account.
    pub fn dummy_hash(&self) -> &str {
        &self.dummy
    }
}

fn argon2(params: &argon2::Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

/// argon2id of `password` with `salt` as a PHC string; the working memory comes from
/// `with_blocks` (kept on hashing threads), as for verification.
fn hash_phc(params: &argon2::Params, password: &[u8], salt: &[u8]) -> Result<String, HashError> {
    let failed = |e: &dyn fmt::Display| HashError::Failed(e.to_string());
    let argon2 = argon2(params);
    let mut out = [0u8; OUTPUT_BYTES];
    with_blocks(params.block_count(), |memory| {
        argon2.hash_password_into_with_memory(password, salt, &mut out, memory)
    })
    .map_err(|e| failed(&e))?;
    let phc = phc::PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: argon2::password_hash::phc::ParamsString::try_from(params)
            .map_err(|e| failed(&e))?,
        salt: Some(phc::Salt::new(salt).map_err(|e| failed(&e))?),
        hash: Some(phc::Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(phc.to_string())
}

fn verify_bytes(password: &[u8], phc: &str) -> bool {
    // What `PasswordVerifier::verify_password` does, except that the 19 MiB of argon2 memory
    // come from `with_blocks` (reused on hashing threads) instead of a fresh allocation.
    let Ok(parsed) = phc::PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    // The algorithm, version and parameters come from the PHC string itself.
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = argon2::Params::try_from(&parsed) else {
        return false;
    };
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut buffer = [0u8; phc::Output::MAX_LENGTH];
    let Some(out) = buffer.get_mut(..expected.len()) else {
        return false;
    };
    let hashed = with_blocks(blocks, |memory| {
        argon2.hash_password_into_with_memory(password, salt, out, memory)
    });
    // `Output` equality is constant-time.
    hashed.is_ok() && phc::Output::new(out).is_ok_and(|computed| &computed == expected)
}

thread_local! {
    /// argon2 working memory kept by a thread that hashes all day (see
    /// [`keep_hash_memory_on_this_thread`]); `None` on every other thread.
    static SCRATCH: RefCell<Option<Vec<argon2::Block>>> = const { RefCell::new(None) };
}

/// Makes the calling thread keep its argon2 working memory (19 MiB with the defaults) between
/// verifications instead of allocating and freeing it for each one.
///
/// For the threads of a fixed hashing pool: their memory then stays at one block array per
/// thread, whereas allocating per call lets the C allocator's arenas grow well beyond that
/// under a login flood (measured in docs/BENCHMARKS.md). Every pass of argon2 overwrites the
/// memory before reading it, so reuse cannot carry anything from one password to the next.
pub fn keep_hash_memory_on_this_thread() {
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        if scratch.is_none() {
            *scratch = Some(Vec::new());
        }
    });
}

/// Runs `f` with `count` argon2 memory blocks: the thread's kept memory when it keeps one,
/// otherwise a fresh allocation freed afterwards.
fn with_blocks<T>(count: usize, f: impl FnOnce(&mut [argon2::Block]) -> T) -> T {
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut kept) if kept.is_some() => {
            let memory = kept.get_or_insert_with(Vec::new);
            if memory.len() < count {
                memory.resize(count, argon2::Block::new());
            }
            f(&mut memory[..count])
        }
        _ => f(&mut vec![argon2::Block::new(); count]),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use argon2::PasswordHasher as _;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    /// Small parameters so the suite stays fast; one test below uses the defaults.
    pub(crate) fn fast_hasher() -> PasswordHasher {
        PasswordHasher::new(Argon2Params {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    pub(crate) fn rng() -> StdRng {
        StdRng::seed_from_u64(7)
    }

    fn new_password(s: &str) -> NewPassword {
        NewPassword(normalise(s))
    }

    #[test]
    fn verify_and_upgrade_rehashes_only_outdated_matching_hashes() {
        let old = PasswordHasher::new(Argon2Params {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .expect("old hasher");
        let new = PasswordHasher::new(Argon2Params {
            memory_kib: 128,
            iterations: 2,
            parallelism: 1,
        })
        .expect("new hasher");
        let pw = NewPassword(normalise("correct horse battery"));
        let stored = old.hash(&pw, &mut rng()).expect("hash");
        let typed = Password::new("correct horse battery");
        let (ok, upgraded) = new
            .verify_and_upgrade(&typed, stored.as_str(), &mut rng())
            .expect("verify");
        let upgraded = upgraded.expect("outdated hash is upgraded");
        assert!(ok && !new.needs_rehash(upgraded.as_str()));
        assert!(new.verify(&typed, upgraded.as_str()));
        let (ok, again) = new
            .verify_and_upgrade(&typed, upgraded.as_str(), &mut rng())
            .expect("verify");
        assert!(ok && again.is_none(), "current hash is kept");
        let (ok, none) = new
            .verify_and_upgrade(
                &Password::new("wrong horse battery"),
                stored.as_str(),
                &mut rng(),
            )
            .expect("verify");
        assert!(!ok && none.is_none(), "a wrong password upgrades nothing");
    }

    #[test]
    fn hash_and_verify_round_trip() {
        let hasher = fast_hasher();
        let hash = hasher
            .hash(&new_password("correct horse battery"), &mut rng())
            .unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(hasher.verify(&Password::new("correct horse battery"), hash.as_str()));
        assert!(!hasher.verify(&Password::new("correct horse batterx"), hash.as_str()));
        assert!(!hasher.verify(&Password::new(""), hash.as_str()));
        assert!(!hasher.needs_rehash(hash.as_str()));
    }

    #[test]
    fn hashes_match_the_reference_implementation_with_fresh_or_kept_memory() {
        // Debian `argon2` CLI (the reference C implementation):
        // echo -n password | argon2 somesaltsomesalt -id -t 2 -m 6 -p 1 -l 32 -e
        let reference = "$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Gpj7qOY5RCXJvcMzqcdQqvgR3wcPX7SleI4c9NtXk6E";
        let params = argon2::Params::new(64, 2, 1, Some(OUTPUT_BYTES)).unwrap();
        let fresh = hash_phc(&params, b"password", b"somesaltsomesalt").unwrap();
        assert_eq!(fresh, reference);
        let kept = std::thread::scope(|s| {
            s.spawn(|| {
                keep_hash_memory_on_this_thread();
                // Twice: the second run reuses memory the first one filled.
                let first = hash_phc(&params, b"other password", b"somesaltsomesalt").unwrap();
                let again = hash_phc(&params, b"password", b"somesaltsomesalt").unwrap();
                (first, again)
            })
            .join()
            .unwrap()
        });
        assert_ne!(kept.0, reference);
        assert_eq!(kept.1, reference);
    }

    #[test]
    fn kept_memory_verifies_exactly_like_fresh_memory() {
        // Hashes with different memory sizes, and an argon2id string from the reference
        // implementation, verified on a thread that reuses its memory, in an order
        // that shrinks and grows the kept array.
        let small = fast_hasher();
        let large = PasswordHasher::new(Argon2Params {
            memory_kib: 256,
            iterations: 2,
            parallelism: 2,
        })
        .unwrap();
        let a = small
            .hash(&new_password("first passphrase"), &mut rng())
            .unwrap();
        let b = large
            .hash(&new_password("second passphrase"), &mut rng())
            .unwrap();
        // Debian `argon2` CLI (the reference C implementation):
        // echo -n password | argon2 somesalt -id -t 2 -m 6 -p 1 -l 16 -e
        let reference = "$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQ$CpahY97MNWo2uyGWQjji4g";
        let expected = [
            (a.as_str(), "first passphrase", true),
            (a.as_str(), "second passphrase", false),
            (b.as_str(), "second passphrase", true),
            (a.as_str(), "first passphrase", true),
            (b.as_str(), "first passphrase", false),
            (reference, "password", true),
            (reference, "passwort", false),
        ];
        let fresh: Vec<bool> = expected
            .iter()
            .map(|(h, p, _)| small.verify(&Password::new(*p), h))
            .collect();
        let kept = std::thread::scope(|s| {
            s.spawn(|| {
                keep_hash_memory_on_this_thread();
                expected
                    .iter()
                    .map(|(h, p, _)| small.verify(&Password::new(*p), h))
                    .collect::<Vec<bool>>()
            })
            .join()
            .unwrap()
        });
        let want: Vec<bool> = expected.iter().map(|(_, _, ok)| *ok).collect();
        assert_eq!(fresh, want, "fresh memory");
        assert_eq!(kept, want, "kept memory");
    }

    #[test]
    fn salts_differ_between_hashes() {
        let hasher = fast_hasher();
        let mut rng = rng();
        let a = hasher
            .hash(&new_password("same password"), &mut rng)
            .unwrap();
        let b = hasher
            .hash(&new_password("same password"), &mut rng)
            .unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn login_input_is_normalised_like_the_stored_password() {
        let hasher = fast_hasher();
        // Stored from composed "Zoë"; typed decomposed, and in full-width form.
        let hash = hasher
            .hash(&new_password("Zo\u{eb} likes ｃａｋｅ"), &mut rng())
            .unwrap();
        assert!(hasher.verify(&Password::new("Zoe\u{308} likes cake"), hash.as_str()));
    }

    #[test]
    fn no_truncation_of_long_passwords() {
        let hasher = fast_hasher();
        let long = "a-long-passphrase ".repeat(6);
        let stored = format!("{long}!!{}", "x".repeat(100));
        let changed_last = format!("{long}!!{}y", "x".repeat(99));
        assert_eq!(stored.chars().count(), changed_last.chars().count());
        let hash = hasher.hash(&new_password(&stored), &mut rng()).unwrap();
        assert!(hasher.verify(&Password::new(stored.as_str()), hash.as_str()));
        assert!(!hasher.verify(&Password::new(changed_last.as_str()), hash.as_str()));
        // 100 characters differing only in the last one (bcrypt would cut at 72 bytes).
        let hundred = "p".repeat(100);
        let hundred_changed = format!("{}q", "p".repeat(99));
        let hash = hasher.hash(&new_password(&hundred), &mut rng()).unwrap();
        assert!(!hasher.verify(&Password::new(hundred_changed), hash.as_str()));
    }

    #[test]
    fn malformed_or_foreign_hashes_never_verify() {
        let hasher = fast_hasher();
        for phc in [
            "",
            "plain text",
            "$argon2id$v=19$m=64,t=1,p=1$",
            "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        ] {
            assert!(!hasher.verify(&Password::new("anything at all"), phc));
            assert!(hasher.needs_rehash(phc));
        }
    }

    #[test]
    fn needs_rehash_when_parameters_or_algorithm_change() {
        let old = fast_hasher();
        let hash = old
            .hash(&new_password("some passphrase"), &mut rng())
            .unwrap();
        let stronger = PasswordHasher::new(Argon2Params {
            memory_kib: 128,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap();
        assert!(stronger.needs_rehash(hash.as_str()));
        // Old hashes still verify with the new configuration.
        assert!(stronger.verify(&Password::new("some passphrase"), hash.as_str()));
        let more_passes = PasswordHasher::new(Argon2Params {
            memory_kib: 64,
            iterations: 2,
            parallelism: 1,
        })
        .unwrap();
        assert!(more_passes.needs_rehash(hash.as_str()));

        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, old.params.clone())
            .hash_password_with_salt(b"some passphrase", &[1u8; 16])
            .unwrap()
            .to_string();
        assert!(old.verify(&Password::new("some passphrase"), &argon2i));
        assert!(old.needs_rehash(&argon2i));
    }

    #[test]
    fn dummy_hash_uses_configured_params_and_matches_nothing() {
        let hasher = fast_hasher();
        assert!(
            hasher
                .dummy_hash()
                .starts_with("$argon2id$v=19$m=64,t=1,p=1$")
        );
        assert!(!hasher.needs_rehash(hasher.dummy_hash()));
        assert!(!hasher.verify(&Password::new(""), hasher.dummy_hash()));
        assert!(!hasher.verify(&Password::new("password"), hasher.dummy_hash()));
    }

    #[test]
    fn invalid_params_are_refused() {
        let err = PasswordHasher::new(Argon2Params {
            memory_kib: 1,
            iterations: 0,
            parallelism: 0,
        })
        .unwrap_err();
        assert_eq!(err.code(), "password-hash-invalid-params");
    }

    #[test]
    fn debug_output_hides_hash_material() {
        let hasher = fast_hasher();
        let hash = hasher
            .hash(&new_password("some passphrase"), &mut rng())
            .unwrap();
        let shown = format!("{hash:?}");
        assert_eq!(shown, "PasswordHash($argon2id$v=19$m=64,t=1,p=1$…)");
        assert!(format!("{hasher:?}").contains("memory_kib: 64"));
    }

    #[test]
    fn default_owasp_parameters() {
        let params = Argon2Params::default();
        assert_eq!(
            (params.memory_kib, params.iterations, params.parallelism),
            (19_456, 2, 1)
        );
        let hasher = PasswordHasher::new(params).unwrap();
        let hash = hasher
            .hash(&new_password("correct horse battery"), &mut rng())
            .unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify(&Password::new("correct horse battery"), hash.as_str()));
        assert!(!hasher.needs_rehash(hash.as_str()));
        assert!(
            hasher
                .dummy_hash()
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
        );
    }
}
