# The two commands that matter: `make run` and `make test`. Both build .venv/ first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup run test lint typecheck unit bench clean system-deps

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "quantdesk needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "python3 -m venv failed: install the venv module (Debian: apt-get install python3-venv)"; exit 1; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/quantdesk db upgrade
	$(BIN)/quantdesk doctor
	$(BIN)/quantdesk paper

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: setup
	$(BIN)/mypy

# Two tests drive Debian packages: the dashboard test needs `chromium` (Playwright's own
# download does not work here) and the scrape test needs `prometheus`. They are installed
# when missing and possible (root + apt); otherwise those tests skip (and fail in CI).
SYSTEM_PACKAGES := chromium prometheus
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get install -y -q $$missing >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $$missing >/dev/null 2>&1; } || \
	    echo "could not install$$missing: those tests will skip"; \
	  else echo "missing$$missing (needs root + apt): those tests will skip"; fi; \
	fi

test: lint typecheck system-deps
	@$(BIN)/pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: refusing to call that a pass"; exit 1; fi; \
	exit $$rc

unit: setup
	$(BIN)/pytest tests/unit -q

bench: setup
	$(BIN)/python benchmarks/engine.py


clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
