# Specialistly: `make run` serves the app locally, `make test` runs every test.
# Both install what they need on a machine that has only rustup, cargo and node.

SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

BINARYEN_VERSION := 132.0.0
SCHEMATHESIS_VERSION := 4.32.5
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
TOOLS_BIN := $(CURDIR)/.tools/node_modules/.bin
export PATH := $(HOME)/.cargo/bin:$(TOOLS_BIN):$(PATH)

# Installs Debian packages ($(1)); refreshes the package lists only when the first try fails.
apt_install = export DEBIAN_FRONTEND=noninteractive; \
  apt-get install -y --no-install-recommends $(1) >/dev/null 2>&1 || \
  { apt-get update >/dev/null && apt-get install -y --no-install-recommends $(1) >/dev/null; }

.PHONY: run test tools release-tools test-deps cluster check release bench bench-scale cold-start clean-data

## run: build and serve http://127.0.0.1:3000 (embedded SurrealKV in ./data, demo data, simulated Zoom, mail in data/mail)
run: tools
	cargo xtask serve

## tools: the wasm target (the site's build tool is the workspace's own xtask, built by cargo)
tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

## release-tools: wasm-opt (npm package binaryen) for optimised bundles
release-tools: tools
	@[ -x "$(TOOLS_BIN)/wasm-opt" ] || npm install --prefix .tools --no-audit --no-fund --silent binaryen@$(BINARYEN_VERSION)

## test-deps: Debian chromium (no emoji font: the pages must not need one), Debian nginx, the SMTP test server (aiosmtpd), the Standard Webhooks reference library, schemathesis and the end2end npm packages
test-deps:
	@{ command -v chromium && command -v nginx; } >/dev/null || \
	  { $(call apt_install,chromium nginx); }
	@python3 -c 'import aiosmtpd, standardwebhooks, schemathesis' 2>/dev/null || \
	  python3 -m pip install --quiet aiosmtpd standardwebhooks schemathesis==$(SCHEMATHESIS_VERSION)
	@cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent

## test: cargo unit + integration tests on mem://, the API suite again on a SurrealDB server
## over ws:// (the app's own `specialistly db-server`), the cluster check, the API contract
## test (schemathesis against the served OpenAPI document), then the browser suite
## against a fresh server on mem://. The test dependencies install, and the wasm site builds,
## while the tests compile.
test: tools
	@stage() { local name=$$1; shift; local t0=$$(date +%s); echo "==> $$name"; "$$@"; echo "==> $$name took $$(( $$(date +%s) - t0 )) s"; }
	.ci/module-cycles
	mkdir -p "$(TARGET_DIR)"
	$(MAKE) --no-print-directory test-deps > "$(TARGET_DIR)/test-deps.log" 2>&1 &
	deps=$$!; deps_t0=$$(date +%s)
	compile() {
	  cargo build --quiet -p xtask
	  "$(TARGET_DIR)/debug/xtask" build --site-only & local site=$$!
	  cargo test --features db-server --no-run
	  wait $$site
	}
	stage "compile (tests, server, wasm site)" compile
	wait $$deps || { cat "$(TARGET_DIR)/test-deps.log"; echo "test dependencies failed"; exit 1; }
	echo "==> test dependencies (installed meanwhile) took $$(( $$(date +%s) - deps_t0 )) s"
	stage "cargo test" cargo test --features db-server --no-fail-fast
	# The outage and two-instance tests always run on a server; the rest now does too.
	stage "API tests on a SurrealDB server (ws://)" env SPECIALISTLY_TEST_DATABASE=ws \
	  cargo test --features db-server --test api -- --skip server_outage:: --skip two_instances::
	stage "make cluster check (nginx + 2 instances + SurrealDB server)" env TARGET_DIR="$(TARGET_DIR)" SERVER_BIN="$(TARGET_DIR)/debug/specialistly" cluster/smoke.sh
	stage "API contract (schemathesis against /api/openapi.json)" env SERVER_BIN="$(TARGET_DIR)/debug/specialistly" SITE_ROOT="$(TARGET_DIR)/site" \
	  tests/contract/run.sh
	rm -rf end2end/.mail end2end/.data end2end/test-results
	e2e() {
	  env SERVER_BIN="$(TARGET_DIR)/debug/specialistly" SITE_ROOT="$(TARGET_DIR)/site" \
	    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 end2end/node_modules/.bin/playwright test --config end2end/playwright.config.ts \
	    2>&1 | tee "$(TARGET_DIR)/end2end.log" || { node end2end/report-failures.mjs "$(TARGET_DIR)/end2end.log"; return 1; }
	}
	stage "end2end (Playwright + chromium)" e2e

## cluster: a SurrealDB server (./data/cluster), two app instances and nginx round-robin on http://127.0.0.1:3000
cluster: tools
	@command -v nginx >/dev/null || { $(call apt_install,nginx); }
	cargo xtask build --db-server
	TARGET_DIR="$(TARGET_DIR)" cluster/run.sh

## check: formatting and lints
check:
	cargo fmt --all -- --check
	.ci/shared-features
	.ci/module-cycles
	cargo clippy --features db-server --all-targets -- -D warnings
	cargo clippy -p xtask -- -D warnings
	cargo clippy --lib --no-default-features --features hydrate --target wasm32-unknown-unknown \
	  --target-dir "$(TARGET_DIR)/front" -- -D warnings

## release: optimised server and wasm bundle (uses wasm-opt)
release: release-tools
	cargo xtask build --release --precompress

# The release server and the bench in one cargo run: built apart (the server by xtask), their
# dependencies were compiled twice, SurrealDB included (as long again as the server's build).
BENCH_BUILD := RUSTFLAGS= cargo build --release --no-default-features --features db-server --bin specialistly --bin specialistly-bench

## bench: release build (assets precompressed), then load, memory and first-load figures of the
## server on SurrealKV against the raw booking transaction; prints a table and writes bench/results.md
bench: release-tools
	cargo xtask build --release --precompress --site-only
	$(BENCH_BUILD)
	"$(TARGET_DIR)/release/specialistly-bench"

## bench-scale: booking with one and two app instances on a SurrealDB server and on embedded
## SurrealKV, in one run; prints a table and writes bench/scale-out.md
bench-scale: release-tools
	cargo xtask build --release --precompress --site-only
	$(BENCH_BUILD)
	"$(TARGET_DIR)/release/specialistly-bench" scale

## cold-start: a fresh clone with an empty cargo home and target directory: `make run` until the
## page answers, then `.ci/run`; prints the stage times (about half an hour on 2 cores)
cold-start:
	.ci/cold-start

## clean-data: forget the local database, mail and JWT secret
clean-data:
	rm -rf data
