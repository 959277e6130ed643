//! The bundled common-password list (see `data/README.md` for provenance and licence).

use std::collections::HashSet;
use std::sync::LazyLock;

use zeroize::Zeroizing;

use super::{lowercase_secret, push_secret, secret_string};

/// Shortest "core" (the password with leading/trailing digits, symbols and spaces removed)
/// that is looked up on its own. Shorter cores would refuse almost anything: the list holds
/// two- and three-letter entries.
const MIN_CORE_LENGTH: usize = 4;

static LIST: &str = include_str!("../../data/common-passwords.txt");

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    LIST.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

/// Number of entries in the bundled list.
pub fn common_password_count() -> usize {
    COMMON.len()
}

/// Whether a password (already NFKC-normalised) is, or is built on, a common password.
///
/// Compared case-insensitively, and also after removing spaces, after stripping leading
/// and trailing digits/symbols (`Password123!` → `password`, when at least 4 characters
/// remain), after undoing common letter substitutions in what remains (`P@ssw0rd` →
/// `password`), and after removing the service names `esr`, `myesr` and `nhs`
/// (`MyESRpassword1` → `password`).
pub fn is_common_password(password: &str) -> bool {
    // Every variant below is derived from the password, so each lives in a zeroizing buffer
    // sized so that it never reallocates (see `push_secret`).
    let lower = lowercase_secret(password);
    if COMMON.contains(lower.as_str()) {
        return true;
    }
    let compact = secret_string(lower.len(), lower.chars().filter(|c| !c.is_whitespace()));
    if COMMON.contains(compact.as_str()) {
        return true;
    }
    if core_is_common(&compact) {
        return true;
    }
    // The service's own names are no better than digits as decoration: "MyESRpassword1",
    // "esr password 1" and "NHSpassword123" are "password" underneath.
    let mut undecorated = Zeroizing::new(compact.as_str().to_owned());
    for word in SERVICE_WORDS {
        undecorated = remove_all(&undecorated, word);
    }
    *undecorated != *compact
        && (COMMON.contains(undecorated.as_str()) || core_is_common(&undecorated))
}

/// `text` with every occurrence of `word` removed (`str::replace(word, "")`, which grows
/// its result as it goes), into a zeroizing buffer that never needs to grow.
fn remove_all(text: &str, word: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(text.len()));
    for piece in text.split(word) {
        push_secret(&mut out, piece);
    }
    out
}

/// Words stripped like digits before a second lookup (longest first).
const SERVICE_WORDS: &[&str] = &["myesr", "esr", "nhs"];

fn core_is_common(compact: &str) -> bool {
    let core = compact.trim_matches(|c: char| !c.is_alphabetic());
    if core.chars().count() < MIN_CORE_LENGTH {
        return false;
    }
    COMMON.contains(core)
        || deleet_variants(core)
            .iter()
            .any(|v| COMMON.contains(v.as_str()))
}

/// The core with common substitutions undone; `1` and `!` are tried both as `i` and as `l`.
fn deleet_variants(core: &str) -> Vec<Zeroizing<String>> {
    let map = |c: char, one: char| match c {
        '0' => 'o',
        '1' | '!' | '|' => one,
        '2' => 'z',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '6' | '9' => 'g',
        '7' | '+' => 't',
        '8' => 'b',
        other => other,
    };
    // Each substitution is ASCII replacing ASCII, so the length never changes.
    let with_i = secret_string(core.len(), core.chars().map(|c| map(c, 'i')));
    let with_l = secret_string(core.len(), core.chars().map(|c| map(c, 'l')));
    if with_i == with_l {
        vec![with_i]
    } else {
        vec![with_i, with_l]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_large_enough() {
        assert!(
            common_password_count() >= 20_000,
            "{}",
            common_password_count()
        );
    }

    #[test]
    fn refuses_common_passwords_and_their_decorated_forms() {
        for pw in [
            "password",
            "password1",
            "Password123!",
            "PASSWORD1234",
            "Password1234",
            "PASSWORD12345!",
            "!!password!!",
            "2024password",
            "P@ssw0rd2024",
            "pa55word12345",
            "iloveyou",
            "ILoveYou2024!",
            "qwertyuiop",
            "123456",
            "trustno1",
            "l3tm3in!1234",
            "Football 2024",
            "pass word 1234",
            "esr password 1",
            "MyEsrPassword1",
            "NHSpassword123",
            "nhs-football-2024",
        ] {
            assert!(is_common_password(pw), "{pw}");
        }
    }

    #[test]
    fn accepts_uncommon_passwords_and_passphrases() {
        for pw in [
            "correct horse battery",
            "correct horse battery staple",
            "purple-giraffe-kettle",
            "Tr0ub4dor&3 extra",
            "x1!",       // core too short to look up
            "12345679q", // core "q" too short
        ] {
            assert!(!is_common_password(pw), "{pw}");
        }
    }

    #[test]
    fn remove_all_matches_replace() {
        for (text, word) in [
            ("myesrpasswordesr", "esr"),
            ("nhsnhsnhs", "nhs"),
            ("password", "esr"),
            ("", "nhs"),
            ("esr", "esr"),
        ] {
            assert_eq!(*remove_all(text, word), text.replace(word, ""), "{text}");
        }
    }
}
