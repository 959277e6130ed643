//! Context words: things about the person an attacker knows or can guess.

use chrono::{Datelike, NaiveDate};
use deunicode::AsciiChars;
use serde::Serialize;
use zeroize::Zeroizing;

use super::{PolicyContext, push_secret, secret_string};

/// Shortest context word that is refused (in letters/digits after folding to ASCII).
///
/// Three-letter names ("Ann", "Lee", "Sam") and two-letter email parts would refuse
/// ordinary words ("sleepless", "sample"), so they are ignored; the full username and
/// longer names are still caught.
pub const CONTEXT_WORD_MIN_LENGTH: usize = 4;

/// Words that appear in many NHS organisation names and say nothing about this one:
/// "Bolton Hospitals NHS Foundation Trust" contributes only "bolton". Repeated "nhs" is
/// caught by the repetitive-pattern rule instead.
const GENERIC_ORGANISATION_WORDS: &[&str] = &[
    "acute",
    "ambulance",
    "and",
    "authority",
    "board",
    "care",
    "central",
    "centre",
    "clinical",
    "commissioning",
    "community",
    "county",
    "district",
    "east",
    "foundation",
    "general",
    "group",
    "health",
    "healthcare",
    "hospital",
    "hospitals",
    "integrated",
    "mental",
    "national",
    "north",
    "partnership",
    "primary",
    "royal",
    "service",
    "services",
    "south",
    "specialist",
    "teaching",
    "the",
    "trust",
    "trusts",
    "university",
    "west",
];

/// Which kind of personal detail a password contained (never the detail itself).
/// Variants are ordered most specific first; that order decides the kind of a word that
/// comes from several sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextKind {
    /// First name or surname (or both together).
    Name,
    /// The ESR username, or its name part.
    Username,
    /// The email address (its local part, or a part of it).
    EmailAddress,
    /// The employing organisation's name.
    OrganisationName,
    /// The date of birth, as 6 or 8 digits in any common order.
    DateOfBirth,
    /// Another personal detail the caller supplied.
    PersonalDetail,
}

impl ContextKind {
    /// Stable snake_case name, e.g. `date_of_birth`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::Name => "name",
            Self::EmailAddress => "email_address",
            Self::OrganisationName => "organisation_name",
            Self::DateOfBirth => "date_of_birth",
            Self::PersonalDetail => "personal_detail",
        }
    }

    /// The phrase after "Passwords must not contain ".
    pub(crate) fn phrase(self) -> &'static str {
        match self {
            Self::Username => "your username",
            Self::Name => "your name",
            Self::EmailAddress => "your email address",
            Self::OrganisationName => "the name of your organisation",
            Self::DateOfBirth => "your date of birth",
            Self::PersonalDetail => "your personal details",
        }
    }
}

/// Lower-case ASCII fold: diacritics removed, other scripts transliterated
/// (`deunicode_with_tofu(s, "")`, lower-cased). Built in a zeroizing buffer because the
/// password is folded too; transliteration can lengthen text ("北" → "Bei"), so the buffer
/// grows through `push_secret`.
fn fold(s: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(s.len() | 15));
    for piece in s.ascii_chars().flatten() {
        push_secret(&mut out, piece);
    }
    out.make_ascii_lowercase();
    out
}

fn alnum(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).collect()
}

fn letters(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphabetic).collect()
}

/// Pieces of a folded string separated by anything that is not a letter or digit.
fn parts(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
}

