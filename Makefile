# The two commands of KIM Graph: `make run` and `make test`. Each creates the virtual
# environment (.venv) on first use and re-installs when pyproject.toml changes.

PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test build clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## run: build the graph when there is none, then serve it on http://127.0.0.1:8000
run: $(STAMP)
	$(BIN)/kimgraph serve

## build: rebuild the graph from the sources (atomic: the old store stays until the new one is ready)
build: $(STAMP)
	$(BIN)/kimgraph build

## test: the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) var
