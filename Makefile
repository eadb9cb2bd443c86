# Two entry points for a fresh machine: `make sandbox` and `make test`.
# Each creates its own virtualenv in .venv and installs what it needs first.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# A .venv made by another Python (an upgrade, another pyenv version, one that no longer runs) is
# rebuilt rather than half-used; a Python older than the project needs is refused in one line.
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print(sys.version.split()[0])' 2>/dev/null)
ifneq ($(shell $(PYTHON) -c 'import sys; print(sys.version_info >= (3, 11))' 2>/dev/null),True)
$(error port-bridge needs Python 3.11 or newer; $(PYTHON) is $(or $(PYTHON_VERSION),not found): set PYTHON=python3.11)
endif
VENV_VERSION := $(shell $(BIN)/python -c 'import sys; print(sys.version.split()[0])' 2>/dev/null)
VENV_STAMP := $(VENV)/.made-by-python-$(PYTHON_VERSION)
ifneq ($(VENV_VERSION),$(PYTHON_VERSION))
.PHONY: $(VENV_STAMP)
endif

.PHONY: sandbox test lint typecheck unit bench clean helm-venv pipelines-venv lock chromium

$(VENV_STAMP):
	@if [ -d $(VENV) ]; then echo "$(VENV) was made by Python $(or $(VENV_VERSION),that no longer runs), not $(PYTHON_VERSION): rebuilding it"; fi
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	touch $@

$(VENV)/.installed-sandbox: pyproject.toml sandbox/pyproject.toml $(VENV_STAMP)
	$(BIN)/pip install --quiet -e . -e ./sandbox
	touch $@

$(VENV)/.installed-dev: pyproject.toml sandbox/pyproject.toml $(VENV_STAMP)
	$(BIN)/pip install --quiet -e '.[dev]' -e ./sandbox
	touch $@ $(VENV)/.installed-sandbox

sandbox: $(VENV)/.installed-sandbox pipelines-venv
	$(BIN)/port-bridge sandbox

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check port_bridge sandbox tests deploy bench
	$(BIN)/lint-imports
	$(BIN)/ruff format --check port_bridge sandbox tests deploy bench

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

# The console's browser test drives Debian's chromium through Playwright (no browser download):
# installed with apt-get when missing (sudo when not root). Without it the test skips (fails under CI=true).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo -n"; fi; \
		echo "chromium: installing Debian's chromium for the browser test (apt-get)"; \
		{ $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends chromium; } >/dev/null 2>&1 \
		|| echo "chromium: apt-get could not install it (it needs root or sudo, and Debian's archive): the browser test skips (fails under CI=true)"; }

# The Promises' pipelines (deploy/kratix/pipelines) run on kratix-sdk, which needs kubernetes<36 while
# port-bridge needs a newer one: the sandbox runs them in a venv of their own, from their images' lock.
PIPELINES_VENV ?= .venv-pipelines
PIPELINES_LOCK := deploy/kratix/pipelines/requirements.lock

$(PIPELINES_VENV)/.installed: $(PIPELINES_LOCK) $(VENV_STAMP)
	rm -rf $(PIPELINES_VENV)
	$(PYTHON) -m venv $(PIPELINES_VENV)
	$(PIPELINES_VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(PIPELINES_LOCK)
	touch $@

pipelines-venv: $(PIPELINES_VENV)/.installed

# The suite mostly waits on servers and processes, so four workers share the machine's cores well.
unit: $(VENV)/.installed-dev helm-venv pipelines-venv chromium
	$(BIN)/pytest -n 4 --dist worksteal

test: lint typecheck unit

# The hash-pinned locks deploy/Dockerfile installs from: pyproject.toml's runtime dependencies, and
# the tools that build port-bridge's wheel. Run after changing dependencies (needs PyPI).
lock: $(VENV_STAMP)
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 \
		--custom-compile-command "make lock" --quiet --output-file requirements.lock
	printf 'setuptools>=77\nwheel\n' | $(BIN)/uv pip compile - --generate-hashes --python-version 3.11 \
		--custom-compile-command "make lock" --quiet --output-file deploy/requirements-build.lock
	$(BIN)/uv pip compile deploy/kratix/pipelines/*/requirements.in --generate-hashes --python-version 3.11 \
		--custom-compile-command "make lock" --quiet --output-file $(PIPELINES_LOCK)

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench.intake
	$(BIN)/python -m bench.follow
	$(BIN)/python -m bench.live

clean:
	rm -rf $(VENV) $(HELM_VENV) $(PIPELINES_VENV) .mypy_cache .ruff_cache .pytest_cache
