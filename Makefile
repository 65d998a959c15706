# Two entry points a newcomer needs: `make run` and `make test`. Everything else is detail.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test chaos install migrate demo clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo

# Serves the app on http://127.0.0.1:$PORT (8000) with the embedded defaults: SQLite, a Celery worker
# on the filesystem broker and the local Bedrock sandbox on $SANDBOX_PORT (8765), then prints the demo
# logins. `make run PORT=9000 SANDBOX_PORT=9765` (or the same in the environment) moves them.
# Ctrl-C stops all three.
run: demo
	PATH="$(abspath $(BIN)):$$PATH" ./scripts/run-local.sh

# The layers contract first (.importlinter: apps import one way), then the suite.
test: install
	$(BIN)/lint-imports
	$(BIN)/pytest

# Only the fault-injection tests (they also run in `make test`): killed and stopped workers, a Redis
# restart, a throttling sandbox, a database cut mid-submission, Partner Central down for an hour.
chaos: install
	$(BIN)/pytest -m faults tests/faults tests/bakeoff_jobs/test_e2e_worker.py

clean:
	rm -rf $(VENV) var