/// Context words, each tagged with its kind; all lower-case ASCII letters/digits.
fn context_words(ctx: &PolicyContext<'_>) -> Vec<(ContextKind, String)> {
    let mut words: Vec<(ContextKind, String)> = Vec::new();
    let mut push = |kind, word: String| {
        if word.chars().count() >= CONTEXT_WORD_MIN_LENGTH {
            words.push((kind, word));
        }
    };

    if let Some(username) = ctx.username {
        let folded = fold(username);
        let full = alnum(&folded);
        // Name part: the letters after a 3-character organisation code ("jsmith"), and the
        // same without its initial ("smith").
        let name_part = letters(full.get(3..).unwrap_or_default());
        if let Some(rest) = name_part.get(1..) {
            push(ContextKind::Username, rest.to_owned());
        }
        push(ContextKind::Username, name_part);
        push(ContextKind::Username, letters(&full));
        push(ContextKind::Username, full);
    }

    let first = ctx.first_name.map(fold);
    let last = ctx.last_name.map(fold);
    for name in first.iter().chain(last.iter()) {
        push(ContextKind::Name, letters(name));
        for part in parts(name) {
            push(ContextKind::Name, letters(part));
        }
    }
    if let (Some(first), Some(last)) = (&first, &last) {
        let (first, last) = (letters(first), letters(last));
        push(ContextKind::Name, format!("{first}{last}"));
        push(ContextKind::Name, format!("{last}{first}"));
        if let Some(initial) = first.chars().next() {
            push(ContextKind::Name, format!("{initial}{last}"));
        }
    }

    if let Some(email) = ctx.email {
        let folded = fold(email);
        let local = folded.rsplit_once('@').map_or(folded.as_str(), |(l, _)| l);
        push(ContextKind::EmailAddress, alnum(local));
        for part in parts(local) {
            push(ContextKind::EmailAddress, part.to_owned());
        }
    }

    if let Some(organisation) = ctx.organisation_name {
        for part in parts(&fold(organisation)) {
            if !GENERIC_ORGANISATION_WORDS.contains(&part) {
                push(ContextKind::OrganisationName, part.to_owned());
            }
        }
    }

    if let Some(dob) = ctx.date_of_birth {
        for form in date_forms(dob) {
            push(ContextKind::DateOfBirth, form);
        }
    }

    for other in ctx.other_words {
        let folded = fold(other);
        push(ContextKind::PersonalDetail, alnum(&folded));
        for part in parts(&folded) {
            push(ContextKind::PersonalDetail, part.to_owned());
        }
    }

    // One kind per word, the most specific first (enum order): "smith" from both the
    // surname and the email is reported as the name.
    words.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    words.dedup_by(|later, earlier| later.1 == earlier.1);
    words
}

/// The date written as 8 digits (`19840317`, `17031984`, `03171984`) or 6 digits
/// (`840317`, `170384`, `031784`). The year alone and day+month alone are not refused:
/// four digits collide with far too many unrelated numbers.
fn date_forms(date: NaiveDate) -> Vec<String> {
    let (y, m, d) = (date.year(), date.month(), date.day());
    let yy = y.rem_euclid(100);
    vec![
        format!("{y:04}{m:02}{d:02}"),
        format!("{d:02}{m:02}{y:04}"),
        format!("{m:02}{d:02}{y:04}"),
        format!("{yy:02}{m:02}{d:02}"),
        format!("{d:02}{m:02}{yy:02}"),
        format!("{m:02}{d:02}{yy:02}"),
    ]
}

/// Undoes common letter substitutions and keeps letters only; `1`/`!`/`|` become `one`.
/// Applied to the password, so the result is zeroizing; it is never longer than `s`.
fn deleet(s: &str, one: char) -> Zeroizing<String> {
    let letters = s.chars().filter_map(|c| {
        let mapped = match c {
            '0' => 'o',
            '1' | '!' | '|' => one,
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' | '+' => 't',
            '8' => 'b',
            '9' => 'g',
            other => other,
        };
        mapped.is_ascii_alphabetic().then_some(mapped)
    });
    secret_string(s.len(), letters)
}

