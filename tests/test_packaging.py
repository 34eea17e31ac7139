"""`pip install .` gives a working plugin: in a fresh virtualenv, from a directory that is
not the checkout, `pytest --pyargs suites` finds the plugins through their pytest11 entry
points, selects by claim and section, lists the catalogue, and runs claims against a real
kind cluster with the same reports (claims-results.json, JUnit)."""

import json
import os
import re
import secrets
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

from toolkit.toolchain import find_binary

REPO = Path(__file__).resolve().parent.parent


def run(argv: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{' '.join(argv)}` did not finish within {timeout:.0f} s")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel of the checkout installed (dependencies from the
    machine's package index); its bin/ directory."""
    base = tmp_path_factory.mktemp("packaging")
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                 str(base / "wheel"), str(REPO)], base, 600)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (base / "wheel").glob("*.whl")
    venv.create(base / "venv", with_pip=True)
    bin_dir = base / "venv" / "bin"
    done = run([str(bin_dir / "pip"), "install", "-q", str(wheel)], base, 900)
    assert done.returncode == 0, done.stderr[-2000:]
    return bin_dir


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working directory with no checkout in it or above it."""
    assert REPO not in tmp_path.parents
    return tmp_path


def pytest_in(bin_dir: Path, cwd: Path, *args: str, timeout: float = 120
              ) -> subprocess.CompletedProcess[str]:
    return run([str(bin_dir / "pytest"), "-p", "no:cacheprovider", "--pyargs", "suites", *args],
               cwd, timeout)


def test_the_plugins_are_registered_through_entry_points(installed: Path, elsewhere: Path):
    proc = run([str(installed / "python"), "-c",
                "from importlib.metadata import entry_points;"
                "print(sorted(e.value for e in entry_points(group='pytest11')))"], elsewhere, 60)
    assert proc.returncode == 0, proc.stderr
    for module in ("fixtures.options", "fixtures.plugin", "fixtures.claims",
                   "fixtures.operator", "fixtures.topology", "fixtures.parallel"):
        assert module in proc.stdout


def test_the_installed_suite_lists_and_selects_claims(installed: Path, elsewhere: Path):
    listing = pytest_in(installed, elsewhere, "--tutorial-list-claims")
    assert listing.returncode == 0, listing.stdout + listing.stderr
    assert "sfs-replica-syncs" in listing.stdout and "VI. A Memcached operator" in listing.stdout
    by_claim = pytest_in(installed, elsewhere, "--co", "-q", "-k", "sfs-replica-syncs")
    assert by_claim.returncode == 0, by_claim.stdout + by_claim.stderr
    assert "test_with_the_service_the_replica_syncs_and_refuses_writes" in by_claim.stdout
    by_section = pytest_in(installed, elsewhere, "--co", "-q", "-m", "section_vi")
    assert by_section.returncode == 0 and "test_operator" in by_section.stdout


@pytest.fixture(scope="module")
def kept_run(installed: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[tuple[Path, str, subprocess.CompletedProcess[str]]]:
    """The installed suite, run from outside the checkout on a kind cluster of its own,
    which it keeps (--keep-cluster) for the existing-cluster test; deleted afterwards."""
    workdir = tmp_path_factory.mktemp("elsewhere")
    assert REPO not in workdir.parents
    name = f"packaged-{secrets.token_hex(2)}"
    image_source = "offline" if os.environ.get("OFFLINE") else "auto"
    try:
        proc = pytest_in(installed, workdir, "-k", "cluster-kubectl-version or op-crd-and-operator",
                         f"--tutorial-image-source={image_source}", f"--cluster-name={name}",
                         "--keep-cluster", "--junitxml=reports/junit.xml", timeout=1200)
        yield workdir, name, proc
    finally:
        subprocess.run([str(find_binary("kind")), "delete", "cluster", "--name", name],
                       capture_output=True, timeout=300, check=False)


def test_the_installed_suite_runs_claims_on_a_kind_cluster(
    kept_run: tuple[Path, str, subprocess.CompletedProcess[str]]
):
    workdir, _, proc = kept_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-1000:]
    results = json.loads((workdir / "reports" / "claims-results.json").read_text())
    ran = {c["id"]: c["status"] for c in results["claims"]
           if c["status"] not in ("not run", "untestable")}
    assert ran == {"cluster-kubectl-version": "passed", "op-crd-and-operator-ready": "passed"}
    assert (workdir / "reports" / "junit.xml").is_file()


def test_an_existing_cluster_is_kept_and_spared_the_disruptive_tests(
    installed: Path, elsewhere: Path,
    kept_run: tuple[Path, str, subprocess.CompletedProcess[str]],
):
    workdir, name, _ = kept_run
    kubeconfig = workdir / ".pytest-kind" / name / "kubeconfig"
    assert kubeconfig.is_file(), f"the first run kept no kubeconfig at {kubeconfig}"
    proc = pytest_in(installed, elsewhere, "-rs", "-k", "cluster-kubectl-version or disruptive",
                     f"--tutorial-existing-kubeconfig={kubeconfig}",
                     f"--tutorial-kube-context=kind-{name}", timeout=600)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert re.search(r"SKIPPED \[\d+\] .*--tutorial-allow-disruptive", output), output[-3000:]
    assert re.search(r"\b[12] passed", output), output[-3000:]
    clusters = subprocess.run([str(find_binary("kind")), "get", "clusters"],
                              capture_output=True, text=True, timeout=60, check=False).stdout
    assert name in clusters.split(), "the existing cluster was deleted"
