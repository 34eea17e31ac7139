#!/usr/bin/env bash
# The reports for reviewers, from a suite run's results:
#   bash ci/report.sh [RESULTS_DIR [HTML_DIR]]   # default reports/allure-results reports/html
# - HTML_DIR/index.html: the Allure report (Allure 3, one self-contained file that opens
#   from file://), with the cluster's versions (environment.properties);
# - claims-matrix.html and .md next to RESULTS_DIR: the claims per Kubernetes version,
#   from its claims-results.json and runs/*/claims-results.json;
# - annotated-tutorial.html next to RESULTS_DIR: the tutorial with each claimed passage
#   marked with its verdict per version, and links to the evidence.
# Allure 3 (npm `allure`, pinned) is installed on first use into $SUITE_CACHE/npm.
set -euo pipefail
results=$(realpath -m -- "${1:-$(dirname "$0")/../reports/allure-results}")
html=$(realpath -m -- "${2:-$(dirname "$results")/html}")
cd "$(dirname "$0")/.."
ALLURE_VERSION=3.18.0
reports=$(dirname "$results")
npm_dir="${SUITE_CACHE:-/var/cache/tutorial-suite}/npm"

die() { echo "report: $*" >&2; exit 1; }

compgen -G "$results/*-result.json" >/dev/null ||
  die "no test results in $results (run the suite with --alluredir=$results first)"
if [ -d "$html" ] && [ ! -f "$html/index.html" ] && [ -n "$(ls -A "$html")" ]; then
  die "$html holds files but no report: refusing to replace it"
fi

command -v node >/dev/null || die "Node.js is missing (apt-get install nodejs npm)"
allure="$npm_dir/node_modules/.bin/allure"
installed=$(node -p "require('$npm_dir/node_modules/allure/package.json').version" 2>/dev/null || true)
if [ "$installed" != "$ALLURE_VERSION" ]; then
  command -v npm >/dev/null || die "npm is missing (apt-get install npm)"
  echo "[report] installing allure@$ALLURE_VERSION into $npm_dir" >&2
  mkdir -p "$npm_dir"
  flock "$npm_dir/.lock" timeout 600 npm install --prefix "$npm_dir" --no-audit --no-fund \
    --loglevel=error "allure@$ALLURE_VERSION" >&2 ||
    die "npm could not install allure@$ALLURE_VERSION into $npm_dir"
fi

name="Introduction to Kubernetes: conformance"
version=$(sed -n 's/^kubernetes\.server=//p' "$results/environment.properties" 2>/dev/null || true)
[ -z "$version" ] || name="$name, Kubernetes $version"
rm -rf "$html"
timeout 600 "$allure" generate --config ci/allurerc.mjs --report-name "$name" \
  --output "$html" "$results" >&2 || die "allure could not generate the report from $results"
[ -s "$html/index.html" ] || die "allure wrote no $html/index.html"
echo "Allure report: $html/index.html"

claims=()
for f in "$reports"/claims-results.json "$reports"/runs/*/claims-results.json; do
  if [ -f "$f" ]; then claims+=("$f"); fi
done
[ ${#claims[@]} -gt 0 ] ||
  die "no claims-results.json in $reports (the suite writes it there at the end of a run)"
python3 ci/claims_matrix.py -o "$reports/claims-matrix" "${claims[@]}"
python3 ci/annotated_tutorial.py -o "$reports/annotated-tutorial.html" "${claims[@]}"
