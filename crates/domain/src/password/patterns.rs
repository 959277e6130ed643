//! Repeated characters, repeated chunks and sequences.
//!
//! Each character of the (lower-cased) password is marked when it belongs to a pattern:
//! - a run of one character at least 3 long (`aaa`, `!!!`);
//! - an alphabet or digit sequence at least 3 long, up or down (`abc`, `987`, digits wrap
//!   so `890123` counts);
//! - a keyboard-row walk at least 4 long (`qwer`, `asdf`, `;lkj`);
//! - a repeated chunk: the same text again right after itself, at least 3 characters of
//!   repeat and nearly a whole copy (`esresr`, `nhsnhs`, `passwordpassword`,
//!   `summer summer`);
//! - the service names `esr`, `myesr` and `nhs`.
//!
//! The password is refused when marked characters make up half of it or more, so a
//! passphrase with one `abc` or `!!!` in it is fine but `aaaaaaaaaaaa`, `esresresresr`,
//! `123456789012`, `abcdefghijkl` and `nhsnhs2024!!` are not.

use zeroize::Zeroizing;

use super::lowercase_secret;

const MIN_RUN: usize = 3;
const MIN_SEQUENCE: usize = 3;
const MIN_KEYBOARD_WALK: usize = 4;
const MIN_CHUNK_REPEAT: usize = 3;
const SERVICE_WORDS: &[&str] = &["myesr", "esr", "nhs"];
const KEYBOARD_ROWS: &[&str] = &[
    "`1234567890-=",
    "qwertyuiop[]\\",
    "asdfghjkl;'#",
    "zxcvbnm,./",
];

/// Whether repeats and sequences make up half or more of the password.
pub(crate) fn is_repetitive(password: &str) -> bool {
    // Both copies of the password are zeroizing; the char vector is sized exactly, so it
    // never reallocates (which would leave an unwiped copy behind).
    let lower = lowercase_secret(password);
    let mut chars: Zeroizing<Vec<char>> = Zeroizing::new(Vec::with_capacity(lower.chars().count()));
    chars.extend(lower.chars());
    let n = chars.len();
    if n == 0 {
        return false;
    }
    let mut covered = vec![false; n];
    mark_runs(&chars, &mut covered);
    mark_sequences(&chars, &mut covered);
    mark_keyboard_walks(&chars, &mut covered);
    mark_repeated_chunks(&chars, &mut covered);
    mark_service_words(&chars, &mut covered);
    let marked = covered.iter().filter(|&&c| c).count();
    marked * 2 >= n
}

/// Marks every maximal stretch `[start, end)` where `linked(i)` holds between each pair
/// `i-1, i` in it, if it is at least `min` long.
fn mark_chains(n: usize, min: usize, covered: &mut [bool], linked: impl Fn(usize) -> bool) {
    let mut start = 0;
    for i in 1..=n {
        if i < n && linked(i) {
            continue;
        }
        if i - start >= min {
            covered[start..i].iter_mut().for_each(|c| *c = true);
        }
        start = i;
    }
}

fn mark_runs(chars: &[char], covered: &mut [bool]) {
    mark_chains(chars.len(), MIN_RUN, covered, |i| chars[i] == chars[i - 1]);
}

/// Position of `c` on a cyclic scale, if it has one: letters 0..26, digits 0..10.
fn scale(c: char) -> Option<(u8, u32, u32)> {
    match c {
        'a'..='z' => Some((0, c as u32 - 'a' as u32, 26)),
        '0'..='9' => Some((1, c as u32 - '0' as u32, 10)),
        _ => None,
    }
}

fn step(a: char, b: char, direction: i32) -> bool {
    match (scale(a), scale(b)) {
        (Some((ka, pa, len)), Some((kb, pb, _))) if ka == kb => {
            let expected = if direction > 0 {
                (pa + 1) % len
            } else {
                (pa + len - 1) % len
            };
            // Letters do not wrap (z→a is not a sequence anyone types); digits do (9→0).
            pb == expected && (ka == 1 || (direction > 0) == (pb > pa))
        }
        _ => false,
    }
}

fn mark_sequences(chars: &[char], covered: &mut [bool]) {
    for direction in [1, -1] {
        mark_chains(chars.len(), MIN_SEQUENCE, covered, |i| {
            step(chars[i - 1], chars[i], direction)
        });
    }
}

fn keyboard_step(a: char, b: char, direction: i32) -> bool {
    KEYBOARD_ROWS.iter().any(|row| {
        let (Some(pa), Some(pb)) = (row.find(a), row.find(b)) else {
            return false;
        };
        if direction > 0 {
            pb == pa + 1
        } else {
            pa == pb + 1
        }
    })
}

fn mark_keyboard_walks(chars: &[char], covered: &mut [bool]) {
    for direction in [1, -1] {
        mark_chains(chars.len(), MIN_KEYBOARD_WALK, covered, |i| {
            keyboard_step(chars[i - 1], chars[i], direction)
        });
    }
}

/// For each period `p`, finds stretches where `chars[k] == chars[k - p]` holds for at least
/// `max(3, p - 1)` consecutive `k`, and marks the copy and its repeat.
fn mark_repeated_chunks(chars: &[char], covered: &mut [bool]) {
    let n = chars.len();
    for p in 1..n {
        let needed = MIN_CHUNK_REPEAT.max(p - 1);
        if n - p < needed {
            break;
        }
        let mut k = p;
        while k < n {
            if chars[k] != chars[k - p] {
                k += 1;
                continue;
            }
            let start = k;
            while k < n && chars[k] == chars[k - p] {
                k += 1;
            }
            if k - start >= needed {
                covered[start - p..k].iter_mut().for_each(|c| *c = true);
            }
        }
    }
}

fn mark_service_words(chars: &[char], covered: &mut [bool]) {
    for word in SERVICE_WORDS {
        let w: Vec<char> = word.chars().collect();
        for start in 0..chars.len().saturating_sub(w.len() - 1) {
            if chars[start..start + w.len()] == w[..] {
                covered[start..start + w.len()]
                    .iter_mut()
                    .for_each(|c| *c = true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_dominant_patterns() {
        for pw in [
            "aaaaaaaaaaaa",
            "esresresresr",
            "ESRESRESRESR",
            "nhsnhsnhsnhs",
            "nhsnhsnhs2024",
            "nhsnhs2024!!",
            "myesr myesr!",
            "123456789012",
            "098765432109",
            "abcdefghijkl",
            "zyxwvutsrqpo",
            "qwertyuiop[]",
            "asdfghjkl;'#",
            "passwordpassword",
            "summer summer",
            "abababababab",
            "abcd1234abcd",
            "11112222333344",
            "!!!!!!!!!!!!",
            "Aa1!Aa1!Aa1!",
        ] {
            assert!(is_repetitive(pw), "{pw}");
        }
    }

    #[test]
    fn accepts_passphrases_with_incidental_patterns() {
        for pw in [
            "correct horse battery",
            "definitely first study",
            "the cat and the dog",
            "Bolton wanderers 1874",
            "my nhs job is great fun",
            "zebra crossing at 3pm",
            "Tr0ub4dor&3 extra",
            "letters abc in a longer phrase",
            "",
        ] {
            assert!(!is_repetitive(pw), "{pw}");
        }
    }

    #[test]
    fn letters_do_not_wrap_but_digits_do() {
        assert!(step('9', '0', 1));
        assert!(step('0', '9', -1));
        assert!(!step('z', 'a', 1));
        assert!(!step('a', 'z', -1));
        assert!(step('a', 'b', 1));
        assert!(!step('a', '1', 1));
    }
}
