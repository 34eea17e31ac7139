#!/usr/bin/env bash
# Runs the conformance suite on several Kubernetes versions, one kind cluster each, one
# after the other, and merges their claims into one matrix.
#   bash ci/matrix.sh                  # the versions of ci/images/versions.env
#   bash ci/matrix.sh v1.35.4 v1.36.3  # these versions
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
if [ "${1:-}" = --list ]; then
  [ -z "${2:-}" ] || default_versions=$2
  printf '%s\n' $default_versions | jq -R . | jq -sc .
  exit 0
fi
merge() {
  source ci/venv.sh
  .venv/bin/python ci/claims_matrix.py -o reports/claims-matrix reports/runs/*/claims-results.json
}
if [ "${1:-}" = --merge ]; then merge; exit 0; fi
versions=("$@")
[ ${#versions[@]} -gt 0 ] || read -r -a versions <<<"$default_versions"
for v in "${versions[@]}"; do
  [[ "$v" =~ ^v1\.[0-9]+\.[0-9]+$ ]] || { echo "matrix: unknown Kubernetes version '$v' (want v1.MINOR.PATCH)" >&2; exit 4; }
done

source ci/setup.sh
SUITE_CACHE="${SUITE_CACHE:-/var/cache/tutorial-suite}"
# Each offline build installs its version's kubectl as `kubectl`: put the default back.
[ "$OFFLINE" = 1 ] && trap 'bash ci/images/tools.sh >/dev/null 2>&1 || true' EXIT

mkdir -p reports/runs
times="| Kubernetes | image source | image build | suite (cluster + tests) | result |\n| --- | --- | --- | --- | --- |\n"
status=0
for v in "${versions[@]}"; do
  out="reports/runs/$v"
  rm -rf "$out" && mkdir -p "$out"
  build=0 args=()
  if [ "$OFFLINE" = 1 ]; then
    t0=$SECONDS
    KUBERNETES_VERSION="$v" bash ci/images/build.sh
    build=$((SECONDS - t0))
    args+=(--image-source=offline)
  else
    bash ci/install-tools.sh "$v"
    args+=(--image-source=official)
  fi
  echo "[matrix] $v: running the suite" >&2
  t0=$SECONDS rc=0
  .venv/bin/pytest -p no:cacheprovider --k8s-version="$v" --cluster-name="matrix-${v//./-}" \
    --reports-dir="$out" --alluredir="$out/allure-results" --junitxml="$out/junit.xml" \
    --kind-kubectl-bin="$SUITE_CACHE/bin/kubectl-$v" "${args[@]}" || rc=$?
  suite=$((SECONDS - t0))
  bash ci/report.sh "$out/allure-results" "$out/html" || { [ "$rc" != 0 ] || rc=1; }
  [ "$rc" = 0 ] || status=1
  result=$([ "$rc" = 0 ] && echo passed || echo "failed (exit $rc)")
  times+="| $v | $([ "$OFFLINE" = 1 ] && echo offline || echo official) | ${build} s | ${suite} s | $result |\n"
done

merge
printf "# Suite wall time per Kubernetes version\n\n%b" "$times" > reports/matrix-times.md
cat reports/matrix-times.md
exit "$status"
