# The two commands of the README: `make run` (embedded default) and `make test`.
# Everything else here is a convenience around them.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.DEFAULT_GOAL := help

.PHONY: help run test lint format typecheck migrations-check lock worker beat bench clean

help:
	@echo "make run    - install, migrate, seed the demo shop and serve on http://$(HOST):$(PORT)"
	@echo "make test   - install test tools and run the suite (SQLite unless DATABASE_URL is set)"
	@echo "make lint   - ruff check, ruff format --check, mypy"
	@echo "make lock   - re-resolve requirements*.lock from pyproject.toml"
	@echo "make worker / make beat - a Celery worker / scheduler (needs REDIS_URL)"

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Stamps: reinstall only when a lock file changes.
$(VENV)/.runtime-installed: requirements.lock | $(BIN)/uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	@touch $@

$(VENV)/.dev-installed: requirements-dev.lock | $(BIN)/uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements-dev.lock
	@touch $@ $(VENV)/.runtime-installed

run: export DEBUG ?= true
run: $(VENV)/.runtime-installed
	@mkdir -p var
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "Serving on http://$(HOST):$(PORT)/  (admin /admin/, API docs /api/docs/, POS /pos/, console /console/, marketing /marketing/)"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest -n auto --dist loadgroup $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy interaction_platform customers catalog orders channels integrations bench

format: $(VENV)/.dev-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrations-check: $(VENV)/.dev-installed
	DJANGO_SETTINGS_MODULE=interaction_platform.settings_test $(BIN)/python manage.py makemigrations --check --dry-run

lock: | $(BIN)/uv
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -q -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -q -o requirements-dev.lock

worker: $(VENV)/.runtime-installed
	$(BIN)/celery -A interaction_platform worker --concurrency 2 --loglevel INFO

beat: $(VENV)/.runtime-installed
	$(BIN)/celery -A interaction_platform beat --loglevel INFO

bench: $(VENV)/.dev-installed
	@for script in bench/*.py; do $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) var/db.sqlite3 var/static
