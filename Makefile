# The two commands that matter: `make run` and `make test`. Both build .venv/ first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup run test lint typecheck unit bench clean browser

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

# The browser test drives Debian's chromium (Playwright's own download does not work here):
# installed when missing and possible (root + apt), else that one test skips (fails in CI).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	{ [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -q chromium >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }; }; } || \
	echo "chromium is not installed and cannot be here: the dashboard browser test will skip"

test: lint typecheck browser
	@$(BIN)/pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: refusing to call that a pass"; exit 1; fi; \
	exit $$rc

unit: setup
	$(BIN)/pytest tests/unit -q

bench: setup
	$(BIN)/python benchmarks/engine.py


clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
