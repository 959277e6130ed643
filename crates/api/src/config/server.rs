//! Where the server listens, how it is reached from outside, and how it logs and shuts down.

use std::net::SocketAddr;
use std::time::Duration;

use clap::ValueEnum;
use url::Url;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable, coloured when on a terminal (dev default).
    Pretty,
    /// One JSON object per line (production default).
    Json,
}

/// Listening, public addresses, logging and worker threads.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerSettings {
    /// Address and port to listen on.
    #[arg(
        long,
        env = "ESR_LISTEN_ADDR",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen_addr: SocketAddr,

    /// Address and port of the operator listener: `/metrics` (and the health checks) for the
    /// scraper, never on the public listener. Loopback by default; in a deployment, an address
    /// only the monitoring network reaches. Port 0 picks a free port.
    #[arg(
        long,
        env = "ESR_OPERATOR_LISTEN_ADDR",
        default_value = "127.0.0.1:9090",
        global = true
    )]
    pub operator_listen_addr: SocketAddr,

    /// Serve Swagger UI at `/swagger-ui/`. Off, the OpenAPI document is still served at
    /// `/api-docs/openapi.json` for clients and code generators.
    #[arg(long, env = "ESR_SWAGGER_UI", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub swagger_ui: bool,

    /// Let dev mode listen on an address other than loopback. Dev mode serves the dev identity
    /// provider (anyone can sign in as anyone with a "smartcard") and the dev mailbox (every
    /// reset link), so by default it refuses to be reachable from other machines.
    #[arg(long, env = "ESR_DEV_ALLOW_REMOTE", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub dev_allow_remote: bool,

    /// Public base URL of this API, e.g. `https://access.esr.example.org`. Dev default: `http://LISTEN_ADDR`.
    #[arg(long, env = "ESR_PUBLIC_BASE_URL", global = true)]
    pub public_base_url: Option<Url>,

    /// `pretty` or `json`. Default: pretty in dev, json in production.
    #[arg(long, env = "ESR_LOG_FORMAT", value_enum, global = true)]
    pub log_format: Option<LogFormat>,

    /// Log filter in `tracing` syntax, e.g. `info` or `esr_api=debug,info`.
    #[arg(long, env = "ESR_LOG", default_value = "info", global = true)]
    pub log_filter: String,

    /// HTTP worker threads. Default: one per core.
    #[arg(long, env = "ESR_WORKERS", global = true)]
    pub workers: Option<usize>,

    /// Base URL of the self-service web pages that email links open (reset, unlock, login),
    /// e.g. `https://my.esr.example.org`. Links are built from it, never from the request's Host.
    /// Dev default: this server's `/self-service`.
    #[arg(long, env = "ESR_WEB_BASE_URL", global = true)]
    pub web_base_url: Option<Url>,

    /// Proxies (IPs or CIDRs, comma-separated) whose `X-Forwarded-For` is believed.
    #[arg(
        long,
        env = "ESR_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = parse_ip_or_net,
        global = true
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Seconds to let in-flight requests finish after SIGTERM/SIGINT.
    #[arg(
        long,
        env = "ESR_SHUTDOWN_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub shutdown_timeout_secs: u64,
}

/// The server section, resolved.
pub(super) struct Server {
    pub(super) listen_addr: SocketAddr,
    pub(super) operator_listen_addr: SocketAddr,
    pub(super) swagger_ui: bool,
    pub(super) public_base_url: Url,
    pub(super) web_base_url: Url,
    pub(super) log_format: LogFormat,
    pub(super) log_filter: String,
    pub(super) workers: usize,
    pub(super) shutdown_timeout: Duration,
    pub(super) trusted_proxies: Vec<ipnet::IpNet>,
}

