# Two commands matter: `make run` (the demo city at http://127.0.0.1:8000) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HTMX := static/vendor/htmx.min.js
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/messages.po))

.PHONY: run test setup lint messages compile-messages clean

run: setup
	$(BIN)/shaar migrate
	$(BIN)/shaar seed-demo --if-empty
	$(BIN)/shaar serve --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

setup: $(BIN)/.installed $(HTMX) $(MO_FILES)

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

locale/%/LC_MESSAGES/messages.mo: locale/%/LC_MESSAGES/messages.po $(BIN)/.installed
	$(BIN)/pybabel compile --use-fuzzy=false -d locale -l $* -D messages 2>/dev/null || $(BIN)/pybabel compile -d locale -l $* -D messages

# Developers: after changing user-facing strings, refresh the catalogs and translate.
messages: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k lazy -o locale/messages.pot --no-location --sort-output --omit-header .
	for l in ru ky en; do $(BIN)/pybabel update -i locale/messages.pot -d locale -l $$l -D messages --no-fuzzy-matching --omit-header; done

clean:
	rm -rf $(VENV) node_modules static/vendor locale/*/LC_MESSAGES/*.mo
