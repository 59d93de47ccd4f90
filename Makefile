# Tailorwise: `make run` serves a demo, `make test` runs the whole suite (SQLite and PostgreSQL).
# python3 is the newest of .python-version's interpreters where pyenv is in use (3.13 traces coverage
# through sys.monitoring at a fraction of 3.11's cost); any Python 3.11+ works.
PYTHON ?= python3
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(PYTHON_VERSION)
# The share of service/ and recommender/ lines the suite must run; raised as coverage grows.
COVERAGE_FLOOR := 88
# axe-core's browser bundle for the dashboard's accessibility test, from npm into an ignored folder.
AXE := .cache/axe/node_modules/axe-core/axe.min.js
AXE_VERSION := 4.14.1

.PHONY: install run test lint bench browser screenshot

# A venv of another Python than $(PYTHON)'s is made again.
$(STAMP): pyproject.toml
	@$(BIN)/python -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] != "$(PYTHON_VERSION)")' 2>/dev/null \
		|| $(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/tailorwise migrate
	$(BIN)/tailorwise demo
	$(BIN)/tailorwise serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy service recommender migrations bench
	$(BIN)/lint-imports
	$(BIN)/python .ci/house_rules.py

browser:
	@test -x /usr/bin/chromium || echo "Chromium is missing (apt-get install chromium): browser tests will skip"
	@test -f $(AXE) || command -v npm >/dev/null || echo "npm is missing: the accessibility test will skip"
	@test -f $(AXE) || ! command -v npm >/dev/null || \
		npm install --silent --prefix .cache/axe --no-save --no-package-lock axe-core@$(AXE_VERSION)

screenshot: install
	$(BIN)/python -m bench.dashboard_screenshot

# Three processes share the suite file by file (each its own PostgreSQL schema; on two cores, a third
# fills the time the others wait on the database) and measure the coverage;
# schemathesis' generated cases do not run under xdist, so its conformance file runs after, in one
# process, unmeasured (measured, 64 s instead of 26 to 40 s, and the figure moved under a tenth of a point).
CONFORMANCE := tests/service/test_conformance.py
COV := --cov=service --cov=recommender --cov-report=term:skip-covered --cov-fail-under=$(COVERAGE_FLOOR)

test: lint browser
	$(BIN)/pytest -n 3 --dist loadfile $(COV) --ignore=$(CONFORMANCE)
	$(BIN)/pytest $(CONFORMANCE)

bench: install
	$(BIN)/python bench/ingest.py
