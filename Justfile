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

# Every benchmark in one go (release builds, loopback only, each phase bounded in time), each
# rewriting its generated block of docs/BENCHMARKS.md. PostgreSQL figures are included when
# ESR_BENCH_DATABASE_URL names a server the benches may create throw-away databases on, e.g.
#   ESR_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres just bench
bench:
    ESR_BENCH_WRITE="{{justfile_directory()}}/docs/BENCHMARKS.md" cargo bench -p esr-domain --bench argon2
    ESR_BENCH_WRITE="{{justfile_directory()}}/docs/BENCHMARKS.md" cargo bench -p esr-api --bench load
    ESR_BENCH_WRITE="{{justfile_directory()}}/docs/BENCHMARKS.md" cargo bench -p esr-api --bench import
