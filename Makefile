# Two commands for a newcomer: `make chat` (talk to the bot on embedded defaults) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup chat test lint check bench serve worker docs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

chat: $(STAMP)
	$(BIN)/python main.py chat $(ARGS)

# Lint, layers (import-linter), types (mypy: strict on flows/ and engine/), then the tests; every step runs
# and the target fails if any did. The tests run on every core (at most 4 processes, pytest-xdist), a test
# file per process so its module fixtures are built once. A hung test fails after 5 minutes (pytest-timeout,
# pyproject.toml) and the whole run is interrupted after 30, so CI always ends with names to go on.
test: $(STAMP)
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/lint-imports --no-cache || status=1; \
	$(BIN)/mypy || status=1; \
	timeout --signal=INT --kill-after=60 1800 $(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist loadfile \
	  --durations=10 $(PYTEST_ARGS); code=$$?; \
	if [ $$code -eq 5 ]; then echo "pytest: no tests were collected"; elif [ $$code -ne 0 ]; then status=$$code; fi; \
	exit $$status

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

check: $(STAMP)
	$(BIN)/python main.py check

serve: $(STAMP)
	$(BIN)/python main.py serve $(ARGS)

worker: $(STAMP)
	$(BIN)/python main.py worker $(ARGS)

bench: $(STAMP)
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/webhook.py

# Regenerate what is derived from the code and flows.yaml (the schema staff's editors use, the Mermaid picture).
docs: $(STAMP)
	$(BIN)/python main.py schema -o flows.schema.json
	$(BIN)/python main.py graph -o docs/flows.mmd
	$(BIN)/python main.py actions -o docs/actions.md
