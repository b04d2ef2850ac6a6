# Two commands matter: `make run` (the demo city at http://127.0.0.1:8000) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HTMX := static/vendor/htmx.min.js

.PHONY: run test setup lint messages migration clean

run: setup
	$(BIN)/shaar migrate
	$(BIN)/shaar seed-demo --if-empty
	$(BIN)/shaar serve --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

# Tests run in parallel workers (pytest-xdist), each on a database of its own; TEST_WORKERS=0
# runs them in this process.
TEST_WORKERS ?= auto

test: setup
	$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

setup: $(BIN)/.installed $(HTMX)

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# htmx comes from the npm registry, pinned with an integrity hash in package-lock.json,
# and is served from our own origin.
$(HTMX): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

# Developers: after changing user-facing strings, refresh the catalogs, then translate the
# new entries (tests/core/test_i18n.py fails until every language has them).
messages: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg --ignore-dirs='.*' -o locale/messages.pot --no-location --sort-output --omit-header .
	for l in ru ky en; do $(BIN)/pybabel update -i locale/messages.pot -d locale -l $$l -D messages --no-fuzzy-matching --no-wrap; done

# Developers: after changing models, write a migration against a scratch database at head.
migration: $(BIN)/.installed
	rm -f /tmp/shaar-migration.db
	$(BIN)/python -c "from alembic import command; from core.migrate import alembic_config, upgrade; url = 'sqlite:////tmp/shaar-migration.db'; upgrade(url); command.revision(alembic_config(url), message='$(MSG)', autogenerate=True)"

clean:
	rm -rf $(VENV) node_modules static/vendor
