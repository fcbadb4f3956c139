# Two commands on a fresh machine: `make train` (main job) and `make test` (test suite).
# Both create .venv/ with the pinned stack the first time (scripts/setup.sh).
PY := .venv/bin/python

.PHONY: setup train test test-slow test-browser lint lock mutate

setup:
	@bash scripts/setup.sh

train: setup
	$(PY) -m tunelab train $(ARGS)

# The browser tests (tests/browser) run in the default suite; the set-up installs Chromium.
test: setup
	@bash scripts/setup_browser.sh
	$(PY) -m pytest -q -n auto --dist worksteal $(ARGS)

test-browser: setup
	@bash scripts/setup_browser.sh
	$(PY) -m pytest -q -m browser $(ARGS)

test-slow: setup
	$(PY) -m pytest -q -m slow $(ARGS)

# Mutation testing of the data functions, span decoding and NER metrics against the unit
# tests (pyproject.toml [tool.mutmut]; docs/testing.md). Not part of `make test`: it takes a while.
mutate: setup
	@$(PY) -c "import mutmut" 2>/dev/null || $(PY) -m pip install --quiet "mutmut==3.8.1"
	.venv/bin/mutmut run --max-children 2 || true
	$(PY) scripts/mutation_score.py

lint: setup
	$(PY) -m ruff check src tests scripts
	$(PY) -m ruff format --check src tests scripts

# Regenerate the lock from the current .venv (after changing pyproject.toml by hand).
lock:
	$(PY) -m pip freeze --all --exclude-editable | grep -vE "^(tunelab|pip)=="  > requirements.lock
