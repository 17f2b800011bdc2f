# Two commands do all set-up on a fresh machine (Python 3.11): `make demo` and `make test`.
# Each creates .venv if missing and installs the pinned requirements once; later calls reuse it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 2

.PHONY: demo test test-fast lint docs report clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $(STAMP)

## demo: run the whole workflow on the embedded demo data, then build the HTML report
demo: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/snakemake --report results/report.html
	@echo "Report: $(CURDIR)/results/report.html"

## test: every test tier (unit, workflow, integration)
test: $(STAMP)
	$(BIN)/pytest

## test-fast: unit tests only (seconds)
test-fast: $(STAMP)
	$(BIN)/pytest -m "not workflow and not integration"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile rules
	$(BIN)/snakemake --lint

## docs: build the documentation site (MkDocs, strict) into results/site
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

clean:
	rm -rf results logs benchmarks .snakemake