impl ServerSettings {
    /// The server section, or `None` when an address it needs is missing (the reasons are in
    /// `problems`).
    pub(super) fn resolve(
        self,
        production: bool,
        serving: bool,
        problems: &mut Vec<String>,
    ) -> Option<Server> {
        if serving && !production && !self.listen_addr.ip().is_loopback() && !self.dev_allow_remote
        {
            problems.push(format!(
                "ESR_LISTEN_ADDR={} is not a loopback address, and dev mode serves the dev identity provider and mailbox: listen on 127.0.0.1, run with ESR_MODE=production, or set ESR_DEV_ALLOW_REMOTE=true on a closed network",
                self.listen_addr
            ));
        }

        let public_base_url = match (&self.public_base_url, production) {
            (Some(url), _) => Some(url.clone()),
            (None, true) => {
                problems.push(
                    "ESR_PUBLIC_BASE_URL is required (the https:// address clients use to reach this API)"
                        .into(),
                );
                None
            }
            (None, false) => Url::parse(&format!("http://{}", self.listen_addr)).ok(),
        };
        if let Some(url) = &public_base_url {
            check_http_url("ESR_PUBLIC_BASE_URL", url, production, problems);
        }

        let web_base_url = match (&self.web_base_url, production && serving, &public_base_url) {
            (Some(url), _, _) => Some(url.clone()),
            (None, true, _) => {
                problems.push(
                    "ESR_WEB_BASE_URL is required (the https:// address of the pages that email links open)".into(),
                );
                None
            }
            (None, false, Some(public)) => public.join("self-service").ok(),
            (None, false, None) => None,
        };
        if let Some(url) = &web_base_url
            && production
            && url.scheme() != "https"
        {
            problems.push(format!(
                "ESR_WEB_BASE_URL must use https in production, not {url}"
            ));
        }
        if self.workers == Some(0) {
            problems.push("ESR_WORKERS must be at least 1".into());
        }

        if serving && self.operator_listen_addr == self.listen_addr && self.listen_addr.port() != 0
        {
            problems.push(format!(
                "ESR_OPERATOR_LISTEN_ADDR must differ from ESR_LISTEN_ADDR ({}): metrics are never served on the public listener",
                self.listen_addr
            ));
        }

        Some(Server {
            listen_addr: self.listen_addr,
            operator_listen_addr: self.operator_listen_addr,
            swagger_ui: self.swagger_ui,
            public_base_url: public_base_url?,
            web_base_url: web_base_url?,
            log_format: self.log_format.unwrap_or(if production {
                LogFormat::Json
            } else {
                LogFormat::Pretty
            }),
            log_filter: self.log_filter,
            workers: self.workers.unwrap_or_else(cores),
            shutdown_timeout: Duration::from_secs(self.shutdown_timeout_secs),
            trusted_proxies: self.trusted_proxies,
        })
    }
}

/// Threads to use where a setting leaves the count to the machine.
pub(super) fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
}

/// Checks a setting's URL: http(s) with a host, and https in production. Records what is
/// wrong in `problems`; returns whether the URL is usable at all (an http URL in production is
/// reported but still usable, so every other problem is listed too).
pub(super) fn check_http_url(
    name: &str,
    url: &Url,
    production: bool,
    problems: &mut Vec<String>,
) -> bool {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        problems.push(format!("{name} must be an http(s) URL, not {url}"));
        return false;
    }
    if production && url.scheme() != "https" {
        problems.push(format!("{name} must use https in production, not {url}"));
    }
    true
}

/// An IP address (one host) or a CIDR network, e.g. `10.0.0.7` or `10.0.0.0/24`.
fn parse_ip_or_net(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is neither an IP address nor a CIDR network"))
}

#[cfg(test)]
mod tests {
    use super::super::Settings;
    use super::super::tests::settings;
    use super::*;

    #[test]
    fn production_with_everything_starts_strict() {
        let config = settings(&[
            "--mode",
            "production",
            "--database-url",
            "postgres://esr:pw@db/esr",
            "--public-base-url",
            "https://esr.example",
        ])
        .resolve_for_maintenance()
        .expect("production config");
        assert!(!config.auto_migrate && !config.seed_demo);
        assert_eq!(config.log_format, LogFormat::Json);
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let config = settings(&["--trusted-proxies", "172.28.0.10, 10.0.0.0/24,::1"])
            .resolve()
            .expect("dev config");
        let nets: Vec<String> = config
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(nets, ["172.28.0.10/32", "10.0.0.0/24", "::1/128"]);
        let err = Settings::parse_from(["esr-api", "--trusted-proxies", "nginx"])
            .expect_err("a name is refused")
            .to_string();
        assert!(
            err.contains("neither an IP address nor a CIDR network"),
            "{err}"
        );
    }
}
