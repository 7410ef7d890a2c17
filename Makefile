# The two commands: `make run` (serve on embedded defaults) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
MS_PORT ?= 5000

.PHONY: run test lint dist docs docs-serve docs-screenshots bench worker beat gunicorn lock messages clean help

help:
	@echo "make run    serve the app on http://127.0.0.1:$(MS_PORT) with embedded defaults"
	@echo "make test   lint and run the whole test suite against real servers"
	@echo "make dist   write dist/openapi.yaml, dist/postman_collection.json and docs/operators/configuration.md"
	@echo "make docs   regenerate the configuration reference and build the documentation site into .run/site"
	@echo "make docs-serve  serve the documentation on http://127.0.0.1:8000 with live reload"
	@echo "make docs-screenshots  retake the staff guide's pictures (docs/staff/img) in a real browser"
	@echo "make bench  run the benchmarks (results in bench/RESULTS.md)"
	@echo "make messages  collect the back office's strings into locale/pt_BR (django.po) and compile django.mo"
	@echo "make lock   recompile the hashed lock files requirements/{production,local,test}.txt from the .in files"

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# The lock files pin every package with its hashes; test.txt holds everything local.txt does, at the same versions.
$(VENV)/.local-installed: requirements/local.txt | $(VENV)/bin/activate
	$(PIP) install --quiet --require-hashes -r requirements/local.txt
	touch $@

$(VENV)/.test-installed: requirements/test.txt | $(VENV)/bin/activate
	$(PIP) install --quiet --require-hashes -r requirements/test.txt
	touch $@ $(VENV)/.local-installed

# Recompile the locks after editing a requirements/*.in file (existing pins are kept unless they must change;
# upgrade with e.g. make lock LOCK_ARGS="--upgrade-package django"). Production first; local and test are
# constrained to its versions, so the tests run on what production installs.
PIP_COMPILE = $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links $(LOCK_ARGS)

lock: export CUSTOM_COMPILE_COMMAND = make lock
lock: $(VENV)/.test-installed
	$(PIP_COMPILE) --output-file requirements/production.txt requirements/production.in
	$(PIP_COMPILE) --constraint requirements/production.txt --output-file requirements/local.txt requirements/local.in
	$(PIP_COMPILE) --constraint requirements/local.txt --output-file requirements/test.txt requirements/test.in

run: $(VENV)/.local-installed
	MS_PORT=$(MS_PORT) $(PY) scripts/run_local.py

# The documentation site (mkdocs.yml, docs/), built strictly: a broken link or anchor fails. Into .run/site
# (git-ignored); NO_MKDOCS_2_WARNING quiets the theme's banner about future MkDocs versions.
MKDOCS = NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs

test: $(VENV)/.test-installed
	bash scripts/ensure_servers.sh
	$(VENV)/bin/ruff check .
	$(MKDOCS) build --strict --quiet --site-dir .run/site
	$(PY) -m pytest $(PYTEST_ARGS)

# The Portuguese catalogue: new strings get empty entries to translate; the compiled .mo is committed.
messages: $(VENV)/.local-installed
	$(PY) scripts/messages.py

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .

dist: $(VENV)/.test-installed
	bash scripts/make_dist.sh

# docs/operators/configuration.md is generated from .env.example and committed (a test fails when it is stale).
docs: $(VENV)/.test-installed
	$(PY) scripts/config_reference.py
	$(MKDOCS) build --strict --site-dir .run/site
	@echo "open .run/site/index.html"

docs-serve: $(VENV)/.test-installed
	$(MKDOCS) serve

# The staff guide's pictures: the back office's browser test (companies/tests/test_back_office_browser.py)
# writes the parts of pages it photographs into docs/staff/img as well as test-artifacts/screenshots.
docs-screenshots: $(VENV)/.test-installed
	bash scripts/ensure_servers.sh
	DOCS_SCREENSHOTS=1 $(PY) -m pytest companies/tests/test_back_office_browser.py -q -p no:cacheprovider

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
