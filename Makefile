# Cegah: `make run` installs, prepares the embedded database with demo data and serves the app;
# `make test` runs the whole suite. See README.md.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

# Find a Python >= 3.12: python3.13, python3.12, then pyenv's versions (the pyenv shim fails
# unless PYENV_VERSION is set, so call the interpreters directly).
define find_python
for c in python3.13 python3.12 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3 2>/dev/null) python3; do \
  if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then \
    command -v $$c; exit 0; fi; \
done; exit 1
endef

.PHONY: run test setup install lint typecheck clean messages

# Bytecode is compiled when installing: where PYTHONDONTWRITEBYTECODE is set (as in many containers
# and on these machines) Python otherwise compiles every module again at each start, which made
# `manage.py check` take 3.2-3.8 s instead of 1.4-1.9 s. `setup` compiles Cegah's own modules
# (quick when they are up to date).
$(STAMP): requirements.lock pyproject.toml
	@PYTHON=$$($(find_python)) || { echo "Cegah needs Python 3.12 or newer; none found (tried python3.13, python3.12, pyenv versions)." >&2; exit 1; }; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then \
	  echo "Creating $(VENV) with $$PYTHON"; rm -rf $(VENV); $$PYTHON -m venv $(VENV); fi
	$(PY) -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(VENV)/bin/uv pip sync --quiet --compile-bytecode --python $(PY) requirements.lock
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) --no-deps -e .
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP)

setup: install
	@mkdir -p var
	@$(PY) -m compileall -q cegah
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py createcachetable
	$(PY) manage.py collectstatic --noinput -v 0
	$(PY) manage.py demo load

run: setup
	@echo "Open http://127.0.0.1:8000/ — Ctrl-C stops the server and the worker."
	$(VENV)/bin/cegah serve --with-worker

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy cegah

# Each app with its own cegah/<app>/locale keeps its strings there; the rest go to cegah/locale.
messages: install
	@apps=$$(cd cegah && ls -d */locale 2>/dev/null | cut -d/ -f1); \
	for app in $$apps; do (cd cegah/$$app && sub=$$(ls -d */locale 2>/dev/null | cut -d/ -f1 | sed 's|.*|--ignore=&/*|'); ../../$(PY) ../../manage.py makemessages -l id -l en --no-obsolete $$sub); done; \
	ignores=$$(for app in $$apps; do printf -- '--ignore=%s/* ' $$app; done); \
	cd cegah && ../$(PY) ../manage.py makemessages -l id -l en --no-obsolete $$ignores
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) staticfiles
