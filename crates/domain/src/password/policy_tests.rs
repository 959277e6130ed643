use super::*;
use crate::hashing::tests::{fast_hasher, rng};
use crate::password::normalise;
use proptest::prelude::*;

fn policy() -> PasswordPolicy {
    PasswordPolicy::default()
}

fn smith() -> PolicyContext<'static> {
    PolicyContext {
        username: Some("999JSMITH01"),
        first_name: Some("John"),
        last_name: Some("Smith"),
        email: Some("john.smith@example.net"),
        organisation_name: Some("999 Demo NHS Trust"),
        date_of_birth: NaiveDate::from_ymd_opt(1984, 3, 17),
        other_words: &[],
    }
}

fn check(pw: &str) -> Result<NewPassword, Vec<Violation>> {
    policy().check(&Password::new(pw), None, &smith())
}

fn codes(pw: &str) -> Vec<&'static str> {
    match check(pw) {
        Ok(_) => vec![],
        Err(v) => v.iter().map(Coded::code).collect(),
    }
}

// --- The issue's acceptance list -------------------------------------------------------

#[test]
fn acceptance_refuses_common_and_context_passwords() {
    assert_eq!(
        codes("password1"),
        ["password-too-short", "password-common"]
    );
    assert_eq!(codes("Password1234"), ["password-common"]);
    assert_eq!(codes("PASSWORD12345!"), ["password-common"]);
    let only_username = PolicyContext {
        username: Some("999JSMITH01"),
        ..PolicyContext::default()
    };
    let err = policy()
        .check(&Password::new("999JSMITH01abc"), None, &only_username)
        .unwrap_err();
    assert_eq!(
        err,
        [Violation::ContainsContext {
            kind: ContextKind::Username
        }]
    );
}

#[test]
fn acceptance_accepts_a_passphrase() {
    let ok = check("correct horse battery").unwrap();
    assert_eq!(ok.expose_secret(), "correct horse battery");
    assert_eq!(ok.char_count(), 21);
    assert!(
        policy()
            .check(
                &Password::new("correct horse battery"),
                Some(&Password::new("correct horse battery")),
                &PolicyContext::default()
            )
            .is_ok()
    );
}

// --- The user guide's own examples ------------------------------------------------------

#[test]
fn seed_password1_is_refused_as_common() {
    let err = check("password1").unwrap_err();
    assert!(err.contains(&Violation::Common));
    assert_eq!(
        Violation::Common.message(),
        "Commonly used passwords, like \"password1\" are not allowed"
    );
}

#[test]
fn seed_eleven_characters_are_refused_twelve_accepted() {
    assert_eq!(codes("purple kite"), ["password-too-short"]);
    assert_eq!(
        Violation::TooShort { min: 12 }.message(),
        "Password must be a minimum of 12 characters"
    );
    assert!(check("purple kites").is_ok());
}

#[test]
fn seed_reuse_of_any_of_the_last_four_is_refused() {
    let hasher = fast_hasher();
    let mut rng = rng();
    let history: Vec<String> = [
        "fourth most recent",
        "third most recent!",
        "second most recent",
        "the current passphrase",
        "fifth: too old to matter",
    ]
    .iter()
    .map(|p| {
        let new = check(p).unwrap();
        hasher.hash(&new, &mut rng).unwrap().into_string()
    })
    .collect();
    // Most recent first, as the caller passes them.
    let most_recent_first: Vec<&str> = vec![
        &history[3],
        &history[2],
        &history[1],
        &history[0],
        &history[4],
    ];
    for reused in [
        "the current passphrase",
        "second most recent",
        "third most recent!",
        "fourth most recent",
    ] {
        let candidate = check(reused).unwrap();
        assert_eq!(
            policy().check_history(&candidate, &most_recent_first, &hasher),
            Err(Violation::Reused { depth: 4 }),
            "{reused}"
        );
    }
    let old = check("fifth: too old to matter").unwrap();
    assert_eq!(
        policy().check_history(&old, &most_recent_first, &hasher),
        Ok(())
    );
    let fresh = check("a brand new passphrase").unwrap();
    assert_eq!(
        policy().check_history(&fresh, &most_recent_first, &hasher),
        Ok(())
    );
    assert_eq!(
        Violation::Reused { depth: 4 }.message(),
        "Passwords must not be the same as any previous 4 passwords"
    );
    assert_eq!(Violation::Reused { depth: 4 }.code(), "password-reused");
}

