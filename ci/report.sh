#!/usr/bin/env bash
# The reports for reviewers, from a suite run's results:
#   bash ci/report.sh [RESULTS_DIR]   # default reports/allure-results
# next to RESULTS_DIR: html/index.html (the Allure report, one self-contained file that
# opens from file://, with the cluster's versions), claims-matrix.html and .md (the claims
# per Kubernetes version, from claims-results.json and runs/*/claims-results.json), and
# annotated-tutorial.html (the tutorial with each claimed passage marked), and
# tutorial-today.html/.md and errata.md (the tutorial as it runs today). The same as
# `tutorial-conformance report` (tutorial_conformance/report/), which installs Allure 3
# (npm, pinned) on first use into $SUITE_CACHE/npm.
set -euo pipefail
results=$(realpath -m -- "${1:-$(dirname "$0")/../reports/allure-results}")
cd "$(dirname "$0")/.."
[ "$(basename "$results")" = allure-results ] ||
  { echo "report: $results is not an allure-results directory" >&2; exit 2; }
exec .venv/bin/tutorial-conformance report --reports-dir "$(dirname "$results")"
