# The two commands of the README: `make run` and `make test` (plus `make bench`).
# Everything installs into .venv; re-running is fast because installs are
# keyed on the requirement files' contents (stamp files).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
INSTANCE := instance

.PHONY: run test lint bench worker clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.stamp-runtime: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.stamp-dev: requirements.txt requirements-dev.txt $(VENV)/.stamp-runtime
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(INSTANCE)/encryption.key: | $(VENV)/.stamp-runtime
	$(PY) -m reporting init-instance $(INSTANCE)

run: $(VENV)/.stamp-runtime $(INSTANCE)/encryption.key
	TOOL_DEV_LOGIN=1 TOOL_LOCAL_DEVELOPMENT=1 $(VENV)/bin/flask --app app run --host 127.0.0.1 --port $(PORT)

worker: $(VENV)/.stamp-runtime $(INSTANCE)/encryption.key
	$(VENV)/bin/flask --app app reporting worker

# The script installs and starts what the suite needs from the machine (Debian
# packages, MariaDB), and only checks when all is there.
# PYTEST_ARGS='-m "not slow"' make test skips the slow stress tests.
test: $(VENV)/.stamp-dev lint
	./scripts/test-environment.sh
	$(PY) -m pytest -q $(PYTEST_ARGS)

# Static checks, part of `make test` (so CI runs them).
lint: $(VENV)/.stamp-dev
	$(VENV)/bin/ruff check reporting devtools
	$(VENV)/bin/mypy reporting

bench: $(VENV)/.stamp-dev
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache
