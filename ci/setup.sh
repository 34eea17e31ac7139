#!/usr/bin/env bash
# Set-up shared by the suite's entry points: the Docker engine, the Python environment,
# and, when OFFLINE=1, the whole offline toolchain (kind, kubectl, images, registry);
# with internet, kind and kubectl from their release downloads.
# Source it from the repository root.
# shellcheck shell=bash
set -euo pipefail

bash ci/install-engine.sh

source ci/venv.sh

if [ "${OFFLINE:-0}" = 1 ]; then
  bash ci/images/build.sh
else
  bash ci/install-tools.sh
fi
export SUITE_CACHE="${SUITE_CACHE:-/var/cache/tutorial-suite}"
export PATH="$SUITE_CACHE/bin:$PATH"
