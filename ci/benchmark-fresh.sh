#!/usr/bin/env bash
# The README's first command (`bash ci/conformance.sh`) on a fresh machine, timed phase by
# phase: each line of its output is stamped, and ci/benchmark.py --fresh-log writes the
# phases into ci/BENCHMARKS.md. Refuses a machine that already has the engine, the Python
# environment or the toolchain cache: their figures would not be a fresh machine's.
#   bash ci/benchmark-fresh.sh [PYTEST ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${SUITE_CACHE:-/var/cache/tutorial-suite}"
for have in "$(command -v dockerd || true)" "$([ -e "$cache" ] && echo "$cache")" \
    "$([ -e .venv ] && echo .venv)"; do
  [ -z "$have" ] || { echo "benchmark-fresh: not a fresh machine ($have exists)" >&2; exit 2; }
done
log=$(mktemp /var/tmp/tutorial-suite-fresh.XXXXXX)
echo "benchmark-fresh: bash ci/conformance.sh $*, stamped into $log" >&2
printf '%(%s)T benchmark-fresh: start\n' -1 > "$log"
set +e
bash ci/conformance.sh "$@" 2>&1 | while IFS= read -r line; do
  printf '%(%s)T %s\n' -1 "$line"; done >> "$log"
rc=${PIPESTATUS[0]}
set -e
printf '%(%s)T benchmark-fresh: end (exit %s)\n' -1 "$rc" >> "$log"
.venv/bin/python ci/benchmark.py --fresh-log "$log" --fresh-exit "$rc"
