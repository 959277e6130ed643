//! Logging: JSON lines in production, readable text in development.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// The WebAuthn library logs what it refuses at ERROR, with the refused bytes: anyone could
/// fill the log with a few large made-up answers. The service logs each refusal itself, in
/// a line of its own size.
const QUIET_WEBAUTHN: &str = "webauthn_rs_core=off";

/// Installs the global subscriber. Safe to call more than once (later calls are ignored).
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter)
        .unwrap_or_else(|_| EnvFilter::new("info"))
        .add_directive(QUIET_WEBAUTHN.parse().expect("a valid directive"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // When a log line cannot be written (stderr redirected to a full disk), the default
        // reports it with `eprintln!`, which panics on the same failed stderr and takes the
        // request down with it. A lost log line must not cost the request.
        .log_internal_errors(false);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
