# The README's two commands are `make demo` and `make test`; each creates its own environment.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

.PHONY: demo test lint bench format clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/flashpoint demo --store-dir demo-store --timeline docs/demo-timeline.svg

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks scripts
	$(BIN)/ruff check --fix src tests benchmarks scripts

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest_bench.py --messages 1000000
	$(BIN)/python benchmarks/speech_bench.py --messages 100000
	$(BIN)/python benchmarks/places_bench.py --messages 100000
	$(BIN)/python benchmarks/cluster_bench.py --messages 1000000

clean:
	rm -rf $(VENV) demo-store benchmarks/work .pytest_cache .mypy_cache .ruff_cache