#[test]
fn history_depth_is_configurable() {
    let hasher = fast_hasher();
    let current = check("the current passphrase").unwrap();
    let hash = hasher.hash(&current, &mut rng()).unwrap();
    let off = PasswordPolicy {
        history_depth: 0,
        ..policy()
    };
    assert_eq!(
        off.check_history(&current, &[hash.as_str()], &hasher),
        Ok(())
    );
    let one = PasswordPolicy {
        history_depth: 1,
        ..policy()
    };
    let err = one
        .check_history(&current, &[hash.as_str()], &hasher)
        .unwrap_err();
    assert_eq!(
        err.message(),
        "Passwords must not be the same as the previous password"
    );
}

#[test]
fn history_matches_the_normalised_form() {
    let hasher = fast_hasher();
    let stored = check("Zo\u{eb}'s garden party").unwrap();
    let hash = hasher.hash(&stored, &mut rng()).unwrap();
    let typed_decomposed = check("Zoe\u{308}'s garden party").unwrap();
    assert!(
        policy()
            .check_history(&typed_decomposed, &[hash.as_str()], &hasher)
            .is_err()
    );
}

// --- Every violation ---------------------------------------------------------------------

#[test]
fn too_long() {
    let sentence = "Sphinx of black quartz, judge my vow; pack my box with five dozen liquor jugs; \
                    how vexingly quick daft zebras jump; the five boxing wizards jump quickly";
    let over: String = sentence.chars().take(129).collect();
    let err = check(&over).unwrap_err();
    assert_eq!(err, [Violation::TooLong { max: 128 }]);
    assert_eq!(err[0].code(), "password-too-long");
    assert_eq!(
        err[0].message(),
        "Password must be a maximum of 128 characters"
    );
    let max: String = sentence.chars().take(128).collect();
    assert!(check(&max).is_ok());
}

#[test]
fn huge_input_is_refused_without_pathological_work() {
    let huge = "ab".repeat(500_000);
    let err = check(&huge).unwrap_err();
    assert_eq!(err, [Violation::TooLong { max: 128 }]);
}

#[test]
fn control_characters() {
    let err = check("correct horse\nbattery").unwrap_err();
    assert_eq!(err, [Violation::InvalidCharacters]);
    assert_eq!(err[0].code(), "password-invalid-characters");
    assert!(check("correct\thorse battery").is_err());
    assert!(check("correct horse battery\0").is_err());
}

#[test]
fn every_printable_character_and_spaces_are_allowed() {
    for pw in [
        "   spaces   everywhere   ",
        "émigré café naïveté",
        "Ünïcödé ßtraße Ørsted",
        "日本語のパスフレーズです",
        "🙂 tuna for the cat 🐟",
        "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ ok",
        "zero\u{200d}width joiner here",
    ] {
        assert!(check(pw).is_ok(), "{pw}");
    }
}

#[test]
fn no_composition_rules() {
    // All lower case, no digits, no symbols: fine.
    assert!(check("walrus umbrella teapot").is_ok());
}

#[test]
fn common() {
    for pw in [
        "iloveyou1234",
        "P@ssw0rd2024!",
        "Football 2024",
        "qwertyuiop12",
    ] {
        assert!(check(pw).unwrap_err().contains(&Violation::Common), "{pw}");
    }
    let off = PasswordPolicy {
        common_list: false,
        ..policy()
    };
    assert!(
        off.check(&Password::new("Password1234"), None, &smith())
            .is_ok()
    );
}

