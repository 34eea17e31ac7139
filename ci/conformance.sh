#!/usr/bin/env bash
# Runs the conformance suite end to end: set-up, a kind cluster, the tests, the report.
# With internet it uses the official kindest/node images; OFFLINE=1 (or no way to reach
# Docker Hub) builds everything from the package registries first.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/online.sh
source ci/setup.sh
source_flag=$([ "$OFFLINE" = 1 ] && echo offline || echo official)
mkdir -p reports
suite=0
.venv/bin/pytest --tutorial-image-source="$source_flag" --alluredir=reports/allure-results \
  --clean-alluredir --junitxml=reports/junit.xml "$@" || suite=$?
reports=0
bash ci/report.sh || reports=$?
[ "$suite" = 0 ] || { echo "conformance: the suite failed (exit $suite)" >&2; exit "$suite"; }
[ "$reports" = 0 ] || { echo "conformance: the reports could not be made" >&2; exit 1; }
