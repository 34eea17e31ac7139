#!/usr/bin/env bash
# Shows, claim by claim, that the suite's tests fail when the claim is made false on a real
# cluster: on a kind cluster of its own (`faults`, offline node image), each claim's tests
# run with the claim's fault injected (faults/catalogue.yaml, --tutorial-inject-fault), and the
# cluster is checked whole again before the next claim. Writes ci/FAULTS.md (every claim's
# latest result) and exits non-zero if any fault of this run was not detected.
#
#   bash ci/fault-demo.sh                  # every testable claim with a fault
#   bash ci/fault-demo.sh CLAIM_ID...      # these claims only
#   KEEP=1 bash ci/fault-demo.sh ...       # keep the cluster (the next run reuses it)
#   FAULT_CLUSTER=faults2 bash ci/fault-demo.sh ...   # a second run beside a first
#
# The set-up is here; the loop is ci/fault_demo.py. Per-claim logs and JSON verdicts land
# in reports/faults/.
set -euo pipefail
cd "$(dirname "$0")/.."
export OFFLINE=1
source ci/setup.sh
exec .venv/bin/python ci/fault_demo.py "$@"
