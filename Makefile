# The two front-door commands: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
export NEXT_TELEMETRY_DISABLED := 1

PYTHON ?= python3
VENV := backend/.venv
BIN := $(VENV)/bin
# The Python set is locked (backend/uv.lock, exported with hashes to requirements.txt and requirements-dev.txt; `make lock`):
# `make run` installs what running needs, everything else the test set, a superset at the same
# versions. Reinstall only when a lock or the package changes.
RUN_LOCK := requirements.txt
TEST_LOCK := requirements-dev.txt
PY_RUN_STAMP := $(VENV)/.run-$(shell cat $(RUN_LOCK) backend/pyproject.toml | cksum | cut -d' ' -f1)
PY_STAMP := $(VENV)/.test-$(shell cat $(TEST_LOCK) backend/pyproject.toml | cksum | cut -d' ' -f1)
NPM_STAMP := frontend/node_modules/.installed-$(shell cksum < frontend/package-lock.json | cut -d' ' -f1)
FRONTEND_BUILD := frontend/.next/BUILD_ID
FRONTEND_SOURCES := $(shell find frontend/src -type f) $(wildcard frontend/*.ts frontend/*.mjs frontend/*.json)
# better-sqlite3 compiles against Node's headers; where Debian ships them, use them rather than
# letting node-gyp download a copy.
NODE_HEADERS := $(if $(wildcard /usr/include/node/node.h),npm_config_nodedir=/usr,)

.PHONY: help umask-check run test lock lint test-backend test-frontend test-e2e configure migrate clean bench soak

help:
	@echo "make run    install, build and start the app on http://localhost:3000 (API on :8000; WEB_PORT, API_PORT, LISTEN_HOST, LOG_REQUESTS: see README)"
	@echo "make test   lint, type-check and run every test, browser suite included"

# Exactly the locked versions (--require-hashes: nothing unpinned, nothing altered; --only-binary:
# a wheel or nothing, never a source build whose build tools no lock pins), then the
# package itself with no dependencies of its own to resolve and no build tools fetched.
define install_locked
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (PYTHON=$(PYTHON))")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps --only-binary :all: -r $(1)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e ./backend
	@# A requirement that the lock does not satisfy (a stale lock after editing pyproject.toml)
	@# fails here, before anything runs on it.
	$(BIN)/python -m pip check
endef

$(PY_RUN_STAMP): $(RUN_LOCK) backend/pyproject.toml
	$(call install_locked,$(RUN_LOCK))
	@rm -f $(VENV)/.run-* && touch $@

$(PY_STAMP): $(TEST_LOCK) backend/pyproject.toml
	$(call install_locked,$(TEST_LOCK))
	@rm -f $(VENV)/.run-* $(VENV)/.test-* && touch $@ $(PY_RUN_STAMP)

$(NPM_STAMP): frontend/package-lock.json
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<9)) { console.error("Node 20.9+ is needed"); process.exit(1) }'
	cd frontend && $(NODE_HEADERS) npm ci --no-audit --no-fund
	@rm -f frontend/node_modules/.installed-* && touch $@

# The build holds no secret: server code reads its settings when it runs. Better Auth wants a
# secret (and opens its database) even when only imported, so the build gets throwaway ones.
$(FRONTEND_BUILD): $(NPM_STAMP) $(FRONTEND_SOURCES)
	cd frontend && BETTER_AUTH_SECRET=build-time-only-$$RANDOM-not-used-when-running \
	  AUTH_DATABASE_URL=sqlite:.next/build-only.db npm run build

configure:
	@$(PYTHON) scripts/configure.py

migrate: $(PY_RUN_STAMP) $(NPM_STAMP) configure
	cd backend && .venv/bin/taskapi migrate
	cd frontend && npx tsx scripts/migrate.ts

# The ports are checked before the databases are migrated: a second `make run` beside a first
# one stops there, having changed nothing.
run: umask-check $(PY_RUN_STAMP) $(NPM_STAMP) $(FRONTEND_BUILD)
	@$(BIN)/python scripts/run.py --check-ports
	@$(MAKE) --no-print-directory migrate
	@$(BIN)/python scripts/run.py

lint: $(PY_STAMP)
	$(BIN)/ruff format --check backend/src backend/tests e2e scripts bench
	$(BIN)/ruff check backend/src backend/tests e2e scripts bench
	cd backend && .venv/bin/mypy
	$(BIN)/mypy --config-file backend/pyproject.toml e2e scripts

# SQLite always; PostgreSQL as well when TEST_DATABASE_URL names a server (each run makes and
# drops its own databases there). The two passes run side by side; logs in test-output/. The
# PostgreSQL pass runs the tests that reach that server (backend/tests/conftest.py,
# runs_on_postgres: through the one fixture that reads the variable, or marked `postgresql`, the
# PgBouncer test among them); the others (SQLite's own locks and file modes, the CLI's messages,
# pure functions) would run the same code twice, and are deselected with a count.
test-backend: $(PY_STAMP)
	$(BIN)/python scripts/test_backend.py

test-frontend: $(NPM_STAMP)
	cd frontend && npx tsc --noEmit
	cd frontend && npx eslint --max-warnings 0 .

# The whole system in Debian's Chromium (CHROMIUM=/path overrides /usr/bin/chromium), on SQLite;
# then, when TEST_DATABASE_URL names a PostgreSQL server, again with both databases (the task
# API's and Better Auth's) on it (e2e/conftest.py makes and drops them). Only this suite reads
# TEST_DATABASE_URL, so the PostgreSQL pass runs the tests that make a database there (a whole
# system, the revocation stack, or marked `postgresql`); the others (make run's scripts, the
# servers' settings refused at start, the stand-in task API's tests) would run the same code on
# the same SQLite files twice, and are deselected with a count (e2e/conftest.py,
# DATABASE_FIXTURES; a test that makes a database otherwise fails in either pass). The two
# passes run side by side, as the backend's do (scripts/test_e2e.py; logs in test-output/).
test-e2e: $(PY_STAMP) $(FRONTEND_BUILD)
	$(BIN)/python scripts/test_e2e.py

# The stages run side by side, each one's output printed whole when it ends (-O): most of the suite
# is a test waiting on a server it started, so on two cores the frontend's install, build, checks
# and browser suite fit beside the two backend passes instead of after them.
test: umask-check
	@$(MAKE) --no-print-directory -j4 -O lint test-backend test-frontend test-e2e
	@echo "make test: every stage passed (lint, backend, frontend, browser); logs in test-output/"

# What `make` installs and builds (.venv, node_modules, .next) is code that later runs with the
# secrets: under a umask that lets other accounts write files (umask 000, 001, 004, 005), any
# local account could plant code there. Refused before anything is installed.
umask-check:
	@case "$$(umask)" in *[0145]) \
	  echo "umask $$(umask) would let every local account write the code make installs, which runs with your secrets: run 'umask 022' and try again" >&2; \
	  exit 1;; esac

# backend/uv.lock is the Python lock (also exported as pylock.toml, PEP 751's standard form): every requirement of backend/pyproject.toml (its extras dev
# and e2e, its build group), resolved for every platform and Python 3.11+. requirements.txt and
# requirements-dev.txt are exported from it (hashed pins pip installs with no uv present); a
# test checks that they still match it. Existing pins are kept where the requirements allow them;
# UPGRADE=fastapi (space-separated names) moves those packages to their newest allowed versions,
# UPGRADE=all moves everything. Commit the three once `make test` passes on them.
UPGRADE ?=
UPGRADE_FLAGS := $(if $(filter all,$(UPGRADE)),--upgrade,$(foreach p,$(UPGRADE),--upgrade-package $(p)))
EXPORT := .venv/bin/uv export --quiet --frozen --no-emit-project --format requirements-txt --group build
lock: $(PY_STAMP)
	cd backend && .venv/bin/uv lock --quiet $(UPGRADE_FLAGS)
	cd backend && $(EXPORT) --extra dev --extra e2e -o ../$(TEST_LOCK)
	cd backend && $(EXPORT) -o ../$(RUN_LOCK)
	cd backend && $(EXPORT:requirements-txt=pylock.toml) --extra dev --extra e2e -o ../pylock.toml

clean:
	rm -rf $(VENV) frontend/node_modules frontend/.next test-output

# wrk load against the real service and a bare ASGI app (PostgreSQL too with BENCH_DATABASE_URL),
# and the task list through the built web app's origin beside the direct one.
bench: $(PY_STAMP) $(FRONTEND_BUILD)
	$(BIN)/python bench/run.py

# Mixed load at half capacity for 10 minutes (SOAK_SECONDS to change): errors and memory growth.
soak: $(PY_STAMP)
	$(BIN)/python bench/soak.py
