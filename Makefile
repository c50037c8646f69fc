# Safeguarding Review Orchestrator: one-command local system and checks.
#
#   make run         the Temporal dev server, the worker and the web console (Ctrl-C stops all); state in ./data
#   make test        lint, format check, type check and every test (CI runs this: .ci/run)
#   make lint        ruff check, ruff format --check, mypy
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
.PHONY: help install run test lint format clean clean-data

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

test: lint
	$(BIN)/pytest

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

clean-data:
	@echo "Removing ./data (the local Temporal database, logs and outbox)"
	rm -rf data
