#!/usr/bin/env bash
# Runs the whole suite N times on one kept kind cluster and records, in ci/SOAK.md, what
# each run did and which tests were flaky (passed in one run, failed in another).
#   bash ci/soak.sh N [PYTEST ARGS...]
# The runs' JUnit files and logs: reports/soak/. The cluster (soak) is deleted at the end,
# also when interrupted, unless SOAK_KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-}
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "soak: N must be a positive number of runs (got '${runs}')" >&2; exit 2; }
shift
source ci/online.sh
source ci/setup.sh
cluster=soak
out=reports/soak
rm -rf "$out" && mkdir -p "$out"
echo "${*@Q}" >"$out/args.txt"
cleanup() {
  [ "${SOAK_KEEP:-0}" = 1 ] || kind delete cluster --name "$cluster" >/dev/null 2>&1 || true
}
trap cleanup EXIT
source_args=()
[ "$OFFLINE" = 1 ] && source_args=(--tutorial-image-source=offline)
for i in $(seq 1 "$runs"); do
  started=$(date +%s)
  code=0
  .venv/bin/pytest -p no:cacheprovider "${source_args[@]}" --cluster-name="$cluster" \
    --keep-cluster --junitxml="$out/run-$i.xml" "$@" >"$out/run-$i.log" 2>&1 || code=$?
  echo "$i $code $(( $(date +%s) - started ))" >>"$out/runs.txt"
  echo "[soak] run $i of $runs: exit $code in $(( $(date +%s) - started )) s" >&2
done
.venv/bin/python ci/soak_record.py "$out" ci/SOAK.md
