# One command per action: make run | install | test | lint | bench | docs | lock | messages
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Exact versions and hashes of every Python dependency (dev tools included); `make lock`
# upgrades them on purpose. The runtime lock (same versions, no dev tools) is the image's.
LOCK := requirements.txt
RUNTIME_LOCK := requirements-runtime.txt
# `make lock LOCK_UPGRADE=` records a changed pyproject.toml without upgrading the rest.
LOCK_UPGRADE ?= --upgrade

.PHONY: run install test lint format bench docs clean web lock messages lighthouse
WEB_DEPS := web/node_modules/.installed
# The web apps' catalogues: JSON compiled from the gettext catalogues under locale/ (not
# committed; every install, test and run builds them when a PO file is newer).
PO_FILES := $(wildcard locale/*/LC_MESSAGES/*.po)
WEB_MESSAGES := web/staff/i18n/en.json

# System packages first: Debian's python3 cannot make the virtual environment without one.
$(BIN)/python:
	PYTHON=$(PYTHON) ./scripts/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml $(LOCK)
	$(BIN)/pip install -q --require-hashes -r $(LOCK)
	$(BIN)/pip install -q --no-deps -e .
	$(BIN)/pip check
	touch $@

lock: $(BIN)/python
	$(BIN)/pip install -q uv
	$(BIN)/uv pip compile -q pyproject.toml --extra dev $(LOCK_UPGRADE) \
		--universal --python-version 3.11 --generate-hashes -o $(LOCK)
	$(BIN)/uv pip compile -q pyproject.toml -c $(LOCK) \
		--universal --python-version 3.11 --generate-hashes -o $(RUNTIME_LOCK)

$(WEB_DEPS): web/package.json web/package-lock.json
	./scripts/web-deps.sh

$(WEB_MESSAGES): $(VENV)/.installed $(PO_FILES) api/core/i18n/catalogues.py
	$(BIN)/python -m api.core.i18n
	touch $@

web: $(WEB_DEPS) $(WEB_MESSAGES)

# Find every translatable string in Python and JavaScript and add new keys to every catalogue.
messages: $(VENV)/.installed
	$(BIN)/python scripts/messages.py
	$(BIN)/python -m api.core.i18n

install: $(VENV)/.installed $(WEB_DEPS) $(WEB_MESSAGES)
	./scripts/system-deps.sh
	$(BIN)/safewalk migrate
	$(BIN)/safewalk demo --host $(HOST) --port $(PORT)

run: install
	$(BIN)/safewalk serve --host $(HOST) --port $(PORT)

# Lighthouse scores of / and /app/ on a service already running (`make run` in another shell).
lighthouse:
	./scripts/lighthouse.sh http://$(HOST):$(PORT)

# One pytest-xdist worker per core, each with databases of its own (docs/testing.md).
TEST_WORKERS ?= auto
# Bytecode and pytest's rewritten test modules cached under build/, also where the environment
# sets PYTHONDONTWRITEBYTECODE: otherwise every worker, and every `safewalk serve` or CLI child
# the tests start, compiles api/ and rewrites tests/ again (docs/testing.md, Timings).
TEST_PYCACHE ?= $(CURDIR)/build/pycache
test: $(VENV)/.installed $(WEB_DEPS) $(WEB_MESSAGES)
	env -u PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX=$(TEST_PYCACHE) \
		$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup --durations=20

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.installed
	$(BIN)/python bench/run_all.py

# docs/configuration.md is generated from api/settings.py; a test fails when it is stale.
docs: $(VENV)/.installed
	$(BIN)/python scripts/config_doc.py

clean:
	rm -rf $(VENV) web/node_modules build *.egg-info .pytest_cache .mypy_cache .ruff_cache
