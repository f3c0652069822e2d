# Patchbay's build. Two commands matter (README.md): `make run` and `make test`.
# Both install what is missing first (.ci/setup, idempotent): `make run` only what building
# and running need, `make test` also Chromium and PostgreSQL.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
CARGO_TARGET_DIR ?= target
export CARGO_TARGET_DIR
PATCHBAY_SITE_ROOT ?= target/site
export PATCHBAY_SITE_ROOT

.PHONY: setup setup-run site site-release run test test-plain-build test-rust test-postgres test-e2e lint fmt budgets bench-ssr

setup:
	.ci/setup test

setup-run:
	.ci/setup run

site: setup
	.ci/build-site debug

site-release: setup-run
	.ci/build-site release

# Builds optimised, then serves the portal on SQLite (./data). Without PATCHBAY_ADMIN_EMAIL
# and PATCHBAY_ADMIN_PASSWORD it prints a one-time setup link for the first admin.
run: site-release
	cargo build -p server --release
	$(CARGO_TARGET_DIR)/release/patchbay serve

# Every test: unit and integration (SQLite), the same storage and account tests on a
# throwaway PostgreSQL cluster, the browser tests in Chromium, then the front end's budgets
# on the release site.
test: setup
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-plain-build
	$(MAKE) --no-print-directory test-rust
	$(MAKE) --no-print-directory test-postgres
	$(MAKE) --no-print-directory test-e2e
	$(MAKE) --no-print-directory budgets

# Each package as it is really built: `app` with `ssr` here (through `server`); its `hydrate`
# side is compiled by the site build and linted below.
test-rust:
	cargo test -p app -p server -p migrations

# Every server test: the PostgreSQL halves of `on_both_databases!` are the
# only ignored tests, so a new test file cannot be skipped here by omission.
# A plain `cargo build` at the root (what a Rust user types first) makes a server that starts.
test-plain-build:
	.ci/plain-build-smoke

test-postgres:
	.ci/with-postgres cargo test -p server --tests -- --ignored

test-e2e: site
	cargo build -p server
	cd e2e && PATCHBAY_BIN="$(abspath $(CARGO_TARGET_DIR))/debug/patchbay" \
	  PATCHBAY_SITE_ROOT="$(abspath $(PATCHBAY_SITE_ROOT))" npm test

# The front end's budgets (README "The front end's weight"): the release site's first visits.
budgets: setup
	.ci/budgets

# The server under wrk (README "The front end's weight"); needs Debian's wrk.
bench-ssr: site-release
	cargo build -p server --release
	cd e2e && PATCHBAY_BIN="$(abspath $(CARGO_TARGET_DIR))/release/patchbay" \
	  PATCHBAY_SITE_ROOT="$(abspath $(PATCHBAY_SITE_ROOT))" node bench-ssr.mjs

lint:
	cargo fmt --all -- --check
	cargo clippy -p app -p server -p migrations --all-targets -- -D warnings
	cargo clippy -p app -p frontend --features app/hydrate -- -D warnings

fmt:
	cargo fmt --all