#[test]
fn contains_context_of_each_kind() {
    let cases = [
        ("999jsmith01-is-me", ContextKind::Username),
        ("Johnny be good!", ContextKind::Name),
        ("smith and wesson", ContextKind::Name),
        ("blacksmith forge", ContextKind::Name),
        ("demo day is coming", ContextKind::OrganisationName),
        ("born 17031984 ok", ContextKind::DateOfBirth),
        ("born on 17/03/84", ContextKind::DateOfBirth),
        ("19840317 was good", ContextKind::DateOfBirth),
    ];
    for (pw, kind) in cases {
        let err = check(pw).unwrap_err();
        assert!(
            err.contains(&Violation::ContainsContext { kind }),
            "{pw}: {err:?}"
        );
    }
    let v = Violation::ContainsContext {
        kind: ContextKind::DateOfBirth,
    };
    assert_eq!(v.code(), "password-contains-context");
    assert_eq!(v.message(), "Passwords must not contain your date of birth");
}

#[test]
fn email_context() {
    let ctx = PolicyContext {
        email: Some("dr.who@tardis.example.org"),
        ..PolicyContext::default()
    };
    let err = policy()
        .check(&Password::new("doctor who? drwho!!"), None, &ctx)
        .unwrap_err();
    assert_eq!(
        err,
        [Violation::ContainsContext {
            kind: ContextKind::EmailAddress
        }]
    );
}

#[test]
fn context_messages_do_not_echo_the_detail() {
    let err = check("Johnny be good!").unwrap_err();
    for v in &err {
        assert!(!v.message().to_lowercase().contains("john"));
        assert!(!v.to_string().to_lowercase().contains("john"));
    }
}

#[test]
fn generic_organisation_words_and_the_year_alone_are_allowed() {
    let ctx = PolicyContext {
        organisation_name: Some("Bolton Hospitals NHS Foundation Trust"),
        date_of_birth: NaiveDate::from_ymd_opt(1984, 3, 17),
        ..PolicyContext::default()
    };
    for pw in [
        "I trust the foundation",
        "hospitals are busy",
        "orwell wrote 1984 ok",
    ] {
        assert!(
            policy().check(&Password::new(pw), None, &ctx).is_ok(),
            "{pw}"
        );
    }
    assert!(
        policy()
            .check(&Password::new("bolton wanderers fc"), None, &ctx)
            .is_err()
    );
}

#[test]
fn repetitive() {
    for pw in [
        "aaaaaaaaaaaa",
        "esresresresr",
        "nhsnhsnhsnhs",
        "123456789012",
        "abcdefghijkl",
        "nhsnhs2024!!",
    ] {
        let err = check(pw).unwrap_err();
        assert!(err.contains(&Violation::Repetitive), "{pw}: {err:?}");
    }
    assert_eq!(Violation::Repetitive.code(), "password-repetitive");
}

#[test]
fn confirmation_mismatch() {
    let err = policy()
        .check(
            &Password::new("correct horse battery"),
            Some(&Password::new("correct horse batery")),
            &smith(),
        )
        .unwrap_err();
    assert_eq!(err, [Violation::ConfirmationMismatch]);
    assert_eq!(err[0].code(), "password-confirmation-mismatch");
    // Equal after normalisation is equal.
    assert!(
        policy()
            .check(
                &Password::new("Zo\u{eb}'s garden party"),
                Some(&Password::new("Zoe\u{308}'s garden party")),
                &smith()
            )
            .is_ok()
    );
}

#[test]
fn breached_is_described_for_the_caller() {
    assert_eq!(Violation::Breached.code(), "password-breached");
    assert!(Violation::Breached.message().contains("data breach"));
}

#[test]
fn every_violation_is_reported_at_once() {
    let strict = PasswordPolicy {
        min_length: 20,
        ..policy()
    };
    let err = strict
        .check(
            &Password::new("Password170384\n"),
            Some(&Password::new("Password170384")),
            &smith(),
        )
        .unwrap_err();
    assert_eq!(
        err,
        [
            Violation::TooShort { min: 20 },
            Violation::InvalidCharacters,
            Violation::Common,
            Violation::ContainsContext {
                kind: ContextKind::DateOfBirth
            },
            Violation::ConfirmationMismatch,
        ]
    );
    let err = check("aaaaaaa").unwrap_err();
    assert_eq!(
        err,
        [Violation::TooShort { min: 12 }, Violation::Repetitive]
    );
}

