# syntax=docker/dockerfile:1
#
# order-metafields container image: the release binary on debian:bookworm-slim,
# running as a non-root user. Build and run:
#
#   docker build -t order-metafields .
#   docker run --rm -p 8080:8080 --env-file .env order-metafields
#
# Dependencies are compiled in their own layer (cargo-chef), so a change to the crate's
# own code rebuilds only the crate.

# --- Toolchain + cargo-chef ----------------------------------------------------------
# The rust slim image ships gcc and libc6-dev, which is all aws-lc-sys (the crypto under
# rustls and jsonwebtoken) needs to build its C code on Linux: no cmake, no clang.
FROM rust:1-slim-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /app

# --- Dependency recipe: changes only when Cargo.toml or Cargo.lock do ------------------
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# --- Build -----------------------------------------------------------------------------
FROM chef AS builder
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --bin order-metafields

# --- Runtime ---------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
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
ENTRYPOINT ["/usr/local/bin/order-metafields"]
CMD ["serve"]
