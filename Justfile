# Common commands. README's two commands need only cargo; these are conveniences.

# Run the service in dev mode (SQLite under ./var, demo data, Swagger UI).
run:
    cargo run -p esr-api

# Run every test (PostgreSQL variants too when ESR_TEST_DATABASE_URL is set).
test:
    cargo test --workspace

# Run the full CI script (starts PostgreSQL, fmt, clippy, tests, document checks).
ci:
    .ci/run

# Format check and lints.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Contract fuzzing: schemathesis against a dev server (every operation, all checks).
fuzz-api:
    .ci/fuzz-api

# Regenerate the committed OpenAPI document.
openapi:
    cargo run -q -p esr-api -- openapi -o openapi/openapi.json

# PostgreSQL, two API instances behind a load balancer, and a mail catcher.
up:
    docker compose up --build

# Benchmarks (release builds; figures go into docs/BENCHMARKS.md).
bench:
    cargo bench -p esr-domain
    cargo bench -p esr-api --bench load