#[test]
fn length_counts_code_points_after_nfkc() {
    // 11 "é" typed decomposed are 22 code points, but 11 after normalisation.
    let decomposed = "e\u{301}".repeat(6) + " " + &"e\u{301}".repeat(4);
    assert_eq!(decomposed.chars().count(), 21);
    let err = check(&decomposed).unwrap_err();
    assert!(err.contains(&Violation::TooShort { min: 12 }));
    // The stored form is the normalised one.
    let ok = check("ｆｕｌｌ ｗｉｄｔｈ ｔｅａ").unwrap();
    assert_eq!(ok.expose_secret(), "full width tea");
    // A ligature expands: 11 typed code points, 13 after normalisation.
    let expanded = "\u{fb03}x tea part";
    assert_eq!(expanded.chars().count(), 11);
    assert_eq!(normalise(expanded).chars().count(), 13);
    assert!(check(expanded).is_ok());
}

#[test]
fn minimum_is_configurable_for_nist_fifteen() {
    let nist = PasswordPolicy {
        min_length: 15,
        ..policy()
    };
    let err = nist
        .check(&Password::new("purple kites"), None, &smith())
        .unwrap_err();
    assert_eq!(err, [Violation::TooShort { min: 15 }]);
}

// --- Description and serialisation ------------------------------------------------------

#[test]
fn describe_uses_the_guide_wording() {
    let d = policy().describe();
    assert_eq!((d.min_length, d.max_length, d.history_depth), (12, 128, 4));
    assert!(d.common_list);
    assert!(!d.breached_check);
    let texts: Vec<&str> = d.rules.iter().map(|r| r.description.as_str()).collect();
    assert_eq!(
        &texts[..3],
        [
            "Password must be a minimum of 12 characters",
            "Commonly used passwords, like \"password1\" are not allowed",
            "Passwords must not be the same as any previous 4 passwords",
        ]
    );
    assert!(!d.rules.iter().any(|r| r.code == "password-breached"));
    let with_hibp = PasswordPolicy {
        breached_check: true,
        ..policy()
    }
    .describe();
    assert!(
        with_hibp
            .rules
            .iter()
            .any(|r| r.code == "password-breached")
    );

    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["min_length"], 12);
    assert_eq!(json["rules"][0]["code"], "password-too-short");
}

#[test]
fn violations_serialise_with_code_and_message() {
    let json = serde_json::to_value(Violation::TooShort { min: 12 }).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "code": "password-too-short",
            "message": "Password must be a minimum of 12 characters"
        })
    );
    let json = serde_json::to_value(Violation::ContainsContext {
        kind: ContextKind::Username,
    })
    .unwrap();
    assert_eq!(json["context"], "username");
    assert_eq!(json["message"], "Passwords must not contain your username");
}

