# Two entry points for a fresh machine: `make sandbox` and `make test`.
# Each creates its own virtualenv in .venv and installs what it needs first.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: sandbox test lint typecheck unit bench clean helm-venv lock

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

# The Helm chart is tested with Helm's own library (helm-sdkpy), which needs Python 3.12 or newer,
# in a venv of its own (tests/deploy/helm/). Without such a Python its tests skip (fail under CI=true).
HELM_VENV ?= .venv-helm
PYTHON312 ?= $(shell for p in python3.13 python3.12 $$HOME/.pyenv/versions/3.1[2-9]*/bin/python; do \
	$$p -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null && { command -v $$p; break; }; done)

$(HELM_VENV)/.installed: tests/deploy/helm/requirements.txt
	@if [ -z "$(PYTHON312)" ]; then echo "helm-venv: no Python 3.12+ found (set PYTHON312=...): the chart's tests will skip"; \
	else $(PYTHON312) -m venv $(HELM_VENV) && $(HELM_VENV)/bin/pip install --quiet --disable-pip-version-check \
		-r tests/deploy/helm/requirements.txt && touch $@; fi

helm-venv: $(HELM_VENV)/.installed

# The suite mostly waits on servers and processes, so four workers share the machine's cores well.
unit: $(VENV)/.installed-dev helm-venv
	$(BIN)/pytest -n 4 --dist worksteal

test: lint typecheck unit

# The hash-pinned locks deploy/Dockerfile installs from: pyproject.toml's runtime dependencies, and
# the tools that build port-bridge's wheel. Run after changing dependencies (needs PyPI).
lock: $(BIN)/python
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 \
		--custom-compile-command "make lock" --quiet --output-file requirements.lock
	printf 'setuptools>=69\nwheel\n' | $(BIN)/uv pip compile - --generate-hashes --python-version 3.11 \
		--custom-compile-command "make lock" --quiet --output-file deploy/requirements-build.lock

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench.intake
	$(BIN)/python -m bench.follow
	$(BIN)/python -m bench.live

clean:
	rm -rf $(VENV) $(HELM_VENV) .mypy_cache .ruff_cache .pytest_cache
