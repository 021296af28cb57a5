SWIFT ?= swift
PYTHON ?= python3

.PHONY: build test release help

## build: debug build (.build/debug/redis-manage)
build:
	$(SWIFT) build

## test: build, run the XCTest unit tests, then the Python tests under Tests/ if there are any
# --disable-swift-testing: the tests are XCTest; without it Swift Testing adds a
# misleading "0 tests" line. pytest runs only when Python tests exist, so its
# "no tests collected" status (5) is never mistaken for success once they do.
test: build
	$(SWIFT) test --disable-swift-testing
	@if find Tests -name 'test_*.py' -o -name '*_test.py' | grep -q .; then \
		echo "$(PYTHON) -m pytest -q Tests"; \
		$(PYTHON) -m pytest -q Tests; \
	else \
		echo "no Python tests under Tests/"; \
	fi

## release: optimised build with the Swift runtime linked in, for the image
release:
	$(SWIFT) build -c release --static-swift-stdlib

## help: list the targets
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)
