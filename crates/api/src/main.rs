//! `esr-api`: serve, migrate, print the OpenAPI document, seed demo data.

fn main() -> std::process::ExitCode {
    esr_api::cli::main()
}
