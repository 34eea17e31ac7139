#!/usr/bin/env bash
# The project's own tests: lint, unit tests of the suite's code and of the operator (with
# a check that its generated files are current), then the conformance suite against a
# real 3-node kind cluster built by the offline toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
export OFFLINE=1
source ci/setup.sh

mkdir -p reports
.venv/bin/ruff check .
(cd operator && go vet ./... && go test ./... && hack/verify-generated.sh)
.venv/bin/pytest -q -p no:cacheprovider tests --junitxml=reports/project-tests.xml
exec .venv/bin/pytest --image-source=offline --alluredir=reports/allure-results \
  --junitxml=reports/junit.xml "$@"