#[test]
fn policy_deserialises_from_partial_config() {
    let p: PasswordPolicy = serde_json::from_str(r#"{"min_length": 15}"#).unwrap();
    assert_eq!(p.min_length, 15);
    assert_eq!(p.history_depth, 4);
    assert!(serde_json::from_str::<PasswordPolicy>(r#"{"min_lenght": 15}"#).is_err());
}

// --- Properties --------------------------------------------------------------------------

proptest! {
    #[test]
    fn check_never_panics(s in "\\PC{0,200}|.{0,40}") {
        let _ = check(&s);
    }

    #[test]
    fn fewer_than_twelve_code_points_always_fails(s in ".{0,11}") {
        // Length is counted after NFKC (which can expand a ligature), so the property is
        // stated on the normalised form; plain ASCII never changes length.
        if normalise(&s).chars().count() < 12 {
            let err = check(&s).unwrap_err();
            let too_short = Violation::TooShort { min: 12 };
            prop_assert!(err.contains(&too_short));
        }
    }

    #[test]
    fn fewer_than_twelve_ascii_characters_always_fails(s in "[ -~]{0,11}") {
        prop_assert!(check(&s).is_err());
    }

    #[test]
    fn accepted_passwords_are_normalised_and_within_bounds(s in "\\PC{12,40}") {
        if let Ok(new) = check(&s) {
            let expected = normalise(&s);
            prop_assert_eq!(new.expose_secret(), expected.as_str());
            prop_assert!((12..=128).contains(&new.char_count()));
        }
    }

    #[test]
    fn a_password_that_passes_never_contains_a_context_word(
        first in "[a-z]{4,8}",
        last in "[a-z]{4,8}",
        // Not a generic organisation word ("trust", "health"…): those are skipped by design.
        org_word in "[jkqvxz][a-z]{3,7}",
        email_parts in proptest::collection::vec("[a-z]{4,7}", 1..3),
        (year, month, day) in (1930i32..2010, 1u32..=12, 1u32..=28),
        date_form in 0usize..6,
        date_separator in prop::sample::select(vec!["", "/", "-", ".", " "]),
        filler in proptest::collection::vec("[a-z0-9 !]{1,6}", 1..5),
        picks in proptest::collection::vec(0usize..9, 1..5),
        upper in any::<bool>(),
    ) {
        let username = format!("999{}{}01", &first[..1], last).to_uppercase();
        // A dotted local part ("ann.lee.kent") when there are several parts.
        let local = email_parts.join(".");
        let email = format!("{local}@example.net");
        let organisation = format!("{org_word} Hospitals NHS Foundation Trust");
        let dob = NaiveDate::from_ymd_opt(year, month, day).unwrap();
        let ctx = PolicyContext {
            username: Some(&username),
            first_name: Some(&first),
            last_name: Some(&last),
            email: Some(&email),
            organisation_name: Some(&organisation),
            date_of_birth: Some(dob),
            ..PolicyContext::default()
        };
        // The date as people write it: 8 digits (year first, day first, month first) or the
        // same with a 2-digit year, in fields joined by a separator or not.
        let (y, yy, m, d) = (
            format!("{year:04}"),
            format!("{:02}", year % 100),
            format!("{month:02}"),
            format!("{day:02}"),
        );
        let forms: [[&str; 3]; 6] = [
            [&y, &m, &d],
            [&d, &m, &y],
            [&m, &d, &y],
            [&yy, &m, &d],
            [&d, &m, &yy],
            [&m, &d, &yy],
        ];
        let written_date = forms[date_form].join(date_separator);
        // Interleave context and filler, so some candidates contain context and some do not.
        let mut candidate = String::new();
        for (i, pick) in picks.iter().enumerate() {
            candidate.push_str(match pick {
                0 => first.as_str(),
                1 => last.as_str(),
                2 => username.as_str(),
                3 => org_word.as_str(),
                4 => written_date.as_str(),
                5 => local.as_str(),
                6 => email_parts[i % email_parts.len()].as_str(),
                _ => filler[i % filler.len()].as_str(),
            });
            candidate.push_str(&filler[(i + 1) % filler.len()]);
        }
        if upper {
            candidate = candidate.to_uppercase();
        }
        if policy().check(&Password::new(candidate.as_str()), None, &ctx).is_ok() {
            // Separators do not hide a word: "j.smith", "17/03/84" and "ann.lee" count.
            let plain: String = candidate
                .to_lowercase()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect();
            let mut words = vec![
                first.clone(),
                last.clone(),
                username.to_lowercase(),
                org_word.clone(),
                email_parts.concat(),
            ];
            words.extend(email_parts.iter().cloned());
            words.extend(forms.iter().map(|form| form.concat()));
            for word in &words {
                prop_assert!(!plain.contains(word.as_str()), "{candidate:?} contains {word:?}");
            }
        }
    }
}
