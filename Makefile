# Alpha Peer — the two set-up commands are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: install
	$(BIN)/alphapeer db upgrade
	$(BIN)/alphapeer run --demo

# SQLite always; PostgreSQL too when TEST_DATABASE_URL is set. One worker per core: each
# worker has its own scratch databases.
test: install
	$(BIN)/pytest -n auto

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# Benchmarks (figures, not pass/fail): short mode; BENCH_ARGS=--long for full size.
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)
