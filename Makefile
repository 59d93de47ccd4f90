# Tailorwise: `make run` serves a demo, `make test` runs the whole suite (SQLite and PostgreSQL).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The share of service/ and recommender/ lines the suite must run; raised as coverage grows.
COVERAGE_FLOOR := 88
# axe-core's browser bundle for the dashboard's accessibility test, from npm into an ignored folder.
AXE := .cache/axe/node_modules/axe-core/axe.min.js
AXE_VERSION := 4.14.1

.PHONY: install run test lint bench browser screenshot

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
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

# Two processes share the suite file by file (each its own PostgreSQL schema) and measure the coverage;
# schemathesis' generated cases do not run under xdist, so its conformance file runs after, in one
# process, unmeasured (measured, 64 s instead of 26 to 40 s, and the figure moved under a tenth of a point).
CONFORMANCE := tests/service/test_conformance.py
COV := --cov=service --cov=recommender --cov-report=term:skip-covered --cov-fail-under=$(COVERAGE_FLOOR)

test: lint browser
	$(BIN)/pytest -n 2 --dist loadfile $(COV) --ignore=$(CONFORMANCE)
	$(BIN)/pytest $(CONFORMANCE)

bench: install
	$(BIN)/python bench/ingest.py
