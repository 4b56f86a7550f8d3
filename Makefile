# Everything runs from a project-local virtual environment built from the locked requirements.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
PORT   ?= 3333
URL    ?= http://127.0.0.1:$(PORT)
# The MCP conformance suite and the Node 22 it needs, from the npm registry (conformance/package-lock.json).
SUITE  := conformance/node_modules/.installed-$(shell cksum < conformance/package-lock.json | cut -d' ' -f1)
# The MCP App's host side (AppBridge from @modelcontextprotocol/ext-apps, apphost/package-lock.json),
# bundled for the view's preview page and its browser tests.
APPHOST_DEPS := apphost/node_modules/.installed-$(shell cksum < apphost/package-lock.json | cut -d' ' -f1)
APPHOST := build/apphost/preview.js
# Named, not discovered from .git, so the gate also runs in an exported tree.
WORKFLOW_FILES := $(wildcard .github/workflows/*.yml .github/actions/*/action.yml) .github/dependabot.yml

# Headless Chromium for the consent page's browser tests (tests/test_sign_in_browser.py), and curl for
# the README's commands as tests/test_docs.py runs them, from Debian's packages.
CHROMIUM ?= /usr/bin/chromium
SUDO   := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: install test lint typecheck unit conformance browser app-host dev smoke token github-app audit bench bench-record lock clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found " + sys.version.split()[0] + "); set PYTHON=python3.11")'
	@echo "== installing the locked requirements into $(VENV) (the first time: about a minute, quietly)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.txt -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

## Every check CI runs: lint, format, types, the MCP conformance suite, then the test suite.
test: lint typecheck conformance unit

lint: install
	@echo "== ruff: lint and format (fix with: $(BIN)/ruff check --fix . && $(BIN)/ruff format .)"
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@echo "== jactionlint: workflows, composite action, dependabot.yml (rules: .github/jactionlint.yaml)"
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/jactionlint --no-hints -c .github/jactionlint.yaml $(WORKFLOW_FILES)

## The same check Pulumi.yaml's typechecker runs before every `pulumi preview` and `pulumi up`.
typecheck: install
	@echo "== mypy --strict: the program, the function, the tools and the tests"
	$(BIN)/python -m mypy .

unit: install browser $(APPHOST)
	@echo "== pytest"
	$(BIN)/pytest -n 2

browser:
	@test -x $(CHROMIUM) && command -v curl >/dev/null || { echo "== installing Debian's chromium and curl for the browser and README tests (once; a minute or two)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium curl >/dev/null; }

## The MCP App's host, as web assistants run it, for /app-preview and the view's browser tests.
app-host: $(APPHOST)

$(APPHOST): $(APPHOST_DEPS) apphost/host.js apphost/preview.js
	apphost/node_modules/.bin/esbuild apphost/preview.js --bundle --minify --format=iife --target=es2022 --log-level=warning --outfile=$@

$(APPHOST_DEPS): apphost/package.json apphost/package-lock.json
	cd apphost && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## The MCP conformance suite against the local server, both protocol eras (expected failures: conformance/).
conformance: install $(SUITE)
	@echo "== MCP conformance suite (@modelcontextprotocol/conformance, pinned in conformance/package.json)"
	$(BIN)/python -m tools.conformance

$(SUITE): conformance/package.json conformance/package-lock.json
	cd conformance && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Serve the plugin locally (same files, same handler) at http://127.0.0.1:$(PORT).
## GITHUB_TOKEN and GITHUB_API_URL pass through; FAKE=1 answers from a built-in fake GitHub (offline);
## AUTH=1 puts sign-in with GitHub in front of /mcp and /api (with FAKE=1, the fake GitHub signs you in);
## LIKE_AWS=1 sends headers as a deployed stack does (API Gateway's renaming, the edge function's repair);
## SCOPE="org:acme repo:other/tool" fences it as searchScope does a stack; PRIVATE=1 (with AUTH=1) lets
## people read their private repositories through a GitHub App (with FAKE=1, the fake's).
## /app-preview shows the MCP App's view as an assistant does (its host is built here when npm is there).
dev: install
	@command -v npm >/dev/null && $(MAKE) -s $(APPHOST) || echo "(no npm here: /app-preview stays off; the rest runs)"
	PORT=$(PORT) AUDIT_LOG_FILE=build/audit.jsonl $(if $(SCOPE),SEARCH_SCOPE="$(SCOPE)") $(BIN)/python -m tools.local_server $(if $(FAKE),--fake-github) $(if $(AUTH),--auth) $(if $(PRIVATE),--private) \
	  $(if $(LIKE_AWS),--like-aws$(if $(filter unrepaired,$(LIKE_AWS)),=unrepaired))

## Check a deployment or the local server: make smoke URL=$$(pulumi stack output url) [TOKEN=<access token>]
smoke: install
	@$(if $(and $(filter command line,$(origin TOKEN)),$(if $(TOKEN),,empty)),\
	  echo "smoke test not run: TOKEN= is empty (make token could not get one; its reason is above)" >&2; exit 2)
	@echo "$(BIN)/python -m tools.smoke $(URL)"
	@SMOKE_TOKEN="$(TOKEN)" $(BIN)/python -m tools.smoke $(URL)

## With sign-in on: sign in as a client would and print an access token: make token URL=$$(pulumi stack output url)
## (FAKE=1: a local server with the fake GitHub; the consent page is approved for you, no browser)
token: install
	@$(BIN)/python -m tools.get_token $(URL) $(if $(FAKE),--fake-github)

## Create the stack's GitHub App (private repositories) and set its id and secret as stack config:
## make github-app URL=$$(pulumi stack output url) [ORG=my-org] [ORGS=1: with authAllowedOrgs] [GITHUB=https://ghes.host]
## (FAKE=1: the whole flow offline against the built-in fake GitHub; prints the config it would set)
github-app: install
	$(BIN)/python -m tools.github_app $(URL) $(if $(ORG),--org $(ORG)) $(if $(ORGS),--orgs) $(if $(GITHUB),--github $(GITHUB)) \
	  $(if $(FAKE),--fake-github)

## Who read which private repository: make audit [STACK=prod] [SINCE=7d] [PERSON=login] [REGION=...]
## (no STACK: the local server's records in build/audit.jsonl; with it, the stack's saved query, your AWS credentials)
audit: install
	@$(BIN)/python -m tools.audit $(if $(STACK),--stack $(STACK)) --since $(or $(SINCE),7d) $(if $(PERSON),--person $(PERSON)) $(if $(REGION),--region $(REGION))

## Benchmarks as ratios against floors measured in the same run; writes build/bench-results.json
## (ignored by git) and names any figure over its target.
bench: install
	$(BIN)/python -m bench.bench

## The same, recorded into bench/results.json (tracked): the figures docs/performance.md cites.
bench-record: install
	$(BIN)/python -m bench.bench --out bench/results.json

## Re-pin requirements*.txt after editing requirements*.in.
lock: install
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.txt requirements.in
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links -o requirements-dev.txt requirements-dev.in

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache .hypothesis conformance/node_modules apphost/node_modules
