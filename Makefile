# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run serve test test-postgres test-all lint check bench clean

# The virtualenv is rebuilt when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "factstore needs Python 3.11 or newer (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

## make run: set up, migrate the embedded SQLite store, run the sources once (sources.toml, else
## seeds/), then serve the API with the scheduler beside it in its own process (Ctrl-C stops both).
## A local write token is made once: its hash goes to tokens.txt, the token to .dev-token.
run: install
	$(BIN)/factstore db upgrade
	-$(BIN)/factstore reingest
	@test -s .dev-token || $(BIN)/factstore token dev --add-to tokens.txt > .dev-token
	@echo "write token (for Authorization: Bearer): $$(cat .dev-token)"
	@$(BIN)/factstore scheduler & scheduler=$$!; \
	trap 'kill -TERM $$scheduler 2>/dev/null; wait $$scheduler' EXIT INT TERM; \
	FACTSTORE_API_TOKENS_FILE=tokens.txt $(BIN)/factstore serve --host $(HOST) --port $(PORT)

serve: install
	FACTSTORE_API_TOKENS_FILE=tokens.txt $(BIN)/factstore serve --host $(HOST) --port $(PORT)

## make test: set up and run the whole suite on SQLite
## (FACTSTORE_TEST_DATABASE_URL=postgresql+psycopg://… runs the same suite on PostgreSQL).
test: install
	$(BIN)/pytest

## make test-postgres: start (or install) a local PostgreSQL, then run the suite on it.
test-postgres: install
	bash .ci/with-postgres $(BIN)/pytest

test-all: test test-postgres

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check: lint test-all

bench: install
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/store_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info factstore.db factstore.db-* factstore.db.scheduler.lock
