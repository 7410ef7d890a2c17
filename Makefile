# The two commands: `make run` (serve on embedded defaults) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
MS_PORT ?= 5000

.PHONY: run test lint dist bench worker beat gunicorn clean help

help:
	@echo "make run    serve the app on http://127.0.0.1:$(MS_PORT) with embedded defaults"
	@echo "make test   lint and run the whole test suite against real servers"
	@echo "make dist   write dist/openapi.yaml and dist/postman_collection.json"
	@echo "make bench  run the benchmarks (see README, Benchmarks; results in bench/RESULTS.md)"

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.local-installed: requirements/base.txt requirements/local.txt | $(VENV)/bin/activate
	$(PIP) install --quiet -r requirements/local.txt
	touch $@

$(VENV)/.test-installed: requirements/base.txt requirements/local.txt requirements/test.txt | $(VENV)/bin/activate
	$(PIP) install --quiet -r requirements/test.txt
	touch $@ $(VENV)/.local-installed

run: $(VENV)/.local-installed
	MS_PORT=$(MS_PORT) $(PY) scripts/run_local.py

test: $(VENV)/.test-installed
	bash scripts/ensure_servers.sh
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .

dist: $(VENV)/.test-installed
	bash scripts/make_dist.sh

worker: $(VENV)/.local-installed
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: $(VENV)/.local-installed
	$(VENV)/bin/celery -A config beat --loglevel=INFO

gunicorn: $(VENV)/.local-installed
	$(VENV)/bin/gunicorn -c gunicorn.conf.py config.wsgi

clean:
	rm -rf $(VENV) .run .pytest_cache .ruff_cache

bench: $(VENV)/.test-installed
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } || { echo "install wrk (apt-get install wrk)"; exit 2; }
	$(PY) bench/run.py $(BENCH_ARGS)
