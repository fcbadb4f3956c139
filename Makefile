# Two commands on a fresh machine: `make train` (main job) and `make test` (test suite).
# Both create .venv/ with the pinned stack the first time (scripts/setup.sh).
PY := .venv/bin/python

.PHONY: setup train test test-slow lint lock

setup:
	@bash scripts/setup.sh

train: setup
	$(PY) -m tunelab.train $(ARGS)

test: setup
	$(PY) -m pytest -q $(ARGS)

test-slow: setup
	$(PY) -m pytest -q -m slow $(ARGS)

lint: setup
	$(PY) -m ruff check src tests scripts
	$(PY) -m ruff format --check src tests scripts

# Regenerate the lock from the current .venv (after changing pyproject.toml by hand).
lock:
	$(PY) -m pip freeze --all --exclude-editable | grep -vE "^(tunelab|pip)=="  > requirements.lock
