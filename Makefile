# Two commands: `make run` (app with demo data at http://localhost:3000) and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest
export PATH := $(CURDIR)/.tools/bin:$(PATH)
export REFLEX_TELEMETRY_ENABLED := false

.PHONY: audit-deps run serve test test-code test-browsers install install-dev bun chromium migrate seed test-unit test-integration test-postgres test-e2e test-e2e-scale lint bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

bun:
	@bash scripts/ensure_bun.sh

chromium:
	@bash scripts/ensure_chromium.sh

migrate: install
	$(VENV)/bin/portal check-config
	$(VENV)/bin/portal db upgrade
	$(VENV)/bin/portal codes load

seed: migrate
	$(VENV)/bin/portal seed

run: install bun seed
	@$(VENV)/bin/portal demo-banner
	$(VENV)/bin/reflex run --env prod --single-port

# Production: no demo data; refuses to start when check-config finds something missing.
serve: install bun migrate
	$(VENV)/bin/reflex run --env prod --single-port

test-unit: install-dev
	$(PYTEST) tests/unit -q -n 2 --durations=15

# Integration tests spread over the cores (pytest-xdist); on PostgreSQL each worker has its own database.
# --tb=native: CPython 3.11 can fail parsing source for pytest's own tracebacks while other threads run
# ("AST constructor recursion depth mismatch"), which aborts the whole run instead of reporting a failure.
XDIST ?= -n 2 --dist loadfile --tb=native --durations=25
test-integration: install-dev
	env -u PORTAL_TEST_DATABASE_URL $(PYTEST) tests/integration -q $(XDIST)

test-postgres: install-dev
	@if [ -n "$$PORTAL_TEST_DATABASE_URL" ]; then $(PYTEST) tests/integration -q $(XDIST); \
	else echo "PORTAL_TEST_DATABASE_URL not set: PostgreSQL run skipped"; fi

test-e2e: install-dev bun chromium
	env -u PORTAL_E2E_REDIS_URL $(PYTEST) tests/e2e -q -p no:asyncio --durations=25

# The browser tests marked scaled_out (tests/e2e/conftest.py) against the scaled-out topology: two app
# processes sharing UI state in Redis, PostgreSQL, S3 (moto). Needs PORTAL_E2E_REDIS_URL and PORTAL_TEST_DATABASE_URL.
test-e2e-scale: install-dev bun chromium
	@if [ -n "$$PORTAL_E2E_REDIS_URL" ]; then $(PYTEST) tests/e2e -q -p no:asyncio --durations=25; \
	else echo "PORTAL_E2E_REDIS_URL not set: scaled-out end-to-end run skipped"; fi

# Two streams side by side (the machine has 2 cores): the database suites are CPU-bound, the browser
# suites mostly wait on the browser and the app, so together they take little more than the longer one.
# Each stream keeps its own order; a failure in either fails `make test` (after the other finishes).
test: install-dev bun chromium
	$(MAKE) --no-print-directory -j2 --output-sync=recurse test-code test-browsers

# The database suites run at a lower CPU priority: when both streams want both cores, the app under
# test and Chromium go first, so a browser test is not kept waiting on a busy machine (CI runs on 2 cores
# lost clicks and timed out waits when they shared them evenly).
test-code:
	nice -n 10 $(MAKE) --no-print-directory -j1 audit-deps test-unit test-integration test-postgres

# Installed packages with a published vulnerability (PyPI's advisory data, through pip-audit) fail the
# run. Packages the index has no data for are listed as skipped, not failed.
audit-deps: install-dev
	$(PY) scripts/audit_deps.py

test-browsers:
	$(MAKE) --no-print-directory -j1 test-e2e test-e2e-scale

lint: install-dev
	$(VENV)/bin/ruff check .

bench: install-dev
	$(PY) bench/crypto.py
	$(PY) bench/documents.py
	$(PY) bench/search.py
	$(PY) bench/chart.py
	$(PY) bench/login.py

clean:
	rm -rf .web instance .pytest_cache
