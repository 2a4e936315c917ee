# eventmgr: `make run` to try it, `make test` to check it. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := app

.PHONY: run test lint format install install-dev demo screenshots bench-discussion bench-markdown \
	bench-slow-clients clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the pins change.
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

# axe-core for the accessibility checks in tests/e2e, from package-lock.json.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## run: install, migrate the SQLite database, load the demo meeting if it is empty, serve on PORT
run: install
	APP_ENV=$${APP_ENV:-development} $(BIN)/flask db upgrade
	APP_ENV=$${APP_ENV:-development} $(BIN)/flask demo load --if-empty
	APP_ENV=$${APP_ENV:-development} $(BIN)/flask run --host 127.0.0.1 --port $(PORT)

## demo: (re)load the demo data; safe to repeat
demo: install
	APP_ENV=$${APP_ENV:-development} $(BIN)/flask demo load

## test: install the test tools and run the whole suite (TEST_DATABASE_URL selects PostgreSQL)
test: install-dev node_modules/.package-lock.json
	$(BIN)/pytest $(PYTEST_ARGS)

## screenshots: PNGs of the main pages at phone and desktop sizes in docs/screenshots/ (demo data,
## throwaway SQLite database, Debian's Chromium; no node needed)
screenshots: install-dev
	$(BIN)/python scripts/screenshots.py

## bench-discussion: p50/p95 render time of a 5,000-comment thread and its meeting page on
## PostgreSQL (DATABASE_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/eventmgr_bench)
bench-discussion: install
	$(BIN)/python -m bench.discussion $(BENCH_ARGS)

## bench-markdown: render time of pathological Markdown ("[" * n, deep quotes, emphasis and
## backtick runs...) at three sizes, with the growth per doubling (about 2 = linear); no database
bench-markdown: install
	$(BIN)/python -m bench.markdown $(BENCH_ARGS)

## bench-slow-clients: a normal request's latency while one trickling client per gunicorn worker
## sends a byte every 0.5 s, with plain sync workers and with deploy/gunicorn.conf.py (SQLite)
bench-slow-clients: install-dev
	$(BIN)/python -m bench.slow_clients $(BENCH_ARGS)

## lint: ruff's checks and formatting, and bandit's security checks of eventmgr, as CI runs them
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit --quiet --recursive --configfile pyproject.toml eventmgr

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
