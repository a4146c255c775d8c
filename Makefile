# The two front-door commands: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := backend/.venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat backend/pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: help run test lint test-backend clean

help:
	@echo "make run    install what is needed and start the API on http://127.0.0.1:8000"
	@echo "make test   lint, type-check and run every test"

# The virtualenv, rebuilt only when backend/pyproject.toml changes.
$(STAMP):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (PYTHON=$(PYTHON))")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e './backend[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

# A secret generated once and kept (never committed); the database is an SQLite file beside it.
backend/.env: | $(STAMP)
	@{ echo "# Written by 'make run'. See backend/.env.example for every setting."; \
	   echo "BETTER_AUTH_SECRET=$$($(BIN)/taskapi secret)"; \
	   echo "DATABASE_URL=sqlite:///taskapi.db"; } > $@
	@echo "wrote backend/.env with a new BETTER_AUTH_SECRET"

run: $(STAMP) backend/.env
	cd backend && .venv/bin/taskapi migrate
	@echo "API on http://127.0.0.1:8000 (docs at /docs). Try: cd backend && .venv/bin/taskapi token --sub me"
	cd backend && exec .venv/bin/taskapi serve

lint: $(STAMP)
	cd backend && .venv/bin/ruff format --check src tests
	cd backend && .venv/bin/ruff check src tests
	cd backend && .venv/bin/mypy

# SQLite always; PostgreSQL as well when TEST_DATABASE_URL names a server (each run makes and
# drops its own database there).
test-backend: $(STAMP)
	cd backend && env -u TEST_DATABASE_URL .venv/bin/pytest -q
	@if [ -n "$${TEST_DATABASE_URL:-}" ]; then \
	  echo "--- again on PostgreSQL ($${TEST_DATABASE_URL%%@*}@…)"; \
	  cd backend && .venv/bin/pytest -q; \
	else echo "--- TEST_DATABASE_URL not set: PostgreSQL run skipped"; fi

test: lint test-backend

clean:
	rm -rf $(VENV) backend/.mypy_cache backend/.ruff_cache backend/.pytest_cache
