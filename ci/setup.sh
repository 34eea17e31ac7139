#!/usr/bin/env bash
# Set-up shared by the suite's entry points: the Docker engine, the Python environment,
# and, when OFFLINE=1, the whole offline toolchain (kind, kubectl, images, registry).
# Source it from the repository root.
# shellcheck shell=bash
set -euo pipefail

bash ci/install-engine.sh

if [ ! -x .venv/bin/pytest ] || [ pyproject.toml -nt .venv/.installed ]; then
  echo "[setup] installing the Python environment (.venv)" >&2
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e '.[dev]'
  touch .venv/.installed
fi

if [ "${OFFLINE:-0}" = 1 ]; then
  bash ci/images/build.sh
  SUITE_CACHE="${SUITE_CACHE:-/var/cache/tutorial-suite}"
  export PATH="$SUITE_CACHE/bin:$PATH"
fi
