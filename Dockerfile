# order-metafields container image: the release binary on debian:bookworm-slim, running as
# a non-root user, with a HEALTHCHECK that needs no curl. Build and run:
#
#   docker build -t order-metafields .
#   docker run --rm -p 8080:8080 --env-file .env order-metafields
#
# The default build includes the sandbox store, so the same image runs the demo:
#
#   docker run --rm -p 8080:8080 -p 8081:8081 \
#     --health-cmd "order-metafields healthcheck --address 127.0.0.1:8080" \
#     order-metafields demo --host 0.0.0.0
#
# A production image without the sandbox and the demo (`--no-default-features`):
#
#   docker build --build-arg CARGO_FEATURES=--no-default-features -t order-metafields .
#
# Base images are pinned by digest (the digest of the multi-platform index of the tag named
# beside it); to update one, replace the tag and its digest together. Dependencies are
# compiled in their own layer by cargo-chef, so a change to the code alone rebuilds only the
# workspace's own crates. Every RUN line below also works outside Docker, from the
# repository's root.

# --- Toolchain and cargo-chef ---------------------------------------------------------------
# The rust slim image ships gcc and libc6-dev, which is all aws-lc-sys (the crypto under
# rustls and jsonwebtoken) needs to build its C code on Linux: no cmake, no clang.
FROM rust:1.95.0-slim-bookworm@sha256:d7482085ff5b415f84dba5647ae71606650bdef00db7aeb69f4b3d170c3e4082 AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /app

# --- Dependency recipe: changes only when a Cargo.toml or Cargo.lock does -------------------
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# --- Build ----------------------------------------------------------------------------------
FROM chef AS builder
# Empty: the default features, sandbox and demo included. `--no-default-features`: the
# service alone, for production.
ARG CARGO_FEATURES=""
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json --bin order-metafields $CARGO_FEATURES
COPY . .
RUN cargo build --release --locked --bin order-metafields $CARGO_FEATURES

# --- Runtime --------------------------------------------------------------------------------
FROM debian:bookworm-slim@sha256:d5d3f9c23164ea16f31852f95bd5959aad1c5e854332fe00f7b3a20fcc9f635c AS runtime
# CA certificates: the Management API is reached over TLS and rustls trusts the system
# store. Nothing else is added.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 order-metafields \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin order-metafields
COPY --from=builder /app/target/release/order-metafields /usr/local/bin/order-metafields
# Listen on every interface inside the container; publish the port and put TLS in front.
ENV LISTEN_ADDR=0.0.0.0:8080
EXPOSE 8080
USER 10001:10001
# `healthcheck` asks GET /healthz on LISTEN_ADDR (over loopback) and exits 0 or 1. It reads
# the same configuration as `serve`, so it sees the same LISTEN_ADDR. A demo container has no
# BC_* settings: run it with --health-cmd "order-metafields healthcheck --address 127.0.0.1:8080".
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/order-metafields", "healthcheck", "--timeout", "3s"]
ENTRYPOINT ["/usr/local/bin/order-metafields"]
CMD ["serve"]
