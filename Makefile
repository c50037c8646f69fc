# Safeguarding Review Orchestrator: one-command local system and checks.
#
#   make run         the Temporal dev server, the worker and the web console (Ctrl-C stops all); state in ./data
#   make test        lint, format check, type check and every test (CI runs this: .ci/run)
#   make reliability every fault test at RELIABILITY.md's counts (50 cases each: long)
#   make clock-matrix the date- and time-dependent tests under every frozen clock (tests/clock.py)
#   make lint        ruff check, ruff format --check, mypy, import-linter (the layers)
#   make format      apply ruff's formatting and safe fixes
#   make clean       remove the virtualenv and caches (keeps ./data)
#   make clean-data  remove ./data: the local Temporal database, logs and outbox
#
# The virtualenv (.venv) is created on first use and reinstalled only when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run test reliability clock-matrix lint format clean clean-data

# `make reliability`: the published figures' counts (override: make reliability RELIABILITY_CASES=5).
RELIABILITY_CASES ?= 50
RELIABILITY_OUTAGE ?= 10

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m starter.devstack

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

reliability: $(STAMP)
	RELIABILITY_FULL=1 RELIABILITY_CASES=$(RELIABILITY_CASES) RELIABILITY_OUTAGE=$(RELIABILITY_OUTAGE) \
		$(BIN)/pytest -p no:xdist --timeout=3600 tests/reliability/test_faults.py -m integration -v -s

clock-matrix: $(STAMP)
	SRO_CLOCK_MATRIX=full $(BIN)/pytest -p no:xdist --timeout=3600 tests/test_clock_matrix.py -v

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

clean-data:
	@echo "Removing ./data (the local Temporal database, logs and outbox)"
	rm -rf data
