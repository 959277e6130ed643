//! Smartcard sign-in: the OpenID Connect relying party towards NHS CIS2 (or the dev identity
//! provider), and how long a workplace session lasts.

use std::net::SocketAddr;
use std::time::Duration;

use url::Url;

/// Smartcard sign-in through OpenID Connect.
#[derive(Debug, Clone, clap::Args)]
pub struct SmartcardSettings {
    /// Turn smartcard sign-in off. Production needs either this or a complete `ESR_OIDC_*`
    /// configuration.
    #[arg(
        long,
        env = "ESR_SMARTCARD_DISABLED",
        default_value_t = false,
        global = true
    )]
    pub smartcard_disabled: bool,

    /// Issuer of the smartcard identity provider (NHS CIS2); its discovery document is at
    /// `{issuer}/.well-known/openid-configuration`. Dev default: this server's `/dev-idp`.
    /// Kept exactly as written (CIS2's issuer includes `:443`), because ID tokens must name it
    /// exactly.
    #[arg(long, env = "ESR_OIDC_ISSUER", global = true)]
    pub oidc_issuer: Option<String>,

    /// Our client id at the identity provider. Dev default: `esr-access-dev`.
    #[arg(long, env = "ESR_OIDC_CLIENT_ID", global = true)]
    pub oidc_client_id: Option<String>,

    /// RSA private key (PKCS#8 or PKCS#1 PEM, at least 2048 bits) for `private_key_jwt` client
    /// authentication; its public part is published at `/.well-known/oidc-client-jwks.json`.
    /// Dev default: a key generated on first use.
    #[arg(long, env = "ESR_OIDC_CLIENT_KEY_FILE", global = true)]
    pub oidc_client_key_file: Option<std::path::PathBuf>,

    /// Algorithm of our `private_key_jwt` client assertions: RS256, RS384 or RS512.
    #[arg(
        long,
        env = "ESR_OIDC_CLIENT_ASSERTION_ALG",
        default_value = "RS512",
        global = true
    )]
    pub oidc_client_assertion_alg: String,

    /// File holding a client secret, for `client_secret_post` instead of `private_key_jwt`.
    #[arg(long, env = "ESR_OIDC_CLIENT_SECRET_FILE", global = true)]
    pub oidc_client_secret_file: Option<std::path::PathBuf>,

    /// Comma-separated redirect URIs a front end may ask the provider to return to (exact
    /// match). Dev default: `http://localhost:3000/smartcard/callback`.
    #[arg(
        long,
        env = "ESR_OIDC_REDIRECT_URIS",
        value_delimiter = ',',
        global = true
    )]
    pub oidc_redirect_uris: Vec<Url>,

    /// Scopes requested (space-separated).
    #[arg(
        long,
        env = "ESR_OIDC_SCOPES",
        default_value = "openid profile",
        global = true
    )]
    pub oidc_scopes: String,

    /// `acr_values` sent with the authorization request.
    #[arg(
        long,
        env = "ESR_OIDC_ACR_VALUES",
        default_value = "AAL3_ANY",
        global = true
    )]
    pub oidc_acr_values: String,

    /// Lowest authentication assurance level accepted (`acr` / `authentication_assurance_level`), 1–3.
    #[arg(
        long,
        env = "ESR_OIDC_MIN_ASSURANCE",
        default_value_t = 3,
        global = true
    )]
    pub oidc_min_assurance: u8,

    /// ID-token claim holding the smartcard identity that links to a person (`smartcard_subject`).
    #[arg(
        long,
        env = "ESR_OIDC_SUBJECT_CLAIM",
        default_value = "uid",
        global = true
    )]
    pub oidc_subject_claim: String,

    /// ID-token signing algorithms accepted (comma-separated; RSA only: RS256/384/512, PS256/384/512).
    #[arg(
        long,
        env = "ESR_OIDC_ALGORITHMS",
        value_delimiter = ',',
        default_value = "RS256",
        global = true
    )]
    pub oidc_algorithms: Vec<String>,

    /// Connect and total timeout of each call to the identity provider (milliseconds).
    #[arg(
        long,
        env = "ESR_OIDC_TIMEOUT_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub oidc_timeout_ms: u64,

    /// How long the provider's discovery document and keys are cached (seconds).
    #[arg(
        long,
        env = "ESR_OIDC_JWKS_TTL_SECS",
        default_value_t = 3_600,
        global = true
    )]
    pub oidc_jwks_ttl_secs: u64,

    /// Least time between two key refreshes caused by an unknown `kid` (seconds).
    #[arg(
        long,
        env = "ESR_OIDC_JWKS_MIN_REFRESH_SECS",
        default_value_t = 30,
        global = true
    )]
    pub oidc_jwks_min_refresh_secs: u64,

    /// How long a started smartcard sign-in may take before its callback (seconds).
    #[arg(
        long,
        env = "ESR_OIDC_FLOW_TTL_SECS",
        default_value_t = 600,
        global = true
    )]
    pub oidc_flow_ttl_secs: u64,

    /// Longest a workplace (smartcard) session lasts, in hours.
    #[arg(
        long,
        env = "ESR_WORKPLACE_SESSION_HOURS",
        default_value_t = 8,
        global = true
    )]
    pub workplace_session_hours: u64,
}

