# Two commands for a newcomer: `make run` serves the demo, `make test` runs the whole test suite.
PYTHON ?= $(shell command -v python3.13 || echo $(HOME)/.pyenv/versions/3.13.0/bin/python3.13)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# make run needs no configuration: a local secret key is made once and kept in var/, the site answers on this
# machine's own addresses, over plain HTTP. Each can still be set from the environment.
LOCAL_ENV = SECRET_KEY="$${SECRET_KEY:-$$(cat var/secret-key)}" \
	ALLOWED_HOSTS="$${ALLOWED_HOSTS:-127.0.0.1,localhost,[::1]}" \
	DJANGO_HTTPS="$${DJANGO_HTTPS:-false}"
MANAGE = $(LOCAL_ENV) $(BIN)/python manage.py

.PHONY: setup run test test-browser bench load audit lint format lock messages clean manage

setup: $(INSTALLED)

$(INSTALLED): requirements/base.txt requirements/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes \
		-r requirements/base.txt -r requirements/dev.txt
	touch $@

var/secret-key: | $(INSTALLED)
	mkdir -p var
	$(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))' > $@

run: setup var/secret-key
	$(MANAGE) migrate --no-input
	$(MANAGE) seed_demo
	$(MANAGE) collectstatic --no-input --verbosity 0
	@echo "Serving the directory at http://127.0.0.1:8000 (Ctrl-C stops it)."
	$(LOCAL_ENV) $(BIN)/gunicorn --config gunicorn.conf.py config.wsgi

# Any management command with the same local settings as `make run`: make manage ARGS="createsuperuser"
manage: setup var/secret-key
	$(MANAGE) $(ARGS)

test: setup
	$(BIN)/pytest

# Journeys and accessibility checks in a real, headless Chromium (Debian's: apt-get install chromium).
test-browser: setup
	$(BIN)/pytest browser_tests

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-pin every dependency after editing requirements/*.in.
lock: setup
	cd requirements && ../$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe base.in -o base.txt
	cd requirements && ../$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe dev.in -o dev.txt

# The benchmark (bench/run.py): 1,000 to 100,000 supporters on SQLite and PostgreSQL, gunicorn as `make run`
# starts it, load from wrk (apt-get install wrk). Options: make bench ARGS="--sizes 1000 --databases sqlite".
bench: setup
	$(BIN)/python bench/run.py $(ARGS)

# The load test (bench/load.py): 64 connections for 60 s on the search, then on the profile pages, gunicorn with the
# production settings; any error or timeout fails it. Options: make load ARGS="--database sqlite --size 1000".
load: setup
	$(BIN)/python bench/load.py $(ARGS)

# The locked dependencies against the published vulnerability advisories (pip-audit), which asks the advisory service
# about each pin: a known vulnerability fails, and so does a pin without hashes. Where the service is out of reach, as
# on the CI machine, pip-audit lists every dependency as not audited, checks none, and passes; ARGS=--strict makes
# that fail. No package on the registries ships a maintained copy of the advisories to check against offline.
audit: setup
	$(BIN)/pip-audit --require-hashes --disable-pip --progress-spinner off \
		-r requirements/base.txt -r requirements/dev.txt $(ARGS)

# After changing text in templates or code: collect the messages, fill in the Bokmål ones in
# locale/nb/LC_MESSAGES/django.po, then run this again to compile. English is the source language,
# so the English catalogue is made afresh each time and repeats each message (msgen, from GNU gettext).
messages: setup
	rm -f locale/en/LC_MESSAGES/django.po
	DJANGO_DEBUG=true $(BIN)/python manage.py makemessages --locale nb --locale en --no-obsolete --ignore ".venv/*" --ignore "var/*" \
		--ignore "browser_tests/*" --ignore "tests/*" --ignore "bench/*" --ignore "scripts/*"
	msgen --no-wrap --output-file locale/en/LC_MESSAGES/django.po locale/en/LC_MESSAGES/django.po
	DJANGO_DEBUG=true $(BIN)/python manage.py compilemessages --locale nb --locale en --ignore ".venv/*"

clean:
	rm -rf $(VENV) var/static
