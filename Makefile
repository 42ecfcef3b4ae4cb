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

.PHONY: help setup dev test test-unit test-integration test-cdk lint format synth bench deploy destroy clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

setup: .venv/.synced tooling/node_modules/.installed .tools/.postgres ## install what is missing (idempotent)

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

dev: setup ## run the platform locally: PostgreSQL, ministack + the stack, demo seed, simulator (Ctrl-C stops all)
	.venv/bin/pulse dev $(DEV_ARGS)

test: setup ## run every suite: unit, integration (real PostgreSQL), CDK
	$(PY) -m pytest tests -q --cov --cov-report=term:skip-covered

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

deploy: setup ## deploy to the AWS account of your credentials (STAGE=dev|stage|prod)
	cdk deploy --all --require-approval never -c stage=$${STAGE:-dev}

destroy: setup ## remove the deployed stack (the database secret and data are retained)
	cdk destroy --all --force -c stage=$${STAGE:-dev}

clean: ## remove build output (keeps .venv and .pulse)
	rm -rf cdk.out .build .pytest_cache .mypy_cache .ruff_cache .coverage
