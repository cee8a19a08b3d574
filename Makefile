# vod-gateway: every set-up step is here, so a fresh machine needs only `make run` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-system test-fast lint schema graphiql browser-deps federation-deps client-deps bench soak fuzz clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: the gateway on the embedded VOD emulator (no cloud account needed) at http://$(HOST):$(PORT)/graphql
run: $(STAMP) graphiql
	$(BIN)/vod-gateway serve --emulator --host $(HOST) --port $(PORT)

## test: everything the tests need (Python deps, npm packages, Debian's chromium), lint, the suite but tests/system
test: $(STAMP) graphiql browser-deps federation-deps client-deps
	$(BIN)/ruff check gateway tests bench
	$(BIN)/ruff format --check gateway tests bench
	$(BIN)/mypy gateway
	$(BIN)/pytest -q -m "not system"

## test-system: the system tests (real gateway processes, JS gateways, Chromium, Redis servers); .ci/run runs it after `make test`
test-system: $(STAMP) graphiql browser-deps federation-deps client-deps
	$(BIN)/pytest -q -m system tests/system

## test-fast: the Python suite only, skipping browser and JS-gateway tests if their tools are absent
test-fast: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check gateway tests bench
	$(BIN)/ruff format --check gateway tests bench
	$(BIN)/mypy gateway

## schema: regenerate schema.graphql and schema.federation.graphql from the code
schema: $(STAMP)
	$(BIN)/vod-gateway export-schema > schema.graphql
	$(BIN)/vod-gateway export-schema --federation > schema.federation.graphql

## graphiql: bundle the self-hosted GraphiQL assets from the npm packages pinned in graphiql/
graphiql:
	bash graphiql/build.sh

browser-deps:
	command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	cd tests/system/browser && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; }
	cd examples/progress-page && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; }

federation-deps:
	if [ -f tests/system/federation/package-lock.json ]; then cd tests/system/federation && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; }; fi

## client-deps: the client libraries' tests: npm packages, and Python's gql in a venv of its own
client-deps:
	cd tests/clients && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; }
	cd tests/clients/python && { [ .venv/.installed -nt requirements.txt ] || { $(PYTHON) -m venv .venv && .venv/bin/pip install --quiet -r requirements.txt && touch .venv/.installed; }; }

## bench: throughput at the account limit, the gateway's own CPU cost per list size next to the raw floor (prints tables)
bench: $(STAMP)
	command -v wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.callbacks
	$(BIN)/python -m bench.response_cache
	$(BIN)/python -m bench.cpu --gc
	$(BIN)/python -m bench.subscriptions
	$(BIN)/python -m bench.subscriptions --malloc

## fuzz: a longer generated-operation run (FUZZ_EXAMPLES=20000 by default; the suite runs 2,000)
FUZZ_EXAMPLES ?= 20000
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -s -m fuzz -o timeout=0 tests/integration/test_fuzz.py

## soak: a long run against a faulty upstream: memory, open connections, typed errors, recovery
soak: $(STAMP)
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

clean:
	rm -rf $(VENV) graphiql/node_modules tests/system/browser/node_modules tests/system/federation/node_modules tests/clients/node_modules tests/clients/python/.venv examples/progress-page/node_modules gateway/static/graphiql
