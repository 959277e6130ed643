//! Authenticator apps (RFC 6238 through `totp-rs`): SHA-1, 6 digits, 30-second steps, one
//! step either side accepted for clock drift. Which step matched is returned so the caller
//! can refuse a step accepted before.

use totp_rs::{Algorithm, Builder, Secret, Totp};
use zeroize::Zeroizing;

/// Bytes of a new secret: 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
/// Seconds per step.
const STEP_SECS: u64 = 30;
/// Steps either side of now that are accepted.
const SKEW_STEPS: u16 = 1;
/// The issuer shown in the authenticator app.
const ISSUER: &str = "ESR";

/// A TOTP secret (raw bytes, wiped on drop).
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(****)")
    }
}

/// What a person needs to add the secret to an authenticator app.
pub struct Enrolment {
    /// The secret in base32, for typing in by hand.
    pub secret_base32: String,
    /// `otpauth://totp/ESR:USERNAME?secret=…&issuer=ESR&algorithm=SHA1&digits=6&period=30`.
    pub otpauth_uri: String,
    /// The URI as a QR code, an SVG document.
    pub qr_svg: String,
}

impl TotpSecret {
    /// A fresh random secret.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new(vec![0u8; SECRET_BYTES]);
        rand::Rng::fill_bytes(&mut rand::rng(), &mut bytes);
        Self(bytes)
    }

    /// A secret as opened from storage.
    pub fn from_bytes(bytes: Zeroizing<Vec<u8>>) -> Self {
        Self(bytes)
    }

    /// The raw bytes (to seal).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn totp(&self, account_name: &str) -> Totp {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(SKEW_STEPS)
            .with_step_duration(STEP_SECS)
            .with_secret(Secret::from(self.0.to_vec()))
            .with_issuer(Some(ISSUER))
            .with_account_name(account_name)
            .build_noncompliant()
    }

    /// The URI and QR code for `username`'s authenticator app.
    pub fn enrolment(&self, username: &str) -> Enrolment {
        let totp = self.totp(username);
        let otpauth_uri = totp
            .to_url()
            .unwrap_or_else(|_| unreachable!("issuer and a username never hold ':'"));
        let qr_svg = qrcode::QrCode::new(otpauth_uri.as_bytes())
            .map(|qr| {
                qr.render::<qrcode::render::svg::Color<'_>>()
                    .min_dimensions(200, 200)
                    .build()
            })
            .unwrap_or_default();
        Enrolment {
            secret_base32: totp.secret().to_base32(),
            otpauth_uri,
            qr_svg,
        }
    }

    /// The time step (Unix seconds / 30) whose code is `code`, within one step of `unix_time`.
    pub fn matching_step(&self, code: &esr_domain::TotpCode, unix_time: u64) -> Option<i64> {
        let totp = self.totp("");
        let step = totp.check(code.as_str(), unix_time)?;
        i64::try_from(step).ok()
    }

    /// The code of the step containing `unix_time` (tests and the walk-through's helper).
    pub fn code_at(&self, unix_time: u64) -> String {
        self.totp("").generate(unix_time).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1: the secret "12345678901234567890", 8-digit codes whose
    /// last six digits are the 6-digit codes.
    #[test]
    fn codes_match_rfc_6238_test_vectors() {
        let secret = TotpSecret::from_bytes(Zeroizing::new(b"12345678901234567890".to_vec()));
        for (time, eight_digits) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(secret.code_at(time), eight_digits[2..], "t={time}");
        }
    }

    #[test]
    fn one_step_of_drift_is_accepted_and_no_more() {
        let secret = TotpSecret::generate();
        let now = 1_800_000_000;
        let code = |t| esr_domain::TotpCode::parse(&secret.code_at(t)).unwrap();
        let step = i64::try_from(now / 30).unwrap();
        assert_eq!(secret.matching_step(&code(now), now), Some(step));
        assert_eq!(secret.matching_step(&code(now - 30), now), Some(step - 1));
        assert_eq!(secret.matching_step(&code(now + 30), now), Some(step + 1));
        assert_eq!(secret.matching_step(&code(now - 60), now), None);
        assert_eq!(secret.matching_step(&code(now + 60), now), None);
    }

    #[test]
    fn enrolment_names_the_issuer_and_account() {
        let secret = TotpSecret::generate();
        let e = secret.enrolment("999JSMITH");
        assert!(
            e.otpauth_uri.starts_with("otpauth://totp/ESR:999JSMITH?"),
            "{}",
            e.otpauth_uri
        );
        assert!(
            e.otpauth_uri
                .contains(&format!("secret={}", e.secret_base32))
        );
        assert!(e.otpauth_uri.contains("issuer=ESR"));
        assert!(
            e.qr_svg.starts_with("<?xml") && e.qr_svg.contains("<svg"),
            "{}",
            &e.qr_svg[..60]
        );
        assert_eq!(e.secret_base32.len(), 32);
        assert_eq!(format!("{secret:?}"), "TotpSecret(****)");
    }
}
