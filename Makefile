# loopcrm: `make run` starts everything locally, `make test` runs lint and the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install run test unit integration e2e lint format typecheck rules bench asyncapi clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/loopcrm up

test: $(STAMP) rules
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared services
	$(BIN)/pytest -n 2 --dist worksteal tests/unit
	$(BIN)/pytest tests/integration tests/e2e

unit: $(STAMP)
	$(BIN)/pytest -n 2 --dist worksteal tests/unit

integration: $(STAMP)
	$(BIN)/pytest tests/integration

e2e: $(STAMP)
	$(BIN)/pytest tests/e2e

# The alert rules, checked and unit-tested (deploy/prometheus/alerts.test.yml) with promtool
# when it is installed (Debian: the prometheus package; CI installs it).
rules:
	@if command -v promtool >/dev/null; then \
		promtool check rules deploy/prometheus/alerts.yml && \
		promtool test rules deploy/prometheus/alerts.test.yml; \
	else echo "promtool not installed: alert rules not tested"; fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy shared services

bench: $(STAMP)
	$(BIN)/python -m tests.bench $(if $(QUICK),--quick,)

asyncapi: $(STAMP)
	$(BIN)/python -m shared.asyncapi > docs/asyncapi.yaml

clean:
	rm -rf var .pytest_cache .ruff_cache .mypy_cache .hypothesis
