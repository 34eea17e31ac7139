#!/usr/bin/env bash
# Runs the conformance suite end to end: set-up, a kind cluster, the tests, the report.
# With internet it uses the official kindest/node images; OFFLINE=1 (or no way to reach
# Docker Hub) builds everything from the package registries first.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${OFFLINE:-}" ]; then
  if curl -s -o /dev/null --max-time 10 https://registry-1.docker.io/v2/; then OFFLINE=0; else OFFLINE=1; fi
fi
export OFFLINE
source ci/setup.sh
source_flag=$([ "$OFFLINE" = 1 ] && echo offline || echo official)
mkdir -p reports
exec .venv/bin/pytest --image-source="$source_flag" --alluredir=reports/allure-results \
  --junitxml=reports/junit.xml "$@"
