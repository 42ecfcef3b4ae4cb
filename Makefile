# Pulse: small targets that larger ones chain. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
UV := .tools/bin/uv
PY := .venv/bin/python
TOOLING_BIN := $(CURDIR)/tooling/node_modules/.bin
# jsii (aws-cdk-lib) needs Node >= 22; the pinned one in tooling/ comes first on PATH.
export PATH := $(TOOLING_BIN):$(CURDIR)/.venv/bin:$(PATH)
export DEBIAN_FRONTEND := noninteractive
# What the portal build is made from (frontend/dist is rebuilt when any of it changes).
FRONTEND_SOURCES := $(shell find frontend/src frontend/public -type f -not -name 'schema.d.ts' 2>/dev/null) \
	frontend/index.html frontend/package-lock.json frontend/vite.config.ts \
	$(wildcard frontend/tsconfig.json frontend/postcss.config.cjs) openapi/pulse-api.json

.PHONY: help setup dev test test-frontend test-unit test-integration test-cdk lint format synth bench deploy destroy clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

setup: .venv/.synced tooling/node_modules/.installed .tools/.postgres .tools/.chromium frontend/dist/index.html ## install what is missing, build the portal (idempotent)

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen
	@touch $@

tooling/node_modules/.installed: tooling/package.json tooling/package-lock.json
	npm ci --prefix tooling --no-audit --no-fund --loglevel=error
	@touch $@

# PostgreSQL server binaries (the test suite and `make dev` run their own cluster from them).
.tools/.postgres: | $(UV)
	@if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then \
	  sudo apt-get update -qq && sudo apt-get install -y -qq postgresql >/dev/null; \
	else echo "PostgreSQL server binaries are missing: install the 'postgresql' package" >&2; exit 1; fi
	@touch $@

# Chromium for the portal's browser tests (Debian's package, so no browser download at test time).
.tools/.chromium: | $(UV)
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then \
	  sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; \
	else echo "Chromium is missing (portal browser tests): install the 'chromium' package" >&2; exit 1; fi
	@touch $@

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json | tooling/node_modules/.installed
	npm ci --prefix frontend --no-audit --no-fund --loglevel=error
	@touch $@

# The portal the launcher serves and `cdk deploy` uploads; `npm run build` type-checks, then bundles.
frontend/dist/index.html: frontend/node_modules/.installed $(FRONTEND_SOURCES)
	npm --prefix frontend run build
	@touch $@

dev: setup frontend/dist/index.html ## run the platform locally: PostgreSQL, ministack + the stack, demo seed, simulator, portal on :8080 (Ctrl-C stops all)
	.venv/bin/pulse dev $(DEV_ARGS)

test: setup ## run every suite: portal (Vitest), then unit, integration (real PostgreSQL), CDK
	npm --prefix frontend run test
	$(PY) -m pytest tests -q --cov --cov-report=term:skip-covered

test-frontend: setup ## portal unit tests only (Vitest)
	npm --prefix frontend run test

test-unit: setup ## unit tests only
	$(PY) -m pytest tests/unit -q

test-integration: setup ## integration tests only
	$(PY) -m pytest tests/integration -q

test-cdk: setup ## CDK template, cdk-nag and cfn-lint tests
	$(PY) -m pytest tests/cdk -q

lint: setup ## ruff and mypy (strict on shared/pulse)
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy shared/pulse

format: setup ## apply ruff formatting and fixes
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

synth: setup ## synthesize the CloudFormation template into cdk.out/
	$(PY) cdk/app.py

bench: setup ## performance budgets, printed as BENCH lines (ours vs. a baseline, same run)
	$(PY) -m tests.bench

deploy: setup frontend/dist/index.html ## deploy to the AWS account of your credentials (STAGE=dev|stage|prod), portal included
	cdk deploy --all --require-approval never -c stage=$${STAGE:-dev}

destroy: setup ## remove the deployed stack (the database secret and data are retained)
	cdk destroy --all --force -c stage=$${STAGE:-dev}

clean: ## remove build output (keeps .venv and .pulse)
	rm -rf cdk.out .build .pytest_cache .mypy_cache .ruff_cache .coverage