/// Where the identity provider is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Issuer {
    /// The built-in dev identity provider at `{public_base_url}/dev-idp` (dev mode only).
    DevIdp,
    /// A real provider (NHS CIS2), or a mock in tests: the issuer string exactly as configured.
    External(String),
}

/// How we authenticate to the provider's token endpoint.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// `private_key_jwt`: a client assertion signed with our RSA key.
    PrivateKeyJwt {
        /// The key file; `None` in dev mode: a key generated on first use.
        key_file: Option<std::path::PathBuf>,
        /// RS256, RS384 or RS512.
        algorithm: jsonwebtoken::Algorithm,
    },
    /// `client_secret_post`: the secret in the form body.
    ClientSecretPost(ClientSecret),
}

/// A client secret; `Debug` never shows it.
#[derive(Clone)]
pub struct ClientSecret(zeroize::Zeroizing<String>);

impl ClientSecret {
    /// The secret, for the token request only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(****)")
    }
}

/// The OpenID Connect relying-party settings of smartcard sign-in.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The provider.
    pub issuer: Issuer,
    /// Our client id.
    pub client_id: String,
    /// Token-endpoint authentication.
    pub client_auth: ClientAuth,
    /// Redirect URIs front ends may use (exact match).
    pub redirect_uris: Vec<Url>,
    /// Scopes, space-separated.
    pub scopes: String,
    /// `acr_values` of the authorization request.
    pub acr_values: String,
    /// Lowest assurance level accepted.
    pub min_assurance: u8,
    /// The claim linking to `people.smartcard_subject`.
    pub subject_claim: String,
    /// ID-token algorithms accepted (pinned before any key is looked at).
    pub algorithms: Vec<jsonwebtoken::Algorithm>,
    /// Connect and total timeout of each provider call.
    pub timeout: Duration,
    /// Cache lifetime of discovery and keys.
    pub jwks_ttl: Duration,
    /// Least time between refreshes caused by an unknown `kid`.
    pub jwks_min_refresh: Duration,
    /// Lifetime of a started sign-in.
    pub flow_ttl: Duration,
    /// Clock skew tolerated on `exp` and `iat`.
    pub leeway: Duration,
}

