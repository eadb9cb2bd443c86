# Two entry points for a fresh machine: `make sandbox` and `make test`.
# Each creates its own virtualenv in .venv and installs what it needs first.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: sandbox test lint typecheck unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-sandbox: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[sandbox]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-sandbox

sandbox: $(VENV)/.installed-sandbox
	$(BIN)/port-bridge sandbox

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check port_bridge tests deploy bench
	$(BIN)/ruff format --check port_bridge tests deploy bench

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# The suite mostly waits on servers and processes, so four workers share the machine's cores well.
unit: $(VENV)/.installed-dev
	$(BIN)/pytest -n 4 --dist worksteal

test: lint typecheck unit

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench.intake
	$(BIN)/python -m bench.follow
	$(BIN)/python -m bench.live

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
