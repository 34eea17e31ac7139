#!/usr/bin/env bash
# Shows, claim by claim, that the suite's tests fail when the claim is made false on a real
# cluster: on a kind cluster of its own (`faults`, offline node image), each claim's tests
# run with the claim's fault injected (faults/catalogue.py, `-p faults.plugin`), and the
# cluster is checked whole again before the next claim. Writes ci/FAULTS.md (every claim's
# latest result) and exits non-zero if any fault of this run was not detected.
#
#   bash ci/fault-demo.sh                  # every testable claim with a fault
#   bash ci/fault-demo.sh CLAIM_ID...      # these claims only
#   KEEP=1 bash ci/fault-demo.sh ...       # keep the cluster (the next run reuses it)
#
# Per-claim logs and JSON verdicts land in reports/faults/.
set -euo pipefail
cd "$(dirname "$0")/.."
export OFFLINE=1
source ci/setup.sh
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

# shellcheck source=images/versions.env
source ci/images/versions.env
# FAULT_CLUSTER: another cluster name, for a second run beside a first (its own baseline).
CLUSTER="${FAULT_CLUSTER:-faults}"
KUBECONFIG_FILE=".pytest-kind/$CLUSTER/kubeconfig"
OUT=reports/faults
CLAIM_TIMEOUT="${CLAIM_TIMEOUT:-1800}"
# (test_zz_* are modules the project's unit tests write into suites/ for a moment)
PYTEST=(.venv/bin/pytest -p faults.plugin -p no:cacheprovider -q "--ignore-glob=*/test_zz_*"
        "--cluster-name=$CLUSTER" --keep-cluster --image-source=offline
        # The default version's own kubectl: a matrix run beside it swaps `kubectl`.
        "--kind-kubectl-bin=$SUITE_CACHE/bin/kubectl-$KUBERNETES_VERSION")
COMMAND="${PYTEST[*]} --inject-fault=CLAIM_ID"

cleanup() {
  local rc=$?
  if [ "${KEEP:-0}" != 1 ]; then
    echo "[fault-demo] deleting kind cluster $CLUSTER (KEEP=1 keeps it)" >&2
    kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "[fault-demo] interrupted" >&2; exit 130' INT TERM

health() {
  .venv/bin/python -m faults.health --kubeconfig "$KUBECONFIG_FILE" --kind-name "$CLUSTER" "$@"
}

if [ $# -gt 0 ]; then
  claims=("$@")
else
  mapfile -t claims < <(.venv/bin/python -m faults.demo claims)
fi
mkdir -p "$OUT"

# The cluster: created, or reused when kept, with a test that needs no fault; then whatever
# an interrupted run left behind is repaired.
echo "[fault-demo] cluster $CLUSTER: up and healthy?" >&2
if ! timeout --foreground 1200 "${PYTEST[@]}" "--reports-dir=$OUT/baseline-$CLUSTER" \
    suites/test_cluster_setup.py >"$OUT/baseline-$CLUSTER.log" 2>&1; then
  echo "[fault-demo] the cluster is not usable: see $OUT/baseline-$CLUSTER.log" >&2
  tail -20 "$OUT/baseline-$CLUSTER.log" >&2
  exit 1
fi
health --repair --wait 300

for claim in "${claims[@]}"; do
  echo "[fault-demo] $claim" >&2
  rm -f "$OUT/$claim.json"
  start=$(date +%s)
  rc=0
  timeout --foreground "$CLAIM_TIMEOUT" "${PYTEST[@]}" --inject-fault="$claim" \
    "--reports-dir=$OUT/$claim" "--fault-report=$OUT/$claim.json" \
    >"$OUT/$claim.log" 2>&1 || rc=$?
  seconds=$(( $(date +%s) - start ))
  restored=yes
  if ! health --wait 120 >>"$OUT/$claim.log" 2>&1; then
    restored=no
    echo "[fault-demo] $claim: the cluster is not whole again; repairing" >&2
    health --repair --wait 300 >>"$OUT/$claim.log" 2>&1 || {
      echo "[fault-demo] cannot repair the cluster: stopping (see $OUT/$claim.log)" >&2
      break
    }
  fi
  printf '{"seconds": %d, "exit": %d, "restored": "%s", "date": "%s"}\n' \
    "$seconds" "$rc" "$restored" "$(date -u +%Y-%m-%dT%H:%MZ)" >"$OUT/$claim.run.json"
  sed -n '/= injected fault =/,/^DETECTED\|^NOT DETECTED/p' "$OUT/$claim.log" \
    | grep -v '^ *|' >&2 || true
done

.venv/bin/python -m faults.demo table "$OUT" ci/FAULTS.md "$COMMAND"
echo "[fault-demo] results: ci/FAULTS.md" >&2
.venv/bin/python -m faults.demo check "$OUT" "${claims[@]}"