/// ID-token algorithms we can verify (RSA keys from the provider's JWKS).
const ID_TOKEN_ALGORITHMS: &[&str] = &["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];

/// The smartcard section, resolved.
pub(super) struct Smartcard {
    pub(super) oidc: Option<OidcConfig>,
    pub(super) workplace_session: Duration,
}

impl SmartcardSettings {
    /// The smartcard section; what is wrong is added to `problems`. The provider settings
    /// matter only to a serving instance, like the signing key; `listen_addr` gives dev mode's
    /// default redirect to this server's own pages.
    pub(super) fn resolve(
        self,
        production: bool,
        serving: bool,
        listen_addr: SocketAddr,
        problems: &mut Vec<String>,
    ) -> Smartcard {
        if self.workplace_session_hours == 0 || self.workplace_session_hours > 24 {
            problems.push("ESR_WORKPLACE_SESSION_HOURS must be between 1 and 24".into());
        }
        let oidc = if self.smartcard_disabled || !serving {
            None
        } else {
            self.resolve_oidc(production, listen_addr, problems)
        };
        Smartcard {
            oidc,
            workplace_session: Duration::from_secs(self.workplace_session_hours * 3600),
        }
    }

    /// The smartcard settings, or `None` with the reasons added to `problems`.
    fn resolve_oidc(
        &self,
        production: bool,
        listen_addr: SocketAddr,
        problems: &mut Vec<String>,
    ) -> Option<OidcConfig> {
        let before = problems.len();
        let disable_hint = " (or set ESR_SMARTCARD_DISABLED=true)";
        let issuer = match (&self.oidc_issuer, production) {
            (Some(raw), _) => {
                let raw = raw.trim();
                let ok = Url::parse(raw).is_ok_and(|url| {
                    url.host_str().is_some()
                        && (url.scheme() == "https" || (!production && url.scheme() == "http"))
                });
                if !ok {
                    problems.push(format!(
                        "ESR_OIDC_ISSUER must be an https URL (http allowed in dev), not {raw:?}"
                    ));
                }
                Issuer::External(raw.to_owned())
            }
            (None, true) => {
                problems.push(format!(
                    "ESR_OIDC_ISSUER is required: the NHS CIS2 issuer URL{disable_hint}"
                ));
                Issuer::DevIdp
            }
            (None, false) => Issuer::DevIdp,
        };
        let client_id = match (&self.oidc_client_id, production) {
            (Some(id), _) if !id.trim().is_empty() => id.trim().to_owned(),
            (_, true) => {
                problems.push(format!(
                    "ESR_OIDC_CLIENT_ID is required: our client id at CIS2{disable_hint}"
                ));
                String::new()
            }
            (_, false) => "esr-access-dev".to_owned(),
        };
        let assertion_alg = match self.oidc_client_assertion_alg.trim() {
            "RS256" => jsonwebtoken::Algorithm::RS256,
            "RS384" => jsonwebtoken::Algorithm::RS384,
            "RS512" => jsonwebtoken::Algorithm::RS512,
            other => {
                problems.push(format!(
                    "ESR_OIDC_CLIENT_ASSERTION_ALG must be RS256, RS384 or RS512, not {other:?}"
                ));
                jsonwebtoken::Algorithm::RS512
            }
        };
        let client_auth = match (&self.oidc_client_key_file, &self.oidc_client_secret_file) {
            (Some(_), Some(_)) => {
                problems.push(
                    "ESR_OIDC_CLIENT_KEY_FILE and ESR_OIDC_CLIENT_SECRET_FILE are both set: choose private_key_jwt or client_secret_post"
                        .into(),
                );
                None
            }
            (Some(path), None) => {
                if !path.is_file() {
                    problems.push(format!(
                        "ESR_OIDC_CLIENT_KEY_FILE: {} is not a readable file",
                        path.display()
                    ));
                }
                Some(ClientAuth::PrivateKeyJwt {
                    key_file: Some(path.clone()),
                    algorithm: assertion_alg,
                })
            }
            (None, Some(path)) => match std::fs::read_to_string(path) {
                Ok(secret) if !secret.trim().is_empty() => Some(ClientAuth::ClientSecretPost(
                    ClientSecret(zeroize::Zeroizing::new(secret.trim().to_owned())),
                )),
                Ok(_) => {
                    problems.push(format!(
                        "ESR_OIDC_CLIENT_SECRET_FILE: {} is empty",
                        path.display()
                    ));
                    None
                }
                Err(e) => {
                    problems.push(format!(
                        "ESR_OIDC_CLIENT_SECRET_FILE: cannot read {}: {e}",
                        path.display()
                    ));
                    None
                }
            },
            (None, None) if production => {
                problems.push(format!(
                    "ESR_OIDC_CLIENT_KEY_FILE (private_key_jwt) or ESR_OIDC_CLIENT_SECRET_FILE is required{disable_hint}"
                ));
                None
            }
            (None, None) => Some(ClientAuth::PrivateKeyJwt {
                key_file: None,
                algorithm: assertion_alg,
            }),
        };
        let redirect_uris = if self.oidc_redirect_uris.is_empty() && !production {
            // A front end on localhost:3000, and this server's own reference pages.
            let own = format!("http://{}/self-service/smartcard-callback", listen_addr);
            ["http://localhost:3000/smartcard/callback", own.as_str()]
                .iter()
                .filter_map(|u| Url::parse(u).ok())
                .collect()
        } else {
            self.oidc_redirect_uris.clone()
        };
        if redirect_uris.is_empty() {
            problems.push(format!(
                "ESR_OIDC_REDIRECT_URIS is required: the front end's smartcard callback address(es){disable_hint}"
            ));
        }
        for uri in &redirect_uris {
            if uri.fragment().is_some() || !matches!(uri.scheme(), "https" | "http") {
                problems.push(format!(
                    "ESR_OIDC_REDIRECT_URIS: {uri} must be an http(s) URL without a fragment"
                ));
            } else if production && uri.scheme() != "https" {
                problems.push(format!(
                    "ESR_OIDC_REDIRECT_URIS: {uri} must use https in production"
                ));
            }
        }
        let mut algorithms = Vec::new();
        for name in &self.oidc_algorithms {
            let name = name.trim();
            match name.parse::<jsonwebtoken::Algorithm>() {
                Ok(alg) if ID_TOKEN_ALGORITHMS.contains(&name) => algorithms.push(alg),
                _ => problems.push(format!(
                    "ESR_OIDC_ALGORITHMS: {name:?} is not accepted; use RSA signatures ({}). \
                     Never `none` or HS*: a symmetric algorithm would accept tokens signed with \
                     the provider's public key",
                    ID_TOKEN_ALGORITHMS.join(", ")
                )),
            }
        }
        if algorithms.is_empty() && self.oidc_algorithms.is_empty() {
            problems.push("ESR_OIDC_ALGORITHMS must name at least one algorithm".into());
        }
        if !(1..=3).contains(&self.oidc_min_assurance) {
            problems.push("ESR_OIDC_MIN_ASSURANCE must be 1, 2 or 3 (AAL3 for smartcards)".into());
        }
        if self.oidc_subject_claim.trim().is_empty() {
            problems.push("ESR_OIDC_SUBJECT_CLAIM must name a claim (CIS2: uid)".into());
        }
        if !(100..=60_000).contains(&self.oidc_timeout_ms) {
            problems.push("ESR_OIDC_TIMEOUT_MS must be between 100 and 60000".into());
        }
        if !(60..=3_600).contains(&self.oidc_flow_ttl_secs) {
            problems.push("ESR_OIDC_FLOW_TTL_SECS must be between 60 and 3600".into());
        }
        if !self.oidc_scopes.split_whitespace().any(|s| s == "openid") {
            problems.push("ESR_OIDC_SCOPES must include openid".into());
        }
        match client_auth {
            Some(client_auth) if problems.len() == before => Some(OidcConfig {
                issuer,
                client_id,
                client_auth,
                redirect_uris,
                scopes: self
                    .oidc_scopes
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
                acr_values: self.oidc_acr_values.trim().to_owned(),
                min_assurance: self.oidc_min_assurance,
                subject_claim: self.oidc_subject_claim.trim().to_owned(),
                algorithms,
                timeout: Duration::from_millis(self.oidc_timeout_ms),
                jwks_ttl: Duration::from_secs(self.oidc_jwks_ttl_secs),
                jwks_min_refresh: Duration::from_secs(self.oidc_jwks_min_refresh_secs),
                flow_ttl: Duration::from_secs(self.oidc_flow_ttl_secs),
                leeway: Duration::from_secs(60),
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::settings;
    use super::*;

    #[test]
    fn production_needs_smartcard_settings_or_an_explicit_disable() {
        let base = [
            "--mode",
            "production",
            "--database-url",
            "postgres://esr:pw@db/esr",
            "--public-base-url",
            "https://esr.example",
        ];
        let text = settings(&base).resolve().expect_err("refused").to_string();
        for name in [
            "ESR_OIDC_ISSUER",
            "ESR_OIDC_CLIENT_ID",
            "ESR_OIDC_CLIENT_KEY_FILE",
            "ESR_OIDC_REDIRECT_URIS",
            "ESR_SMARTCARD_DISABLED=true",
        ] {
            assert!(text.contains(name), "{name} in {text}");
        }
        let mut disabled = base.to_vec();
        disabled.push("--smartcard-disabled");
        let text = settings(&disabled)
            .resolve()
            .expect_err("no key")
            .to_string();
        assert!(!text.contains("ESR_OIDC"), "{text}");

        let mut plain = base.to_vec();
        plain.extend([
            "--oidc-issuer",
            "http://cis2.example",
            "--oidc-client-id",
            "esr",
            "--oidc-client-secret-file",
            "/nonexistent",
            "--oidc-redirect-uris",
            "http://portal.example/cb",
        ]);
        let text = settings(&plain).resolve().expect_err("refused").to_string();
        for expected in [
            "ESR_OIDC_ISSUER must be an https URL",
            "ESR_OIDC_CLIENT_SECRET_FILE: cannot read",
            "must use https in production",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
    }

    #[test]
    fn dev_defaults_to_the_dev_identity_provider() {
        let config = settings(&[]).resolve().expect("dev config");
        let oidc = config.smartcard.expect("enabled in dev");
        assert_eq!(oidc.issuer, Issuer::DevIdp);
        assert_eq!(oidc.client_id, "esr-access-dev");
        assert!(matches!(
            oidc.client_auth,
            ClientAuth::PrivateKeyJwt {
                key_file: None,
                algorithm: jsonwebtoken::Algorithm::RS512
            }
        ));
        assert_eq!(
            oidc.redirect_uris[0].as_str(),
            "http://localhost:3000/smartcard/callback"
        );
        assert_eq!(oidc.algorithms, [jsonwebtoken::Algorithm::RS256]);
        assert_eq!(
            (
                oidc.min_assurance,
                oidc.subject_claim.as_str(),
                oidc.acr_values.as_str()
            ),
            (3, "uid", "AAL3_ANY")
        );
        assert_eq!(config.workplace_session, Duration::from_secs(8 * 3600));
        // The issuer is kept exactly as written: CIS2's names port 443.
        let cis2 = "https://am.nhsidentity.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare";
        let config = settings(&["--oidc-issuer", cis2])
            .resolve()
            .expect("dev config");
        assert_eq!(
            config.smartcard.expect("enabled").issuer,
            Issuer::External(cis2.to_owned())
        );
    }

    #[test]
    fn id_token_algorithms_refuse_none_and_hmac() {
        for alg in ["none", "HS256", "HS512", "EdDSA", "ES256"] {
            let text = settings(&["--oidc-algorithms", alg])
                .resolve()
                .expect_err("refused")
                .to_string();
            assert!(text.contains("ESR_OIDC_ALGORITHMS"), "{alg}: {text}");
        }
        let config = settings(&["--oidc-algorithms", "RS256,PS256"])
            .resolve()
            .expect("RSA algorithms");
        assert_eq!(config.smartcard.expect("enabled").algorithms.len(), 2);
        let text = settings(&["--oidc-min-assurance", "4"])
            .resolve()
            .expect_err("refused")
            .to_string();
        assert!(text.contains("ESR_OIDC_MIN_ASSURANCE"), "{text}");
    }
}
