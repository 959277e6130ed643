//! Synthetic, valid people feeds for load tests and benchmarks (`esr-api generate-people`).
//!
//! Deterministic: the same count, organisation and seed give the same bytes on every
//! machine (a fixed SplitMix64 stream, not a library RNG whose algorithm may change).
//! Employee numbers are 8 digits from `10000001` (the demo people have 6), smartcard
//! subjects are the organisation code and 9 digits, so files for different organisations
//! can be imported side by side.

use std::io::{self, Write};

use esr_domain::OrganisationCode;

use super::COLUMNS;

const FIRST_NAMES: &[&str] = &[
    "Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Ivy", "Muhammad",
    "Freya", "Leo", "Lily", "Harry", "Florence", "Oscar", "Siân", "Rhys", "Zoë", "Aoife", "Priya",
    "Chidi", "Mei", "Tomasz", "Fatima", "Dafydd", "Niamh", "José", "Grace", "Yusuf",
];

const LAST_NAMES: &[&str] = &[
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Robinson",
    "Thompson",
    "Wright",
    "Walker",
    "White",
    "Edwards",
    "Hughes",
    "Green",
    "Hall",
    "Patel",
    "Khan",
    "O'Brien",
    "Nowak",
    "Okafor",
    "Nguyen",
    "Llewellyn",
    "Ní Bhriain",
    "Müller",
    "Singh",
];

/// A SplitMix64 stream (Steele, Lea & Flood 2014): tiny, fast, fully specified.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Writes a header and `count` valid rows for `organisation` to `out`.
pub fn write_people(
    out: impl Write,
    count: u64,
    organisation: &OrganisationCode,
    seed: u64,
) -> io::Result<()> {
    let mut rng = SplitMix64(seed);
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out);
    w.write_record(COLUMNS)?;
    let org = organisation.as_str();
    let domain = format!("trust{}.example.org", org.to_ascii_lowercase());
    let mut email = String::with_capacity(64);
    for i in 1..=count {
        let first = FIRST_NAMES[rng.below(FIRST_NAMES.len() as u64) as usize];
        let last = LAST_NAMES[rng.below(LAST_NAMES.len() as u64) as usize];
        // Born 1950-01-01 .. 2005-12-28: every date valid, every age plausible.
        let dob = format!(
            "{}-{:02}-{:02}",
            1950 + rng.below(56),
            1 + rng.below(12),
            1 + rng.below(28)
        );
        email.clear();
        push_ascii_lower(&mut email, first);
        email.push('.');
        push_ascii_lower(&mut email, last);
        email.push_str(&format!(".{i}@{domain}"));
        // One in five has no smartcard yet.
        let subject = if rng.below(5) == 0 {
            String::new()
        } else {
            format!("{org}{i:09}")
        };
        let employee = format!("{}", 10_000_000 + i);
        w.write_record([
            org,
            employee.as_str(),
            first,
            last,
            dob.as_str(),
            email.as_str(),
            subject.as_str(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Appends the ASCII letters of a name, lower-cased, dropping everything else
/// (`O'Brien` → `obrien`, `Zoë` → `zo`).
fn push_ascii_lower(out: &mut String, name: &str) {
    out.extend(
        name.chars()
            .filter(char::is_ascii_alphabetic)
            .map(|c| c.to_ascii_lowercase()),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_valid_shape() {
        let org = OrganisationCode::parse("999").unwrap();
        let mut a = Vec::new();
        let mut b = Vec::new();
        write_people(&mut a, 50, &org, 7).unwrap();
        write_people(&mut b, 50, &org, 7).unwrap();
        assert_eq!(a, b);
        let mut c = Vec::new();
        write_people(&mut c, 50, &org, 8).unwrap();
        assert_ne!(a, c);
        let text = String::from_utf8(a).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap(), COLUMNS.join(","));
        assert_eq!(lines.count(), 50);
        assert!(text.contains("999,10000001,"));
    }
}
