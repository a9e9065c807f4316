# commerce-gateway: `make run` and `make test` are the only commands a user needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TS_DIR := clients/typescript
TS_STAMP := $(TS_DIR)/node_modules/.installed-stamp
SEED_DIR := tests/bench/seed_stack
SEED_STAMP := $(SEED_DIR)/node_modules/.installed-stamp
PROTO_FILES := $(wildcard proto/commercegateway/v1/*.proto)
API_BASELINE := proto/releases/commercegateway-v1.binpb
GEN_DIR := clients/python

.PHONY: help install install-postgres install-chromium run test lint typecheck proto proto-check proto-lint \
        proto-breaking proto-release pytest test-ts screenshots bench clean

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

$(TS_STAMP): $(TS_DIR)/package.json $(TS_DIR)/package-lock.json
	cd $(TS_DIR) && npm ci --no-audit --no-fund
	@touch $(TS_STAMP)

$(SEED_STAMP): $(SEED_DIR)/package.json $(SEED_DIR)/package-lock.json
	cd $(SEED_DIR) && npm ci --no-audit --no-fund
	@touch $(SEED_STAMP)

install: $(STAMP) install-postgres install-chromium ## Create .venv and install the project, dev tools and test servers (idempotent).
	@if [ -f $(TS_DIR)/package.json ]; then $(MAKE) --no-print-directory $(TS_STAMP); fi
	@$(MAKE) --no-print-directory $(SEED_STAMP)

install-postgres: ## Install PostgreSQL server binaries from Debian when missing (needed by the tests).
	@bash scripts/ensure-postgres.sh

install-chromium: ## Install Debian's chromium and chromium-driver when missing (console browser tests).
	@bash scripts/ensure-chromium.sh >/dev/null

run: $(STAMP) ## Start core and bridge together on embedded defaults (SQLite, loopback).
	$(BIN)/commerce-gateway run

lint: $(STAMP) ## ruff over our own code.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP) ## mypy --strict over our own code and tests.
	$(BIN)/mypy

proto: $(STAMP) ## Regenerate the Python code from proto/.
	rm -f $(GEN_DIR)/commercegateway/v1/*_pb2*.py $(GEN_DIR)/commercegateway/v1/*_pb2*.pyi
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m grpc_tools.protoc -I proto \
	  --python_out=$(GEN_DIR) --mypy_out=quiet:$(GEN_DIR) \
	  --grpc_python_out=$(GEN_DIR) --mypy_grpc_out=quiet:$(GEN_DIR) $(PROTO_FILES)

proto-lint: $(STAMP) ## buf lint (STANDARD rules).
	$(BIN)/buf lint proto

proto-breaking: $(STAMP) ## buf breaking against the last released API image.
	$(BIN)/buf breaking proto --against $(API_BASELINE)

proto-release: $(STAMP) ## Record the current API as the released baseline (on purpose only).
	$(BIN)/buf build proto -o $(API_BASELINE)

proto-check: proto ## Fail when the committed generated code differs from proto/.
	@git diff --exit-code --stat -- $(GEN_DIR)/commercegateway/v1 || \
	  { echo "generated code is out of date: run 'make proto' and commit" >&2; exit 1; }
	@test -z "$$(git status --porcelain -- $(GEN_DIR)/commercegateway/v1)" || \
	  { echo "untracked generated files: run 'make proto' and commit" >&2; exit 1; }

pytest: install ## The Python test suites (unit, service, bridge, clients, end to end).
	$(BIN)/pytest

test-ts: install ## The TypeScript client's tests against a real core.
	@if [ -f $(TS_DIR)/package.json ]; then cd $(TS_DIR) && PATH="$(abspath $(BIN)):$$PATH" npm test; fi

test: install lint typecheck proto-lint proto-breaking proto-check pytest test-ts ## Everything CI runs.

screenshots: install ## Refresh the README's console screenshots (docs/console/*.png) from the browser tests.
	COMMERCE_GATEWAY_UPDATE_SCREENSHOTS=1 $(BIN)/pytest -q tests/console/test_browser.py

bench: $(STAMP) $(SEED_STAMP) ## Benchmarks: prints a table and writes bench-results.json.
	$(BIN)/python -m tests.bench

clean: ## Remove the virtualenv, caches and local data.
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .commerce-gateway $(TS_DIR)/node_modules $(SEED_DIR)/node_modules
