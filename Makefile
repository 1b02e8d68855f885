# Self-documenting targets: `make help`. Everything runs inside the uv-managed .venv
# built from the committed uv.lock with a Python >= 3.12 found by scripts/find-python.sh.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BIN := $(shell scripts/find-python.sh 2>/dev/null)
# a pyenv shim of a uv installed in another Python version is on PATH but fails when run
UV ?= $(shell uv --version >/dev/null 2>&1 && command -v uv)
VENV := .venv
STAMP := $(VENV)/.synced
export UV_PYTHON := $(PYTHON_BIN)
export UV_PROJECT_ENVIRONMENT := $(VENV)
# pytensor: no BLAS linking (slower on 2 cores here); compile cache inside the checkout's parent user cache
export PYTENSOR_FLAGS ?= blas__ldflags=
RUN := $(VENV)/bin

.PHONY: help env report test lint format data bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

python-check:
	@if [ -z "$(PYTHON_BIN)" ]; then scripts/find-python.sh; exit 1; fi

# --compile-bytecode: this machine sets PYTHONDONTWRITEBYTECODE=1, so without .pyc files every
# process compiled its imports from source (import arviz 6.1 s -> 1.9 s, pymc 3.7 s -> 1.1 s)
$(STAMP): pyproject.toml uv.lock | python-check
	@if [ -n "$(UV)" ]; then uv=("$(UV)"); \
	elif $(PYTHON_BIN) -m uv --version >/dev/null 2>&1; then uv=($(PYTHON_BIN) -m uv); \
	else echo "uv not found: installing it from PyPI with $(PYTHON_BIN) -m pip"; \
	  $(PYTHON_BIN) -m pip install --quiet uv && uv=($(PYTHON_BIN) -m uv); fi; \
	echo "uv sync --frozen --compile-bytecode (Python: $(PYTHON_BIN))"; \
	"$${uv[@]}" sync --frozen --quiet --compile-bytecode
	@touch $(STAMP)

env: $(STAMP)  ## create/update the environment from uv.lock
	@echo "environment ready: .venv/bin/stats (or 'source .venv/bin/activate'); your own study: stats init DIR"

report: $(STAMP)  ## run the pipeline on data/raw and render reports/ to reports/_site/
	$(RUN)/stats run
	$(RUN)/stats report

# STATS_REPORT_STRICT: a report helper's exception fails the render instead of leaving a box
test: $(STAMP)  ## run the full test suite
	STATS_REPORT_STRICT=1 $(RUN)/python -m pytest -q -p no:cacheprovider; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

lint: $(STAMP)  ## ruff lint and format check
	$(RUN)/ruff check .
	$(RUN)/ruff format --check .

format: $(STAMP)  ## ruff format and fix
	$(RUN)/ruff format .
	$(RUN)/ruff check --fix .

data: $(STAMP)  ## regenerate the bundled simulated study in data/raw from analysis/designs/default.yaml
	$(RUN)/stats simulate analysis/designs/default.yaml --out data/raw --manifest-out analysis/runs.yaml

bench: $(STAMP)  ## run the benchmark scripts (slow; writes benchmarks/results/)
	$(RUN)/python benchmarks/bench_ingest.py
	$(RUN)/python benchmarks/bench_score.py
	uv run --with bambi --with nutpie python benchmarks/bench_models.py

clean:  ## remove derived data and the rendered site (never data/raw)
	rm -rf data/processed reports/_site reports/_freeze
