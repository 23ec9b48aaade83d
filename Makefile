# The two commands of KIM Graph: `make run` and `make test` (with `make lint` beside them). Each creates the
# virtual environment (.venv) on first use and re-installs when pyproject.toml changes.

PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck chromium build clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m compileall -q kimdata ingest store conformance sparql_api kimgraph >/dev/null
	touch $(STAMP)

## run: build the graph when there is none, then serve it on http://127.0.0.1:8000
run: $(STAMP)
	$(BIN)/kimgraph serve

## build: rebuild the graph from the sources (atomic: the old store stays until the new one is ready)
build: $(STAMP)
	$(BIN)/kimgraph build

## test: the whole test suite with the packages' doctests (-m "not slow" leaves out the long tests)
test: $(STAMP) chromium
	$(BIN)/python -m pytest

## lint: ruff, the import layers (import-linter) and the types (mypy); CI runs it before the tests
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

## typecheck: mypy alone over the packages (configured in pyproject.toml; also part of lint)
typecheck: $(STAMP)
	$(BIN)/mypy

## chromium: headless Chromium for the browser tests, installed with apt-get when missing (as root only);
## where it cannot be installed, the browser tests are skipped and say why
chromium:
	@if [ -x /usr/bin/chromium ]; then \
	  :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y chromium chromium-driver \
	    || { apt-get update && apt-get install -y chromium chromium-driver; } \
	    || echo "chromium could not be installed: the browser tests will be skipped"; \
	else \
	  echo "chromium is missing and cannot be installed here (needs root and apt-get): the browser tests will be skipped"; \
	fi

clean:
	rm -rf $(VENV) var
