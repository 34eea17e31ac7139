#!/usr/bin/env bash
# The project's own tests: lint, unit tests of the suite's code and of the operator (with
# a check that it is what section VI's workflow makes), then the conformance suite against a
# real 3-node kind cluster built by the offline toolchain, its reports (ci/report.sh), and
# a check of the HTML reports in headless Chromium as a reviewer sees them.
set -euo pipefail
cd "$(dirname "$0")/.."
export OFFLINE=1
source ci/setup.sh
bash ci/install-browser.sh

mkdir -p reports
.venv/bin/ruff check .
# The workflow for users, checked as GitHub would parse it (actionlint, from the Go proxy).
go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12 -shellcheck= ci/workflows/conformance.yml
# ... and as a security linter reads it, with the action users call (zizmor, from PyPI).
.venv/bin/zizmor --offline --no-progress ci/workflows/conformance.yml action.yml
# operator/ is what section VI's workflow makes (scaffold, the tutorial's edits, the reader's
# two files); its controller tests run on envtest with the toolchain's apiserver and etcd.
.venv/bin/python ci/operator_source.py --check
# suites/conformance.yaml is the release's conformance list, as the catalogue names it.
.venv/bin/python ci/conformance_data.py --check
# shellcheck source=images/versions.env
source ci/images/versions.env
(cd operator && go vet ./... && \
  KUBEBUILDER_ASSETS="${SUITE_CACHE:-/var/cache/tutorial-suite}/envtest/$KUBERNETES_VERSION" \
  go test $(go list ./... | grep -v /e2e))
.venv/bin/pytest -q -p no:cacheprovider tests --junitxml=reports/project-tests.xml
suite=0
.venv/bin/pytest --tutorial-image-source=offline --alluredir=reports/allure-results --clean-alluredir \
  --junitxml=reports/junit.xml "$@" || suite=$?
reports=0
bash ci/report.sh || reports=$?
if [ "$reports" = 0 ]; then
  # REPORT_DIR: the real report; there, whatever the check lacks fails it, never skips it.
  REPORT_DIR=reports/html JUNIT_FILE=reports/junit.xml .venv/bin/pytest -q -p no:cacheprovider \
    -rs tests/test_report_browser.py tests/test_junit_schema.py || reports=$?
fi
[ "$suite" = 0 ] || { echo "test: the suite failed (exit $suite)" >&2; exit "$suite"; }
[ "$reports" = 0 ] || { echo "test: the reports or their browser check failed" >&2; exit 1; }
