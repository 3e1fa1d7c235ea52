# Specialistly: `make run` serves the app locally, `make test` runs every test.
# Both install what they need on a machine that has only rustup, cargo and node.

SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

CARGO_LEPTOS_VERSION := 0.3.10
BINARYEN_VERSION := 132.0.0
# cargo-leptos builds the dev server with RUSTFLAGS="--cfg erase_components"; cargo test and
# clippy use the same flags so all three share one build of the dependencies.
SERVER_RUSTFLAGS := --cfg erase_components
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
TOOLS_BIN := $(CURDIR)/.tools/node_modules/.bin
export PATH := $(HOME)/.cargo/bin:$(TOOLS_BIN):$(PATH)

SURREAL_BIN := $(TARGET_DIR)/release/surreal

# Installs Debian packages ($(1)); refreshes the package lists only when the first try fails.
apt_install = export DEBIAN_FRONTEND=noninteractive; \
  apt-get install -y --no-install-recommends $(1) >/dev/null 2>&1 || \
  { apt-get update >/dev/null && apt-get install -y --no-install-recommends $(1) >/dev/null; }

.PHONY: run test tools test-deps surreal cluster check release bench bench-scale clean-data

## run: build and serve http://127.0.0.1:3000 (embedded SurrealKV in ./data, demo data, simulated Zoom, mail in data/mail)
run: tools
	cargo leptos serve

## tools: the wasm target, cargo-leptos, wasm-bindgen (the version in Cargo.lock) and wasm-opt, each only if missing
tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@cargo leptos --version 2>/dev/null | grep -q "$(CARGO_LEPTOS_VERSION)" || cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked
	@want=$$(grep -A1 '^name = "wasm-bindgen"$$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p'); \
	  wasm-bindgen --version 2>/dev/null | grep -q " $$want" || cargo install wasm-bindgen-cli --version "$$want"
	@[ -x "$(TOOLS_BIN)/wasm-opt" ] || npm install --prefix .tools --no-audit --no-fund --silent binaryen@$(BINARYEN_VERSION)

## test-deps: Debian chromium (and an emoji font for the screenshots), Debian nginx, the SMTP test server (aiosmtpd) and the end2end npm packages
test-deps:
	@{ command -v chromium && command -v nginx && [ -d /usr/share/fonts/truetype/noto ]; } >/dev/null || \
	  { $(call apt_install,chromium fonts-noto-color-emoji nginx); }
	@python3 -c 'import aiosmtpd' 2>/dev/null || python3 -m pip install --quiet aiosmtpd
	@cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent

## surreal: the SurrealDB server (crates.io `surrealdb-server`, workspace member surreal/), optimised, built once
surreal:
	cargo build --release -p specialistly-surreal

## test: cargo unit + integration tests on mem://, the API suite again on a SurrealDB server
## over ws://, then the browser suite against a fresh server on mem://
test:
	@stage() { local name=$$1; shift; local t0=$$(date +%s); echo "==> $$name"; "$$@"; echo "==> $$name took $$(( $$(date +%s) - t0 )) s"; }
	stage "build tools" $(MAKE) --no-print-directory tools
	stage "test dependencies" $(MAKE) --no-print-directory test-deps
	stage "SurrealDB server" $(MAKE) --no-print-directory surreal
	export SPECIALISTLY_TEST_SURREAL="$(SURREAL_BIN)"
	stage "cargo test" env RUSTFLAGS="$(SERVER_RUSTFLAGS)" cargo test --features ssr --no-fail-fast
	# The outage and two-instance tests always run on a server; the rest now does too.
	stage "API tests on a SurrealDB server (ws://)" env SPECIALISTLY_TEST_DATABASE=ws RUSTFLAGS="$(SERVER_RUSTFLAGS)" \
	  cargo test --features ssr --test api -- --skip server_outage:: --skip two_instances::
	stage "cargo leptos build" cargo leptos build
	stage "make cluster check (nginx + 2 instances + SurrealDB server)" env TARGET_DIR="$(TARGET_DIR)" cluster/smoke.sh
	rm -rf end2end/.mail end2end/.data end2end/test-results
	stage "end2end (Playwright + chromium)" env SERVER_BIN="$(TARGET_DIR)/debug/specialistly" SITE_ROOT="$(TARGET_DIR)/site" \
	  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 end2end/node_modules/.bin/playwright test --config end2end/playwright.config.ts

## cluster: a SurrealDB server (./data/cluster), two app instances and nginx round-robin on http://127.0.0.1:3000
cluster: tools surreal
	@command -v nginx >/dev/null || { $(call apt_install,nginx); }
	cargo leptos build
	TARGET_DIR="$(TARGET_DIR)" cluster/run.sh

## check: formatting and lints
check:
	cargo fmt --all -- --check
	RUSTFLAGS="$(SERVER_RUSTFLAGS)" cargo clippy --features ssr --all-targets -- -D warnings
	RUSTFLAGS="$(SERVER_RUSTFLAGS)" cargo clippy -p specialistly-surreal -- -D warnings
	cargo clippy --lib --no-default-features --features hydrate --target wasm32-unknown-unknown \
	  --target-dir "$(TARGET_DIR)/front" -- -D warnings

## release: optimised server and wasm bundle (uses wasm-opt)
release: tools
	cargo leptos build --release --precompress

## bench: release build (assets precompressed), then load, memory and first-load figures of the
## server on SurrealKV against the raw booking transaction; prints a table and writes bench/results.md
bench: tools
	cargo leptos build --release --precompress
	LEPTOS_OUTPUT_NAME=specialistly cargo build --release --no-default-features --features ssr --bin specialistly-bench
	"$(TARGET_DIR)/release/specialistly-bench"

## bench-scale: booking with one and two app instances on a SurrealDB server and on embedded
## SurrealKV, in one run; prints a table and writes bench/scale-out.md
bench-scale: tools surreal
	cargo leptos build --release --precompress
	LEPTOS_OUTPUT_NAME=specialistly cargo build --release --no-default-features --features ssr --bin specialistly-bench
	"$(TARGET_DIR)/release/specialistly-bench" scale

## clean-data: forget the local database, mail and JWT secret
clean-data:
	rm -rf data
