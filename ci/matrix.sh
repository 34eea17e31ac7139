#!/usr/bin/env bash
# Runs the conformance suite on several Kubernetes versions, one kind cluster each, one
# after the other, and merges their claims into one matrix (the set-up is here, the loop
# in ci/matrix.py).
#   bash ci/matrix.sh                  # the versions of ci/images/versions.env
#   bash ci/matrix.sh v1.35.8 v1.36.5  # these versions
#   bash ci/matrix.sh --list [VERSION] # the versions (or VERSION alone), as JSON (for CI)
#   bash ci/matrix.sh --merge          # only merge reports/runs/*/claims-results.json
#   bash ci/matrix.sh --next           # the next minor's newest pre-release the proxy serves
#   bash ci/matrix.sh --page NOTE      # after a rerun of some claims of a version (its results
#                                      # in reports/runs/): the matrix and MATRIX.md again
# The default versions end with a column for the next minor: its GA, else its newest rc,
# beta or alpha that the Go module proxy serves (asked by name, highest first: the proxy's
# version list is incomplete), built from source; MATRIX_NEXT=0 leaves it out. That column
# never fails the run.
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
valid() {
  [[ "$1" =~ ^v1\.[0-9]+\.[0-9]+(-(alpha|beta|rc)\.[0-9]+)?$ ]] || {
    echo "matrix: unknown Kubernetes version '$1' (want v1.MINOR.PATCH or v1.MINOR.PATCH-rc.N)" >&2
    exit 4; }
}
# next_minor: the next minor's GA or newest pre-release that the Go module proxy serves.
next_minor() {
  source ci/mirrors.sh
  local newest minor proxy v kind n
  newest=$(printf '%s\n' $OFFLINE_MATRIX_VERSIONS | sort -V | tail -1)
  minor=$(( $(cut -d. -f2 <<<"$newest") + 1 ))
  proxy=$(go_proxy) || return 1
  for v in "v1.$minor.0" $(for kind in rc beta alpha; do for n in 3 2 1 0; do
      echo "v1.$minor.0-$kind.$n"; done; done); do
    if curl -fsS -o /dev/null -m 20 "$proxy/k8s.io/kubernetes/@v/$v.info" 2>/dev/null; then
      echo "$v"; return 0
    fi
  done
  echo "matrix: the Go module proxy serves no v1.$minor.0 nor a pre-release of it" >&2
}
if [ "${1:-}" = --next ]; then next_minor; exit 0; fi
if [ "${MATRIX_NEXT:-1}" = 1 ] && { [ $# -eq 0 ] || [ "$*" = --list ]; }; then
  default_versions="$default_versions $(next_minor || true)"
fi
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
if [ "${1:-}" = --page ]; then shift; source ci/venv.sh; exec .venv/bin/python ci/matrix.py --page "$@"; fi
versions=("$@")
[ ${#versions[@]} -gt 0 ] || read -r -a versions <<<"$default_versions"
for v in "${versions[@]}"; do valid "$v"; done
source ci/setup.sh
exec .venv/bin/python ci/matrix.py "${versions[@]}"
