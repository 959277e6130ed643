//! The My ESR app's association with this domain: which Android and iOS apps may use the
//! passwords (and, later, passkeys) people save for it, through the files the phones fetch
//! from `/.well-known/`.

/// The apps allowed to share this domain's saved sign-in details.
#[derive(Debug, Clone, clap::Args)]
pub struct MobileAppSettings {
    /// Android package name of the My ESR app, e.g. `uk.nhs.esr.myesr`. With
    /// `ESR_ANDROID_CERT_FINGERPRINTS`, served in `/.well-known/assetlinks.json`.
    #[arg(long, env = "ESR_ANDROID_APP_PACKAGE", global = true)]
    pub android_app_package: Option<String>,

    /// SHA-256 fingerprints of the Android app's signing certificates (`AB:CD:…`, 32 bytes),
    /// comma-separated.
    #[arg(
        long,
        env = "ESR_ANDROID_CERT_FINGERPRINTS",
        value_delimiter = ',',
        global = true
    )]
    pub android_cert_fingerprints: Vec<String>,

    /// iOS app ids (`TEAMID.bundle.id`), comma-separated, served as `webcredentials` in
    /// `/.well-known/apple-app-site-association`.
    #[arg(long, env = "ESR_IOS_APP_IDS", value_delimiter = ',', global = true)]
    pub ios_app_ids: Vec<String>,
}

/// The Android app allowed to share sign-in details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AndroidApp {
    /// Its package name.
    pub package: String,
    /// Its signing certificates' SHA-256 fingerprints, upper-case, colon-separated.
    pub fingerprints: Vec<String>,
}

/// The resolved app association.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MobileApps {
    /// The Android app, when configured.
    pub android: Option<AndroidApp>,
    /// The iOS app ids (none: no association file).
    pub ios_app_ids: Vec<String>,
}

impl MobileAppSettings {
    pub(super) fn resolve(self, problems: &mut Vec<String>) -> MobileApps {
        let android = match (self.android_app_package, self.android_cert_fingerprints) {
            (None, prints) if prints.is_empty() => None,
            (Some(package), prints) if !prints.is_empty() => {
                if !is_android_package(&package) {
                    problems.push(format!(
                        "ESR_ANDROID_APP_PACKAGE: {package:?} is not an Android package name (e.g. uk.nhs.esr.myesr)"
                    ));
                }
                let fingerprints: Vec<String> = prints
                    .iter()
                    .map(|p| p.trim().to_ascii_uppercase())
                    .collect();
                if let Some(bad) = fingerprints.iter().find(|p| !is_sha256_fingerprint(p)) {
                    problems.push(format!(
                        "ESR_ANDROID_CERT_FINGERPRINTS: {bad:?} is not a SHA-256 fingerprint (32 bytes as AB:CD:…)"
                    ));
                }
                Some(AndroidApp {
                    package,
                    fingerprints,
                })
            }
            _ => {
                problems.push(
                    "ESR_ANDROID_APP_PACKAGE and ESR_ANDROID_CERT_FINGERPRINTS go together: set both or neither"
                        .into(),
                );
                None
            }
        };
        let ios_app_ids: Vec<String> = self
            .ios_app_ids
            .iter()
            .map(|id| id.trim().to_owned())
            .collect();
        if let Some(bad) = ios_app_ids.iter().find(|id| !is_ios_app_id(id)) {
            problems.push(format!(
                "ESR_IOS_APP_IDS: {bad:?} is not an app id (TEAMID.bundle.id, the team id 10 letters or digits)"
            ));
        }
        MobileApps {
            android,
            ios_app_ids,
        }
    }
}

fn is_android_package(name: &str) -> bool {
    let segments: Vec<&str> = name.split('.').collect();
    segments.len() >= 2
        && segments.iter().all(|s| {
            s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

fn is_sha256_fingerprint(print: &str) -> bool {
    let bytes: Vec<&str> = print.split(':').collect();
    bytes.len() == 32
        && bytes
            .iter()
            .all(|b| b.len() == 2 && b.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_ios_app_id(id: &str) -> bool {
    let Some((team, bundle)) = id.split_once('.') else {
        return false;
    };
    team.len() == 10
        && team
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && !bundle.is_empty()
        && bundle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRINT: &str = "14:6D:E9:83:C5:73:06:50:D8:EE:B9:95:2F:34:FC:64:16:A0:83:42:E6:1D:BE:A8:8A:04:96:B2:3F:CF:44:E5";

    fn resolve(package: Option<&str>, prints: &[&str], ios: &[&str]) -> (MobileApps, Vec<String>) {
        let mut problems = Vec::new();
        let apps = MobileAppSettings {
            android_app_package: package.map(str::to_owned),
            android_cert_fingerprints: prints.iter().map(|s| (*s).to_owned()).collect(),
            ios_app_ids: ios.iter().map(|s| (*s).to_owned()).collect(),
        }
        .resolve(&mut problems);
        (apps, problems)
    }

    #[test]
    fn nothing_set_is_no_association() {
        let (apps, problems) = resolve(None, &[], &[]);
        assert_eq!(apps, MobileApps::default());
        assert!(problems.is_empty());
    }

    #[test]
    fn good_values_are_kept_and_fingerprints_upper_cased() {
        let lower = PRINT.to_ascii_lowercase();
        let (apps, problems) = resolve(
            Some("uk.nhs.esr.myesr"),
            &[&lower],
            &["ABCDE12345.uk.nhs.esr.myesr"],
        );
        assert!(problems.is_empty(), "{problems:?}");
        let android = apps.android.unwrap();
        assert_eq!(android.fingerprints, [PRINT]);
        assert_eq!(apps.ios_app_ids, ["ABCDE12345.uk.nhs.esr.myesr"]);
    }

    #[test]
    fn bad_values_are_refused_each_with_its_setting() {
        for (package, prints, ios, setting) in [
            (
                Some("myesr"),
                vec![PRINT],
                vec![],
                "ESR_ANDROID_APP_PACKAGE",
            ),
            (
                Some("uk.nhs.esr"),
                vec!["AB:CD"],
                vec![],
                "ESR_ANDROID_CERT_FINGERPRINTS",
            ),
            (Some("uk.nhs.esr"), vec![], vec![], "go together"),
            (None, vec![PRINT], vec![], "go together"),
            (None, vec![], vec!["abc.uk.nhs"], "ESR_IOS_APP_IDS"),
            (None, vec![], vec!["ABCDE12345."], "ESR_IOS_APP_IDS"),
        ] {
            let (_, problems) = resolve(package, &prints, &ios);
            assert!(
                problems.iter().any(|p| p.contains(setting)),
                "{setting}: {problems:?}"
            );
        }
    }
}
