#!/usr/bin/env bash
# The suite split across machines: each shard makes its own cluster and writes its own
# results; a merge joins them into one run's reports (fixtures/shards.py; pull requests
# in ci/workflows/conformance.yml run it this way).
#   bash ci/shard.sh I/N [PYTEST ARGS...]  # shard I of N here: reports/shards/I/
#   bash ci/shard.sh --list                # the shards as JSON (for CI): ["1/3","2/3","3/3"]
#   bash ci/shard.sh --merge               # reports/shards/*/ into reports/, then its reports
# SUITE_SHARDS (default below) is the one place N is set. OFFLINE as in ci/conformance.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
shards=${SUITE_SHARDS:-3}
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || { echo "shard: SUITE_SHARDS='$shards' is not a number of shards" >&2; exit 4; }
case "${1:-}" in
  --list)
    seq 1 "$shards" | sed "s|\$|/$shards|" | jq -R . | jq -sc .
    exit 0 ;;
  --merge)
    source ci/venv.sh
    shopt -s nullglob
    dirs=(reports/shards/*/)
    [ ${#dirs[@]} -gt 0 ] || { echo "shard: no reports/shards/*/ to merge" >&2; exit 4; }
    exec .venv/bin/tutorial-conformance merge --reports-dir reports "${dirs[@]}" ;;
  "")
    echo "shard: which shard? bash ci/shard.sh I/N (or --list, --merge)" >&2; exit 4 ;;
esac
shard=$1
shift
[[ "$shard" =~ ^([0-9]+)/([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -ge 1 ] &&
  [ "${BASH_REMATCH[1]}" -le "${BASH_REMATCH[2]}" ] ||
  { echo "shard: '$shard' is not I/N with 1 <= I <= N (e.g. 2/3)" >&2; exit 4; }
out=reports/shards/${BASH_REMATCH[1]}
source ci/online.sh
source ci/setup.sh
rm -rf "$out"
mkdir -p "$out"
exec .venv/bin/pytest --tutorial-image-source="$([ "$OFFLINE" = 1 ] && echo offline || echo official)" \
  --tutorial-shard="$shard" --tutorial-reports-dir="$out" --alluredir="$out/allure-results" \
  --junitxml="$out/junit.xml" "$@"
