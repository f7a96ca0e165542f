# The set-up behind the README's two commands. Every target is idempotent:
# the stamps make a second run skip what is already installed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
WORKERS ?= 1
PYTEST_ARGS ?=

.PHONY: setup run test lint typecheck test-js test-py browser postgres compose-tool nginx wrk bench fuzz load cluster clean

# The clone serves frontend/ as it is (edit, reload); the bundle that the
# package carries is built here too, for `gradtrace export` and notebooks.
FRONTEND_SOURCES := frontend/index.html frontend/build.mjs frontend/vendor.json $(shell find frontend/js frontend/css -type f)

setup: $(VENV)/.installed frontend/node_modules/.installed frontend/dist/manifest.json

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	touch $@

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

frontend/dist/manifest.json: frontend/node_modules/.installed $(FRONTEND_SOURCES)
	cd frontend && npm run build --silent

run: setup
	$(BIN)/gradtrace serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

# Debian's Chromium for the browser tests, and Debian's docker-compose (v1)
# to validate docker-compose.yml; both only when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Debian's PostgreSQL for the lessons' tests (tests/postgres.py starts a server of
# their own in a temporary directory); only when missing.
postgres:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; }

compose-tool:
	@command -v docker-compose >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null; }

# Debian's nginx, the balancer in front of the replicas (deploy/nginx/); only when missing.
nginx:
	@test -x /usr/sbin/nginx || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null; }

# wrk (Debian) drives the service benchmark, and its short run in the tests; only when missing.
wrk:
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

lint: setup
	$(BIN)/ruff check

typecheck: setup
	$(BIN)/mypy

test-js: setup
	node --test tests/frontend/

test-py: setup browser postgres compose-tool nginx wrk
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck test-js test-py

bench: setup browser wrk
	$(BIN)/python -m bench.run_all

fuzz: setup
	GRADTRACE_FUZZ=large $(BIN)/pytest tests/fuzz -q

# The classroom load test: 100 students for 60 s against a server of its own on 127.0.0.1
# (bench/classroom.py; results in bench/results/classroom.json, figures in docs/load.md).
load: setup
	$(BIN)/python -m bench.classroom

# Three replicas behind nginx on 127.0.0.1 for 60 s, one of them killed halfway and started
# again (bench/cluster.py; figures in bench/results/cluster.json and docs/deploy.md).
cluster: setup nginx postgres
	$(BIN)/python -m bench.cluster --docs

clean:
	rm -rf $(VENV) frontend/node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis
