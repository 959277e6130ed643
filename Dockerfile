# syntax=docker/dockerfile:1
# Multi-stage build: compile with the full toolchain, run from a small Debian image.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p esr-api \
 && strip target/release/esr-api

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /var/lib/esr esr \
 && mkdir -p /var/lib/esr && chown esr /var/lib/esr
COPY --from=build /src/target/release/esr-api /usr/local/bin/esr-api
USER esr
WORKDIR /var/lib/esr
ENV ESR_MODE=production \
    ESR_LISTEN_ADDR=0.0.0.0:8080
EXPOSE 8080
# bash, not sh: /dev/tcp is a bash feature (Debian's sh is dash).
HEALTHCHECK --interval=10s --timeout=3s CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health/live HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q '200 OK' <&3"]
ENTRYPOINT ["/usr/local/bin/esr-api"]
CMD ["serve"]
