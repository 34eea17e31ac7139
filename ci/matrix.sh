#!/usr/bin/env bash
# Runs the conformance suite on several Kubernetes versions, one kind cluster each, one
# after the other, and merges their claims into one matrix (the set-up is here, the loop
# in ci/matrix.py).
#   bash ci/matrix.sh                  # the versions of ci/images/versions.env
#   bash ci/matrix.sh v1.35.8 v1.36.5  # these versions
#   bash ci/matrix.sh --list [VERSION] # the versions (or VERSION alone), as JSON (for CI)
#   bash ci/matrix.sh --merge          # only merge reports/runs/*/claims-results.json
# Offline (OFFLINE=1, or Docker Hub unreachable) each version's node image is built here
# first (OFFLINE_MATRIX_VERSIONS); with internet the kindest/node images published with
# the pinned kind release are used (OFFICIAL_NODE_IMAGES, by digest).
# Results: reports/runs/<version>/ (allure-results, html, junit.xml, claims-results.json,
# kind-logs on failure), reports/claims-matrix.{html,md}, reports/matrix-times.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/online.sh
# shellcheck source=images/versions.env
source ci/images/versions.env
if [ "$OFFLINE" = 1 ]; then
  default_versions=$OFFLINE_MATRIX_VERSIONS
else
  default_versions=$(sed -n 's|^kindest/node:\(v[^@]*\)@.*|\1|p' <<<"$OFFICIAL_NODE_IMAGES")
fi
valid() { [[ "$1" =~ ^v1\.[0-9]+\.[0-9]+$ ]] || { echo "matrix: unknown Kubernetes version '$1' (want v1.MINOR.PATCH)" >&2; exit 4; }; }
if [ "${1:-}" = --list ]; then
  if [ -n "${2:-}" ]; then valid "$2"; default_versions=$2; fi
  printf '%s\n' $default_versions | jq -R . | jq -sc .
  exit 0
fi
merge() {
  source ci/venv.sh
  .venv/bin/python -m tutorial_conformance.report.matrix -o reports/claims-matrix reports/runs/*/claims-results.json
}
if [ "${1:-}" = --merge ]; then merge; exit 0; fi
versions=("$@")
[ ${#versions[@]} -gt 0 ] || read -r -a versions <<<"$default_versions"
for v in "${versions[@]}"; do valid "$v"; done
source ci/setup.sh
exec .venv/bin/python ci/matrix.py "${versions[@]}"
