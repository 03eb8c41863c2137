# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_CUSTOMERS ?= 3000

.PHONY: run test lint migrate seed worker beat

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

migrate: $(VENV)/.installed
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo --customers $(DEMO_CUSTOMERS)

# The portal's own error pages; `DEBUG=true make run` for Django's debug pages.
# Static files come from WhiteNoise either way (crm_portal/settings/local.py).
run: seed
	$(PY) manage.py runserver 127.0.0.1:8000

# in parallel processes (pytest-xdist), each with its own test database
TEST_WORKERS ?= 2

test: $(VENV)/.installed
	$(PY) -m pytest -n $(TEST_WORKERS)

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

worker: $(VENV)/.installed
	$(VENV)/bin/celery -A crm_portal worker -Q load,derived,exports,messages -l info

beat: $(VENV)/.installed
	$(VENV)/bin/celery -A crm_portal beat -l info
