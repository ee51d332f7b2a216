# Ops Portal. `make demo` runs the portal on the sandbox; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint format venv migrate clean browser

venv: $(STAMP)

LOCAL_PACKAGES := dataquality dataprocessing sandbox cli

$(STAMP): requirements.lock requirements-sandbox.lock requirements-dev.lock \
	  $(addsuffix /pyproject.toml,$(LOCAL_PACKAGES))
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (set PYTHON=python3.11)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes \
	  -r requirements.lock -r requirements-sandbox.lock -r requirements-dev.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation $(addprefix -e ,$(LOCAL_PACKAGES))
	touch $(STAMP)

migrate: venv
	OPSPORTAL_SECURE=false $(PY) manage.py migrate --noinput

demo: venv
	$(PY) scripts/demo.py

# Browser tests drive Debian's Chromium; install it when missing (needs root and apt-get).
browser:
	@test -x /usr/bin/chromium || { \
	  command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  { echo "Chromium is needed for the browser tests: install Debian's chromium package."; exit 1; }

# Each local package's tests run in a pytest process of their own (its pyproject's settings),
# then the portal's suite.
test: venv browser
	@for package in $(LOCAL_PACKAGES); do \
	  echo "== $$package"; (cd $$package && $(abspath $(PY)) -m pytest) || exit 1; done
	$(PY) -m pytest $(PYTEST_ARGS)

bench: venv
	$(PY) -m bench

# Style, the layering contracts (pyproject.toml [tool.importlinter]) and the type checker.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) var/*.sqlite3* var/celery-* var/staticfiles var/celerybeat-schedule*
