# Makes the Python environment (.venv) with the project and its dev tools, or refreshes
# it when pyproject.toml changed. Source it from the repository root.
# shellcheck shell=bash
if [ ! -x .venv/bin/pytest ] || [ pyproject.toml -nt .venv/.installed ]; then
  echo "[setup] installing the Python environment (.venv)" >&2
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e '.[dev]'
  touch .venv/.installed
fi
