# The two commands of README.md: `make run` and `make test`.
SWIFT ?= swift
CONFIG ?= config/gateway.yaml
# The example config reads its admin token from the environment; this is the local default.
export PORTICO_ADMIN_TOKEN ?= dev-admin-token-0123456789abcdef
# ... and the demo consumer's API key.
export PORTICO_DEMO_KEY ?= demo-key-0123456789abcdef

.PHONY: run test deps build bench format lint

deps:
	@scripts/install-deps.sh build

build: deps
	$(SWIFT) build --product portico

run: build
	.build/debug/portico serve --config $(CONFIG)

# The CLI tests, the browser tests (the portal; CORS and compression) and the admin and portal APIs' contract test
# (schemathesis) run the built binary, so it is built first.
# Screenshots of the browser tests go to $(PORTICO_ARTIFACTS), outside the repository.
export PORTICO_ARTIFACTS ?= /tmp/portico-artifacts
test: lint build
	@scripts/install-deps.sh test
	$(SWIFT) build --build-tests
	$(SWIFT) test
	python3 Tests/Portal/portal_browser_test.py
	python3 Tests/Edge/cors_browser_test.py
	python3 Tests/Contract/api_contract_test.py

bench: deps
	bench/proxy.sh

# The house style (.swift-format): `make format` rewrites, `make lint` (run by `make test`, so CI) checks.
# The generated servers (Sources/PorticoAdmin/Generated, Sources/PorticoDevPortal/Generated) are the generator's to format.
SWIFT_SOURCES = $(shell find Sources Tests -name '*.swift' -not -path '*/Generated/*')
format:
	@echo "swift-format format (Sources, Tests)"; swift-format format --in-place $(SWIFT_SOURCES)

lint:
	@echo "swift-format lint --strict (Sources, Tests)"; swift-format lint --strict $(SWIFT_SOURCES)
