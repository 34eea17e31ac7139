"""The JUnit file validates as its family, xunit2 (pyproject.toml's junit_family), with the
claims in it: each test's claims are test-suite properties (fixtures/claims.py). The schema
is the one pytest checks its own xunit2 output against (testing/example_scripts/junit-10.xsd
in pytest's source distribution, fetched from the machine's package index and cached)."""

import os
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest
from lxml import etree

from tests.reporting import module_in_suites, pytest_run
from tutorial_conformance.toolkit.commands import run
from tutorial_conformance.toolkit.toolchain import SUITE_CACHE

REPO = Path(__file__).resolve().parent.parent
SCHEMA_IN_SDIST = "testing/example_scripts/junit-10.xsd"


def xunit2_schema() -> etree.XMLSchema:
    cached = SUITE_CACHE / "junit" / f"pytest-{pytest.__version__}-junit-10.xsd"
    if not cached.is_file():
        with tempfile.TemporaryDirectory() as tmp:
            proc = run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary",
                        ":all:", "-q", "-d", tmp, f"pytest=={pytest.__version__}"],
                       timeout=300, check=False)
            assert proc.returncode == 0, f"pytest's sdist not downloadable: {proc.stderr[-500:]}"
            (sdist,) = Path(tmp).glob("pytest-*.tar.gz")
            with tarfile.open(sdist) as tar:
                member = tar.extractfile(f"pytest-{pytest.__version__}/{SCHEMA_IN_SDIST}")
                assert member is not None, f"no {SCHEMA_IN_SDIST} in {sdist.name}"
                cached.parent.mkdir(parents=True, exist_ok=True)
                cached.write_bytes(member.read())
    return etree.XMLSchema(etree.parse(str(cached)))


def assert_valid(junit: Path) -> etree._ElementTree:
    tree = etree.parse(str(junit))
    schema = xunit2_schema()
    assert schema.validate(tree), "\n".join(str(e) for e in schema.error_log)[:2000]
    return tree


def test_a_run_with_claims_writes_valid_xunit2(tmp_path: Path):
    source = ("import pytest\n\n"
              "@pytest.mark.claim('arch-apps-on-workers')\n"
              "def test_claimed():\n    pass\n")
    junit = tmp_path / "junit.xml"
    with module_in_suites("junit", source) as module:
        proc = pytest_run(REPO, f"--junitxml={junit}", f"--tutorial-reports-dir={tmp_path}",
                          str(module), timeout=120)
        nodeid = f"suites/{module.name}::test_claimed"
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-1000:]
    tree = assert_valid(junit)
    properties = {p.get("name"): p.get("value") for p in tree.iter("property")}
    assert properties == {f"claims:{nodeid}": "arch-apps-on-workers[confirmed]"}


def test_the_runs_junit_file_is_valid_xunit2():
    """The real run's file, where ci/test.sh gives it (JUNIT_FILE); what it lacks fails."""
    given = os.environ.get("JUNIT_FILE")
    if not given:
        pytest.skip("JUNIT_FILE is not set: no run's JUnit file to check")
    tree = assert_valid(Path(given))
    assert any((p.get("name") or "").startswith("claims:") for p in tree.iter("property")), \
        "the run's JUnit file names no claims"
