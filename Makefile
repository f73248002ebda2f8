# Alpha Peer — the two set-up commands are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench soak clean

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

# Reliability soak (docs/RELIABILITY.md; tens of minutes): 200 SIGKILLs during booking,
# payment and release, the 10-second PostgreSQL outage and 10,000 random turns, on SQLite
# and on PostgreSQL (TEST_DATABASE_URL, by default the machine's server on loopback).
SOAK_TESTS := tests/test_soak_kills.py tests/test_soak_pg_outage.py $(wildcard tests/test_random_turns.py)
soak: install
	SOAK_KILLS=200 RANDOM_TURNS=10000 \
	TEST_DATABASE_URL="$${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}" \
	$(BIN)/pytest -n 0 -s --timeout=7200 $(SOAK_TESTS)