/// The kinds of context found in `password` (NFKC-normalised), each once, in a fixed order.
pub(crate) fn find_context(password: &str, ctx: &PolicyContext<'_>) -> Vec<ContextKind> {
    let words = context_words(ctx);
    if words.is_empty() {
        return Vec::new();
    }
    let folded = fold(password);
    // Separators are ignored: "j.smith", "J Smith" and "17/03/84" all match.
    let plain = secret_string(
        folded.len(),
        folded.chars().filter(char::is_ascii_alphanumeric),
    );
    let leet_i = deleet(&folded, 'i');
    let leet_l = deleet(&folded, 'l');

    let mut kinds: Vec<ContextKind> = words
        .iter()
        .filter(|(_, word)| {
            plain.contains(word.as_str())
                || (word.chars().all(|c| c.is_ascii_alphabetic())
                    && (leet_i.contains(word.as_str()) || leet_l.contains(word.as_str())))
        })
        .map(|(kind, _)| *kind)
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> PolicyContext<'static> {
        PolicyContext {
            username: Some("999JSMITH01"),
            first_name: Some("John"),
            last_name: Some("Smith"),
            email: Some("john.smith@example.net"),
            organisation_name: Some("Bolton Hospitals NHS Foundation Trust"),
            date_of_birth: NaiveDate::from_ymd_opt(1984, 3, 17),
            other_words: &[],
        }
    }

    #[test]
    fn fold_is_deunicode_lower_cased() {
        for s in [
            "",
            "John",
            "Zoë O'Brien-Núñez",
            "北京 Beijing",
            "Дмитрий Иванов",
            "Strauß ﬁne ½ \u{7f}\u{1f600}x",
            &"北".repeat(50),
        ] {
            let expected = deunicode::deunicode_with_tofu(s, "").to_ascii_lowercase();
            assert_eq!(*fold(s), expected, "{s:?}");
        }
    }

    #[test]
    fn words_are_derived_from_every_source() {
        let words: Vec<String> = context_words(&ctx()).into_iter().map(|(_, w)| w).collect();
        for expected in [
            "999jsmith01",
            "jsmith",
            "smith",
            "john",
            "johnsmith",
            "smithjohn",
            "bolton",
            "19840317",
            "17031984",
            "170384",
        ] {
            assert!(
                words.contains(&expected.to_owned()),
                "{expected}: {words:?}"
            );
        }
        for generic in ["nhs", "trust", "foundation", "hospitals", "net", "1984"] {
            assert!(!words.contains(&generic.to_owned()), "{generic}");
        }
    }

    #[test]
    fn finds_each_kind() {
        let c = ctx();
        assert_eq!(
            find_context("999JSMITH01abc", &c),
            vec![ContextKind::Name, ContextKind::Username]
        );
        assert_eq!(
            find_context("my name is J0HN, hi", &c),
            vec![ContextKind::Name]
        );
        assert_eq!(
            find_context("visiting BOLTON again", &c),
            vec![ContextKind::OrganisationName]
        );
        assert_eq!(
            find_context("born 17/03/84 at dawn", &c),
            vec![ContextKind::DateOfBirth]
        );
        assert_eq!(
            find_context("1984-03-17 was a saturday", &c),
            vec![ContextKind::DateOfBirth]
        );
        assert!(find_context("correct horse battery", &c).is_empty());
        assert!(find_context("1984 was a good year!", &c).is_empty());
        assert!(find_context("trust the nhs hospital", &c).is_empty());
    }

    #[test]
    fn email_parts() {
        let c = PolicyContext {
            email: Some("Zoe.OBrien-Nunez@boltonft.example.org"),
            ..PolicyContext::default()
        };
        assert_eq!(
            find_context("nunez rocks the world", &c),
            vec![ContextKind::EmailAddress]
        );
        assert_eq!(
            find_context("zoeobrien fan club", &c),
            vec![ContextKind::EmailAddress]
        );
        assert!(
            find_context("zoe is fine here ok", &c).is_empty(),
            "3 letters: ignored"
        );
    }

    #[test]
    fn diacritics_and_short_names() {
        let c = PolicyContext {
            first_name: Some("Zoë"),
            last_name: Some("Núñez"),
            ..PolicyContext::default()
        };
        assert_eq!(find_context("I am NUNEZ!!", &c), vec![ContextKind::Name]);
        assert_eq!(find_context("Núñez forever", &c), vec![ContextKind::Name]);
        // "zoe" alone is shorter than the threshold, "zoenunez" is not.
        assert!(find_context("zoe went shopping", &c).is_empty());
        assert_eq!(find_context("ZoeNunez2024", &c), vec![ContextKind::Name]);
    }

    #[test]
    fn other_words() {
        let c = PolicyContext {
            other_words: &["Rover", "ab"],
            ..PolicyContext::default()
        };
        assert_eq!(
            find_context("my dog rover barks", &c),
            vec![ContextKind::PersonalDetail]
        );
        assert!(
            find_context("absolutely fine words", &c).is_empty(),
            "\"ab\" is too short"
        );
    }
}
