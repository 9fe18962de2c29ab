# One command per action: make run | install | test | lint | bench | docs
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run install test lint format bench docs clean web
WEB_DEPS := web/node_modules/.installed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

$(WEB_DEPS): web/package.json web/package-lock.json
	./scripts/web-deps.sh

web: $(WEB_DEPS)

install: $(VENV)/.installed $(WEB_DEPS)
	./scripts/system-deps.sh
	$(BIN)/safewalk migrate
	$(BIN)/safewalk demo --host $(HOST) --port $(PORT)

run: install
	$(BIN)/safewalk serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed $(WEB_DEPS)
	$(BIN)/pytest -q

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
